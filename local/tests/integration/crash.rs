//! The local stack killed with SIGKILL in the middle of a write load, then
//! restarted on the same data folder: every write that got a 2xx is there,
//! and the stream resumes from its checkpoint without losing or double
//! counting a record (the counters end exactly equal to what is stored).
//! Killed in the middle of a fan-out, it resumes from the saved position:
//! every follower gets the post and its notification once.

use crate::common::*;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CLIENTS: usize = 8;

struct Process {
    child: Child,
    url: String,
}

/// `cargo run -p local` on `dir`, serving once `/health` answers.
async fn start(dir: &std::path::Path) -> Process {
    start_with(dir, &[]).await
}

/// The same, with more flags.
async fn start_with(dir: &std::path::Path, flags: &[&str]) -> Process {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(env!("CARGO_BIN_EXE_local"))
        .args(["--port", &port.to_string(), "--data-dir", dir.to_str().unwrap()])
        .args(flags)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    while reqwest::get(format!("{url}/health")).await.is_err() {
        assert!(started.elapsed() < Duration::from_secs(30), "the stack did not come up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Process { child, url }
}

/// Signs up through the API: the user's id and key.
async fn sign_up_at(client: reqwest::Client, url: String, name: &'static str) -> (String, String) {
    let body = json!({"name": name, "email": email(name)});
    let reply: Value = client.post(format!("{url}/users")).json(&body).send().await.unwrap().json().await.unwrap();
    (reply["user"]["id"].as_str().unwrap().to_string(), reply["apiKey"]["secret"].as_str().unwrap().to_string())
}

async fn post(client: &reqwest::Client, url: String, key: &str, body: Option<Value>) -> Option<(u16, Value)> {
    let mut request = client.post(url).bearer_auth(key).timeout(Duration::from_secs(10));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.ok()?;
    let status = response.status().as_u16();
    Some((status, response.json().await.unwrap_or(Value::Null)))
}

/// Every page of a listing.
async fn all(client: &reqwest::Client, url: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page_url = match &cursor {
            Some(c) => format!("{url}?limit=100&cursor={c}"),
            None => format!("{url}?limit=100"),
        };
        let page: Value = client.get(page_url).send().await.unwrap().json().await.unwrap();
        items.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => return items,
        }
    }
}

