//! The issue's acceptance checks beyond the shared suite: the indexes `migrate()` creates
//! (and that a second `migrate()` is harmless), operator-looking strings stored and matched
//! as plain data, a half-done `delete_user` left invisible and finished by the next one, and
//! concurrent partial updates that do not overwrite each other; and for contract v2: expiry
//! to the millisecond in `change_session` and the exact counts, no orphan when `delete_user`
//! races with inserts, a closed port failing fast, `Debug` without the password.
//!
//! They need a server (AUTH_TEST_MONGO_URL); without one they say so and pass, unless
//! AUTH_CONFORMANCE_REQUIRE names `mongo`. Each test works in a fresh database and drops it.

#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

use adapter_conformance::harness::{env_url, is_required};
use adapter_mongo::conformance::{fresh_database, ENV_VAR};
use adapter_mongo::mongodb::bson::{doc, Bson, Document};
use adapter_mongo::mongodb::options::IndexOptions;
use adapter_mongo::mongodb::{Collection, IndexModel};
use adapter_mongo::MongoAdapter;
use auth_core::chrono::{Duration, Utc};
use auth_core::{
    Account, AccountType, Adapter, Authenticator, Session, User, UserUpdate, VerificationToken,
};
use futures::{FutureExt, TryStreamExt};
use std::future::Future;
use std::panic::AssertUnwindSafe;

async fn adapter() -> Option<MongoAdapter> {
    let Some(url) = env_url(ENV_VAR) else {
        assert!(
            !is_required("mongo"),
            "{ENV_VAR} is not set but mongo is required"
        );
        eprintln!("SKIPPED: {ENV_VAR} is not set");
        return None;
    };
    let adapter = MongoAdapter::builder(url)
        .database(fresh_database())
        .connect()
        .await
        .unwrap();
    adapter.migrate().await.unwrap();
    Some(adapter)
}

/// Runs `body` on an adapter over a fresh, migrated database and drops the database
/// afterwards, also when `body` panics.
async fn on_fresh_database<F, Fut>(body: F)
where
    F: FnOnce(MongoAdapter) -> Fut,
    Fut: Future<Output = ()>,
{
    let Some(adapter) = adapter().await else {
        return;
    };
    let db = adapter.database().clone();
    let outcome = AssertUnwindSafe(body(adapter)).catch_unwind().await;
    let dropped = db.drop().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
    dropped.unwrap();
}

fn raw(adapter: &MongoAdapter, collection: &str) -> Collection<Document> {
    adapter.database().collection::<Document>(collection)
}

async fn indexes(adapter: &MongoAdapter, collection: &str) -> Vec<IndexModel> {
    raw(adapter, collection)
        .list_indexes()
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap()
}

fn key_pattern(index: &IndexModel) -> String {
    let keys: Vec<String> = index.keys.iter().map(|(k, v)| format!("{k}:{v}")).collect();
    keys.join(",")
}

fn options(index: &IndexModel) -> IndexOptions {
    index.options.clone().unwrap_or_default()
}

/// What the server echoes back of index options, learnt from a scratch collection with a
/// known TTL index and a known partial index. MongoDB echoes both; a server that drops
/// them (the nx-27017 stand-in lists only keys, name and `unique`) cannot be checked for
/// them, and the test says so instead of passing silently.
async fn echoed_options(adapter: &MongoAdapter) -> (bool, bool) {
    let control = raw(adapter, "index_echo_control");
    control
        .create_indexes([
            IndexModel::builder()
                .keys(doc! { "t": 1 })
                .options(
                    IndexOptions::builder()
                        .expire_after(std::time::Duration::ZERO)
                        .build(),
                )
                .build(),
            IndexModel::builder()
                .keys(doc! { "p": 1 })
                .options(
                    IndexOptions::builder()
                        .unique(true)
                        .partial_filter_expression(doc! { "p": { "$type": "string" } })
                        .build(),
                )
                .build(),
        ])
        .await
        .unwrap();
    let listed = indexes(adapter, "index_echo_control").await;
    control.drop().await.unwrap();
    let ttl = listed.iter().any(|i| options(i).expire_after.is_some());
    let partial = listed
        .iter()
        .any(|i| options(i).partial_filter_expression.is_some());
    (ttl, partial)
}

