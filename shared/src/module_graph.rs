//! A test that keeps the crate's modules a graph without cycles: a module
//! that needs another's types must not be needed by it in turn (shared
//! types go in a module of their own, as `plan` and `cursor` do). It reads
//! the `crate::` paths in each file under `src/`; `super::` stays inside a
//! module and does not count.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The top-level module a file belongs to (`posts/item.rs` → `posts`).
fn module_of(relative: &Path) -> String {
    let first = relative.components().next().unwrap().as_os_str().to_string_lossy().to_string();
    first.trim_end_matches(".rs").to_string()
}

fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The first segment of each path in a `use` tree after `crate::`
/// (`{Error, keys::Key, posts}` → Error, keys, posts).
fn first_segments(tree: &str) -> Vec<String> {
    let mut segments = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in tree.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                segments.push(&tree[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    segments.push(&tree[start..]);
    segments.iter().map(|s| s.trim().split("::").next().unwrap().trim().to_string()).filter(|s| !s.is_empty()).collect()
}

/// Every name after a `crate::` in `source`, outside comments (a doc link is
/// not a dependency).
fn crate_paths(source: &str) -> Vec<String> {
    let code: String = source.lines().map(|l| l.split("//").next().unwrap()).collect::<Vec<_>>().join("\n");
    let source = code.as_str();
    let mut names = Vec::new();
    for (at, _) in source.match_indices("crate::") {
        let rest = &source[at + "crate::".len()..];
        if let Some(tree) = rest.strip_prefix('{') {
            let mut depth = 1;
            let end = tree
                .char_indices()
                .find(|(_, c)| {
                    match c {
                        '{' => depth += 1,
                        '}' => depth -= 1,
                        _ => {}
                    }
                    depth == 0
                })
                .map_or(tree.len(), |(i, _)| i);
            names.extend(first_segments(&tree[..end]));
        } else {
            names.push(rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect());
        }
    }
    names
}

/// Module → the modules it uses.
fn graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut all = Vec::new();
    files(src, &mut all);
    let modules: BTreeSet<String> = all.iter().map(|f| module_of(f.strip_prefix(src).unwrap())).filter(|m| m != "lib").collect();
    // Names lib.rs re-exports (`pub use page::{Page, PageRequest};`) belong to their module.
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    let mut exported = BTreeMap::new();
    for line in lib.lines().filter_map(|l| l.strip_prefix("pub use ")) {
        let (module, names) = line.trim_end_matches(';').split_once("::").unwrap();
        for name in first_segments(names.trim_start_matches('{').trim_end_matches('}')) {
            exported.insert(name, module.to_string());
        }
    }
    let mut graph: BTreeMap<String, BTreeSet<String>> = modules.iter().map(|m| (m.clone(), BTreeSet::new())).collect();
    for file in &all {
        let module = module_of(file.strip_prefix(src).unwrap());
        if module == "lib" {
            continue;
        }
        for name in crate_paths(&std::fs::read_to_string(file).unwrap()) {
            let target = if modules.contains(&name) { Some(name) } else { exported.get(&name).cloned() };
            if let Some(target) = target.filter(|t| *t != module) {
                graph.get_mut(&module).unwrap().insert(target);
            }
        }
    }
    graph
}

/// A cycle through `graph`, if there is one.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(node: &str, graph: &BTreeMap<String, BTreeSet<String>>, path: &mut Vec<String>, done: &mut BTreeSet<String>) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in &graph[node] {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn the_modules_form_no_cycle() {
    let graph = graph(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    assert!(graph["posts"].contains("users") && graph["query"].contains("table"), "the graph is read: {graph:?}");
    if let Some(cycle) = find_cycle(&graph) {
        panic!("import cycle: {}", cycle.join(" → "));
    }
}

#[test]
fn a_cycle_is_found() {
    let graph = BTreeMap::from([
        ("a".to_string(), BTreeSet::from(["b".to_string()])),
        ("b".to_string(), BTreeSet::from(["c".to_string()])),
        ("c".to_string(), BTreeSet::from(["a".to_string()])),
    ]);
    assert_eq!(find_cycle(&graph).unwrap(), ["a", "b", "c", "a"]);
    assert_eq!(crate_paths("use crate::{Error, keys::{self, Key}, posts};\n crate::users::get"), ["Error", "keys", "posts", "users"]);
}
