//! Who may call what: every authenticated route of template.yaml against
//! every kind of credential, with the status each must get written out below
//! as the contract.
//!
//! The route acts on things owned by the *owner* (their post, comment, key,
//! notification, profile). *Other* is a second, valid user: the route's own
//! rules answer them (403 `forbidden` on someone else's post, 404 for what
//! is looked up under their own account, success where the route acts on the
//! caller's own account). The authorizer refuses everything else before the
//! route runs: no `Authorization` header is API Gateway's 401, a key it
//! denies is API Gateway's 403, and a valid key over its plan's rate limit is
//! the route's 429 `rate_limited`, before any DynamoDB call.

use crate::common::*;
use aws_sdk_dynamodb::types::AttributeValue;
use local::testing::Guarantee;
use serde_json::json;
use std::collections::BTreeSet;

/// The credentials a request can carry.
#[derive(Clone, Copy, Debug)]
enum Credential {
    /// No `Authorization` header.
    None,
    /// Not a Quire key at all.
    Malformed,
    /// Well-formed, but never issued.
    Unknown,
    /// The owner's key, revoked.
    Revoked,
    /// The owner's key, past its expiry (not yet removed by TTL).
    Expired,
    /// The owner's key, with all its plan's requests of this window made.
    Limited,
    /// Another user's valid key.
    Other,
    /// The owner's valid key.
    Owner,
}

const CREDENTIALS: [Credential; 8] = [
    Credential::None,
    Credential::Malformed,
    Credential::Unknown,
    Credential::Revoked,
    Credential::Expired,
    Credential::Limited,
    Credential::Other,
    Credential::Owner,
];

/// route key, then the status for each credential in the order of [`CREDENTIALS`].
#[rustfmt::skip]
const EXPECTED: &[(&str, [u16; 8])] = &[
    //                                             none malformed unknown revoked expired limited other owner
    ("GET /users/by-email",                         [401, 403,      403,    403,    403,    429,    200,  200]),
    ("GET /me",                                     [401, 403,      403,    403,    403,    429,    200,  200]),
    ("PATCH /me",                                   [401, 403,      403,    403,    403,    429,    200,  200]),
    // The owner is on pro and the body moves pro → free; other is on free: 409 plan_mismatch.
    ("PUT /me/plan",                                [401, 403,      403,    403,    403,    429,    409,  200]),
    // Each deletes their own account.
    ("DELETE /me",                                  [401, 403,      403,    403,    403,    429,    204,  204]),
    ("POST /me/api-keys",                           [401, 403,      403,    403,    403,    429,    201,  201]),
    ("GET /me/api-keys",                            [401, 403,      403,    403,    403,    429,    200,  200]),
    // A key id is looked up under the caller's account: another's is not found.
    ("DELETE /me/api-keys/{keyId}",                 [401, 403,      403,    403,    403,    429,    404,  204]),
    ("POST /posts",                                 [401, 403,      403,    403,    403,    429,    201,  201]),
    ("GET /me/drafts",                              [401, 403,      403,    403,    403,    429,    200,  200]),
    ("GET /me/posts/{postId}",                      [401, 403,      403,    403,    403,    429,    404,  200]),
    ("PATCH /posts/{postId}",                       [401, 403,      403,    403,    403,    429,    403,  200]),
    ("POST /posts/{postId}/publish",                [401, 403,      403,    403,    403,    429,    403,  200]),
    ("DELETE /posts/{postId}",                      [401, 403,      403,    403,    403,    429,    403,  204]),
    // Anyone may comment on a published post.
    ("POST /posts/{postId}/comments",               [401, 403,      403,    403,    403,    429,    201,  201]),
    // The owner wrote the comment on their own post.
    ("DELETE /posts/{postId}/comments/{commentId}", [401, 403,      403,    403,    403,    429,    403,  204]),
    // The path names the owner: other follows them; the owner may not follow themself (400).
    ("PUT /users/{userId}/follow",                  [401, 403,      403,    403,    403,    429,    204,  400]),
    ("DELETE /users/{userId}/follow",               [401, 403,      403,    403,    403,    429,    204,  400]),
    ("GET /me/notifications",                       [401, 403,      403,    403,    403,    429,    200,  200]),
    // A notification id is looked up under the caller's account.
    ("POST /me/notifications/{notificationId}/read",[401, 403,      403,    403,    403,    429,    404,  200]),
    // Anyone may like a published post (the owner their own), and stop.
    ("PUT /posts/{postId}/like",                    [401, 403,      403,    403,    403,    429,    204,  204]),
    ("DELETE /posts/{postId}/like",                 [401, 403,      403,    403,    403,    429,    204,  204]),
    ("GET /me/likes",                               [401, 403,      403,    403,    403,    429,    200,  200]),
    // The other user likes the world's post; the owner does not.
    ("GET /me/likes/{postId}",                      [401, 403,      403,    403,    403,    429,    200,  404]),
    ("GET /me/feed",                                [401, 403,      403,    403,    403,    429,    200,  200]),
];

