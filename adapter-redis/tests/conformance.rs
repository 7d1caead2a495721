//! The shared conformance suite against Redis (`AUTH_TEST_REDIS_URL`, e.g.
//! `redis://127.0.0.1:6379`, else a container, else skipped): one trial per scenario, each on
//! its own key prefix.

use adapter_conformance::backends::redis;

fn main() -> std::process::ExitCode {
    adapter_conformance::test_main(&[redis::redis_spec])
}
