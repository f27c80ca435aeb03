//! `cargo run -p local --bin demo-data`: fills a running local stack with
//! demo data through its public API.

use clap::Parser;
use local::demo::{Sizes, fill};

/// Fills the Quire stack at --url with demo users, follows, posts, comments, views and likes.
#[derive(Parser, Debug)]
struct Cli {
    #[arg(long, default_value = "http://127.0.0.1:3000")]
    url: String,
    #[arg(long, default_value_t = Sizes::default().users)]
    users: usize,
    #[arg(long, default_value_t = Sizes::default().posts)]
    posts: usize,
    #[arg(long, default_value_t = Sizes::default().comments)]
    comments: usize,
    #[arg(long, default_value_t = Sizes::default().follows)]
    follows: usize,
    /// The same seed gives the same data (emails aside).
    #[arg(long, default_value_t = Sizes::default().seed)]
    seed: u64,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let sizes = Sizes { users: cli.users, posts: cli.posts, comments: cli.comments, follows: cli.follows, seed: cli.seed };
    match fill(&cli.url, &sizes, true).await {
        Ok(s) => {
            println!(
                "{} users, {} follows, {} posts ({} published, {} drafts), {} comments, views and likes in {:.1} s",
                s.users,
                s.follows,
                s.posts,
                s.published,
                s.posts - s.published,
                s.comments,
                s.seconds
            );
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
