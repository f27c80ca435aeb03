//! HTTP caching of reads: every GET of the template answers `Cache-Control`
//! and an `ETag`, public ones cacheable by anyone and authenticated ones
//! private; `If-None-Match` with the current tag is a bodiless 304 for the
//! same DynamoDB calls; malformed validators are ignored.

use crate::common::*;
use serde_json::json;

#[tokio::test]
async fn every_get_carries_its_cache_policy_and_a_tag_that_revalidates_to_304() {
    let stack = TestStack::start().await;
    let world = World::build(&stack).await;
    // Counts the stream processor keeps change the bodies: let them settle first.
    stack.settle().await;
    let gets: Vec<_> = stack.template().routes().filter(|(route, _)| route.method == "GET").map(|(route, _)| route.clone()).collect();
    assert!(gets.len() >= 19, "the template's GET routes: {}", gets.len());
    for route in gets {
        let path = format!("{}{}", world.path("GET", &route.path), world.query(&format!("GET {}", route.path)));
        let request = || {
            let request = stack.get(&path);
            // The other user likes the owner's post; the owner has the rest.
            let user = if route.path.starts_with("/me/likes") { &world.other } else { &world.owner };
            match route.authorizer {
                Some(_) => request.key(&user.key),
                None => request,
            }
        };
        let first = request().send().await;
        assert_eq!(first.status, 200, "GET {}: {}", route.path, first.brief());
        let policy = first.headers["cache-control"].to_str().unwrap().to_string();
        let expected: &[&str] = match (&route.authorizer, route.path.as_str()) {
            (Some(_), _) => &["private, no-cache"],
            (None, "/health") => &["no-store"],
            (None, path) if path.starts_with("/posts/{postId}") && !path.ends_with("comments") || path == "/users/{userId}" => {
                &["public, max-age=60"]
            }
            (None, _) => &["public, max-age=5"],
        };
        assert!(expected.contains(&policy.as_str()), "GET {}: Cache-Control {policy:?}, expected {expected:?}", route.path);
        let tag = first.headers["etag"].to_str().unwrap().to_string();

        let again = request().header("if-none-match", &tag).send().await;
        if route.path == "/me/api-keys" {
            // The listing shows each key's use, and this request used one.
            assert_eq!(again.status, 200, "the body changed, so did the tag");
            assert_ne!(again.headers["etag"].to_str().unwrap(), tag);
            continue;
        }
        assert_eq!(again.status, 304, "GET {} with its own tag {tag}: {}", route.path, again.brief());
        assert!(again.body.is_null(), "a 304 has no body");
        assert_eq!(again.headers["etag"].to_str().unwrap(), tag);
        assert_eq!(again.headers["cache-control"].to_str().unwrap(), policy);
        assert_eq!(again.dynamodb_calls(), first.dynamodb_calls(), "GET {}: a 304 costs what the 200 did", route.path);

        for ignored in ["\"0000\"", "garbage", "W/", "\"", ",", "\"a\" , W/\"b\""] {
            let reply = request().header("if-none-match", ignored).send().await;
            assert_eq!(reply.status, 200, "GET {} with If-None-Match {ignored:?}", route.path);
        }
    }
}

#[tokio::test]
async fn a_tag_changes_with_the_body_and_a_version_tag_still_serves_if_match() {
    let stack = TestStack::start().await;
    let ada = sign_up(&stack, "Ada", &email("ada")).await;
    let post = publish_new_post(&stack, &ada.key).await;
    let path = format!("/posts/{post}");
    let before = stack.get(&path).send().await.headers["etag"].to_str().unwrap().to_string();
    let edited = stack.patch(&path).key(&ada.key).json(json!({"title": "A new title"})).send().await;
    assert_eq!(edited.status, 200, "{}", edited.brief());
    let after = stack.get(&path).header("if-none-match", &before).send().await;
    assert_eq!(after.status, 200, "the old tag no longer matches");
    assert_ne!(after.headers["etag"], before.as_str());
    assert!(stack.get(&path).header("if-none-match", "*").send().await.status == 304);

    // GET /me: the tag is the version and a digest; If-Match takes it whole.
    let me = stack.get("/me").key(&ada.key).send().await;
    let tag = me.headers["etag"].to_str().unwrap().to_string();
    assert!(tag.starts_with(&format!("\"{}.", me.body["version"])), "{tag}");
    let renamed = stack.patch("/me").key(&ada.key).header("if-match", &tag).json(json!({"name": "Ada L."})).send().await;
    assert_eq!(renamed.status, 200, "{}", renamed.brief());
    let stale = stack.patch("/me").key(&ada.key).header("if-match", &tag).json(json!({"name": "Ada"})).send().await;
    stale.assert_error(412, "version_mismatch");
    let changed = stack.get("/me").key(&ada.key).header("if-none-match", &tag).send().await;
    assert_eq!(changed.status, 200);

    // A header that is not text is ignored, never a 5xx.
    let client = reqwest::Client::new();
    let raw = reqwest::header::HeaderValue::from_bytes(b"\"\xff\xfe\"").unwrap();
    let reply = client.get(format!("{}{path}", stack.url())).header("if-none-match", raw).send().await.unwrap();
    assert_eq!(reply.status(), 200);
}
