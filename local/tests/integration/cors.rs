//! CORS as API Gateway applies the template's `CorsConfiguration`: the
//! gateway answers preflights itself, and only an allowed origin's pages may
//! read answers, checked over HTTP and then in a real browser (headless
//! Chromium, Debian's `chromium`, which `.ci/run` installs).

use crate::common::*;
use axum::extract::State;
use local::Overrides;
use std::process::Stdio;
use std::time::Duration;
use tokio::sync::mpsc;

/// Set by `.ci/run`: a missing browser fails the test instead of skipping it.
const REQUIRE_BROWSER_ENV: &str = "QUIRE_TEST_REQUIRE_BROWSER";

async fn stack_allowing(origin: &str) -> TestStack {
    TestStack::with_overrides(Overrides { cors_origins: Some(vec![origin.to_string()]), ..Overrides::default() }).await
}

async fn usage_count(stack: &TestStack, key: &str) -> String {
    let parsed = shared::api_keys::KeyString::parse(key).unwrap();
    let key = shared::keys::api_key(parsed.user_id, parsed.key_id).to_attributes();
    let item = stack.table().client().get_item().table_name(stack.table().name()).set_key(Some(key)).consistent_read(true).send().await.unwrap();
    item.item.unwrap()["usageCount"].as_n().unwrap().clone()
}

#[tokio::test]
async fn preflights_are_answered_by_the_gateway_and_only_allowed_origins_get_cors_headers() {
    let stack = stack_allowing("https://app.example").await;
    let ada = sign_up(&stack, "Ada", &email("ada")).await;
    let uses = usage_count(&stack, &ada.key).await;
    let client = reqwest::Client::new();
    let preflight = |origin: &str, method: &str| {
        client
            .request(reqwest::Method::OPTIONS, format!("{}/me", stack.url()))
            .header("origin", origin)
            .header("access-control-request-method", method)
            .header("access-control-request-headers", "authorization")
            .send()
    };
    let allowed = preflight("https://app.example", "GET").await.unwrap();
    assert_eq!(allowed.status(), 204);
    let h = allowed.headers();
    assert_eq!(h["access-control-allow-origin"], "https://app.example");
    assert!(h["access-control-allow-headers"].to_str().unwrap().split(',').any(|x| x == "authorization"));
    assert!(h["access-control-allow-methods"].to_str().unwrap().split(',').any(|x| x == "PATCH"));
    assert_eq!(h["access-control-max-age"], "600", "template.yaml's MaxAge");
    assert!(h.get(local::gateway::AUTHORIZER_CALLS_HEADER).is_none(), "no authorizer, no function");
    assert_eq!(usage_count(&stack, &ada.key).await, uses, "the authorizer never ran");

    for (origin, method) in [("https://evil.example", "GET"), ("https://app.example", "TRACE"), ("https://app.example.evil", "GET")] {
        let refused = preflight(origin, method).await.unwrap();
        assert_eq!(refused.status(), 204);
        assert!(refused.headers().get("access-control-allow-origin").is_none(), "{origin} {method}");
    }

    // Actual answers: the header for the allowed origin only, errors included.
    let get = |origin: Option<&str>| {
        let request = client.get(format!("{}/me", stack.url())).bearer_auth(&ada.key);
        match origin {
            Some(origin) => request.header("origin", origin).send(),
            None => request.send(),
        }
    };
    let answer = get(Some("https://app.example")).await.unwrap();
    assert_eq!((answer.status().as_u16(), answer.headers()["access-control-allow-origin"].to_str().unwrap()), (200, "https://app.example"));
    assert!(answer.headers()["access-control-expose-headers"].to_str().unwrap().contains("etag"));
    assert!(get(Some("https://evil.example")).await.unwrap().headers().get("access-control-allow-origin").is_none());
    assert!(get(None).await.unwrap().headers().get("access-control-allow-origin").is_none());
    let missing = client.get(format!("{}/posts/{}", stack.url(), "0".repeat(26))).header("origin", "https://app.example").send().await.unwrap();
    assert_eq!((missing.status().as_u16(), missing.headers()["access-control-allow-origin"].to_str().unwrap()), (404, "https://app.example"));
    // An Origin that is not text is no allowed origin: no CORS headers, never a 5xx.
    let bytes = reqwest::header::HeaderValue::from_bytes(b"https://app.example\xff").unwrap();
    let odd = client.get(format!("{}/health", stack.url())).header("origin", bytes.clone()).send().await.unwrap();
    assert!(odd.status() == 200 && odd.headers().get("access-control-allow-origin").is_none());
    let odd = client
        .request(reqwest::Method::OPTIONS, format!("{}/me", stack.url()))
        .header("origin", bytes)
        .header("access-control-request-method", "GET");
    let odd = odd.send().await.unwrap();
    assert!(odd.status() == 204 && odd.headers().get("access-control-allow-origin").is_none());
    // An OPTIONS that is no preflight is routed like any request: no route.
    let bare = client.request(reqwest::Method::OPTIONS, format!("{}/me", stack.url())).send().await.unwrap();
    assert_eq!(bare.status(), 404);
}

