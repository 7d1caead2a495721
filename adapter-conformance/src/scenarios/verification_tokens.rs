//! Verification tokens: stored exactly, used once, refused when wrong (scenarios 9, 14).

use auth_core::VerificationToken;

use super::sample::{from_now, DAY};
use crate::check::{same, Outcome};
use crate::ensure_eq;
use crate::fixture::Fixture;

/// Scenario 9: A verification token is stored exactly and can be used once; a wrong identifier
/// gets nothing.
pub async fn s09_verification_token_used_once(fx: &Fixture) -> Outcome {
    let token = VerificationToken::new("ada@example.com", "token-9", from_now(DAY));
    same(
        &fx.adapter.create_verification_token(token.clone()).await?,
        &token,
        "create's return value",
    )?;
    same(
        &fx.inspector
            .stored_verification_token("ada@example.com", "token-9")
            .await?,
        &Some(token.clone()),
        "the stored token",
    )?;
    ensure_eq!(
        fx.adapter
            .use_verification_token("eve@example.com", "token-9")
            .await?,
        None,
        "use with the wrong identifier"
    );
    same(
        &fx.adapter
            .use_verification_token("ada@example.com", "token-9")
            .await?,
        &Some(token),
        "first use",
    )?;
    ensure_eq!(
        fx.adapter
            .use_verification_token("ada@example.com", "token-9")
            .await?,
        None,
        "second use"
    );
    ensure_eq!(
        fx.inspector
            .stored_verification_token("ada@example.com", "token-9")
            .await?,
        None,
        "the stored token after use"
    );
    Ok(())
}

/// Scenario 14: The right identifier with a wrong token gets nothing, and the real token still works.
pub async fn s14_wrong_token_is_refused(fx: &Fixture) -> Outcome {
    let token = VerificationToken::new("ada@example.com", "token-14", from_now(DAY));
    fx.adapter.create_verification_token(token.clone()).await?;
    ensure_eq!(
        fx.adapter
            .use_verification_token("ada@example.com", "guess")
            .await?,
        None,
        "wrong token"
    );
    ensure_eq!(
        fx.adapter
            .use_verification_token("ada@example.com", "token-1")
            .await?,
        None,
        "token prefix"
    );
    ensure_eq!(
        fx.adapter
            .use_verification_token("ada@example.com", "")
            .await?,
        None,
        "empty token"
    );
    same(
        &fx.adapter
            .use_verification_token("ada@example.com", "token-14")
            .await?,
        &Some(token),
        "the real token afterwards",
    )
}
