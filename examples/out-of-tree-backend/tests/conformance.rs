//! The whole shared suite on `WrappedStore`, one trial per scenario
//! (`wrapped-memory::s01_create_user_stores_every_field`, …): a test binary of its own
//! (`harness = false` in Cargo.toml), so a backend that is not available would show as
//! ignored, not passed.

mod support;

fn main() -> std::process::ExitCode {
    adapter_conformance::test_main(&[support::spec])
}
