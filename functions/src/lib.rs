//! Quire's Lambda functions. Each API route is one module in `routes/` with
//! a plain `async fn handle(Table, Request)`, one binary in `bin/` that runs it
//! on Lambda, and one entry in [`HTTP_FUNCTIONS`], through which the local
//! stack and the tests call the very same handler.

pub mod authorizer;
pub mod event;
pub mod http;
pub mod routes;
pub mod stream_processor;

#[cfg(test)]
mod proptests;

use lambda_http::{Body, Request, Response, service_fn};
use shared::Table;
use std::future::Future;
use std::pin::Pin;

/// What a route handler returns; errors become responses in [`http::respond`].
pub type HandlerResult = Result<Response<Body>, shared::Error>;

/// A route handler with its error already mapped to a response.
pub type HttpHandler = fn(Table, Request) -> Pin<Box<dyn Future<Output = Response<Body>> + Send>>;

/// One HTTP Lambda function: its binary name (as in template.yaml's
/// `BuildProperties.Binary`), its handler, and the DynamoDB actions it needs
/// (a test holds its IAM policy in template.yaml to exactly these).
pub struct HttpFunction {
    pub binary: &'static str,
    pub handler: HttpHandler,
    pub iam_actions: &'static [&'static str],
}

macro_rules! http_function {
    ($binary:literal, $route:ident, [$($action:literal),*]) => {
        HttpFunction {
            binary: $binary,
            handler: |table, request| Box::pin(async move { http::respond(routes::$route::handle(table, request).await) }),
            iam_actions: &[$($action),*],
        }
    };
}

/// Every HTTP function. Tests check this list against template.yaml both ways.
pub const HTTP_FUNCTIONS: &[HttpFunction] = &[
    http_function!("health", health, []),
    http_function!("create-user", create_user, ["dynamodb:PutItem"]),
    http_function!("list-users", list_users, ["dynamodb:Query"]),
    http_function!("get-user", get_user, ["dynamodb:GetItem"]),
    http_function!("get-user-by-email", get_user_by_email, ["dynamodb:Query"]),
    http_function!("get-me", get_me, ["dynamodb:GetItem"]),
    http_function!("update-me", update_me, ["dynamodb:UpdateItem"]),
    http_function!("change-plan", change_plan, ["dynamodb:UpdateItem"]),
    http_function!("delete-me", delete_me, ["dynamodb:GetItem", "dynamodb:DeleteItem"]),
    http_function!("create-api-key", create_api_key, ["dynamodb:UpdateItem", "dynamodb:PutItem"]),
    http_function!("list-api-keys", list_api_keys, ["dynamodb:Query"]),
    http_function!("revoke-api-key", revoke_api_key, ["dynamodb:UpdateItem"]),
    http_function!("get-post", get_post, ["dynamodb:GetItem"]),
    http_function!("list-user-posts", list_user_posts, ["dynamodb:Query"]),
    http_function!("count-view", count_view, ["dynamodb:UpdateItem"]),
    http_function!("list-comments", list_comments, ["dynamodb:Query"]),
    http_function!("list-followers", list_followers, ["dynamodb:Query"]),
    http_function!("list-following", list_following, ["dynamodb:Query"]),
    http_function!("create-post", create_post, ["dynamodb:GetItem", "dynamodb:PutItem"]),
    http_function!("list-drafts", list_drafts, ["dynamodb:Query"]),
    http_function!("get-own-post", get_own_post, ["dynamodb:GetItem"]),
    http_function!("update-post", update_post, ["dynamodb:UpdateItem"]),
    http_function!("publish-post", publish_post, ["dynamodb:UpdateItem", "dynamodb:PutItem"]),
    http_function!("delete-post", delete_post, ["dynamodb:DeleteItem"]),
    http_function!("create-comment", create_comment, ["dynamodb:ConditionCheckItem", "dynamodb:PutItem"]),
    http_function!("delete-comment", delete_comment, ["dynamodb:BatchGetItem", "dynamodb:DeleteItem"]),
    http_function!("follow-user", follow_user, ["dynamodb:ConditionCheckItem", "dynamodb:PutItem"]),
    http_function!("unfollow-user", unfollow_user, ["dynamodb:DeleteItem"]),
    http_function!("list-notifications", list_notifications, ["dynamodb:Query"]),
    http_function!("mark-notification-read", mark_notification_read, ["dynamodb:UpdateItem"]),
];

/// A Lambda authorizer handler, callable by the local stack.
pub type AuthorizerHandler = fn(
    Table,
    authorizer::AuthorizerRequest,
) -> Pin<Box<dyn Future<Output = Result<authorizer::AuthorizerResponse, shared::Error>> + Send>>;

/// A Lambda authorizer function: binary, handler, DynamoDB actions.
pub struct AuthorizerFunction {
    pub binary: &'static str,
    pub handler: AuthorizerHandler,
    pub iam_actions: &'static [&'static str],
}

/// Every authorizer function (Quire has one: API keys).
pub const AUTHORIZER_FUNCTIONS: &[AuthorizerFunction] = &[AuthorizerFunction {
    binary: "authorizer",
    handler: |table, event| Box::pin(authorizer::handle(table, event)),
    iam_actions: &["dynamodb:UpdateItem"],
}];

/// The `main` of every HTTP function binary: builds the table handle once per
/// process (cold start), then serves invocations with `handler`.
pub async fn run<F, Fut>(handler: F) -> Result<(), lambda_http::Error>
where
    F: Fn(Table, Request) -> Fut,
    Fut: Future<Output = HandlerResult> + Send,
{
    lambda_http::tracing::init_default_subscriber();
    let table = Table::from_env().await?;
    event::run(service_fn(move |request| {
        let response = handler(table.clone(), request);
        async move { Ok::<_, std::convert::Infallible>(http::respond(response.await)) }
    }))
    .await
}

/// The stream processor, callable by the local event-source mapping.
pub type StreamHandler = fn(
    Table,
    lambda_http::aws_lambda_events::dynamodb::Event,
) -> Pin<Box<dyn Future<Output = lambda_http::aws_lambda_events::streams::DynamoDbEventResponse> + Send>>;

pub struct StreamFunction {
    pub binary: &'static str,
    pub handler: StreamHandler,
    pub iam_actions: &'static [&'static str],
}

/// Every stream function (Quire has one).
pub const STREAM_FUNCTIONS: &[StreamFunction] = &[StreamFunction {
    binary: "stream-processor",
    handler: |table, event| Box::pin(stream_processor::handle(table, event)),
    iam_actions: &[
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:Query",
        "dynamodb:BatchWriteItem",
    ],
}];