#[tokio::test]
async fn migrate_creates_every_index_and_is_idempotent() {
    on_fresh_database(|adapter| async move {
        let names = adapter.collections().clone();
        // (collection, key pattern, unique, TTL, partial filter)
        let partial = doc! { "email_normalized": { "$type": "string" } };
        let expected: Vec<(&str, &str, bool, bool, Option<&Document>)> = vec![
            (
                &names.users,
                "email_normalized:1",
                true,
                false,
                Some(&partial),
            ),
            (
                &names.accounts,
                "provider:1,provider_account_id:1",
                true,
                false,
                None,
            ),
            (&names.accounts, "user_id:1", false, false, None),
            (&names.sessions, "session_token:1", true, false, None),
            (&names.sessions, "user_id:1", false, false, None),
            (&names.sessions, "expires_ms:1", false, false, None),
            (&names.sessions, "expires:1", false, true, None),
            (
                &names.verification_tokens,
                "identifier:1,token:1",
                true,
                false,
                None,
            ),
            (
                &names.verification_tokens,
                "expires_ms:1",
                false,
                false,
                None,
            ),
            (&names.verification_tokens, "expires:1", false, true, None),
            (&names.authenticators, "credential_id:1", true, false, None),
            (&names.authenticators, "user_id:1", false, false, None),
        ];
        let (echoes_ttl, echoes_partial) = echoed_options(&adapter).await;
        if !echoes_ttl || !echoes_partial {
            eprintln!(
                "NOTE: this server does not list expireAfterSeconds ({echoes_ttl}) or \
             partialFilterExpression ({echoes_partial}); those options are not checked here"
            );
        }

        let mut before = Vec::new();
        for (collection, keys, unique, ttl, partial) in &expected {
            let listed = indexes(&adapter, collection).await;
            let found = listed
                .iter()
                .find(|i| key_pattern(i) == *keys)
                .unwrap_or_else(|| {
                    panic!(
                        "{collection}: no index on {keys} in {:?}",
                        listed.iter().map(key_pattern).collect::<Vec<_>>()
                    )
                });
            let opts = options(found);
            assert_eq!(
                opts.unique.unwrap_or(false),
                *unique,
                "{collection} {keys}: unique"
            );
            if echoes_ttl {
                let expected_ttl = ttl.then_some(std::time::Duration::ZERO);
                assert_eq!(opts.expire_after, expected_ttl, "{collection} {keys}: TTL");
            }
            if echoes_partial {
                assert_eq!(
                    opts.partial_filter_expression.as_ref(),
                    *partial,
                    "{collection} {keys}: partial filter"
                );
            }
            before.push(listed.len());
        }

        // Data, then a second migrate: nothing lost, no index added or changed.
        let user = adapter
            .create_user(User::with_id("u1").with_email("A@example.com"))
            .await
            .unwrap();
        adapter
            .migrate()
            .await
            .expect("a second migrate is harmless");
        for ((collection, ..), count) in expected.iter().zip(&before) {
            assert_eq!(
                indexes(&adapter, collection).await.len(),
                *count,
                "{collection}: indexes after a second migrate"
            );
        }
        assert_eq!(adapter.get_user("u1").await.unwrap(), Some(user));

        // The email index: unique case-insensitively, and any number of users without one.
        let duplicate = adapter
            .create_user(User::with_id("u2").with_email("a@EXAMPLE.com"))
            .await
            .unwrap_err();
        assert_eq!(duplicate.kind(), auth_core::ErrorKind::Conflict);
        for id in ["anon-1", "anon-2", "anon-3"] {
            adapter.create_user(User::with_id(id)).await.unwrap();
        }
        let anonymous = raw(&adapter, &names.users)
            .find_one(doc! { "_id": "anon-1" })
            .await
            .unwrap()
            .unwrap();
        assert!(
            !anonymous.contains_key("email_normalized"),
            "a user without email has no email_normalized field: {anonymous}"
        );
    })
    .await;
}

const HOSTILE: &str = r#"{"$gt": ""}"#;
const NOT_NULL: &str = r#"{"$ne": null}"#;

