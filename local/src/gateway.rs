//! An API Gateway HTTP API (payload 2.0) in front of the route handlers:
//! routes come from template.yaml, each request becomes the same v2 event
//! Lambda would receive, and that event is decoded by lambda_http exactly as
//! in the Lambda runtime before the handler sees it.

use crate::template::Template;
use aws_lambda_events::apigw::{
    ApiGatewayRequestAuthorizer, ApiGatewayV2CustomAuthorizerV2Request, ApiGatewayV2httpRequest, ApiGatewayV2httpRequestContext,
};
use axum::body::{Body, to_bytes};
use axum::extract::{ConnectInfo, State};
use base64::Engine as _;
use functions::{AuthorizerHandler, Function as Registered, HttpHandler};
use http::{HeaderMap, HeaderValue, Request, Response};
use shared::{Error, Table};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// API Gateway's request payload limit for HTTP APIs.
pub const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;

/// Response header (local stack only) listing the DynamoDB operations a request made.
pub const DYNAMODB_CALLS_HEADER: &str = "x-quire-dynamodb-calls";
/// The same for the authorizer's calls on that request.
pub const AUTHORIZER_CALLS_HEADER: &str = "x-quire-authorizer-dynamodb-calls";

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(String),
    /// `{name+}`: one or more trailing segments.
    Greedy(String),
}

pub struct Route {
    /// `GET /users/{userId}`, as API Gateway names it in `routeKey`.
    pub route_key: String,
    /// The registry entry that serves it.
    pub function: &'static str,
    method: String,
    segments: Vec<Segment>,
    handler: HttpHandler,
    authorizer: Option<Authorizer>,
}

#[derive(Clone)]
struct Authorizer {
    identity_headers: Vec<String>,
    handler: AuthorizerHandler,
}

/// What one request produced, for the response and the log line.
struct Outcome {
    response: Response<Body>,
    route_key: Option<String>,
    /// The path as it may be logged (see [`loggable_path`]).
    logged_path: String,
    calls: Vec<String>,
    authorizer_calls: Vec<String>,
}

pub struct Gateway {
    routes: Vec<Route>,
    table: Table,
}

