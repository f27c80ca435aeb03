//! Reads template.yaml at run time: the table's definition and the HTTP
//! routes with the function (handler) behind each. There is no second copy of
//! either anywhere: tests and the local stack build everything from here.
//!
//! The table's definition and its creation are in `table`, a function's IAM
//! policies in `iam`; this file reads functions, routes and authorizers.

mod api;
mod iam;
mod table;

pub use api::{Cors, Throttle};
pub use iam::PolicyStatement;
pub use table::{AttributeDef, IndexDef, KeyDef, ProjectionDef, StreamDef, TableDefinition, TtlDef};

use iam::policies;
use serde::Deserialize;
use serde_yaml::Value;
use std::path::{Path, PathBuf};

/// The repository's template.yaml (found from this crate's source folder,
/// so `cargo run` and `cargo test` work from any directory).
pub fn default_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml")
}

#[derive(Debug, Clone)]
pub struct Template {
    pub table: TableDefinition,
    pub functions: Vec<Function>,
    /// The HTTP API's Lambda authorizers.
    pub authorizers: Vec<AuthorizerSpec>,
    /// The stage's default route throttling, if set.
    pub throttle: Option<Throttle>,
    /// The HTTP API's CORS configuration, if set.
    pub cors: Option<Cors>,
}

/// A Lambda authorizer of the HTTP API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizerSpec {
    pub name: String,
    /// The function named by `FunctionArn: !GetAtt <Function>.Arn`.
    pub function: String,
    /// `Identity.Headers`: API Gateway answers 401 without invoking the
    /// authorizer when one is missing.
    pub identity_headers: Vec<String>,
}

/// An `AWS::Serverless::Function` and the HTTP API routes it serves.
#[derive(Debug, Clone, PartialEq)]
pub struct Function {
    pub logical_id: String,
    /// `Handler` (its own, else `Globals.Function`'s): the entry of
    /// `functions::FUNCTIONS` the one binary runs for it.
    pub handler: String,
    /// `Metadata`, as written: equal for every function, so SAM builds one
    /// binary for all of them (a test checks).
    pub metadata: Value,
    pub routes: Vec<RouteSpec>,
    /// Its inline policy statements.
    pub iam_statements: Vec<PolicyStatement>,
    /// Its other `Policies` entries (a SAM policy template such as
    /// `DynamoDBCrudPolicy`, a managed policy): what they grant is not
    /// written in the template, so a test refuses them.
    pub other_policies: Vec<String>,
    /// Its `DynamoDB` event (the table's stream), if it has one.
    pub stream: Option<StreamEvent>,
    /// `Timeout` in seconds: its own, else `Globals.Function`'s, else SAM's 3.
    pub timeout_seconds: u64,
    /// `MemorySize` (its own, else `Globals.Function`'s; Lambda's default 128).
    pub memory_mb: u32,
    /// Its own `Environment.Variables` that the template settles: plain
    /// values, and `!Ref` to a parameter (its `Default`). Others (the table's
    /// name, a secret) are the local stack's own.
    pub environment: std::collections::BTreeMap<String, String>,
}

/// A `Type: DynamoDB` event: how Lambda feeds the stream to the function.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StreamEvent {
    pub starting_position: String,
    #[serde(default = "default_batch_size")]
    pub batch_size: usize,
    #[serde(default)]
    pub maximum_batching_window_in_seconds: u64,
    #[serde(default)]
    pub function_response_types: Vec<String>,
    #[serde(default)]
    pub bisect_batch_on_function_error: bool,
    /// -1 (the default) retries until the record expires.
    #[serde(default = "minus_one")]
    pub maximum_retry_attempts: i64,
    #[serde(default = "minus_one")]
    pub maximum_record_age_in_seconds: i64,
    #[serde(default)]
    pub filter_criteria: Option<FilterCriteria>,
    #[serde(default)]
    pub destination_config: Option<serde_yaml::Value>,
}

fn default_batch_size() -> usize {
    100
}

