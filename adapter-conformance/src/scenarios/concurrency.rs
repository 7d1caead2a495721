//! Calls that race: one winner where there must be one, no orphan, no lost update (scenarios 15, 16, 32, 35).

use std::time::Duration;

use auth_core::{ErrorCode, ErrorKind, User, UserUpdate, VerificationToken};
use futures::future::join_all;

use super::sample::{authenticator, from_now, full_account, live_session, make_user, DAY};
use crate::check::{expect_error, Failure, Outcome};
use crate::fixture::Fixture;
use crate::{ensure, ensure_eq};

/// Scenario 15: Of 50 concurrent uses of one token exactly one succeeds.
pub async fn s15_concurrent_token_use_has_one_winner(fx: &Fixture) -> Outcome {
    fx.adapter
        .create_verification_token(VerificationToken::new(
            "race@example.com",
            "token-15",
            from_now(DAY),
        ))
        .await?;
    let calls = (0..50).map(|_| {
        let adapter = fx.adapter.clone();
        async move {
            adapter
                .use_verification_token("race@example.com", "token-15")
                .await
        }
    });
    let mut winners = 0;
    for (i, result) in join_all(calls).await.into_iter().enumerate() {
        match result {
            Ok(Some(_)) => winners += 1,
            Ok(None) => {}
            Err(err) => return Err(Failure::new(format!("concurrent use #{i} failed: {err}"))),
        }
    }
    ensure_eq!(winners, 1, "callers that got the token");
    Ok(())
}

/// Scenario 16: Of 20 concurrent sign-ups with one email in different case exactly one succeeds.
pub async fn s16_concurrent_same_email_has_one_winner(fx: &Fixture) -> Outcome {
    let base = "race.user@example.com";
    let spelling = |i: usize| -> String {
        base.chars()
            .enumerate()
            .map(|(j, c)| {
                if (i >> (j % 5)) & 1 == 1 {
                    c.to_ascii_uppercase()
                } else {
                    c
                }
            })
            .collect()
    };
    let calls = (0..20).map(|i| {
        let adapter = fx.adapter.clone();
        let user = User::with_id(format!("racer-{i}")).with_email(spelling(i));
        async move { adapter.create_user(user).await }
    });
    let mut winners = Vec::new();
    for (i, result) in join_all(calls).await.into_iter().enumerate() {
        match result {
            Ok(user) => winners.push(user),
            Err(err) => expect_error::<()>(
                Err(err),
                ErrorKind::Conflict,
                ErrorCode::CreateUserError,
                &format!("losing sign-up #{i}"),
            )?,
        }
    }
    ensure_eq!(winners.len(), 1, "sign-ups that succeeded");
    let found = fx.adapter.get_user_by_email(base).await?;
    ensure_eq!(found, winners.pop(), "the user the email finds");
    Ok(())
}

/// Scenario 32: delete_user racing link_account, create_session and create_authenticator for
/// that user, 50 times: no orphan is left in storage, and the same provider account can be
/// linked to a new user afterwards.
pub async fn s32_delete_races_leave_no_orphan(fx: &Fixture) -> Outcome {
    use futures::future::BoxFuture;
    const PROVIDERS: [&str; 4] = ["github", "google", "apple", "gitlab"];
    for trial in 0..50u64 {
        let id = format!("user-32-{trial}");
        let pa = format!("acct-32-{trial}");
        make_user(fx, &id).await?;
        // Twelve creates in flight against one delete, which starts at once or 1–3 ms
        // later, so the delete lands inside a check-then-insert window often enough.
        let mut creates: Vec<BoxFuture<'_, (&'static str, auth_core::AdapterResult<()>)>> =
            Vec::new();
        for (i, provider) in PROVIDERS.into_iter().enumerate() {
            let account = full_account(&id, provider, &pa);
            let session = live_session(&format!("session-32-{trial}-{i}"), &id);
            let cred = authenticator(&format!("cred-32-{trial}-{i}"), &id, 0);
            creates.push(Box::pin(async {
                (
                    "link_account",
                    fx.adapter.link_account(account).await.map(drop),
                )
            }));
            creates.push(Box::pin(async {
                (
                    "create_session",
                    fx.adapter.create_session(session).await.map(drop),
                )
            }));
            creates.push(Box::pin(async {
                (
                    "create_authenticator",
                    fx.adapter.create_authenticator(cred).await.map(drop),
                )
            }));
        }
        let delay = Duration::from_millis(trial % 4);
        let delete = async {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            fx.adapter.delete_user(&id).await
        };
        let (results, deleted) = futures::join!(join_all(creates), delete);
        deleted?;
        for (what, result) in results {
            if let Err(err) = result {
                ensure_eq!(
                    err.kind(),
                    ErrorKind::NotFound,
                    "trial {trial}: {what} racing delete_user ({err})"
                );
            }
        }
        let left = fx.inspector.records_of_user(&id).await?;
        ensure!(
            left.is_empty(),
            "trial {trial}: orphans of the deleted user: {left:?}"
        );
        let next = format!("user-32-{trial}-next");
        make_user(fx, &next).await?;
        for provider in PROVIDERS {
            fx.adapter
                .link_account(full_account(&next, provider, &pa))
                .await
                .map_err(|e| {
                    Failure::new(format!("trial {trial}: relinking {provider}/{pa}: {e}"))
                })?;
        }
    }
    Ok(())
}

/// Scenario 35: Two concurrent partial update_user calls that set different fields: both
/// fields land (ten rounds).
pub async fn s35_concurrent_partial_updates_both_land(fx: &Fixture) -> Outcome {
    make_user(fx, "user-35").await?;
    for round in 0..10 {
        let name = format!("name-{round}");
        let image = format!("image-{round}");
        let (a, b) = futures::join!(
            fx.adapter
                .update_user(UserUpdate::new("user-35").name(Some(name.clone()))),
            fx.adapter
                .update_user(UserUpdate::new("user-35").image(Some(image.clone()))),
        );
        a?;
        b?;
        let stored = fx.inspector.stored_user("user-35").await?;
        ensure_eq!(
            stored.map(|u| (u.name, u.image)),
            Some((Some(name), Some(image))),
            "round {round}: both fields"
        );
    }
    Ok(())
}
