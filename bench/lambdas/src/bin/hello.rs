//! The smallest useful Lambda function, built with the same runtime crate,
//! features and profile as Quire's functions: the floor they are measured
//! against (init, warm latency, memory, size).

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    lambda_runtime::run(service_fn(|_event: LambdaEvent<Value>| async {
        Ok::<_, Error>(json!({"statusCode": 200, "headers": {"content-type": "application/json"}, "body": "{\"hello\":\"world\"}"}))
    }))
    .await
}