#[tokio::test]
async fn operator_strings_are_plain_data() {
    on_fresh_database(|adapter| async move {
        let names = adapter.collections().clone();
        let plain = adapter
            .create_user(User::with_id("plain").with_email("plain@example.com"))
            .await
            .unwrap();
        let hostile = adapter
            .create_user(
                User::with_id("$where")
                    .with_email(HOSTILE)
                    .with_name(NOT_NULL),
            )
            .await
            .unwrap();

        // Stored as strings under our own field names, never as operators or keys.
        let stored = raw(&adapter, &names.users)
            .find_one(doc! { "_id": "$where" })
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.get("email"), Some(&Bson::String(HOSTILE.to_owned())));
        assert_eq!(
            stored.get("email_normalized"),
            Some(&Bson::String(auth_core::normalize_email(HOSTILE)))
        );
        assert_eq!(stored.get("name"), Some(&Bson::String(NOT_NULL.to_owned())));
        let mut keys: Vec<&str> = stored.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "_id",
                "email",
                "email_normalized",
                "email_verified",
                "image",
                "name"
            ]
        );

        // Matched as plain data: each finds exactly its own document, and an operator-looking
        // probe that would match everything as a query matches nothing.
        assert_eq!(
            adapter.get_user_by_email(HOSTILE).await.unwrap(),
            Some(hostile.clone())
        );
        assert_eq!(
            adapter.get_user("$where").await.unwrap(),
            Some(hostile.clone())
        );
        for probe in [NOT_NULL, r#"{"$regex": ".*"}"#, "this.email", "{}", "$gt"] {
            assert_eq!(
                adapter.get_user_by_email(probe).await.unwrap(),
                None,
                "{probe}"
            );
            assert_eq!(adapter.get_user(probe).await.unwrap(), None, "{probe}");
        }

        let account = Account::new(&plain.id, AccountType::OAuth, "$where", HOSTILE);
        adapter.link_account(account.clone()).await.unwrap();
        assert_eq!(
            adapter
                .get_user_by_account("$where", HOSTILE)
                .await
                .unwrap(),
            Some(plain.clone())
        );
        assert_eq!(adapter.get_account("$where", NOT_NULL).await.unwrap(), None);
        assert_eq!(adapter.get_account(NOT_NULL, HOSTILE).await.unwrap(), None);

        let expires = Utc::now() + Duration::days(1);
        adapter
            .create_session(Session::with_token(HOSTILE, &plain.id, expires))
            .await
            .unwrap();
        adapter
            .create_session(Session::with_token("$where", &hostile.id, expires))
            .await
            .unwrap();
        for (token, owner) in [(HOSTILE, &plain.id), ("$where", &hostile.id)] {
            let found = adapter.get_session_and_user(token).await.unwrap();
            assert_eq!(found.map(|(_, u)| u.id), Some(owner.clone()), "{token}");
        }
        assert_eq!(adapter.get_session_and_user(NOT_NULL).await.unwrap(), None);

        adapter
            .create_verification_token(VerificationToken::new(HOSTILE, "$where", expires))
            .await
            .unwrap();
        assert_eq!(
            adapter
                .use_verification_token(HOSTILE, NOT_NULL)
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            adapter
                .use_verification_token(NOT_NULL, "$where")
                .await
                .unwrap(),
            None
        );
        assert!(adapter
            .use_verification_token(HOSTILE, "$where")
            .await
            .unwrap()
            .is_some());

        // An update to an operator-looking email is data too, and moves the lookup.
        let moved = adapter
            .update_user(UserUpdate::new("plain").email(Some(NOT_NULL.to_owned())))
            .await
            .unwrap();
        assert_eq!(moved.email.as_deref(), Some(NOT_NULL));
        assert_eq!(
            adapter.get_user_by_email(NOT_NULL).await.unwrap(),
            Some(moved)
        );
        assert_eq!(
            adapter.get_user_by_email(HOSTILE).await.unwrap(),
            Some(hostile)
        );
    })
    .await;
}

#[tokio::test]
async fn a_half_done_delete_is_invisible_and_the_next_delete_finishes_it() {
    on_fresh_database(|adapter| async move {
        let names = adapter.collections().clone();
        let user = adapter
            .create_user(User::with_id("gone").with_email("gone@example.com"))
            .await
            .unwrap();
        let expires = Utc::now() + Duration::days(1);
        adapter
            .link_account(Account::new(&user.id, AccountType::Oidc, "github", "42"))
            .await
            .unwrap();
        adapter
            .create_session(Session::with_token("s-gone", &user.id, expires))
            .await
            .unwrap();
        adapter
            .create_authenticator(Authenticator {
                credential_id: "cred-gone".to_owned(),
                user_id: user.id.clone(),
                provider_account_id: "pa".to_owned(),
                credential_public_key: "pk".to_owned(),
                counter: 1,
                credential_device_type: "singleDevice".to_owned(),
                credential_backed_up: false,
                transports: None,
            })
            .await
            .unwrap();

        // delete_user's first write, and a failure right after it.
        raw(&adapter, &names.users)
            .delete_one(doc! { "_id": "gone" })
            .await
            .unwrap();

        assert_eq!(adapter.get_session_and_user("s-gone").await.unwrap(), None);
        assert_eq!(
            adapter.get_user_by_account("github", "42").await.unwrap(),
            None
        );
        assert_eq!(adapter.get_account("github", "42").await.unwrap(), None);
        assert_eq!(adapter.get_authenticator("cred-gone").await.unwrap(), None);
        assert_eq!(adapter.list_sessions("gone").await.unwrap(), Vec::new());
        assert_eq!(
            adapter.list_authenticators("gone").await.unwrap(),
            Vec::new()
        );

        // The next delete_user of the id removes what was left.
        assert_eq!(adapter.delete_user("gone").await.unwrap(), None);
        for collection in [&names.accounts, &names.sessions, &names.authenticators] {
            let left = raw(&adapter, collection)
                .count_documents(doc! { "user_id": "gone" })
                .await
                .unwrap();
            assert_eq!(left, 0, "{collection} after the second delete_user");
        }
    })
    .await;
}

