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

/// A global secondary index: its name and key attributes, as template.yaml
/// declares them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Index {
    pub name: &'static str,
    pub pk: &'static str,
    pub sk: &'static str,
}

pub const GSI1: Index = Index { name: "GSI1", pk: "GSI1PK", sk: "GSI1SK" };
pub const GSI2: Index = Index { name: "GSI2", pk: "GSI2PK", sk: "GSI2SK" };
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

/// Where an item sits: its primary key, and its key in each index that
/// lists it. Entities hold none of these attributes; [`crate::to_item`] adds
/// them when the item is written, so their names are stated only here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placement {
    pub key: Key,
    pub gsi1: Option<Key>,
    pub gsi2: Option<Key>,
}

impl Placement {
    pub fn new(key: Key) -> Self {
        Self { key, gsi1: None, gsi2: None }
    }

    pub fn in_gsi1(self, pk: String, sk: String) -> Self {
        Self { gsi1: Some(Key { pk, sk }), ..self }
    }

    pub fn in_gsi2(self, pk: String, sk: String) -> Self {
        Self { gsi2: Some(Key { pk, sk }), ..self }
    }

    pub fn to_attributes(&self) -> HashMap<String, AttributeValue> {
        let mut attributes = self.key.to_attributes();
        for (index, key) in [(GSI1, &self.gsi1), (GSI2, &self.gsi2)] {
            if let Some(key) = key {
                attributes.insert(index.pk.into(), AttributeValue::S(key.pk.clone()));
                attributes.insert(index.sk.into(), AttributeValue::S(key.sk.clone()));
            }
        }
        attributes
    }
}

/// One listing: a partition of the table or of an index, optionally only
/// the sort keys with a prefix, in one direction. Its `name` is signed into
/// its cursors, so a cursor resumes only the listing it was made for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listing {
    pub name: String,
    /// `None`: the table itself.
    pub index: Option<Index>,
    pub partition: String,
    pub sort_prefix: Option<&'static str>,
    pub newest_first: bool,
}

impl Listing {
    fn in_table(name: String, partition: String, sort_prefix: &'static str, newest_first: bool) -> Self {
        Self { name, index: None, partition, sort_prefix: Some(sort_prefix), newest_first }
    }

    fn in_index(name: String, index: Index, partition: String, newest_first: bool) -> Self {
        Self { name, index: Some(index), partition, sort_prefix: None, newest_first }
    }

    pub fn partition_attribute(&self) -> &'static str {
        self.index.map_or(PK, |i| i.pk)
    }

    pub fn sort_attribute(&self) -> &'static str {
        self.index.map_or(SK, |i| i.sk)
    }

    /// The attributes that make up a position in the listing (what a cursor
    /// holds): the table's keys, plus the index's on an index.
    pub fn position_attributes(&self) -> Vec<&'static str> {
        match self.index {
            None => vec![PK, SK],
            Some(index) => vec![PK, SK, index.pk, index.sk],
        }
    }
}

pub fn user_partition(user: UserId) -> String {
    format!("USER#{user}")
}

/// A user's profile: `USER#<id>` / `PROFILE`.
pub fn profile(user: UserId) -> Key {
    Key { pk: user_partition(user), sk: PROFILE_SORT.into() }
}
/// The sort key of every profile (in the table, and in GSI2 by email).
pub const PROFILE_SORT: &str = "PROFILE";

/// A profile's place in GSI2, by email.
pub fn by_email(email: &str) -> Key {
    Key { pk: email_partition(email), sk: PROFILE_SORT.into() }
}

/// The partition of GSI1 holding every profile (the all-users listing);
/// the sort key orders users by sign-up time.
pub const ALL_USERS: &str = "USERS";
pub fn all_users_sort(user: UserId) -> String {
    format!("USER#{user}")
}

/// Where a profile sits: in GSI1's all-users partition and, by email, in GSI2.
pub fn profile_placement(user: UserId, email: &str) -> Placement {
    let email = by_email(email);
    Placement::new(profile(user)).in_gsi1(ALL_USERS.into(), all_users_sort(user)).in_gsi2(email.pk, email.sk)
}

