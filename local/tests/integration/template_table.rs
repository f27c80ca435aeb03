//! The table is created from template.yaml's Table resource, read at run
//! time: what DynamoDB reports must be what the template declares.

use crate::common::*;
use local::template::{Template, default_path};
use std::collections::BTreeSet;

#[tokio::test]
async fn the_table_is_the_one_the_template_declares() {
    let stack = TestStack::start().await;
    let declared = Template::load(&default_path()).unwrap().table;
    let client = stack.table().client();
    let described = client.describe_table().table_name(stack.table().name()).send().await.unwrap().table.unwrap();

    let keys = |schema: &[aws_sdk_dynamodb::types::KeySchemaElement]| -> Vec<(String, String)> {
        schema.iter().map(|k| (k.attribute_name.clone(), k.key_type.as_str().to_string())).collect()
    };
    let declared_keys = |schema: &[local::template::KeyDef]| -> Vec<(String, String)> {
        schema.iter().map(|k| (k.attribute_name.clone(), k.key_type.clone())).collect()
    };
    assert_eq!(keys(described.key_schema()), declared_keys(&declared.key_schema));
    assert_eq!(keys(described.key_schema()), [("PK".into(), "HASH".into()), ("SK".into(), "RANGE".into())]);

    let attributes: BTreeSet<_> =
        described.attribute_definitions().iter().map(|a| (a.attribute_name.clone(), a.attribute_type.as_str().to_string())).collect();
    let declared_attributes: BTreeSet<_> =
        declared.attribute_definitions.iter().map(|a| (a.attribute_name.clone(), a.attribute_type.clone())).collect();
    assert_eq!(attributes, declared_attributes);

    let indexes = described.global_secondary_indexes();
    assert_eq!(indexes.len(), declared.global_secondary_indexes.len());
    for index in &declared.global_secondary_indexes {
        let found = indexes.iter().find(|i| i.index_name() == Some(index.index_name.as_str())).expect("index exists");
        assert_eq!(keys(found.key_schema()), declared_keys(&index.key_schema), "{}", index.index_name);
        let projection = found.projection().and_then(|p| p.projection_type()).map(|p| p.as_str().to_string());
        assert_eq!(projection.as_deref(), Some(index.projection.projection_type.as_str()));
        // Each index holds what the listings show, as keys.rs states it: no more (a
        // post's content, an owner-only count), no less (a listing would fail to read).
        let projected: BTreeSet<&str> = found.projection().map(|p| p.non_key_attributes()).unwrap_or_default().iter().map(String::as_str).collect();
        let listed: BTreeSet<&str> = shared::keys::LISTED_ATTRIBUTES.iter().copied().collect();
        assert_eq!(projected, listed, "{}", index.index_name);
        assert_eq!(listed.len(), shared::keys::LISTED_ATTRIBUTES.len(), "no attribute listed twice");
        assert!(!projected.contains("content") && !projected.contains("unreadNotificationCount") && !projected.contains("email"));
    }
    let names: Vec<_> = indexes.iter().filter_map(|i| i.index_name()).collect();
    assert!(names.contains(&"GSI1") && names.contains(&"GSI2"));

    let stream = described.stream_specification().expect("a stream");
    assert!(stream.stream_enabled());
    assert_eq!(stream.stream_view_type().map(|v| v.as_str()), Some("NEW_AND_OLD_IMAGES"));
    assert!(described.latest_stream_arn().is_some());

    let ttl = client.describe_time_to_live().table_name(stack.table().name()).send().await.unwrap();
    let ttl = ttl.time_to_live_description().unwrap();
    assert_eq!(ttl.attribute_name(), Some(shared::keys::EXPIRES_AT));
    assert_eq!(ttl.time_to_live_status().map(|s| s.as_str()), Some("ENABLED"));
}

/// The SDK must give up (and answer with a clean error) before Lambda ends
/// the function: every function's `Timeout` is above the data model's
/// operation timeout, and the template's own (not SAM's 3 s default) is read.
#[test]
fn every_function_outlasts_the_sdk_operation_timeout() {
    let template = Template::load(&default_path()).unwrap();
    assert!(template.functions.len() >= 32);
    for function in &template.functions {
        assert!(
            std::time::Duration::from_secs(function.timeout_seconds) > shared::table::OPERATION_TIMEOUT,
            "{}: Timeout {} s is not above the SDK's {:?}",
            function.logical_id,
            function.timeout_seconds,
            shared::table::OPERATION_TIMEOUT
        );
    }
    let processor = template.functions.iter().find(|f| f.handler == "stream-processor").unwrap();
    assert_eq!(processor.timeout_seconds, 300, "its own Timeout wins over Globals");
    let get_post = template.functions.iter().find(|f| f.handler == "get-post").unwrap();
    assert_eq!(get_post.timeout_seconds, 10, "Globals.Function.Timeout");
}
