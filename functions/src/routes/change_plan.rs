//! `PUT /me/plan`: Moves the plan `from` → `to`; 409 if the plan is not `from`.

use crate::{HandlerResult, http};
use lambda_http::Request;
use shared::{Table, users};

pub async fn handle(table: Table, request: Request) -> HandlerResult {
    let caller = http::caller(&request)?;
    let change = http::json_body(&request)?;
    let user = users::change_plan(&table, &caller, change).await?;
    http::json_with_etag(200, user.version, &users::OwnProfile::from(user))
}
