//! The HTTP API Lambda authorizer (REQUEST type, payload 2.0, simple
//! responses): `Authorization: Bearer <api key>` in, allow with the caller as
//! context, or deny. One UpdateItem per well-formed key; none otherwise.
//!
//! An HTTP API authorizer can only allow (the route runs) or deny (API
//! Gateway's fixed 403), so a key over its plan's rate limit is allowed with
//! `retryAfter` in the context, and the route answers 429 from that before
//! it touches DynamoDB (`http::serve`).

use lambda_http::aws_lambda_events::apigw::{ApiGatewayV2CustomAuthorizerSimpleResponse, ApiGatewayV2CustomAuthorizerV2Request};
use lambda_http::{LambdaEvent, service_fn};
use shared::api_keys::{self, Access};
use shared::{Error, Table, auth};

pub type AuthorizerRequest = ApiGatewayV2CustomAuthorizerV2Request;
pub type AuthorizerResponse = ApiGatewayV2CustomAuthorizerSimpleResponse;

pub async fn handle(table: Table, event: AuthorizerRequest) -> Result<AuthorizerResponse, Error> {
    let header = event.headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("");
    let access = api_keys::authenticate(&table, header).await?;
    let mut response = AuthorizerResponse::default();
    match access {
        Access::Allowed(caller) => {
            response.is_authorized = true;
            response.context = serde_json::to_value(caller).map_err(Error::internal)?;
            tracing::info!(user_id = %caller.user_id, key_id = %caller.key_id, "allowed");
        }
        Access::Limited { caller, retry_after_seconds } => {
            response.is_authorized = true;
            let mut context = serde_json::to_value(caller).map_err(Error::internal)?;
            context[auth::RETRY_AFTER_FIELD] = retry_after_seconds.into();
            response.context = context;
            tracing::info!(user_id = %caller.user_id, key_id = %caller.key_id, retry_after_seconds, "rate limited");
        }
        Access::Denied => {
            response.context = serde_json::json!({});
            // Never log the header: it may be a real secret with a typo.
            tracing::info!("denied");
        }
    }
    Ok(response)
}

/// The authorizer binary's `main`.
pub async fn run() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let table = Table::from_env().await?;
    lambda_http::lambda_runtime::run(service_fn(move |event: LambdaEvent<AuthorizerRequest>| {
        let table = table.clone();
        async move { handle(table, event.payload).await.map_err(lambda_http::Error::from) }
    }))
    .await
}
