//! `POST /posts`: Creates a draft owned by the caller. Honours `Idempotency-Key`.

use crate::{HandlerResult, http};
use lambda_http::Request;
use shared::{Table, posts};

pub async fn handle(table: Table, request: Request) -> HandlerResult {
    let caller = http::caller(&request)?;
    let input = http::json_body(&request)?;
    let idempotency = http::idempotency(&request, Some(caller.user_id))?;
    http::created(201, posts::create(&table, &caller, input, idempotency.as_ref()).await?, |post| Some(post.version))
}
