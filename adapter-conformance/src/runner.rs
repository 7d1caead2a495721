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
    /// Set when the scenario is one of the backend's [`gaps`](crate::Backend::gaps) and
    /// failed as documented: the reason, then the failure. Such a result counts as passed.
    pub gap: Option<String>,
    /// Wall time, set-up and teardown included.
    pub millis: u128,
}

impl ScenarioResult {
    /// Whether it passed (a documented gap that failed as documented counts as passed).
    pub fn passed(&self) -> bool {
        self.error.is_none()
    }

    /// The word reports print for it: `ok`, `gap` or `FAILED`.
    pub fn verdict(&self) -> &'static str {
        match (&self.error, &self.gap) {
            (Some(_), _) => "FAILED",
            (None, Some(_)) => "gap",
            (None, None) => "ok",
        }
    }
}

/// Runs one scenario on a fresh fixture of the backend.
pub async fn run_scenario(backend: &dyn Backend, scenario: &Scenario) -> ScenarioResult {
    let started = Instant::now();
    let span = tracing::info_span!("scenario", name = scenario.name);
    let run = run_inner(backend, scenario).instrument(span);
    let failure = match tokio::time::timeout(SCENARIO_TIMEOUT, run).await {
        Ok(result) => result.err(),
        Err(_) => Some(format!("timed out after {SCENARIO_TIMEOUT:?}")),
    };
    let documented = backend
        .gaps()
        .iter()
        .find(|gap| gap.scenario == scenario.name);
    let (error, gap) = match (documented, failure) {
        (None, failure) => (failure, None),
        (Some(gap), Some(failure)) => (None, Some(format!("{} (it fails: {failure})", gap.reason))),
        (Some(gap), None) => (
            Some(format!(
                "listed as a gap of this backend ({}), but it passes: remove it from the \
                 backend's gaps and from the documentation that quotes them",
                gap.reason
            )),
            None,
        ),
    };
    ScenarioResult {
        scenario: scenario.name,
        number: scenario.number,
        error,
        gap,
        millis: started.elapsed().as_millis(),
    }
}

async fn run_inner(backend: &dyn Backend, scenario: &Scenario) -> Result<(), String> {
    let fixture = backend
        .fixture()
        .await
        .map_err(|e| format!("could not set up a fixture: {e}"))?;
    let run = crate::model::BACKEND_RULES.scope(backend.model_rules(), (scenario.run)(&fixture));
    let outcome = AssertUnwindSafe(run)
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

#[cfg(test)]
mod tests {
    use async_trait::async_trait;

    use super::*;
    use crate::backends::memory::MemoryBackend;
    use crate::fixture::{BoxError, Fixture, Gap};

    const GAPS: &[Gap] = &[Gap {
        scenario: "s01_create_user_stores_every_field",
        reason: "a test of the gap rule",
    }];

    /// Memory, claiming a gap it does not have.
    #[derive(Debug)]
    struct ClaimsAGap;

    #[async_trait]
    impl Backend for ClaimsAGap {
        async fn fixture(&self) -> Result<Fixture, BoxError> {
            MemoryBackend.fixture().await
        }
        fn gaps(&self) -> &'static [Gap] {
            GAPS
        }
    }

    /// A backend whose every scenario fails, with the same gap listed.
    #[derive(Debug)]
    struct Broken;

    #[async_trait]
    impl Backend for Broken {
        async fn fixture(&self) -> Result<Fixture, BoxError> {
            Err("no storage".into())
        }
        fn gaps(&self) -> &'static [Gap] {
            GAPS
        }
    }

    fn s01() -> &'static Scenario {
        crate::scenario("s01_create_user_stores_every_field").expect("s01 exists")
    }

    #[tokio::test]
    async fn a_gap_that_fails_counts_as_passed_and_says_why() {
        let result = run_scenario(&Broken, s01()).await;
        assert!(result.passed(), "{result:?}");
        assert_eq!(result.verdict(), "gap");
        let gap = result.gap.unwrap_or_default();
        assert!(
            gap.contains("a test of the gap rule") && gap.contains("no storage"),
            "{gap}"
        );
    }

    #[tokio::test]
    async fn a_gap_that_passes_fails_the_run() {
        let result = run_scenario(&ClaimsAGap, s01()).await;
        assert!(!result.passed());
        assert!(result.error.unwrap_or_default().contains("but it passes"));
    }

    #[tokio::test]
    async fn other_scenarios_of_a_backend_with_gaps_are_judged_as_usual() {
        let s02 = crate::scenario("s02_get_user_by_id").expect("s02 exists");
        assert!(!run_scenario(&Broken, s02).await.passed());
        assert_eq!(run_scenario(&ClaimsAGap, s02).await.verdict(), "ok");
    }
}
