//! An API Gateway HTTP API (payload 2.0) in front of the route handlers:
//! routes come from template.yaml, each request becomes the same v2 event
//! Lambda would receive, and that event is decoded by lambda_http exactly as
//! in the Lambda runtime before the handler sees it.
//!
//! The route table and matching are in `routes`, the event in `event`, the
//! authorizer step in `authorizer`, the stage's throttling in `throttle` and
//! CORS in `cors`; this file ties them to axum.

mod authorizer;
mod cors;
mod event;
mod routes;
mod throttle;

pub use routes::Route;

use crate::stack::Overrides;
use crate::template::{Cors, Template};
use authorizer::Authorizer;
use aws_lambda_events::apigw::ApiGatewayRequestAuthorizer;
use axum::body::{Body, to_bytes};
use axum::extract::{ConnectInfo, State};
use event::build_event;
use functions::Function as Registered;
use http::{HeaderValue, Request, Response};
use shared::round_trips::Usage;
use shared::{Error, Table};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

/// API Gateway's request payload limit for HTTP APIs.
pub const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;

/// Response header (local stack only) listing the DynamoDB operations a request made.
pub const DYNAMODB_CALLS_HEADER: &str = "x-quire-dynamodb-calls";
/// The same for the authorizer's calls on that request.
pub const AUTHORIZER_CALLS_HEADER: &str = "x-quire-authorizer-dynamodb-calls";
/// Response header (local stack only): the capacity units the request's
/// calls consumed, as JSON, by table and index:
/// `{"read":{"table":0.5},"write":{"GSI1":1.0,"table":1.0}}`.
pub const DYNAMODB_CAPACITY_HEADER: &str = "x-quire-dynamodb-capacity";
/// The same for the authorizer's calls on that request.
pub const AUTHORIZER_CAPACITY_HEADER: &str = "x-quire-authorizer-dynamodb-capacity";

/// What one request produced, for the response and the log line.
struct Outcome {
    response: Response<Body>,
    route_key: Option<String>,
    /// The path as it may be logged (see [`loggable_path`]).
    logged_path: String,
    usage: Usage,
    authorizer_usage: Usage,
}

pub struct Gateway {
    routes: Vec<Route>,
    table: Table,
    throttle: Option<throttle::Buckets>,
    cors: Option<Cors>,
}

impl Gateway {
    /// Every route of the template, bound to its handler. A route whose
    /// function has no handler is an error: the stack must not start half-built.
    pub fn new(template: &Template, registry: &[Registered], table: Table, overrides: &Overrides) -> Result<Self, String> {
        let mut authorizers = HashMap::new();
        for spec in &template.authorizers {
            let function = template
                .functions
                .iter()
                .find(|f| f.logical_id == spec.function)
                .ok_or_else(|| format!("authorizer {} names function {}, which is not in the template", spec.name, spec.function))?;
            let handler = registry.iter().filter(|r| r.name == function.handler).find_map(Registered::authorizer).ok_or_else(|| {
                format!(
                    "authorizer {} runs {} (Handler {:?}), but functions::FUNCTIONS has no authorizer of that name",
                    spec.name, function.logical_id, function.handler
                )
            })?;
            let authorizer = Authorizer { identity_headers: spec.identity_headers.clone(), handler, table: table.clone() };
            authorizers.insert(spec.name.clone(), authorizer);
        }
        let mut routes = Vec::new();
        for (spec, function) in template.routes() {
            let (name, handler) =
                registry.iter().filter(|r| r.name == function.handler).find_map(|r| Some((r.name, r.http()?))).ok_or_else(|| {
                    format!(
                        "template.yaml routes {} {} to {} (Handler {:?}), but functions::FUNCTIONS has no HTTP function of that name",
                        spec.method, spec.path, function.logical_id, function.handler
                    )
                })?;
            let authorizer = spec.authorizer.as_ref().map(|name| authorizers[name].clone());
            routes.push(Route::new(&spec.method, &spec.path, name, handler, authorizer)?);
        }
        let throttle = overrides.throttle.or(template.throttle).map(throttle::Buckets::new);
        let mut cors = template.cors.clone();
        if let (Some(cors), Some(origins)) = (&mut cors, &overrides.cors_origins) {
            cors.allow_origins = origins.clone();
        }
        Ok(Self { routes, table, throttle, cors })
    }

    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// API Gateway's choice of route for `method` and `path` (see
    /// `routes::find`), with the path parameters it gives.
    pub fn find(&self, method: &str, path: &str) -> Option<(&Route, HashMap<String, String>)> {
        routes::find(&self.routes, method, path)
    }

