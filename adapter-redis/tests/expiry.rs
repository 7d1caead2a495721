//! Every key the adapter writes is bounded without a sweeper: records of users, accounts and
//! authenticators (and their lookup indexes) stay; everything that names a session or a
//! verification token expires, the index sets included, and drops expired members on the
//! next write. No test here calls `delete_expired`.
//!
//! Needs `AUTH_TEST_REDIS_URL` (e.g. `redis://127.0.0.1:6379`); without it the tests skip
//! loudly, or fail when `AUTH_CONFORMANCE_REQUIRE` names `redis`. Each test works under its
//! own key prefix and removes it afterwards.

// The helpers below are test code too: a failed set-up is a failed test.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant};

use adapter_redis::conformance::{
    fresh_prefix, scan_keys, teardown_prefix, test_server_url as server_url,
};
use adapter_redis::keys::{self, KeyLayout};
use adapter_redis::redis::{self, aio::MultiplexedConnection};
use adapter_redis::{Layout, RedisAdapter, UnstorageLayout};
use auth_core::chrono::{DateTime, Duration as Span, Utc};
use auth_core::{Account, AccountType, Adapter, Session, SessionUpdate, User, VerificationToken};
use futures::FutureExt;

/// Marks every session token and verification token these tests create, so a scan can tell
/// whether any of them survived anywhere (no user id, email or account holds it).
const SESSION_MARK: &str = "stok-";
const TOKEN_MARK: &str = "vtok-";

