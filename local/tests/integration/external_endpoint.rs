//! With `QUIRE_TEST_DYNAMODB_ENDPOINT` set, each test gets its own uniquely
//! named table on that endpoint and deletes it afterwards. Here the external
//! endpoint is a separate engine started by the test.

use local::engine::Engine;
use local::testing::TestStack;

/// An engine on a thread and runtime of its own, as an external endpoint
/// would be in a process of its own.
fn external_engine() -> String {
    let (endpoint_tx, endpoint_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let engine = Engine::in_memory().await.unwrap();
            endpoint_tx.send(engine.endpoint().to_string()).unwrap();
            std::future::pending::<()>().await
        })
    });
    endpoint_rx.recv().unwrap()
}

#[tokio::test]
async fn each_test_gets_its_own_table_and_removes_it() {
    let endpoint = external_engine();
    let a = TestStack::on_endpoint(&endpoint).await;
    let b = TestStack::on_endpoint(&endpoint).await;
    assert_ne!(a.table().name(), b.table().name());
    assert!(a.table().name().starts_with("quire-test-"));

    let reply = reqwest::get(format!("{}/health", a.url())).await.unwrap();
    assert_eq!(reply.status(), 200);

    let list = |client: aws_sdk_dynamodb::Client| async move { client.list_tables().send().await.unwrap().table_names.unwrap_or_default() };
    let client = a.table().client().clone();
    assert_eq!(list(client.clone()).await.len(), 2);
    drop(a);
    drop(b);
    assert!(list(client).await.is_empty(), "test tables are deleted");
}
