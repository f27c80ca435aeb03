//! The stream processor's rules: what each change to the table means for
//! counters, notifications and cascades, applied so that Lambda's
//! at-least-once delivery never counts a change twice or drops one.
//!
//! Two kinds of effect:
//! - *Counter deltas* (`followerCount`, `commentCount`, …), each computed from
//!   the old and new image (e.g. unread = unread(new) − unread(old)), so the
//!   counts always agree with the items. They are applied exactly once
//!   ([`counting`] says how).
//! - *Actions* (notifications, cascades, copies), idempotent by construction:
//!   notification ids derive from the stream record, deletes and copies can
//!   be repeated.
//!
//! - *View totals*: a view counter's new total, copied onto its card
//!   ([`views`]: totals only grow, so a copy is idempotent without markers).
//!
//! One job per module: [`effects`] maps a record to what it means,
//! [`counting`] applies counter deltas exactly once, [`views`] copies view
//! totals, [`actions`] runs the rest: [`fan_out`] walks an author's
//! followers within a time budget, [`feeds`] keeps home feeds. This module walks a batch in order and says where it stopped.

mod actions;
mod counting;
mod effects;
pub mod fan_out;
mod feeds;
mod views;

pub use counting::{MARKER_ENTITY, MARKER_TTL_DAYS};
pub use effects::{Action, Delta, Effects, Poison, effects, is_ttl_removal};
pub use views::ViewTotal;

use crate::Table;
use aws_lambda_events::event::dynamodb::EventRecord;
use counting::Counted;

/// What processing a batch came to.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The index of the first record not fully processed: Lambda retries from it.
    pub failed_at: Option<usize>,
    pub error: Option<String>,
    /// Counter deltas of the batch, folded into one write per counter.
    pub deltas: usize,
    /// Items the batch's fan-outs wrote.
    pub fan_out_items: u64,
}

/// Processes `records` in order: each record's actions, then every counter
/// delta of the records before the first failure, exactly once.
pub async fn process(table: &Table, records: &[EventRecord]) -> Outcome {
    let mut outcome = Outcome::default();
    let mut counted: Vec<Counted> = Vec::new();
    let mut authors = actions::Authors::new();
    let mut view_totals = views::Totals::default();
    // One fan-out budget for the whole batch: no record waits longer behind another's fan-out.
    let budget = fan_out::Budget::new(table.feed_settings().budget);
    for (index, record) in records.iter().enumerate() {
        let effects = match effects(record) {
            Ok(effects) => effects,
            Err(poison) => {
                tracing::error!(event_id = %poison.event_id, keys = %poison.keys, reason = %poison.reason, "poison record");
                outcome.failed_at = Some(index);
                outcome.error = Some(poison.to_string());
                break;
            }
        };
        if let Err(err) = actions::run(table, &effects.actions, &mut authors, &budget).await {
            tracing::error!(event_id = %record.event_id, error = %err, "stream actions failed");
            outcome.failed_at = Some(index);
            outcome.error = Some(err.to_string());
            break;
        }
        if !effects.deltas.is_empty() {
            outcome.deltas += effects.deltas.len();
            counted.push(Counted { record: index, event_id: record.event_id.as_str(), deltas: effects.deltas });
        }
        if let Some(total) = effects.views {
            view_totals.add(index, total);
        }
    }
    let counters = counting::apply(table, &counted).await;
    let views = view_totals.apply(table).await;
    for (index, err) in [counters.err(), views.err()].into_iter().flatten() {
        tracing::error!(record = index, error = %err, "counter updates failed");
        if outcome.failed_at.is_none_or(|f| index < f) {
            outcome.failed_at = Some(index);
            outcome.error = Some(err.to_string());
        }
    }
    outcome.fan_out_items = budget.items_written();
    outcome
}