async fn raw_connection(url: &str) -> MultiplexedConnection {
    redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

/// Runs `body` with an adapter on a fresh prefix (native layout, or the Auth.js unstorage
/// layout with the prefix as `baseKeyPrefix`) and a raw connection, and removes every key
/// under the prefix afterwards, also when `body` panics.
async fn in_world<Fut: Future<Output = ()>>(
    unstorage: bool,
    body: impl FnOnce(RedisAdapter, Raw) -> Fut,
) {
    let Some(url) = server_url() else { return };
    let prefix = fresh_prefix();
    let builder = RedisAdapter::builder(url.as_str()).call_timeout(Duration::from_secs(10));
    let adapter = if unstorage {
        builder.layout(Layout::AuthJsUnstorage(
            UnstorageLayout::new().base_key_prefix(prefix.as_str()),
        ))
    } else {
        builder.key_prefix(prefix.as_str())
    }
    .connect()
    .await
    .unwrap();
    adapter.migrate().await.unwrap();
    let layout = KeyLayout::new(prefix.as_str()).unwrap();
    let raw = Raw {
        conn: raw_connection(&url).await,
        layout: layout.clone(),
    };
    let outcome = AssertUnwindSafe(body(adapter, raw.clone()))
        .catch_unwind()
        .await;
    teardown_prefix(&raw.conn, &layout).await.unwrap();
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// Plain commands on the test's keys.
#[derive(Clone)]
struct Raw {
    conn: MultiplexedConnection,
    layout: KeyLayout,
}

impl Raw {
    async fn query<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> T {
        let mut conn = self.conn.clone();
        cmd.query_async(&mut conn).await.unwrap()
    }

    /// Every key under the prefix.
    async fn keys(&self) -> Vec<String> {
        scan_keys(&self.conn, &self.layout, None).await.unwrap()
    }

    /// What a key holds, as text: a string's value, a set's or sorted set's members.
    async fn contents(&self, key: &str) -> Vec<String> {
        let kind: String = self.query(redis::cmd("TYPE").arg(key)).await;
        match kind.as_str() {
            "string" => {
                let value: Option<Vec<u8>> = self.query(redis::cmd("GET").arg(key)).await;
                value
                    .map(|v| String::from_utf8_lossy(&v).into_owned())
                    .into_iter()
                    .collect()
            }
            "set" => self.query(redis::cmd("SMEMBERS").arg(key)).await,
            "zset" => {
                self.query(redis::cmd("ZRANGE").arg(key).arg(0).arg(-1))
                    .await
            }
            "none" => Vec::new(),
            other => panic!("unexpected key type {other} at {key}"),
        }
    }

    async fn members(&self, key: &str) -> Vec<String> {
        let mut members: Vec<String> = self.query(redis::cmd("SMEMBERS").arg(key)).await;
        members.sort();
        members
    }

    async fn zmembers(&self, key: &str) -> Vec<String> {
        let mut members: Vec<String> = self
            .query(redis::cmd("ZRANGE").arg(key).arg(0).arg(-1))
            .await;
        members.sort();
        members
    }

    async fn zcard(&self, key: &str) -> i64 {
        self.query(redis::cmd("ZCARD").arg(key)).await
    }

    /// `PEXPIRETIME`: epoch ms, -1 without expiry, -2 without key.
    async fn expire_time(&self, key: &str) -> i64 {
        self.query(redis::cmd("PEXPIRETIME").arg(key)).await
    }

    /// The kind of a key: the word after the prefix (`user`, `session`, …).
    fn kind(&self, key: &str, kinds: &[&'static str]) -> &'static str {
        let rest = key.strip_prefix(self.layout.prefix()).unwrap();
        kinds
            .iter()
            .copied()
            .filter(|kind| rest.starts_with(kind))
            // The longest kind that matches (`user:account:by-user-id:` before `user:`).
            .max_by_key(|kind| kind.len())
            .unwrap_or("?")
    }

    /// Key counts per kind.
    async fn census(&self, kinds: &[&'static str]) -> BTreeMap<&'static str, usize> {
        let mut counts = BTreeMap::new();
        for key in self.keys().await {
            *counts.entry(self.kind(&key, kinds)).or_default() += 1;
        }
        counts
    }
}

fn ms(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

/// The native layout's kinds, as keys.rs writes them.
const NATIVE_KINDS: &[&str] = &[
    "user:",
    "email:",
    "account:",
    "session:",
    "vtoken:",
    "authenticator:",
    "user-sessions:",
    "user-accounts:",
    "user-authenticators:",
    "session-expiries",
    "vtoken-expiries",
    "schema-version",
];

/// The Auth.js unstorage layout's kinds.
const UNSTORAGE_KINDS: &[&str] = &[
    "user:",
    "user:email:",
    "user:account:",
    "user:account:by-user-id:",
    "user:session:",
    "user:session:by-user-id:",
    "user:token:",
    "authenticator:",
    "authenticator:by-user-id:",
];

/// What may outlive every session and token: users and accounts and their lookup indexes.
const NATIVE_LASTING: &[&str] = &[
    "user:",
    "email:",
    "account:",
    "user-accounts:",
    "schema-version",
];
const UNSTORAGE_LASTING: &[&str] = &[
    "user:",
    "user:email:",
    "user:account:",
    "user:account:by-user-id:",
];

/// Creates `users` users (each with an email) and `accounts` linked accounts, then `count`
/// sessions spread over the users and `count` verification tokens, each living `life`,
/// from `tasks` concurrent tasks. Returns the latest expiry.
async fn populate(
    db: &RedisAdapter,
    users: usize,
    accounts: usize,
    count: usize,
    life: Span,
    tasks: usize,
) -> DateTime<Utc> {
    for u in 0..users {
        let mut user = User::with_id(format!("user{u:03}"));
        user.email = Some(format!("person{u:03}@example.com"));
        db.create_user(user).await.unwrap();
    }
    for a in 0..accounts {
        db.link_account(Account::new(
            format!("user{a:03}"),
            AccountType::OAuth,
            "github",
            format!("gh{a}"),
        ))
        .await
        .unwrap();
    }
    let runs = (0..tasks).map(|t| {
        let db = db.clone();
        tokio::spawn(async move {
            let mut latest = Utc::now();
            for i in (t..count).step_by(tasks) {
                let expires = Utc::now() + life;
                latest = latest.max(expires);
                let user = format!("user{:03}", i % users);
                let token = format!("{SESSION_MARK}{i}-{}", uuid::Uuid::now_v7().simple());
                db.create_session(Session::with_token(token, user, expires))
                    .await
                    .unwrap();
                let expires = Utc::now() + life;
                latest = latest.max(expires);
                let token = format!("{TOKEN_MARK}{i}-{}", uuid::Uuid::now_v7().simple());
                let identifier = format!("person{:03}@example.com", i % users);
                db.create_verification_token(VerificationToken::new(identifier, token, expires))
                    .await
                    .unwrap();
            }
            latest
        })
    });
    let mut latest = Utc::now();
    for run in futures::future::join_all(runs).await {
        latest = latest.max(run.unwrap());
    }
    latest
}

/// Waits until `margin` after `at`.
async fn wait_past(at: DateTime<Utc>, margin: Duration) {
    let left = (at - Utc::now()).to_std().unwrap_or_default() + margin;
    tokio::time::sleep(left).await;
}

/// Scans every key once every session and token has expired: only `lasting` kinds remain,
/// and no key name, value or member holds a session or verification token.
async fn assert_only_lasting_keys(raw: &Raw, kinds: &[&'static str], lasting: &[&str]) -> usize {
    let keys = raw.keys().await;
    for key in &keys {
        let kind = raw.kind(key, kinds);
        assert!(
            lasting.contains(&kind),
            "key of kind {kind:?} outlived every session and token: {key}"
        );
        assert!(
            !key.contains(SESSION_MARK) && !key.contains(TOKEN_MARK),
            "a key name holds a token: {key}"
        );
        for item in raw.contents(key).await {
            assert!(
                !item.contains(SESSION_MARK) && !item.contains(TOKEN_MARK),
                "{key} holds a token: {item}"
            );
        }
    }
    keys.len()
}

/// The acceptance test of the issue, native layout: 10,000 sessions over 100 users and
/// 10,000 verification tokens living 1 s, no sweeper; 2 s after the last expiry only users,
/// email claims, accounts and their index sets (and the schema version) are left.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn native_keys_are_bounded_without_a_sweeper() {
    in_world(false, |db, raw| async move {
        let (users, accounts, count) = (100, 5, 10_000);
        let started = Instant::now();
        let latest = populate(&db, users, accounts, count, Span::seconds(1), 8).await;
        let took = started.elapsed();
        let before = raw.census(NATIVE_KINDS).await;
        let keys = db.keys().clone();
        let mut members = 0;
        for u in 0..users {
            members += raw
                .members(&keys.user_sessions(&format!("user{u:03}")))
                .await
                .len();
        }
        eprintln!(
            "native: created {count} sessions + {count} verification tokens over {users} users \
             ({accounts} accounts) in {took:.2?}; keys right after: {before:?}; entries: \
             session-expiries {}, vtoken-expiries {}, user-sessions members {members}",
            raw.zcard(&keys.session_expiries()).await,
            raw.zcard(&keys.token_expiries()).await,
        );
        wait_past(latest, Duration::from_secs(2)).await;
        let after = raw.census(NATIVE_KINDS).await;
        let left = assert_only_lasting_keys(&raw, NATIVE_KINDS, NATIVE_LASTING).await;
        eprintln!("native: keys 2 s after the last expiry: {left} {after:?}");
        assert_eq!(after.get("user:"), Some(&users));
        assert_eq!(after.get("email:"), Some(&users));
        assert_eq!(after.get("account:"), Some(&accounts));
        assert_eq!(after.get("user-accounts:"), Some(&accounts));
        assert_eq!(left, 2 * users + 2 * accounts + 1, "{after:?}");
        // The users and accounts are whole.
        assert_eq!(db.list_accounts("user000").await.unwrap().len(), 1);
        assert!(db.get_user("user099").await.unwrap().is_some());
    })
    .await;
}

/// The same on the Auth.js unstorage layout: the session pointer goes with its session.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unstorage_keys_are_bounded_without_a_sweeper() {
    in_world(true, |db, raw| async move {
        let (users, accounts, count) = (100, 5, 10_000);
        let started = Instant::now();
        let latest = populate(&db, users, accounts, count, Span::seconds(1), 8).await;
        let took = started.elapsed();
        let before = raw.census(UNSTORAGE_KINDS).await;
        eprintln!(
            "unstorage: created {count} sessions + {count} verification tokens over {users} \
             users ({accounts} accounts) in {took:.2?}; keys right after: {before:?}"
        );
        wait_past(latest, Duration::from_secs(2)).await;
        let after = raw.census(UNSTORAGE_KINDS).await;
        let left = assert_only_lasting_keys(&raw, UNSTORAGE_KINDS, UNSTORAGE_LASTING).await;
        eprintln!("unstorage: keys 2 s after the last expiry: {left} {after:?}");
        assert_eq!(after.get("user:"), Some(&users));
        assert_eq!(after.get("user:email:"), Some(&users));
        assert_eq!(after.get("user:account:"), Some(&accounts));
        assert_eq!(after.get("user:account:by-user-id:"), Some(&accounts));
    })
    .await;
}

/// An expired session leaves its user's set and session-expiries on the next write to
/// them, by any user; an expired verification token leaves vtoken-expiries likewise. The
/// sets themselves expire with their last member.
#[tokio::test]
async fn expired_entries_go_on_the_next_write() {
    in_world(false, |db, raw| async move {
        let keys = db.keys().clone();
        db.create_user(User::with_id("a")).await.unwrap();
        db.create_user(User::with_id("b")).await.unwrap();
        let long = Utc::now() + Span::days(30);
        db.create_session(Session::with_token("stok-long", "a", long))
            .await
            .unwrap();
        db.create_session(Session::with_token(
            "stok-short",
            "a",
            Utc::now() + Span::milliseconds(300),
        ))
        .await
        .unwrap();
        db.create_verification_token(VerificationToken::new("a@x", "vtok-long", long))
            .await
            .unwrap();
        db.create_verification_token(VerificationToken::new(
            "a@x",
            "vtok-short",
            Utc::now() + Span::milliseconds(300),
        ))
        .await
        .unwrap();
        tokio::time::sleep(Duration::from_millis(600)).await;

        // Nothing has written since: the expired entries are still listed.
        let a_sessions = keys.user_sessions("a");
        assert_eq!(raw.members(&a_sessions).await, ["stok-long", "stok-short"]);
        assert_eq!(raw.zcard(&keys.session_expiries()).await, 2);
        assert_eq!(raw.zcard(&keys.token_expiries()).await, 2);

        // A write for another user drops a's expired member and its expiry entry.
        let b_expires = Utc::now() + Span::hours(1);
        db.create_session(Session::with_token("stok-b", "b", b_expires))
            .await
            .unwrap();
        assert_eq!(raw.members(&a_sessions).await, ["stok-long"]);
        assert_eq!(
            raw.zmembers(&keys.session_expiries()).await,
            [
                keys::session_member("a", "stok-long"),
                keys::session_member("b", "stok-b")
            ]
        );
        db.create_verification_token(VerificationToken::new("b@x", "vtok-b", b_expires))
            .await
            .unwrap();
        assert_eq!(
            raw.zmembers(&keys.token_expiries()).await,
            [
                keys::token_member("a@x", "vtok-long"),
                keys::token_member("b@x", "vtok-b")
            ]
        );

        // Every index set expires with its last member.
        let long_ms = ms(auth_core::truncate_to_millis(long));
        assert_eq!(raw.expire_time(&a_sessions).await, long_ms);
        assert_eq!(
            raw.expire_time(&keys.user_sessions("b")).await,
            ms(b_expires)
        );
        assert_eq!(raw.expire_time(&keys.session_expiries()).await, long_ms);
        assert_eq!(raw.expire_time(&keys.token_expiries()).await, long_ms);

        // Moving b's session to a, later than a's longest: a's set follows it, and b's
        // set is gone with its last member.
        let later = Utc::now() + Span::days(60);
        db.update_session(SessionUpdate::new("stok-b").user_id("a").expires(later))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(raw.expire_time(&a_sessions).await, ms(later));
        assert_eq!(raw.expire_time(&keys.user_sessions("b")).await, -2);
        assert_eq!(raw.expire_time(&keys.session_expiries()).await, ms(later));

        // Shortening a session never lowers its set's expiry below another member's.
        db.update_session(SessionUpdate::new("stok-b").expires(Utc::now() + Span::minutes(1)))
            .await
            .unwrap()
            .unwrap();
        assert!(raw.expire_time(&a_sessions).await >= long_ms);
        assert_eq!(raw.expire_time(&keys.session_expiries()).await, long_ms);

        // delete_expired still finds nothing to count.
        assert_eq!(db.delete_expired(Utc::now()).await.unwrap().total(), 0);
    })
    .await;
}

/// A user-sessions set written by an earlier version (no expiry) gets one on the next
/// create_session, no earlier than its longest-lived member, so no live session loses its
/// index entry.
#[tokio::test]
async fn a_set_without_expiry_gets_one_on_the_next_create() {
    in_world(false, |db, raw| async move {
        let keys = db.keys().clone();
        db.create_user(User::with_id("u")).await.unwrap();
        let longest = auth_core::truncate_to_millis(Utc::now() + Span::days(30));
        db.create_session(Session::with_token("stok-longest", "u", longest))
            .await
            .unwrap();
        db.create_session(Session::with_token(
            "stok-day",
            "u",
            Utc::now() + Span::days(1),
        ))
        .await
        .unwrap();
        db.create_session(Session::with_token(
            "stok-brief",
            "u",
            Utc::now() + Span::milliseconds(300),
        ))
        .await
        .unwrap();
        let set = keys.user_sessions("u");
        // As an earlier version left it: no expiry.
        let persisted: i64 = raw.query(redis::cmd("PERSIST").arg(&set)).await;
        assert_eq!(persisted, 1);
        assert_eq!(raw.expire_time(&set).await, -1);
        tokio::time::sleep(Duration::from_millis(500)).await;

        db.create_session(Session::with_token(
            "stok-new",
            "u",
            Utc::now() + Span::hours(1),
        ))
        .await
        .unwrap();
        assert_eq!(raw.expire_time(&set).await, ms(longest));
        // The expired member went on the way; the live ones stayed.
        assert_eq!(
            raw.members(&set).await,
            ["stok-day", "stok-longest", "stok-new"]
        );
        assert_eq!(db.list_sessions("u").await.unwrap().len(), 3);
    })
    .await;
}

/// One write drops at most the documented batch of expired entries: a larger backlog
/// drains over the next writes. Prints how long the largest batch took.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_write_drains_at_most_one_batch() {
    const BATCH: i64 = 1000;
    in_world(false, |db, raw| async move {
        let keys = db.keys().clone();
        let (users, count) = (50, 2500);
        for u in 0..users {
            db.create_user(User::with_id(format!("u{u}")))
                .await
                .unwrap();
        }
        db.create_user(User::with_id("fresh")).await.unwrap();
        // A long-lived session keeps session-expiries from expiring as a whole.
        db.create_session(Session::with_token(
            "stok-anchor",
            "u0",
            Utc::now() + Span::days(1),
        ))
        .await
        .unwrap();
        // All expire at the same instant, after the last is created.
        let at = Utc::now() + Span::seconds(3);
        let runs = (0..8).map(|t| {
            let db = db.clone();
            tokio::spawn(async move {
                for i in (t..count).step_by(8) {
                    db.create_session(Session::with_token(
                        format!("stok-{i}"),
                        format!("u{}", i % users),
                        at,
                    ))
                    .await
                    .unwrap();
                }
            })
        });
        for run in futures::future::join_all(runs).await {
            run.unwrap();
        }
        assert!(Utc::now() < at, "creating the backlog took too long");
        wait_past(at, Duration::from_millis(200)).await;
        let zset = keys.session_expiries();
        assert_eq!(raw.zcard(&zset).await, count as i64 + 1);

        // A fresh user's set has nothing to prune: exactly one batch goes.
        let mut timings = Vec::new();
        let mut left = count as i64;
        let mut n = 0;
        while left > 0 {
            let started = Instant::now();
            db.create_session(Session::with_token(
                format!("stok-new-{n}"),
                "fresh",
                Utc::now() + Span::hours(1),
            ))
            .await
            .unwrap();
            timings.push(started.elapsed());
            n += 1;
            let dropped = left.min(BATCH);
            left -= dropped;
            assert_eq!(raw.zcard(&zset).await, left + 1 + n, "after write {n}");
        }
        let started = Instant::now();
        db.create_session(Session::with_token(
            "stok-idle",
            "fresh",
            Utc::now() + Span::hours(1),
        ))
        .await
        .unwrap();
        eprintln!(
            "upkeep: a backlog of {count} expired sessions drained in {n} writes of at most \
             {BATCH} entries; create_session took {timings:.2?} (with no backlog: {:.2?})",
            started.elapsed()
        );
        // Only the anchor's user kept a member.
        for u in 1..users {
            assert!(raw
                .members(&keys.user_sessions(&format!("u{u}")))
                .await
                .is_empty());
        }
        assert_eq!(
            raw.members(&keys.user_sessions("u0")).await,
            ["stok-anchor"]
        );
    })
    .await;
}

/// Auth.js unstorage layout: the by-user-id session pointer holds the token, so it is
/// written with the session's expiry, on create and on update.
#[tokio::test]
async fn the_unstorage_session_pointer_expires_with_its_session() {
    in_world(true, |db, raw| async move {
        let prefix = raw.layout.prefix().to_owned();
        let pointer = |uid: &str| format!("{prefix}user:session:by-user-id:{uid}");
        db.create_user(User::with_id("a")).await.unwrap();
        db.create_user(User::with_id("b")).await.unwrap();
        let expires = auth_core::truncate_to_millis(Utc::now() + Span::hours(1));
        db.create_session(Session::with_token("stok-1", "a", expires))
            .await
            .unwrap();
        assert_eq!(raw.expire_time(&pointer("a")).await, ms(expires));

        // Extended: the pointer follows while it names the session.
        let later = auth_core::truncate_to_millis(Utc::now() + Span::hours(2));
        db.update_session(SessionUpdate::new("stok-1").expires(later))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(raw.expire_time(&pointer("a")).await, ms(later));

        // A pointer naming another session is left alone.
        let other = auth_core::truncate_to_millis(Utc::now() + Span::hours(3));
        db.create_session(Session::with_token("stok-2", "a", other))
            .await
            .unwrap();
        db.update_session(SessionUpdate::new("stok-1").expires(Utc::now() + Span::hours(4)))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(raw.expire_time(&pointer("a")).await, ms(other));

        // Moved to b: b's pointer gets the session's expiry.
        db.update_session(SessionUpdate::new("stok-2").user_id("b"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(raw.expire_time(&pointer("b")).await, ms(other));
        assert_eq!(db.list_sessions("b").await.unwrap().len(), 1);

        // A short session's pointer is gone with it; Node and Rust read that as none.
        db.create_session(Session::with_token(
            "stok-3",
            "b",
            Utc::now() + Span::milliseconds(300),
        ))
        .await
        .unwrap();
        tokio::time::sleep(Duration::from_millis(600)).await;
        assert_eq!(raw.expire_time(&pointer("b")).await, -2);
        assert!(db.list_sessions("b").await.unwrap().is_empty());
    })
    .await;
}
