//! Demo data through the public API of a running stack: users, follows,
//! posts (most published), comments and views, so every listing and counter
//! has something to show. Requests go over HTTP, as a client's would, a few
//! at a time.

use indicatif::{ProgressBar, ProgressStyle};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use std::time::Instant;

#[derive(Clone, Debug)]
pub struct Sizes {
    pub users: usize,
    pub posts: usize,
    pub comments: usize,
    pub follows: usize,
    pub seed: u64,
}

impl Default for Sizes {
    fn default() -> Self {
        Self { users: 300, posts: 2_000, comments: 3_000, follows: 2_000, seed: 7 }
    }
}

#[derive(Debug, Default)]
pub struct Summary {
    pub users: usize,
    pub posts: usize,
    pub published: usize,
    pub comments: usize,
    pub follows: usize,
    pub seconds: f64,
}

const WORDS: &[&str] = &[
    "engine", "weave", "number", "pattern", "card", "loom", "memory", "mill", "store", "operation", "variable", "symbol",
    "poetry", "science", "method", "note", "table", "series", "function", "machine", "analysis", "figure", "result", "idea",
];
const NAMES: &[&str] = &["Ada", "Charles", "Mary", "Grace", "Alan", "Katherine", "Edsger", "Barbara", "Donald", "Frances", "Leslie", "Radia"];

fn words(rng: &mut StdRng, count: usize) -> String {
    (0..count).map(|_| WORDS[rng.random_range(0..WORDS.len())]).collect::<Vec<_>>().join(" ")
}

/// Fills the stack at `base` (e.g. `http://127.0.0.1:3000`).
pub async fn fill(base: &str, sizes: &Sizes, show_progress: bool) -> Result<Summary, String> {
    let started = Instant::now();
    let client = reqwest::Client::new();
    let mut rng = StdRng::seed_from_u64(sizes.seed);
    let total = sizes.users + sizes.follows + sizes.posts + sizes.comments;
    let bar = if show_progress { ProgressBar::new(total as u64) } else { ProgressBar::hidden() };
    bar.set_style(ProgressStyle::with_template("{spinner} {msg:10} [{bar:40}] {pos}/{len} ({per_sec}, {eta} left)").unwrap().progress_chars("=> "));
    let mut summary = Summary::default();
    let run = format!("{:x}", rng.random::<u32>());

    // Users: (id, key).
    bar.set_message("users");
    let mut users: Vec<(String, String)> = Vec::new();
    for n in 0..sizes.users {
        let name = format!("{} {}", NAMES[n % NAMES.len()], n);
        let body = json!({"name": name, "email": format!("user{n}.{run}@example.com")});
        let reply = send(&client, reqwest::Method::POST, &format!("{base}/users"), None, Some(body)).await?;
        users.push((reply["user"]["id"].as_str().unwrap_or_default().to_string(), reply["apiKey"]["secret"].as_str().unwrap_or_default().to_string()));
        summary.users += 1;
        bar.inc(1);
    }
    if users.len() < 2 {
        return Err("at least 2 users are needed".into());
    }

    bar.set_message("follows");
    for _ in 0..sizes.follows {
        let (a, b) = (rng.random_range(0..users.len()), rng.random_range(0..users.len()));
        if a != b {
            let url = format!("{base}/users/{}/follow", users[b].0);
            send(&client, reqwest::Method::PUT, &url, Some(&users[a].1), None).await?;
            summary.follows += 1;
        }
        bar.inc(1);
    }

    bar.set_message("posts");
    let mut published: Vec<String> = Vec::new();
    for _ in 0..sizes.posts {
        let author = &users[rng.random_range(0..users.len())];
        let title = words(&mut rng, 4);
        let content = (0..rng.random_range(2..6)).map(|_| words(&mut rng, 12)).collect::<Vec<_>>().join("\n\n");
        let tags: Vec<&str> = (0..rng.random_range(0..3)).map(|_| WORDS[rng.random_range(0..WORDS.len())]).collect();
        let body = json!({"title": title, "content": content, "tags": tags});
        let post = send(&client, reqwest::Method::POST, &format!("{base}/posts"), Some(&author.1), Some(body)).await?;
        let id = post["id"].as_str().unwrap_or_default().to_string();
        summary.posts += 1;
        // Four posts in five get published; the rest stay drafts.
        if rng.random_range(0..5) > 0 {
            send(&client, reqwest::Method::POST, &format!("{base}/posts/{id}/publish"), Some(&author.1), None).await?;
            published.push(id);
            summary.published += 1;
        }
        bar.inc(1);
    }

    bar.set_message("comments");
    for _ in 0..sizes.comments {
        if published.is_empty() {
            break;
        }
        let post = &published[rng.random_range(0..published.len())];
        let commenter = &users[rng.random_range(0..users.len())];
        let body = json!({"text": words(&mut rng, 8)});
        send(&client, reqwest::Method::POST, &format!("{base}/posts/{post}/comments"), Some(&commenter.1), Some(body)).await?;
        send(&client, reqwest::Method::POST, &format!("{base}/posts/{post}/views"), None, None).await?;
        summary.comments += 1;
        bar.inc(1);
    }
    bar.finish_and_clear();
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

async fn send(client: &reqwest::Client, method: reqwest::Method, url: &str, key: Option<&str>, body: Option<Value>) -> Result<Value, String> {
    let mut request = client.request(method.clone(), url);
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.map_err(|e| format!("{method} {url}: {e} (is `cargo run -p local` running?)"))?;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    if !status.is_success() {
        return Err(format!("{method} {url}: {status}: {text}"));
    }
    Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
}
