//! A local Lambda Runtime API (the 2018-06-01 interface every custom runtime
//! polls) on loopback, serving one function process at a time, as a Lambda
//! execution environment does. It times what Lambda's own timings would
//! show: when a process first asks for work (the end of its init), and when
//! an event was handed out and its answer came back.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::{mpsc, oneshot};

/// How an invocation ended, with the two instants its latency is taken from.
#[derive(Debug)]
pub struct Outcome {
    pub handed_out: Instant,
    pub answered: Instant,
    /// The response payload, or the error payload posted to `/error`.
    pub result: Result<String, String>,
}

impl Outcome {
    pub fn latency(&self) -> Duration {
        self.answered - self.handed_out
    }
}

struct Invocation {
    id: String,
    payload: String,
    deadline: Duration,
}

struct Pending {
    handed_out: Option<Instant>,
    answer: oneshot::Sender<Outcome>,
}

type Queue = Arc<tokio::sync::Mutex<mpsc::Receiver<Invocation>>>;

struct Shared {
    /// Events for the current process. Each new process gets a new queue, so
    /// a `next` left waiting by a killed process can never take its events.
    queue: Mutex<Queue>,
    pending: Mutex<HashMap<String, Pending>>,
    /// Set while a new process is starting: fired by its first `next` (or
    /// its `init/error`).
    init: Mutex<Option<oneshot::Sender<Result<Instant, String>>>>,
    function_arn: Mutex<String>,
}

pub struct RuntimeApi {
    address: String,
    shared: Arc<Shared>,
    queue: Mutex<mpsc::Sender<Invocation>>,
    next_id: Mutex<u64>,
}

const PREFIX: &str = "/2018-06-01/runtime";

impl RuntimeApi {
    /// Serves on a free loopback port until the process ends.
    pub async fn start() -> std::io::Result<Self> {
        let (sender, receiver) = mpsc::channel(1);
        let shared = Arc::new(Shared {
            queue: Mutex::new(Arc::new(tokio::sync::Mutex::new(receiver))),
            pending: Mutex::default(),
            init: Mutex::default(),
            function_arn: Mutex::new(String::new()),
        });
        let app = Router::new()
            .route(&format!("{PREFIX}/invocation/next"), get(next))
            .route(&format!("{PREFIX}/invocation/{{id}}/{{kind}}"), post(answer))
            .route(&format!("{PREFIX}/init/error"), post(init_error))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?.to_string();
        // Small request/response exchanges: no Nagle delay.
        let listener = axum::serve::ListenerExt::tap_io(listener, |stream| {
            let _ = stream.set_nodelay(true);
        });
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(Self { address, shared, queue: Mutex::new(sender), next_id: Mutex::new(0) })
    }

    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// Call just before spawning a process: resolves when it first asks for
    /// an event (the end of its init) or reports an init error.
    pub fn expect_init(&self, function_arn: &str) -> oneshot::Receiver<Result<Instant, String>> {
        let (events, queue) = mpsc::channel(1);
        *lock(&self.queue) = events;
        *lock(&self.shared.queue) = Arc::new(tokio::sync::Mutex::new(queue));
        let (sender, receiver) = oneshot::channel();
        *lock(&self.shared.init) = Some(sender);
        *lock(&self.shared.function_arn) = function_arn.to_string();
        receiver
    }

