//! Every Lambda function Quire deploys, in one list. The one binary
//! (`src/main.rs`) runs the entry its `_HANDLER` names; the local stack, the
//! tests and the bench look functions up here too, so a function's name,
//! handler and IAM actions can only be stated once.

use crate::{authorizer, http, routes, stream_processor};
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

/// An HTTP function: its name, the module in `routes/` that handles it,
/// whether it reads a body, and its DynamoDB actions. The name must be the
/// module's with `-` for `_` (checked at compile time), so no function can
/// be wired to another route's handler.
macro_rules! http_function {
    ($name:literal, $route:ident, body: $body:literal, [$($action:literal),*]) => {{
        const _: () = assert!(names_module($name, stringify!($route)), concat!($name, " is not routes::", stringify!($route)));
        Function {
            name: $name,
            kind: Kind::Http(|table, request| Box::pin(async move { http::respond(routes::$route::handle(table, request).await) })),
            iam_actions: &[$($action),*],
            reads_body: $body,
        }
    }};
}

/// Whether `name` is `module` with `-` for `_`.
const fn names_module(name: &str, module: &str) -> bool {
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

/// Every function. Tests check this list against template.yaml both ways.
pub const FUNCTIONS: &[Function] = &[
    http_function!("health", health, body: false, []),
    http_function!("create-user", create_user, body: true, ["dynamodb:PutItem"]),
    http_function!("list-users", list_users, body: false, ["dynamodb:Query"]),
    http_function!("get-user", get_user, body: false, ["dynamodb:GetItem"]),
    http_function!("get-user-by-email", get_user_by_email, body: false, ["dynamodb:Query"]),
    http_function!("get-me", get_me, body: false, ["dynamodb:GetItem"]),
    http_function!("update-me", update_me, body: true, ["dynamodb:UpdateItem"]),
    http_function!("change-plan", change_plan, body: true, ["dynamodb:UpdateItem"]),
    http_function!("delete-me", delete_me, body: false, ["dynamodb:GetItem", "dynamodb:DeleteItem"]),
    http_function!("create-api-key", create_api_key, body: true, ["dynamodb:UpdateItem", "dynamodb:PutItem"]),
    http_function!("list-api-keys", list_api_keys, body: false, ["dynamodb:Query"]),
    http_function!("revoke-api-key", revoke_api_key, body: false, ["dynamodb:UpdateItem"]),
    http_function!("get-post", get_post, body: false, ["dynamodb:GetItem"]),
    http_function!("list-user-posts", list_user_posts, body: false, ["dynamodb:Query"]),
    http_function!("count-view", count_view, body: false, ["dynamodb:UpdateItem"]),
    http_function!("list-comments", list_comments, body: false, ["dynamodb:Query"]),
    http_function!("list-followers", list_followers, body: false, ["dynamodb:Query"]),
    http_function!("list-following", list_following, body: false, ["dynamodb:Query"]),
    http_function!("create-post", create_post, body: true, ["dynamodb:GetItem", "dynamodb:PutItem"]),
    http_function!("list-drafts", list_drafts, body: false, ["dynamodb:Query"]),
    http_function!("get-own-post", get_own_post, body: false, ["dynamodb:GetItem"]),
    http_function!("update-post", update_post, body: true, ["dynamodb:UpdateItem"]),
    http_function!("publish-post", publish_post, body: false, ["dynamodb:UpdateItem", "dynamodb:PutItem"]),
    http_function!("delete-post", delete_post, body: false, ["dynamodb:DeleteItem"]),
    http_function!("create-comment", create_comment, body: true, ["dynamodb:ConditionCheckItem", "dynamodb:PutItem"]),
    http_function!("delete-comment", delete_comment, body: false, ["dynamodb:BatchGetItem", "dynamodb:DeleteItem"]),
    http_function!("follow-user", follow_user, body: false, ["dynamodb:ConditionCheckItem", "dynamodb:PutItem"]),
    http_function!("unfollow-user", unfollow_user, body: false, ["dynamodb:DeleteItem"]),
    http_function!("list-notifications", list_notifications, body: false, ["dynamodb:Query"]),
    http_function!("mark-notification-read", mark_notification_read, body: false, ["dynamodb:UpdateItem"]),
    Function {
        name: "authorizer",
        kind: Kind::Authorizer(|table, event| Box::pin(authorizer::handle(table, event))),
        iam_actions: &["dynamodb:UpdateItem"],
        reads_body: false,
    },
    Function {
        name: "stream-processor",
        kind: Kind::Stream(|table, event| Box::pin(stream_processor::handle(table, event))),
        iam_actions: &[
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
            "dynamodb:Query",
            "dynamodb:BatchWriteItem",
        ],
        reads_body: false,
    },
];

/// The function of that name.
pub fn find(name: &str) -> Option<&'static Function> {
    FUNCTIONS.iter().find(|f| f.name == name)
}

/// Every function's name, for messages.
pub fn names() -> Vec<&'static str> {
    FUNCTIONS.iter().map(|f| f.name).collect()
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

    #[test]
    fn names_are_unique() {
        let mut names = names();
        names.sort_unstable();
        let count = names.len();
        names.dedup();
        assert_eq!(names.len(), count);
    }
}
