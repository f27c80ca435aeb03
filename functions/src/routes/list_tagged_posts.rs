//! `GET /tags/{tag}/posts`: The published posts with a tag, newest first. Public.

use crate::caching::Public;
use crate::{HandlerResult, http};
use lambda_http::Request;
use shared::{Table, posts};

pub async fn handle(table: Table, request: Request) -> HandlerResult {
    let tag = http::text_path_param(&request, "tag")?;
    let page = http::page_request(&request)?;
    http::public_json(Public::Listing, &posts::list_tagged(&table, &tag, &page).await?)
}
