//! API keys and the authorizer over real HTTP: create, list, use, revoke,
//! quotas, expiry, and what API Gateway answers for bad credentials.

use crate::common::*;
use aws_sdk_dynamodb::types::AttributeValue;
use local::testing::Guarantee;
use serde_json::json;

async fn create_key(stack: &TestStack, key: &str, body: serde_json::Value) -> Reply {
    stack.post("/me/api-keys").key(key).json(body).send().await
}

#[tokio::test]
async fn sign_up_key_use_revoke_refused() {
    let stack = TestStack::start().await;
    let ada = sign_up(&stack, "Ada", &email("ada")).await;

    let second = create_key(&stack, &ada.key, json!({"name": "laptop"})).await;
    assert_eq!(second.status, 201, "{}", second.body);
    assert_eq!(second.dynamodb_calls(), ["TransactWriteItems"]);
    let second_key = second.body["secret"].as_str().unwrap().to_string();
    assert_eq!(second.body["lastFour"].as_str().unwrap(), &second_key[second_key.len() - 4..]);

    assert_eq!(stack.get("/me").key(&second_key).send().await.status, 200);
    let first_id = {
        let list = stack.get("/me/api-keys").key(&second_key).send().await;
        assert_eq!(list.status, 200);
        assert_eq!(list.dynamodb_calls(), ["Query"]);
        let items = list.body["items"].as_array().unwrap();
        assert_eq!(items.len(), 2);
        let text = list.body.to_string();
        assert!(!text.contains(&ada.key) && !text.contains(&second_key) && !text.contains("secretHash"), "{text}");
        items.iter().find(|k| k["name"] == "default").unwrap()["id"].as_str().unwrap().to_string()
    };

    let revoke = stack.delete(&format!("/me/api-keys/{first_id}")).key(&second_key).send().await;
    assert_eq!(revoke.status, 204, "{}", revoke.body);
    assert_eq!(revoke.dynamodb_calls(), ["TransactWriteItems"]);

    let refused = stack.get("/me").key(&ada.key).send().await;
    assert_eq!(refused.status, 403);
    assert_eq!(refused.body, json!({"message": "Forbidden"}), "API Gateway's own answer to a denial");
    assert!(refused.dynamodb_calls().is_empty(), "the route never ran");

    let again = stack.delete(&format!("/me/api-keys/{first_id}")).key(&second_key).send().await;
    assert_eq!(again.status, 204, "revoking is idempotent");
    let list = stack.get("/me/api-keys").key(&second_key).send().await;
    let revoked = list.body["items"].as_array().unwrap().iter().find(|k| k["id"] == first_id.as_str()).unwrap().clone();
    assert_eq!(revoked["active"], false);
    assert!(revoked["revokedAt"].is_string() && revoked["expiresAt"].is_string(), "{revoked}");
    let me = stack.get("/me").key(&second_key).send().await;
    assert_eq!(me.body["activeKeyCount"], 1, "revoking twice freed one place");
}

#[tokio::test]
async fn free_allows_two_active_keys_and_pro_ten() {
    let stack = TestStack::start().await;
    let ada = sign_up(&stack, "Ada", &email("ada")).await;
    let second = create_key(&stack, &ada.key, json!({})).await;
    assert_eq!(second.status, 201);
    let over = create_key(&stack, &ada.key, json!({})).await;
    over.assert_error(403, "plan_limit_reached");
    assert!(over.body["error"]["message"].as_str().unwrap().contains('2'));

    let second_id = second.body["id"].as_str().unwrap();
    assert_eq!(stack.delete(&format!("/me/api-keys/{second_id}")).key(&ada.key).send().await.status, 204);
    assert_eq!(create_key(&stack, &ada.key, json!({})).await.status, 201, "a revoked key frees its place");

    let upgrade = stack.put("/me/plan").key(&ada.key).json(json!({"from": "free", "to": "pro"})).send().await;
    assert_eq!(upgrade.status, 200);
    for n in 3..=10 {
        let reply = create_key(&stack, &ada.key, json!({"name": format!("key {n}")})).await;
        assert_eq!(reply.status, 201, "key {n}: {}", reply.body);
    }
    create_key(&stack, &ada.key, json!({})).await.assert_error(403, "plan_limit_reached");
    // An empty body is allowed: both fields are optional.
    let empty = stack.post("/me/api-keys").key(&ada.key).send().await;
    empty.assert_error(403, "plan_limit_reached");
}

