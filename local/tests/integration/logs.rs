//! Logs never hold a secret or personal data: a whole flow (sign-ups, keys,
//! authorized calls, refused credentials, errors, the stream processor's
//! cascades) runs while everything the stack and the functions log is
//! captured, and no API key, `Authorization` value or email may appear.

use crate::common::*;
use local::testing::Logs;
use serde_json::json;

#[tokio::test]
async fn no_secret_header_or_email_reaches_the_logs() {
    let logs = Logs::capture();
    let stack = TestStack::start().await;
    let (ada_email, bob_email) = (email("Ada.Lovelace"), email("bob"));
    let ada = sign_up(&stack, "Ada", &ada_email).await;
    let bob = sign_up(&stack, "Bob", &bob_email).await;
    let ada_key = ada.key.as_str();
    let laptop = stack.post("/me/api-keys").key(ada_key).json(json!({"name": "laptop"})).send().await;
    let laptop_key = laptop.body["secret"].as_str().unwrap().to_string();
    let laptop_id = laptop.body["id"].as_str().unwrap().to_string();

    // Authorized calls, some reading or naming an email.
    assert_eq!(stack.get("/me").key(&laptop_key).send().await.status, 200);
    assert_eq!(stack.patch("/me").key(ada_key).json(json!({"bio": "Analyst."})).send().await.status, 200);
    let by_email = format!("/users/by-email?email={}", bob_email.to_uppercase());
    assert_eq!(stack.get(&by_email).key(ada_key).send().await.status, 200);
    let post = publish_new_post(&stack, &ada.key).await;
    assert_eq!(stack.put(&format!("/users/{}/follow", ada.id)).key(&bob.key).send().await.status, 204);
    let comment = stack.post(&format!("/posts/{post}/comments")).key(&bob.key).json(json!({"text": "Mail me at bob@example.org"})).send().await;
    assert_eq!(comment.status, 201);

    // Refused credentials: a near miss of a real key (a typo in its id), a
    // wrong secret, a revoked key, a header that is itself an email.
    let (_, secret) = ada.key.rsplit_once('_').unwrap();
    let typo = format!("quire_{}_{}_{secret}", ada.id, ulid::Ulid::new());
    let wrong_secret = format!("{}_{}", laptop_key.rsplit_once('_').unwrap().0, "0".repeat(64));
    assert_eq!(stack.delete(&format!("/me/api-keys/{laptop_id}")).key(ada_key).send().await.status, 204);
    for key in [typo.as_str(), wrong_secret.as_str(), laptop_key.as_str(), ada_email.as_str()] {
        assert_eq!(stack.get("/me").key(key).send().await.status, 403);
    }
    let basic = stack.get("/me").header("authorization", "Basic YWRhOnNlY3JldA==").send().await;
    assert_eq!(basic.status, 403);

    // A key or an email where an id belongs, or on no route at all.
    for path in [format!("/users/{ada_email}"), format!("/me/api-keys/{}", ada.key), format!("/nope/{}", ada.key), format!("/users/{secret}/posts")] {
        let reply = stack.get(&path).send().await;
        assert!(matches!(reply.status, 400 | 401 | 404), "{path}: {}", reply.status);
    }

    // Errors that concern an email, and a few others.
    let taken = stack.post("/users").json(json!({"name": "Ada II", "email": ada_email.to_uppercase()})).send().await;
    taken.assert_error(409, "email_taken");
    let bad = stack.post("/users").json(json!({"name": "X", "email": "ada@@example.com"})).send().await;
    bad.assert_error(400, "invalid_field");
    let typo_field = stack.post("/users").json(json!({"name": "X", "emial": "carol@example.com"})).send().await;
    typo_field.assert_error(400, "unknown_field");
    stack.get("/users/by-email?email=nobody%40example.com").key(ada_key).send().await.assert_error(404, "not_found");
    stack.put("/me/plan").key(ada_key).json(json!({"from": "pro", "to": "free"})).send().await.assert_error(409, "plan_mismatch");

    // Bob leaves: the stream processor cascades over his keys and follows.
    assert_eq!(stack.delete("/me").key(&bob.key).send().await.status, 204);
    stack.settle().await;

    let text = logs.text();
    assert!(text.contains("quire::request") && text.contains("denied") && text.contains("request refused"), "the flow was logged:\n{text}");
    let mut forbidden: Vec<(&str, String)> =
        vec![("Bearer", "Bearer".into()), ("bearer", "bearer".into()), ("Basic credentials", "YWRhOnNlY3JldA".into())];
    for key in [&ada.key, &bob.key, &laptop_key, &typo, &wrong_secret] {
        forbidden.push(("an API key", key.clone()));
        forbidden.push(("a key's secret", key.rsplit_once('_').unwrap().1.to_string()));
    }
    for address in [&ada_email, &bob_email] {
        forbidden.push(("an email", address.clone()));
        forbidden.push(("an email", address.to_lowercase()));
    }
    // Any address at all, whatever its case.
    forbidden.push(("an email domain", "@example.".into()));
    let lower = text.to_lowercase();
    for (what, needle) in &forbidden {
        let found = if needle.starts_with('@') { lower.contains(needle.as_str()) } else { text.contains(needle.as_str()) };
        let line = text.lines().find(|l| l.to_lowercase().contains(&needle.to_lowercase())).unwrap_or_default();
        assert!(!found, "{what} is in the logs: {line}");
    }
    eprintln!("logs: {} lines checked for {} forbidden strings", text.lines().count(), forbidden.len());
}
