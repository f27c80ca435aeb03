//! Power tuning, locally: what a million invocations of each function cost
//! at each memory size (the measured warm p50, billed by the millisecond,
//! as GB-seconds at the arm64 price, plus the request price), against that
//! p50; the size to deploy; and the curve as an SVG chart.

use crate::report::Row;
use std::collections::BTreeMap;

/// Lambda's prices for arm64 in us-east-1: duration for the first 7.5
/// billion GB-seconds a month, and requests.
pub const USD_PER_GB_SECOND: f64 = 0.000_013_333_4;
pub const USD_PER_MILLION_REQUESTS: f64 = 0.20;
pub const PRICES: &str = "Lambda arm64 in us-east-1, as AWS publishes them (read 2026-12-03): $0.0000133334 per GB-second (the first 7.5 billion a month) and $0.20 per million requests; duration billed in whole milliseconds";
/// Sizes costing within this much of the cheapest count as cheapest: the
/// fastest of them is chosen.
pub const COST_TOLERANCE: f64 = 0.01;

/// USD per million invocations lasting `duration_us` at `memory_mb`.
pub fn cost_per_million(memory_mb: u32, duration_us: f64) -> f64 {
    let billed_seconds = (duration_us / 1000.0).ceil().max(1.0) / 1000.0;
    USD_PER_MILLION_REQUESTS + 1e6 * f64::from(memory_mb) / 1024.0 * billed_seconds * USD_PER_GB_SECOND
}

/// The size to deploy from one function's rows (one per size): the fastest
/// of those within [`COST_TOLERANCE`] of the cheapest.
pub fn choice(rows: &[&Row]) -> Option<(u32, String)> {
    let measured: Vec<&&Row> = rows.iter().filter(|r| r.error.is_none() && r.invocations > 0).collect();
    let cost = |r: &Row| cost_per_million(r.memory_mb, r.warm_p50_us);
    let cheapest = measured.iter().map(|r| cost(r)).fold(f64::INFINITY, f64::min);
    let best = measured.iter().filter(|r| cost(r) <= cheapest * (1.0 + COST_TOLERANCE)).min_by(|a, b| a.warm_p50_us.total_cmp(&b.warm_p50_us))?;
    let reason = format!(
        "p50 {:.2} ms at ${:.4}/M: the fastest of the sizes within {:.0} % of the cheapest (${cheapest:.4}/M)",
        best.warm_p50_us / 1000.0,
        cost(best),
        COST_TOLERANCE * 100.0
    );
    Some((best.memory_mb, reason))
}

/// Rows by function, in the order they came, each function's by size.
pub fn by_function(rows: &[Row]) -> BTreeMap<&str, Vec<&Row>> {
    let mut map: BTreeMap<&str, Vec<&Row>> = BTreeMap::new();
    for row in rows {
        map.entry(row.function.as_str()).or_default().push(row);
    }
    for rows in map.values_mut() {
        rows.sort_by_key(|r| r.memory_mb);
    }
    map
}

/// The markdown table: per function and size, p50 and cost; the choice.
pub fn table(rows: &[Row]) -> String {
    let functions = by_function(rows);
    let sizes: Vec<u32> = {
        let mut s: Vec<u32> = rows.iter().map(|r| r.memory_mb).collect();
        s.sort_unstable();
        s.dedup();
        s
    };
    let mut out = format!(
        "| function | {} | choice |\n| --- |{} --- |\n",
        sizes.iter().map(|s| format!("{s} MB: p50 ms / $ per M")).collect::<Vec<_>>().join(" | "),
        " --- |".repeat(sizes.len())
    );
    for (function, rows) in &functions {
        let cells: Vec<String> = sizes
            .iter()
            .map(|size| match rows.iter().find(|r| r.memory_mb == *size) {
                Some(r) if r.error.is_none() => format!("{:.2} / {:.4}", r.warm_p50_us / 1000.0, cost_per_million(r.memory_mb, r.warm_p50_us)),
                Some(_) => "failed".into(),
                None => "–".into(),
            })
            .collect();
        let choice = choice(rows).map_or("–".to_string(), |(mb, _)| format!("**{mb} MB**"));
        out += &format!("| {function} | {} | {choice} |\n", cells.join(" | "));
    }
    out
}

