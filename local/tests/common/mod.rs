//! HTTP helpers for the integration tests: every request goes over real HTTP
//! to a `TestStack` (see `local::testing`).
#![allow(dead_code)]

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

    /// Asserts the error status and the `{"error":{"code","message"}}` body.
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "body: {}", self.body);
        assert_eq!(self.body["error"]["code"], code, "body: {}", self.body);
        assert!(self.body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "body: {}", self.body);
    }
}

pub async fn send(stack: &TestStack, method: &str, path: &str, body: Option<reqwest::Body>) -> Reply {
    let client = reqwest::Client::new();
    let mut request = client.request(method.parse().unwrap(), format!("{}{path}", stack.url()));
    if let Some(body) = body {
        request = request.header("content-type", "application/json").body(body);
    }
    let response = request.send().await.expect("the stack answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.unwrap();
    let body = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap_or_else(|_| panic!("not JSON: {bytes:?}")) };
    Reply { status, headers, body }
}

pub async fn get(stack: &TestStack, path: &str) -> Reply {
    send(stack, "GET", path, None).await
}
