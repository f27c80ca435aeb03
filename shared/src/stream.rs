//! The stream processor's rules: what each change to the table means for
//! counters, notifications and cascades, applied so that Lambda's
//! at-least-once delivery never counts a change twice or drops one.
//!
//! Two kinds of effect:
//! - *Counter deltas* (`followerCount`, `commentCount`, …), each computed from
//!   the old and new image (e.g. unread = unread(new) − unread(old)), so the
//!   counts always agree with the items. They are applied exactly once: each
//!   record's idempotency marker (`APPLIED#<eventID>`, TTL 2 days) is written
//!   in the same TransactWriteItems as the counter updates, and a replayed
//!   record fails its marker's condition and is dropped. Within a batch, all
//!   deltas for one item become one `ADD`.
//! - *Actions* (notifications, cascades, copies), idempotent by construction:
//!   notification ids derive from the stream record, deletes and copies can
//!   be repeated.

use crate::conditions::{Cancelled, Item};
use crate::ids::{CommentId, NotificationId, PostId, UserId};
use crate::notifications::{About, Kind, NotificationItem};
use crate::users::Plan;
use crate::{Error, Table, clock, keys, to_item};
use aws_lambda_events::event::dynamodb::EventRecord;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, Put, PutRequest, TransactWriteItem, Update, WriteRequest};
use serde::de::DeserializeOwned;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

/// Markers outlive the stream's 24-hour retention, so no replay can miss one.
pub const MARKER_TTL_DAYS: u32 = 2;
const TRANSACTION_MAX_ITEMS: usize = 100;
const BATCH_WRITE_MAX_ITEMS: usize = 25;
const MAX_ATTEMPTS: u32 = 8;

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
    /// Tell every follower of `author` about a published post.
    FanOut { author: UserId, post: PostId, event_id: String, at_ms: u64 },
    /// A deleted account: its keys, notifications, follow edges both ways and posts.
    DeleteUserData(UserId),
    /// A deleted post: its comments.
    DeleteComments(PostId),
    /// A renamed user: the name copied onto their posts.
    RenameAuthor { author: UserId, name: String },
    /// A plan change: the plan recorded on the user's keys.
    SyncPlan { user: UserId, plan: Plan },
}

