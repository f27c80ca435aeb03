//! `POST /users`: Signs up: the profile, the email guard and the first API key in one transaction. Public. Honours `Idempotency-Key`.

use crate::{HandlerResult, http};
use lambda_http::Request;
use shared::idempotency::Created;
use shared::{Table, users};

pub async fn handle(table: Table, request: Request) -> HandlerResult {
    let input = http::json_body(&request)?;
    let idempotency = http::idempotency(&request, None)?;
    let created = users::sign_up(&table, input, idempotency.as_ref()).await?;
    if matches!(created, Created::New(_)) {
        crate::metrics::sign_up();
    }
    http::created(201, created, |_| None)
}
