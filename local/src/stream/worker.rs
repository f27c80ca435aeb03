//! The event-source mapping's worker: reads the shard from its checkpoint,
//! queues records (those the filters leave out acknowledged unseen), and
//! delivers batches with Lambda's batching window, partial-batch responses,
//! bisection, retry and record-age limits and dead letters.

use super::records::{lambda_record, matches};
use super::{Files, Status};
use crate::template::StreamEvent;
use aws_sdk_dynamodbstreams::types::{Record, ShardIteratorType};
use functions::StreamHandler;
use serde_json::{Value, json};
use shared::Table;
use std::collections::{HashMap, VecDeque};
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::watch;

// Lambda polls each shard about four times a second. (dynoxide 3.2 reads a
// stream with a full scan of its records, so polling more often costs more.)
const POLL_EVERY: Duration = Duration::from_millis(250);
const RETRY_AFTER: Duration = Duration::from_millis(50);

struct Entry {
    sequence: String,
    /// `None` for a record the filters leave out: acknowledged unseen.
    record: Option<Value>,
    created_secs: f64,
}

/// The task behind a [`Mapping`](super::Mapping): polls the shard and
/// delivers batches until stopped.
pub(super) struct Worker {
    pub(super) streams: aws_sdk_dynamodbstreams::Client,
    pub(super) table: Table,
    pub(super) stream_arn: String,
    pub(super) handler: StreamHandler,
    pub(super) settings: StreamEvent,
    pub(super) filters: Vec<Value>,
    pub(super) files: Files,
    pub(super) status: Arc<Status>,
    pub(super) stopped: watch::Receiver<bool>,
}

impl Worker {
    pub(super) async fn run(mut self) {
        let mut checkpoint = self.files.checkpoint.as_deref().and_then(|p| std::fs::read_to_string(p).ok()).map(|s| s.trim().to_string());
        let mut queue: VecDeque<Entry> = VecDeque::new();
        let mut iterator: Option<String> = None;
        let mut attempts: HashMap<String, i64> = HashMap::new();
        let mut cap = self.settings.batch_size.max(1);
        let mut waiting_since: Option<Instant> = None;
        while !*self.stopped.borrow() {
            if iterator.is_none() {
                match self.iterator(checkpoint.as_deref()).await {
                    Ok(it) => iterator = it,
                    Err(e) => tracing::warn!(target: "quire::stream", "cannot open the stream: {e}"),
                }
                if iterator.is_none() {
                    self.pause(POLL_EVERY).await;
                    continue;
                }
            }
            let mut read = 0;
            match self.streams.get_records().set_shard_iterator(iterator.clone()).limit(1000).send().await {
                Ok(output) => {
                    read = output.records().len();
                    for record in output.records() {
                        queue.push_back(self.entry(record));
                    }
                    iterator = output.next_shard_iterator;
                }
                Err(e) => {
                    tracing::warn!(target: "quire::stream", "GetRecords failed: {}", aws_sdk_dynamodbstreams::error::DisplayErrorContext(e));
                    iterator = None;
                }
            }
            // Deliver what is ready, as Lambda does: a full batch, or the
            // batching window has passed since the first record waited.
            let mut delivered = false;
            loop {
                self.acknowledge_filtered(&mut queue, &mut checkpoint);
                let ready = queue.iter().filter(|e| e.record.is_some()).count();
                if ready == 0 {
                    waiting_since = None;
                    break;
                }
                let since = *waiting_since.get_or_insert_with(Instant::now);
                let window = Duration::from_secs(self.settings.maximum_batching_window_in_seconds);
                if (ready < self.settings.batch_size && since.elapsed() < window) || *self.stopped.borrow() {
                    break;
                }
                self.deliver(&mut queue, &mut checkpoint, &mut attempts, &mut cap).await;
                delivered = true;
                if queue.iter().all(|e| e.record.is_none()) {
                    waiting_since = None;
                }
            }
            // Idle only when this round found nothing and did nothing: a
            // delivered batch may have written records of its own.
            self.status.idle.store(read == 0 && !delivered && queue.is_empty(), Ordering::SeqCst);
            self.status.rounds.fetch_add(1, Ordering::SeqCst);
            if read == 0 {
                self.pause(POLL_EVERY).await;
            }
        }
    }