    /// Serves one HTTP request as API Gateway would.
    pub async fn handle(self: Arc<Self>, remote: SocketAddr, request: Request<Body>) -> Response<Body> {
        let started = Instant::now();
        let request_id = ulid::Ulid::new().to_string();
        let method = request.method().as_str().to_string();
        if let Some(preflight) = self.cors.as_ref().and_then(|cors| cors.preflight(request.method(), request.headers())) {
            tracing::info!(target: "quire::request", %method, route = "(CORS preflight)", status = preflight.status().as_u16(), request_id = %request_id);
            return preflight;
        }
        let origin = request.headers().get(http::header::ORIGIN).cloned();
        let outcome = self.dispatch(remote, &request_id, request).await;
        let mut response = outcome.response;
        let headers = response.headers_mut();
        if let Some(cors) = &self.cors {
            cors.decorate(origin.as_ref(), headers);
        }
        headers.insert("apigw-requestid", HeaderValue::from_str(&request_id).expect("a ULID is a valid header"));
        for (calls_header, capacity_header, usage) in [
            (DYNAMODB_CALLS_HEADER, DYNAMODB_CAPACITY_HEADER, &outcome.usage),
            (AUTHORIZER_CALLS_HEADER, AUTHORIZER_CAPACITY_HEADER, &outcome.authorizer_usage),
        ] {
            headers.insert(calls_header, HeaderValue::from_str(&usage.calls.join(",")).unwrap_or(HeaderValue::from_static("")));
            let capacity = serde_json::to_string(&usage.capacity).expect("capacity serialises");
            headers.insert(capacity_header, HeaderValue::from_str(&capacity).expect("JSON of names and numbers is a valid header"));
        }
        let (usage, authorizer) = (&outcome.usage, &outcome.authorizer_usage);
        tracing::info!(
            target: "quire::request",
            %method,
            route = outcome.route_key.as_deref().unwrap_or("(no route)"),
            path = %outcome.logged_path,
            status = response.status().as_u16(),
            latency_ms = format!("{:.2}", started.elapsed().as_secs_f64() * 1000.0),
            dynamodb_calls = usage.calls.len() + authorizer.calls.len(),
            read_units = usage.capacity.read_units() + authorizer.capacity.read_units(),
            write_units = usage.capacity.write_units() + authorizer.capacity.write_units(),
            request_id = %request_id,
        );
        response
    }

    async fn dispatch(&self, remote: SocketAddr, request_id: &str, request: Request<Body>) -> Outcome {
        let method = request.method().as_str().to_string();
        let path = request.uri().path().to_string();
        let mut outcome = Outcome {
            response: Response::default(),
            route_key: None,
            logged_path: "(no route)".into(),
            usage: Usage::default(),
            authorizer_usage: Usage::default(),
        };
        let Some((route, path_parameters)) = self.find(&method, &path) else {
            let err = Error::NotFound { code: "route_not_found", message: format!("no route matches {method} {path}") };
            outcome.response = to_axum(functions::http::error_response(&err));
            return outcome;
        };
        outcome.route_key = Some(route.route_key.clone());
        outcome.logged_path = loggable_path(route, &path_parameters, &path);
        // The stage's throttling comes first: the authorizer does not run either.
        if self.throttle.as_ref().is_some_and(|buckets| !buckets.admit(&route.route_key)) {
            outcome.response = api_gateway_message(429, "Too Many Requests");
            return outcome;
        }
        let (parts, body) = request.into_parts();
        let Ok(body) = to_bytes(body, MAX_BODY_BYTES).await else {
            let err = Error::PayloadTooLarge {
                code: "payload_too_large",
                message: format!("request bodies are limited to {MAX_BODY_BYTES} bytes (API Gateway's limit)"),
            };
            outcome.response = to_axum(functions::http::error_response(&err));
            return outcome;
        };
        let mut event = build_event(route, path_parameters, &parts, &body, remote, request_id);

        if let Some(authorizer) = &route.authorizer {
            let (context, usage) = authorizer.authorize(&event).await;
            outcome.authorizer_usage = usage;
            match context {
                Ok(context) => {
                    let mut described = ApiGatewayRequestAuthorizer::default();
                    described.fields = context;
                    event.request_context.authorizer = Some(described);
                }
                Err(refusal) => {
                    outcome.response = refusal;
                    return outcome;
                }
            }
        }

        // Through JSON, as the Lambda runtime receives it, and decoded as
        // `functions::run` does (lambda_http's panics on bad URIs avoided).
        let json = serde_json::to_string(&event).expect("an API Gateway event serialises");
        let lambda_request = match functions::event::from_str(&json) {
            Ok(r) => r,
            Err(e) => {
                outcome.response = to_axum(functions::http::error_response(&Error::internal(format!("event did not decode: {e}"))));
                return outcome;
            }
        };
        let handler = route.handler;
        let table = self.table.clone();
        // A spawned task, so a panicking handler fails its request (a 500, as
        // an errored Lambda invocation) without taking the stack down.
        let invocation = tokio::spawn(shared::round_trips::measure(async move { handler(table, lambda_request).await }));
        match invocation.await {
            Ok((response, usage)) => {
                outcome.response = to_axum(response);
                outcome.usage = usage;
            }
            Err(e) => {
                tracing::error!("handler for {} failed: {e}", route.route_key);
                outcome.response = api_gateway_message(500, "Internal Server Error");
            }
        }
        outcome
    }
}

