//! The README's access-pattern table is the contract: this test reads it and
//! checks that each route makes exactly the DynamoDB calls it lists, in
//! order, and consumes exactly the capacity it lists, for small items and
//! for the largest the limits allow, by table and index; and that the table
//! covers every route of template.yaml. Every route is called the same way,
//! from the template, on a [`World`] of its own in a stack of its own, so a
//! new route is checked the day it is declared.

use crate::authorization::succeeds_for_owner;
use crate::common::*;
use futures_util::StreamExt;
use local::testing::Guarantee;
use std::collections::{BTreeMap, BTreeSet};

/// A row for a route sent with an `Idempotency-Key` ("POST /posts with Idempotency-Key").
const WITH_IDEMPOTENCY_KEY: &str = " with Idempotency-Key";

const AUTHORIZER_ROW: &str = "authorizer";

/// What a row lists: the calls, and the capacity with small and with the largest items.
struct Row {
    calls: Vec<String>,
    small: String,
    largest: String,
}

/// Route (or `authorizer`) → its row.
fn readme_table() -> BTreeMap<String, Row> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let section = readme.split("### Access patterns").nth(1).expect("README has an access-pattern section");
    let section = section.split("\n#").next().unwrap();
    let mut rows = BTreeMap::new();
    for line in section.lines().filter(|l| l.starts_with("| `") || l.starts_with("| authorizer")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // A route, or a route's variant such as "POST /posts with Idempotency-Key".
        let route = if cells[1].starts_with(AUTHORIZER_ROW) { AUTHORIZER_ROW.to_string() } else { cells[1].replace('`', "") };
        let calls = if cells[2] == "none" { Vec::new() } else { cells[2].split(',').map(|c| c.trim().trim_matches('`').to_string()).collect() };
        let capacity = |cell: &str| cell.trim_matches('`').to_string();
        rows.insert(route, Row { calls, small: capacity(cells[4]), largest: capacity(cells[5]) });
    }
    rows
}

/// A capacity report as the README writes it: `R table 0.5 + GSI1 1 · W
/// table 2`, the table before the indexes, `–` for none.
fn cell(capacity: &serde_json::Value) -> String {
    let mut parts = Vec::new();
    for (kind, letter) in [("read", "R"), ("write", "W")] {
        let mut places: Vec<(&String, f64)> =
            capacity[kind].as_object().into_iter().flatten().filter_map(|(p, u)| u.as_f64().map(|u| (p, u))).collect();
        places.sort_by_key(|(place, _)| (place.as_str() != "table", place.to_string()));
        if !places.is_empty() {
            parts.push(format!("{letter} {}", places.iter().map(|(place, units)| format!("{place} {units}")).collect::<Vec<_>>().join(" + ")));
        }
    }
    if parts.is_empty() { "–".to_string() } else { parts.join(" · ") }
}

/// Calls the route of `row` as a caller it succeeds for, on a world of its
/// own (destructive routes disturb no other), with a fresh
/// `Idempotency-Key` when the row says so.
async fn call(stack: &TestStack, row: &str, authenticated: bool, size: Size) -> Reply {
    let route_key = row.trim_end_matches(WITH_IDEMPOTENCY_KEY);
    let (method, path) = route_key.split_once(' ').unwrap();
    let world = World::build_sized(stack, size).await;
    // Where transactions are not isolated (moto), one of the stream
    // processor's running beside the route can make the route's retry.
    if !stack.offers(local::testing::Guarantee::IsolatedTransactions) {
        stack.settle().await;
    }
    if route_key == "GET /me/feed" {
        wait_for_feed(stack, &world.owner.key, 1).await; // the world waited only where the stream is sure to run
    }
    let mut request = stack.request(method, &format!("{}{}", world.path(method, path), world.query(route_key)));
    if authenticated {
        // Nobody may follow themself: the follow routes succeed for the other
        // user. The world's like is the other user's: removing it is theirs to do.
        let liker = route_key == "DELETE /posts/{postId}/like";
        let caller = if succeeds_for_owner(route_key) && !liker { &world.owner } else { &world.other };
        request = request.key(&caller.key);
    }
    if let Some(body) = sized_body(route_key, size) {
        request = request.json(body);
    }
    if row.ends_with(WITH_IDEMPOTENCY_KEY) {
        request = request.header("idempotency-key", &ulid::Ulid::new().to_string());
    }
    request.send().await
}

