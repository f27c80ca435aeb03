//! `PATCH /me`: Edits name and/or bio; `If-Match: <version>` makes it optimistic (412 on mismatch).

use crate::{HandlerResult, http};
use lambda_http::Request;
use shared::{Table, users};

pub async fn handle(table: Table, request: Request) -> HandlerResult {
    let caller = http::caller(&request)?;
    let if_match = http::if_match(&request)?;
    let patch = http::json_body(&request)?;
    let user = users::update_profile(&table, &caller, patch, if_match).await?;
    http::json_with_etag(200, user.version, &users::OwnProfile::from(user))
}
