//! Cross-language tests of the Auth.js unstorage layout: the real `@auth/unstorage-adapter`
//! (Node, on unstorage's Redis driver, through `conformance_cli::authjs::AuthJs`) and
//! this crate's `Layout::AuthJsUnstorage` on the same Redis, each reading what the other
//! wrote.
//!
//! Needs `AUTH_TEST_REDIS_URL` and the Node packages (`npm ci` in `compat/authjs`). Without
//! them each test prints a `SKIPPED` line with the reason, or fails when
//! `AUTH_CONFORMANCE_REQUIRE` is set. Each test works under its own `baseKeyPrefix` (or
//! driver `base`), `authjs-interop:<uuid>:`, and removes exactly those keys afterwards.

#![allow(clippy::unwrap_used)]

use adapter_redis::keys::KeyLayout;
use adapter_redis::redis::{self, aio::MultiplexedConnection};
use adapter_redis::{Layout, RedisAdapter, UnstorageLayout};
use auth_core::chrono::{Duration as Span, Utc};
use auth_core::extra::{without_nulls, Extra};
use auth_core::{
    Account, AccountType, Adapter, Authenticator, Session, SessionUpdate, User, UserUpdate,
    VerificationToken,
};
use conformance_cli::authjs::{iso, server_or_skip, AuthJs};
use conformance_cli::backends::redis::{scan_keys, teardown_prefix, ENV_VAR};
use serde_json::json;

/// Node's adapter and ours on one fresh prefix of the same server.
struct Fx {
    rust: RedisAdapter,
    node: AuthJs,
    raw: MultiplexedConnection,
    /// Every key of the test starts with this.
    scope: KeyLayout,
    /// A unique tag for emails, tokens and provider ids.
    tag: String,
}

/// Where the keys go: under the adapter's `baseKeyPrefix`, or under the driver's `base`
/// (with `baseKeyPrefix` `app:` after it).
#[derive(Clone, Copy)]
enum Placement {
    BaseKeyPrefix,
    DriverBase,
}

impl Fx {
    async fn open(test: &str, placement: Placement) -> Option<Self> {
        let url = server_or_skip(test, ENV_VAR)?;
        let tag = uuid::Uuid::now_v7().simple().to_string();
        let scope = format!("authjs-interop:{tag}:");
        let (layout, config) = match placement {
            Placement::BaseKeyPrefix => (
                UnstorageLayout::new().base_key_prefix(scope.as_str()),
                json!({"layout": "unstorage-redis", "url": url, "baseKeyPrefix": scope}),
            ),
            Placement::DriverBase => (
                UnstorageLayout::new()
                    .driver_base(scope.as_str())
                    .base_key_prefix("app:"),
                json!({"layout": "unstorage-redis", "url": url, "base": scope, "baseKeyPrefix": "app:"}),
            ),
        };
        let rust = RedisAdapter::builder(url.as_str())
            .layout(Layout::AuthJsUnstorage(layout))
            .connect()
            .await
            .unwrap();
        rust.migrate().await.unwrap();
        let node = AuthJs::open(config).await.unwrap();
        let raw = redis::Client::open(url.as_str())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        Some(Self {
            rust,
            node,
            raw,
            scope: KeyLayout::new(scope).unwrap(),
            tag,
        })
    }

    /// Every key under the test's scope.
    async fn keys(&self) -> Vec<String> {
        let mut keys = scan_keys(&self.raw, &self.scope, None).await.unwrap();
        keys.sort();
        keys
    }

    /// Stops Node, removes the test's keys, then fails the test if the scenario failed.
    async fn finish(self, outcome: Result<(), String>) {
        let closed = self.node.close().await;
        teardown_prefix(&self.raw, &self.scope).await.unwrap();
        outcome.unwrap();
        closed.unwrap();
    }
}

fn account(user_id: &str, tag: &str) -> Account {
    Account {
        access_token: Some("access-1".into()),
        refresh_token: Some("refresh-1".into()),
        expires_at: Some(1_900_000_123),
        token_type: Some("bearer".into()),
        scope: Some("openid email".into()),
        ..Account::new(user_id, AccountType::OAuth, "github", format!("gh-{tag}"))
    }
}

fn later(days: i64) -> auth_core::chrono::DateTime<Utc> {
    auth_core::truncate_to_millis(Utc::now() + Span::days(days))
}

fn check(ok: bool, what: impl Into<String>) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(what.into())
    }
}

fn e(err: impl std::fmt::Display) -> String {
    err.to_string()
}

// ---------------------------------------------------------------- Node writes, Rust reads

