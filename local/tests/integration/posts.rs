//! Posts over real HTTP: draft → edit → publish → read → views, ownership,
//! sparse listings, limits.

use crate::common::*;
use aws_sdk_dynamodb::types::AttributeValue;
use local::testing::Guarantee;
use serde_json::{Value, json};

async fn draft(stack: &TestStack, key: &str, title: &str) -> String {
    let reply = stack.post("/posts").key(key).json(json!({"title": title, "content": format!("About {title}.")})).send().await;
    assert_eq!(reply.status, 201, "{}", reply.brief());
    reply.body["id"].as_str().unwrap().to_string()
}

async fn publish(stack: &TestStack, key: &str, post: &str) -> Reply {
    stack.post(&format!("/posts/{post}/publish")).key(key).send().await
}

#[tokio::test]
async fn a_post_from_draft_to_public_read() {
    let stack = TestStack::start().await;
    let ada = sign_up(&stack, "Ada", &email("ada")).await;
    let created = stack
        .post("/posts")
        .key(&ada.key)
        .json(json!({"title": " Notes ", "content": "The engine weaves.", "tags": ["Math", "math", "History"]}))
        .send()
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["status"], "draft");
    assert_eq!(created.body["title"], "Notes");
    assert_eq!(created.body["authorName"], "Ada");
    assert_eq!(created.body["tags"], json!(["math", "history"]), "lower-cased, duplicates dropped");
    assert_eq!(created.headers["etag"], "\"1\"");
    let post = created.body["id"].as_str().unwrap().to_string();

    let path = format!("/posts/{post}");
    stack.get(&path).send().await.assert_error(404, "not_found");
    let edit = |body: Value, if_match: &str| stack.patch(&path).key(&ada.key).json(body).header("if-match", if_match).send();
    let edited = edit(json!({"content": "The engine weaves algebraic patterns."}), "\"1\"").await;
    assert_eq!((edited.status, edited.body["version"].as_u64()), (200, Some(2)), "{}", edited.body);
    edit(json!({"title": "Stale"}), "\"1\"").await.assert_error(412, "version_mismatch");

    let published = publish(&stack, &ada.key, &post).await;
    assert_eq!(published.status, 200, "{}", published.body);
    assert_eq!(published.body["status"], "published");
    assert_eq!(published.dynamodb_calls(), ["GetItem", "TransactWriteItems"]);
    publish(&stack, &ada.key, &post).await.assert_error(409, "already_published");

    let public = stack.get(&path).send().await;
    assert_eq!(public.status, 200);
    assert_eq!(public.body["content"], "The engine weaves algebraic patterns.");
    assert_eq!(public.body["authorId"], ada.id.as_str());
    assert!(public.body["publishedAt"].is_string());
    assert_eq!((public.body["viewCount"].as_u64(), public.body["commentCount"].as_u64()), (Some(0), Some(0)));

    let notes = stack.get("/me/notifications").key(&ada.key).send().await;
    let items = notes.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!((items[0]["type"].as_str(), items[0]["postId"].as_str()), (Some("post_published"), Some(post.as_str())));
}

