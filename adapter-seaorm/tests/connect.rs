//! Connecting: a closed port fails fast with the real cause; a scheme whose feature is off
//! says which feature; `from_connection` shares an application's pool.

use std::time::{Duration, Instant};

use adapter_seaorm::SeaOrmAdapter;
use auth_core::{Adapter, ErrorCode, ErrorKind, User};

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
    let adapter = SeaOrmAdapter::from_connection(db).await.expect("wraps");
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
