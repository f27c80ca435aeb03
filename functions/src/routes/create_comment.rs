//! `POST /posts/{postId}/comments`: Comments on a published post. Honours `Idempotency-Key`.

use crate::{HandlerResult, http};
use lambda_http::Request;
use shared::{Table, comments};

pub async fn handle(table: Table, request: Request) -> HandlerResult {
    let caller = http::caller(&request)?;
    let post_id = http::path_param(&request, "postId")?;
    let input = http::json_body(&request)?;
    let idempotency = http::idempotency(&request, Some(caller.user_id))?;
    http::created(201, comments::create(&table, &caller, post_id, input, idempotency.as_ref()).await?, |_| None)
}
