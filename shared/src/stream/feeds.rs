//! What follows and follower counts do to home feeds (the rules are the
//! README's "Home feed"): a follow brings the followee's posts of the
//! window in, an unfollow takes them out, and an author whose follower
//! count crosses the push limit is moved between pushed and pulled by a
//! fan-out over their followers.

use super::fan_out::{self, Job, Work};
use crate::bulk::{batch_write, delete_keys};
use crate::feed;
use crate::ids::{PostId, UserId};
use crate::keys;
use crate::{Error, Table, clock};

/// Most posts one follow brings into a feed (an author's posts of the window).
const BACKFILL_MAX: i32 = 1_000;

/// Whether `author`'s posts are pulled into feeds rather than pushed.
pub async fn is_pulled(table: &Table, author: UserId) -> Result<bool, Error> {
    Ok(profile_state(table, author).await?.1)
}

/// `author`'s follower count and whether they are pulled: one strongly
/// consistent GetItem of the profile (a gone account: 0, not pulled).
pub async fn profile_state(table: &Table, author: UserId) -> Result<(u64, bool), Error> {
    let output = table
        .client()
        .get_item()
        .table_name(table.name())
        .set_key(Some(keys::profile(author).to_attributes()))
        .projection_expression("feedPulled, followerCount")
        .consistent_read(true)
        .send()
        .await?;
    let item = output.item.unwrap_or_default();
    let pulled = item.get("feedPulled").and_then(|v| v.as_bool().ok()).copied().unwrap_or(false);
    let followers = item.get("followerCount").and_then(|v| v.as_n().ok()).and_then(|n| n.parse::<i64>().ok()).unwrap_or(0).max(0) as u64;
    Ok((followers, pulled))
}

/// A new follow: a pull marker for a pulled author, else the author's posts
/// of the window pushed into the follower's feed.
pub async fn followed(table: &Table, follower: UserId, followee: UserId) -> Result<(), Error> {
    if is_pulled(table, followee).await? {
        return batch_write(table, vec![feed::pull(follower, followee, None)?]).await;
    }
    let posts = recent_posts(table, followee).await?;
    let pushes = posts.iter().map(|(post, publication)| feed::push(follower, *post, followee, publication)).collect::<Result<_, _>>()?;
    batch_write(table, pushes).await
}

/// A follow removed: the marker and the followee's pushed posts go.
pub async fn unfollowed(table: &Table, follower: UserId, followee: UserId) -> Result<(), Error> {
    let mut gone = vec![keys::pull_marker(follower, followee)];
    gone.extend(recent_posts(table, followee).await?.iter().map(|(_, publication)| keys::feed_item(follower, publication)));
    delete_keys(table, gone).await
}

/// An author's follower count moved to `followers`: if that crosses the
/// push limit, a fan-out moves their followers' feeds over (it sets or
/// clears the profile's flag first).
pub async fn followers_changed(table: &Table, author: UserId, followers: u64, pulled: bool) -> Result<(), Error> {
    let settings = table.feed_settings();
    match (pulled, settings.pulls(followers, pulled)) {
        (false, true) => fan_out::schedule(table, Job::crossing(author, Work::Pull)).await,
        (true, false) => fan_out::schedule(table, Job::crossing(author, Work::Push)).await,
        _ => Ok(()),
    }
}

/// `author`'s published posts of the window, newest first, as (post, publication).
async fn recent_posts(table: &Table, author: UserId) -> Result<Vec<(PostId, String)>, Error> {
    let from = feed::window_start(clock::now().epoch_seconds().max(0) as u64 * 1000);
    let to = ulid::Ulid(u128::MAX).to_string();
    let (cards, _) = table.read_between(&keys::published_posts(author), &from, &to, BACKFILL_MAX).await?;
    let text = |card: &crate::conditions::Item, name: &str| card.get(name).and_then(|v| v.as_s().ok()).cloned();
    cards
        .iter()
        .map(|card| match (text(card, "postId"), text(card, keys::GSI1.sk)) {
            (Some(post), Some(publication)) => Ok((PostId::parse(&post)?, publication)),
            _ => Err(Error::internal("a published card without postId or publication")),
        })
        .collect()
}
