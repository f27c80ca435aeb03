//! The item-size guard agrees with the engine: what we refuse with 413 the
//! engine would refuse too, and what we allow it stores.

use crate::common::*;
use aws_sdk_dynamodb::types::AttributeValue;
use local::testing::Guarantee;
use serde::Serialize;
use shared::item_size::MAX_ITEM_BYTES;
use shared::keys::{Key, Placement};

#[derive(Serialize)]
struct Doc {
    content: String,
}

fn doc(content_len: usize) -> Doc {
    Doc { content: "x".repeat(content_len) }
}

fn placement() -> Placement {
    Placement::new(Key { pk: "DOC#1".into(), sk: "DOC".into() })
}

#[tokio::test]
async fn an_oversized_item_is_413_and_would_be_refused_by_dynamodb() {
    let stack = TestStack::start().await;
    let table = stack.table();
    let err = shared::to_item(&doc(MAX_ITEM_BYTES), &placement()).unwrap_err();
    assert_eq!((err.status(), err.code()), (413, "item_too_large"));
    assert!(err.to_string().contains("400 KB"));

    // Sent anyway, the engine refuses it as DynamoDB does.
    let mut raw: std::collections::HashMap<String, AttributeValue> = serde_dynamo::to_item(doc(MAX_ITEM_BYTES)).unwrap();
    raw.extend(placement().to_attributes());
    let refused = table.client().put_item().table_name(table.name()).set_item(Some(raw)).send().await;
    assert!(refused.is_err(), "the engine accepted an item over 400 KB");
}

#[tokio::test]
async fn an_item_just_under_the_limit_is_stored() {
    let Some(stack) = TestStack::requiring(Guarantee::ExactItemSizeLimit, "an_item_just_under_the_limit_is_stored").await else {
        return;
    };
    let table = stack.table();
    let overhead = "PK".len() + "DOC#1".len() + "SK".len() + "DOC".len() + "content".len();
    let item = shared::to_item(&doc(MAX_ITEM_BYTES - overhead), &placement()).expect("exactly at the limit");
    assert_eq!(shared::item_size::item_size(&item), MAX_ITEM_BYTES);
    table.client().put_item().table_name(table.name()).set_item(Some(item)).send().await.expect("the engine stores it");
    let stored = table
        .client()
        .get_item()
        .table_name(table.name())
        .key("PK", AttributeValue::S("DOC#1".into()))
        .key("SK", AttributeValue::S("DOC".into()))
        .send()
        .await
        .unwrap();
    assert!(stored.item.is_some());
}
