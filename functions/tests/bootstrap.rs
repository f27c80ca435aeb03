//! The one binary, run as Lambda runs it: against a Runtime API on loopback,
//! with the function's `Handler` in `_HANDLER`. It serves the function that
//! names, and reports a missing or unknown one to `/init/error`.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::process::Command;
use tokio::sync::mpsc;

/// What the binary posted, by endpoint.
#[derive(Debug)]
struct Posted {
    endpoint: String,
    error_type: Option<String>,
    body: String,
}

struct RuntimeApi {
    address: String,
    posted: mpsc::UnboundedReceiver<Posted>,
}

/// Serves one invocation of `event`, then holds `next` open.
async fn runtime_api(event: &'static str) -> RuntimeApi {
    let (sender, posted) = mpsc::unbounded_channel();
    let served = Arc::new(Mutex::new(false));
    let next = move |State((_, served)): State<(mpsc::UnboundedSender<Posted>, Arc<Mutex<bool>>)>| async move {
        if std::mem::replace(&mut *served.lock().unwrap(), true) {
            std::future::pending::<()>().await;
        }
        let headers = [
            ("lambda-runtime-aws-request-id", "req-1"),
            ("lambda-runtime-deadline-ms", "4102444800000"),
            ("lambda-runtime-invoked-function-arn", "arn:aws:lambda:eu-west-1:123456789012:function:quire"),
        ];
        (headers, event)
    };
    let record = |endpoint: &'static str| {
        move |State((sender, _)): State<(mpsc::UnboundedSender<Posted>, Arc<Mutex<bool>>)>, headers: HeaderMap, body: String| async move {
            let error_type = headers.get("lambda-runtime-function-error-type").map(|v| v.to_str().unwrap().to_string());
            sender.send(Posted { endpoint: endpoint.into(), error_type, body }).unwrap();
            StatusCode::ACCEPTED
        }
    };
    let app = axum::Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route("/2018-06-01/runtime/invocation/{id}/response", post(record("response")))
        .route("/2018-06-01/runtime/invocation/{id}/error", post(record("error")))
        .route("/2018-06-01/runtime/init/error", post(record("init/error")))
        .fallback(|uri: axum::http::Uri| async move { (StatusCode::NOT_FOUND, uri.to_string()) })
        .with_state((sender, served));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    RuntimeApi { address, posted }
}

/// The binary with Lambda's environment; `handler` in `_HANDLER` if given.
fn function(api: &RuntimeApi, handler: Option<&str>) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_quire"));
    command
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", &api.address)
        .env("AWS_LAMBDA_FUNCTION_NAME", "quire-test")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("TABLE_NAME", "quire")
        .env("CURSOR_SIGNING_KEY", "0123456789abcdef0123456789abcdef")
        // Nothing listens there; health makes no DynamoDB call.
        .env("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:9")
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true);
    if let Some(handler) = handler {
        command.env("_HANDLER", handler);
    }
    command
}

async fn first_post(api: &mut RuntimeApi) -> Posted {
    tokio::time::timeout(Duration::from_secs(20), api.posted.recv()).await.expect("the binary posts within 20 s").unwrap()
}

#[tokio::test]
async fn the_handler_picks_the_function() {
    let mut api = runtime_api(include_str!("../../events/health.json")).await;
    let _process = function(&api, Some("health")).spawn().unwrap();
    let posted = first_post(&mut api).await;
    assert_eq!(posted.endpoint, "response", "{posted:?}");
    let response: serde_json::Value = serde_json::from_str(&posted.body).unwrap();
    assert_eq!(response["statusCode"], 200, "{response}");
    let body: serde_json::Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["status"], "ok", "the health route answered: {body}");
}

#[tokio::test]
async fn an_unknown_or_missing_handler_is_an_init_error_naming_the_known_ones() {
    for (handler, error_type, says) in [
        (Some("get-posts"), "Runtime.UnknownHandler", "\"get-posts\", which is no Quire function"),
        (None, "Runtime.NoHandler", "_HANDLER is not set"),
    ] {
        let mut api = runtime_api(include_str!("../../events/health.json")).await;
        let mut process = function(&api, handler).spawn().unwrap();
        let posted = first_post(&mut api).await;
        assert_eq!((posted.endpoint.as_str(), posted.error_type.as_deref()), ("init/error", Some(error_type)), "{posted:?}");
        let diagnostic: serde_json::Value = serde_json::from_str(&posted.body).unwrap();
        assert_eq!(diagnostic["errorType"], error_type);
        let message = diagnostic["errorMessage"].as_str().unwrap();
        assert!(message.contains(says), "{message}");
        for known in ["get-post", "authorizer", "stream-processor"] {
            assert!(message.contains(known), "the message names {known}: {message}");
        }
        let status = tokio::time::timeout(Duration::from_secs(10), process.wait()).await.expect("it exits").unwrap();
        assert!(!status.success(), "an init error ends the process with a failure");
    }
}

/// A stand-in for DynamoDB that records each request's operation and table,
/// and answers `{}` (no item, no items).
async fn fake_dynamodb() -> (String, mpsc::UnboundedReceiver<(String, String)>) {
    let (sender, seen) = mpsc::unbounded_channel();
    let app = axum::Router::new().fallback(move |headers: HeaderMap, body: String| {
        let sender = sender.clone();
        async move {
            let operation = headers.get("x-amz-target").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
            let table = serde_json::from_str::<serde_json::Value>(&body).ok().and_then(|b| b["TableName"].as_str().map(str::to_string));
            sender.send((operation, table.unwrap_or_default())).unwrap();
            ([("content-type", "application/x-amz-json-1.0")], "{}")
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (endpoint, seen)
}

/// The function builds its client from Lambda's environment
/// (`Table::from_env`): `AWS_ENDPOINT_URL_DYNAMODB` and `TABLE_NAME` are
/// where its calls go.
#[tokio::test]
async fn the_client_comes_from_the_environment() {
    let (endpoint, mut seen) = fake_dynamodb().await;
    let mut api = runtime_api(include_str!("../../events/get-post.json")).await;
    let _process = function(&api, Some("get-post")).env("AWS_ENDPOINT_URL_DYNAMODB", &endpoint).env("TABLE_NAME", "from-env").spawn().unwrap();
    let posted = first_post(&mut api).await;
    let response: serde_json::Value = serde_json::from_str(&posted.body).unwrap();
    assert_eq!(response["statusCode"], 404, "the stand-in has no post: {response}");
    let (operation, table) = seen.recv().await.unwrap();
    assert_eq!((operation.as_str(), table.as_str()), ("DynamoDB_20120810.Query", "from-env"));
}

/// A cursor signing key too short to be safe stops init, reported as such.
#[tokio::test]
async fn a_short_signing_key_is_an_init_error() {
    let mut api = runtime_api(include_str!("../../events/health.json")).await;
    let _process = function(&api, Some("health")).env("CURSOR_SIGNING_KEY", "short").spawn().unwrap();
    let posted = first_post(&mut api).await;
    assert_eq!((posted.endpoint.as_str(), posted.error_type.as_deref()), ("init/error", Some("Runtime.InitError")), "{posted:?}");
    assert!(posted.body.contains("CURSOR_SIGNING_KEY"), "{}", posted.body);
}
