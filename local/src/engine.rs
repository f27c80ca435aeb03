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
        Self::serve(Database::memory().map_err(|e| format!("dynoxide: {e}"))?).await
    }

    /// An engine keeping its data in a SQLite file (created if absent).
    pub async fn persistent(path: &Path) -> Result<Self, String> {
        let path_str = path.to_str().ok_or("the data path is not UTF-8")?;
        let database = Database::new(path_str).map_err(|e| format!("dynoxide at {}: {e}", path.display()))?;
        Self::serve(database).await
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

impl Drop for Engine {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
