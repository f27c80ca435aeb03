//! Request parsing and response building shared by every route, and the one
//! place where a `shared::Error` becomes an HTTP response.

use crate::{HandlerResult, caching};
use lambda_http::http;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use shared::idempotency::{self, Created, Idempotency};
use shared::ids::UserId;
use shared::{Caller, Error, PageRequest};
use std::future::Future;
use std::str::FromStr;

pub const JSON: &str = "application/json";

/// Runs a route as every route runs: a key over its plan's rate limit is
/// answered 429 before the handler, so before any DynamoDB call; the
/// handler's error becomes its response; a GET's 200 gets its caching
/// headers, or becomes a 304 ([`caching`]).
pub async fn serve<F: Future<Output = HandlerResult>>(request: Request, handler: impl FnOnce(Request) -> F) -> Response<Body> {
    if let Some(retry_after_seconds) = rate_limited(&request) {
        crate::metrics::rate_limited();
        return respond(Err(Error::RateLimited { retry_after_seconds }));
    }
    let revalidation = caching::Revalidation::of(&request, authorizer_context(&request).is_some());
    let response = respond(handler(request).await);
    match revalidation {
        Some(revalidation) => revalidation.apply(response),
        None => response,
    }
}

/// The seconds to wait, when the authorizer found the key over its limit.
/// The field's presence decides: a value that is not a whole number (the
/// context is JSON; a string would do) still refuses, with 1 s.
fn rate_limited(request: &Request) -> Option<u64> {
    let value = authorizer_context(request)?.get(shared::auth::RETRY_AFTER_FIELD)?;
    Some(value.as_u64().or_else(|| value.as_str()?.parse().ok()).unwrap_or(1).max(1))
}

/// What the authorizer handed the route (`requestContext.authorizer.lambda`);
/// `None` on a public route, which API Gateway runs without it.
fn authorizer_context(request: &Request) -> Option<&std::collections::HashMap<String, serde_json::Value>> {
    request.request_context_ref()?.authorizer().map(|a| &a.fields).filter(|fields| !fields.is_empty())
}

/// Turns a handler's result into the response API Gateway returns.
pub fn respond(result: HandlerResult) -> Response<Body> {
    match result {
        Ok(response) => response,
        Err(err) => {
            if err.status() >= 500 {
                tracing::error!(error = %err, "request failed");
            } else {
                tracing::info!(status = err.status(), code = err.code(), "request refused");
            }
            error_response(&err)
        }
    }
}

pub fn error_response(err: &Error) -> Response<Body> {
    let mut response = Response::builder().status(err.status()).header("content-type", JSON);
    if let Some(seconds) = err.retry_after_seconds() {
        response = response.header("retry-after", seconds);
    }
    response.body(Body::Text(err.body().to_string())).expect("status and headers are valid")
}

/// A JSON response with `status`.
pub fn json<T: Serialize>(status: u16, value: &T) -> HandlerResult {
    let body = serde_json::to_string(value).map_err(Error::internal)?;
    Response::builder().status(status).header("content-type", JSON).body(Body::Text(body)).map_err(Error::internal)
}

/// A public read's JSON 200, which shared caches may keep for `lifetime`.
pub fn public_json<T: Serialize>(lifetime: caching::Public, value: &T) -> HandlerResult {
    caching::public(lifetime, json(200, value))
}

/// A JSON response carrying the resource's version as a strong `ETag`.
pub fn json_with_etag<T: Serialize>(status: u16, version: u64, value: &T) -> HandlerResult {
    let mut response = json(status, value)?;
    let etag = format!("\"{version}\"").parse().map_err(Error::internal)?;
    response.headers_mut().insert("etag", etag);
    Ok(response)
}

pub fn no_content() -> HandlerResult {
    Response::builder().status(204).body(Body::Empty).map_err(Error::internal)
}

/// A path parameter parsed into its typed id (400 if it is not one).
pub fn path_param<T: FromStr<Err = Error>>(request: &Request, name: &str) -> Result<T, Error> {
    let params = request.path_parameters();
    let raw = params.first(name).ok_or_else(|| Error::invalid(format!("missing path parameter {name}")))?;
    raw.parse()
}

