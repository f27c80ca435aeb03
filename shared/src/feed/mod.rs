//! The home feed: published posts by the authors a user follows, newest
//! first, over the last [`WINDOW_DAYS`] days.
//!
//! Hybrid fan-out. An author with fewer followers than
//! [`Settings::push_limit`] has each publication *pushed*: the stream
//! processor writes a small [`FeedItem`] into every follower's partition.
//! Above it nothing is pushed; each follower holds a [`PullMarker`] for the
//! author instead, and the feed read *pulls* the author's own listing and
//! merges it with the pushed items ([`read`]). The rules for follows,
//! unfollows, deletions and an author crossing the limit are the README's
//! ("Home feed").

mod read;

pub use crate::feed_settings::{BUDGET_ENV, PUSH_LIMIT_ENV, Settings};
pub use read::home;

use crate::ids::{PostId, UserId};
use crate::keys::{self, Placement};
use crate::{Error, to_item};
use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
use serde::{Deserialize, Serialize};

/// How far back a feed reaches; pushed items expire (TTL) when their post
/// leaves it, and pulled listings are read no further back.
pub const WINDOW_DAYS: u32 = 30;

pub const ITEM_ENTITY: &str = "feedItem";
pub const PULL_ENTITY: &str = "feedPull";

/// A pushed post: `USER#<follower>` / `FEED#<publication>`, about 200 bytes
/// (1 WCU), expiring when the post leaves the window.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FeedItem {
    pub entity: String,
    pub user_id: UserId,
    pub post_id: PostId,
    pub author_id: UserId,
    pub publication: String,
    pub expires_at: i64,
}

/// That a user's feed pulls an author: `USER#<user>` / `PULL#<author>`.
/// `expiresAt` is set when the author is pushed again: the marker then
/// stays until the posts published while pulled have left the window.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PullMarker {
    pub entity: String,
    pub user_id: UserId,
    pub author_id: UserId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
}

/// The epoch second a publication leaves the window.
pub fn leaves_window(publication: &str) -> Result<i64, Error> {
    let ulid = ulid::Ulid::from_string(publication).map_err(|_| Error::internal(format!("publication {publication:?} is not a ULID")))?;
    Ok((ulid.timestamp_ms() / 1000) as i64 + i64::from(WINDOW_DAYS) * 86_400)
}

/// The lowest publication ULID still in the window at `now_ms`.
pub fn window_start(now_ms: u64) -> String {
    ulid::Ulid::from_parts(now_ms.saturating_sub(u64::from(WINDOW_DAYS) * 86_400_000), 0).to_string()
}

/// The BatchWriteItem request that pushes `post` into `user`'s feed.
pub fn push(user: UserId, post: PostId, author: UserId, publication: &str) -> Result<WriteRequest, Error> {
    let item = FeedItem {
        entity: ITEM_ENTITY.into(),
        user_id: user,
        post_id: post,
        author_id: author,
        publication: publication.to_string(),
        expires_at: leaves_window(publication)?,
    };
    put_request(to_item(&item, &Placement::new(keys::feed_item(user, publication)))?)
}

/// The BatchWriteItem request that makes `user`'s feed pull `author`.
pub fn pull(user: UserId, author: UserId, expires_at: Option<i64>) -> Result<WriteRequest, Error> {
    let marker = PullMarker { entity: PULL_ENTITY.into(), user_id: user, author_id: author, expires_at };
    put_request(to_item(&marker, &Placement::new(keys::pull_marker(user, author)))?)
}

pub fn put_request(item: crate::conditions::Item) -> Result<WriteRequest, Error> {
    let put = PutRequest::builder().set_item(Some(item)).build().map_err(Error::internal)?;
    Ok(WriteRequest::builder().put_request(put).build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_runs_on_publication_time() {
        let publication = ulid::Ulid::from_parts(1_000_000_000_000, 7).to_string();
        assert_eq!(leaves_window(&publication).unwrap(), 1_000_000_000 + 30 * 86_400);
        let start = window_start(1_000_000_000_000 + 30 * 86_400_000);
        assert!(start.as_str() <= publication.as_str());
        assert!(window_start(1_000_000_000_001 + 30 * 86_400_000).as_str() > publication.as_str());
    }
}
