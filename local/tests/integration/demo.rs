//! The demo-data command fills a stack through its API, and what it reports
//! is what the API then shows.

use crate::common::*;
use local::demo::{Sizes, fill};

#[tokio::test]
async fn demo_data_fills_the_stack() {
    // Sixteen requests at a time, many of them transactions.
    let Some(stack) = TestStack::requiring(local::testing::Guarantee::IsolatedTransactions, "demo_data_fills_the_stack").await else {
        return;
    };
    let sizes = Sizes { users: 8, posts: 20, comments: 15, follows: 12, seed: 1 };
    let summary = fill(stack.url(), &sizes, false).await.unwrap();
    assert_eq!((summary.users, summary.posts, summary.comments), (8, 20, 15));
    assert!(summary.published > 0 && summary.published <= 20);
    assert!(summary.follows <= 12);

    let users = stack.get("/users?limit=100").send().await;
    assert_eq!(users.body["items"].as_array().unwrap().len(), 8);
    let mut published = 0;
    for user in users.body["items"].as_array().unwrap() {
        let posts = stack.get(&format!("/users/{}/posts?limit=100", user["id"].as_str().unwrap())).send().await;
        published += posts.body["items"].as_array().unwrap().len();
    }
    assert_eq!(published, summary.published);
    assert!(fill("http://127.0.0.1:9", &sizes, false).await.unwrap_err().contains("is `cargo run -p local` running?"));
}
