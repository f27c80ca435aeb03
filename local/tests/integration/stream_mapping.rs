//! The local event-source mapping keeps Lambda's promises: a record that
//! can never succeed goes to the dead-letter file after the retries and the
//! records after it are processed; a restart neither replays handled records
//! nor skips unhandled ones.

use crate::common::*;
use aws_sdk_dynamodb::types::AttributeValue;
use local::LocalStack;
use std::sync::atomic::Ordering::SeqCst;

#[tokio::test]
async fn a_poison_record_reaches_the_dead_letters_and_the_shard_moves_on() {
    let stack = TestStack::start().await;
    let ada = sign_up(&stack, "Ada", &email("ada")).await;
    let bob = sign_up(&stack, "Bob", &email("bob")).await;
    // A "comment" that is not one: it passes the filters, never parses.
    let table = stack.table();
    table
        .client()
        .put_item()
        .table_name(table.name())
        .item("PK", AttributeValue::S("POST#broken".into()))
        .item("SK", AttributeValue::S("COMMENT#broken".into()))
        .item("entity", AttributeValue::S("comment".into()))
        .send()
        .await
        .unwrap();
    stack.put(&format!("/users/{}/follow", ada.id)).key(&bob.key).send().await;
    stack.settle().await;

    let mapping = stack.stream().unwrap();
    assert_eq!(mapping.status().dead_lettered.load(SeqCst), 1);
    let lines = std::fs::read_to_string(mapping.dead_letters()).unwrap();
    let letter: serde_json::Value = serde_json::from_str(lines.lines().next().unwrap()).unwrap();
    assert_eq!(letter["condition"], "RetryAttemptsExhausted");
    assert_eq!(letter["retryAttempts"], 6, "MaximumRetryAttempts is 5: the first try and five retries");
    assert_eq!(letter["record"]["dynamodb"]["Keys"]["PK"]["S"], "POST#broken");
    assert!(letter["DDBStreamBatchInfo"]["startSequenceNumber"].is_string());
    let profile = stack.get("/me").key(&ada.key).send().await.body;
    assert_eq!(profile["followerCount"], 1, "the record after the poison one was processed");
}

#[tokio::test]
async fn a_restart_resumes_the_stream_without_replay_or_loss() {
    let dir = std::env::temp_dir().join(format!("quire-stream-restart-{}", ulid::Ulid::new()));
    let start = |attach| LocalStack::start(folder_options(&dir, attach));
    let client = reqwest::Client::new();
    let sign = |stack: &LocalStack, name: &str| {
        let request = client.post(format!("{}/users", stack.url())).json(&serde_json::json!({"name": name, "email": email(name)}));
        async move { request.send().await.unwrap().json::<serde_json::Value>().await.unwrap() }
    };
    let follower_count = |stack: &LocalStack, key: String| {
        let request = client.get(format!("{}/me", stack.url())).bearer_auth(key);
        async move { request.send().await.unwrap().json::<serde_json::Value>().await.unwrap()["followerCount"].clone() }
    };

    // Handled before the first stop: Cy follows Ada.
    let stack = start(true).await.unwrap();
    let (ada, bob, cy) = (sign(&stack, "ada").await, sign(&stack, "bob").await, sign(&stack, "cy").await);
    let ada_id = ada["user"]["id"].as_str().unwrap().to_string();
    let key = |user: &serde_json::Value| user["apiKey"]["secret"].as_str().unwrap().to_string();
    let follow = |stack: &LocalStack, who: String| client.put(format!("{}/users/{ada_id}/follow", stack.url())).bearer_auth(who).send();
    assert_eq!(follow(&stack, key(&cy)).await.unwrap().status(), 204);
    stack.settle().await;
    assert_eq!(follower_count(&stack, key(&ada)).await, 1);
    stack.shutdown().await;

    // Written while no processor runs: Bob follows Ada.
    let stack = start(false).await.unwrap();
    assert_eq!(follow(&stack, key(&bob)).await.unwrap().status(), 204);
    stack.shutdown().await;

    // The next start handles Bob's follow and nothing before it.
    let stack = start(true).await.unwrap();
    stack.settle().await;
    assert_eq!(follower_count(&stack, key(&ada)).await, 2, "the record written while down was handled");
    assert!(stack.stream().unwrap().status().delivered.load(SeqCst) >= 1);
    stack.shutdown().await;

    // And a restart after that delivers nothing again.
    let stack = start(true).await.unwrap();
    stack.settle().await;
    assert_eq!(stack.stream().unwrap().status().delivered.load(SeqCst), 0, "nothing handled is delivered again");
    stack.shutdown().await;
    std::fs::remove_dir_all(dir).unwrap();
}
