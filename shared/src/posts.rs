//! Posts: drafts owned by their author, published once, read by anyone.
//!
//! `POST#<id>` / `POST`. A draft carries GSI2 keys (`USER#<author>#DRAFTS`),
//! a published post GSI1 keys (`USER#<author>#POSTS`): both indexes are
//! sparse, so each listing reads only what it shows.

use crate::auth::Caller;
use crate::conditions::{Item, Refused, item_too_large, item_too_large_error, put_new, transact, update_condition_failed};
use crate::idempotency::{self, Created, Idempotency, Response};
use crate::ids::{NotificationId, PostId, UserId};
use crate::notifications::{self, About, NotificationItem};
use crate::{Error, Page, PageRequest, Table, clock, keys, to_item, users, validate};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update};
use serde::{Deserialize, Serialize};

pub const TITLE_MAX_CHARS: usize = 200;
pub const CONTENT_MAX_CHARS: usize = 100_000;
pub const TAGS_MAX: usize = 10;
pub const TAG_MAX_CHARS: usize = 30;
/// Listings show this much of the content.
pub const EXCERPT_CHARS: usize = 280;
pub const ENTITY: &str = "post";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Draft,
    Published,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostItem {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    #[serde(rename = "GSI1PK", default, skip_serializing_if = "Option::is_none")]
    pub gsi1pk: Option<String>,
    #[serde(rename = "GSI1SK", default, skip_serializing_if = "Option::is_none")]
    pub gsi1sk: Option<String>,
    #[serde(rename = "GSI2PK", default, skip_serializing_if = "Option::is_none")]
    pub gsi2pk: Option<String>,
    #[serde(rename = "GSI2SK", default, skip_serializing_if = "Option::is_none")]
    pub gsi2sk: Option<String>,
    pub entity: String,
    pub post_id: PostId,
    pub author_id: UserId,
    /// Copied from the profile; the stream processor follows renames.
    pub author_name: String,
    pub title: String,
    pub content: String,
    pub excerpt: String,
    #[serde(default)]
    pub tags: Vec<String>,
    pub status: Status,
    pub created_at: String,
    pub updated_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_at: Option<String>,
    pub version: u64,
    #[serde(default, deserialize_with = "crate::counter::non_negative")]
    pub view_count: u64,
    /// Kept by the stream processor.
    #[serde(default, deserialize_with = "crate::counter::non_negative")]
    pub comment_count: u64,
}

/// A published post, as anyone sees it.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostView {
    pub id: PostId,
    pub author_id: UserId,
    pub author_name: String,
    pub title: String,
    pub content: String,
    pub tags: Vec<String>,
    pub created_at: String,
    pub published_at: Option<String>,
    pub view_count: u64,
    pub comment_count: u64,
}

/// A post in a listing: the excerpt instead of the content, so a page of
/// long posts stays small.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostSummary {
    pub id: PostId,
    pub author_id: UserId,
    pub author_name: String,
    pub title: String,
    pub excerpt: String,
    pub tags: Vec<String>,
    pub status: Status,
    pub created_at: String,
    pub published_at: Option<String>,
    pub view_count: u64,
    pub comment_count: u64,
}

/// One of the caller's own posts, in any status.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OwnPostView {
    pub id: PostId,
    pub author_id: UserId,
    pub author_name: String,
    pub title: String,
    pub content: String,
    pub tags: Vec<String>,
    pub status: Status,
    pub created_at: String,
    pub updated_at: String,
    pub published_at: Option<String>,
    pub version: u64,
    pub view_count: u64,
    pub comment_count: u64,
}

impl From<PostItem> for PostView {
    fn from(p: PostItem) -> Self {
        Self {
            id: p.post_id,
            author_id: p.author_id,
            author_name: p.author_name,
            title: p.title,
            content: p.content,
            tags: p.tags,
            created_at: p.created_at,
            published_at: p.published_at,
            view_count: p.view_count,
            comment_count: p.comment_count,
        }
    }
}

impl From<PostItem> for PostSummary {
    fn from(p: PostItem) -> Self {
        Self {
            id: p.post_id,
            author_id: p.author_id,
            author_name: p.author_name,
            title: p.title,
            excerpt: p.excerpt,
            tags: p.tags,
            status: p.status,
            created_at: p.created_at,
            published_at: p.published_at,
            view_count: p.view_count,
            comment_count: p.comment_count,
        }
    }
}

