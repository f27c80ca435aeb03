//! Experiment: get-post, but opening its DynamoDB connection during init
//! (one GetItem of a key that does not exist) instead of on the first
//! request. The bench compares its init and first call with get-post's.

use aws_sdk_dynamodb::types::AttributeValue;
use functions::routes::get_post;
use lambda_http::service_fn;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let table = shared::Table::from_env().await?;
    let warm_up = AttributeValue::S("WARMUP".into());
    let _ = table.client().get_item().table_name(table.name()).key("PK", warm_up.clone()).key("SK", warm_up).send().await;
    lambda_http::run(service_fn(move |request| {
        let response = get_post::handle(table.clone(), request);
        async move { Ok::<_, std::convert::Infallible>(functions::http::respond(response.await)) }
    }))
    .await
}
