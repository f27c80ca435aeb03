//! What a registry entry is: a Lambda function's name, kind, handler, IAM
//! actions and whether it reads a body. The list itself is
//! [`crate::routes::FUNCTIONS`], beside the route modules it names.

use crate::authorizer;
use lambda_http::aws_lambda_events::dynamodb::Event as StreamEvent;
use lambda_http::aws_lambda_events::streams::DynamoDbEventResponse;
use lambda_http::{Body, Request, Response};
use shared::Table;
use std::future::Future;
use std::pin::Pin;

/// A route handler with its error already mapped to a response.
pub type HttpHandler = fn(Table, Request) -> Pin<Box<dyn Future<Output = Response<Body>> + Send>>;

/// A Lambda authorizer handler.
pub type AuthorizerHandler =
    fn(Table, authorizer::AuthorizerRequest) -> Pin<Box<dyn Future<Output = Result<authorizer::AuthorizerResponse, shared::Error>> + Send>>;

/// A DynamoDB stream handler.
pub type StreamHandler = fn(Table, StreamEvent) -> Pin<Box<dyn Future<Output = DynamoDbEventResponse> + Send>>;

/// What a function is invoked with, and its handler.
#[derive(Clone, Copy)]
pub enum Kind {
    /// An API Gateway (HTTP API, payload 2.0) route.
    Http(HttpHandler),
    /// The HTTP API's Lambda authorizer.
    Authorizer(AuthorizerHandler),
    /// A DynamoDB stream consumer.
    Stream(StreamHandler),
}

/// One Lambda function.
pub struct Function {
    /// Its name: the template's `Handler` (so `_HANDLER` at run time), and
    /// its sample event `events/<name>.json`.
    pub name: &'static str,
    pub kind: Kind,
    /// The DynamoDB actions it needs; a test holds its IAM policy in
    /// template.yaml to exactly these.
    pub iam_actions: &'static [&'static str],
    /// Whether it reads a JSON request body (the bad-input tests send
    /// malformed bodies to exactly these routes).
    pub reads_body: bool,
}

impl Function {
    /// The route handler, if this is an HTTP function.
    pub fn http(&self) -> Option<HttpHandler> {
        match self.kind {
            Kind::Http(handler) => Some(handler),
            _ => None,
        }
    }

    /// The authorizer handler, if this is the authorizer.
    pub fn authorizer(&self) -> Option<AuthorizerHandler> {
        match self.kind {
            Kind::Authorizer(handler) => Some(handler),
            _ => None,
        }
    }

    /// The stream handler, if this consumes a stream.
    pub fn stream(&self) -> Option<StreamHandler> {
        match self.kind {
            Kind::Stream(handler) => Some(handler),
            _ => None,
        }
    }
}

/// Declares the route modules and lists every function: for each route its
/// name, the module in `routes/` that handles it, whether it reads a body,
/// and its DynamoDB actions; then the other functions. A route's name must
/// be its module's with `-` for `_` (checked at compile time), so no
/// function can be wired to another route's handler.
macro_rules! functions {
    (
        routes { $($name:literal => $route:ident, body: $body:literal, [$($action:literal),*];)* }
        others [$($other:expr),* $(,)?]
    ) => {
        $(pub mod $route;)*

        /// Every function. Tests check this list against template.yaml both ways.
        pub const FUNCTIONS: &[$crate::registry::Function] = &[
            $({
                const _: () = assert!(
                    $crate::registry::names_module($name, stringify!($route)),
                    concat!($name, " is not routes::", stringify!($route))
                );
                $crate::registry::Function {
                    name: $name,
                    kind: $crate::registry::Kind::Http(|table, request| {
                        Box::pin($crate::http::serve(request, move |request| $route::handle(table, request)))
                    }),
                    iam_actions: &[$($action),*],
                    reads_body: $body,
                }
            },)*
            $($other,)*
        ];
    };
}
pub(crate) use functions;

/// The HTTP API's authorizer.
pub const AUTHORIZER: Function = Function {
    name: "authorizer",
    kind: Kind::Authorizer(|table, event| Box::pin(authorizer::handle(table, event))),
    iam_actions: &["dynamodb:UpdateItem"],
    reads_body: false,
};

/// The table's stream consumer.
pub const STREAM_PROCESSOR: Function = Function {
    name: "stream-processor",
    kind: Kind::Stream(|table, event| Box::pin(crate::stream_processor::handle(table, event))),
    iam_actions: &[
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:Query",
        "dynamodb:BatchWriteItem",
    ],
    reads_body: false,
};

/// Whether `name` is `module` with `-` for `_`.
pub const fn names_module(name: &str, module: &str) -> bool {
    let (name, module) = (name.as_bytes(), module.as_bytes());
    if name.len() != module.len() {
        return false;
    }
    let mut i = 0;
    while i < name.len() {
        let c = if name[i] == b'-' { b'_' } else { name[i] };
        if c != module[i] {
            return false;
        }
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_must_be_its_modules() {
        assert!(names_module("get-post", "get_post"));
        assert!(!names_module("get-post", "get_user"));
        assert!(!names_module("get-post", "get_posts"));
    }
}
