//! Notifications: `USER#<id>` / `NOTIF#<id>`, unread ones also in GSI2
//! (`USER#<id>#UNREAD`, sparse), all expiring through TTL after 30 days.

use crate::auth::Caller;
use crate::conditions::{Item, update_condition_failed};
use crate::ids::{CommentId, NotificationId, PostId, UserId};
use crate::{Error, Page, PageRequest, Table, clock, keys};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use serde::{Deserialize, Serialize};

pub const TTL_DAYS: u32 = 30;
pub const ENTITY: &str = "notification";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// To an author, when their post is published.
    PostPublished,
    /// To each follower, when an author they follow publishes.
    FollowedAuthorPublished,
    /// To a post's author, when someone else comments.
    NewComment,
    /// To a user, when someone follows them.
    NewFollower,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationItem {
    pub entity: String,
    pub notification_id: NotificationId,
    pub user_id: UserId,
    #[serde(rename = "type")]
    pub kind: Kind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_id: Option<PostId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_id: Option<UserId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment_id: Option<CommentId>,
    pub read: bool,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_at: Option<String>,
    /// TTL: epoch seconds, 30 days after creation.
    pub expires_at: i64,
}

/// What a notification is about.
#[derive(Clone, Copy, Debug, Default)]
pub struct About {
    pub post_id: Option<PostId>,
    pub actor_id: Option<UserId>,
    pub comment_id: Option<CommentId>,
}

impl NotificationItem {
    /// The item to write; while unread, it is also in the unread index.
    pub fn to_item(&self) -> Result<Item, Error> {
        let placement = match self.read {
            false => keys::unread_notification_placement(self.user_id, self.notification_id),
            true => keys::Placement::new(keys::notification(self.user_id, self.notification_id)),
        };
        crate::to_item(self, &placement)
    }

    /// An unread notification for `user`, with id `id` (callers that may be
    /// retried pass an id derived from what caused it, so a retry rewrites
    /// the same item instead of adding another).
    pub fn new(user: UserId, id: NotificationId, kind: Kind, about: About, now: clock::Now) -> Self {
        Self {
            entity: ENTITY.into(),
            notification_id: id,
            user_id: user,
            kind,
            post_id: about.post_id,
            actor_id: about.actor_id,
            comment_id: about.comment_id,
            read: false,
            created_at: now.rfc3339(),
            read_at: None,
            expires_at: now.plus_days(TTL_DAYS).epoch_seconds(),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NotificationView {
    pub id: NotificationId,
    #[serde(rename = "type")]
    pub kind: Kind,
    pub post_id: Option<PostId>,
    pub actor_id: Option<UserId>,
    pub comment_id: Option<CommentId>,
    pub read: bool,
    pub created_at: String,
    pub read_at: Option<String>,
}

impl From<NotificationItem> for NotificationView {
    fn from(n: NotificationItem) -> Self {
        Self {
            id: n.notification_id,
            kind: n.kind,
            post_id: n.post_id,
            actor_id: n.actor_id,
            comment_id: n.comment_id,
            read: n.read,
            created_at: n.created_at,
            read_at: n.read_at,
        }
    }
}

/// The caller's notifications, newest first; only unread ones from the
/// sparse GSI2 partition when `unread_only`. One Query per page.
pub async fn list(table: &Table, caller: &Caller, unread_only: bool, page: &PageRequest) -> Result<Page<NotificationView>, Error> {
    let listing = if unread_only { keys::unread_notifications(caller.user_id) } else { keys::notifications(caller.user_id) };
    let page: Page<NotificationItem> = table.query_page(&listing, page).await?;
    Ok(page.map(Into::into))
}

/// Marks one of the caller's notifications read (idempotent): one UpdateItem
/// that also takes it out of the unread index.
pub async fn mark_read(table: &Table, caller: &Caller, id: NotificationId) -> Result<NotificationView, Error> {
    let result = table
        .client()
        .update_item()
        .table_name(table.name())
        .set_key(Some(keys::notification(caller.user_id, id).to_attributes()))
        .update_expression(format!("SET #read = :true, readAt = if_not_exists(readAt, :now) REMOVE {}, {}", keys::GSI2.pk, keys::GSI2.sk))
        .condition_expression("attribute_exists(PK)")
        .expression_attribute_names("#read", "read")
        .expression_attribute_values(":true", AttributeValue::Bool(true))
        .expression_attribute_values(":now", AttributeValue::S(clock::now().rfc3339()))
        .return_values(ReturnValue::AllNew)
        .send()
        .await;
    match result {
        Ok(output) => Ok(serde_dynamo::from_item::<_, NotificationItem>(output.attributes.unwrap_or_default())?.into()),
        Err(err) if update_condition_failed(&err).is_some() => Err(Error::not_found("no such notification")),
        Err(err) => Err(err.into()),
    }
}
