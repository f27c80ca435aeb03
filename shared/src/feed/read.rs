//! Reading the home feed: the caller's pushed items merged with the recent
//! posts of the pulled authors they follow, newest first.
//!
//! Every source is ordered by publication ULID, so one ULID is the whole
//! position: a page takes the newest posts published before it (and inside
//! the window) from every source, merges them, and checks each against its
//! card and follow edge in one BatchGetItem. The cursor holds that ULID,
//! signed with the caller's id, so it is as exact as the sources and as
//! small whatever the number of pulled authors.

use crate::auth::Caller;
use crate::bulk::batch_get;
use crate::conditions::Item;
use crate::ids::{PostId, UserId};
use crate::keys::{self, Key, Listing};
use crate::posts::{ListedPost, PostSummary, Status};
use crate::query::invalid_cursor;
use crate::{Error, Page, PageRequest, Table, clock};
use aws_sdk_dynamodb::types::AttributeValue;
use futures_util::{StreamExt, TryStreamExt};
use std::collections::{BTreeMap, HashMap, HashSet};
use ulid::Ulid;

/// Pulled authors queried at once.
const PULL_CONCURRENCY: usize = 16;
/// Rounds of reading before a page filtered down by deleted posts or
/// unfollowed authors is returned short (with a cursor to go on).
const MAX_ROUNDS: usize = 3;
const POSITION: &str = "before";

/// A post some source offers: its publication, post and author.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Candidate {
    publication: String,
    post: PostId,
    author: UserId,
}

/// One page of the caller's feed. Calls: one Query of the caller's pull
/// markers; then one Query of their pushed items and one per pulled author,
/// side by side (16 at a time); one BatchGetItem of the page's cards and follow
/// edges. More rounds only when entries were dropped (a deleted post, an
/// author unfollowed), at most [`MAX_ROUNDS`].
pub async fn home(table: &Table, caller: &Caller, page: &PageRequest) -> Result<Page<PostSummary>, Error> {
    let name = keys::feed_cursor_name(caller.user_id);
    let before = match &page.cursor {
        Some(cursor) => {
            let position = table.cursors().verify(&name, cursor)?;
            let ulid = position.get(POSITION).and_then(|v| v.as_s().ok()).and_then(|s| Ulid::from_string(s).ok());
            Some(ulid.filter(|_| position.len() == 1).ok_or_else(invalid_cursor)?)
        }
        None => None,
    };
    let now_ms = clock::now().epoch_seconds().max(0) as u64 * 1000;
    let from = super::window_start(now_ms);
    // Newest first from just before the position (ULIDs are fixed-width, so
    // "before" is "at most one less").
    let mut to = match before {
        Some(before) => Ulid(before.0.saturating_sub(1)).to_string(),
        None => Ulid(u128::MAX).to_string(),
    };
    let want = page.limit as usize + 1;
    let pulled = pulled_authors(table, caller.user_id, now_ms).await?;
    let mut sources = vec![Source { listing: keys::feed(caller.user_id), prefix: keys::FEED_PREFIX }];
    sources.extend(pulled.into_iter().map(|author| Source { listing: keys::published_posts(author), prefix: "" }));

    let mut shown: Vec<(String, PostSummary)> = Vec::new();
    let mut resume_at: Option<String> = None;
    for round in 0..MAX_ROUNDS {
        // A position older than the window (a cursor kept for weeks) is the end.
        if to < from {
            break;
        }
        let need = want - shown.len();
        let (candidates, more) = newest(table, &sources, &from, &to, need).await?;
        let Some(last) = candidates.last().map(|c| c.publication.clone()) else { break };
        shown.extend(still_there(table, caller.user_id, candidates).await?);
        if shown.len() >= want || !more {
            break;
        }
        if round + 1 == MAX_ROUNDS {
            resume_at = Some(last);
            break;
        }
        to = Ulid(Ulid::from_string(&last).map_err(Error::internal)?.0 - 1).to_string();
    }
    if shown.len() > page.limit as usize {
        shown.truncate(page.limit as usize);
        resume_at = shown.last().map(|(publication, _)| publication.clone());
    }
    let next_cursor = match resume_at {
        Some(publication) => Some(table.cursors().sign(&name, &HashMap::from([(POSITION.to_string(), AttributeValue::S(publication))]))?),
        None => None,
    };
    Ok(Page { items: shown.into_iter().map(|(_, summary)| summary).collect(), next_cursor })
}

