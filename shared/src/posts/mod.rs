//! Posts: drafts owned by their author, published once, read by anyone.
//!
//! A post is a card, a body and, once published, view counters
//! ([`item`] says why). A draft's card carries GSI2 keys
//! (`USER#<author>#DRAFTS`), a published post's GSI1 keys
//! (`USER#<author>#POSTS`): both indexes are sparse and hold cards only, so
//! each listing reads only what it shows.

use crate::auth::Caller;
use crate::conditions::{Item, conflict_error, item_too_large, item_too_large_error, update_condition_failed};
use crate::idempotency::{self, Created, Idempotency, Response};
use crate::ids::{NotificationId, PostId, UserId};
use crate::keys::Placement;
use crate::notifications::{self, About, NotificationItem};
use crate::transaction::{Refused, Transaction};
use crate::{Error, Page, PageRequest, Table, clock, keys, to_item, users};
use aws_sdk_dynamodb::types::{AttributeValue, Put, ReturnValuesOnConditionCheckFailure, Update};
use input::{content, excerpt, tags, title};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

mod input;
mod item;

pub use input::{CONTENT_MAX_CHARS, EXCERPT_CHARS, NewPost, PostPatch, TAG_MAX_CHARS, TAGS_MAX, TITLE_MAX_CHARS};
pub use item::{
    BODY_ENTITY, ListedPost, OwnPostView, PostBody, PostItem, PostSummary, PostTag, PostView, Status, TAG_ENTITY, VIEWS_ENTITY, ViewCounter,
};

pub const ENTITY: &str = "post";

/// The parts of the transactions on posts.
const POST: &str = "post";
const BODY: &str = "body";
const NOTIFICATION: &str = "notification";
const VIEWS: &str = "views";
const TAG: &str = "tag";

fn not_found() -> Error {
    Error::not_found("no such post")
}

fn not_yours() -> Error {
    Error::Forbidden { code: "forbidden", message: "only the post's author may do this".into() }
}

/// Creates a draft owned by the caller: one GetItem (the author's name, and
/// proof the account still exists), then its card and body in one
/// TransactWriteItems.
pub async fn create(table: &Table, caller: &Caller, input: NewPost, idempotency: Option<&Idempotency>) -> Result<Created<OwnPostView>, Error> {
    let (title, content, tags) = (title(&input.title)?, content(&input.content)?, tags(&input.tags)?);
    if let Some(first) = idempotency::previous(table, idempotency).await? {
        return Ok(Created::Replayed(first));
    }
    let author = users::get_own(table, caller).await?;
    let now = clock::now();
    let post_id = PostId::generate();
    let post = PostItem {
        entity: ENTITY.into(),
        post_id,
        author_id: caller.user_id,
        author_name: author.name,
        excerpt: excerpt(&content),
        title,
        tags,
        status: Status::Draft,
        created_at: now.rfc3339(),
        updated_at: now.rfc3339(),
        published_at: None,
        version: 1,
        views: Default::default(),
        comment_count: 0,
        like_count: 0,
        publication: None,
    };
    let card = to_item(&post, &keys::draft_placement(caller.user_id, post_id))?;
    let body = body_item(post_id, &content)?;
    let view = OwnPostView::new(post, content);
    let transaction = Transaction::new().put_new(POST, table, card)?.put_new(BODY, table, body)?;
    let Some(request) = idempotency else {
        transaction.send(table).await?;
        return Ok(Created::New(view));
    };
    // With a key, the record of the response goes in with the draft.
    let response = Response::new(201, Some(view.version), &view)?;
    match idempotency::transact_recorded(table, request, transaction, &response, now).await {
        Ok(None) => Ok(Created::New(view)),
        Ok(Some(first)) => Ok(Created::Replayed(first)),
        Err(refused) => Err(refused.into()),
    }
}

