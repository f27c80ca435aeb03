//! `GET /posts/{postId}/comments`: A post's comments, oldest first. Public.

use crate::caching::Public;
use crate::{HandlerResult, http};
use lambda_http::Request;
use shared::{Table, comments};

pub async fn handle(table: Table, request: Request) -> HandlerResult {
    let post_id = http::path_param(&request, "postId")?;
    let page = http::page_request(&request)?;
    http::public_json(Public::Listing, &comments::list(&table, post_id, &page).await?)
}
