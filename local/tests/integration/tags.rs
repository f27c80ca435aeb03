//! Tag pages over real HTTP: the published posts with a tag, newest first,
//! exactly once across the tag's shards and pages, kept exact through edits,
//! deletions and account deletions.

use crate::common::*;
use serde_json::json;

async fn publish_tagged(stack: &TestStack, key: &str, title: &str, tags: &[&str]) -> String {
    let created = stack.post("/posts").key(key).json(json!({"title": title, "content": "Words.", "tags": tags})).send().await;
    assert_eq!(created.status, 201, "{}", created.brief());
    let post = created.body["id"].as_str().unwrap().to_string();
    assert_eq!(stack.post(&format!("/posts/{post}/publish")).key(key).send().await.status, 200);
    post
}

/// Every post id on a tag's page, page after page of `limit`.
async fn tag_page(stack: &TestStack, tag: &str, limit: usize) -> Vec<String> {
    let mut ids = Vec::new();
    let mut path = format!("/tags/{tag}/posts?limit={limit}");
    loop {
        let reply = stack.get(&path).send().await;
        assert_eq!(reply.status, 200, "{}", reply.brief());
        assert!(reply.body["items"].as_array().unwrap().len() <= limit);
        ids.extend(reply.body["items"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap().to_string()));
        match reply.body["nextCursor"].as_str() {
            Some(cursor) => path = format!("/tags/{tag}/posts?limit={limit}&cursor={cursor}"),
            None => return ids,
        }
    }
}

#[tokio::test]
async fn a_tag_page_lists_each_published_post_once_newest_first_across_shards_and_pages() {
    let stack = TestStack::start().await;
    let ada = sign_up(&stack, "Ada", &email("ada")).await;
    let bob = sign_up(&stack, "Bob", &email("bob")).await;
    let mut tagged = Vec::new();
    for n in 0..24 {
        let author = if n % 2 == 0 { &ada } else { &bob };
        tagged.push(publish_tagged(&stack, &author.key, &format!("Rust {n}"), &["Rust", "systems"]).await);
        if n % 4 == 0 {
            publish_tagged(&stack, &author.key, &format!("Other {n}"), &["go"]).await;
        }
    }
    // A draft with the tag is not on its page.
    stack.post("/posts").key(&ada.key).json(json!({"title": "Draft", "content": "Soon.", "tags": ["rust"]})).send().await;
    let shards: std::collections::BTreeSet<u32> = tagged.iter().map(|id| shared::keys::tag_shard(shared::ids::PostId::parse(id).unwrap())).collect();
    // Shards are picked by the posts' random bits: 24 posts on fewer than 3 of 4 shards is a 1-in-2-million chance.
    assert!(shards.len() >= 3, "the posts spread over the shards: {shards:?}");
    tagged.reverse();
    for limit in [1, 5, 7, 24, 100] {
        assert_eq!(tag_page(&stack, "rust", limit).await, tagged, "limit {limit}");
    }
    // Tags are compared as stored: trimmed, lower case.
    assert_eq!(tag_page(&stack, "%20RUST%20", 100).await, tagged);
    // One Query per shard and one BatchGetItem of the page's cards.
    let first = stack.get("/tags/rust/posts?limit=5").send().await;
    assert_eq!(first.dynamodb_calls(), ["Query", "Query", "Query", "Query", "BatchGetItem"]);
    assert_eq!(first.body["items"][0]["title"], "Rust 23", "summaries, from the cards");
    // An unknown tag is an empty page (no BatchGetItem); a tag too long is 400.
    let unknown = stack.get("/tags/cobol/posts").send().await;
    assert_eq!((unknown.body["items"].clone(), unknown.dynamodb_calls().len()), (json!([]), 4));
    stack.get(&format!("/tags/{}/posts", "t".repeat(31))).send().await.assert_error(400, "invalid_field");
    // A cursor is the tag's own.
    let cursor = first.body["nextCursor"].as_str().unwrap();
    stack.get(&format!("/tags/systems/posts?cursor={cursor}")).send().await.assert_error(400, "invalid_cursor");
}

#[tokio::test]
async fn edits_deletions_and_account_deletions_keep_tag_pages_exact() {
    let stack = TestStack::start().await;
    let ada = sign_up(&stack, "Ada", &email("ada")).await;
    let bob = sign_up(&stack, "Bob", &email("bob")).await;
    let post = publish_tagged(&stack, &ada.key, "Moving", &["a", "b"]).await;
    let bobs = publish_tagged(&stack, &bob.key, "Bob's", &["b"]).await;
    assert_eq!(tag_page(&stack, "a", 10).await, std::slice::from_ref(&post));

    // Tags edited: off a, still on b, onto c, at once.
    let edited = stack.patch(&format!("/posts/{post}")).key(&ada.key).json(json!({"tags": ["B", "c"]})).send().await;
    assert_eq!(edited.status, 200, "{}", edited.brief());
    assert_eq!(edited.dynamodb_calls(), ["Query", "TransactWriteItems"]);
    assert!(tag_page(&stack, "a", 10).await.is_empty());
    assert_eq!(tag_page(&stack, "b", 10).await, [bobs.clone(), post.clone()]);
    assert_eq!(tag_page(&stack, "c", 10).await, std::slice::from_ref(&post));
    // A draft's tags are on no page, edited or not.
    let draft = stack.post("/posts").key(&ada.key).json(json!({"title": "Draft", "content": "x", "tags": ["d"]})).send().await;
    let draft = draft.body["id"].as_str().unwrap().to_string();
    let retagged = stack.patch(&format!("/posts/{draft}")).key(&ada.key).json(json!({"tags": ["d", "e"]})).send().await;
    assert_eq!(retagged.dynamodb_calls(), ["Query", "UpdateItem"]);
    assert!(tag_page(&stack, "e", 10).await.is_empty());

    // A deleted post leaves its pages at once (its card is gone), and its
    // places go with the stream's cascade.
    assert_eq!(stack.delete(&format!("/posts/{post}")).key(&ada.key).send().await.status, 204);
    assert_eq!(tag_page(&stack, "b", 10).await, std::slice::from_ref(&bobs));
    stack.settle().await;
    let c_shards = shared::keys::tagged_posts("c");
    for shard in &c_shards.shards {
        assert!(stack.table().query_keys(shard).await.unwrap().is_empty(), "no place left on {}", shard.partition);
    }
    // A deleted account's posts leave their pages.
    assert_eq!(stack.delete("/me").key(&bob.key).send().await.status, 204);
    stack.settle().await;
    assert!(tag_page(&stack, "b", 10).await.is_empty());
    for shard in &shared::keys::tagged_posts("b").shards {
        assert!(stack.table().query_keys(shard).await.unwrap().is_empty());
    }
}
