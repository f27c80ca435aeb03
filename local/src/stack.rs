//! The whole backend on this machine: the embedded engine (or an external
//! DynamoDB endpoint), the table created from template.yaml if absent, and
//! the API Gateway emulator serving every route of the template.

use crate::engine::Engine;
use crate::gateway::{self, Gateway};
use crate::openapi;
use crate::stream::{Files, Mapping};
use crate::template::Template;
use shared::{Cursors, Table};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Where the data lives.
#[derive(Clone, Debug)]
pub enum Storage {
    /// Gone when the process ends.
    InMemory,
    /// A SQLite file and the cursor signing key in this folder, kept across restarts.
    Folder(PathBuf),
    /// Another DynamoDB-compatible endpoint (DynamoDB Local, LocalStack, moto,
    /// or AWS itself); the table is created there if absent.
    External { endpoint: String },
}

#[derive(Clone, Debug)]
pub struct Options {
    pub template: PathBuf,
    pub storage: Storage,
    pub table_name: String,
    /// 0 picks a free port.
    pub port: u16,
    /// How often TTL removes expired items (embedded engine only); `None` never.
    pub ttl_sweep_every: Option<std::time::Duration>,
    /// Run the stream processor's event-source mapping (tests that deliver
    /// records themselves turn it off).
    pub attach_stream: bool,
    /// Settings that replace template.yaml's.
    pub overrides: Overrides,
}

/// Settings a test or the command line puts in place of template.yaml's
/// (its parameters' defaults); `None` keeps the template's.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// The stream processor's home-feed settings.
    pub feed: Option<shared::feed::Settings>,
    /// The authorizer's per-plan rate limits.
    pub rate_limits: Option<shared::rate_limits::Limits>,
    /// The stage's default route throttling.
    pub throttle: Option<crate::template::Throttle>,
    /// The CORS configuration's allowed origins.
    pub cors_origins: Option<Vec<String>>,
}

pub struct LocalStack {
    url: String,
    endpoint: String,
    table: Table,
    template: Template,
    engine: Option<Engine>,
    stream: Option<Mapping>,
    sweeper: Option<JoinHandle<()>>,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<std::io::Result<()>>>,
}

pub const DATABASE_FILE: &str = "quire.db";
const CURSOR_KEY_FILE: &str = "cursor-signing-key";
const CHECKPOINT_FILE: &str = "stream-checkpoint";
/// The local on-failure destination of the stream processor.
pub const DEAD_LETTER_FILE: &str = "stream-dead-letters.jsonl";

