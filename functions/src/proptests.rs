//! Property tests of request parsing: whatever arrives as a body, a query
//! string, a path id or a cursor, parsing never panics and either succeeds or
//! answers a 4xx `shared::Error`; and valid inputs come back out as they went
//! in. Each property runs proptest's default 256 cases.

use crate::http::{bool_param, json_body, page_request, path_param, query_param};
use lambda_http::http::HeaderValue;
use lambda_http::{Body, Request, RequestExt};
use proptest::prelude::*;
use shared::ids::{PostId, UserId};
use shared::{Cursors, Error, validate};
use std::collections::HashMap;

/// Every request body type a route reads.
fn parse_every_body_type(request: &Request) -> Vec<Result<(), Error>> {
    vec![
        json_body::<shared::users::SignUp>(request).map(drop),
        json_body::<shared::users::ProfilePatch>(request).map(drop),
        json_body::<shared::users::PlanChange>(request).map(drop),
        json_body::<shared::api_keys::NewKeyRequest>(request).map(drop),
        json_body::<shared::posts::NewPost>(request).map(drop),
        json_body::<shared::posts::PostPatch>(request).map(drop),
        json_body::<shared::comments::NewComment>(request).map(drop),
    ]
}

fn json_request(body: Body) -> Request {
    let mut request = Request::new(body);
    request.headers_mut().insert("content-type", HeaderValue::from_static("application/json"));
    request
}

/// A client mistake: a 4xx with a code and a message.
fn is_client_error(err: &Error) -> bool {
    (400..500).contains(&err.status()) && !err.code().is_empty() && !err.to_string().is_empty()
}

/// A request as Quire decodes API Gateway's event (crate::event), with this raw query string.
fn with_raw_query(raw_query: &str) -> Request {
    let mut event: serde_json::Value = serde_json::from_str(include_str!("../../events/list-users.json")).unwrap();
    event["rawQueryString"] = raw_query.into();
    event.as_object_mut().unwrap().remove("queryStringParameters");
    crate::event::from_str(&event.to_string()).expect("any raw query decodes")
}

/// Any JSON value, nested a little, with strings of any characters and
/// numbers of any size (as raw text, so 1e400 and 2^64 can appear).
fn json_value() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("null".to_string()),
        any::<bool>().prop_map(|b| b.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|n| serde_json::to_string(&n).unwrap()),
        prop::sample::select(vec!["1e400", "-1e400", "18446744073709551616", "-0", "1.0", "4294967296"]).prop_map(str::to_string),
        any::<String>().prop_map(|s| serde_json::to_string(&s).unwrap()),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|items| format!("[{}]", items.join(","))),
            prop::collection::vec((field_name(), inner), 0..4).prop_map(|members| object(&members)),
        ]
    })
}

/// The names request bodies use, and any other.
fn field_name() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec!["name", "email", "bio", "from", "to", "expiresInDays", "title", "content", "tags", "text"])
            .prop_map(str::to_string),
        any::<String>(),
    ]
}

fn object(members: &[(String, String)]) -> String {
    let members: Vec<String> = members.iter().map(|(k, v)| format!("{}:{v}", serde_json::to_string(k).unwrap())).collect();
    format!("{{{}}}", members.join(","))
}

/// Text a client could validly send as a one-line name: 1 to `max`
/// characters, no control characters, not blank.
fn line(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(any::<char>().prop_filter("no control characters", |c| !c.is_control()), 1..=max)
        .prop_map(|chars| chars.into_iter().collect::<String>())
        .prop_filter("not blank", |s| !s.trim().is_empty())
}

/// Any characters as a hand-made raw query string may hold them (`"`, `<`,
/// `#`, spaces, controls: crate::event encodes what lambda_http would panic
/// on), and percent-encoded bytes of any value.
fn raw_query() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        prop::sample::select(vec!["limit", "cursor", "unread", "email", "=", "&", ",", ";", "+", ".", "-", "_", "~", "%", "true", "false"])
            .prop_map(str::to_string),
        any::<u8>().prop_map(|b| format!("%{b:02X}")),
        prop::char::range('\0', '\u{FF}').prop_map(String::from),
        any::<char>().prop_map(String::from),
        any::<i64>().prop_map(|n| n.to_string()),
    ];
    prop::collection::vec(token, 0..12).prop_map(|tokens| tokens.concat())
}

fn cursors() -> Cursors {
    Cursors::new(&[7u8; 32]).unwrap()
}

