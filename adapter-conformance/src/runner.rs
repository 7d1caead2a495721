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

/// The one tokio runtime of a test process: every trial of the process runs on
/// it, so a backend's pools and containers, opened once, serve them all.
pub(crate) fn runtime() -> &'static tokio::runtime::Runtime {
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

pub(crate) async fn resolve_once(spec: &BackendSpec) -> Result<Resolved, String> {
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
