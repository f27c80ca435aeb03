//! `GET /posts/{postId}`: A published post; drafts and missing posts are 404. Public.

use crate::caching::Public;
use crate::{HandlerResult, http};
use lambda_http::Request;
use shared::{Table, posts};

pub async fn handle(table: Table, request: Request) -> HandlerResult {
    let post_id = http::path_param(&request, "postId")?;
    http::public_json(Public::Item, &posts::get_published(&table, post_id).await?)
}
