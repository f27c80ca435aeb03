//! `cargo run --profile bench-local -p local --bin stream-bench`: the stream
//! processor's throughput on the embedded engine, its DynamoDB calls and
//! write units. Workload 1: 10,000 comments on one post (counters, markers,
//! `new_comment` notifications). Workload 2: a post published by a pushed
//! author with `--followers` (100,000) followers, fanned out within
//! `--budget-ms` per invocation and resumed from its job item. Workload 3:
//! an author with `--large-followers` (20,000) crossing the push limit
//! (`--push-limit`, 10,000): every follower's feed moves to pulling them.
//! Then one page of a feed that follows both kinds. Records come from the
//! engine's real stream, filtered as the template says, and go to the real
//! processor in batches of the template's size; a job's own record (which
//! the mapping would deliver next) is made from the job item.

use aws_sdk_dynamodb::types::AttributeValue;
use lambda_http::aws_lambda_events::dynamodb::EventRecord;
use local::{LocalStack, Options, Storage};
use shared::feed::Settings;
use shared::ids::{PostId, UserId};
use shared::round_trips::{Usage, measure};
use shared::stream::fan_out::{Job, Work};
use std::collections::{BTreeMap, HashSet};
use std::time::Instant;

const WRITES: &[&str] = &["TransactWriteItems", "BatchWriteItem", "PutItem", "UpdateItem", "DeleteItem"];