proptest! {
    #[test]
    fn any_bytes_as_a_body_parse_or_are_a_4xx(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        for result in parse_every_body_type(&json_request(Body::Binary(bytes.clone()))) {
            if let Err(err) = result {
                prop_assert!(is_client_error(&err), "{err:?}");
            }
        }
    }

    #[test]
    fn any_json_as_a_body_parses_or_is_a_4xx(members in prop::collection::vec((field_name(), json_value()), 0..5), top in json_value()) {
        for text in [object(&members), top] {
            for result in parse_every_body_type(&json_request(Body::Text(text.clone()))) {
                if let Err(err) = result {
                    prop_assert!(is_client_error(&err), "{text}: {err:?}");
                    prop_assert!(matches!(err.code(), "invalid_json" | "unknown_field" | "missing_body"), "{text}: {err:?}");
                }
            }
        }
    }

    #[test]
    fn any_text_is_validated_or_refused_with_invalid_field(raw in any::<String>(), max in 1usize..50) {
        for result in [validate::single_line("f", &raw, max), validate::multi_line("f", &raw, max), validate::email(&raw)] {
            match result {
                Ok(value) => {
                    prop_assert!(value.chars().count() <= max.max(validate::EMAIL_MAX_BYTES));
                    prop_assert_eq!(value.trim(), value.as_str());
                }
                Err(err) => prop_assert_eq!((err.status(), err.code()), (400, "invalid_field")),
            }
        }
        if let Ok(name) = validate::single_line("f", &raw, max) {
            prop_assert!(!name.is_empty() && name.chars().count() <= max && !name.chars().any(char::is_control));
        }
    }

    #[test]
    fn a_valid_sign_up_round_trips(name in line(100), user in "[a-z0-9._]{1,20}", domain in "[a-z0-9]{1,20}", tld in "[a-z]{2,6}") {
        let email = format!("{user}@{domain}.{tld}");
        let body = serde_json::json!({"name": name, "email": email.to_uppercase()}).to_string();
        let parsed: shared::users::SignUp = json_body(&json_request(Body::Text(body))).unwrap();
        prop_assert_eq!(&parsed.name, &name);
        prop_assert_eq!(validate::single_line("name", &parsed.name, 100).unwrap(), name.trim());
        if !user.starts_with('.') && !user.ends_with('.') && !user.contains("..") {
            prop_assert_eq!(validate::email(&parsed.email).unwrap(), email);
        }
    }

    #[test]
    fn a_valid_post_round_trips(title in line(200), content in line(2_000), tags in prop::collection::vec(line(30), 0..10)) {
        let body = serde_json::json!({"title": title, "content": content, "tags": tags}).to_string();
        let parsed: shared::posts::NewPost = json_body(&json_request(Body::Text(body))).unwrap();
        prop_assert_eq!((&parsed.title, &parsed.content, &parsed.tags), (&title, &content, &tags));
    }

    #[test]
    fn any_raw_query_string_parses_or_is_a_4xx(raw in raw_query()) {
        let request = with_raw_query(&raw);
        for err in [page_request(&request).err(), bool_param(&request, "unread").err(), query_param(&request, "email").err()].into_iter().flatten() {
            prop_assert!(is_client_error(&err), "{raw}: {err:?}");
        }
    }

    #[test]
    fn a_valid_page_request_round_trips(limit in 1i32..=100, unread in any::<bool>(), cursor in "[A-Za-z0-9_-]{1,40}") {
        let request = with_raw_query(&format!("limit={limit}&unread={unread}&cursor={cursor}"));
        let page = page_request(&request).unwrap();
        prop_assert_eq!((page.limit, page.cursor.as_deref()), (limit, Some(cursor.as_str())));
        prop_assert_eq!(bool_param(&request, "unread").unwrap(), Some(unread));
    }

    #[test]
    fn any_limit_outside_1_to_100_is_invalid_limit(limit in any::<i64>().prop_filter("out of range", |n| !(1..=100).contains(n))) {
        let err = page_request(&with_raw_query(&format!("limit={limit}"))).unwrap_err();
        prop_assert_eq!(err.code(), "invalid_limit");
    }

    #[test]
    fn any_path_id_parses_or_is_invalid_id(raw in prop_oneof![any::<String>(), "[0-9A-Za-z]{24,28}"]) {
        let request = Request::default().with_path_parameters(HashMap::from([("userId".to_string(), raw.clone())]));
        match path_param::<UserId>(&request, "userId") {
            Ok(id) => prop_assert!(id.to_string().eq_ignore_ascii_case(&raw), "{raw} read as {id}"),
            Err(err) => prop_assert_eq!((err.status(), err.code()), (400, "invalid_id")),
        }
    }

    #[test]
    fn every_valid_id_round_trips_in_either_case(bits in any::<u128>()) {
        let text = ulid::Ulid(bits).to_string();
        for spelled in [text.clone(), text.to_lowercase()] {
            let request = Request::default().with_path_parameters(HashMap::from([("postId".to_string(), spelled)]));
            prop_assert_eq!(path_param::<PostId>(&request, "postId").unwrap().to_string(), text.clone());
        }
    }

    #[test]
    fn any_cursor_string_is_refused_with_invalid_cursor(raw in prop_oneof![any::<String>(), "[A-Za-z0-9_-]{0,60}\\.[A-Za-z0-9_-]{0,30}"]) {
        let err = cursors().verify("users", &raw).unwrap_err();
        prop_assert_eq!((err.status(), err.code()), (400, "invalid_cursor"));
    }

    #[test]
    fn a_signed_cursor_round_trips_and_any_change_is_refused(
        key in prop::collection::btree_map(prop::sample::select(vec!["PK", "SK", "GSI1PK", "GSI1SK"]), any::<String>(), 1..4),
        at in any::<prop::sample::Index>(),
        replacement in any::<char>(),
    ) {
        let attributes: HashMap<String, aws_sdk_dynamodb::types::AttributeValue> =
            key.iter().map(|(k, v)| (k.to_string(), aws_sdk_dynamodb::types::AttributeValue::S(v.clone()))).collect();
        let cursor = cursors().sign("users", &attributes).unwrap();
        prop_assert_eq!(cursors().verify("users", &cursor).unwrap(), attributes);
        prop_assert_eq!(cursors().verify("followers:x", &cursor).unwrap_err().code(), "invalid_cursor");
        let position = at.index(cursor.chars().count());
        let changed: String = cursor.chars().enumerate().map(|(i, c)| if i == position { replacement } else { c }).collect();
        if changed != cursor {
            prop_assert_eq!(cursors().verify("users", &changed).unwrap_err().code(), "invalid_cursor");
        }
    }
}
