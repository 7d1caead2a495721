//! Acceptance: with the server stopped, calls fail with ADAPTER_CONNECTION_ERROR within the
//! call timeout, and the same adapter works again once the server is back.
//!
//! The test starts its own throwaway PostgreSQL cluster
//! ([`adapter_conformance::throwaway::PgCluster`]: initdb + pg_ctl on a free port in a fresh
//! temporary directory), so the shared server on 5432 is never touched; it is stopped and
//! removed on drop even when an assertion fails. The drill itself is the shared
//! [`outage_drill`](adapter_conformance::throwaway::outage_drill). Without the binaries the
//! test is skipped with a loud line, or fails when `AUTH_CONFORMANCE_REQUIRE` is set.
#![cfg(feature = "postgres")]

use std::time::Duration;

use adapter_conformance::throwaway::{outage_drill, PgCluster};
use adapter_sqlx::SqlxAdapter;

const CALL_TIMEOUT: Duration = Duration::from_secs(2);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_fail_fast_while_the_server_is_down_and_work_again_after() {
    let Some(cluster) = PgCluster::start_for("adapter-sqlx recovery test") else {
        return;
    };
    let adapter = SqlxAdapter::builder(cluster.url())
        .max_connections(4)
        .call_timeout(CALL_TIMEOUT)
        .connect()
        .await
        .expect("connect to the fresh cluster");
    adapter.migrate().await.expect("migrate");
    outage_drill(&adapter, &cluster, CALL_TIMEOUT).await;
    adapter.close().await;
}
