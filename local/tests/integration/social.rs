//! Comments, follows and notifications over real HTTP.

use crate::common::*;
use aws_sdk_dynamodb::types::AttributeValue;
use local::testing::Guarantee;
use serde_json::json;

async fn published_post(stack: &TestStack, key: &str) -> String {
    let draft = stack.post("/posts").key(key).json(json!({"title": "T", "content": "C"})).send().await;
    let post = draft.body["id"].as_str().unwrap().to_string();
    assert_eq!(stack.post(&format!("/posts/{post}/publish")).key(key).send().await.status, 200);
    post
}

/// Follows every page of `path` and returns the `field` of each item.
async fn all_pages(stack: &TestStack, path: &str, field: &str) -> (Vec<String>, usize) {
    let (mut values, mut pages) = (Vec::new(), 0);
    let mut next = format!("{path}?limit=7");
    loop {
        let reply = stack.get(&next).send().await;
        assert_eq!(reply.status, 200, "{}", reply.brief());
        assert_eq!(reply.dynamodb_calls(), ["Query"]);
        pages += 1;
        values.extend(reply.body["items"].as_array().unwrap().iter().map(|i| i[field].as_str().unwrap().to_string()));
        match reply.body["nextCursor"].as_str() {
            Some(cursor) => next = format!("{path}?limit=7&cursor={cursor}"),
            None => return (values, pages),
        }
    }
}

#[tokio::test]
async fn comments_are_paged_oldest_first_and_only_on_published_posts() {
    let stack = TestStack::start().await;
    let ada = sign_up(&stack, "Ada", &email("ada")).await;
    let bob = sign_up(&stack, "Bob", &email("bob")).await;
    let post = published_post(&stack, &ada.key).await;
    let mut written = Vec::new();
    for n in 0..20 {
        let reply = stack.post(&format!("/posts/{post}/comments")).key(&bob.key).json(json!({"text": format!("comment {n}")})).send().await;
        assert_eq!(reply.status, 201, "{}", reply.brief());
        assert_eq!(reply.body["authorId"], bob.id.as_str());
        written.push(reply.body["text"].as_str().unwrap().to_string());
    }
    let (texts, pages) = all_pages(&stack, &format!("/posts/{post}/comments"), "text").await;
    assert_eq!(texts, written, "oldest first, nothing lost or repeated across pages");
    assert_eq!(pages, 3);

    let draft = stack.post("/posts").key(&ada.key).json(json!({"title": "D", "content": "C"})).send().await;
    let draft_id = draft.body["id"].as_str().unwrap();
    stack.post(&format!("/posts/{draft_id}/comments")).key(&bob.key).json(json!({"text": "early"})).send().await.assert_error(404, "not_found");
    let missing = ulid::Ulid::new();
    stack.post(&format!("/posts/{missing}/comments")).key(&bob.key).json(json!({"text": "x"})).send().await.assert_error(404, "not_found");
    for (body, code) in [(json!({"text": ""}), "invalid_field"), (json!({"text": "x".repeat(5001)}), "invalid_field"), (json!({}), "invalid_json")] {
        stack.post(&format!("/posts/{post}/comments")).key(&bob.key).json(body).send().await.assert_error(400, code);
    }
}

#[tokio::test]
async fn a_comment_is_read_by_its_post_and_id_until_it_is_deleted() {
    let stack = TestStack::start().await;
    let ada = sign_up(&stack, "Ada", &email("ada")).await;
    let post = published_post(&stack, &ada.key).await;
    let written = stack.post(&format!("/posts/{post}/comments")).key(&ada.key).json(json!({"text": "first!"})).send().await;
    let path = format!("/posts/{post}/comments/{}", written.body["id"].as_str().unwrap());

    let read = stack.get(&path).send().await;
    assert_eq!(read.status, 200, "{}", read.brief());
    assert_eq!(read.body, written.body, "the comment as it was created");
    assert_eq!(read.dynamodb_calls(), ["GetItem"]);
    // Under another post, or unknown: not found.
    let other_post = published_post(&stack, &ada.key).await;
    stack.get(&format!("/posts/{other_post}/comments/{}", written.body["id"].as_str().unwrap())).send().await.assert_error(404, "not_found");
    stack.get(&format!("/posts/{post}/comments/{}", ulid::Ulid::new())).send().await.assert_error(404, "not_found");

    assert_eq!(stack.delete(&path).key(&ada.key).send().await.status, 204);
    stack.get(&path).send().await.assert_error(404, "not_found");
}