/// Whether the owner's own call of an authenticated route succeeds (else
/// the other user's does: nobody may follow themself), as the table says.
pub fn succeeds_for_owner(route_key: &str) -> bool {
    let (_, statuses) =
        EXPECTED.iter().find(|(route, _)| *route == route_key).unwrap_or_else(|| panic!("{route_key} is not in the authorization table"));
    (200..300).contains(&statuses[CREDENTIALS.len() - 1])
}

/// A key of the owner's, revoked or moved past its expiry.
async fn spent_key(stack: &TestStack, world: &World, revoke: bool) -> String {
    let created = stack.post("/me/api-keys").key(&world.owner.key).json(json!({"expiresInDays": 1})).send().await;
    assert_eq!(created.status, 201, "{}", created.brief());
    let id = created.body["id"].as_str().unwrap();
    if revoke {
        let revoked = stack.delete(&format!("/me/api-keys/{id}")).key(&world.owner.key).send().await;
        assert_eq!(revoked.status, 204);
    } else {
        // As time would: its expiry in the past, before TTL gets to remove it.
        let past = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() - 60;
        let table = stack.table();
        table
            .client()
            .update_item()
            .table_name(table.name())
            .key("PK", AttributeValue::S(format!("USER#{}", world.owner.id)))
            .key("SK", AttributeValue::S(format!("APIKEY#{id}")))
            .update_expression("SET expiresAt = :past")
            .expression_attribute_values(":past", AttributeValue::N(past.to_string()))
            .send()
            .await
            .unwrap();
    }
    created.body["secret"].as_str().unwrap().to_string()
}

/// A key of the owner's that has made all its plan's requests this window:
/// its counts of this window and the next set to the limit, as that many
/// requests would (the test stack's limit is too high to reach by asking).
async fn limited_key(stack: &TestStack, world: &World) -> String {
    let created = stack.post("/me/api-keys").key(&world.owner.key).send().await;
    assert_eq!(created.status, 201, "{}", created.brief());
    let secret = created.body["secret"].as_str().unwrap().to_string();
    let key = shared::api_keys::KeyString::parse(&secret).unwrap();
    let limits = stack.table().rate_limits();
    let window = limits.window(shared::clock::now_ms());
    let next = limits.window(window.ends_at_ms);
    let limit = AttributeValue::N(limits.per_window(shared::Plan::Pro).to_string());
    let table = stack.table();
    table
        .client()
        .update_item()
        .table_name(table.name())
        .set_key(Some(shared::keys::api_key(key.user_id, key.key_id).to_attributes()))
        .update_expression("SET #now = :limit, #next = :limit")
        .expression_attribute_names("#now", window.counter())
        .expression_attribute_names("#next", next.counter())
        .expression_attribute_values(":limit", limit)
        .send()
        .await
        .unwrap();
    secret
}

