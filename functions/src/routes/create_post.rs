//! `POST /posts`: Creates a draft owned by the caller: one GetItem (author name), one PutItem.

use crate::{HandlerResult, http};
use lambda_http::Request;
use shared::{Table, posts};

pub async fn handle(table: Table, request: Request) -> HandlerResult {
    let caller = http::caller(&request)?;
    let input = http::json_body(&request)?;
    let post = posts::create(&table, &caller, input).await?;
    http::json_with_etag(201, post.version, &post)
}
