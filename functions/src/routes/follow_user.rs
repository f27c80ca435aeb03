//! `PUT /users/{userId}/follow`: The caller follows a user (idempotent).

use crate::{HandlerResult, http};
use lambda_http::Request;
use shared::{Table, follows};

pub async fn handle(table: Table, request: Request) -> HandlerResult {
    let caller = http::caller(&request)?;
    let followee = http::path_param(&request, "userId")?;
    follows::follow(&table, &caller, followee).await?;
    http::no_content()
}
