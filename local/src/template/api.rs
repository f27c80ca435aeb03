//! The HTTP API's own settings the local gateway emulates: the stage's
//! default route throttling and the CORS configuration. `!Ref` to a
//! parameter reads its `Default` (a `CommaDelimitedList` split at commas).

use serde_yaml::Value;

/// `DefaultRouteSettings`: each route's token bucket.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Throttle {
    /// Tokens added per second.
    pub rate_per_second: f64,
    /// The bucket's size: requests that may arrive at once.
    pub burst: u32,
}

/// `CorsConfiguration`, with header and method names as written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cors {
    pub allow_origins: Vec<String>,
    pub allow_methods: Vec<String>,
    pub allow_headers: Vec<String>,
    pub expose_headers: Vec<String>,
    pub max_age_seconds: Option<u64>,
    pub allow_credentials: bool,
}

/// The API's throttling and CORS, from its `Properties`.
pub(super) fn settings(api: &Value, doc: &Value) -> Result<(Option<Throttle>, Option<Cors>), String> {
    let props = api.get("Properties");
    let throttle = match props.and_then(|p| p.get("DefaultRouteSettings")) {
        None => None,
        Some(settings) => {
            let number = |key: &str| {
                let value = settings.get(key).map(|v| resolve(v, doc));
                value.as_ref().and_then(scalar).and_then(|s| s.parse::<f64>().ok())
            };
            match (number("ThrottlingRateLimit"), number("ThrottlingBurstLimit")) {
                (Some(rate), Some(burst)) if rate > 0.0 && burst >= 0.0 => Some(Throttle { rate_per_second: rate, burst: burst as u32 }),
                (None, None) => None,
                _ => return Err("DefaultRouteSettings needs ThrottlingRateLimit and ThrottlingBurstLimit, both numbers".into()),
            }
        }
    };
    let cors = props.and_then(|p| p.get("CorsConfiguration")).map(|config| {
        let list = |key: &str| config.get(key).map(|v| strings(v, doc)).unwrap_or_default();
        Cors {
            allow_origins: list("AllowOrigins"),
            allow_methods: list("AllowMethods"),
            allow_headers: list("AllowHeaders"),
            expose_headers: list("ExposeHeaders"),
            max_age_seconds: config.get("MaxAge").map(|v| resolve(v, doc)).as_ref().and_then(scalar).and_then(|s| s.parse().ok()),
            allow_credentials: config.get("AllowCredentials").and_then(Value::as_bool).unwrap_or(false),
        }
    });
    Ok((throttle, cors))
}

/// A value with `!Ref <parameter>` replaced by the parameter's `Default`;
/// a `CommaDelimitedList` default becomes a list.
pub(super) fn resolve(value: &Value, doc: &Value) -> Value {
    let Value::Tagged(tagged) = value else {
        return value.clone();
    };
    if tagged.tag != "Ref" {
        return Value::Null;
    }
    let Some(parameter) = tagged.value.as_str().and_then(|name| doc.get("Parameters")?.get(name)) else {
        return Value::Null;
    };
    let default = parameter.get("Default").cloned().unwrap_or(Value::Null);
    match (parameter.get("Type").and_then(Value::as_str), scalar(&default)) {
        (Some("CommaDelimitedList"), Some(text)) => Value::Sequence(text.split(',').map(|s| Value::String(s.trim().to_string())).collect()),
        _ => default,
    }
}

pub(super) fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A list of strings, each item (or the whole list) possibly a `!Ref`.
fn strings(value: &Value, doc: &Value) -> Vec<String> {
    match resolve(value, doc) {
        Value::Sequence(items) => items
            .iter()
            .flat_map(|item| match resolve(item, doc) {
                Value::Sequence(inner) => inner.iter().filter_map(scalar).collect(),
                other => scalar(&other).into_iter().collect::<Vec<_>>(),
            })
            .collect(),
        other => scalar(&other).into_iter().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_resolve_to_their_defaults_and_lists_split() {
        let doc: Value = serde_yaml::from_str(
            "Parameters: {Origins: {Type: CommaDelimitedList, Default: 'https://a.example, https://b.example'}, Rate: {Type: Number, Default: 7}, One: {Type: String, Default: a}}",
        )
        .unwrap();
        let api: Value = serde_yaml::from_str(
            "Properties: {DefaultRouteSettings: {ThrottlingRateLimit: !Ref Rate, ThrottlingBurstLimit: 3}, \
             CorsConfiguration: {AllowOrigins: !Ref Origins, AllowMethods: [GET], AllowHeaders: [!Ref One, b], MaxAge: 600}}",
        )
        .unwrap();
        let (throttle, cors) = settings(&api, &doc).unwrap();
        assert_eq!(throttle, Some(Throttle { rate_per_second: 7.0, burst: 3 }));
        let cors = cors.unwrap();
        assert_eq!(cors.allow_origins, ["https://a.example", "https://b.example"]);
        assert_eq!(cors.allow_headers, ["a", "b"]);
        assert_eq!((cors.allow_methods, cors.max_age_seconds, cors.allow_credentials), (vec!["GET".to_string()], Some(600), false));
        let half: Value = serde_yaml::from_str("Properties: {DefaultRouteSettings: {ThrottlingRateLimit: 5}}").unwrap();
        assert!(settings(&half, &doc).is_err());
    }
}
