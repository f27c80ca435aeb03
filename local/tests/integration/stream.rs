//! The stream processor end to end on the local stack: counters and
//! notifications settle right, and cascades complete.

use crate::common::*;
use aws_sdk_dynamodb::types::AttributeValue;
use local::testing::Guarantee;
use serde_json::{Value, json};

async fn me(stack: &TestStack, key: &str) -> Value {
    call(stack, "GET", "/me", Some(key), None, &[]).await.body
}

async fn notifications(stack: &TestStack, key: &str) -> Vec<Value> {
    call(stack, "GET", "/me/notifications?limit=100", Some(key), None, &[]).await.body["items"].as_array().unwrap().clone()
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
        assert_eq!(call(&stack, "PUT", &format!("/users/{}/follow", ada.id), Some(&fan.key), None, &[]).await.status, 204);
    }
    let draft = call(&stack, "POST", "/posts", Some(&ada.key), Some(json!({"title": "T", "content": "C"})), &[]).await;
    let post = draft.body["id"].as_str().unwrap().to_string();
    assert_eq!(call(&stack, "POST", &format!("/posts/{post}/publish"), Some(&ada.key), None, &[]).await.status, 200);
    for (who, text) in [(&bob, "nice"), (&ada, "thanks")] {
        let reply = call(&stack, "POST", &format!("/posts/{post}/comments"), Some(&who.key), Some(json!({"text": text})), &[]).await;
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
    let public = call(&stack, "GET", &format!("/posts/{post}"), None, None, &[]).await;
    assert_eq!(public.body["commentCount"], 2);

    // Reading one, unfollowing, deleting a comment: the counts follow.
    let first = notifications(&stack, &ada.key).await[0]["id"].as_str().unwrap().to_string();
    call(&stack, "POST", &format!("/me/notifications/{first}/read"), Some(&ada.key), None, &[]).await;
    call(&stack, "DELETE", &format!("/users/{}/follow", ada.id), Some(&cy.key), None, &[]).await;
    let comments = call(&stack, "GET", &format!("/posts/{post}/comments"), None, None, &[]).await;
    let bobs = comments.body["items"][0]["id"].as_str().unwrap();
    assert_eq!(call(&stack, "DELETE", &format!("/posts/{post}/comments/{bobs}"), Some(&bob.key), None, &[]).await.status, 204);
    stack.settle().await;
    let profile = me(&stack, &ada.key).await;
    assert_eq!((profile["unreadNotificationCount"].as_u64(), profile["followerCount"].as_u64()), (Some(3), Some(1)));
    assert_eq!(me(&stack, &cy.key).await["followingCount"], 0);
    assert_eq!(call(&stack, "GET", &format!("/posts/{post}"), None, None, &[]).await.body["commentCount"], 1);
}

#[tokio::test]
async fn renames_plans_and_deletions_cascade() {
    // Counters of deleted posts are dropped through cancelled transactions.
    let Some(stack) = TestStack::requiring(Guarantee::IsolatedTransactions, "renames_plans_and_deletions_cascade").await else {
        return;
    };
    let ada = sign_up(&stack, "Ada", &email("ada")).await;
    let bob = sign_up(&stack, "Bob", &email("bob")).await;
    call(&stack, "PUT", &format!("/users/{}/follow", ada.id), Some(&bob.key), None, &[]).await;
    call(&stack, "PUT", &format!("/users/{}/follow", bob.id), Some(&ada.key), None, &[]).await;
    let mut posts = Vec::new();
    for n in 0..3 {
        let draft = call(&stack, "POST", "/posts", Some(&ada.key), Some(json!({"title": format!("P{n}"), "content": "C"})), &[]).await;
        let post = draft.body["id"].as_str().unwrap().to_string();
        if n < 2 {
            call(&stack, "POST", &format!("/posts/{post}/publish"), Some(&ada.key), None, &[]).await;
        }
        posts.push(post);
    }
    for _ in 0..3 {
        call(&stack, "POST", &format!("/posts/{}/comments", posts[0]), Some(&bob.key), Some(json!({"text": "x"})), &[]).await;
    }

    // A rename reaches every post, draft or published; a plan change reaches the keys.
    call(&stack, "PATCH", "/me", Some(&ada.key), Some(json!({"name": "Countess"})), &[]).await;
    call(&stack, "PUT", "/me/plan", Some(&ada.key), Some(json!({"from": "free", "to": "pro"})), &[]).await;
    stack.settle().await;
    for post in &posts {
        let own = call(&stack, "GET", &format!("/me/posts/{post}"), Some(&ada.key), None, &[]).await;
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
    call(&stack, "DELETE", &format!("/posts/{}", posts[0]), Some(&ada.key), None, &[]).await;
    stack.settle().await;
    assert_eq!(count_items(&stack, format!("POST#{}", posts[0]), "COMMENT#").await, 0);
    assert_eq!(me(&stack, &ada.key).await["publishedPostCount"], 1);

    // Deleting the account removes its keys, notifications, posts and follow
    // edges both ways, and the other side's counts follow.
    assert_eq!(me(&stack, &bob.key).await["followerCount"], 1);
    assert_eq!(call(&stack, "DELETE", "/me", Some(&ada.key), None, &[]).await.status, 204);
    stack.settle().await;
    assert_eq!(count_partition(&stack, format!("USER#{}", ada.id)).await, 0, "keys, notifications, followers all gone");
    for post in &posts {
        call(&stack, "GET", &format!("/posts/{post}"), None, None, &[]).await.assert_error(404, "not_found");
    }
    let bob_now = me(&stack, &bob.key).await;
    assert_eq!((bob_now["followerCount"].as_u64(), bob_now["followingCount"].as_u64()), (Some(0), Some(0)));
    assert!(call(&stack, "GET", &format!("/users/{}/followers", bob.id), None, None, &[]).await.body["items"].as_array().unwrap().is_empty());
    assert_eq!(call(&stack, "GET", "/me", Some(&ada.key), None, &[]).await.status, 403, "the deleted account's key is gone");
}

#[tokio::test]
async fn an_expiring_unread_notification_lowers_the_unread_count() {
    let Some(stack) = TestStack::requiring(Guarantee::TtlSweep, "an_expiring_unread_notification_lowers_the_unread_count").await else {
        return;
    };
    let ada = sign_up(&stack, "Ada", &email("ada")).await;
    let bob = sign_up(&stack, "Bob", &email("bob")).await;
    call(&stack, "PUT", &format!("/users/{}/follow", ada.id), Some(&bob.key), None, &[]).await;
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
