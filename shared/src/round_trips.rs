//! What each request costs in DynamoDB: an SDK interceptor that notes the
//! operation name of every request put on the wire, asks every call for its
//! `ConsumedCapacity` (`INDEXES`: the table and each index apart) and adds
//! up what the answers report.
//!
//! [`measure`] scopes a log to one future (one API request), so tests, the
//! local stack and the Lambda bootstrap can say exactly which calls a route
//! made, and what they cost, even while other requests run concurrently on
//! the same client.

use aws_sdk_dynamodb::config::interceptors::{
    AfterDeserializationInterceptorContextRef, BeforeSerializationInterceptorContextMut, BeforeTransmitInterceptorContextRef,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::operation::{
    batch_get_item::{BatchGetItemInput, BatchGetItemOutput},
    batch_write_item::{BatchWriteItemInput, BatchWriteItemOutput},
    delete_item::{DeleteItemInput, DeleteItemOutput},
    get_item::{GetItemInput, GetItemOutput},
    put_item::{PutItemInput, PutItemOutput},
    query::{QueryInput, QueryOutput},
    transact_get_items::{TransactGetItemsInput, TransactGetItemsOutput},
    transact_write_items::{TransactWriteItemsInput, TransactWriteItemsOutput},
    update_item::{UpdateItemInput, UpdateItemOutput},
};
use aws_sdk_dynamodb::types::{ConsumedCapacity, ReturnConsumedCapacity};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use serde::Serialize;
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Capacity units by where they were spent: `table`, or an index's name.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Capacity {
    pub read: BTreeMap<String, f64>,
    pub write: BTreeMap<String, f64>,
}

/// Where the table's own units are counted in [`Capacity`].
pub const TABLE: &str = "table";

impl Capacity {
    pub fn read_units(&self) -> f64 {
        self.read.values().sum()
    }

    pub fn write_units(&self) -> f64 {
        self.write.values().sum()
    }

    /// Adds one answer's report. `kind` says what the operation does, for
    /// reports that give only `CapacityUnits` (DynamoDB often omits the
    /// read/write split on single-kind operations).
    fn add(&mut self, consumed: &ConsumedCapacity, kind: Kind) {
        let mut add = |place: &str, read: Option<f64>, write: Option<f64>, any: Option<f64>| {
            let (read, write) = match kind {
                Kind::Read => (read.or(any), write),
                Kind::Write => (read, write.or(any)),
            };
            for (units, total) in [(read, &mut self.read), (write, &mut self.write)] {
                if let Some(units) = units.filter(|u| *u > 0.0) {
                    *total.entry(place.to_string()).or_default() += units;
                }
            }
        };
        match &consumed.table {
            Some(table) => add(TABLE, table.read_capacity_units, table.write_capacity_units, table.capacity_units),
            // Only totals (an engine that breaks nothing down): count them
            // against the table.
            None => add(TABLE, consumed.read_capacity_units, consumed.write_capacity_units, consumed.capacity_units),
        }
        for (index, part) in consumed.global_secondary_indexes.iter().flatten().chain(consumed.local_secondary_indexes.iter().flatten()) {
            add(index, part.read_capacity_units, part.write_capacity_units, part.capacity_units);
        }
    }
}

/// Whether an operation reads or writes.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Read,
    Write,
}

/// What one scope of work sent to DynamoDB.
#[derive(Clone, Debug, Default)]
pub struct Usage {
    /// The operations (e.g. `["GetItem", "Query"]`), in order, retries included.
    pub calls: Vec<String>,
    pub capacity: Capacity,
}

type Log = Arc<Mutex<Usage>>;

tokio::task_local! {
    static LOG: Log;
}

static TOTAL: AtomicU64 = AtomicU64::new(0);

/// Runs `work` and returns its output with the calls it sent and what they cost.
pub async fn measure<F: Future>(work: F) -> (F::Output, Usage) {
    let log = Log::default();
    let output = LOG.scope(log.clone(), work).await;
    let usage = std::mem::take(&mut *log.lock().unwrap_or_else(|e| e.into_inner()));
    (output, usage)
}