#[tokio::test]
async fn a_comment_may_be_deleted_by_its_author_or_the_posts_author_only() {
    let stack = TestStack::start().await;
    let owner = sign_up(&stack, "Owner", &email("owner")).await;
    let author = sign_up(&stack, "Author", &email("author")).await;
    let stranger = sign_up(&stack, "Stranger", &email("stranger")).await;
    let post = published_post(&stack, &owner.key).await;
    let comments = format!("/posts/{post}/comments");
    let comment = |key: &str| {
        let sent = stack.post(&comments).key(key).json(json!({"text": "hi"})).send();
        async move { sent.await.body["id"].as_str().unwrap().to_string() }
    };
    let delete = |key: &str, id: &str| stack.delete(&format!("{comments}/{id}")).key(key).send();

    let first = comment(&author.key).await;
    delete(&stranger.key, &first).await.assert_error(403, "forbidden");
    let by_author = delete(&author.key, &first).await;
    assert_eq!(by_author.status, 204);
    assert_eq!(by_author.dynamodb_calls(), ["BatchGetItem", "DeleteItem"]);
    delete(&author.key, &first).await.assert_error(404, "not_found");

    let second = comment(&author.key).await;
    assert_eq!(delete(&owner.key, &second).await.status, 204, "the post's author may delete it");
    let third = comment(&stranger.key).await;
    delete(&author.key, &third).await.assert_error(403, "forbidden");
    assert_eq!(delete(&stranger.key, &third).await.status, 204);

    let left = stack.get(&comments).send().await;
    assert!(left.body["items"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn follows_are_idempotent_and_listed_both_ways() {
    let stack = TestStack::start().await;
    let star = sign_up(&stack, "Star", &email("star")).await;
    let mut fans = Vec::new();
    for n in 0..16 {
        let fan = sign_up(&stack, &format!("Fan {n}"), &email("fan")).await;
        for _ in 0..2 {
            let reply = stack.put(&format!("/users/{}/follow", star.id)).key(&fan.key).send().await;
            assert_eq!(reply.status, 204, "following twice answers the same: {}", reply.brief());
        }
        fans.push(fan);
    }
    let (followers, pages) = all_pages(&stack, &format!("/users/{}/followers", star.id), "userId").await;
    let mut expected: Vec<String> = fans.iter().map(|f| f.id.clone()).collect();
    expected.sort();
    assert_eq!(followers, expected, "each fan once, by user id");
    assert_eq!(pages, 3);

    for fan in &fans[..3] {
        let following = stack.get(&format!("/users/{}/following", fan.id)).send().await;
        assert_eq!(following.body["items"][0]["userId"], star.id.as_str());
    }
    for _ in 0..2 {
        assert_eq!(stack.delete(&format!("/users/{}/follow", star.id)).key(&fans[0].key).send().await.status, 204);
    }
    let (followers, _) = all_pages(&stack, &format!("/users/{}/followers", star.id), "userId").await;
    assert_eq!(followers.len(), 15);
    let following = stack.get(&format!("/users/{}/following", fans[0].id)).send().await;
    assert!(following.body["items"].as_array().unwrap().is_empty());

    stack.put(&format!("/users/{}/follow", star.id)).key(&star.key).send().await.assert_error(400, "invalid_request");
    stack.put(&format!("/users/{}/follow", ulid::Ulid::new())).key(&star.key).send().await.assert_error(404, "not_found");
    stack.put("/users/nobody/follow").key(&star.key).send().await.assert_error(400, "invalid_id");
}

#[tokio::test]
async fn notifications_list_filter_read_and_expire_in_thirty_days() {
    let stack = TestStack::start().await;
    let ada = sign_up(&stack, "Ada", &email("ada")).await;
    let posts: Vec<String> = {
        let mut ids = Vec::new();
        for _ in 0..3 {
            ids.push(published_post(&stack, &ada.key).await);
        }
        ids
    };
    let all = stack.get("/me/notifications").key(&ada.key).send().await;
    let items = all.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0]["postId"], posts[2].as_str(), "newest first");
    assert!(items.iter().all(|n| n["type"] == "post_published" && n["read"] == false));

    let first = items[2]["id"].as_str().unwrap().to_string();
    for _ in 0..2 {
        let read = stack.post(&format!("/me/notifications/{first}/read")).key(&ada.key).send().await;
        assert_eq!((read.status, read.body["read"].as_bool()), (200, Some(true)), "idempotent");
    }
    let unread = stack.get("/me/notifications?unread=true").key(&ada.key).send().await;
    let unread_ids: Vec<&str> = unread.body["items"].as_array().unwrap().iter().map(|n| n["id"].as_str().unwrap()).collect();
    assert_eq!(unread_ids.len(), 2);
    assert!(!unread_ids.contains(&first.as_str()));
    let everything = stack.get("/me/notifications?unread=false").key(&ada.key).send().await;
    assert_eq!(everything.body["items"].as_array().unwrap().len(), 3);
    stack.get("/me/notifications?unread=maybe").key(&ada.key).send().await.assert_error(400, "invalid_request");

    // Someone else's notification id is simply not found under your account.
    let bob = sign_up(&stack, "Bob", &email("bob")).await;
    stack.post(&format!("/me/notifications/{first}/read")).key(&bob.key).send().await.assert_error(404, "not_found");

    let table = stack.table();
    let stored = table
        .client()
        .get_item()
        .table_name(table.name())
        .key("PK", AttributeValue::S(format!("USER#{}", ada.id)))
        .key("SK", AttributeValue::S(format!("NOTIF#{first}")))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    let expires: i64 = stored["expiresAt"].as_n().unwrap().parse().unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    assert!((expires - now - 30 * 86_400).abs() < 120, "expires 30 days after creation");
    assert!(!stored.contains_key("GSI2PK"), "a read notification leaves the unread index");
}

/// 24 fans follow one star at once, each sending the follow twice, and 8 of
/// them unfollow at once while the rest are still following: after the
/// stream settles every counter equals what the table holds.
#[tokio::test]
async fn concurrent_follows_and_unfollows_leave_exact_counters() {
    const FANS: usize = 24;
    const LEAVERS: usize = 8;
    let Some(stack) = TestStack::requiring(Guarantee::IsolatedTransactions, "concurrent_follows_and_unfollows_leave_exact_counters").await else {
        return;
    };
    let star = sign_up(&stack, "Star", &email("star")).await;
    let mut fans = Vec::new();
    for n in 0..FANS {
        fans.push(sign_up(&stack, &format!("Fan {n}"), &email("fan")).await);
    }
    let follow = format!("/users/{}/follow", star.id);
    let statuses = race(FANS * 2, |i| stack.put(&follow).key(&fans[i % FANS].key)).await;
    assert_eq!(count(&statuses, 204), FANS * 2, "{statuses:?}");
    let statuses = race(LEAVERS, |i| stack.delete(&follow).key(&fans[i].key)).await;
    assert_eq!(count(&statuses, 204), LEAVERS);

    stack.settle().await;
    let (followers, _) = all_pages(&stack, &format!("/users/{}/followers", star.id), "userId").await;
    assert_eq!(followers.len(), FANS - LEAVERS);
    let profile = stack.get(&format!("/users/{}", star.id)).send().await;
    assert_eq!(profile.body["followerCount"], FANS - LEAVERS, "{}", profile.brief());
    for (n, fan) in fans.iter().enumerate() {
        let expected = if n < LEAVERS { 0 } else { 1 };
        assert_eq!(stack.get(&format!("/users/{}", fan.id)).send().await.body["followingCount"], expected, "fan {n}");
    }
}
