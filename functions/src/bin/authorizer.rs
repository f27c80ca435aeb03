#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    functions::authorizer::run().await
}
