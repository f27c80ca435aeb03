//! The integration tests' stack: a fresh in-memory engine per test (so tests
//! run in parallel and need nothing installed), or, when
//! `QUIRE_TEST_DYNAMODB_ENDPOINT` is set, that external endpoint with a
//! uniquely named table per test, deleted when the test ends.

pub mod spec;

use crate::stack::{LocalStack, Options, Overrides, Storage};
use std::ops::Deref;
use std::sync::{Arc, Mutex, OnceLock};

pub const EXTERNAL_ENDPOINT_ENV: &str = "QUIRE_TEST_DYNAMODB_ENDPOINT";
/// The guarantees the external engine is known to lack, by name (see
/// [`Guarantee`]), comma-separated: `.ci/run` sets it for moto.
pub const ENGINE_LACKS_ENV: &str = "QUIRE_TEST_ENGINE_LACKS";
/// A file each skipped test appends a line to.
pub const SKIP_LOG_ENV: &str = "QUIRE_TEST_SKIP_LOG";

/// What DynamoDB promises and a test engine may not. A test that needs one
/// asks [`TestStack::lacks`] and is skipped, saying which, where it is missing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Guarantee {
    /// TTL deletes expired items, and the test can make it sweep now. Only
    /// the embedded engine offers the sweep on demand (AWS takes days).
    TtlSweep,
    /// A cancelled TransactWriteItems leaves the table and its stream as
    /// they were. moto 5 puts back a copy of the whole table taken when the
    /// transaction began: concurrent writes made meanwhile are lost, and
    /// open shard iterators keep reading the replaced stream, so they see
    /// no new record.
    IsolatedTransactions,
    /// Items up to exactly 400 KB by DynamoDB's size rules (409,600 bytes)
    /// are stored (moto 5 refuses items over 405,000 bytes).
    ExactItemSizeLimit,
    /// Every call answers the capacity it consumed by DynamoDB's rules, the
    /// table and each index apart. moto 5 reports none for
    /// TransactWriteItems and counts a Query of an index against the table too.
    ExactConsumedCapacity,
    /// A conditional write is checked and applied as one step, however many
    /// requests race on the item. moto 5's server can let two concurrent
    /// conditional UpdateItems on one item both pass (seen once in CI).
    AtomicConditionalWrites,
}

impl Guarantee {
    const ALL: [Guarantee; 5] = [
        Guarantee::TtlSweep,
        Guarantee::IsolatedTransactions,
        Guarantee::ExactItemSizeLimit,
        Guarantee::ExactConsumedCapacity,
        Guarantee::AtomicConditionalWrites,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Guarantee::TtlSweep => "ttl-sweep",
            Guarantee::IsolatedTransactions => "isolated-transactions",
            Guarantee::ExactItemSizeLimit => "exact-item-size-limit",
            Guarantee::ExactConsumedCapacity => "exact-consumed-capacity",
            Guarantee::AtomicConditionalWrites => "atomic-conditional-writes",
        }
    }

    /// The guarantees `QUIRE_TEST_ENGINE_LACKS` names; an unknown name stops
    /// the test, so a typo cannot quietly run (or skip) the wrong tests.
    fn declared_missing() -> Vec<Guarantee> {
        let declared = std::env::var(ENGINE_LACKS_ENV).unwrap_or_default();
        declared
            .split(',')
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .map(|name| {
                Self::ALL.into_iter().find(|g| g.name() == name).unwrap_or_else(|| {
                    let known: Vec<_> = Self::ALL.iter().map(|g| g.name()).collect();
                    panic!("{ENGINE_LACKS_ENV} names {name:?}; the known guarantees are {known:?}")
                })
            })
            .collect()
    }
}

pub struct TestStack {
    stack: Option<LocalStack>,
    /// Set when the table lives on an external endpoint and must be deleted.
    external: Option<(String, String)>,
}

impl TestStack {
    /// The stack on the engine chosen by the environment (see the module doc).
    pub async fn start() -> Self {
        Self::with_feed(None).await
    }

    /// The stack with these home-feed settings for its stream processor
    /// (`None`: the template's), on the engine chosen by the environment.
    pub async fn with_feed(feed: Option<shared::feed::Settings>) -> Self {
        Self::with_overrides(Overrides { feed, ..Overrides::default() }).await
    }

    /// The stack with these settings in place of template.yaml's, on the
    /// engine chosen by the environment.
    pub async fn with_overrides(overrides: Overrides) -> Self {
        match std::env::var(EXTERNAL_ENDPOINT_ENV) {
            Ok(endpoint) if !endpoint.is_empty() => Self::external(&endpoint, overrides).await,
            _ => Self::launch(Storage::InMemory, "quire".into(), None, true, overrides).await,
        }
    }

    /// The stack for a test that needs `guarantee`, or `None` (the test is
    /// skipped, saying so) when the engine lacks it.
    pub async fn requiring(guarantee: Guarantee, test: &str) -> Option<Self> {
        let stack = Self::start().await;
        (!stack.lacks(guarantee, test)).then_some(stack)
    }

