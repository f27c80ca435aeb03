//! `POST /posts/{postId}/publish`: Publishes a draft once (409 after) with a post_published notification.

use crate::{HandlerResult, http};
use lambda_http::Request;
use shared::{Table, posts};

pub async fn handle(table: Table, request: Request) -> HandlerResult {
    let caller = http::caller(&request)?;
    let post_id = http::path_param(&request, "postId")?;
    let published = posts::publish(&table, &caller, post_id).await?;
    crate::metrics::publication();
    http::json(200, &published)
}