impl Gateway {
    /// Every route of the template, bound to its handler. A route whose
    /// function has no handler is an error: the stack must not start half-built.
    pub fn new(template: &Template, registry: &[Registered], table: Table) -> Result<Self, String> {
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
            let authorizer = Authorizer { identity_headers: spec.identity_headers.clone(), handler };
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
            routes.push(Route {
                route_key: format!("{} {}", spec.method, spec.path),
                function: name,
                method: spec.method.clone(),
                segments: parse_path(&spec.path)?,
                handler,
                authorizer: spec.authorizer.as_ref().map(|name| authorizers[name].clone()),
            });
        }
        Ok(Self { routes, table })
    }

    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// API Gateway's choice among the routes matching a request: per segment
    /// from the left a literal beats `{param}`, which beats `{param+}`; then a
    /// route for the exact method beats `ANY`.
    pub fn find(&self, method: &str, path: &str) -> Option<(&Route, HashMap<String, String>)> {
        let segments: Vec<&str> = path.strip_prefix('/').unwrap_or(path).split('/').collect();
        self.routes
            .iter()
            .filter(|r| r.method == method || r.method == "ANY")
            .filter_map(|r| match_segments(&r.segments, &segments).map(|params| (r, params)))
            .max_by_key(|(r, _)| {
                let specificity: Vec<u8> = r
                    .segments
                    .iter()
                    .map(|s| match s {
                        Segment::Literal(_) => 2,
                        Segment::Param(_) => 1,
                        Segment::Greedy(_) => 0,
                    })
                    .collect();
                (specificity, r.method != "ANY")
            })
    }

    /// Serves one HTTP request as API Gateway would.
    pub async fn handle(self: Arc<Self>, remote: SocketAddr, request: Request<Body>) -> Response<Body> {
        let started = Instant::now();
        let request_id = ulid::Ulid::new().to_string();
        let method = request.method().as_str().to_string();
        let outcome = self.dispatch(remote, &request_id, request).await;
        let mut response = outcome.response;
        let headers = response.headers_mut();
        headers.insert("apigw-requestid", HeaderValue::from_str(&request_id).expect("a ULID is a valid header"));
        for (name, calls) in [(DYNAMODB_CALLS_HEADER, &outcome.calls), (AUTHORIZER_CALLS_HEADER, &outcome.authorizer_calls)] {
            headers.insert(name, HeaderValue::from_str(&calls.join(",")).unwrap_or(HeaderValue::from_static("")));
        }
        tracing::info!(
            target: "quire::request",
            %method,
            route = outcome.route_key.as_deref().unwrap_or("(no route)"),
            path = %outcome.logged_path,
            status = response.status().as_u16(),
            latency_ms = format!("{:.2}", started.elapsed().as_secs_f64() * 1000.0),
            dynamodb_calls = outcome.calls.len() + outcome.authorizer_calls.len(),
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
            calls: Vec::new(),
            authorizer_calls: Vec::new(),
        };
        let Some((route, path_parameters)) = self.find(&method, &path) else {
            let err = Error::NotFound { code: "route_not_found", message: format!("no route matches {method} {path}") };
            outcome.response = to_axum(functions::http::error_response(&err));
            return outcome;
        };
        outcome.route_key = Some(route.route_key.clone());
        outcome.logged_path = loggable_path(route, &path_parameters, &path);
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
            let (context, calls) = self.authorize(authorizer, &event).await;
            outcome.authorizer_calls = calls;
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
        let invocation = tokio::spawn(shared::round_trips::record(async move { handler(table, lambda_request).await }));
        match invocation.await {
            Ok((response, calls)) => {
                outcome.response = to_axum(response);
                outcome.calls = calls;
            }
            Err(e) => {
                tracing::error!("handler for {} failed: {e}", route.route_key);
                outcome.response = api_gateway_message(500, "Internal Server Error");
            }
        }
        outcome
    }

    /// API Gateway's authorizer step: 401 without invoking it when an
    /// identity header is missing, 403 when it denies, 500 when it fails;
    /// otherwise the context it returned.
    async fn authorize(
        &self,
        authorizer: &Authorizer,
        event: &ApiGatewayV2httpRequest,
    ) -> (Result<HashMap<String, serde_json::Value>, Response<Body>>, Vec<String>) {
        let identity: Option<Vec<String>> = authorizer
            .identity_headers
            .iter()
            .map(|h| event.headers.get(h.to_ascii_lowercase()).and_then(|v| v.to_str().ok()).filter(|v| !v.is_empty()).map(str::to_string))
            .collect();
        let Some(identity) = identity else {
            return (Err(api_gateway_message(401, "Unauthorized")), Vec::new());
        };
        let request = authorizer_event(event, identity);
        let handler = authorizer.handler;
        let table = self.table.clone();
        let invocation = tokio::spawn(shared::round_trips::record(async move { handler(table, request).await }));
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
                (Err(api_gateway_message(500, "Internal Server Error")), Vec::new())
            }
        }
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

fn parse_path(path: &str) -> Result<Vec<Segment>, String> {
    let trimmed = path.strip_prefix('/').ok_or_else(|| format!("route path {path:?} must start with /"))?;
    let segments: Vec<Segment> = trimmed
        .split('/')
        .map(|s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(name) => match name.strip_suffix('+') {
                Some(greedy) => Segment::Greedy(greedy.to_string()),
                None => Segment::Param(name.to_string()),
            },
            None => Segment::Literal(s.to_string()),
        })
        .collect();
    if segments.iter().rev().skip(1).any(|s| matches!(s, Segment::Greedy(_))) {
        return Err(format!("route path {path:?}: a greedy {{name+}} segment must be the last"));
    }
    Ok(segments)
}

fn match_segments(route: &[Segment], request: &[&str]) -> Option<HashMap<String, String>> {
    let mut params = HashMap::new();
    for (i, segment) in route.iter().enumerate() {
        match segment {
            Segment::Greedy(name) => {
                let rest = request.get(i..).filter(|r| !r.is_empty() && r.iter().any(|s| !s.is_empty()))?;
                params.insert(name.clone(), decode(&rest.join("/")));
                return Some(params);
            }
            Segment::Literal(literal) => {
                if request.get(i)? != literal {
                    return None;
                }
            }
            Segment::Param(name) => {
                let value = request.get(i).filter(|v| !v.is_empty())?;
                params.insert(name.clone(), decode(value));
            }
        }
    }
    (route.len() == request.len()).then_some(params)
}

fn decode(segment: &str) -> String {
    percent_encoding::percent_decode_str(segment).decode_utf8_lossy().into_owned()
}

