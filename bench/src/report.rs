//! The results: one row per function, as a Markdown table and as JSON, and
//! BENCHMARKS.md around them.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Row {
    pub function: String,
    /// Cold starts measured.
    pub cold_starts: usize,
    pub init_median_ms: f64,
    /// The least noisy figure on a shared machine: what init costs when
    /// nothing else gets in the way.
    #[serde(default)]
    pub init_min_ms: f64,
    pub init_max_ms: f64,
    /// The first invocation of a fresh process (median over the cold starts).
    pub first_invocation_median_ms: f64,
    /// Warm invocations measured.
    pub invocations: usize,
    pub warm_p50_us: f64,
    pub warm_p99_us: f64,
    /// The engine's time per invocation (all its calls), median.
    pub dynamodb_p50_us: f64,
    /// Latency minus the engine's time, per invocation.
    pub overhead_p50_us: f64,
    pub overhead_p99_us: f64,
    /// The same calls sent by a bare client (src/raw.rs), per invocation, median.
    #[serde(default)]
    pub raw_p50_us: f64,
    /// Replayed calls refused (a write's condition no longer holds).
    #[serde(default)]
    pub raw_refused: usize,
    /// The function process's CPU time (user + system) per warm invocation.
    #[serde(default)]
    pub cpu_per_invocation_us: f64,
    pub calls_per_invocation: f64,
    /// The call sequence most invocations made.
    pub calls: String,
    /// The access-pattern table's calls for the route (README.md), if listed.
    pub documented_calls: Option<String>,
    /// How often each answer came back (HTTP status, allow/deny, ok/failed).
    pub answers: String,
    pub peak_rss_kib: u64,
    /// The release binary run here (x86_64, stripped).
    pub binary_bytes: u64,
    /// `cargo lambda build --release --arm64`'s bootstrap.zip, when built.
    pub zip_arm64_bytes: Option<u64>,
    /// A variant measured for comparison (bench/lambdas), not held to the targets.
    pub experiment: bool,
    pub error: Option<String>,
    /// The memory size it ran at (its CPU share and memory limit).
    #[serde(default)]
    pub memory_mb: u32,
    /// The share of one vCPU it got; `None`: full CPU (no cgroups).
    #[serde(default)]
    pub cpu_share: Option<f64>,
    /// Times it hit its memory limit (the cgroup's failcnt).
    #[serde(default)]
    pub memory_limit_hits: Option<u64>,
}

impl Row {
    /// Warm p50 minus the raw calls' p50: what the function adds to calling
    /// DynamoDB itself (the 300 µs target).
    pub fn overhead_vs_raw_p50_us(&self) -> f64 {
        self.warm_p50_us - self.raw_p50_us
    }

    /// One call that reads or writes one item: the routes the 300 µs target is for.
    pub fn single_item(&self) -> bool {
        ["GetItem", "PutItem", "UpdateItem", "DeleteItem"].contains(&self.calls.as_str())
    }

    /// One request for one item or one item collection: a single-item call,
    /// or a Query that is not a listing (get-post's reads its card and body
    /// together; every listing route is named `list-…`).
    pub fn one_request(&self) -> bool {
        self.single_item() || (self.calls == "Query" && !self.function.starts_with("list-"))
    }
}

/// Lambda's MemorySize when a function and Globals name none.
pub const DEFAULT_MEMORY_MB: u32 = 128;

/// The README's access-pattern table: route (or "authorizer") → calls as the
/// bench writes them (`GetItem,PutItem`, `none`).
pub fn documented_calls(readme: &str) -> HashMap<String, String> {
    let section = readme.split("### Access patterns").nth(1).unwrap_or_default();
    let mut calls = HashMap::new();
    for line in section.lines().skip_while(|l| !l.starts_with('|')).take_while(|l| l.starts_with('|')) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let (Some(route), Some(ops)) = (cells.get(1), cells.get(2)) else {
            continue;
        };
        let route = if route.starts_with("authorizer") { "authorizer".to_string() } else { route.trim_matches('`').to_string() };
        let ops: Vec<&str> = ops.split(',').map(|op| op.trim().trim_matches('`')).collect();
        calls.insert(route, ops.join(","));
    }
    calls
}

