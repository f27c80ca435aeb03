//! Every key format of the table, in one place.
//!
//! The table has string keys `PK`/`SK` and two overloaded GSIs
//! (`GSI1PK`/`GSI1SK`, `GSI2PK`/`GSI2SK`). Items that are read together share
//! a partition; prefixes tell entities apart. Inputs are typed ids (ULIDs) or
//! normalised emails, so no request text can add a `#` of its own.

use crate::ids::{ApiKeyId, CommentId, NotificationId, PostId, UserId};
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

pub const PK: &str = "PK";
pub const SK: &str = "SK";
pub const GSI1: &str = "GSI1";
pub const GSI1PK: &str = "GSI1PK";
pub const GSI1SK: &str = "GSI1SK";
pub const GSI2: &str = "GSI2";
pub const GSI2PK: &str = "GSI2PK";
pub const GSI2SK: &str = "GSI2SK";
/// The TTL attribute (epoch seconds), as declared in template.yaml.
pub const EXPIRES_AT: &str = "expiresAt";

/// The primary key of one item.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    /// The key as the `Key` parameter of GetItem, UpdateItem, DeleteItem.
    pub fn to_attributes(&self) -> HashMap<String, AttributeValue> {
        HashMap::from([(PK.to_string(), AttributeValue::S(self.pk.clone())), (SK.to_string(), AttributeValue::S(self.sk.clone()))])
    }
}

pub fn user_partition(user: UserId) -> String {
    format!("USER#{user}")
}

/// A user's profile: `USER#<id>` / `PROFILE`.
pub fn profile(user: UserId) -> Key {
    Key { pk: user_partition(user), sk: "PROFILE".into() }
}

/// The partition of GSI1 holding every profile (the all-users listing);
/// the sort key orders users by sign-up time.
pub const ALL_USERS: &str = "USERS";
pub fn all_users_sort(user: UserId) -> String {
    format!("USER#{user}")
}

/// The guard item that makes an email unique: `EMAIL#<email>` / `EMAIL`.
/// `email` must already be normalised (trimmed, lower case).
pub fn email_guard(email: &str) -> Key {
    Key { pk: email_partition(email), sk: "EMAIL".into() }
}

/// GSI2 partition of a profile, for the by-email lookup.
pub fn email_partition(email: &str) -> String {
    format!("EMAIL#{email}")
}

/// An API key, beside its owner's profile: `USER#<id>` / `APIKEY#<keyId>`.
pub fn api_key(user: UserId, key: ApiKeyId) -> Key {
    Key { pk: user_partition(user), sk: format!("{API_KEY_PREFIX}{key}") }
}
pub const API_KEY_PREFIX: &str = "APIKEY#";

/// A post: `POST#<id>` / `POST`. Its comments share the partition.
pub fn post(post: PostId) -> Key {
    Key { pk: post_partition(post), sk: "POST".into() }
}

pub fn post_partition(post: PostId) -> String {
    format!("POST#{post}")
}

/// A comment: `POST#<postId>` / `COMMENT#<commentId>`, time-ordered in its post.
pub fn comment(post: PostId, comment: CommentId) -> Key {
    Key { pk: post_partition(post), sk: format!("{COMMENT_PREFIX}{comment}") }
}
pub const COMMENT_PREFIX: &str = "COMMENT#";

/// GSI1 partition of an author's published posts (sparse: drafts carry no
/// GSI1 keys, so the listing never reads one). Sorted by a ULID made at
/// publication, so newest first is a descending Query.
pub fn published_posts_partition(author: UserId) -> String {
    format!("USER#{author}#POSTS")
}

/// GSI2 partition of an author's drafts (sparse: removed on publication).
pub fn drafts_partition(author: UserId) -> String {
    format!("USER#{author}#DRAFTS")
}

pub fn post_sort(post: PostId) -> String {
    format!("POST#{post}")
}

/// A follow edge, in the followed user's partition (their followers):
/// `USER#<followee>` / `FOLLOWER#<follower>`. Its GSI1 keys list it under
/// the follower (whom they follow).
pub fn follow(followee: UserId, follower: UserId) -> Key {
    Key { pk: user_partition(followee), sk: format!("{FOLLOWER_PREFIX}{follower}") }
}
pub const FOLLOWER_PREFIX: &str = "FOLLOWER#";

/// GSI1 partition of the users someone follows.
pub fn following_partition(follower: UserId) -> String {
    format!("USER#{follower}#FOLLOWING")
}

