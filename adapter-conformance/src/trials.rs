//! The suite as a test binary of its own: one trial per backend and scenario, on a
//! libtest-compatible runner of this crate, so that a backend that is not available here is reported as *ignored* by
//! `cargo test` and as *skipped* by `cargo nextest`, with its reason printed once, instead of
//! counting as passed.
//!
//! A backend crate declares the binary in its `Cargo.toml`:
//!
//! ```toml
//! [[test]]
//! name = "conformance"
//! harness = false
//! ```
//!
//! and `tests/conformance.rs` is its `main`:
//!
//! ```no_run
//! fn main() -> std::process::ExitCode {
//!     adapter_conformance::test_main(&[adapter_conformance::backends::memory::spec])
//! }
//! ```
//!
//! Test names are `<backend>::<scenario>`, e.g. `memory::s15_concurrent_token_use_has_one_winner`,
//! so `cargo nextest run -E 'test(/^redis::/)'` or `cargo test -- memory::s15` pick them out.

use std::io::Write;
use std::process::ExitCode;

use crate::libtest::{self, Arguments, Failed, Trial};

use crate::harness::{self, BackendSpec, Resolved, Source};
use crate::registry::Scenario;
use crate::runner::{resolve_once, run_scenario, runtime};
use crate::SCENARIOS;

/// Runs the conformance suite on `specs` as a test binary (`harness = false`) and returns
/// the exit code: one trial per backend and scenario, libtest's command line (filters,
/// `--list`, `--ignored`, `--test-threads`, …) as `cargo test` and `cargo nextest` pass it.
///
/// A backend whose server is not available is decided *before* the trials run, cheaply
/// (no connection, no container started): its trials are marked ignored and one line says
/// which backend and why — unless `AUTH_CONFORMANCE_REQUIRE` names it, then its trials run
/// and fail with that reason.
///
/// ```no_run
/// use adapter_conformance::backends::memory;
///
/// fn main() -> std::process::ExitCode {
///     adapter_conformance::test_main(&[memory::spec])
/// }
/// ```
pub fn test_main(specs: &[fn() -> BackendSpec]) -> ExitCode {
    test_main_with(specs.iter().map(|spec| spec()).collect(), SCENARIOS)
}

/// [`test_main`] with checks of the caller's own instead of the suite's scenarios: a crate
/// built on the adapters (a session store, say) runs its checks on every backend with the
/// same availability rules, skip lines and `AUTH_CONFORMANCE_REQUIRE`. Trials are named
/// `<backend>::<check name>`.
///
/// ```no_run
/// use adapter_conformance::{backends::memory, check::Outcome, Fixture, Scenario};
///
/// async fn no_user_yet(fx: &Fixture) -> Outcome {
///     adapter_conformance::ensure_eq!(fx.inspector.stored_user("u1").await?, None, "user u1");
///     Ok(())
/// }
///
/// static CHECKS: &[Scenario] = &[Scenario {
///     number: 1,
///     name: "no_user_yet",
///     title: "a fresh fixture holds no user",
///     detail: "",
///     run: |fx| Box::pin(no_user_yet(fx)),
/// }];
///
/// fn main() -> std::process::ExitCode {
///     adapter_conformance::trials::test_main_with(vec![memory::spec()], CHECKS)
/// }
/// ```
pub fn test_main_with(specs: Vec<BackendSpec>, scenarios: &'static [Scenario]) -> ExitCode {
    let args = Arguments::from_args();
    let mut trials = Vec::with_capacity(specs.len() * scenarios.len());
    let mut skipped = Vec::new();
    for spec in specs {
        let ignored = match availability(&spec) {
            Ok(()) => false,
            Err(_) if harness::is_required(spec.name) => false,
            Err(why) => {
                skipped.push(harness::skip_line(&spec, &why));
                true
            }
        };
        for scenario in scenarios {
            let spec = spec.clone();
            trials.push(
                Trial::test(format!("{}::{}", spec.name, scenario.name), move || {
                    run_trial(&spec, scenario)
                })
                .with_ignored_flag(ignored),
            );
        }
    }
    if should_announce(&args) {
        announce(&skipped);
    }
    let conclusion = libtest::run(&args, trials);
    // The backends live in statics, never dropped: their containers go now.
    harness::remove_containers();
    conclusion.exit_code()
}