/// A post's card and content: one Query of its partition's `POST` items,
/// which costs what a GetItem of the two together would (a Query adds the
/// sizes before rounding). `None` if there is no card.
async fn read(table: &Table, post_id: PostId, consistent: bool) -> Result<Option<(PostItem, String)>, Error> {
    let listing = keys::whole_post(post_id);
    let items = table.query_items(&listing, consistent).await?;
    let (mut card, mut content) = (None, None);
    for item in items {
        match item.get("entity").and_then(|e| e.as_s().ok()).map(String::as_str) {
            Some(ENTITY) => card = Some(serde_dynamo::from_item::<_, PostItem>(item)?),
            Some(BODY_ENTITY) => content = Some(serde_dynamo::from_item::<_, PostBody>(item)?.content),
            _ => {}
        }
    }
    match (card, content) {
        (Some(card), Some(content)) => Ok(Some((card, content))),
        (Some(card), None) => Err(Error::internal(format!("post {} has a card but no body", card.post_id))),
        // A body alone: the post was deleted and its body not yet removed.
        (None, _) => Ok(None),
    }
}

/// The body item holding `content`.
fn body_item(post_id: PostId, content: &str) -> Result<Item, Error> {
    to_item(&PostBody { entity: BODY_ENTITY.into(), post_id, content: content.to_string() }, &Placement::new(keys::post_body(post_id)))
}

/// A post's card alone, read strongly consistent: one GetItem.
async fn read_card(table: &Table, post_id: PostId) -> Result<Option<PostItem>, Error> {
    let output =
        table.client().get_item().table_name(table.name()).set_key(Some(keys::post(post_id).to_attributes())).consistent_read(true).send().await?;
    Ok(output.item.map(serde_dynamo::from_item).transpose()?)
}

/// A published post: one Query (card and body); drafts and missing posts are 404.
pub async fn get_published(table: &Table, post_id: PostId) -> Result<PostView, Error> {
    match read(table, post_id, false).await? {
        Some((post, content)) if post.status == Status::Published => Ok(PostView::new(post, content)),
        _ => Err(not_found()),
    }
}

/// One of the caller's posts in any status: one Query; others' posts are 404.
pub async fn get_own(table: &Table, caller: &Caller, post_id: PostId) -> Result<OwnPostView, Error> {
    match read(table, post_id, false).await? {
        Some((post, content)) if post.author_id == caller.user_id => Ok(OwnPostView::new(post, content)),
        _ => Err(not_found()),
    }
}

/// A user's published posts, newest first: one Query per page on GSI1.
pub async fn list_published(table: &Table, author: UserId, page: &PageRequest) -> Result<Page<PostSummary>, Error> {
    let page: Page<ListedPost> = table.query_page(&keys::published_posts(author), page).await?;
    Ok(page.map(Into::into))
}

/// The caller's drafts, newest first: one Query per page on GSI2.
pub async fn list_drafts(table: &Table, caller: &Caller, page: &PageRequest) -> Result<Page<PostSummary>, Error> {
    let page: Page<ListedPost> = table.query_page(&keys::drafts(caller.user_id), page).await?;
    Ok(page.map(Into::into))
}

/// Why an owner-only write on a post failed, from the post as it was.
fn owner_only_failure(old: Option<Item>, caller: &Caller, otherwise: Error) -> Error {
    let Some(old) = old else {
        return not_found();
    };
    let author = old.get("authorId").and_then(|a| a.as_s().ok());
    if author.map(String::as_str) != Some(caller.user_id.to_string().as_str()) {
        return not_yours();
    }
    otherwise
}

fn version_mismatch() -> Error {
    Error::PreconditionFailed { code: "version_mismatch", message: "If-Match does not match the post's current version; fetch it and retry".into() }
}

