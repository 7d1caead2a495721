//! # adapter-conformance
//!
//! One suite that proves every auth adapter behaves the same: the scenarios of
//! CONFORMANCE.md as named functions ([`scenarios`]), the harness that finds each
//! backend's server ([`harness`]: an environment URL, else a testcontainers container when
//! a Docker engine answers, else a loud skip — a failure under
//! `AUTH_CONFORMANCE_REQUIRE`), a macro that turns the suite into one test per scenario
//! ([`conformance_tests!`]), and a CLI (`cargo run -p adapter-conformance`) that runs the
//! scenarios and benchmarks outside `cargo test`.
//!
//! A backend crate tests itself in one line, in `tests/conformance.rs`:
//!
//! ```ignore
//! adapter_conformance::conformance_tests!(memory, adapter_conformance::backends::memory::spec);
//! ```
//!
//! Running one scenario by hand:
//!
//! ```
//! use adapter_conformance::{backends::memory::MemoryBackend, run_scenario, scenario};
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let s = scenario("s15_concurrent_token_use_has_one_winner").unwrap();
//! let result = run_scenario(&MemoryBackend, s).await;
//! assert!(result.passed(), "{:?}", result.error);
//! # });
//! ```

pub mod backends;
pub mod bench;
pub mod check;
mod fixture;
pub mod harness;
mod registry;
pub mod relay;
pub mod report;
mod runner;
pub mod scenarios;

pub use fixture::{Backend, BoxError, Fixture, Inspector, Unreachable, UserRecords};
pub use registry::{scenario, Scenario, ScenarioFn, SCENARIOS};
pub use runner::{run_all, run_scenario, run_test, ScenarioResult, SCENARIO_TIMEOUT};

/// What the generated tests and backend modules use; not a stable API.
#[doc(hidden)]
pub mod __private {
    pub use futures;
    pub use tokio;
}