impl LocalStack {
    pub async fn start(options: Options) -> Result<Self, String> {
        let template = Template::load(&options.template)?;
        if template.routes().any(|(route, _)| route.path == openapi::ROUTE) {
            return Err(format!("template.yaml declares {}, which the local stack keeps for the OpenAPI document", openapi::ROUTE));
        }
        // Converted once here, so a broken openapi.yaml stops the start rather than a request.
        let spec = axum::body::Bytes::from(openapi::load(&openapi::default_path())?.to_string());
        let (engine, endpoint, cursors) = match &options.storage {
            Storage::InMemory => {
                let engine = Engine::in_memory().await?;
                let endpoint = engine.endpoint().to_string();
                (Some(engine), endpoint, random_cursors())
            }
            Storage::Folder(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
                let engine = Engine::persistent(&dir.join(DATABASE_FILE)).await?;
                let endpoint = engine.endpoint().to_string();
                (Some(engine), endpoint, stored_cursors(dir)?)
            }
            Storage::External { endpoint } => (None, endpoint.clone(), random_cursors()),
        };
        let rate_limits = match options.overrides.rate_limits {
            Some(limits) => limits,
            None => authorizer_rate_limits(&template)?,
        };
        let table = Table::for_endpoint(&endpoint, &options.table_name, cursors).with_rate_limits(rate_limits);
        ensure_table(&template, &table).await?;
        let files = match &options.storage {
            Storage::Folder(dir) => Files { checkpoint: Some(dir.join(CHECKPOINT_FILE)), dead_letters: dir.join(DEAD_LETTER_FILE) },
            _ => Files { checkpoint: None, dead_letters: std::env::temp_dir().join(format!("quire-{}-{DEAD_LETTER_FILE}", ulid::Ulid::new())) },
        };
        let stream = if options.attach_stream { start_stream(&template, &table, &endpoint, files, options.overrides.feed).await? } else { None };
        let sweeper = match (&engine, options.ttl_sweep_every) {
            (Some(engine), Some(every)) => Some(spawn_sweeper(engine.database().clone(), every)),
            _ => None,
        };
        let gateway = Arc::new(Gateway::new(&template, functions::FUNCTIONS, table.clone(), &options.overrides)?);

        let listener = tokio::net::TcpListener::bind(("127.0.0.1", options.port))
            .await
            .map_err(|e| format!("cannot listen on 127.0.0.1:{}: {e}", options.port))?;
        let url = format!("http://{}", listener.local_addr().map_err(|e| e.to_string())?);
        let serve_spec = move || std::future::ready(([(http::header::CONTENT_TYPE, "application/json")], spec.clone()));
        let app = axum::Router::new().route(openapi::ROUTE, axum::routing::get(serve_spec)).fallback(gateway::serve_request).with_state(gateway);
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await
        });
        Ok(Self { url, endpoint, table, template, engine, stream, sweeper, stop: Some(stop), server: Some(server) })
    }

    /// `http://127.0.0.1:<port>`
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The DynamoDB endpoint the stack uses.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Direct access to the table, for tests that look behind the API.
    pub fn table(&self) -> &Table {
        &self.table
    }

    pub fn template(&self) -> &Template {
        &self.template
    }

    /// The stream's event-source mapping, when the template has a stream function.
    pub fn stream(&self) -> Option<&Mapping> {
        self.stream.as_ref()
    }

    /// Waits until the stream processor has handled every change so far.
    pub async fn settle(&self) {
        if let Some(stream) = &self.stream {
            // An external engine (moto in CI) can be many times slower under
            // a whole test suite's load than the embedded one.
            let timeout = if self.engine.is_some() { 30 } else { 180 };
            stream.settle(std::time::Duration::from_secs(timeout)).await.expect("the stream settles");
        }
    }

    /// Every record on the table's stream so far, as Lambda would deliver it
    /// (before filtering).
    pub async fn stream_records(&self) -> Vec<serde_json::Value> {
        let described = self.table.client().describe_table().table_name(self.table.name()).send().await.expect("the table");
        let arn = described.table.and_then(|t| t.latest_stream_arn).expect("a stream");
        let streams = streams_client(&self.endpoint);
        let shards =
            streams.describe_stream().stream_arn(&arn).send().await.expect("the stream").stream_description.unwrap().shards.unwrap_or_default();
        let mut records = Vec::new();
        for shard in shards {
            let mut iterator = streams
                .get_shard_iterator()
                .stream_arn(&arn)
                .set_shard_id(shard.shard_id)
                .shard_iterator_type(aws_sdk_dynamodbstreams::types::ShardIteratorType::TrimHorizon)
                .send()
                .await
                .expect("an iterator")
                .shard_iterator;
            while let Some(it) = iterator {
                let output = streams.get_records().shard_iterator(it).send().await.expect("records");
                if output.records().is_empty() {
                    break;
                }
                records.extend(output.records().iter().map(|r| crate::stream::lambda_record(r, &arn)));
                iterator = output.next_shard_iterator;
            }
        }
        records
    }

    /// Runs one TTL sweep now; the number of items it removed. (On a blocking
    /// thread: the sweep waits for requests that the runtime must serve.)
    pub async fn sweep_ttl(&self) -> usize {
        let Some(database) = self.engine.as_ref().map(|e| e.database().clone()) else {
            return 0;
        };
        tokio::task::spawn_blocking(move || database.sweep_ttl()).await.expect("the sweep ran").expect("the TTL sweep runs")
    }

    /// The embedded engine, when there is one.
    pub fn engine(&self) -> Option<&Engine> {
        self.engine.as_ref()
    }

    /// Stops taking requests, lets those under way finish, then closes the
    /// engine: every acknowledged write is on disk when this returns.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        if let Some(sweeper) = self.sweeper.take() {
            sweeper.abort();
        }
        if let Some(stream) = self.stream.take() {
            stream.stop().await;
        }
        if let Some(engine) = self.engine.take() {
            engine.shutdown().await;
        }
    }
}

impl Drop for LocalStack {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(sweeper) = self.sweeper.take() {
            sweeper.abort();
        }
    }
}

/// Starts the event-source mapping of the template's stream function.
async fn start_stream(
    template: &Template,
    table: &Table,
    endpoint: &str,
    files: Files,
    feed: Option<shared::feed::Settings>,
) -> Result<Option<Mapping>, String> {
    let Some((function, settings)) = template.functions.iter().find_map(|f| f.stream.clone().map(|s| (f, s))) else {
        return Ok(None);
    };
    let handler = functions::FUNCTIONS.iter().filter(|f| f.name == function.handler).find_map(functions::Function::stream).ok_or_else(|| {
        format!(
            "{} (Handler {:?}) reads the stream, but functions::FUNCTIONS has no stream function of that name",
            function.logical_id, function.handler
        )
    })?;
    let described = table.client().describe_table().table_name(table.name()).send().await.map_err(|e| e.to_string())?;
    let Some(stream_arn) = described.table.and_then(|t| t.latest_stream_arn) else {
        return Err("the table has no stream".into());
    };
    // The function's environment as the template sets it, as in Lambda.
    let feed = match feed {
        Some(feed) => feed,
        None => shared::feed::Settings::from_variables(|name| function.environment.get(name).cloned())
            .map_err(|e| format!("{}: {e}", function.logical_id))?,
    };
    let table = table.clone().with_feed_settings(feed);
    Mapping::start(streams_client(endpoint), table, stream_arn, handler, settings, files).map(Some)
}

