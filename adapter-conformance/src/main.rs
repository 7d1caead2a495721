//! `adapter-conformance`: runs the conformance scenarios and benchmarks against every
//! backend it can reach, outside `cargo test`.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;

use adapter_conformance::harness::{self, BackendSpec, Resolved};
use adapter_conformance::report::{self, BackendReport, BackendStatus};
use adapter_conformance::{backends, bench, relay, Backend, Scenario, SCENARIOS};
use clap::{Args, Parser, Subcommand};

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
    /// Measure hot-path latencies (use a release build).
    Bench(BenchArgs),
    /// List the backends compiled in and the scenarios.
    List,
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
    /// Calls measured per operation.
    #[arg(short = 'n', long, default_value_t = 2000)]
    iterations: usize,
    /// Put a counting TCP relay between each server backend and its server, and report the
    /// round trips per call (latencies then include the relay's hop).
    #[arg(long)]
    round_trips: bool,
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
            Command::List => list(),
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
            let verdict = if result.passed() { "ok" } else { "FAILED" };
            if interactive {
                eprint!(
                    "\r\x1b[2K[{name}] {n}/{total} {} {verdict}",
                    result.scenario
                );
                if n == total {
                    eprintln!();
                }
            } else if !result.passed() || n == total {
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
        eprintln!("note: this is a debug build; measure with `cargo run --release -p adapter-conformance -- bench`");
    }
    let specs = selected(&args.selection)?;
    let mut all = serde_json::Map::new();
    let mut ok = true;
    for spec in &specs {
        let relay = match (&spec.source, args.round_trips) {
            (harness::Source::Server { env_var, .. }, true) => {
                let url = harness::env_url(env_var)
                    .ok_or_else(|| format!("--round-trips needs {env_var} for {}", spec.name))?;
                let server =
                    relay::server_of(&url).ok_or_else(|| format!("no host:port in {env_var}"))?;
                let relay = relay::Relay::start(&server)
                    .await
                    .map_err(|e| format!("relay for {}: {e}", spec.name))?;
                let through = relay::through(&url, relay.addr())
                    .ok_or_else(|| format!("no host:port in {env_var}"))?;
                Some((relay, through))
            }
            _ => None,
        };
        let opened = match &relay {
            Some((_, url)) => (spec.open)(Some(url.clone()))
                .await
                .map_err(|e| e.to_string()),
            None => open(spec).await.map_err(|report| {
                ok &= report.status != BackendStatus::Error;
                report.reason.unwrap_or_default()
            }),
        };
        let backend = match opened {
            Ok(backend) => backend,
            Err(why) => {
                eprintln!("{why}");
                continue;
            }
        };
        eprintln!(
            "[{}] measuring {} calls per operation…",
            spec.name, args.iterations
        );
        let counting = relay.as_ref().map(|(relay, _)| relay);
        match bench::run(backend.as_ref(), args.iterations, counting).await {
            Ok(results) => {
                if !args.selection.json {
                    println!("\n== {} ==", spec.name);
                    println!(
                        "{:<30} {:>8} {:>12} {:>12} {:>12} {:>12}",
                        "operation", "calls", "median µs", "p95 µs", "p99 µs", "round trips"
                    );
                    for r in &results {
                        let trips = r
                            .round_trips
                            .map_or_else(|| "-".to_owned(), |t| format!("{t:.2}"));
                        println!(
                            "{:<30} {:>8} {:>12.1} {:>12.1} {:>12.1} {:>12}",
                            r.operation, r.iterations, r.median_us, r.p95_us, r.p99_us, trips
                        );
                    }
                }
                all.insert(
                    spec.name.to_owned(),
                    serde_json::to_value(&results).map_err(|e| e.to_string())?,
                );
            }
            Err(e) => {
                eprintln!("[{}] benchmark failed: {e}", spec.name);
                ok = false;
            }
        }
    }
    if args.selection.json {
        println!("{}", serde_json::Value::Object(all));
    }
    Ok(ok)
}

fn list() -> Result<bool, String> {
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
                    .map(|c| format!(", else Docker image {}:{}", c.image, c.tag))
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