/// The request path for the log: only when every parameter in it is an id,
/// else the route's own path. A client can put anything in a path (an API
/// key pasted by mistake, an email where a user id belongs), and logs must
/// hold no secret or personal data; an unmatched path is not logged at all.
fn loggable_path(route: &Route, parameters: &HashMap<String, String>, path: &str) -> String {
    if parameters.values().all(|value| ulid::Ulid::from_string(value).is_ok()) {
        path.to_string()
    } else {
        route.route_key.split_once(' ').map_or("", |(_, template)| template).to_string()
    }
}

/// The fixed responses API Gateway itself sends (an HTTP API cannot change
/// them): `{"message":"Unauthorized"}` and the like.
fn api_gateway_message(status: u16, message: &str) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::from(serde_json::json!({ "message": message }).to_string()))
        .expect("a valid response")
}

fn to_axum(response: Response<lambda_http::Body>) -> Response<Body> {
    let (parts, body) = response.into_parts();
    let bytes = match body {
        lambda_http::Body::Empty => Vec::new(),
        lambda_http::Body::Text(t) => t.into_bytes(),
        lambda_http::Body::Binary(b) => b,
        _ => Vec::new(),
    };
    Response::from_parts(parts, Body::from(bytes))
}

/// The axum fallback that sends every request through the gateway.
pub async fn serve_request(
    State(gateway): State<Arc<Gateway>>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    request: Request<Body>,
) -> Response<Body> {
    gateway.handle(remote, request).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::{Function, RouteSpec, TableDefinition};

    pub(super) fn gateway(routes: &[(&str, &str, &'static str)]) -> Gateway {
        let table: TableDefinition = serde_yaml::from_str("{AttributeDefinitions: [], KeySchema: []}").unwrap();
        let functions = routes
            .iter()
            .map(|(method, path, name)| Function {
                logical_id: format!("{name}Function"),
                handler: name.to_string(),
                metadata: serde_yaml::Value::Null,
                routes: vec![RouteSpec { method: method.to_string(), path: path.to_string(), authorizer: None }],
                iam_statements: Vec::new(),
                other_policies: Vec::new(),
                stream: None,
                timeout_seconds: 10,
                memory_mb: 128,
                environment: Default::default(),
            })
            .collect();
        let any_handler = functions::FUNCTIONS.iter().find_map(Registered::http).unwrap();
        let handlers: Vec<Registered> = routes
            .iter()
            .map(|(_, _, name)| Registered { name, kind: functions::Kind::Http(any_handler), iam_actions: &[], reads_body: false })
            .collect();
        let cursors = shared::Cursors::new(&[0u8; 32]).unwrap();
        let template = Template { table, functions, authorizers: Vec::new(), throttle: None, cors: None };
        Gateway::new(&template, &handlers, Table::for_endpoint("http://127.0.0.1:9", "t", cursors), &Overrides::default()).unwrap()
    }

    #[test]
    fn a_route_without_a_handler_stops_startup() {
        let table: TableDefinition = serde_yaml::from_str("{AttributeDefinitions: [], KeySchema: []}").unwrap();
        let functions = vec![Function {
            logical_id: "OrphanFunction".into(),
            handler: "orphan".into(),
            metadata: serde_yaml::Value::Null,
            routes: vec![RouteSpec { method: "GET".into(), path: "/orphan".into(), authorizer: None }],
            iam_statements: Vec::new(),
            other_policies: Vec::new(),
            stream: None,
            timeout_seconds: 10,
            memory_mb: 128,
            environment: Default::default(),
        }];
        let cursors = shared::Cursors::new(&[0u8; 32]).unwrap();
        let table_handle = Table::for_endpoint("http://127.0.0.1:9", "t", cursors);
        let template = Template { table, functions, authorizers: Vec::new(), throttle: None, cors: None };
        let err = Gateway::new(&template, functions::FUNCTIONS, table_handle, &Overrides::default()).err().unwrap();
        assert!(err.contains("GET /orphan") && err.contains("OrphanFunction") && err.contains("orphan"), "{err}");
    }
}
