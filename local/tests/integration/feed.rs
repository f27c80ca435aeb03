//! The home feed over real HTTP: pushed and pulled authors merged exactly
//! across pages, and the rules of README "Home feed" for follows, unfollows,
//! deletions, renames and authors crossing the push limit. The fan-out that
//! resumes beyond one invocation is tested here on a small budget, and with
//! a kill in `crash.rs`.

use crate::common::*;
use local::testing::{Guarantee, TestStack};
use serde_json::{Value, json};
use shared::feed::Settings;
use std::time::Duration;

/// Authors with 4 followers are pulled, below 2 pushed again; fan-out in
/// steps of one page per invocation.
fn small_limits() -> Settings {
    Settings { push_limit: 4, budget: Duration::from_millis(1) }
}

/// Every post id of `user`'s feed, newest first, read `limit` at a time.
async fn feed(stack: &TestStack, user: &User, limit: usize) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..100 {
        let path = match &cursor {
            Some(c) => format!("/me/feed?limit={limit}&cursor={c}"),
            None => format!("/me/feed?limit={limit}"),
        };
        let page = stack.get(&path).key(&user.key).send().await;
        assert_eq!(page.status, 200, "{}", page.brief());
        let items = page.body["items"].as_array().unwrap();
        assert!(items.len() <= limit);
        ids.extend(items.iter().map(|p| p["id"].as_str().unwrap().to_string()));
        match page.body["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => return ids,
        }
    }
    panic!("the feed never ended");
}

async fn follow(stack: &TestStack, who: &User, whom: &User) {
    let reply = stack.put(&format!("/users/{}/follow", whom.id)).key(&who.key).send().await;
    assert_eq!(reply.status, 204, "{}", reply.brief());
}

async fn unfollow(stack: &TestStack, who: &User, whom: &User) {
    let reply = stack.delete(&format!("/users/{}/follow", whom.id)).key(&who.key).send().await;
    assert_eq!(reply.status, 204, "{}", reply.brief());
}

async fn users(stack: &TestStack, n: usize, name: &str) -> Vec<User> {
    let mut all = Vec::new();
    for i in 0..n {
        all.push(sign_up(stack, &format!("{name} {i}"), &email(name)).await);
    }
    all
}

/// How many items of `prefix` sit in `user`'s partition (feed items, pull markers).
async fn stored(stack: &TestStack, user: &str, prefix: &str) -> usize {
    let output = stack
        .table()
        .client()
        .query()
        .table_name(stack.table().name())
        .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
        .expression_attribute_values(":pk", aws_sdk_dynamodb::types::AttributeValue::S(format!("USER#{user}")))
        .expression_attribute_values(":prefix", aws_sdk_dynamodb::types::AttributeValue::S(prefix.into()))
        .send()
        .await
        .unwrap();
    output.count as usize
}

/// The stream record of `post`'s publication (draft → published), as Lambda delivers it.
async fn publication_record(stack: &TestStack, post: &str) -> Value {
    let records = stack.stream_records().await;
    let published = |r: &Value| {
        r["eventName"] == "MODIFY" && r["dynamodb"]["NewImage"]["postId"]["S"] == post && r["dynamodb"]["OldImage"]["status"]["S"] == "draft"
    };
    records.into_iter().find(published).expect("the publication's record")
}

fn newest_first(mut posts: Vec<String>) -> Vec<String> {
    posts.reverse();
    posts
}

