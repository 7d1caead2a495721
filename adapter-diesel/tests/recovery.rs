//! Acceptance: with the server stopped, calls fail with ADAPTER_CONNECTION_ERROR within the
//! call timeout, and the same adapter works again once the server is back: the pool's
//! checkout runs no query (Fast recycling), yet no dead connection is handed out twice.
//!
//! The test starts its own throwaway PostgreSQL cluster
//! ([`adapter_conformance::throwaway::PgCluster`]), so the shared server is never touched,
//! and runs the shared [`outage_drill`](adapter_conformance::throwaway::outage_drill)
//! through [`recovers_after_an_outage`](adapter_sqlx::conformance::recovers_after_an_outage).
//! Without the binaries it is skipped with a loud line, or fails when
//! `AUTH_CONFORMANCE_REQUIRE` is set.
#![cfg(feature = "postgres")]

use adapter_diesel::DieselAdapter;
use adapter_sqlx::conformance::recovers_after_an_outage;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_fail_fast_while_the_server_is_down_and_work_again_after() {
    recovers_after_an_outage("adapter-diesel recovery test", DieselAdapter::builder).await;
}