async fn node_records_are_read_by_rust(fx: &mut Fx, email: &str) -> Result<(), String> {
    let user = fx.node.create_user(email).await?;
    let linked = account(&user.id, &fx.tag);
    fx.node.link_account(&linked).await?;
    let session = Session::with_token(format!("node-session-{}", fx.tag), &user.id, later(30));
    fx.node.create_session(&session).await?;

    let (found_session, found_user) = fx
        .rust
        .get_session_and_user(&session.session_token)
        .await
        .map_err(e)?
        .ok_or("Rust did not find the session Node created")?;
    check(
        found_session == session,
        format!("session read by Rust: {found_session:?}"),
    )?;
    check(
        found_user == user,
        format!("user read by Rust: {found_user:?} vs {user:?}"),
    )?;
    let by_account = fx
        .rust
        .get_user_by_account("github", &linked.provider_account_id)
        .await
        .map_err(e)?;
    check(by_account.as_ref() == Some(&user), "get_user_by_account")?;
    let stored_account = fx
        .rust
        .get_account("github", &linked.provider_account_id)
        .await
        .map_err(e)?;
    check(
        stored_account.as_ref() == Some(&linked),
        format!("get_account: {stored_account:?}"),
    )?;
    let by_email = fx.rust.get_user_by_email(email).await.map_err(e)?;
    check(by_email.as_ref() == Some(&user), "get_user_by_email")?;
    let by_upper = fx
        .rust
        .get_user_by_email(&email.to_uppercase())
        .await
        .map_err(e)?;
    check(
        by_upper.as_ref() == Some(&user),
        "get_user_by_email in capitals",
    )?;
    Ok(())
}

#[tokio::test]
async fn a_user_account_and_session_created_by_node_are_found_by_rust() {
    let Some(mut fx) = Fx::open("node_to_rust", Placement::BaseKeyPrefix).await else {
        return;
    };
    // Auth.js's email provider lowercases the address; so does the key Node writes.
    let email = format!("ada-{}@example.com", fx.tag);
    let outcome = node_records_are_read_by_rust(&mut fx, &email).await;
    fx.finish(outcome).await;
}

#[tokio::test]
async fn under_the_drivers_base_too() {
    let Some(mut fx) = Fx::open("node_to_rust_driver_base", Placement::DriverBase).await else {
        return;
    };
    let email = format!("base-{}@example.com", fx.tag);
    let mut outcome = node_records_are_read_by_rust(&mut fx, &email).await;
    if outcome.is_ok() {
        let keys = fx.keys().await;
        let expected = format!("authjs-interop:{}:app:user:email:{email}", fx.tag);
        outcome = check(
            keys.contains(&expected),
            format!("{expected} not in {keys:?}"),
        );
    }
    fx.finish(outcome).await;
}

// ---------------------------------------------------------------- Rust writes, Node reads

async fn rust_records_are_read_by_node(fx: &mut Fx) -> Result<(), String> {
    // Capitals, as an OAuth provider may give them: Node finds the user by the address as
    // given (its own key) and by the lowercase form (the key this layout adds).
    let email = format!("Bob-{}@Example.com", fx.tag);
    let user = fx
        .rust
        .create_user(User {
            name: Some("From Rust".into()),
            email_verified: Some(later(-1)),
            ..User::new().with_email(email.as_str())
        })
        .await
        .map_err(e)?;
    let linked = account(&user.id, &fx.tag);
    fx.rust.link_account(linked.clone()).await.map_err(e)?;
    let session = Session::with_token(format!("rust-session-{}", fx.tag), &user.id, later(30));
    fx.rust.create_session(session.clone()).await.map_err(e)?;

    let (found_session, found_user) = fx
        .node
        .get_session_and_user(&session.session_token)
        .await?
        .ok_or("Node did not find the session Rust created")?;
    check(
        found_session == session,
        format!("session read by Node: {found_session:?}"),
    )?;
    check(
        found_user == user,
        format!("user read by Node: {found_user:?} vs {user:?}"),
    )?;
    let by_account = fx
        .node
        .get_user_by_account("github", &linked.provider_account_id)
        .await?;
    check(by_account.as_ref() == Some(&user), "Node getUserByAccount")?;
    for asked in [email.clone(), email.to_lowercase()] {
        let by_email = fx.node.get_user_by_email(&asked).await?;
        check(
            by_email.as_ref() == Some(&user),
            format!("Node getUserByEmail({asked})"),
        )?;
    }
    let by_id = fx.node.get_user(&user.id).await?;
    check(by_id.as_ref() == Some(&user), "Node getUser")?;
    // The session key expires in Redis itself, which Auth.js tolerates.
    let mut conn = fx.raw.clone();
    let key = format!(
        "{}user:session:{}",
        fx.scope.prefix(),
        session.session_token
    );
    let at: i64 = redis::cmd("PEXPIRETIME")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .map_err(e)?;
    check(
        at == session.expires.timestamp_millis(),
        format!("PEXPIRETIME {at}"),
    )?;
    Ok(())
}