/// The curve for one function: p50 (ms, left axis, bars) and cost per
/// million invocations (USD, right axis, line) at each memory size.
pub fn svg(function: &str, rows: &[&Row]) -> String {
    let points: Vec<(u32, f64, f64)> = rows
        .iter()
        .filter(|r| r.error.is_none() && r.invocations > 0)
        .map(|r| (r.memory_mb, r.warm_p50_us / 1000.0, cost_per_million(r.memory_mb, r.warm_p50_us)))
        .collect();
    let (width, height, left, right, top, bottom) = (640.0, 320.0, 64.0, 80.0, 40.0, 48.0);
    let plot_w = width - left - right;
    let plot_h = height - top - bottom;
    let max_ms = points.iter().map(|p| p.1).fold(0.0, f64::max).max(0.001) * 1.15;
    // The cost axis spans the costs seen (they differ by cents per million).
    let (min_cost, max_cost) = points.iter().fold((f64::INFINITY, 0.0_f64), |(lo, hi), p| (lo.min(p.2), hi.max(p.2)));
    let (low_cost, high_cost) = if min_cost.is_finite() { (min_cost * 0.98, max_cost * 1.02) } else { (0.0, 1.0) };
    let slot = plot_w / points.len().max(1) as f64;
    let x = |i: usize| left + slot * (i as f64 + 0.5);
    let y_ms = |v: f64| top + plot_h * (1.0 - v / max_ms);
    let y_cost = |v: f64| top + plot_h * (1.0 - (v - low_cost) / (high_cost - low_cost));
    let chosen = choice(rows).map(|(mb, _)| mb);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"{left}\" y=\"20\" font-size=\"14\" font-weight=\"bold\">{function}: warm p50 (bars, ms), $ per million invocations (line)</text>\n\
         <line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{bottom_y}\" stroke=\"#444\"/>\n\
         <line x1=\"{left}\" y1=\"{bottom_y}\" x2=\"{right_x}\" y2=\"{bottom_y}\" stroke=\"#444\"/>\n\
         <line x1=\"{right_x}\" y1=\"{top}\" x2=\"{right_x}\" y2=\"{bottom_y}\" stroke=\"#444\"/>\n",
        bottom_y = top + plot_h,
        right_x = left + plot_w,
    );
    for step in 0..=4 {
        let fraction = f64::from(step) / 4.0;
        let y = top + plot_h * (1.0 - fraction);
        svg += &format!(
            "<text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#1f5fa8\">{:.2}</text><text x=\"{}\" y=\"{:.1}\" fill=\"#b34700\">${:.4}</text>\n",
            left - 6.0,
            y + 4.0,
            max_ms * fraction,
            left + plot_w + 6.0,
            y + 4.0,
            low_cost + (high_cost - low_cost) * fraction
        );
    }
    for (i, (mb, ms, _)) in points.iter().enumerate() {
        let bar = slot * 0.5;
        let stroke = if Some(*mb) == chosen { " stroke=\"black\" stroke-width=\"2\"" } else { "" };
        svg += &format!(
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{bar:.1}\" height=\"{:.1}\" fill=\"#8db4e2\"{stroke}/>\n<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{mb} MB{}</text>\n",
            x(i) - bar / 2.0,
            y_ms(*ms),
            top + plot_h - y_ms(*ms),
            x(i),
            top + plot_h + 16.0,
            if Some(*mb) == chosen { " ✓" } else { "" }
        );
    }
    let line: Vec<String> = points.iter().enumerate().map(|(i, (_, _, cost))| format!("{:.1},{:.1}", x(i), y_cost(*cost))).collect();
    svg += &format!("<polyline points=\"{}\" fill=\"none\" stroke=\"#b34700\" stroke-width=\"2\"/>\n", line.join(" "));
    for (i, (_, _, cost)) in points.iter().enumerate() {
        svg += &format!("<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3.5\" fill=\"#b34700\"/>\n", x(i), y_cost(*cost));
    }
    svg += &format!(
        "<text x=\"{left}\" y=\"{:.1}\" fill=\"#555\">✓ the size chosen: the fastest within {:.0} % of the cheapest</text>\n</svg>\n",
        height - 8.0,
        COST_TOLERANCE * 100.0
    );
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(memory_mb: u32, warm_p50_us: f64) -> Row {
        Row { function: "f".into(), memory_mb, warm_p50_us, invocations: 10, ..Row::default() }
    }

    #[test]
    fn cost_bills_whole_milliseconds_of_gb_seconds_plus_the_request() {
        assert!((cost_per_million(1024, 1000.0) - (0.20 + 0.013_333_4)).abs() < 1e-9);
        assert_eq!(cost_per_million(128, 1.0), cost_per_million(128, 1000.0), "1 ms at least");
        assert!(cost_per_million(128, 1001.0) > cost_per_million(128, 1000.0), "rounded up");
    }

    #[test]
    fn the_fastest_size_within_a_percent_of_the_cheapest_is_chosen() {
        // 128 MB at 4.2 ms costs $0.2083/M; 256 MB at 1.8 ms $0.2067/M; 1769
        // MB at 0.9 ms $0.2230/M: 256 MB is cheapest and 128 MB is within 1 %
        // of it but slower.
        let rows = [row(128, 4200.0), row(256, 1800.0), row(1769, 900.0)];
        let refs: Vec<&Row> = rows.iter().collect();
        assert_eq!(choice(&refs).unwrap().0, 256);
        let svg = svg("f", &refs);
        assert!(svg.starts_with("<svg") && svg.contains("256 MB ✓") && svg.trim_end().ends_with("</svg>"));
    }
}
