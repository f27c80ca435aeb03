//! `cargo run -p local`: the whole Quire backend on this machine.

use clap::Parser;
use local::{LocalStack, Options, Overrides, Storage};
use std::path::PathBuf;
use tracing_subscriber::EnvFilter;

/// Runs Quire locally: embedded DynamoDB (dynoxide) plus every HTTP route of
/// template.yaml behind an API Gateway emulator.
#[derive(Parser, Debug)]
#[command(version)]
struct Cli {
    /// Port for the API on 127.0.0.1.
    #[arg(long, env = "QUIRE_PORT", default_value_t = 3000)]
    port: u16,
    /// Folder for the database file and the cursor signing key.
    #[arg(long, env = "QUIRE_DATA_DIR", default_value = ".quire")]
    data_dir: PathBuf,
    /// Keep everything in memory: nothing is written to disk.
    #[arg(long, conflicts_with_all = ["reset", "dynamodb_endpoint"])]
    in_memory: bool,
    /// Delete the data folder first and start empty.
    #[arg(long)]
    reset: bool,
    /// Use this DynamoDB endpoint (e.g. DynamoDB Local) instead of the embedded engine.
    #[arg(long, env = "QUIRE_DYNAMODB_ENDPOINT")]
    dynamodb_endpoint: Option<String>,
    /// The table's name.
    #[arg(long, default_value = "quire")]
    table_name: String,
    /// Seconds between TTL sweeps of the embedded engine (0: never).
    #[arg(long, default_value_t = 10)]
    ttl_sweep_seconds: u64,
    /// Authors with this many followers are pulled into feeds, not pushed
    /// (default: template.yaml's FeedPushLimit).
    #[arg(long)]
    feed_push_limit: Option<u64>,
    /// Milliseconds of fan-out per stream-processor invocation (default:
    /// template.yaml's FanOutBudgetMs).
    #[arg(long)]
    fan_out_budget_ms: Option<u64>,
    /// Requests per window a free key may make (default: template.yaml's
    /// FreeRequestsPerWindow); more are 429.
    #[arg(long)]
    free_requests_per_window: Option<u64>,
    /// The same for a pro key (default: ProRequestsPerWindow).
    #[arg(long)]
    pro_requests_per_window: Option<u64>,
    /// An origin whose browser pages may call the API (repeat for more;
    /// default: template.yaml's CorsAllowedOrigin).
    #[arg(long = "cors-origin")]
    cors_origins: Vec<String>,
    /// The SAM template to serve.
    #[arg(long, default_value_os_t = local::template::default_path())]
    template: PathBuf,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt().with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(local::DEFAULT_LOG_FILTER))).init();
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The feed settings the flags override, if any (the rest from template.yaml).
fn feed_settings(cli: &Cli) -> Result<Option<shared::feed::Settings>, String> {
    if cli.feed_push_limit.is_none() && cli.fan_out_budget_ms.is_none() {
        return Ok(None);
    }
    let template = local::template::Template::load(&cli.template)?;
    let environment = template.functions.iter().find(|f| f.stream.is_some()).map(|f| f.environment.clone()).unwrap_or_default();
    let mut settings = shared::feed::Settings::from_variables(|name| environment.get(name).cloned()).map_err(|e| e.to_string())?;
    if let Some(limit) = cli.feed_push_limit {
        settings.push_limit = limit.max(1);
    }
    if let Some(ms) = cli.fan_out_budget_ms {
        settings.budget = std::time::Duration::from_millis(ms);
    }
    Ok(Some(settings))
}

/// The rate limits the flags override, if any (the rest from template.yaml).
fn rate_limits(cli: &Cli) -> Result<Option<shared::rate_limits::Limits>, String> {
    if cli.free_requests_per_window.is_none() && cli.pro_requests_per_window.is_none() {
        return Ok(None);
    }
    let mut limits = local::stack::authorizer_rate_limits(&local::template::Template::load(&cli.template)?)?;
    limits.free = cli.free_requests_per_window.unwrap_or(limits.free).max(1);
    limits.pro = cli.pro_requests_per_window.unwrap_or(limits.pro).max(1);
    Ok(Some(limits))
}

async fn run(cli: Cli) -> Result<(), String> {
    if cli.reset && cli.data_dir.exists() {
        std::fs::remove_dir_all(&cli.data_dir).map_err(|e| format!("resetting {}: {e}", cli.data_dir.display()))?;
    }
    let feed = feed_settings(&cli)?;
    let rate_limits = rate_limits(&cli)?;
    let storage = match (cli.dynamodb_endpoint, cli.in_memory) {
        (Some(endpoint), _) => Storage::External { endpoint },
        (None, true) => Storage::InMemory,
        (None, false) => Storage::Folder(cli.data_dir.clone()),
    };
    let described = match &storage {
        Storage::InMemory => "in memory".to_string(),
        Storage::Folder(dir) => format!("in {}", dir.join("quire.db").display()),
        Storage::External { endpoint } => format!("at {endpoint}"),
    };
    let ttl_sweep_every = (cli.ttl_sweep_seconds > 0).then(|| std::time::Duration::from_secs(cli.ttl_sweep_seconds));
    let cors_origins = (!cli.cors_origins.is_empty()).then_some(cli.cors_origins);
    let overrides = Overrides { feed, rate_limits, cors_origins, ..Overrides::default() };
    let options =
        Options { template: cli.template, storage, table_name: cli.table_name, port: cli.port, ttl_sweep_every, attach_stream: true, overrides };
    let stack = LocalStack::start(options).await?;
    let engine = stack.engine().map(|e| format!(" (engine at {})", e.endpoint())).unwrap_or_default();
    tracing::info!("table {:?} {described}{engine}", stack.table().name());
    for route in stack_routes(&stack) {
        tracing::info!("route {route}");
    }
    if let Some(stream) = stream_of(&stack) {
        tracing::info!("stream processor attached; failed records go to {}", stream.display());
    }
    tracing::info!("Quire is listening on {} — Ctrl-C to stop", stack.url());
    wait_for_signal().await;
    tracing::info!("shutting down: finishing requests under way");
    stack.shutdown().await;
    tracing::info!("stopped cleanly");
    Ok(())
}

fn stream_of(stack: &LocalStack) -> Option<PathBuf> {
    stack.stream().map(|s| s.dead_letters().to_path_buf())
}

fn stack_routes(stack: &LocalStack) -> Vec<String> {
    stack.template().routes().map(|(r, f)| format!("{} {} -> {}", r.method, r.path, f.handler)).collect()
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
