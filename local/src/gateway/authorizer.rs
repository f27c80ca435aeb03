//! A REQUEST Lambda authorizer as API Gateway runs it: the identity check
//! before any invocation, the authorizer's own payload 2.0 event, and the
//! fixed 401/403/500 answers API Gateway sends on its behalf.

use super::api_gateway_message;
use aws_lambda_events::apigw::{ApiGatewayV2CustomAuthorizerV2Request, ApiGatewayV2httpRequest};
use axum::body::Body;
use functions::AuthorizerHandler;
use http::Response;
use shared::Table;
use shared::round_trips::Usage;
use std::collections::HashMap;

/// An authorizer of the template, bound to its handler.
#[derive(Clone)]
pub(super) struct Authorizer {
    pub(super) identity_headers: Vec<String>,
    pub(super) handler: AuthorizerHandler,
    /// The table handle as the authorizer's environment sets it (its rate limits).
    pub(super) table: Table,
}

impl Authorizer {
    /// API Gateway's authorizer step: 401 without invoking it when an
    /// identity header is missing, 403 when it denies, 500 when it fails;
    /// otherwise the context it returned.
    pub(super) async fn authorize(&self, event: &ApiGatewayV2httpRequest) -> (Result<HashMap<String, serde_json::Value>, Response<Body>>, Usage) {
        let identity: Option<Vec<String>> = self
            .identity_headers
            .iter()
            .map(|h| event.headers.get(h.to_ascii_lowercase()).and_then(|v| v.to_str().ok()).filter(|v| !v.is_empty()).map(str::to_string))
            .collect();
        let Some(identity) = identity else {
            return (Err(api_gateway_message(401, "Unauthorized")), Usage::default());
        };
        let request = authorizer_event(event, identity);
        let handler = self.handler;
        let table = self.table.clone();
        let invocation = tokio::spawn(shared::round_trips::measure(async move { handler(table, request).await }));
        match invocation.await {
            Ok((Ok(response), calls)) if response.is_authorized => {
                let context = match response.context {
                    serde_json::Value::Object(map) => map.into_iter().collect(),
                    _ => HashMap::new(),
                };
                (Ok(context), calls)
            }
            Ok((Ok(_), calls)) => (Err(api_gateway_message(403, "Forbidden")), calls),
            Ok((Err(e), calls)) => {
                tracing::error!("authorizer failed: {e}");
                (Err(api_gateway_message(500, "Internal Server Error")), calls)
            }
            Err(e) => {
                tracing::error!("authorizer panicked: {e}");
                (Err(api_gateway_message(500, "Internal Server Error")), Usage::default())
            }
        }
    }
}

/// The payload 2.0 event API Gateway sends a REQUEST authorizer, made from
/// the route's event and passed through JSON as Lambda would.
fn authorizer_event(event: &ApiGatewayV2httpRequest, identity: Vec<String>) -> ApiGatewayV2CustomAuthorizerV2Request {
    let context = &event.request_context;
    let route_arn = format!(
        "arn:aws:execute-api:us-east-1:{}:{}/{}/{}{}",
        context.account_id.as_deref().unwrap_or_default(),
        context.apiid.as_deref().unwrap_or_default(),
        context.stage.as_deref().unwrap_or_default(),
        context.http.method,
        event.raw_path.as_deref().unwrap_or_default(),
    );
    // The event's own JSON supplies headers and query parameters in the wire form.
    let wire = serde_json::to_value(event).unwrap_or_default();
    let value = serde_json::json!({
        "version": "2.0",
        "type": "REQUEST",
        "routeArn": route_arn,
        "identitySource": identity,
        "routeKey": event.route_key,
        "rawPath": event.raw_path,
        "rawQueryString": event.raw_query_string,
        "cookies": event.cookies.clone().unwrap_or_default(),
        "headers": wire.get("headers").cloned().unwrap_or_default(),
        "queryStringParameters": wire.get("queryStringParameters").cloned().unwrap_or_default(),
        "requestContext": context,
        "pathParameters": event.path_parameters,
        "stageVariables": event.stage_variables,
    });
    serde_json::from_value(value).expect("an authorizer event deserialises")
}
