//! What requests cost in DynamoDB capacity units: every call asks for its
//! `ConsumedCapacity` (by table and index), and the local stack adds them up
//! per request in `x-quire-dynamodb-capacity` (the authorizer's apart). The
//! figures follow DynamoDB's rules: 0.5 RCU per 4 KB read eventually
//! consistent (a Query adds its items' sizes before rounding), 1 WCU per
//! 1 KB written, again in every index whose projected attributes change.
//! The README's access-pattern table holds every route's figures
//! (`access_patterns.rs`); this file holds the targets.

use crate::common::*;
use local::testing::Guarantee;
use serde_json::json;

/// A post at the limits: 100,000 four-byte characters of content.
fn largest_content() -> String {
    "𝕏".repeat(shared::posts::CONTENT_MAX_CHARS)
}

#[tokio::test]
async fn reads_and_writes_report_their_units_by_table_and_index() {
    let Some(stack) = TestStack::requiring(Guarantee::ExactConsumedCapacity, "reads_and_writes_report_their_units_by_table_and_index").await else {
        return;
    };
    let ada = sign_up(&stack, "Ada", &email("ada")).await;
    let post = publish_new_post(&stack, &ada.key).await;

    // One Query of a small card and body: half a read unit.
    let read = stack.get(&format!("/posts/{post}")).send().await;
    assert_eq!(read.capacity(), json!({"read": {"table": 0.5}, "write": {}}));
    // A Query of the author's published posts reads GSI1 only.
    let listed = stack.get(&format!("/users/{}/posts", ada.id)).send().await;
    assert_eq!(listed.capacity(), json!({"read": {"GSI1": 0.5}, "write": {}}));
    // A view writes one small counter, in no index.
    let viewed = stack.post(&format!("/posts/{post}/views")).send().await;
    assert_eq!(viewed.capacity(), json!({"read": {}, "write": {"table": 1.0}}));
    // The authorizer's UpdateItem of the key, which is in no index.
    let me = stack.get("/me").key(&ada.key).send().await;
    assert_eq!(me.authorizer_capacity(), json!({"read": {}, "write": {"table": 1.0}}));
    assert_eq!(me.capacity(), json!({"read": {"table": 0.5}, "write": {}}));
    // No call, no units.
    assert_eq!(stack.get("/health").send().await.capacity(), json!({"read": {}, "write": {}}));
}

/// The targets: a view of the largest post costs 1 WCU and writes no
/// index; a page of 20 published posts whose bodies are the largest allowed
/// is 20 items from one Query of at most 8 RCU; edits that leave the content
/// alone, and the stream's counter updates, never rewrite it.
#[tokio::test]
async fn the_largest_posts_cost_no_more_to_view_list_or_count() {
    let Some(stack) = TestStack::requiring(Guarantee::ExactConsumedCapacity, "the_largest_posts_cost_no_more_to_view_list_or_count").await else {
        return;
    };
    let ada = sign_up(&stack, "Ada", &email("ada")).await;
    let content = largest_content();
    let mut posts = Vec::new();
    for n in 0..21 {
        let created = stack.post("/posts").key(&ada.key).json(json!({"title": format!("Post {n}"), "content": content})).send().await;
        assert_eq!(created.status, 201, "{}", created.brief());
        let post = created.body["id"].as_str().unwrap().to_string();
        assert_eq!(stack.post(&format!("/posts/{post}/publish")).key(&ada.key).send().await.status, 200);
        posts.push(post);
    }
    let post = &posts[0];

    let viewed = stack.post(&format!("/posts/{post}/views")).send().await;
    assert_eq!(viewed.status, 204);
    assert_eq!(viewed.capacity(), json!({"read": {}, "write": {"table": 1.0}}), "one view: 1 WCU, no index");

    let page = stack.get(&format!("/users/{}/posts?limit=20", ada.id)).send().await;
    assert_eq!(page.dynamodb_calls(), ["Query"]);
    assert_eq!(page.body["items"].as_array().unwrap().len(), 20, "a whole page: no 1 MB cut");
    let units = page.capacity()["read"]["GSI1"].as_f64().unwrap();
    // 21 cards (the page and the one that says there is more) of about 1.5 KB.
    assert_eq!(units, 4.0, "a page of 20 of the largest posts");
    assert_eq!(page.capacity()["read"].as_object().unwrap().len(), 1, "GSI1 only: {}", page.capacity());

    // Every card field at its limit too (title, 10 tags, excerpt): still a
    // whole page, in one Query, of about 3.5 KB a card.
    let bob = sign_up(&stack, "Bob", &email("bob")).await;
    let largest = json!({"title": largest_text(200), "content": content, "tags": largest_tags()});
    for _ in 0..21 {
        let created = stack.post("/posts").key(&bob.key).json(largest.clone()).send().await;
        let id = created.body["id"].as_str().unwrap().to_string();
        assert_eq!(stack.post(&format!("/posts/{id}/publish")).key(&bob.key).send().await.status, 200);
    }
    let page = stack.get(&format!("/users/{}/posts?limit=20", bob.id)).send().await;
    assert_eq!((page.dynamodb_calls().len(), page.body["items"].as_array().unwrap().len()), (1, 20));
    assert_eq!(page.capacity(), json!({"read": {"GSI1": 9.0}, "write": {}}), "cards at their largest");

    // The whole post costs what its size does, in one call.
    let read = stack.get(&format!("/posts/{post}")).send().await;
    assert_eq!(read.dynamodb_calls(), ["Query"]);
    assert_eq!(read.body["content"].as_str().map(str::len), Some(content.len()));
    let units = read.capacity()["read"]["table"].as_f64().unwrap();
    assert!((49.0..=50.0).contains(&units), "card and body: {units} RCU");

    // A new title rewrites the card (and its index entry), not the body:
    // the consistent read is the body's size, the writes a few units.
    let edited = stack.patch(&format!("/posts/{post}")).key(&ada.key).json(json!({"title": "Renamed"})).send().await;
    assert_eq!(edited.status, 200, "{}", edited.brief());
    assert_eq!(edited.dynamodb_calls(), ["Query", "UpdateItem"]);
    assert_eq!(edited.body["content"].as_str().map(str::len), Some(content.len()));
    let written = edited.capacity()["write"].clone();
    assert_eq!(written, json!({"GSI1": 2.0, "table": 2.0}), "the card only");

    // The stream processor's counter updates (the view total, a comment
    // count) rewrite cards, never a body: the card stays small.
    let comment = stack.post(&format!("/posts/{post}/comments")).key(&ada.key).json(json!({"text": "First."})).send().await;
    assert_eq!(comment.status, 201);
    stack.settle().await;
    let after = stack.get(&format!("/posts/{post}")).send().await;
    assert_eq!((after.body["viewCount"].as_u64(), after.body["commentCount"].as_u64()), (Some(1), Some(1)));
    let units = after.capacity()["read"]["table"].as_f64().unwrap();
    assert!((49.0..=50.0).contains(&units), "{units}");
}
