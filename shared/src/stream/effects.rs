//! What one stream record means: the counter deltas and the actions that
//! follow a change, worked out from its old and new images. Pure: nothing
//! here touches the table.

use super::counting::MARKER_ENTITY;
use crate::ids::{CommentId, NotificationId, PostId, UserId};
use crate::notifications::{About, Kind, NotificationItem};
use crate::{Plan, clock, keys};
use aws_lambda_events::event::dynamodb::EventRecord;
use serde::de::DeserializeOwned;

/// A counter change: `field` of the item at `target` moves by `amount`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delta {
    pub target: keys::Key,
    pub field: &'static str,
    pub amount: i64,
}

/// Work that follows a change, safe to repeat.
#[derive(Clone, Debug)]
pub enum Action {
    /// Write this notification unless it is already there.
    Notify(Box<NotificationItem>),
    /// Tell a post's author about a comment (unless they wrote it).
    NotifyPostAuthor { post: PostId, commenter: UserId, comment: CommentId, id: NotificationId },
    /// Push a published post into every follower's feed and notify them,
    /// unless the author is pulled.
    FanOut { author: UserId, post: PostId, publication: String, event_id: String, at_ms: u64 },
    /// Go on with a fan-out saved by an earlier invocation.
    ResumeFanOut(Box<super::fan_out::Job>),
    /// A new follow: the followee's recent posts into the follower's feed
    /// (pushed author), or a pull marker (pulled author).
    Followed { follower: UserId, followee: UserId },
    /// A follow removed: the followee's posts out of the follower's feed.
    Unfollowed { follower: UserId, followee: UserId },
    /// An author's follower count moved: they may cross the push limit.
    FollowersChanged { author: UserId, followers: u64, pulled: bool },
    /// A deleted account: its keys, notifications, follow edges both ways and posts.
    DeleteUserData(UserId),
    /// A deleted post: its body, comments, view counters, likes and places
    /// on its tags' pages (`publication` orders those).
    DeletePost { post: PostId, tags: Vec<String>, publication: Option<String> },
    /// A renamed user: the name copied onto their posts.
    RenameAuthor { author: UserId, name: String },
    /// A plan change: the plan recorded on the user's keys.
    SyncPlan { user: UserId, plan: Plan },
}

#[derive(Debug, Default)]
pub struct Effects {
    pub deltas: Vec<Delta>,
    pub actions: Vec<Action>,
    /// A view counter's new total.
    pub views: Option<super::ViewTotal>,
}

/// A record that can never be processed (an image of no known entity).
#[derive(Debug, thiserror::Error)]
#[error("stream record {event_id} (keys {keys}) cannot be processed: {reason}")]
pub struct Poison {
    pub event_id: String,
    pub keys: String,
    pub reason: String,
}

/// Whether DynamoDB's TTL removed the item (rather than a request).
pub fn is_ttl_removal(record: &EventRecord) -> bool {
    record.event_name == "REMOVE" && record.user_identity.as_ref().is_some_and(|u| u.type_ == "Service" && u.principal_id == "dynamodb.amazonaws.com")
}

fn image<T: DeserializeOwned>(item: &serde_dynamo::Item) -> Result<Option<T>, String> {
    if item.is_empty() {
        return Ok(None);
    }
    serde_dynamo::from_item(item.clone()).map(Some).map_err(|e| e.to_string())
}

