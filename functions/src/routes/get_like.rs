//! `GET /me/likes/{postId}`: Whether the caller likes a post (404 if not).

use crate::{HandlerResult, http};
use lambda_http::Request;
use shared::{Table, likes};

pub async fn handle(table: Table, request: Request) -> HandlerResult {
    let caller = http::caller(&request)?;
    let post = http::path_param(&request, "postId")?;
    http::json(200, &likes::get(&table, &caller, post).await?)
}