#[tokio::test]
async fn concurrent_updates_of_different_fields_all_land() {
    on_fresh_database(|adapter| async move {
        adapter
            .create_user(User::with_id("busy").with_email("busy@example.com"))
            .await
            .unwrap();
        adapter
            .create_session(Session::with_token(
                "s-busy",
                "busy",
                Utc::now() + Duration::days(1),
            ))
            .await
            .unwrap();
        let names: Vec<String> = (0..8).map(|i| format!("name-{i}")).collect();
        let images: Vec<String> = (0..8).map(|i| format!("image-{i}")).collect();
        let mut updates = Vec::new();
        for (name, image) in names.iter().zip(&images) {
            updates.push(adapter.update_user(UserUpdate::new("busy").name(Some(name.clone()))));
            updates.push(adapter.update_user(UserUpdate::new("busy").image(Some(image.clone()))));
        }
        for result in futures::future::join_all(updates).await {
            result.expect("every concurrent update succeeds");
        }
        let user = adapter.get_user("busy").await.unwrap().unwrap();
        // Neither kind of update overwrote the other's field with what it had read.
        assert!(
            user.name.as_ref().is_some_and(|n| names.contains(n)),
            "a name update was lost: {user:?}"
        );
        assert!(
            user.image.as_ref().is_some_and(|i| images.contains(i)),
            "an image update was lost: {user:?}"
        );
        assert_eq!(user.email.as_deref(), Some("busy@example.com"));
    })
    .await;
}

// ---------------------------------------------------------------------------------------
// Contract v2: what the store owes the policy layer, checked with explicit `now` values a
// few hundred milliseconds from each expiry (the stand-in compares dates only to the
// second; these pass only if no query relies on that).

fn at(millis: i64) -> auth_core::chrono::DateTime<Utc> {
    auth_core::chrono::DateTime::from_timestamp_millis(millis).unwrap()
}

/// 2030-01-01T12:00:00.500Z: far enough ahead that no TTL monitor touches it.
const T: i64 = 1_893_499_200_500;

#[tokio::test]
async fn change_session_applies_only_to_a_live_session_to_the_millisecond() {
    use auth_core::{SessionUpdate, Store};
    on_fresh_database(|adapter| async move {
        adapter.create_user(User::with_id("u")).await.unwrap();
        adapter.create_user(User::with_id("v")).await.unwrap();
        adapter
            .create_session(Session::with_token("s", "u", at(T)))
            .await
            .unwrap();
        let later = SessionUpdate::new("s").expires(at(T + 86_400_000));

        // Expired 100 ms ago, or exactly now: not changed, not revived.
        for now in [T + 100, T] {
            assert_eq!(
                Store::change_session(&adapter, &later, at(now))
                    .await
                    .unwrap(),
                None,
                "now = T + {}",
                now - T
            );
        }
        let stored = Store::find_sessions(&adapter, "u", at(T - 1))
            .await
            .unwrap();
        assert_eq!(stored[0].expires, at(T), "an expired session was changed");

        // Live for another 100 ms: changed, and moved to another user.
        let moved = SessionUpdate::new("s").user_id("v");
        let changed = Store::change_session(&adapter, &moved, at(T - 100))
            .await
            .unwrap()
            .unwrap();
        assert_eq!((changed.user_id.as_str(), changed.expires), ("v", at(T)));
        assert!(Store::find_sessions(&adapter, "u", at(T - 100))
            .await
            .unwrap()
            .is_empty());

        // Moving to a user that does not exist: NotFound, and nothing changed.
        let nowhere = SessionUpdate::new("s").user_id("nobody");
        let err = Store::change_session(&adapter, &nowhere, at(T - 100))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), auth_core::ErrorKind::NotFound);
        let still = Store::find_sessions(&adapter, "v", at(T - 100))
            .await
            .unwrap();
        assert_eq!(still, vec![changed]);
    })
    .await;
}

#[tokio::test]
async fn counts_are_exact_to_the_millisecond() {
    use auth_core::Store;
    on_fresh_database(|adapter| async move {
        adapter.create_user(User::with_id("u")).await.unwrap();
        // Expired 300 ms before T, expiring exactly at T, live 300 ms and a day after T.
        for (token, expires) in [
            ("gone", T - 300),
            ("edge", T),
            ("soon", T + 300),
            ("day", T + 86_400_000),
        ] {
            adapter
                .create_session(Session::with_token(token, "u", at(expires)))
                .await
                .unwrap();
            adapter
                .create_verification_token(VerificationToken::new("mail", token, at(expires)))
                .await
                .unwrap();
        }
        let names = adapter.collections().clone();
        let count = |collection: String| {
            let raw = raw(&adapter, &collection);
            async move { raw.count_documents(doc! {}).await.unwrap() }
        };

        // Sign out everywhere at T: the two live sessions, counted exactly; the expired ones
        // are left to the sweep.
        assert_eq!(
            Store::remove_sessions(&adapter, "u", at(T)).await.unwrap(),
            2
        );
        assert_eq!(count(names.sessions.clone()).await, 2);

        // The sweep at T: "gone" and "edge" (expires <= now), not "soon" or "day".
        let swept = Store::remove_expired(&adapter, at(T)).await.unwrap();
        assert_eq!((swept.sessions, swept.verification_tokens), (2, 2));
        assert_eq!(count(names.sessions.clone()).await, 0);
        let left: Vec<String> = raw(&adapter, &names.verification_tokens)
            .find(doc! {})
            .await
            .unwrap()
            .try_collect::<Vec<Document>>()
            .await
            .unwrap()
            .iter()
            .map(|d| d.get_str("token").unwrap().to_owned())
            .collect();
        let mut left = left;
        left.sort();
        assert_eq!(left, ["day", "soon"]);
        // Nothing left to sweep: zero, not an estimate.
        let again = Store::remove_expired(&adapter, at(T)).await.unwrap();
        assert_eq!((again.sessions, again.verification_tokens), (0, 0));
    })
    .await;
}