fn ms(v: f64) -> String {
    format!("{v:.1}")
}

fn us(v: f64) -> String {
    format!("{v:.0}")
}

fn mb(bytes: u64) -> String {
    format!("{:.2}", bytes as f64 / 1_048_576.0)
}

/// Every function at every memory size: its limits, init, warm latency,
/// CPU per invocation (and against `health`'s at the same size), memory.
pub fn by_memory_table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| function | memory (MB) | CPU share | init median (ms) | warm p50 / p99 (µs) | CPU / invocation (µs) | CPU vs health | peak RSS (MiB) | memory limit hits |\n\
         | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    let health = |mb: u32| rows.iter().find(|r| r.function == "health" && r.memory_mb == mb && r.error.is_none()).map(|r| r.cpu_per_invocation_us);
    for r in rows {
        if let Some(error) = &r.error {
            out += &format!("| {} | {} | | failed: {} | | | | | |\n", r.function, r.memory_mb, error.replace('|', "/").replace('\n', " "));
            continue;
        }
        let share = r.cpu_share.map_or("full (no cgroup)".to_string(), |s| format!("{:.1} %", s * 100.0));
        let versus = health(r.memory_mb).filter(|h| *h > 0.0).map_or("–".to_string(), |h| format!("{:.1}×", r.cpu_per_invocation_us / h));
        out += &format!(
            "| {} | {} | {} | {} | {} / {} | {} | {} | {:.1} | {} |\n",
            r.function,
            r.memory_mb,
            share,
            ms(r.init_median_ms),
            us(r.warm_p50_us),
            us(r.warm_p99_us),
            us(r.cpu_per_invocation_us),
            versus,
            r.peak_rss_kib as f64 / 1024.0,
            r.memory_limit_hits.map_or("–".to_string(), |h| h.to_string()),
        );
    }
    out
}

/// Quire's `get-post` against the peers at each memory size: init, warm
/// p50 and CPU per invocation, and each peer's ratio to Quire's.
pub fn peers_table(rows: &[Row], quire: &str, peers: &[&str]) -> String {
    let mut out = String::from(
        "| memory (MB) | function | init median (ms) | warm p50 (µs) | CPU / invocation (µs) | peak RSS (MiB) | init × | warm p50 × | CPU × |\n\
         | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    let mut sizes: Vec<u32> = rows.iter().map(|r| r.memory_mb).collect();
    sizes.sort_unstable();
    sizes.dedup();
    for size in sizes {
        let find = |name: &str| rows.iter().find(|r| r.function == name && r.memory_mb == size && r.error.is_none());
        let Some(base) = find(quire) else { continue };
        for name in std::iter::once(quire).chain(peers.iter().copied()) {
            let Some(r) = find(name) else { continue };
            let ratio = |a: f64, b: f64| if b > 0.0 { format!("{:.1}", a / b) } else { "–".into() };
            out += &format!(
                "| {size} | {name} | {} | {} | {} | {:.1} | {} | {} | {} |\n",
                ms(r.init_median_ms),
                us(r.warm_p50_us),
                us(r.cpu_per_invocation_us),
                r.peak_rss_kib as f64 / 1024.0,
                ratio(r.init_median_ms, base.init_median_ms),
                ratio(r.warm_p50_us, base.warm_p50_us),
                ratio(r.cpu_per_invocation_us, base.cpu_per_invocation_us),
            );
        }
    }
    out
}

pub fn markdown_table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| function | init median / min / max (ms) | 1st call (ms) | warm p50 / p99 (µs) | DynamoDB p50: raw call / engine (µs) | overhead p50 vs raw call (µs) | overhead vs engine p50 / p99 (µs) | CPU / invocation (µs) | calls / invocation | README calls | answers | peak RSS (MiB) | zip arm64 (MiB) |\n\
         | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    for r in rows {
        if let Some(error) = &r.error {
            out += &format!("| {} | failed: {} | | | | | | | | | | | |\n", r.function, error.replace('|', "/").replace('\n', " "));
            continue;
        }
        let documented = match &r.documented_calls {
            Some(d) if *d == r.calls => "same".to_string(),
            Some(d) => format!("**differs**: {d}"),
            None => "–".to_string(),
        };
        out += &format!(
            "| {} | {} / {} / {} | {} | {} / {} | {} / {} | {} | {} / {} | {} | {:.2} ({}) | {} | {} | {:.1} | {} |\n",
            r.function,
            ms(r.init_median_ms),
            ms(r.init_min_ms),
            ms(r.init_max_ms),
            ms(r.first_invocation_median_ms),
            us(r.warm_p50_us),
            us(r.warm_p99_us),
            match r.raw_refused {
                0 => us(r.raw_p50_us),
                n => format!("{} ({n} refused)", us(r.raw_p50_us)),
            },
            us(r.dynamodb_p50_us),
            us(r.overhead_vs_raw_p50_us()),
            us(r.overhead_p50_us),
            us(r.overhead_p99_us),
            us(r.cpu_per_invocation_us),
            r.calls_per_invocation,
            r.calls,
            documented,
            r.answers,
            r.peak_rss_kib as f64 / 1024.0,
            r.zip_arm64_bytes.map_or("–".to_string(), mb),
        );
    }
    out
}

