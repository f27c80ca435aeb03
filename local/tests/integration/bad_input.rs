//! Bad input on every route of template.yaml, over real HTTP. The routes come
//! from the template, so a new route is covered the day it is declared; what
//! each route's body holds comes from `common::body_fields`, which is checked
//! against the handlers that read a body.
//!
//! Every case must be answered with the expected 4xx and the JSON error body
//! `{"error":{"code","message"}}`: never a 5xx, a panic (the gateway turns a
//! panicking handler into a 500) or a hang (each request has a timeout).
//! Routes without a body ignore one, as API Gateway passes it through, so
//! body cases go to body routes only (a junk body on `DELETE /me` would
//! rightly delete the account).

use crate::common::*;
use local::template::RouteSpec;
use std::sync::Arc;
use std::time::Duration;

const JSON: &str = "application/json";

/// One request and the answer it must get.
#[derive(Clone)]
struct Case {
    what: String,
    method: String,
    /// Path and query, already encoded.
    target: String,
    key: Option<String>,
    content_type: Option<&'static str>,
    headers: Vec<(&'static str, String)>,
    body: Option<Vec<u8>>,
    status: u16,
    /// The error code, when the case pins one.
    code: Option<&'static str>,
}

impl Case {
    fn new(route_key: &str, method: &str, target: String, key: Option<&str>) -> Self {
        Self {
            what: route_key.to_string(),
            method: method.to_string(),
            target,
            key: key.map(str::to_string),
            content_type: None,
            headers: Vec::new(),
            body: None,
            status: 400,
            code: None,
        }
    }

    fn named(&self, what: impl std::fmt::Display) -> Self {
        Self { what: format!("{}: {what}", self.what), ..self.clone() }
    }

    fn json(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.content_type = Some(JSON);
        self.body = Some(body.into());
        self
    }

    fn expect(mut self, status: u16, code: Option<&'static str>) -> Self {
        self.status = status;
        self.code = code;
        self
    }
}

/// Sends the case: the error code it got, or a description of what went wrong.
async fn check(client: &reqwest::Client, url: &str, case: &Case) -> Result<String, String> {
    let mut request = client.request(case.method.parse().unwrap(), format!("{url}{}", case.target));
    if let Some(key) = &case.key {
        request = request.bearer_auth(key);
    }
    if let Some(content_type) = case.content_type {
        request = request.header("content-type", content_type);
    }
    for (name, value) in &case.headers {
        request = request.header(*name, value);
    }
    if let Some(body) = &case.body {
        request = request.body(body.clone());
    }
    let fail = |why: String| format!("{} {} [{}]: {why}", case.method, case.target.chars().take(120).collect::<String>(), case.what);
    let response = request.send().await.map_err(|e| fail(format!("no answer: {e}")))?;
    let status = response.status().as_u16();
    let bytes = response.bytes().await.map_err(|e| fail(format!("body: {e}")))?;
    let body: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|_| fail(format!("{status}, not JSON: {:?}", String::from_utf8_lossy(&bytes))))?;
    let brief: String = body.to_string().chars().take(300).collect();
    if status != case.status {
        return Err(fail(format!("status {status}, expected {}: {brief}", case.status)));
    }
    let code = body["error"]["code"].as_str().filter(|c| !c.is_empty());
    let message = body["error"]["message"].as_str().filter(|m| !m.is_empty());
    let (Some(code), Some(_)) = (code, message) else {
        return Err(fail(format!("not an {{\"error\":{{\"code\",\"message\"}}}} body: {brief}")));
    };
    match case.code {
        Some(expected) if expected != code => Err(fail(format!("code {code}, expected {expected}: {brief}"))),
        _ => Ok(format!("{status} {code}")),
    }
}

/// Ids no path may accept: wrong length, characters outside Crockford
/// base32, past 128 bits, key syntax, control and non-ASCII characters.
const BAD_IDS: &[&str] = &[
    "x",
    "-1",
    "null",
    "0000000000000000000000000",   // 25
    "000000000000000000000000000", // 27
    "01ARZ3NDEKTSV4RRFFQ69G5FAU",  // U is not Crockford base32
    "01arz3ndektsv4rrffq69g5fau",
    "8ZZZZZZZZZZZZZZZZZZZZZZZZZ", // overflows 128 bits
    "ZZZZZZZZZZZZZZZZZZZZZZZZZZ",
    "USER%2301ARZ3NDEKTSV4RRFFQ69G5FAV",
    "01ARZ3NDEKTSV4RRFFQ69G5FAV%23PROFILE",
    "01ARZ3NDEKTSV4RRFFQ69G5FA%23",
    "01ARZ3NDEKTSV4RRFFQ69G5FA%00",
    "%2001ARZ3NDEKTSV4RRFFQ69G5FAV",
    "01ARZ3NDEKTSV4RRFFQ69G5FA%C3%9C",
    "%FF%FE%FD",
    "01ARZ3NDEKTSV4RRFFQ69G5FAV%2F01ARZ3NDEKTSV4RRFFQ69G5FAV",
];

