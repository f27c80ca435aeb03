//! Quire's Lambda functions. Each API route is one module in `routes/` with
//! a plain `async fn handle(Table, Request)` and one line in the list of
//! [`routes::FUNCTIONS`]. Every function deploys the same binary
//! (`src/main.rs`), which runs the entry its `Handler` names; the local stack
//! and the tests call the very same handlers through the registry.

pub mod authorizer;
pub mod bootstrap;
pub mod caching;
pub mod event;
pub mod http;
pub mod metrics;
pub mod registry;
pub mod routes;
pub mod stream_processor;

#[cfg(test)]
mod proptests;

use lambda_http::{Body, Response};

pub use registry::{AuthorizerHandler, Function, HttpHandler, Kind, StreamHandler};
pub use routes::{FUNCTIONS, find, names};

/// What a route handler returns; errors become responses in [`http::respond`].
pub type HandlerResult = Result<Response<Body>, shared::Error>;
