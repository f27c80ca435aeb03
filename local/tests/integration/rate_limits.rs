//! Per-plan rate limits, counted in the authorizer's one UpdateItem on the
//! key (README, "Rate limits"), and the stage's route throttling that the
//! local gateway emulates from template.yaml.

use crate::common::*;
use local::Overrides;
use local::template::Throttle;
use local::testing::Guarantee;
use serde_json::json;
use shared::rate_limits::Limits;
use std::time::Duration;

fn limited(window_seconds: u64, free: u64, pro: u64) -> Overrides {
    Overrides { rate_limits: Some(Limits { window_seconds, free, pro }), ..Overrides::default() }
}

/// Waits, if need be, for a window with at least `seconds` left, so the
/// requests that follow all fall in one window.
async fn window_with(limits: &Limits, seconds: u64) {
    let now = shared::clock::now_ms();
    if limits.window(now).ends_at_ms - now < seconds * 1000 {
        tokio::time::sleep(Duration::from_millis(limits.window(now).ends_at_ms - now + 50)).await;
    }
}

/// Waits for the next window to begin.
async fn next_window(limits: &Limits) {
    let now = shared::clock::now_ms();
    tokio::time::sleep(Duration::from_millis(limits.window(now).ends_at_ms - now + 50)).await;
}

/// The key item's window-count attributes.
async fn counters(stack: &TestStack, user: &User) -> Vec<String> {
    let (user_id, key_id) = key_ids(&user.key);
    let item = stack
        .table()
        .client()
        .get_item()
        .table_name(stack.table().name())
        .set_key(Some(shared::keys::api_key(user_id, key_id).to_attributes()))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    item.keys().filter(|name| shared::rate_limits::is_counter(name)).cloned().collect()
}

fn key_ids(key: &str) -> (shared::ids::UserId, shared::ids::ApiKeyId) {
    let parsed = shared::api_keys::KeyString::parse(key).expect("a key");
    (parsed.user_id, parsed.key_id)
}

#[tokio::test]
async fn n_plus_twenty_concurrent_requests_get_exactly_n_successes_and_twenty_429s() {
    let limits = Limits { window_seconds: 60, free: 30, pro: 300 };
    let stack = TestStack::with_overrides(Overrides { rate_limits: Some(limits), ..Overrides::default() }).await;
    if stack.lacks(Guarantee::AtomicConditionalWrites, "n_plus_twenty_concurrent_requests_get_exactly_n_successes_and_twenty_429s") {
        return;
    }
    let ada = sign_up(&stack, "Ada", &email("ada")).await;
    window_with(&limits, 25).await;
    let statuses = race(50, |_| stack.get("/me").key(&ada.key)).await;
    assert_eq!((count(&statuses, 200), count(&statuses, 429)), (30, 20), "{statuses:?}");

    let refused = stack.get("/me").key(&ada.key).send().await;
    refused.assert_error(429, "rate_limited");
    let retry_after: u64 = refused.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert!(refused.dynamodb_calls().is_empty(), "the route answers before any DynamoDB call: {:?}", refused.dynamodb_calls());
    assert_eq!(refused.authorizer_calls(), ["UpdateItem"], "the limit is checked in the authorizer's one call");
    // Refused requests are not counted as uses of the key.
    let (user_id, key_id) = key_ids(&ada.key);
    let key =
        stack.table().client().get_item().table_name(stack.table().name()).set_key(Some(shared::keys::api_key(user_id, key_id).to_attributes()));
    let item = key.consistent_read(true).send().await.unwrap().item.unwrap();
    assert_eq!(item["usageCount"].as_n().unwrap(), "30");

    // Another user's key has its own window; public routes are not limited by keys.
    let bob = sign_up(&stack, "Bob", &email("bob")).await;
    assert_eq!(stack.get("/me").key(&bob.key).send().await.status, 200);
    assert_eq!(stack.get("/health").send().await.status, 200);
}

#[tokio::test]
async fn a_window_resets_the_count_and_a_plan_change_holds_by_the_next_window() {
    let limits = Limits { window_seconds: 4, free: 3, pro: 6 };
    let stack = TestStack::with_overrides(limited(4, 3, 6)).await;
    let ada = sign_up(&stack, "Ada", &email("ada")).await;
    let spare = stack.post("/me/api-keys").key(&ada.key).send().await.body["secret"].as_str().unwrap().to_string();
    let (stack, key) = (&stack, &ada.key);
    let burst = |n: usize| async move {
        let mut statuses = Vec::new();
        for _ in 0..n {
            statuses.push(stack.get("/me").key(key).send().await.status);
        }
        statuses
    };
    // A window of its own (creating the spare key was a request too).
    next_window(&limits).await;
    let next = limits.window(shared::clock::now_ms()).ends_at_ms;
    assert_eq!(burst(4).await, [200, 200, 200, 429], "free: 3 a window");
    // The spare key counts apart: it changes the plan while the first is limited.
    let upgraded = stack.put("/me/plan").key(&spare).json(json!({"from": "free", "to": "pro"})).send().await;
    assert_eq!(upgraded.status, 200, "{}", upgraded.brief());
    // The stream copies the plan onto the keys (about a second); by the next
    // window the new limit holds.
    stack.settle().await;
    if limits.window(shared::clock::now_ms()).ends_at_ms == next {
        next_window(&limits).await;
    }
    window_with(&limits, 3).await;
    assert_eq!(burst(7).await, [200, 200, 200, 200, 200, 200, 429], "pro: 6 a window");
}

#[tokio::test]
async fn a_key_idle_for_windows_keeps_one_counter() {
    let stack = TestStack::with_overrides(limited(1, 100, 100)).await;
    let ada = sign_up(&stack, "Ada", &email("ada")).await;
    assert_eq!(stack.get("/me").key(&ada.key).send().await.authorizer_calls(), ["UpdateItem"]);
    // Two windows and more without a request: the first one after removes
    // the old count in a second call, once.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let after_idle = stack.get("/me").key(&ada.key).send().await;
    assert_eq!(after_idle.authorizer_calls(), ["UpdateItem", "UpdateItem"]);
    assert_eq!(counters(&stack, &ada).await.len(), 1, "only the current window's count is left");
    let next = stack.get("/me").key(&ada.key).send().await;
    assert_eq!(next.authorizer_calls(), ["UpdateItem"]);
    assert!(counters(&stack, &ada).await.len() == 1);
}

#[tokio::test]
async fn route_throttling_answers_as_api_gateway_before_the_authorizer_runs() {
    // Refilled so slowly that no token comes back during the test.
    let throttle = Throttle { rate_per_second: 0.01, burst: 4 };
    let stack = TestStack::with_overrides(Overrides { throttle: Some(throttle), ..Overrides::default() }).await;
    let statuses = race(12, |_| stack.get("/health")).await;
    assert_eq!((count(&statuses, 200), count(&statuses, 429)), (4, 8), "the burst, then 429: {statuses:?}");
    let throttled = stack.get("/health").send().await;
    assert_eq!((throttled.status, &throttled.body), (429, &json!({"message": "Too Many Requests"})));
    // Each route has its own bucket; a throttled route never reaches the authorizer.
    let ada = sign_up(&stack, "Ada", &email("ada")).await;
    let mut last = None;
    for _ in 0..5 {
        last = Some(stack.get("/me").key(&ada.key).send().await);
    }
    let last = last.unwrap();
    assert_eq!(last.status, 429, "{}", last.brief());
    assert!(last.authorizer_calls().is_empty() && last.dynamodb_calls().is_empty());
}
