//! `cargo run --profile bench-local -p bench`: runs every function's release
//! binary the way Lambda does and writes bench/results/latest.{md,json} and
//! BENCHMARKS.md. See BENCHMARKS.md for the method.
//!
//! Options: `--help` ([`USAGE`]). Each function runs at each memory size
//! inside the CPU share and memory limit Lambda gives it (src/share.rs; at
//! full CPU where cgroups cannot be used).

mod peers;
mod power;
mod proxy;
mod raw;
mod report;
mod runtime_api;
mod scenario;
mod share;
mod stats;
mod tls;

use proxy::Proxy;
use report::Row;
use runtime_api::RuntimeApi;
use scenario::{Scenario, Seed};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

/// A command to run each function under (`valgrind --tool=callgrind …`),
/// for finding where its CPU goes; its environment is the function's.
const WRAPPER_ENV: &str = "QUIRE_BENCH_WRAPPER";

/// The functions whose power-tuning curve is drawn (bench/results/power-*.svg).
const CHARTED: &[&str] = &["get-post", "authorizer", "create-post", "list-feed", "stream-processor", "node-get-post"];

/// The baseline: bench/lambdas' hello-world, built like the functions.
const BASELINE: &str = "hello";
/// Experiments (bench/lambdas): binary and the sample it is given. Measured
/// like the functions, left out of the targets.
const EXPERIMENTS: &[(&str, &str)] = &[("hello-current-thread", "health"), ("get-post-preconnect", "get-post")];
const TIMEOUT: Duration = Duration::from_secs(10);
/// Dummy secret for the cursor signer (32+ characters, as in production).
const CURSOR_KEY: &str = "bench-cursor-signing-key-0123456789abcdef";

struct Options {
    cold: usize,
    warm: usize,
    only: Option<Vec<String>>,
    build: bool,
    write: bool,
    tls: bool,
    /// Re-render the last results with the zip sizes now in target/lambda.
    report_only: bool,
    /// The cargo profile whose binaries are run (target/<profile>/).
    profile: String,
    /// The memory sizes each function runs at.
    memory: Vec<u32>,
    /// Leave out the Node.js and Python peers (and their installs).
    peers: bool,
    /// Hold init to the CPU share as well.
    throttle_init: bool,
}

const USAGE: &str = "\
usage: cargo run --profile bench-local -p bench -- [options]   (as root, for the CPU shares)
  --cold N              cold starts per function and size (default 20)
  --warm N              warm invocations per function and size (default 2000)
  --only a,b            these functions (and the hello-world baseline)
  --memory 128,256,…    memory sizes (default 128,256,512,1024,1769)
  --no-build            run the binaries already built
  --bin-profile P       build and run target/P's binaries (default release)
  --plain               DynamoDB endpoint over HTTP, not HTTPS
  --no-peers            leave out the Node.js and Python peers
  --throttle-init       hold init to the CPU share too (default: init at full CPU)
  --no-write            print only; do not write BENCHMARKS.md and bench/results
  --report-only         re-render the last results (arm64 zips, template.yaml's MemorySize)
QUIRE_BENCH_WRAPPER=\"valgrind --tool=callgrind …\" runs each function under a profiler.";

fn options() -> Options {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        std::process::exit(0);
    }
    // A typo must not start a quarter-hour run with the defaults.
    if let Some(unknown) = args.iter().find(|a| a.starts_with('-') && !USAGE.contains(&format!("  {a} "))) {
        eprintln!("bench: unknown option {unknown}\n{USAGE}");
        std::process::exit(2);
    }
    let value = |name: &str| args.iter().position(|a| a == name).map(|i| args.get(i + 1).cloned().unwrap_or_default());
    // A bad value is refused, not replaced by the default.
    let refuse = |name: &str, v: &str| -> ! {
        eprintln!("bench: {name} {v:?} is not a valid value (counts are whole numbers; memory sizes 128-10240 MB)\n{USAGE}");
        std::process::exit(2);
    };
    let number = |name: &str, default: usize| value(name).map_or(default, |v| v.parse().unwrap_or_else(|_| refuse(name, &v)));
    let memory = value("--memory").unwrap_or_else(|| "128,256,512,1024,1769".into());
    let memory: Vec<u32> =
        memory.split(',').map(|m| m.trim().parse().ok().filter(|mb| (128..=10_240).contains(mb)).unwrap_or_else(|| refuse("--memory", m))).collect();
    Options {
        cold: number("--cold", 20),
        warm: number("--warm", 2000),
        only: value("--only").map(|v| v.split(',').map(str::to_string).collect()),
        build: !args.iter().any(|a| a == "--no-build"),
        write: !args.iter().any(|a| a == "--no-write"),
        tls: !args.iter().any(|a| a == "--plain"),
        report_only: args.iter().any(|a| a == "--report-only"),
        profile: value("--bin-profile").unwrap_or_else(|| "release".into()),
        peers: !args.iter().any(|a| a == "--no-peers"),
        throttle_init: args.iter().any(|a| a == "--throttle-init"),
        memory,
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("bench/ is in the workspace").to_path_buf()
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from)
}

#[tokio::main]
async fn main() {
    if let Err(e) = run(options()).await {
        eprintln!("bench: {e}");
        std::process::exit(1);
    }
}

