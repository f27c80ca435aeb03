//! `cargo run --profile bench-local -p local --bin stream-bench`: the stream
//! processor's throughput on the embedded engine, and its DynamoDB calls per
//! record. Workload 1: 10,000 comments on one post (counters, markers,
//! `new_comment` notifications). Workload 2: a post published by an author
//! with 10,000 followers (one record, a 10,000-notification fan-out).
//! Records come from the engine's real stream, filtered as the template
//! says, and go to the real processor in batches of the template's size.

use local::{LocalStack, Options, Storage};
use shared::ids::{PostId, UserId};
use shared::round_trips::record;
use std::collections::{BTreeMap, HashSet};
use std::time::Instant;

const WRITES: &[&str] = &["TransactWriteItems", "BatchWriteItem", "PutItem", "UpdateItem", "DeleteItem"];

#[tokio::main]
async fn main() {
    let comments: usize = arg("--comments", 10_000);
    let followers: usize = arg("--followers", 10_000);
    let options = Options {
        template: local::template::default_path(),
        storage: Storage::InMemory,
        table_name: "quire".into(),
        port: 0,
        ttl_sweep_every: None,
        attach_stream: false,
    };
    let stack = LocalStack::start(options).await.expect("the stack starts");
    let table = stack.table().clone();
    let stream = stack.template().functions.iter().find_map(|f| f.stream.clone()).expect("a stream function");
    let filters: Vec<serde_json::Value> =
        stream.filter_criteria.iter().flat_map(|c| c.filters.iter()).map(|f| serde_json::from_str(&f.pattern).unwrap()).collect();
    let mut seen = HashSet::new();
    let mut rows = Vec::new();

    // Workload 1: comments.
    eprintln!("writing {comments} comments…");
    let author = user(&table, "author").await;
    let commenter = user(&table, "commenter").await;
    let post = shared::posts::create(&table, &author, new_post(), None).await.unwrap().into_new().unwrap().id;
    shared::posts::publish(&table, &author, post).await.unwrap();
    fresh(&stack, &filters, &mut seen).await; // the set-up's own records
    for n in 0..comments {
        shared::comments::create(&table, &commenter, post, shared::comments::NewComment { text: format!("comment {n}") }, None).await.unwrap();
    }
    let records = fresh(&stack, &filters, &mut seen).await;
    rows.push(run("10,000 comments on one post", &table, &records, stream.batch_size).await);

    // Workload 2: fan-out.
    eprintln!("writing {followers} follow edges…");
    let star = user(&table, "star").await;
    write_edges(&table, star.user_id, followers).await;
    let post = shared::posts::create(&table, &star, new_post(), None).await.unwrap().into_new().unwrap().id;
    fresh(&stack, &filters, &mut seen).await; // the edges' records: not measured here
    shared::posts::publish(&table, &star, post).await.unwrap();
    let records = fresh(&stack, &filters, &mut seen).await;
    rows.push(run("publish to 10,000 followers", &table, &records, stream.batch_size).await);
    verify_fan_out(&table, followers, post).await;

    println!("| workload | records | seconds | records/s | write calls/record | all calls/record | calls by operation |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for row in rows {
        println!("{row}");
    }
}

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn new_post() -> shared::posts::NewPost {
    shared::posts::NewPost { title: "Benchmark".into(), content: "Measured.".into(), tags: vec![] }
}

async fn user(table: &shared::Table, name: &str) -> shared::Caller {
    let input = shared::users::SignUp { name: name.into(), email: format!("{name}.{}@example.com", ulid::Ulid::new()) };
    let signed = shared::users::sign_up(table, input, None).await.unwrap().into_new().unwrap();
    shared::Caller { user_id: signed.user.id, key_id: signed.api_key.id, plan: shared::Plan::Free }
}

/// Follow edges written straight to the table (set-up, not measured).
async fn write_edges(table: &shared::Table, star: UserId, count: usize) {
    use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
    let mut requests = Vec::new();
    for _ in 0..count {
        let follower = UserId::generate();
        let edge = shared::follows::FollowItem {
            entity: shared::follows::ENTITY.into(),
            follower_id: follower,
            followee_id: star,
            created_at: shared::clock::now().rfc3339(),
        };
        let put =
            PutRequest::builder().set_item(Some(shared::to_item(&edge, &shared::keys::follow_placement(star, follower)).unwrap())).build().unwrap();
        requests.push(WriteRequest::builder().put_request(put).build());
    }
    for chunk in requests.chunks(25) {
        table.client().batch_write_item().request_items(table.name(), chunk.to_vec()).send().await.unwrap();
    }
}

/// Stream records not seen before that pass the template's filters.
async fn fresh(
    stack: &LocalStack,
    filters: &[serde_json::Value],
    seen: &mut HashSet<String>,
) -> Vec<lambda_http::aws_lambda_events::dynamodb::EventRecord> {
    let mut out = Vec::new();
    for record in stack.stream_records().await {
        if seen.insert(record["eventID"].as_str().unwrap().to_string()) && filters.iter().any(|f| local::stream::matches(f, &record)) {
            out.push(serde_json::from_value(record).unwrap());
        }
    }
    out
}

async fn run(name: &str, table: &shared::Table, records: &[lambda_http::aws_lambda_events::dynamodb::EventRecord], batch: usize) -> String {
    eprintln!("processing {} records ({name})…", records.len());
    let started = Instant::now();
    let mut calls: BTreeMap<String, usize> = BTreeMap::new();
    for chunk in records.chunks(batch) {
        let (outcome, made) = record(shared::stream::process(table, chunk)).await;
        assert_eq!(outcome.failed_at, None, "{:?}", outcome.error);
        for call in made {
            *calls.entry(call).or_default() += 1;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let writes: usize = calls.iter().filter(|(k, _)| WRITES.contains(&k.as_str())).map(|(_, v)| v).sum();
    let all: usize = calls.values().sum();
    let n = records.len() as f64;
    let by_operation = calls.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", ");
    format!("| {name} | {} | {seconds:.2} | {:.0} | {:.3} | {:.3} | {by_operation} |", records.len(), n / seconds, writes as f64 / n, all as f64 / n)
}

async fn verify_fan_out(table: &shared::Table, followers: usize, post: PostId) {
    // Every follower got exactly one notification about the post: count them
    // through the GSI2 unread partitions would need each id; a Scan is fine
    // in a benchmark's own check.
    let mut count = 0;
    let mut start = None;
    loop {
        let output = table
            .client()
            .scan()
            .table_name(table.name())
            .filter_expression("#type = :t AND postId = :p")
            .expression_attribute_names("#type", "type")
            .expression_attribute_values(":t", aws_sdk_dynamodb::types::AttributeValue::S("followed_author_published".into()))
            .expression_attribute_values(":p", aws_sdk_dynamodb::types::AttributeValue::S(post.to_string()))
            .set_exclusive_start_key(start)
            .send()
            .await
            .unwrap();
        count += output.count() as usize;
        match output.last_evaluated_key {
            Some(key) => start = Some(key),
            None => break,
        }
    }
    assert_eq!(count, followers, "one notification per follower");
    eprintln!("checked: {count} notifications, one per follower");
}
