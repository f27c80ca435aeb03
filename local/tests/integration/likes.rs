//! Likes over real HTTP: idempotent, on published posts only, counted
//! exactly once by the stream processor, listed newest first, and removed
//! with their post or their user.

use crate::common::*;
use local::testing::Guarantee;
use serde_json::json;

async fn published_post(stack: &TestStack, key: &str, title: &str) -> String {
    let created = stack.post("/posts").key(key).json(json!({"title": title, "content": "Words."})).send().await;
    assert_eq!(created.status, 201, "{}", created.brief());
    let post = created.body["id"].as_str().unwrap().to_string();
    assert_eq!(stack.post(&format!("/posts/{post}/publish")).key(key).send().await.status, 200);
    post
}

async fn like_count(stack: &TestStack, post: &str) -> u64 {
    stack.settle().await;
    let reply = stack.get(&format!("/posts/{post}")).send().await;
    assert_eq!(reply.status, 200, "{}", reply.brief());
    reply.body["likeCount"].as_u64().unwrap()
}

#[tokio::test]
async fn a_hundred_users_liking_at_once_make_a_hundred_likes() {
    let Some(stack) = TestStack::requiring(Guarantee::IsolatedTransactions, "a_hundred_users_liking_at_once_make_a_hundred_likes").await else {
        return;
    };
    let ada = sign_up(&stack, "Ada", &email("ada")).await;
    let post = published_post(&stack, &ada.key, "Popular").await;
    let mut fans = Vec::new();
    for n in 0..100 {
        fans.push(sign_up(&stack, &format!("Fan {n}"), &email("fan")).await);
    }
    let path = format!("/posts/{post}/like");
    let statuses = race(100, |i| stack.put(&path).key(&fans[i].key)).await;
    assert_eq!(count(&statuses, 204), 100, "{statuses:?}");
    assert_eq!(like_count(&stack, &post).await, 100);
    let listed = stack.get(&format!("/users/{}/posts", ada.id)).send().await;
    assert_eq!(listed.body["items"][0]["likeCount"], 100, "listings show it too");
}

#[tokio::test]
async fn one_user_liking_twenty_times_at_once_likes_once() {
    let Some(stack) = TestStack::requiring(Guarantee::IsolatedTransactions, "one_user_liking_twenty_times_at_once_likes_once").await else {
        return;
    };
    let ada = sign_up(&stack, "Ada", &email("ada")).await;
    let bob = sign_up(&stack, "Bob", &email("bob")).await;
    let post = published_post(&stack, &ada.key, "Once").await;
    let path = format!("/posts/{post}/like");
    let statuses = race(20, |_| stack.put(&path).key(&bob.key)).await;
    assert_eq!(count(&statuses, 204), 20, "idempotent: {statuses:?}");
    assert_eq!(like_count(&stack, &post).await, 1);
    let likes = stack.get("/me/likes").key(&bob.key).send().await;
    assert_eq!(likes.body["items"].as_array().unwrap().len(), 1, "{}", likes.brief());
}

#[tokio::test]
async fn like_unlike_like_is_one_like_and_the_caller_sees_it() {
    let stack = TestStack::start().await;
    let ada = sign_up(&stack, "Ada", &email("ada")).await;
    let bob = sign_up(&stack, "Bob", &email("bob")).await;
    let first = published_post(&stack, &ada.key, "First").await;
    let second = published_post(&stack, &ada.key, "Second").await;
    let like = format!("/posts/{first}/like");
    assert_eq!(stack.put(&like).key(&bob.key).send().await.status, 204);
    assert_eq!(stack.get(&format!("/me/likes/{first}")).key(&bob.key).send().await.status, 200);
    assert_eq!(stack.delete(&like).key(&bob.key).send().await.status, 204);
    assert_eq!(stack.delete(&like).key(&bob.key).send().await.status, 204, "unliking again changes nothing");
    stack.get(&format!("/me/likes/{first}")).key(&bob.key).send().await.assert_error(404, "not_found");
    assert_eq!(like_count(&stack, &first).await, 0);
    assert_eq!(stack.put(&like).key(&bob.key).send().await.status, 204);
    assert_eq!(like_count(&stack, &first).await, 1);
    // Newest like first; a like of your own post counts like any other.
    assert_eq!(stack.put(&format!("/posts/{second}/like")).key(&bob.key).send().await.status, 204);
    assert_eq!(stack.put(&format!("/posts/{second}/like")).key(&ada.key).send().await.status, 204);
    let likes = stack.get("/me/likes").key(&bob.key).send().await;
    let ids: Vec<&str> = likes.body["items"].as_array().unwrap().iter().map(|l| l["postId"].as_str().unwrap()).collect();
    assert_eq!(ids, [second.as_str(), first.as_str()]);
    assert_eq!(like_count(&stack, &second).await, 2);
    let mine = stack.get(&format!("/me/likes/{second}")).key(&bob.key).send().await;
    assert_eq!(mine.body["postId"], second.as_str());
    assert_eq!(mine.dynamodb_calls(), ["GetItem"]);
}

#[tokio::test]
async fn only_published_posts_can_be_liked() {
    let stack = TestStack::start().await;
    let ada = sign_up(&stack, "Ada", &email("ada")).await;
    let draft = stack.post("/posts").key(&ada.key).json(json!({"title": "Draft", "content": "Not yet."})).send().await;
    let draft = draft.body["id"].as_str().unwrap().to_string();
    for path in [format!("/posts/{draft}/like"), format!("/posts/{}/like", ulid::Ulid::new())] {
        stack.put(&path).key(&ada.key).send().await.assert_error(404, "not_found");
        stack.delete(&path).key(&ada.key).send().await.assert_error(404, "not_found");
    }
    let likes = stack.get("/me/likes").key(&ada.key).send().await;
    assert_eq!(likes.body["items"], json!([]), "nothing was stored");
}

#[tokio::test]
async fn deleting_a_post_or_an_account_removes_its_likes_and_corrects_the_counts() {
    let Some(stack) =
        TestStack::requiring(Guarantee::IsolatedTransactions, "deleting_a_post_or_an_account_removes_its_likes_and_corrects_the_counts").await
    else {
        return;
    };
    let ada = sign_up(&stack, "Ada", &email("ada")).await;
    let bob = sign_up(&stack, "Bob", &email("bob")).await;
    let cat = sign_up(&stack, "Cat", &email("cat")).await;
    let (kept, doomed) = (published_post(&stack, &ada.key, "Kept").await, published_post(&stack, &ada.key, "Doomed").await);
    for user in [&bob, &cat] {
        for post in [&kept, &doomed] {
            assert_eq!(stack.put(&format!("/posts/{post}/like")).key(&user.key).send().await.status, 204);
        }
    }
    assert_eq!(like_count(&stack, &kept).await, 2);
    // Bob leaves: his likes go, and the counts follow.
    assert_eq!(stack.delete("/me").key(&bob.key).send().await.status, 204);
    assert_eq!(like_count(&stack, &kept).await, 1);
    // Ada deletes a post: Cat's like of it goes from Cat's likes.
    assert_eq!(stack.delete(&format!("/posts/{doomed}")).key(&ada.key).send().await.status, 204);
    stack.settle().await;
    let likes = stack.get("/me/likes").key(&cat.key).send().await;
    let ids: Vec<&str> = likes.body["items"].as_array().unwrap().iter().map(|l| l["postId"].as_str().unwrap()).collect();
    assert_eq!(ids, [kept.as_str()]);
}
