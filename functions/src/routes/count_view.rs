//! `POST /posts/{postId}/views`: Counts a view of a published post with an atomic ADD. Public.

use crate::{HandlerResult, http};
use lambda_http::Request;
use serde_json::json;
use shared::{Table, posts};

pub async fn handle(table: Table, request: Request) -> HandlerResult {
    let post_id = http::path_param(&request, "postId")?;
    let view_count = posts::count_view(&table, post_id).await?;
    http::json(200, &json!({ "viewCount": view_count }))
}
