//! The local stack answers over real HTTP, as API Gateway would.

use crate::common::*;

#[tokio::test]
async fn health_answers_with_a_request_id_and_no_dynamodb_call() {
    let stack = TestStack::start().await;
    let reply = stack.get("/health").send().await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body["status"], "ok");
    assert_eq!(reply.headers["content-type"], "application/json");
    assert_eq!(reply.headers["apigw-requestid"].len(), 26);
    assert_eq!(reply.dynamodb_calls(), Vec::<String>::new());
}

#[tokio::test]
async fn an_unknown_route_or_method_is_a_json_404() {
    let stack = TestStack::start().await;
    stack.get("/nope").send().await.assert_error(404, "route_not_found");
    stack.delete("/health").send().await.assert_error(404, "route_not_found");
    stack.get("/health/extra").send().await.assert_error(404, "route_not_found");
}

#[tokio::test]
async fn a_body_over_the_api_gateway_limit_is_a_json_413() {
    let stack = TestStack::start().await;
    let big = vec![b'x'; local::gateway::MAX_BODY_BYTES + 1];
    stack.get("/health").raw_json(big).send().await.assert_error(413, "payload_too_large");
}

#[tokio::test]
async fn requests_are_served_concurrently() {
    let stack = TestStack::start().await;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let url = format!("{}/health", stack.url());
        tasks.spawn(async move { reqwest::get(url).await.unwrap() });
    }
    let mut ids = Vec::new();
    while let Some(response) = tasks.join_next().await {
        let response = response.unwrap();
        assert_eq!(response.status(), 200);
        ids.push(response.headers()["apigw-requestid"].to_str().unwrap().to_string());
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 50, "every request has its own id");
}
