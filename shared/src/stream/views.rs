//! View counts: each view counter's total copied onto its post's card.
//!
//! A view adds 1 to one of the post's counters ([`crate::posts::count_view`]);
//! the counter's stream record carries its new total. The card keeps the
//! latest total of each counter (`views.<shard>`), and readers add them up.
//! A total only ever grows, so the copy is a conditional `SET` that applies
//! only if it is higher than what the card has: a record delivered again, or
//! late, changes nothing. No markers are needed, and a batch makes at most
//! one write per counter, however many views it holds.

use crate::conditions::update_condition_failed;
use crate::ids::PostId;
use crate::{Error, Table, keys};
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::BTreeMap;

/// A view counter's total, as a stream record saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ViewTotal {
    pub post: PostId,
    pub shard: u32,
    pub views: u64,
}

/// The highest total of each counter in a batch, with the first record
/// that named the counter (where Lambda retries from if the copy fails).
#[derive(Debug, Default)]
pub struct Totals(BTreeMap<(PostId, u32), (u64, usize)>);

impl Totals {
    pub fn add(&mut self, record: usize, total: ViewTotal) {
        let entry = self.0.entry((total.post, total.shard)).or_insert((total.views, record));
        entry.0 = entry.0.max(total.views);
    }

    /// Copies each total onto its card: one UpdateItem per counter. Every
    /// counter is tried; on failure, the batch position to retry from is the
    /// earliest record of any counter not copied (Lambda takes the records
    /// before it as done, so none of theirs may be missing).
    pub async fn apply(&self, table: &Table) -> Result<(), (usize, Error)> {
        let mut first_failure: Option<(usize, Error)> = None;
        for ((post, shard), (views, record)) in &self.0 {
            if let Err(e) = copy(table, *post, *shard, *views).await
                && first_failure.as_ref().is_none_or(|(at, _)| record < at)
            {
                first_failure = Some((*record, e));
            }
        }
        first_failure.map_or(Ok(()), Err)
    }
}

async fn copy(table: &Table, post: PostId, shard: u32, views: u64) -> Result<(), Error> {
    let result = table
        .client()
        .update_item()
        .table_name(table.name())
        .set_key(Some(keys::post(post).to_attributes()))
        .update_expression("SET #views.#shard = :total")
        .condition_expression("attribute_exists(PK) AND (attribute_not_exists(#views.#shard) OR #views.#shard < :total)")
        .expression_attribute_names("#views", "views")
        .expression_attribute_names("#shard", shard.to_string())
        .expression_attribute_values(":total", AttributeValue::N(views.to_string()))
        .send()
        .await;
    match result {
        // Not higher than the card's (a replay, or a record overtaken), or the post is gone.
        Err(err) if update_condition_failed(&err).is_some() => Ok(()),
        other => other.map(|_| ()).map_err(Into::into),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_keeps_the_highest_total_of_each_counter_and_its_first_record() {
        let post = PostId::generate();
        let mut totals = Totals::default();
        totals.add(3, ViewTotal { post, shard: 1, views: 7 });
        totals.add(5, ViewTotal { post, shard: 1, views: 9 });
        totals.add(6, ViewTotal { post, shard: 1, views: 8 });
        totals.add(4, ViewTotal { post, shard: 2, views: 1 });
        assert_eq!(totals.0[&(post, 1)], (9, 3));
        assert_eq!(totals.0[&(post, 2)], (1, 4));
    }
}
