#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use chrono::Utc;

use super::*;
use crate::memory::MemoryAdapter;
use crate::{
    Account, AccountType, Adapter, AdapterResult, ErrorCode, ErrorKind, Operation, Session,
    SessionUpdate, User, VerificationToken,
};

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

fn ring(id: &str, byte: u8) -> KeyRing {
    KeyRing::new(id, [byte; 32]).unwrap()
}

fn account(pai: &str) -> Account {
    let mut a = Account::new("u1", AccountType::Oidc, "github", pai);
    a.access_token = Some(format!("access-{pai}"));
    a.refresh_token = Some(format!("refresh-{pai}"));
    a.id_token = Some(format!("id-{pai}"));
    a
}

/// A memory adapter with user u1 and two sealed accounts, `a` and `b`.
async fn sealed_pair() -> (MemoryAdapter, EncryptedAccountTokens<MemoryAdapter>) {
    let raw = MemoryAdapter::new();
    let db = EncryptedAccountTokens::new(raw.clone(), ring("k1", 1));
    db.create_user(User::with_id("u1")).await.unwrap();
    db.link_account(account("a")).await.unwrap();
    db.link_account(account("b")).await.unwrap();
    (raw, db)
}

async fn overwrite(raw: &MemoryAdapter, pai: &str, edit: impl FnOnce(&mut Account)) {
    let mut stored = raw.get_account("github", pai).await.unwrap().unwrap();
    edit(&mut stored);
    raw.update_account(stored).await.unwrap();
}

fn assert_does_not_open(result: AdapterResult<Option<Account>>) {
    let err = result.unwrap_err();
    assert_eq!(err.code(), ErrorCode::AccountTokenDecryptionError, "{err}");
    assert_eq!(err.kind(), ErrorKind::Backend);
    assert_eq!(err.operation(), Operation::GetAccount);
}

#[test]
fn a_tampered_value_is_an_error_never_garbage() {
    block_on(async {
        let (raw, db) = sealed_pair().await;
        overwrite(&raw, "a", |a| {
            let value = a.access_token.as_mut().unwrap();
            // Flip one character of the ciphertext, keeping it valid base64url.
            let last = value.pop().unwrap();
            value.push(if last == 'A' { 'B' } else { 'A' });
        })
        .await;
        assert_does_not_open(db.get_account("github", "a").await);
        let err = db.list_accounts("u1").await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::AccountTokenDecryptionError);
    });
}

#[test]
fn a_cut_or_garbled_value_is_an_error() {
    block_on(async {
        let (raw, db) = sealed_pair().await;
        overwrite(&raw, "a", |a| {
            a.refresh_token = Some("enc:v1:k1:AAAA".into())
        })
        .await;
        assert_does_not_open(db.get_account("github", "a").await);
        overwrite(&raw, "a", |a| a.refresh_token = Some("enc:v1:k1:**".into())).await;
        assert_does_not_open(db.get_account("github", "a").await);
        overwrite(&raw, "a", |a| a.refresh_token = Some("enc:v1:k1".into())).await;
        assert_does_not_open(db.get_account("github", "a").await);
    });
}

#[test]
fn a_value_moved_to_another_account_or_field_does_not_open() {
    block_on(async {
        let (raw, db) = sealed_pair().await;
        let b = raw.get_account("github", "b").await.unwrap().unwrap();
        overwrite(&raw, "a", |a| a.access_token.clone_from(&b.access_token)).await;
        assert_does_not_open(db.get_account("github", "a").await);
        overwrite(&raw, "b", |x| x.access_token.clone_from(&b.refresh_token)).await;
        assert_does_not_open(db.get_account("github", "b").await);
    });
}

#[test]
fn strict_mode_refuses_a_clear_value_that_the_default_reads() {
    block_on(async {
        let (raw, db) = sealed_pair().await;
        overwrite(&raw, "a", |a| a.access_token = Some("planted".into())).await;
        let read = db.get_account("github", "a").await.unwrap().unwrap();
        assert_eq!(read.access_token.as_deref(), Some("planted"));

        let strict = db.clone().strict();
        assert!(strict.is_strict() && !db.is_strict());
        assert_does_not_open(strict.get_account("github", "a").await);
        let err = strict.list_accounts("u1").await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::AccountTokenDecryptionError);
        // The untouched account still opens, and rotation seals the clear value.
        assert!(strict.get_account("github", "b").await.unwrap().is_some());
        assert_eq!(strict.rotate_user("u1").await.unwrap(), 1);
        let read = strict.get_account("github", "a").await.unwrap().unwrap();
        assert_eq!(read.access_token.as_deref(), Some("planted"));
    });
}

