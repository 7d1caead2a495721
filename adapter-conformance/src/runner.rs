//! Runs scenarios against a backend: one fresh fixture each, a time limit, teardown
//! whatever happens, and a result per scenario.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use futures::{FutureExt, StreamExt};
use serde::Serialize;
use tracing::Instrument;

use crate::fixture::Backend;
use crate::harness::{self, BackendSpec, Resolved};
use crate::registry::Scenario;

/// How long one scenario may take, fixture set-up and teardown included.
pub const SCENARIO_TIMEOUT: Duration = Duration::from_secs(120);

/// The result of one scenario on one backend.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioResult {
    /// The scenario's function name.
    pub scenario: &'static str,
    /// Its number in CONFORMANCE.md.
    pub number: u32,
    /// `None` when it passed, else why it failed.
    pub error: Option<String>,
    /// Wall time, set-up and teardown included.
    pub millis: u128,
}

impl ScenarioResult {
    /// Whether it passed.
    pub fn passed(&self) -> bool {
        self.error.is_none()
    }
}

/// Runs one scenario on a fresh fixture of the backend.
pub async fn run_scenario(backend: &dyn Backend, scenario: &Scenario) -> ScenarioResult {
    let started = Instant::now();
    let span = tracing::info_span!("scenario", name = scenario.name);
    let run = run_inner(backend, scenario).instrument(span);
    let error = match tokio::time::timeout(SCENARIO_TIMEOUT, run).await {
        Ok(result) => result.err(),
        Err(_) => Some(format!("timed out after {SCENARIO_TIMEOUT:?}")),
    };
    ScenarioResult {
        scenario: scenario.name,
        number: scenario.number,
        error,
        millis: started.elapsed().as_millis(),
    }
}

async fn run_inner(backend: &dyn Backend, scenario: &Scenario) -> Result<(), String> {
    let fixture = backend
        .fixture()
        .await
        .map_err(|e| format!("could not set up a fixture: {e}"))?;
    let outcome = AssertUnwindSafe((scenario.run)(&fixture))
        .catch_unwind()
        .await
        .map_err(|panic| {
            let text = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "a panic without a message".to_owned());
            format!("panicked: {text}")
        })
        .and_then(|outcome| outcome.map_err(|failure| failure.to_string()));
    let teardown = fixture.inspector.teardown().await;
    outcome?;
    teardown.map_err(|e| format!("passed, but teardown failed: {e}"))
}

/// Runs the scenarios on one backend, `parallel` at a time, calling `progress` after each.
pub async fn run_all(
    backend: Arc<dyn Backend>,
    scenarios: &[Scenario],
    parallel: usize,
    progress: &(dyn Fn(&ScenarioResult) + Sync),
) -> Vec<ScenarioResult> {
    let mut results: Vec<ScenarioResult> = futures::stream::iter(scenarios.iter())
        .map(|scenario| {
            let backend = backend.clone();
            async move { run_scenario(backend.as_ref(), scenario).await }
        })
        .buffer_unordered(parallel.max(1))
        .inspect(|result| progress(result))
        .collect()
        .await;
    results.sort_by_key(|r| r.number);
    results
}

/// The one tokio runtime of a test process: every generated test of the process runs on
/// it, so a backend's pools and containers, opened once, serve them all.
fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        match tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime,
            Err(e) => panic!("could not start a tokio runtime: {e}"),
        }
    })
}

/// What the harness found for a backend, once per process (by backend name).
type SharedResolution = Arc<tokio::sync::OnceCell<Result<Resolved, String>>>;

async fn resolve_once(spec: &BackendSpec) -> Result<Resolved, String> {
    static RESOLVED: OnceLock<Mutex<HashMap<&'static str, SharedResolution>>> = OnceLock::new();
    let cell = {
        let mut map = RESOLVED
            .get_or_init(Mutex::default)
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        map.entry(spec.name).or_default().clone()
    };
    cell.get_or_init(|| async { harness::resolve(spec).await.map_err(|e| e.to_string()) })
        .await
        .clone()
}

