//! Accounts over real HTTP: sign-up, profiles, optimistic locking, plans,
//! deletion, and the races that must leave exactly one winner.

use crate::common::*;
use local::testing::Guarantee;
use serde_json::json;

#[tokio::test]
async fn sign_up_returns_a_public_profile_and_a_working_key() {
    let stack = TestStack::start().await;
    let reply = stack.post("/users").json(json!({"name": "  Ada  ", "email": " Ada@Example.com "})).send().await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(reply.dynamodb_calls(), ["TransactWriteItems"]);
    let user = &reply.body["user"];
    assert_eq!(user["name"], "Ada");
    assert!(user.get("email").is_none(), "the sign-up answer shows the public profile");
    assert_eq!(user["followerCount"], 0);
    let key = reply.body["apiKey"]["secret"].as_str().unwrap();
    assert!(key.starts_with("quire_"));

    let me = stack.get("/me").key(key).send().await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.body["email"], "ada@example.com", "stored normalised");
    assert_eq!(me.body["plan"], "free");
    assert_eq!(me.body["version"], 1);
    assert_eq!(me.body["activeKeyCount"], 1);
    assert!(me.headers["etag"].to_str().unwrap().starts_with("\"1."), "the version, then a digest of the body");
    assert_eq!(me.dynamodb_calls(), ["GetItem"]);
    assert_eq!(me.authorizer_calls(), ["UpdateItem"]);
}

#[tokio::test]
async fn emails_are_unique_ignoring_case_and_spaces() {
    let stack = TestStack::start().await;
    sign_up(&stack, "Ada", "ada@example.com").await;
    for taken in ["ada@example.com", "ADA@example.COM", "  ada@example.com\t"] {
        let reply = stack.post("/users").json(json!({"name": "Imposter", "email": taken})).send().await;
        reply.assert_error(409, "email_taken");
    }
}

#[tokio::test]
async fn twenty_concurrent_sign_ups_with_one_email_make_one_account() {
    let Some(stack) = TestStack::requiring(Guarantee::IsolatedTransactions, "twenty_concurrent_sign_ups_with_one_email_make_one_account").await
    else {
        return;
    };
    let statuses = race(20, |n| stack.post("/users").json(json!({"name": format!("Racer {n}"), "email": "race@example.com"}))).await;
    assert_eq!((count(&statuses, 201), count(&statuses, 409)), (1, 19), "{statuses:?}");
}

#[tokio::test]
async fn public_profiles_never_show_the_email() {
    let stack = TestStack::start().await;
    let ada = sign_up(&stack, "Ada", &email("ada")).await;
    let reply = stack.get(&format!("/users/{}", ada.id)).send().await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body["name"], "Ada");
    assert!(!reply.body.to_string().contains(&ada.email) && reply.body.get("email").is_none());
    assert_eq!(reply.dynamodb_calls(), ["GetItem"]);

    let lower = stack.get(&format!("/users/{}", ada.id.to_lowercase())).send().await;
    assert_eq!(lower.status, 200, "ids are case-insensitive");
    let missing = stack.get(&format!("/users/{}", ulid::Ulid::new())).send().await;
    missing.assert_error(404, "not_found");
    let bad = stack.get("/users/USER%23123").send().await;
    bad.assert_error(400, "invalid_id");
    assert!(bad.dynamodb_calls().is_empty(), "refused before any DynamoDB call");
}

