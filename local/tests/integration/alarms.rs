//! template.yaml's alarms and dashboard: every function, queue, the HTTP API
//! and the table (and each of its indexes) has its alarms, every alarm tells
//! the alarm topic, and the dashboard is JSON that shows Quire's own metrics.
//! All read from the template, so a resource added without its alarms fails here.

use local::template::{Template, default_path};
use serde_yaml::{Mapping, Value};

/// The SNS topic every alarm notifies.
const TOPIC: &str = "AlarmTopic";

/// The template's resources, as YAML (`!Ref X` reads as a value tagged `Ref`).
fn resources() -> Mapping {
    let doc: Value = serde_yaml::from_str(&std::fs::read_to_string(default_path()).unwrap()).unwrap();
    doc["Resources"].as_mapping().expect("a Resources section").clone()
}

/// The resources of one type, with their logical ids.
fn of_type<'a>(resources: &'a Mapping, kind: &str) -> Vec<(&'a str, &'a Value)> {
    resources.iter().filter(|(_, r)| r["Type"].as_str() == Some(kind)).map(|(id, r)| (id.as_str().unwrap(), r)).collect()
}

/// Whether `value` is `!<tag> <target>`, as `!Ref Table` or `!GetAtt Queue.QueueName`.
fn is(value: &Value, tag: &str, target: &str) -> bool {
    matches!(value, Value::Tagged(t) if t.tag == tag && t.value.as_str() == Some(target))
}

fn notifies_topic(alarm: &Value) -> bool {
    alarm["Properties"]["AlarmActions"].as_sequence().is_some_and(|actions| actions.iter().any(|a| is(a, "Ref", TOPIC)))
}

/// One metric an alarm watches: its own, or one of its metric math's.
struct Watched<'a> {
    alarm: &'a str,
    namespace: &'a str,
    metric: &'a str,
    dimensions: &'a Value,
    notifies_topic: bool,
}

impl Watched<'_> {
    fn dimension(&self, name: &str) -> Option<&Value> {
        self.dimensions.as_sequence()?.iter().find(|d| d["Name"].as_str() == Some(name)).map(|d| &d["Value"])
    }

    /// Whether dimension `name` is `!<tag> <target>`.
    fn refers(&self, name: &str, tag: &str, target: &str) -> bool {
        self.dimension(name).is_some_and(|v| is(v, tag, target))
    }
}

/// Every metric of every alarm.
fn watched(resources: &Mapping) -> Vec<Watched<'_>> {
    let mut all = Vec::new();
    for (id, alarm) in of_type(resources, "AWS::CloudWatch::Alarm") {
        let props = &alarm["Properties"];
        let math = props["Metrics"].as_sequence().into_iter().flatten().map(|m| &m["MetricStat"]["Metric"]);
        for metric in std::iter::once(props).chain(math) {
            if let (Some(namespace), Some(name)) = (metric["Namespace"].as_str(), metric["MetricName"].as_str()) {
                let dimensions = &metric["Dimensions"];
                all.push(Watched { alarm: id, namespace, metric: name, dimensions, notifies_topic: notifies_topic(alarm) });
            }
        }
    }
    all
}

/// Asserts that an alarm watches `namespace` `metric` of `what` (which `fits`
/// tells) and notifies the topic.
fn assert_alarmed(watched: &[Watched<'_>], namespace: &str, metric: &str, what: &str, fits: impl Fn(&Watched<'_>) -> bool) {
    let found: Vec<&Watched> = watched.iter().filter(|&w| w.namespace == namespace && w.metric == metric && fits(w)).collect();
    assert!(!found.is_empty(), "no alarm on {namespace} {metric} of {what}");
    assert!(found.iter().any(|w| w.notifies_topic), "{}, on {namespace} {metric} of {what}, does not notify {TOPIC}", found[0].alarm);
}

#[test]
fn every_alarm_notifies_the_topic() {
    let resources = resources();
    assert_eq!(resources.get(TOPIC).and_then(|t| t["Type"].as_str()), Some("AWS::SNS::Topic"), "{TOPIC} is the alarms' SNS topic");
    let alarms = of_type(&resources, "AWS::CloudWatch::Alarm");
    assert!(!alarms.is_empty(), "no AWS::CloudWatch::Alarm at all");
    for (id, alarm) in alarms {
        assert!(notifies_topic(alarm), "{id}: its AlarmActions do not include !Ref {TOPIC}");
    }
}

#[test]
fn every_function_has_errors_and_throttles_alarms() {
    let resources = resources();
    let watched = watched(&resources);
    let template = Template::load(&default_path()).unwrap();
    assert!(!template.functions.is_empty());
    for function in &template.functions {
        let id = function.logical_id.as_str();
        for metric in ["Errors", "Throttles"] {
            assert_alarmed(&watched, "AWS/Lambda", metric, id, |w| w.refers("FunctionName", "Ref", id));
        }
    }
}

