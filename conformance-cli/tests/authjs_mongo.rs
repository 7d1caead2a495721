//! Cross-language proof of the Auth.js layout: the real `@auth/mongodb-adapter`, run by
//! Node through `compat/authjs/driver.mjs`, and this crate's `Layout::AuthJs` on the same
//! database. Records Node writes are read by Rust, records Rust writes are read by Node, a
//! verification token made by one is used exactly once by the other (also when both take it
//! at the same moment), `delete_user` by
//! either leaves nothing the other can read, and the app's extra fields (top-level fields
//! beside Auth.js's own, as `@auth/mongodb-adapter` keeps the whole object) written by one
//! are read exactly by the other.
//!
//! They need a server (AUTH_TEST_MONGO_URL) and the Node packages (`npm ci` in
//! `compat/authjs`); without them they print a SKIPPED line and pass, unless
//! AUTH_CONFORMANCE_REQUIRE is set (then they fail). Each test works in a fresh database
//! and drops it.

#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

use std::future::Future;
use std::panic::AssertUnwindSafe;

use adapter_mongo::mongodb::bson::{doc, Bson, Document};
use adapter_mongo::{AuthJsCollections, Layout, MongoAdapter};
use auth_core::chrono::{Duration, DurationRound, Utc};
use auth_core::{
    Account, AccountType, Adapter, Extra, Session, User, UserUpdate, VerificationToken,
};
use conformance_cli::authjs::{server_or_skip, AuthJs};
use conformance_cli::backends::mongo::{fresh_database, ENV_VAR};
use futures::FutureExt;
use serde_json::{json, Value};

/// Runs `body` with this crate's adapter (Auth.js layout) and the Node adapter on one
/// fresh database, and drops the database afterwards, also when `body` panics.
async fn on_shared_database<F, Fut>(test: &str, body: F)
where
    F: FnOnce(MongoAdapter, AuthJs) -> Fut,
    Fut: Future<Output = AuthJs>,
{
    let Some(url) = server_or_skip(test, ENV_VAR) else {
        return;
    };
    let database = fresh_database();
    let rust = MongoAdapter::builder(url.as_str())
        .database(database.as_str())
        .layout(Layout::AuthJs(AuthJsCollections::default()))
        .connect()
        .await
        .unwrap();
    // The indexes first, as an app would run migrate() before serving.
    rust.migrate().await.unwrap();
    let node = AuthJs::open(json!({"layout": "mongodb", "url": url, "database": database}))
        .await
        .unwrap();
    let db = rust.database().clone();
    let outcome = AssertUnwindSafe(body(rust, node)).catch_unwind().await;
    let dropped = db.drop().await;
    match outcome {
        Ok(node) => node.close().await.unwrap(),
        Err(panic) => std::panic::resume_unwind(panic),
    }
    dropped.unwrap();
}

/// A date as both sides keep it: to the millisecond.
fn in_days(days: i64) -> auth_core::chrono::DateTime<Utc> {
    (Utc::now() + Duration::days(days))
        .duration_trunc(Duration::milliseconds(1))
        .unwrap()
}

fn github(user_id: &str, provider_account_id: &str) -> Account {
    let mut account = Account::new(user_id, AccountType::OAuth, "github", provider_account_id);
    account.access_token = Some("gho_access".to_owned());
    account.token_type = Some("bearer".to_owned());
    account.scope = Some("read:user,user:email".to_owned());
    account.expires_at = Some(1_900_000_000);
    account
}

#[tokio::test]
async fn records_node_writes_are_read_by_rust() {
    on_shared_database(
        "records_node_writes_are_read_by_rust",
        async |rust, mut node| {
            let user = node.create_user("ada@example.com").await.unwrap();
            assert_eq!(
                user.id.len(),
                24,
                "Auth.js exposes ObjectId hex: {}",
                user.id
            );
            node.link_account(&github(&user.id, "gh-node"))
                .await
                .unwrap();
            let session = Session::with_token("cookie-from-node", &user.id, in_days(30));
            node.create_session(&session).await.unwrap();

            // The session cookie Auth.js set authenticates the same browser here.
            let (found_session, found_user) = rust
                .get_session_and_user("cookie-from-node")
                .await
                .unwrap()
                .expect("Rust finds the session Node created");
            assert_eq!(found_session, session);
            assert_eq!(found_user, user);
            assert_eq!(
                rust.get_user_by_account("github", "gh-node").await.unwrap(),
                Some(user.clone())
            );
            assert_eq!(
                rust.get_user_by_email("ada@example.com").await.unwrap(),
                Some(user.clone())
            );
            assert_eq!(rust.get_user(&user.id).await.unwrap(), Some(user.clone()));
            let account = rust
                .get_account("github", "gh-node")
                .await
                .unwrap()
                .unwrap();
            assert_eq!(account, github(&user.id, "gh-node"));
            assert_eq!(rust.list_sessions(&user.id).await.unwrap(), vec![session]);
            node
        },
    )
    .await;
}