#[tokio::test]
async fn only_the_owner_edits_publishes_deletes_or_sees_a_draft() {
    let stack = TestStack::start().await;
    let ada = sign_up(&stack, "Ada", &email("ada")).await;
    let eve = sign_up(&stack, "Eve", &email("eve")).await;
    let post = draft(&stack, &ada.key, "Mine").await;
    let path = format!("/posts/{post}");
    stack.patch(&path).key(&eve.key).json(json!({"title": "Hers"})).send().await.assert_error(403, "forbidden");
    publish(&stack, &eve.key, &post).await.assert_error(403, "forbidden");
    stack.delete(&path).key(&eve.key).send().await.assert_error(403, "forbidden");
    stack.get(&format!("/me/posts/{post}")).key(&eve.key).send().await.assert_error(404, "not_found");
    stack.get("/me/drafts").key(&eve.key).send().await.body["items"].as_array().unwrap().is_empty().then_some(()).unwrap();

    let own = stack.get(&format!("/me/posts/{post}")).key(&ada.key).send().await;
    assert_eq!((own.status, own.body["status"].as_str()), (200, Some("draft")));
    let missing = ulid::Ulid::new();
    stack.patch(&format!("/posts/{missing}")).key(&ada.key).json(json!({"title": "x"})).send().await.assert_error(404, "not_found");
    publish(&stack, &ada.key, &missing.to_string()).await.assert_error(404, "not_found");

    assert_eq!(stack.delete(&path).key(&ada.key).send().await.status, 204);
    stack.get(&format!("/me/posts/{post}")).key(&ada.key).send().await.assert_error(404, "not_found");
    stack.delete(&path).key(&ada.key).send().await.assert_error(404, "not_found");
}

#[tokio::test]
async fn concurrent_publishes_of_one_post_have_one_winner() {
    let Some(stack) = TestStack::requiring(Guarantee::IsolatedTransactions, "concurrent_publishes_of_one_post_have_one_winner").await else {
        return;
    };
    let ada = sign_up(&stack, "Ada", &email("ada")).await;
    let post = draft(&stack, &ada.key, "Race").await;
    let path = format!("/posts/{post}/publish");
    let statuses = race(10, |_| stack.post(&path).key(&ada.key)).await;
    assert_eq!((count(&statuses, 200), count(&statuses, 409)), (1, 9), "{statuses:?}");
    let notes = stack.get("/me/notifications").key(&ada.key).send().await;
    assert_eq!(notes.body["items"].as_array().unwrap().len(), 1, "one publication, one notification");
}

#[tokio::test]
async fn two_hundred_concurrent_views_count_exactly_two_hundred() {
    let stack = TestStack::start().await;
    let ada = sign_up(&stack, "Ada", &email("ada")).await;
    let post = draft(&stack, &ada.key, "Popular").await;
    stack.post(&format!("/posts/{post}/views")).send().await.assert_error(404, "not_found");
    assert_eq!(publish(&stack, &ada.key, &post).await.status, 200);
    let path = format!("/posts/{post}/views");
    let statuses = race(200, |_| stack.post(&path)).await;
    assert_eq!(count(&statuses, 204), 200, "{statuses:?}");
    // The counters' totals reach the card through the stream processor.
    stack.settle().await;
    let public = stack.get(&format!("/posts/{post}")).send().await;
    assert_eq!(public.body["viewCount"], 200);
    let listed = stack.get(&format!("/users/{}/posts", ada.id)).send().await;
    assert_eq!(listed.body["items"][0]["viewCount"], 200, "the listing shows the same count");
    // The views were spread over the post's counters, each a partition key of its own.
    let post_id = shared::ids::PostId::parse(&post).unwrap();
    let mut per_counter = Vec::new();
    for shard in 0..shared::keys::VIEW_SHARDS {
        let key = shared::keys::post_views(post_id, shard).to_attributes();
        let counter = stack.table().client().get_item().table_name(stack.table().name()).set_key(Some(key)).send().await.unwrap();
        per_counter.push(counter.item.unwrap()["views"].as_n().unwrap().parse::<u64>().unwrap());
    }
    assert_eq!(per_counter.iter().sum::<u64>(), 200);
    assert!(per_counter.iter().filter(|n| **n > 0).count() >= 8, "spread over the counters: {per_counter:?}");
}