async fn run(mut options: Options) -> Result<(), String> {
    if options.report_only {
        return report_only(&mut options);
    }
    let started = Instant::now();
    let mut names: Vec<String> = functions::FUNCTIONS.iter().map(|f| f.name.to_string()).collect();
    names.sort();
    if let Some(only) = &options.only {
        names.retain(|n| only.contains(n));
    }
    if options.peers {
        match peers::prepare(&root(), &target_dir()) {
            Err(e) => eprintln!("warning: no peers in this run: {e}"),
            Ok(()) => {
                for (peer, base) in peers::PEERS {
                    if options.only.as_ref().is_none_or(|only| only.iter().any(|n| n == peer || n == base)) {
                        names.push(peer.to_string());
                    }
                }
            }
        }
    }
    for (experiment, base) in EXPERIMENTS {
        if options.only.as_ref().is_none_or(|only| only.iter().any(|n| n == experiment || n == base)) {
            names.push(experiment.to_string());
        }
    }
    names.insert(0, BASELINE.to_string());

    let build_time = if options.build { Some(build(&options.profile)?) } else { None };

    let stack = local::LocalStack::start(local::Options {
        template: local::template::default_path(),
        storage: local::Storage::InMemory,
        table_name: "quire".into(),
        port: 0,
        ttl_sweep_every: None,
        attach_stream: false,
        overrides: Default::default(),
    })
    .await?;
    // Nobody reads the stream here, and the engine's writes slow down as it
    // grows (README, "Demo data"): switch it off.
    if let Err(e) = stack
        .table()
        .client()
        .update_table()
        .table_name("quire")
        .stream_specification(aws_sdk_dynamodb::types::StreamSpecification::builder().stream_enabled(false).build().map_err(|e| e.to_string())?)
        .send()
        .await
    {
        eprintln!("warning: the stream stays on: {}", aws_sdk_dynamodb::error::DisplayErrorContext(e));
    }
    eprintln!("seeding…");
    let table = stack.table().clone();
    let seed = scenario::seed(&table).await?;
    let certificate = if options.tls { Some(tls::certificate(&target_dir().join("bench-tls"))?) } else { None };
    let extra_ca = certificate.as_ref().map(|c| c.ca.clone());
    let proxy = Proxy::start(stack.endpoint(), certificate.map(|c| c.acceptor)).await.map_err(|e| e.to_string())?;
    let api = RuntimeApi::start().await.map_err(|e| e.to_string())?;
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap_or_default();
    let documented = report::documented_calls(&readme);
    let bench = Bench {
        api,
        proxy,
        table,
        seed,
        extra_ca,
        bins: target_dir().join(&options.profile),
        logs: target_dir().join("bench-logs"),
        throttle_init: options.throttle_init,
    };
    std::fs::create_dir_all(&bench.logs).map_err(|e| e.to_string())?;

    let shares: Vec<share::Share> = options.memory.iter().map(|mb| share::Share::new(*mb)).collect();
    let mut rows = Vec::new();
    for (name, share) in names.iter().flat_map(|n| shares.iter().map(move |s| (n, s))) {
        eprintln!("{name} at {} MB…", share.memory_mb);
        let experiment = EXPERIMENTS.iter().chain(peers::PEERS).find(|(e, _)| e == name).map(|(_, base)| base.to_string());
        let sample = if name == BASELINE { "health".to_string() } else { experiment.clone().unwrap_or_else(|| name.clone()) };
        let text = std::fs::read_to_string(root().join("events").join(format!("{sample}.json"))).map_err(|e| format!("events/{sample}.json: {e}"))?;
        let mut row = match bench.measure(name, &sample, &text, &options, share).await {
            Ok(row) => row,
            Err(e) => Row { function: name.clone(), error: Some(e), ..Row::default() },
        };
        row.memory_mb = share.memory_mb;
        row.cpu_share = share.cpu_share();
        row.experiment = experiment.is_some();
        let route = serde_json::from_str::<serde_json::Value>(&text).ok().and_then(|e| e["routeKey"].as_str().map(str::to_string));
        row.documented_calls = match name.as_str() {
            "authorizer" => documented.get("authorizer").cloned(),
            BASELINE => None,
            _ => route.and_then(|r| documented.get(&r).cloned()),
        };
        eprintln!("  {}", serde_json::to_string(&row).unwrap_or_default());
        rows.push(row);
    }

    let run_time = started.elapsed();
    let deployed = deployed_sizes();
    let meta = serde_json::json!({
            "machine": machine(),
            "build_seconds": build_time.map(|t| t.as_secs_f64()),
            "run_seconds": run_time.as_secs_f64(),
            "cold_starts": options.cold,
            "warm_invocations": options.warm,
            "tls": options.tls,
            "memory_sizes": options.memory,
            "deployed_sizes": deployed,
            "throttle_init": options.throttle_init,
    });
    publish(&rows, &meta, options.write)?;
    stack.shutdown().await;
    Ok(())
}

/// Each function's `MemorySize` in template.yaml (the rest: 128 MB).
fn deployed_sizes() -> std::collections::BTreeMap<String, u32> {
    let template = local::template::Template::load(&local::template::default_path()).expect("template.yaml loads");
    template.functions.iter().map(|f| (f.handler.clone(), f.memory_mb)).collect()
}

