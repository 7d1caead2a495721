//! # adapter-conformance
//!
//! One suite that proves every auth adapter behaves the same: the scenarios of
//! CONFORMANCE.md as named functions ([`scenarios`]), the harness that finds each
//! backend's server ([`harness`]: an environment URL, else a testcontainers container when
//! a Docker engine answers, else a loud skip — a failure under
//! `AUTH_CONFORMANCE_REQUIRE`), [`test_main`] that turns the suite into a test binary with
//! one trial per backend and scenario (a backend that is not available here is reported
//! as ignored/skipped, not passed), and a CLI (`cargo run -p adapter-conformance`) that runs
//! the scenarios and benchmarks outside `cargo test`.
//!
//! A backend crate tests itself with a test binary of its own (`[[test]] name =
//! "conformance"`, `harness = false` in its `Cargo.toml`) whose `tests/conformance.rs` is
//! one call:
//!
//! ```no_run
//! fn main() -> std::process::ExitCode {
//!     adapter_conformance::test_main(&[adapter_conformance::backends::memory::spec])
//! }
//! ```
//!
//! A crate in another repository runs the same suite with its own fixture and inspector and
//! no change here: depend on this crate with `default-features = false` (no in-tree
//! backends, no database drivers), implement [`Backend`] (a fresh, migrated namespace per
//! [`Fixture`]) and [`Inspector`] (raw reads of that namespace), describe it with a
//! [`BackendSpec`], and pass the spec's function to [`test_main`].
//! `examples/out-of-tree-backend` in the repository does exactly that;
//! CONTRIBUTING.md walks through it.
//!
//! ```
//! use std::sync::Arc;
//! use adapter_conformance::{Backend, BackendSpec, Source};
//! use adapter_conformance::backends::memory::MemoryBackend;
//!
//! // Your own backend goes where MemoryBackend is.
//! pub fn spec() -> BackendSpec {
//!     BackendSpec {
//!         name: "mine",
//!         source: Source::Embedded,
//!         open: |_url| Box::pin(async { Ok(Arc::new(MemoryBackend) as Arc<dyn Backend>) }),
//!     }
//! }
//! # assert_eq!(spec().name, "mine");
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
pub mod check;
mod fixture;
pub mod harness;
mod libtest;
mod registry;
mod runner;
pub mod scenarios;
pub mod throwaway;
pub mod trials;

pub use fixture::{
    Backend, BoxError, Fixture, Gap, Inspector, StorageLocation, Unreachable, UserRecords,
};
pub use harness::{BackendSpec, Source};
pub use registry::{catalogue_markdown, scenario, Scenario, ScenarioFn, SCENARIOS};
pub use runner::{run_all, run_scenario, ScenarioResult, SCENARIO_TIMEOUT};
pub use trials::test_main;

/// What the generated tests and backend modules use; not a stable API.
#[doc(hidden)]
pub mod __private {
    pub use futures;
    pub use tokio;
}
