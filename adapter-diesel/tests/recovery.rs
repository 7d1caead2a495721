//! Acceptance: with the server stopped, calls fail with ADAPTER_CONNECTION_ERROR within the
//! pool timeout, and the same adapter works again once the server is back: the pool's
//! checkout runs no query (Fast recycling), yet no dead connection is handed out twice.
//!
//! The test starts its own throwaway PostgreSQL cluster
//! ([`adapter_conformance::throwaway::PgCluster`]), so the shared server is never touched.
//! Without the binaries it is skipped with a loud line, or fails when
//! `AUTH_CONFORMANCE_REQUIRE` is set.
#![cfg(feature = "postgres")]

use std::time::Duration;

use adapter_conformance::throwaway::{expect_connection_error, until_back, PgCluster};
use adapter_diesel::DieselAdapter;
use auth_core::chrono::{Duration as Span, Utc};
use auth_core::{Adapter, Session, User};

const POOL_TIMEOUT: Duration = Duration::from_secs(2);
/// Scheduling slack on a loaded 2-core machine.
const SLACK: Duration = Duration::from_secs(1);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_fail_fast_while_the_server_is_down_and_work_again_after() {
    let Some(cluster) = PgCluster::start_for("adapter-diesel recovery test") else {
        return;
    };

    let adapter = DieselAdapter::builder(cluster.url())
        .max_connections(4)
        .pool_timeout(POOL_TIMEOUT)
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
    // Several connections in the pool, all of which die with the server.
    let reads = (0..4).map(|_| adapter.get_session_and_user("tok-1"));
    for found in futures::future::join_all(reads).await {
        assert_eq!(found.expect("read"), Some((session.clone(), user.clone())));
    }

    cluster.stop().unwrap_or_else(|e| panic!("stop: {e}"));
    let limit = POOL_TIMEOUT + SLACK;
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
    expect_connection_error(
        "update_user",
        limit,
        adapter.update_user(auth_core::UserUpdate::new("u-1").name(Some("Ada".into()))),
    )
    .await;

    cluster.start().unwrap_or_else(|e| panic!("restart: {e}"));
    let back = until_back(Duration::from_secs(30), || {
        adapter.get_session_and_user("tok-1")
    })
    .await;
    assert_eq!(back, Some((session, user)), "the data survived the restart");
    // Every call after the first success is served: no stale connection is left.
    for i in 0..8 {
        adapter
            .create_user(User::with_id(format!("u-after-{i}")))
            .await
            .expect("writes work again");
    }
    adapter.close().await;
}