/// The rate limits the authorizer's environment sets in template.yaml, as in Lambda.
pub fn authorizer_rate_limits(template: &Template) -> Result<shared::rate_limits::Limits, String> {
    let authorizer = template.authorizers.first().and_then(|a| template.functions.iter().find(|f| f.logical_id == a.function));
    let environment = authorizer.map(|f| f.environment.clone()).unwrap_or_default();
    shared::rate_limits::Limits::from_variables(|name| environment.get(name).cloned()).map_err(|e| format!("the authorizer's environment: {e}"))
}

fn streams_client(endpoint: &str) -> aws_sdk_dynamodbstreams::Client {
    let config = aws_sdk_dynamodbstreams::config::Builder::new()
        .behavior_version(aws_sdk_dynamodbstreams::config::BehaviorVersion::latest())
        .region(aws_sdk_dynamodbstreams::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodbstreams::config::Credentials::new("local", "local", None, None, "quire-local"))
        .endpoint_url(endpoint)
        .build();
    aws_sdk_dynamodbstreams::Client::from_conf(config)
}

/// TTL, as DynamoDB runs it in the background: expired items are deleted
/// with the service's identity, so their REMOVE records reach the stream.
fn spawn_sweeper(database: dynoxide::Database, every: std::time::Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            let database = database.clone();
            match tokio::task::spawn_blocking(move || database.sweep_ttl()).await {
                Ok(Ok(0)) => {}
                Ok(Ok(removed)) => tracing::info!(target: "quire::ttl", removed, "TTL sweep"),
                Ok(Err(e)) => tracing::warn!(target: "quire::ttl", "TTL sweep failed: {e}"),
                Err(_) => return,
            }
        }
    })
}

/// Creates the table from the template unless it already exists, and
/// records the data model it holds; an existing table must hold this code's
/// model, else the stack refuses to start rather than misread it.
pub async fn ensure_table(template: &Template, table: &Table) -> Result<(), String> {
    let unreachable = |e: &dyn std::fmt::Display| format!("cannot reach DynamoDB: {e}");
    match table.client().describe_table().table_name(table.name()).send().await {
        Ok(_) => {}
        Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_not_found_exception()) => {
            template.table.create(table.client(), table.name()).await?;
            return shared::schema::record(table).await.map_err(|e| unreachable(&e));
        }
        Err(e) => return Err(unreachable(&aws_sdk_dynamodb::error::DisplayErrorContext(e))),
    }
    match shared::schema::version(table).await.map_err(|e| unreachable(&e))? {
        shared::schema::VERSION => Ok(()),
        newer if newer > shared::schema::VERSION => Err(format!(
            "table {} holds Quire's data model version {newer}, newer than this build's {}: run a newer build, or start afresh with --reset",
            table.name(),
            shared::schema::VERSION
        )),
        older => Err(format!(
            "table {} holds Quire's data model version {older}, and this build reads version {}: posts, indexes and the users listing \
             changed shape, so its data would be misread. Convert it with `cargo run -p local --bin migrate` (same --data-dir or \
             --dynamodb-endpoint as the stack; README, \"Migrating\"), or start afresh with --reset",
            table.name(),
            shared::schema::VERSION
        )),
    }
}

fn random_secret() -> String {
    shared::random::secret_hex(32)
}

fn random_cursors() -> Cursors {
    Cursors::new(random_secret().as_bytes()).expect("64 hex characters are a long enough key")
}

/// The folder's signing key, made on first start (readable by the owner only).
fn stored_cursors(dir: &Path) -> Result<Cursors, String> {
    let path = dir.join(CURSOR_KEY_FILE);
    let secret = match std::fs::read_to_string(&path) {
        Ok(secret) => secret.trim().to_string(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let secret = random_secret();
            write_private(&path, &secret).map_err(|e| format!("writing {}: {e}", path.display()))?;
            secret
        }
        Err(e) => return Err(format!("reading {}: {e}", path.display())),
    };
    Cursors::new(secret.as_bytes()).map_err(|e| format!("{}: {e}", path.display()))
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(contents.as_bytes())
}
