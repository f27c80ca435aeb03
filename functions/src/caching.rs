//! HTTP caching of reads: `Cache-Control`, an `ETag` on every successful
//! GET, and 304 for an `If-None-Match` that holds the current tag.
//!
//! A 304 costs what the 200 would have (the route still reads the item to
//! know its current tag) and saves the body on the wire and in the client.
//! Public reads may be kept by shared caches (a CDN) for a short time;
//! authenticated ones only by the caller's own client, and revalidated.

use crate::HandlerResult;
use lambda_http::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH, VARY};
use lambda_http::http::{HeaderValue, Method};
use lambda_http::{Body, Request, Response};
use sha2::{Digest, Sha256};

/// How long shared caches may keep a public read.
#[derive(Clone, Copy, Debug)]
pub enum Public {
    /// One post, user or comment: it changes when its owner edits it, and
    /// its counts may lag a minute.
    Item,
    /// A listing: new entries should show within seconds.
    Listing,
}

impl Public {
    pub fn header(self) -> &'static str {
        match self {
            Public::Item => "public, max-age=60",
            Public::Listing => "public, max-age=5",
        }
    }
}

/// An authenticated read: the caller's client may keep it, must revalidate.
pub const PRIVATE: &str = "private, no-cache";
/// A public read that names no lifetime (and `GET /health`): always revalidated.
pub const UNCACHED: &str = "no-cache";

/// Marks a public read's response as cacheable by anyone for `lifetime`.
/// API Gateway adds CORS headers only for an allowed `Origin`, so a shared
/// cache must keep one copy per origin (`Vary: Origin`).
pub fn public(lifetime: Public, result: HandlerResult) -> HandlerResult {
    let mut response = result?;
    response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static(lifetime.header()));
    response.headers_mut().insert(VARY, HeaderValue::from_static("origin"));
    Ok(response)
}

/// What a GET request brings for revalidation, read before the handler
/// takes the request.
pub struct Revalidation {
    if_none_match: Option<String>,
    authenticated: bool,
}

impl Revalidation {
    /// `None` for anything but a GET; `authenticated` when the authorizer ran.
    pub fn of(request: &Request, authenticated: bool) -> Option<Self> {
        if request.method() != Method::GET {
            return None;
        }
        // A header that is not text cannot match any tag: ignored, as HTTP allows.
        let if_none_match = request.headers().get(IF_NONE_MATCH).and_then(|v| v.to_str().ok()).map(str::to_string);
        Some(Self { if_none_match, authenticated })
    }

    /// Adds `Cache-Control` and `ETag` to a 200, or turns it into a 304.
    pub fn apply(self, mut response: Response<Body>) -> Response<Body> {
        if response.status() != 200 {
            return response;
        }
        let headers = response.headers_mut();
        if self.authenticated {
            headers.insert(CACHE_CONTROL, HeaderValue::from_static(PRIVATE));
        } else if !headers.contains_key(CACHE_CONTROL) {
            headers.insert(CACHE_CONTROL, HeaderValue::from_static(UNCACHED));
        }
        let version_tag = headers.get(ETAG).and_then(|v| v.to_str().ok()).map(str::to_string);
        let tag = entity_tag(version_tag.as_deref(), response.body().as_ref());
        let value = HeaderValue::from_str(&tag).expect("a tag of digits, hex and quotes is a valid header");
        response.headers_mut().insert(ETAG, value);
        if self.if_none_match.as_deref().is_some_and(|header| matches(header, &tag)) {
            let (mut parts, _) = response.into_parts();
            parts.status = lambda_http::http::StatusCode::NOT_MODIFIED;
            parts.headers.remove(CONTENT_TYPE);
            return Response::from_parts(parts, Body::Empty);
        }
        response
    }
}

/// The response's tag: a digest of its body, after the resource's version
/// when it has one (`"<version>.<digest>"`), so a tag changes whenever the
/// body does (counts change without a new version) and `If-Match` still
/// reads the version from it.
fn entity_tag(version_tag: Option<&str>, body: &[u8]) -> String {
    let digest = hex::encode(&Sha256::digest(body)[..DIGEST_BYTES]);
    match version_tag.map(|t| t.trim_matches('"')) {
        Some(version) if !version.is_empty() => format!("\"{version}.{digest}\""),
        _ => format!("\"{digest}\""),
    }
}

