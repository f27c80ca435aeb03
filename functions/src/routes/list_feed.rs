//! `GET /me/feed`: Published posts by the authors the caller follows, newest first.

use crate::{HandlerResult, http};
use lambda_http::Request;
use shared::{Table, feed};

pub async fn handle(table: Table, request: Request) -> HandlerResult {
    let caller = http::caller(&request)?;
    let page = http::page_request(&request)?;
    http::json(200, &feed::home(&table, &caller, &page).await?)
}