/// Whether this invocation is the one that tells a person about skipped backends.
///
/// `cargo test` runs the binary once: it says so. `cargo nextest` lists it twice (once with
/// `--ignored`) and then runs it once per test with `--exact`: only the first listing says
/// so, and nextest itself shows the trials as skipped.
fn should_announce(args: &Arguments) -> bool {
    !(args.exact || args.list && args.ignored)
}

/// Prints each skip line to the terminal, when there is one (test runners capture a
/// process's stderr), and to stderr.
fn announce(lines: &[String]) {
    if lines.is_empty() {
        return;
    }
    let text: String = lines.iter().map(|line| format!("{line}\n")).collect();
    if let Ok(mut tty) = std::fs::OpenOptions::new().write(true).open("/dev/tty") {
        let _ = tty.write_all(text.as_bytes());
    }
    let _ = std::io::stderr().write_all(text.as_bytes());
}

/// Whether the backend's server can be had here, decided without connecting or starting
/// anything: an embedded backend always; a server backend when its URL variable is set, or
/// when a Docker engine answers and already holds the backend's container image (a pull can
/// take minutes, too long for a test listing).
///
/// ```
/// use adapter_conformance::{backends::memory, trials::availability};
/// assert!(availability(&memory::spec()).is_ok());
/// ```
pub fn availability(spec: &BackendSpec) -> Result<(), String> {
    match &spec.source {
        Source::Embedded => Ok(()),
        Source::Server {
            env_var, container, ..
        } => {
            if harness::env_url(env_var).is_some() {
                return Ok(());
            }
            let Some(plan) = container else {
                return Err("it has no container image".to_owned());
            };
            harness::container_engine()?;
            let image = plan.image_ref();
            match harness::docker_has_image(&image) {
                Ok(true) => Ok(()),
                Ok(false) => Err(format!(
                    "a Docker engine answers but holds no image {image} \
                     (`docker pull {image}` or ci/images.sh makes one)"
                )),
                Err(why) => Err(why),
            }
        }
    }
}

/// One trial: the backend resolved once per process (shared by its scenarios), then the
/// scenario on a fresh fixture.
fn run_trial(spec: &BackendSpec, scenario: &'static Scenario) -> Result<(), Failed> {
    runtime().block_on(async {
        let backend = match resolve_once(spec).await {
            Ok(Resolved::Ready(backend)) => backend,
            Ok(Resolved::Skipped(why)) if harness::is_required(spec.name) => {
                return Err(format!(
                    "{why} — but {} requires it: failing instead of skipping",
                    harness::REQUIRE_VAR
                )
                .into());
            }
            Ok(Resolved::Skipped(why)) => return Err(format!("not available: {why}").into()),
            Err(e) => return Err(format!("backend {} could not be opened: {e}", spec.name).into()),
        };
        let result = run_scenario(backend.as_ref(), scenario).await;
        if let Some(gap) = &result.gap {
            // Captured like any test output, and shown by `--nocapture` / `--no-capture`.
            println!(
                "[{}] {}: documented gap, failed as expected: {gap}",
                spec.name, scenario.name
            );
        }
        match result.error {
            None => Ok(()),
            Some(error) => Err(format!(
                "[{}] scenario {} ({}) failed:\n{error}",
                spec.name, scenario.name, scenario.title
            )
            .into()),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_one_invocation_of_a_nextest_run_announces_skips() {
        let cargo_test = Arguments::default();
        let nextest_list = Arguments {
            list: true,
            ..Arguments::default()
        };
        let nextest_list_ignored = Arguments {
            list: true,
            ignored: true,
            ..Arguments::default()
        };
        let nextest_run_one = Arguments {
            exact: true,
            filter: Some("memory::s01_create_and_get_user".to_owned()),
            ..Arguments::default()
        };
        assert!(should_announce(&cargo_test));
        assert!(should_announce(&nextest_list));
        assert!(!should_announce(&nextest_list_ignored));
        assert!(!should_announce(&nextest_run_one));
    }
}
