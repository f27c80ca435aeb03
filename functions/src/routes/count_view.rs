//! `POST /posts/{postId}/views`: Counts a view of a published post on one of its view counters. Public.

use crate::{HandlerResult, http};
use lambda_http::Request;
use shared::{Table, posts};

pub async fn handle(table: Table, request: Request) -> HandlerResult {
    let post_id = http::path_param(&request, "postId")?;
    posts::count_view(&table, post_id).await?;
    http::no_content()
}