    async fn pause(&mut self, duration: Duration) {
        let _ = tokio::time::timeout(duration, self.stopped.changed()).await;
    }

    async fn iterator(&self, checkpoint: Option<&str>) -> Result<Option<String>, String> {
        let description = self.streams.describe_stream().stream_arn(&self.stream_arn).send().await.map_err(|e| e.to_string())?;
        let shards = description.stream_description.map(|d| d.shards.unwrap_or_default()).unwrap_or_default();
        // dynoxide has one shard; take the open one.
        let Some(shard) = shards.iter().find(|s| s.sequence_number_range().and_then(|r| r.ending_sequence_number()).is_none()).or(shards.last())
        else {
            return Ok(None);
        };
        let mut request = self.streams.get_shard_iterator().stream_arn(&self.stream_arn).set_shard_id(shard.shard_id.clone());
        request = match checkpoint {
            Some(sequence) => request.shard_iterator_type(ShardIteratorType::AfterSequenceNumber).sequence_number(sequence),
            None if self.settings.starting_position == "LATEST" => request.shard_iterator_type(ShardIteratorType::Latest),
            None => request.shard_iterator_type(ShardIteratorType::TrimHorizon),
        };
        Ok(request.send().await.map_err(|e| e.to_string())?.shard_iterator)
    }

    /// The record as Lambda hands it over, kept only if a filter matches.
    fn entry(&self, record: &Record) -> Entry {
        let json = lambda_record(record, &self.stream_arn);
        let keep = self.filters.is_empty() || self.filters.iter().any(|f| matches(f, &json));
        let created_secs = json["dynamodb"]["ApproximateCreationDateTime"].as_f64().unwrap_or_default();
        let sequence = json["dynamodb"]["SequenceNumber"].as_str().unwrap_or_default().to_string();
        Entry { sequence, record: keep.then_some(json), created_secs }
    }

    fn acknowledge_filtered(&self, queue: &mut VecDeque<Entry>, checkpoint: &mut Option<String>) {
        let mut last = None;
        while queue.front().is_some_and(|e| e.record.is_none()) {
            last = queue.pop_front().map(|e| e.sequence);
        }
        if let Some(sequence) = last {
            self.advance(checkpoint, sequence);
        }
    }

    fn advance(&self, checkpoint: &mut Option<String>, sequence: String) {
        if let Some(path) = &self.files.checkpoint {
            let temporary = path.with_extension("tmp");
            if std::fs::write(&temporary, &sequence).and_then(|_| std::fs::rename(&temporary, path)).is_err() {
                tracing::error!(target: "quire::stream", "cannot write the checkpoint {}", path.display());
            }
        }
        *checkpoint = Some(sequence);
    }

