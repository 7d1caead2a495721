//! The shared conformance suite against Redis: one test per scenario, each on its own key
//! prefix. Set `AUTH_TEST_REDIS_URL=redis://127.0.0.1:6379`.

adapter_conformance::conformance_tests!(redis, adapter_conformance::backends::redis::redis_spec);