fn minus_one() -> i64 {
    -1
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FilterCriteria {
    pub filters: Vec<FilterSpec>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FilterSpec {
    /// A JSON event pattern, as text.
    pub pattern: String,
}

impl StreamEvent {
    pub fn reports_item_failures(&self) -> bool {
        self.function_response_types.iter().any(|t| t == "ReportBatchItemFailures")
    }

    pub fn has_on_failure_destination(&self) -> bool {
        self.destination_config.as_ref().and_then(|d| d.get("OnFailure")).is_some()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteSpec {
    /// Upper case, or `ANY`.
    pub method: String,
    /// As in the template, e.g. `/users/{userId}`.
    pub path: String,
    /// The authorizer guarding it, or `None` for a public route.
    pub authorizer: Option<String>,
}

impl Template {
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let doc: Value = serde_yaml::from_str(text).map_err(|e| format!("not valid YAML: {e}"))?;
        let resources = doc.get("Resources").and_then(Value::as_mapping).ok_or("no Resources section")?;
        let mut table = None;
        let mut functions = Vec::new();
        let (authorizers, default_authorizer, throttle, cors) = parse_api(resources, &doc)?;
        for (id, resource) in resources {
            let id = id.as_str().unwrap_or_default().to_string();
            match resource.get("Type").and_then(Value::as_str) {
                Some("AWS::DynamoDB::Table") => {
                    if table.is_some() {
                        return Err("more than one AWS::DynamoDB::Table: Quire uses one table".into());
                    }
                    let props = resource.get("Properties").cloned().unwrap_or(Value::Null);
                    table = Some(serde_yaml::from_value(props).map_err(|e| format!("table {id}: {e}"))?);
                }
                Some("AWS::Serverless::Function") => functions.push(parse_function(&id, resource, &doc, default_authorizer.as_deref())?),
                _ => {}
            }
        }
        let table = table.ok_or("no AWS::DynamoDB::Table resource")?;
        for function in &functions {
            for route in &function.routes {
                if let Some(name) = &route.authorizer
                    && !authorizers.iter().any(|a| &a.name == name)
                {
                    return Err(format!("{} {} uses authorizer {name}, which the HttpApi does not define", route.method, route.path));
                }
            }
        }
        Ok(Self { table, functions, authorizers, throttle, cors })
    }

    /// Every HTTP route with the function serving it.
    pub fn routes(&self) -> impl Iterator<Item = (&RouteSpec, &Function)> {
        self.functions.iter().flat_map(|f| f.routes.iter().map(move |r| (r, f)))
    }
}

/// What the `AWS::Serverless::HttpApi` says.
type ApiParts = (Vec<AuthorizerSpec>, Option<String>, Option<Throttle>, Option<Cors>);

/// The `AWS::Serverless::HttpApi`'s authorizers, default authorizer,
/// throttling and CORS.
fn parse_api(resources: &serde_yaml::Mapping, doc: &Value) -> Result<ApiParts, String> {
    let mut apis = resources.values().filter(|r| r.get("Type").and_then(Value::as_str) == Some("AWS::Serverless::HttpApi"));
    let Some(api) = apis.next() else {
        return Ok((Vec::new(), None, None, None));
    };
    if apis.next().is_some() {
        return Err("more than one AWS::Serverless::HttpApi: the local stack serves one API".into());
    }
    let auth = api.get("Properties").and_then(|p| p.get("Auth"));
    let default = auth.and_then(|a| a.get("DefaultAuthorizer")).and_then(Value::as_str).map(str::to_string);
    let mut authorizers = Vec::new();
    for (name, spec) in auth.and_then(|a| a.get("Authorizers")).and_then(Value::as_mapping).into_iter().flatten() {
        let name = name.as_str().unwrap_or_default().to_string();
        let function = spec
            .get("FunctionArn")
            .and_then(get_att_target)
            .ok_or_else(|| format!("authorizer {name}: FunctionArn must be !GetAtt <Function>.Arn"))?;
        let identity_headers = spec
            .get("Identity")
            .and_then(|i| i.get("Headers"))
            .and_then(Value::as_sequence)
            .map(|h| h.iter().filter_map(Value::as_str).map(str::to_string).collect())
            .unwrap_or_default();
        authorizers.push(AuthorizerSpec { name, function, identity_headers });
    }
    let (throttle, cors) = api::settings(api, doc)?;
    Ok((authorizers, default, throttle, cors))
}

/// `Function` from `!GetAtt Function.Arn` or `Fn::GetAtt: [Function, Arn]`.
fn get_att_target(value: &Value) -> Option<String> {
    match value {
        Value::Tagged(tagged) if tagged.tag == "GetAtt" => tagged.value.as_str().and_then(|s| s.strip_suffix(".Arn")).map(str::to_string),
        Value::Mapping(m) => m.get("Fn::GetAtt")?.as_sequence()?.first()?.as_str().map(str::to_string),
        _ => None,
    }
}

/// A function's own environment variables, as far as the template settles them.
fn environment(resource: &Value, doc: &Value) -> std::collections::BTreeMap<String, String> {
    let variables = resource.get("Properties").and_then(|p| p.get("Environment")).and_then(|e| e.get("Variables")).and_then(Value::as_mapping);
    let mut settled = std::collections::BTreeMap::new();
    for (name, value) in variables.into_iter().flatten() {
        if let (Some(name), Some(value)) = (name.as_str(), api::scalar(&api::resolve(value, doc))) {
            settled.insert(name.to_string(), value);
        }
    }
    settled
}

fn parse_function(id: &str, resource: &Value, doc: &Value, default_authorizer: Option<&str>) -> Result<Function, String> {
    let timeout_seconds = [resource.get("Properties"), doc.get("Globals").and_then(|g| g.get("Function"))]
        .into_iter()
        .flatten()
        .find_map(|p| p.get("Timeout").and_then(Value::as_u64))
        .unwrap_or(3);
    let memory_mb = [resource.get("Properties"), doc.get("Globals").and_then(|g| g.get("Function"))]
        .into_iter()
        .flatten()
        .find_map(|p| p.get("MemorySize").and_then(Value::as_u64))
        .map_or(128, |mb| mb as u32);
    let handler = [resource.get("Properties"), doc.get("Globals").and_then(|g| g.get("Function"))]
        .into_iter()
        .flatten()
        .find_map(|p| p.get("Handler").and_then(Value::as_str))
        .ok_or_else(|| format!("function {id} has no Handler"))?
        .to_string();
    let metadata = resource.get("Metadata").cloned().unwrap_or(Value::Null);
    let mut routes = Vec::new();
    let mut stream = None;
    let events = resource.get("Properties").and_then(|p| p.get("Events")).and_then(Value::as_mapping);
    for (name, event) in events.into_iter().flatten() {
        if event.get("Type").and_then(Value::as_str) == Some("DynamoDB") {
            let props = event.get("Properties").cloned().unwrap_or(Value::Null);
            stream = Some(serde_yaml::from_value(props).map_err(|e| format!("function {id}, event {name:?}: {e}"))?);
            continue;
        }
        if event.get("Type").and_then(Value::as_str) != Some("HttpApi") {
            continue;
        }
        let props = event.get("Properties");
        let field = |key: &str| props.and_then(|p| p.get(key)).and_then(Value::as_str);
        let (Some(method), Some(path)) = (field("Method"), field("Path")) else {
            return Err(format!("function {id}, event {name:?}: an HttpApi event needs Method and Path"));
        };
        let authorizer = match props.and_then(|p| p.get("Auth")).and_then(|a| a.get("Authorizer")).and_then(Value::as_str) {
            Some("NONE") => None,
            Some(name) => Some(name.to_string()),
            None => default_authorizer.map(str::to_string),
        };
        routes.push(RouteSpec { method: method.to_ascii_uppercase(), path: path.to_string(), authorizer });
    }
    let (iam_statements, other_policies) = policies(resource);
    let environment = environment(resource, doc);
    Ok(Function {
        logical_id: id.to_string(),
        handler,
        metadata,
        routes,
        iam_statements,
        other_policies,
        stream,
        timeout_seconds,
        memory_mb,
        environment,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_apis_throttling_cors_and_the_authorizers_limits_come_from_the_parameters() {
        let template = Template::load(&default_path()).unwrap();
        assert_eq!(template.throttle, Some(Throttle { rate_per_second: 1000.0, burst: 500 }));
        let cors = template.cors.unwrap();
        assert_eq!(cors.allow_origins, ["http://localhost:3000"]);
        for header in ["authorization", "content-type", "idempotency-key", "if-match", "if-none-match"] {
            assert!(cors.allow_headers.iter().any(|h| h == header), "{header}");
        }
        let authorizer = template.functions.iter().find(|f| f.handler == "authorizer").unwrap();
        let limits = shared::rate_limits::Limits::from_variables(|n| authorizer.environment.get(n).cloned()).unwrap();
        assert_eq!(limits, shared::rate_limits::Limits::default(), "the README states these numbers");
    }

    #[test]
    fn reads_the_repository_template() {
        let template = Template::load(&default_path()).unwrap();
        let keys: Vec<_> = template.table.key_schema.iter().map(|k| (k.attribute_name.as_str(), k.key_type.as_str())).collect();
        assert_eq!(keys, [("PK", "HASH"), ("SK", "RANGE")]);
        let indexes: Vec<_> = template.table.global_secondary_indexes.iter().map(|i| i.index_name.as_str()).collect();
        assert_eq!(indexes, ["GSI1", "GSI2"]);
        assert_eq!(template.table.time_to_live_specification.as_ref().unwrap().attribute_name, shared::keys::EXPIRES_AT);
        assert_eq!(template.table.stream_specification.as_ref().unwrap().stream_view_type, "NEW_AND_OLD_IMAGES");
        assert!(template.routes().any(|(r, f)| r.method == "GET" && r.path == "/health" && f.handler == "health" && r.authorizer.is_none()));
        let me = template.routes().find(|(r, _)| r.method == "GET" && r.path == "/me").unwrap().0;
        assert_eq!(me.authorizer.as_deref(), Some("ApiKeyAuthorizer"), "routes are authenticated by default");
        assert_eq!(template.authorizers.len(), 1);
        assert_eq!(template.authorizers[0].function, "AuthorizerFunction");
        assert_eq!(template.authorizers[0].identity_headers, ["Authorization"]);
        let stream = template.functions.iter().find_map(|f| f.stream.clone()).expect("the stream processor's event");
        assert_eq!((stream.starting_position.as_str(), stream.batch_size), ("TRIM_HORIZON", 100));
        assert!(stream.reports_item_failures() && stream.bisect_batch_on_function_error && stream.has_on_failure_destination());
        assert_eq!(stream.filter_criteria.unwrap().filters.len(), 5);
    }

    #[test]
    fn template_errors_are_clear() {
        assert!(Template::parse("Resources: {}").unwrap_err().contains("no AWS::DynamoDB::Table"));
        let no_handler = "Resources:\n  T: {Type: AWS::DynamoDB::Table, Properties: {AttributeDefinitions: [], KeySchema: []}}\n  F:\n    Type: AWS::Serverless::Function\n    Properties: {}\n";
        assert!(Template::parse(no_handler).unwrap_err().contains("has no Handler"));
    }
}
