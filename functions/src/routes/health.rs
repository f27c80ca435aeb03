//! `GET /health`: liveness. Makes no DynamoDB call, so it answers even when
//! the table is throttled, and costs nothing but the invocation.

use crate::{HandlerResult, http};
use lambda_http::Request;
use serde_json::json;
use shared::Table;

pub async fn handle(_table: Table, _request: Request) -> HandlerResult {
    // A probe must reach the function every time, never a cache.
    let mut response = http::json(200, &json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))?;
    response.headers_mut().insert("cache-control", lambda_http::http::HeaderValue::from_static("no-store"));
    Ok(response)
}