#[tokio::test]
async fn records_rust_writes_are_read_by_node() {
    on_shared_database(
        "records_rust_writes_are_read_by_node",
        async |rust, mut node| {
            // Our id is not 24 hex digits: the layout assigns an ObjectId, as Auth.js would.
            let user = rust
                .create_user(
                    User::with_id("from-rust")
                        .with_email("grace@example.com")
                        .with_name("Grace"),
                )
                .await
                .unwrap();
            assert_eq!(user.id.len(), 24, "the stored ObjectId as hex: {}", user.id);
            rust.link_account(github(&user.id, "gh-rust"))
                .await
                .unwrap();
            let session = rust
                .create_session(Session::with_token(
                    "cookie-from-rust",
                    &user.id,
                    in_days(30),
                ))
                .await
                .unwrap();

            let (node_session, node_user) = node
                .get_session_and_user("cookie-from-rust")
                .await
                .unwrap()
                .expect("Node finds the session Rust created");
            assert_eq!(node_session, session);
            assert_eq!(node_user, user);
            assert_eq!(
                node.get_user_by_account("github", "gh-rust").await.unwrap(),
                Some(user.clone())
            );
            assert_eq!(
                node.get_user_by_email("grace@example.com").await.unwrap(),
                Some(user.clone())
            );
            assert_eq!(node.get_user(&user.id).await.unwrap(), Some(user.clone()));

            // A 24-hex id Rust is given is kept, as Auth.js's `_id(hex)` keeps it.
            let hex = "65a1f0c2e4b0a1b2c3d4e5f6";
            let kept = rust.create_user(User::with_id(hex)).await.unwrap();
            assert_eq!(kept.id, hex);
            assert_eq!(node.get_user(hex).await.unwrap(), Some(kept));
            node
        },
    )
    .await;
}

#[tokio::test]
async fn a_verification_token_is_used_once_across_languages() {
    on_shared_database(
        "a_verification_token_is_used_once_across_languages",
        async |rust, mut node| {
            let from_node = VerificationToken::new("ada@example.com", "token-node", in_days(1));
            node.create_verification_token(&from_node).await.unwrap();
            assert_eq!(
                rust.use_verification_token("ada@example.com", "token-node")
                    .await
                    .unwrap(),
                Some(from_node)
            );
            assert_eq!(
                rust.use_verification_token("ada@example.com", "token-node")
                    .await
                    .unwrap(),
                None,
                "used twice from Rust"
            );
            assert_eq!(
                node.use_verification_token("ada@example.com", "token-node")
                    .await
                    .unwrap(),
                None,
                "used again from Node"
            );

            let from_rust = VerificationToken::new("grace@example.com", "token-rust", in_days(1));
            rust.create_verification_token(from_rust.clone())
                .await
                .unwrap();
            assert_eq!(
                node.use_verification_token("grace@example.com", "token-rust")
                    .await
                    .unwrap(),
                Some(from_rust)
            );
            assert_eq!(
                node.use_verification_token("grace@example.com", "token-rust")
                    .await
                    .unwrap(),
                None,
                "used twice from Node"
            );
            assert_eq!(
                rust.use_verification_token("grace@example.com", "token-rust")
                    .await
                    .unwrap(),
                None,
                "used again from Rust"
            );
            node
        },
    )
    .await;
}

