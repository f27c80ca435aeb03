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
/// How long a finished job is kept: past the stream's 24-hour retention, so
/// no record of its start can still be delivered.
const DONE_KEPT_DAYS: u32 = 2;
/// A job not saved for this long has lost its stream record (the mapping's
/// `MaximumRecordAgeInSeconds`) and may be replaced by a new one.
const STALE_SECONDS: i64 = 3_600;
/// Followers read per Query: 100 edges of about 150 bytes.
const FOLLOWERS_PER_PAGE: i32 = 100;

/// The fan-out time one invocation has left, shared by its records. Each
/// fan-out the invocation meets still moves on by one page, so none is
/// starved by the others in its batch.
#[derive(Debug)]
pub struct Budget {
    until: Instant,
    /// Items the batch's fan-outs wrote (feed items, notifications, markers).
    written: std::sync::atomic::AtomicU64,
}

impl Budget {
    pub fn new(budget: Duration) -> Self {
        Self { until: Instant::now() + budget, written: Default::default() }
    }

    /// Items the fan-outs under this budget have written so far.
    pub fn items_written(&self) -> u64 {
        self.written.load(std::sync::atomic::Ordering::Relaxed)
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
    /// Unique per saving, so a record of an earlier job of the same id
    /// never matches.
    pub version: u64,
    /// When it was last saved (epoch seconds): a job not saved for an hour
    /// has lost its record (past the mapping's record age) and may be
    /// replaced.
    #[serde(default)]
    pub saved_at: i64,
    /// Done: kept (TTL two days, beyond the stream's retention) so that a
    /// replayed publication record does not fan out again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub done: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
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
        let mut job = Self::new(keys::publication_job(post, publication), Work::Publication, author);
        job.post_id = Some(post);
        job.publication = Some(publication.to_string());
        job.event_id = Some(event_id.to_string());
        job.at_ms = at_ms;
        job
    }

    /// The fan-out that moves an author's followers to pulling (or back).
    /// One id per direction, so a burst of follows starts it once.
    pub fn crossing(author: UserId, work: Work) -> Self {
        Self::new(keys::crossing_job(work == Work::Pull, author), work, author)
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
            version: clock::now_ms(),
            saved_at: 0,
            done: false,
            expires_at: None,
            resumptions: 0,
            followers_done: 0,
        }
    }

    fn item(&mut self) -> Result<Item, Error> {
        self.saved_at = clock::now().epoch_seconds();
        to_item(self, &Placement::new(keys::fan_out_job(&self.job_id)))
    }

    /// The job as kept once done.
    fn finished(mut self) -> Self {
        self.done = true;
        self.expires_at = Some(clock::now().plus_days(DONE_KEPT_DAYS).epoch_seconds());
        self
    }
}

/// Starts `job` within the invocation's budget; what is left is saved for
/// a later one. A job of that id already saved or done (a replayed
/// publication record) is left alone: one consistent GetItem.
pub async fn start(table: &Table, mut job: Job, budget: &Budget) -> Result<(), Error> {
    if saved_version(table, &job.job_id).await?.is_some() {
        return Ok(());
    }
    if run(table, &mut job, budget).await? {
        let mut done = job.finished();
        let put = table.client().put_item().table_name(table.name()).set_item(Some(done.item()?));
        return put.send().await.map(|_| ()).map_err(Into::into);
    }
    schedule(table, job).await
}

/// Saves a new job for its stream record to carry on (crossings start this
/// way). A job of that id under way is left alone; one done, or stale
/// (its record lost), is replaced.
pub async fn schedule(table: &Table, mut job: Job) -> Result<(), Error> {
    let put = table
        .client()
        .put_item()
        .table_name(table.name())
        .set_item(Some(job.item()?))
        .condition_expression("attribute_not_exists(PK) OR done = :true OR savedAt < :stale")
        .expression_attribute_values(":true", AttributeValue::Bool(true))
        .expression_attribute_values(":stale", AttributeValue::N((clock::now().epoch_seconds() - STALE_SECONDS).to_string()));
    written(put.send().await).map(|_| ())
}

/// Goes on with a job from its stream record, then saves its position (or
/// marks it done) on condition that nobody else has moved it meanwhile: a
/// stale or replayed record stops there (checked first, and again by the
/// condition, for a replay running at the same moment).
pub async fn resume(table: &Table, job: Job, budget: &Budget) -> Result<(), Error> {
    if job.done {
        return Ok(());
    }
    // A record replayed after the job moved on (or finished) does nothing:
    // one consistent read of the version, so no page is redone and a
    // finished crossing never sets its flag again.
    let read = AttributeValue::N(job.version.to_string());
    if saved_version(table, &job.job_id).await? != Some(read.clone()) {
        return Ok(());
    }
    let mut job = job;
    let done = run(table, &mut job, budget).await?;
    let mut next = if done { job.finished() } else { job };
    next.version = clock::now_ms().max(next.version + 1);
    next.resumptions += u64::from(!next.done);
    let put = table.client().put_item().table_name(table.name()).set_item(Some(next.item()?));
    written(put.condition_expression("version = :read").expression_attribute_values(":read", read).send().await)?;
    Ok(())
}

/// The version of the job saved under `job_id`, if any: one consistent GetItem.
async fn saved_version(table: &Table, job_id: &str) -> Result<Option<AttributeValue>, Error> {
    let key = keys::fan_out_job(job_id).to_attributes();
    let saved = table.client().get_item().table_name(table.name()).set_key(Some(key)).projection_expression("version").consistent_read(true);
    Ok(saved.send().await?.item.and_then(|mut item| item.remove("version")))
}

/// Writes for followers page after page until the budget is spent (then
/// false) or every follower is done (true).
async fn run(table: &Table, job: &mut Job, budget: &Budget) -> Result<bool, Error> {
    if job.after.is_none() {
        if job.work != Work::Publication && !wanted(table, job).await? {
            return Ok(true);
        }
        set_flag(table, job).await?;
    }
    let listing = keys::followers(job.author_id);
    let mut first = true;
    loop {
        if !std::mem::take(&mut first) && budget.spent() {
            return Ok(false);
        }
        // A crossing overtaken by one the other way (the count swung back)
        // stops, as the later one covers every follower; unless the count
        // has swung again, when it starts over.
        if job.work != Work::Publication && super::feeds::is_pulled(table, job.author_id).await? != (job.work == Work::Pull) {
            if !wanted(table, job).await? {
                return Ok(true);
            }
            job.after = None;
            set_flag(table, job).await?;
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
        let count = writes.len() as u64;
        batch_write(table, writes).await?;
        budget.written.fetch_add(count, std::sync::atomic::Ordering::Relaxed);
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

/// Whether a crossing's direction is what the author's follower count asks
/// for now (given the flag as it is: the limit's hysteresis).
async fn wanted(table: &Table, job: &Job) -> Result<bool, Error> {
    let (followers, pulled) = super::feeds::profile_state(table, job.author_id).await?;
    Ok(table.feed_settings().pulls(followers, pulled) == (job.work == Work::Pull))
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
            // Dated by the publication's record, so a rewrite is the same item (no stream record).
            let notification = NotificationItem::new(follower, id, Kind::FollowedAuthorPublished, about, clock::from_epoch_ms(job.at_ms));
            Ok(vec![feed::push(follower, post, job.author_id, publication)?, feed::put_request(notification.to_item()?)?])
        }
        Work::Pull => Ok(vec![feed::pull(follower, job.author_id, None)?]),
        Work::Push => Ok(vec![feed::pull(follower, job.author_id, job.markers_expire_at)?]),
    }
}
