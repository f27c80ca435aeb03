//! CloudWatch metrics in the Embedded Metric Format: after each invocation
//! the function prints what it recorded as JSON lines on stdout, and
//! CloudWatch Logs turns them into metrics in namespace `Quire`, with no API
//! call and no agent. `metrics_cloudwatch_embedded` writes the format; the
//! `metrics` crate's macros record. Without a recorder (the local stack,
//! unit tests) recording does nothing.
//!
//! - per request, dimensions `Route` and `StatusClass`: `Requests`,
//!   `Latency` (ms), `DynamoDBCalls`, `ReadCapacityUnits`, `WriteCapacityUnits`;
//! - per stream batch, dimension `Function`: `DynamoDBCalls`,
//!   `ReadCapacityUnits`, `WriteCapacityUnits`, `Records`, `FailedRecords`
//!   (1 when a record failed: Lambda retries from it), `OldestRecordAgeMs`,
//!   `DeltasFolded`;
//! - business counts, no dimension: `SignUps`, `Publications`,
//!   `FanOutItems`, `RateLimited`.

use metrics::{Unit, counter, describe_histogram, histogram};
use metrics_cloudwatch_embedded::{Builder, Collector};
use shared::round_trips::Usage;
use std::sync::OnceLock;
use std::time::Duration;

pub const NAMESPACE: &str = "Quire";

static COLLECTOR: OnceLock<Option<&'static Collector>> = OnceLock::new();

/// Installs the recorder (once per process; the Lambda bootstrap calls it).
pub fn install() {
    COLLECTOR.get_or_init(|| {
        let collector = Builder::new().cloudwatch_namespace(NAMESPACE).init().map_err(|e| tracing::warn!("no metrics: {e}")).ok()?;
        describe_histogram!("Latency", Unit::Milliseconds, "time in the function, per request");
        describe_histogram!("OldestRecordAgeMs", Unit::Milliseconds, "age of a batch's oldest stream record");
        Some(collector)
    });
}

/// Writes what was recorded since the last flush, one EMF line per
/// dimension set (nothing if nothing was recorded).
pub fn flush(writer: impl std::io::Write) {
    if let Some(Some(collector)) = COLLECTOR.get()
        && let Err(e) = collector.flush(writer)
    {
        tracing::warn!("metrics not written: {e}");
    }
}

/// `2xx`, `3xx` (a 304), `4xx` or `5xx`.
pub fn status_class(status: u16) -> &'static str {
    match status {
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

/// One request to `route` (a function's name) and what it cost.
pub fn request(route: &'static str, status: u16, latency: Duration, usage: &Usage) {
    let labels = [("Route", route), ("StatusClass", status_class(status))];
    counter!("Requests", &labels).increment(1);
    histogram!("Latency", &labels).record(latency.as_secs_f64() * 1000.0);
    histogram!("DynamoDBCalls", &labels).record(usage.calls.len() as f64);
    histogram!("ReadCapacityUnits", &labels).record(usage.capacity.read_units());
    histogram!("WriteCapacityUnits", &labels).record(usage.capacity.write_units());
}

/// What an invocation that is not a request (a stream batch) cost in DynamoDB.
pub fn usage(function: &'static str, usage: &Usage) {
    let labels = [("Function", function)];
    histogram!("DynamoDBCalls", &labels).record(usage.calls.len() as f64);
    histogram!("ReadCapacityUnits", &labels).record(usage.capacity.read_units());
    histogram!("WriteCapacityUnits", &labels).record(usage.capacity.write_units());
}

/// One stream batch. Values, not counters, so a batch without failures
/// says 0 rather than nothing (a counter's zero is left out of the line).
pub fn batch(function: &'static str, records: usize, failed: usize, oldest_age: Option<Duration>, deltas: usize, fan_out_items: u64) {
    let labels = [("Function", function)];
    histogram!("Records", &labels).record(records as f64);
    histogram!("FailedRecords", &labels).record(failed as f64);
    histogram!("DeltasFolded", &labels).record(deltas as f64);
    if let Some(age) = oldest_age {
        histogram!("OldestRecordAgeMs", &labels).record(age.as_secs_f64() * 1000.0);
    }
    counter!("FanOutItems").increment(fan_out_items);
}

/// A new account.
pub fn sign_up() {
    counter!("SignUps").increment(1);
}

/// A post published.
pub fn publication() {
    counter!("Publications").increment(1);
}

/// A request refused for its key's rate limit.
pub fn rate_limited() {
    counter!("RateLimited").increment(1);
}