#[tokio::test]
async fn pushed_and_pulled_authors_merge_newest_first_each_post_once_on_every_page() {
    let stack = TestStack::with_feed(Some(small_limits())).await;
    let reader = sign_up(&stack, "Reader", &email("reader")).await;
    let small = sign_up(&stack, "Small", &email("small")).await;
    let big = sign_up(&stack, "Big", &email("big")).await;
    follow(&stack, &reader, &small).await;
    follow(&stack, &reader, &big).await;
    for fan in users(&stack, 3, "fan").await {
        follow(&stack, &fan, &big).await;
    }
    stack.settle().await;
    assert_eq!(stored(&stack, &reader.id, "PULL#").await, 1, "Big (4 followers) is pulled");
    let mut published = Vec::new();
    for round in 0..4 {
        for author in [&small, &big] {
            published.push(publish_new_post(&stack, &author.key).await);
            let _ = round;
        }
    }
    stack.settle().await;
    assert_eq!(stored(&stack, &reader.id, "FEED#").await, 4, "only Small's posts are pushed");
    let expected = newest_first(published);
    for limit in [1, 3, 8, 20] {
        assert_eq!(feed(&stack, &reader, limit).await, expected, "limit {limit}");
    }
    // Big's followers get no notification of each post; Small's do.
    let notes = stack.get("/me/notifications?limit=100").key(&reader.key).send().await;
    let published_notes = notes.body["items"].as_array().unwrap().iter().filter(|n| n["type"] == "followed_author_published").count();
    assert_eq!(published_notes, 4);
}

#[tokio::test]
async fn crossing_the_limit_either_way_keeps_every_post_in_every_feed_once() {
    let stack = TestStack::with_feed(Some(small_limits())).await;
    let author = sign_up(&stack, "Author", &email("author")).await;
    let fans = users(&stack, 4, "fan").await;
    for fan in &fans[..3] {
        follow(&stack, fan, &author).await;
    }
    stack.settle().await;
    let pushed = publish_new_post(&stack, &author.key).await;
    stack.settle().await;
    // The fourth follower makes the author pulled: the markers fan out, the
    // pushed post stays pushed (and is not shown twice).
    follow(&stack, &fans[3], &author).await;
    stack.settle().await;
    for fan in &fans {
        assert_eq!(stored(&stack, &fan.id, "PULL#").await, 1);
    }
    let pulled = publish_new_post(&stack, &author.key).await;
    stack.settle().await;
    assert_eq!(stored(&stack, &fans[0].id, "FEED#").await, 1, "a pulled author's post is not pushed");
    for fan in &fans {
        assert_eq!(feed(&stack, fan, 1).await, [pulled.clone(), pushed.clone()], "the new follower too (by pull)");
    }
    // Down to 1 follower (below half of 4): pushed again. The markers stay
    // until the pulled post leaves the window, so it stays in the feed.
    for fan in &fans[1..] {
        unfollow(&stack, fan, &author).await;
    }
    stack.settle().await;
    let pushed_again = publish_new_post(&stack, &author.key).await;
    stack.settle().await;
    assert_eq!(stored(&stack, &fans[0].id, "FEED#").await, 2);
    assert_eq!(feed(&stack, &fans[0], 2).await, [pushed_again, pulled, pushed]);
    let marker = stack.table().client().get_item().table_name(stack.table().name());
    let marker = marker.set_key(Some(shared::keys::pull_marker(fans[0].id.parse().unwrap(), author.id.parse().unwrap()).to_attributes()));
    let expires: i64 = marker.send().await.unwrap().item.unwrap()["expiresAt"].as_n().unwrap().parse().unwrap();
    let in_days = (expires - shared::clock::now().epoch_seconds()) as f64 / 86_400.0;
    assert!((29.9..=30.0).contains(&in_days), "the marker expires with the window: in {in_days} days");
    for fan in &fans[1..] {
        assert!(feed(&stack, fan, 5).await.is_empty(), "an unfollow takes the author's posts out");
    }
    let profile = stack.table().client().get_item().table_name(stack.table().name());
    let profile = profile.set_key(Some(shared::keys::profile(author.id.parse().unwrap()).to_attributes())).send().await.unwrap();
    assert!(!profile.item.unwrap().contains_key("feedPulled"), "the flag is cleared");
}

