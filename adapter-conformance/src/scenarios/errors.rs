//! What a call on a taken, unknown or missing key gives: Conflict, NotFound or None (scenarios 17, 21, 22).

use auth_core::{
    Account, AccountType, ErrorCode, ErrorKind, Session, SessionUpdate, User, VerificationToken,
};

use super::sample::{
    authenticator, from_now, full_account, live_session, make_account, make_authenticator,
    make_session, make_user, DAY,
};
use crate::check::{expect_error, same, Outcome};
use crate::ensure_eq;
use crate::fixture::Fixture;

/// Scenario 17: Every unique key refuses a duplicate with Conflict and the method's code.
pub async fn s17_duplicates_conflict(fx: &Fixture) -> Outcome {
    let user = make_user(fx, "user-17").await?;
    expect_error(
        fx.adapter.create_user(User::with_id("user-17")).await,
        ErrorKind::Conflict,
        ErrorCode::CreateUserError,
        "duplicate user id",
    )?;
    expect_error(
        fx.adapter
            .create_user(User::with_id("user-17b").with_email("USER-17@example.COM"))
            .await,
        ErrorKind::Conflict,
        ErrorCode::CreateUserError,
        "duplicate email in other case",
    )?;
    let account = make_account(fx, &user.id, "github", "gh-17").await?;
    expect_error(
        fx.adapter
            .link_account(Account::new(
                &user.id,
                AccountType::OAuth,
                "github",
                "gh-17",
            ))
            .await,
        ErrorKind::Conflict,
        ErrorCode::LinkAccountError,
        "duplicate (provider, provider_account_id)",
    )?;
    ensure_eq!(
        fx.inspector.stored_account("github", "gh-17").await?,
        Some(account),
        "the first account stays"
    );
    let session = make_session(fx, "session-17", &user.id).await?;
    expect_error(
        fx.adapter
            .create_session(Session::with_token("session-17", &user.id, from_now(DAY)))
            .await,
        ErrorKind::Conflict,
        ErrorCode::CreateSessionError,
        "duplicate session token",
    )?;
    same(
        &fx.inspector.stored_session("session-17").await?,
        &Some(session),
        "the first session stays",
    )?;
    let cred = make_authenticator(fx, "cred-17", &user.id, 1).await?;
    expect_error(
        fx.adapter
            .create_authenticator(authenticator("cred-17", &user.id, 5))
            .await,
        ErrorKind::Conflict,
        ErrorCode::CreateAuthenticatorError,
        "duplicate credential id",
    )?;
    ensure_eq!(
        fx.inspector.stored_authenticator("cred-17").await?,
        Some(cred),
        "the first credential stays"
    );
    let token = VerificationToken::new("ada@example.com", "token-17", from_now(DAY));
    fx.adapter.create_verification_token(token.clone()).await?;
    expect_error(
        fx.adapter
            .create_verification_token(VerificationToken::new(
                "ada@example.com",
                "token-17",
                from_now(2 * DAY),
            ))
            .await,
        ErrorKind::Conflict,
        ErrorCode::CreateVerificationRequestError,
        "duplicate (identifier, token)",
    )?;
    same(
        &fx.inspector
            .stored_verification_token("ada@example.com", "token-17")
            .await?,
        &Some(token),
        "the first token stays",
    )
}

/// Scenario 21: Linking, signing in or registering a credential for an unknown user is NotFound
/// and stores nothing.
pub async fn s21_unknown_user_is_not_found(fx: &Fixture) -> Outcome {
    expect_error(
        fx.adapter
            .link_account(full_account("ghost", "github", "gh-21"))
            .await,
        ErrorKind::NotFound,
        ErrorCode::LinkAccountError,
        "link_account for an unknown user",
    )?;
    ensure_eq!(
        fx.inspector.stored_account("github", "gh-21").await?,
        None,
        "an orphan account"
    );
    expect_error(
        fx.adapter
            .create_session(live_session("session-21", "ghost"))
            .await,
        ErrorKind::NotFound,
        ErrorCode::CreateSessionError,
        "create_session for an unknown user",
    )?;
    ensure_eq!(
        fx.inspector.stored_session("session-21").await?,
        None,
        "an orphan session"
    );
    expect_error(
        fx.adapter
            .create_authenticator(authenticator("cred-21", "ghost", 0))
            .await,
        ErrorKind::NotFound,
        ErrorCode::CreateAuthenticatorError,
        "create_authenticator for an unknown user",
    )?;
    ensure_eq!(
        fx.inspector.stored_authenticator("cred-21").await?,
        None,
        "an orphan authenticator"
    );
    ensure_eq!(
        fx.inspector.stored_user("ghost").await?,
        None,
        "a user created on the side"
    );
    Ok(())
}

/// Scenario 22: Changing or removing what is not there gives None, not an error.
pub async fn s22_missing_keys_give_none(fx: &Fixture) -> Outcome {
    ensure_eq!(
        fx.adapter
            .update_session(SessionUpdate::new("none").expires(from_now(DAY)))
            .await?,
        None,
        "update_session"
    );
    ensure_eq!(
        fx.adapter.delete_session("none").await?,
        None,
        "delete_session"
    );
    ensure_eq!(
        fx.adapter.unlink_account("github", "none").await?,
        None,
        "unlink_account"
    );
    ensure_eq!(
        fx.adapter
            .update_account(full_account("ghost", "github", "none"))
            .await?,
        None,
        "update_account"
    );
    ensure_eq!(
        fx.inspector.stored_account("github", "none").await?,
        None,
        "update_account must not insert"
    );
    ensure_eq!(fx.adapter.delete_user("none").await?, None, "delete_user");
    ensure_eq!(
        fx.adapter.use_verification_token("none", "none").await?,
        None,
        "use_verification_token"
    );
    ensure_eq!(
        fx.adapter.delete_sessions("none").await?,
        0,
        "delete_sessions"
    );
    ensure_eq!(
        fx.adapter.list_sessions("none").await?,
        vec![],
        "list_sessions"
    );
    Ok(())
}