#[test]
fn a_key_id_missing_from_the_ring_is_an_error() {
    block_on(async {
        let (raw, _) = sealed_pair().await;
        let other = EncryptedAccountTokens::new(raw.clone(), ring("k9", 9));
        let err = other.get_account("github", "a").await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::AccountTokenDecryptionError);
        assert!(err.to_string().contains("key id"), "{err}");
        // Same id, wrong key: authentication fails.
        let wrong = EncryptedAccountTokens::new(raw, ring("k1", 2));
        assert_does_not_open(wrong.get_account("github", "a").await);
    });
}

#[test]
fn old_keys_open_new_writes_use_the_current_key() {
    block_on(async {
        let (raw, _) = sealed_pair().await;
        let keys = ring("k2", 2).with_old_key("k1", [1; 32]).unwrap();
        let db = EncryptedAccountTokens::new(raw.clone(), keys);
        assert_eq!(
            db.get_account("github", "a").await.unwrap(),
            Some(account("a"))
        );
        let mut c = account("c");
        c.user_id = "u1".into();
        db.link_account(c.clone()).await.unwrap();
        let stored = raw.get_account("github", "c").await.unwrap().unwrap();
        assert!(stored.id_token.unwrap().starts_with("enc:v1:k2:"));
        assert_eq!(db.rotate_users(["u1", "nobody"]).await.unwrap(), 2);
        assert_eq!(db.rotate_user("u1").await.unwrap(), 0);
        let mut listed = db.list_accounts("u1").await.unwrap();
        listed.sort_by(|x, y| x.provider_account_id.cmp(&y.provider_account_id));
        assert_eq!(listed, vec![account("a"), account("b"), c]);
    });
}

#[test]
fn key_ring_rules_and_redaction() {
    assert_eq!(
        KeyRing::new("", [0; 32]).unwrap_err(),
        KeyRingError::BadKeyId(String::new())
    );
    assert!(KeyRing::new("a:b", [0; 32]).is_err());
    assert!(KeyRing::new(&"k".repeat(33), [0; 32]).is_err());
    assert_eq!(
        ring("k1", 1).with_old_key("k1", [2; 32]).unwrap_err(),
        KeyRingError::DuplicateKeyId("k1".into())
    );
    assert_eq!(
        KeyRing::decode_key("short").unwrap_err(),
        KeyRingError::BadKey
    );
    let key = KeyRing::generate_key();
    assert_eq!(
        *KeyRing::decode_key(&KeyRing::encode_key(&key)).unwrap(),
        *key
    );
    assert_ne!(*key, *KeyRing::generate_key());

    let db = HashedTokens::new(EncryptedAccountTokens::new(
        MemoryAdapter::new(),
        ring("k1", 0xAB),
    ));
    let printed = format!("{db:?} {db:#?}");
    assert!(printed.contains("k1"), "{printed}");
    assert!(
        !printed.contains("171") && !printed.to_lowercase().contains("abab"),
        "{printed}"
    );
}

#[test]
fn hashed_tokens_answer_bad_input_as_the_plain_adapter_does() {
    block_on(async {
        let plain = MemoryAdapter::new();
        let db = HashedTokens::new(plain.clone());
        for (i, target) in [&db as &dyn Adapter, &plain as &dyn Adapter]
            .into_iter()
            .enumerate()
        {
            let user = User::with_id(format!("u-{i}"));
            target.create_user(user.clone()).await.unwrap();
            let far = Utc::now() + chrono::Duration::days(1);
            for bad in ["", "a\0b", &"x".repeat(256)] {
                let err = target
                    .create_session(Session::with_token(bad, &user.id, far))
                    .await
                    .unwrap_err();
                assert_eq!(err.kind(), ErrorKind::InvalidInput);
                assert_eq!(err.code(), ErrorCode::CreateSessionError);
                assert_eq!(target.get_session_and_user(bad).await.unwrap(), None);
                let err = target
                    .create_verification_token(VerificationToken::new("a@b", bad, far))
                    .await
                    .unwrap_err();
                assert_eq!(err.kind(), ErrorKind::InvalidInput);
            }
            // A 255-byte token is at the cap: stored, found.
            let at_cap = "t".repeat(255);
            target
                .create_session(Session::with_token(&at_cap, &user.id, far))
                .await
                .unwrap();
            assert!(target
                .get_session_and_user(&at_cap)
                .await
                .unwrap()
                .is_some());
        }
    });
}