/// Runs `work` and returns its output with the DynamoDB operations it sent.
pub async fn record<F: Future>(work: F) -> (F::Output, Vec<String>) {
    let (output, usage) = measure(work).await;
    (output, usage.calls)
}

/// Round trips made by this process so far (for benchmarks).
pub fn total() -> u64 {
    TOTAL.load(Ordering::Relaxed)
}

fn note(change: impl FnOnce(&mut Usage)) {
    let _ = LOG.try_with(|log| change(&mut log.lock().unwrap_or_else(|e| e.into_inner())));
}

/// Sets `return_consumed_capacity` on whichever of these inputs `$input` is.
macro_rules! ask_for_capacity {
    ($input:expr, $($type:ty),*) => {
        $(if let Some(input) = $input.downcast_mut::<$type>() {
            input.return_consumed_capacity = Some(ReturnConsumedCapacity::Indexes);
            return;
        })*
    };
}

/// The consumed capacity of whichever of these outputs `$output` is, and
/// whether it reads or writes.
macro_rules! reported_capacity {
    ($output:expr, $(($kind:expr, single: [$($single:ty),*], many: [$($many:ty),*])),*) => {{
        $(
            $(if let Some(output) = $output.downcast_ref::<$single>() {
                return ($kind, output.consumed_capacity.iter().collect());
            })*
            $(if let Some(output) = $output.downcast_ref::<$many>() {
                return ($kind, output.consumed_capacity.iter().flatten().collect());
            })*
        )*
        (Kind::Read, Vec::new())
    }};
}

fn request_capacity(input: &mut aws_smithy_runtime_api::client::interceptors::context::Input) {
    ask_for_capacity!(
        input,
        GetItemInput,
        PutItemInput,
        UpdateItemInput,
        DeleteItemInput,
        QueryInput,
        BatchGetItemInput,
        BatchWriteItemInput,
        TransactGetItemsInput,
        TransactWriteItemsInput
    );
}

fn capacity_of(output: &aws_smithy_runtime_api::client::interceptors::context::Output) -> (Kind, Vec<&ConsumedCapacity>) {
    reported_capacity!(
        output,
        (Kind::Read, single: [GetItemOutput, QueryOutput], many: [BatchGetItemOutput, TransactGetItemsOutput]),
        (Kind::Write, single: [PutItemOutput, UpdateItemOutput, DeleteItemOutput], many: [BatchWriteItemOutput, TransactWriteItemsOutput])
    )
}

#[derive(Debug)]
pub(crate) struct RoundTripCounter;

impl Intercept for RoundTripCounter {
    fn name(&self) -> &'static str {
        "RoundTripCounter"
    }

    fn modify_before_serialization(
        &self,
        context: &mut BeforeSerializationInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        request_capacity(context.input_mut());
        Ok(())
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        TOTAL.fetch_add(1, Ordering::Relaxed);
        let operation = cfg.load::<Metadata>().map_or("unknown", |m| m.name()).to_string();
        note(|usage| usage.calls.push(operation));
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Ok(output) = context.output_or_error() {
            let (kind, reports) = capacity_of(output);
            note(|usage| reports.into_iter().for_each(|c| usage.capacity.add(c, kind)));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::types::Capacity as Part;

    #[test]
    fn units_are_summed_by_table_and_index() {
        let mut capacity = Capacity::default();
        let write = |units| Part::builder().write_capacity_units(units).build();
        let update = ConsumedCapacity::builder().table(write(3.0)).global_secondary_indexes("GSI1", write(3.0)).build();
        capacity.add(&update, Kind::Write);
        capacity.add(&update, Kind::Write);
        // Only the total, as DynamoDB answers a GetItem.
        capacity.add(&ConsumedCapacity::builder().capacity_units(0.5).build(), Kind::Read);
        assert_eq!(capacity.write, BTreeMap::from([("GSI1".into(), 6.0), (TABLE.into(), 6.0)]));
        assert_eq!(capacity.read, BTreeMap::from([(TABLE.into(), 0.5)]));
        assert_eq!((capacity.read_units(), capacity.write_units()), (0.5, 12.0));
    }
}
