//! Exactly-once counters over at-least-once delivery.
//!
//! Each record that changes a counter has an idempotency marker,
//! `APPLIED#<eventID>` (TTL [`MARKER_TTL_DAYS`]), written with
//! `attribute_not_exists` in the same TransactWriteItems as the counter
//! updates. When Lambda delivers a record again, its marker's condition
//! fails: the cancellation reasons say exactly which records were counted
//! before, and those are dropped before the transaction is retried. An
//! update on an item that no longer exists (a deleted post's comment count)
//! is dropped the same way. Within a transaction, all deltas for one item
//! are summed into one `ADD`.

use super::effects::Delta;
use crate::bulk::{MAX_ATTEMPTS, backoff};
use crate::keys::{self, Key, Placement};
use crate::transaction::{self, Refused, Transaction};
use crate::{Error, Table, clock, to_item};
use aws_sdk_dynamodb::types::{AttributeValue, Update};
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};

/// Markers outlive the stream's 24-hour retention, so no replay can miss one.
pub const MARKER_TTL_DAYS: u32 = 2;
pub const MARKER_ENTITY: &str = "streamMarker";

/// The parts of a counting transaction: one marker per record, then one
/// counter update per item counted on.
const MARKER: &str = "marker";
const COUNTER: &str = "counter";

/// One record's counter deltas.
#[derive(Debug)]
pub struct Counted<'a> {
    /// The record's position in its batch (where Lambda retries from).
    pub record: usize,
    pub event_id: &'a str,
    pub deltas: Vec<Delta>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Marker {
    entity: &'static str,
    expires_at: i64,
}

/// Applies the records' deltas in transactions of at most 100 items (one
/// marker per record, one update per counted item), in order. On failure,
/// the batch position of the first record whose deltas were not applied.
pub async fn apply(table: &Table, counted: &[Counted<'_>]) -> Result<(), (usize, Error)> {
    let mut start = 0;
    while start < counted.len() {
        let mut targets = HashSet::new();
        let mut end = start;
        while end < counted.len() {
            let new: HashSet<_> = counted[end].deltas.iter().map(|d| &d.target).filter(|t| !targets.contains(*t)).collect();
            if end > start && (end - start + 1) + targets.len() + new.len() > transaction::MAX_ITEMS {
                break;
            }
            targets.extend(new);
            end += 1;
        }
        apply_chunk(table, &counted[start..end]).await.map_err(|e| (counted[start].record, e))?;
        start = end;
    }
    Ok(())
}

/// Sums the live records' deltas per item and field, leaving out items known
/// to be gone and sums of zero.
fn sums(live: &[&Counted<'_>], gone: &HashSet<Key>) -> BTreeMap<(String, String), BTreeMap<&'static str, i64>> {
    let mut sums: BTreeMap<(String, String), BTreeMap<&'static str, i64>> = BTreeMap::new();
    for counted in live {
        for d in counted.deltas.iter().filter(|d| !gone.contains(&d.target)) {
            *sums.entry((d.target.pk.clone(), d.target.sk.clone())).or_default().entry(d.field).or_default() += d.amount;
        }
    }
    sums.retain(|_, fields| fields.values().any(|v| *v != 0));
    sums
}

fn counter_update(table: &Table, key: &Key, fields: &BTreeMap<&'static str, i64>) -> Result<Update, Error> {
    let mut update = Update::builder().table_name(table.name()).set_key(Some(key.to_attributes())).condition_expression("attribute_exists(PK)");
    let mut adds = Vec::new();
    for (n, (field, amount)) in fields.iter().filter(|(_, a)| **a != 0).enumerate() {
        adds.push(format!("#f{n} :v{n}"));
        update = update
            .expression_attribute_names(format!("#f{n}"), *field)
            .expression_attribute_values(format!(":v{n}"), AttributeValue::N(amount.to_string()));
    }
    update.update_expression(format!("ADD {}", adds.join(", "))).build().map_err(Error::internal)
}

async fn apply_chunk(table: &Table, chunk: &[Counted<'_>]) -> Result<(), Error> {
    let mut live: Vec<&Counted> = chunk.iter().collect();
    let mut gone: HashSet<Key> = HashSet::new();
    for attempt in 0..MAX_ATTEMPTS {
        if live.is_empty() {
            return Ok(());
        }
        let sums = sums(&live, &gone);
        let marker = Marker { entity: MARKER_ENTITY, expires_at: clock::now().plus_days(MARKER_TTL_DAYS).epoch_seconds() };
        let mut transaction = Transaction::new();
        for counted in &live {
            transaction = transaction.put_new(MARKER, table, to_item(&marker, &Placement::new(keys::stream_marker(counted.event_id)))?)?;
        }
        let targets: Vec<Key> = sums.keys().map(|(pk, sk)| Key { pk: pk.clone(), sk: sk.clone() }).collect();
        for (target, fields) in targets.iter().zip(sums.values()) {
            transaction = transaction.update(COUNTER, counter_update(table, target, fields)?);
        }
        let cancelled = match transaction.send(table).await {
            Ok(()) => return Ok(()),
            Err(Refused::Cancelled(cancelled)) => cancelled,
            Err(Refused::Failed(err)) => return Err(err),
        };
        // Markers come in the order of `live`, counters in that of `targets`.
        let (mut marker_index, mut counter_index) = (0, 0);
        let mut counted_before = HashSet::new();
        let mut dropped = false;
        for reason in cancelled.reasons() {
            let failed = reason.failed_condition();
            dropped |= failed;
            match reason.part {
                MARKER => {
                    if failed {
                        counted_before.insert(marker_index); // its marker exists: counted before
                    }
                    marker_index += 1;
                }
                COUNTER => {
                    if failed {
                        gone.insert(targets[counter_index].clone()); // the item was deleted: nothing to count on
                    }
                    counter_index += 1;
                }
                other => unreachable!("a counting transaction has no part {other:?}"),
            }
        }
        live = live.into_iter().enumerate().filter(|(i, _)| !counted_before.contains(i)).map(|(_, r)| r).collect();
        if !dropped && !cancelled.conflicted() {
            return Err(Refused::Cancelled(cancelled).into());
        }
        if cancelled.conflicted() {
            tokio::time::sleep(backoff(attempt)).await;
        }
    }
    Err(Error::internal("counter transaction kept conflicting"))
}