/// The page a browser loads from the test's own origin: it calls the API
/// with `fetch` and a bearer key (so the browser sends a preflight first)
/// and posts what happened back to its origin.
fn page(api: &str, key: &str) -> String {
    format!(
        r#"<!doctype html><meta charset="utf-8"><title>Quire CORS</title><script>
fetch("{api}/me", {{ headers: {{ "Authorization": "Bearer {key}" }} }})
  .then(async r => ({{ outcome: "answered", status: r.status, body: await r.json(), etag: r.headers.get("etag") }}))
  .catch(e => ({{ outcome: "blocked", error: String(e) }}))
  .then(result => fetch("/result", {{ method: "POST", body: JSON.stringify(result) }}));
</script>"#
    )
}

/// A port of its own for a test page: another origin than the API's.
async fn page_origin() -> (tokio::net::TcpListener, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    (listener, origin)
}

/// Serves [`page`] there, and returns the channel its report arrives on.
fn serve_page(listener: tokio::net::TcpListener, api: &str, key: &str) -> mpsc::Receiver<serde_json::Value> {
    let (report, reports) = mpsc::channel(1);
    let html = page(api, key);
    let app = axum::Router::new()
        .route("/", axum::routing::get(move || std::future::ready(axum::response::Html(html.clone()))))
        .route(
            "/result",
            axum::routing::post(|State(report): State<mpsc::Sender<serde_json::Value>>, body: String| async move {
                let _ = report.send(serde_json::from_str(&body).unwrap_or_default()).await;
            }),
        )
        .with_state(report);
    tokio::spawn(async move { axum::serve(listener, app).await });
    reports
}

/// Loads `url` in headless Chromium and waits for the page's report.
async fn browse(url: &str, reports: &mut mpsc::Receiver<serde_json::Value>) -> serde_json::Value {
    let profile = std::env::temp_dir().join(format!("quire-chromium-{}", ulid::Ulid::new()));
    let mut browser = tokio::process::Command::new("chromium")
        .args(["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(url)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("chromium starts");
    let report = tokio::time::timeout(Duration::from_secs(60), reports.recv()).await;
    let _ = browser.kill().await;
    let _ = std::fs::remove_dir_all(&profile);
    report.expect("the page reported within 60 s").expect("a report")
}

fn browser_available() -> bool {
    let found = std::process::Command::new("chromium").arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok();
    if !found {
        assert!(std::env::var(REQUIRE_BROWSER_ENV).is_err(), "{REQUIRE_BROWSER_ENV} is set, but there is no chromium on PATH");
        eprintln!("skipped the browser test: no chromium on PATH (apt-get install chromium; .ci/run installs it)");
    }
    found
}

#[tokio::test]
async fn a_browser_page_on_an_allowed_origin_calls_the_api_and_another_origin_is_blocked() {
    if !browser_available() {
        return;
    }
    let (allowed_listener, allowed_origin) = page_origin().await;
    let (other_listener, other_origin) = page_origin().await;
    let stack = stack_allowing(&allowed_origin).await;
    let ada = sign_up(&stack, "Ada", &email("ada")).await;
    let uses = usage_count(&stack, &ada.key).await;

    let mut reports = serve_page(allowed_listener, stack.url(), &ada.key);
    let report = browse(&format!("{allowed_origin}/"), &mut reports).await;
    assert_eq!(report["outcome"], "answered", "{report}");
    assert_eq!((report["status"].as_u64(), report["body"]["id"].as_str()), (Some(200), Some(ada.id.as_str())), "{report}");
    assert!(report["etag"].as_str().is_some_and(|t| t.starts_with('"')), "exposed headers are readable: {report}");
    // Authorization is no CORS-safelisted header: the browser asked first,
    // and the gateway's preflight answer let the real request through.
    assert_eq!(usage_count(&stack, &ada.key).await.parse::<u64>().unwrap(), uses.parse::<u64>().unwrap() + 1);

    let mut reports = serve_page(other_listener, stack.url(), &ada.key);
    let report = browse(&format!("{other_origin}/"), &mut reports).await;
    assert_eq!(report["outcome"], "blocked", "{other_origin} is not allowed: {report}");
    assert_eq!(
        usage_count(&stack, &ada.key).await.parse::<u64>().unwrap(),
        uses.parse::<u64>().unwrap() + 1,
        "the preflight failed, so the browser never sent the request"
    );
}