#[tokio::test]
async fn a_user_account_and_session_created_by_rust_are_found_by_node() {
    let Some(mut fx) = Fx::open("rust_to_node", Placement::BaseKeyPrefix).await else {
        return;
    };
    let outcome = rust_records_are_read_by_node(&mut fx).await;
    fx.finish(outcome).await;
}

// ---------------------------------------------------------------- verification tokens

async fn tokens_are_used_once(fx: &mut Fx) -> Result<(), String> {
    let identifier = format!("eve-{}@example.com", fx.tag);
    // Node creates, Rust uses: once.
    let from_node = VerificationToken::new(identifier.as_str(), "node-token", later(1));
    fx.node.create_verification_token(&from_node).await?;
    let used = fx
        .rust
        .use_verification_token(&identifier, "node-token")
        .await
        .map_err(e)?;
    check(
        used.as_ref() == Some(&from_node),
        format!("Rust used {used:?}"),
    )?;
    let again = fx
        .rust
        .use_verification_token(&identifier, "node-token")
        .await
        .map_err(e)?;
    check(again.is_none(), "Rust used Node's token twice")?;
    let by_node = fx
        .node
        .use_verification_token(&identifier, "node-token")
        .await?;
    check(by_node.is_none(), "Node used a token Rust had used")?;

    // Rust creates, Node uses: once.
    let from_rust = VerificationToken::new(identifier.as_str(), "rust-token", later(1));
    fx.rust
        .create_verification_token(from_rust.clone())
        .await
        .map_err(e)?;
    let used = fx
        .node
        .use_verification_token(&identifier, "rust-token")
        .await?;
    check(
        used.as_ref() == Some(&from_rust),
        format!("Node used {used:?}"),
    )?;
    let again = fx
        .node
        .use_verification_token(&identifier, "rust-token")
        .await?;
    check(again.is_none(), "Node used Rust's token twice")?;
    let by_rust = fx
        .rust
        .use_verification_token(&identifier, "rust-token")
        .await
        .map_err(e)?;
    check(by_rust.is_none(), "Rust used a token Node had used")?;

    // Node creates, twenty Rust callers race for it: exactly one gets it. (Node's own
    // useVerificationToken is a GET, then a removal: a Node caller racing can get it too.)
    let raced = VerificationToken::new(identifier.as_str(), "raced-token", later(1));
    fx.node.create_verification_token(&raced).await?;
    let racers = (0..20).map(|_| {
        let rust = fx.rust.clone();
        let ident = identifier.clone();
        tokio::spawn(async move { rust.use_verification_token(&ident, "raced-token").await })
    });
    let mut winners = 0;
    for racer in racers.collect::<Vec<_>>() {
        if racer.await.map_err(e)?.map_err(e)?.is_some() {
            winners += 1;
        }
    }
    check(winners == 1, format!("{winners} winners for one token"))?;
    check(fx.keys().await.is_empty(), "a used token left a key")?;
    Ok(())
}

#[tokio::test]
async fn a_verification_token_created_by_either_is_used_exactly_once() {
    let Some(mut fx) = Fx::open("verification_tokens", Placement::BaseKeyPrefix).await else {
        return;
    };
    let outcome = tokens_are_used_once(&mut fx).await;
    fx.finish(outcome).await;
}

// ---------------------------------------------------------------- delete_user

