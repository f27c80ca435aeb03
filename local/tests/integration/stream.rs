//! The stream processor end to end on the local stack: counters and
//! notifications settle right, and cascades complete.

use crate::common::*;
use aws_sdk_dynamodb::types::AttributeValue;
use local::testing::Guarantee;
use serde_json::{Value, json};

async fn me(stack: &TestStack, key: &str) -> Value {
    stack.get("/me").key(key).send().await.body
}

async fn notifications(stack: &TestStack, key: &str) -> Vec<Value> {
    stack.get("/me/notifications?limit=100").key(key).send().await.body["items"].as_array().unwrap().clone()
}

async fn count_items(stack: &TestStack, pk: String, prefix: &str) -> usize {
    let table = stack.table();
    let output = table
        .client()
        .query()
        .table_name(table.name())
        .key_condition_expression("PK = :pk AND begins_with(SK, :p)")
        .expression_attribute_values(":pk", AttributeValue::S(pk))
        .expression_attribute_values(":p", AttributeValue::S(prefix.into()))
        .send()
        .await
        .unwrap();
    output.count() as usize
}

/// Every item in a partition. (Not `begins_with(SK, "")`: DynamoDB refuses
/// an empty key value in a key condition.)
async fn count_partition(stack: &TestStack, pk: String) -> usize {
    let table = stack.table();
    let query = table.client().query().table_name(table.name()).key_condition_expression("PK = :pk");
    let output = query.expression_attribute_values(":pk", AttributeValue::S(pk)).send().await.unwrap();
    output.count() as usize
}

#[tokio::test]
async fn counters_and_notifications_follow_the_changes() {
    let stack = TestStack::start().await;
    let ada = sign_up(&stack, "Ada", &email("ada")).await;
    let bob = sign_up(&stack, "Bob", &email("bob")).await;
    let cy = sign_up(&stack, "Cy", &email("cy")).await;
    for fan in [&bob, &cy] {
        assert_eq!(stack.put(&format!("/users/{}/follow", ada.id)).key(&fan.key).send().await.status, 204);
    }
    let draft = stack.post("/posts").key(&ada.key).json(json!({"title": "T", "content": "C"})).send().await;
    let post = draft.body["id"].as_str().unwrap().to_string();
    assert_eq!(stack.post(&format!("/posts/{post}/publish")).key(&ada.key).send().await.status, 200);
    for (who, text) in [(&bob, "nice"), (&ada, "thanks")] {
        let reply = stack.post(&format!("/posts/{post}/comments")).key(&who.key).json(json!({"text": text})).send().await;
        assert_eq!(reply.status, 201);
    }
    stack.settle().await;

    let profile = me(&stack, &ada.key).await;
    assert_eq!(profile["followerCount"], 2);
    assert_eq!(profile["publishedPostCount"], 1);
    let kinds: Vec<String> = notifications(&stack, &ada.key).await.iter().map(|n| n["type"].as_str().unwrap().to_string()).collect();
    let mut sorted = kinds.clone();
    sorted.sort();
    assert_eq!(sorted, ["new_comment", "new_follower", "new_follower", "post_published"], "no notification for Ada's own comment");
    assert_eq!(profile["unreadNotificationCount"], 4);
    assert_eq!(me(&stack, &bob.key).await["followingCount"], 1);
    for fan in [&bob, &cy] {
        let theirs = notifications(&stack, &fan.key).await;
        assert_eq!(theirs.len(), 1);
        assert_eq!((theirs[0]["type"].as_str(), theirs[0]["postId"].as_str()), (Some("followed_author_published"), Some(post.as_str())));
        assert_eq!(me(&stack, &fan.key).await["unreadNotificationCount"], 1);
    }
    let public = stack.get(&format!("/posts/{post}")).send().await;
    assert_eq!(public.body["commentCount"], 2);

    // Reading one, unfollowing, deleting a comment: the counts follow.
    let first = notifications(&stack, &ada.key).await[0]["id"].as_str().unwrap().to_string();
    stack.post(&format!("/me/notifications/{first}/read")).key(&ada.key).send().await;
    stack.delete(&format!("/users/{}/follow", ada.id)).key(&cy.key).send().await;
    let comments = stack.get(&format!("/posts/{post}/comments")).send().await;
    let bobs = comments.body["items"][0]["id"].as_str().unwrap();
    assert_eq!(stack.delete(&format!("/posts/{post}/comments/{bobs}")).key(&bob.key).send().await.status, 204);
    stack.settle().await;
    let profile = me(&stack, &ada.key).await;
    assert_eq!((profile["unreadNotificationCount"].as_u64(), profile["followerCount"].as_u64()), (Some(3), Some(1)));
    assert_eq!(me(&stack, &cy.key).await["followingCount"], 0);
    assert_eq!(stack.get(&format!("/posts/{post}")).send().await.body["commentCount"], 1);
}