/// template.yaml's MemorySize per function, as the run recorded it.
fn deployed_map(meta: &serde_json::Value) -> std::collections::HashMap<String, u32> {
    meta["deployed_sizes"].as_object().into_iter().flatten().filter_map(|(f, mb)| Some((f.clone(), u32::try_from(mb.as_u64()?).ok()?))).collect()
}

/// The rows at each function's deployed size (or its first size measured).
fn at_deployed_size(rows: &[Row], deployed: &std::collections::HashMap<String, u32>) -> Vec<Row> {
    let deployed = |function: &str| deployed.get(function).copied().unwrap_or(report::DEFAULT_MEMORY_MB);
    let mut chosen: Vec<Row> = Vec::new();
    for row in rows {
        match chosen.iter_mut().find(|r| r.function == row.function) {
            Some(existing) if row.memory_mb == deployed(&row.function) => *existing = row.clone(),
            Some(_) => {}
            None => chosen.push(row.clone()),
        }
    }
    chosen
}

/// Prints the tables and, with `write`, writes the result files.
fn publish(all: &[Row], meta: &serde_json::Value, write: bool) -> Result<(), String> {
    let deployed = deployed_map(meta);
    let rows = &at_deployed_size(all, &deployed);
    let peer_names: Vec<&str> = peers::PEERS.iter().map(|(p, _)| *p).collect();
    let latest = format!(
        "{}\n{}\n### By memory size\n\n{}\n### Power tuning\n\nPrices: {}. Each cell is the warm p50 and what a million invocations cost at it; the choice is the fastest size within {:.0} % of the cheapest.\n\n{}\n{}\n### Peers: `GET /posts/{{postId}}` on Node.js and Python\n\nRatios are the peer's figure over Quire's `get-post` at the same size.\n\n{}\n",
        report::markdown_table(rows),
        report::targets(rows, all, BASELINE, &deployed),
        report::by_memory_table(all),
        power::PRICES,
        power::COST_TOLERANCE * 100.0,
        power::table(all),
        CHARTED.iter().map(|f| format!("![{f}](bench/results/power-{f}.svg)\n")).collect::<String>(),
        report::peers_table(all, "get-post", &peer_names),
    );
    println!("{latest}");
    if write {
        let json = serde_json::json!({"meta": meta, "functions": all});
        let results = root().join("bench/results");
        report::write(&results.join("latest.json"), &serde_json::to_string_pretty(&json).map_err(|e| e.to_string())?)?;
        report::write(&results.join("latest.md"), &latest)?;
        for (function, rows) in power::by_function(all) {
            if CHARTED.contains(&function) {
                report::write(&results.join(format!("power-{function}.svg")), &power::svg(function, &rows))?;
            }
        }
        report::write(&root().join("BENCHMARKS.md"), &benchmarks_md(meta, &latest))?;
        eprintln!("wrote bench/results/latest.md, bench/results/latest.json, BENCHMARKS.md");
    }
    Ok(())
}

/// `--report-only`: the arm64 zips are often built after a run (the cross
/// build is slow); this puts their sizes into the last results.
fn report_only(options: &mut Options) -> Result<(), String> {
    let path = root().join("bench/results/latest.json");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?).map_err(|e| e.to_string())?;
    let mut rows: Vec<Row> = serde_json::from_value(json["functions"].clone()).map_err(|e| e.to_string())?;
    // The main table shows each function at its MemorySize as template.yaml says now.
    let mut meta = json["meta"].clone();
    meta["deployed_sizes"] = serde_json::json!(deployed_sizes());
    for row in &mut rows {
        row.zip_arm64_bytes = zip_size(&row.function).or(row.zip_arm64_bytes);
    }
    publish(&rows, &meta, options.write)
}

/// The binary a function runs: Quire's one binary for the registry's
/// functions (its `_HANDLER` picks the function), else the experiment's own.
fn binary_name(function: &str) -> &str {
    if functions::find(function).is_some() { QUIRE_BINARY } else { function }
}

/// functions/Cargo.toml's `[[bin]]`.
const QUIRE_BINARY: &str = "quire";

fn zip_size(function: &str) -> Option<u64> {
    std::fs::metadata(target_dir().join("lambda").join(binary_name(function)).join("bootstrap.zip")).ok().map(|m| m.len())
}

/// Builds the release binaries the bench runs (a no-op when up to date).
fn build(profile: &str) -> Result<Duration, String> {
    let started = Instant::now();
    let args = ["build", "--profile", profile, "-p", "functions", "-p", "bench-lambdas", "--bins"];
    eprintln!("cargo {}", args.join(" "));
    let status = std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(args)
        .current_dir(root())
        .status()
        .map_err(|e| format!("cargo: {e}"))?;
    if !status.success() {
        return Err("the release build failed".into());
    }
    Ok(started.elapsed())
}

struct Bench {
    api: RuntimeApi,
    proxy: Proxy,
    /// Straight to the engine: set-up calls are neither timed nor counted.
    table: shared::Table,
    seed: Seed,
    /// The proxy's CA, for the functions' `QUIRE_EXTRA_CA_FILE`, when the
    /// proxy speaks TLS.
    extra_ca: Option<PathBuf>,
    /// Where the binaries are: target/release unless `--bin-profile`.
    bins: PathBuf,
    logs: PathBuf,
    /// `--throttle-init`.
    throttle_init: bool,
}

