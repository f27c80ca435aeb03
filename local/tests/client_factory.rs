//! `Table::from_env`, the Lambda way of building the client, honours
//! `AWS_ENDPOINT_URL_DYNAMODB`. One test in its own binary: it sets the
//! process environment.

use local::engine::Engine;
use shared::keys::Key;

#[tokio::test]
async fn from_env_reaches_the_endpoint_named_in_the_environment() {
    let engine = Engine::in_memory().await.unwrap();
    let template = local::template::Template::load(&local::template::default_path()).unwrap();
    // SAFETY: this test binary has one test and sets the environment before
    // any other thread reads it.
    unsafe {
        std::env::set_var("AWS_ENDPOINT_URL_DYNAMODB", engine.endpoint());
        std::env::set_var("AWS_REGION", "eu-west-1");
        std::env::set_var("AWS_ACCESS_KEY_ID", "test");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "test");
        std::env::set_var("TABLE_NAME", "from-env");
        std::env::set_var("CURSOR_SIGNING_KEY", "k".repeat(40));
    }
    let table = shared::Table::from_env().await.unwrap();
    assert_eq!(table.name(), "from-env");
    template.table.create(table.client(), table.name()).await.unwrap();
    let key = Key { pk: "ENV#1".into(), sk: "X".into() };
    table.client().put_item().table_name(table.name()).set_item(Some(key.to_attributes())).send().await.unwrap();
    let got = table.client().get_item().table_name(table.name()).set_key(Some(key.to_attributes())).send().await.unwrap();
    assert!(got.item.is_some());

    unsafe { std::env::set_var("CURSOR_SIGNING_KEY", "short") };
    assert!(shared::Table::from_env().await.is_err(), "a short signing key is refused at start");
}