/// The HTTP API payload 2.0 event for this request.
fn build_event(
    route: &Route,
    path_parameters: HashMap<String, String>,
    parts: &http::request::Parts,
    body: &[u8],
    remote: SocketAddr,
    request_id: &str,
) -> ApiGatewayV2httpRequest {
    // Header names arrive lower case; repeated headers are joined with commas
    // and cookies travel apart, as API Gateway does.
    let mut headers = HeaderMap::new();
    let mut cookies = Vec::new();
    for name in parts.headers.keys() {
        let values: Vec<&str> = parts.headers.get_all(name).iter().filter_map(|v| v.to_str().ok()).collect();
        if name == http::header::COOKIE {
            cookies.extend(values.iter().flat_map(|v| v.split(';')).map(|c| c.trim().to_string()));
        } else if let Ok(value) = HeaderValue::from_str(&values.join(",")) {
            headers.insert(name.clone(), value);
        }
    }
    let raw_query = parts.uri.query().unwrap_or("").to_string();
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();

    let mut context = ApiGatewayV2httpRequestContext::default();
    context.route_key = Some(route.route_key.clone());
    context.account_id = Some("000000000000".into());
    context.apiid = Some("local".into());
    context.stage = Some("$default".into());
    context.request_id = Some(request_id.to_string());
    context.domain_name = parts.headers.get("host").and_then(|h| h.to_str().ok()).map(str::to_string);
    context.domain_prefix = context.domain_name.as_ref().map(|d| d.split('.').next().unwrap_or(d).to_string());
    context.time_epoch = now.as_millis() as i64;
    context.http.method = parts.method.clone();
    context.http.path = Some(parts.uri.path().to_string());
    context.http.protocol = Some(format!("{:?}", parts.version));
    context.http.source_ip = Some(remote.ip().to_string());
    context.http.user_agent = parts.headers.get("user-agent").and_then(|h| h.to_str().ok()).map(str::to_string);

    let mut event = ApiGatewayV2httpRequest::default();
    event.version = Some("2.0".into());
    event.route_key = Some(route.route_key.clone());
    event.raw_path = Some(parts.uri.path().to_string());
    event.query_string_parameters = raw_query.parse().unwrap_or_default();
    event.raw_query_string = Some(raw_query);
    event.cookies = (!cookies.is_empty()).then_some(cookies);
    event.headers = headers;
    event.path_parameters = path_parameters;
    event.request_context = context;
    if !body.is_empty() {
        match std::str::from_utf8(body) {
            Ok(text) => event.body = Some(text.to_string()),
            Err(_) => {
                event.body = Some(base64::engine::general_purpose::STANDARD.encode(body));
                event.is_base64_encoded = true;
            }
        }
    }
    event
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

    fn gateway(routes: &[(&str, &str, &'static str)]) -> Gateway {
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
            })
            .collect();
        let any_handler = functions::FUNCTIONS.iter().find_map(Registered::http).unwrap();
        let handlers: Vec<Registered> = routes
            .iter()
            .map(|(_, _, name)| Registered { name, kind: functions::Kind::Http(any_handler), iam_actions: &[], reads_body: false })
            .collect();
        let cursors = shared::Cursors::new(&[0u8; 32]).unwrap();
        let template = Template { table, functions, authorizers: Vec::new() };
        Gateway::new(&template, &handlers, Table::for_endpoint("http://127.0.0.1:9", "t", cursors)).unwrap()
    }

    fn found(g: &Gateway, method: &str, path: &str) -> Option<(&'static str, Vec<(String, String)>)> {
        g.find(method, path).map(|(r, p)| {
            let mut p: Vec<_> = p.into_iter().collect();
            p.sort();
            (r.function, p)
        })
    }

    #[test]
    fn a_literal_segment_beats_a_parameter_whatever_the_order() {
        let g = gateway(&[("GET", "/users/{userId}", "get-user"), ("GET", "/users/by-email", "by-email")]);
        assert_eq!(found(&g, "GET", "/users/by-email").unwrap().0, "by-email");
        let (binary, params) = found(&g, "GET", "/users/01ARZ3NDEKTSV4RRFFQ69G5FAV").unwrap();
        assert_eq!(binary, "get-user");
        assert_eq!(params, [("userId".to_string(), "01ARZ3NDEKTSV4RRFFQ69G5FAV".to_string())]);
    }

    #[test]
    fn methods_segments_and_greedy_paths() {
        let g = gateway(&[
            ("PUT", "/users/{userId}/follow", "follow"),
            ("DELETE", "/users/{userId}/follow", "unfollow"),
            ("ANY", "/files/{path+}", "files"),
            ("GET", "/files/special", "special"),
        ]);
        assert_eq!(found(&g, "PUT", "/users/u1/follow").unwrap().0, "follow");
        assert_eq!(found(&g, "DELETE", "/users/u1/follow").unwrap().0, "unfollow");
        assert!(found(&g, "GET", "/users/u1/follow").is_none(), "no route for the method");
        assert!(found(&g, "PUT", "/users/u1/follow/extra").is_none());
        assert!(found(&g, "PUT", "/users//follow").is_none(), "an empty parameter matches nothing");
        assert_eq!(found(&g, "GET", "/files/special").unwrap().0, "special");
        let (binary, params) = found(&g, "POST", "/files/a/b%20c").unwrap();
        assert_eq!(binary, "files");
        assert_eq!(params, [("path".to_string(), "a/b c".to_string())]);
        assert!(found(&g, "POST", "/files").is_none());
    }

    #[test]
    fn the_event_is_api_gateway_v2_and_decodes_as_the_functions_do() {
        use lambda_http::RequestExt;
        let g = gateway(&[("POST", "/users/{userId}/things", "things")]);
        let (route, params) = g.find("POST", "/users/01ARZ3NDEKTSV4RRFFQ69G5FAV/things").unwrap();
        let request = http::Request::builder()
            .method("POST")
            .uri("/users/01ARZ3NDEKTSV4RRFFQ69G5FAV/things?tag=a&tag=b&limit=5")
            .header("Host", "localhost:3000")
            .header("X-Custom", "one")
            .header("x-custom", "two")
            .header("cookie", "a=1; b=2")
            .body(())
            .unwrap();
        let (parts, ()) = request.into_parts();
        let body = [0xffu8, 0x00, 0x41]; // not UTF-8: travels base64-encoded
        let event = build_event(route, params, &parts, &body, "127.0.0.9:5000".parse().unwrap(), "REQ1");
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["version"], "2.0");
        assert_eq!(json["routeKey"], "POST /users/{userId}/things");
        assert_eq!(json["rawQueryString"], "tag=a&tag=b&limit=5");
        assert_eq!(json["queryStringParameters"]["tag"], "a,b", "repeated values joined as API Gateway does");
        assert_eq!(json["headers"]["x-custom"], "one,two");
        assert_eq!(json["cookies"], serde_json::json!(["a=1", "b=2"]));
        assert_eq!(json["isBase64Encoded"], true);
        assert_eq!(json["requestContext"]["requestId"], "REQ1");
        assert_eq!(json["requestContext"]["http"]["sourceIp"], "127.0.0.9");

        let decoded = functions::event::from_str(&json.to_string()).unwrap();
        assert_eq!(decoded.method(), "POST");
        assert_eq!(decoded.path_parameters().first("userId"), Some("01ARZ3NDEKTSV4RRFFQ69G5FAV"));
        assert_eq!(decoded.query_string_parameters().all("tag"), Some(vec!["a", "b"]));
        assert_eq!(decoded.body().as_ref(), &body);
        let context = decoded.request_context();
        let lambda_http::request::RequestContext::ApiGatewayV2(context) = context else { panic!("a v2 context") };
        assert_eq!(context.route_key.as_deref(), Some("POST /users/{userId}/things"));
    }

    /// hyper refuses such a query before the gateway sees it, but API
    /// Gateway passes it on, and a Host header no URL can hold does reach
    /// the gateway: neither makes decoding panic.
    #[test]
    fn an_event_lambda_http_alone_would_panic_on_decodes() {
        use lambda_http::RequestExt;
        let g = gateway(&[("GET", "/users", "things")]);
        let (route, params) = g.find("GET", "/users").unwrap();
        let request = http::Request::builder().uri("/users").header("Host", "bad host{}").body(()).unwrap();
        let (parts, ()) = request.into_parts();
        let mut event = build_event(route, params, &parts, &[], "127.0.0.9:5000".parse().unwrap(), "REQ1");
        event.raw_query_string = Some("limit=\"5\"&q=<a b>".into());
        let decoded = functions::event::from_str(&serde_json::to_string(&event).unwrap()).unwrap();
        assert_eq!(decoded.query_string_parameters().first("limit"), Some("\"5\""));
        assert_eq!(decoded.query_string_parameters().first("q"), Some("<a b>"));
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
        }];
        let cursors = shared::Cursors::new(&[0u8; 32]).unwrap();
        let table_handle = Table::for_endpoint("http://127.0.0.1:9", "t", cursors);
        let template = Template { table, functions, authorizers: Vec::new() };
        let err = Gateway::new(&template, functions::FUNCTIONS, table_handle).err().unwrap();
        assert!(err.contains("GET /orphan") && err.contains("OrphanFunction") && err.contains("orphan"), "{err}");
    }
}