#[tokio::test]
async fn delete_user_racing_with_inserts_leaves_no_orphan() {
    use futures::future::{join_all, BoxFuture};
    /// Of each kind, this many inserts race with one delete per trial: with more requests in
    /// flight, some land between the delete's two steps in almost every trial.
    const EACH: usize = 4;
    on_fresh_database(|adapter| async move {
        let names = adapter.collections().clone();
        let expires = Utc::now() + Duration::days(1);
        for trial in 0..50u64 {
            let user = format!("racer-{trial}");
            adapter.create_user(User::with_id(&user)).await.unwrap();
            let mut inserts: Vec<BoxFuture<'_, auth_core::AdapterResult<()>>> = Vec::new();
            for i in 0..EACH {
                let key = format!("{trial}-{i}");
                let account =
                    Account::new(&user, AccountType::OAuth, "github", format!("gh-{key}"));
                let session = Session::with_token(format!("race-{key}"), &user, expires);
                let credential = Authenticator {
                    credential_id: format!("cred-{key}"),
                    user_id: user.clone(),
                    provider_account_id: format!("gh-{key}"),
                    credential_public_key: "pk".to_owned(),
                    counter: 0,
                    credential_device_type: "singleDevice".to_owned(),
                    credential_backed_up: false,
                    transports: None,
                };
                let adapter = &adapter;
                inserts.push(Box::pin(async move {
                    adapter.link_account(account).await.map(drop)
                }));
                inserts.push(Box::pin(async move {
                    adapter.create_session(session).await.map(drop)
                }));
                inserts.push(Box::pin(async move {
                    adapter.create_authenticator(credential).await.map(drop)
                }));
            }
            // 50 distinct delays, 0 to 3 ms in steps of 60 µs, in a scrambled order, so the
            // delete lands before, among and after the inserts' steps across the trials.
            let delay = std::time::Duration::from_micros((trial * 31 % 50) * 60);
            let (deleted, results) = tokio::join!(
                async {
                    tokio::time::sleep(delay).await;
                    adapter.delete_user(&user).await
                },
                join_all(inserts),
            );
            deleted.unwrap();
            for result in results {
                if let Err(e) = result {
                    assert_eq!(e.kind(), auth_core::ErrorKind::NotFound, "{e}");
                }
            }
            for collection in [&names.accounts, &names.sessions, &names.authenticators] {
                let orphans = raw(&adapter, collection)
                    .count_documents(doc! { "user_id": &user })
                    .await
                    .unwrap();
                assert_eq!(orphans, 0, "trial {trial}: orphan in {collection}");
            }
            // The provider accounts are free for a new user.
            let heir = format!("heir-{trial}");
            adapter.create_user(User::with_id(&heir)).await.unwrap();
            for i in 0..EACH {
                let account = Account::new(
                    &heir,
                    AccountType::OAuth,
                    "github",
                    format!("gh-{trial}-{i}"),
                );
                adapter.link_account(account).await.unwrap();
            }
        }
    })
    .await;
}

#[tokio::test]
async fn an_insert_for_an_unknown_user_is_not_found_and_leaves_nothing() {
    on_fresh_database(|adapter| async move {
        let names = adapter.collections().clone();
        adapter.create_user(User::with_id("owner")).await.unwrap();
        adapter
            .link_account(Account::new("owner", AccountType::OAuth, "github", "1"))
            .await
            .unwrap();
        // A taken key for a user that does not exist: NotFound first, as the contract orders.
        let err = adapter
            .link_account(Account::new("ghost", AccountType::OAuth, "github", "1"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), auth_core::ErrorKind::NotFound);
        let err = adapter
            .link_account(Account::new("ghost", AccountType::OAuth, "github", "2"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), auth_core::ErrorKind::NotFound);
        let err = adapter
            .create_session(Session::with_token(
                "ghost-session",
                "ghost",
                Utc::now() + Duration::days(1),
            ))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), auth_core::ErrorKind::NotFound);
        for collection in [&names.accounts, &names.sessions] {
            let left = raw(&adapter, collection)
                .count_documents(doc! { "user_id": "ghost" })
                .await
                .unwrap();
            assert_eq!(left, 0, "{collection}");
        }
        // The duplicate key of a known user is a Conflict whose text names no key.
        adapter
            .create_session(Session::with_token(
                "tok-secret-1",
                "owner",
                Utc::now() + Duration::days(1),
            ))
            .await
            .unwrap();
        let err = adapter
            .create_session(Session::with_token(
                "tok-secret-1",
                "owner",
                Utc::now() + Duration::days(1),
            ))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), auth_core::ErrorKind::Conflict);
        let mut texts = vec![err.to_string(), format!("{err:?}")];
        let mut source = std::error::Error::source(&err);
        while let Some(cause) = source {
            texts.push(cause.to_string());
            source = cause.source();
        }
        for text in texts {
            assert!(!text.contains("tok-secret-1"), "{text}");
        }
    })
    .await;
}

