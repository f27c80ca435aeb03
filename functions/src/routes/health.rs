//! `GET /health`: liveness. Makes no DynamoDB call, so it answers even when
//! the table is throttled, and costs nothing but the invocation.

use crate::{HandlerResult, http};
use lambda_http::Request;
use serde_json::json;
use shared::Table;

pub async fn handle(_table: Table, _request: Request) -> HandlerResult {
    http::json(200, &json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}