#[tokio::test]
async fn node_and_rust_racing_for_a_token_have_one_winner() {
    on_shared_database(
        "node_and_rust_racing_for_a_token_have_one_winner",
        async |rust, mut node| {
            let mut wins = (0, 0);
            for i in 0..20 {
                let token =
                    VerificationToken::new("race@example.com", format!("t-{i}"), in_days(1));
                if i % 2 == 0 {
                    node.create_verification_token(&token).await.unwrap();
                } else {
                    rust.create_verification_token(token.clone()).await.unwrap();
                }
                // Both take it at once: one findOneAndDelete each, in two processes.
                let (by_node, by_rust) = tokio::join!(
                    node.use_verification_token(&token.identifier, &token.token),
                    rust.use_verification_token(&token.identifier, &token.token),
                );
                match (by_node.unwrap(), by_rust.unwrap()) {
                    (Some(used), None) => {
                        assert_eq!(used, token);
                        wins.0 += 1;
                    }
                    (None, Some(used)) => {
                        assert_eq!(used, token);
                        wins.1 += 1;
                    }
                    other => panic!("token {i}: expected one winner, got {other:?}"),
                }
            }
            eprintln!("wins (node, rust): {wins:?}");
            node
        },
    )
    .await;
}

/// Asserts that neither side can read the user, its account or its session.
async fn gone_for_both(
    rust: &MongoAdapter,
    node: &mut AuthJs,
    user: &User,
    provider_account_id: &str,
    cookie: &str,
) {
    let email = user.email.as_deref().unwrap();
    assert_eq!(rust.get_user(&user.id).await.unwrap(), None);
    assert_eq!(rust.get_user_by_email(email).await.unwrap(), None);
    assert_eq!(
        rust.get_user_by_account("github", provider_account_id)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        rust.get_account("github", provider_account_id)
            .await
            .unwrap(),
        None
    );
    assert_eq!(rust.get_session_and_user(cookie).await.unwrap(), None);
    assert!(rust.list_sessions(&user.id).await.unwrap().is_empty());
    assert!(rust.list_accounts(&user.id).await.unwrap().is_empty());
    assert_eq!(node.get_user(&user.id).await.unwrap(), None);
    assert_eq!(node.get_user_by_email(email).await.unwrap(), None);
    assert_eq!(
        node.get_user_by_account("github", provider_account_id)
            .await
            .unwrap(),
        None
    );
    assert_eq!(node.get_session_and_user(cookie).await.unwrap(), None);
}

#[tokio::test]
async fn delete_user_by_either_leaves_nothing_the_other_reads() {
    on_shared_database(
        "delete_user_by_either_leaves_nothing_the_other_reads",
        async |rust, mut node| {
            // Made by Node, deleted by Rust.
            let ada = node.create_user("ada@example.com").await.unwrap();
            node.link_account(&github(&ada.id, "gh-ada")).await.unwrap();
            node.create_session(&Session::with_token("cookie-ada", &ada.id, in_days(30)))
                .await
                .unwrap();
            assert_eq!(rust.delete_user(&ada.id).await.unwrap(), Some(ada.clone()));
            gone_for_both(&rust, &mut node, &ada, "gh-ada", "cookie-ada").await;

            // Made by Rust, deleted by Node.
            let grace = rust
                .create_user(User::with_id("grace").with_email("grace@example.com"))
                .await
                .unwrap();
            rust.link_account(github(&grace.id, "gh-grace"))
                .await
                .unwrap();
            rust.create_session(Session::with_token("cookie-grace", &grace.id, in_days(30)))
                .await
                .unwrap();
            node.delete_user(&grace.id).await.unwrap();
            gone_for_both(&rust, &mut node, &grace, "gh-grace", "cookie-grace").await;

            node
        },
    )
    .await;
}

/// The sorted field names of the one document of `collection` matching `filter`.
async fn fields(rust: &MongoAdapter, collection: &str, filter: Document) -> Vec<String> {
    let doc = rust
        .database()
        .collection::<Document>(collection)
        .find_one(filter)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no document in {collection}"));
    let mut keys: Vec<String> = doc.keys().cloned().collect();
    keys.sort();
    keys
}

