//! `POST /me/api-keys`: A new API key within the plan's quota; its secret is shown once.

use crate::{HandlerResult, http};
use lambda_http::Request;
use shared::{Table, api_keys};

pub async fn handle(table: Table, request: Request) -> HandlerResult {
    let caller = http::caller(&request)?;
    let input = http::optional_json_body(&request)?;
    http::json(201, &api_keys::create(&table, &caller, input).await?)
}
