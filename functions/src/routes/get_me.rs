//! `GET /me`: The caller's own profile, with its version as ETag.

use crate::{HandlerResult, http};
use lambda_http::Request;
use shared::{Table, users};

pub async fn handle(table: Table, request: Request) -> HandlerResult {
    let caller = http::caller(&request)?;
    let user = users::get_own(&table, &caller).await?;
    http::json_with_etag(200, user.version, &users::OwnProfile::from(user))
}