#[test]
fn both_orders_round_trip_and_store_no_clear_token() {
    block_on(async {
        let raw_a = MemoryAdapter::new();
        let raw_b = MemoryAdapter::new();
        let a: Arc<dyn Adapter> = Arc::new(HashedTokens::new(EncryptedAccountTokens::new(
            raw_a.clone(),
            ring("k1", 1),
        )));
        let b: Arc<dyn Adapter> = Arc::new(EncryptedAccountTokens::new(
            HashedTokens::new(raw_b.clone()),
            ring("k1", 1),
        ));
        for (db, raw) in [(a, raw_a), (b, raw_b)] {
            db.create_user(User::with_id("u1")).await.unwrap();
            let session = Session::new("u1", chrono::Duration::days(1));
            assert_eq!(db.create_session(session.clone()).await.unwrap(), session);
            let (found, _) = db
                .get_session_and_user(&session.session_token)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(found, session);
            let later = session.expires + chrono::Duration::hours(1);
            let update = SessionUpdate::new(&session.session_token).expires(later);
            let updated = db.update_session(update).await.unwrap().unwrap();
            assert_eq!(updated.session_token, session.session_token);
            let listed = db.list_sessions("u1").await.unwrap();
            assert_eq!(listed[0].session_token, token_hash(&session.session_token));
            assert_eq!(
                db.get_session_and_user(&listed[0].session_token)
                    .await
                    .unwrap(),
                None
            );

            let far = Utc::now() + chrono::Duration::hours(1);
            let vt = VerificationToken::new("a@example.com", "email-secret", far);
            assert_eq!(
                db.create_verification_token(vt.clone())
                    .await
                    .unwrap()
                    .token,
                vt.token
            );
            db.link_account(account("x")).await.unwrap();

            let snapshot = raw.snapshot();
            assert!(snapshot
                .sessions
                .contains_key(&token_hash(&session.session_token)));
            let stored = format!(
                "{} {}",
                serde_json::to_string(&snapshot.sessions.values().collect::<Vec<_>>()).unwrap(),
                serde_json::to_string(&snapshot.accounts.values().collect::<Vec<_>>()).unwrap()
            ) + &serde_json::to_string(
                &snapshot.verification_tokens.values().collect::<Vec<_>>(),
            )
            .unwrap();
            for secret in [
                session.session_token.as_str(),
                "email-secret",
                "access-x",
                "refresh-x",
                "id-x",
            ] {
                assert!(!stored.contains(secret), "{secret} stored in clear");
            }

            let used = db
                .use_verification_token("a@example.com", "email-secret")
                .await
                .unwrap()
                .unwrap();
            assert_eq!(used.token, "email-secret");
            let removed = db
                .delete_session(&session.session_token)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(removed.session_token, session.session_token);
            assert_eq!(
                db.unlink_account("github", "x").await.unwrap(),
                Some(account("x"))
            );
        }
    });
}

#[test]
fn token_like_extra_fields_are_sealed_and_the_rest_stays_clear() {
    block_on(async {
        let raw = MemoryAdapter::new();
        let db = EncryptedAccountTokens::new(raw.clone(), ring("k1", 1));
        db.create_user(User::with_id("u1")).await.unwrap();
        let mut clear = account("x");
        clear.extra = serde_json::json!({
            "oauth_token_secret": "tw-secret",
            "expires_in": 3599,
            "raw": {"access_token_hint": "nested stays clear"},
        })
        .as_object()
        .cloned()
        .unwrap();
        let linked = db.link_account(clear.clone()).await.unwrap();
        assert_eq!(linked.extra, clear.extra);
        let stored = raw.get_account("github", "x").await.unwrap().unwrap();
        let sealed = stored.extra["oauth_token_secret"].as_str().unwrap();
        assert!(sealed.starts_with("enc:v1:k1:"), "{sealed}");
        assert_eq!(stored.extra["expires_in"], 3599);
        assert_eq!(stored.extra["raw"], clear.extra["raw"]);
        assert_eq!(
            db.get_account("github", "x").await.unwrap(),
            Some(clear.clone())
        );
        assert_eq!(db.list_accounts("u1").await.unwrap(), vec![clear.clone()]);

        // Bound to its field: moved into another token-like name, it does not open.
        overwrite(&raw, "x", |a| {
            let value = a.extra["oauth_token_secret"].clone();
            a.extra.insert("oauth_token".into(), value);
        })
        .await;
        assert_does_not_open(db.get_account("github", "x").await);

        // Rotation reseals the extra field too.
        overwrite(&raw, "x", |a| {
            a.extra.remove("oauth_token");
        })
        .await;
        let rotated = EncryptedAccountTokens::new(
            raw.clone(),
            KeyRing::new("k2", [2; 32])
                .unwrap()
                .with_old_key("k1", [1; 32])
                .unwrap(),
        );
        assert_eq!(rotated.rotate_user("u1").await.unwrap(), 1);
        let stored = raw.get_account("github", "x").await.unwrap().unwrap();
        assert!(stored.extra["oauth_token_secret"]
            .as_str()
            .unwrap()
            .starts_with("enc:v1:k2:"));
        assert_eq!(
            rotated.get_account("github", "x").await.unwrap(),
            Some(clear)
        );
    });
}
