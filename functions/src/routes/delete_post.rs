//! `DELETE /posts/{postId}`: Deletes a post (owner only); its comments go later via the stream.

use crate::{HandlerResult, http};
use lambda_http::Request;
use shared::{Table, posts};

pub async fn handle(table: Table, request: Request) -> HandlerResult {
    let caller = http::caller(&request)?;
    let post_id = http::path_param(&request, "postId")?;
    posts::delete(&table, &caller, post_id).await?;
    http::no_content()
}
