//! The at-rest wrappers of auth-core over memory, SQLite, PostgreSQL and Redis (the whole
//! suite runs on them in `wrapped_conformance.rs`): a raw read of every wrapped storage
//! that must find no clear token, and the migration path (hashing turned on over existing
//! data: old sessions end).

// The helpers below are test code too: a failed set-up is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use adapter_conformance::harness::{self, Resolved};
use adapter_conformance::{Backend, BackendSpec, Fixture};
use auth_core::at_rest::{token_hash, EncryptedAccountTokens, HashedTokens, KeyRing};
use auth_core::chrono::{Duration, Utc};
use auth_core::{
    truncate_to_millis, Account, AccountType, Adapter, Session, SessionUpdate, User,
    VerificationToken,
};
use conformance_cli::backends::{self, wrapped};

/// The backend of `spec`, or `None` after a skip line (a panic when it is required).
async fn open(spec: &BackendSpec) -> Option<Arc<dyn Backend>> {
    match harness::resolve(spec).await {
        Ok(Resolved::Ready(backend)) => Some(backend),
        Ok(Resolved::Skipped(why)) => {
            assert!(
                !harness::is_required(spec.name),
                "{why} — but {} requires it",
                harness::REQUIRE_VAR
            );
            eprintln!("{why}");
            None
        }
        Err(e) => panic!("backend {} could not be opened: {e}", spec.name),
    }
}

/// The wrapped backends and the plain backend under each.
fn pairs() -> Vec<(BackendSpec, BackendSpec)> {
    let plain = |name: &str| backends::by_name(name).expect("a plain backend");
    vec![
        (wrapped::memory_spec(), plain("memory")),
        (wrapped::sqlite_file_spec(), plain("sqlite-file")),
        (wrapped::postgres_spec(), plain("postgres")),
        (wrapped::redis_spec(), plain("redis")),
    ]
}

/// Stores one of every secret the contract knows through `fx.adapter` and returns them, and
/// which of them a later write replaced (so even a plain backend no longer holds them).
async fn store_every_secret(fx: &Fixture) -> (Vec<String>, Vec<String>) {
    let tag = uuid::Uuid::now_v7().simple().to_string();
    let secret = |what: &str| format!("SECRET-{what}-{tag}");
    let db = &fx.adapter;
    let user = db
        .create_user(User::with_id("raw-user").with_email("raw@example.com"))
        .await
        .unwrap();
    let expires = truncate_to_millis(Utc::now() + Duration::days(1));

    db.create_session(Session::with_token(secret("session"), &user.id, expires))
        .await
        .unwrap();
    db.update_session(SessionUpdate::new(secret("session")).expires(expires + Duration::hours(1)))
        .await
        .unwrap()
        .expect("the session to update");
    db.create_verification_token(VerificationToken::new(
        "raw@example.com",
        secret("email"),
        expires,
    ))
    .await
    .unwrap();

    let mut account = Account::new(&user.id, AccountType::Oidc, "github", "raw-account");
    account.access_token = Some(secret("access"));
    account.refresh_token = Some(secret("refresh"));
    account.id_token = Some(secret("id"));
    db.link_account(account.clone()).await.unwrap();
    let mut other = Account::new(&user.id, AccountType::OAuth, "google", "raw-account-2");
    other.access_token = Some(secret("access-b"));
    db.link_account(other).await.unwrap();
    account.access_token = Some(secret("access-new"));
    account.refresh_token = Some(secret("refresh-new"));
    account.id_token = Some(secret("id-new"));
    db.update_account(account)
        .await
        .unwrap()
        .expect("the account to update");

    // Everything still reads back in clear through the adapter.
    assert!(db
        .get_session_and_user(&secret("session"))
        .await
        .unwrap()
        .is_some());
    let read = db
        .get_account("github", "raw-account")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read.access_token, Some(secret("access-new")));

    let all = [
        "session",
        "email",
        "access",
        "refresh",
        "id",
        "access-b",
        "access-new",
        "refresh-new",
        "id-new",
    ]
    .into_iter()
    .map(secret)
    .collect();
    let replaced = ["access", "refresh", "id"]
        .into_iter()
        .map(secret)
        .collect();
    (all, replaced)
}

