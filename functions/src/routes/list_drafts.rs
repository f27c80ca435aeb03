//! `GET /me/drafts`: The caller's drafts, newest first.

use crate::{HandlerResult, http};
use lambda_http::Request;
use shared::{Table, posts};

pub async fn handle(table: Table, request: Request) -> HandlerResult {
    let caller = http::caller(&request)?;
    let page = http::page_request(&request)?;
    http::json(200, &posts::list_drafts(&table, &caller, &page).await?)
}
