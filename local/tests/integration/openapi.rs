//! openapi.yaml describes exactly the HTTP API of template.yaml, and the
//! local stack serves it at `/openapi.json`. (That every reply matches it is
//! checked by the helpers in `common`, for every request of every test.)

use crate::common::*;
use local::template::{Template, default_path};
use serde_json::{Value, json};
use std::collections::BTreeMap;

const METHODS: [&str; 8] = ["get", "put", "post", "delete", "patch", "head", "options", "trace"];

fn spec() -> Value {
    local::openapi::load(&local::openapi::default_path()).unwrap()
}

/// Every operation of the document by (METHOD, path).
fn operations(spec: &Value) -> BTreeMap<(String, String), Value> {
    let mut operations = BTreeMap::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for method in METHODS {
            if let Some(operation) = item.get(method) {
                operations.insert((method.to_ascii_uppercase(), path.clone()), operation.clone());
            }
        }
    }
    operations
}

/// `list-api-keys` → `listApiKeys`.
fn camel_case(binary: &str) -> String {
    let mut words = binary.split('-');
    let first = words.next().unwrap_or_default().to_string();
    words.fold(first, |name, word| {
        let mut chars = word.chars();
        let head = chars.next().map(|c| c.to_ascii_uppercase().to_string()).unwrap_or_default();
        name + &head + chars.as_str()
    })
}

#[test]
fn the_spec_describes_exactly_the_template_routes() {
    let template = Template::load(&default_path()).unwrap();
    let routes: Vec<(String, String)> = template.routes().map(|(r, _)| (r.method.clone(), r.path.clone())).collect();
    let documented = operations(&spec());
    let undocumented: Vec<_> = routes.iter().filter(|r| !documented.contains_key(r)).collect();
    assert!(undocumented.is_empty(), "routes of template.yaml missing from openapi.yaml: {undocumented:?}");
    let extra: Vec<_> = documented.keys().filter(|op| !routes.contains(op)).collect();
    assert!(extra.is_empty(), "operations of openapi.yaml that template.yaml does not route: {extra:?}");
    assert_eq!(routes.len(), documented.len());
}

#[test]
fn every_operation_documents_its_errors_and_the_template_auth() {
    let spec = spec();
    assert_eq!(spec["openapi"], "3.1.0");
    assert_eq!(spec["security"], json!([{ "apiKey": [] }]), "the API key is required unless an operation opts out");
    assert_eq!(
        spec["components"]["securitySchemes"]["apiKey"],
        json!({
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": spec["components"]["securitySchemes"]["apiKey"]["bearerFormat"],
            "description": spec["components"]["securitySchemes"]["apiKey"]["description"],
        })
    );
    let operations = operations(&spec);
    let template = Template::load(&default_path()).unwrap();
    for (route, function) in template.routes() {
        let name = format!("{} {}", route.method, route.path);
        let operation = &operations[&(route.method.clone(), route.path.clone())];
        assert_eq!(operation["operationId"], camel_case(&function.handler), "{name}: operationId names the function's binary");
        let responses = operation["responses"].as_object().unwrap_or_else(|| panic!("{name} has no responses"));
        assert!(responses.keys().any(|s| s.starts_with('4')), "{name} documents no client error");
        assert!(responses.contains_key("500"), "{name} documents no 500");
        let public = operation.get("security") == Some(&json!([]));
        match &route.authorizer {
            None => {
                assert!(public, "{name} is public in template.yaml, so its operation needs `security: []`");
                assert!(!responses.contains_key("401"), "{name} is public: it never answers 401");
            }
            Some(_) => {
                assert!(operation.get("security").is_none(), "{name} needs the API key: it must keep the global security");
                assert!(responses.contains_key("401") && responses.contains_key("403"), "{name}: the authorizer's 401 and 403");
            }
        }
    }
}

#[test]
fn every_path_parameter_is_declared_and_every_schema_compiles() {
    let spec = spec();
    for (path, item) in spec["paths"].as_object().unwrap() {
        let in_path: Vec<&str> = path.split('/').filter_map(|s| s.strip_prefix('{')?.strip_suffix('}')).collect();
        for method in METHODS.iter().filter(|m| item.get(**m).is_some()) {
            let declared: Vec<String> = item["parameters"]
                .as_array()
                .into_iter()
                .chain(item[method]["parameters"].as_array())
                .flatten()
                .map(|p| match p["$ref"].as_str() {
                    Some(target) => spec.pointer(target.trim_start_matches('#')).expect("the parameter exists").clone(),
                    None => p.clone(),
                })
                .filter(|p| p["in"] == "path")
                .map(|p| p["name"].as_str().unwrap().to_string())
                .collect();
            assert_eq!(declared, in_path, "{method} {path}: path parameters");
        }
    }
    for name in spec["components"]["schemas"].as_object().unwrap().keys() {
        spec::assert_compiles(&format!("/components/schemas/{name}"));
    }
}

#[test]
fn a_reply_the_spec_does_not_allow_fails_with_the_operation_status_and_errors() {
    let failure = |method: &str, path: &str, status: u16, body: Value| {
        // A read's headers as documented, so the check gets to the body.
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("cache-control", "no-store".parse().unwrap());
        headers.insert("etag", format!("\"{}\"", "0".repeat(24)).parse().unwrap());
        let caught = std::panic::catch_unwind(|| spec::check(method, path, status, &headers, &body));
        let payload = caught.expect_err("the check fails");
        payload.downcast_ref::<String>().cloned().unwrap_or_default()
    };
    let message = failure("GET", "/health", 200, json!({ "status": "ok" }));
    assert!(message.contains("GET /health 200") && message.contains("version"), "{message}");
    let message = failure("GET", "/users/by-email", 409, json!({}));
    assert!(message.contains("GET /users/by-email answered 409"), "the literal path wins: {message}");
    let message = failure("GET", "/users/01ARZ3NDEKTSV4RRFFQ69G5FAV", 404, json!({ "error": { "code": "nope", "message": "x" } }));
    assert!(message.contains("GET /users/{userId} 404"), "{message}");
    let message = failure("GET", "/me", 200, json!({}));
    assert!(message.contains("header ETag") && message.contains("does not match"), "a read's tag is \"<version>.<digest>\": {message}");
}

#[tokio::test]
async fn the_local_stack_serves_the_spec_as_json() {
    let stack = TestStack::start().await;
    // Straight through reqwest: the document is not an operation of itself.
    let response = reqwest::get(format!("{}{}", stack.url(), local::openapi::ROUTE)).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let served: Value = response.json().await.unwrap();
    assert_eq!(served, spec());
    let health = stack.get("/health").send().await;
    assert_eq!(served["info"]["version"], health.body["version"], "the spec's version is the functions' version");
}