/// A path parameter that is text, not an id (a tag): the data model checks it.
pub fn text_path_param(request: &Request, name: &str) -> Result<String, Error> {
    let params = request.path_parameters();
    params.first(name).map(str::to_string).ok_or_else(|| Error::invalid(format!("missing path parameter {name}")))
}

/// The one value of a query parameter; a repeated parameter is ambiguous (400).
pub fn query_param(request: &Request, name: &str) -> Result<Option<String>, Error> {
    let params = request.query_string_parameters();
    match params.all(name).as_deref() {
        None | Some([]) => Ok(None),
        Some([one]) => Ok(Some(one.to_string())),
        Some(_) => Err(Error::invalid(format!("query parameter {name} was given more than once"))),
    }
}

/// A `true`/`false` query parameter.
pub fn bool_param(request: &Request, name: &str) -> Result<Option<bool>, Error> {
    match query_param(request, name)?.as_deref() {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(_) => Err(Error::invalid(format!("query parameter {name} must be true or false"))),
    }
}

/// `?limit=` and `?cursor=`.
pub fn page_request(request: &Request) -> Result<PageRequest, Error> {
    PageRequest::parse(query_param(request, "limit")?.as_deref(), query_param(request, "cursor")?.as_deref())
}

/// The caller, as the API-key authorizer described them. A route reached
/// without it was deployed without the authorizer: refuse rather than guess.
pub fn caller(request: &Request) -> Result<Caller, Error> {
    let unauthorized = || Error::Unauthorized { code: "unauthorized", message: "an API key is required".into() };
    let fields = authorizer_context(request).ok_or_else(unauthorized)?;
    let value = serde_json::Value::Object(fields.iter().map(|(k, v)| (k.clone(), v.clone())).collect());
    serde_json::from_value(value).map_err(|_| unauthorized())
}

/// The request's `Idempotency-Key`, if it has one, bound to who is asking
/// (`caller`, `None` on public routes), the method, the path and the JSON
/// body. Call after the body parsed, so the body here is valid JSON.
pub fn idempotency(request: &Request, caller: Option<UserId>) -> Result<Option<Idempotency>, Error> {
    let Some(value) = request.headers().get(idempotency::HEADER) else {
        return Ok(None);
    };
    let key = value.to_str().unwrap_or("\u{0}");
    let body: serde_json::Value = serde_json::from_slice(request.body().as_ref()).unwrap_or_default();
    Idempotency::new(key, caller, request.method().as_str(), request.uri().path(), &body).map(Some)
}

/// A created resource (`status`, with its version as `ETag` if it has one),
/// or the first response to an earlier request with the same idempotency
/// key, sent again as it was, marked `Idempotent-Replayed: true`.
pub fn created<T: Serialize>(status: u16, created: Created<T>, version: impl Fn(&T) -> Option<u64>) -> HandlerResult {
    match created {
        // Written straight from the value: no detour through a JSON tree.
        Created::New(value) => with_version(status, version(&value), &value),
        Created::Replayed(first) => {
            let mut response = with_version(first.status, first.version, &first.body)?;
            response.headers_mut().insert("idempotent-replayed", http::HeaderValue::from_static("true"));
            Ok(response)
        }
    }
}

fn with_version<T: Serialize>(status: u16, version: Option<u64>, value: &T) -> HandlerResult {
    match version {
        Some(version) => json_with_etag(status, version, value),
        None => json(status, value),
    }
}

/// `If-Match` as a version number: the ETag a read gave (`"<version>.<digest>"`,
/// whose version part counts) or the version alone (`"3"`, quotes optional).
pub fn if_match(request: &Request) -> Result<Option<u64>, Error> {
    let Some(value) = request.headers().get("if-match") else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or("").trim();
    let unquoted = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')).unwrap_or(text);
    let version = match unquoted.split_once('.') {
        Some((version, digest)) if caching::is_digest(digest) => version,
        Some(_) => "",
        None => unquoted,
    };
    version
        .parse::<u64>()
        .map(Some)
        .map_err(|_| Error::BadRequest { code: "invalid_if_match", message: "If-Match must be the version from the ETag, e.g. \"3\"".into() })
}

/// Like [`json_body`], but an absent body means `T::default()`.
pub fn optional_json_body<T: DeserializeOwned + Default>(request: &Request) -> Result<T, Error> {
    if request.body().as_ref().iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    json_body(request)
}