impl Bench {
    fn binary(&self, name: &str) -> PathBuf {
        self.bins.join(binary_name(name))
    }

    /// Lambda's environment for a provided.al2023 function with JSON logs
    /// (template.yaml), plus the function's own variables.
    fn environment(&self, name: &str, memory_mb: u32) -> Vec<(String, String)> {
        let memory = &memory_mb.to_string();
        let function = format!("quire-{name}");
        [
            ("AWS_LAMBDA_RUNTIME_API", self.api.address()),
            ("AWS_LAMBDA_FUNCTION_NAME", &function),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", memory),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
            ("AWS_LAMBDA_LOG_GROUP_NAME", &format!("/aws/lambda/{function}")),
            ("AWS_LAMBDA_LOG_STREAM_NAME", "2026/11/24/[$LATEST]0123456789abcdef"),
            ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
            ("AWS_LAMBDA_LOG_LEVEL", "INFO"),
            ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand"),
            ("_HANDLER", name),
            ("LAMBDA_TASK_ROOT", "/var/task"),
            ("LAMBDA_RUNTIME_DIR", "/var/runtime"),
            ("AWS_REGION", "eu-west-1"),
            ("AWS_DEFAULT_REGION", "eu-west-1"),
            ("AWS_ACCESS_KEY_ID", "ASIABENCHBENCHBENCH0"),
            ("AWS_SECRET_ACCESS_KEY", "bench/bench/bench/bench/bench/bench/bench0"),
            ("AWS_SESSION_TOKEN", "bench-session-token"),
            ("TZ", ":UTC"),
            ("LANG", "en_US.UTF-8"),
            ("PATH", "/usr/local/bin:/usr/bin:/bin"),
            ("TABLE_NAME", "quire"),
            ("CURSOR_SIGNING_KEY", CURSOR_KEY),
            ("AWS_ENDPOINT_URL_DYNAMODB", self.proxy.endpoint()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .chain(self.extra_ca.iter().map(|r| (shared::https::EXTRA_CA_FILE_ENV.to_string(), r.display().to_string())))
        .chain(self.extra_ca.iter().flat_map(|r| peers::ca_variables(r)))
        .collect()
    }

    /// Starts a fresh process and waits for the end of its init (its first
    /// `next`): the time from spawn to then.
    async fn spawn(&self, name: &str, share: &share::Share) -> Result<(Child, Duration), String> {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(self.logs.join(format!("{name}.log"))).map_err(|e| e.to_string())?;
        let err_log = log.try_clone().map_err(|e| e.to_string())?;
        let ready = self.api.expect_init(&format!("arn:aws:lambda:eu-west-1:123456789012:function:quire-{name}"));
        let mut command = match std::env::var(WRAPPER_ENV) {
            // A profiler around the function, e.g. `valgrind --tool=callgrind`.
            Ok(wrapper) if !wrapper.trim().is_empty() => {
                let mut words = wrapper.split_whitespace();
                let mut command = Command::new(words.next().expect("a word"));
                command.args(words).arg(self.binary(name));
                command
            }
            _ => peers::command(name, &root(), &target_dir()).unwrap_or_else(|| Command::new(self.binary(name))),
        };
        command.env_clear().envs(self.environment(name, share.memory_mb)).stdin(Stdio::null()).stdout(log).stderr(err_log).kill_on_drop(true);
        let spawned = Instant::now();
        let mut child = command.spawn().map_err(|e| format!("{}: {e}", self.binary(name).display()))?;
        // Lambda's limits for the memory size: only the function is inside,
        // not the bench's engine, proxy and Runtime API. (Its first few
        // microseconds run before the move; exec and the dynamic loader
        // barely start by then.) The CPU share starts after init unless
        // `--throttle-init` (src/share.rs says why).
        let pid = child.id();
        let entered = pid.map_or(Ok(()), |pid| {
            share.enter_memory(pid)?;
            if self.throttle_init { share.enter_cpu(pid) } else { Ok(()) }
        });
        if let Err(e) = entered {
            stop(child).await;
            return Err(e);
        }
        let init = tokio::select! {
            ready = ready => match ready {
                Ok(Ok(at)) => Ok(at - spawned),
                Ok(Err(body)) => Err(format!("init error: {body}")),
                Err(_) => Err("init was not reported".to_string()),
            },
            status = child.wait() => Err(format!("exited during init ({status:?}); see target/bench-logs/{name}.log")),
            _ = tokio::time::sleep(TIMEOUT) => Err("no init within 10 s".to_string()),
        };
        let init = match (init, pid) {
            (Ok(init), Some(pid)) if !self.throttle_init => share.enter_cpu(pid).map(|()| init),
            (init, _) => init,
        };
        match init {
            Ok(init) => Ok((child, init)),
            Err(e) => {
                stop(child).await;
                Err(e)
            }
        }
    }

    /// One invocation: its latency, the engine's time, its calls, its answer.
    async fn invoke(&self, sample: &str, scenario: &mut Scenario) -> Result<Invocation, String> {
        let event = scenario.next_event(&self.table, &self.seed).await?;
        self.proxy.take();
        let outcome = self.api.invoke(event, TIMEOUT).await?;
        let calls = self.proxy.take();
        let body = outcome.result.clone().map_err(|e| format!("the function failed: {e}"))?;
        let answer: serde_json::Value = serde_json::from_str(&body).map_err(|e| format!("answer is not JSON ({e}): {body}"))?;
        scenario.after(&self.table, &self.seed, &answer).await?;
        let engine = calls.iter().map(|c| c.engine).sum();
        let (calls, requests) = calls.into_iter().map(|c| (c.operation, c.request)).unzip();
        Ok(Invocation { latency: outcome.latency(), engine, calls, requests, answer: scenario::answer_summary(sample, &answer) })
    }

    async fn measure(&self, name: &str, sample: &str, text: &str, options: &Options, share: &share::Share) -> Result<Row, String> {
        share.reset();
        let mut scenario = Scenario::new(sample, text, &self.seed)?;
        let mut inits = Vec::new();
        let mut firsts = Vec::new();
        let mut answers = Vec::new();
        for _ in 0..options.cold {
            let (child, init) = self.spawn(name, share).await?;
            let first = self.invoke(sample, &mut scenario).await;
            stop(child).await;
            let first = first?;
            inits.push(init);
            firsts.push(first.latency);
            answers.push(first.answer);
        }
        let (mut child, init) = self.spawn(name, share).await?;
        inits.push(init);
        let mut latencies = Vec::with_capacity(options.warm);
        let mut engine = Vec::with_capacity(options.warm);
        let mut overhead = Vec::with_capacity(options.warm);
        let mut sequences = Vec::with_capacity(options.warm);
        let mut raw_times = Vec::with_capacity(options.warm);
        let mut raw_refused = 0;
        let raw = raw::RawClient::connect(self.proxy.endpoint(), self.extra_ca.as_deref()).await?;
        // The process's own first invocation is a cold one: not in the warm figures.
        let warmed = self.invoke(sample, &mut scenario).await;
        let cpu_before = child.id().map_or(Duration::ZERO, cpu_time);
        for _ in 0..options.warm {
            if warmed.is_err() {
                break;
            }
            match self.invoke(sample, &mut scenario).await {
                Ok(i) => {
                    latencies.push(i.latency);
                    engine.push(i.engine);
                    overhead.push(i.latency.saturating_sub(i.engine));
                    sequences.push(i.calls);
                    answers.push(i.answer);
                    // Its calls go through the proxy too: dropped there by
                    // the next invocation's `take`.
                    let replayed = raw.time(i.requests).await?;
                    raw_times.push(replayed.time);
                    raw_refused += replayed.refused;
                }
                Err(e) => {
                    stop(child).await;
                    return Err(e);
                }
            }
        }
        let peak_rss_kib = child.id().map_or(0, peak_rss_kib);
        let cpu = child.id().map_or(Duration::ZERO, cpu_time).saturating_sub(cpu_before);
        stop_ref(&mut child).await;
        warmed?;
        let (calls, _) = stats::usual_calls(&sequences);
        let call_count: usize = sequences.iter().map(Vec::len).sum();
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let us = |d: Duration| d.as_secs_f64() * 1e6;
        Ok(Row {
            function: name.to_string(),
            cold_starts: options.cold,
            init_median_ms: ms(stats::percentile(&inits, 50.0)),
            init_min_ms: ms(stats::percentile(&inits, 0.0)),
            init_max_ms: ms(stats::max(&inits)),
            first_invocation_median_ms: ms(stats::percentile(&firsts, 50.0)),
            invocations: latencies.len(),
            warm_p50_us: us(stats::percentile(&latencies, 50.0)),
            warm_p99_us: us(stats::percentile(&latencies, 99.0)),
            dynamodb_p50_us: us(stats::percentile(&engine, 50.0)),
            overhead_p50_us: us(stats::percentile(&overhead, 50.0)),
            overhead_p99_us: us(stats::percentile(&overhead, 99.0)),
            raw_p50_us: us(stats::percentile(&raw_times, 50.0)),
            raw_refused,
            cpu_per_invocation_us: us(cpu) / latencies.len().max(1) as f64,
            calls_per_invocation: call_count as f64 / sequences.len().max(1) as f64,
            calls,
            documented_calls: None,
            answers: stats::tally(&answers),
            peak_rss_kib,
            binary_bytes: std::fs::metadata(self.binary(name)).map(|m| m.len()).unwrap_or(0),
            zip_arm64_bytes: zip_size(name),
            experiment: false,
            error: None,
            memory_mb: share.memory_mb,
            cpu_share: share.cpu_share(),
            memory_limit_hits: share.memory_limit_hits(),
        })
    }
}

struct Invocation {
    latency: Duration,
    engine: Duration,
    calls: Vec<String>,
    /// The requests, for the raw-call replay.
    requests: Vec<raw::Recorded>,
    answer: String,
}

async fn stop(mut child: Child) {
    stop_ref(&mut child).await;
}

async fn stop_ref(child: &mut Child) {
    // Under a profiler, SIGTERM first: it writes its figures as the process ends.
    if std::env::var(WRAPPER_ENV).is_ok_and(|w| !w.trim().is_empty())
        && let Some(pid) = child.id()
    {
        let _ = std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status();
        if tokio::time::timeout(Duration::from_secs(20), child.wait()).await.is_ok() {
            return;
        }
    }
    let _ = child.start_kill();
    let _ = child.wait().await;
}

/// CPU time the process has used so far, all threads (user and system), from
/// the scheduler's nanosecond counters.
fn cpu_time(pid: u32) -> Duration {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Duration::ZERO;
    };
    tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .map(Duration::from_nanos)
        .sum()
}

/// The process's peak resident set (VmHWM), in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok()).unwrap_or(0)
}

