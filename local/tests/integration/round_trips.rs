//! The round-trip counter (an SDK interceptor) sees every DynamoDB call, by
//! operation, scoped to the future that made it.

use crate::common::*;
use aws_sdk_dynamodb::types::AttributeValue;
use shared::keys::{Key, PK};
use shared::round_trips::{record, total};

fn key(n: u32) -> Key {
    Key { pk: format!("COUNT#{n}"), sk: "X".into() }
}

#[tokio::test]
async fn counts_each_call_by_operation_in_order() {
    let stack = TestStack::start().await;
    let table = stack.table().clone();
    let before = total();
    let ((), calls) = record(async {
        let c = table.client();
        c.put_item().table_name(table.name()).set_item(Some(key(1).to_attributes())).send().await.unwrap();
        c.get_item().table_name(table.name()).set_key(Some(key(1).to_attributes())).send().await.unwrap();
        c.query()
            .table_name(table.name())
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_values(":pk", AttributeValue::S(key(1).pk))
            .send()
            .await
            .unwrap();
        c.delete_item().table_name(table.name()).set_key(Some(key(1).to_attributes())).send().await.unwrap();
    })
    .await;
    assert_eq!(calls, ["PutItem", "GetItem", "Query", "DeleteItem"]);
    assert!(total() - before >= 4, "the process-wide total counts them too");
}

#[tokio::test]
async fn concurrent_scopes_see_only_their_own_calls() {
    let stack = TestStack::start().await;
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..8u32 {
        let table = stack.table().clone();
        tasks.spawn(record(async move {
            for _ in 0..=n {
                table.client().put_item().table_name(table.name()).set_item(Some(key(n).to_attributes())).send().await.unwrap();
            }
            n
        }));
    }
    while let Some(joined) = tasks.join_next().await {
        let (n, calls) = joined.unwrap();
        assert_eq!(calls.len(), n as usize + 1, "task {n}");
        assert!(calls.iter().all(|c| c == "PutItem"));
    }
}

#[tokio::test]
async fn calls_outside_a_scope_are_not_attributed() {
    let stack = TestStack::start().await;
    let table = stack.table();
    table.client().get_item().table_name(table.name()).set_key(Some(key(9).to_attributes())).send().await.unwrap();
    let ((), calls) = record(async {}).await;
    assert!(calls.is_empty());
}
