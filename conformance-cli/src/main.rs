//! `conformance-cli`: runs the conformance scenarios and benchmarks against every
//! backend it can reach, outside `cargo test`.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;

use adapter_conformance::harness::{self, BackendSpec, Resolved};
use adapter_conformance::{Backend, Scenario, SCENARIOS};
use clap::{Args, Parser, Subcommand};
use conformance_cli::node_reads::NodeReads;
use conformance_cli::report::{self, BackendReport, BackendStatus};
use conformance_cli::{backends, bench, relay};

/// Conformance suite for auth database adapters.
#[derive(Debug, Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the scenarios on the chosen backends (the default command).
    Check(CheckArgs),
    /// Measure the hot paths under load against the raw driver (use a release build).
    Bench(BenchArgs),
    /// List the backends compiled in and the scenarios.
    List(ListArgs),
}

#[derive(Debug, Args, Default)]
struct Selection {
    /// Backends to use (repeatable); default: every backend compiled in. Server backends
    /// without a URL or Docker engine are skipped, or fail under AUTH_CONFORMANCE_REQUIRE.
    #[arg(short, long = "backend", value_name = "NAME")]
    backends: Vec<String>,
    /// Print JSON instead of tables.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args, Default)]
struct ListArgs {
    /// Print the scenario catalogue as Markdown (the repository's CONFORMANCE.md).
    #[arg(long)]
    markdown: bool,
}

#[derive(Debug, Args, Default)]
struct CheckArgs {
    #[command(flatten)]
    selection: Selection,
    /// Only scenarios whose name contains this text.
    #[arg(short, long, value_name = "TEXT")]
    scenario: Option<String>,
    /// Scenarios run at once per backend.
    #[arg(long, default_value_t = 4)]
    parallel: usize,
    /// Also write the results as JUnit XML to this file (for CI systems).
    #[arg(long, value_name = "FILE")]
    junit: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
struct BenchArgs {
    #[command(flatten)]
    selection: Selection,
    /// Calls per phase (over all callers). With --seconds, whichever comes first ends the
    /// phase; with neither, a phase lasts 2 s.
    #[arg(short = 'n', long)]
    iterations: Option<u64>,
    /// Length of each phase, in seconds.
    #[arg(long, value_name = "SECONDS")]
    seconds: Option<f64>,
    /// Concurrency levels, comma-separated: one phase per level and operation.
    #[arg(short, long, value_delimiter = ',', default_value = "1,32")]
    concurrency: Vec<usize>,
    /// Users seeded, each with one account and one session.
    #[arg(long, default_value_t = 10_000)]
    users: usize,
    /// Operations, comma-separated (default: all): session-read-hit, session-read-miss,
    /// create-session, update-session, delete-session, create-token, use-token,
    /// user-by-email, user-by-account.
    #[arg(long, value_delimiter = ',', value_name = "OPS")]
    ops: Vec<String>,
    /// Runs of each phase; every figure is the median over them.
    #[arg(long, default_value_t = 1)]
    runs: usize,
    /// Skip the raw driver floor.
    #[arg(long)]
    no_floor: bool,
    /// Give every seeded user extra fields of this many bytes of JSON (e.g. 1024), to
    /// measure what the app's own fields cost on the session read.
    #[arg(long, default_value_t = 0, value_name = "BYTES")]
    user_extra_bytes: usize,
    /// Count round trips per call with a TCP relay between each server backend and its
    /// server (a separate, sequential pass; the timed phases go direct).
    #[arg(long)]
    round_trips: bool,
    /// Compare with an earlier `bench --json` output: a fall of ops/s beyond the tolerance
    /// on any of the adapter's rows is reported and makes the exit status 1.
    #[arg(long, value_name = "FILE")]
    baseline: Option<std::path::PathBuf>,
    /// The regression tolerance of --baseline, in percent.
    #[arg(long, default_value_t = 15.0, value_name = "PERCENT")]
    tolerance: f64,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("could not start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command.unwrap_or(Command::Check(CheckArgs::default())) {
            Command::Check(args) => check(args).await,
            Command::Bench(args) => run_bench(args).await,
            Command::List(args) => list(&args),
        }
    });
    // The containers the harness started for this run, removed before the process ends.
    harness::remove_containers();
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

fn selected(selection: &Selection) -> Result<Vec<BackendSpec>, String> {
    if selection.backends.is_empty() {
        return Ok(backends::all());
    }
    selection
        .backends
        .iter()
        .map(|name| {
            backends::by_name(name).ok_or_else(|| {
                let known: Vec<_> = backends::all().iter().map(|s| s.name).collect();
                format!(
                    "unknown backend {name:?}; compiled in: {}",
                    known.join(", ")
                )
            })
        })
        .collect()
}

/// Opens a backend, or explains why not. A missing backend is an error when required.
async fn open(spec: &BackendSpec) -> Result<Arc<dyn Backend>, BackendReport> {
    let not_run = |status, reason: String| BackendReport {
        backend: spec.name.to_owned(),
        status,
        reason: Some(reason),
        results: Vec::new(),
    };
    match harness::resolve(spec).await {
        Ok(Resolved::Ready(backend)) => Ok(backend),
        Ok(Resolved::Skipped(why)) if harness::is_required(spec.name) => Err(not_run(
            BackendStatus::Error,
            format!("{why} — required by {}", harness::REQUIRE_VAR),
        )),
        Ok(Resolved::Skipped(why)) => Err(not_run(BackendStatus::Skipped, why)),
        Err(e) => Err(not_run(
            BackendStatus::Error,
            format!("backend {} could not be opened: {e}", spec.name),
        )),
    }
}

async fn check(args: CheckArgs) -> Result<bool, String> {
    let specs = selected(&args.selection)?;
    let scenarios: Vec<Scenario> = SCENARIOS
        .iter()
        .filter(|s| args.scenario.as_deref().is_none_or(|f| s.name.contains(f)))
        .copied()
        .collect();
    if scenarios.is_empty() {
        return Err("no scenario matches the filter".to_owned());
    }
    let mut reports = Vec::new();
    for spec in &specs {
        let backend = match open(spec).await {
            Ok(backend) => backend,
            Err(report) => {
                // The report below says it too; this line tells a person watching the
                // progress why a backend went by without any.
                eprintln!("{}", report.reason.as_deref().unwrap_or_default());
                reports.push(report);
                continue;
            }
        };
        let total = scenarios.len();
        let done = std::sync::atomic::AtomicUsize::new(0);
        let name = spec.name;
        let interactive = std::io::stderr().is_terminal();
        let progress = |result: &adapter_conformance::ScenarioResult| {
            let n = done.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
            let verdict = result.verdict();
            if interactive {
                eprint!(
                    "\r\x1b[2K[{name}] {n}/{total} {} {verdict}",
                    result.scenario
                );
                if n == total {
                    eprintln!();
                }
            } else if !result.passed() || result.gap.is_some() || n == total {
                eprintln!("[{name}] {n}/{total} {} {verdict}", result.scenario);
            }
            let _ = std::io::stderr().flush();
        };
        let results =
            adapter_conformance::run_all(backend, &scenarios, args.parallel, &progress).await;
        reports.push(BackendReport {
            backend: spec.name.to_owned(),
            status: BackendStatus::Ran,
            reason: None,
            results,
        });
    }
    if let Some(path) = &args.junit {
        std::fs::write(path, report::render_junit(&reports, &scenarios))
            .map_err(|e| format!("could not write {}: {e}", path.display()))?;
    }
    if args.selection.json {
        let json = serde_json::to_string_pretty(&report::JsonReport::new(&reports))
            .map_err(|e| e.to_string())?;
        println!("{json}");
    } else {
        print!("{}", report::render_text(&reports));
    }
    Ok(!reports.iter().any(BackendReport::is_failure))
}

async fn run_bench(args: BenchArgs) -> Result<bool, String> {
    if cfg!(debug_assertions) {
        eprintln!("note: this is a debug build; measure with `cargo run --release -p conformance-cli -- bench`");
    }
    let specs = selected(&args.selection)?;
    let ops = if args.ops.is_empty() {
        bench::Op::ALL.to_vec()
    } else {
        args.ops
            .iter()
            .map(|name| bench::Op::parse(name).ok_or_else(|| format!("unknown operation {name:?}")))
            .collect::<Result<_, _>>()?
    };
    let duration = match (args.seconds, args.iterations) {
        (Some(s), _) if !(s.is_finite() && s > 0.0) => {
            return Err(format!("--seconds must be positive, not {s}"))
        }
        (Some(s), _) => Some(std::time::Duration::from_secs_f64(s)),
        (None, None) => Some(std::time::Duration::from_secs(2)),
        (None, Some(_)) => None,
    };
    if args.concurrency.contains(&0) {
        return Err("a concurrency level must be at least 1".to_owned());
    }
    let baseline = match &args.baseline {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("baseline {}: {e}", path.display()))?;
            Some(bench::parse_baseline(&text).map_err(|e| e.to_string())?)
        }
        None => None,
    };
    let options = bench::LoadOptions {
        users: args.users,
        concurrency: args.concurrency.clone(),
        duration,
        calls: args.iterations,
        ops: ops.clone(),
        runs: args.runs,
        raw_floor: !args.no_floor,
        user_extra_bytes: args.user_extra_bytes,
    };
    let mut rows = Vec::new();
    let mut ok = true;
    for spec in &specs {
        let backend = match open(spec).await {
            Ok(backend) => backend,
            Err(report) => {
                ok &= report.status != BackendStatus::Error;
                eprintln!("{}", report.reason.unwrap_or_default());
                continue;
            }
        };
        let trips = match (&spec.source, args.round_trips) {
            (harness::Source::Server { .. }, true) => {
                eprintln!("[{}] counting round trips…", spec.name);
                match count_round_trips(spec, &ops, args.user_extra_bytes).await {
                    Ok(trips) => {
                        if trips.len() < ops.len() {
                            eprintln!(
                                "[{}] round trips not counted for some operations: their \
                                 traffic did not go through the relay (the driver reached \
                                 the server another way, e.g. a local Unix socket)",
                                spec.name
                            );
                        }
                        Some(trips)
                    }
                    Err(e) => {
                        eprintln!("[{}] round trips: {e}", spec.name);
                        ok = false;
                        None
                    }
                }
            }
            _ => None,
        };
        eprintln!(
            "[{}] seeding {} users, then {} operations at c = {:?}…",
            spec.name,
            args.users,
            ops.len(),
            args.concurrency
        );
        match bench::run(spec.name, backend.as_ref(), &options).await {
            Ok(mut measured) => {
                for row in measured.iter_mut().filter(|r| r.implementation == "ours") {
                    row.round_trips = trips.as_ref().and_then(|t| {
                        bench::Op::parse(&row.operation).and_then(|op| t.get(&op).copied())
                    });
                }
                if args.selection.json {
                    for row in &measured {
                        println!("{}", serde_json::to_string(row).map_err(|e| e.to_string())?);
                    }
                } else {
                    print!("{}", bench::render_table(&measured));
                }
                rows.extend(measured);
            }
            Err(e) => {
                eprintln!("[{}] benchmark failed: {e}", spec.name);
                ok = false;
            }
        }
    }
    if let Some(baseline) = baseline {
        let tolerance = args.tolerance / 100.0;
        let (matched, flagged) = bench::compare(&rows, &baseline, tolerance);
        eprintln!(
            "baseline: {matched} rows compared, {} slower by more than {}%",
            flagged.len(),
            args.tolerance
        );
        for r in &flagged {
            eprintln!(
                "REGRESSION {} {} c={}: {:.0} ops/s, baseline {:.0} ({:+.1}%)",
                r.now.backend,
                r.now.operation,
                r.now.concurrency,
                r.now.ops_per_sec,
                r.baseline_ops_per_sec,
                (r.now.ops_per_sec / r.baseline_ops_per_sec - 1.0) * 100.0
            );
        }
        if matched == 0 {
            eprintln!("baseline: no row matched (other backends, operations or levels?)");
        }
        ok &= flagged.is_empty();
    }
    Ok(ok)
}