#[tokio::test]
async fn concurrent_key_creation_cannot_overshoot_the_quota() {
    let Some(stack) = TestStack::requiring(Guarantee::IsolatedTransactions, "concurrent_key_creation_cannot_overshoot_the_quota").await else {
        return;
    };
    let ada = sign_up(&stack, "Ada", &email("ada")).await;
    let statuses = race(8, |_| stack.post("/me/api-keys").key(&ada.key).json(json!({}))).await;
    assert_eq!((count(&statuses, 201), count(&statuses, 403)), (1, 7), "{statuses:?}");
    let list = stack.get("/me/api-keys").key(&ada.key).send().await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn bad_credentials_get_api_gateway_answers_at_the_least_cost() {
    let stack = TestStack::start().await;
    let ada = sign_up(&stack, "Ada", &email("ada")).await;

    let none = stack.get("/me").send().await;
    assert_eq!((none.status, none.body.clone()), (401, json!({"message": "Unauthorized"})));
    assert!(none.authorizer_calls().is_empty(), "no header: the authorizer is not invoked");

    let malformed = stack.get("/me").key("not-a-key").send().await;
    assert_eq!(malformed.status, 403);
    assert!(malformed.authorizer_calls().is_empty(), "a malformed key costs no DynamoDB call");
    let basic = stack.get("/me").header("authorization", "Basic YWRhOnB3").send().await;
    assert_eq!(basic.status, 403);

    // Right ids, wrong secret: one call, refused, and not counted as a use.
    let (prefix, _) = ada.key.rsplit_once('_').unwrap();
    let forged = format!("{prefix}_{}", "0".repeat(64));
    let wrong = stack.get("/me").key(&forged).send().await;
    assert_eq!(wrong.status, 403);
    assert_eq!(wrong.authorizer_calls(), ["UpdateItem"]);

    let unknown = format!("quire_{}_{}_{}", ulid::Ulid::new(), ulid::Ulid::new(), "a".repeat(64));
    assert_eq!(stack.get("/me").key(&unknown).send().await.status, 403);

    for _ in 0..3 {
        assert_eq!(stack.get("/me").key(&ada.key).send().await.status, 200);
    }
    let list = stack.get("/me/api-keys").key(&ada.key).send().await;
    assert_eq!(list.body["items"][0]["usageCount"], 4, "3 calls + this listing; the forged attempt is not counted");
    assert!(list.body["items"][0]["lastUsedAt"].is_string());
}

#[tokio::test]
async fn an_expired_key_is_refused_even_before_ttl_removes_it() {
    let stack = TestStack::start().await;
    let ada = sign_up(&stack, "Ada", &email("ada")).await;
    let short = create_key(&stack, &ada.key, json!({"name": "short", "expiresInDays": 1})).await;
    assert_eq!(short.status, 201);
    assert!(short.body["expiresAt"].is_string());
    let short_key = short.body["secret"].as_str().unwrap().to_string();
    assert_eq!(stack.get("/me").key(&short_key).send().await.status, 200);

    // Move its expiry into the past, as time would.
    let key_id = short.body["id"].as_str().unwrap();
    let table = stack.table();
    let past = (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() - 60).to_string();
    table
        .client()
        .update_item()
        .table_name(table.name())
        .key("PK", AttributeValue::S(format!("USER#{}", ada.id)))
        .key("SK", AttributeValue::S(format!("APIKEY#{key_id}")))
        .update_expression("SET expiresAt = :past")
        .expression_attribute_values(":past", AttributeValue::N(past))
        .send()
        .await
        .unwrap();
    assert_eq!(stack.get("/me").key(&short_key).send().await.status, 403);
}

#[tokio::test]
async fn no_stored_item_holds_a_secret() {
    let stack = TestStack::start().await;
    let ada = sign_up(&stack, "Ada", &email("ada")).await;
    let second = create_key(&stack, &ada.key, json!({})).await.body["secret"].as_str().unwrap().to_string();
    let table = stack.table();
    // A Scan is fine here: this is a test looking at everything stored.
    let items = table.client().scan().table_name(table.name()).send().await.unwrap().items.unwrap_or_default();
    assert!(items.len() >= 4, "profile, email guard and two keys");
    let dump = format!("{items:?}");
    for key in [&ada.key, &second] {
        let secret = key.rsplit('_').next().unwrap();
        assert!(!dump.contains(secret), "a secret is stored in plain text");
    }
}

#[tokio::test]
async fn key_requests_are_checked() {
    let stack = TestStack::start().await;
    let ada = sign_up(&stack, "Ada", &email("ada")).await;
    let bob = sign_up(&stack, "Bob", &email("bob")).await;
    for (body, code) in [
        (json!({"expiresInDays": 0}), "invalid_field"),
        (json!({"expiresInDays": 366}), "invalid_field"),
        (json!({"expiresInDays": -1}), "invalid_json"),
        (json!({"expiresInDays": "soon"}), "invalid_json"),
        (json!({"name": "x".repeat(101)}), "invalid_field"),
        (json!({"owner": "someone"}), "unknown_field"),
    ] {
        create_key(&stack, &ada.key, body.clone()).await.assert_error(400, code);
    }
    stack.delete("/me/api-keys/nope").key(&ada.key).send().await.assert_error(400, "invalid_id");
    // Bob's key id, under Ada's account: not hers to revoke.
    let bobs = stack.get("/me/api-keys").key(&bob.key).send().await.body["items"][0]["id"].as_str().unwrap().to_string();
    stack.delete(&format!("/me/api-keys/{bobs}")).key(&ada.key).send().await.assert_error(404, "not_found");
    assert_eq!(stack.get("/me").key(&bob.key).send().await.status, 200, "Bob's key still works");
}
