//! Counts DynamoDB round trips: an SDK interceptor that notes the operation
//! name of every request put on the wire.
//!
//! `record` scopes a log to one future (one API request), so tests and the
//! local stack can say exactly which calls a route made even while other
//! requests run concurrently on the same client.

use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

type Log = Arc<Mutex<Vec<String>>>;

tokio::task_local! {
    static LOG: Log;
}

static TOTAL: AtomicU64 = AtomicU64::new(0);

/// Runs `work` and returns its output with the DynamoDB operations
/// (e.g. `["GetItem", "Query"]`) it sent, in order, retries included.
pub async fn record<F: Future>(work: F) -> (F::Output, Vec<String>) {
    let log = Log::default();
    let output = LOG.scope(log.clone(), work).await;
    let calls = std::mem::take(&mut *log.lock().unwrap_or_else(|e| e.into_inner()));
    (output, calls)
}

/// Round trips made by this process so far (for benchmarks).
pub fn total() -> u64 {
    TOTAL.load(Ordering::Relaxed)
}

#[derive(Debug)]
pub(crate) struct RoundTripCounter;

impl Intercept for RoundTripCounter {
    fn name(&self) -> &'static str {
        "RoundTripCounter"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        TOTAL.fetch_add(1, Ordering::Relaxed);
        let operation = cfg.load::<Metadata>().map_or("unknown", |m| m.name()).to_string();
        let _ = LOG.try_with(|log| log.lock().unwrap_or_else(|e| e.into_inner()).push(operation));
        Ok(())
    }
}