/// The authors whose posts the caller's feed pulls (markers not expired).
async fn pulled_authors(table: &Table, user: UserId, now_ms: u64) -> Result<Vec<UserId>, Error> {
    let markers: Vec<super::PullMarker> = serde_dynamo::from_items(table.query_items(&keys::pull_markers(user), false).await?)?;
    let now = (now_ms / 1000) as i64;
    Ok(markers.into_iter().filter(|m| m.expires_at.is_none_or(|at| at > now)).map(|m| m.author_id).collect())
}

struct Source {
    listing: Listing,
    /// What the sort key holds before the publication ULID.
    prefix: &'static str,
}

/// The `need` newest candidates of all sources between `from` and `to`
/// (a post both pushed and pulled once), and whether any source has more.
async fn newest(table: &Table, sources: &[Source], from: &str, to: &str, need: usize) -> Result<(Vec<Candidate>, bool), Error> {
    let reads: Vec<_> = sources.iter().map(|source| read_source(table, source, from, to, need)).collect();
    let reads = futures_util::stream::iter(reads).buffer_unordered(PULL_CONCURRENCY).try_collect::<Vec<_>>().await?;
    let mut merged: BTreeMap<String, Candidate> = BTreeMap::new();
    let mut more = false;
    for (candidates, ended) in reads {
        more |= !ended;
        merged.extend(candidates.into_iter().map(|c| (c.publication.clone(), c)));
    }
    more |= merged.len() > need;
    Ok((merged.into_values().rev().take(need).collect(), more))
}

/// Up to `need` candidates of one source between `from` and `to`, and
/// whether it has no more.
async fn read_source(table: &Table, source: &Source, from: &str, to: &str, need: usize) -> Result<(Vec<Candidate>, bool), Error> {
    let (from, to) = (format!("{}{from}", source.prefix), format!("{}{to}", source.prefix));
    let (items, ended) = table.read_between(&source.listing, &from, &to, need as i32).await?;
    let candidates = items.iter().map(|item| candidate(source, item)).collect::<Result<Vec<_>, Error>>()?;
    Ok((candidates, ended))
}

fn candidate(source: &Source, item: &Item) -> Result<Candidate, Error> {
    let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).ok_or_else(|| Error::internal(format!("feed source item without {name}")));
    let sort = text(source.listing.sort_attribute())?;
    Ok(Candidate {
        publication: sort.strip_prefix(source.prefix).unwrap_or(sort).to_string(),
        post: PostId::parse(text("postId")?)?,
        author: UserId::parse(text("authorId")?)?,
    })
}

/// The candidates whose post is still published and whose author the user
/// still follows, in order, each with its card's summary: one BatchGetItem
/// of the cards and the follow edges.
async fn still_there(table: &Table, user: UserId, candidates: Vec<Candidate>) -> Result<Vec<(String, PostSummary)>, Error> {
    let authors: HashSet<UserId> = candidates.iter().map(|c| c.author).collect();
    let mut wanted: Vec<Key> = candidates.iter().map(|c| keys::post(c.post)).collect();
    wanted.extend(authors.iter().map(|author| keys::follow(*author, user)));
    let mut cards: HashMap<PostId, PostSummary> = HashMap::new();
    let mut followed: HashSet<String> = HashSet::new();
    for item in batch_get(table, wanted).await? {
        let key = crate::query::key_of(&item)?;
        if key.sk.starts_with(keys::FOLLOWER_PREFIX) {
            followed.insert(key.pk);
        } else {
            let card: ListedPost = serde_dynamo::from_item(item)?;
            cards.insert(card.id(), card.into());
        }
    }
    Ok(candidates
        .into_iter()
        .filter(|c| followed.contains(&keys::user_partition(c.author)))
        .filter_map(|c| cards.remove(&c.post).filter(|card| card.status == Status::Published).map(|card| (c.publication, card)))
        .collect())
}
