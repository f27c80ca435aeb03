//! Fan-out over an author's followers that outlasts one invocation.
//!
//! A fan-out walks the author's followers (`USER#<author>` / `FOLLOWER#…`,
//! 100 at a time, strongly consistent) and writes something for each: a
//! publication's feed item and notification, or a pull marker. One
//! stream-processor invocation spends at most its budget
//! ([`crate::feed::Settings::budget`]) on fan-out, shared by every record of
//! its batch, so no record waits behind another's fan-out for longer. Work
//! left over is saved as a job item (`FANOUT#<job>`, [`Job`]) holding the
//! last follower done; the job's own stream record (INSERT, then MODIFY)
//! carries it on in a later invocation, which saves the next position with
//! a condition on the version it read, so a replayed record never forks the
//! job. Everything written derives from the job and the follower, so a
//! crash between writes and the saved position rewrites the same items (at
//! most one budget's worth) and doubles none.

use crate::bulk::{batch_get_read, batch_write, delete_keys};
use crate::conditions::{Item, written};
use crate::feed;
use crate::ids::{NotificationId, PostId, UserId};
use crate::keys::{self, Placement};
use crate::notifications::{About, Kind, NotificationItem};
use crate::{Error, Table, clock, to_item};
use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

pub const JOB_ENTITY: &str = "fanOut";
/// Followers read per Query: 100 edges of about 150 bytes.
const FOLLOWERS_PER_PAGE: i32 = 100;

/// The fan-out time one invocation has left, shared by its records. Each
/// fan-out the invocation meets still moves on by one page, so none is
/// starved by the others in its batch.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    until: Instant,
}

impl Budget {
    pub fn new(budget: Duration) -> Self {
        Self { until: Instant::now() + budget }
    }

    fn spent(&self) -> bool {
        Instant::now() >= self.until
    }
}

/// What a fan-out writes for each follower.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Work {
    /// A small author's publication: a feed item and a notification.
    Publication,
    /// The author became pulled: a pull marker (first the profile's flag).
    Pull,
    /// The author is pushed again: markers expire with the window (first
    /// the flag goes).
    Push,
}

/// A fan-out and how far it got: `FANOUT#<job>` / `FANOUT`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    pub entity: String,
    pub job_id: String,
    pub work: Work,
    pub author_id: UserId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_id: Option<PostId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publication: Option<String>,
    /// The stream record the publication came from (notification ids derive from it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    #[serde(default)]
    pub at_ms: u64,
    /// When pushed markers expire (Push): set as the flag goes, so every
    /// post published while pulled stays for its whole window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub markers_expire_at: Option<i64>,
    /// The last follower done; none yet when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<UserId>,
    pub version: u64,
    /// How many invocations went on with it, and how many followers it has
    /// written for (for logs and the benchmark).
    #[serde(default)]
    pub resumptions: u64,
    #[serde(default)]
    pub followers_done: u64,
}

impl Job {
    /// The fan-out of a publication by a pushed author.
    pub fn publication(author: UserId, post: PostId, publication: &str, event_id: &str, at_ms: u64) -> Self {
        let mut job = Self::new(format!("POST#{post}#{publication}"), Work::Publication, author);
        job.post_id = Some(post);
        job.publication = Some(publication.to_string());
        job.event_id = Some(event_id.to_string());
        job.at_ms = at_ms;
        job
    }

    /// The fan-out that moves an author's followers to pulling (or back).
    /// One id per direction, so a burst of follows starts it once.
    pub fn crossing(author: UserId, work: Work) -> Self {
        Self::new(format!("{work:?}#{author}").to_uppercase(), work, author)
    }

    fn new(job_id: String, work: Work, author: UserId) -> Self {
        Self {
            entity: JOB_ENTITY.into(),
            job_id,
            work,
            author_id: author,
            post_id: None,
            publication: None,
            event_id: None,
            at_ms: 0,
            markers_expire_at: None,
            after: None,
            version: 0,
            resumptions: 0,
            followers_done: 0,
        }
    }

    fn item(&self) -> Result<Item, Error> {
        to_item(self, &Placement::new(keys::fan_out_job(&self.job_id)))
    }
}

/// Starts `job` within the invocation's budget; what is left is saved for
/// a later one (a job already saved by an earlier delivery is left alone).
pub async fn start(table: &Table, mut job: Job, budget: &Budget) -> Result<(), Error> {
    if run(table, &mut job, budget).await? {
        return Ok(());
    }
    schedule(table, job).await
}

/// Saves a new job for its stream record to carry on (crossings start this
/// way: the flag changes before the first follower is read). A job of that
/// id already there is left alone.
pub async fn schedule(table: &Table, job: Job) -> Result<(), Error> {
    let put = table.client().put_item().table_name(table.name()).set_item(Some(job.item()?)).condition_expression("attribute_not_exists(PK)");
    written(put.send().await).map(|_| ())
}

