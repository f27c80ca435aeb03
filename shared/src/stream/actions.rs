//! The work that follows a change (notifications, cascades, copies). Each
//! action can be repeated: notification ids derive from the stream record,
//! deletes and copies land on the same items again.

use super::effects::Action;
use super::fan_out::{self, Budget, Job};
use super::feeds;
use crate::bulk::{delete_keys, set_if_exists};
use crate::ids::{PostId, UserId};
use crate::keys::{self, Key};
use crate::notifications::{About, Kind, NotificationItem};
use crate::{Error, Table, clock};
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

/// Post authors already looked up in this batch: a hundred comments on one
/// post cost one GetItem, not a hundred. (Authors never change.)
pub type Authors = HashMap<PostId, Option<UserId>>;

/// Runs one record's actions, in order.
pub async fn run(table: &Table, actions: &[Action], authors: &mut Authors, budget: &Budget) -> Result<(), Error> {
    for action in actions {
        match action {
            Action::Notify(item) => put_once(table, item).await?,
            Action::NotifyPostAuthor { post, commenter, comment, id } => {
                if let Some(author) = post_author(table, *post, authors).await?.filter(|a| a != commenter) {
                    let about = About { post_id: Some(*post), actor_id: Some(*commenter), comment_id: Some(*comment) };
                    put_once(table, &NotificationItem::new(author, *id, Kind::NewComment, about, clock::now())).await?;
                }
            }
            Action::FanOut { author, post, publication, event_id, at_ms } => {
                // A pulled author's posts reach feeds when they are read, and notify nobody.
                if !feeds::is_pulled(table, *author).await? {
                    fan_out::start(table, Job::publication(*author, *post, publication, event_id, *at_ms), budget).await?
                }
            }
            Action::ResumeFanOut(job) => fan_out::resume(table, (**job).clone(), budget).await?,
            Action::Followed { follower, followee } => feeds::followed(table, *follower, *followee).await?,
            Action::Unfollowed { follower, followee } => feeds::unfollowed(table, *follower, *followee).await?,
            Action::FollowersChanged { author, followers, pulled } => feeds::followers_changed(table, *author, *followers, *pulled).await?,
            Action::DeleteUserData(user) => delete_user_data(table, *user).await?,
            Action::DeletePost { post, tags, publication } => {
                let mut gone = table.query_keys(&keys::post_items(*post)).await?;
                gone.extend((0..keys::VIEW_SHARDS).map(|shard| keys::post_views(*post, shard)));
                for likers in keys::post_likers(*post) {
                    gone.extend(table.query_keys(&likers).await?);
                }
                if let Some(publication) = publication {
                    gone.extend(tags.iter().map(|tag| keys::post_tag(tag, *post, publication)));
                }
                delete_keys(table, gone).await?
            }
            Action::RenameAuthor { author, name } => {
                for key in posts_of(table, *author).await? {
                    set_if_exists(table, key, "authorName", AttributeValue::S(name.clone())).await?;
                }
            }
            Action::SyncPlan { user, plan } => {
                for key in table.query_keys(&keys::api_keys(*user)).await? {
                    set_if_exists(table, key, "plan", AttributeValue::S(plan.as_str().into())).await?;
                }
            }
        }
    }
    Ok(())
}

/// The author of `post` (None once it is gone): one GetItem per post per batch.
async fn post_author(table: &Table, post: PostId, authors: &mut Authors) -> Result<Option<UserId>, Error> {
    if let Some(author) = authors.get(&post) {
        return Ok(*author);
    }
    let output = table
        .client()
        .get_item()
        .table_name(table.name())
        .set_key(Some(keys::post(post).to_attributes()))
        .projection_expression("authorId")
        .send()
        .await?;
    let author = output.item.as_ref().and_then(|i| i.get("authorId")).and_then(|a| a.as_s().ok()).and_then(|a| UserId::parse(a).ok());
    authors.insert(post, author);
    Ok(author)
}

/// A PutItem that leaves an existing item alone (a replay must not mark a
/// read notification unread again).
async fn put_once(table: &Table, item: &NotificationItem) -> Result<(), Error> {
    let result = table
        .client()
        .put_item()
        .table_name(table.name())
        .set_item(Some(item.to_item()?))
        .condition_expression("attribute_not_exists(PK)")
        .send()
        .await;
    match result {
        Err(err) if err.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => Ok(()),
        other => other.map(|_| ()).map_err(Into::into),
    }
}

/// The keys of every post (draft or published) by `author`.
async fn posts_of(table: &Table, author: UserId) -> Result<Vec<Key>, Error> {
    let mut found = table.query_keys(&keys::published_posts(author)).await?;
    found.extend(table.query_keys(&keys::drafts(author)).await?);
    Ok(found)
}

/// Removes what belonged to a deleted account. Deleting its posts and
/// follow edges produces stream records of their own, which cascade to
/// comments and correct the other users' counts.
async fn delete_user_data(table: &Table, user: UserId) -> Result<(), Error> {
    delete_keys(table, table.query_keys(&keys::user_items(user)).await?).await?;
    delete_keys(table, table.query_keys(&keys::following(user)).await?).await?;
    delete_keys(table, posts_of(table, user).await?).await
}
