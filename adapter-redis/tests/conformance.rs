//! The shared conformance suite against Redis (`AUTH_TEST_REDIS_URL`, e.g.
//! `redis://127.0.0.1:6379`, else a container, else skipped): one trial per scenario, each on
//! its own key prefix; `redis-authjs` runs them on the Auth.js unstorage layout (each
//! fixture on its own `baseKeyPrefix`), with the gaps that layout cannot hold.

use adapter_redis::conformance as redis;

fn main() -> std::process::ExitCode {
    adapter_conformance::test_main(&[redis::redis_spec, redis::redis_authjs_spec])
}