/// Each target, met or missed, with the numbers. `rows` holds each function
/// at its deployed size (`deployed`: template.yaml's MemorySize); `all`
/// every size measured, for the yardsticks (hello-world for init, `health`
/// for CPU) at that same size.
pub fn targets(rows: &[Row], all: &[Row], baseline: &str, deployed: &HashMap<String, u32>) -> String {
    let functions: Vec<&Row> = rows.iter().filter(|r| r.function != baseline && !r.experiment && r.error.is_none()).collect();
    let at_size = |function: &str, memory_mb: u32| all.iter().find(|r| r.function == function && r.memory_mb == memory_mb && r.error.is_none());
    let mut out = String::from("| target | result | worst |\n| --- | --- | --- |\n");
    let mut line = |target: &str, misses: Vec<String>, unjudged: Vec<String>, worst: String| {
        let mut result = if misses.is_empty() { "**met** by all".to_string() } else { format!("**missed** by {}", misses.join(", ")) };
        if !unjudged.is_empty() {
            result += &format!("; not judged (no yardstick at that size): {}", unjudged.join(", "));
        }
        out += &format!("| {target} | {result} | {worst} |\n");
    };
    // A ratio to a yardstick's figure at the same size, when it has one.
    let ratio = |value: f64, yardstick: Option<f64>| yardstick.filter(|y| *y > 0.0 && y.is_finite()).map(|y| value / y);

    // Init against hello-world at the same size: both get the same CPU share.
    let init_ratio = |r: &Row| ratio(r.init_median_ms, at_size(baseline, r.memory_mb).map(|b| b.init_median_ms));
    let unjudged =
        |judge: &dyn Fn(&Row) -> Option<f64>, of: &[&Row]| of.iter().filter(|r| judge(r).is_none()).map(|r| r.function.clone()).collect::<Vec<_>>();
    let worst = functions.iter().filter_map(|r| init_ratio(r).map(|x| (r, x))).max_by(|a, b| a.1.total_cmp(&b.1));
    line(
        "init median ≤ 1.5 × hello-world's at the same memory size",
        functions
            .iter()
            .filter_map(|r| {
                init_ratio(r).filter(|x| *x > 1.5).map(|x| format!("{} ({} ms at {} MB, {x:.2}×)", r.function, ms(r.init_median_ms), r.memory_mb))
            })
            .collect(),
        unjudged(&init_ratio, &functions),
        worst.map_or(String::new(), |(r, x)| {
            let min_ratio = |r: &Row| ratio(r.init_min_ms, at_size(baseline, r.memory_mb).map(|b| b.init_min_ms)).unwrap_or(0.0);
            let slowest_min = functions.iter().max_by(|a, b| min_ratio(a).total_cmp(&min_ratio(b))).unwrap_or(r);
            // Minima show the cost without the shared machine's queueing.
            format!(
                "{}: {} ms at {} MB ({x:.2}×); by minimum: {} {:.2}×",
                r.function,
                ms(r.init_median_ms),
                r.memory_mb,
                slowest_min.function,
                min_ratio(slowest_min)
            )
        }),
    );

    // CPU per warm invocation against health's at the same size, in one run.
    let one_request: Vec<&Row> = functions.iter().copied().filter(|r| r.one_request()).collect();
    let cpu_ratio = |r: &Row| ratio(r.cpu_per_invocation_us, at_size("health", r.memory_mb).map(|h| h.cpu_per_invocation_us));
    let judged: Vec<(&Row, f64)> = one_request.iter().filter_map(|r| cpu_ratio(r).map(|x| (*r, x))).collect();
    let worst = judged.iter().max_by(|a, b| a.1.total_cmp(&b.1));
    let best = judged.iter().min_by(|a, b| a.1.total_cmp(&b.1));
    line(
        &format!(
            "CPU per warm invocation ≤ 2 × `health`'s at the same size, routes of one request for one item ({})",
            one_request.iter().map(|r| r.function.as_str()).collect::<Vec<_>>().join(", ")
        ),
        judged.iter().filter(|(_, x)| *x > 2.0).map(|(r, x)| format!("{} ({x:.1}×)", r.function)).collect(),
        unjudged(&cpu_ratio, &one_request),
        match (worst, best) {
            (Some((w, wx)), Some((b, bx))) => format!("{}: {wx:.1}×; best {}: {bx:.1}×", w.function, b.function),
            _ => String::new(),
        },
    );

    // MemorySize as power tuning chose it in this run.
    let mismatched: Vec<String> = functions
        .iter()
        .filter_map(|r| {
            let sizes: Vec<&Row> = all.iter().filter(|a| a.function == r.function).collect();
            let (chosen, _) = crate::power::choice(&sizes)?;
            let deployed = deployed.get(&r.function).copied().unwrap_or(DEFAULT_MEMORY_MB);
            (sizes.len() > 1 && chosen != deployed).then(|| format!("{} ({deployed} MB deployed, {chosen} MB chosen)", r.function))
        })
        .collect();
    line("template.yaml's MemorySize is power tuning's choice", mismatched, Vec::new(), String::new());
    let zip_limit = 4_000_000;
    let worst = functions.iter().filter_map(|r| r.zip_arm64_bytes.map(|z| (r, z))).max_by_key(|(_, z)| *z);
    // Cross-building all 32 is slow; the target is judged on those built.
    let built = functions.iter().filter(|r| r.zip_arm64_bytes.is_some()).count();
    line(
        &format!("zipped arm64 bootstrap ≤ 4 MB (4,000,000 bytes), {built} of {} functions built for arm64", functions.len()),
        functions.iter().filter_map(|r| r.zip_arm64_bytes.filter(|z| *z > zip_limit).map(|z| format!("{} ({} MiB)", r.function, mb(z)))).collect(),
        Vec::new(),
        worst.map_or("none built".into(), |(r, z)| format!("{}: {} MiB ({z} bytes)", r.function, mb(z))),
    );
    // At every size measured: the memory limit is the size itself.
    let rss_limit = 32 * 1024;
    let every_size: Vec<&Row> = all.iter().filter(|r| r.function != baseline && !r.experiment && r.error.is_none()).collect();
    let worst = every_size.iter().max_by_key(|r| r.peak_rss_kib);
    line(
        "peak RSS ≤ 32 MiB after the warm run, and no memory-limit hit, at every size",
        every_size
            .iter()
            .filter(|r| r.peak_rss_kib > rss_limit || r.memory_limit_hits.is_some_and(|h| h > 0))
            .map(|r| {
                format!(
                    "{} at {} MB ({:.1} MiB, {} limit hits)",
                    r.function,
                    r.memory_mb,
                    r.peak_rss_kib as f64 / 1024.0,
                    r.memory_limit_hits.unwrap_or(0)
                )
            })
            .collect(),
        Vec::new(),
        worst.map_or(String::new(), |r| format!("{}: {:.1} MiB at {} MB", r.function, r.peak_rss_kib as f64 / 1024.0, r.memory_mb)),
    );
    let single: Vec<&&Row> = functions.iter().filter(|r| r.single_item()).collect();
    let worst = single.iter().max_by(|a, b| a.overhead_vs_raw_p50_us().total_cmp(&b.overhead_vs_raw_p50_us()));
    let worst_vs_engine = single.iter().max_by(|a, b| a.overhead_p50_us.total_cmp(&b.overhead_p50_us));
    line(
        &format!(
            "warm p50 overhead (warm p50 − raw call p50) ≤ 300 µs, single-item routes ({})",
            single.iter().map(|r| r.function.as_str()).collect::<Vec<_>>().join(", ")
        ),
        single
            .iter()
            .filter(|r| r.overhead_vs_raw_p50_us() > 300.0)
            .map(|r| format!("{} ({} µs)", r.function, us(r.overhead_vs_raw_p50_us())))
            .collect(),
        Vec::new(),
        match (worst, worst_vs_engine) {
            (Some(r), Some(e)) => format!(
                "{}: {} µs; against the engine's time alone (stricter): {} {} µs",
                r.function,
                us(r.overhead_vs_raw_p50_us()),
                e.function,
                us(e.overhead_p50_us)
            ),
            _ => String::new(),
        },
    );
    let differing: Vec<String> = functions
        .iter()
        .filter(|r| r.documented_calls.as_ref().is_some_and(|d| *d != r.calls))
        .map(|r| format!("{} ({} vs {})", r.function, r.calls, r.documented_calls.as_deref().unwrap_or_default()))
        .collect();
    line("DynamoDB calls per route as in README's access-pattern table", differing, Vec::new(), String::new());
    out
}