/// Edits title, content and/or tags: owner only (403), optimistic with
/// `If-Match` (412). An edit of the content reads the card (owner, version:
/// one consistent GetItem); any other edit reads card and body (one
/// consistent Query: the answer holds the content). Then one
/// TransactWriteItems writes the card with the body (new content) and the
/// published post's tag pages (tags added or removed); an edit of neither
/// writes the card alone in one UpdateItem. Each is conditioned on the
/// version read, so a concurrent edit is never overwritten: 412 with
/// `If-Match`, else 409.
pub async fn update(table: &Table, caller: &Caller, post_id: PostId, patch: PostPatch, if_match: Option<u64>) -> Result<OwnPostView, Error> {
    let title = patch.title.as_deref().map(title).transpose()?;
    let content = patch.content.as_deref().map(content).transpose()?;
    let tags = patch.tags.as_deref().map(tags).transpose()?;
    if title.is_none() && content.is_none() && tags.is_none() {
        return Err(Error::invalid("nothing to update: send title, content and/or tags"));
    }
    // The answer holds the content: read it only if the edit keeps it.
    let (post, old_content) = match &content {
        Some(_) => (read_card(table, post_id).await?, None),
        None => read(table, post_id, true).await?.map(|(post, content)| (Some(post), Some(content))).unwrap_or_default(),
    };
    let Some(mut post) = post else {
        return Err(not_found());
    };
    if post.author_id != caller.user_id {
        return Err(not_yours());
    }
    if if_match.is_some_and(|v| v != post.version) {
        return Err(version_mismatch());
    }
    let now = clock::now().rfc3339();
    let mut values = HashMap::from([
        (":read".to_string(), AttributeValue::N(post.version.to_string())),
        (":one".to_string(), AttributeValue::N("1".into())),
        (":now".to_string(), AttributeValue::S(now.clone())),
    ]);
    let mut sets = vec!["version = version + :one", "updatedAt = :now"];
    if let Some(title) = title {
        sets.push("title = :title");
        values.insert(":title".into(), AttributeValue::S(title.clone()));
        post.title = title;
    }
    if let Some(content) = &content {
        sets.push("excerpt = :excerpt");
        post.excerpt = excerpt(content);
        values.insert(":excerpt".into(), AttributeValue::S(post.excerpt.clone()));
    }
    // A published post's tag pages change with its tags, in the same transaction.
    let (mut tags_added, mut tags_removed) = (Vec::new(), Vec::new());
    if let Some(tags) = tags {
        sets.push("tags = :tags");
        values.insert(":tags".into(), AttributeValue::L(tags.iter().cloned().map(AttributeValue::S).collect()));
        if let Some(publication) = post.publication.as_deref().filter(|_| post.status == Status::Published) {
            for tag in tags.iter().filter(|t| !post.tags.contains(t)) {
                tags_added.push(tag_put(table, post_id, tag, publication)?);
            }
            for tag in post.tags.iter().filter(|t| !tags.contains(t)) {
                tags_removed.push(tag_delete(table, post_id, tag, publication)?);
            }
        }
        post.tags = tags;
    }
    let set = format!("SET {}", sets.join(", "));
    let unchanged_since_read = "attribute_exists(PK) AND version = :read";
    post.version += 1;
    post.updated_at = now;
    // The condition failed: deleted meanwhile (404), or edited meanwhile.
    let conflict = |old: Option<&Item>| match old {
        None => not_found(),
        Some(_) if if_match.is_some() => version_mismatch(),
        Some(_) => conflict_error(),
    };
    if content.is_some() || !tags_added.is_empty() || !tags_removed.is_empty() {
        let card = Update::builder()
            .table_name(table.name())
            .set_key(Some(keys::post(post_id).to_attributes()))
            .update_expression(set)
            .condition_expression(unchanged_since_read)
            .set_expression_attribute_values(Some(values))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(Error::internal)?;
        let mut transaction = Transaction::new().update(POST, card);
        if let Some(content) = &content {
            let body = body_item(post_id, content)?;
            transaction = transaction.put(BODY, Put::builder().table_name(table.name()).set_item(Some(body)).build().map_err(Error::internal)?);
        }
        for put in tags_added {
            transaction = transaction.put(TAG, put);
        }
        for delete in tags_removed {
            transaction = transaction.delete(TAG, delete);
        }
        match transaction.send(table).await {
            Ok(()) => {}
            Err(Refused::Cancelled(c)) if c.failed(POST) => return Err(conflict(c.old(POST))),
            Err(refused) => return Err(refused.into()),
        }
    } else {
        let result = table
            .client()
            .update_item()
            .table_name(table.name())
            .set_key(Some(keys::post(post_id).to_attributes()))
            .update_expression(set)
            .condition_expression(unchanged_since_read)
            .set_expression_attribute_values(Some(values))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let failed = result.as_ref().err().and_then(update_condition_failed);
        match result {
            Ok(_) => {}
            Err(_) if failed.is_some() => return Err(conflict(failed.flatten().as_ref())),
            Err(err) if item_too_large(&err) => return Err(item_too_large_error()),
            Err(err) => return Err(err.into()),
        }
    }
    Ok(OwnPostView::new(post, content.or(old_content).unwrap_or_default()))
}