/// What one stream record means.
pub fn effects(record: &EventRecord) -> Result<Effects, Poison> {
    let poison = |reason: String| Poison {
        event_id: record.event_id.clone(),
        keys: format!("{:?}", record.change.keys.iter().map(|(k, v)| format!("{k}={v:?}")).collect::<Vec<_>>()),
        reason,
    };
    let (new, old) = (&record.change.new_image, &record.change.old_image);
    let tag = |item: &serde_dynamo::Item| match item.get("entity") {
        Some(serde_dynamo::AttributeValue::S(entity)) => Some(entity.clone()),
        _ => None,
    };
    let Some(entity) = tag(new).or_else(|| tag(old)) else {
        return Err(poison("no entity attribute in either image".into()));
    };
    let by_entity = || -> Result<Effects, String> {
        Ok(match entity.as_str() {
            crate::users::ENTITY => user_effects(image(old)?, image(new)?, is_ttl_removal(record)),
            crate::posts::ENTITY => post_effects(image(old)?, image(new)?, record),
            crate::comments::ENTITY => comment_effects(image(old)?, image(new)?, record),
            crate::follows::ENTITY => follow_effects(image(old)?, image(new)?, record),
            crate::notifications::ENTITY => notification_effects(image(old)?, image(new)?),
            crate::api_keys::ENTITY => api_key_effects(image(old)?, record),
            crate::posts::VIEWS_ENTITY => view_effects(image(new)?),
            crate::likes::ENTITY => like_effects(image(old)?, image(new)?),
            super::fan_out::JOB_ENTITY => job_effects(image(new)?),
            crate::users::EMAIL_GUARD_ENTITY
            | MARKER_ENTITY
            | crate::posts::BODY_ENTITY
            | crate::posts::TAG_ENTITY
            | crate::schema::ENTITY
            | crate::feed::ITEM_ENTITY
            | crate::feed::PULL_ENTITY => Effects::default(),
            other => return Err(format!("unknown entity {other:?}")),
        })
    };
    by_entity().map_err(poison)
}

fn user_effects(old: Option<crate::users::UserItem>, new: Option<crate::users::UserItem>, by_ttl: bool) -> Effects {
    let mut effects = Effects::default();
    match (old, new) {
        (Some(old), None) if !by_ttl => effects.actions.push(Action::DeleteUserData(old.user_id)),
        (Some(old), Some(new)) => {
            if old.follower_count != new.follower_count {
                effects.actions.push(Action::FollowersChanged { author: new.user_id, followers: new.follower_count, pulled: new.feed_pulled });
            }
            if old.name != new.name {
                effects.actions.push(Action::RenameAuthor { author: new.user_id, name: new.name.clone() });
            }
            if old.plan != new.plan {
                effects.actions.push(Action::SyncPlan { user: new.user_id, plan: new.plan });
            }
        }
        _ => {}
    }
    effects
}

fn at_ms(record: &EventRecord) -> u64 {
    record.change.approximate_creation_date_time.timestamp_millis().max(0) as u64
}

fn post_effects(old: Option<crate::posts::PostItem>, new: Option<crate::posts::PostItem>, record: &EventRecord) -> Effects {
    use crate::posts::Status::Published;
    let mut effects = Effects::default();
    let published = |p: &Option<crate::posts::PostItem>| i64::from(p.as_ref().is_some_and(|p| p.status == Published));
    let Some(post) = new.as_ref().or(old.as_ref()) else { return effects };
    let delta = published(&new) - published(&old);
    if delta != 0 {
        effects.deltas.push(Delta { target: keys::profile(post.author_id), field: "publishedPostCount", amount: delta });
    }
    if is_ttl_removal(record) {
        return effects;
    }
    if let Some(publication) = post.publication.clone().filter(|_| delta > 0 && old.is_some()) {
        let event_id = record.event_id.clone();
        effects.actions.push(Action::FanOut { author: post.author_id, post: post.post_id, publication, event_id, at_ms: at_ms(record) });
    }
    if new.is_none() {
        effects.actions.push(Action::DeletePost { post: post.post_id, tags: post.tags.clone(), publication: post.publication.clone() });
    }
    effects
}

/// A saved fan-out (inserted or moved on): carry it on. One marked done,
/// or removed, needs nothing.
fn job_effects(new: Option<super::fan_out::Job>) -> Effects {
    let job = new.filter(|job| !job.done);
    Effects { actions: job.map(|job| Action::ResumeFanOut(Box::new(job))).into_iter().collect(), ..Effects::default() }
}

