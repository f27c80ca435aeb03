//! `DELETE /me`: Deletes the account (profile and email guard; the stream processor removes the rest).

use crate::{HandlerResult, http};
use lambda_http::Request;
use shared::{Table, users};

pub async fn handle(table: Table, request: Request) -> HandlerResult {
    let caller = http::caller(&request)?;
    users::delete(&table, &caller).await?;
    http::no_content()
}
