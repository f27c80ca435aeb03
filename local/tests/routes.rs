//! template.yaml's HTTP routes and the handlers in `functions` agree, both
//! ways, and every function has its Lambda binary.

use local::template::{Template, default_path};
use std::collections::BTreeSet;
use std::path::Path;

#[test]
fn every_template_route_has_a_handler_and_every_handler_a_route() {
    let template = Template::load(&default_path()).unwrap();
    let in_template: BTreeSet<&str> = template.functions.iter().map(|f| f.binary.as_str()).collect();
    let handlers: BTreeSet<&str> = functions::HTTP_FUNCTIONS.iter().map(|f| f.binary).collect();
    assert_eq!(in_template, handlers, "template.yaml functions vs functions::HTTP_FUNCTIONS");
    for (route, function) in template.routes() {
        assert!(handlers.contains(function.binary.as_str()), "{} {} has no handler", route.method, route.path);
    }
}

#[test]
fn every_function_has_a_binary_for_cargo_lambda() {
    let bins = Path::new(env!("CARGO_MANIFEST_DIR")).join("../functions/src/bin");
    for function in functions::HTTP_FUNCTIONS {
        let file = bins.join(format!("{}.rs", function.binary));
        assert!(file.exists(), "{} is in HTTP_FUNCTIONS but {} is missing", function.binary, file.display());
    }
}

#[test]
fn routes_are_unique() {
    let template = Template::load(&default_path()).unwrap();
    let mut seen = BTreeSet::new();
    for (route, _) in template.routes() {
        assert!(seen.insert((route.method.clone(), route.path.clone())), "{} {} declared twice", route.method, route.path);
    }
}

#[test]
fn every_function_has_a_sample_event_that_decodes() {
    let events = Path::new(env!("CARGO_MANIFEST_DIR")).join("../events");
    for function in functions::HTTP_FUNCTIONS {
        let file = events.join(format!("{}.json", function.binary));
        let text = std::fs::read_to_string(&file).unwrap_or_else(|_| panic!("{} has no sample event {}", function.binary, file.display()));
        lambda_http::request::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    }
}
