#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod backends;
pub mod check;
mod fixture;
pub mod harness;
mod libtest;
pub mod linearizability;
pub mod model;
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
