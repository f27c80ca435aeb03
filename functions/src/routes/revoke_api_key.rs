//! `DELETE /me/api-keys/{keyId}`: Revokes one of the caller's keys (idempotent).

use crate::{HandlerResult, http};
use lambda_http::Request;
use shared::{Table, api_keys};

pub async fn handle(table: Table, request: Request) -> HandlerResult {
    let caller = http::caller(&request)?;
    let key_id = http::path_param(&request, "keyId")?;
    api_keys::revoke(&table, &caller, key_id).await?;
    http::no_content()
}
