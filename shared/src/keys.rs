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
/// The attributes both indexes hold besides the keys (template.yaml's
/// `NonKeyAttributes`, held to this list by a test): what the listings
/// show, so a listing never reads a post's content and a change to anything
/// else (a profile's email, plan, version, owner-only counts; a card's
/// version) writes no index.
#[rustfmt::skip]
pub const LISTED_ATTRIBUTES: &[&str] = &[
    // profiles (all users, by email): the public profile
    "entity", "userId", "name", "bio", "createdAt", "followerCount", "followingCount", "publishedPostCount",
    // post cards (published posts, drafts)
    "postId", "authorId", "authorName", "title", "excerpt", "tags", "status", "publishedAt", "views", "commentCount",
    // follow edges (following)
    "followerId", "followeeId",
    // notifications (unread)
    "notificationId", "type", "actorId", "commentId", "read", "readAt", "expiresAt",
    // post cards again (likes), likes (the user's likes)
    "likeCount", "likedAt",
];

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

/// How many GSI1 partitions hold the all-users listing. Every sign-up, and
/// every change to a listed profile attribute, writes one of them: one
/// partition would cap those writes at about 1,000 WCU/s for the whole
/// service, so they are spread over this many (README, "Hot keys").
pub const USER_SHARDS: u32 = 4;

/// The all-users partition of GSI1 a profile sits in: fixed by the user id
/// (its random bits), so every write of one profile lands on the same shard.
pub fn users_shard(user: UserId) -> u32 {
    (user.random_bits() % u128::from(USER_SHARDS)) as u32
}

/// GSI1 partition `USERS#<shard>`; the sort key orders users by sign-up time.
pub fn all_users_partition(shard: u32) -> String {
    format!("USERS#{shard}")
}

pub fn all_users_sort(user: UserId) -> String {
    format!("USER#{user}")
}

/// Where a profile sits: in its all-users shard of GSI1 and, by email, in GSI2.
pub fn profile_placement(user: UserId, email: &str) -> Placement {
    let email = by_email(email);
    Placement::new(profile(user)).in_gsi1(all_users_partition(users_shard(user)), all_users_sort(user)).in_gsi2(email.pk, email.sk)
}

/// Every user, newest first: the shards' listings merged. The shard count
/// is in the name, so a cursor never resumes a listing sharded otherwise.
pub fn all_users() -> Sharded {
    let shards = (0..USER_SHARDS).map(|shard| Listing::in_index(format!("users/{shard}"), GSI1, all_users_partition(shard), true)).collect();
    Sharded { name: format!("users/{USER_SHARDS}"), shards }
}

/// One listing spread over several partitions (write sharding): read by
/// querying every shard and merging by sort key ([`crate::query`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sharded {
    /// Signed into its cursors, like [`Listing::name`].
    pub name: String,
    pub shards: Vec<Listing>,
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

/// A post's card: `POST#<id>` / `POST`. Everything about the post but its
/// content, small whatever the content's size: counters, listings (the card
/// is what the indexes hold) and edits of the title rewrite only this.
pub fn post(post: PostId) -> Key {
    Key { pk: post_partition(post), sk: POST_SORT_PREFIX.into() }
}

/// A post's content: `POST#<id>` / `POST#BODY`, read only by the routes
/// that answer it, written only when it changes.
pub fn post_body(post: PostId) -> Key {
    Key { pk: post_partition(post), sk: format!("{POST_SORT_PREFIX}#BODY") }
}

/// Card and body share this sort-key prefix (comments do not), so one Query
/// reads a whole post.
pub const POST_SORT_PREFIX: &str = "POST";

/// A post's card and body, in one Query.
pub fn whole_post(post: PostId) -> Listing {
    Listing::in_table(format!("post:{post}"), post_partition(post), POST_SORT_PREFIX, false)
}

/// Everything in a post's partition (card, body, comments), for removing a
/// deleted post.
pub fn post_items(post: PostId) -> Listing {
    Listing { name: format!("post-items:{post}"), index: None, partition: post_partition(post), sort_prefix: None, newest_first: false }
}

/// How many counters a post's views are spread over. Each is its own
/// partition key, so one post takes about this many × 1,000 views/s.
pub const VIEW_SHARDS: u32 = 10;

