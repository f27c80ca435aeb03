//! `GET /users/by-email?email=…`: The public profile of the user with that email.

use crate::{HandlerResult, http};
use lambda_http::Request;
use shared::{Error, Table, users};

pub async fn handle(table: Table, request: Request) -> HandlerResult {
    http::caller(&request)?;
    let email = http::query_param(&request, "email")?.ok_or_else(|| Error::invalid("the email query parameter is required"))?;
    http::json(200, &users::find_by_email(&table, &email).await?)
}