/// Every user, newest first.
pub fn all_users() -> Listing {
    Listing::in_index("users".into(), GSI1, ALL_USERS.into(), true)
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

/// A user's API keys, oldest first.
pub fn api_keys(user: UserId) -> Listing {
    Listing::in_table(format!("api-keys:{user}"), user_partition(user), API_KEY_PREFIX, false)
}

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

/// A post's comments, oldest first.
pub fn comments(post: PostId) -> Listing {
    Listing::in_table(format!("comments:{post}"), post_partition(post), COMMENT_PREFIX, false)
}

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

/// A new draft: listed among its author's drafts.
pub fn draft_placement(author: UserId, post_id: PostId) -> Placement {
    Placement::new(post(post_id)).in_gsi2(drafts_partition(author), post_sort(post_id))
}

/// An author's published posts, newest first.
pub fn published_posts(author: UserId) -> Listing {
    Listing::in_index(format!("posts:{author}"), GSI1, published_posts_partition(author), true)
}

/// An author's drafts, newest first.
pub fn drafts(author: UserId) -> Listing {
    Listing::in_index(format!("drafts:{author}"), GSI2, drafts_partition(author), true)
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

/// A follow edge, also listed under the follower in GSI1.
pub fn follow_placement(followee: UserId, follower: UserId) -> Placement {
    Placement::new(follow(followee, follower)).in_gsi1(following_partition(follower), user_partition(followee))
}

/// Who follows `user`, oldest first.
pub fn followers(user: UserId) -> Listing {
    Listing::in_table(format!("followers:{user}"), user_partition(user), FOLLOWER_PREFIX, false)
}

/// Whom `user` follows.
pub fn following(user: UserId) -> Listing {
    Listing::in_index(format!("following:{user}"), GSI1, following_partition(user), false)
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

/// A new notification: unread, so also in the unread index.
pub fn unread_notification_placement(user: UserId, id: NotificationId) -> Placement {
    let key = notification(user, id);
    let sk = key.sk.clone();
    Placement::new(key).in_gsi2(unread_partition(user), sk)
}

/// A user's notifications, newest first.
pub fn notifications(user: UserId) -> Listing {
    Listing::in_table(format!("notifications:{user}"), user_partition(user), NOTIFICATION_PREFIX, true)
}

/// A user's unread notifications, newest first.
pub fn unread_notifications(user: UserId) -> Listing {
    Listing::in_index(format!("unread:{user}"), GSI2, unread_partition(user), true)
}

/// Everything in a user's own partition (profile, keys, notifications,
/// followers), for removing a deleted account.
pub fn user_items(user: UserId) -> Listing {
    Listing { name: format!("user:{user}"), index: None, partition: user_partition(user), sort_prefix: None, newest_first: false }
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
    fn placements_name_each_index_key_once() {
        let user = UserId::parse(U).unwrap();
        let attrs = profile_placement(user, "a@example.com").to_attributes();
        let names: std::collections::BTreeSet<&str> = attrs.keys().map(String::as_str).collect();
        assert_eq!(names, ["GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK", "PK", "SK"].into());
        assert_eq!(attrs["GSI1PK"], AttributeValue::S("USERS".into()));
        assert_eq!(attrs["GSI2PK"], AttributeValue::S("EMAIL#a@example.com".into()));
        let edge = follow_placement(user, UserId::parse(P).unwrap()).to_attributes();
        assert_eq!(edge.len(), 4, "a follow edge is in GSI1 only");
    }

    #[test]
    fn a_listing_positions_by_its_index_keys() {
        let user = UserId::parse(U).unwrap();
        assert_eq!(followers(user).position_attributes(), [PK, SK]);
        assert_eq!(published_posts(user).position_attributes(), [PK, SK, "GSI1PK", "GSI1SK"]);
        assert_eq!(unread_notifications(user).partition_attribute(), "GSI2PK");
        assert_ne!(followers(user).name, following(user).name);
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