/// What every row is checked against.
#[derive(Clone, Copy)]
struct Routes<'a> {
    table: &'a BTreeMap<String, Row>,
    template: &'a BTreeSet<String>,
    authenticated: &'a BTreeSet<String>,
    capacity_reported: bool,
}

/// Calls one row's route on a world of `size` in a stack of its own: what
/// differs from the README, and whether the route is authenticated.
async fn check(routes: Routes<'_>, row: String, size: Size) -> (Vec<String>, bool) {
    let Routes { table, template: template_routes, authenticated, capacity_reported } = routes;
    let row = row.as_str();
    let mut failures = Vec::new();
    let route_key = row.trim_end_matches(WITH_IDEMPOTENCY_KEY);
    assert!(template_routes.contains(route_key), "{row}: no such route in template.yaml");
    let authenticated = authenticated.contains(route_key);
    let stack = TestStack::start().await;
    let reply = call(&stack, row, authenticated, size).await;
    if !(200..300).contains(&reply.status) {
        failures.push(format!("{row} ({size:?}): {} {}", reply.status, reply.brief()));
        return (failures, false);
    }
    if reply.dynamodb_calls() != table[row].calls {
        failures.push(format!("{row}: made {:?}, the README lists {:?}", reply.dynamodb_calls(), table[row].calls));
    }
    let listed = |row: &Row| if size == Size::Small { row.small.clone() } else { row.largest.clone() };
    let consumed = cell(&reply.capacity());
    if capacity_reported && consumed != listed(&table[row]) {
        failures.push(format!("{row} ({size:?}): consumed `{consumed}`, the README lists `{}`", listed(&table[row])));
    }
    if authenticated {
        if reply.authorizer_calls() != table[AUTHORIZER_ROW].calls {
            failures.push(format!("authorizer on {row}: made {:?}, the README lists {:?}", reply.authorizer_calls(), table[AUTHORIZER_ROW].calls));
        }
        let consumed = cell(&reply.authorizer_capacity());
        if capacity_reported && consumed != listed(&table[AUTHORIZER_ROW]) {
            failures.push(format!("authorizer on {row} ({size:?}): consumed `{consumed}`, the README lists `{}`", listed(&table[AUTHORIZER_ROW])));
        }
    }
    (failures, authenticated)
}

#[tokio::test]
async fn every_route_makes_exactly_the_calls_and_consumes_the_capacity_the_readme_lists() {
    let table = readme_table();
    let probe = TestStack::start().await;
    let capacity_reported = !probe.lacks(
        Guarantee::ExactConsumedCapacity,
        "every_route_makes_exactly_the_calls_and_consumes_the_capacity_the_readme_lists (its capacity part)",
    );
    let template_routes: BTreeSet<String> = probe.template().routes().map(|(r, _)| format!("{} {}", r.method, r.path)).collect();
    let authenticated: BTreeSet<String> =
        probe.template().routes().filter(|(r, _)| r.authorizer.is_some()).map(|(r, _)| format!("{} {}", r.method, r.path)).collect();
    drop(probe);
    let route_rows: BTreeSet<String> = table.keys().filter(|r| *r != AUTHORIZER_ROW && !r.ends_with(WITH_IDEMPOTENCY_KEY)).cloned().collect();
    assert_eq!(route_rows, template_routes, "the table lists exactly the template's routes");

    // Each row in a stack of its own (a listing of all users then reads the
    // same world whatever ran before). Side by side on an engine that
    // reports capacity; one after another elsewhere: concurrent
    // transactions make some engines (moto) ask the SDK to retry, and a
    // retry is a call the row does not list.
    let sizes: &[Size] = if capacity_reported { &[Size::Small, Size::Largest] } else { &[Size::Small] };
    let jobs: Vec<(String, Size)> =
        table.keys().filter(|r| *r != AUTHORIZER_ROW).flat_map(|row| sizes.iter().map(move |size| (row.clone(), *size))).collect();
    let routes = Routes { table: &table, template: &template_routes, authenticated: &authenticated, capacity_reported };
    let side_by_side = if capacity_reported { 8 } else { 1 };
    let results: Vec<(Vec<String>, bool)> =
        futures_util::stream::iter(jobs).map(|(row, size)| check(routes, row, size)).buffer_unordered(side_by_side).collect().await;
    let authorizer_checked = results.iter().any(|(_, authenticated)| *authenticated);
    let mut failures: Vec<String> = results.into_iter().flat_map(|(failures, _)| failures).collect();
    failures.sort();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(authorizer_checked, "the authorizer's row was checked");
}

