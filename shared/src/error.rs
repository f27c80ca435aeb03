//! The one error type of the API, and its one mapping to HTTP.

use serde_json::json;

/// Everything that can go wrong while serving a request.
///
/// Client mistakes carry a stable machine-readable `code` and a message meant
/// for the developer calling the API. `Internal` is the only 5xx: its detail
/// is logged, never sent.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    #[error("{message}")]
    Unauthorized { code: &'static str, message: String },
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },
    #[error("{message}")]
    NotFound { code: &'static str, message: String },
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("{message}")]
    PreconditionFailed { code: &'static str, message: String },
    #[error("{message}")]
    PayloadTooLarge { code: &'static str, message: String },
    #[error("{message}")]
    UnsupportedMediaType { code: &'static str, message: String },
    #[error("{message}")]
    Unprocessable { code: &'static str, message: String },
    /// The API key's plan allows no more requests this window (429 with
    /// `Retry-After`).
    #[error("this API key has made all the requests its plan allows in this window; retry after {retry_after_seconds} s")]
    RateLimited { retry_after_seconds: u64 },
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// A 400 with the generic `invalid_request` code.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::BadRequest { code: "invalid_request", message: message.into() }
    }

    /// A 404 naming what was not found.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::NotFound { code: "not_found", message: message.into() }
    }

    pub fn internal(detail: impl std::fmt::Display) -> Self {
        Self::Internal(detail.to_string())
    }

    /// A request body serde could not read as the route's type. A field the
    /// type does not have (every request type denies unknown fields) gets
    /// its own code, so a typo such as `titel` is told apart from broken JSON.
    pub fn from_json(err: &serde_json::Error) -> Self {
        let message = err.to_string();
        // serde's `Error::unknown_field` always words it this way.
        let code = if message.starts_with("unknown field") { "unknown_field" } else { "invalid_json" };
        Self::BadRequest { code, message: format!("invalid JSON body: {message}") }
    }

    /// The HTTP status this error maps to.
    pub fn status(&self) -> u16 {
        match self {
            Self::BadRequest { .. } => 400,
            Self::Unauthorized { .. } => 401,
            Self::Forbidden { .. } => 403,
            Self::NotFound { .. } => 404,
            Self::Conflict { .. } => 409,
            Self::PreconditionFailed { .. } => 412,
            Self::PayloadTooLarge { .. } => 413,
            Self::UnsupportedMediaType { .. } => 415,
            Self::Unprocessable { .. } => 422,
            Self::RateLimited { .. } => 429,
            Self::Internal(_) => 500,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest { code, .. }
            | Self::Unauthorized { code, .. }
            | Self::Forbidden { code, .. }
            | Self::NotFound { code, .. }
            | Self::Conflict { code, .. }
            | Self::PreconditionFailed { code, .. }
            | Self::PayloadTooLarge { code, .. }
            | Self::UnsupportedMediaType { code, .. }
            | Self::Unprocessable { code, .. } => code,
            Self::RateLimited { .. } => "rate_limited",
            Self::Internal(_) => "internal_error",
        }
    }

    /// Seconds the client should wait before retrying (`Retry-After`).
    pub fn retry_after_seconds(&self) -> Option<u64> {
        match self {
            Self::RateLimited { retry_after_seconds } => Some(*retry_after_seconds),
            _ => None,
        }
    }

    /// The response body: `{"error":{"code":"…","message":"…"}}`.
    pub fn body(&self) -> serde_json::Value {
        let message = match self {
            // The detail may name tables, keys or SDK internals: it goes to the log only.
            Self::Internal(_) => "internal server error".to_string(),
            other => other.to_string(),
        };
        json!({ "error": { "code": self.code(), "message": message } })
    }
}

impl Error {
    /// A concurrent request changed the same data: the client may retry.
    pub fn transaction_conflict() -> Self {
        Self::Conflict { code: "transaction_conflict", message: "a concurrent request changed the same data; retry the request".into() }
    }
}

impl<E, R> From<aws_sdk_dynamodb::error::SdkError<E, R>> for Error
where
    E: std::error::Error + aws_sdk_dynamodb::error::ProvideErrorMetadata + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    fn from(err: aws_sdk_dynamodb::error::SdkError<E, R>) -> Self {
        // A single write that met a transaction under way on its item: a lost
        // race, which the SDK does not retry; the client may (409).
        if err.as_service_error().and_then(|e| e.code()) == Some("TransactionConflictException") {
            return Self::transaction_conflict();
        }
        Self::Internal(aws_sdk_dynamodb::error::DisplayErrorContext(err).to_string())
    }
}

impl From<serde_dynamo::Error> for Error {
    fn from(err: serde_dynamo::Error) -> Self {
        Self::Internal(format!("item (de)serialization: {err}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_maps_to_its_status_and_a_json_body() {
        let cases = [
            (Error::invalid("bad"), 400, "invalid_request"),
            (Error::Unauthorized { code: "unauthorized", message: "no key".into() }, 401, "unauthorized"),
            (Error::Forbidden { code: "plan_limit_reached", message: "2 keys max".into() }, 403, "plan_limit_reached"),
            (Error::not_found("no such user"), 404, "not_found"),
            (Error::Conflict { code: "email_taken", message: "taken".into() }, 409, "email_taken"),
            (Error::PreconditionFailed { code: "version_mismatch", message: "stale".into() }, 412, "version_mismatch"),
            (Error::PayloadTooLarge { code: "item_too_large", message: "big".into() }, 413, "item_too_large"),
            (Error::UnsupportedMediaType { code: "unsupported_media_type", message: "json".into() }, 415, "unsupported_media_type"),
            (Error::Unprocessable { code: "idempotency_key_reused", message: "other body".into() }, 422, "idempotency_key_reused"),
            (Error::RateLimited { retry_after_seconds: 7 }, 429, "rate_limited"),
            (Error::internal("table quire-prod throttled"), 500, "internal_error"),
        ];
        for (err, status, code) in cases {
            assert_eq!(err.status(), status, "{err:?}");
            let body = err.body();
            assert_eq!(body["error"]["code"], code);
            assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
            assert_eq!(err.retry_after_seconds(), (status == 429).then_some(7));
        }
    }

    #[test]
    fn unknown_fields_have_their_own_code() {
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Body {
            name: String,
        }
        let code = |text: &str| Error::from_json(&serde_json::from_str::<Body>(text).unwrap_err()).code();
        assert_eq!(code(r#"{"name":"a","admin":true}"#), "unknown_field");
        assert_eq!(code(r#"{"name":1}"#), "invalid_json");
        assert_eq!(code(r#"{"name":"#), "invalid_json");
        let err = Error::from_json(&serde_json::from_str::<Body>(r#"{"nmae":"a"}"#).unwrap_err());
        assert!(err.to_string().contains("nmae") && err.to_string().contains("name"), "names the field and the expected ones: {err}");
    }

    #[test]
    fn internal_detail_never_reaches_the_body() {
        let body = Error::internal("ConditionalCheckFailed on USER#01ABC in quire-prod").body();
        let text = body.to_string();
        assert!(!text.contains("quire-prod") && !text.contains("USER#"), "{text}");
    }
}
