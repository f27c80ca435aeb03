//! A function's `Policies` as the template writes them: its inline IAM
//! statements, read so a test can compare them with what the code calls,
//! and the names of any other policy it attaches.

use serde_yaml::Value;

/// One statement of an inline policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyStatement {
    pub effect: String,
    pub actions: Vec<String>,
    /// As written: `!GetAtt Table.Arn` reads `Table.Arn`, `!Sub "${Table.Arn}/index/GSI1"`
    /// its text, `'*'` is `*`.
    pub resources: Vec<String>,
    /// It uses `NotAction` or `NotResource`, which grant everything but what they name.
    pub negated: bool,
}

/// A scalar or an intrinsic function as text (see [`PolicyStatement::resources`]).
fn render(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Tagged(tagged) => match &tagged.value {
            Value::Sequence(parts) => parts.iter().map(render).collect::<Vec<_>>().join("."),
            other => render(other),
        },
        Value::Mapping(m) if m.len() == 1 => m.values().next().map(render).unwrap_or_default(),
        Value::Sequence(parts) => parts.iter().map(render).collect::<Vec<_>>().join("."),
        other => serde_yaml::to_string(other).unwrap_or_default().trim().to_string(),
    }
}

/// One value or a list of them, as text.
fn one_or_many(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::Sequence(many)) => many.iter().map(render).collect(),
        Some(one) => vec![render(one)],
        None => Vec::new(),
    }
}

/// The function's `Policies`: inline statements, and everything else by name.
pub(super) fn policies(resource: &Value) -> (Vec<PolicyStatement>, Vec<String>) {
    let entries = resource.get("Properties").and_then(|p| p.get("Policies"));
    let entries: Vec<&Value> = match entries {
        Some(Value::Sequence(many)) => many.iter().collect(),
        Some(one) => vec![one],
        None => Vec::new(),
    };
    let (mut statements, mut others) = (Vec::new(), Vec::new());
    for entry in entries {
        // A SAM policy template is `{Name: {params}}`, a managed policy its
        // name or ARN; a policy document holds `Statement` (and `Version`).
        let extra: Vec<String> = match entry.as_mapping() {
            Some(m) => m.keys().filter_map(Value::as_str).filter(|k| !matches!(*k, "Statement" | "Version")).map(str::to_string).collect(),
            None => vec![render(entry)],
        };
        others.extend(extra);
        let Some(list) = entry.get("Statement") else {
            continue;
        };
        let list: Vec<&Value> = match list {
            Value::Sequence(many) => many.iter().collect(),
            one => vec![one],
        };
        for statement in list {
            statements.push(PolicyStatement {
                effect: statement.get("Effect").map(render).unwrap_or_default(),
                actions: one_or_many(statement.get("Action")),
                resources: one_or_many(statement.get("Resource")),
                negated: statement.get("NotAction").is_some() || statement.get("NotResource").is_some(),
            });
        }
    }
    (statements, others)
}