#[derive(Debug, Default)]
pub struct Effects {
    pub deltas: Vec<Delta>,
    pub actions: Vec<Action>,
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
            "emailGuard" | MARKER_ENTITY => Effects::default(),
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
    if delta > 0 && old.is_some() {
        let event_id = record.event_id.clone();
        effects.actions.push(Action::FanOut { author: post.author_id, post: post.post_id, event_id, at_ms: at_ms(record) });
    }
    if new.is_none() {
        effects.actions.push(Action::DeleteComments(post.post_id));
    }
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
    if amount > 0 {
        let id = NotificationId::derived(at_ms(record), format!("{}/new_follower", record.event_id).as_bytes());
        let about = About { actor_id: Some(edge.follower_id), ..About::default() };
        effects.actions.push(Action::Notify(Box::new(NotificationItem::new(edge.followee_id, id, Kind::NewFollower, about, clock::now()))));
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

pub const MARKER_ENTITY: &str = "streamMarker";

/// What processing a batch came to.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The index of the first record not fully processed: Lambda retries from it.
    pub failed_at: Option<usize>,
    pub error: Option<String>,
}

/// Processes `records` in order: each record's actions, then every counter
/// delta of the records before the first failure, exactly once.
pub async fn process(table: &Table, records: &[EventRecord]) -> Outcome {
    let mut outcome = Outcome::default();
    let mut counted: Vec<(usize, &str, Vec<Delta>)> = Vec::new();
    // Post authors looked up in this batch: a hundred comments on one post
    // cost one GetItem, not a hundred. (Authors never change.)
    let mut authors = HashMap::new();
    for (index, record) in records.iter().enumerate() {
        let effects = match effects(record) {
            Ok(effects) => effects,
            Err(poison) => {
                tracing::error!(event_id = %poison.event_id, keys = %poison.keys, reason = %poison.reason, "poison record");
                outcome = Outcome { failed_at: Some(index), error: Some(poison.to_string()) };
                break;
            }
        };
        if let Err(err) = run_actions(table, &effects.actions, &mut authors).await {
            tracing::error!(event_id = %record.event_id, error = %err, "stream actions failed");
            outcome = Outcome { failed_at: Some(index), error: Some(err.to_string()) };
            break;
        }
        if !effects.deltas.is_empty() {
            counted.push((index, record.event_id.as_str(), effects.deltas));
        }
    }
    if let Err((index, err)) = apply_deltas(table, &counted).await {
        tracing::error!(record = index, error = %err, "counter updates failed");
        if outcome.failed_at.is_none_or(|f| index < f) {
            outcome = Outcome { failed_at: Some(index), error: Some(err.to_string()) };
        }
    }
    outcome
}

/// Applies the records' deltas in transactions of at most 100 items
/// (one marker per record, one update per counted item), in order.
/// On failure, the index of the first record whose deltas were not applied.
async fn apply_deltas(table: &Table, counted: &[(usize, &str, Vec<Delta>)]) -> Result<(), (usize, Error)> {
    let mut start = 0;
    while start < counted.len() {
        let mut targets = HashSet::new();
        let mut end = start;
        while end < counted.len() {
            let new: HashSet<_> = counted[end].2.iter().map(|d| &d.target).filter(|t| !targets.contains(*t)).collect();
            if end > start && (end - start + 1) + targets.len() + new.len() > TRANSACTION_MAX_ITEMS {
                break;
            }
            targets.extend(new);
            end += 1;
        }
        apply_chunk(table, &counted[start..end]).await.map_err(|e| (counted[start].0, e))?;
        start = end;
    }
    Ok(())
}

async fn apply_chunk(table: &Table, chunk: &[(usize, &str, Vec<Delta>)]) -> Result<(), Error> {
    let mut live: Vec<&(usize, &str, Vec<Delta>)> = chunk.iter().collect();
    let mut gone: HashSet<keys::Key> = HashSet::new();
    for attempt in 0..MAX_ATTEMPTS {
        // Sum per item and field; one update per item.
        let mut sums: BTreeMap<(String, String), BTreeMap<&'static str, i64>> = BTreeMap::new();
        for (_, _, deltas) in &live {
            for d in deltas.iter().filter(|d| !gone.contains(&d.target)) {
                *sums.entry((d.target.pk.clone(), d.target.sk.clone())).or_default().entry(d.field).or_default() += d.amount;
            }
        }
        sums.retain(|_, fields| fields.values().any(|v| *v != 0));
        if live.is_empty() {
            return Ok(());
        }
        let marker_expiry = clock::now().plus_days(MARKER_TTL_DAYS).epoch_seconds();
        let mut request = table.client().transact_write_items();
        for (_, event_id, _) in &live {
            let key = keys::stream_marker(event_id);
            let mut item = key.to_attributes();
            item.insert("entity".into(), AttributeValue::S(MARKER_ENTITY.into()));
            item.insert(keys::EXPIRES_AT.into(), AttributeValue::N(marker_expiry.to_string()));
            let put = Put::builder()
                .table_name(table.name())
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(PK)")
                .build()
                .map_err(Error::internal)?;
            request = request.transact_items(TransactWriteItem::builder().put(put).build());
        }
        let targets: Vec<keys::Key> = sums.keys().map(|(pk, sk)| keys::Key { pk: pk.clone(), sk: sk.clone() }).collect();
        for ((pk, sk), fields) in &sums {
            let mut update = Update::builder()
                .table_name(table.name())
                .set_key(Some(keys::Key { pk: pk.clone(), sk: sk.clone() }.to_attributes()))
                .condition_expression("attribute_exists(PK)");
            let mut adds = Vec::new();
            for (n, (field, amount)) in fields.iter().filter(|(_, a)| **a != 0).enumerate() {
                adds.push(format!("#f{n} :v{n}"));
                update = update
                    .expression_attribute_names(format!("#f{n}"), *field)
                    .expression_attribute_values(format!(":v{n}"), AttributeValue::N(amount.to_string()));
            }
            let update = update.update_expression(format!("ADD {}", adds.join(", "))).build().map_err(Error::internal)?;
            request = request.transact_items(TransactWriteItem::builder().update(update).build());
        }
        let err = match request.send().await {
            Ok(_) => return Ok(()),
            Err(err) => err,
        };
        let Some(cancelled) = Cancelled::of(&err) else {
            return Err(err.into());
        };
        let mut dropped = false;
        let mut applied = HashSet::new();
        for (index, reason) in cancelled.0.iter().enumerate() {
            if reason.code != "ConditionalCheckFailed" {
                continue;
            }
            dropped = true;
            if index < live.len() {
                applied.insert(index); // its marker exists: counted before
            } else if let Some(target) = targets.get(index - live.len()) {
                gone.insert(target.clone()); // the item was deleted: nothing to count on
            }
        }
        live = live.into_iter().enumerate().filter(|(i, _)| !applied.contains(i)).map(|(_, r)| r).collect();
        if !dropped && !cancelled.conflicted() {
            return Err(err.into());
        }
        if cancelled.conflicted() {
            tokio::time::sleep(backoff(attempt)).await;
        }
    }
    Err(Error::internal("counter transaction kept conflicting"))
}

fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(10 * 2u64.pow(attempt.min(6)))
}

