//! Demo data through the public API of a running stack: users, follows,
//! posts (most published, with tags), comments, views and likes, so every listing and counter
//! has something to show. Requests go over HTTP, as a client's would, sixteen
//! at a time.

use futures_util::{StreamExt, TryStreamExt};
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
    "engine",
    "weave",
    "number",
    "pattern",
    "card",
    "loom",
    "memory",
    "mill",
    "store",
    "operation",
    "variable",
    "symbol",
    "poetry",
    "science",
    "method",
    "note",
    "table",
    "series",
    "function",
    "machine",
    "analysis",
    "figure",
    "result",
    "idea",
];
const NAMES: &[&str] = &["Ada", "Charles", "Mary", "Grace", "Alan", "Katherine", "Edsger", "Barbara", "Donald", "Frances", "Leslie", "Radia"];

fn words(rng: &mut StdRng, count: usize) -> String {
    (0..count).map(|_| WORDS[rng.random_range(0..WORDS.len())]).collect::<Vec<_>>().join(" ")
}

/// Requests in flight at once: enough to keep both the gateway and the
/// engine busy (the engine serialises writes, the rest runs in parallel).
const IN_FLIGHT: usize = 16;

/// Fills the stack at `base` (e.g. `http://127.0.0.1:3000`). Every random
/// choice is drawn up front from the seed, so a size and seed always ask for
/// the same data, whatever order the concurrent requests finish in.
pub async fn fill(base: &str, sizes: &Sizes, show_progress: bool) -> Result<Summary, String> {
    let started = Instant::now();
    let client = reqwest::Client::new();
    let mut rng = StdRng::seed_from_u64(sizes.seed);
    let total = sizes.users + sizes.follows + sizes.posts + sizes.comments;
    let bar = if show_progress { ProgressBar::new(total as u64) } else { ProgressBar::hidden() };
    bar.set_style(ProgressStyle::with_template("{spinner} {msg:10} [{bar:40}] {pos}/{len} ({per_sec}, {eta} left)").unwrap().progress_chars("=> "));
    let mut summary = Summary::default();
    let run = format!("{:x}", rng.random::<u32>());
    let api = Api { client: &client, base };

    bar.set_message("users");
    let sign_ups = (0..sizes.users).map(|n| {
        let body = json!({"name": format!("{} {}", NAMES[n % NAMES.len()], n), "email": format!("user{n}.{run}@example.com")});
        async move {
            let reply = api.send(reqwest::Method::POST, "/users", None, Some(body)).await?;
            let id = reply["user"]["id"].as_str().unwrap_or_default().to_string();
            let key = reply["apiKey"]["secret"].as_str().unwrap_or_default().to_string();
            Ok((id, key))
        }
    });
    let users: Vec<(String, String)> = run_all(&bar, sign_ups).await?;
    summary.users = users.len();
    if users.len() < 2 {
        return Err("at least 2 users are needed".into());
    }

    bar.set_message("follows");
    let pairs: Vec<(usize, usize)> = (0..sizes.follows).map(|_| (rng.random_range(0..users.len()), rng.random_range(0..users.len()))).collect();
    let follows = pairs.iter().map(|&(a, b)| {
        let (users, api) = (&users, api);
        async move {
            if a == b {
                return Ok(false);
            }
            api.send(reqwest::Method::PUT, &format!("/users/{}/follow", users[b].0), Some(&users[a].1), None).await?;
            Ok(true)
        }
    });
    summary.follows = run_all(&bar, follows).await?.into_iter().filter(|followed| *followed).count();

    bar.set_message("posts");
    let drafts: Vec<(usize, Value, bool)> = (0..sizes.posts)
        .map(|_| {
            let author = rng.random_range(0..users.len());
            let title = words(&mut rng, 4);
            let content = (0..rng.random_range(2..6)).map(|_| words(&mut rng, 12)).collect::<Vec<_>>().join("\n\n");
            let tags: Vec<&str> = (0..rng.random_range(0..3)).map(|_| WORDS[rng.random_range(0..WORDS.len())]).collect();
            // Four posts in five get published; the rest stay drafts.
            let publish = rng.random_range(0..5) > 0;
            (author, json!({"title": title, "content": content, "tags": tags}), publish)
        })
        .collect();
    let posts = drafts.into_iter().map(|(author, body, publish)| {
        let key = &users[author].1;
        async move {
            let post = api.send(reqwest::Method::POST, "/posts", Some(key), Some(body)).await?;
            let id = post["id"].as_str().unwrap_or_default().to_string();
            if publish {
                api.send(reqwest::Method::POST, &format!("/posts/{id}/publish"), Some(key), None).await?;
            }
            Ok((id, publish))
        }
    });
    let posts = run_all(&bar, posts).await?;
    summary.posts = posts.len();
    let published: Vec<String> = posts.into_iter().filter(|(_, published)| *published).map(|(id, _)| id).collect();
    summary.published = published.len();

    bar.set_message("comments");
    if !published.is_empty() {
        let picks: Vec<(usize, usize, String)> =
            (0..sizes.comments).map(|_| (rng.random_range(0..published.len()), rng.random_range(0..users.len()), words(&mut rng, 8))).collect();
        let comments = picks.into_iter().map(|(post, commenter, text)| {
            let (post, key) = (&published[post], &users[commenter].1);
            async move {
                api.send(reqwest::Method::POST, &format!("/posts/{post}/comments"), Some(key), Some(json!({"text": text}))).await?;
                api.send(reqwest::Method::POST, &format!("/posts/{post}/views"), None, None).await?;
                // Whoever comments likes the post too (again, if they already do: likes are idempotent).
                api.send(reqwest::Method::PUT, &format!("/posts/{post}/like"), Some(key), None).await?;
                Ok(())
            }
        });
        summary.comments = run_all(&bar, comments).await?.len();
    }
    bar.finish_and_clear();
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

/// Runs `jobs` with at most [`IN_FLIGHT`] under way, ticking the bar as each
/// ends; results keep the jobs' order. The first error stops the run.
async fn run_all<T>(bar: &ProgressBar, jobs: impl Iterator<Item = impl Future<Output = Result<T, String>>>) -> Result<Vec<T>, String> {
    let ticking = jobs.map(|job| async move {
        let result = job.await;
        bar.inc(1);
        result
    });
    futures_util::stream::iter(ticking).buffered(IN_FLIGHT).try_collect().await
}

#[derive(Clone, Copy)]
struct Api<'a> {
    client: &'a reqwest::Client,
    base: &'a str,
}

impl Api<'_> {
    async fn send(&self, method: reqwest::Method, path: &str, key: Option<&str>, body: Option<Value>) -> Result<Value, String> {
        send(self.client, method, &format!("{}{path}", self.base), key, body).await
    }
}

/// Sends one request; a 429 (a key over its plan's limit, or the stage's
/// throttling) is waited out as `Retry-After` says and sent again, as a
/// well-behaved client does.
async fn send(client: &reqwest::Client, method: reqwest::Method, url: &str, key: Option<&str>, body: Option<Value>) -> Result<Value, String> {
    loop {
        let mut request = client.request(method.clone(), url);
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        if let Some(body) = &body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|e| format!("{method} {url}: {e} (is `cargo run -p local` running?)"))?;
        let status = response.status();
        if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            let seconds = response.headers().get("retry-after").and_then(|v| v.to_str().ok()?.parse().ok()).unwrap_or(1);
            tokio::time::sleep(std::time::Duration::from_secs(seconds)).await;
            continue;
        }
        let text = response.text().await.unwrap_or_default();
        if !status.is_success() {
            return Err(format!("{method} {url}: {status}: {text}"));
        }
        return Ok(serde_json::from_str(&text).unwrap_or(Value::Null));
    }
}
