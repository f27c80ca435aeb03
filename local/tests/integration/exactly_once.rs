//! The stream processor's counters stay exact under Lambda's at-least-once
//! delivery: every batch delivered twice, a poison record and injected write
//! faults mid-batch with retries from the reported record, and bisected
//! re-deliveries. Records are read from the engine's real stream and given to
//! the real processor; only the delivery pattern is the test's.

use crate::common::*;
use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use lambda_http::aws_lambda_events::dynamodb::EventRecord;
use serde_json::{Value, json};
use shared::Table;
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};

const FANS: usize = 12;
const COMMENTS: usize = 8;

struct Scenario {
    ada: User,
    fans: Vec<User>,
    post: String,
}

/// Twelve fans follow Ada, she publishes a post, eight of them comment.
async fn scenario(stack: &TestStack) -> Scenario {
    let ada = sign_up(stack, "Ada", &email("ada")).await;
    let mut fans = Vec::new();
    for n in 0..FANS {
        let fan = sign_up(stack, &format!("Fan {n}"), &email("fan")).await;
        stack.put(&format!("/users/{}/follow", ada.id)).key(&fan.key).send().await;
        fans.push(fan);
    }
    let draft = stack.post("/posts").key(&ada.key).json(json!({"title": "T", "content": "C"})).send().await;
    let post = draft.body["id"].as_str().unwrap().to_string();
    stack.post(&format!("/posts/{post}/publish")).key(&ada.key).send().await;
    for fan in &fans[..COMMENTS] {
        stack.post(&format!("/posts/{post}/comments")).key(&fan.key).json(json!({"text": "hi"})).send().await;
    }
    Scenario { ada, fans, post }
}

/// The template's filters, as the event-source mapping applies them.
fn filters(stack: &TestStack) -> Vec<Value> {
    let stream = stack.template().functions.iter().find_map(|f| f.stream.clone()).unwrap();
    stream.filter_criteria.unwrap().filters.iter().map(|f| serde_json::from_str(&f.pattern).unwrap()).collect()
}

/// Stream records not seen before that pass the filters.
async fn new_records(stack: &TestStack, seen: &mut HashSet<String>) -> Vec<EventRecord> {
    let filters = filters(stack);
    let mut fresh = Vec::new();
    for record in stack.stream_records().await {
        let id = record["eventID"].as_str().unwrap().to_string();
        if seen.insert(id) && filters.iter().any(|f| local::stream::matches(f, &record)) {
            fresh.push(serde_json::from_value(record).unwrap());
        }
    }
    fresh
}

/// Delivers as Lambda does with ReportBatchItemFailures: batches of `size`,
/// retrying from the reported record; a record failing `skip_after` times is
/// given up (sent to the on-failure destination). Returns the invocations.
async fn deliver(table: &Table, records: &[EventRecord], size: usize, skip_after: usize) -> usize {
    let (mut start, mut invocations, mut tries) = (0, 0, 0);
    while start < records.len() {
        let end = (start + size).min(records.len());
        invocations += 1;
        match shared::stream::process(table, &records[start..end]).await.failed_at {
            None => {
                start = end;
                tries = 0;
            }
            Some(index) => {
                if index > 0 {
                    tries = 0;
                }
                start += index;
                tries += 1;
                if tries > skip_after {
                    start += 1;
                    tries = 0;
                }
            }
        }
    }
    invocations
}

/// Processes whatever the first pass wrote (notifications), until quiet.
async fn drain(stack: &TestStack, seen: &mut HashSet<String>) {
    loop {
        let fresh = new_records(stack, seen).await;
        if fresh.is_empty() {
            return;
        }
        deliver(stack.table(), &fresh, 100, 0).await;
    }
}

async fn assert_exact(stack: &TestStack, s: &Scenario) {
    let me = |key: &str| {
        let sent = stack.get("/me").key(key).send();
        async move { sent.await.body }
    };
    let ada = me(&s.ada.key).await;
    assert_eq!(ada["followerCount"], FANS as u64);
    assert_eq!(ada["publishedPostCount"], 1);
    let notes = stack.get("/me/notifications?limit=100").key(&s.ada.key).send().await.body["items"].as_array().unwrap().len();
    assert_eq!(notes, 1 + FANS + COMMENTS, "post_published, one new_follower per fan, one new_comment per comment");
    assert_eq!(ada["unreadNotificationCount"], (1 + FANS + COMMENTS) as u64);
    for fan in &s.fans {
        let body = me(&fan.key).await;
        assert_eq!((body["followingCount"].as_u64(), body["unreadNotificationCount"].as_u64()), (Some(1), Some(1)));
    }
    let post = stack.get(&format!("/posts/{}", s.post)).send().await.body;
    assert_eq!(post["commentCount"], COMMENTS as u64);
}

