//! Accounts: link, look up by both halves of the key, update, unlink (scenarios 7, 10, 12, 26).

use auth_core::{Account, AccountType};

use super::sample::{full_account, make_account, make_user};
use crate::check::{same, Outcome};
use crate::ensure_eq;
use crate::fixture::Fixture;

/// Scenario 7: link_account stores every token field; get_user_by_account finds the user.
pub async fn s07_link_account_stores_every_field(fx: &Fixture) -> Outcome {
    let user = make_user(fx, "user-7").await?;
    let account = full_account(&user.id, "github", "gh-7");
    ensure_eq!(
        fx.adapter.link_account(account.clone()).await?,
        account,
        "link_account's return value"
    );
    ensure_eq!(
        fx.inspector.stored_account("github", "gh-7").await?,
        Some(account),
        "the stored account"
    );
    same(
        &fx.adapter.get_user_by_account("github", "gh-7").await?,
        &Some(user),
        "get_user_by_account",
    )?;
    ensure_eq!(
        fx.adapter
            .get_user_by_account("github", "gh-unknown")
            .await?,
        None,
        "unknown pair"
    );
    Ok(())
}

/// Scenario 10: unlink_account removes the row and returns it.
pub async fn s10_unlink_account_removes_it(fx: &Fixture) -> Outcome {
    let user = make_user(fx, "user-10").await?;
    let account = make_account(fx, &user.id, "google", "g-10").await?;
    ensure_eq!(
        fx.adapter.unlink_account("google", "g-10").await?,
        Some(account),
        "unlink's return value"
    );
    ensure_eq!(
        fx.inspector.stored_account("google", "g-10").await?,
        None,
        "the stored account after unlink"
    );
    ensure_eq!(
        fx.adapter.get_user_by_account("google", "g-10").await?,
        None,
        "lookup after unlink"
    );
    same(
        &fx.adapter.get_user("user-10").await?,
        &Some(user),
        "the user stays",
    )
}

/// Scenario 12: get_account needs both halves of the key.
pub async fn s12_get_account_needs_both_halves(fx: &Fixture) -> Outcome {
    let user = make_user(fx, "user-12").await?;
    let account = make_account(fx, &user.id, "gitlab", "gl-12").await?;
    ensure_eq!(
        fx.adapter.get_account("gitlab", "gl-wrong").await?,
        None,
        "wrong account id"
    );
    ensure_eq!(
        fx.adapter.get_account("github", "gl-12").await?,
        None,
        "wrong provider"
    );
    ensure_eq!(
        fx.adapter.get_account("gl-12", "gitlab").await?,
        None,
        "halves swapped"
    );
    ensure_eq!(
        fx.adapter.get_account("gitlab", "gl-12").await?,
        Some(account),
        "the right pair"
    );
    Ok(())
}

/// Scenario 26: update_account replaces the token fields and keeps the owner and type.
pub async fn s26_update_account_replaces_tokens(fx: &Fixture) -> Outcome {
    let user = make_user(fx, "user-26").await?;
    make_user(fx, "user-26-other").await?;
    let original = make_account(fx, &user.id, "github", "gh-26").await?;
    let refreshed = Account {
        user_id: "user-26-other".to_owned(),
        account_type: AccountType::Email,
        access_token: Some("access-refreshed".into()),
        refresh_token: Some("refresh-refreshed".into()),
        expires_at: Some(2_000_000_000),
        id_token: None,
        ..original.clone()
    };
    let expected = Account {
        user_id: original.user_id.clone(),
        account_type: original.account_type,
        ..refreshed.clone()
    };
    ensure_eq!(
        fx.adapter.update_account(refreshed).await?,
        Some(expected.clone()),
        "update_account's return value"
    );
    ensure_eq!(
        fx.inspector.stored_account("github", "gh-26").await?,
        Some(expected),
        "the stored account"
    );
    same(
        &fx.adapter.get_user_by_account("github", "gh-26").await?,
        &Some(user),
        "the owner stays",
    )
}
