//! The routes of the HTTP API and how a request picks one: paths parsed
//! into segments, matched as API Gateway matches them (a literal segment
//! beats `{param}`, which beats `{param+}`), path parameters decoded.

use super::authorizer::Authorizer;
use functions::HttpHandler;
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(String),
    /// `{name+}`: one or more trailing segments.
    Greedy(String),
}

/// A route of the template, bound to the handler that serves it.
pub struct Route {
    /// `GET /users/{userId}`, as API Gateway names it in `routeKey`.
    pub route_key: String,
    /// The registry entry that serves it.
    pub function: &'static str,
    method: String,
    segments: Vec<Segment>,
    pub(super) handler: HttpHandler,
    pub(super) authorizer: Option<Authorizer>,
}

impl Route {
    /// `method` and `path` as the template writes them; a path API Gateway
    /// would refuse is an error.
    pub(super) fn new(
        method: &str,
        path: &str,
        function: &'static str,
        handler: HttpHandler,
        authorizer: Option<Authorizer>,
    ) -> Result<Self, String> {
        Ok(Self { route_key: format!("{method} {path}"), function, method: method.to_string(), segments: parse_path(path)?, handler, authorizer })
    }
}

/// API Gateway's choice among the routes matching a request: per segment
/// from the left a literal beats `{param}`, which beats `{param+}`; then a
/// route for the exact method beats `ANY`.
pub(super) fn find<'a>(routes: &'a [Route], method: &str, path: &str) -> Option<(&'a Route, HashMap<String, String>)> {
    let segments: Vec<&str> = path.strip_prefix('/').unwrap_or(path).split('/').collect();
    routes
        .iter()
        .filter(|r| r.method == method || r.method == "ANY")
        .filter_map(|r| match_segments(&r.segments, &segments).map(|params| (r, params)))
        .max_by_key(|(r, _)| {
            let specificity: Vec<u8> = r
                .segments
                .iter()
                .map(|s| match s {
                    Segment::Literal(_) => 2,
                    Segment::Param(_) => 1,
                    Segment::Greedy(_) => 0,
                })
                .collect();
            (specificity, r.method != "ANY")
        })
}

fn parse_path(path: &str) -> Result<Vec<Segment>, String> {
    let trimmed = path.strip_prefix('/').ok_or_else(|| format!("route path {path:?} must start with /"))?;
    let segments: Vec<Segment> = trimmed
        .split('/')
        .map(|s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(name) => match name.strip_suffix('+') {
                Some(greedy) => Segment::Greedy(greedy.to_string()),
                None => Segment::Param(name.to_string()),
            },
            None => Segment::Literal(s.to_string()),
        })
        .collect();
    if segments.iter().rev().skip(1).any(|s| matches!(s, Segment::Greedy(_))) {
        return Err(format!("route path {path:?}: a greedy {{name+}} segment must be the last"));
    }
    Ok(segments)
}

fn match_segments(route: &[Segment], request: &[&str]) -> Option<HashMap<String, String>> {
    let mut params = HashMap::new();
    for (i, segment) in route.iter().enumerate() {
        match segment {
            Segment::Greedy(name) => {
                let rest = request.get(i..).filter(|r| !r.is_empty() && r.iter().any(|s| !s.is_empty()))?;
                params.insert(name.clone(), decode(&rest.join("/")));
                return Some(params);
            }
            Segment::Literal(literal) => {
                if request.get(i)? != literal {
                    return None;
                }
            }
            Segment::Param(name) => {
                let value = request.get(i).filter(|v| !v.is_empty())?;
                params.insert(name.clone(), decode(value));
            }
        }
    }
    (route.len() == request.len()).then_some(params)
}

fn decode(segment: &str) -> String {
    percent_encoding::percent_decode_str(segment).decode_utf8_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use crate::gateway::Gateway;
    use crate::gateway::tests::gateway;

    fn found(g: &Gateway, method: &str, path: &str) -> Option<(&'static str, Vec<(String, String)>)> {
        g.find(method, path).map(|(r, p)| {
            let mut p: Vec<_> = p.into_iter().collect();
            p.sort();
            (r.function, p)
        })
    }

    #[test]
    fn a_literal_segment_beats_a_parameter_whatever_the_order() {
        let g = gateway(&[("GET", "/users/{userId}", "get-user"), ("GET", "/users/by-email", "by-email")]);
        assert_eq!(found(&g, "GET", "/users/by-email").unwrap().0, "by-email");
        let (binary, params) = found(&g, "GET", "/users/01ARZ3NDEKTSV4RRFFQ69G5FAV").unwrap();
        assert_eq!(binary, "get-user");
        assert_eq!(params, [("userId".to_string(), "01ARZ3NDEKTSV4RRFFQ69G5FAV".to_string())]);
    }

    #[test]
    fn methods_segments_and_greedy_paths() {
        let g = gateway(&[
            ("PUT", "/users/{userId}/follow", "follow"),
            ("DELETE", "/users/{userId}/follow", "unfollow"),
            ("ANY", "/files/{path+}", "files"),
            ("GET", "/files/special", "special"),
        ]);
        assert_eq!(found(&g, "PUT", "/users/u1/follow").unwrap().0, "follow");
        assert_eq!(found(&g, "DELETE", "/users/u1/follow").unwrap().0, "unfollow");
        assert!(found(&g, "GET", "/users/u1/follow").is_none(), "no route for the method");
        assert!(found(&g, "PUT", "/users/u1/follow/extra").is_none());
        assert!(found(&g, "PUT", "/users//follow").is_none(), "an empty parameter matches nothing");
        assert_eq!(found(&g, "GET", "/files/special").unwrap().0, "special");
        let (binary, params) = found(&g, "POST", "/files/a/b%20c").unwrap();
        assert_eq!(binary, "files");
        assert_eq!(params, [("path".to_string(), "a/b c".to_string())]);
        assert!(found(&g, "POST", "/files").is_none());
    }
}