/// Needs no server: a closed port fails within 5 s with the default options, and says why.
#[tokio::test]
async fn a_closed_port_fails_fast_with_the_cause() {
    let port = adapter_conformance::harness::dead_port();
    let started = std::time::Instant::now();
    let err = MongoAdapter::connect(&format!("mongodb://app:hunter2@127.0.0.1:{port}/x"))
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert!(took < std::time::Duration::from_secs(5), "took {took:?}");
    assert_eq!(err.code(), auth_core::ErrorCode::AdapterConnectionError);
    let cause = std::error::Error::source(&err).unwrap().to_string();
    assert!(cause.to_lowercase().contains("refused"), "{cause}");
    assert!(!format!("{err:?}").contains("hunter2"), "{err:?}");
}

/// Needs no server: neither Debug shows the password.
#[tokio::test]
async fn debug_shows_no_password() {
    let url = "mongodb://app:hunter2@127.0.0.1:1/x";
    let builder = MongoAdapter::builder(url).collection_prefix("p_");
    assert!(!format!("{builder:?}").contains("hunter2"));
    let client = adapter_mongo::mongodb::Client::with_uri_str(url)
        .await
        .unwrap();
    let builder = MongoAdapter::from_pool(client.clone()).database("x");
    assert!(!format!("{builder:?}").contains("hunter2"));
    let adapter = builder.connect().await.unwrap();
    let shown = format!("{adapter:?}");
    assert!(
        shown.contains("\"x\"") && !shown.contains("hunter2"),
        "{shown}"
    );
    // Bad options are reported by connect, not by the setters.
    let err = MongoAdapter::builder(url)
        .collection_prefix("bad.prefix")
        .connect()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), auth_core::ErrorKind::InvalidInput);
    let err = MongoAdapter::from_pool(client)
        .database("a.b")
        .connect()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), auth_core::ErrorKind::InvalidInput);
}

/// A client whose server would never answer: a non-routed private address. Creating it
/// does no I/O (its monitors start in the background).
async fn blackhole_client() -> adapter_mongo::mongodb::Client {
    adapter_mongo::mongodb::Client::with_uri_str(BLACKHOLE)
        .await
        .unwrap()
}

/// A deployment where a connection attempt would hang: a check that dialled it would
/// take the whole call timeout, not milliseconds.
const BLACKHOLE: &str = "mongodb://10.255.255.1:27017/x";

/// The error's message and each cause of its chain, in order.
fn texts(err: &auth_core::AdapterError) -> Vec<String> {
    let mut texts = vec![err.to_string()];
    let mut next = std::error::Error::source(err);
    while let Some(cause) = next {
        texts.push(cause.to_string());
        next = cause.source();
    }
    texts
}