/// The acceptance test of issue 14: no session, email, access, refresh or id token in any
/// table, key or record of any wrapped backend. The plain backend under each, given the
/// same writes, shows the clear tokens: the check can fail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_clear_token_is_stored_by_a_wrapped_backend() {
    for (wrapped, plain) in pairs() {
        let (Some(wrapped_backend), Some(plain_backend)) =
            (open(&wrapped).await, open(&plain).await)
        else {
            continue;
        };

        let fx = wrapped_backend.fixture().await.unwrap();
        let (secrets, _) = store_every_secret(&fx).await;
        let dump = fx.inspector.dump().await.unwrap();
        fx.inspector.teardown().await.unwrap();
        assert!(
            dump.iter().any(|v| v.contains(&token_hash(&secrets[0]))),
            "[{}] the dump does not hold the session's hash: it read the wrong storage",
            wrapped.name
        );
        for secret in &secrets {
            let found: Vec<&String> = dump
                .iter()
                .filter(|v| v.contains(secret.as_str()))
                .collect();
            assert!(
                found.is_empty(),
                "[{}] a clear token is stored: {secret} in {found:?}",
                wrapped.name
            );
        }

        let fx = plain_backend.fixture().await.unwrap();
        let (secrets, replaced) = store_every_secret(&fx).await;
        let dump = fx.inspector.dump().await.unwrap();
        fx.inspector.teardown().await.unwrap();
        for secret in secrets.iter().filter(|s| !replaced.contains(s)) {
            assert!(
                dump.iter().any(|v| v.contains(secret.as_str())),
                "[{}] the control run does not find {secret} in clear: the dump misses storage",
                plain.name
            );
        }
    }
}

/// Turning hashing (and sealing) on over a database with data: sessions and email links
/// stored in clear before end (they read as absent, so a token from an old backup signs
/// nobody in), the leftover rows are swept when they expire, new sessions work; accounts
/// stored in clear still read, and `rotate_user` seals them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn turning_protection_on_ends_old_sessions_and_seals_old_accounts() {
    for (_, plain) in pairs() {
        let Some(backend) = open(&plain).await else {
            continue;
        };
        let fx = backend.fixture().await.unwrap();
        let before = fx.adapter.clone();
        let user = before.create_user(User::with_id("old-user")).await.unwrap();
        let soon = truncate_to_millis(Utc::now() + Duration::milliseconds(1500));
        before
            .create_session(Session::with_token("old-session", &user.id, soon))
            .await
            .unwrap();
        before
            .create_verification_token(VerificationToken::new("old@example.com", "old-link", soon))
            .await
            .unwrap();
        let mut account = Account::new(&user.id, AccountType::OAuth, "github", "old-account");
        account.access_token = Some("old-access".into());
        before.link_account(account.clone()).await.unwrap();

        let keys = Arc::new(KeyRing::new("k1", *KeyRing::generate_key()).unwrap());
        let sealed = Arc::new(EncryptedAccountTokens::from_arc(before.clone(), keys));
        let after = HashedTokens::from_arc(sealed.clone());

        assert_eq!(
            after.get_session_and_user("old-session").await.unwrap(),
            None,
            "[{}] a clear session survived hashing",
            plain.name
        );
        assert_eq!(
            after
                .use_verification_token("old@example.com", "old-link")
                .await
                .unwrap(),
            None,
            "[{}] a clear email link survived hashing",
            plain.name
        );
        let fresh = after
            .create_session(Session::new(&user.id, Duration::days(1)))
            .await
            .unwrap();
        assert!(after
            .get_session_and_user(&fresh.session_token)
            .await
            .unwrap()
            .is_some());

        assert_eq!(
            after.get_account("github", "old-account").await.unwrap(),
            Some(account.clone()),
            "[{}] a clear account no longer reads",
            plain.name
        );
        assert_eq!(sealed.rotate_user(&user.id).await.unwrap(), 1);
        let stored = fx
            .inspector
            .stored_account("github", "old-account")
            .await
            .unwrap()
            .unwrap();
        assert!(
            stored
                .access_token
                .as_deref()
                .is_some_and(|t| t.starts_with("enc:v1:k1:")),
            "[{}] rotate_user left {:?}",
            plain.name,
            stored.access_token
        );
        assert_eq!(
            after.get_account("github", "old-account").await.unwrap(),
            Some(account)
        );

        // The clear leftovers go with the sweep once expired (Redis expires them itself).
        tokio::time::sleep(std::time::Duration::from_millis(1700)).await;
        after.delete_expired(Utc::now()).await.unwrap();
        assert_eq!(
            fx.inspector.stored_session("old-session").await.unwrap(),
            None,
            "[{}] the clear session outlived its expiry",
            plain.name
        );
        assert_eq!(
            fx.inspector
                .stored_verification_token("old@example.com", "old-link")
                .await
                .unwrap(),
            None,
            "[{}] the clear email link outlived its expiry",
            plain.name
        );
        fx.inspector.teardown().await.unwrap();
    }
}