#[tokio::test]
async fn renames_plans_and_deletions_cascade() {
    // Counters of deleted posts are dropped through cancelled transactions.
    let Some(stack) = TestStack::requiring(Guarantee::IsolatedTransactions, "renames_plans_and_deletions_cascade").await else {
        return;
    };
    let ada = sign_up(&stack, "Ada", &email("ada")).await;
    let bob = sign_up(&stack, "Bob", &email("bob")).await;
    stack.put(&format!("/users/{}/follow", ada.id)).key(&bob.key).send().await;
    stack.put(&format!("/users/{}/follow", bob.id)).key(&ada.key).send().await;
    let mut posts = Vec::new();
    for n in 0..3 {
        let draft = stack.post("/posts").key(&ada.key).json(json!({"title": format!("P{n}"), "content": "C"})).send().await;
        let post = draft.body["id"].as_str().unwrap().to_string();
        if n < 2 {
            stack.post(&format!("/posts/{post}/publish")).key(&ada.key).send().await;
        }
        posts.push(post);
    }
    for _ in 0..3 {
        stack.post(&format!("/posts/{}/comments", posts[0])).key(&bob.key).json(json!({"text": "x"})).send().await;
    }

    // A rename reaches every post, draft or published; a plan change reaches the keys.
    stack.patch("/me").key(&ada.key).json(json!({"name": "Countess"})).send().await;
    stack.put("/me/plan").key(&ada.key).json(json!({"from": "free", "to": "pro"})).send().await;
    stack.settle().await;
    for post in &posts {
        let own = stack.get(&format!("/me/posts/{post}")).key(&ada.key).send().await;
        assert_eq!(own.body["authorName"], "Countess");
    }
    let table = stack.table();
    let keys = table
        .client()
        .query()
        .table_name(table.name())
        .key_condition_expression("PK = :pk AND begins_with(SK, :p)")
        .expression_attribute_values(":pk", AttributeValue::S(format!("USER#{}", ada.id)))
        .expression_attribute_values(":p", AttributeValue::S("APIKEY#".into()))
        .send()
        .await
        .unwrap();
    assert!(keys.items().iter().all(|k| k["plan"] == AttributeValue::S("pro".into())));

    // Deleting a post deletes its comments.
    assert_eq!(count_items(&stack, format!("POST#{}", posts[0]), "COMMENT#").await, 3);
    stack.delete(&format!("/posts/{}", posts[0])).key(&ada.key).send().await;
    stack.settle().await;
    assert_eq!(count_items(&stack, format!("POST#{}", posts[0]), "COMMENT#").await, 0);
    assert_eq!(me(&stack, &ada.key).await["publishedPostCount"], 1);

    // Deleting the account removes its keys, notifications, posts and follow
    // edges both ways, and the other side's counts follow.
    assert_eq!(me(&stack, &bob.key).await["followerCount"], 1);
    assert_eq!(stack.delete("/me").key(&ada.key).send().await.status, 204);
    stack.settle().await;
    assert_eq!(count_partition(&stack, format!("USER#{}", ada.id)).await, 0, "keys, notifications, followers all gone");
    for post in &posts {
        stack.get(&format!("/posts/{post}")).send().await.assert_error(404, "not_found");
    }
    let bob_now = me(&stack, &bob.key).await;
    assert_eq!((bob_now["followerCount"].as_u64(), bob_now["followingCount"].as_u64()), (Some(0), Some(0)));
    assert!(stack.get(&format!("/users/{}/followers", bob.id)).send().await.body["items"].as_array().unwrap().is_empty());
    assert_eq!(stack.get("/me").key(&ada.key).send().await.status, 403, "the deleted account's key is gone");
}

#[tokio::test]
async fn an_expiring_unread_notification_lowers_the_unread_count() {
    let Some(stack) = TestStack::requiring(Guarantee::TtlSweep, "an_expiring_unread_notification_lowers_the_unread_count").await else {
        return;
    };
    let ada = sign_up(&stack, "Ada", &email("ada")).await;
    let bob = sign_up(&stack, "Bob", &email("bob")).await;
    stack.put(&format!("/users/{}/follow", ada.id)).key(&bob.key).send().await;
    stack.settle().await;
    assert_eq!(me(&stack, &ada.key).await["unreadNotificationCount"], 1);
    let note = notifications(&stack, &ada.key).await[0]["id"].as_str().unwrap().to_string();
    let table = stack.table();
    table
        .client()
        .update_item()
        .table_name(table.name())
        .key("PK", AttributeValue::S(format!("USER#{}", ada.id)))
        .key("SK", AttributeValue::S(format!("NOTIF#{note}")))
        .update_expression("SET expiresAt = :past")
        .expression_attribute_values(":past", AttributeValue::N("1000".into()))
        .send()
        .await
        .unwrap();
    assert_eq!(stack.sweep_ttl().await, 1);
    stack.settle().await;
    assert!(notifications(&stack, &ada.key).await.is_empty());
    let profile = me(&stack, &ada.key).await;
    assert_eq!((profile["unreadNotificationCount"].as_u64(), profile["followerCount"].as_u64()), (Some(0), Some(1)), "nothing else changed");
}