/// A notification, in its recipient's partition: `USER#<id>` / `NOTIF#<id>`.
pub fn notification(user: UserId, notification: NotificationId) -> Key {
    Key { pk: user_partition(user), sk: format!("{NOTIFICATION_PREFIX}{notification}") }
}
pub const NOTIFICATION_PREFIX: &str = "NOTIF#";

/// GSI2 partition of a user's unread notifications (sparse: removed when read).
pub fn unread_partition(user: UserId) -> String {
    format!("USER#{user}#UNREAD")
}

/// The stream processor's idempotency marker for one stream record:
/// `APPLIED#<eventID>` / `APPLIED`. It is written in the same transaction as
/// the record's counter changes, so a record is counted at most once.
pub fn stream_marker(event_id: &str) -> Key {
    Key { pk: format!("APPLIED#{event_id}"), sk: "APPLIED".into() }
}

/// The first response to a request sent with an `Idempotency-Key`:
/// `IDEMPOTENCY#<scope>#<key>` / `IDEMPOTENCY`. The scope is the caller's
/// user id (`public` on routes without a caller), so one user's keys never
/// meet another's.
pub fn idempotency(scope: &str, key: &str) -> Key {
    Key { pk: format!("IDEMPOTENCY#{scope}#{key}"), sk: "IDEMPOTENCY".into() }
}

#[cfg(test)]
mod tests {
    use super::*;

    const U: &str = "01ARZ3NDEKTSV4RRFFQ69G5FAV";
    const P: &str = "01BX5ZZKBKACTAV9WEVGEMMVRY";
    const C: &str = "01BX5ZZKBKACTAV9WEVGEMMVS0";

    #[test]
    fn key_formats() {
        let user = UserId::parse(U).unwrap();
        let post_id = PostId::parse(P).unwrap();
        let comment_id = CommentId::parse(C).unwrap();
        let key_id = ApiKeyId::parse(C).unwrap();
        assert_eq!(profile(user), Key { pk: format!("USER#{U}"), sk: "PROFILE".into() });
        assert_eq!(all_users_sort(user), format!("USER#{U}"));
        assert_eq!(email_guard("ada@example.com"), Key { pk: "EMAIL#ada@example.com".into(), sk: "EMAIL".into() });
        assert_eq!(email_partition("ada@example.com"), "EMAIL#ada@example.com");
        assert_eq!(api_key(user, key_id), Key { pk: format!("USER#{U}"), sk: format!("APIKEY#{C}") });
        assert_eq!(post(post_id), Key { pk: format!("POST#{P}"), sk: "POST".into() });
        assert_eq!(comment(post_id, comment_id), Key { pk: format!("POST#{P}"), sk: format!("COMMENT#{C}") });
        let other = UserId::parse(P).unwrap();
        assert_eq!(follow(user, other), Key { pk: format!("USER#{U}"), sk: format!("FOLLOWER#{P}") });
        assert_eq!(following_partition(other), format!("USER#{P}#FOLLOWING"));
        assert_eq!(published_posts_partition(user), format!("USER#{U}#POSTS"));
        assert_eq!(drafts_partition(user), format!("USER#{U}#DRAFTS"));
        assert_eq!(post_sort(post_id), format!("POST#{P}"));
        let n = NotificationId::parse(C).unwrap();
        assert_eq!(notification(user, n), Key { pk: format!("USER#{U}"), sk: format!("NOTIF#{C}") });
        assert_eq!(unread_partition(user), format!("USER#{U}#UNREAD"));
        assert_eq!(stream_marker("e1"), Key { pk: "APPLIED#e1".into(), sk: "APPLIED".into() });
    }

    #[test]
    fn key_attributes_are_strings_named_pk_and_sk() {
        let attrs = profile(UserId::parse(U).unwrap()).to_attributes();
        assert_eq!(attrs.len(), 2);
        assert_eq!(attrs[PK], AttributeValue::S(format!("USER#{U}")));
        assert_eq!(attrs[SK], AttributeValue::S("PROFILE".into()));
    }

    #[test]
    fn a_posts_comments_sort_after_the_post_in_time_order() {
        let post_id = PostId::generate();
        let first = comment(post_id, CommentId::generate());
        std::thread::sleep(std::time::Duration::from_millis(2));
        let second = comment(post_id, CommentId::generate());
        assert_eq!(first.pk, post(post_id).pk);
        assert!(first.sk < second.sk);
    }
}
