//! Authenticators and the per-user lists: create, get, list, counter, delete (scenarios 13, 37).

use auth_core::{Account, Authenticator, ErrorCode, ErrorKind};

use super::sample::{authenticator, make_account, make_authenticator, make_user};
use crate::check::{expect_error, sorted_by_key, Outcome};
use crate::fixture::Fixture;
use crate::{ensure, ensure_eq};

/// Scenario 13: Authenticators: create, get, list (complete and separate per user), counter update.
pub async fn s13_authenticators(fx: &Fixture) -> Outcome {
    let ada = make_user(fx, "user-13a").await?;
    let bob = make_user(fx, "user-13b").await?;
    let a1 = authenticator("cred-a1", &ada.id, 1);
    ensure_eq!(
        fx.adapter.create_authenticator(a1.clone()).await?,
        a1,
        "create's return value"
    );
    let a2 = make_authenticator(fx, "cred-a2", &ada.id, 2).await?;
    let b1 = make_authenticator(fx, "cred-b1", &bob.id, 3).await?;
    ensure_eq!(
        fx.inspector.stored_authenticator("cred-a1").await?,
        Some(a1.clone()),
        "stored authenticator"
    );
    ensure_eq!(
        fx.adapter.get_authenticator("cred-a1").await?,
        Some(a1.clone()),
        "get known"
    );
    ensure_eq!(
        fx.adapter.get_authenticator("cred-none").await?,
        None,
        "get unknown"
    );
    let by_id = |a: &Authenticator| a.credential_id.clone();
    ensure_eq!(
        sorted_by_key(fx.adapter.list_authenticators(&ada.id).await?, by_id),
        vec![a1.clone(), a2],
        "ada's list"
    );
    ensure_eq!(
        fx.adapter.list_authenticators(&bob.id).await?,
        vec![b1],
        "bob's list"
    );
    ensure_eq!(
        fx.adapter.list_authenticators("user-none").await?,
        vec![],
        "unknown user's list"
    );
    expect_error(
        fx.adapter
            .update_authenticator_counter("cred-none", 9)
            .await,
        ErrorKind::NotFound,
        ErrorCode::UpdateAuthenticatorCounterError,
        "counter of an unknown credential",
    )?;
    let bumped = Authenticator { counter: 42, ..a1 };
    ensure_eq!(
        fx.adapter
            .update_authenticator_counter("cred-a1", 42)
            .await?,
        bumped,
        "counter update"
    );
    ensure_eq!(
        fx.inspector.stored_authenticator("cred-a1").await?,
        Some(bumped),
        "stored counter"
    );
    Ok(())
}

/// Scenario 37: delete_authenticator and list_accounts: present, complete, and cascaded by
/// delete_user.
pub async fn s37_delete_authenticator_and_list_accounts(fx: &Fixture) -> Outcome {
    let user = make_user(fx, "user-37").await?;
    let other = make_user(fx, "user-37b").await?;
    let mut accounts = Vec::new();
    for provider in ["github", "google", "apple"] {
        accounts.push(make_account(fx, &user.id, provider, "acct-37").await?);
    }
    let other_account = make_account(fx, &other.id, "github", "acct-37b").await?;
    let by_provider = |a: &Account| a.provider.clone();
    ensure_eq!(
        sorted_by_key(fx.adapter.list_accounts(&user.id).await?, by_provider),
        sorted_by_key(accounts, by_provider),
        "list_accounts"
    );
    ensure_eq!(
        fx.adapter.list_accounts("nobody-37").await?,
        vec![],
        "list_accounts of an unknown user"
    );
    let first = make_authenticator(fx, "cred-37-1", &user.id, 3).await?;
    let second = make_authenticator(fx, "cred-37-2", &user.id, 4).await?;
    ensure_eq!(
        fx.adapter.delete_authenticator("cred-37-1").await?,
        Some(first),
        "delete_authenticator's return value"
    );
    ensure_eq!(
        fx.inspector.stored_authenticator("cred-37-1").await?,
        None,
        "the deleted credential"
    );
    ensure_eq!(
        fx.adapter.get_authenticator("cred-37-1").await?,
        None,
        "get_authenticator of the deleted credential"
    );
    ensure_eq!(
        fx.adapter.list_authenticators(&user.id).await?,
        vec![second],
        "the credentials left"
    );
    ensure_eq!(
        fx.adapter.delete_authenticator("cred-37-1").await?,
        None,
        "deleting it again"
    );
    fx.adapter.delete_user(&user.id).await?;
    ensure_eq!(
        fx.adapter.list_accounts(&user.id).await?,
        vec![],
        "list_accounts after delete_user"
    );
    let left = fx.inspector.records_of_user(&user.id).await?;
    ensure!(left.is_empty(), "records left after delete_user: {left:?}");
    ensure_eq!(
        fx.adapter.list_accounts(&other.id).await?,
        vec![other_account],
        "the other user's accounts"
    );
    Ok(())
}