#[tokio::test]
async fn follows_unfollows_deletions_and_renames_show_at_once() {
    let stack = TestStack::start().await;
    let reader = sign_up(&stack, "Reader", &email("reader")).await;
    let ada = sign_up(&stack, "Ada", &email("ada")).await;
    let bob = sign_up(&stack, "Bob", &email("bob")).await;
    let older = publish_new_post(&stack, &ada.key).await;
    let newer = publish_new_post(&stack, &ada.key).await;
    let bobs = publish_new_post(&stack, &bob.key).await;
    // A new follow brings in the author's posts of the window.
    follow(&stack, &reader, &ada).await;
    follow(&stack, &reader, &bob).await;
    stack.settle().await;
    assert_eq!(feed(&stack, &reader, 10).await, [bobs.clone(), newer.clone(), older.clone()]);
    // A rename shows on the next read (the cards carry the name).
    assert_eq!(stack.patch("/me").key(&ada.key).json(json!({"name": "Ada L."})).send().await.status, 200);
    stack.settle().await;
    let page = stack.get("/me/feed").key(&reader.key).send().await;
    let names: Vec<&str> = page.body["items"].as_array().unwrap().iter().map(|p| p["authorName"].as_str().unwrap()).collect();
    assert_eq!(names, ["Bob", "Ada L.", "Ada L."]);
    // A deleted post leaves at once, before the stream runs.
    assert_eq!(stack.delete(&format!("/posts/{newer}")).key(&ada.key).send().await.status, 204);
    assert_eq!(feed(&stack, &reader, 1).await, [bobs.clone(), older.clone()]);
    // An unfollow too; then the author's items are removed (but for the
    // deleted post's, never shown, which TTL removes).
    unfollow(&stack, &reader, &ada).await;
    assert_eq!(feed(&stack, &reader, 10).await, [bobs]);
    stack.settle().await;
    assert_eq!(stored(&stack, &reader.id, "FEED#").await, 2);
    // A deleted account's posts leave every feed as the stream processor
    // removes them (its posts and follow edges go in the cascade).
    assert_eq!(stack.delete("/me").key(&bob.key).send().await.status, 204);
    stack.settle().await;
    assert!(feed(&stack, &reader, 10).await.is_empty());
    // A deleted account's own feed goes with its partition (a cascade after
    // cascades that cancel counter transactions: moto's stream is gone by now).
    if stack.lacks(Guarantee::IsolatedTransactions, "follows_unfollows_deletions_and_renames_show_at_once (a deleted account's own feed)") {
        return;
    }
    assert!(stored(&stack, &reader.id, "FEED#").await > 0);
    assert_eq!(stack.delete("/me").key(&reader.key).send().await.status, 204);
    stack.settle().await;
    assert_eq!(stored(&stack, &reader.id, "FEED#").await, 0);
}

#[tokio::test]
async fn a_feed_cursor_is_the_callers_own_and_cannot_be_altered() {
    let stack = TestStack::start().await;
    let reader = sign_up(&stack, "Reader", &email("reader")).await;
    let other = sign_up(&stack, "Other", &email("other")).await;
    let ada = sign_up(&stack, "Ada", &email("ada")).await;
    follow(&stack, &reader, &ada).await;
    follow(&stack, &other, &ada).await;
    publish_new_post(&stack, &ada.key).await;
    publish_new_post(&stack, &ada.key).await;
    stack.settle().await;
    let first = stack.get("/me/feed?limit=1").key(&reader.key).send().await;
    let cursor = first.body["nextCursor"].as_str().expect("a second page").to_string();
    stack.get(&format!("/me/feed?cursor={cursor}")).key(&other.key).send().await.assert_error(400, "invalid_cursor");
    let mut altered = cursor.clone().into_bytes();
    altered[2] = if altered[2] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).unwrap();
    stack.get(&format!("/me/feed?cursor={altered}")).key(&reader.key).send().await.assert_error(400, "invalid_cursor");
    stack.get("/me/feed?limit=0").key(&reader.key).send().await.assert_error(400, "invalid_limit");
    assert_eq!(stack.get(&format!("/me/feed?cursor={cursor}")).key(&reader.key).send().await.status, 200);
    // A genuine cursor kept past the 30-day window is the end of the feed, not an error.
    let old = ulid::Ulid::from_parts(shared::clock::now().epoch_seconds() as u64 * 1000 - 31 * 86_400_000, 0).to_string();
    let position = std::collections::HashMap::from([("before".to_string(), aws_sdk_dynamodb::types::AttributeValue::S(old))]);
    let reader_id = reader.id.parse().unwrap();
    let stale = stack.table().cursors().sign(&shared::keys::feed_cursor_name(reader_id), &position).unwrap();
    let end = stack.get(&format!("/me/feed?cursor={stale}")).key(&reader.key).send().await;
    assert_eq!((end.status, end.body["items"].as_array().unwrap().len(), &end.body["nextCursor"]), (200, 0, &Value::Null), "{}", end.brief());
}

