//! `POST /users`: Signs up: the profile, the email guard and the first API key in one TransactWriteItems. Public.

use crate::{HandlerResult, http};
use lambda_http::Request;
use shared::{Table, users};

pub async fn handle(table: Table, request: Request) -> HandlerResult {
    let input = http::json_body(&request)?;
    let signed_up = users::sign_up(&table, input).await?;
    http::json(201, &signed_up)
}