fn machine() -> serde_json::Value {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo.lines().find_map(|l| l.strip_prefix("model name")).map(|l| l.trim_start_matches([' ', '\t', ':']).to_string());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim().to_string();
    let memory_kib: f64 = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        .unwrap_or_default();
    let memory = format!("{:.0} GiB", memory_kib / 1_048_576.0);
    // The 1, 5 and 15 minute load averages.
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default().split_whitespace().take(3).collect::<Vec<_>>().join(" ");
    let rustc =
        std::process::Command::new("rustc").arg("-V").output().map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string()).unwrap_or_default();
    serde_json::json!({
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        "cpu": cpu,
        "kernel": kernel,
        "memory": memory,
        "load_average_at_start": load,
        "rustc": rustc,
        "date": date(),
    })
}

fn date() -> String {
    std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

fn benchmarks_md(meta: &serde_json::Value, latest: &str) -> String {
    let include = |file: &str| {
        std::fs::read_to_string(root().join("bench/results").join(file)).unwrap_or_else(|_| format!("(bench/results/{file} is missing)\n"))
    };
    let machine = &meta["machine"];
    let text = |key: &str| machine[key].as_str().unwrap_or_default().to_string();
    format!(
        "# Benchmarks\n\n\
         Generated by `cargo run --profile bench-local -p bench` on {date}; do not edit by hand (edit bench/src/main.rs or bench/results/experiments.md).\n\n\
         **Machine:** {cores} cores ({cpu}), {memory}, Linux {kernel}, {rustc}; load average at start {load} (the machine is shared with other workers' builds and tests. Init medians of 2.6 ms and of 9 ms have been seen for the same binary while other builds ran. Warm latencies are higher on an idle machine than on a busy one, because idle vCPUs are slow to wake; see Experiments).  \n\
         **Run:** {cold} cold starts and {warm} warm invocations per function and memory size, DynamoDB endpoint over {endpoint}, init {init_share}; build step {build}, run {run:.0} s.\n\n\
         ## Functions\n\n{latest}\n\
         Columns: *init* is spawn → the process's first `next` request (median, minimum and maximum over the cold starts; the minimum is the cost without the shared machine's queueing); *1st call* is that process's first invocation (the cold start's share of the first request's latency); \
         *warm* is event handed out → response received; *DynamoDB raw call* is the same invocation's DynamoDB requests sent again by a bare client right after it, timed at that client (median of the per-invocation sums; *refused* counts replayed writes whose condition no longer held), and *engine* is the time the timing proxy saw for the function's own calls; *overhead vs raw call* is warm p50 − raw call p50 (the 300 µs target); *overhead vs engine* is warm − engine time per invocation (stricter: it also counts the loopback hop and both sides' TLS); \
         *CPU / invocation* is the function process's CPU time (user + system, from `/proc/<pid>/task/*/schedstat`) over the warm run divided by its invocations, the figure least affected by the machine's noise; *calls / invocation* is the mean number of DynamoDB requests and, in brackets, the sequence most invocations made; *README calls* compares it with the access-pattern table; *answers* counts what came back; \
         *peak RSS* is VmHWM after the warm run; *zip arm64* is `cargo lambda build --release --arm64`'s bootstrap.zip.\n\n\
         ## Stream processor\n\n{stream}\n\
         ## Experiments\n\n{experiments}\n\
         ## Method\n\n{method}\n\
         ## Reproduce\n\n{reproduce}",
        date = text("date"),
        cores = machine["cores"],
        cpu = text("cpu"),
        memory = text("memory"),
        kernel = text("kernel"),
        rustc = text("rustc"),
        load = text("load_average_at_start"),
        cold = meta["cold_starts"],
        endpoint = if meta["tls"].as_bool().unwrap_or(true) { "HTTPS" } else { "plain HTTP (--plain)" },
        warm = meta["warm_invocations"],
        build = meta["build_seconds"].as_f64().map_or("skipped (--no-build)".to_string(), |b| format!("{b:.0} s")),
        run = meta["run_seconds"].as_f64().unwrap_or_default(),
        init_share = if meta["throttle_init"].as_bool().unwrap_or(false) {
            "held to the CPU share (--throttle-init)"
        } else {
            "at full CPU, the share from the first `next` on (Method)"
        },
        stream = include("stream-bench.md"),
        experiments = include("experiments.md"),
        method = METHOD,
        reproduce = REPRODUCE,
    )
}

const METHOD: &str = "\
- **Binaries.** `cargo build --release -p functions -p bench-lambdas --bins`: Quire's one binary `quire`, which every function runs with its name in `_HANDLER` as in Lambda, and the experiments' own (the workspace's `[profile.release]`: opt-level \"s\" (measured against 3 and \"z\", see Experiments), fat LTO, one codegen unit, `panic = \"abort\"`, stripped), for this machine (x86_64). The zip sizes are of the arm64 builds `cargo lambda build --release --arm64` makes (built separately, see Reproduce); the bench reads them from `target/lambda/<binary>/bootstrap.zip` (`quire` for every function).
- **Memory sizes.** Lambda gives a function CPU in proportion to its memory: one full vCPU at 1,769 MB, so 7.2 % of one at 128 MB. Each function runs at each size of `--memory` (default 128, 256, 512, 1,024 and 1,769 MB) inside two cgroups (v1) that only its process is in (`bench/src/share.rs`): `cpu.cfs_quota_us` = MB / 1,769 × `cpu.cfs_period_us`, the period 20 ms, and `memory.limit_in_bytes` = the size; `AWS_LAMBDA_FUNCTION_MEMORY_SIZE` says the size too. **Init runs at full CPU**: the process is under the memory limit from its start and enters the CPU share when it asks for its first event (`next`). Lambda runs init code faster than handler code at sizes under 3 GB (Luc van Donkersgoed measured it: \"Lambda Cold Starts and Bootstrap Code\", 2022), and the throttled model could not be right: at 7.2 % of a core, Python's `import boto3` alone took more than Lambda's 10 s init limit in session 8's run, a time no Python user sees on Lambda at 128 MB. `--throttle-init` holds init to the share as well. The bench's engine, proxy and Runtime API run outside at full speed, as DynamoDB and Lambda's own service do. The model's limits: Lambda's scheduling period is not published (a shorter period spreads the same share more evenly: fewer long stalls, more short ones), and Firecracker's vCPU, the host's other tenants and arm64 cores are not modelled; the figures rank sizes and functions on one machine, they are not AWS's milliseconds. Where cgroups cannot be used (not root, no cgroup v1) the bench says so and runs that size at full CPU (the *CPU share* column then reads \"full\").
- **Power tuning.** For each function and size, a million invocations cost the request price plus GB-seconds at the warm p50 rounded up to a whole millisecond (Lambda bills by the millisecond) at the arm64 price; the table shows p50 and cost side by side, and the choice is the fastest size within 1 % of the cheapest. The charts (bench/results/power-*.svg) draw both against the size.
- **Peers.** The same route, `GET /posts/{postId}` (the one Query Quire's makes, the same JSON answer), written as a team would on Node.js 20 with `@aws-sdk/client-dynamodb` and `@aws-sdk/lib-dynamodb` (the document client built once at load; bench/peers/node, versions in its package-lock.json) and on Python 3.11 with boto3 (its table resource built once at load; bench/peers/python/requirements.txt). Each runs under a minimal runtime loop of a few lines (`next`, the handler, `response`, over one keep-alive connection: what the managed runtimes' interface clients do) with the same Runtime API, environment, CPU shares, proxy and engine; they trust the proxy's CA through `NODE_EXTRA_CA_CERTS` and `AWS_CA_BUNDLE`. The bench installs their packages on first use (`npm ci`, a venv under target/).
- **Lambda's side.** The bench serves the Lambda Runtime API (`/2018-06-01/runtime/invocation/next`, `…/{id}/response`, `…/{id}/error`, `/2018-06-01/runtime/init/error`, with the `Lambda-Runtime-Aws-Request-Id`, `-Deadline-Ms`, `-Invoked-Function-Arn` and `-Trace-Id` headers) on loopback and starts each binary with Lambda's environment for a `provided.al2023` function with JSON logs: `AWS_LAMBDA_RUNTIME_API`, `AWS_LAMBDA_FUNCTION_NAME`, `…_MEMORY_SIZE` (128, 256 for the stream processor), `…_VERSION`, `AWS_LAMBDA_LOG_FORMAT=JSON`, `_HANDLER`, `AWS_REGION`, credentials in `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN`, `TABLE_NAME`, `CURSOR_SIGNING_KEY`, and `AWS_ENDPOINT_URL_DYNAMODB`. Nothing else is inherited. Logs go to `target/bench-logs/<function>.log`. One function process runs at a time.
- **Cold starts.** Each of the N cold starts is a new process: *init* is from just before `spawn` to the arrival of its first `next` request (what Lambda reports as Init Duration, plus process creation). The process then gets one event (*1st call*) and is killed. One more process serves the warm run.
- **Warm run.** That process's first invocation is left out; then N invocations of the function's `events/` sample, one at a time. *Latency* runs from the moment the Runtime API hands the event out (just before it writes the `next` response) to the moment it has read the whole `response` POST, so it includes the runtime client's two loopback HTTP exchanges, as in Lambda.
- **Data.** An embedded dynoxide engine (in-memory, table created from template.yaml, stream switched off because nothing reads it here and the engine's writes slow down as it grows) is seeded through the data model (`bench/src/scenario.rs`): Ada (`ada@example.com`, the caller of the authenticated samples) with 25 drafts, 26 published posts and as many unread notifications; Fred, followed by and following 25 users, with 25 published posts; a post with 25 comments. The samples' made-up ids are replaced by these real ones. Routes that change state get what they need before each invocation, directly on the engine (so neither timed nor counted): a fresh draft for `publish-post` and `delete-post`, a fresh comment for `delete-comment`, a fresh key for `revoke-api-key`, a fresh user for `delete-me`, a fresh unread notification for `mark-notification-read`, the follow that `unfollow-user` removes, the last ETag as `If-Match` for `update-me`/`update-post`, `from`/`to` flipped for `change-plan`, a new email for `create-user`, fresh event ids for the stream processor (whose sample is about a user of its own, since each delivery applies its counter changes again); `create-api-key`'s key and `follow-user`'s follow are undone after each invocation. So every invocation does the route's real work, and *answers* shows it.
- **HTTPS.** DynamoDB only speaks HTTPS, so the functions' endpoint does too (unless `--plain`): a fresh certificate for 127.0.0.1 from a throwaway CA, trusted through `QUIRE_EXTRA_CA_FILE` on top of the Amazon roots built into every function (`shared/src/https.rs`), so a cold start parses what it parses in Lambda plus this one certificate. A cold process's first call therefore loads the roots, builds the TLS client, seeds aws-lc's random generator and does a TLS 1.3 handshake, as in AWS (but without DNS, and on loopback).
- **DynamoDB time.** The functions' endpoint is a timing proxy in the bench process in front of the engine. For each request it notes the operation (from `X-Amz-Target`) and the time from having read the request to having the engine's answer ready to send back: its own forwarding, the proxy → engine loopback hop (plain HTTP) and the engine's work, i.e. what stands for DynamoDB. *Overhead* = latency − the sum of those times for the invocation, so it holds the function's own work (parsing the event, building, signing and sending the request, TLS, parsing the answer, building the response), its two Runtime API exchanges (see `hello`'s warm latency for their floor), and the loopback hop to the proxy and back, including the proxy's side of TLS and HTTP parsing (tens of µs; in AWS the network to DynamoDB takes its place). Calls per invocation are counted by the same proxy.
- **Raw call time.** `bench/src/raw.rs`: after each warm invocation, a bare HTTP/1.1 client (hyper's connection API over tokio-rustls, one keep-alive TLS connection, on its own thread with a single-threaded runtime, as the functions run) sends that invocation's recorded requests again, byte for byte, to the same endpoint and times each from request to whole answer. That is the DynamoDB call as the route makes it, without the function: the network hop, TLS and the engine. *Overhead vs raw call* = warm p50 − raw p50 is what the function adds: the Lambda runtime's two exchanges, event parsing, the handler, the SDK's pipeline (serialising, endpoint resolution, SigV4 signing, interceptors, parsing the answer) and the response. Replaying each invocation's calls right after it, instead of all of them in a burst, matters: in a burst every thread stays awake (in one trial a burst of get-post's GetItem took 75 µs at p50, half the 147 µs the proxy measured for the function's own calls in the same run). A replayed conditional write can be refused (the draft was already deleted, the ETag has moved on); a refusal skips the write, so it is no slower than the real call, which can only make the overhead look larger. (Sending them without their condition was tried: the write then changed the state the next invocation depends on, such as update-post's ETag chain, and the function's own calls started failing.) A `TransactWriteItems` carries the SDK's `ClientRequestToken`, so its replay is answered as a repeat of the same transaction without writing: hence raw call < engine for those routes, none of which is a single-item route.
- **Baseline.** `hello` (bench/lambdas) is a hello-world `lambda_runtime` function with the same runtime crate, features, tracing subscriber and profile, given the `health` sample; the init target is relative to its median.
- **Experiment rows.** `hello-current-thread` is `hello` on tokio's current-thread runtime, as Quire's functions run (see Experiments). `get-post-preconnect` (bench/lambdas) is get-post with one GetItem during init, which opens the connection (and does the TLS handshake) before the first request; compare its init and 1st call with get-post's. It is not held to the targets.
- **Peak RSS.** `VmHWM` from `/proc/<pid>/status` of the warm process after its last invocation.
- **Noise.** The machine is shared with other workers' builds. Warm latencies depend on how idle the machine is (idle vCPUs are slow to wake; see Experiments). Init is the most sensitive figure: a cold start is a handful of context switches, and when both cores are busy each can wait for a time slice. Compare figures from one run, and the hello-world baseline's init, taken in the same run, is the yardstick.
";

const REPRODUCE: &str = "\
```sh
# arm64 zips (optional; the bench reports the sizes it finds). cargo-lambda from PyPI brings zig.
python3 -m venv target/lambda-venv && target/lambda-venv/bin/pip install cargo-lambda
PATH=$PWD/target/lambda-venv/bin:$PATH cargo lambda build --release --arm64 --output-format zip -p functions -p bench-lambdas
# the benchmark: builds the x86_64 release binaries, then runs each function at each memory size (as root, for the cgroups)
cargo run --profile bench-local -p bench                    # -- --help: --cold, --warm, --memory, --only, --no-build, --throttle-init…
# the published run (2026-12-03): cargo run --profile bench-local -p bench -- --no-build --cold 10 --warm 2000
# the stream processor's figures (bench/results/stream-bench.md)
cargo run --profile bench-local -p local --bin stream-bench
```
";
