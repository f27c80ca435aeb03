//! Holds every reply the helpers receive to openapi.yaml: the request's
//! method and path pick the operation (as API Gateway picks a route: a
//! literal segment beats `{param}`), the status must be one it documents,
//! and the body and the required headers must match what it documents for
//! that status. A mismatch fails the test with the operation, the status
//! and the validation errors.

use jsonschema::{Registry, Validator};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use reqwest::header::HeaderMap;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// The URI the document is registered under: every schema is compiled as a
/// `$ref` into it, so `#/components/...` resolves against the whole document.
const BASE: &str = "https://quire.local/openapi.json";

/// What a JSON Pointer must escape to sit in a URI fragment (`{userId}`…).
const FRAGMENT: &AsciiSet = &CONTROLS.add(b' ').add(b'"').add(b'<').add(b'>').add(b'`').add(b'{').add(b'}').add(b'%');

struct Spec {
    doc: Value,
    registry: Registry<'static>,
    /// Compiled once per schema location, for the whole test binary.
    validators: Mutex<HashMap<String, Arc<Validator>>>,
}

fn spec() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| {
        let doc = crate::openapi::load(&crate::openapi::default_path()).unwrap_or_else(|e| panic!("{e}"));
        let registry = Registry::new()
            .draft(jsonschema::Draft::Draft202012)
            .add(BASE, doc.clone())
            .and_then(|r| r.prepare())
            .unwrap_or_else(|e| panic!("openapi.yaml cannot be used as a JSON Schema resource: {e}"));
        Spec { doc, registry, validators: Mutex::new(HashMap::new()) }
    })
}

/// `a/b` → `a~1b`: one JSON Pointer token.
fn token(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

impl Spec {
    /// The document's path template for this request, as API Gateway would
    /// route it; `None` if no operation has this method and path.
    fn path_template(&self, method: &str, path: &str) -> Option<&str> {
        let method = method.to_ascii_lowercase();
        let segments: Vec<&str> = path.split('/').skip(1).collect();
        let matches = |template: &str| {
            let parts: Vec<&str> = template.split('/').skip(1).collect();
            parts.len() == segments.len() && parts.iter().zip(&segments).all(|(p, s)| if p.starts_with('{') { !s.is_empty() } else { p == s })
        };
        let paths = self.doc["paths"].as_object()?;
        paths
            .iter()
            .filter(|(template, item)| item.get(&method).is_some() && matches(template))
            // Literal segments from the left win, as in API Gateway.
            .max_by_key(|(template, _)| template.split('/').map(|p| !p.starts_with('{')).collect::<Vec<bool>>())
            .map(|(template, _)| template.as_str())
    }

    /// Follows `$ref`s (OpenAPI Reference Objects) from `pointer`: the final
    /// pointer and the object there.
    fn resolve(&self, pointer: &str) -> Option<(String, &Value)> {
        let mut pointer = pointer.to_string();
        loop {
            let value = self.doc.pointer(&pointer)?;
            match value.get("$ref").and_then(Value::as_str) {
                Some(target) => pointer = target.strip_prefix('#').expect("refs inside the document").to_string(),
                None => return Some((pointer, value)),
            }
        }
    }

    /// The validation errors of `instance` against the schema at `pointer`.
    fn errors(&self, pointer: &str, instance: &Value) -> Vec<String> {
        let validator = {
            let mut validators = self.validators.lock().unwrap_or_else(|e| e.into_inner());
            let compiled = validators.entry(pointer.to_string()).or_insert_with(|| {
                let reference = serde_json::json!({ "$ref": format!("{BASE}#{}", utf8_percent_encode(pointer, FRAGMENT)) });
                let validator = jsonschema::options()
                    .with_draft(jsonschema::Draft::Draft202012)
                    .with_registry(&self.registry)
                    .should_validate_formats(true)
                    .build(&reference)
                    .unwrap_or_else(|e| panic!("openapi.yaml: the schema at {pointer} does not compile: {e}"));
                Arc::new(validator)
            });
            Arc::clone(compiled)
        };
        validator.iter_errors(instance).map(|e| format!("{} (schema {}): {e}", e.instance_path(), e.schema_path())).collect()
    }
}

/// Compiles the schema at `pointer` (a JSON Pointer into openapi.yaml), or panics.
pub fn assert_compiles(pointer: &str) {
    spec().errors(pointer, &Value::Null);
}

/// Fails the test unless this reply is what openapi.yaml documents for
/// `method` `path` (see the module doc).
pub fn check(method: &str, path: &str, status: u16, headers: &HeaderMap, body: &Value) {
    let spec = spec();
    let Some(template) = spec.path_template(method, path) else {
        // No route: the emulator's JSON 404, outside any operation.
        let errors = spec.errors("/components/schemas/Error", body);
        assert!(
            status == 404 && errors.is_empty() && body["error"]["code"] == "route_not_found",
            "{method} {path} matches no operation in openapi.yaml, yet answered {status} {body} {errors:?}"
        );
        return;
    };
    let operation = format!("{method} {template}");
    let responses = format!("/paths/{}/{}/responses", token(template), method.to_ascii_lowercase());
    let Some((response_at, response)) = spec.resolve(&format!("{responses}/{status}")) else {
        panic!("{operation} answered {status}, a status openapi.yaml does not document for it; body: {body}");
    };
    for name in response.get("headers").and_then(Value::as_object).into_iter().flatten().map(|(name, _)| name) {
        let (header_at, header) = spec.resolve(&format!("{response_at}/headers/{}", token(name))).expect("a header object");
        let Some(value) = headers.get(name.to_ascii_lowercase()).and_then(|v| v.to_str().ok()) else {
            assert!(header["required"] != true, "{operation} {status}: openapi.yaml requires header {name}, which the reply lacks");
            continue;
        };
        let errors = spec.errors(&format!("{header_at}/schema"), &Value::String(value.to_string()));
        assert!(errors.is_empty(), "{operation} {status}: header {name}: {value:?} does not match openapi.yaml: {errors:#?}");
    }
    if response.get("content").is_none() {
        assert!(body.is_null(), "{operation} {status}: openapi.yaml documents no body, yet the reply has {body}");
        return;
    }
    let errors = spec.errors(&format!("{response_at}/content/application~1json/schema"), body);
    assert!(errors.is_empty(), "{operation} {status}: the body does not match openapi.yaml: {errors:#?}\nbody: {body}");
}
