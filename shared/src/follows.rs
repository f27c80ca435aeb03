//! Follows: one edge item per pair, `USER#<followee>` / `FOLLOWER#<follower>`
//! (the followee's followers), also in GSI1 under `USER#<follower>#FOLLOWING`.

use crate::auth::Caller;
use crate::conditions::{Refused, put_new, transact};
use crate::ids::UserId;
use crate::{Error, Page, PageRequest, Table, clock, keys, to_item};
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, TransactWriteItem};
use serde::{Deserialize, Serialize};

pub const ENTITY: &str = "follow";

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FollowItem {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    #[serde(rename = "GSI1PK")]
    pub gsi1pk: String,
    #[serde(rename = "GSI1SK")]
    pub gsi1sk: String,
    pub entity: String,
    pub follower_id: UserId,
    pub followee_id: UserId,
    pub created_at: String,
}

/// A user in a followers or following listing.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FollowView {
    pub user_id: UserId,
    pub followed_at: String,
}

fn not_yourself() -> Error {
    Error::BadRequest { code: "invalid_request", message: "you cannot follow yourself".into() }
}

/// The caller follows `followee` (idempotent): one TransactWriteItems that
/// checks the user exists (404) and adds the edge if it is not there yet.
pub async fn follow(table: &Table, caller: &Caller, followee: UserId) -> Result<(), Error> {
    if followee == caller.user_id {
        return Err(not_yourself());
    }
    let key = keys::follow(followee, caller.user_id);
    let edge = FollowItem {
        pk: key.pk,
        sk: key.sk,
        gsi1pk: keys::following_partition(caller.user_id),
        gsi1sk: keys::user_partition(followee),
        entity: ENTITY.into(),
        follower_id: caller.user_id,
        followee_id: followee,
        created_at: clock::now().rfc3339(),
    };
    let exists = ConditionCheck::builder()
        .table_name(table.name())
        .set_key(Some(keys::profile(followee).to_attributes()))
        .condition_expression("attribute_exists(PK)")
        .build()
        .map_err(Error::internal)?;
    match transact(table, vec![TransactWriteItem::builder().condition_check(exists).build(), put_new(table, to_item(&edge)?)?]).await {
        Ok(()) => Ok(()),
        Err(Refused::Cancelled(c)) if c.failed(0) => Err(Error::not_found("no such user")),
        Err(Refused::Cancelled(c)) if c.failed(1) => Ok(()), // already following
        Err(refused) => Err(refused.into()),
    }
}

/// The caller stops following `followee` (idempotent): one DeleteItem.
pub async fn unfollow(table: &Table, caller: &Caller, followee: UserId) -> Result<(), Error> {
    if followee == caller.user_id {
        return Err(not_yourself());
    }
    let key = keys::follow(followee, caller.user_id);
    table.client().delete_item().table_name(table.name()).set_key(Some(key.to_attributes())).send().await?;
    Ok(())
}

/// Who follows `user`, by user id: one Query per page.
pub async fn followers(table: &Table, user: UserId, page: &PageRequest) -> Result<Page<FollowView>, Error> {
    let query = table
        .client()
        .query()
        .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
        .expression_attribute_values(":pk", AttributeValue::S(keys::user_partition(user)))
        .expression_attribute_values(":prefix", AttributeValue::S(keys::FOLLOWER_PREFIX.into()));
    let page: Page<FollowItem> = table.query_page(&format!("followers:{user}"), &[keys::PK, keys::SK], query, page).await?;
    let items = page.items.into_iter().map(|e| FollowView { user_id: e.follower_id, followed_at: e.created_at }).collect();
    Ok(Page { items, next_cursor: page.next_cursor })
}

/// Whom `user` follows, by user id: one Query per page on GSI1.
pub async fn following(table: &Table, user: UserId, page: &PageRequest) -> Result<Page<FollowView>, Error> {
    let query = table
        .client()
        .query()
        .index_name(keys::GSI1)
        .key_condition_expression("GSI1PK = :following")
        .expression_attribute_values(":following", AttributeValue::S(keys::following_partition(user)));
    let positions = [keys::PK, keys::SK, keys::GSI1PK, keys::GSI1SK];
    let page: Page<FollowItem> = table.query_page(&format!("following:{user}"), &positions, query, page).await?;
    let items = page.items.into_iter().map(|e| FollowView { user_id: e.followee_id, followed_at: e.created_at }).collect();
    Ok(Page { items, next_cursor: page.next_cursor })
}