/// Goes on with a job from its stream record, then saves its position (or
/// removes it, done) on condition that nobody else has moved it meanwhile:
/// a stale or replayed record stops there (checked first, and again by the
/// condition, for a replay running at the same moment).
pub async fn resume(table: &Table, mut job: Job, budget: &Budget) -> Result<(), Error> {
    // A record replayed after the job moved on (or finished) does nothing:
    // one consistent read of the version, so no page is redone and a
    // finished crossing never sets its flag again.
    let key = keys::fan_out_job(&job.job_id).to_attributes();
    let current =
        table.client().get_item().table_name(table.name()).set_key(Some(key)).projection_expression("version").consistent_read(true).send().await?;
    let read = AttributeValue::N(job.version.to_string());
    if current.item.as_ref().and_then(|i| i.get("version")) != Some(&read) {
        return Ok(());
    }
    let done = run(table, &mut job, budget).await?;
    if done {
        let delete = table.client().delete_item().table_name(table.name()).set_key(Some(keys::fan_out_job(&job.job_id).to_attributes()));
        written(delete.condition_expression("version = :read").expression_attribute_values(":read", read).send().await)?;
    } else {
        job.version += 1;
        job.resumptions += 1;
        let put = table.client().put_item().table_name(table.name()).set_item(Some(job.item()?));
        written(put.condition_expression("version = :read").expression_attribute_values(":read", read).send().await)?;
    }
    Ok(())
}

/// Writes for followers page after page until the budget is spent (then
/// false) or every follower is done (true).
async fn run(table: &Table, job: &mut Job, budget: &Budget) -> Result<bool, Error> {
    if job.after.is_none() {
        set_flag(table, job).await?;
    }
    let listing = keys::followers(job.author_id);
    let mut first = true;
    loop {
        if !std::mem::take(&mut first) && budget.spent() {
            return Ok(false);
        }
        // A crossing overtaken by one the other way (the count swung back)
        // stops: the later one covers every follower.
        if job.work != Work::Publication && super::feeds::is_pulled(table, job.author_id).await? != (job.work == Work::Pull) {
            return Ok(true);
        }
        let start = job.after.map(|after| keys::follow(job.author_id, after).to_attributes());
        let (edges, ended) = table.read_consistent(&listing, start, FOLLOWERS_PER_PAGE).await?;
        let followers = edges
            .iter()
            .map(|e| e.get("followerId").and_then(|v| v.as_s().ok()).ok_or_else(|| Error::internal("follow edge without followerId")))
            .map(|id| id.and_then(|id| UserId::parse(id)))
            .collect::<Result<Vec<_>, _>>()?;
        let mut writes = Vec::new();
        for follower in &followers {
            writes.extend(writes_for(job, *follower)?);
        }
        batch_write(table, writes).await?;
        if job.work == Work::Pull {
            drop_unfollowed_markers(table, job.author_id, &followers).await?;
        }
        job.followers_done += followers.len() as u64;
        if let Some(last) = followers.last() {
            job.after = Some(*last);
        }
        if ended {
            return Ok(true);
        }
    }
}

/// Pull markers just written for followers who unfollowed meanwhile (their
/// unfollow's own cleanup may have run before the marker landed) are
/// removed: one consistent BatchGetItem of the page's edges. (Public for
/// its test: the race needs two shards processed at once, which the local
/// mapping's one worker never does.)
pub async fn drop_unfollowed_markers(table: &Table, author: UserId, followers: &[UserId]) -> Result<(), Error> {
    let edges = batch_get_read(table, followers.iter().map(|f| keys::follow(author, *f)).collect(), true).await?;
    let still: std::collections::HashSet<String> = edges.iter().filter_map(|e| e.get("followerId")?.as_s().ok().cloned()).collect();
    let gone = followers.iter().filter(|f| !still.contains(&f.to_string())).map(|f| keys::pull_marker(*f, author)).collect();
    delete_keys(table, gone).await
}

/// A crossing's first step, before any follower is read: a follow that
/// comes after it sees the new flag; one before it is among the followers.
async fn set_flag(table: &Table, job: &mut Job) -> Result<(), Error> {
    let update = match job.work {
        Work::Publication => return Ok(()),
        Work::Pull => "SET feedPulled = :true",
        Work::Push => "REMOVE feedPulled",
    };
    if job.work == Work::Push {
        job.markers_expire_at = Some(clock::now().plus_days(feed::WINDOW_DAYS).epoch_seconds());
    }
    let request = table
        .client()
        .update_item()
        .table_name(table.name())
        .set_key(Some(keys::profile(job.author_id).to_attributes()))
        .update_expression(update)
        .condition_expression("attribute_exists(PK)");
    let request = match job.work {
        Work::Pull => request.expression_attribute_values(":true", AttributeValue::Bool(true)),
        _ => request,
    };
    written(request.send().await).map(|_| ()) // not written: the account is gone
}

/// What the job writes for one follower.
fn writes_for(job: &Job, follower: UserId) -> Result<Vec<aws_sdk_dynamodb::types::WriteRequest>, Error> {
    match job.work {
        Work::Publication => {
            let (Some(post), Some(publication), Some(event_id)) = (job.post_id, job.publication.as_deref(), job.event_id.as_deref()) else {
                return Err(Error::internal(format!("publication fan-out {} without its post", job.job_id)));
            };
            let id = NotificationId::derived(job.at_ms, format!("{event_id}/{follower}").as_bytes());
            let about = About { post_id: Some(post), actor_id: Some(job.author_id), comment_id: None };
            let notification = NotificationItem::new(follower, id, Kind::FollowedAuthorPublished, about, clock::now());
            Ok(vec![feed::push(follower, post, job.author_id, publication)?, feed::put_request(notification.to_item()?)?])
        }
        Work::Pull => Ok(vec![feed::pull(follower, job.author_id, None)?]),
        Work::Push => Ok(vec![feed::pull(follower, job.author_id, job.markers_expire_at)?]),
    }
}
