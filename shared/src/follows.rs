//! Follows: one edge item per pair, `USER#<followee>` / `FOLLOWER#<follower>`
//! (the followee's followers), also in GSI1 under `USER#<follower>#FOLLOWING`.

use crate::auth::Caller;
use crate::ids::UserId;
use crate::transaction::{Refused, Transaction};
use crate::{Error, Page, PageRequest, Table, clock, keys, to_item};
use aws_sdk_dynamodb::types::ConditionCheck;
use serde::{Deserialize, Serialize};

pub const ENTITY: &str = "follow";

/// The parts of the follow transaction.
const FOLLOWEE: &str = "followee";
const EDGE: &str = "edge";

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FollowItem {
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
    let edge = FollowItem { entity: ENTITY.into(), follower_id: caller.user_id, followee_id: followee, created_at: clock::now().rfc3339() };
    let exists = ConditionCheck::builder()
        .table_name(table.name())
        .set_key(Some(keys::profile(followee).to_attributes()))
        .condition_expression("attribute_exists(PK)")
        .build()
        .map_err(Error::internal)?;
    let edge = to_item(&edge, &keys::follow_placement(followee, caller.user_id))?;
    match Transaction::new().check(FOLLOWEE, exists).put_new(EDGE, table, edge)?.send(table).await {
        Ok(()) => Ok(()),
        Err(Refused::Cancelled(c)) if c.failed(FOLLOWEE) => Err(Error::not_found("no such user")),
        Err(Refused::Cancelled(c)) if c.failed(EDGE) => Ok(()), // already following
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
    let page: Page<FollowItem> = table.query_page(&keys::followers(user), page).await?;
    Ok(page.map(|e| FollowView { user_id: e.follower_id, followed_at: e.created_at }))
}

/// Whom `user` follows, by user id: one Query per page on GSI1.
pub async fn following(table: &Table, user: UserId, page: &PageRequest) -> Result<Page<FollowView>, Error> {
    let page: Page<FollowItem> = table.query_page(&keys::following(user), page).await?;
    Ok(page.map(|e| FollowView { user_id: e.followee_id, followed_at: e.created_at }))
}
