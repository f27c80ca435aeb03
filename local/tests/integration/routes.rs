//! template.yaml and the `functions` crate agree: every function's Handler
//! is in the registry and every registry entry deployed, all share one build,
//! every function has a sample event, and every function's IAM policy allows exactly the DynamoDB
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

/// The registry's names of one kind.
fn registered(kind: fn(&functions::Function) -> bool) -> BTreeSet<&'static str> {
    functions::FUNCTIONS.iter().filter(|f| kind(f)).map(|f| f.name).collect()
}

#[test]
fn every_template_handler_is_registered_and_every_registered_function_deployed() {
    let template = template();
    let routed: BTreeSet<&str> = template.functions.iter().filter(|f| !f.routes.is_empty()).map(|f| f.handler.as_str()).collect();
    assert_eq!(routed, registered(|f| f.http().is_some()), "template.yaml route functions' Handlers vs the registry's HTTP functions");

    let authorizer_functions: BTreeSet<&str> =
        template.authorizers.iter().map(|a| template.functions.iter().find(|f| f.logical_id == a.function).unwrap().handler.as_str()).collect();
    assert_eq!(authorizer_functions, registered(|f| f.authorizer().is_some()));

    let stream_functions: BTreeSet<&str> = template.functions.iter().filter(|f| f.stream.is_some()).map(|f| f.handler.as_str()).collect();
    assert_eq!(stream_functions, registered(|f| f.stream().is_some()));

    let handlers: Vec<&str> = template.functions.iter().map(|f| f.handler.as_str()).collect();
    let every_handler: BTreeSet<&str> = handlers.iter().copied().collect();
    assert_eq!(handlers.len(), every_handler.len(), "two functions share a Handler: {handlers:?}");
    assert_eq!(every_handler, registered(|_| true), "no function in the template without a registry entry, and none left out");
}

/// SAM builds functions once when runtime, CodeUri, architecture, package
/// type and the whole Metadata are equal: every function must share them,
/// and Metadata must build the one binary.
#[test]
fn every_function_shares_one_build_definition() {
    let template = template();
    let first = &template.functions[0].metadata;
    assert_eq!(first["BuildMethod"].as_str(), Some("rust-cargolambda"));
    assert_eq!(first["BuildProperties"]["Binary"].as_str(), Some("quire"), "the binary of functions/src/main.rs");
    for function in &template.functions {
        assert_eq!(&function.metadata, first, "{}'s Metadata differs, so SAM would build it separately", function.logical_id);
    }
    let text = std::fs::read_to_string(default_path()).unwrap();
    let doc: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    for key in ["Runtime", "CodeUri", "Architectures", "PackageType"] {
        for (id, resource) in doc["Resources"].as_mapping().unwrap() {
            if resource["Type"].as_str() == Some("AWS::Serverless::Function") {
                assert!(resource["Properties"].get(key).is_none(), "{id:?} sets its own {key}: keep it in Globals so one build serves all");
            }
        }
    }
    let manifest = std::fs::read_to_string(repo("functions/Cargo.toml")).unwrap();
    assert!(manifest.contains("name = \"quire\""), "functions/Cargo.toml builds the binary `quire`");
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
    for function in functions::FUNCTIONS {
        let file = repo("events").join(format!("{}.json", function.name));
        let text = std::fs::read_to_string(&file).unwrap_or_else(|_| panic!("{} has no sample event {}", function.name, file.display()));
        match function.kind {
            functions::Kind::Http(_) => drop(functions::event::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()))),
            functions::Kind::Authorizer(_) => {
                drop(serde_json::from_str::<AuthorizerRequest>(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display())))
            }
            functions::Kind::Stream(_) => {
                let event: lambda_http::aws_lambda_events::dynamodb::Event =
                    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
                assert!(!event.records.is_empty());
            }
        }
    }
}

/// Every function's declared DynamoDB actions, by name.
fn declared_actions() -> Vec<(&'static str, &'static [&'static str])> {
    functions::FUNCTIONS.iter().map(|f| (f.name, f.iam_actions)).collect()
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
            declared.iter().find(|(name, _)| *name == function.handler).map(|(_, actions)| actions.iter().copied().collect()).unwrap_or_default();
        for action in granted.difference(&in_code) {
            violations.push(format!("{id} ({}): granted {action}, which it does not declare", function.handler));
        }
        for action in in_code.difference(&granted) {
            violations.push(format!("{id} ({}): declares {action}, which the template does not grant", function.handler));
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
