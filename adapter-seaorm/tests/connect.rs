//! Connecting: a closed port fails fast with the real cause; a scheme whose feature is off
//! says which feature; options that cannot work are `InvalidInput` before any I/O with
//! sqlx's message once; `from_pool` shares an application's pool.

use std::time::Duration;

use adapter_seaorm::SeaOrmAdapter;
use adapter_sqlx::conformance::{
    adopted_pool_options_are_refused, innermost, refused_as_invalid, refused_at_once,
};
use auth_core::{Adapter, ErrorKind, User};

#[tokio::test]
async fn a_closed_port_fails_within_the_default_timeout_with_the_real_cause() {
    let port = adapter_conformance::harness::dead_port();
    for url in [
        format!("postgres://postgres@127.0.0.1:{port}/postgres"),
        format!("mysql://root@127.0.0.1:{port}/test"),
    ] {
        refused_at_once(
            &url,
            Duration::from_secs(5),
            SeaOrmAdapter::builder(url.as_str()),
        )
        .await;
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
    adopted_pool_options_are_refused(|| SeaOrmAdapter::from_pool(db.clone())).await;
}
