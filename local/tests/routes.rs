//! template.yaml and the `functions` crate agree: every route has a handler
//! and every handler a route, every function has its binary and a sample
//! event, and every function's IAM policy allows exactly the DynamoDB
//! actions it declares, on the table and its indexes only, with no wildcard.

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
        functions::event::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
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

/// Every function's declared DynamoDB actions, by binary.
fn declared_actions() -> Vec<(&'static str, &'static [&'static str])> {
    functions::HTTP_FUNCTIONS
        .iter()
        .map(|f| (f.binary, f.iam_actions))
        .chain(functions::AUTHORIZER_FUNCTIONS.iter().map(|f| (f.binary, f.iam_actions)))
        .chain(functions::STREAM_FUNCTIONS.iter().map(|f| (f.binary, f.iam_actions)))
        .collect()
}

/// What is wrong with the template's IAM policies: a wildcard action, an
/// action the function does not declare (or a declared one not granted),
/// DynamoDB access to anything but the table and its indexes, and policies
/// whose grants the template does not show (SAM policy templates, managed
/// policies, NotAction / NotResource).
fn iam_violations(template: &Template) -> Vec<String> {
    let table_resources: BTreeSet<String> = std::iter::once("Table.Arn".to_string())
        .chain(template.table.global_secondary_indexes.iter().map(|i| format!("${{Table.Arn}}/index/{}", i.index_name)))
        .collect();
    let declared = declared_actions();
    let mut violations = Vec::new();
    for function in &template.functions {
        let id = &function.logical_id;
        for other in &function.other_policies {
            violations.push(format!("{id}: policy {other} grants what the template does not show; write a Statement"));
        }
        let mut granted = BTreeSet::new();
        for statement in &function.iam_statements {
            if statement.negated {
                violations.push(format!("{id}: NotAction / NotResource grant everything else"));
            }
            for action in &statement.actions {
                if action.contains('*') {
                    violations.push(format!("{id}: wildcard action {action}"));
                }
                if statement.effect == "Allow" {
                    granted.insert(action.as_str());
                }
            }
            let data_actions = statement.actions.iter().any(|a| a.to_ascii_lowercase().starts_with("dynamodb:"));
            if statement.effect == "Allow" && data_actions {
                for resource in statement.resources.iter().filter(|r| !table_resources.contains(*r)) {
                    violations.push(format!("{id}: DynamoDB actions on {resource:?}, not only the table and its indexes"));
                }
            }
        }
        let in_code: BTreeSet<&str> =
            declared.iter().find(|(binary, _)| *binary == function.binary).map(|(_, actions)| actions.iter().copied().collect()).unwrap_or_default();
        for action in granted.difference(&in_code) {
            violations.push(format!("{id} ({}): granted {action}, which it does not declare", function.binary));
        }
        for action in in_code.difference(&granted) {
            violations.push(format!("{id} ({}): declares {action}, which the template does not grant", function.binary));
        }
    }
    violations
}

#[test]
fn each_function_gets_exactly_its_declared_dynamodb_actions_on_the_table_only() {
    let violations = iam_violations(&template());
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

#[test]
fn the_iam_check_catches_wildcards_stray_resources_and_undeclared_grants() {
    let text = std::fs::read_to_string(default_path()).unwrap();
    let cases = [
        ("Action: [dynamodb:GetItem]", "Action: [\"dynamodb:*\"]", "wildcard action dynamodb:*"),
        ("Action: [dynamodb:GetItem]", "Action: [\"dynamodb:Get*\"]", "wildcard action dynamodb:Get*"),
        ("Resource: !GetAtt Table.Arn", "Resource: '*'", "DynamoDB actions on \"*\""),
        ("Resource: !GetAtt Table.Arn", "Resource: !Sub \"${Table.Arn}/index/*\"", "index/*"),
        ("Action: [dynamodb:Query]", "Action: [dynamodb:Query, dynamodb:Scan]", "granted dynamodb:Scan, which it does not declare"),
        ("Action: [dynamodb:Query]", "Action: [dynamodb:Scan]", "declares dynamodb:Query, which the template does not grant"),
        ("      Policies:\n", "      Policies:\n        - DynamoDBCrudPolicy: {TableName: !Ref Table}\n", "policy DynamoDBCrudPolicy"),
        ("            - Effect: Allow\n              Action:", "            - Effect: Allow\n              NotAction:", "NotAction"),
    ];
    for (from, to, expected) in cases {
        assert!(text.contains(from), "the template no longer has {from:?}: update this test");
        let broken = Template::parse(&text.replacen(from, to, 1)).unwrap();
        let violations = iam_violations(&broken);
        assert!(violations.iter().any(|v| v.contains(expected)), "{to:?} should be caught ({expected}): {violations:?}");
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