/// What `POST /posts/{postId}/publish` answers.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Published {
    pub id: PostId,
    pub status: Status,
    pub published_at: String,
}

/// Publishes a draft, once: one consistent GetItem reads the card (its
/// tags), then in one TransactWriteItems the post moves draft → published
/// (owner only; already published is 409; condition on the version read, so
/// the tags cannot change in between), its view counters are created, it is
/// put on each of its tags' pages, and its author gets a `post_published`
/// notification.
pub async fn publish(table: &Table, caller: &Caller, post_id: PostId) -> Result<Published, Error> {
    let Some(post) = read_card(table, post_id).await? else {
        return Err(not_found());
    };
    if post.author_id != caller.user_id {
        return Err(not_yours());
    }
    if post.status == Status::Published {
        return Err(already_published());
    }
    let now = clock::now();
    // The publication's own ULID orders the author's published posts and the tags' pages.
    let publication = ulid::Ulid::new().to_string();
    let move_it = Update::builder()
        .table_name(table.name())
        .set_key(Some(keys::post(post_id).to_attributes()))
        .update_expression(format!(
            "SET #status = :published, publishedAt = :now, updatedAt = :now, publication = :order, {} = :posts, {} = :order, version = version + :one REMOVE {}, {}",
            keys::GSI1.pk,
            keys::GSI1.sk,
            keys::GSI2.pk,
            keys::GSI2.sk
        ))
        .condition_expression("attribute_exists(PK) AND authorId = :me AND #status = :draft AND version = :read")
        .expression_attribute_names("#status", "status")
        .expression_attribute_values(":published", AttributeValue::S("published".into()))
        .expression_attribute_values(":draft", AttributeValue::S("draft".into()))
        .expression_attribute_values(":now", AttributeValue::S(now.rfc3339()))
        .expression_attribute_values(":posts", AttributeValue::S(keys::published_posts_partition(caller.user_id)))
        .expression_attribute_values(":order", AttributeValue::S(publication.clone()))
        .expression_attribute_values(":one", AttributeValue::N("1".into()))
        .expression_attribute_values(":read", AttributeValue::N(post.version.to_string()))
        .expression_attribute_values(":me", AttributeValue::S(caller.user_id.to_string()))
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
        .build()
        .map_err(Error::internal)?;
    let about = About { post_id: Some(post_id), ..About::default() };
    let notification = NotificationItem::new(caller.user_id, NotificationId::generate(), notifications::Kind::PostPublished, about, now);
    let mut transaction = Transaction::new().update(POST, move_it).put_new(NOTIFICATION, table, notification.to_item()?)?;
    for shard in 0..keys::VIEW_SHARDS {
        let counter = ViewCounter { entity: VIEWS_ENTITY.into(), post_id, shard, views: 0 };
        transaction = transaction.put_new(VIEWS, table, to_item(&counter, &Placement::new(keys::post_views(post_id, shard)))?)?;
    }
    for tag in &post.tags {
        transaction = transaction.put(TAG, tag_put(table, post_id, tag, &publication)?);
    }
    match transaction.send(table).await {
        Ok(()) => Ok(Published { id: post_id, status: Status::Published, published_at: now.rfc3339() }),
        Err(Refused::Cancelled(c)) if c.failed(POST) => {
            let old = c.old(POST).cloned();
            let published = old.as_ref().and_then(|o| o.get("status")).and_then(|s| s.as_s().ok()).is_some_and(|s| s == "published");
            // Published meanwhile, or edited meanwhile (a lost race: retry).
            Err(owner_only_failure(old, caller, if published { already_published() } else { conflict_error() }))
        }
        Err(refused) => Err(refused.into()),
    }
}

fn already_published() -> Error {
    Error::Conflict { code: "already_published", message: "this post is already published".into() }
}

