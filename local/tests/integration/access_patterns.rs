//! The README's access-pattern table is the contract: this test reads it and
//! checks that each route makes exactly the DynamoDB calls it lists, in
//! order, and that the table covers every route of template.yaml.

use crate::common::*;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};

const AUTHORIZER_ROW: &str = "authorizer";

/// Route (or `authorizer`) → the operations its row lists.
fn readme_table() -> BTreeMap<String, Vec<String>> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let section = readme.split("### Access patterns").nth(1).expect("README has an access-pattern section");
    let section = section.split("\n#").next().unwrap();
    let mut rows = BTreeMap::new();
    for line in section.lines().filter(|l| l.starts_with("| `") || l.starts_with("| authorizer")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // A route, or a route's variant such as "POST /posts with Idempotency-Key".
        let route = if cells[1].starts_with(AUTHORIZER_ROW) { AUTHORIZER_ROW.to_string() } else { cells[1].replace('`', "") };
        let calls = if cells[2] == "none" { Vec::new() } else { cells[2].split(',').map(|c| c.trim().trim_matches('`').to_string()).collect() };
        rows.insert(route, calls);
    }
    rows
}

#[tokio::test]
async fn every_route_makes_exactly_the_calls_the_readme_lists() {
    let table = readme_table();
    let stack = TestStack::start().await;
    let authenticated: BTreeSet<String> =
        stack.template().routes().filter(|(r, _)| r.authorizer.is_some()).map(|(r, _)| format!("{} {}", r.method, r.path)).collect();
    let mut checked = BTreeSet::new();
    let mut check = |route: &str, reply: &Reply, status: u16| {
        assert_eq!(reply.status, status, "{route}: {}", reply.body);
        let expected = table.get(route).unwrap_or_else(|| panic!("{route} is missing from the README's access-pattern table"));
        assert_eq!(&reply.dynamodb_calls(), expected, "{route}");
        if authenticated.contains(route) {
            assert_eq!(&reply.authorizer_calls(), &table[AUTHORIZER_ROW], "authorizer on {route}");
            checked.insert(AUTHORIZER_ROW.to_string());
        }
        checked.insert(route.to_string());
    };

    check("GET /health", &stack.get("/health").send().await, 200);
    let signed = stack.post("/users").json(json!({"name": "Ada", "email": "ada@example.com"})).send().await;
    check("POST /users", &signed, 201);
    let (id, key) = (signed.body["user"]["id"].as_str().unwrap().to_string(), signed.body["apiKey"]["secret"].as_str().unwrap().to_string());
    let key = key.as_str();

    check("GET /users", &stack.get("/users").send().await, 200);
    check("GET /users/{userId}", &stack.get(&format!("/users/{id}")).send().await, 200);
    check("GET /users/by-email", &stack.get("/users/by-email?email=ada%40example.com").key(key).send().await, 200);
    check("GET /me", &stack.get("/me").key(key).send().await, 200);
    check("PATCH /me", &stack.patch("/me").key(key).json(json!({"bio": "hi"})).header("if-match", "\"1\"").send().await, 200);
    check("PUT /me/plan", &stack.put("/me/plan").key(key).json(json!({"from": "free", "to": "pro"})).send().await, 200);
    let created = stack.post("/me/api-keys").key(key).json(json!({"name": "spare"})).send().await;
    check("POST /me/api-keys", &created, 201);
    check("GET /me/api-keys", &stack.get("/me/api-keys").key(key).send().await, 200);
    let spare = created.body["id"].as_str().unwrap();
    check("DELETE /me/api-keys/{keyId}", &stack.delete(&format!("/me/api-keys/{spare}")).key(key).send().await, 204);
    let bob = sign_up(&stack, "Bob", "bob@example.com").await;
    let bob_key = bob.key.as_str();
    let draft = stack.post("/posts").key(key).json(json!({"title": "T", "content": "C"})).send().await;
    check("POST /posts", &draft, 201);
    let post = draft.body["id"].as_str().unwrap().to_string();
    check("PATCH /posts/{postId}", &stack.patch(&format!("/posts/{post}")).key(key).json(json!({"title": "T2"})).send().await, 200);
    check("GET /me/drafts", &stack.get("/me/drafts").key(key).send().await, 200);
    check("GET /me/posts/{postId}", &stack.get(&format!("/me/posts/{post}")).key(key).send().await, 200);
    check("POST /posts/{postId}/publish", &stack.post(&format!("/posts/{post}/publish")).key(key).send().await, 200);
    check("GET /posts/{postId}", &stack.get(&format!("/posts/{post}")).send().await, 200);
    check("GET /users/{userId}/posts", &stack.get(&format!("/users/{id}/posts")).send().await, 200);
    check("POST /posts/{postId}/views", &stack.post(&format!("/posts/{post}/views")).send().await, 200);
    let comment = stack.post(&format!("/posts/{post}/comments")).key(bob_key).json(json!({"text": "Hi"})).send().await;
    check("POST /posts/{postId}/comments", &comment, 201);
    check("GET /posts/{postId}/comments", &stack.get(&format!("/posts/{post}/comments")).send().await, 200);
    let comment_path = format!("/posts/{post}/comments/{}", comment.body["id"].as_str().unwrap());
    check("DELETE /posts/{postId}/comments/{commentId}", &stack.delete(&comment_path).key(bob_key).send().await, 204);
    let retry_key = ("idempotency-key", "access-patterns-1");
    let again = stack.post(&format!("/posts/{post}/comments")).key(bob_key).json(json!({"text": "Hi"})).header(retry_key.0, retry_key.1).send().await;
    check("POST /posts/{postId}/comments with Idempotency-Key", &again, 201);
    let idempotent_draft = stack.post("/posts").key(key).json(json!({"title": "T", "content": "C"})).header(retry_key.0, retry_key.1).send().await;
    check("POST /posts with Idempotency-Key", &idempotent_draft, 201);
    let cy = json!({"name": "Cy", "email": "cy@example.com"});
    check("POST /users with Idempotency-Key", &stack.post("/users").json(cy).header(retry_key.0, retry_key.1).send().await, 201);
    check("PUT /users/{userId}/follow", &stack.put(&format!("/users/{id}/follow")).key(bob_key).send().await, 204);
    check("GET /users/{userId}/followers", &stack.get(&format!("/users/{id}/followers")).send().await, 200);
    check("GET /users/{userId}/following", &stack.get(&format!("/users/{}/following", bob.id)).send().await, 200);
    check("DELETE /users/{userId}/follow", &stack.delete(&format!("/users/{id}/follow")).key(bob_key).send().await, 204);
    let notes = stack.get("/me/notifications?unread=true").key(key).send().await;
    check("GET /me/notifications", &notes, 200);
    let note = notes.body["items"][0]["id"].as_str().expect("the post_published notification").to_string();
    check("POST /me/notifications/{notificationId}/read", &stack.post(&format!("/me/notifications/{note}/read")).key(key).send().await, 200);
    check("DELETE /posts/{postId}", &stack.delete(&format!("/posts/{post}")).key(key).send().await, 204);
    check("DELETE /me", &stack.delete("/me").key(key).send().await, 204);

    let listed: BTreeSet<String> = table.keys().cloned().collect();
    assert_eq!(checked, listed, "every row of the table was checked");
    let template_routes: BTreeSet<String> = stack.template().routes().map(|(r, _)| format!("{} {}", r.method, r.path)).collect();
    let route_rows: BTreeSet<String> = listed.into_iter().filter(|r| r != AUTHORIZER_ROW && !r.contains(" with ")).collect();
    assert_eq!(route_rows, template_routes, "the table lists exactly the template's routes");
}
