//! `Idempotency-Key` on the creating routes, over real HTTP: a retry gets the
//! first response and creates nothing; another body under the same key is
//! 422; concurrent retries create once; records are encrypted and expire.

use crate::common::*;
use aws_sdk_dynamodb::types::AttributeValue;
use local::testing::Guarantee;
use serde_json::json;

const KEY: (&str, &str) = ("idempotency-key", "7d3c1e04-9d5e-4a39-b8a4-3f6a2c1d9e10");

#[tokio::test]
async fn a_retried_sign_up_returns_the_first_answer_and_creates_no_second_account() {
    let stack = TestStack::start().await;
    let body = json!({"name": "Ada", "email": email("ada")});
    let first = stack.post("/users").json(body.clone()).header(KEY.0, KEY.1).send().await;
    assert_eq!(first.status, 201, "{}", first.brief());
    assert_eq!(first.dynamodb_calls(), ["GetItem", "TransactWriteItems"]);
    assert!(first.headers.get("idempotent-replayed").is_none());

    // The same body with its keys in another order and other spacing is the same request.
    let reordered = format!(r#"{{ "email": {}, "name": "Ada" }}"#, body["email"]);
    let retry = stack.post("/users").raw_json(reordered).header(KEY.0, KEY.1).send().await;
    assert_eq!(retry.status, 201, "{}", retry.brief());
    assert_eq!(retry.body, first.body, "the first answer, API key secret included");
    assert_eq!(retry.headers["idempotent-replayed"], "true");
    assert_eq!(retry.dynamodb_calls(), ["GetItem"], "a replay writes nothing");

    let users = stack.get("/users").send().await;
    assert_eq!(users.body["items"].as_array().unwrap().len(), 1, "one account: {}", users.brief());

    // The record holds no plain-text secret, and expires after 24 hours.
    let secret = first.body["apiKey"]["secret"].as_str().unwrap();
    let record = record(&stack, "public", KEY.1).await;
    assert!(!format!("{record:?}").contains(&secret[secret.len() - 64..]), "the stored response is encrypted");
    let expires: i64 = record["expiresAt"].as_n().unwrap().parse().unwrap();
    let in_a_day = shared::clock::now().epoch_seconds() + 24 * 3600;
    assert!((in_a_day - 60..=in_a_day).contains(&expires), "expiresAt {expires}");
}

#[tokio::test]
async fn the_same_key_with_another_body_is_422_and_a_bad_key_is_400() {
    let stack = TestStack::start().await;
    let ada = json!({"name": "Ada", "email": email("ada")});
    assert_eq!(stack.post("/users").json(ada).header(KEY.0, KEY.1).send().await.status, 201);
    let other = stack.post("/users").json(json!({"name": "Bob", "email": email("bob")})).header(KEY.0, KEY.1).send().await;
    other.assert_error(422, "idempotency_key_reused");

    let long = "k".repeat(256);
    for bad in ["", "has space", long.as_str()] {
        let reply = stack.post("/users").json(json!({"name": "Cy", "email": email("cy")})).header("idempotency-key", bad).send().await;
        reply.assert_error(400, "invalid_idempotency_key");
    }
    assert_eq!(stack.get("/users").send().await.body["items"].as_array().unwrap().len(), 1, "nothing created by refused requests");
}

#[tokio::test]
async fn posts_replay_with_their_etag_and_each_user_has_their_own_keys() {
    let stack = TestStack::start().await;
    let (ada, bob) = (sign_up(&stack, "Ada", &email("ada")).await, sign_up(&stack, "Bob", &email("bob")).await);
    let draft = json!({"title": "Engines", "content": "On the analytical engine."});
    let first = stack.post("/posts").key(&ada.key).json(draft.clone()).header(KEY.0, KEY.1).send().await;
    assert_eq!(first.status, 201, "{}", first.brief());
    assert_eq!(first.dynamodb_calls(), ["GetItem", "GetItem", "TransactWriteItems"]);
    let retry = stack.post("/posts").key(&ada.key).json(draft.clone()).header(KEY.0, KEY.1).send().await;
    assert_eq!((retry.status, &retry.body), (201, &first.body));
    assert_eq!(retry.headers["etag"], first.headers["etag"]);
    assert_eq!(retry.headers["idempotent-replayed"], "true");

    // Bob's key space is his own: the same key creates his post.
    let bobs = stack.post("/posts").key(&bob.key).json(draft.clone()).header(KEY.0, KEY.1).send().await;
    assert_eq!(bobs.status, 201);
    assert_ne!(bobs.body["id"], first.body["id"]);
    assert!(bobs.headers.get("idempotent-replayed").is_none());

    let drafts = stack.get("/me/drafts").key(&ada.key).send().await;
    assert_eq!(drafts.body["items"].as_array().unwrap().len(), 1, "{}", drafts.brief());
    // Without a key, the same calls less the record's GetItem.
    let plain = stack.post("/posts").key(&ada.key).json(draft).send().await;
    assert_eq!(plain.dynamodb_calls(), ["GetItem", "TransactWriteItems"]);
}

#[tokio::test]
async fn concurrent_retries_of_one_comment_create_it_once() {
    let Some(stack) = TestStack::requiring(Guarantee::IsolatedTransactions, "concurrent_retries_of_one_comment_create_it_once").await else {
        return;
    };
    let ada = sign_up(&stack, "Ada", &email("ada")).await;
    let post = stack.post("/posts").key(&ada.key).json(json!({"title": "T", "content": "C"})).send().await;
    let id = post.body["id"].as_str().unwrap().to_string();
    assert_eq!(stack.post(&format!("/posts/{id}/publish")).key(&ada.key).send().await.status, 200);

    const CLIENTS: usize = 20;
    let path = format!("/posts/{id}/comments");
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..CLIENTS {
        tasks.spawn(stack.post(&path).key(&ada.key).header(KEY.0, KEY.1).json(json!({"text": "First!"})).send());
    }
    let replies = tasks.join_all().await;
    let ids: std::collections::BTreeSet<String> = replies
        .iter()
        .map(|r| {
            assert_eq!(r.status, 201, "{}", r.brief());
            r.body["id"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(ids.len(), 1, "every client got the one comment");
    let replayed = replies.iter().filter(|r| r.headers.get("idempotent-replayed").is_some()).count();
    assert_eq!(replayed, CLIENTS - 1);

    stack.settle().await;
    let comments = stack.get(&path).send().await;
    assert_eq!(comments.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(stack.get(&format!("/posts/{id}")).send().await.body["commentCount"], 1);
    // The same key on another post is another request.
    let elsewhere =
        stack.post("/posts/01ARZ3NDEKTSV4RRFFQ69G5FAV/comments").key(&ada.key).json(json!({"text": "First!"})).header(KEY.0, KEY.1).send().await;
    elsewhere.assert_error(422, "idempotency_key_reused");
}

#[tokio::test]
async fn an_expired_record_no_longer_replays() {
    let stack = TestStack::start().await;
    let ada = sign_up(&stack, "Ada", &email("ada")).await;
    let draft = json!({"title": "T", "content": "C"});
    let first = stack.post("/posts").key(&ada.key).json(draft.clone()).header(KEY.0, KEY.1).send().await;
    assert_eq!(first.status, 201);
    // TTL deletes within days, not on the second: a record past its
    // expiresAt counts as gone even while it is still in the table.
    let key = shared::keys::idempotency(&ada.id, KEY.1);
    expire(&stack, &key).await;
    let later = stack.post("/posts").key(&ada.key).json(draft).header(KEY.0, KEY.1).send().await;
    assert_eq!(later.status, 201);
    assert!(later.headers.get("idempotent-replayed").is_none());
    assert_ne!(later.body["id"], first.body["id"], "a new post");
}

#[tokio::test]
async fn ttl_sweeps_expired_records() {
    let Some(stack) = TestStack::requiring(Guarantee::TtlSweep, "ttl_sweeps_expired_records").await else {
        return;
    };
    let ada = sign_up(&stack, "Ada", &email("ada")).await;
    let first = stack.post("/posts").key(&ada.key).json(json!({"title": "T", "content": "C"})).header(KEY.0, KEY.1).send().await;
    assert_eq!(first.status, 201);
    let key = shared::keys::idempotency(&ada.id, KEY.1);
    expire(&stack, &key).await;
    assert!(stack.sweep_ttl().await >= 1);
    let gone = stack.table().client().get_item().table_name(stack.table().name()).set_key(Some(key.to_attributes())).send().await.unwrap();
    assert!(gone.item.is_none());
}

async fn expire(stack: &TestStack, key: &shared::keys::Key) {
    stack
        .table()
        .client()
        .update_item()
        .table_name(stack.table().name())
        .set_key(Some(key.to_attributes()))
        .update_expression("SET expiresAt = :past")
        .expression_attribute_values(":past", AttributeValue::N((shared::clock::now().epoch_seconds() - 1).to_string()))
        .send()
        .await
        .unwrap();
}

async fn record(stack: &TestStack, scope: &str, key: &str) -> std::collections::HashMap<String, AttributeValue> {
    let table = stack.table();
    let output =
        table.client().get_item().table_name(table.name()).set_key(Some(shared::keys::idempotency(scope, key).to_attributes())).send().await.unwrap();
    output.item.expect("the record exists")
}