async fn nothing_readable(
    fx: &mut Fx,
    user: &User,
    linked: &Account,
    token: &str,
) -> Result<(), String> {
    let email = user.email.as_deref().unwrap_or_default();
    check(
        fx.rust.get_user(&user.id).await.map_err(e)?.is_none(),
        "Rust get_user",
    )?;
    check(
        fx.rust.get_user_by_email(email).await.map_err(e)?.is_none(),
        "Rust get_user_by_email",
    )?;
    let by_account = fx
        .rust
        .get_user_by_account(&linked.provider, &linked.provider_account_id)
        .await
        .map_err(e)?;
    check(by_account.is_none(), "Rust get_user_by_account")?;
    let account = fx
        .rust
        .get_account(&linked.provider, &linked.provider_account_id)
        .await
        .map_err(e)?;
    check(account.is_none(), "Rust get_account")?;
    check(
        fx.rust
            .get_session_and_user(token)
            .await
            .map_err(e)?
            .is_none(),
        "Rust get_session_and_user",
    )?;
    check(fx.node.get_user(&user.id).await?.is_none(), "Node getUser")?;
    for asked in [email.to_owned(), email.to_lowercase()] {
        check(
            fx.node.get_user_by_email(&asked).await?.is_none(),
            format!("Node getUserByEmail({asked})"),
        )?;
    }
    let by_account = fx
        .node
        .get_user_by_account(&linked.provider, &linked.provider_account_id)
        .await?;
    check(by_account.is_none(), "Node getUserByAccount")?;
    check(
        fx.node.get_session_and_user(token).await?.is_none(),
        "Node getSessionAndUser",
    )?;
    Ok(())
}

async fn deleted_by_node(fx: &mut Fx) -> Result<(), String> {
    let email = format!("Carol-{}@Example.com", fx.tag);
    let user = fx
        .rust
        .create_user(User::new().with_email(email.as_str()))
        .await
        .map_err(e)?;
    let linked = account(&user.id, &fx.tag);
    fx.rust.link_account(linked.clone()).await.map_err(e)?;
    let token = format!("carol-session-{}", fx.tag);
    let session = Session::with_token(token.as_str(), &user.id, later(30));
    fx.rust.create_session(session).await.map_err(e)?;

    fx.node.delete_user(&user.id).await?;
    nothing_readable(fx, &user, &linked, &token).await?;
    // Node removes every key it knows; the lowercase email key this layout added stays,
    // naming a user that is gone, and is read as nothing (checked above).
    let left = fx.keys().await;
    let lowercase = format!("{}user:email:{}", fx.scope.prefix(), email.to_lowercase());
    check(
        left == vec![lowercase],
        format!("keys left by Node's deleteUser: {left:?}"),
    )?;
    // The address is free again for Rust.
    let again = fx
        .rust
        .create_user(User::new().with_email(email.as_str()))
        .await
        .map_err(e)?;
    check(
        fx.rust
            .get_user_by_email(&email)
            .await
            .map_err(e)?
            .map(|u| u.id)
            == Some(again.id),
        "the address after Node's deleteUser",
    )?;
    Ok(())
}

#[tokio::test]
async fn delete_user_by_node_leaves_nothing_rust_can_read() {
    let Some(mut fx) = Fx::open("delete_by_node", Placement::BaseKeyPrefix).await else {
        return;
    };
    let outcome = deleted_by_node(&mut fx).await;
    fx.finish(outcome).await;
}

async fn deleted_by_rust(fx: &mut Fx) -> Result<(), String> {
    let email = format!("dan-{}@example.com", fx.tag);
    let user = fx.node.create_user(&email).await?;
    let linked = account(&user.id, &fx.tag);
    fx.node.link_account(&linked).await?;
    let token = format!("dan-session-{}", fx.tag);
    fx.node
        .create_session(&Session::with_token(token.as_str(), &user.id, later(30)))
        .await?;

    let deleted = fx.rust.delete_user(&user.id).await.map_err(e)?;
    check(
        deleted.as_ref() == Some(&user),
        "Rust delete_user returns the user",
    )?;
    nothing_readable(fx, &user, &linked, &token).await?;
    let left = fx.keys().await;
    check(
        left.is_empty(),
        format!("keys left by Rust's delete_user: {left:?}"),
    )?;
    Ok(())
}

#[tokio::test]
async fn delete_user_by_rust_leaves_nothing_node_can_read() {
    let Some(mut fx) = Fx::open("delete_by_rust", Placement::BaseKeyPrefix).await else {
        return;
    };
    let outcome = deleted_by_rust(&mut fx).await;
    fx.finish(outcome).await;
}

// ---------------------------------------------------------------- same keys, same values

impl Fx {
    /// The value under `<scope><rest>`, as JSON when it is JSON, else as a string.
    async fn stored(&self, rest: &str) -> Result<serde_json::Value, String> {
        let mut conn = self.raw.clone();
        let key = format!("{}{rest}", self.scope.prefix());
        let raw: Option<String> = redis::cmd("GET")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .map_err(e)?;
        let raw = raw.ok_or_else(|| format!("no key {key}"))?;
        Ok(serde_json::from_str(&raw).unwrap_or(serde_json::Value::String(raw)))
    }
}

