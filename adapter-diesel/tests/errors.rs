//! Error mapping per dialect, from diesel's `DatabaseErrorKind`: duplicate keys are
//! `Conflict` with the method's code, a missing owning user is `NotFound`, an unreachable
//! database is ADAPTER_CONNECTION_ERROR within the call timeout with the real cause in
//! `source()`, URLs this build cannot serve are refused with the reason, and options that
//! cannot work are `InvalidInput` before any I/O with the driver's message once. On MariaDB
//! a connection the server killed is discarded, not handed out again.

mod common;

use std::time::Duration;

use adapter_diesel::DieselAdapter;
use adapter_sqlx::conformance::{
    adopted_pool_options_are_refused, causes, innermost, refused_as_invalid, refused_at_once,
};
use auth_core::chrono::{Duration as Span, Utc};
use auth_core::{
    Account, AccountType, Adapter, Authenticator, ErrorCode, ErrorKind, Session, User,
    VerificationToken,
};
use common::{Db, Fresh, ALL};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unique_and_foreign_key_violations_are_classified_on_every_dialect() {
    for db in ALL {
        let Some(fresh) = Fresh::new(db).await else {
            continue;
        };
        let adapter = DieselAdapter::connect(&fresh.url).await.expect("connect");
        adapter.migrate().await.expect("migrate");
        let later = Utc::now() + Span::days(1);

        adapter
            .create_user(User::with_id("u1").with_email("a@example.com"))
            .await
            .expect("first user");
        let cases: Vec<(&str, ErrorCode, ErrorKind, auth_core::AdapterResult<()>)> = vec![
            (
                "duplicate id",
                ErrorCode::CreateUserError,
                ErrorKind::Conflict,
                adapter.create_user(User::with_id("u1")).await.map(drop),
            ),
            (
                "duplicate email key",
                ErrorCode::CreateUserError,
                ErrorKind::Conflict,
                adapter
                    .create_user(User::with_id("u2").with_email(" A@EXAMPLE.com"))
                    .await
                    .map(drop),
            ),
            (
                "session of a missing user",
                ErrorCode::CreateSessionError,
                ErrorKind::NotFound,
                adapter
                    .create_session(Session::with_token("s0", "nobody", later))
                    .await
                    .map(drop),
            ),
            (
                "account of a missing user",
                ErrorCode::LinkAccountError,
                ErrorKind::NotFound,
                adapter
                    .link_account(Account::new("nobody", AccountType::OAuth, "gh", "1"))
                    .await
                    .map(drop),
            ),
            (
                "authenticator of a missing user",
                ErrorCode::CreateAuthenticatorError,
                ErrorKind::NotFound,
                adapter
                    .create_authenticator(Authenticator::new("c0", "nobody", "pa", "key"))
                    .await
                    .map(drop),
            ),
        ];
        for (what, code, kind, result) in cases {
            let err = result.expect_err(what);
            assert_eq!(
                (err.code(), err.kind()),
                (code, kind),
                "{db:?} {what}: {err}"
            );
        }

        adapter
            .create_session(Session::with_token("s1", "u1", later))
            .await
            .expect("session");
        let err = adapter
            .create_session(Session::with_token("s1", "u1", later))
            .await
            .expect_err("duplicate session");
        assert_eq!(err.kind(), ErrorKind::Conflict, "{db:?}: {err}");
        let shown = format!("{err} {err:?} {}", causes(&err));
        assert!(
            !shown.contains("s1'") && !shown.contains("(s1)"),
            "{db:?}: {shown}"
        );

        let token = VerificationToken::new("a@example.com", "vt", later);
        adapter
            .create_verification_token(token.clone())
            .await
            .expect("token");
        let err = adapter
            .create_verification_token(token)
            .await
            .expect_err("duplicate token");
        assert_eq!(
            (err.code(), err.kind()),
            (
                ErrorCode::CreateVerificationRequestError,
                ErrorKind::Conflict
            ),
            "{db:?}"
        );
        let err = adapter
            .update_session(auth_core::SessionUpdate::new("s1").user_id("nobody"))
            .await
            .expect_err("moving a session to a missing user");
        assert_eq!(err.kind(), ErrorKind::NotFound, "{db:?}: {err}");

        adapter.close().await;
        fresh.remove().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_connect_fails_at_once_with_its_cause() {
    let port = adapter_conformance::harness::dead_port();
    for url in [
        format!("postgres://postgres@127.0.0.1:{port}/postgres"),
        format!("mysql://root@127.0.0.1:{port}/test"),
        format!("mariadb://root@127.0.0.1:{port}/test"),
    ] {
        let options = DieselAdapter::builder(url.as_str()).call_timeout(Duration::from_secs(5));
        refused_at_once(&url, Duration::from_secs(5), options).await;
    }
    // A SQLite file in a directory that does not exist cannot be opened.
    let missing = std::env::temp_dir().join("adapter-diesel-no-such-dir/x/auth.db");
    let err = DieselAdapter::connect(&format!("sqlite://{}", missing.display()))
        .await
        .expect_err("no directory");
    assert_eq!(err.code(), ErrorCode::AdapterConnectionError, "{err}");
}

#[tokio::test]
async fn urls_this_build_cannot_serve_are_refused_with_the_reason() {
    let err = DieselAdapter::connect("redis://127.0.0.1:6379")
        .await
        .expect_err("not a SQL URL");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("postgres://"), "{err}");
    let debug = format!(
        "{:?}",
        DieselAdapter::builder("postgres://app:hunter2@db/app")
    );
    assert!(!debug.contains("hunter2"), "{debug}");
}

#[tokio::test]
async fn options_that_cannot_work_are_invalid_input_before_any_io() {
    let url = "postgres://u@host:notaport/db";
    let driver = url
        .parse::<tokio_postgres::Config>()
        .expect_err("not a port");
    refused_as_invalid(url, DieselAdapter::builder(url), Some(innermost(&driver))).await;

    let url = "mysql://root@127.0.0.1:99999/test";
    let driver = mysql_async::Opts::from_url(url).expect_err("port out of range");
    refused_as_invalid(url, DieselAdapter::builder(url), Some(innermost(&driver))).await;
    let url = "mariadb://root@127.0.0.1:99999/test";
    refused_as_invalid(url, DieselAdapter::builder(url), Some(innermost(&driver))).await;

    // SQLite's own wording for a mode it does not know (diesel alone reports only the
    // result code's generic text).
    for url in ["sqlite:file:x?mode=bogus", "sqlite://x.db?mode=bogus"] {
        refused_as_invalid(
            url,
            DieselAdapter::builder(url),
            Some("no such access mode: bogus".to_owned()),
        )
        .await;
    }
    refused_as_invalid(
        "an unknown scheme",
        DieselAdapter::builder("redis://127.0.0.1:6379"),
        None,
    )
    .await;

    use diesel_async::pooled_connection::deadpool::Pool;
    use diesel_async::pooled_connection::AsyncDieselConnectionManager;
    let manager =
        AsyncDieselConnectionManager::<adapter_diesel::SqliteConnection>::new("file:unused.db");
    let pool = Pool::builder(manager)
        .build()
        .expect("a pool opens nothing");
    adopted_pool_options_are_refused(|| DieselAdapter::from_pool(pool.clone())).await;
}

/// MariaDB: the server kills the adapter's connections; the next call may fail once
/// (classified: the server answers, so not a connection error), and the one after it is
/// served on a fresh connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_the_server_killed_is_discarded() {
    let Some(fresh) = Fresh::new(Db::MariaDb).await else {
        return;
    };
    let adapter = fresh.single_connection_adapter().await;
    adapter
        .create_user(User::with_id("u1"))
        .await
        .expect("user");

    let admin = adapter_sqlx::sqlx::MySqlPool::connect(&fresh.url)
        .await
        .expect("admin");
    let name = fresh.url.rsplit('/').next().unwrap_or_default().to_owned();
    let ids: Vec<i64> = adapter_sqlx::sqlx::query_scalar(
        "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()",
    )
    .bind(&name)
    .fetch_all(&admin)
    .await
    .expect("processlist");
    assert!(!ids.is_empty(), "the adapter holds a connection");
    for id in ids {
        let _ =
            adapter_sqlx::sqlx::raw_sql(adapter_sqlx::sqlx::AssertSqlSafe(format!("KILL {id}")))
                .execute(&admin)
                .await;
    }
    admin.close().await;

    let first = adapter.get_user("u1").await;
    if let Err(err) = &first {
        assert_ne!(err.kind(), ErrorKind::Connection, "the server is up: {err}");
    }
    assert!(
        adapter
            .get_user("u1")
            .await
            .expect("served again")
            .is_some(),
        "a fresh connection replaced the killed one"
    );
    adapter.close().await;
    fresh.remove().await;
}