/// Calls one route with every credential, on a world of its own (so the
/// destructive routes cannot disturb the others); the mismatches.
async fn check_route(stack: &TestStack, method: String, path: String, expected: [u16; 8]) -> Vec<String> {
    let world = World::build(stack).await;
    let route_key = format!("{method} {path}");
    let unknown = format!("quire_{}_{}_{}", ulid::Ulid::new(), ulid::Ulid::new(), "0".repeat(64));
    let revoked = spent_key(stack, &world, true).await;
    let expired = spent_key(stack, &world, false).await;
    let limited = limited_key(stack, &world).await;
    let target = format!("{}{}", world.path(&method, &path), world.query(&route_key));
    let body = valid_body(&route_key);
    let mut failures = Vec::new();
    // The owner goes last: their call may delete what the others aim at.
    for (credential, status) in CREDENTIALS.into_iter().zip(expected) {
        let key = match credential {
            Credential::None => None,
            Credential::Malformed => Some("not-a-quire-key"),
            Credential::Unknown => Some(unknown.as_str()),
            Credential::Revoked => Some(revoked.as_str()),
            Credential::Expired => Some(expired.as_str()),
            Credential::Limited => Some(limited.as_str()),
            Credential::Other => Some(world.other.key.as_str()),
            Credential::Owner => Some(world.owner.key.as_str()),
        };
        let mut request = stack.request(&method, &target);
        if let Some(key) = key {
            request = request.key(key);
        }
        if let Some(body) = body.clone() {
            request = request.json(body);
        }
        let reply = request.send().await;
        if reply.status != status {
            failures.push(format!("{route_key} with {credential:?}: {} (expected {status}): {}", reply.status, reply.brief()));
            continue;
        }
        let by_gateway = match status {
            401 => Some(json!({"message": "Unauthorized"})),
            403 if !matches!(credential, Credential::Other) => Some(json!({"message": "Forbidden"})),
            _ => None,
        };
        if status == 429 && (reply.body["error"]["code"] != "rate_limited" || !reply.dynamodb_calls().is_empty()) {
            failures.push(format!("{route_key} with {credential:?}: not a 429 before any DynamoDB call: {}", reply.brief()));
        }
        if let Some(answer) = by_gateway {
            if reply.body != answer || !reply.dynamodb_calls().is_empty() {
                failures.push(format!("{route_key} with {credential:?}: not API Gateway's refusal before the route: {}", reply.brief()));
            }
        } else if status >= 400 && reply.body["error"]["code"].as_str().is_none() {
            failures.push(format!("{route_key} with {credential:?}: no error code: {}", reply.brief()));
        }
    }
    failures
}

#[tokio::test]
async fn every_authenticated_route_answers_each_credential_as_the_table_says() {
    let stack = std::sync::Arc::new(TestStack::start().await);
    let authenticated: BTreeSet<String> =
        stack.template().routes().filter(|(r, _)| r.authorizer.is_some()).map(|(r, _)| format!("{} {}", r.method, r.path)).collect();
    let in_table: BTreeSet<String> = EXPECTED.iter().map(|(route, _)| route.to_string()).collect();
    assert_eq!(authenticated, in_table, "the table must list exactly the authenticated routes of template.yaml");

    // Routes side by side, each on a world of its own; one after another on
    // an engine whose cancelled transactions undo other requests' writes
    // (moto: a refused revocation would put back an expired key).
    let side_by_side = stack.offers(Guarantee::IsolatedTransactions);
    let mut tasks = tokio::task::JoinSet::new();
    let mut failures = Vec::new();
    for (route_key, expected) in EXPECTED {
        let (method, path) = route_key.split_once(' ').unwrap();
        let (stack, method, path) = (stack.clone(), method.to_string(), path.to_string());
        let check = async move { check_route(&stack, method, path, *expected).await };
        if side_by_side {
            tasks.spawn(check);
        } else {
            failures.extend(check.await);
        }
    }
    while let Some(result) = tasks.join_next().await {
        failures.extend(result.unwrap());
    }
    failures.sort();
    eprintln!(
        "authorization: {} routes × {} credentials = {} calls, {} wrong",
        EXPECTED.len(),
        CREDENTIALS.len(),
        EXPECTED.len() * CREDENTIALS.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn public_routes_ignore_credentials() {
    // A public route has no authorizer: whatever the header, it answers as
    // without one (API Gateway does not even look at it).
    let stack = TestStack::start().await;
    let world = World::build(&stack).await;
    let public: Vec<(String, String)> =
        stack.template().routes().filter(|(r, _)| r.authorizer.is_none()).map(|(r, _)| (r.method.clone(), r.path.clone())).collect();
    assert!(public.iter().any(|(m, p)| m == "GET" && p == "/health"));
    for (method, path) in public {
        let route_key = format!("{method} {path}");
        let target = format!("{}{}", world.path(&method, &path), world.query(&route_key));
        let statuses: Vec<u16> = {
            let mut statuses = Vec::new();
            for key in [None, Some("not-a-quire-key"), Some(world.other.key.as_str())] {
                let mut request = stack.request(&method, &target);
                if let Some(key) = key {
                    request = request.key(key);
                }
                if let Some(body) = valid_body(&route_key) {
                    request = request.json(body);
                }
                statuses.push(request.send().await.status);
            }
            statuses
        };
        assert!(statuses.iter().all(|s| (200..300).contains(s)), "{route_key}: {statuses:?}");
    }
}
