//! Expired records: never returned, never revived, swept and counted exactly (scenarios 19, 31, 36).

use std::time::Duration;

use auth_core::chrono::Utc;
use auth_core::{Session, SessionUpdate, VerificationToken};

use super::sample::{from_now, make_session, make_user, DAY};
use crate::check::{same, Outcome};
use crate::fixture::Fixture;
use crate::{ensure, ensure_eq};

/// Scenario 19: Expired sessions and tokens are never returned; delete_expired sweeps them and
/// keeps live ones.
pub async fn s19_expired_records_are_never_returned(fx: &Fixture) -> Outcome {
    let user = make_user(fx, "user-19").await?;
    let live = make_session(fx, "live-19", &user.id).await?;
    fx.adapter
        .create_session(Session::with_token("expired-19", &user.id, from_now(-1000)))
        .await?;
    fx.adapter
        // A second is a margin that a loaded CI machine and a slow wire server (nx-27017
        // under 2 busy cores) still keep: the three calls below once took over 300 ms.
        .create_session(Session::with_token("expiring-19", &user.id, from_now(1000)))
        .await?;
    ensure_eq!(
        fx.adapter.get_session_and_user("expired-19").await?,
        None,
        "an expired session"
    );
    ensure!(
        fx.adapter
            .get_session_and_user("expiring-19")
            .await?
            .is_some(),
        "a session with a second left reads as absent"
    );
    ensure_eq!(
        fx.adapter.list_sessions(&user.id).await?.len(),
        2,
        "live sessions listed"
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    ensure_eq!(
        fx.adapter.get_session_and_user("expiring-19").await?,
        None,
        "a session that just expired"
    );
    same(
        &fx.adapter.list_sessions(&user.id).await?,
        &vec![live.clone()],
        "list_sessions after expiry",
    )?;

    let expired_token = VerificationToken::new("ada@example.com", "old-19", from_now(-1000));
    fx.adapter.create_verification_token(expired_token).await?;
    ensure_eq!(
        fx.adapter
            .use_verification_token("ada@example.com", "old-19")
            .await?,
        None,
        "an expired token"
    );
    ensure_eq!(
        fx.inspector
            .stored_verification_token("ada@example.com", "old-19")
            .await?,
        None,
        "an expired token after its use"
    );

    let live_token = VerificationToken::new("ada@example.com", "new-19", from_now(DAY));
    fx.adapter
        .create_verification_token(live_token.clone())
        .await?;
    fx.adapter
        .create_verification_token(VerificationToken::new(
            "bob@example.com",
            "old-19b",
            from_now(-1000),
        ))
        .await?;
    fx.adapter
        .create_session(Session::with_token(
            "expired-19b",
            &user.id,
            from_now(-5000),
        ))
        .await?;
    let counts = fx.adapter.delete_expired(Utc::now()).await?;
    ensure!(
        counts.sessions <= 3 && counts.verification_tokens <= 1,
        "delete_expired counted more than there was: {counts:?}"
    );
    for token in ["expired-19", "expiring-19", "expired-19b"] {
        ensure_eq!(
            fx.inspector.stored_session(token).await?,
            None,
            "expired session {token} after the sweep"
        );
    }
    ensure_eq!(
        fx.inspector
            .stored_verification_token("bob@example.com", "old-19b")
            .await?,
        None,
        "expired token after the sweep"
    );
    same(
        &fx.inspector.stored_session("live-19").await?,
        &Some(live),
        "the live session after the sweep",
    )?;
    same(
        &fx.inspector
            .stored_verification_token("ada@example.com", "new-19")
            .await?,
        &Some(live_token),
        "the live token after the sweep",
    )
}

/// Scenario 31: update_session on an expired, not yet swept session gives None and does not
/// revive it.
pub async fn s31_expired_session_is_not_revived(fx: &Fixture) -> Outcome {
    let user = make_user(fx, "user-31").await?;
    let other = make_user(fx, "user-31b").await?;
    let expired = Session::with_token("session-31", &user.id, from_now(-2_000));
    fx.adapter.create_session(expired.clone()).await?;
    ensure_eq!(
        fx.adapter
            .update_session(SessionUpdate::new("session-31").expires(from_now(30 * DAY)))
            .await?,
        None,
        "extending an expired session"
    );
    ensure_eq!(
        fx.adapter
            .update_session(SessionUpdate::new("session-31").user_id(&other.id))
            .await?,
        None,
        "moving an expired session"
    );
    if let Some(stored) = fx.inspector.stored_session("session-31").await? {
        same(&stored, &expired, "the expired session, still unswept")?;
    }
    ensure_eq!(
        fx.adapter.get_session_and_user("session-31").await?,
        None,
        "reading the expired session after the attempts"
    );
    ensure_eq!(
        fx.adapter.list_sessions(&user.id).await?,
        vec![],
        "the user's live sessions"
    );
    Ok(())
}

/// Scenario 36: delete_sessions counts exactly the live sessions it removed, and
/// delete_expired exactly the expired records it removed.
pub async fn s36_counts_are_exact(fx: &Fixture) -> Outcome {
    let user = make_user(fx, "user-36").await?;
    for i in 0..3 {
        make_session(fx, &format!("live-36-{i}"), &user.id).await?;
    }
    let mut expired_sessions = Vec::new();
    for i in 0..2 {
        let token = format!("expired-36-{i}");
        fx.adapter
            .create_session(Session::with_token(&token, &user.id, from_now(-2_000)))
            .await?;
        expired_sessions.push(token);
    }
    ensure_eq!(
        fx.adapter.delete_sessions(&user.id).await?,
        3,
        "delete_sessions with three live and two expired sessions"
    );

    let other = make_user(fx, "user-36b").await?;
    let kept = make_session(fx, "kept-36", &other.id).await?;
    for i in 0..3 {
        let token = format!("swept-36-{i}");
        fx.adapter
            .create_session(Session::with_token(&token, &other.id, from_now(-2_000)))
            .await?;
        expired_sessions.push(token);
    }
    let mut expired_tokens = Vec::new();
    for i in 0..4 {
        let token = format!("vt-36-{i}");
        fx.adapter
            .create_verification_token(VerificationToken::new(
                "a@example.com",
                &token,
                from_now(-2_000),
            ))
            .await?;
        expired_tokens.push(token);
    }
    let live_token = VerificationToken::new("a@example.com", "vt-36-live", from_now(DAY));
    fx.adapter
        .create_verification_token(live_token.clone())
        .await?;
    // What is still stored is what the sweep must remove and count (a store that expires
    // records by itself may have dropped some already).
    let mut stored_sessions = 0;
    for token in &expired_sessions {
        stored_sessions += u64::from(fx.inspector.stored_session(token).await?.is_some());
    }
    let mut stored_tokens = 0;
    for token in &expired_tokens {
        stored_tokens += u64::from(
            fx.inspector
                .stored_verification_token("a@example.com", token)
                .await?
                .is_some(),
        );
    }
    let counts = fx.adapter.delete_expired(Utc::now()).await?;
    ensure_eq!(
        (counts.sessions, counts.verification_tokens),
        (stored_sessions, stored_tokens),
        "delete_expired's counts (sessions, verification tokens)"
    );
    for token in &expired_sessions {
        ensure_eq!(
            fx.inspector.stored_session(token).await?,
            None,
            "{token} after the sweep"
        );
    }
    same(
        &fx.inspector.stored_session("kept-36").await?,
        &Some(kept),
        "the live session",
    )?;
    same(
        &fx.inspector
            .stored_verification_token("a@example.com", "vt-36-live")
            .await?,
        &Some(live_token),
        "the live token",
    )?;
    let again = fx.adapter.delete_expired(Utc::now()).await?;
    ensure_eq!(again.total(), 0, "a second sweep");
    Ok(())
}
