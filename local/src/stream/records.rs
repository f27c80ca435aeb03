//! Stream records as Lambda hands them to a function, and Lambda's event
//! filtering over them.

use aws_sdk_dynamodbstreams::types::Record;
use serde_json::{Value, json};
use std::collections::HashMap;

/// A stream record in the JSON form Lambda delivers.
pub fn lambda_record(record: &Record, stream_arn: &str) -> Value {
    let image = |m: Option<&HashMap<String, aws_sdk_dynamodbstreams::types::AttributeValue>>| {
        m.map(|m| serde_json::to_value(serde_dynamo::Item::from(m.clone())).unwrap_or(Value::Null))
    };
    let change = record.dynamodb.as_ref();
    let mut dynamodb = json!({
        "ApproximateCreationDateTime": change.and_then(|c| c.approximate_creation_date_time()).map(|t| t.as_secs_f64()),
        "Keys": image(change.and_then(|c| c.keys.as_ref())),
        "SequenceNumber": change.and_then(|c| c.sequence_number()),
        "SizeBytes": change.and_then(|c| c.size_bytes()),
        "StreamViewType": change.and_then(|c| c.stream_view_type()).map(|v| v.as_str()),
    });
    if let Some(new) = image(change.and_then(|c| c.new_image.as_ref())) {
        dynamodb["NewImage"] = new;
    }
    if let Some(old) = image(change.and_then(|c| c.old_image.as_ref())) {
        dynamodb["OldImage"] = old;
    }
    let mut json = json!({
        "eventID": record.event_id(),
        "eventName": record.event_name().map(|n| n.as_str()),
        "eventVersion": record.event_version(),
        "eventSource": "aws:dynamodb",
        "awsRegion": record.aws_region().unwrap_or("us-east-1"),
        "dynamodb": dynamodb,
        "eventSourceARN": stream_arn,
    });
    if let Some(identity) = record.user_identity() {
        // DynamoDB streams carry an identity only for TTL deletions. dynoxide
        // 3.2 spells its members `type`/`principalId` where the Streams API
        // has `Type`/`PrincipalId`, so the SDK reads them as absent: the
        // identity's presence is what tells.
        json["userIdentity"] = json!({
            "type": identity.r#type().unwrap_or("Service"),
            "principalId": identity.principal_id().unwrap_or("dynamodb.amazonaws.com"),
        });
    }
    json
}

/// Lambda's event filtering, for the patterns Quire uses: every field of the
/// pattern must be present, and a list matches any of its values.
pub fn matches(pattern: &Value, event: &Value) -> bool {
    match pattern {
        Value::Object(fields) => fields.iter().all(|(key, sub)| event.get(key).is_some_and(|value| matches(sub, value))),
        Value::Array(options) => options.iter().any(|option| option == event),
        other => other == event,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_match_as_lambda_does() {
        let pattern =
            json!({"eventName": ["MODIFY"], "dynamodb": {"OldImage": {"status": {"S": ["draft"]}}, "NewImage": {"status": {"S": ["published"]}}}});
        let publish = json!({"eventName": "MODIFY", "dynamodb": {"OldImage": {"status": {"S": "draft"}}, "NewImage": {"status": {"S": "published"}, "x": {"N": "1"}}}});
        let view =
            json!({"eventName": "MODIFY", "dynamodb": {"OldImage": {"status": {"S": "published"}}, "NewImage": {"status": {"S": "published"}}}});
        assert!(matches(&pattern, &publish));
        assert!(!matches(&pattern, &view));
        assert!(!matches(&pattern, &json!({"eventName": "INSERT"})));
        let read = json!({"dynamodb": {"NewImage": {"read": {"BOOL": [true]}}}});
        assert!(matches(&read, &json!({"dynamodb": {"NewImage": {"read": {"BOOL": true}}}})));
        assert!(!matches(&read, &json!({"dynamodb": {"NewImage": {"read": {"BOOL": false}}}})));
    }
}
