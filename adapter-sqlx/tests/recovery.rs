//! Acceptance: with the server stopped, calls fail with ADAPTER_CONNECTION_ERROR within the
//! call timeout, and the same adapter works again once the server is back.
//!
//! The test starts its own throwaway PostgreSQL cluster
//! ([`adapter_conformance::throwaway::PgCluster`]: initdb + pg_ctl on a free port in a fresh
//! temporary directory), so the shared server on 5432 is never touched; it is stopped and
//! removed on drop even when an assertion fails. The drill itself is the shared
//! [`outage_drill`](adapter_conformance::throwaway::outage_drill), run by
//! [`recovers_after_an_outage`](adapter_sqlx::conformance::recovers_after_an_outage).
//! Without the binaries the test is skipped with a loud line, or fails when
//! `AUTH_CONFORMANCE_REQUIRE` is set.
#![cfg(feature = "postgres")]

use adapter_sqlx::conformance::recovers_after_an_outage;
use adapter_sqlx::SqlxAdapter;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_fail_fast_while_the_server_is_down_and_work_again_after() {
    recovers_after_an_outage("adapter-sqlx recovery test", SqlxAdapter::builder).await;
}