/// `value` with every string equal to `from` replaced by `to`.
fn renamed(value: serde_json::Value, from: &str, to: &str) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::String(s) if s == from => Value::String(to.to_owned()),
        Value::String(s) => Value::String(s.replace(from, to)),
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| (k, renamed(v, from, to)))
                .collect(),
        ),
        other => other,
    }
}

async fn same_keys_and_values(fx: &mut Fx) -> Result<(), String> {
    // The same records written once by Node and once by Rust, under names that differ
    // only by `node` / `rust`: after renaming, every key and value must be equal.
    let tag = fx.tag.clone();
    let node_user = fx
        .node
        .create_user(&format!("node-{tag}@example.com"))
        .await?;
    let rust_id = format!("rust-{tag}");
    fx.rust
        .create_user(User {
            id: rust_id.clone(),
            email: Some(format!("rust-{tag}@example.com")),
            ..node_user.clone()
        })
        .await
        .map_err(e)?;
    let full = |user_id: &str, side: &str| Account {
        id_token: Some("id-1".into()),
        session_state: Some("state-1".into()),
        ..account(user_id, &format!("{side}-{tag}"))
    };
    fx.node.link_account(&full(&node_user.id, "node")).await?;
    fx.rust
        .link_account(full(&rust_id, "rust"))
        .await
        .map_err(e)?;
    let expires = later(7);
    fx.node
        .create_session(&Session::with_token(
            format!("node-{tag}"),
            &node_user.id,
            expires,
        ))
        .await?;
    fx.rust
        .create_session(Session::with_token(
            format!("rust-{tag}"),
            &rust_id,
            expires,
        ))
        .await
        .map_err(e)?;
    let ident = |side: &str| format!("{side}-{tag}@example.com");
    fx.node
        .create_verification_token(&VerificationToken::new(ident("node"), "t1", expires))
        .await?;
    fx.rust
        .create_verification_token(VerificationToken::new(ident("rust"), "t1", expires))
        .await
        .map_err(e)?;

    let node_keys: Vec<String> = fx.keys().await;
    let prefix = fx.scope.prefix().to_owned();
    let mut compared = 0;
    for key in &node_keys {
        let rest = &key[prefix.len()..];
        if !rest.contains(&format!("node-{tag}")) && !rest.contains(&node_user.id) {
            continue;
        }
        let rust_rest = rest
            .replace(&node_user.id, &rust_id)
            .replace(&format!("node-{tag}"), &format!("rust-{tag}"));
        let node_value = renamed(
            renamed(fx.stored(rest).await?, &node_user.id, &rust_id),
            &format!("node-{tag}"),
            &format!("rust-{tag}"),
        );
        let rust_value = fx.stored(&rust_rest).await?;
        check(
            node_value == rust_value,
            format!("{rest}: Node wrote {node_value}, Rust wrote {rust_value}"),
        )?;
        compared += 1;
    }
    // user, email, account, account pointer, session, session pointer, token.
    check(
        compared == 7,
        format!("compared {compared} keys: {node_keys:?}"),
    )?;
    check(
        node_keys.len() == 14,
        format!("Rust wrote other keys than Node: {node_keys:?}"),
    )?;
    Ok(())
}

#[tokio::test]
async fn rust_writes_the_keys_and_values_node_writes() {
    let Some(mut fx) = Fx::open("same_keys_and_values", Placement::BaseKeyPrefix).await else {
        return;
    };
    let outcome = same_keys_and_values(&mut fx).await;
    fx.finish(outcome).await;
}

// ---------------------------------------------------------------- authenticators