async fn run_actions(table: &Table, actions: &[Action], authors: &mut HashMap<PostId, Option<UserId>>) -> Result<(), Error> {
    for action in actions {
        match action {
            Action::Notify(item) => put_once(table, item).await?,
            Action::NotifyPostAuthor { post, commenter, comment, id } => {
                let author = match authors.get(post) {
                    Some(author) => *author,
                    None => {
                        let output = table
                            .client()
                            .get_item()
                            .table_name(table.name())
                            .set_key(Some(keys::post(*post).to_attributes()))
                            .projection_expression("authorId")
                            .send()
                            .await?;
                        let author =
                            output.item.as_ref().and_then(|i| i.get("authorId")).and_then(|a| a.as_s().ok()).and_then(|a| UserId::parse(a).ok());
                        authors.insert(*post, author);
                        author
                    }
                };
                if let Some(author) = author.filter(|a| a != commenter) {
                    let about = About { post_id: Some(*post), actor_id: Some(*commenter), comment_id: Some(*comment) };
                    put_once(table, &NotificationItem::new(author, *id, Kind::NewComment, about, clock::now())).await?;
                }
            }
            Action::FanOut { author, post, event_id, at_ms } => fan_out(table, *author, *post, event_id, *at_ms).await?,
            Action::DeleteUserData(user) => delete_user_data(table, *user).await?,
            Action::DeleteComments(post) => {
                let query = table
                    .client()
                    .query()
                    .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
                    .expression_attribute_values(":pk", AttributeValue::S(keys::post_partition(*post)))
                    .expression_attribute_values(":prefix", AttributeValue::S(keys::COMMENT_PREFIX.into()));
                delete_all(table, query).await?;
            }
            Action::RenameAuthor { author, name } => {
                for key in posts_of(table, *author).await? {
                    set_if_exists(table, key, "authorName", AttributeValue::S(name.clone())).await?;
                }
            }
            Action::SyncPlan { user, plan } => {
                let query = table
                    .client()
                    .query()
                    .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
                    .expression_attribute_values(":pk", AttributeValue::S(keys::user_partition(*user)))
                    .expression_attribute_values(":prefix", AttributeValue::S(keys::API_KEY_PREFIX.into()));
                for item in query_all(table, query.projection_expression("PK, SK")).await? {
                    set_if_exists(table, key_of(&item)?, "plan", AttributeValue::S(plan.as_str().into())).await?;
                }
            }
        }
    }
    Ok(())
}

/// A PutItem that leaves an existing item alone (a replay must not mark a
/// read notification unread again).
async fn put_once(table: &Table, item: &NotificationItem) -> Result<(), Error> {
    let result = table
        .client()
        .put_item()
        .table_name(table.name())
        .set_item(Some(to_item(item)?))
        .condition_expression("attribute_not_exists(PK)")
        .send()
        .await;
    match result {
        Err(err) if err.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => Ok(()),
        other => other.map(|_| ()).map_err(Into::into),
    }
}

async fn set_if_exists(table: &Table, key: keys::Key, field: &str, value: AttributeValue) -> Result<(), Error> {
    let result = table
        .client()
        .update_item()
        .table_name(table.name())
        .set_key(Some(key.to_attributes()))
        .update_expression("SET #f = :v")
        .condition_expression("attribute_exists(PK)")
        .expression_attribute_names("#f", field)
        .expression_attribute_values(":v", value)
        .send()
        .await;
    match result {
        Err(err) if crate::conditions::update_condition_failed(&err).is_some() => Ok(()),
        other => other.map(|_| ()).map_err(Into::into),
    }
}

/// Every item a Query returns, page after page.
async fn query_all(table: &Table, query: QueryFluentBuilder) -> Result<Vec<Item>, Error> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let output = query.clone().table_name(table.name()).set_exclusive_start_key(start).send().await?;
        items.extend(output.items.unwrap_or_default());
        match output.last_evaluated_key {
            Some(key) => start = Some(key),
            None => return Ok(items),
        }
    }
}

fn key_of(item: &Item) -> Result<keys::Key, Error> {
    let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned().ok_or_else(|| Error::internal(format!("item without {name}")));
    Ok(keys::Key { pk: text(keys::PK)?, sk: text(keys::SK)? })
}

