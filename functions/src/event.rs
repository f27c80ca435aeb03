//! API Gateway events into `lambda_http::Request`s, without lambda_http's
//! panics on URI parts it cannot parse.
//!
//! lambda_http 1.3 appends `rawQueryString` as it is to the request URI and
//! `expect`s the URI to parse ("failed to build request: InvalidUriChar").
//! API Gateway passes the query through as the client sent it, so a
//! hand-made `GET /users?limit="5"` would panic (abort, in release builds)
//! before any Quire code runs, and API Gateway would answer 500. Here the
//! bytes the URI parser refuses are percent-encoded first: query parsing
//! decodes them back, so the handler sees the value the client sent and
//! answers its usual 4xx. Everything else about the conversion, and the
//! response's, stays lambda_http's own.

use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use lambda_http::http::Uri;
use lambda_http::http::header::HOST;
use lambda_http::lambda_runtime::{Diagnostic, LambdaEvent};
use lambda_http::request::LambdaRequest;
use lambda_http::tower::{Service, ServiceExt};
use lambda_http::{Adapter, IntoResponse, Request};
use std::fmt::{Debug, Write};

/// Bytes the `http` crate refuses in a URI query (controls, space, `"`, `<`,
/// `>`, DEL), and `#`, which it would take as the start of a fragment,
/// silently dropping the rest of the query.
fn needs_encoding(byte: u8) -> bool {
    matches!(byte, 0x00..=0x20 | b'"' | b'#' | b'<' | b'>' | 0x7F)
}

/// Makes the event one lambda_http converts without panicking; a valid
/// event is left as it is.
fn sanitize(event: &mut ApiGatewayV2httpRequest) {
    if let Some(query) = &mut event.raw_query_string
        && query.bytes().any(needs_encoding)
    {
        let mut encoded = String::with_capacity(query.len() + 16);
        for c in query.chars() {
            match u8::try_from(c) {
                Ok(byte) if needs_encoding(byte) => write!(encoded, "%{byte:02X}").expect("writing to a String"),
                _ => encoded.push(c),
            }
        }
        *query = encoded;
    }

    // lambda_http also unwraps `Url::parse("{x-forwarded-proto}://{host}{path}")`,
    // the host being the Host header, else the domain name. API Gateway
    // sets these itself, but the local stack passes on the client's: one
    // that cannot make a URL goes (lambda_http then uses https, the domain
    // name, or no host at all).
    let headers = &mut event.headers;
    let web = |proto: &[u8]| proto.eq_ignore_ascii_case(b"https") || proto.eq_ignore_ascii_case(b"http");
    if headers.get("x-forwarded-proto").is_some_and(|proto| !web(proto.as_bytes())) {
        headers.remove("x-forwarded-proto");
    }
    // As lambda_http does: a URL, then a URI (which is stricter: no `"`, `{`…).
    let usable = |host: &str| url::Url::parse(&format!("https://{host}/")).is_ok_and(|url| url.as_str().parse::<Uri>().is_ok());
    if headers.get(HOST).and_then(|host| host.to_str().ok()).is_some_and(|host| !usable(host)) {
        headers.remove(HOST);
    }
    let domain = &mut event.request_context.domain_name;
    if domain.as_deref().is_some_and(|host| !usable(host)) {
        *domain = None;
    }
}

fn sanitize_request(mut request: LambdaRequest) -> LambdaRequest {
    if let LambdaRequest::ApiGatewayV2(event) = &mut request {
        sanitize(event);
    }
    request
}

/// `lambda_http::request::from_str` through [`sanitize`]: how the local
/// stack and the tests decode an event.
pub fn from_str(json: &str) -> Result<Request, serde_json::Error> {
    serde_json::from_str::<LambdaRequest>(json).map(|request| sanitize_request(request).into())
}

/// `lambda_http::run`, with each event through [`sanitize`] before
/// lambda_http's adapter turns it into a `Request` (and the response back
/// into API Gateway's).
pub async fn run<'a, S, R, E>(service: S) -> Result<(), lambda_http::Error>
where
    S: Service<Request, Response = R, Error = E>,
    S::Future: Send + 'a,
    R: IntoResponse + 'a,
    E: Debug + Into<Diagnostic>,
{
    lambda_http::lambda_runtime::run(adapter(service)).await
}

