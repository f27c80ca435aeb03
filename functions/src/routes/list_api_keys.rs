//! `GET /me/api-keys`: The caller's keys (never secrets or hashes).

use crate::{HandlerResult, http};
use lambda_http::Request;
use shared::{Table, api_keys};

pub async fn handle(table: Table, request: Request) -> HandlerResult {
    let caller = http::caller(&request)?;
    let page = http::page_request(&request)?;
    http::json(200, &api_keys::list(&table, &caller, &page).await?)
}