/// The body of every generated test: resolves the backend (once per test process, shared by
/// its scenarios), skips loudly or fails when it is missing, runs the scenario and panics
/// with its failure.
///
/// # Panics
/// When the scenario fails, or the backend is missing and required.
pub fn run_test(spec: fn() -> BackendSpec, scenario_name: &str) {
    let spec = spec();
    let Some(scenario) = crate::scenario(scenario_name) else {
        panic!("no scenario named {scenario_name}");
    };
    runtime().block_on(async {
        let backend = match resolve_once(&spec).await {
            Ok(Resolved::Ready(backend)) => backend,
            Ok(Resolved::Skipped(why)) => {
                if harness::is_required(spec.name) {
                    panic!(
                        "{why} — but {} requires it: failing instead of skipping",
                        harness::REQUIRE_VAR
                    );
                }
                announce_skip(spec.name, &why);
                return;
            }
            Err(e) => panic!("backend {} could not be opened: {e}", spec.name),
        };
        let result = run_scenario(backend.as_ref(), scenario).await;
        if let Some(error) = result.error {
            panic!(
                "[{}] scenario {} ({}) failed:\n{error}",
                spec.name, scenario.name, scenario.title
            );
        }
    });
}

/// Says once per backend and test run that a backend was skipped, where a person sees it.
///
/// Test runners capture a passing test's output, and nextest runs each test in its own
/// process, so a plain `eprintln!` would be hidden and repeated once per scenario. The first test
/// process of a run to claim a marker file writes the line to the terminal (when there is
/// one) and to its own stderr; the others stay quiet.
fn announce_skip(backend: &str, line: &str) {
    use std::fs::OpenOptions;
    use std::io::Write;

    let run = std::env::var("NEXTEST_RUN_ID").unwrap_or_else(|_| parent_process_id());
    let marker = std::env::temp_dir().join(format!("auth-conformance-skip-{run}-{backend}"));
    let claim = || {
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&marker)
            .is_ok()
    };
    let stale = || {
        std::fs::metadata(&marker)
            .and_then(|m| m.modified())
            .is_ok_and(|t| t.elapsed().unwrap_or_default() > Duration::from_secs(3600))
    };
    // A marker left by an old run whose id was reused does not silence this one.
    let claimed = claim() || (stale() && std::fs::remove_file(&marker).is_ok() && claim());
    if !claimed {
        return;
    }
    if let Ok(mut tty) = OpenOptions::new().write(true).open("/dev/tty") {
        let _ = writeln!(tty, "{line}");
    }
    let _ = writeln!(std::io::stderr(), "{line}");
}

fn parent_process_id() -> String {
    #[cfg(unix)]
    return std::os::unix::process::parent_id().to_string();
    #[cfg(not(unix))]
    return std::process::id().to_string();
}

/// Generates one `#[test]` per scenario for a backend, in a module of that name, so
/// `cargo nextest run` lists `<backend>::s15_concurrent_token_use_has_one_winner`.
///
/// The second argument is a path to a `fn() -> BackendSpec`.
///
/// ```ignore
/// adapter_conformance::conformance_tests!(memory, adapter_conformance::backends::memory::spec);
/// ```
#[macro_export]
macro_rules! conformance_tests {
    ($module:ident, $spec:path) => {
        $crate::for_each_scenario!($crate::__conformance_test_module, $module, $spec);
    };
}

#[macro_export]
#[doc(hidden)]
macro_rules! __conformance_test_module {
    (($module:ident, $spec:path) $($number:literal $name:ident => $title:literal,)*) => {
        #[allow(missing_docs)]
        mod $module {
            $(
                #[doc = $title]
                #[test]
                fn $name() {
                    $crate::run_test($spec, stringify!($name));
                }
            )*
        }
    };
}
