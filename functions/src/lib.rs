//! Quire's Lambda functions. Each API route is one module in `routes/` with
//! a plain `async fn handle(Table, Request)`, one binary in `bin/` that runs it
//! on Lambda, and one entry in [`HTTP_FUNCTIONS`], through which the local
//! stack and the tests call the very same handler.

pub mod http;
pub mod routes;

use lambda_http::{Body, Request, Response, service_fn};
use shared::Table;
use std::future::Future;
use std::pin::Pin;

/// What a route handler returns; errors become responses in [`http::respond`].
pub type HandlerResult = Result<Response<Body>, shared::Error>;

/// A route handler with its error already mapped to a response.
pub type HttpHandler = fn(Table, Request) -> Pin<Box<dyn Future<Output = Response<Body>> + Send>>;

/// One HTTP Lambda function: its binary name (as in template.yaml's
/// `BuildProperties.Binary`) and its handler.
pub struct HttpFunction {
    pub binary: &'static str,
    pub handler: HttpHandler,
}

macro_rules! http_function {
    ($binary:literal, $route:ident) => {
        HttpFunction {
            binary: $binary,
            handler: |table, request| Box::pin(async move { http::respond(routes::$route::handle(table, request).await) }),
        }
    };
}

/// Every HTTP function. A test checks this list against template.yaml both ways.
pub const HTTP_FUNCTIONS: &[HttpFunction] = &[http_function!("health", health)];

/// The `main` of every HTTP function binary: builds the table handle once per
/// process (cold start), then serves invocations with `handler`.
pub async fn run<F, Fut>(handler: F) -> Result<(), lambda_http::Error>
where
    F: Fn(Table, Request) -> Fut,
    Fut: Future<Output = HandlerResult> + Send,
{
    lambda_http::tracing::init_default_subscriber();
    let table = Table::from_env().await?;
    lambda_http::run(service_fn(move |request| {
        let response = handler(table.clone(), request);
        async move { Ok::<_, std::convert::Infallible>(http::respond(response.await)) }
    }))
    .await
}
