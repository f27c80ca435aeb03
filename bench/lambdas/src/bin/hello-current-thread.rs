//! Experiment: the hello-world baseline on tokio's current-thread runtime,
//! as Quire's functions run (one thread: Lambda gives a 128 MB function a
//! fraction of one vCPU, so worker threads only add start-up and wake-up
//! costs). Shows how much of the difference to `hello` is the runtime flavour.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    lambda_runtime::run(service_fn(|_event: LambdaEvent<Value>| async {
        Ok::<_, Error>(json!({"statusCode": 200, "headers": {"content-type": "application/json"}, "body": "{\"hello\":\"world\"}"}))
    }))
    .await
}
