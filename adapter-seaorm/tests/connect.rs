//! Connecting: a closed port fails fast with the real cause; a scheme whose feature is off
//! says which feature; options that cannot work are `InvalidInput` before any I/O with
//! sqlx's message once; `from_pool` shares an application's pool.

use std::time::{Duration, Instant};

use adapter_seaorm::{SeaOrmAdapter, SeaOrmAdapterBuilder};
use auth_core::{Adapter, ErrorCode, ErrorKind, Operation, User};

fn chain(err: &auth_core::AdapterError) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        text.push_str(&format!(" / {s}"));
        source = s.source();
    }
    text
}

#[tokio::test]
async fn a_closed_port_fails_within_the_default_timeout_with_the_real_cause() {
    let port = adapter_conformance::harness::dead_port();
    for url in [
        format!("postgres://postgres@127.0.0.1:{port}/postgres"),
        format!("mysql://root@127.0.0.1:{port}/test"),
    ] {
        let started = Instant::now();
        let err = SeaOrmAdapter::connect(&url)
            .await
            .expect_err("nothing listens");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{url}: {:?}",
            started.elapsed()
        );
        assert_eq!(err.code(), ErrorCode::AdapterConnectionError, "{url}");
        assert_eq!(err.kind(), ErrorKind::Connection);
        let text = chain(&err);
        assert!(text.to_lowercase().contains("refused"), "{url}: {text}");
    }
}

#[tokio::test]
async fn unknown_schemes_are_refused_with_what_is_served() {
    let err = SeaOrmAdapter::connect("redis://127.0.0.1:6379")
        .await
        .expect_err("not a SQL URL");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("postgres://"), "{err}");
}

#[tokio::test]
async fn an_application_connection_is_shared() {
    let db = sea_orm::Database::connect("sqlite::memory:")
        .await
        .expect("app connection");
    let adapter = SeaOrmAdapter::from_pool(db)
        .call_timeout(Duration::from_secs(2))
        .connect()
        .await
        .expect("wraps");
    assert_eq!(adapter.dialect(), adapter_seaorm::Dialect::Sqlite);
    adapter.migrate().await.expect("migrates");
    adapter.migrate().await.expect("twice");
    let user = adapter
        .create_user(User::with_id("u1").with_email("a@b.c"))
        .await
        .expect("create");
    assert_eq!(
        adapter.get_user_by_email("A@B.C").await.expect("get"),
        Some(user)
    );
    assert!(!format!("{adapter:?}").contains("a@b.c"));
}

/// The driver's own message: the innermost cause of its error.
fn innermost(err: &(dyn std::error::Error + 'static)) -> String {
    let mut last = err;
    while let Some(next) = last.source() {
        last = next;
    }
    last.to_string()
}

/// `connect` refuses the options as `InvalidInput` with connect's code, at once (no I/O),
/// and the driver's message, when there is one, is in the chain exactly once.
async fn refused_as_invalid(what: &str, options: SeaOrmAdapterBuilder, driver: Option<String>) {
    let started = Instant::now();
    let err = options.connect().await.expect_err(what);
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_millis(500),
        "{what}: took {elapsed:?}"
    );
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{what}: {err:?}");
    assert_eq!(err.code(), Operation::Connect.code(), "{what}: {err:?}");
    if let Some(message) = driver {
        let text = chain(&err);
        assert_eq!(
            text.matches(&message).count(),
            1,
            "{what}: {message:?} in {text}"
        );
    }
}

#[tokio::test]
async fn options_that_cannot_work_are_invalid_input_before_any_io() {
    use sea_orm::sqlx::{mysql, postgres, sqlite};
    use std::str::FromStr;
    let url = "postgres://u@host:notaport/db";
    let driver = postgres::PgConnectOptions::from_str(url).expect_err("not a port");
    refused_as_invalid(url, SeaOrmAdapter::builder(url), Some(innermost(&driver))).await;
    let url = "mysql://root@127.0.0.1:99999/test";
    let driver = mysql::MySqlConnectOptions::from_str(url).expect_err("port out of range");
    refused_as_invalid(url, SeaOrmAdapter::builder(url), Some(innermost(&driver))).await;
    let url = "mariadb://root@127.0.0.1:99999/test";
    refused_as_invalid(url, SeaOrmAdapter::builder(url), Some(innermost(&driver))).await;
    let url = "sqlite:file:x?mode=bogus";
    let driver = sqlite::SqliteConnectOptions::from_str(url).expect_err("unknown mode");
    refused_as_invalid(url, SeaOrmAdapter::builder(url), Some(innermost(&driver))).await;
    refused_as_invalid(
        "an unknown scheme",
        SeaOrmAdapter::builder("redis://127.0.0.1:6379"),
        None,
    )
    .await;

    let db = sea_orm::Database::connect("sqlite::memory:")
        .await
        .expect("app connection");
    refused_as_invalid(
        "max_connections with an adopted pool",
        SeaOrmAdapter::from_pool(db.clone()).max_connections(4),
        None,
    )
    .await;
    let err = SeaOrmAdapter::from_pool(db)
        .min_connections(1)
        .connect()
        .await
        .expect_err("min_connections with an adopted pool");
    assert!(
        err.to_string().contains("configure the pool you passed"),
        "{err}"
    );
}