/// Needs no server: bad configuration is `InvalidInput` with the code of `connect`,
/// reported by `connect` before any I/O (in milliseconds, though every target would
/// hang), with the driver's message, where there is one, once in the chain and not
/// repeated in the message.
#[tokio::test]
async fn bad_configuration_is_invalid_input_before_any_io() {
    use adapter_mongo::{AuthJsCollections, Layout, MongoAdapterBuilder};
    use auth_core::{ErrorCode, ErrorKind, Operation};
    use std::time::{Duration as Wait, Instant};
    let b = MongoAdapter::builder;
    let adopted = blackhole_client().await;
    let cases: Vec<(&str, MongoAdapterBuilder, Option<&str>)> = vec![
        (
            "a port out of range",
            b("mongodb://app:hunter2@10.255.255.1:99999"),
            Some("port"),
        ),
        (
            "a port that is not a number",
            b("mongodb://10.255.255.1:port"),
            Some("port"),
        ),
        (
            "a scheme that is not MongoDB",
            b("http://10.255.255.1:27017"),
            Some("scheme"),
        ),
        (
            "an unknown option value",
            b("mongodb://10.255.255.1/?maxPoolSize=many"),
            Some("maxPoolSize"),
        ),
        (
            "a bad boolean option",
            b("mongodb://10.255.255.1/?tls=perhaps"),
            Some("tls"),
        ),
        (
            "an option the driver refuses",
            b("mongodb://10.255.255.1/?socketTimeoutMS=10"),
            Some("socketTimeoutMS"),
        ),
        (
            "a port with mongodb+srv",
            b("mongodb+srv://cluster.example.invalid:27017"),
            Some("port"),
        ),
        (
            "a database name in the URL",
            b("mongodb://10.255.255.1/a.b"),
            None,
        ),
        ("a database name", b(BLACKHOLE).database("a b"), None),
        (
            "a collection prefix",
            b(BLACKHOLE).collection_prefix("bad.prefix"),
            None,
        ),
        (
            "a collection prefix with the Auth.js layout",
            b(BLACKHOLE)
                .collection_prefix("app_")
                .layout(Layout::AuthJs(AuthJsCollections::default())),
            None,
        ),
        (
            "Auth.js collection names that collide",
            b(BLACKHOLE).layout(Layout::AuthJs(
                AuthJsCollections::default().accounts("users"),
            )),
            None,
        ),
        (
            "a zero call timeout",
            b(BLACKHOLE).call_timeout(Wait::ZERO),
            None,
        ),
        ("a zero pool size", b(BLACKHOLE).max_connections(0), None),
        (
            "a pool size for an adopted client",
            MongoAdapter::from_pool(adopted.clone()).max_connections(5),
            None,
        ),
        (
            "a database name for an adopted client",
            MongoAdapter::from_pool(adopted.clone()).database("a/b"),
            None,
        ),
        (
            "a collection prefix with the Auth.js layout on an adopted client",
            MongoAdapter::from_pool(adopted.clone())
                .collection_prefix("")
                .layout(Layout::AuthJs(AuthJsCollections::default())),
            None,
        ),
    ];
    for (what, builder, driver) in cases {
        let at = Instant::now();
        let err = builder.connect().await.expect_err(what);
        let took = at.elapsed();
        assert!(took < Wait::from_millis(500), "{what}: took {took:?}");
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{what}: {err:?}");
        assert_eq!(err.code(), ErrorCode::AdapterConnectionError, "{what}");
        assert_eq!(err.operation(), Operation::Connect, "{what}");
        let texts = texts(&err);
        for (i, a) in texts.iter().enumerate() {
            for b in &texts[i + 1..] {
                assert!(!a.contains(b.as_str()), "{what}: a text repeats: {texts:?}");
            }
        }
        if let Some(driver) = driver {
            assert_eq!(texts.len(), 2, "{what}: no single cause: {texts:?}");
            assert!(
                texts[1].to_lowercase().contains(&driver.to_lowercase()),
                "{what}: {texts:?}"
            );
        }
        assert!(
            !texts.iter().any(|t| t.contains("labels")),
            "{what}: {texts:?}"
        );
        assert!(!format!("{err:?}").contains("hunter2"), "{what}: {err:?}");
        eprintln!("{what}: {err:?} in {took:?}");
    }
}

/// Needs no server: a client passed to `from_pool` takes every option that is not about
/// its pool; `connect` does no I/O, and the call timeout bounds its calls.
#[tokio::test]
async fn an_adopted_client_takes_the_options_and_the_call_timeout() {
    use std::time::{Duration as Wait, Instant};
    let limit = Wait::from_millis(300);
    let at = Instant::now();
    let adapter = MongoAdapter::from_pool(blackhole_client().await)
        .collection_prefix("p_")
        .call_timeout(limit)
        .connect()
        .await
        .unwrap();
    assert!(at.elapsed() < Wait::from_millis(500), "connect did I/O");
    assert_eq!(
        adapter.database().name(),
        "x",
        "the client's default database"
    );
    assert_eq!(adapter.collections().users, "p_users");
    assert_eq!(adapter.call_timeout(), limit);
    let at = Instant::now();
    let err = adapter.get_user("u").await.unwrap_err();
    let took = at.elapsed();
    assert!(took < limit + Wait::from_millis(500), "took {took:?}");
    assert_eq!(
        err.code(),
        auth_core::ErrorCode::AdapterConnectionError,
        "{err:?}"
    );
    assert_eq!(err.kind(), auth_core::ErrorKind::Connection);
}

#[tokio::test]
async fn calls_after_close_fail_in_bounded_time() {
    let Some(adapter) = adapter().await else {
        return;
    };
    let db = adapter.database().clone();
    let other = adapter.clone();
    other
        .create_user(User::with_id("before-close"))
        .await
        .unwrap();
    db.drop().await.unwrap();
    adapter.close().await;
    let started = std::time::Instant::now();
    let err = other.get_user("before-close").await.unwrap_err();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "{err}"
    );
    assert_eq!(
        err.code(),
        auth_core::ErrorCode::AdapterConnectionError,
        "{err}"
    );
}