/// The JSON body as `T`: 415 unless the content type is JSON, 400 if the
/// body is missing, not UTF-8 or does not match `T` (a field `T` does not
/// have: 400 `unknown_field`).
pub fn json_body<T: DeserializeOwned>(request: &Request) -> Result<T, Error> {
    let content_type = request.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
    let media_type = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if media_type != JSON && !media_type.ends_with("+json") {
        return Err(Error::UnsupportedMediaType {
            code: "unsupported_media_type",
            message: "send the body as JSON with content-type: application/json".into(),
        });
    }
    let bytes: &[u8] = request.body().as_ref();
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::BadRequest { code: "missing_body", message: "a JSON body is required".into() });
    }
    let text = std::str::from_utf8(bytes).map_err(|_| Error::BadRequest { code: "invalid_json", message: "the body is not valid UTF-8".into() })?;
    // serde would read a JSON array into a struct by position: every Quire
    // body is an object, so anything else is refused outright.
    if !text.trim_start().starts_with('{') {
        return Err(Error::BadRequest { code: "invalid_json", message: "the body must be a JSON object".into() });
    }
    serde_json::from_str(text).map_err(|e| Error::from_json(&e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::http::HeaderValue;
    use serde::Deserialize;
    use shared::ids::UserId;
    use std::collections::HashMap;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct NewThing {
        #[allow(dead_code)]
        name: String,
    }

    fn request_with_body(content_type: Option<&str>, body: &str) -> Request {
        let mut request = Request::new(Body::from(body));
        if let Some(ct) = content_type {
            request.headers_mut().insert("content-type", HeaderValue::from_str(ct).unwrap());
        }
        request
    }

    #[test]
    fn bodies_are_checked_for_type_presence_and_shape() {
        let cases: &[(Option<&str>, &str, u16, &str)] = &[
            (None, r#"{"name":"a"}"#, 415, "unsupported_media_type"),
            (Some("text/plain"), r#"{"name":"a"}"#, 415, "unsupported_media_type"),
            (Some("application/json"), "", 400, "missing_body"),
            (Some("application/json"), "  ", 400, "missing_body"),
            (Some("application/json"), "{", 400, "invalid_json"),
            (Some("application/json"), "[1]", 400, "invalid_json"),
            (Some("application/json"), r#"["a"]"#, 400, "invalid_json"),
            (Some("application/json"), r#""a""#, 400, "invalid_json"),
            (Some("application/json"), "null", 400, "invalid_json"),
            (Some("application/json"), r#"{"name":1}"#, 400, "invalid_json"),
            (Some("application/json"), r#"{"name":"a","admin":true}"#, 400, "unknown_field"),
        ];
        for (content_type, body, status, code) in cases {
            let err = json_body::<NewThing>(&request_with_body(*content_type, body)).unwrap_err();
            assert_eq!((err.status(), err.code()), (*status, *code), "{content_type:?} {body:?}");
        }
        let ok = json_body::<NewThing>(&request_with_body(Some("application/json; charset=utf-8"), r#"{"name":"a"}"#));
        assert!(ok.is_ok());
    }

    #[test]
    fn invalid_ids_in_the_path_are_400() {
        for bad in ["USER#01ARZ3NDEKTSV4RRFFQ69G5FAV", "x", "01ARZ3NDEKTSV4RRFFQ69G5FA#"] {
            let request = Request::default().with_path_parameters(HashMap::from([("userId".to_string(), bad.to_string())]));
            let err = path_param::<UserId>(&request, "userId").unwrap_err();
            assert_eq!((err.status(), err.code()), (400, "invalid_id"));
        }
    }

    #[test]
    fn repeated_query_parameters_are_400() {
        let request = Request::default().with_query_string_parameters(HashMap::from([("limit".to_string(), vec!["5".to_string(), "6".to_string()])]));
        assert_eq!(page_request(&request).unwrap_err().status(), 400);
    }

    #[test]
    fn errors_become_json_responses_with_their_status() {
        let response = respond(Err(Error::not_found("no such user")));
        assert_eq!(response.status(), 404);
        assert_eq!(response.headers()["content-type"], JSON);
        let body: serde_json::Value = serde_json::from_slice(response.body().as_ref()).unwrap();
        assert_eq!(body["error"]["code"], "not_found");
        assert_eq!(body["error"]["message"], "no such user");
    }
}