#[tokio::test]
async fn documents_have_the_fields_auth_js_writes() {
    on_shared_database(
        "documents_have_the_fields_auth_js_writes",
        async |rust, mut node| {
            let from_node = node.create_user("ada@example.com").await.unwrap();
            let from_rust = rust
                .create_user(User::with_id("grace").with_email("grace@example.com"))
                .await
                .unwrap();
            let oid = |id: &str| adapter_mongo::conformance::authjs_object_id(id).unwrap();
            assert_eq!(
                fields(&rust, "users", doc! { "_id": oid(&from_rust.id) }).await,
                fields(&rust, "users", doc! { "_id": oid(&from_node.id) }).await,
            );
            node.create_session(&Session::with_token("s-node", &from_node.id, in_days(1)))
                .await
                .unwrap();
            rust.create_session(Session::with_token("s-rust", &from_rust.id, in_days(1)))
                .await
                .unwrap();
            let session_fields = fields(&rust, "sessions", doc! { "sessionToken": "s-rust" }).await;
            assert_eq!(session_fields, ["_id", "expires", "sessionToken", "userId"]);
            assert_eq!(
                fields(&rust, "sessions", doc! { "sessionToken": "s-node" }).await,
                session_fields
            );
            let token = |t: &str| VerificationToken::new("ada@example.com", t, in_days(1));
            node.create_verification_token(&token("t-node"))
                .await
                .unwrap();
            rust.create_verification_token(token("t-rust"))
                .await
                .unwrap();
            assert_eq!(
                fields(&rust, "verification_tokens", doc! { "token": "t-rust" }).await,
                fields(&rust, "verification_tokens", doc! { "token": "t-node" }).await,
            );
            // Ids and owners are ObjectIds on both sides.
            for token in ["s-node", "s-rust"] {
                let session = rust
                    .database()
                    .collection::<Document>("sessions")
                    .find_one(doc! { "sessionToken": token })
                    .await
                    .unwrap()
                    .unwrap();
                assert!(
                    matches!(session.get("userId"), Some(Bson::ObjectId(_))),
                    "{session:?}"
                );
                assert!(
                    matches!(session.get("expires"), Some(Bson::DateTime(_))),
                    "{session:?}"
                );
            }
            node
        },
    )
    .await;
}

/// `value`'s object (the tests build them with `json!`).
fn object(value: Value) -> Extra {
    match value {
        Value::Object(object) => object,
        other => panic!("not an object: {other}"),
    }
}

/// `base` with the fields of `extra` added at its top level, as an Auth.js app passes its
/// own fields to the adapter.
fn with_fields(base: Value, extra: &Extra) -> Value {
    let mut out = object(base);
    out.extend(extra.clone());
    Value::Object(out)
}

/// Asserts that Node's record `found` carries every field of `extra`, with the same JSON
/// value, at its top level, and no `extra` field of its own.
fn node_has(found: &Value, extra: &Extra, what: &str) {
    for (name, value) in extra {
        assert_eq!(&found[name], value, "{what}: field {name} in {found}");
    }
    assert!(found.get("extra").is_none(), "{what}: {found}");
}

// Node's numbers are doubles and its driver writes a whole number in int32 range as an
// int32, any other as a double: the values below are whole numbers within int32 (read by
// Rust as integers) and floats with a fractional part, exact on both sides and printed
// alike by `JSON.stringify` and serde_json.

fn app_user_fields() -> Extra {
    object(json!({
        "role": "admin",
        "level": 42,
        "score": 0.5,
        "prefs": {"theme": "dark", "tags": ["a", "ü", "🦀"], "limits": [1, -2.25, null], "nested": {"x": null}},
    }))
}

fn token_response_rest() -> Extra {
    object(json!({
        "expires_in": 28_800,
        "refresh_token_expires_in": 15_897_600,
        "raw": {"created_at": 1_700_000_000, "granted": ["repo", "user"]},
    }))
}