#[tokio::test]
async fn a_sigkill_during_writes_loses_no_acknowledged_write_and_counts_each_once() {
    let dir = std::env::temp_dir().join(format!("quire-crash-{}", ulid::Ulid::new()));
    let client = reqwest::Client::new();
    let mut stack = start(&dir).await;
    let sign_up = |name: &'static str, url: String| sign_up_at(client.clone(), url, name);
    let (author, author_key) = sign_up("author", stack.url.clone()).await;
    let (post_status, draft) = post(&client, format!("{}/posts", stack.url), &author_key, Some(json!({"title": "T", "content": "C"}))).await.unwrap();
    assert_eq!(post_status, 201);
    let post_id = draft["id"].as_str().unwrap().to_string();
    post(&client, format!("{}/posts/{post_id}/publish", stack.url), &author_key, None).await.unwrap();
    let mut readers = Vec::new();
    for _ in 0..CLIENTS {
        readers.push(sign_up("reader", stack.url.clone()).await);
    }

    // Each client follows the author, then comments until the stack dies.
    let acknowledged = Arc::new(Mutex::new(BTreeSet::<String>::new()));
    let followed = Arc::new(Mutex::new(BTreeSet::<String>::new()));
    let mut load = tokio::task::JoinSet::new();
    for (reader, key) in readers.clone() {
        let (client, url, post_id) = (client.clone(), stack.url.clone(), post_id.clone());
        let (acknowledged, followed, author) = (acknowledged.clone(), followed.clone(), author.clone());
        load.spawn(async move {
            let follow = client.put(format!("{url}/users/{author}/follow")).bearer_auth(&key).send().await;
            if follow.is_ok_and(|r| r.status().is_success()) {
                followed.lock().unwrap().insert(reader);
            }
            for n in 0.. {
                match post(&client, format!("{url}/posts/{post_id}/comments"), &key, Some(json!({"text": format!("comment {n}")}))).await {
                    Some((201, body)) => {
                        acknowledged.lock().unwrap().insert(body["id"].as_str().unwrap().to_string());
                    }
                    Some(_) | None => return,
                }
            }
        });
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stack.child.kill().unwrap(); // SIGKILL: no shutdown path runs
    stack.child.wait().unwrap();
    load.join_all().await;
    let acknowledged = acknowledged.lock().unwrap().clone();
    let followed = followed.lock().unwrap().clone();
    assert!(acknowledged.len() >= CLIENTS, "the load ran before the kill ({} comments)", acknowledged.len());

    let mut stack = start(&dir).await;
    let stored: BTreeSet<String> =
        all(&client, &format!("{}/posts/{post_id}/comments", stack.url)).await.iter().map(|c| c["id"].as_str().unwrap().to_string()).collect();
    let lost: Vec<&String> = acknowledged.difference(&stored).collect();
    assert!(lost.is_empty(), "acknowledged but missing after the crash: {lost:?}");

    // The stream resumes: the counters reach what is stored, and stay there.
    let followers = all(&client, &format!("{}/users/{author}/followers", stack.url)).await.len();
    assert!(followers >= followed.len());
    let counts = || async {
        let post: Value = client.get(format!("{}/posts/{post_id}", stack.url)).send().await.unwrap().json().await.unwrap();
        let user: Value = client.get(format!("{}/users/{author}", stack.url)).send().await.unwrap().json().await.unwrap();
        (post["commentCount"].as_u64().unwrap() as usize, user["followerCount"].as_u64().unwrap() as usize)
    };
    let started = Instant::now();
    while counts().await != (stored.len(), followers) {
        assert!(started.elapsed() < Duration::from_secs(60), "counters {:?}, stored ({}, {followers})", counts().await, stored.len());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Past the batching window again: no late double count.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(counts().await, (stored.len(), followers), "counted exactly once");
    println!("crash: {} comments acknowledged before SIGKILL, {} stored, {followers} follows, 0 lost", acknowledged.len(), stored.len());

    stack.child.kill().unwrap();
    stack.child.wait().unwrap();
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn a_fan_out_killed_midway_reaches_every_follower_once_after_the_restart() {
    const FOLLOWERS: usize = 300;
    let dir = std::env::temp_dir().join(format!("quire-crash-fan-out-{}", ulid::Ulid::new()));
    let client = reqwest::Client::new();
    // One page of 100 followers per invocation, so the fan-out spans several.
    // The test polls feeds far faster than a free key's 60 requests a minute.
    let budget = ["--fan-out-budget-ms", "1", "--free-requests-per-window", "1000000"];
    let mut stack = start_with(&dir, &budget).await;
    let sign_up = |name: &'static str, url: String| sign_up_at(client.clone(), url, name);
    let (author, author_key) = sign_up("author", stack.url.clone()).await;
    let mut followers = Vec::new();
    for _ in 0..FOLLOWERS {
        let (id, key) = sign_up("follower", stack.url.clone()).await;
        let follow = client.put(format!("{}/users/{author}/follow", stack.url)).bearer_auth(&key).send().await.unwrap();
        assert_eq!(follow.status(), 204);
        followers.push((id, key));
    }
    let started = Instant::now();
    loop {
        let user: Value = client.get(format!("{}/users/{author}", stack.url)).send().await.unwrap().json().await.unwrap();
        if user["followerCount"] == FOLLOWERS {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "the follows were not counted");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (status, draft) = post(&client, format!("{}/posts", stack.url), &author_key, Some(json!({"title": "T", "content": "C"}))).await.unwrap();
    assert_eq!(status, 201);
    let post_id = draft["id"].as_str().unwrap().to_string();
    let feed_of = |url: String, key: String| {
        let client = client.clone();
        async move {
            let page: Value = client.get(format!("{url}/me/feed")).bearer_auth(key).send().await.unwrap().json().await.unwrap();
            page["items"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap().to_string()).collect::<Vec<_>>()
        }
    };
    post(&client, format!("{}/posts/{post_id}/publish", stack.url), &author_key, None).await.unwrap();
    // Followers are walked in id order: kill once the first has the post and the last not yet.
    let (first, last) = (followers[0].1.clone(), followers[FOLLOWERS - 1].1.clone());
    let started = Instant::now();
    while feed_of(stack.url.clone(), first.clone()).await.is_empty() {
        assert!(started.elapsed() < Duration::from_secs(30), "the fan-out did not start");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(feed_of(stack.url.clone(), last.clone()).await.is_empty(), "the fan-out was still under way at the kill");
    stack.child.kill().unwrap(); // SIGKILL mid-fan-out
    stack.child.wait().unwrap();

    let mut stack = start_with(&dir, &budget).await;
    let started = Instant::now();
    while feed_of(stack.url.clone(), last.clone()).await.is_empty() {
        assert!(started.elapsed() < Duration::from_secs(60), "the fan-out did not resume");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(2500)).await;
    for (id, key) in &followers {
        assert_eq!(feed_of(stack.url.clone(), key.clone()).await, std::slice::from_ref(&post_id), "follower {id}");
        let notes: Value = client.get(format!("{}/me/notifications", stack.url)).bearer_auth(key).send().await.unwrap().json().await.unwrap();
        let about: Vec<&Value> = notes["items"].as_array().unwrap().iter().filter(|n| n["postId"] == post_id.as_str()).collect();
        assert_eq!(about.len(), 1, "follower {id}: one notification, {notes}");
    }
    println!("crash: fan-out to {FOLLOWERS} followers killed midway, resumed: each reached once");
    stack.child.kill().unwrap();
    stack.child.wait().unwrap();
    std::fs::remove_dir_all(dir).unwrap();
}