pub fn write(path: &Path, text: &str) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_access_pattern_table() {
        let readme = "# x\n### Access patterns\n\nText.\n\n| route | DynamoDB calls | key |\n| --- | --- | --- |\n\
                      | `GET /health` | none | |\n| authorizer (each) | `UpdateItem` | k |\n| `DELETE /me` | `GetItem`, `TransactWriteItems` | k |\n\nAfter.\n| `X` | y | |\n";
        let calls = documented_calls(readme);
        assert_eq!(calls["GET /health"], "none");
        assert_eq!(calls["authorizer"], "UpdateItem");
        assert_eq!(calls["DELETE /me"], "GetItem,TransactWriteItems");
        assert!(!calls.contains_key("X"), "only the first table");
    }

    #[test]
    fn targets_name_the_misses() {
        let baseline = Row { function: "hello".into(), init_median_ms: 2.0, ..Row::default() };
        let fast = Row {
            function: "a".into(),
            init_median_ms: 2.5,
            calls: "GetItem".into(),
            warm_p50_us: 300.0,
            raw_p50_us: 200.0,
            overhead_p50_us: 190.0,
            zip_arm64_bytes: Some(1 << 20),
            ..Row::default()
        };
        let slow = Row {
            function: "b".into(),
            init_median_ms: 4.0,
            calls: "GetItem".into(),
            warm_p50_us: 600.0,
            raw_p50_us: 200.0,
            overhead_p50_us: 480.0,
            zip_arm64_bytes: Some(1 << 20),
            ..Row::default()
        };
        let health = Row { function: "health".into(), cpu_per_invocation_us: 100.0, ..Row::default() };
        let fast = Row { cpu_per_invocation_us: 150.0, ..fast };
        let slow = Row { cpu_per_invocation_us: 350.0, ..slow };
        let rows = [baseline, health, fast, slow];
        let text = targets(&rows, &rows, "hello", &HashMap::new());
        assert!(text.contains("**missed** by b (4.0 ms at 0 MB, 2.00×)"), "{text}");
        assert!(text.contains("routes of one request for one item (a, b) | **missed** by b (3.5×) | b: 3.5×; best a: 1.5×"), "{text}");
        // Judged on the raw call (600 − 200), the engine-only figure shown too.
        assert!(text.contains("**missed** by b (400 µs)"), "{text}");
        assert!(text.contains("(stricter): b 480 µs"), "{text}");
        assert!(text.contains("2 of 3 functions built for arm64 | **met** by all"), "{text}");
    }

    #[test]
    fn yardsticks_are_taken_at_the_same_size_and_a_missing_one_is_said() {
        let row = |function: &str, memory_mb: u32, init_median_ms: f64, cpu_per_invocation_us: f64| Row {
            function: function.into(),
            memory_mb,
            init_median_ms,
            cpu_per_invocation_us,
            calls: if function == "a" { "GetItem".into() } else { "none".into() },
            ..Row::default()
        };
        // hello-world starts in 2 ms at 128 MB and 4 ms at 256 MB; `a` takes 5 ms at both.
        let all = [
            row("hello", 128, 2.0, 0.0),
            row("hello", 256, 4.0, 0.0),
            row("health", 128, 0.0, 100.0),
            row("a", 128, 5.0, 300.0),
            row("a", 256, 5.0, 300.0),
        ];
        let at_128 = targets(&[all[0].clone(), all[3].clone()], &all, "hello", &HashMap::new());
        assert!(at_128.contains("**missed** by a (5.0 ms at 128 MB, 2.50×)"), "{at_128}");
        assert!(at_128.contains("**missed** by a (3.0×)"), "{at_128}");
        let at_256 = targets(&[all[1].clone(), all[4].clone()], &all, "hello", &HashMap::new());
        assert!(at_256.contains("same memory size | **met** by all |"), "{at_256}");
        // No health at 256 MB: said, not counted as met silently.
        assert!(at_256.contains("**met** by all; not judged (no yardstick at that size): a"), "{at_256}");
    }

    #[test]
    fn a_memory_size_other_than_power_tunings_choice_is_named() {
        let row = |function: &str, memory_mb: u32, warm_p50_us: f64| Row {
            function: function.into(),
            memory_mb,
            warm_p50_us,
            invocations: 10,
            ..Row::default()
        };
        // At 128 MB, 10 ms bills $0.2167/M; at 256 MB, 1 ms bills $0.2033/M.
        let all = [row("hello", 128, 100.0), row("hello", 256, 100.0), row("a", 128, 10_000.0), row("a", 256, 1_000.0)];
        let deployed_at_128 = [all[0].clone(), all[2].clone()];
        let text = targets(&deployed_at_128, &all, "hello", &HashMap::new());
        assert!(text.contains("MemorySize is power tuning's choice | **missed** by a (128 MB deployed, 256 MB chosen)"), "{text}");
        let deployed_at_256 = [all[1].clone(), all[3].clone()];
        let template = HashMap::from([("a".to_string(), 256)]);
        assert!(targets(&deployed_at_256, &all, "hello", &template).contains("MemorySize is power tuning's choice | **met** by all"));
    }
}