#[tokio::test]
async fn extra_fields_node_writes_are_read_by_rust() {
    on_shared_database(
        "extra_fields_node_writes_are_read_by_rust",
        async |rust, mut node| {
            let fields = app_user_fields();
            let created = node
                .call(
                    "createUser",
                    json!([with_fields(
                        json!({
                            "id": "ignored",
                            "email": "ada@example.com",
                            "emailVerified": null,
                            "name": "Ada",
                            "image": null,
                        }),
                        &fields
                    )]),
                )
                .await
                .unwrap();
            let id = created["id"].as_str().unwrap().to_owned();
            let account = with_fields(
                conformance_cli::authjs::account_to_json(&github(&id, "gh-node")),
                &token_response_rest(),
            );
            node.call("linkAccount", json!([account])).await.unwrap();
            let session_data = object(json!({"csrf": "c5rf ✓", "remember": true}));
            let expires = in_days(30);
            let session = json!({
                "sessionToken": "cookie-extra",
                "userId": id,
                "expires": conformance_cli::authjs::iso(expires),
            });
            node.call(
                "createSession",
                json!([with_fields(session, &session_data)]),
            )
            .await
            .unwrap();

            let user = rust.get_user(&id).await.unwrap().unwrap();
            assert_eq!(user.extra, fields, "the user's extra fields");
            assert_eq!(user.name.as_deref(), Some("Ada"));
            let account = rust
                .get_account("github", "gh-node")
                .await
                .unwrap()
                .unwrap();
            assert_eq!(
                account.extra,
                token_response_rest(),
                "the rest of the token response"
            );
            assert_eq!(account.expires_at, Some(1_900_000_000));
            let (found_session, found_user) = rust
                .get_session_and_user("cookie-extra")
                .await
                .unwrap()
                .unwrap();
            assert_eq!(found_session.extra, session_data, "the session's data");
            assert_eq!(found_session.expires, expires);
            assert_eq!(found_user, user);

            // A merge from Rust sets and removes top-level fields; Node reads the result,
            // and the fields it did not name are as Node wrote them.
            let merged = rust
                .update_user(
                    UserUpdate::new(&id)
                        .merge_extra(&json!({"level": 43, "role": null, "plan": "pro"}))
                        .unwrap(),
                )
                .await
                .unwrap();
            let mut expected = fields.clone();
            expected.remove("role");
            expected.insert("level".into(), json!(43));
            expected.insert("plan".into(), json!("pro"));
            assert_eq!(merged.extra, expected);
            let by_node = node.call("getUser", json!([id])).await.unwrap();
            node_has(&by_node, &expected, "Node's getUser after Rust's merge");
            assert!(by_node.get("role").is_none(), "{by_node}");

            // Node's updateUser `$set`s the fields it is given: Rust reads them.
            node.call(
                "updateUser",
                json!([{"id": id, "role": "owner", "score": 1.75}]),
            )
            .await
            .unwrap();
            expected.insert("role".into(), json!("owner"));
            expected.insert("score".into(), json!(1.75));
            let user = rust.get_user(&id).await.unwrap().unwrap();
            assert_eq!(user.extra, expected, "after Node's updateUser");
            node
        },
    )
    .await;
}

#[tokio::test]
async fn extra_fields_rust_writes_are_read_by_node() {
    on_shared_database(
        "extra_fields_rust_writes_are_read_by_node",
        async |rust, mut node| {
            let fields = app_user_fields();
            let mut user = User::with_id("from-rust")
                .with_email("grace@example.com")
                .with_name("Grace");
            user.extra = fields.clone();
            let user = rust.create_user(user).await.unwrap();
            let mut account = github(&user.id, "gh-rust");
            account.extra = token_response_rest();
            rust.link_account(account).await.unwrap();
            let session_data =
                object(json!({"csrf": "x-1", "remember": false, "data": {"step": 2}}));
            let mut session = Session::with_token("cookie-rust-extra", &user.id, in_days(30));
            session.extra = session_data.clone();
            rust.create_session(session).await.unwrap();

            let by_node = node.call("getUser", json!([user.id])).await.unwrap();
            node_has(&by_node, &fields, "Node's getUser");
            assert_eq!(by_node["name"], json!("Grace"));
            let both = node
                .call("getSessionAndUser", json!(["cookie-rust-extra"]))
                .await
                .unwrap();
            node_has(&both["session"], &session_data, "Node's session");
            node_has(&both["user"], &fields, "Node's session user");

            // The stored types, top level: an integer as an int64 (which the stand-in CI
            // uses hands back as an int32 when it fits: both read as integers), a float as
            // a double.
            let stored = rust
                .database()
                .collection::<Document>("users")
                .find_one(doc! { "email": "grace@example.com" })
                .await
                .unwrap()
                .unwrap();
            assert!(
                matches!(stored.get("level"), Some(Bson::Int64(42) | Bson::Int32(42))),
                "{stored:?}"
            );
            assert_eq!(stored.get("score"), Some(&Bson::Double(0.5)));

            // Node's unlinkAccount answers with the whole account it removed.
            let unlinked = node
                .call(
                    "unlinkAccount",
                    json!([{"provider": "github", "providerAccountId": "gh-rust"}]),
                )
                .await
                .unwrap();
            node_has(&unlinked, &token_response_rest(), "Node's unlinkAccount");
            assert_eq!(unlinked["access_token"], json!("gho_access"));
            node
        },
    )
    .await;
}
