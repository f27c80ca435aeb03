//! The README's access-pattern table is the contract: this test reads it and
//! checks that each route makes exactly the DynamoDB calls it lists, in
//! order, and that the table covers every route of template.yaml. Every
//! route is called the same way, from the template, on a [`World`] of its
//! own, so a new route is checked the day it is declared.

use crate::authorization::succeeds_for_owner;
use crate::common::*;
use local::testing::Guarantee;
use std::collections::{BTreeMap, BTreeSet};

/// A row for a route sent with an `Idempotency-Key` ("POST /posts with Idempotency-Key").
const WITH_IDEMPOTENCY_KEY: &str = " with Idempotency-Key";

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

/// All the read and write units in a capacity report.
fn units(capacity: &serde_json::Value) -> f64 {
    ["read", "write"].iter().flat_map(|kind| capacity[kind].as_object().into_iter().flatten()).filter_map(|(_, units)| units.as_f64()).sum()
}

/// Calls the route of `row` as a caller it succeeds for, on a world of its
/// own (destructive routes disturb no other), with a fresh
/// `Idempotency-Key` when the row says so.
async fn call(stack: &TestStack, row: &str, authenticated: bool) -> Reply {
    let route_key = row.trim_end_matches(WITH_IDEMPOTENCY_KEY);
    let (method, path) = route_key.split_once(' ').unwrap();
    let world = World::build(stack).await;
    let mut request = stack.request(method, &format!("{}{}", world.path(method, path), world.query(route_key)));
    if authenticated {
        // Nobody may follow themself: the follow routes succeed for the other user.
        let caller = if succeeds_for_owner(route_key) { &world.owner } else { &world.other };
        request = request.key(&caller.key);
    }
    if let Some(body) = valid_body(route_key) {
        request = request.json(body);
    }
    if row.ends_with(WITH_IDEMPOTENCY_KEY) {
        request = request.header("idempotency-key", &ulid::Ulid::new().to_string());
    }
    request.send().await
}

#[tokio::test]
async fn every_route_makes_exactly_the_calls_the_readme_lists() {
    let table = readme_table();
    let stack = TestStack::start().await;
    let capacity_reported =
        !stack.lacks(Guarantee::ExactConsumedCapacity, "every_route_makes_exactly_the_calls_the_readme_lists (its capacity part)");
    let template_routes: BTreeSet<String> = stack.template().routes().map(|(r, _)| format!("{} {}", r.method, r.path)).collect();
    let authenticated: BTreeSet<String> =
        stack.template().routes().filter(|(r, _)| r.authorizer.is_some()).map(|(r, _)| format!("{} {}", r.method, r.path)).collect();
    let route_rows: BTreeSet<String> = table.keys().filter(|r| *r != AUTHORIZER_ROW && !r.ends_with(WITH_IDEMPOTENCY_KEY)).cloned().collect();
    assert_eq!(route_rows, template_routes, "the table lists exactly the template's routes");

    // One row after another: concurrent transactions make some engines
    // (moto) ask the SDK to retry, and a retry is a call the row does not list.
    let mut failures = Vec::new();
    let mut authorizer_checked = false;
    for row in table.keys().filter(|r| *r != AUTHORIZER_ROW) {
        let route_key = row.trim_end_matches(WITH_IDEMPOTENCY_KEY);
        assert!(template_routes.contains(route_key), "{row}: no such route in template.yaml");
        let authenticated = authenticated.contains(route_key);
        let reply = call(&stack, row, authenticated).await;
        if !(200..300).contains(&reply.status) {
            failures.push(format!("{row}: {} {}", reply.status, reply.brief()));
            continue;
        }
        if reply.dynamodb_calls() != table[row] {
            failures.push(format!("{row}: made {:?}, the README lists {:?}", reply.dynamodb_calls(), table[row]));
        }
        // Every call asks for its consumed capacity: a route that calls
        // DynamoDB reports what it cost.
        if capacity_reported && !table[row].is_empty() && units(&reply.capacity()) <= 0.0 {
            failures.push(format!("{row}: made calls but reported no capacity: {}", reply.capacity()));
        }
        if authenticated {
            authorizer_checked = true;
            if reply.authorizer_calls() != table[AUTHORIZER_ROW] {
                failures.push(format!("authorizer on {row}: made {:?}, the README lists {:?}", reply.authorizer_calls(), table[AUTHORIZER_ROW]));
            }
        }
    }
    failures.sort();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(authorizer_checked, "the authorizer's row was checked");
}
