//! Comments: `POST#<postId>` / `COMMENT#<commentId>`, in their post's
//! partition, oldest first.

use crate::auth::Caller;
use crate::idempotency::{self, Created, Idempotency, Response};
use crate::ids::{CommentId, PostId, UserId};
use crate::keys::Placement;
use crate::transaction::{Refused, Transaction};
use crate::{Error, Page, PageRequest, Table, clock, keys, to_item, validate};
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, KeysAndAttributes};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

pub const TEXT_MAX_CHARS: usize = 5_000;
pub const ENTITY: &str = "comment";

/// The parts of the comment transaction.
const POST: &str = "post";
const COMMENT: &str = "comment";

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommentItem {
    pub entity: String,
    pub comment_id: CommentId,
    pub post_id: PostId,
    pub author_id: UserId,
    pub text: String,
    pub created_at: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommentView {
    pub id: CommentId,
    pub post_id: PostId,
    pub author_id: UserId,
    pub text: String,
    pub created_at: String,
}

impl From<CommentItem> for CommentView {
    fn from(c: CommentItem) -> Self {
        Self { id: c.comment_id, post_id: c.post_id, author_id: c.author_id, text: c.text, created_at: c.created_at }
    }
}

/// `POST /posts/{postId}/comments` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewComment {
    pub text: String,
}

/// Comments on a published post only: one TransactWriteItems, a
/// ConditionCheck that the post is published plus the Put of the comment.
pub async fn create(
    table: &Table,
    caller: &Caller,
    post_id: PostId,
    input: NewComment,
    idempotency: Option<&Idempotency>,
) -> Result<Created<CommentView>, Error> {
    let text = validate::multi_line("text", &input.text, TEXT_MAX_CHARS)?;
    if text.is_empty() {
        return Err(Error::BadRequest { code: "invalid_field", message: "text must not be empty".into() });
    }
    if let Some(first) = idempotency::previous(table, idempotency).await? {
        return Ok(Created::Replayed(first));
    }
    let now = clock::now();
    let comment_id = CommentId::generate();
    let comment = CommentItem { entity: ENTITY.into(), comment_id, post_id, author_id: caller.user_id, text, created_at: now.rfc3339() };
    let post_is_published = ConditionCheck::builder()
        .table_name(table.name())
        .set_key(Some(keys::post(post_id).to_attributes()))
        .condition_expression("attribute_exists(PK) AND #status = :published")
        .expression_attribute_names("#status", "status")
        .expression_attribute_values(":published", AttributeValue::S("published".into()))
        .build()
        .map_err(Error::internal)?;
    let item = to_item(&comment, &Placement::new(keys::comment(post_id, comment_id)))?;
    let transaction = Transaction::new().check(POST, post_is_published).put_new(COMMENT, table, item)?;
    let view = CommentView::from(comment);
    match idempotency::transact_maybe_recorded(table, idempotency, transaction, || Response::new(201, None, &view), now).await {
        Ok(None) => Ok(Created::New(view)),
        Ok(Some(first)) => Ok(Created::Replayed(first)),
        Err(Refused::Cancelled(c)) if c.failed(POST) => Err(Error::not_found("no such published post")),
        Err(refused) => Err(refused.into()),
    }
}

/// One comment, by its post and id: one GetItem; 404 if there is none.
pub async fn get(table: &Table, post_id: PostId, comment_id: CommentId) -> Result<CommentView, Error> {
    let key = keys::comment(post_id, comment_id);
    let output = table.client().get_item().table_name(table.name()).set_key(Some(key.to_attributes())).send().await?;
    let item = output.item.ok_or_else(|| Error::not_found("no such comment"))?;
    Ok(serde_dynamo::from_item::<_, CommentItem>(item)?.into())
}

/// A post's comments, oldest first: one Query per page. (A missing post has none.)
pub async fn list(table: &Table, post_id: PostId, page: &PageRequest) -> Result<Page<CommentView>, Error> {
    let page: Page<CommentItem> = table.query_page(&keys::comments(post_id), page).await?;
    Ok(page.map(Into::into))
}

/// Deletes a comment: its author or the post's author may (403 for anyone
/// else). One BatchGetItem reads both, one DeleteItem removes it.
pub async fn delete(table: &Table, caller: &Caller, post_id: PostId, comment_id: CommentId) -> Result<(), Error> {
    let comment_key = keys::comment(post_id, comment_id);
    let post_key = keys::post(post_id);
    let wanted = KeysAndAttributes::builder()
        .keys(comment_key.to_attributes())
        .keys(post_key.to_attributes())
        .projection_expression("SK, authorId")
        .build()
        .map_err(Error::internal)?;
    let output = table.client().batch_get_item().request_items(table.name(), wanted).send().await?;
    if output.unprocessed_keys.as_ref().is_some_and(|u| !u.is_empty()) {
        // Throttled reads: rare, and a retry by the client is cheap.
        return Err(Error::internal("BatchGetItem left keys unprocessed"));
    }
    let found: Vec<HashMap<String, AttributeValue>> = output.responses.and_then(|mut r| r.remove(table.name())).unwrap_or_default();
    let author_of = |sk: &str| {
        found
            .iter()
            .find(|item| item.get(keys::SK).and_then(|v| v.as_s().ok()).map(String::as_str) == Some(sk))
            .map(|item| item.get("authorId").and_then(|v| v.as_s().ok()).cloned().unwrap_or_default())
    };
    let Some(comment_author) = author_of(&comment_key.sk) else {
        return Err(Error::not_found("no such comment"));
    };
    let me = caller.user_id.to_string();
    if comment_author != me && author_of(&post_key.sk).as_deref() != Some(me.as_str()) {
        return Err(Error::Forbidden { code: "forbidden", message: "only the comment's author or the post's author may delete it".into() });
    }
    table.client().delete_item().table_name(table.name()).set_key(Some(comment_key.to_attributes())).send().await?;
    Ok(())
}