/// Tags no tag page may accept: empty once trimmed, one character over
/// the limit, control characters.
const BAD_TAGS: &[&str] = &["%20", "%20%20%20", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "a%00b", "a%0Ab", "%09", "a%7Fb"];

/// Raw JSON values of the wrong type for a string field.
const NOT_STRINGS: &[&str] = &["1", "true", "[]", "{}", "1e400", "18446744073709551616", r#"["a"]"#];

/// Invalid raw JSON values for a field of this kind.
fn bad_values(field: &Field) -> Vec<String> {
    let quoted = |s: String| serde_json::to_string(&s).unwrap();
    let mut values: Vec<String> = Vec::new();
    if field.required {
        values.push("null".into());
    }
    match field.kind {
        FieldKind::Line { max } | FieldKind::Text { max, .. } => {
            values.extend(NOT_STRINGS.iter().map(|s| s.to_string()));
            values.push(quoted("x".repeat(max + 1)));
            values.push(quoted("é".repeat(max + 1)));
            for control in ["a\u{7}b", "a\u{0}b", "\u{1b}[31mred", "a\u{7f}b", "a\u{85}b"] {
                values.push(quoted(control.into()));
            }
            values.push(r#""\ud800""#.into()); // a lone surrogate is not a string
            let may_be_empty = matches!(field.kind, FieldKind::Text { may_be_empty: true, .. });
            if !may_be_empty {
                values.extend([quoted(String::new()), quoted(" \t ".into())]);
            }
            if matches!(field.kind, FieldKind::Line { .. }) {
                values.extend([quoted("a\nb".into()), quoted("a\rb".into())]);
            }
        }
        FieldKind::Email => {
            values.extend(NOT_STRINGS.iter().map(|s| s.to_string()));
            for bad in ["", "not-an-email", "a@b", "a@@example.com", "Ann <ann@example.com>", "a\u{0}b@example.com", "a b@example.com"] {
                values.push(quoted(bad.into()));
            }
            values.push(quoted(format!("{}@example.com", "a".repeat(250))));
        }
        FieldKind::Number { min, max } => {
            for bad in [min - 1, -1, max + 1, i64::from(u32::MAX) + 1] {
                values.push(bad.to_string());
            }
            for raw in ["1e400", "18446744073709551616", "-9223372036854775809", "1.5", "1e2", r#""7""#, "true", "[]", "{}"] {
                values.push(raw.into());
            }
        }
        FieldKind::Plan => values.extend([r#""gold""#, r#""""#, r#""FREE""#, "1", "[]"].map(str::to_string)),
        FieldKind::Tags => {
            values.extend([r#""rust""#, "[1]", "{}", "[null]", r#"[""]"#, r#"["a\u0007"]"#].map(str::to_string));
            values.push(serde_json::to_string(&vec!["x".repeat(31)]).unwrap());
            values.push(serde_json::to_string(&(0..11).map(|n| format!("t{n}")).collect::<Vec<_>>()).unwrap());
        }
    }
    values
}

/// `{"name":raw,...}` from raw JSON values, so a body can hold what
/// `serde_json::Value` cannot (1e400, duplicate names).
fn object(fields: &[(String, String)]) -> Vec<u8> {
    let members: Vec<String> = fields.iter().map(|(name, raw)| format!("{}:{raw}", serde_json::to_string(name).unwrap())).collect();
    format!("{{{}}}", members.join(",")).into_bytes()
}

fn body_cases(base: &Case, fields: &[Field]) -> Vec<Case> {
    let valid: Vec<(String, String)> = fields.iter().map(|f| (f.name.to_string(), (f.sample)().to_string())).collect();
    let first = fields[0].name;
    let mut cases = Vec::new();
    let raw_bodies: Vec<(&str, Vec<u8>)> = vec![
        ("malformed JSON", format!("{{\"{first}\":").into_bytes()),
        ("trailing garbage", [object(&valid), b"}".to_vec()].concat()),
        ("an array", b"[]".to_vec()),
        ("an array of values", format!("[{}]", valid.iter().map(|(_, v)| v.as_str()).collect::<Vec<_>>().join(",")).into_bytes()),
        ("a string", br#""text""#.to_vec()),
        ("a number", b"42".to_vec()),
        ("null", b"null".to_vec()),
        ("true", b"true".to_vec()),
        ("a byte-order mark first", [b"\xEF\xBB\xBF".to_vec(), object(&valid)].concat()),
        ("invalid UTF-8", [format!("{{\"{first}\":\"").into_bytes(), vec![0xFF, 0xFE], b"\"}".to_vec()].concat()),
        ("nested 10,000 deep", format!("{{\"{first}\":{}{}}}", "[".repeat(10_000), "]".repeat(10_000)).into_bytes()),
        ("a field twice", object(&[valid.clone(), valid[..1].to_vec()].concat())),
    ];
    for (what, body) in raw_bodies {
        cases.push(base.named(what).json(body).expect(400, None));
    }
    for (name, raw) in [("isAdmin", "true"), ("PK", r#""USER#01ARZ3NDEKTSV4RRFFQ69G5FAV""#), ("authorId", r#""01ARZ3NDEKTSV4RRFFQ69G5FAV""#)] {
        let body = object(&[valid.clone(), vec![(name.to_string(), raw.to_string())]].concat());
        cases.push(base.named(format!("unknown field {name}")).json(body).expect(400, Some("unknown_field")));
    }
    if fields.iter().any(|f| f.required) {
        cases.push(base.named("empty object").json(b"{}".to_vec()).expect(400, None));
    }
    for content_type in [None, Some("text/plain"), Some("application/x-www-form-urlencoded"), Some("application/xml"), Some("multipart/form-data")] {
        let mut case = base.named(format!("content type {content_type:?}")).json(object(&valid)).expect(415, Some("unsupported_media_type"));
        case.content_type = content_type;
        cases.push(case);
    }
    for (i, field) in fields.iter().enumerate() {
        if field.required {
            let without: Vec<_> = valid.iter().filter(|(n, _)| n != field.name).cloned().collect();
            cases.push(base.named(format!("{} missing", field.name)).json(object(&without)).expect(400, None));
        }
        for raw in bad_values(field) {
            let mut body = valid.clone();
            body[i].1 = raw.clone();
            let shown: String = raw.chars().take(40).collect();
            cases.push(base.named(format!("{} = {shown}", field.name)).json(object(&body)).expect(400, None));
        }
    }
    cases
}

/// `target` with `pair` added to its query string.
fn with_query(target: &str, pair: &str) -> String {
    format!("{target}{}{pair}", if target.contains('?') { '&' } else { '?' })
}

/// Flips one character of a cursor, keeping it in the cursor alphabet.
fn flip(cursor: &str, at: usize) -> String {
    cursor.char_indices().map(|(i, c)| if i == at { if c == 'A' { 'B' } else { 'A' } } else { c }).collect()
}

/// Query cases for the parameters particular routes read (listings' `limit`
/// and `cursor` are found and covered on their own).
fn query_cases(route_key: &str, base: &Case, path: &str) -> Vec<Case> {
    let values: &[&str] = match route_key {
        "GET /users/by-email" => &[
            "",
            "email=",
            "email=not-an-email",
            "email=a%00b%40example.com",
            "email=%FF%40example.com",
            "email=a%40example.com&email=b%40example.com",
            "email=a%40example.com,b%40example.com",
        ],
        "GET /me/notifications" => &["unread=maybe", "unread=", "unread=TRUE", "unread=1", "unread=true&unread=false", "unread=true,false"],
        _ => &[],
    };
    let mut cases: Vec<Case> = values.iter().map(|q| Case { target: with_query(path, q), ..base.named(format!("query {q:?}")) }).collect();
    if route_key == "GET /users/by-email" {
        let long = format!("email={}%40example.com", "a".repeat(300));
        cases.push(Case { target: with_query(path, &long), ..base.named("overlong email") });
    }
    cases
}

fn if_match_cases(route_key: &str, base: &Case) -> Vec<Case> {
    if !route_key.starts_with("PATCH ") {
        return Vec::new();
    }
    let body = serde_json::to_vec(&valid_body(route_key).expect("PATCH routes read a body")).unwrap();
    ["abc", "\"\"", "\"-1\"", "\"1.5\"", "\"18446744073709551616\"", "W/\"1\"", "*", "\"1\", \"2\""]
        .iter()
        .map(|value| {
            let mut case = base.named(format!("If-Match {value}")).json(body.clone()).expect(400, Some("invalid_if_match"));
            case.headers.push(("if-match", value.to_string()));
            case
        })
        .collect()
}

fn path_id_cases(route: &RouteSpec, base: &Case, world: &World) -> Vec<Case> {
    let mut cases = Vec::new();
    let template_segments: Vec<&str> = route.path.split('/').collect();
    let filled: Vec<String> = world.path(&route.method, &route.path).split('/').map(str::to_string).collect();
    for (i, segment) in template_segments.iter().enumerate() {
        if !segment.starts_with('{') {
            continue;
        }
        // A tag is text, not an id: its own bad values, refused as a bad field.
        let (bads, code) = if *segment == "{tag}" { (BAD_TAGS, "invalid_field") } else { (BAD_IDS, "invalid_id") };
        for bad in bads {
            let mut segments = filled.clone();
            segments[i] = bad.to_string();
            let mut case = Case { target: segments.join("/"), ..base.named(format!("{segment} = {bad}")) };
            // The body a valid call would carry, so only the id is wrong.
            if let Some(body) = valid_body(&base.what) {
                case = case.json(serde_json::to_vec(&body).unwrap());
            }
            cases.push(case.expect(400, Some(code)));
        }
    }
    cases
}

/// Makes every listing the owner of `world` can see hold at least two
/// items, so each has a real cursor to tamper with.
async fn fill_listings(stack: &TestStack, world: &World) {
    let third = sign_up(stack, "Third", &email("third")).await;
    let owner = world.owner.key.as_str();
    publish_new_post(stack, &world.owner.key).await;
    // A second post on the world's tag, and the owner likes both.
    let tagged = stack.post("/posts").key(owner).json(serde_json::json!({"title": "T2", "content": "C", "tags": [world.tag]})).send().await;
    let tagged = tagged.body["id"].as_str().unwrap().to_string();
    assert_eq!(stack.post(&format!("/posts/{tagged}/publish")).key(owner).send().await.status, 200);
    for post in [&world.published, &tagged] {
        assert_eq!(stack.put(&format!("/posts/{post}/like")).key(owner).send().await.status, 204);
    }
    let draft = stack.post("/posts").key(owner).json(serde_json::json!({"title": "D2", "content": "C"})).send().await;
    assert_eq!(draft.status, 201);
    let comments = format!("/posts/{}/comments", world.published);
    let comment = stack.post(&comments).key(&world.other.key).json(serde_json::json!({"text": "hi"})).send().await;
    assert_eq!(comment.status, 201);
    for (follower, followee) in [(&world.other, &world.owner), (&third, &world.owner), (&world.owner, &world.other), (&world.owner, &third)] {
        let reply = stack.put(&format!("/users/{}/follow", followee.id)).key(&follower.key).send().await;
        assert_eq!(reply.status, 204);
    }
    // Two posts in the owner's home feed (the world's, and third's, pushed
    // by the stream processor; moto's stream may be broken by now).
    publish_new_post(stack, &third.key).await;
    if stack.offers(local::testing::Guarantee::IsolatedTransactions) {
        wait_for_feed(stack, owner, 2).await;
    }
}

#[tokio::test]
async fn every_route_refuses_bad_input_with_a_json_4xx() {
    let stack = TestStack::start().await;
    let world = World::build(&stack).await;
    fill_listings(&stack, &world).await;
    let template = stack.template();

    // Body routes are exactly those the registry says read a body.
    for (route, function) in template.routes() {
        let route_key = format!("{} {}", route.method, route.path);
        let registered = functions::FUNCTIONS.iter().find(|f| f.name == function.handler).unwrap();
        assert_eq!(registered.reads_body, body_fields(&route_key).is_some(), "{route_key}: common::body_fields vs the registry's reads_body");
    }

    // Listings: every GET that answers `nextCursor`, with a real cursor each.
    let mut listings = Vec::new();
    for (route, _) in template.routes().filter(|(r, _)| r.method == "GET") {
        let route_key = format!("{} {}", route.method, route.path);
        let key = route.authorizer.as_ref().map(|_| world.owner.key.as_str());
        let target = format!("{}{}", world.path("GET", &route.path), world.query(&route_key));
        let mut request = stack.get(&with_query(&target, "limit=1"));
        if let Some(key) = key {
            request = request.key(key);
        }
        let reply = request.send().await;
        assert_eq!(reply.status, 200, "{route_key}: {}", reply.brief());
        if route_key == "GET /me/feed"
            && reply.body["nextCursor"].is_null()
            && stack.lacks(
                local::testing::Guarantee::IsolatedTransactions,
                "bad_input::every_route_refuses_bad_input_with_a_json_4xx (the feed's cursor)",
            )
        {
            continue;
        }
        if reply.body.get("nextCursor").is_some() {
            let cursor = reply.body["nextCursor"].as_str().unwrap_or_else(|| panic!("{route_key}: fill_listings must give it two items"));
            listings.push((route_key, target, key, cursor.to_string()));
        }
    }
    assert!(listings.len() >= 8, "found only {} listings", listings.len());

    let mut cases = Vec::new();
    for (route, _) in template.routes() {
        let route_key = format!("{} {}", route.method, route.path);
        let key = route.authorizer.as_ref().map(|_| world.owner.key.as_str());
        let path = world.path(&route.method, &route.path);
        let base = Case::new(&route_key, &route.method, format!("{path}{}", world.query(&route_key)), key);

        let mut big = base.named("body over 10 MB").json(vec![b' '; local::gateway::MAX_BODY_BYTES + 1]);
        big = big.expect(413, Some("payload_too_large"));
        cases.push(big);
        cases.extend(path_id_cases(route, &base, &world));
        if let Some(fields) = body_fields(&route_key) {
            cases.extend(body_cases(&base, fields));
        }
        cases.extend(query_cases(&route_key, &base, &path));
        cases.extend(if_match_cases(&route_key, &base));
    }
    for (i, (route_key, target, key, cursor)) in listings.iter().enumerate() {
        let base = Case::new(route_key, "GET", target.clone(), *key);
        let foreign = &listings[(i + 1) % listings.len()].3;
        let limits =
            ["0", "-1", "101", "1000000", "2147483648", "18446744073709551616", "1e400", "abc", "", "1.5", "0x10", "%00", "5,6", "5&limit=6"];
        for limit in limits {
            // API Gateway joins a repeated parameter with commas in
            // `queryStringParameters`, but lambda_http reads `rawQueryString`:
            // a repeat stays a repeat (refused as ambiguous) and `5,6` is one
            // value that is not a number.
            let code = if limit.contains('&') { "invalid_request" } else { "invalid_limit" };
            cases
                .push(Case { target: with_query(target, &format!("limit={limit}")), ..base.named(format!("limit={limit}")).expect(400, Some(code)) });
        }
        let cursors = [
            ("altered", flip(cursor, 3)),
            ("altered tag", flip(cursor, cursor.len() - 2)),
            ("truncated", cursor[..cursor.len() - 3].to_string()),
            ("from another listing", foreign.clone()),
            ("garbage", "garbage".into()),
            ("overlong", "A".repeat(5_000)),
            ("not UTF-8", "%FF%FE.%FF".into()),
        ];
        for (what, bad) in cursors {
            cases.push(Case {
                target: with_query(target, &format!("cursor={bad}")),
                ..base.named(format!("cursor {what}")).expect(400, Some("invalid_cursor"))
            });
        }
        let twice = format!("cursor={cursor}&cursor={cursor}");
        cases.push(Case { target: with_query(target, &twice), ..base.named("cursor twice").expect(400, Some("invalid_request")) });
    }

    // Several at a time, each with a timeout: a hang fails its case.
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let slots = Arc::new(tokio::sync::Semaphore::new(8));
    let mut tasks = tokio::task::JoinSet::new();
    let count = cases.len();
    for case in cases {
        let (client, url, slots) = (client.clone(), stack.url().to_string(), slots.clone());
        tasks.spawn(async move {
            let _slot = slots.acquire_owned().await.unwrap();
            check(&client, &url, &case).await
        });
    }
    let mut failures = Vec::new();
    let mut answers = std::collections::BTreeMap::<String, usize>::new();
    while let Some(result) = tasks.join_next().await {
        match result.unwrap() {
            Ok(answer) => *answers.entry(answer).or_default() += 1,
            Err(failure) => failures.push(failure),
        }
    }
    failures.sort();
    let routes = template.routes().count();
    eprintln!("bad input: {count} cases over {routes} routes ({} listings), {} failed; answers: {answers:?}", listings.len(), failures.len());
    assert!(failures.is_empty(), "{} of {count} cases failed:\n{}", failures.len(), failures.join("\n"));
}
