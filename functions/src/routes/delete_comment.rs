//! `DELETE /posts/{postId}/comments/{commentId}`: Deletes a comment (its author or the post's author).

use crate::{HandlerResult, http};
use lambda_http::Request;
use shared::{Table, comments};

pub async fn handle(table: Table, request: Request) -> HandlerResult {
    let caller = http::caller(&request)?;
    let post_id = http::path_param(&request, "postId")?;
    let comment_id = http::path_param(&request, "commentId")?;
    comments::delete(&table, &caller, post_id, comment_id).await?;
    http::no_content()
}
