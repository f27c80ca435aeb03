//! Quire's one Lambda binary (`bootstrap` in every function's package): it
//! runs the registry entry the function's `Handler` names.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::lambda_runtime::Error> {
    lambda_http::tracing::init_default_subscriber();
    functions::bootstrap::run().await
}
