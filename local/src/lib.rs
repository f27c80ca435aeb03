//! Quire's local stack: `cargo run -p local` runs the whole backend on this
//! machine, and the integration tests start the same stack in-process.

pub mod demo;
pub mod engine;
pub mod gateway;
pub mod migrate;
pub mod openapi;
pub mod stack;
pub mod stream;
pub mod template;
pub mod testing;

pub use stack::{LocalStack, Options, Overrides, Storage};

/// What `cargo run -p local` logs unless `RUST_LOG` says otherwise. dynoxide
/// logs every 4xx it answers, and Quire expects many (a failed condition is
/// how a duplicate email is caught): show its errors only.
pub const DEFAULT_LOG_FILTER: &str = "info,dynoxide::server=error";