/// The service [`run`] hands the Lambda runtime.
fn adapter<'a, S, R, E>(service: S) -> impl Service<LambdaEvent<LambdaRequest>, Response = impl serde::Serialize, Error = E, Future: Send>
where
    S: Service<Request, Response = R, Error = E>,
    S::Future: Send + 'a,
    R: IntoResponse + 'a,
{
    // lambda_http's own adapter, as `lambda_http::run` uses (public, if
    // undocumented): the response conversion stays exactly lambda_http's.
    Adapter::from(service)
        .map_request(|event: LambdaEvent<LambdaRequest>| LambdaEvent { payload: sanitize_request(event.payload), context: event.context })
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::RequestExt;
    use lambda_http::lambda_runtime::Context;
    use serde_json::{Value, json};
    use std::panic::catch_unwind;

    /// events/list-users.json with `edit` applied.
    fn list_users_event(edit: impl FnOnce(&mut Value)) -> String {
        let mut event: Value = serde_json::from_str(include_str!("../../events/list-users.json")).unwrap();
        event.as_object_mut().unwrap().remove("queryStringParameters");
        edit(&mut event);
        event.to_string()
    }

    fn with_raw_query(raw_query: &str) -> String {
        list_users_event(|event| event["rawQueryString"] = raw_query.into())
    }

    /// Every char of one byte (U+0000 to U+00FF: all ASCII, and some
    /// non-ASCII), and a few longer ones.
    fn every_char() -> impl Iterator<Item = char> {
        (0u8..=255).map(char::from).chain(['€', '😀', '\u{FFFD}'])
    }

    #[test]
    fn lambda_http_alone_panics_on_exactly_these_query_bytes() {
        let panics: Vec<char> =
            every_char().filter(|c| catch_unwind(|| lambda_http::request::from_str(&with_raw_query(&format!("limit={c}")))).is_err()).collect();
        let expected: Vec<char> = ('\0'..=' ').chain(['"', '<', '>', '\x7F']).collect();
        assert_eq!(panics, expected, "if this changes, lambda_http changed: revisit event.rs");
    }

    #[test]
    fn every_char_in_a_raw_query_string_decodes_to_itself() {
        for c in every_char() {
            let request = from_str(&with_raw_query(&format!("email=a{c}b&limit=5"))).unwrap();
            let expected = match c {
                '+' => "a b".to_string(),
                '&' => "a".to_string(),
                _ => format!("a{c}b"),
            };
            let email = request.query_string_parameters_ref().and_then(|q| q.first("email").map(str::to_string));
            assert_eq!(email.as_deref(), Some(expected.as_str()), "{c:?}");
            assert_eq!(request.query_string_parameters().first("limit"), Some("5"), "{c:?}");
        }
    }

    #[test]
    fn a_valid_raw_query_string_is_left_byte_for_byte() {
        for query in [
            "",
            "limit=20",
            "email=ada%40example.com",
            "cursor=eyJ9&limit=5&unread=true",
            "a={|}\\^`[]",
            "q=é€😀",
            "bad=%zz%",
            "a=b=c;d,e+f!$'()*:@/?~",
        ] {
            let mut event = serde_json::from_str::<ApiGatewayV2httpRequest>(&with_raw_query(query)).unwrap();
            let before = event.clone();
            sanitize(&mut event);
            assert_eq!(event, before, "{query}");
            let request = from_str(&with_raw_query(query)).unwrap();
            assert_eq!(request.uri().query().unwrap_or(""), query);
        }
    }

    #[test]
    fn a_bad_host_proto_or_path_never_panics() {
        let mut panics = Vec::new();
        for c in every_char() {
            let value = format!("a{c}b");
            let events = [
                ("host", list_users_event(|event| event["headers"]["host"] = value.as_str().into())),
                ("proto", list_users_event(|event| event["headers"]["x-forwarded-proto"] = value.as_str().into())),
                (
                    "domain",
                    list_users_event(|event| {
                        event["headers"].as_object_mut().unwrap().remove("host");
                        event["requestContext"]["domainName"] = value.as_str().into();
                    }),
                ),
                ("path", list_users_event(|event| event["rawPath"] = format!("/users/{value}").into())),
            ];
            for (what, event) in events {
                // Some are refused as JSON (a control char in a header): an error, not a panic.
                if catch_unwind(|| from_str(&event)).is_err() {
                    panics.push(format!("{what} {c:?}"));
                }
            }
        }
        assert!(panics.is_empty(), "{panics:?}");
    }

    /// The reply the Lambda runtime would send API Gateway for this event.
    async fn invoke(name: &str, json: &str) -> Value {
        let handler = crate::find(name).and_then(crate::Function::http).unwrap();
        // Never called: validation refuses these requests first.
        let table = shared::Table::for_endpoint("http://127.0.0.1:9", "quire", shared::Cursors::new(&[7; 32]).unwrap());
        let service = lambda_http::service_fn(move |request| {
            let response = handler(table.clone(), request);
            async move { Ok::<_, std::convert::Infallible>(response.await) }
        });
        let payload = serde_json::from_str(json).unwrap();
        let reply = adapter(service).oneshot(LambdaEvent::new(payload, Context::default())).await.unwrap();
        serde_json::to_value(reply).unwrap()
    }

    fn error_code(reply: &Value) -> Value {
        serde_json::from_str::<Value>(reply["body"].as_str().unwrap()).unwrap()["error"]["code"].clone()
    }

    #[tokio::test]
    async fn unencoded_quotes_and_angle_brackets_get_the_handlers_4xx() {
        let reply = invoke("list-users", &with_raw_query("limit=\"5\"")).await;
        assert_eq!((reply["statusCode"].clone(), error_code(&reply)), (json!(400), json!("invalid_limit")), "{reply}");

        let mut event: Value = serde_json::from_str(include_str!("../../events/get-user-by-email.json")).unwrap();
        event["rawQueryString"] = "email=<a@b.c>".into();
        event.as_object_mut().unwrap().remove("queryStringParameters");
        let reply = invoke("get-user-by-email", &event.to_string()).await;
        assert_eq!((reply["statusCode"].clone(), error_code(&reply)), (json!(400), json!("invalid_field")), "{reply}");
        assert!(reply["body"].as_str().unwrap().contains("email is not a valid address"), "{reply}");
    }
}