/// Opens `spec` a second time, through a counting relay (a cluster: as it is, its
/// primaries counting their reads), and counts each operation's round trips per call.
async fn count_round_trips(
    spec: &BackendSpec,
    ops: &[bench::Op],
    user_extra_bytes: usize,
) -> Result<std::collections::HashMap<bench::Op, f64>, String> {
    let harness::Source::Server { env_var, .. } = &spec.source else {
        return Err("not a server backend".to_owned());
    };
    let url = harness::env_url(env_var)
        .ok_or_else(|| format!("--round-trips needs {env_var} for {}", spec.name))?;
    // A relay stands for each server (a primary and its replica, each Galera node); a Redis
    // cluster's nodes (which tell clients each other's addresses) count their own reads.
    let (backend, counter) = if url.contains(',') && url.starts_with("redis") {
        let nodes = NodeReads::open(&adapter_redis::conformance::cluster_nodes(&url))
            .await
            .map_err(|e| format!("node counters for {}: {e}", spec.name))?;
        (
            (spec.open)(Some(url)).await,
            bench::TripCounter::NodeReads(nodes),
        )
    } else {
        let mut relays = Vec::new();
        let mut relayed = Vec::new();
        for url in url.split(',').map(str::trim).filter(|u| !u.is_empty()) {
            let server =
                relay::server_of(url).ok_or_else(|| format!("no host:port in {env_var}"))?;
            let relay = relay::Relay::start(&server)
                .await
                .map_err(|e| format!("relay for {}: {e}", spec.name))?;
            relayed.push(
                relay::through(url, relay.addr())
                    .ok_or_else(|| format!("no host:port in {env_var}"))?,
            );
            relays.push(relay);
        }
        (
            (spec.open)(Some(relayed.join(","))).await,
            bench::TripCounter::Relays(relays),
        )
    };
    let backend = backend.map_err(|e| e.to_string())?;
    bench::round_trips(backend.as_ref(), &counter, ops, 20, user_extra_bytes)
        .await
        .map_err(|e| e.to_string())
}

fn list(args: &ListArgs) -> Result<bool, String> {
    if args.markdown {
        print!("{}", adapter_conformance::catalogue_markdown());
        return Ok(true);
    }
    println!("backends:");
    for spec in backends::all() {
        let source = match &spec.source {
            harness::Source::Embedded => "embedded, always runs".to_owned(),
            harness::Source::Server {
                env_var, container, ..
            } => format!(
                "server: ${env_var}{}",
                container
                    .as_ref()
                    .map(|c| format!(", else Docker image {}", c.image_ref()))
                    .unwrap_or_default()
            ),
        };
        println!("  {:<20} {source}", spec.name);
    }
    println!("scenarios:");
    for s in SCENARIOS {
        println!("  {:>2}. {:<52} {}", s.number, s.name, s.title);
    }
    Ok(true)
}