#[tokio::test]
async fn the_published_listing_never_reads_a_draft() {
    let stack = TestStack::start().await;
    let ada = sign_up(&stack, "Ada", &email("ada")).await;
    let mut published = Vec::new();
    for n in 0..12 {
        let post = draft(&stack, &ada.key, &format!("Post {n}")).await;
        if n % 4 == 0 {
            assert_eq!(publish(&stack, &ada.key, &post).await.status, 200);
            published.push(post);
        }
    }
    published.reverse(); // newest first
    let listing = stack.get(&format!("/users/{}/posts", ada.id)).send().await;
    let ids: Vec<&str> = listing.body["items"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap()).collect();
    assert_eq!(ids, published.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(listing.body["items"][0].get("content").is_none() && listing.body["items"][0]["excerpt"].is_string(), "summaries");
    assert_eq!(listing.dynamodb_calls(), ["Query"]);

    // The same Query the route makes reads (ScannedCount) only published
    // posts: the index is sparse, no filter discards drafts after reading them.
    let table = stack.table();
    let output = table
        .client()
        .query()
        .table_name(table.name())
        .index_name("GSI1")
        .key_condition_expression("GSI1PK = :posts")
        .expression_attribute_values(":posts", AttributeValue::S(format!("USER#{}#POSTS", ada.id)))
        .send()
        .await
        .unwrap();
    assert_eq!((output.scanned_count(), output.count()), (3, 3));

    let drafts = stack.get("/me/drafts?limit=100").key(&ada.key).send().await;
    assert_eq!(drafts.body["items"].as_array().unwrap().len(), 9);
    assert!(drafts.body["items"].as_array().unwrap().iter().all(|p| p["status"] == "draft"));
}

#[tokio::test]
async fn post_input_is_checked() {
    let stack = TestStack::start().await;
    let ada = sign_up(&stack, "Ada", &email("ada")).await;
    let cases = [
        (json!({"title": "", "content": "c"}), 400, "invalid_field"),
        (json!({"title": "t".repeat(201), "content": "c"}), 400, "invalid_field"),
        (json!({"title": "t", "content": ""}), 400, "invalid_field"),
        (json!({"title": "t", "content": "c".repeat(100_001)}), 400, "invalid_field"),
        (json!({"title": "t", "content": "c", "tags": vec!["x"; 11]}), 400, "invalid_field"),
        (json!({"title": "t", "content": "c", "tags": ["x".repeat(31)]}), 400, "invalid_field"),
        (json!({"title": "t", "content": "c", "tags": [""]}), 400, "invalid_field"),
        (json!({"title": "t", "content": "c", "status": "published"}), 400, "unknown_field"),
        (json!({"title": "t"}), 400, "invalid_json"),
    ];
    for (body, status, code) in cases {
        let reply = stack.post("/posts").key(&ada.key).json(body).send().await;
        reply.assert_error(status, code);
    }
    let post = draft(&stack, &ada.key, "Small").await;
    stack.patch(&format!("/posts/{post}")).key(&ada.key).json(json!({})).send().await.assert_error(400, "invalid_request");
    stack.get("/posts/not-an-id").send().await.assert_error(400, "invalid_id");
}

/// The limits keep every post under DynamoDB's 400 KB: the largest possible
/// one (100,000 four-byte characters, 400,000 bytes) is stored.
#[tokio::test]
async fn the_largest_post_the_limits_allow_is_stored() {
    let Some(stack) = TestStack::requiring(Guarantee::ExactItemSizeLimit, "the_largest_post_the_limits_allow_is_stored").await else {
        return;
    };
    let ada = sign_up(&stack, "Ada", &email("ada")).await;
    let largest = json!({"title": "t".repeat(200), "content": "😀".repeat(100_000), "tags": vec!["x".repeat(30); 10]});
    let stored = stack.post("/posts").key(&ada.key).json(largest).send().await;
    assert_eq!(stored.status, 201, "{}", stored.brief());
    let post = stored.body["id"].as_str().unwrap().to_string();
    let grown = stack.patch(&format!("/posts/{post}")).key(&ada.key).json(json!({"content": "😀".repeat(100_000)})).send().await;
    assert_eq!(grown.status, 200, "{}", grown.brief());
}
