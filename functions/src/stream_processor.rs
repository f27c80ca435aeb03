//! The DynamoDB stream processor: notification fan-out, exact counters and
//! cascades (the rules live in `shared::stream`). It reports the first
//! record it could not finish, so Lambda retries from there
//! (`ReportBatchItemFailures`); nothing that failed is acknowledged.

use lambda_http::aws_lambda_events::dynamodb::Event;
use lambda_http::aws_lambda_events::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use lambda_http::{LambdaEvent, service_fn};
use shared::Table;

pub async fn handle(table: Table, event: Event) -> DynamoDbEventResponse {
    let started = std::time::Instant::now();
    let outcome = shared::stream::process(&table, &event.records).await;
    let mut response = DynamoDbEventResponse::default();
    if let Some(index) = outcome.failed_at {
        let mut failure = DynamoDbBatchItemFailure::default();
        failure.item_identifier = event.records[index].change.sequence_number.clone();
        response.batch_item_failures.push(failure);
    }
    tracing::info!(
        records = event.records.len(),
        failed_at = ?outcome.failed_at,
        duration_ms = started.elapsed().as_millis() as u64,
        "batch"
    );
    // The first record that failed (Lambda retries the batch from it).
    let failed = usize::from(outcome.failed_at.is_some());
    let oldest_ms = event.records.iter().map(|r| r.change.approximate_creation_date_time.timestamp_millis().max(0) as u64).min();
    let age = oldest_ms.map(|at| std::time::Duration::from_millis(shared::clock::now_ms().saturating_sub(at)));
    crate::metrics::batch("stream-processor", event.records.len(), failed, age, outcome.deltas, outcome.fan_out_items);
    response
}

/// The stream-processor binary's `main`.
pub async fn run() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let table = Table::from_env().await?;
    lambda_http::lambda_runtime::run(service_fn(move |event: LambdaEvent<Event>| {
        let table = table.clone();
        async move { Ok::<_, lambda_http::Error>(handle(table, event.payload).await) }
    }))
    .await
}