fn view_effects(new: Option<crate::posts::ViewCounter>) -> Effects {
    let views = new.map(|c| super::ViewTotal { post: c.post_id, shard: c.shard, views: c.views });
    Effects { views, ..Effects::default() }
}

fn like_effects(old: Option<crate::likes::LikeItem>, new: Option<crate::likes::LikeItem>) -> Effects {
    let mut effects = Effects::default();
    let (like, amount) = match (old, new) {
        (None, Some(like)) => (like, 1),
        (Some(like), None) => (like, -1),
        _ => return effects,
    };
    effects.deltas.push(Delta { target: keys::post(like.post_id), field: "likeCount", amount });
    effects
}

fn comment_effects(old: Option<crate::comments::CommentItem>, new: Option<crate::comments::CommentItem>, record: &EventRecord) -> Effects {
    let mut effects = Effects::default();
    match (old, new) {
        (None, Some(comment)) => {
            effects.deltas.push(Delta { target: keys::post(comment.post_id), field: "commentCount", amount: 1 });
            let id = NotificationId::derived(at_ms(record), format!("{}/new_comment", record.event_id).as_bytes());
            effects.actions.push(Action::NotifyPostAuthor { post: comment.post_id, commenter: comment.author_id, comment: comment.comment_id, id });
        }
        (Some(comment), None) => effects.deltas.push(Delta { target: keys::post(comment.post_id), field: "commentCount", amount: -1 }),
        _ => {}
    }
    effects
}

fn follow_effects(old: Option<crate::follows::FollowItem>, new: Option<crate::follows::FollowItem>, record: &EventRecord) -> Effects {
    let mut effects = Effects::default();
    let (edge, amount) = match (old, new) {
        (None, Some(edge)) => (edge, 1),
        (Some(edge), None) => (edge, -1),
        _ => return effects,
    };
    effects.deltas.push(Delta { target: keys::profile(edge.followee_id), field: "followerCount", amount });
    effects.deltas.push(Delta { target: keys::profile(edge.follower_id), field: "followingCount", amount });
    let (follower, followee) = (edge.follower_id, edge.followee_id);
    if amount > 0 {
        let id = NotificationId::derived(at_ms(record), format!("{}/new_follower", record.event_id).as_bytes());
        let about = About { actor_id: Some(follower), ..About::default() };
        effects.actions.push(Action::Notify(Box::new(NotificationItem::new(followee, id, Kind::NewFollower, about, clock::now()))));
        effects.actions.push(Action::Followed { follower, followee });
    } else {
        effects.actions.push(Action::Unfollowed { follower, followee });
    }
    effects
}

fn notification_effects(old: Option<NotificationItem>, new: Option<NotificationItem>) -> Effects {
    let unread = |n: &Option<NotificationItem>| i64::from(n.as_ref().is_some_and(|n| !n.read));
    let mut effects = Effects::default();
    let Some(user) = new.as_ref().or(old.as_ref()).map(|n| n.user_id) else { return effects };
    let amount = unread(&new) - unread(&old);
    if amount != 0 {
        effects.deltas.push(Delta { target: keys::profile(user), field: "unreadNotificationCount", amount });
    }
    effects
}

