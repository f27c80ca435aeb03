//! Likes: one per user and post, on published posts only.
//!
//! `USER#<userId>` / `LIKE#<postId>` (keys.rs): liking again finds the item
//! there and changes nothing, and the caller's likes list from GSI2, newest
//! first. The post's `likeCount` is kept by the stream processor from the
//! like items' INSERT and REMOVE records, exactly once, like every other
//! counter; the like routes write one small item each. Liking your own post
//! is allowed: it counts like anyone's.

use crate::auth::Caller;
use crate::bulk::{MAX_ATTEMPTS, backoff};
use crate::ids::{PostId, UserId};
use crate::transaction::{Refused, Transaction};
use crate::{Error, Page, PageRequest, Table, clock, keys, to_item};
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Delete};
use serde::{Deserialize, Serialize};

pub const ENTITY: &str = "like";

/// The parts of a like's transactions.
const POST: &str = "post";
const LIKE: &str = "like";

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LikeItem {
    pub entity: String,
    pub user_id: UserId,
    pub post_id: PostId,
    pub liked_at: String,
}

/// A like, as its user sees it.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LikeView {
    pub post_id: PostId,
    pub liked_at: String,
}

impl From<LikeItem> for LikeView {
    fn from(like: LikeItem) -> Self {
        Self { post_id: like.post_id, liked_at: like.liked_at }
    }
}

fn no_such_post() -> Error {
    Error::not_found("no such published post")
}

/// That `post` is published, checked in the like's transaction.
fn published(table: &Table, post: PostId) -> Result<ConditionCheck, Error> {
    ConditionCheck::builder()
        .table_name(table.name())
        .set_key(Some(keys::post(post).to_attributes()))
        .condition_expression("attribute_exists(PK) AND #status = :published")
        .expression_attribute_names("#status", "status")
        .expression_attribute_values(":published", AttributeValue::S("published".into()))
        .build()
        .map_err(Error::internal)
}

/// Sends a like's transaction, again after a lost race (concurrent likes of
/// one user and post race on the same item; the loser then finds it there).
async fn send(table: &Table, transaction: impl Fn() -> Result<Transaction, Error>) -> Result<Result<(), Refused>, Error> {
    for attempt in 0..MAX_ATTEMPTS {
        match transaction()?.send(table).await {
            Err(Refused::Cancelled(c)) if c.conflicted() && !c.reasons().iter().any(|r| r.failed_condition()) => {
                tokio::time::sleep(backoff(attempt)).await;
            }
            other => return Ok(other),
        }
    }
    Err(crate::conditions::conflict_error())
}

/// The caller likes `post` (idempotent): one TransactWriteItems that checks
/// the post is published (404) and adds the like unless it is there.
pub async fn like(table: &Table, caller: &Caller, post: PostId) -> Result<(), Error> {
    let order = ulid::Ulid::new().to_string();
    let like = LikeItem { entity: ENTITY.into(), user_id: caller.user_id, post_id: post, liked_at: clock::now().rfc3339() };
    let item = to_item(&like, &keys::like_placement(caller.user_id, post, &order))?;
    match send(table, || Transaction::new().check(POST, published(table, post)?).put_new(LIKE, table, item.clone())).await? {
        Ok(()) => Ok(()),
        Err(Refused::Cancelled(c)) if c.failed(POST) => Err(no_such_post()),
        Err(Refused::Cancelled(c)) if c.failed(LIKE) => Ok(()), // liked already
        Err(refused) => Err(refused.into()),
    }
}

/// The caller no longer likes `post` (idempotent): one TransactWriteItems
/// that checks the post is published (404) and removes the like if there.
pub async fn unlike(table: &Table, caller: &Caller, post: PostId) -> Result<(), Error> {
    let key = keys::like(caller.user_id, post).to_attributes();
    let delete = || Delete::builder().table_name(table.name()).set_key(Some(key.clone())).build().map_err(Error::internal);
    match send(table, || Ok(Transaction::new().check(POST, published(table, post)?).delete(LIKE, delete()?))).await? {
        Ok(()) => Ok(()),
        Err(Refused::Cancelled(c)) if c.failed(POST) => Err(no_such_post()),
        Err(refused) => Err(refused.into()),
    }
}

/// Whether the caller likes `post`: one GetItem; 404 if not.
pub async fn get(table: &Table, caller: &Caller, post: PostId) -> Result<LikeView, Error> {
    let output = table.client().get_item().table_name(table.name()).set_key(Some(keys::like(caller.user_id, post).to_attributes())).send().await?;
    match output.item {
        Some(item) => Ok(serde_dynamo::from_item::<_, LikeItem>(item)?.into()),
        None => Err(Error::not_found("you do not like this post")),
    }
}

/// The caller's likes, newest first: one Query per page on GSI2.
pub async fn list(table: &Table, caller: &Caller, page: &PageRequest) -> Result<Page<LikeView>, Error> {
    let page: Page<LikeItem> = table.query_page(&keys::user_likes(caller.user_id), page).await?;
    Ok(page.map(Into::into))
}
