//! `GET /me/posts/{postId}`: One of the caller's posts in any status (404 for others').

use crate::{HandlerResult, http};
use lambda_http::Request;
use shared::{Table, posts};

pub async fn handle(table: Table, request: Request) -> HandlerResult {
    let caller = http::caller(&request)?;
    let post_id = http::path_param(&request, "postId")?;
    let post = posts::get_own(&table, &caller, post_id).await?;
    http::json_with_etag(200, post.version, &post)
}
