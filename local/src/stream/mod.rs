//! The local event-source mapping: what Lambda does between the table's
//! stream and the stream processor, with the settings of the function's
//! `DynamoDB` event in template.yaml. It reads the engine's stream through
//! the DynamoDB Streams API, applies the filters, gathers batches (size and
//! batching window), invokes the handler, and honours partial-batch
//! responses, bisection on function errors, the retry limit, the record age
//! limit and the on-failure destination (here a JSON-lines file). Its shard
//! position is kept in a file, so a restart neither replays processed
//! records nor skips unprocessed ones.
//!
//! Polling and delivery are in `worker`; a record in Lambda's JSON form and
//! the filter match, in `records`.

mod records;
mod worker;

pub use records::{lambda_record, matches};

use crate::template::StreamEvent;
use functions::StreamHandler;
use serde_json::Value;
use shared::Table;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use worker::Worker;

/// Where the mapping keeps its state.
#[derive(Clone, Debug)]
pub struct Files {
    /// The last sequence number fully handled; `None` keeps it in memory only.
    pub checkpoint: Option<PathBuf>,
    /// The on-failure destination: one JSON object per line.
    pub dead_letters: PathBuf,
}

/// What the mapping has done so far (for tests, logs and benchmarks).
#[derive(Debug, Default)]
pub struct Status {
    pub delivered: AtomicU64,
    pub batches: AtomicU64,
    pub failed_batches: AtomicU64,
    pub dead_lettered: AtomicU64,
    /// True when the last read found nothing new and nothing waits.
    pub idle: AtomicBool,
    /// Bumped after every poll, so a waiter knows a full round has passed.
    pub rounds: AtomicU64,
}

pub struct Mapping {
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
    status: Arc<Status>,
    dead_letters: PathBuf,
}

impl Mapping {
    pub fn start(
        streams: aws_sdk_dynamodbstreams::Client,
        table: Table,
        stream_arn: String,
        handler: StreamHandler,
        settings: StreamEvent,
        files: Files,
    ) -> Result<Self, String> {
        let filters = settings
            .filter_criteria
            .as_ref()
            .map(|c| c.filters.iter().map(|f| serde_json::from_str(&f.pattern)).collect::<Result<Vec<Value>, _>>())
            .transpose()
            .map_err(|e| format!("a FilterCriteria pattern is not JSON: {e}"))?
            .unwrap_or_default();
        let (stop, stopped) = watch::channel(false);
        let status = Arc::new(Status::default());
        let dead_letters = files.dead_letters.clone();
        let worker = Worker { streams, table, stream_arn, handler, settings, filters, files, status: status.clone(), stopped };
        let task = tokio::spawn(worker.run());
        Ok(Self { stop, task: Some(task), status, dead_letters })
    }

    pub fn status(&self) -> &Status {
        &self.status
    }

    pub fn dead_letters(&self) -> &Path {
        &self.dead_letters
    }

    /// Waits until every record written so far has been handled.
    pub async fn settle(&self, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        loop {
            // Two idle rounds after this call began: the stream was read to its end.
            let start = self.status.rounds.load(Ordering::SeqCst);
            while self.status.rounds.load(Ordering::SeqCst) < start + 2 {
                if Instant::now() > deadline {
                    return Err("the stream did not settle in time".into());
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            if self.status.idle.load(Ordering::SeqCst) {
                return Ok(());
            }
        }
    }

    /// Stops after the batch under way, with the checkpoint written.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}
