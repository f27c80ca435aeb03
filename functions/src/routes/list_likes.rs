//! `GET /me/likes`: The posts the caller likes, newest like first.

use crate::{HandlerResult, http};
use lambda_http::Request;
use shared::{Table, likes};

pub async fn handle(table: Table, request: Request) -> HandlerResult {
    let caller = http::caller(&request)?;
    let page = http::page_request(&request)?;
    http::json(200, &likes::list(&table, &caller, &page).await?)
}
