//! The embedded DynamoDB engine: dynoxide, served in-process over HTTP on a
//! free loopback port, so product code reaches it through aws-sdk-dynamodb
//! exactly as it reaches DynamoDB in AWS.

use dynoxide::Database;
use std::path::Path;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub struct Engine {
    endpoint: String,
    database: Database,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<Result<(), String>>>,
}

impl Engine {
    /// An engine whose data lives only as long as the process.
    pub async fn in_memory() -> Result<Self, String> {
        // The stream-log indexes can only be added through a second
        // connection, which an in-memory database can't have: build an empty
        // indexed file and copy it in (dynoxide restores through SQLite's
        // backup API, which copies the schema, indexes included).
        let seed = std::env::temp_dir().join(format!("quire-empty-{}.db", ulid::Ulid::new()));
        let database = open_indexed(&seed).and_then(|_| {
            let memory = Database::memory().map_err(|e| format!("dynoxide: {e}"))?;
            memory.restore_from(path_str(&seed)?).map_err(|e| format!("dynoxide: {e}"))?;
            Ok(memory)
        });
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", seed.display()));
        }
        Self::serve(database?).await
    }

    /// An engine keeping its data in a SQLite file (created if absent).
    pub async fn persistent(path: &Path) -> Result<Self, String> {
        Self::serve(open_indexed(path)?).await
    }

    async fn serve(database: Database) -> Result<Self, String> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| format!("binding the engine: {e}"))?;
        let endpoint = format!("http://{}", listener.local_addr().map_err(|e| e.to_string())?);
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(dynoxide::server::serve_with_shutdown(listener, database.clone(), async move {
            let _ = stopped.await;
        }));
        Ok(Self { endpoint, database, stop: Some(stop), server: Some(server) })
    }

    /// `http://127.0.0.1:<port>`, for `AWS_ENDPOINT_URL_DYNAMODB` or `Table::for_endpoint`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    pub fn database(&self) -> &Database {
        &self.database
    }

    /// Stops accepting requests and waits for those under way to finish, so
    /// every write that was acknowledged is in the database file.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }
}

fn path_str(path: &Path) -> Result<&str, String> {
    path.to_str().ok_or_else(|| format!("the data path {} is not UTF-8", path.display()))
}

/// Opens (or creates) the database file and indexes dynoxide's stream log.
///
/// Why: dynoxide 3.2 computes each write's stream sequence number with
/// `MAX(CAST(sequence_number AS INTEGER))` and reads GetRecords ordered by the
/// same expression, which none of its indexes serve, so every write scanned
/// the whole stream log and the stack slowed as it grew (demo data took
/// minutes). SQLite uses an index on that exact expression for both queries.
fn open_indexed(path: &Path) -> Result<Database, String> {
    let path_str = path_str(path)?;
    let database = Database::new(path_str).map_err(|e| format!("dynoxide at {}: {e}", path.display()))?;
    let connection = rusqlite::Connection::open(path).map_err(|e| format!("opening {}: {e}", path.display()))?;
    connection
        .execute_batch(
            "CREATE INDEX IF NOT EXISTS quire_stream_sequence ON _stream_records (table_name, CAST(sequence_number AS INTEGER));
             CREATE INDEX IF NOT EXISTS quire_stream_shard_sequence ON _stream_records (table_name, shard_id, CAST(sequence_number AS INTEGER));",
        )
        .map_err(|e| format!("indexing the stream log in {}: {e}", path.display()))?;
    Ok(database)
}

impl Drop for Engine {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plan SQLite picks for dynoxide's per-write sequence query, read
    /// from a copy of the engine's database.
    fn sequence_query_plan(engine: &Engine) -> String {
        let copy = std::env::temp_dir().join(format!("quire-plan-{}.db", ulid::Ulid::new()));
        engine.database().vacuum_into(copy.to_str().unwrap()).unwrap();
        let connection = rusqlite::Connection::open(&copy).unwrap();
        let plan: Vec<String> = connection
            .prepare(
                "EXPLAIN QUERY PLAN SELECT COALESCE(MAX(CAST(sequence_number AS INTEGER)), 0) + 1 FROM _stream_records WHERE table_name = 'quire'",
            )
            .unwrap()
            .query_map([], |row| row.get::<_, String>(3))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let _ = std::fs::remove_file(&copy);
        plan.join("; ")
    }

    #[tokio::test]
    async fn both_kinds_of_engine_index_the_stream_log() {
        let memory = Engine::in_memory().await.unwrap();
        assert!(sequence_query_plan(&memory).contains("INDEX quire_stream_sequence"), "{}", sequence_query_plan(&memory));

        let file = std::env::temp_dir().join(format!("quire-engine-{}.db", ulid::Ulid::new()));
        let persistent = Engine::persistent(&file).await.unwrap();
        assert!(sequence_query_plan(&persistent).contains("INDEX quire_stream_sequence"));
        persistent.shutdown().await;
        // Reopening an indexed file is fine (the indexes already exist).
        let reopened = Engine::persistent(&file).await.unwrap();
        assert!(sequence_query_plan(&reopened).contains("INDEX quire_stream_sequence"));
        reopened.shutdown().await;
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
        }
    }
}
