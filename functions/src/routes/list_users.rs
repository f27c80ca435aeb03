//! `GET /users`: All users, newest first, paginated. Public.

use crate::caching::Public;
use crate::{HandlerResult, http};
use lambda_http::Request;
use shared::{Table, users};

pub async fn handle(table: Table, request: Request) -> HandlerResult {
    let page = http::page_request(&request)?;
    http::public_json(Public::Listing, &users::list(&table, &page).await?)
}