    /// Hands `payload` to the function process and waits for its answer.
    pub async fn invoke(&self, payload: String, timeout: Duration) -> Result<Outcome, String> {
        let id = {
            let mut n = lock(&self.next_id);
            *n += 1;
            format!("{:08x}-0000-4000-8000-{:012x}", std::process::id(), *n)
        };
        let (answer, answered) = oneshot::channel();
        lock(&self.shared.pending).insert(id.clone(), Pending { handed_out: None, answer });
        let invocation = Invocation { id: id.clone(), payload, deadline: timeout };
        let queue = lock(&self.queue).clone();
        let result = tokio::time::timeout(timeout, async {
            queue.send(invocation).await.map_err(|_| "the Runtime API stopped".to_string())?;
            answered.await.map_err(|_| "the invocation was dropped".to_string())
        })
        .await;
        match result {
            Ok(outcome) => outcome,
            Err(_) => {
                lock(&self.shared.pending).remove(&id);
                // An event nobody took must not go to the next process.
                let queue = lock(&self.shared.queue).clone();
                let _ = queue.try_lock().map(|mut q| while q.try_recv().is_ok() {});
                Err(format!("no answer within {timeout:?}"))
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

async fn next(State(shared): State<Arc<Shared>>) -> Response {
    if let Some(init) = lock(&shared.init).take() {
        let _ = init.send(Ok(Instant::now()));
    }
    let queue = lock(&shared.queue).clone();
    let Some(invocation) = queue.lock().await.recv().await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let deadline = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default() + invocation.deadline;
    let mut headers = HeaderMap::new();
    let arn = lock(&shared.function_arn).clone();
    headers.insert("lambda-runtime-aws-request-id", header(&invocation.id));
    headers.insert("lambda-runtime-deadline-ms", header(&deadline.as_millis().to_string()));
    headers.insert("lambda-runtime-invoked-function-arn", header(&arn));
    headers.insert("lambda-runtime-trace-id", header(&trace_id(&invocation.id)));
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    if let Some(pending) = lock(&shared.pending).get_mut(&invocation.id) {
        pending.handed_out = Some(Instant::now());
    }
    (headers, invocation.payload).into_response()
}

fn header(value: &str) -> HeaderValue {
    HeaderValue::from_str(value).unwrap_or_else(|_| HeaderValue::from_static("invalid"))
}

/// An X-Ray trace header as Lambda sends it (not sampled: no daemon here).
fn trace_id(request_id: &str) -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    let digits: String = request_id.chars().filter(char::is_ascii_hexdigit).collect();
    let tail = format!("{digits:0>24}");
    format!("Root=1-{secs:08x}-{};Parent={};Sampled=0", &tail[tail.len() - 24..], &tail[tail.len() - 16..])
}

/// `…/invocation/{id}/response` and `…/invocation/{id}/error`.
async fn answer(State(shared): State<Arc<Shared>>, Path((id, kind)): Path<(String, String)>, body: Bytes) -> StatusCode {
    let body = String::from_utf8_lossy(&body).into_owned();
    match kind.as_str() {
        "response" => finish(&shared, &id, Ok(body)),
        "error" => finish(&shared, &id, Err(body)),
        _ => StatusCode::NOT_FOUND,
    }
}

fn finish(shared: &Shared, id: &str, result: Result<String, String>) -> StatusCode {
    let answered = Instant::now();
    match lock(&shared.pending).remove(id) {
        Some(Pending { handed_out: Some(handed_out), answer }) => {
            let _ = answer.send(Outcome { handed_out, answered, result });
            StatusCode::ACCEPTED
        }
        // Lambda answers 400 to an unknown or already answered request id.
        _ => StatusCode::BAD_REQUEST,
    }
}

async fn init_error(State(shared): State<Arc<Shared>>, body: Bytes) -> StatusCode {
    if let Some(init) = lock(&shared.init).take() {
        let _ = init.send(Err(String::from_utf8_lossy(&body).into_owned()));
    }
    StatusCode::ACCEPTED
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Plays a custom runtime's part over real HTTP.
    async fn runtime_loop(address: String, fail: bool) {
        let client = reqwest::Client::new();
        let base = format!("http://{address}{PREFIX}");
        let next = client.get(format!("{base}/invocation/next")).send().await.unwrap();
        let headers = next.headers().clone();
        let id = headers["lambda-runtime-aws-request-id"].to_str().unwrap().to_string();
        assert!(headers["lambda-runtime-invoked-function-arn"].to_str().unwrap().ends_with(":function:quire-test"));
        assert!(headers["lambda-runtime-trace-id"].to_str().unwrap().starts_with("Root=1-"));
        let deadline: u128 = headers["lambda-runtime-deadline-ms"].to_str().unwrap().parse().unwrap();
        assert!(deadline > SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis());
        let payload = next.text().await.unwrap();
        let path = if fail { "error" } else { "response" };
        let answer = client.post(format!("{base}/invocation/{id}/{path}")).body(format!("got {payload}")).send().await.unwrap();
        assert_eq!(answer.status(), 202);
        let again = client.post(format!("{base}/invocation/{id}/{path}")).body("twice").send().await.unwrap();
        assert_eq!(again.status(), 400, "an answered request id is refused");
    }

    #[tokio::test]
    async fn init_then_an_answer_then_an_error() {
        let api = RuntimeApi::start().await.unwrap();
        let init = api.expect_init("arn:aws:lambda:eu-west-1:123456789012:function:quire-test");
        let spawned = Instant::now();
        let runtime = tokio::spawn(runtime_loop(api.address().to_string(), false));
        let ready = init.await.unwrap().unwrap();
        assert!(ready >= spawned);
        let outcome = api.invoke("{\"a\":1}".into(), Duration::from_secs(5)).await.unwrap();
        runtime.await.unwrap();
        assert_eq!(outcome.result, Ok("got {\"a\":1}".to_string()));
        assert!(outcome.answered >= outcome.handed_out);

        let runtime = tokio::spawn(runtime_loop(api.address().to_string(), true));
        let outcome = api.invoke("x".into(), Duration::from_secs(5)).await.unwrap();
        runtime.await.unwrap();
        assert_eq!(outcome.result, Err("got x".to_string()));
    }

    #[tokio::test]
    async fn init_error_and_timeout() {
        let api = RuntimeApi::start().await.unwrap();
        let init = api.expect_init("arn");
        let client = reqwest::Client::new();
        let url = format!("http://{}{PREFIX}/init/error", api.address());
        assert_eq!(client.post(url).body("boom").send().await.unwrap().status(), 202);
        assert_eq!(init.await.unwrap(), Err("boom".to_string()));
        // Nobody polls: the invocation times out and is not left queued.
        assert!(api.invoke("lost".into(), Duration::from_millis(50)).await.is_err());
        let queue = lock(&api.shared.queue).clone();
        assert!(queue.lock().await.try_recv().is_err());
    }
}
