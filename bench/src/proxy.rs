//! A timing proxy in front of the embedded engine: the functions' DynamoDB
//! endpoint. It notes each request's operation and the time from having read
//! it to having the engine's answer ready to send back (its own forwarding,
//! the proxy → engine loopback hop and the engine's work: everything that
//! stands for DynamoDB), so a function's own time is its latency minus these.

use crate::raw::Recorded;
use crate::tls::TlsListener;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use axum::serve::ListenerExt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_rustls::TlsAcceptor;

#[derive(Clone, Debug)]
pub struct Call {
    pub operation: String,
    pub engine: Duration,
    /// The request as the function sent it, for the raw-call replay.
    pub request: Recorded,
}

struct Shared {
    engine: String,
    client: reqwest::Client,
    calls: Mutex<Vec<Call>>,
}

pub struct Proxy {
    endpoint: String,
    shared: Arc<Shared>,
}

/// Hop-by-hop headers, and the length the client recomputes.
const NOT_FORWARDED: &[&str] = &["connection", "content-length", "transfer-encoding", "keep-alive"];

impl Proxy {
    /// Serves HTTPS with `tls`, else plain HTTP.
    pub async fn start(engine: &str, tls: Option<TlsAcceptor>) -> std::io::Result<Self> {
        let client = reqwest::Client::builder().pool_max_idle_per_host(4).build().map_err(std::io::Error::other)?;
        let shared = Arc::new(Shared { engine: engine.to_string(), client, calls: Mutex::default() });
        let app = Router::new().fallback(forward).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let endpoint = match tls {
            Some(acceptor) => {
                tokio::spawn(async move { axum::serve(TlsListener { listener, acceptor }, app).await });
                format!("https://{address}")
            }
            None => {
                let listener = listener.tap_io(|stream| {
                    let _ = stream.set_nodelay(true);
                });
                tokio::spawn(async move { axum::serve(listener, app).await });
                format!("http://{address}")
            }
        };
        Ok(Self { endpoint, shared })
    }

    /// For `AWS_ENDPOINT_URL_DYNAMODB`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The calls since the last `take` (one function runs at a time, and the
    /// bench's own set-up calls go to the engine directly, so these are the
    /// calls of the invocation just answered).
    pub fn take(&self) -> Vec<Call> {
        std::mem::take(&mut *self.shared.calls.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

async fn forward(State(shared): State<Arc<Shared>>, method: Method, headers: HeaderMap, body: Bytes) -> Response {
    // Kept for the replay (src/raw.rs), outside the timed part.
    let recorded = Recorded { method: method.clone(), headers: headers.clone(), body: body.clone() };
    // From here (the request read) to the answer built is DynamoDB's share:
    // the proxy's own forwarding would not exist in AWS.
    let started = Instant::now();
    let operation = headers.get("x-amz-target").and_then(|t| t.to_str().ok()).and_then(|t| t.rsplit('.').next()).unwrap_or("unknown").to_string();
    let mut request = shared.client.request(method, &shared.engine).body(body);
    for (name, value) in &headers {
        if !NOT_FORWARDED.contains(&name.as_str()) {
            request = request.header(name, value);
        }
    }
    let answer = match request.send().await {
        Ok(answer) => answer,
        Err(e) => return error(format!("engine unreachable: {e}")),
    };
    let status = answer.status();
    let answer_headers = answer.headers().clone();
    let body = match answer.bytes().await {
        Ok(body) => body,
        Err(e) => return error(format!("engine answer cut: {e}")),
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    for (name, value) in &answer_headers {
        if !NOT_FORWARDED.contains(&name.as_str()) {
            response.headers_mut().append(name, value.clone());
        }
    }
    let engine = started.elapsed();
    shared.calls.lock().unwrap_or_else(|e| e.into_inner()).push(Call { operation, engine, request: recorded });
    response
}

fn error(message: String) -> Response {
    let mut response = Response::new(Body::from(message));
    *response.status_mut() = StatusCode::BAD_GATEWAY;
    response
}
