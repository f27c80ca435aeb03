//! HTTP helpers for the integration tests: every request goes over real HTTP
//! to a `TestStack` (see `local::testing`).
#![allow(dead_code)]

pub mod spec;

use reqwest::header::HeaderMap;
use serde_json::Value;

pub use local::testing::TestStack;

pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    /// The DynamoDB operations the request made, as the local stack reports them.
    pub fn dynamodb_calls(&self) -> Vec<String> {
        let raw = self.headers.get(local::gateway::DYNAMODB_CALLS_HEADER).expect("the stack reports calls");
        raw.to_str().unwrap().split(',').filter(|s| !s.is_empty()).map(str::to_string).collect()
    }

    /// The authorizer's DynamoDB operations for the request.
    pub fn authorizer_calls(&self) -> Vec<String> {
        let raw = self.headers.get(local::gateway::AUTHORIZER_CALLS_HEADER).expect("the stack reports authorizer calls");
        raw.to_str().unwrap().split(',').filter(|s| !s.is_empty()).map(str::to_string).collect()
    }

    /// The body for an assertion message, cut short.
    pub fn brief(&self) -> String {
        self.body.to_string().chars().take(500).collect()
    }

    /// Asserts the error status and the `{"error":{"code","message"}}` body.
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "body: {}", self.brief());
        assert_eq!(self.body["error"]["code"], code, "body: {}", self.brief());
        assert!(self.body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "body: {}", self.brief());
    }
}

/// Sends a request and reads the JSON answer, which must be what
/// openapi.yaml documents for the request's operation and the status.
pub async fn finish(request: reqwest::RequestBuilder) -> Reply {
    let (client, request) = request.build_split();
    let request = request.expect("a valid request");
    let (method, path) = (request.method().to_string(), request.url().path().to_string());
    let response = client.execute(request).await.expect("the stack answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.unwrap();
    let body = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap_or_else(|_| panic!("not JSON: {bytes:?}")) };
    spec::check(&method, &path, status, &headers, &body);
    Reply { status, headers, body }
}

/// A request with a raw JSON-typed body.
pub async fn send(stack: &TestStack, method: &str, path: &str, body: Option<reqwest::Body>) -> Reply {
    let client = reqwest::Client::new();
    let mut request = client.request(method.parse().unwrap(), format!("{}{path}", stack.url()));
    if let Some(body) = body {
        request = request.header("content-type", "application/json").body(body);
    }
    finish(request).await
}

/// Sends `n` requests at once (`make(i)` builds the i-th) and returns their
/// statuses, for races that must end with exactly one winner.
pub async fn race(n: usize, make: impl Fn(usize) -> reqwest::RequestBuilder) -> Vec<u16> {
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..n {
        let request = make(i);
        tasks.spawn(async move { finish(request).await.status });
    }
    let mut statuses = Vec::new();
    while let Some(status) = tasks.join_next().await {
        statuses.push(status.unwrap());
    }
    statuses
}

/// How many of `statuses` are `status`.
pub fn count(statuses: &[u16], status: u16) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

pub async fn get(stack: &TestStack, path: &str) -> Reply {
    send(stack, "GET", path, None).await
}

/// A request with optional API key, JSON body and extra headers.
pub async fn call(
    stack: &TestStack,
    method: &str,
    path: &str,
    key: Option<&str>,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> Reply {
    let client = reqwest::Client::new();
    let mut request = client.request(method.parse().unwrap(), format!("{}{path}", stack.url()));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    finish(request).await
}

/// A signed-up user: id and the secret of their first API key.
pub struct User {
    pub id: String,
    pub key: String,
    pub email: String,
}

pub async fn sign_up(stack: &TestStack, name: &str, email: &str) -> User {
    let reply = call(stack, "POST", "/users", None, Some(serde_json::json!({"name": name, "email": email})), &[]).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    User {
        id: reply.body["user"]["id"].as_str().unwrap().to_string(),
        key: reply.body["apiKey"]["secret"].as_str().unwrap().to_string(),
        email: email.to_string(),
    }
}

/// A unique email for a test.
pub fn email(name: &str) -> String {
    format!("{name}.{}@example.com", ulid::Ulid::new().to_string().to_lowercase())
}

/// Options for a stack keeping its data in `dir`, as `cargo run -p local` does.
pub fn folder_options(dir: &std::path::Path, attach_stream: bool) -> local::Options {
    local::Options {
        template: local::template::default_path(),
        storage: local::Storage::Folder(dir.to_path_buf()),
        table_name: "quire".into(),
        port: 0,
        ttl_sweep_every: None,
        attach_stream,
    }
}
