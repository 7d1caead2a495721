//! The store as operations meet it: a dead server, a second migrate() (scenarios 28, 29).

use std::time::{Duration, Instant};

use auth_core::{ErrorCode, ErrorKind, User};

use super::sample::{make_session, make_user};
use crate::check::{expect_error, same, Failure, Outcome};
use crate::fixture::Fixture;
use crate::{ensure, ensure_eq};

/// Scenario 28: A server that refuses connections gives ADAPTER_CONNECTION_ERROR within the timeout.
pub async fn s28_unreachable_server_fails_fast(fx: &Fixture) -> Outcome {
    let slack = Duration::from_secs(3);
    let started = Instant::now();
    let unreachable = fx.inspector.unreachable().await;
    let limit = unreachable.timeout + slack;
    let check_elapsed = |what: &str| -> Outcome {
        let elapsed = started.elapsed();
        ensure!(
            elapsed <= limit,
            "{what} took {elapsed:?}, over the {:?} timeout",
            unreachable.timeout
        );
        Ok(())
    };
    let adapter = match unreachable.adapter {
        Err(err) => {
            check_elapsed("connect")?;
            ensure_eq!(
                err.code(),
                ErrorCode::AdapterConnectionError,
                "connect's error code ({err})"
            );
            ensure_eq!(err.kind(), ErrorKind::Connection, "connect's error kind");
            return Ok(());
        }
        Ok(adapter) => adapter,
    };
    let result = adapter.get_session_and_user("any").await;
    check_elapsed("get_session_and_user")?;
    expect_error(
        result,
        ErrorKind::Connection,
        ErrorCode::AdapterConnectionError,
        "get_session_and_user",
    )?;
    let started = Instant::now();
    let result = adapter.create_user(User::with_id("offline")).await;
    let elapsed = started.elapsed();
    ensure!(elapsed <= limit, "create_user took {elapsed:?}");
    match result {
        Err(err) => {
            ensure_eq!(
                err.operation(),
                auth_core::Operation::CreateUser,
                "the failed operation"
            );
            expect_error::<()>(
                Err(err),
                ErrorKind::Connection,
                ErrorCode::AdapterConnectionError,
                "create_user",
            )
        }
        Ok(user) => Err(Failure::new(format!(
            "create_user on a dead server returned {user:?}"
        ))),
    }
}

/// Scenario 29: migrate() twice is harmless and data survives it.
pub async fn s29_migrate_is_idempotent(fx: &Fixture) -> Outcome {
    let user = make_user(fx, "user-29").await?;
    let session = make_session(fx, "session-29", &user.id).await?;
    fx.inspector.migrate().await?;
    fx.inspector.migrate().await?;
    same(
        &fx.adapter.get_session_and_user("session-29").await?,
        &Some((session, user.clone())),
        "data after two migrations",
    )?;
    expect_error(
        fx.adapter
            .create_user(User::with_id("user-29b").with_email("USER-29@example.com"))
            .await,
        ErrorKind::Conflict,
        ErrorCode::CreateUserError,
        "the email key after migrations",
    )?;
    make_session(fx, "session-29b", &user.id).await?;
    Ok(())
}