#[tokio::test]
async fn users_are_listed_newest_first_one_query_per_shard_per_page() {
    let stack = TestStack::start().await;
    let mut ids = Vec::new();
    for n in 0..25 {
        ids.push(sign_up(&stack, &format!("User {n}"), &email("list")).await.id);
    }
    ids.reverse();
    let mut seen = Vec::new();
    let mut path = "/users?limit=10".to_string();
    let shards = shared::keys::USER_SHARDS as usize;
    loop {
        let reply = stack.get(&path).send().await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        // One Query per shard on the first page; later pages skip the shards already read to their end.
        let calls = reply.dynamodb_calls();
        assert!(calls.iter().all(|c| c == "Query") && (1..=shards).contains(&calls.len()), "{calls:?}");
        if seen.is_empty() {
            assert_eq!(calls.len(), shards);
        }
        for user in reply.body["items"].as_array().unwrap() {
            assert!(user.get("email").is_none());
            seen.push(user["id"].as_str().unwrap().to_string());
        }
        match reply.body["nextCursor"].as_str() {
            Some(cursor) => path = format!("/users?limit=10&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, ids);
    stack.get("/users?limit=0").send().await.assert_error(400, "invalid_limit");
    stack.get("/users?cursor=forged").send().await.assert_error(400, "invalid_cursor");
}

#[tokio::test]
async fn by_email_finds_a_user_with_one_query_and_needs_a_key() {
    let stack = TestStack::start().await;
    let ada = sign_up(&stack, "Ada", &email("ada")).await;
    let bob = sign_up(&stack, "Bob", &email("bob")).await;
    let path = format!("/users/by-email?email={}", ada.email.to_uppercase().replace('@', "%40"));
    let reply = stack.get(&path).key(&bob.key).send().await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["id"], ada.id.as_str());
    assert!(reply.body.get("email").is_none());
    assert_eq!(reply.dynamodb_calls(), ["Query"]);

    let unknown = stack.get("/users/by-email?email=nobody%40example.com").key(&bob.key).send().await;
    unknown.assert_error(404, "not_found");
    let invalid = stack.get("/users/by-email?email=nope").key(&bob.key).send().await;
    invalid.assert_error(400, "invalid_field");
    let missing = stack.get("/users/by-email").key(&bob.key).send().await;
    missing.assert_error(400, "invalid_request");
    let anonymous = stack.get(&path).send().await;
    assert_eq!(anonymous.status, 401);
}

#[tokio::test]
async fn if_match_guards_profile_edits() {
    let stack = TestStack::start().await;
    let ada = sign_up(&stack, "Ada", &email("ada")).await;
    let edit = |body: serde_json::Value, if_match: Option<&str>| {
        let request = stack.patch("/me").key(&ada.key).json(body);
        match if_match {
            Some(version) => request.header("if-match", version),
            None => request,
        }
        .send()
    };
    let first = edit(json!({"bio": "Poet of science"}), Some("\"1\"")).await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.body["version"], 2);
    assert_eq!(first.body["bio"], "Poet of science");
    assert_eq!(first.headers["etag"], "\"2\"");
    assert_eq!(first.dynamodb_calls(), ["UpdateItem"]);

    let stale = edit(json!({"name": "Countess"}), Some("\"1\"")).await;
    stale.assert_error(412, "version_mismatch");
    let me = stack.get("/me").key(&ada.key).send().await;
    assert_eq!((me.body["name"].as_str(), me.body["version"].as_u64()), (Some("Ada"), Some(2)), "the stale edit changed nothing");

    let unconditional = edit(json!({"name": "Countess"}), None).await;
    assert_eq!((unconditional.status, unconditional.body["version"].as_u64()), (200, Some(3)));
    edit(json!({"name": "X"}), Some("abc")).await.assert_error(400, "invalid_if_match");
    edit(json!({}), None).await.assert_error(400, "invalid_request");
    edit(json!({"name": ""}), None).await.assert_error(400, "invalid_field");
    edit(json!({"bio": "x".repeat(501)}), None).await.assert_error(400, "invalid_field");
    edit(json!({"email": "new@example.com"}), None).await.assert_error(400, "unknown_field");
}

#[tokio::test]
async fn concurrent_if_match_edits_have_one_winner() {
    let Some(stack) = TestStack::requiring(local::testing::Guarantee::AtomicConditionalWrites, "concurrent_if_match_edits_have_one_winner").await
    else {
        return;
    };
    let ada = sign_up(&stack, "Ada", &email("ada")).await;
    let statuses = race(10, |n| stack.patch("/me").key(&ada.key).header("if-match", "\"1\"").json(json!({"bio": format!("edit {n}")}))).await;
    assert_eq!((count(&statuses, 200), count(&statuses, 412)), (1, 9), "{statuses:?}");
}

#[tokio::test]
async fn ten_concurrent_plan_changes_have_one_winner() {
    let Some(stack) = TestStack::requiring(local::testing::Guarantee::AtomicConditionalWrites, "ten_concurrent_plan_changes_have_one_winner").await
    else {
        return;
    };
    let ada = sign_up(&stack, "Ada", &email("ada")).await;
    let statuses = race(10, |_| stack.put("/me/plan").key(&ada.key).json(json!({"from": "free", "to": "pro"}))).await;
    assert_eq!((count(&statuses, 200), count(&statuses, 409)), (1, 9), "{statuses:?}");
    let me = stack.get("/me").key(&ada.key).send().await;
    assert_eq!(me.body["plan"], "pro");
    assert_eq!(me.body["version"], 2, "exactly one change was applied");
}

#[tokio::test]
async fn plan_changes_are_conditional_and_validated() {
    let stack = TestStack::start().await;
    let ada = sign_up(&stack, "Ada", &email("ada")).await;
    let change = |body: serde_json::Value| stack.put("/me/plan").key(&ada.key).json(body).send();
    let wrong_from = change(json!({"from": "pro", "to": "free"})).await;
    wrong_from.assert_error(409, "plan_mismatch");
    assert!(wrong_from.body["error"]["message"].as_str().unwrap().contains("free"));
    change(json!({"from": "free", "to": "gold"})).await.assert_error(400, "invalid_json");
    change(json!({"to": "pro"})).await.assert_error(400, "invalid_json");
    let ok = change(json!({"from": "free", "to": "pro"})).await;
    assert_eq!((ok.status, ok.body["plan"].as_str()), (200, Some("pro")));
    assert_eq!(ok.dynamodb_calls(), ["UpdateItem"]);
}

#[tokio::test]
async fn deleting_the_account_frees_the_email() {
    let stack = TestStack::start().await;
    let ada = sign_up(&stack, "Ada", &email("ada")).await;
    let reply = stack.delete("/me").key(&ada.key).send().await;
    assert_eq!(reply.status, 204, "{}", reply.body);
    assert_eq!(reply.dynamodb_calls(), ["GetItem", "TransactWriteItems"]);
    stack.get(&format!("/users/{}", ada.id)).send().await.assert_error(404, "not_found");
    // Until the stream processor removes the keys, a key may still pass the
    // authorizer; the account itself is gone.
    stack.get("/me").key(&ada.key).send().await.assert_error(404, "not_found");
    stack.patch("/me").key(&ada.key).json(json!({"bio": "x"})).send().await.assert_error(404, "not_found");
    let again = stack.post("/users").json(json!({"name": "Ada II", "email": ada.email})).send().await;
    assert_eq!(again.status, 201, "the email is free again: {}", again.body);
}

#[tokio::test]
async fn sign_up_input_is_checked() {
    let stack = TestStack::start().await;
    let cases = [
        (json!({"name": "Ada"}), "invalid_json"),
        (json!({"email": "a@example.com"}), "invalid_json"),
        (json!({"name": "", "email": "a@example.com"}), "invalid_field"),
        (json!({"name": "x".repeat(101), "email": "a@example.com"}), "invalid_field"),
        (json!({"name": "Ada", "email": "not-an-email"}), "invalid_field"),
        (json!({"name": "Ada", "email": "a@example.com", "plan": "pro"}), "unknown_field"),
        (json!({"name": 7, "email": "a@example.com"}), "invalid_json"),
        (json!(["Ada", "a@example.com"]), "invalid_json"),
    ];
    for (body, code) in cases {
        let reply = stack.post("/users").json(body.clone()).send().await;
        reply.assert_error(400, code);
        assert!(reply.dynamodb_calls().is_empty(), "{body}");
    }
    let raw = |content_type: &'static str, body: &'static str| {
        let url = format!("{}/users", stack.url());
        async move { reqwest::Client::new().post(url).header("content-type", content_type).body(body).send().await.unwrap() }
    };
    assert_eq!(raw("text/plain", r#"{"name":"a","email":"a@example.com"}"#).await.status(), 415);
    assert_eq!(raw("application/json", "{not json").await.status(), 400);
    assert_eq!(raw("application/json", "").await.status(), 400);
}
