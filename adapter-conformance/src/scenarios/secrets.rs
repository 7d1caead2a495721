//! Secrets are never printed: errors, models and the adapter's Debug (scenario 30).

use auth_core::{ErrorKind, VerificationToken};

use super::sample::{authenticator, from_now, full_account, live_session, make_user, DAY};
use crate::check::{Failure, Outcome};
use crate::fixture::Fixture;
use crate::{ensure, ensure_eq};

/// Values scenario 30 provokes duplicate-key errors with: none may be printed or logged.
pub const S30_SECRETS: [&str; 7] = [
    "s30-session-SECRET-7f3a",
    "s30-email-SECRET-91c2",
    "s30-pa-SECRET-5e11",
    "s30-cred-SECRET-0b8d",
    "s30-access-SECRET-c4d7",
    "s30-refresh-SECRET-a9e0",
    "s30-idtoken-SECRET-33f6",
];

/// Everything a person could see of a value: its Display, Debug (plain and pretty) and the
/// Display and Debug of every error in its source chain.
fn printed_error(err: &auth_core::AdapterError) -> String {
    let mut out = format!("{err} {err:?} {err:#?}");
    let mut next: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(err);
    while let Some(cause) = next {
        out.push_str(&format!(" | {cause} {cause:?}"));
        next = cause.source();
    }
    out
}

/// The values of [`S30_SECRETS`] that are tokens (the provider account id and the credential
/// id are keys, kept out of errors but shown by a model's Debug).
fn s30_tokens() -> impl Iterator<Item = &'static str> {
    S30_SECRETS
        .into_iter()
        .filter(|s| !s.starts_with("s30-pa-") && !s.starts_with("s30-cred-"))
}

fn ensure_no_token(printed: &str, what: &str) -> Outcome {
    for secret in s30_tokens() {
        ensure!(
            !printed.contains(secret),
            "{what} prints the token {secret:?}: {printed}"
        );
    }
    Ok(())
}

fn ensure_no_secret(printed: &str, what: &str) -> Outcome {
    for secret in S30_SECRETS {
        ensure!(
            !printed.contains(secret),
            "{what} prints the secret {secret:?}: {printed}"
        );
    }
    Ok(())
}

/// Scenario 30: Secrets are never printed: every duplicate-key path (session token,
/// verification token, provider account, credential id) gives an error whose Display, Debug
/// and source chain hold no token, and no model's or adapter's Debug shows one.
pub async fn s30_secrets_never_printed(fx: &Fixture) -> Outcome {
    let [session_token, email_token, provider_account_id, credential_id, access, refresh, id_token] =
        S30_SECRETS;
    let user = make_user(fx, "user-30").await?;
    let session = live_session(session_token, &user.id);
    fx.adapter.create_session(session.clone()).await?;
    let mut account = full_account(&user.id, "github", provider_account_id);
    account.access_token = Some(access.to_owned());
    account.refresh_token = Some(refresh.to_owned());
    account.id_token = Some(id_token.to_owned());
    fx.adapter.link_account(account.clone()).await?;
    let cred = authenticator(credential_id, &user.id, 0);
    fx.adapter.create_authenticator(cred.clone()).await?;
    let token = VerificationToken::new("ada@example.com", email_token, from_now(DAY));
    fx.adapter.create_verification_token(token.clone()).await?;

    let duplicates = [
        (
            "duplicate session token",
            fx.adapter.create_session(session.clone()).await.err(),
        ),
        (
            "duplicate provider account",
            fx.adapter.link_account(account.clone()).await.err(),
        ),
        (
            "duplicate credential id",
            fx.adapter.create_authenticator(cred.clone()).await.err(),
        ),
        (
            "duplicate verification token",
            fx.adapter
                .create_verification_token(token.clone())
                .await
                .err(),
        ),
    ];
    for (what, err) in duplicates {
        let Some(err) = err else {
            return Err(Failure::new(format!("{what} was accepted")));
        };
        ensure_eq!(
            err.kind(),
            ErrorKind::Conflict,
            "{what}: the error kind ({err})"
        );
        ensure_no_secret(&printed_error(&err), what)?;
    }
    let models = format!("{session:?} {account:?} {token:?} {account:#?} {session:#?}");
    ensure_no_token(&models, "a model's Debug")?;
    let read = fx.adapter.get_session_and_user(session_token).await?;
    ensure_no_token(&format!("{read:?}"), "the Debug of a session read")?;
    let adapter = format!("{:?} {:#?}", fx.adapter, fx.adapter);
    ensure_no_token(&adapter, "the adapter's Debug")
}
