//! `PUT /posts/{postId}/like`: The caller likes a published post (idempotent).

use crate::{HandlerResult, http};
use lambda_http::Request;
use shared::{Table, likes};

pub async fn handle(table: Table, request: Request) -> HandlerResult {
    let caller = http::caller(&request)?;
    let post = http::path_param(&request, "postId")?;
    likes::like(&table, &caller, post).await?;
    http::no_content()
}
