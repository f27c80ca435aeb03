//! The HTTP API's `CorsConfiguration`, as API Gateway applies it: it answers
//! a preflight itself (no authorizer, no function), and adds the CORS
//! headers to the answers of an allowed origin, dropping any the function
//! set. A request without `Origin` gets no CORS headers at all.

use crate::template::Cors;
use http::header::{
    ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE, ACCESS_CONTROL_REQUEST_METHOD, HeaderMap, HeaderValue, ORIGIN, VARY,
};
use http::{Method, Response};

impl Cors {
    /// Whether `origin` may read answers: listed exactly (scheme, host and
    /// port; origins are compared case-insensitively), or `*` is listed.
    fn allows(&self, origin: &str) -> bool {
        self.allow_origins.iter().any(|allowed| allowed == "*" || allowed.eq_ignore_ascii_case(origin))
    }

    /// The `Access-Control-Allow-Origin` value for `origin`, if allowed.
    fn allow_origin(&self, origin: &str) -> Option<HeaderValue> {
        if !self.allows(origin) {
            return None;
        }
        let value = if self.allow_origins.iter().any(|o| o == "*") && !self.allow_credentials { "*" } else { origin };
        HeaderValue::from_str(value).ok()
    }

    /// API Gateway's answer to a preflight (`OPTIONS` with `Origin` and
    /// `Access-Control-Request-Method`), or `None` for any other request.
    /// A preflight from an origin, or for a method, that is not allowed gets
    /// no CORS headers, so the browser refuses the real request.
    pub(super) fn preflight(&self, method: &Method, headers: &HeaderMap) -> Option<Response<axum::body::Body>> {
        if method != Method::OPTIONS {
            return None;
        }
        let origin = headers.get(ORIGIN)?.to_str().ok();
        let requested = headers.get(ACCESS_CONTROL_REQUEST_METHOD)?.to_str().ok();
        let mut response = Response::builder().status(204).body(axum::body::Body::empty()).expect("a valid response");
        let allowed_method = requested.is_some_and(|m| self.allow_methods.iter().any(|a| a == "*" || a.eq_ignore_ascii_case(m)));
        if let (Some(origin), true) = (origin, allowed_method)
            && let Some(allow_origin) = self.allow_origin(origin)
        {
            let out = response.headers_mut();
            out.insert(ACCESS_CONTROL_ALLOW_ORIGIN, allow_origin);
            out.insert(ACCESS_CONTROL_ALLOW_METHODS, list(&self.allow_methods));
            if !self.allow_headers.is_empty() {
                out.insert(ACCESS_CONTROL_ALLOW_HEADERS, list(&self.allow_headers));
            }
            if let Some(seconds) = self.max_age_seconds {
                out.insert(ACCESS_CONTROL_MAX_AGE, seconds.into());
            }
            if self.allow_credentials {
                out.insert(ACCESS_CONTROL_ALLOW_CREDENTIALS, HeaderValue::from_static("true"));
            }
        }
        Some(response)
    }

    /// The CORS headers on an actual answer: set for an allowed `Origin`,
    /// and whatever the function set removed either way.
    pub(super) fn decorate(&self, origin: Option<&HeaderValue>, headers: &mut HeaderMap) {
        for name in [ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_EXPOSE_HEADERS] {
            headers.remove(name);
        }
        // The answer depends on Origin unless every origin is allowed: a
        // shared cache must keep one copy per origin, whatever this one was.
        let varies = !self.allow_origins.iter().any(|o| o == "*") || self.allow_credentials;
        let already = headers.get_all(VARY).iter().any(|v| v.to_str().is_ok_and(|v| v.split(',').any(|h| h.trim().eq_ignore_ascii_case("origin"))));
        if varies && !already {
            headers.append(VARY, HeaderValue::from_static("origin"));
        }
        let Some(allow_origin) = origin.and_then(|o| o.to_str().ok()).and_then(|o| self.allow_origin(o)) else {
            return;
        };
        headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, allow_origin);
        if !self.expose_headers.is_empty() {
            headers.insert(ACCESS_CONTROL_EXPOSE_HEADERS, list(&self.expose_headers));
        }
        if self.allow_credentials {
            headers.insert(ACCESS_CONTROL_ALLOW_CREDENTIALS, HeaderValue::from_static("true"));
        }
    }
}

fn list(items: &[String]) -> HeaderValue {
    HeaderValue::from_str(&items.join(",")).unwrap_or(HeaderValue::from_static(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cors() -> Cors {
        Cors {
            allow_origins: vec!["https://app.example".into()],
            allow_methods: vec!["GET".into(), "POST".into()],
            allow_headers: vec!["authorization".into(), "content-type".into()],
            expose_headers: vec!["etag".into()],
            max_age_seconds: Some(600),
            allow_credentials: false,
        }
    }

    fn preflight_headers(origin: &str, method: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(ORIGIN, HeaderValue::from_str(origin).unwrap());
        headers.insert(ACCESS_CONTROL_REQUEST_METHOD, HeaderValue::from_str(method).unwrap());
        headers
    }

    #[test]
    fn a_preflight_is_answered_with_the_configuration_for_an_allowed_origin_only() {
        let allowed = cors().preflight(&Method::OPTIONS, &preflight_headers("https://app.example", "POST")).unwrap();
        assert_eq!(allowed.status(), 204);
        let h = allowed.headers();
        assert_eq!(
            (h[ACCESS_CONTROL_ALLOW_ORIGIN].to_str().unwrap(), h[ACCESS_CONTROL_ALLOW_METHODS].to_str().unwrap()),
            ("https://app.example", "GET,POST")
        );
        assert_eq!(
            (h[ACCESS_CONTROL_ALLOW_HEADERS].to_str().unwrap(), h[ACCESS_CONTROL_MAX_AGE].to_str().unwrap()),
            ("authorization,content-type", "600")
        );
        for (origin, method) in [("https://evil.example", "POST"), ("https://app.example", "DELETE"), ("null", "GET")] {
            let refused = cors().preflight(&Method::OPTIONS, &preflight_headers(origin, method)).unwrap();
            assert_eq!(refused.status(), 204);
            assert!(refused.headers().get(ACCESS_CONTROL_ALLOW_ORIGIN).is_none(), "{origin} {method}");
        }
        let mut no_method = preflight_headers("https://app.example", "GET");
        no_method.remove(ACCESS_CONTROL_REQUEST_METHOD);
        assert!(cors().preflight(&Method::OPTIONS, &no_method).is_none(), "not a preflight: routed as any request");
        assert!(cors().preflight(&Method::GET, &preflight_headers("https://app.example", "GET")).is_none());
    }

    #[test]
    fn answers_carry_cors_headers_for_allowed_origins_and_never_the_functions_own() {
        let mut headers = HeaderMap::new();
        headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
        cors().decorate(Some(&HeaderValue::from_static("https://evil.example")), &mut headers);
        assert!(headers.get(ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
        assert_eq!(headers[VARY], "origin", "a refused origin's answer differs too");
        cors().decorate(Some(&HeaderValue::from_static("https://app.example")), &mut headers);
        assert_eq!(headers[ACCESS_CONTROL_ALLOW_ORIGIN], "https://app.example");
        assert_eq!(headers[ACCESS_CONTROL_EXPOSE_HEADERS], "etag");
        assert_eq!(headers.get_all(VARY).iter().count(), 1, "said once");
        let mut none = HeaderMap::new();
        cors().decorate(None, &mut none);
        assert_eq!(none.len(), 1, "only Vary: {none:?}");
    }
}
