//! `GET /users/{userId}/posts`: A user's published posts, newest first. Public.

use crate::caching::Public;
use crate::{HandlerResult, http};
use lambda_http::Request;
use shared::{Table, posts};

pub async fn handle(table: Table, request: Request) -> HandlerResult {
    let author = http::path_param(&request, "userId")?;
    let page = http::page_request(&request)?;
    http::public_json(Public::Listing, &posts::list_published(&table, author, &page).await?)
}
