//! delete_user: what goes with the user, and only the user's (scenarios 11, 18, 27).

use auth_core::Session;

use super::sample::{make_account, make_authenticator, make_session, make_user};
use crate::check::{same, sorted_by_key, Outcome};
use crate::ensure_eq;
use crate::fixture::Fixture;

/// Scenario 11: delete_user removes the user, its sessions and its accounts.
pub async fn s11_delete_user_removes_sessions_and_accounts(fx: &Fixture) -> Outcome {
    let user = make_user(fx, "user-11").await?;
    make_account(fx, &user.id, "github", "gh-11").await?;
    make_session(fx, "session-11", &user.id).await?;
    same(
        &fx.adapter.delete_user("user-11").await?,
        &Some(user),
        "delete_user's return value",
    )?;
    ensure_eq!(
        fx.inspector.stored_user("user-11").await?,
        None,
        "the stored user"
    );
    ensure_eq!(
        fx.inspector.stored_session("session-11").await?,
        None,
        "the user's session"
    );
    ensure_eq!(
        fx.inspector.stored_account("github", "gh-11").await?,
        None,
        "the user's account"
    );
    ensure_eq!(
        fx.adapter.get_user("user-11").await?,
        None,
        "get_user after delete"
    );
    Ok(())
}

/// Scenario 18: delete_user removes three accounts, three sessions and two authenticators, and
/// nothing of another user; list_sessions and delete_sessions agree.
pub async fn s18_delete_user_cascades_everything(fx: &Fixture) -> Outcome {
    let user = make_user(fx, "user-18").await?;
    let other = make_user(fx, "user-18-other").await?;
    let other_session = make_session(fx, "other-session", &other.id).await?;
    let other_account = make_account(fx, &other.id, "github", "other").await?;
    let other_cred = make_authenticator(fx, "other-cred", &other.id, 1).await?;

    let providers = ["github", "google", "gitlab"];
    for provider in providers {
        make_account(fx, &user.id, provider, "acct-18").await?;
    }
    let tokens = ["s18-a", "s18-b", "s18-c"];
    let mut sessions = Vec::new();
    for token in tokens {
        sessions.push(make_session(fx, token, &user.id).await?);
    }
    let by_token = |s: &Session| s.session_token.clone();
    same(
        &sorted_by_key(fx.adapter.list_sessions(&user.id).await?, by_token),
        &sessions,
        "list_sessions",
    )?;
    ensure_eq!(
        fx.adapter.delete_sessions(&user.id).await?,
        3,
        "delete_sessions' count"
    );
    ensure_eq!(
        fx.adapter.list_sessions(&user.id).await?,
        vec![],
        "list_sessions after sign-out everywhere"
    );
    for token in tokens {
        ensure_eq!(
            fx.adapter.get_session_and_user(token).await?,
            None,
            "a signed-out session"
        );
        make_session(fx, token, &user.id).await?;
    }
    for cred in ["s18-cred-1", "s18-cred-2"] {
        make_authenticator(fx, cred, &user.id, 0).await?;
    }

    same(
        &fx.adapter.delete_user(&user.id).await?,
        &Some(user.clone()),
        "delete_user's return value",
    )?;
    ensure_eq!(
        fx.inspector.stored_user(&user.id).await?,
        None,
        "the user row"
    );
    for provider in providers {
        ensure_eq!(
            fx.inspector.stored_account(provider, "acct-18").await?,
            None,
            "account at {provider}"
        );
        ensure_eq!(
            fx.adapter.get_user_by_account(provider, "acct-18").await?,
            None,
            "lookup by {provider}"
        );
    }
    for token in tokens {
        ensure_eq!(
            fx.inspector.stored_session(token).await?,
            None,
            "session {token}"
        );
    }
    for cred in ["s18-cred-1", "s18-cred-2"] {
        ensure_eq!(
            fx.inspector.stored_authenticator(cred).await?,
            None,
            "authenticator {cred}"
        );
    }
    ensure_eq!(
        fx.adapter.list_authenticators(&user.id).await?,
        vec![],
        "list_authenticators"
    );
    ensure_eq!(
        fx.adapter.list_sessions(&user.id).await?,
        vec![],
        "list_sessions"
    );
    let email = user.email.clone().unwrap_or_default();
    ensure_eq!(
        fx.adapter.get_user_by_email(&email).await?,
        None,
        "lookup by the old email"
    );
    ensure_eq!(
        fx.adapter.delete_user(&user.id).await?,
        None,
        "a second delete_user"
    );

    same(
        &fx.inspector.stored_session("other-session").await?,
        &Some(other_session),
        "the other user's session",
    )?;
    ensure_eq!(
        fx.inspector.stored_account("github", "other").await?,
        Some(other_account),
        "the other user's account"
    );
    ensure_eq!(
        fx.inspector.stored_authenticator("other-cred").await?,
        Some(other_cred),
        "the other user's credential"
    );
    same(
        &fx.adapter.get_user(&other.id).await?,
        &Some(other),
        "the other user",
    )
}

/// Scenario 27: A session whose user was deleted is never returned.
pub async fn s27_session_of_deleted_user_is_gone(fx: &Fixture) -> Outcome {
    let user = make_user(fx, "user-27").await?;
    make_session(fx, "session-27", &user.id).await?;
    fx.adapter.delete_user(&user.id).await?;
    ensure_eq!(
        fx.adapter.get_session_and_user("session-27").await?,
        None,
        "the deleted user's session"
    );
    ensure_eq!(
        fx.adapter.list_sessions(&user.id).await?,
        vec![],
        "the deleted user's session list"
    );
    // The token is free again for a new user.
    let next = make_user(fx, "user-27b").await?;
    make_session(fx, "session-27", &next.id).await?;
    ensure_eq!(
        fx.adapter
            .get_session_and_user("session-27")
            .await?
            .map(|(_, u)| u.id),
        Some(next.id),
        "the token reused by another user"
    );
    Ok(())
}