async fn authenticators_cross(fx: &mut Fx) -> Result<(), String> {
    let user = fx
        .node
        .create_user(&format!("pk-{}@example.com", fx.tag))
        .await?;
    let from_node = json!({
        "credentialID": format!("node-cred-{}", fx.tag),
        "userId": user.id,
        "providerAccountId": "pk-account",
        "credentialPublicKey": "cHVibGljLWtleQ",
        "counter": 0,
        "credentialDeviceType": "singleDevice",
        "credentialBackedUp": false,
        "transports": "usb,nfc",
    });
    fx.node
        .call("createAuthenticator", json!([from_node]))
        .await?;
    let mut from_rust = Authenticator::new(
        format!("rust-cred-{}", fx.tag),
        &user.id,
        "pk-account",
        "cHVibGljLWtleQ",
    );
    from_rust.transports = Some("internal".into());
    fx.rust
        .create_authenticator(from_rust.clone())
        .await
        .map_err(e)?;

    // Both lists hold both credentials: Rust prepended its id to the list Node wrote.
    let mut ours: Vec<String> = fx
        .rust
        .list_authenticators(&user.id)
        .await
        .map_err(e)?
        .into_iter()
        .map(|a| a.credential_id)
        .collect();
    ours.sort();
    let node_list = fx
        .node
        .call("listAuthenticatorsByUserId", json!([user.id]))
        .await?;
    let mut theirs: Vec<String> = node_list
        .as_array()
        .ok_or("Node's list is not an array")?
        .iter()
        .filter_map(|a| a["credentialID"].as_str().map(str::to_owned))
        .collect();
    theirs.sort();
    let both = vec![
        from_node["credentialID"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        from_rust.credential_id.clone(),
    ];
    let mut both_sorted = both.clone();
    both_sorted.sort();
    check(ours == both_sorted, format!("Rust lists {ours:?}"))?;
    check(theirs == both_sorted, format!("Node lists {theirs:?}"))?;

    // A counter Rust sets is what Node reads, and the reverse.
    fx.rust
        .update_authenticator_counter(&from_rust.credential_id, 7)
        .await
        .map_err(e)?;
    let read = fx
        .node
        .call("getAuthenticator", json!([from_rust.credential_id]))
        .await?;
    check(
        read["counter"] == json!(7),
        format!("Node reads counter {}", read["counter"]),
    )?;
    fx.node
        .call("updateAuthenticatorCounter", json!([both[0], 9]))
        .await?;
    let read = fx.rust.get_authenticator(&both[0]).await.map_err(e)?;
    check(
        read.as_ref().map(|a| a.counter) == Some(9),
        format!("Rust reads {read:?}"),
    )?;
    Ok(())
}

#[tokio::test]
async fn authenticators_created_by_either_are_listed_by_both() {
    let Some(mut fx) = Fx::open("authenticators", Placement::BaseKeyPrefix).await else {
        return;
    };
    let outcome = authenticators_cross(&mut fx).await;
    fx.finish(outcome).await;
}

// ---------------------------------------------------------------- extra fields

/// `value` (a JSON object literal) as an extra object.
fn extra(value: serde_json::Value) -> Extra {
    match value {
        serde_json::Value::Object(object) => object,
        other => panic!("not an object: {other}"),
    }
}

/// The app's fields on a user, in values Node and Rust both hold exactly. Node's numbers
/// are doubles: integers stay within ±2^53, floats are any finite f64 (each side writes the
/// shortest text that reads back as the same double), and no float has an integer value
/// (Node writes 2.0 as `2`, an integer here). No top-level string looks like an ISO date:
/// Node's `hydrateDates` would turn it into a `Date`.
fn user_extra() -> Extra {
    extra(json!({
        "role": "admin",
        "level": 42,
        "prefs": {
            "theme": "dark",
            "ratio": 0.1,
            "tiny": 5e-324,
            "max": f64::MAX,
            "max_safe": 9_007_199_254_740_991_i64,
            "min_safe": -9_007_199_254_740_991_i64,
            "list": [null, true, -0.5, "Zoë 🦀 \"q\""],
            "none": null,
        },
    }))
}

/// The rest of a token response, as a provider sends it beside the standard fields.
fn token_extra() -> Extra {
    extra(json!({
        "expires_in": 3599,
        "refresh_token_expires_in": 15_897_600,
        "ext_expires_in": 3599,
        "oauth_token_secret": "s3cr3t-ø",
        "raw": {"team": {"id": "T1", "name": "Ünïcode"}, "ids": [1, 2, 3]},
    }))
}

/// The app's data on a session.
fn session_extra() -> Extra {
    extra(json!({
        "csrf": "c5rf ✓",
        "remember": true,
        "data": {"cart": [1, 2, 3], "ratio": 0.25},
    }))
}

/// The top-level fields of an Auth.js object other than `own`, without the `null` ones:
/// its extra fields, as this layout reads them.
fn extras_of(value: &serde_json::Value, own: &[&str]) -> Extra {
    value
        .as_object()
        .map(|object| {
            object
                .iter()
                .filter(|(name, value)| !value.is_null() && !own.contains(&name.as_str()))
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect()
        })
        .unwrap_or_default()
}

const USER_OWN: &[&str] = &["id", "name", "email", "emailVerified", "image"];
const SESSION_OWN: &[&str] = &["sessionToken", "userId", "expires"];
const ACCOUNT_OWN: &[&str] = &[
    "id",
    "userId",
    "type",
    "provider",
    "providerAccountId",
    "refresh_token",
    "access_token",
    "expires_at",
    "token_type",
    "scope",
    "id_token",
    "session_state",
];

/// `base` with `fields` added at the top level.
fn with_fields(base: serde_json::Value, fields: &Extra) -> serde_json::Value {
    let mut object = extra(base);
    object.extend(fields.clone());
    serde_json::Value::Object(object)
}

fn same_extra(actual: &Extra, expected: &Extra, what: &str) -> Result<(), String> {
    check(
        actual == expected,
        format!(
            "{what}: extra fields differ\n  expected {}\n  got      {}",
            serde_json::Value::Object(expected.clone()),
            serde_json::Value::Object(actual.clone())
        ),
    )
}

async fn node_extras_are_read_by_rust(fx: &mut Fx) -> Result<(), String> {
    let tag = fx.tag.clone();
    // What an app's `profile()` adds reaches createUser beside the Auth.js fields.
    let created = fx
        .node
        .call(
            "createUser",
            json!([with_fields(
                json!({
                    "id": uuid::Uuid::now_v7().to_string(),
                    "email": format!("xf-{tag}@example.com"),
                    "emailVerified": null,
                    "name": "Node with extras",
                    "image": null,
                }),
                &user_extra()
            )]),
        )
        .await?;
    let user_id = created["id"]
        .as_str()
        .ok_or("createUser gave no id")?
        .to_owned();
    // Auth.js links the whole token response: the standard fields and the rest.
    let provider_account_id = format!("xf-{tag}");
    fx.node
        .call(
            "linkAccount",
            json!([with_fields(
                json!({
                    "userId": user_id,
                    "type": "oauth",
                    "provider": "github",
                    "providerAccountId": provider_account_id,
                    "access_token": "access-xf",
                    "refresh_token": "refresh-xf",
                    "token_type": "bearer",
                    "scope": "read:user",
                    "expires_at": 1_900_000_123,
                }),
                &token_extra()
            )]),
        )
        .await?;
    let token = format!("xf-session-{tag}");
    let expires = later(30);
    fx.node
        .call(
            "createSession",
            json!([with_fields(
                json!({"sessionToken": token, "userId": user_id, "expires": iso(expires)}),
                &session_extra()
            )]),
        )
        .await?;

    let expected_user = without_nulls(user_extra());
    let user = fx
        .rust
        .get_user(&user_id)
        .await
        .map_err(e)?
        .ok_or("get_user: none")?;
    same_extra(&user.extra, &expected_user, "Rust get_user")?;
    check(
        user.name.as_deref() == Some("Node with extras"),
        "the user's own fields beside its extras",
    )?;
    let (session, with_user) = fx
        .rust
        .get_session_and_user(&token)
        .await
        .map_err(e)?
        .ok_or("get_session_and_user: none")?;
    same_extra(&session.extra, &session_extra(), "Rust's session")?;
    check(session.expires == expires, "the session's expiry")?;
    same_extra(&with_user.extra, &expected_user, "Rust's session user")?;
    let account = fx
        .rust
        .get_account("github", &provider_account_id)
        .await
        .map_err(e)?
        .ok_or("get_account: none")?;
    same_extra(&account.extra, &token_extra(), "Rust get_account")?;
    check(
        account.access_token.as_deref() == Some("access-xf")
            && account.expires_at == Some(1_900_000_123),
        format!("the account's token fields: {account:?}"),
    )?;
    let listed = fx.rust.list_accounts(&user_id).await.map_err(e)?;
    check(listed.len() == 1, "list_accounts")?;
    same_extra(&listed[0].extra, &token_extra(), "Rust list_accounts")?;

    // Node's partial update stores `level: null`: an absent field here.
    fx.node
        .call(
            "updateUser",
            json!([{"id": user_id, "role": "owner", "level": null}]),
        )
        .await?;
    let mut expected = expected_user.clone();
    expected.insert("role".into(), json!("owner"));
    expected.remove("level");
    let user = fx
        .rust
        .get_user(&user_id)
        .await
        .map_err(e)?
        .ok_or("get_user: none")?;
    same_extra(
        &user.extra,
        &expected,
        "Rust get_user after Node's updateUser",
    )?;

    // Rust merges into the record Node wrote; Node reads the merge.
    let update = UserUpdate::new(&user_id)
        .merge_extra(&json!({"plan": "pro", "prefs": {"theme": "light"}}))
        .map_err(e)?;
    let merged = fx.rust.update_user(update).await.map_err(e)?;
    expected.insert("plan".into(), json!("pro"));
    expected.insert("prefs".into(), json!({"theme": "light"}));
    same_extra(&merged.extra, &expected, "Rust update_user's result")?;
    let node_user = fx.node.call("getUser", json!([user_id])).await?;
    same_extra(
        &extras_of(&node_user, USER_OWN),
        &expected,
        "Node getUser after Rust's merge",
    )?;
    check(
        node_user["name"] == json!("Node with extras"),
        format!("Node getUser's name: {node_user}"),
    )?;
    Ok(())
}

#[tokio::test]
async fn extra_fields_written_by_node_are_read_by_rust() {
    let Some(mut fx) = Fx::open("extras_node_to_rust", Placement::BaseKeyPrefix).await else {
        return;
    };
    let outcome = node_extras_are_read_by_rust(&mut fx).await;
    fx.finish(outcome).await;
}

async fn rust_extras_are_read_by_node(fx: &mut Fx) -> Result<(), String> {
    let tag = fx.tag.clone();
    let mut user = User::new().with_email(format!("rx-{tag}@example.com").as_str());
    user.name = Some("Rust with extras".into());
    user.extra = without_nulls(user_extra());
    let user = fx.rust.create_user(user).await.map_err(e)?;
    let mut linked = account(&user.id, &format!("rx-{tag}"));
    linked.extra = token_extra();
    fx.rust.link_account(linked.clone()).await.map_err(e)?;
    let token = format!("rx-session-{tag}");
    let mut session = Session::with_token(token.as_str(), &user.id, later(30));
    session.extra = session_extra();
    fx.rust.create_session(session.clone()).await.map_err(e)?;

    // The value is what Node's createUser would have stored for the same object.
    let stored = fx.stored(&format!("user:{}", user.id)).await?;
    let node_form = with_fields(
        json!({
            "id": user.id,
            "name": "Rust with extras",
            "email": user.email,
            "emailVerified": null,
            "image": null,
        }),
        &user.extra,
    );
    check(
        stored == node_form,
        format!("the stored user: {stored}\n  Node's form: {node_form}"),
    )?;

    let node_user = fx.node.call("getUser", json!([user.id])).await?;
    same_extra(
        &extras_of(&node_user, USER_OWN),
        &user.extra,
        "Node getUser",
    )?;
    let both = fx.node.call("getSessionAndUser", json!([token])).await?;
    same_extra(
        &extras_of(&both["session"], SESSION_OWN),
        &session.extra,
        "Node getSessionAndUser's session",
    )?;
    same_extra(
        &extras_of(&both["user"], USER_OWN),
        &user.extra,
        "Node getSessionAndUser's user",
    )?;
    let node_account = fx
        .node
        .call(
            "getAccount",
            json!([linked.provider_account_id, linked.provider]),
        )
        .await?;
    same_extra(
        &extras_of(&node_account, ACCOUNT_OWN),
        &token_extra(),
        "Node getAccount",
    )?;
    check(
        node_account["access_token"] == json!("access-1"),
        format!("Node getAccount's token fields: {node_account}"),
    )?;

    // Rust merges session data; Node reads it.
    let update = SessionUpdate::new(token.as_str())
        .merge_extra(&json!({"remember": null, "method": "email"}))
        .map_err(e)?;
    let changed = fx
        .rust
        .update_session(update)
        .await
        .map_err(e)?
        .ok_or("update_session: none")?;
    let expected = extra(json!({
        "csrf": "c5rf ✓",
        "data": {"cart": [1, 2, 3], "ratio": 0.25},
        "method": "email",
    }));
    same_extra(&changed.extra, &expected, "Rust update_session's result")?;
    let both = fx.node.call("getSessionAndUser", json!([token])).await?;
    same_extra(
        &extras_of(&both["session"], SESSION_OWN),
        &expected,
        "Node getSessionAndUser after Rust's merge",
    )?;

    // Node's updateSession spreads the stored session: the data stays, and what it sets
    // is read here.
    fx.node
        .call(
            "updateSession",
            json!([{"sessionToken": token, "csrf": "rotated"}]),
        )
        .await?;
    let mut expected = expected;
    expected.insert("csrf".into(), json!("rotated"));
    let (read, _) = fx
        .rust
        .get_session_and_user(&token)
        .await
        .map_err(e)?
        .ok_or("get_session_and_user: none")?;
    same_extra(&read.extra, &expected, "Rust after Node's updateSession")?;
    Ok(())
}

#[tokio::test]
async fn extra_fields_written_by_rust_are_read_by_node() {
    let Some(mut fx) = Fx::open("extras_rust_to_node", Placement::BaseKeyPrefix).await else {
        return;
    };
    let outcome = rust_extras_are_read_by_node(&mut fx).await;
    fx.finish(outcome).await;
}