/// A stream consumer that falls behind shows in its IteratorAge, not in its errors.
#[test]
fn every_stream_consumer_has_an_iterator_age_alarm() {
    let resources = resources();
    let watched = watched(&resources);
    let template = Template::load(&default_path()).unwrap();
    let consumers: Vec<&str> = template.functions.iter().filter(|f| f.stream.is_some()).map(|f| f.logical_id.as_str()).collect();
    assert!(!consumers.is_empty(), "the stream processor reads the table's stream");
    for id in consumers {
        assert_alarmed(&watched, "AWS/Lambda", "IteratorAge", id, |w| w.refers("FunctionName", "Ref", id));
    }
}

/// A message in a queue (the stream's dead letters) is work given up on.
#[test]
fn every_queue_alarms_when_messages_wait() {
    let resources = resources();
    let watched = watched(&resources);
    let queues = of_type(&resources, "AWS::SQS::Queue");
    assert!(!queues.is_empty(), "the stream's dead-letter queue");
    for (id, _) in queues {
        let name = format!("{id}.QueueName");
        assert_alarmed(&watched, "AWS/SQS", "ApproximateNumberOfMessagesVisible", id, |w| w.refers("QueueName", "GetAtt", &name));
    }
}

#[test]
fn the_http_api_alarms_on_5xx() {
    let resources = resources();
    let watched = watched(&resources);
    let apis = of_type(&resources, "AWS::Serverless::HttpApi");
    assert!(!apis.is_empty());
    for (id, _) in apis {
        assert_alarmed(&watched, "AWS/ApiGateway", "5xx", id, |w| w.refers("ApiId", "Ref", id));
    }
}

/// TableName alone counts the table's own throttled events, not its
/// indexes': each index needs its own GlobalSecondaryIndexName metric.
#[test]
fn the_table_and_each_index_alarm_on_throttling() {
    let resources = resources();
    let watched = watched(&resources);
    let (table, _) = of_type(&resources, "AWS::DynamoDB::Table")[0];
    let indexes = Template::load(&default_path()).unwrap().table.global_secondary_indexes;
    assert!(!indexes.is_empty());
    for metric in ["ReadThrottleEvents", "WriteThrottleEvents"] {
        assert_alarmed(&watched, "AWS/DynamoDB", metric, table, |w| {
            w.refers("TableName", "Ref", table) && w.dimension("GlobalSecondaryIndexName").is_none()
        });
        for index in &indexes {
            let name = index.index_name.as_str();
            assert_alarmed(&watched, "AWS/DynamoDB", metric, &format!("{table} index {name}"), |w| {
                w.refers("TableName", "Ref", table) && w.dimension("GlobalSecondaryIndexName").and_then(Value::as_str) == Some(name)
            });
        }
    }
}

/// The body as CloudFormation hands it over: each `${...}` of the `!Sub`
/// replaced (they all sit inside JSON strings).
fn without_variables(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(start) = rest.find("${") {
        let end = start + rest[start..].find('}').expect("a ${ without its }");
        out.push_str(&rest[..start]);
        out.push('x');
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

fn strings(value: &serde_json::Value) -> Vec<&str> {
    match value {
        serde_json::Value::String(s) => vec![s.as_str()],
        serde_json::Value::Array(items) => items.iter().flat_map(strings).collect(),
        serde_json::Value::Object(fields) => fields.values().flat_map(strings).collect(),
        _ => Vec::new(),
    }
}

#[test]
fn the_dashboard_is_json_and_shows_quires_own_metrics() {
    let resources = resources();
    let dashboards = of_type(&resources, "AWS::CloudWatch::Dashboard");
    assert_eq!(dashboards.len(), 1, "one AWS::CloudWatch::Dashboard");
    let body = match &dashboards[0].1["Properties"]["DashboardBody"] {
        Value::Tagged(t) if t.tag == "Sub" => t.value.as_str(),
        other => other.as_str(),
    };
    let body = without_variables(body.expect("DashboardBody is a string, or a !Sub of one"));
    let json: serde_json::Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("the dashboard body is not JSON: {e}"));
    assert!(json["widgets"].as_array().is_some_and(|w| !w.is_empty()), "the dashboard has no widgets");
    // A metric ["Quire", ...] or a SEARCH('{Quire,...} ...').
    let quire = strings(&json).into_iter().any(|s| s == "Quire" || s.contains("{Quire,") || s.contains("{Quire}"));
    assert!(quire, "the dashboard shows no metric of namespace Quire (the functions' Embedded Metric Format)");
}
