//! Posts: drafts owned by their author, published once, read by anyone.
//!
//! `POST#<id>` / `POST`. A draft carries GSI2 keys (`USER#<author>#DRAFTS`),
//! a published post GSI1 keys (`USER#<author>#POSTS`): both indexes are
//! sparse, so each listing reads only what it shows.

use crate::auth::Caller;
use crate::conditions::{Item, item_too_large, item_too_large_error, update_condition_failed};
use crate::idempotency::{self, Created, Idempotency, Response};
use crate::ids::{NotificationId, PostId, UserId};
use crate::notifications::{self, About, NotificationItem};
use crate::transaction::{Refused, Transaction};
use crate::{Error, Page, PageRequest, Table, clock, keys, to_item, users};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure, Update};
use input::{content, excerpt, tags, title};
use serde::{Deserialize, Serialize};

mod input;
mod item;

pub use input::{CONTENT_MAX_CHARS, EXCERPT_CHARS, NewPost, PostPatch, TAG_MAX_CHARS, TAGS_MAX, TITLE_MAX_CHARS};
pub use item::{OwnPostView, PostItem, PostSummary, PostView, Status};

pub const ENTITY: &str = "post";

/// The parts of the publication transaction.
const POST: &str = "post";
const NOTIFICATION: &str = "notification";

fn not_found() -> Error {
    Error::not_found("no such post")
}

fn not_yours() -> Error {
    Error::Forbidden { code: "forbidden", message: "only the post's author may do this".into() }
}

/// Creates a draft owned by the caller: one GetItem (the author's name, and
/// proof the account still exists) and one PutItem.
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
        content,
        tags,
        status: Status::Draft,
        created_at: now.rfc3339(),
        updated_at: now.rfc3339(),
        published_at: None,
        version: 1,
        view_count: 0,
        comment_count: 0,
    };
    let item = to_item(&post, &keys::draft_placement(caller.user_id, post_id))?;
    let view = OwnPostView::from(post);
    let Some(request) = idempotency else {
        table.client().put_item().table_name(table.name()).set_item(Some(item)).condition_expression("attribute_not_exists(PK)").send().await?;
        return Ok(Created::New(view));
    };
    // With a key, the draft and the record of the response go in together.
    let response = Response::new(201, Some(view.version), &view)?;
    let transaction = Transaction::new().put_new(POST, table, item)?;
    match idempotency::transact_recorded(table, request, transaction, &response, now).await {
        Ok(None) => Ok(Created::New(view)),
        Ok(Some(first)) => Ok(Created::Replayed(first)),
        Err(refused) => Err(refused.into()),
    }
}

async fn get_item(table: &Table, post_id: PostId) -> Result<Option<PostItem>, Error> {
    let output = table.client().get_item().table_name(table.name()).set_key(Some(keys::post(post_id).to_attributes())).send().await?;
    Ok(output.item.map(serde_dynamo::from_item).transpose()?)
}

/// A published post: one GetItem; drafts and missing posts are 404.
pub async fn get_published(table: &Table, post_id: PostId) -> Result<PostView, Error> {
    match get_item(table, post_id).await? {
        Some(post) if post.status == Status::Published => Ok(post.into()),
        _ => Err(not_found()),
    }
}

/// One of the caller's posts in any status: one GetItem; others' posts are 404.
pub async fn get_own(table: &Table, caller: &Caller, post_id: PostId) -> Result<OwnPostView, Error> {
    match get_item(table, post_id).await? {
        Some(post) if post.author_id == caller.user_id => Ok(post.into()),
        _ => Err(not_found()),
    }
}

/// A user's published posts, newest first: one Query per page on GSI1.
pub async fn list_published(table: &Table, author: UserId, page: &PageRequest) -> Result<Page<PostSummary>, Error> {
    let page: Page<PostItem> = table.query_page(&keys::published_posts(author), page).await?;
    Ok(page.map(Into::into))
}

