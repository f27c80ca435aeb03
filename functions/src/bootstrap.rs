//! The `main` of Quire's one Lambda binary: every function in template.yaml
//! deploys this same `bootstrap`, and its `Handler` (which Lambda hands a
//! `provided` runtime as `_HANDLER`) picks the registry entry to run.

use crate::event;
use crate::registry::{Function, Kind};
use crate::routes;
use lambda_http::aws_lambda_events::dynamodb::Event as StreamEvent;
use lambda_http::lambda_runtime::{self, Diagnostic, LambdaEvent};
use lambda_http::service_fn;
use shared::Table;

/// Where Lambda puts the function's `Handler`.
pub const HANDLER_ENV: &str = "_HANDLER";

/// Runs the function `_HANDLER` names. An unknown or missing name, or a
/// table handle that cannot be built, is reported to the Runtime API's
/// `/init/error` (so Lambda shows the message, not `Runtime.ExitError`) and
/// ends the process.
pub async fn run() -> Result<(), lambda_runtime::Error> {
    let (function, table) = match init().await {
        Ok(ready) => ready,
        Err(diagnostic) => {
            tracing::error!(error_type = %diagnostic.error_type, "{}", diagnostic.error_message);
            report_init_error(&diagnostic).await;
            return Err(diagnostic.error_message.into());
        }
    };
    crate::metrics::install();
    let name = function.name;
    match function.kind {
        Kind::Http(handler) => {
            event::run(service_fn(move |request| {
                let response = measured(name, handler(table.clone(), request), |r| Some(r.status().as_u16()));
                async move { Ok::<_, std::convert::Infallible>(response.await) }
            }))
            .await
        }
        Kind::Authorizer(handler) => {
            lambda_runtime::run(service_fn(move |event: LambdaEvent<crate::authorizer::AuthorizerRequest>| {
                let response = measured(name, handler(table.clone(), event.payload), |r| Some(authorization_status(r)));
                async move { response.await.map_err(lambda_runtime::Error::from) }
            }))
            .await
        }
        Kind::Stream(handler) => {
            lambda_runtime::run(service_fn(move |event: LambdaEvent<StreamEvent>| {
                let response = measured(name, handler(table.clone(), event.payload), |_| None);
                async move { Ok::<_, lambda_runtime::Error>(response.await) }
            }))
            .await
        }
    }
}

/// Runs one invocation, then prints its metrics in the Embedded Metric
/// Format ([`crate::metrics`]): what it cost in DynamoDB (calls, read and
/// write units), by route and status class when `status` tells one (a
/// request), else by function (a stream batch). That EMF line is the
/// invocation's record; a separate log line of the same figures cost 3 % of
/// a warm GetItem route's instructions (BENCHMARKS.md, Experiments).
async fn measured<T>(name: &'static str, invocation: impl std::future::Future<Output = T>, status: impl FnOnce(&T) -> Option<u16>) -> T {
    let started = std::time::Instant::now();
    let (output, usage) = shared::round_trips::measure(invocation).await;
    match status(&output) {
        Some(status) => crate::metrics::request(name, status, started.elapsed(), &usage),
        None => crate::metrics::usage(name, &usage),
    }
    crate::metrics::flush(std::io::stdout().lock());
    output
}

/// What the authorizer's answer means to the caller: 200 (the route runs),
/// 429 (over the key's limit) or 403.
fn authorization_status(response: &Result<crate::authorizer::AuthorizerResponse, shared::Error>) -> u16 {
    match response {
        Ok(r) if r.is_authorized && r.context.get(shared::auth::RETRY_AFTER_FIELD).is_some() => 429,
        Ok(r) if r.is_authorized => 200,
        Ok(_) => 403,
        Err(_) => 500,
    }
}

/// The function to run and the table handle it uses.
async fn init() -> Result<(&'static Function, Table), Diagnostic> {
    let function = function_named(std::env::var(HANDLER_ENV).ok().as_deref())?;
    let table = Table::from_env().await.map_err(|e| Diagnostic { error_type: "Runtime.InitError".into(), error_message: e.to_string() })?;
    Ok((function, table))
}

/// The registry entry for `_HANDLER`'s value.
pub fn function_named(handler: Option<&str>) -> Result<&'static Function, Diagnostic> {
    let known = routes::names().join(", ");
    match handler.map(str::trim).filter(|h| !h.is_empty()) {
        None => Err(Diagnostic {
            error_type: "Runtime.NoHandler".into(),
            error_message: format!("{HANDLER_ENV} is not set: give the function a Handler in template.yaml, one of: {known}"),
        }),
        Some(name) => routes::find(name).ok_or_else(|| Diagnostic {
            error_type: "Runtime.UnknownHandler".into(),
            error_message: format!("{HANDLER_ENV} is {name:?}, which is no Quire function; the known handlers are: {known}"),
        }),
    }
}

/// Posts the diagnostic to `/2018-06-01/runtime/init/error`. Failing to
/// reach the Runtime API is only logged: the process ends either way.
async fn report_init_error(diagnostic: &Diagnostic) {
    use lambda_runtime_api_client::{Client, body::Body, build_request};
    let sent = async {
        let client = Client::builder().build()?;
        let request = build_request()
            .method("POST")
            .uri("/2018-06-01/runtime/init/error")
            .header("lambda-runtime-function-error-type", diagnostic.error_type.as_str())
            .header("content-type", "application/json")
            .body(Body::from(serde_json::to_vec(diagnostic)?))?;
        let response = client.call(request).await?;
        Ok::<_, lambda_runtime::Error>(response.status())
    };
    match sent.await {
        Ok(status) if status.is_success() => {}
        Ok(status) => tracing::error!(%status, "the Runtime API refused the init error"),
        Err(e) => tracing::error!("cannot report the init error to the Runtime API: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_registered_name_is_found() {
        for function in routes::FUNCTIONS {
            assert_eq!(function_named(Some(function.name)).map(|f| f.name).ok(), Some(function.name));
        }
    }

    #[test]
    fn a_missing_or_unknown_handler_names_the_known_ones() {
        let missing = function_named(None).err().unwrap();
        assert_eq!(missing.error_type, "Runtime.NoHandler");
        assert!(missing.error_message.contains("get-post") && missing.error_message.contains("stream-processor"));
        assert!(function_named(Some(" ")).is_err());
        let unknown = function_named(Some("get-posts")).err().unwrap();
        assert_eq!(unknown.error_type, "Runtime.UnknownHandler");
        assert!(unknown.error_message.contains("\"get-posts\"") && unknown.error_message.contains("authorizer"));
    }
}