/// 96 bits of SHA-256: a tag tells versions of one resource apart, no more.
const DIGEST_BYTES: usize = 12;

/// Whether `text` is the digest part of a tag this module made.
pub fn is_digest(text: &str) -> bool {
    text.len() == DIGEST_BYTES * 2 && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// `If-None-Match` against the current tag, by weak comparison (RFC 9110
/// 13.1.2): `*`, or any listed tag with the same opaque part. Entries that
/// are not quoted tags match nothing.
fn matches(header: &str, tag: &str) -> bool {
    if header.trim() == "*" {
        return true;
    }
    header.split(',').map(str::trim).any(|entry| entry.strip_prefix("W/").unwrap_or(entry) == tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(if_none_match: Option<&str>) -> Request {
        let mut request = Request::default();
        if let Some(value) = if_none_match {
            request.headers_mut().insert(IF_NONE_MATCH, HeaderValue::from_str(value).unwrap());
        }
        request
    }

    fn ok(body: &str) -> Response<Body> {
        Response::builder().status(200).header(CONTENT_TYPE, "application/json").body(Body::Text(body.into())).unwrap()
    }

    #[test]
    fn a_get_gets_a_tag_and_a_matching_if_none_match_gets_304_without_a_body() {
        let first = Revalidation::of(&get(None), false).unwrap().apply(ok(r#"{"a":1}"#));
        let tag = first.headers()[ETAG].to_str().unwrap().to_string();
        assert!(tag.starts_with('"') && tag.ends_with('"') && tag.len() == 26, "{tag}");
        assert_eq!(first.headers()[CACHE_CONTROL], UNCACHED);
        for header in [tag.clone(), format!("W/{tag}"), format!("\"x\", {tag}"), "*".to_string()] {
            let again = Revalidation::of(&get(Some(&header)), false).unwrap().apply(ok(r#"{"a":1}"#));
            assert_eq!(again.status(), 304, "{header}");
            assert!(again.body().as_ref().is_empty() && again.headers().get(CONTENT_TYPE).is_none());
            assert_eq!(again.headers()[ETAG].to_str().unwrap(), tag);
        }
        let changed = Revalidation::of(&get(Some(&tag)), false).unwrap().apply(ok(r#"{"a":2}"#));
        assert_eq!(changed.status(), 200);
        assert_ne!(changed.headers()[ETAG].to_str().unwrap(), tag);
        for malformed in ["", "abc", "\"", "W/", ",,,", &tag[1..]] {
            let response = Revalidation::of(&get(Some(malformed)), false).unwrap().apply(ok(r#"{"a":1}"#));
            assert_eq!(response.status(), 200, "{malformed:?}");
        }
    }

    #[test]
    fn a_versioned_tag_keeps_its_version_and_changes_with_the_body() {
        let versioned = |body: &str| {
            let mut response = ok(body);
            response.headers_mut().insert(ETAG, HeaderValue::from_static("\"7\""));
            Revalidation::of(&get(None), false).unwrap().apply(response).headers()[ETAG].to_str().unwrap().to_string()
        };
        let (one, two) = (versioned(r#"{"n":1}"#), versioned(r#"{"n":2}"#));
        assert!(one.starts_with("\"7.") && two.starts_with("\"7.") && one != two, "{one} {two}");
    }

    #[test]
    fn public_lifetimes_are_kept_and_errors_and_other_methods_are_left_alone() {
        let response = Revalidation::of(&get(None), false).unwrap().apply(public(Public::Item, Ok(ok("{}"))).unwrap());
        assert_eq!(response.headers()[CACHE_CONTROL], "public, max-age=60");
        assert_eq!(response.headers()[VARY], "origin", "one cached copy per origin");
        let missing = Response::builder().status(404).body(Body::Empty).unwrap();
        let response = Revalidation::of(&get(None), false).unwrap().apply(missing);
        assert!(response.headers().get(ETAG).is_none() && response.headers().get(CACHE_CONTROL).is_none());
        let mut post = Request::default();
        *post.method_mut() = Method::POST;
        assert!(Revalidation::of(&post, false).is_none());
    }
}
