//! template.yaml and the `functions` crate agree: every route has a handler
//! and every handler a route, every function has its binary and a sample
//! event, and every function's IAM policy allows exactly the DynamoDB
//! actions it declares.

use functions::authorizer::AuthorizerRequest;
use local::template::{Template, default_path};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn template() -> Template {
    Template::load(&default_path()).unwrap()
}

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

#[test]
fn every_template_route_has_a_handler_and_every_handler_a_route() {
    let template = template();
    let routed: BTreeSet<&str> = template.functions.iter().filter(|f| !f.routes.is_empty()).map(|f| f.binary.as_str()).collect();
    let handlers: BTreeSet<&str> = functions::HTTP_FUNCTIONS.iter().map(|f| f.binary).collect();
    assert_eq!(routed, handlers, "template.yaml route functions vs functions::HTTP_FUNCTIONS");

    let authorizer_functions: BTreeSet<&str> = template
        .authorizers
        .iter()
        .map(|a| template.functions.iter().find(|f| f.logical_id == a.function).unwrap().binary.as_str())
        .collect();
    let authorizer_handlers: BTreeSet<&str> = functions::AUTHORIZER_FUNCTIONS.iter().map(|f| f.binary).collect();
    assert_eq!(authorizer_functions, authorizer_handlers);

    let stream_functions: BTreeSet<&str> = template.functions.iter().filter(|f| f.stream.is_some()).map(|f| f.binary.as_str()).collect();
    let stream_handlers: BTreeSet<&str> = functions::STREAM_FUNCTIONS.iter().map(|f| f.binary).collect();
    assert_eq!(stream_functions, stream_handlers);

    let every_function: BTreeSet<&str> = template.functions.iter().map(|f| f.binary.as_str()).collect();
    let every_handler: BTreeSet<&str> = handlers.union(&authorizer_handlers).chain(stream_handlers.iter()).copied().collect();
    assert_eq!(every_function, every_handler, "no function in the template without a handler, and none left out");
}

#[test]
fn every_function_has_a_binary_for_cargo_lambda() {
    let binaries = functions::HTTP_FUNCTIONS
        .iter()
        .map(|f| f.binary)
        .chain(functions::AUTHORIZER_FUNCTIONS.iter().map(|f| f.binary))
        .chain(functions::STREAM_FUNCTIONS.iter().map(|f| f.binary));
    for binary in binaries {
        let file = repo("functions/src/bin").join(format!("{binary}.rs"));
        assert!(file.exists(), "{binary} is registered but {} is missing", file.display());
    }
}

#[test]
fn routes_are_unique() {
    let template = template();
    let mut seen = BTreeSet::new();
    for (route, _) in template.routes() {
        assert!(seen.insert((route.method.clone(), route.path.clone())), "{} {} declared twice", route.method, route.path);
    }
}

#[test]
fn every_function_has_a_sample_event_that_decodes() {
    for function in functions::HTTP_FUNCTIONS {
        let file = repo("events").join(format!("{}.json", function.binary));
        let text = std::fs::read_to_string(&file).unwrap_or_else(|_| panic!("{} has no sample event {}", function.binary, file.display()));
        lambda_http::request::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    }
    for function in functions::AUTHORIZER_FUNCTIONS {
        let file = repo("events").join(format!("{}.json", function.binary));
        let text = std::fs::read_to_string(&file).unwrap_or_else(|_| panic!("{} has no sample event", function.binary));
        serde_json::from_str::<AuthorizerRequest>(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    }
    for function in functions::STREAM_FUNCTIONS {
        let file = repo("events").join(format!("{}.json", function.binary));
        let text = std::fs::read_to_string(&file).unwrap_or_else(|_| panic!("{} has no sample event", function.binary));
        let event: lambda_http::aws_lambda_events::dynamodb::Event = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert!(!event.records.is_empty());
    }
}

#[test]
fn each_iam_policy_allows_exactly_the_declared_dynamodb_actions() {
    let template = template();
    let declared = functions::HTTP_FUNCTIONS
        .iter()
        .map(|f| (f.binary, f.iam_actions))
        .chain(functions::AUTHORIZER_FUNCTIONS.iter().map(|f| (f.binary, f.iam_actions)))
        .chain(functions::STREAM_FUNCTIONS.iter().map(|f| (f.binary, f.iam_actions)));
    for (binary, actions) in declared {
        let function = template.functions.iter().find(|f| f.binary == binary).unwrap();
        let in_template: BTreeSet<&str> = function.iam_actions.iter().map(String::as_str).collect();
        let in_code: BTreeSet<&str> = actions.iter().copied().collect();
        assert_eq!(in_template, in_code, "{} ({binary}): template policy vs declared actions", function.logical_id);
        assert!(!in_template.iter().any(|a| a.ends_with(":*") || *a == "*"), "{binary}: no wildcard actions");
    }
}

#[test]
fn the_cargo_lambda_watch_router_matches_the_template() {
    let manifest: toml::Table = std::fs::read_to_string(repo("Cargo.toml")).unwrap().parse().unwrap();
    let router = manifest["workspace"]["metadata"]["lambda"]["watch"]["router"].as_table().expect("a watch router");
    let mut in_router = BTreeSet::new();
    for (path, entries) in router {
        for entry in entries.as_array().expect("a list of {method, function}") {
            let method = entry["method"].as_str().unwrap().to_string();
            let function = entry["function"].as_str().unwrap().to_string();
            in_router.insert((method, path.clone(), function));
        }
    }
    let in_template: BTreeSet<(String, String, String)> =
        template().routes().map(|(r, f)| (r.method.clone(), r.path.clone(), f.binary.clone())).collect();
    assert_eq!(in_router, in_template, "[workspace.metadata.lambda.watch.router] vs template.yaml");
}
