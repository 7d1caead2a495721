//! The shared conformance suite against Redis (`AUTH_TEST_REDIS_URL`, e.g.
//! `redis://127.0.0.1:6379`, else a container, else skipped): one trial per scenario, each on
//! its own key prefix; `redis-authjs` runs them on the Auth.js unstorage layout (each
//! fixture on its own `baseKeyPrefix`), with the gaps that layout cannot hold.
//! `redis-cluster` and `valkey-cluster` run them in cluster mode on the six-node clusters
//! that `ci/clusters.sh` forms (`AUTH_TEST_REDIS_CLUSTER_URLS`,
//! `AUTH_TEST_VALKEY_CLUSTER_URLS`; skipped without them); `redis-cluster-authjs` runs the
//! Auth.js layout on the Redis cluster, every key under unstorage's `{unstorage}` base.

use adapter_redis::conformance as redis;

fn main() -> std::process::ExitCode {
    adapter_conformance::test_main(&[
        redis::redis_spec,
        redis::redis_authjs_spec,
        redis::redis_cluster_spec,
        redis::valkey_cluster_spec,
        redis::redis_cluster_authjs_spec,
    ])
}
