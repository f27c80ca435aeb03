//! The route's raw DynamoDB calls, timed by a bare client: right after each
//! warm invocation, the exact requests the function sent (recorded by the
//! proxy) are sent again over one keep-alive connection to the same
//! endpoint, the same way (TLS, loopback, a single-threaded client like the
//! function), and timed from the request written to the whole answer read.
//! Replaying each right after its invocation, rather than all in a burst,
//! keeps the machine's state alike (a burst keeps every thread awake and
//! comes out faster). What the function adds on top (the Lambda runtime, the
//! handler, the SDK's pipeline) is its latency minus this.
//!
//! A replayed write may now be refused by its condition (the item it made or
//! deleted is already there or gone); such calls are counted. A refusal
//! skips the write, so it is no slower than the call it stands for, which
//! can only make the function's overhead look larger.

use axum::body::Bytes;
use http::{HeaderMap, Method, Request};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};

/// One DynamoDB request as a function sent it.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: Method,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// A bare client on a thread of its own with a single-threaded runtime (as a
/// function runs), one keep-alive connection to the endpoint.
pub struct RawClient {
    jobs: tokio::sync::mpsc::UnboundedSender<Job>,
}

type Job = (Vec<Recorded>, tokio::sync::oneshot::Sender<Result<Timed, String>>);

/// One invocation's calls, sent again.
pub struct Timed {
    /// The sum of the calls' times.
    pub time: Duration,
    /// Calls answered with something other than 2xx.
    pub refused: usize,
}

impl RawClient {
    pub async fn connect(endpoint: &str, ca: Option<&Path>) -> Result<Self, String> {
        let (endpoint, ca) = (endpoint.to_string(), ca.map(Path::to_path_buf));
        let (jobs, mut queue) = tokio::sync::mpsc::unbounded_channel::<Job>();
        let (ready, connected) = tokio::sync::oneshot::channel();
        std::thread::spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(runtime) => runtime,
                Err(e) => return drop(ready.send(Err(e.to_string()))),
            };
            runtime.block_on(async move {
                let mut sender = match connect(&endpoint, ca.as_deref()).await {
                    Ok(sender) => {
                        let _ = ready.send(Ok(()));
                        sender
                    }
                    Err(e) => return drop(ready.send(Err(e))),
                };
                while let Some((calls, reply)) = queue.recv().await {
                    let _ = reply.send(send(&mut sender, calls).await);
                }
            });
        });
        connected.await.map_err(|_| "the raw client's thread ended".to_string())??;
        Ok(Self { jobs })
    }

    /// Sends one invocation's calls, in order, and times them.
    pub async fn time(&self, calls: Vec<Recorded>) -> Result<Timed, String> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.jobs.send((calls, reply)).map_err(|_| "the raw client's thread ended")?;
        answer.await.map_err(|_| "the raw client's thread ended")?
    }
}

async fn connect(endpoint: &str, ca: Option<&Path>) -> Result<Sender, String> {
    let uri: http::Uri = endpoint.parse().map_err(|e| format!("{endpoint}: {e}"))?;
    let address = uri.authority().ok_or("endpoint without host")?.as_str().to_string();
    let tcp = TcpStream::connect(&address).await.map_err(|e| e.to_string())?;
    tcp.set_nodelay(true).map_err(|e| e.to_string())?;
    match ca {
        Some(ca) => {
            let host = ServerName::try_from(uri.host().unwrap_or_default().to_string()).map_err(|e| e.to_string())?;
            let tls = connector(ca)?.connect(host, tcp).await.map_err(|e| e.to_string())?;
            handshake(tls).await
        }
        None => handshake(tcp).await,
    }
}

async fn send(sender: &mut Sender, calls: Vec<Recorded>) -> Result<Timed, String> {
    let mut timed = Timed { time: Duration::ZERO, refused: 0 };
    for call in calls {
        let mut request = Request::builder().method(call.method).uri("/");
        for (name, value) in &call.headers {
            request = request.header(name, value);
        }
        let request = request.body(Full::new(call.body)).map_err(|e| e.to_string())?;
        let started = Instant::now();
        let answer = sender.send_request(request).await.map_err(|e| e.to_string())?;
        let ok = answer.status().is_success();
        answer.into_body().collect().await.map_err(|e| e.to_string())?;
        timed.time += started.elapsed();
        timed.refused += usize::from(!ok);
    }
    Ok(timed)
}

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

async fn handshake<S>(stream: S) -> Result<Sender, String>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(|e| e.to_string())?;
    tokio::spawn(connection);
    Ok(sender)
}

fn connector(ca: &Path) -> Result<TlsConnector, String> {
    let mut roots = tokio_rustls::rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).map_err(|e| e.to_string())? {
        roots.add(cert.map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    }
    let provider = Arc::new(tokio_rustls::rustls::crypto::aws_lc_rs::default_provider());
    let config = tokio_rustls::rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}