/// One of a post's view counters: `POST#<id>#VIEWS#<shard>` / `VIEWS`. In no
/// index, about 100 bytes: a view writes 1 WCU whatever the post's size.
pub fn post_views(post: PostId, shard: u32) -> Key {
    Key { pk: format!("{}#VIEWS#{shard}", post_partition(post)), sk: "VIEWS".into() }
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

/// How many partitions hold one tag's posts. Every publication with the
/// tag, and every edit adding or removing it, writes one of them.
pub const TAG_SHARDS: u32 = 4;

/// The tag shard a post sits in: fixed by the post id's random bits.
pub fn tag_shard(post: PostId) -> u32 {
    (post.random_bits() % u128::from(TAG_SHARDS)) as u32
}

/// A published post's place on a tag's page: `TAG#<tag>#<shard>` /
/// `<publication ULID>`, so a shard's posts sort by publication. `tag` is
/// normalised (lower case); the shard is always the last `#<digit>`, so
/// no two tags share a partition.
pub fn post_tag(tag: &str, post: PostId, publication: &str) -> Key {
    Key { pk: tag_partition(tag, tag_shard(post)), sk: publication.to_string() }
}

fn tag_partition(tag: &str, shard: u32) -> String {
    format!("TAG#{tag}#{shard}")
}

/// The published posts with `tag`, newest first: its shards merged.
pub fn tagged_posts(tag: &str) -> Sharded {
    let shards = (0..TAG_SHARDS)
        .map(|shard| Listing {
            name: format!("tag:{tag}/{shard}"),
            index: None,
            partition: tag_partition(tag, shard),
            sort_prefix: None,
            newest_first: true,
        })
        .collect();
    Sharded { name: format!("tag:{tag}/{TAG_SHARDS}"), shards }
}

/// How many GSI1 partitions hold one post's likers (for removing a deleted
/// post's likes): a popular post's likes are spread over this many.
pub const LIKE_SHARDS: u32 = 4;

/// A like: in the liker's partition, `USER#<userId>` / `LIKE#<postId>` (one
/// per user and post, so liking again changes nothing). GSI1 lists it under
/// the post's likers, sharded by user; GSI2 under the liker's likes, newest
/// first.
pub fn like(user: UserId, post: PostId) -> Key {
    Key { pk: user_partition(user), sk: format!("{LIKE_PREFIX}{post}") }
}
pub const LIKE_PREFIX: &str = "LIKE#";

fn post_likers_partition(post: PostId, shard: u32) -> String {
    format!("{}#LIKES#{shard}", post_partition(post))
}

fn user_likes_partition(user: UserId) -> String {
    format!("USER#{user}#LIKES")
}

/// A new like, made at `order` (a ULID of the moment).
pub fn like_placement(user: UserId, post: PostId, order: &str) -> Placement {
    let shard = (user.random_bits() % u128::from(LIKE_SHARDS)) as u32;
    Placement::new(like(user, post))
        .in_gsi1(post_likers_partition(post, shard), user_partition(user))
        .in_gsi2(user_likes_partition(user), order.to_string())
}

/// Everyone who likes `post`, shard by shard (for the cascade).
pub fn post_likers(post: PostId) -> Vec<Listing> {
    (0..LIKE_SHARDS).map(|shard| Listing::in_index(format!("likers:{post}/{shard}"), GSI1, post_likers_partition(post, shard), false)).collect()
}

/// The posts `user` likes, newest like first.
pub fn user_likes(user: UserId) -> Listing {
    Listing::in_index(format!("likes:{user}"), GSI2, user_likes_partition(user), true)
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

/// A post in a follower's home feed, pushed there by the stream processor:
/// `USER#<follower>` / `FEED#<publication ULID>`, so the feed sorts by
/// publication like the authors' own listings.
pub fn feed_item(user: UserId, publication: &str) -> Key {
    Key { pk: user_partition(user), sk: format!("{FEED_PREFIX}{publication}") }
}
pub const FEED_PREFIX: &str = "FEED#";

/// A user's pushed feed items (read by key range, newest first).
pub fn feed(user: UserId) -> Listing {
    Listing::in_table(format!("feed:{user}"), user_partition(user), FEED_PREFIX, true)
}

/// The name a feed cursor is signed with: a cursor resumes only its own
/// user's feed.
pub fn feed_cursor_name(user: UserId) -> String {
    format!("home-feed:{user}")
}

/// That `user` follows `author`, an author whose posts are pulled into the
/// feed rather than pushed: `USER#<user>` / `PULL#<author>`.
pub fn pull_marker(user: UserId, author: UserId) -> Key {
    Key { pk: user_partition(user), sk: format!("{PULL_PREFIX}{author}") }
}
pub const PULL_PREFIX: &str = "PULL#";

/// The authors whose posts `user`'s feed pulls.
pub fn pull_markers(user: UserId) -> Listing {
    Listing::in_table(format!("pulls:{user}"), user_partition(user), PULL_PREFIX, false)
}

/// A fan-out that did not finish in one invocation's budget:
/// `FANOUT#<job>` / `FANOUT`. Its own stream records carry it on.
pub fn fan_out_job(job: &str) -> Key {
    Key { pk: format!("FANOUT#{job}"), sk: "FANOUT".into() }
}

/// The job id of a publication's fan-out: `POST#<postId>#<publication>`.
pub fn publication_job(post: PostId, publication: &str) -> String {
    format!("POST#{post}#{publication}")
}

/// The job id of an author's crossing of the push limit, one per direction:
/// `PULL#<authorId>` or `PUSH#<authorId>`.
pub fn crossing_job(pulled: bool, author: UserId) -> String {
    format!("{}#{author}", if pulled { "PULL" } else { "PUSH" })
}

/// Everything in a user's own partition (profile, keys, notifications,
/// followers, feed), for removing a deleted account.
pub fn user_items(user: UserId) -> Listing {
    Listing { name: format!("user:{user}"), index: None, partition: user_partition(user), sort_prefix: None, newest_first: false }
}

/// What data model the table holds: `SCHEMA` / `SCHEMA`, written when the
/// table is created, so a table written by an older model is recognised
/// (and refused or migrated) rather than misread.
pub fn schema() -> Key {
    Key { pk: "SCHEMA".into(), sk: "SCHEMA".into() }
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
        assert_eq!(attrs["GSI1PK"], AttributeValue::S(format!("USERS#{}", users_shard(user))));
        assert_eq!(attrs["GSI2PK"], AttributeValue::S("EMAIL#a@example.com".into()));
        let edge = follow_placement(user, UserId::parse(P).unwrap()).to_attributes();
        assert_eq!(edge.len(), 4, "a follow edge is in GSI1 only");
    }

    #[test]
    fn users_spread_evenly_over_their_shards_and_each_stays_on_one() {
        let mut per_shard = vec![0u32; USER_SHARDS as usize];
        for _ in 0..4000 {
            let user = UserId::generate();
            assert_eq!(users_shard(user), users_shard(UserId::parse(&user.to_string()).unwrap()));
            per_shard[users_shard(user) as usize] += 1;
        }
        // 1,000 expected per shard; 800 is more than six standard deviations away.
        assert!(per_shard.iter().all(|n| *n > 800), "{per_shard:?}");
        let sharded = all_users();
        let partitions: std::collections::BTreeSet<_> = sharded.shards.iter().map(|l| l.partition.clone()).collect();
        assert_eq!(partitions.len(), USER_SHARDS as usize);
        assert!(sharded.name.ends_with(&format!("/{USER_SHARDS}")), "the shard count is in the signed name");
    }

    #[test]
    fn a_posts_card_body_and_counters_are_apart() {
        let post_id = PostId::parse(P).unwrap();
        assert_eq!(post_body(post_id), Key { pk: format!("POST#{P}"), sk: "POST#BODY".into() });
        let whole = whole_post(post_id);
        assert!(post(post_id).sk.starts_with(whole.sort_prefix.unwrap()) && post_body(post_id).sk.starts_with(whole.sort_prefix.unwrap()));
        assert!(!comment(post_id, CommentId::parse(C).unwrap()).sk.starts_with(whole.sort_prefix.unwrap()), "one Query reads no comment");
        let counters: std::collections::BTreeSet<_> = (0..VIEW_SHARDS).map(|s| post_views(post_id, s).pk).collect();
        assert_eq!(counters.len(), VIEW_SHARDS as usize, "each counter is a partition of its own");
        assert!(!counters.contains(&post_partition(post_id)));
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
