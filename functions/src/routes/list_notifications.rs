//! `GET /me/notifications`: The caller's notifications, newest first; `?unread=true` for unread only (GSI2).

use crate::{HandlerResult, http};
use lambda_http::Request;
use shared::{Table, notifications};

pub async fn handle(table: Table, request: Request) -> HandlerResult {
    let caller = http::caller(&request)?;
    let unread_only = http::bool_param(&request, "unread")?.unwrap_or(false);
    let page = http::page_request(&request)?;
    http::json(200, &notifications::list(&table, &caller, unread_only, &page).await?)
}