/// The Put of a post's place on one tag's page.
fn tag_put(table: &Table, post_id: PostId, tag: &str, publication: &str) -> Result<Put, Error> {
    let item =
        to_item(&PostTag { entity: TAG_ENTITY.into(), post_id, tag: tag.to_string() }, &Placement::new(keys::post_tag(tag, post_id, publication)))?;
    Put::builder().table_name(table.name()).set_item(Some(item)).build().map_err(Error::internal)
}

/// The Delete of a post's place on one tag's page.
fn tag_delete(table: &Table, post_id: PostId, tag: &str, publication: &str) -> Result<aws_sdk_dynamodb::types::Delete, Error> {
    let key = keys::post_tag(tag, post_id, publication).to_attributes();
    aws_sdk_dynamodb::types::Delete::builder().table_name(table.name()).set_key(Some(key)).build().map_err(Error::internal)
}

/// The published posts with `tag`, newest first: per page, one Query on
/// each of the tag's shards side by side, merged, then one BatchGetItem of
/// the page's cards (so counts, titles and names are the cards' own, never
/// a stale copy). An unknown tag is an empty page.
pub async fn list_tagged(table: &Table, raw_tag: &str, page: &PageRequest) -> Result<Page<PostSummary>, Error> {
    let tag = input::tag(raw_tag)?;
    let page: Page<PostTag> = table.query_sharded_page(&keys::tagged_posts(&tag), page).await?;
    let cards = crate::bulk::batch_get(table, page.items.iter().map(|t| keys::post(t.post_id)).collect()).await?;
    let mut by_id: HashMap<String, ListedPost> = HashMap::new();
    for card in cards {
        let listed: ListedPost = serde_dynamo::from_item(card)?;
        by_id.insert(listed.id().to_string(), listed);
    }
    // A post deleted a moment ago has no card; the stream processor removes its tags.
    let items = page.items.iter().filter_map(|t| by_id.remove(&t.post_id.to_string())).map(PostSummary::from).collect();
    Ok(Page { items, next_cursor: page.next_cursor })
}

/// Deletes a post (owner only): one conditional DeleteItem. Its comments are
/// removed afterwards by the stream processor.
pub async fn delete(table: &Table, caller: &Caller, post_id: PostId) -> Result<(), Error> {
    let result = table
        .client()
        .delete_item()
        .table_name(table.name())
        .set_key(Some(keys::post(post_id).to_attributes()))
        .condition_expression("attribute_exists(PK) AND authorId = :me")
        .expression_attribute_values(":me", AttributeValue::S(caller.user_id.to_string()))
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
        .send()
        .await;
    match result {
        Ok(_) => Ok(()),
        Err(err) => match err.as_service_error() {
            Some(aws_sdk_dynamodb::operation::delete_item::DeleteItemError::ConditionalCheckFailedException(e)) => {
                Err(owner_only_failure(e.item().cloned(), caller, not_yours()))
            }
            _ => Err(err.into()),
        },
    }
}

/// Counts a view of a published post: one UpdateItem (`ADD views 1`) of one
/// of its view counters, picked at random, which exist only while the post
/// is published (404 otherwise). A counter is about 100 bytes in no index,
/// so a view costs 1 WCU whatever the post's size, and a post's views are
/// spread over [`keys::VIEW_SHARDS`] partitions. The stream processor adds
/// the counter's new total to the card, where reads find it.
pub async fn count_view(table: &Table, post_id: PostId) -> Result<(), Error> {
    let shard = rand::random_range(0..keys::VIEW_SHARDS);
    let result = table
        .client()
        .update_item()
        .table_name(table.name())
        .set_key(Some(keys::post_views(post_id, shard).to_attributes()))
        .update_expression("ADD #views :one")
        .condition_expression("attribute_exists(PK)")
        .expression_attribute_names("#views", "views")
        .expression_attribute_values(":one", AttributeValue::N("1".into()))
        .send()
        .await;
    match result {
        Ok(_) => Ok(()),
        Err(err) if update_condition_failed(&err).is_some() => Err(not_found()),
        Err(err) => Err(err.into()),
    }
}