/// Only TTL matters here: an expired key that was still active frees its
/// place in the quota (routes keep the count for creation and revocation).
fn api_key_effects(old: Option<crate::api_keys::ApiKeyItem>, record: &EventRecord) -> Effects {
    let mut effects = Effects::default();
    if let Some(key) = old.filter(|k| k.active && is_ttl_removal(record)) {
        effects.deltas.push(Delta { target: keys::profile(key.user_id), field: "activeKeyCount", amount: -1 });
    }
    effects
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lambda_events::event::dynamodb::Event;
    use serde_json::json;

    /// The sample event in events/: a follow, a publication, a TTL expiry.
    fn sample() -> Vec<EventRecord> {
        let event: Event = serde_json::from_str(include_str!("../../../events/stream-processor.json")).unwrap();
        event.records
    }

    fn record(value: serde_json::Value) -> EventRecord {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn a_follow_counts_both_sides_and_notifies_the_followed() {
        let effects = effects(&sample()[0]).unwrap();
        let fields: Vec<(&str, i64)> = effects.deltas.iter().map(|d| (d.field, d.amount)).collect();
        assert_eq!(fields, [("followerCount", 1), ("followingCount", 1)]);
        assert_eq!(effects.deltas[0].target.pk, "USER#01JD7Z5S8M3Q2W9E4R6T8Y0V1A");
        assert!(matches!(&effects.actions[..], [Action::Notify(n), Action::Followed { .. }] if n.kind == Kind::NewFollower));
    }

    #[test]
    fn a_publication_counts_and_fans_out() {
        let effects = effects(&sample()[1]).unwrap();
        assert_eq!(effects.deltas.len(), 1);
        assert_eq!((effects.deltas[0].field, effects.deltas[0].amount), ("publishedPostCount", 1));
        assert!(matches!(&effects.actions[..], [Action::FanOut { .. }]));
    }

    #[test]
    fn a_ttl_expiry_lowers_the_unread_count_and_does_nothing_else() {
        let records = sample();
        assert!(is_ttl_removal(&records[2]));
        let effects = effects(&records[2]).unwrap();
        assert_eq!(effects.deltas.len(), 1);
        assert_eq!((effects.deltas[0].field, effects.deltas[0].amount), ("unreadNotificationCount", -1));
        assert!(effects.actions.is_empty());
    }

    #[test]
    fn a_user_removed_by_a_request_cascades_but_not_by_ttl() {
        let old = json!({"PK": {"S": "USER#01JD7Z5S8M3Q2W9E4R6T8Y0V1A"}, "SK": {"S": "PROFILE"}, "GSI1PK": {"S": "USERS"}, "GSI1SK": {"S": "USER#01JD7Z5S8M3Q2W9E4R6T8Y0V1A"},
            "GSI2PK": {"S": "EMAIL#a@example.com"}, "GSI2SK": {"S": "PROFILE"}, "entity": {"S": "user"}, "userId": {"S": "01JD7Z5S8M3Q2W9E4R6T8Y0V1A"},
            "name": {"S": "Ada"}, "email": {"S": "a@example.com"}, "plan": {"S": "free"}, "createdAt": {"S": "t"}, "updatedAt": {"S": "t"}, "version": {"N": "1"}});
        let removal = |ttl: bool| {
            let mut r = json!({"eventID": "e1", "eventName": "REMOVE", "awsRegion": "eu-west-1",
                "dynamodb": {"ApproximateCreationDateTime": 1.0, "Keys": {}, "OldImage": old, "SequenceNumber": "1", "SizeBytes": 1}});
            if ttl {
                r["userIdentity"] = json!({"type": "Service", "principalId": "dynamodb.amazonaws.com"});
            }
            record(r)
        };
        assert!(matches!(&effects(&removal(false)).unwrap().actions[..], [Action::DeleteUserData(_)]));
        assert!(effects(&removal(true)).unwrap().actions.is_empty());
    }

    #[test]
    fn unknown_or_malformed_images_are_poison_naming_the_record() {
        let mut unknown = serde_json::to_value(&sample()[0]).unwrap();
        unknown["dynamodb"]["NewImage"]["entity"] = json!({"S": "mystery"});
        let err = effects(&record(unknown)).unwrap_err();
        assert!(err.to_string().contains("c4ca4238a0b923820dcc509a6f75849b") && err.reason.contains("mystery"), "{err}");

        let mut malformed = serde_json::to_value(&sample()[0]).unwrap();
        malformed["dynamodb"]["NewImage"]["followerId"] = json!({"S": "not-a-ulid"});
        assert!(effects(&record(malformed)).is_err());

        let mut untagged = serde_json::to_value(&sample()[0]).unwrap();
        untagged["dynamodb"]["NewImage"].as_object_mut().unwrap().remove("entity");
        assert!(effects(&record(untagged)).unwrap_err().reason.contains("no entity"));
    }
}