impl From<PostItem> for OwnPostView {
    fn from(p: PostItem) -> Self {
        Self {
            id: p.post_id,
            author_id: p.author_id,
            author_name: p.author_name,
            title: p.title,
            content: p.content,
            tags: p.tags,
            status: p.status,
            created_at: p.created_at,
            updated_at: p.updated_at,
            published_at: p.published_at,
            version: p.version,
            view_count: p.view_count,
            comment_count: p.comment_count,
        }
    }
}

/// `POST /posts` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPost {
    pub title: String,
    pub content: String,
    #[serde(default)]
    pub tags: Vec<String>,
}

/// `PATCH /posts/{postId}` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostPatch {
    pub title: Option<String>,
    pub content: Option<String>,
    pub tags: Option<Vec<String>>,
}

fn title(raw: &str) -> Result<String, Error> {
    validate::single_line("title", raw, TITLE_MAX_CHARS)
}

fn content(raw: &str) -> Result<String, Error> {
    let value = validate::multi_line("content", raw, CONTENT_MAX_CHARS)?;
    if value.is_empty() {
        return Err(Error::BadRequest { code: "invalid_field", message: "content must not be empty".into() });
    }
    Ok(value)
}

/// Up to 10 tags of 1–30 characters, lower-cased, duplicates dropped.
fn tags(raw: &[String]) -> Result<Vec<String>, Error> {
    if raw.len() > TAGS_MAX {
        return Err(Error::BadRequest { code: "invalid_field", message: format!("at most {TAGS_MAX} tags") });
    }
    let mut tags: Vec<String> = Vec::new();
    for tag in raw {
        let tag = validate::single_line("tag", tag, TAG_MAX_CHARS)?.to_lowercase();
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    Ok(tags)
}

fn excerpt(content: &str) -> String {
    content.chars().take(EXCERPT_CHARS).collect()
}

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
    let key = keys::post(post_id);
    let post = PostItem {
        pk: key.pk,
        sk: key.sk,
        gsi1pk: None,
        gsi1sk: None,
        gsi2pk: Some(keys::drafts_partition(caller.user_id)),
        gsi2sk: Some(keys::post_sort(post_id)),
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
    let item = to_item(&post)?;
    let view = OwnPostView::from(post);
    let Some(request) = idempotency else {
        table.client().put_item().table_name(table.name()).set_item(Some(item)).condition_expression("attribute_not_exists(PK)").send().await?;
        return Ok(Created::New(view));
    };
    // With a key, the draft and the record of the response go in together.
    let response = Response::new(201, Some(view.version), &view)?;
    match idempotency::transact_recorded(table, request, vec![put_new(table, item)?], &response, now).await {
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
    let query = table
        .client()
        .query()
        .index_name(keys::GSI1)
        .key_condition_expression("GSI1PK = :posts")
        .expression_attribute_values(":posts", AttributeValue::S(keys::published_posts_partition(author)))
        .scan_index_forward(false);
    let listing = format!("posts:{author}");
    let page: Page<PostItem> = table.query_page(&listing, &[keys::PK, keys::SK, keys::GSI1PK, keys::GSI1SK], query, page).await?;
    Ok(Page { items: page.items.into_iter().map(Into::into).collect(), next_cursor: page.next_cursor })
}

/// The caller's drafts, newest first: one Query per page on GSI2.
pub async fn list_drafts(table: &Table, caller: &Caller, page: &PageRequest) -> Result<Page<PostSummary>, Error> {
    let query = table
        .client()
        .query()
        .index_name(keys::GSI2)
        .key_condition_expression("GSI2PK = :drafts")
        .expression_attribute_values(":drafts", AttributeValue::S(keys::drafts_partition(caller.user_id)))
        .scan_index_forward(false);
    let listing = format!("drafts:{}", caller.user_id);
    let page: Page<PostItem> = table.query_page(&listing, &[keys::PK, keys::SK, keys::GSI2PK, keys::GSI2SK], query, page).await?;
    Ok(Page { items: page.items.into_iter().map(Into::into).collect(), next_cursor: page.next_cursor })
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
        .update_expression(
            "SET #status = :published, publishedAt = :now, updatedAt = :now, GSI1PK = :posts, GSI1SK = :order, version = version + :one REMOVE GSI2PK, GSI2SK",
        )
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
    let items = vec![TransactWriteItem::builder().update(move_it).build(), put_new(table, to_item(&notification)?)?];
    match transact(table, items).await {
        Ok(()) => Ok(Published { id: post_id, status: Status::Published, published_at: now.rfc3339() }),
        Err(Refused::Cancelled(c)) if c.failed(0) => Err(owner_only_failure(
            c.old(0).cloned(),
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
