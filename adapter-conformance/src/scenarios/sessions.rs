//! Sessions: create, read with their user, update, delete, move to another user (scenarios 4, 6, 8, 33).

use auth_core::{ErrorCode, ErrorKind, Session, SessionUpdate};

use super::sample::{from_now, live_session, make_session, make_user, DAY};
use crate::check::{expect_error, same, Outcome};
use crate::ensure_eq;
use crate::fixture::Fixture;

/// Scenario 4: create_session, read it raw; get_session_and_user: unknown → None; known → both.
pub async fn s04_create_and_read_session(fx: &Fixture) -> Outcome {
    let user = make_user(fx, "user-4").await?;
    let session = live_session("session-4", &user.id);
    same(
        &fx.adapter.create_session(session.clone()).await?,
        &session,
        "create_session's return value",
    )?;
    same(
        &fx.inspector.stored_session("session-4").await?,
        &Some(session.clone()),
        "the stored session",
    )?;
    ensure_eq!(
        fx.adapter.get_session_and_user("unknown-token").await?,
        None,
        "unknown token"
    );
    same(
        &fx.adapter.get_session_and_user("session-4").await?,
        &Some((session, user)),
        "get_session_and_user of a live session",
    )
}

/// Scenario 6: update_session changes expires exactly.
pub async fn s06_update_session_changes_expiry(fx: &Fixture) -> Outcome {
    let user = make_user(fx, "user-6").await?;
    let session = make_session(fx, "session-6", &user.id).await?;
    let new_expiry = from_now(60 * DAY + 123);
    let expected = Session {
        expires: new_expiry,
        ..session
    };
    let returned = fx
        .adapter
        .update_session(SessionUpdate::new("session-6").expires(new_expiry))
        .await?;
    same(
        &returned,
        &Some(expected.clone()),
        "update_session's return value",
    )?;
    same(
        &fx.inspector.stored_session("session-6").await?,
        &Some(expected),
        "the stored session",
    )
}

/// Scenario 8: delete_session removes the row and returns it.
pub async fn s08_delete_session_removes_it(fx: &Fixture) -> Outcome {
    let user = make_user(fx, "user-8").await?;
    let session = make_session(fx, "session-8", &user.id).await?;
    same(
        &fx.adapter.delete_session("session-8").await?,
        &Some(session),
        "delete_session's return value",
    )?;
    ensure_eq!(
        fx.inspector.stored_session("session-8").await?,
        None,
        "the stored session after delete"
    );
    ensure_eq!(
        fx.adapter.get_session_and_user("session-8").await?,
        None,
        "reading a deleted session"
    );
    Ok(())
}

/// Scenario 33: update_session that moves a session to another user: it reads with the new
/// user, and the old user's list no longer has it.
pub async fn s33_session_moves_to_another_user(fx: &Fixture) -> Outcome {
    let ada = make_user(fx, "user-33a").await?;
    let bob = make_user(fx, "user-33b").await?;
    let session = make_session(fx, "session-33", &ada.id).await?;
    let moved = Session {
        user_id: bob.id.clone(),
        ..session
    };
    same(
        &fx.adapter
            .update_session(SessionUpdate::new("session-33").user_id(&bob.id))
            .await?,
        &Some(moved.clone()),
        "update_session's return value",
    )?;
    same(
        &fx.adapter.get_session_and_user("session-33").await?,
        &Some((moved.clone(), bob.clone())),
        "the moved session reads with the new user",
    )?;
    ensure_eq!(
        fx.adapter.list_sessions(&ada.id).await?,
        vec![],
        "the old user's sessions"
    );
    same(
        &fx.adapter.list_sessions(&bob.id).await?,
        &vec![moved],
        "the new user's sessions",
    )?;
    expect_error(
        fx.adapter
            .update_session(SessionUpdate::new("session-33").user_id("ghost-33"))
            .await,
        ErrorKind::NotFound,
        ErrorCode::UpdateSessionError,
        "moving a session to an unknown user",
    )
}
