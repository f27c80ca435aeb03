#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    functions::run(functions::routes::revoke_api_key::handle).await
}
