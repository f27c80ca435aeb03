//! `PATCH /posts/{postId}`: Edits a post: owner only (403), If-Match (412).

use crate::{HandlerResult, http};
use lambda_http::Request;
use shared::{Table, posts};

pub async fn handle(table: Table, request: Request) -> HandlerResult {
    let caller = http::caller(&request)?;
    let post_id = http::path_param(&request, "postId")?;
    let if_match = http::if_match(&request)?;
    let patch = http::json_body(&request)?;
    let post = posts::update(&table, &caller, post_id, patch, if_match).await?;
    http::json_with_etag(200, post.version, &post)
}