/// The prices the README's cost table uses (us-east-1, on-demand, read on
/// 2026-12-02): DynamoDB per million read and write request units, Lambda
/// per million requests and per GB-second on arm64, API Gateway per million
/// HTTP API requests.
const RRU: f64 = 0.125;
const WRU: f64 = 0.625;
const LAMBDA_REQUESTS: f64 = 0.20;
const LAMBDA_ARM64_GB_SECOND: f64 = 0.000_013_333_4;
const HTTP_API_REQUESTS: f64 = 1.00;
/// Billed duration per invocation, at 128 MB (see the README's cost section).
const BILLED_MS: f64 = 10.0;
const MEMORY_GB: f64 = 128.0 / 1024.0;

/// Dollars per million requests for the units in a capacity cell.
fn dynamodb_dollars(cell: &str) -> f64 {
    let mut dollars = 0.0;
    for part in cell.split(" · ").filter(|p| *p != "–") {
        let (kind, places) = part.split_once(' ').unwrap_or_else(|| panic!("a capacity cell part: {part:?}"));
        let price = if kind == "R" { RRU } else { WRU };
        for place in places.split(" + ") {
            let units: f64 = place.rsplit_once(' ').and_then(|(_, u)| u.parse().ok()).unwrap_or_else(|| panic!("units in {place:?}"));
            dollars += units * price;
        }
    }
    dollars
}

/// One invocation of a 128 MB function, per million.
fn lambda_dollars() -> f64 {
    LAMBDA_REQUESTS + BILLED_MS / 1000.0 * MEMORY_GB * LAMBDA_ARM64_GB_SECOND * 1e6
}

/// The README's cost table follows from the access-pattern table and the
/// prices: each route's dollars per million requests, small and largest, are
/// API Gateway + the function + its DynamoDB units (+ the authorizer's
/// invocation and units where a key is needed), to the cent.
#[test]
fn the_cost_table_follows_from_the_capacity_and_the_prices() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let section = readme.split("### Cost per request").nth(1).expect("README has a cost section");
    let section = section.split("\n#").next().unwrap();
    let template = local::template::Template::load(&local::template::default_path()).unwrap();
    let authenticated: BTreeSet<String> =
        template.routes().filter(|(r, _)| r.authorizer.is_some()).map(|(r, _)| format!("{} {}", r.method, r.path)).collect();
    let capacity = readme_table();
    let mut rows = 0;
    for line in section.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.split(" | ").map(|c| c.trim_matches(|ch| ch == '|' || ch == ' ')).collect();
        let row = cells[0].replace('`', "");
        let listed = capacity.get(&row).unwrap_or_else(|| panic!("{row}: not in the access-pattern table"));
        let route_key = row.trim_end_matches(WITH_IDEMPOTENCY_KEY);
        let authorizer = if authenticated.contains(route_key) { lambda_dollars() + dynamodb_dollars(&capacity[AUTHORIZER_ROW].small) } else { 0.0 };
        for (cell, size) in [(cells[1], &listed.small), (cells[2], &listed.largest)] {
            let expected = HTTP_API_REQUESTS + lambda_dollars() + authorizer + dynamodb_dollars(size);
            assert_eq!(cell, format!("${expected:.2}"), "{row}: {size}");
        }
        rows += 1;
    }
    assert_eq!(rows, capacity.len() - 1, "one row per route and variant of the access-pattern table");
}