/// `n` followers of `author` with no account (edges written straight to
/// the table, so a test on a slow engine need not sign up hundreds): the
/// fan-out writes for them all the same. Their ids, oldest first.
async fn silent_followers(stack: &TestStack, author: &User, n: usize) -> Vec<String> {
    use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
    let author: shared::ids::UserId = author.id.parse().unwrap();
    let ids: Vec<shared::ids::UserId> = (0..n).map(|_| shared::ids::UserId::generate()).collect();
    let mut writes = Vec::new();
    for follower in &ids {
        let edge = shared::follows::FollowItem {
            entity: shared::follows::ENTITY.into(),
            follower_id: *follower,
            followee_id: author,
            created_at: shared::clock::now().rfc3339(),
        };
        let item = shared::to_item(&edge, &shared::keys::follow_placement(author, *follower)).unwrap();
        writes.push(WriteRequest::builder().put_request(PutRequest::builder().set_item(Some(item)).build().unwrap()).build());
    }
    shared::bulk::batch_write(stack.table(), writes).await.unwrap();
    ids.iter().map(ToString::to_string).collect()
}

#[tokio::test]
async fn a_fan_out_resumes_invocation_after_invocation_and_reaches_each_follower_once() {
    let stack = TestStack::with_feed(Some(Settings { push_limit: 10_000, budget: Duration::from_millis(1) })).await;
    // Followers without accounts make the processor's counter transactions
    // cancel (no profile to count on), which moto's stream does not survive.
    if stack.lacks(Guarantee::IsolatedTransactions, "a_fan_out_resumes_invocation_after_invocation_and_reaches_each_follower_once") {
        return;
    }
    let author = sign_up(&stack, "Author", &email("author")).await;
    let mut followers = silent_followers(&stack, &author, 249).await;
    let last = sign_up(&stack, "Last", &email("last")).await; // the newest id: walked last
    follow(&stack, &last, &author).await;
    followers.push(last.id.clone());
    stack.settle().await;
    let post = publish_new_post(&stack, &author.key).await;
    stack.settle().await;
    // One page of 100 followers per invocation: two resumptions, each from its own record.
    let job_records: Vec<Value> = stack
        .stream_records()
        .await
        .into_iter()
        .filter(|r| r["dynamodb"]["NewImage"]["entity"]["S"] == "fanOut" || r["dynamodb"]["OldImage"]["entity"]["S"] == "fanOut")
        .collect();
    let events: Vec<(&str, bool)> =
        job_records.iter().map(|r| (r["eventName"].as_str().unwrap(), r["dynamodb"]["NewImage"]["done"]["BOOL"] == true)).collect();
    assert_eq!(events, [("INSERT", false), ("MODIFY", false), ("MODIFY", true)], "saved once, moved on once, then kept as done");
    // The publication's record delivered again (as Lambda may) finds the job done: no second fan-out.
    let publication = publication_record(&stack, &post).await;
    let (outcome, usage) =
        shared::round_trips::measure(shared::stream::process(stack.table(), &[serde_json::from_value(publication).unwrap()])).await;
    assert_eq!(outcome.failed_at, None, "{:?}", outcome.error);
    assert!(!usage.calls.iter().any(|c| c == "BatchWriteItem"), "replayed: {:?}", usage.calls);
    for follower in &followers {
        assert_eq!(stored(&stack, follower, "FEED#").await, 1);
        assert_eq!(stored(&stack, follower, "NOTIF#").await, 1);
    }
    assert_eq!(feed(&stack, &last, 5).await, [post]);
}

