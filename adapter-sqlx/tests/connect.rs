//! `connect` to a server that refuses connections fails at once with the real cause; a
//! URL that needs a feature this build lacks says which feature; options that cannot work
//! are `InvalidInput` before any I/O, with the driver's message once; `from_pool` takes
//! the builder's options.

use std::time::Duration;

use adapter_sqlx::conformance::{
    adopted_pool_options_are_refused, causes, innermost, refused_as_invalid, refused_at_once,
};
use adapter_sqlx::{Layout, SqlxAdapter};
use auth_core::ErrorKind;

async fn refused(url: String) {
    let err = refused_at_once(
        &url,
        Duration::from_secs(2),
        SqlxAdapter::builder(url.as_str()),
    )
    .await;
    // Display says what failed; the cause is in source(), not repeated.
    assert!(!err.to_string().to_lowercase().contains("refused"), "{err}");
    // Debug is one line that a `main` returning the error prints whole.
    let debug = format!("{err:?}");
    assert!(
        !debug.contains('\n') && debug.contains("refused"),
        "{debug}"
    );
}

#[tokio::test]
async fn a_closed_port_fails_at_once_with_its_cause() {
    let port = adapter_conformance::harness::dead_port();
    #[cfg(feature = "postgres")]
    refused(format!("postgres://app:hunter22@127.0.0.1:{port}/auth")).await;
    #[cfg(feature = "mysql")]
    refused(format!("mysql://root@127.0.0.1:{port}/test")).await;
    let _ = port;
}

#[tokio::test]
async fn options_that_cannot_work_are_invalid_input_before_any_io() {
    use std::str::FromStr;
    #[cfg(feature = "postgres")]
    {
        let url = "postgres://u@host:notaport/db";
        let driver =
            adapter_sqlx::sqlx::postgres::PgConnectOptions::from_str(url).expect_err("not a port");
        refused_as_invalid(url, SqlxAdapter::builder(url), Some(innermost(&driver))).await;
    }
    #[cfg(feature = "mysql")]
    {
        let url = "mysql://root@127.0.0.1:99999/test";
        let driver = adapter_sqlx::sqlx::mysql::MySqlConnectOptions::from_str(url)
            .expect_err("port out of range");
        refused_as_invalid(url, SqlxAdapter::builder(url), Some(innermost(&driver))).await;
        let url = "mariadb://root@127.0.0.1:99999/test";
        refused_as_invalid(url, SqlxAdapter::builder(url), Some(innermost(&driver))).await;
    }
    #[cfg(feature = "sqlite")]
    {
        let url = "sqlite:file:x?mode=bogus";
        let driver = adapter_sqlx::sqlx::sqlite::SqliteConnectOptions::from_str(url)
            .expect_err("unknown mode");
        refused_as_invalid(url, SqlxAdapter::builder(url), Some(innermost(&driver))).await;
        refused_as_invalid(
            "a prefix with an Auth.js layout",
            SqlxAdapter::builder("sqlite::memory:")
                .layout(Layout::AuthJsDrizzle)
                .table_prefix("auth_"),
            None,
        )
        .await;
        let pool = adapter_sqlx::sqlx::SqlitePool::connect_lazy("sqlite::memory:")
            .expect("a lazy pool opens nothing");
        adopted_pool_options_are_refused(|| SqlxAdapter::from_pool(pool.clone())).await;
    }
    refused_as_invalid(
        "an unknown scheme",
        SqlxAdapter::builder("redis://127.0.0.1:6379"),
        None,
    )
    .await;
    refused_as_invalid(
        "a bad prefix",
        SqlxAdapter::builder("sqlite::memory:").table_prefix("x; DROP TABLE y"),
        None,
    )
    .await;
}

/// An adopted pool takes the builder's table prefix.
#[cfg(feature = "sqlite")]
#[tokio::test]
async fn from_pool_takes_the_builders_prefix() {
    use adapter_sqlx::sqlx::{self, sqlite::SqlitePoolOptions};
    use auth_core::{Adapter, User};
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect("sqlite::memory:")
        .await
        .expect("pool");
    let adapter = SqlxAdapter::from_pool(pool.clone())
        .table_prefix("tenant_7_")
        .call_timeout(Duration::from_secs(2))
        .connect()
        .await
        .expect("adopts");
    assert_eq!(adapter.table_prefix(), "tenant_7_");
    adapter.migrate().await.expect("migrate");
    adapter
        .create_user(User::with_id("u1"))
        .await
        .expect("create");
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tenant_7_users")
        .fetch_one(&pool)
        .await
        .expect("the prefixed table");
    assert_eq!(stored, 1);
}

#[tokio::test]
async fn a_url_for_a_missing_feature_names_the_feature() {
    let err = SqlxAdapter::connect("redis://127.0.0.1:6379")
        .await
        .expect_err("not an sqlx URL");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    #[cfg(not(feature = "postgres"))]
    {
        let err = SqlxAdapter::connect("postgres://127.0.0.1/x")
            .await
            .expect_err("postgres is off");
        assert!(err.to_string().contains("`postgres` feature"), "{err}");
    }
}

/// A PostgreSQL error reads as what the server said, with its SQLSTATE, and without the
/// line of the server's C source that the driver's `Display` appends.
#[cfg(feature = "postgres")]
#[tokio::test]
async fn postgres_errors_carry_no_driver_noise() {
    use auth_core::Adapter;
    let Some(url) = adapter_conformance::harness::env_url("AUTH_TEST_POSTGRES_URL") else {
        assert!(
            !adapter_conformance::harness::is_required("postgres"),
            "AUTH_TEST_POSTGRES_URL is required"
        );
        eprintln!("SKIPPED postgres_errors_carry_no_driver_noise: set AUTH_TEST_POSTGRES_URL");
        return;
    };
    // A prefix whose tables were never created: every statement fails on the server.
    let adapter = SqlxAdapter::builder(url)
        .table_prefix("never_migrated_")
        .connect()
        .await
        .expect("the server answers");
    let err = adapter.get_user("u1").await.expect_err("no such table");
    assert_eq!(err.kind(), ErrorKind::Backend);
    let chain = causes(&err);
    assert!(chain.contains("(code 42P01)"), "{chain}");
    assert!(!chain.contains(" at line "), "{chain}");
    assert!(!format!("{err:?}").contains(" at line "), "{err:?}");
}
