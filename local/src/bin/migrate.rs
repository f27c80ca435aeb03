//! `cargo run -p local --bin migrate`: converts a table of an older Quire
//! data model to this build's (local/src/migrate.rs says what changes).

use clap::Parser;
use local::engine::Engine;
use local::migrate::{Indexes, migrate};
use local::template::Template;
use std::path::PathBuf;

/// Migrates the local stack's data folder (default), another endpoint's
/// table, or with --aws a deployed table, to this build's data model.
#[derive(Parser, Debug)]
#[command(version)]
struct Cli {
    /// The local stack's data folder.
    #[arg(long, env = "QUIRE_DATA_DIR", default_value = ".quire")]
    data_dir: PathBuf,
    /// A DynamoDB endpoint instead (DynamoDB Local, LocalStack…).
    #[arg(long, env = "QUIRE_DYNAMODB_ENDPOINT", conflicts_with = "aws")]
    dynamodb_endpoint: Option<String>,
    /// A deployed table (--table-name), region and credentials from the
    /// environment. Items only: its indexes are changed by the template's
    /// updates (README, "Migrating").
    #[arg(long)]
    aws: bool,
    /// The table's name.
    #[arg(long, default_value = "quire")]
    table_name: String,
    /// The SAM template whose indexes the table should have.
    #[arg(long, default_value_os_t = local::template::default_path())]
    template: PathBuf,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    let template = Template::load(&cli.template)?;
    // No cursor is signed here; the key only completes the table handle.
    let cursors = shared::Cursors::new(shared::random::secret_hex(32).as_bytes()).map_err(|e| e.to_string())?;
    let mut engine = None;
    let (table, indexes) = if cli.aws {
        (shared::Table::in_aws(&cli.table_name, cursors).await.map_err(|e| e.to_string())?, Indexes::LeaveToCloudFormation)
    } else {
        let endpoint = match cli.dynamodb_endpoint {
            Some(endpoint) => endpoint,
            None => {
                let file = cli.data_dir.join(local::stack::DATABASE_FILE);
                if !file.exists() {
                    return Err(format!("{} does not exist: nothing to migrate", file.display()));
                }
                let started = engine.insert(Engine::persistent(&file).await?);
                started.endpoint().to_string()
            }
        };
        (shared::Table::for_endpoint(&endpoint, &cli.table_name, cursors), Indexes::Rebuild)
    };
    let report = migrate(&table, &template, indexes).await;
    if let Some(engine) = engine {
        engine.shutdown().await;
    }
    let report = report?;
    if report.from_version == shared::schema::VERSION {
        println!("table {} already holds data model version {}: nothing to do", table.name(), report.from_version);
        return Ok(());
    }
    println!(
        "table {}: data model {} -> {}: read {} items, split {} posts (created {} view counters and {} places on tag pages), moved {} profiles to their all-users shard, rebuilt indexes {:?}",
        table.name(),
        report.from_version,
        shared::schema::VERSION,
        report.items_read,
        report.posts_split,
        report.view_counters_created,
        report.tags_placed,
        report.profiles_moved,
        report.indexes_rebuilt
    );
    Ok(())
}