/// The keys of every post (draft or published) by `author`.
async fn posts_of(table: &Table, author: UserId) -> Result<Vec<keys::Key>, Error> {
    let mut found = Vec::new();
    for (index, partition) in [(keys::GSI1, keys::published_posts_partition(author)), (keys::GSI2, keys::drafts_partition(author))] {
        let pk_attribute = if index == keys::GSI1 { keys::GSI1PK } else { keys::GSI2PK };
        let query = table
            .client()
            .query()
            .index_name(index)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", pk_attribute)
            .expression_attribute_values(":pk", AttributeValue::S(partition))
            .projection_expression("PK, SK");
        for item in query_all(table, query).await? {
            found.push(key_of(&item)?);
        }
    }
    Ok(found)
}

/// Deletes every item the query finds (by its `PK`/`SK`).
async fn delete_all(table: &Table, query: QueryFluentBuilder) -> Result<(), Error> {
    let items = query_all(table, query.projection_expression("PK, SK")).await?;
    let keys = items.iter().map(key_of).collect::<Result<Vec<_>, _>>()?;
    delete_keys(table, keys).await
}

async fn delete_keys(table: &Table, keys: Vec<keys::Key>) -> Result<(), Error> {
    let requests = keys
        .into_iter()
        .map(|k| DeleteRequest::builder().set_key(Some(k.to_attributes())).build().map(|d| WriteRequest::builder().delete_request(d).build()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(Error::internal)?;
    batch_write(table, requests).await
}

/// BatchWriteItem, 25 requests at a time, retrying unprocessed ones with
/// exponential backoff.
async fn batch_write(table: &Table, requests: Vec<WriteRequest>) -> Result<(), Error> {
    for chunk in requests.chunks(BATCH_WRITE_MAX_ITEMS) {
        let mut pending = chunk.to_vec();
        for attempt in 0.. {
            let output = table.client().batch_write_item().request_items(table.name(), pending).send().await?;
            pending = output.unprocessed_items.and_then(|mut u| u.remove(table.name())).unwrap_or_default();
            if pending.is_empty() {
                break;
            }
            if attempt >= MAX_ATTEMPTS {
                return Err(Error::internal(format!("{} writes still unprocessed after {MAX_ATTEMPTS} retries", pending.len())));
            }
            tokio::time::sleep(backoff(attempt)).await;
        }
    }
    Ok(())
}

/// Notifies each follower of `author` about `post`, 25 notifications per
/// BatchWriteItem. Ids derive from the stream record and the follower, so a
/// replay rewrites the same items.
async fn fan_out(table: &Table, author: UserId, post: PostId, event_id: &str, at_ms: u64) -> Result<(), Error> {
    let query = table
        .client()
        .query()
        .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
        .expression_attribute_values(":pk", AttributeValue::S(keys::user_partition(author)))
        .expression_attribute_values(":prefix", AttributeValue::S(keys::FOLLOWER_PREFIX.into()))
        .projection_expression("followerId");
    let now = clock::now();
    let mut requests = Vec::new();
    for item in query_all(table, query).await? {
        let Some(follower) = item.get("followerId").and_then(|v| v.as_s().ok()).and_then(|f| UserId::parse(f).ok()) else {
            continue;
        };
        let id = NotificationId::derived(at_ms, format!("{event_id}/{follower}").as_bytes());
        let about = About { post_id: Some(post), actor_id: Some(author), comment_id: None };
        let notification = NotificationItem::new(follower, id, Kind::FollowedAuthorPublished, about, now);
        let put = PutRequest::builder().set_item(Some(to_item(&notification)?)).build().map_err(Error::internal)?;
        requests.push(WriteRequest::builder().put_request(put).build());
    }
    batch_write(table, requests).await
}

/// Removes what belonged to a deleted account. Deleting its posts and
/// follow edges produces stream records of their own, which cascade to
/// comments and correct the other users' counts.
async fn delete_user_data(table: &Table, user: UserId) -> Result<(), Error> {
    let own_partition =
        table.client().query().key_condition_expression("PK = :pk").expression_attribute_values(":pk", AttributeValue::S(keys::user_partition(user)));
    delete_all(table, own_partition).await?;
    let following = table
        .client()
        .query()
        .index_name(keys::GSI1)
        .key_condition_expression("GSI1PK = :pk")
        .expression_attribute_values(":pk", AttributeValue::S(keys::following_partition(user)));
    delete_all(table, following).await?;
    delete_keys(table, posts_of(table, user).await?).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lambda_events::event::dynamodb::Event;
    use serde_json::json;

    /// The sample event in events/: a follow, a publication, a TTL expiry.
    fn sample() -> Vec<EventRecord> {
        let event: Event = serde_json::from_str(include_str!("../../events/stream-processor.json")).unwrap();
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
        assert!(matches!(&effects.actions[..], [Action::Notify(n)] if n.kind == Kind::NewFollower));
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