    /// One invocation with up to `cap` records from the front of the queue.
    async fn deliver(&self, queue: &mut VecDeque<Entry>, checkpoint: &mut Option<String>, attempts: &mut HashMap<String, i64>, cap: &mut usize) {
        let max_age = self.settings.maximum_record_age_in_seconds;
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs_f64();
        if max_age >= 0
            && let Some(front) = queue.front().filter(|e| e.record.is_some() && now - e.created_secs > max_age as f64)
        {
            let sequence = front.sequence.clone();
            let entry = queue.pop_front().expect("checked");
            self.dead_letter("RecordAgeExceeded", &entry, 0);
            self.advance(checkpoint, sequence);
            return;
        }
        let positions: Vec<usize> = queue.iter().enumerate().filter(|(_, e)| e.record.is_some()).map(|(i, _)| i).take(*cap).collect();
        let records: Vec<Value> = positions.iter().map(|i| queue[*i].record.clone().expect("kept")).collect();
        let event: lambda_http::aws_lambda_events::dynamodb::Event = match serde_json::from_value(json!({ "Records": records })) {
            Ok(event) => event,
            Err(e) => {
                // Lambda would fail such a batch forever; here the first record
                // goes to the dead letters so the shard moves on.
                tracing::error!(target: "quire::stream", "records did not decode as a DynamoDB event: {e}");
                let entry = queue.pop_front().expect("a non-empty batch");
                self.dead_letter("EventDecodeFailed", &entry, 0);
                self.advance(checkpoint, entry.sequence);
                return;
            }
        };
        let started = Instant::now();
        let handler = self.handler;
        // A spawned task: a panic is a function error, as in Lambda.
        let result = tokio::spawn(handler(self.table.clone(), event)).await;
        let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
        self.status.batches.fetch_add(1, Ordering::SeqCst);
        let failed_index = match &result {
            Ok(response) if self.settings.reports_item_failures() => response.batch_item_failures.first().map(|f| {
                let id = f.item_identifier.as_deref();
                // An identifier not in the batch fails the whole batch, as in Lambda.
                positions.iter().position(|p| Some(queue[*p].sequence.as_str()) == id).unwrap_or(0)
            }),
            Ok(_) => None,
            Err(_) => Some(0),
        };
        tracing::info!(
            target: "quire::stream",
            records = positions.len(),
            failed = failed_index.map_or(0, |i| positions.len() - i),
            duration_ms = format!("{duration_ms:.1}"),
            "batch"
        );
        match failed_index {
            None => {
                let last = *positions.last().expect("a non-empty batch");
                let mut sequence = String::new();
                for _ in 0..=last {
                    sequence = queue.pop_front().expect("within the queue").sequence;
                }
                self.status.delivered.fetch_add(positions.len() as u64, Ordering::SeqCst);
                self.advance(checkpoint, sequence);
                *cap = self.settings.batch_size.max(1);
            }
            Some(index) => {
                self.status.failed_batches.fetch_add(1, Ordering::SeqCst);
                let function_error = result.is_err();
                if function_error && self.settings.bisect_batch_on_function_error && positions.len() > 1 {
                    *cap = positions.len().div_ceil(2); // split, and try the first half
                    return;
                }
                // Everything before the failed record is done.
                let mut last = None;
                for _ in 0..positions[index] {
                    let entry = queue.pop_front().expect("within the queue");
                    if entry.record.is_some() {
                        self.status.delivered.fetch_add(1, Ordering::SeqCst);
                    }
                    last = Some(entry.sequence);
                }
                if let Some(sequence) = last {
                    self.advance(checkpoint, sequence);
                }
                let failed = queue.front().expect("the failed record").sequence.clone();
                let tries = attempts.entry(failed.clone()).or_insert(0);
                *tries += 1;
                let limit = self.settings.maximum_retry_attempts;
                if limit >= 0 && *tries > limit {
                    let tries = *tries;
                    attempts.remove(&failed);
                    let entry = queue.pop_front().expect("the failed record");
                    self.dead_letter("RetryAttemptsExhausted", &entry, tries);
                    self.advance(checkpoint, failed);
                    *cap = self.settings.batch_size.max(1);
                } else {
                    tokio::time::sleep(RETRY_AFTER).await;
                }
            }
        }
    }

    fn dead_letter(&self, condition: &str, entry: &Entry, attempts: i64) {
        self.status.dead_lettered.fetch_add(1, Ordering::SeqCst);
        let line = json!({
            "condition": condition,
            "retryAttempts": attempts,
            "DDBStreamBatchInfo": {
                "streamArn": self.stream_arn,
                "startSequenceNumber": entry.sequence,
                "endSequenceNumber": entry.sequence,
                "batchSize": 1,
            },
            // AWS sends only the metadata above; locally the record is kept too.
            "record": entry.record,
        });
        tracing::error!(target: "quire::stream", condition, sequence = %entry.sequence, "record sent to the dead-letter file");
        let written = std::fs::OpenOptions::new().create(true).append(true).open(&self.files.dead_letters).and_then(|mut f| writeln!(f, "{line}"));
        if let Err(e) = written {
            tracing::error!(target: "quire::stream", "cannot write {}: {e}", self.files.dead_letters.display());
        }
    }
}
