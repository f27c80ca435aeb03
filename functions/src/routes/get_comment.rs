//! `GET /posts/{postId}/comments/{commentId}`: One comment (what a `new_comment` notification points at). Public.

use crate::caching::Public;
use crate::{HandlerResult, http};
use lambda_http::Request;
use shared::{Table, comments};

pub async fn handle(table: Table, request: Request) -> HandlerResult {
    let post_id = http::path_param(&request, "postId")?;
    let comment_id = http::path_param(&request, "commentId")?;
    http::public_json(Public::Item, &comments::get(&table, post_id, comment_id).await?)
}