#[tokio::test]
async fn publishes_follows_and_unfollows_during_a_fan_out_leave_every_feed_by_the_rules() {
    let stack = TestStack::with_feed(Some(Settings { push_limit: 10_000, budget: Duration::from_millis(1) })).await;
    // Followers without accounts make the processor's counter transactions
    // cancel (no profile to count on), which moto's stream does not survive.
    if stack.lacks(Guarantee::IsolatedTransactions, "publishes_follows_and_unfollows_during_a_fan_out_leave_every_feed_by_the_rules") {
        return;
    }
    let author = sign_up(&stack, "Author", &email("author")).await;
    // 140 followers walked first, then 20 with accounts, the last 10 of whom leave.
    let silent = silent_followers(&stack, &author, 140).await;
    let followers = users(&stack, 20, "follower").await;
    for follower in &followers {
        follow(&stack, follower, &author).await;
    }
    let newcomers = users(&stack, 10, "newcomer").await;
    stack.settle().await;
    let (stayers, leavers) = followers.split_at(10);
    let mut drafts = Vec::new();
    for _ in 0..3 {
        let created = stack.post("/posts").key(&author.key).json(json!({"title": "T", "content": "C"})).send().await;
        drafts.push(created.body["id"].as_str().unwrap().to_string());
    }
    // Three publications fan out while ten follow and ten leave.
    let publish = drafts.iter().map(|post| stack.post(&format!("/posts/{post}/publish")).key(&author.key).send());
    let join = newcomers.iter().map(|n| stack.put(&format!("/users/{}/follow", author.id)).key(&n.key).send());
    let leave = leavers.iter().map(|l| stack.delete(&format!("/users/{}/follow", author.id)).key(&l.key).send());
    let (published, joined, left) =
        tokio::join!(futures_util::future::join_all(publish), futures_util::future::join_all(join), futures_util::future::join_all(leave));
    assert!(published.iter().all(|r| r.status == 200) && joined.iter().all(|r| r.status == 204) && left.iter().all(|r| r.status == 204));
    stack.settle().await;
    let mut expected = drafts.clone();
    expected.sort();
    for user in stayers.iter().chain(&newcomers) {
        let mut shown = feed(&stack, user, 2).await;
        shown.sort();
        assert_eq!(shown, expected, "a follower sees every post once");
    }
    for user in leavers {
        assert!(feed(&stack, user, 2).await.is_empty(), "an unfollower sees none");
    }
    for follower in &silent {
        assert_eq!(stored(&stack, follower, "FEED#").await, 3);
    }
}

#[test]
fn the_template_gives_the_stream_processor_the_documented_feed_settings() {
    let template = local::template::Template::load(&local::template::default_path()).unwrap();
    let processor = template.functions.iter().find(|f| f.stream.is_some()).unwrap();
    let settings = Settings::from_variables(|name| processor.environment.get(name).cloned()).unwrap();
    assert_eq!(settings, Settings::default(), "FeedPushLimit and FanOutBudgetMs defaults vs shared::feed::Settings::default");
    assert!(processor.environment.contains_key(shared::feed::PUSH_LIMIT_ENV) && processor.environment.contains_key(shared::feed::BUDGET_ENV));
    assert!(settings.budget.as_secs() * 10 < processor.timeout_seconds, "a budget leaves the rest of the timeout to the batch");
}

