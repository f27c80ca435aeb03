//! `GET /users/{userId}`: A public profile (never the email). Public.

use crate::caching::Public;
use crate::{HandlerResult, http};
use lambda_http::Request;
use shared::{Table, users};

pub async fn handle(table: Table, request: Request) -> HandlerResult {
    let user_id = http::path_param(&request, "userId")?;
    let user = users::get(&table, user_id).await?;
    http::public_json(Public::Item, &users::PublicProfile::from(user))
}
