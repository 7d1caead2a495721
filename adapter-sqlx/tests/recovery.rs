//! Acceptance: with the server stopped, calls fail with ADAPTER_CONNECTION_ERROR within the
//! acquire timeout, and the same adapter works again once the server is back.
//!
//! The test starts its own throwaway PostgreSQL cluster
//! ([`adapter_conformance::throwaway::PgCluster`]: initdb + pg_ctl on a free port in a fresh
//! temporary directory), so the shared server on 5432 is never touched; it is stopped and
//! removed on drop even when an assertion fails. Without the binaries the test is skipped
//! with a loud line, or fails when `AUTH_CONFORMANCE_REQUIRE` is set.
#![cfg(feature = "postgres")]

use std::time::Duration;

use adapter_conformance::throwaway::{expect_connection_error, until_back, PgCluster};
use adapter_sqlx::SqlxAdapter;
use auth_core::chrono::{Duration as Span, Utc};
use auth_core::{Adapter, Session, User};

const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);
/// Scheduling slack on a loaded 2-core machine.
const SLACK: Duration = Duration::from_secs(1);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_fail_fast_while_the_server_is_down_and_work_again_after() {
    let Some(cluster) = PgCluster::start_for("adapter-sqlx recovery test") else {
        return;
    };

    let adapter = SqlxAdapter::builder(cluster.url())
        .max_connections(4)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect()
        .await
        .expect("connect to the fresh cluster");
    adapter.migrate().await.expect("migrate");
    let user = adapter
        .create_user(User::with_id("u-1").with_email("ada@example.com"))
        .await
        .expect("create_user");
    let session = adapter
        .create_session(Session::with_token(
            "tok-1",
            "u-1",
            Utc::now() + Span::days(1),
        ))
        .await
        .expect("create_session");
    assert_eq!(
        adapter.get_session_and_user("tok-1").await.expect("read"),
        Some((session.clone(), user.clone()))
    );

    cluster.stop().unwrap_or_else(|e| panic!("stop: {e}"));
    let limit = ACQUIRE_TIMEOUT + SLACK;
    expect_connection_error(
        "get_session_and_user",
        limit,
        adapter.get_session_and_user("tok-1"),
    )
    .await;
    expect_connection_error(
        "create_user",
        limit,
        adapter.create_user(User::with_id("u-2")),
    )
    .await;
    expect_connection_error(
        "use_verification_token",
        limit,
        adapter.use_verification_token("a", "b"),
    )
    .await;
    expect_connection_error("delete_user", limit, adapter.delete_user("u-1")).await;

    cluster.start().unwrap_or_else(|e| panic!("restart: {e}"));
    // The same adapter: its broken connections are replaced as calls come in.
    let back = until_back(Duration::from_secs(30), || {
        adapter.get_session_and_user("tok-1")
    })
    .await;
    assert_eq!(back, Some((session, user)), "the data survived the restart");
    adapter
        .create_user(User::with_id("u-2"))
        .await
        .expect("writes work again");
    adapter.close().await;
}
