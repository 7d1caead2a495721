//! `connect` to a server that refuses connections fails at once with the real cause, and a
//! URL that needs a feature this build lacks says which feature.

use std::time::{Duration, Instant};

use adapter_sqlx::SqlxAdapter;
use auth_core::{ErrorCode, ErrorKind};

fn causes(err: &dyn std::error::Error) -> String {
    let mut out = String::new();
    let mut next = err.source();
    while let Some(cause) = next {
        out.push_str(&format!("{cause} / "));
        next = cause.source();
    }
    out
}

async fn refused(url: String) {
    let started = Instant::now();
    let err = SqlxAdapter::connect(&url)
        .await
        .expect_err("nothing listens there");
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(2), "{url}: took {elapsed:?}");
    assert_eq!(err.code(), ErrorCode::AdapterConnectionError, "{err:?}");
    assert_eq!(err.kind(), ErrorKind::Connection);
    let chain = causes(&err);
    assert!(chain.to_lowercase().contains("refused"), "{url}: {chain}");
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