#[tokio::test]
async fn every_batch_delivered_twice() {
    let stack = TestStack::without_stream().await;
    let s = scenario(&stack).await;
    let mut seen = HashSet::new();
    let records = new_records(&stack, &mut seen).await;
    assert!(records.len() > FANS + COMMENTS);
    for batch in records.chunks(5) {
        for _ in 0..2 {
            assert_eq!(shared::stream::process(stack.table(), batch).await.failed_at, None);
        }
    }
    drain(&stack, &mut seen).await;
    // And the second-order records twice as well.
    let all: Vec<EventRecord> = stack.stream_records().await.into_iter().map(|r| serde_json::from_value(r).unwrap()).collect();
    let filters = filters(&stack);
    let filtered: Vec<EventRecord> =
        all.into_iter().filter(|r| filters.iter().any(|f| local::stream::matches(f, &serde_json::to_value(r).unwrap()))).collect();
    deliver(stack.table(), &filtered, 7, 0).await;
    assert_exact(&stack, &s).await;
}

#[tokio::test]
async fn a_poison_record_mid_batch_is_reported_and_the_rest_counted_once() {
    let stack = TestStack::without_stream().await;
    let s = scenario(&stack).await;
    let mut seen = HashSet::new();
    let mut records = new_records(&stack, &mut seen).await;
    let mut poison = serde_json::to_value(&records[3]).unwrap();
    poison["eventID"] = json!("poison-1");
    poison["dynamodb"]["NewImage"]["entity"] = json!({"S": "mystery"});
    records.insert(7, serde_json::from_value(poison).unwrap());

    let outcome = shared::stream::process(stack.table(), &records[..10]).await;
    assert_eq!(outcome.failed_at, Some(7), "the poison record is the first not processed");
    assert!(outcome.error.unwrap().contains("poison-1"));
    // Lambda retries from it, gives up after 2 attempts, and goes on.
    let invocations = deliver(stack.table(), &records, 10, 2).await;
    assert!(invocations > records.len().div_ceil(10), "the retries happened");
    drain(&stack, &mut seen).await;
    assert_exact(&stack, &s).await;
}

/// Fails the n-th requests of the named operations, as a throttled or
/// broken write would.
#[derive(Debug)]
struct Faults {
    operation: &'static str,
    fail: &'static [usize],
    seen: AtomicUsize,
}

impl Intercept for Faults {
    fn name(&self) -> &'static str {
        "Faults"
    }

    fn read_before_transmit(&self, _: &BeforeTransmitInterceptorContextRef<'_>, _: &RuntimeComponents, cfg: &mut ConfigBag) -> Result<(), BoxError> {
        if cfg.load::<Metadata>().is_some_and(|m| m.name() == self.operation) {
            let n = self.seen.fetch_add(1, Ordering::SeqCst);
            if self.fail.contains(&n) {
                return Err(format!("injected fault in {} #{n}", self.operation).into());
            }
        }
        Ok(())
    }
}

#[tokio::test]
async fn failing_writes_mid_batch_are_retried_without_double_counting() {
    let stack = TestStack::without_stream().await;
    let s = scenario(&stack).await;
    let mut seen = HashSet::new();
    let records = new_records(&stack, &mut seen).await;
    let cursors = shared::Cursors::new(&[1u8; 32]).unwrap();
    for (operation, fail) in [("TransactWriteItems", &[0usize, 2][..]), ("BatchWriteItem", &[0][..]), ("PutItem", &[1, 3][..])] {
        let faults = Faults { operation, fail, seen: AtomicUsize::new(0) };
        let faulty = Table::for_endpoint_with(stack.endpoint(), stack.table().name(), cursors.clone(), faults);
        let first = shared::stream::process(&faulty, &records).await;
        assert!(first.failed_at.is_some(), "the fault in {operation} is reported, not swallowed");
        // Lambda retries from the reported record (the faults are transient).
        deliver(&faulty, &records[first.failed_at.unwrap()..], 100, usize::MAX).await;
    }
    drain(&stack, &mut seen).await;
    assert_exact(&stack, &s).await;
}

#[tokio::test]
async fn bisected_redeliveries_count_once() {
    let stack = TestStack::without_stream().await;
    let s = scenario(&stack).await;
    let mut seen = HashSet::new();
    let records = new_records(&stack, &mut seen).await;
    // The function processes a whole batch, then crashes before answering:
    // Lambda bisects it and delivers each half, then the halves' halves.
    shared::stream::process(stack.table(), &records).await;
    let half = records.len() / 2;
    for part in [&records[..half], &records[half..]] {
        shared::stream::process(stack.table(), part).await;
        for quarter in part.chunks(part.len().div_ceil(2)) {
            shared::stream::process(stack.table(), quarter).await;
        }
    }
    drain(&stack, &mut seen).await;
    assert_exact(&stack, &s).await;
}
