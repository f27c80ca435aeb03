//! The HTTP API payload 2.0 event API Gateway sends a Lambda function,
//! built from an HTTP request and the route it matched.

use super::routes::Route;
use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpRequestContext};
use base64::Engine as _;
use http::{HeaderMap, HeaderValue};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{SystemTime, UNIX_EPOCH};

/// The HTTP API payload 2.0 event for this request.
pub(super) fn build_event(
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::tests::gateway;

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
}