/// BSON with no JSON equivalent, written into a user's `extra` by another program, reads
/// as relaxed Extended JSON (never an error), and a merge of another field keeps it as it
/// was stored, BSON type included.
#[tokio::test]
async fn foreign_bson_in_extra_fields_reads_as_extended_json_and_survives_a_merge() {
    on_fresh_database(|adapter| async move {
        use adapter_mongo::mongodb::bson::{oid::ObjectId, DateTime};
        let user = adapter
            .create_user(User::with_id("foreign").with_email("f@example.com"))
            .await
            .unwrap();
        let when = DateTime::from_millis(1_700_000_000_123);
        let oid = ObjectId::parse_str("65a1f0c2e4b0a1b2c3d4e5f6").unwrap();
        // A whole replacement: the stand-in CI uses stores a date `$set` as text, and
        // cannot store a Decimal128 at all (the unit tests of `extra` cover that type).
        let users = raw(&adapter, "users");
        let mut stored = users
            .find_one(doc! { "_id": "foreign" })
            .await
            .unwrap()
            .unwrap();
        stored.insert("extra", doc! { "when": when, "oid": oid, "n": 5_i32 });
        users
            .replace_one(doc! { "_id": "foreign" }, stored)
            .await
            .unwrap();
        let read = adapter.get_user(&user.id).await.unwrap().unwrap();
        assert_eq!(
            serde_json::Value::Object(read.extra),
            serde_json::json!({
                "when": {"$date": "2023-11-14T22:13:20.123Z"},
                "oid": {"$oid": "65a1f0c2e4b0a1b2c3d4e5f6"},
                "n": 5,
            })
        );
        let merged = adapter
            .update_user(
                UserUpdate::new(&user.id)
                    .merge_extra(&serde_json::json!({"role": "admin", "n": null}))
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(merged.extra["role"], "admin");
        assert!(!merged.extra.contains_key("n"));
        let stored = raw(&adapter, "users")
            .find_one(doc! { "_id": "foreign" })
            .await
            .unwrap()
            .unwrap();
        let extra = stored.get_document("extra").unwrap();
        assert_eq!(extra.get("oid"), Some(&Bson::ObjectId(oid)));
        assert!(
            matches!(extra.get("when"), Some(Bson::DateTime(_))),
            "{extra:?}"
        );
        assert_eq!(extra.get("role"), Some(&Bson::String("admin".into())));
        assert!(!extra.contains_key("n"));
    })
    .await;
}

/// Records whose data is equal (the same extra object) stay separate records: a change of
/// one lands on it alone. On the stand-in server a filter keyed by one session's token with
/// a top-level `$expr` beside it matched every session with equal data, and the change of
/// the second of two such sessions failed as a duplicate token (or, where no unique key
/// stood in the way, overwrote the other record).
#[tokio::test]
async fn a_change_lands_only_on_its_record_when_others_hold_equal_data() {
    on_fresh_database(|db| async move {
        let same = serde_json::json!({"cart": {"items": [1, 2]}});
        let user = db
            .create_user(
                User::new()
                    .with_email("a@example.com")
                    .with_extra(&same)
                    .unwrap(),
            )
            .await
            .unwrap();
        let twin = db
            .create_user(
                User::new()
                    .with_email("b@example.com")
                    .with_extra(&same)
                    .unwrap(),
            )
            .await
            .unwrap();
        let expires = Utc::now() + Duration::hours(1);
        for token in ["first", "second"] {
            db.create_session(
                Session::with_token(token, &user.id, expires)
                    .with_extra(&same)
                    .unwrap(),
            )
            .await
            .unwrap();
        }
        for provider in ["github", "gitlab"] {
            db.link_account(
                Account::new(&user.id, AccountType::OAuth, provider, "1")
                    .with_extra(&same)
                    .unwrap(),
            )
            .await
            .unwrap();
        }
        let changed = serde_json::json!({"cart": {"items": [3]}});
        let session = db
            .update_session(
                auth_core::SessionUpdate::new("second")
                    .merge_extra(&changed)
                    .unwrap(),
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(session.session_token, "second");
        let user_after = db
            .update_user(
                UserUpdate::new(twin.id.clone())
                    .merge_extra(&changed)
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(user_after.id, twin.id);
        let mut gitlab = Account::new(&user.id, AccountType::OAuth, "gitlab", "1")
            .with_extra(&changed)
            .unwrap();
        gitlab.access_token = Some("new".into());
        db.update_account(gitlab).await.unwrap().unwrap();
        let extra_of_session = |token: &'static str| {
            let db = &db;
            async move {
                db.get_session_and_user(token)
                    .await
                    .unwrap()
                    .unwrap()
                    .0
                    .extra
            }
        };
        assert_eq!(
            Some(&same["cart"]),
            extra_of_session("first").await.get("cart")
        );
        assert_eq!(
            Some(&changed["cart"]),
            extra_of_session("second").await.get("cart")
        );
        assert_eq!(
            Some(&same["cart"]),
            db.get_user(&user.id)
                .await
                .unwrap()
                .unwrap()
                .extra
                .get("cart")
        );
        assert_eq!(
            Some(&changed["cart"]),
            db.get_user(&twin.id)
                .await
                .unwrap()
                .unwrap()
                .extra
                .get("cart")
        );
        let github = db.get_account("github", "1").await.unwrap().unwrap();
        assert_eq!(
            (github.access_token, github.extra.get("cart")),
            (None, Some(&same["cart"]))
        );
        let gitlab = db.get_account("gitlab", "1").await.unwrap().unwrap();
        assert_eq!(gitlab.access_token.as_deref(), Some("new"));
    })
    .await;
}
