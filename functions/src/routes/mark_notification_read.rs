//! `POST /me/notifications/{notificationId}/read`: Marks a notification read (idempotent).

use crate::{HandlerResult, http};
use lambda_http::Request;
use shared::{Table, notifications};

pub async fn handle(table: Table, request: Request) -> HandlerResult {
    let caller = http::caller(&request)?;
    let id = http::path_param(&request, "notificationId")?;
    http::json(200, &notifications::mark_read(&table, &caller, id).await?)
}
