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

    check("GET /health", &get(&stack, "/health").await, 200);
    let signed = call(&stack, "POST", "/users", None, Some(json!({"name": "Ada", "email": "ada@example.com"})), &[]).await;
    check("POST /users", &signed, 201);
    let (id, key) = (signed.body["user"]["id"].as_str().unwrap().to_string(), signed.body["apiKey"]["secret"].as_str().unwrap().to_string());
    let key = Some(key.as_str());

    check("GET /users", &call(&stack, "GET", "/users", None, None, &[]).await, 200);
    check("GET /users/{userId}", &call(&stack, "GET", &format!("/users/{id}"), None, None, &[]).await, 200);
    check("GET /users/by-email", &call(&stack, "GET", "/users/by-email?email=ada%40example.com", key, None, &[]).await, 200);
    check("GET /me", &call(&stack, "GET", "/me", key, None, &[]).await, 200);
    check("PATCH /me", &call(&stack, "PATCH", "/me", key, Some(json!({"bio": "hi"})), &[("if-match", "\"1\"")]).await, 200);
    check("PUT /me/plan", &call(&stack, "PUT", "/me/plan", key, Some(json!({"from": "free", "to": "pro"})), &[]).await, 200);
    let created = call(&stack, "POST", "/me/api-keys", key, Some(json!({"name": "spare"})), &[]).await;
    check("POST /me/api-keys", &created, 201);
    check("GET /me/api-keys", &call(&stack, "GET", "/me/api-keys", key, None, &[]).await, 200);
    let spare = created.body["id"].as_str().unwrap();
    check("DELETE /me/api-keys/{keyId}", &call(&stack, "DELETE", &format!("/me/api-keys/{spare}"), key, None, &[]).await, 204);
    let bob = sign_up(&stack, "Bob", "bob@example.com").await;
    let bob_key = Some(bob.key.as_str());
    let draft = call(&stack, "POST", "/posts", key, Some(json!({"title": "T", "content": "C"})), &[]).await;
    check("POST /posts", &draft, 201);
    let post = draft.body["id"].as_str().unwrap().to_string();
    check("PATCH /posts/{postId}", &call(&stack, "PATCH", &format!("/posts/{post}"), key, Some(json!({"title": "T2"})), &[]).await, 200);
    check("GET /me/drafts", &call(&stack, "GET", "/me/drafts", key, None, &[]).await, 200);
    check("GET /me/posts/{postId}", &call(&stack, "GET", &format!("/me/posts/{post}"), key, None, &[]).await, 200);
    check("POST /posts/{postId}/publish", &call(&stack, "POST", &format!("/posts/{post}/publish"), key, None, &[]).await, 200);
    check("GET /posts/{postId}", &call(&stack, "GET", &format!("/posts/{post}"), None, None, &[]).await, 200);
    check("GET /users/{userId}/posts", &call(&stack, "GET", &format!("/users/{id}/posts"), None, None, &[]).await, 200);
    check("POST /posts/{postId}/views", &call(&stack, "POST", &format!("/posts/{post}/views"), None, None, &[]).await, 200);
    let comment = call(&stack, "POST", &format!("/posts/{post}/comments"), bob_key, Some(json!({"text": "Hi"})), &[]).await;
    check("POST /posts/{postId}/comments", &comment, 201);
    check("GET /posts/{postId}/comments", &call(&stack, "GET", &format!("/posts/{post}/comments"), None, None, &[]).await, 200);
    let comment_path = format!("/posts/{post}/comments/{}", comment.body["id"].as_str().unwrap());
    check("DELETE /posts/{postId}/comments/{commentId}", &call(&stack, "DELETE", &comment_path, bob_key, None, &[]).await, 204);
    let retry_key = [("idempotency-key", "access-patterns-1")];
    let again = call(&stack, "POST", &format!("/posts/{post}/comments"), bob_key, Some(json!({"text": "Hi"})), &retry_key).await;
    check("POST /posts/{postId}/comments with Idempotency-Key", &again, 201);
    let idempotent_draft = call(&stack, "POST", "/posts", key, Some(json!({"title": "T", "content": "C"})), &retry_key).await;
    check("POST /posts with Idempotency-Key", &idempotent_draft, 201);
    let cy = json!({"name": "Cy", "email": "cy@example.com"});
    check("POST /users with Idempotency-Key", &call(&stack, "POST", "/users", None, Some(cy), &retry_key).await, 201);
    check("PUT /users/{userId}/follow", &call(&stack, "PUT", &format!("/users/{id}/follow"), bob_key, None, &[]).await, 204);
    check("GET /users/{userId}/followers", &call(&stack, "GET", &format!("/users/{id}/followers"), None, None, &[]).await, 200);
    check("GET /users/{userId}/following", &call(&stack, "GET", &format!("/users/{}/following", bob.id), None, None, &[]).await, 200);
    check("DELETE /users/{userId}/follow", &call(&stack, "DELETE", &format!("/users/{id}/follow"), bob_key, None, &[]).await, 204);
    let notes = call(&stack, "GET", "/me/notifications?unread=true", key, None, &[]).await;
    check("GET /me/notifications", &notes, 200);
    let note = notes.body["items"][0]["id"].as_str().expect("the post_published notification").to_string();
    check(
        "POST /me/notifications/{notificationId}/read",
        &call(&stack, "POST", &format!("/me/notifications/{note}/read"), key, None, &[]).await,
        200,
    );
    check("DELETE /posts/{postId}", &call(&stack, "DELETE", &format!("/posts/{post}"), key, None, &[]).await, 204);
    check("DELETE /me", &call(&stack, "DELETE", "/me", key, None, &[]).await, 204);

    let listed: BTreeSet<String> = table.keys().cloned().collect();
    assert_eq!(checked, listed, "every row of the table was checked");
    let template_routes: BTreeSet<String> = stack.template().routes().map(|(r, _)| format!("{} {}", r.method, r.path)).collect();
    let route_rows: BTreeSet<String> = listed.into_iter().filter(|r| r != AUTHORIZER_ROW && !r.contains(" with ")).collect();
    assert_eq!(route_rows, template_routes, "the table lists exactly the template's routes");
}
