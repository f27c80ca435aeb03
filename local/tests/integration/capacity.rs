//! What requests cost in DynamoDB capacity units: every call asks for its
//! `ConsumedCapacity` (by table and index), and the local stack adds them up
//! per request in `x-quire-dynamodb-capacity` (the authorizer's apart). The
//! figures follow DynamoDB's rules: 0.5 RCU per 4 KB read eventually
//! consistent, 1 WCU per 1 KB written, again in every index the write
//! changes.

use crate::common::*;
use local::testing::Guarantee;
use serde_json::json;

#[tokio::test]
async fn reads_and_writes_report_their_units_by_table_and_index() {
    let Some(stack) = TestStack::requiring(Guarantee::ExactConsumedCapacity, "reads_and_writes_report_their_units_by_table_and_index").await else {
        return;
    };
    let ada = sign_up(&stack, "Ada", &email("ada")).await;
    let post = publish_new_post(&stack, &ada.key).await;

    // A GetItem of a small item: half a read unit.
    let read = stack.get(&format!("/posts/{post}")).send().await;
    assert_eq!(read.capacity(), json!({"read": {"table": 0.5}, "write": {}}));
    // A Query of the author's published posts reads GSI1 only.
    let listed = stack.get(&format!("/users/{}/posts", ada.id)).send().await;
    assert_eq!(listed.capacity(), json!({"read": {"GSI1": 0.5}, "write": {}}));
    // A view rewrites the post, and GSI1 holds all of its attributes.
    let viewed = stack.post(&format!("/posts/{post}/views")).send().await;
    assert_eq!(viewed.capacity(), json!({"read": {}, "write": {"GSI1": 1.0, "table": 1.0}}));
    // The authorizer's UpdateItem of the key, which is in no index.
    let me = stack.get("/me").key(&ada.key).send().await;
    assert_eq!(me.authorizer_capacity(), json!({"read": {}, "write": {"table": 1.0}}));
    assert_eq!(me.capacity(), json!({"read": {"table": 0.5}, "write": {}}));
    // No call, no units.
    assert_eq!(stack.get("/health").send().await.capacity(), json!({"read": {}, "write": {}}));
}