/// The caller's drafts, newest first: one Query per page on GSI2.
pub async fn list_drafts(table: &Table, caller: &Caller, page: &PageRequest) -> Result<Page<PostSummary>, Error> {
    let page: Page<PostItem> = table.query_page(&keys::drafts(caller.user_id), page).await?;
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

/// Edits title, content and/or tags: owner only (403), optimistic with
/// `If-Match` (412). One UpdateItem.
pub async fn update(table: &Table, caller: &Caller, post_id: PostId, patch: PostPatch, if_match: Option<u64>) -> Result<OwnPostView, Error> {
    let title = patch.title.as_deref().map(title).transpose()?;
    let content = patch.content.as_deref().map(content).transpose()?;
    let tags = patch.tags.as_deref().map(tags).transpose()?;
    if title.is_none() && content.is_none() && tags.is_none() {
        return Err(Error::invalid("nothing to update: send title, content and/or tags"));
    }
    let mut sets = vec!["version = version + :one", "updatedAt = :now"];
    let mut request = table
        .client()
        .update_item()
        .table_name(table.name())
        .set_key(Some(keys::post(post_id).to_attributes()))
        .expression_attribute_values(":one", AttributeValue::N("1".into()))
        .expression_attribute_values(":now", AttributeValue::S(clock::now().rfc3339()))
        .expression_attribute_values(":me", AttributeValue::S(caller.user_id.to_string()));
    if let Some(title) = title {
        sets.push("title = :title");
        request = request.expression_attribute_values(":title", AttributeValue::S(title));
    }
    if let Some(content) = content {
        sets.push("content = :content, excerpt = :excerpt");
        request = request
            .expression_attribute_values(":excerpt", AttributeValue::S(excerpt(&content)))
            .expression_attribute_values(":content", AttributeValue::S(content));
    }
    if let Some(tags) = tags {
        sets.push("tags = :tags");
        request = request.expression_attribute_values(":tags", AttributeValue::L(tags.into_iter().map(AttributeValue::S).collect()));
    }
    let mut condition = "attribute_exists(PK) AND authorId = :me".to_string();
    if let Some(version) = if_match {
        condition.push_str(" AND version = :expected");
        request = request.expression_attribute_values(":expected", AttributeValue::N(version.to_string()));
    }
    let result = request
        .update_expression(format!("SET {}", sets.join(", ")))
        .condition_expression(condition)
        .return_values(ReturnValue::AllNew)
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
        .send()
        .await;
    match result {
        Ok(output) => Ok(serde_dynamo::from_item::<_, PostItem>(output.attributes.unwrap_or_default())?.into()),
        Err(err) => match update_condition_failed(&err) {
            Some(old) => Err(owner_only_failure(
                old,
                caller,
                Error::PreconditionFailed {
                    code: "version_mismatch",
                    message: "If-Match does not match the post's current version; fetch it and retry".into(),
                },
            )),
            None if item_too_large(&err) => Err(item_too_large_error()),
            None => Err(err.into()),
        },
    }
}

/// What `POST /posts/{postId}/publish` answers.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Published {
    pub id: PostId,
    pub status: Status,
    pub published_at: String,
}

/// Publishes a draft, once: in one TransactWriteItems the post moves
/// draft → published (owner only; already published is 409) and its author
/// gets a `post_published` notification.
pub async fn publish(table: &Table, caller: &Caller, post_id: PostId) -> Result<Published, Error> {
    let now = clock::now();
    // The publication's own ULID orders the author's published posts.
    let publication = ulid::Ulid::new();
    let move_it = Update::builder()
        .table_name(table.name())
        .set_key(Some(keys::post(post_id).to_attributes()))
        .update_expression(format!(
            "SET #status = :published, publishedAt = :now, updatedAt = :now, {} = :posts, {} = :order, version = version + :one REMOVE {}, {}",
            keys::GSI1.pk,
            keys::GSI1.sk,
            keys::GSI2.pk,
            keys::GSI2.sk
        ))
        .condition_expression("attribute_exists(PK) AND authorId = :me AND #status = :draft")
        .expression_attribute_names("#status", "status")
        .expression_attribute_values(":published", AttributeValue::S("published".into()))
        .expression_attribute_values(":draft", AttributeValue::S("draft".into()))
        .expression_attribute_values(":now", AttributeValue::S(now.rfc3339()))
        .expression_attribute_values(":posts", AttributeValue::S(keys::published_posts_partition(caller.user_id)))
        .expression_attribute_values(":order", AttributeValue::S(publication.to_string()))
        .expression_attribute_values(":one", AttributeValue::N("1".into()))
        .expression_attribute_values(":me", AttributeValue::S(caller.user_id.to_string()))
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
        .build()
        .map_err(Error::internal)?;
    let about = About { post_id: Some(post_id), ..About::default() };
    let notification = NotificationItem::new(caller.user_id, NotificationId::generate(), notifications::Kind::PostPublished, about, now);
    let transaction = Transaction::new().update(POST, move_it).put_new(NOTIFICATION, table, notification.to_item()?)?;
    match transaction.send(table).await {
        Ok(()) => Ok(Published { id: post_id, status: Status::Published, published_at: now.rfc3339() }),
        Err(Refused::Cancelled(c)) if c.failed(POST) => Err(owner_only_failure(
            c.old(POST).cloned(),
            caller,
            Error::Conflict { code: "already_published", message: "this post is already published".into() },
        )),
        Err(refused) => Err(refused.into()),
    }
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

/// Counts a view of a published post with an atomic `ADD`: one UpdateItem;
/// 404 for drafts and missing posts. Returns the new count.
pub async fn count_view(table: &Table, post_id: PostId) -> Result<u64, Error> {
    let result = table
        .client()
        .update_item()
        .table_name(table.name())
        .set_key(Some(keys::post(post_id).to_attributes()))
        .update_expression("ADD viewCount :one")
        .condition_expression("attribute_exists(PK) AND #status = :published")
        .expression_attribute_names("#status", "status")
        .expression_attribute_values(":one", AttributeValue::N("1".into()))
        .expression_attribute_values(":published", AttributeValue::S("published".into()))
        .return_values(ReturnValue::UpdatedNew)
        .send()
        .await;
    match result {
        Ok(output) => {
            let count = output.attributes.as_ref().and_then(|a| a.get("viewCount")).and_then(|v| v.as_n().ok());
            count.and_then(|n| n.parse().ok()).ok_or_else(|| Error::internal("viewCount missing after ADD"))
        }
        Err(err) if update_condition_failed(&err).is_some() => Err(not_found()),
        Err(err) => Err(err.into()),
    }
}
