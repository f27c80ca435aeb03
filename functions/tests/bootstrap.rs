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

/// The EMF lines (JSON objects with `_aws`) the binary printed on stdout
/// while serving one invocation of `event` as `handler`, read until lines
/// holding each of `wanted` have come (or 5 s pass).
async fn metrics_lines(handler: &str, event: &'static str, wanted: &[&str]) -> Vec<serde_json::Value> {
    use tokio::io::AsyncBufReadExt;
    let (endpoint, _seen) = fake_dynamodb().await;
    let mut api = runtime_api(event).await;
    let mut process = function(&api, Some(handler)).env("AWS_ENDPOINT_URL_DYNAMODB", &endpoint).stdout(std::process::Stdio::piped()).spawn().unwrap();
    let posted = first_post(&mut api).await;
    assert_eq!(posted.endpoint, "response", "{posted:?}");
    let mut stdout = tokio::io::BufReader::new(process.stdout.take().unwrap()).lines();
    let mut found = Vec::new();
    // The metrics follow the response: read until they come.
    while let Ok(Ok(Some(line))) = tokio::time::timeout(Duration::from_secs(5), stdout.next_line()).await {
        if let Ok(value) = serde_json::from_str::<serde_json::Value>(&line)
            && value.get("_aws").is_some()
        {
            check_emf(&value);
            found.push(value);
            if wanted.iter().all(|name| found.iter().any(|line| line.get(*name).is_some())) {
                break;
            }
        }
    }
    found
}

/// A line against the Embedded Metric Format specification's rules: `_aws`
/// with a millisecond `Timestamp` and `CloudWatchMetrics` directives, each
/// with a `Namespace`, dimension sets of at most 30 names, and at most 100
/// metric definitions with a known unit; every dimension a string member of
/// the root and every metric a number or an array of at most 100 numbers.
fn check_emf(line: &serde_json::Value) {
    const UNITS: &[&str] = &[
        "Seconds",
        "Microseconds",
        "Milliseconds",
        "Bytes",
        "Kilobytes",
        "Megabytes",
        "Gigabytes",
        "Terabytes",
        "Bits",
        "Kilobits",
        "Megabits",
        "Gigabits",
        "Terabits",
        "Percent",
        "Count",
        "Bytes/Second",
        "Kilobytes/Second",
        "Megabytes/Second",
        "Gigabytes/Second",
        "Terabytes/Second",
        "Bits/Second",
        "Kilobits/Second",
        "Megabits/Second",
        "Gigabits/Second",
        "Terabits/Second",
        "Count/Second",
        "None",
    ];
    let aws = line["_aws"].as_object().unwrap_or_else(|| panic!("_aws is an object: {line}"));
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    let timestamp = aws["Timestamp"].as_u64().unwrap_or_else(|| panic!("Timestamp in ms: {line}"));
    assert!(now.abs_diff(timestamp) < 60_000, "Timestamp is epoch milliseconds, now: {line}");
    let directives = aws["CloudWatchMetrics"].as_array().filter(|d| !d.is_empty()).unwrap_or_else(|| panic!("directives: {line}"));
    for directive in directives {
        let namespace = directive["Namespace"].as_str().unwrap_or_else(|| panic!("Namespace: {line}"));
        assert!((1..=255).contains(&namespace.len()));
        for set in directive["Dimensions"].as_array().unwrap_or_else(|| panic!("Dimensions: {line}")) {
            let names = set.as_array().unwrap_or_else(|| panic!("a dimension set is an array: {line}"));
            assert!(names.len() <= 30, "{line}");
            for name in names {
                let name = name.as_str().unwrap_or_else(|| panic!("dimension names are strings: {line}"));
                assert!(line[name].is_string(), "dimension {name} is a string member of the root: {line}");
            }
        }
        let metrics = directive["Metrics"].as_array().unwrap_or_else(|| panic!("Metrics: {line}"));
        assert!(!metrics.is_empty() && metrics.len() <= 100, "{line}");
        for metric in metrics {
            let name = metric["Name"].as_str().filter(|n| !n.is_empty()).unwrap_or_else(|| panic!("metric Name: {line}"));
            if let Some(unit) = metric.get("Unit") {
                assert!(UNITS.contains(&unit.as_str().unwrap_or("?")), "unit {unit} of {name}: {line}");
            }
            match &line[name] {
                serde_json::Value::Number(_) => {}
                serde_json::Value::Array(values) => assert!(values.len() <= 100 && values.iter().all(|v| v.is_number()), "{line}"),
                other => panic!("metric {name} is a number or numbers, not {other}: {line}"),
            }
        }
    }
}

/// The one with `name` among `lines`.
fn line_with<'a>(lines: &'a [serde_json::Value], name: &str) -> &'a serde_json::Value {
    lines.iter().find(|l| l.get(name).is_some()).unwrap_or_else(|| panic!("no line has {name}: {lines:?}"))
}

#[tokio::test]
async fn every_invocation_prints_its_metrics_in_the_embedded_metric_format() {
    let health = metrics_lines("health", include_str!("../../events/health.json"), &["Requests"]).await;
    let request = line_with(&health, "Requests");
    assert_eq!((request["Route"].as_str(), request["StatusClass"].as_str()), (Some("health"), Some("2xx")), "{request}");
    assert_eq!(request["_aws"]["CloudWatchMetrics"][0]["Namespace"], "Quire");
    assert_eq!(request["_aws"]["CloudWatchMetrics"][0]["Dimensions"], serde_json::json!([["Route", "StatusClass"]]));
    assert_eq!((request["Requests"].as_u64(), &request["DynamoDBCalls"]), (Some(1), &serde_json::json!([0.0])));
    let latency = request["_aws"]["CloudWatchMetrics"][0]["Metrics"].as_array().unwrap().iter().find(|m| m["Name"] == "Latency").unwrap();
    assert_eq!(latency["Unit"], "Milliseconds");

    // A route that calls DynamoDB (the stand-in has no such post: 404).
    let get_post = metrics_lines("get-post", include_str!("../../events/get-post.json"), &["Requests"]).await;
    let request = line_with(&get_post, "Requests");
    assert_eq!((request["Route"].as_str(), request["StatusClass"].as_str()), (Some("get-post"), Some("4xx")), "{request}");
    assert_eq!(request["DynamoDBCalls"], serde_json::json!([1.0]));

    // A sign-up is a business count of its own, with no dimension.
    let sign_up = metrics_lines("create-user", include_str!("../../events/create-user.json"), &["Requests", "SignUps"]).await;
    let count = line_with(&sign_up, "SignUps");
    assert_eq!((count["SignUps"].as_u64(), &count["_aws"]["CloudWatchMetrics"][0]["Dimensions"]), (Some(1), &serde_json::json!([[]])));

    // A stream batch: its records, failures, the oldest record's age, the deltas folded.
    let batch = metrics_lines("stream-processor", include_str!("../../events/stream-processor.json"), &["Records"]).await;
    let records = line_with(&batch, "Records");
    assert_eq!(records["Function"], "stream-processor");
    assert!(records["Records"][0].as_f64().is_some_and(|n| n >= 1.0), "{records}");
    for name in ["FailedRecords", "DeltasFolded", "OldestRecordAgeMs", "DynamoDBCalls", "WriteCapacityUnits"] {
        assert!(records[name][0].is_number(), "{name}: {records}");
    }
}