#[tokio::main]
async fn main() {
    let comments: usize = arg("--comments", 10_000);
    let followers: usize = arg("--followers", 100_000);
    let large_followers: usize = arg("--large-followers", 20_000);
    let push_limit = arg("--push-limit", 10_000) as u64;
    let budget = std::time::Duration::from_millis(arg("--budget-ms", 1_000) as u64);
    let options = Options {
        template: local::template::default_path(),
        storage: Storage::InMemory,
        table_name: "quire".into(),
        port: 0,
        ttl_sweep_every: None,
        attach_stream: false,
        overrides: Default::default(),
    };
    let stack = LocalStack::start(options).await.expect("the stack starts");
    let table = stack.table().clone().with_feed_settings(Settings { push_limit, budget });
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
    rows.push(run(&format!("{comments} comments on one post"), &table, &records, stream.batch_size, None, 0).await);

    // Workload 2: a pushed author's fan-out, resumed invocation after invocation.
    eprintln!("writing {followers} follow edges…");
    let star = user(&table, "star").await;
    let reader = user(&table, "reader").await;
    write_edges(&table, star.user_id, followers - 1, Some(reader.user_id)).await;
    fresh(&stack, &filters, &mut seen).await; // the edges' records: set-up, not measured
    // Pushed: the limit is above this author's count for this workload.
    let pushing = table.clone().with_feed_settings(Settings { push_limit: followers as u64 + 1, budget });
    let post = shared::posts::create(&pushing, &star, new_post(), None).await.unwrap().into_new().unwrap().id;
    shared::posts::publish(&pushing, &star, post).await.unwrap();
    let records = fresh(&stack, &filters, &mut seen).await;
    let publication = card_publication(&table, post).await;
    let job = Job::publication(star.user_id, post, &publication, "", 0).job_id;
    let name = format!("publish to {followers} followers (pushed, {} ms budget)", budget.as_millis());
    rows.push(run(&name, &pushing, &records, stream.batch_size, Some(&job), followers).await);
    verify_fan_out(&table, followers, post).await;

    // Workload 3: an author crossing the push limit.
    eprintln!("writing {large_followers} follow edges…");
    let large = user(&table, "large").await;
    write_edges(&table, large.user_id, large_followers - 1, Some(reader.user_id)).await;
    fresh(&stack, &filters, &mut seen).await;
    // The counters' update, as the processor makes it: its MODIFY record starts the crossing.
    let count = AttributeValue::N(large_followers.to_string());
    let update = table.client().update_item().table_name(table.name()).set_key(Some(shared::keys::profile(large.user_id).to_attributes()));
    update.update_expression("SET followerCount = :n").expression_attribute_values(":n", count).send().await.unwrap();
    let records = fresh(&stack, &filters, &mut seen).await;
    let job = Job::crossing(large.user_id, Work::Pull).job_id;
    let name = format!("{large_followers} followers cross the push limit of {push_limit} (pull markers)");
    rows.push(run(&name, &table, &records, stream.batch_size, Some(&job), large_followers).await);
    // A pulled author publishes: nothing is pushed, nobody notified.
    let mut pulled_posts = Vec::new();
    for _ in 0..21 {
        let post = shared::posts::create(&table, &large, new_post(), None).await.unwrap().into_new().unwrap().id;
        shared::posts::publish(&table, &large, post).await.unwrap();
        pulled_posts.push(post);
    }
    let records = fresh(&stack, &filters, &mut seen).await;
    rows.push(run("21 publications by the pulled author", &table, &records, stream.batch_size, None, 0).await);

    // A feed read by a user who follows both.
    let (page, usage) = measure(shared::feed::home(&table, &reader, &shared::PageRequest::default())).await;
    let page = page.unwrap();
    assert_eq!(page.items.len(), 20, "a full page");
    let mut expected: Vec<PostId> = pulled_posts.iter().rev().copied().collect();
    expected.push(post);
    assert_eq!(page.items.iter().map(|p| p.id).collect::<Vec<_>>(), expected[..20], "newest first, pushed and pulled merged");
    let (next, _) = measure(shared::feed::home(&table, &reader, &shared::PageRequest { limit: 20, cursor: page.next_cursor.clone() })).await;
    assert_eq!(next.unwrap().items.iter().map(|p| p.id).collect::<Vec<_>>(), expected[20..], "the second page ends it");
    println!(
        "feed page of 20 (one pushed author, one pulled): calls {:?}, {} RCU ({:?})",
        usage.calls,
        usage.capacity.read_units(),
        usage.capacity.read
    );

    println!("| workload | records | invocations | seconds | rate and cost | WCU | calls by operation |");
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

/// Follow edges written straight to the table (set-up, not measured):
/// `count` new followers, and `also` if given.
async fn write_edges(table: &shared::Table, star: UserId, count: usize, also: Option<UserId>) {
    use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
    let mut requests = Vec::new();
    for follower in (0..count).map(|_| UserId::generate()).chain(also) {
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

/// Stream records not seen before that pass the template's filters (but a
/// fan-out job's: [`run`] delivers those as the mapping would).
async fn fresh(
    stack: &LocalStack,
    filters: &[serde_json::Value],
    seen: &mut HashSet<String>,
) -> Vec<lambda_http::aws_lambda_events::dynamodb::EventRecord> {
    let mut out = Vec::new();
    for record in stack.stream_records().await {
        let job = [&record["dynamodb"]["NewImage"], &record["dynamodb"]["OldImage"]].iter().any(|i| i["entity"]["S"] == "fanOut");
        if seen.insert(record["eventID"].as_str().unwrap().to_string()) && !job && filters.iter().any(|f| local::stream::matches(f, &record)) {
            out.push(serde_json::from_value(record).unwrap());
        }
    }
    out
}

/// Processes `records` in batches of `batch`; then, while the fan-out job
/// `job` is still saved, its record (what the mapping would deliver next),
/// one invocation each.
async fn run(name: &str, table: &shared::Table, records: &[EventRecord], batch: usize, job: Option<&str>, followers: usize) -> String {
    eprintln!("processing {} records ({name})…", records.len());
    let started = Instant::now();
    let mut total = Usage::default();
    let mut invocations = 0;
    let mut pending: Vec<EventRecord> = records.to_vec();
    let mut resumptions = 0;
    while !pending.is_empty() {
        for chunk in pending.chunks(batch) {
            let (outcome, usage) = measure(shared::stream::process(table, chunk)).await;
            assert_eq!(outcome.failed_at, None, "{:?}", outcome.error);
            invocations += 1;
            total.calls.extend(usage.calls);
            for (index, units) in usage.capacity.write {
                *total.capacity.write.entry(index).or_default() += units;
            }
        }
        pending = match job {
            Some(job) => job_record(table, job, resumptions).await.into_iter().collect(),
            None => Vec::new(),
        };
        resumptions += pending.len();
    }
    let seconds = started.elapsed().as_secs_f64();
    let mut calls: BTreeMap<String, usize> = BTreeMap::new();
    for call in &total.calls {
        *calls.entry(call.clone()).or_default() += 1;
    }
    let writes: usize = calls.iter().filter(|(k, _)| WRITES.contains(&k.as_str())).map(|(_, v)| v).sum();
    let by_operation = calls.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", ");
    let wcu = total.capacity.write_units();
    let per = if followers > 0 {
        format!(
            "{:.0} followers/s; per follower {:.3} write calls, {:.2} WCU; {resumptions} resumptions",
            followers as f64 / seconds,
            writes as f64 / followers as f64,
            wcu / followers as f64
        )
    } else {
        let n = records.len() as f64;
        format!("{:.0} records/s; per record {:.3} write calls, {:.2} WCU", n / seconds, writes as f64 / n, wcu / n)
    };
    format!("| {name} | {} | {invocations} | {seconds:.1} | {per} | {wcu} | {by_operation} |", records.len())
}

/// The stream record a saved job's latest write would make, or none once
/// the job is done.
async fn job_record(table: &shared::Table, job: &str, n: usize) -> Option<EventRecord> {
    let key = shared::keys::fan_out_job(job).to_attributes();
    let item = table.client().get_item().table_name(table.name()).set_key(Some(key)).consistent_read(true).send().await.unwrap().item?;
    if item.contains_key("done") {
        return None;
    }
    let mut record = EventRecord::default();
    record.event_id = format!("bench-{job}-{n}");
    record.event_name = if n == 0 { "INSERT".into() } else { "MODIFY".into() };
    record.change.new_image = item.into();
    Some(record)
}

/// The card's publication ULID.
async fn card_publication(table: &shared::Table, post: PostId) -> String {
    let key = shared::keys::post(post).to_attributes();
    let item = table.client().get_item().table_name(table.name()).set_key(Some(key)).send().await.unwrap().item.unwrap();
    item["publication"].as_s().unwrap().clone()
}

async fn verify_fan_out(table: &shared::Table, followers: usize, post: PostId) {
    // Every follower got exactly one feed item and one notification about
    // the post (ids are per follower): a Scan is fine in a benchmark's own check.
    for (what, filter) in [("notifications", "#type = :t AND postId = :p"), ("feed items", "entity = :f AND postId = :p")] {
        let mut count = 0;
        let mut start = None;
        loop {
            let mut scan = table.client().scan().table_name(table.name()).filter_expression(filter);
            scan = scan.expression_attribute_values(":p", AttributeValue::S(post.to_string()));
            scan = match what {
                "notifications" => scan
                    .expression_attribute_names("#type", "type")
                    .expression_attribute_values(":t", AttributeValue::S("followed_author_published".into())),
                _ => scan.expression_attribute_values(":f", AttributeValue::S(shared::feed::ITEM_ENTITY.into())),
            };
            let output = scan.set_exclusive_start_key(start).send().await.unwrap();
            count += output.count() as usize;
            match output.last_evaluated_key {
                Some(key) => start = Some(key),
                None => break,
            }
        }
        assert_eq!(count, followers, "one of each per follower");
        eprintln!("checked: {count} {what}, one per follower");
    }
}
