//! `GET /users/{userId}/following`: Whom a user follows. Public.

use crate::caching::Public;
use crate::{HandlerResult, http};
use lambda_http::Request;
use shared::{Table, follows};

pub async fn handle(table: Table, request: Request) -> HandlerResult {
    let user = http::path_param(&request, "userId")?;
    let page = http::page_request(&request)?;
    http::public_json(Public::Listing, &follows::following(&table, user, &page).await?)
}