#[tokio::test]
async fn a_fan_out_redone_after_a_crash_that_rewrites_a_read_notification_keeps_the_unread_count_exact() {
    let stack = TestStack::start().await;
    let ada = sign_up(&stack, "Ada", &email("ada")).await;
    let bob = sign_up(&stack, "Bob", &email("bob")).await;
    follow(&stack, &bob, &ada).await;
    let post = publish_new_post(&stack, &ada.key).await;
    stack.settle().await;
    let unread = stack.get("/me/notifications?unread=true").key(&bob.key).send().await;
    let id = unread.body["items"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(stack.post(&format!("/me/notifications/{id}/read")).key(&bob.key).send().await.status, 200);
    stack.settle().await;
    let count = || async { stack.get("/me").key(&bob.key).send().await.body["unreadNotificationCount"].as_u64().unwrap() };
    assert_eq!(count().await, 0);
    // The processor died after the fan-out's writes, before it marked the
    // job done, and Lambda delivers the publication's record again: the
    // fan-out rewrites Bob's notification, unread, and the count follows.
    let publication = publication_record(&stack, &post).await;
    let job = shared::keys::publication_job(post.parse().unwrap(), publication["dynamodb"]["NewImage"]["publication"]["S"].as_str().unwrap());
    let job = shared::keys::fan_out_job(&job).to_attributes();
    let deleted = stack.table().client().delete_item().table_name(stack.table().name()).set_key(Some(job));
    assert!(
        deleted.return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld).send().await.unwrap().attributes.is_some(),
        "the job was kept as done"
    );
    let outcome = shared::stream::process(stack.table(), &[serde_json::from_value(publication).unwrap()]).await;
    assert_eq!(outcome.failed_at, None, "{:?}", outcome.error);
    stack.settle().await;
    let listed = stack.get("/me/notifications?unread=true").key(&bob.key).send().await.body["items"].as_array().unwrap().len() as u64;
    assert_eq!((listed, count().await), (1, 1), "the count is the unread notifications'");
}

#[tokio::test]
async fn unfollows_racing_a_crossing_leave_markers_for_exactly_the_followers_left() {
    let stack = TestStack::with_feed(Some(Settings { push_limit: 100, budget: Duration::from_millis(1) })).await;
    // Followers without accounts make the processor's counter transactions
    // cancel (no profile to count on), which moto's stream does not survive.
    if stack.lacks(Guarantee::IsolatedTransactions, "unfollows_racing_a_crossing_leave_markers_for_exactly_the_followers_left") {
        return;
    }
    let author = sign_up(&stack, "Author", &email("author")).await;
    // 200 followers take the author past the limit; a quarter of them
    // unfollow while the crossing walks them (one page per invocation),
    // leaving the author above the limit still.
    let followers = silent_followers(&stack, &author, 200).await;
    let author_id: shared::ids::UserId = author.id.parse().unwrap();
    let leaving: Vec<&String> = followers.iter().step_by(4).collect();
    for follower in &leaving {
        tokio::time::sleep(Duration::from_millis(5)).await;
        let key = shared::keys::follow(author_id, follower.parse().unwrap()).to_attributes();
        stack.table().client().delete_item().table_name(stack.table().name()).set_key(Some(key)).send().await.unwrap();
    }
    stack.settle().await;
    for (n, follower) in followers.iter().enumerate() {
        assert_eq!(stored(&stack, follower, "PULL#").await, usize::from(n % 4 != 0), "follower {n}");
    }
}

#[tokio::test]
async fn a_crossing_page_removes_the_markers_it_wrote_for_followers_gone_meanwhile() {
    let stack = TestStack::without_stream().await;
    let author = sign_up(&stack, "Author", &email("author")).await;
    let followers = silent_followers(&stack, &author, 3).await;
    let author_id: shared::ids::UserId = author.id.parse().unwrap();
    let ids: Vec<shared::ids::UserId> = followers.iter().map(|f| f.parse().unwrap()).collect();
    // The walk wrote all three markers; the first follower had unfollowed meanwhile.
    let markers = ids.iter().map(|f| shared::feed::pull(*f, author_id, None).unwrap()).collect();
    shared::bulk::batch_write(stack.table(), markers).await.unwrap();
    let edge = shared::keys::follow(author_id, ids[0]).to_attributes();
    stack.table().client().delete_item().table_name(stack.table().name()).set_key(Some(edge)).send().await.unwrap();
    shared::stream::fan_out::drop_unfollowed_markers(stack.table(), author_id, &ids).await.unwrap();
    let left: Vec<usize> = futures_util::future::join_all(followers.iter().map(|f| stored(&stack, f, "PULL#"))).await;
    assert_eq!(left, [0, 1, 1]);
}