    /// Whether this stack's engine lacks `guarantee`; if so the caller skips
    /// its test, and this says so on stderr and, when `QUIRE_TEST_SKIP_LOG`
    /// names a file, in it (`.ci/run` prints it: cargo test hides a passing
    /// test's stderr).
    pub fn lacks(&self, guarantee: Guarantee, test: &str) -> bool {
        let lacking = !self.offers(guarantee);
        if lacking {
            let line = format!("skipped {test}: the engine at {} lacks {}\n", self.endpoint(), guarantee.name());
            eprint!("{line}");
            if let Ok(log) = std::env::var(SKIP_LOG_ENV) {
                let file = std::fs::OpenOptions::new().create(true).append(true).open(&log);
                file.and_then(|mut f| std::io::Write::write_all(&mut f, line.as_bytes())).unwrap_or_else(|e| panic!("{SKIP_LOG_ENV}={log}: {e}"));
            }
        }
        lacking
    }

    /// Whether this stack's engine keeps `guarantee` (silently: for a test
    /// that runs either way, differently).
    pub fn offers(&self, guarantee: Guarantee) -> bool {
        match guarantee {
            Guarantee::TtlSweep => self.engine().is_some(),
            _ => self.external.is_none() || !Guarantee::declared_missing().contains(&guarantee),
        }
    }

    /// A stack whose stream nobody reads: the test delivers records itself.
    pub async fn without_stream() -> Self {
        Self::launch(Storage::InMemory, "quire".into(), None, false, Overrides::default()).await
    }

    /// The stack on an external endpoint, in a table of its own.
    pub async fn on_endpoint(endpoint: &str) -> Self {
        Self::external(endpoint, Overrides::default()).await
    }

    async fn external(endpoint: &str, overrides: Overrides) -> Self {
        let name = format!("quire-test-{}", ulid::Ulid::new().to_string().to_lowercase());
        let storage = Storage::External { endpoint: endpoint.to_string() };
        Self::launch(storage, name.clone(), Some((endpoint.to_string(), name)), true, overrides).await
    }

    async fn launch(storage: Storage, table_name: String, external: Option<(String, String)>, attach_stream: bool, overrides: Overrides) -> Self {
        // Tests about other things send far more requests per key and route
        // than template.yaml's limits allow; the tests of the limits set theirs.
        let overrides = Overrides {
            rate_limits: overrides.rate_limits.or(Some(shared::rate_limits::Limits { window_seconds: 60, free: u64::MAX / 2, pro: u64::MAX / 2 })),
            throttle: overrides.throttle.or(Some(crate::template::Throttle { rate_per_second: 1e9, burst: u32::MAX })),
            ..overrides
        };
        let options =
            Options { template: crate::template::default_path(), storage, table_name, port: 0, ttl_sweep_every: None, attach_stream, overrides };
        let stack = LocalStack::start(options).await.unwrap_or_else(|e| panic!("the test stack did not start: {e}"));
        Self { stack: Some(stack), external }
    }
}

impl Deref for TestStack {
    type Target = LocalStack;
    fn deref(&self) -> &LocalStack {
        self.stack.as_ref().expect("present until drop")
    }
}

impl Drop for TestStack {
    fn drop(&mut self) {
        drop(self.stack.take());
        if let Some((endpoint, name)) = self.external.take() {
            // Drop cannot await, and the test's runtime may be shutting down:
            // delete the table from a runtime of our own on another thread.
            let deleted = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
                runtime.block_on(async {
                    let cursors = shared::Cursors::new(&[0u8; 32]).expect("32 bytes");
                    let table = shared::Table::for_endpoint(&endpoint, &name, cursors);
                    table.client().delete_table().table_name(&name).send().await.map(|_| ()).map_err(|e| {
                        std::io::Error::other(format!("deleting test table {name}: {}", aws_sdk_dynamodb::error::DisplayErrorContext(e)))
                    })
                })
            })
            .join();
            if let Ok(Err(e)) = deleted {
                eprintln!("warning: {e}");
            }
        }
    }
}

/// What the process logs through `tracing` (the stack, the handlers, the
/// authorizer and the stream processor all run in it), kept in memory so a
/// test can read it.
#[derive(Clone)]
pub struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    /// Starts capturing, at the level `cargo run -p local` logs by default
    /// and at debug for Quire's own crates. A subscriber is global to the
    /// process, so every call returns the same capture.
    pub fn capture() -> Self {
        static LOGS: OnceLock<Logs> = OnceLock::new();
        LOGS.get_or_init(|| {
            let logs = Logs(Arc::default());
            let writer = logs.clone();
            let filter = format!("{},quire=debug,local=debug,functions=debug,shared=debug", crate::DEFAULT_LOG_FILTER);
            tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
                .with_ansi(false)
                .with_writer(move || writer.clone())
                .init();
            logs
        })
        .clone()
    }

    /// Everything logged so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("not poisoned")).into_owned()
    }
}

impl std::io::Write for Logs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("not poisoned").extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
