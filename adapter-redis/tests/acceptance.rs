//! The acceptance tests of the Redis adapter beyond the shared suite: keys that cannot
//! collide, nothing left behind by `delete_user`, self-cleaning indexes, and connections
//! that die mid-run. Each test works under its own key prefix and removes it afterwards.
//!
//! Needs `AUTH_TEST_REDIS_URL` (e.g. `redis://127.0.0.1:6379`); without it the tests skip
//! loudly, or fail when `AUTH_CONFORMANCE_REQUIRE` names `redis`.

// The helpers below are test code too: a failed set-up is a failed test.
#![allow(clippy::unwrap_used)]

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use adapter_redis::conformance::{
    fresh_prefix, scan_keys, teardown_prefix, test_server_url as server_url,
};
use adapter_redis::redis::{self, aio::MultiplexedConnection};
use adapter_redis::RedisAdapter;
use auth_core::chrono::{Duration as Span, Utc};
use auth_core::{
    Account, AccountType, Adapter, AdapterResult, Authenticator, ErrorCode, ErrorKind, Session,
    User,
};
use futures::FutureExt;

/// An adapter on a fresh prefix and a raw connection to the same server.
#[derive(Clone)]
struct World {
    adapter: RedisAdapter,
    raw: MultiplexedConnection,
}

impl World {
    async fn open(url: &str) -> Self {
        let adapter = RedisAdapter::builder(url)
            .key_prefix(fresh_prefix())
            .call_timeout(Duration::from_secs(2))
            .connect()
            .await
            .unwrap();
        adapter.migrate().await.unwrap();
        let raw = redis::Client::open(url)
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        Self { adapter, raw }
    }

    /// Every key under the prefix.
    async fn keys(&self) -> Vec<String> {
        scan_keys(&self.raw, self.adapter.keys(), None)
            .await
            .unwrap()
    }

    async fn members(&self, key: &str) -> Vec<String> {
        let mut conn = self.raw.clone();
        redis::cmd("SMEMBERS")
            .arg(key)
            .query_async(&mut conn)
            .await
            .unwrap()
    }

    async fn zmembers(&self, key: &str) -> Vec<String> {
        let mut conn = self.raw.clone();
        redis::cmd("ZRANGE")
            .arg(key)
            .arg(0)
            .arg(-1)
            .query_async(&mut conn)
            .await
            .unwrap()
    }

    async fn teardown(self) {
        teardown_prefix(&self.raw, self.adapter.keys())
            .await
            .unwrap();
        assert!(self.keys().await.is_empty(), "teardown left keys behind");
    }
}

/// Runs `body` in a fresh world (when a server is configured) and removes the world's keys
/// afterwards, also when `body` panics.
async fn in_world<Fut: Future<Output = ()>>(body: impl FnOnce(World) -> Fut) {
    let Some(url) = server_url() else { return };
    let world = World::open(&url).await;
    let outcome = AssertUnwindSafe(body(world.clone())).catch_unwind().await;
    world.teardown().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// The life of a short session: long enough to be stored on a busy machine, short enough to
/// watch it expire.
const SHORT_MS: i64 = 500;

fn live(token: &str, user_id: &str) -> Session {
    Session::with_token(token, user_id, Utc::now() + Span::days(30))
}

#[tokio::test]
async fn colliding_account_keys_stay_two_accounts() {
    in_world(|world| async move {
        let db = &world.adapter;
        db.create_user(User::with_id("u1")).await.unwrap();
        db.create_user(User::with_id("u2")).await.unwrap();

        let mut first = Account::new("u1", AccountType::OAuth, "a:b", "c");
        first.access_token = Some("first".into());
        let mut second = Account::new("u2", AccountType::Oidc, "a", "b:c");
        second.access_token = Some("second".into());
        db.link_account(first.clone()).await.unwrap();
        db.link_account(second.clone()).await.unwrap();

        assert_eq!(
            db.get_account("a:b", "c").await.unwrap(),
            Some(first.clone())
        );
        assert_eq!(
            db.get_account("a", "b:c").await.unwrap(),
            Some(second.clone())
        );
        assert_eq!(
            db.get_user_by_account("a", "b:c")
                .await
                .unwrap()
                .map(|u| u.id),
            Some("u2".to_owned())
        );
        let account_keys: Vec<String> = world
            .keys()
            .await
            .into_iter()
            .filter(|k| k.contains(":account:"))
            .collect();
        assert_eq!(account_keys.len(), 2, "{account_keys:?}");

        // The same holds for every compound key: verification tokens and session owners.
        let tomorrow = auth_core::truncate_to_millis(Utc::now() + Span::days(1));
        let t1 = auth_core::VerificationToken::new("a:b", "c", tomorrow);
        let t2 = auth_core::VerificationToken::new("a", "b:c", tomorrow);
        db.create_verification_token(t1.clone()).await.unwrap();
        db.create_verification_token(t2.clone()).await.unwrap();
        assert_eq!(
            db.use_verification_token("a:b", "c").await.unwrap(),
            Some(t1)
        );
        assert_eq!(
            db.use_verification_token("a", "b:c").await.unwrap(),
            Some(t2)
        );

        // Unlinking one leaves the other, and the right user's index.
        assert_eq!(db.unlink_account("a:b", "c").await.unwrap(), Some(first));
        assert_eq!(db.get_account("a", "b:c").await.unwrap(), Some(second));
        assert!(world
            .members(&db.keys().user_accounts("u1"))
            .await
            .is_empty());
        assert_eq!(world.members(&db.keys().user_accounts("u2")).await.len(), 1);
    })
    .await;
}

#[tokio::test]
async fn delete_user_leaves_no_key_of_the_user() {
    in_world(|world| async move {
        let db = &world.adapter;
        let id = "victim-7f3a";
        let email = "Victim.Person@Example.COM";
        let user = db
            .create_user(User::with_id(id).with_email(email).with_name("V"))
            .await
            .unwrap();
        let bystander = db
            .create_user(User::with_id("bystander").with_email("by@example.com"))
            .await
            .unwrap();
        for provider in ["github", "google"] {
            db.link_account(Account::new(id, AccountType::OAuth, provider, "acct"))
                .await
                .unwrap();
        }
        db.link_account(Account::new(
            "bystander",
            AccountType::OAuth,
            "github",
            "by",
        ))
        .await
        .unwrap();
        db.create_session(live("s-1", id)).await.unwrap();
        db.create_session(Session::with_token(
            "s-short",
            id,
            Utc::now() + Span::milliseconds(SHORT_MS),
        ))
        .await
        .unwrap();
        db.create_session(live("s-by", "bystander")).await.unwrap();
        for cred in ["cred-1", "cred-2"] {
            db.create_authenticator(Authenticator::new(cred, id, "acct", "pk"))
                .await
                .unwrap();
        }
        // One session has expired (Redis dropped its key) before the delete.
        tokio::time::sleep(Duration::from_millis(SHORT_MS as u64 + 300)).await;

        assert_eq!(db.delete_user(id).await.unwrap(), Some(user));

        let normalized = auth_core::normalize_email(email);
        let left: Vec<String> = world
            .keys()
            .await
            .into_iter()
            .filter(|k| k.contains(id) || k.contains(email) || k.contains(&normalized))
            .collect();
        assert!(left.is_empty(), "keys of the deleted user remain: {left:?}");
        for zset in [db.keys().session_expiries(), db.keys().token_expiries()] {
            let members = world.zmembers(&zset).await;
            assert!(
                members.iter().all(|m| !m.contains(id)),
                "{zset} still lists the deleted user: {members:?}"
            );
        }
        // The bystander is untouched.
        assert_eq!(
            db.get_user("bystander").await.unwrap(),
            Some(bystander.clone())
        );
        assert_eq!(
            db.get_session_and_user("s-by")
                .await
                .unwrap()
                .map(|(_, u)| u),
            Some(bystander)
        );
        assert!(db.get_account("github", "by").await.unwrap().is_some());
        assert_eq!(db.get_user_by_email(email).await.unwrap(), None);
    })
    .await;
}

#[tokio::test]
async fn expired_sessions_leave_no_index_entries() {
    in_world(|world| async move {
        let db = &world.adapter;
        db.create_user(User::with_id("u")).await.unwrap();
        db.create_session(live("long", "u")).await.unwrap();
        for token in ["short-1", "short-2"] {
            db.create_session(Session::with_token(
                token,
                "u",
                Utc::now() + Span::milliseconds(SHORT_MS),
            ))
            .await
            .unwrap();
        }
        let index = db.keys().user_sessions("u");
        assert_eq!(world.members(&index).await.len(), 3);
        tokio::time::sleep(Duration::from_millis(SHORT_MS as u64 + 300)).await;

        // Read: only the live session, and the index is pruned on the way.
        let listed = db.list_sessions("u").await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(world.members(&index).await, vec!["long".to_owned()]);

        // The sweep clears the expiry set too.
        db.create_session(Session::with_token(
            "short-3",
            "u",
            Utc::now() + Span::milliseconds(SHORT_MS),
        ))
        .await
        .unwrap();
        tokio::time::sleep(Duration::from_millis(SHORT_MS as u64 + 300)).await;
        // Redis expired the session by itself: the sweep drops its entries and counts
        // nothing, since it removed no session.
        let counts = db.delete_expired(Utc::now()).await.unwrap();
        assert_eq!(counts.sessions, 0, "{counts:?}");
        assert_eq!(world.members(&index).await, vec!["long".to_owned()]);
        assert_eq!(world.zmembers(&db.keys().session_expiries()).await.len(), 1);

        // A token reused by another user after expiry does not confuse the first user's index.
        db.create_user(User::with_id("w")).await.unwrap();
        db.create_session(Session::with_token(
            "reuse",
            "u",
            Utc::now() + Span::milliseconds(SHORT_MS),
        ))
        .await
        .unwrap();
        tokio::time::sleep(Duration::from_millis(SHORT_MS as u64 + 300)).await;
        db.create_session(live("reuse", "w")).await.unwrap();
        assert_eq!(db.list_sessions("u").await.unwrap().len(), 1);
        assert_eq!(db.delete_sessions("u").await.unwrap(), 1);
        assert_eq!(
            db.get_session_and_user("reuse")
                .await
                .unwrap()
                .map(|(s, _)| s.user_id),
            Some("w".to_owned()),
            "signing u out everywhere removed w's session"
        );
    })
    .await;
}

/// A call's outcome is acceptable during an outage: a value, or ADAPTER_CONNECTION_ERROR.
fn outage_ok<T: std::fmt::Debug>(result: &AdapterResult<T>) {
    if let Err(err) = result {
        assert_eq!(err.code(), ErrorCode::AdapterConnectionError, "{err}");
        assert_eq!(err.kind(), ErrorKind::Connection);
    }
}

#[tokio::test]
async fn client_kill_mid_run_fails_fast_and_recovers() {
    in_world(|world| async move {
        let db = Arc::new(world.adapter.clone());
        let limit = db.call_timeout() + Duration::from_secs(1);
        let user = db.create_user(User::with_id("steady")).await.unwrap();
        db.create_session(live("steady-session", "steady"))
            .await
            .unwrap();

        let mut adapter_conn = db.connection().unwrap();
        let old_id: i64 = redis::cmd("CLIENT")
            .arg("ID")
            .query_async(&mut adapter_conn)
            .await
            .unwrap();

        // Callers hammer the adapter while its connection is killed under them.
        let started = Instant::now();
        let workers: Vec<_> = (0..4)
            .map(|_| {
                let db = db.clone();
                tokio::spawn(async move {
                    let mut outcomes = Vec::new();
                    while started.elapsed() < Duration::from_millis(1500) {
                        let at = Instant::now();
                        let result = db.get_session_and_user("steady-session").await;
                        outcomes.push((at.elapsed(), result));
                    }
                    outcomes
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(300)).await;
        let mut raw = world.raw.clone();
        let killed: i64 = redis::cmd("CLIENT")
            .arg("KILL")
            .arg("ID")
            .arg(old_id)
            .query_async(&mut raw)
            .await
            .unwrap();
        assert_eq!(killed, 1, "the adapter's connection was not found");

        let mut failures = 0;
        let mut successes = 0;
        for worker in workers {
            for (took, result) in worker.await.unwrap() {
                assert!(took <= limit, "a call hung for {took:?}");
                outage_ok(&result);
                match result {
                    Ok(found) => {
                        assert_eq!(found.map(|(_, u)| u), Some(user.clone()));
                        successes += 1;
                    }
                    Err(_) => failures += 1,
                }
            }
        }
        eprintln!("during the kill: {successes} calls succeeded, {failures} failed fast");

        // Afterwards the adapter works again, on a new connection.
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            match db.get_user("steady").await {
                Ok(found) => {
                    assert_eq!(found, Some(user.clone()));
                    break;
                }
                Err(err) => {
                    outage_ok::<()>(&Err(err));
                    assert!(Instant::now() < deadline, "the adapter did not reconnect");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
        let new_id: i64 = redis::cmd("CLIENT")
            .arg("ID")
            .query_async(&mut db.connection().unwrap())
            .await
            .unwrap();
        assert_ne!(new_id, old_id, "still on the killed connection");
    })
    .await;
}

/// A throwaway redis-server on a free port, stopped when dropped.
struct OwnServer {
    child: Child,
    port: u16,
}

impl OwnServer {
    fn start(port: u16) -> Option<Self> {
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        Some(Self { child, port })
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    async fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for OwnServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test]
async fn a_server_that_dies_fails_fast_and_the_adapter_recovers() {
    // Needs the redis-server binary, not the shared server: it is stopped and restarted.
    if server_url().is_none() {
        return;
    }
    let port = free_port();
    let Some(mut server) = OwnServer::start(port) else {
        eprintln!("SKIPPED: no redis-server binary to start a throwaway server");
        return;
    };
    server.wait_ready().await;
    let db = RedisAdapter::builder(server.url())
        .call_timeout(Duration::from_secs(2))
        .connect()
        .await
        .unwrap();
    db.migrate().await.unwrap();
    db.create_user(User::with_id("u")).await.unwrap();
    let limit = db.call_timeout() + Duration::from_secs(1);

    server.stop();
    for _ in 0..5 {
        let at = Instant::now();
        let result = db.get_user("u").await;
        assert!(at.elapsed() <= limit, "a call took {:?}", at.elapsed());
        let err = result.expect_err("a dead server answered");
        assert_eq!(err.code(), ErrorCode::AdapterConnectionError, "{err}");
    }

    // The server comes back (empty: it keeps nothing); the same adapter works again.
    let server = OwnServer::start(port).expect("restart redis-server");
    server.wait_ready().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let at = Instant::now();
        match db.create_user(User::with_id("after")).await {
            Ok(_) => break,
            Err(err) => {
                assert!(at.elapsed() <= limit, "a call took {:?}", at.elapsed());
                assert_eq!(err.code(), ErrorCode::AdapterConnectionError, "{err}");
                assert!(Instant::now() < deadline, "the adapter did not reconnect");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    assert!(db.get_user("after").await.unwrap().is_some());
    drop(server);
}

#[tokio::test]
async fn prefixes_are_isolated() {
    let Some(url) = server_url() else { return };
    let one = World::open(&url).await;
    let two = World::open(&url).await;
    one.adapter
        .create_user(User::with_id("same").with_email("same@example.com"))
        .await
        .unwrap();
    two.adapter
        .create_user(User::with_id("same").with_email("same@example.com"))
        .await
        .unwrap();
    one.adapter.delete_user("same").await.unwrap();
    assert!(two.adapter.get_user("same").await.unwrap().is_some());
    assert!(one
        .keys()
        .await
        .iter()
        .all(|k| k.starts_with(one.adapter.keys().prefix())));
    one.teardown().await;
    assert!(two.adapter.get_user("same").await.unwrap().is_some());
    two.teardown().await;
}

#[tokio::test]
async fn delete_expired_counts_what_it_removed() {
    in_world(|world| async move {
        let db = &world.adapter;
        db.create_user(User::with_id("u")).await.unwrap();
        db.create_session(live("long", "u")).await.unwrap();
        // Two sessions and a token that Redis still holds, but that are expired at a `now`
        // one hour ahead: the sweep removes and counts exactly those.
        let soon = Utc::now() + Span::minutes(10);
        for token in ["soon-1", "soon-2"] {
            db.create_session(Session::with_token(token, "u", soon))
                .await
                .unwrap();
        }
        db.create_verification_token(auth_core::VerificationToken::new("a@x", "vt", soon))
            .await
            .unwrap();
        let later = Utc::now() + Span::hours(1);
        let counts = db.delete_expired(later).await.unwrap();
        assert_eq!((counts.sessions, counts.verification_tokens), (2, 1));
        let index = db.keys().user_sessions("u");
        assert_eq!(world.members(&index).await, vec!["long".to_owned()]);
        assert_eq!(world.zmembers(&db.keys().session_expiries()).await.len(), 1);
        assert!(world.zmembers(&db.keys().token_expiries()).await.is_empty());
        assert_eq!(db.delete_expired(later).await.unwrap().total(), 0);
        assert_eq!(db.list_sessions("u").await.unwrap().len(), 1);
    })
    .await;
}

#[tokio::test]
async fn indexes_follow_accounts_and_authenticators() {
    in_world(|world| async move {
        let db = &world.adapter;
        db.create_user(User::with_id("u")).await.unwrap();
        for provider in ["github", "google"] {
            db.link_account(Account::new("u", AccountType::OAuth, provider, "1"))
                .await
                .unwrap();
        }
        db.create_authenticator(Authenticator::new("c1", "u", "1", "pk"))
            .await
            .unwrap();
        db.create_authenticator(Authenticator::new("c2", "u", "1", "pk"))
            .await
            .unwrap();
        assert_eq!(db.list_accounts("u").await.unwrap().len(), 2);

        // delete_authenticator removes the credential from the user's index in the same step.
        assert!(db.delete_authenticator("c1").await.unwrap().is_some());
        assert_eq!(
            world.members(&db.keys().user_authenticators("u")).await,
            vec!["c2".to_owned()]
        );
        assert_eq!(db.delete_authenticator("c1").await.unwrap(), None);

        // An index entry that points at nothing (written by hand here) is pruned by the list.
        let mut raw = world.raw.clone();
        let stale = adapter_redis::keys::account_member("gone", "9");
        let _: i64 = redis::cmd("SADD")
            .arg(db.keys().user_accounts("u"))
            .arg(&stale)
            .query_async(&mut raw)
            .await
            .unwrap();
        let _: i64 = redis::cmd("SADD")
            .arg(db.keys().user_authenticators("u"))
            .arg("ghost")
            .query_async(&mut raw)
            .await
            .unwrap();
        assert_eq!(db.list_accounts("u").await.unwrap().len(), 2);
        assert_eq!(db.list_authenticators("u").await.unwrap().len(), 1);
        let accounts = world.members(&db.keys().user_accounts("u")).await;
        assert_eq!(accounts.len(), 2, "{accounts:?}");
        assert!(!accounts.contains(&stale));
        assert_eq!(
            world.members(&db.keys().user_authenticators("u")).await,
            vec!["c2".to_owned()]
        );
    })
    .await;
}

#[tokio::test]
async fn update_session_applies_to_live_sessions_only() {
    in_world(|world| async move {
        let db = &world.adapter;
        db.create_user(User::with_id("u")).await.unwrap();
        db.create_user(User::with_id("w")).await.unwrap();
        db.create_session(live("s", "u")).await.unwrap();

        // Moving to a user that does not exist: NotFound, nothing changed.
        let err = db
            .update_session(auth_core::SessionUpdate::new("s").user_id("ghost"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert_eq!(db.list_sessions("u").await.unwrap().len(), 1);

        // Moving to w moves the index entries and the expiry member too.
        db.update_session(auth_core::SessionUpdate::new("s").user_id("w"))
            .await
            .unwrap()
            .unwrap();
        assert!(world
            .members(&db.keys().user_sessions("u"))
            .await
            .is_empty());
        assert_eq!(
            world.members(&db.keys().user_sessions("w")).await,
            vec!["s".to_owned()]
        );
        assert_eq!(
            world.zmembers(&db.keys().session_expiries()).await,
            vec![adapter_redis::keys::session_member("w", "s")]
        );

        // An update to a past expiry ends the session and leaves no index entry.
        let gone = db
            .update_session(
                auth_core::SessionUpdate::new("s").expires(Utc::now() - Span::seconds(1)),
            )
            .await
            .unwrap();
        assert_eq!(gone, None);
        assert_eq!(db.get_session_and_user("s").await.unwrap(), None);
        assert!(world
            .members(&db.keys().user_sessions("w"))
            .await
            .is_empty());
        assert!(world
            .zmembers(&db.keys().session_expiries())
            .await
            .is_empty());
    })
    .await;
}

#[tokio::test]
async fn close_ends_every_clone_and_keeps_a_shared_manager() {
    let Some(url) = server_url() else { return };
    let client = redis::Client::open(url.as_str()).unwrap();
    let manager = redis::aio::ConnectionManager::new(client).await.unwrap();
    let prefix = fresh_prefix();
    let db = RedisAdapter::from_pool(manager.clone())
        .key_prefix(prefix.as_str())
        .connect()
        .await
        .unwrap();
    let err = RedisAdapter::from_pool(manager.clone())
        .key_prefix("bad prefix")
        .connect()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    db.migrate().await.unwrap();
    db.create_user(User::with_id("u")).await.unwrap();
    let clone = db.clone();
    db.close().await;
    for adapter in [&db, &clone] {
        let err = adapter.get_user("u").await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::AdapterConnectionError, "{err}");
        assert!(adapter.connection().is_none());
    }
    // The app's own manager still works.
    let mut mine = manager.clone();
    let pong: String = redis::cmd("PING").query_async(&mut mine).await.unwrap();
    assert_eq!(pong, "PONG");
    let raw = redis::Client::open(url.as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    teardown_prefix(&raw, db.keys()).await.unwrap();
}

#[tokio::test]
async fn a_closed_port_fails_fast_with_its_cause() {
    let port = free_port();
    let at = Instant::now();
    let err = RedisAdapter::connect(&format!("redis://127.0.0.1:{port}"))
        .await
        .unwrap_err();
    let took = at.elapsed();
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert_eq!(err.code(), ErrorCode::AdapterConnectionError);
    let printed = format!("{err:?}");
    assert!(
        printed.to_lowercase().contains("refused"),
        "the cause is lost: {printed}"
    );
    eprintln!("closed port: failed in {took:?}: {printed}");
}

/// An address where a connection attempt would hang (a non-routed private address): a
/// check that dialled it would take the whole call timeout, not milliseconds.
const BLACKHOLE: &str = "redis://10.255.255.1:6379";

/// A manager on [`BLACKHOLE`] that has not connected (and never will): lazy managers open
/// their connection on the first command.
fn lazy_manager() -> redis::aio::ConnectionManager {
    let client = redis::Client::open(BLACKHOLE).unwrap();
    redis::aio::ConnectionManager::new_lazy_with_config(
        client,
        redis::aio::ConnectionManagerConfig::new(),
    )
    .unwrap()
}

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

/// Bad configuration is `InvalidInput` with the code of `connect`, reported by `connect`
/// before any I/O (so in milliseconds, though every target would hang), with the driver's
/// message, where there is one, once in the chain and not repeated in the message.
#[tokio::test]
async fn bad_configuration_is_invalid_input_before_any_io() {
    use adapter_redis::{Layout, UnstorageLayout};
    let b = RedisAdapter::builder;
    let cases: Vec<(&str, adapter_redis::RedisAdapterBuilder, Option<&str>)> = vec![
        (
            "a port that is not a number",
            b("redis://127.0.0.1:notaport"),
            Some("did not parse"),
        ),
        (
            "a port out of range",
            b("redis://app:hunter2@127.0.0.1:99999"),
            Some("did not parse"),
        ),
        (
            "a scheme that is not Redis",
            b("http://127.0.0.1:6379"),
            Some(""),
        ),
        (
            "a database that is not a number",
            b("redis://127.0.0.1:6379/nodb"),
            Some("database"),
        ),
        (
            "an unknown protocol",
            b("redis://127.0.0.1:6379/?protocol=resp9"),
            Some("protocol"),
        ),
        (
            "a TLS URL fragment",
            b("rediss://127.0.0.1:6379#bogus"),
            Some("fragment"),
        ),
        (
            "an invalid key prefix",
            b(BLACKHOLE).key_prefix("a b"),
            Some("prefix"),
        ),
        (
            "an empty key prefix",
            b(BLACKHOLE).key_prefix(""),
            Some("prefix"),
        ),
        (
            "a key prefix with the Auth.js layout",
            b(BLACKHOLE)
                .key_prefix("app:")
                .layout(Layout::AuthJsUnstorage(UnstorageLayout::new())),
            None,
        ),
        (
            "a zero call timeout",
            b(BLACKHOLE).call_timeout(Duration::ZERO),
            None,
        ),
        (
            "reconnect retries for an adopted manager",
            RedisAdapter::from_pool(lazy_manager()).reconnect_retries(3),
            None,
        ),
        (
            "a reconnect delay for an adopted manager",
            RedisAdapter::from_pool(lazy_manager()).reconnect_max_delay(Duration::from_secs(2)),
            None,
        ),
        (
            "an invalid key prefix for an adopted manager",
            RedisAdapter::from_pool(lazy_manager()).key_prefix("a*"),
            Some("prefix"),
        ),
    ];
    for (what, builder, driver) in cases {
        let at = Instant::now();
        let err = builder.connect().await.expect_err(what);
        let took = at.elapsed();
        assert!(took < Duration::from_millis(500), "{what}: took {took:?}");
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{what}: {err:?}");
        assert_eq!(err.code(), ErrorCode::AdapterConnectionError, "{what}");
        assert_eq!(err.operation(), auth_core::Operation::Connect, "{what}");
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
        assert!(!format!("{err:?}").contains("hunter2"), "{what}: {err:?}");
        eprintln!("{what}: {err:?} in {took:?}");
    }
}

/// A manager passed to `from_pool` takes every builder option that is not about opening a
/// connection; `connect` does no I/O, and the call timeout bounds its calls.
#[tokio::test]
async fn an_adopted_manager_takes_the_options_and_the_call_timeout() {
    let limit = Duration::from_millis(300);
    let at = Instant::now();
    let db = RedisAdapter::from_pool(lazy_manager())
        .key_prefix("adopted:")
        .call_timeout(limit)
        .connect()
        .await
        .unwrap();
    assert!(at.elapsed() < Duration::from_millis(500), "connect did I/O");
    assert_eq!(db.call_timeout(), limit);
    assert_eq!(db.keys().prefix(), "adopted:");
    for _ in 0..3 {
        let at = Instant::now();
        let err = db.get_user("u").await.unwrap_err();
        let took = at.elapsed();
        assert!(took < limit + Duration::from_millis(500), "took {took:?}");
        assert_eq!(err.code(), ErrorCode::AdapterConnectionError, "{err:?}");
        assert_eq!(err.kind(), ErrorKind::Connection);
    }
}

/// A paused server (SIGSTOP: connection open, nothing answers) fails each call within the
/// call timeout, whatever the call (one round trip or several); once resumed, the same
/// adapter serves again.
#[tokio::test]
async fn a_paused_server_fails_each_call_within_the_call_timeout() {
    if server_url().is_none() {
        return;
    }
    let port = free_port();
    let Some(server) = OwnServer::start(port) else {
        eprintln!("SKIPPED: no redis-server binary to start a throwaway server");
        return;
    };
    server.wait_ready().await;
    let limit = Duration::from_millis(700);
    let db = RedisAdapter::builder(server.url())
        .call_timeout(limit)
        .connect()
        .await
        .unwrap();
    db.migrate().await.unwrap();
    db.create_user(User::with_id("u")).await.unwrap();
    db.create_session(live("paused-s", "u")).await.unwrap();

    let signal = |sig: &str| {
        let status = Command::new("kill")
            .args([sig, &server.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill {sig}");
    };
    signal("-STOP");
    let outcome = AssertUnwindSafe(async {
        for _ in 0..2 {
            let at = Instant::now();
            let err = db.delete_user("u").await.unwrap_err();
            assert!(
                at.elapsed() < limit + Duration::from_millis(500),
                "took {:?}",
                at.elapsed()
            );
            assert_eq!(err.code(), ErrorCode::AdapterConnectionError, "{err:?}");
            let at = Instant::now();
            let err = db.get_session_and_user("paused-s").await.unwrap_err();
            assert!(
                at.elapsed() < limit + Duration::from_millis(500),
                "took {:?}",
                at.elapsed()
            );
            assert_eq!(err.kind(), ErrorKind::Connection, "{err:?}");
        }
    })
    .catch_unwind()
    .await;
    signal("-CONT");
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match db.get_session_and_user("paused-s").await {
            Ok(found) => {
                assert!(found.is_some());
                break;
            }
            Err(err) => {
                outage_ok::<()>(&Err(err));
                assert!(Instant::now() < deadline, "the adapter did not serve again");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    drop(server);
}

#[test]
fn debug_shows_no_password() {
    let builder = RedisAdapter::builder("redis://app:hunter2@127.0.0.1:6379/0").key_prefix("p:");
    let shown = format!("{builder:?} {builder:#?}");
    assert!(!shown.contains("hunter2"), "{shown}");
}

#[tokio::test]
async fn no_secret_in_the_adapter_debug() {
    in_world(|world| async move {
        let db = &world.adapter;
        db.create_user(User::with_id("u")).await.unwrap();
        db.create_session(live("secret-session-token-1", "u"))
            .await
            .unwrap();
        let err = db
            .create_session(live("secret-session-token-1", "u"))
            .await
            .unwrap_err();
        let shown = format!("{db:?} {db:#?} {err} {err:?}");
        assert!(!shown.contains("secret-session-token-1"), "{shown}");
        let mut source = std::error::Error::source(&err);
        while let Some(cause) = source {
            assert!(!cause.to_string().contains("secret-session-token-1"));
            source = cause.source();
        }
    })
    .await;
}

/// The Auth.js unstorage layout where its keys collide: unstorage drops everything from a
/// `?` on and turns `/` into `:`, so different ids can share a key. Reads check the record
/// is the one asked for, a create on a taken key is a `Conflict`, and the session script
/// builds the user key exactly as Rust does.
#[tokio::test]
async fn authjs_layout_keys_that_collide_are_never_confused() {
    use adapter_redis::keys::KeyLayout;
    use adapter_redis::{Layout, UnstorageLayout};
    let Some(url) = server_url() else { return };
    let prefix = fresh_prefix();
    let adapter = RedisAdapter::builder(url.as_str())
        .layout(Layout::AuthJsUnstorage(
            UnstorageLayout::new().base_key_prefix(prefix.as_str()),
        ))
        .connect()
        .await
        .unwrap();
    adapter.migrate().await.unwrap();
    let raw = redis::Client::open(url.as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let outcome = AssertUnwindSafe(async {
        adapter.create_user(User::with_id("x?one")).await.unwrap();
        let err = adapter
            .create_user(User::with_id("x?two"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Conflict);
        assert_eq!(adapter.get_user("x?two").await.unwrap(), None);
        assert_eq!(adapter.delete_user("x?two").await.unwrap(), None);
        assert!(adapter.get_user("x?one").await.unwrap().is_some());

        // `a/b` is stored under `user:a:b`, in Rust and in the session script alike.
        let odd = adapter.create_user(User::with_id("a/b\\c")).await.unwrap();
        adapter.create_session(live("s/1", &odd.id)).await.unwrap();
        let (session, user) = adapter.get_session_and_user("s/1").await.unwrap().unwrap();
        assert_eq!((session.user_id.as_str(), user), ("a/b\\c", odd));
        assert_eq!(adapter.get_session_and_user("s:1").await.unwrap(), None);
    })
    .catch_unwind()
    .await;
    teardown_prefix(&raw, &KeyLayout::new(prefix).unwrap())
        .await
        .unwrap();
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// Extra fields at the edges of i64 and f64, Unicode and nested nulls, filled up to exactly
/// the cap (`MAX_EXTRA_BYTES` of JSON) with a string under `fill`.
fn full_extra(tag: &str) -> auth_core::extra::Extra {
    use auth_core::extra::{json_len, MAX_EXTRA_BYTES};
    let mut extra = match serde_json::json!({
        "max": i64::MAX,
        "min": i64::MIN,
        "big": f64::MAX,
        "tiny": 5e-324,
        "tenth": 0.1,
        "text": format!("{tag} Zoë 🦀 \u{1} \"q\" \\ ' {{}}"),
        "nested": {"a": [null, 1.5, {"b": null}], "depth": [[[[[[[[[[[[[[1]]]]]]]]]]]]]]},
    }) {
        serde_json::Value::Object(object) => object,
        _ => unreachable!("an object literal"),
    };
    let room = MAX_EXTRA_BYTES - json_len(&extra) - r#","fill":"""#.len();
    extra.insert("fill".into(), "f".repeat(room).into());
    assert_eq!(json_len(&extra), MAX_EXTRA_BYTES);
    extra
}

/// The stored record at `key` as JSON, and its text.
async fn stored_json(
    raw: &MultiplexedConnection,
    key: &str,
) -> Option<(serde_json::Value, String)> {
    let mut conn = raw.clone();
    let text: Option<String> = redis::cmd("GET")
        .arg(key)
        .query_async(&mut conn)
        .await
        .unwrap();
    text.map(|text| (serde_json::from_str(&text).unwrap(), text))
}

/// Every script that reads a record with extra fields in it (`cjson.decode` to read
/// `user_id` or `expires`) reads it right, even at the size cap, and none re-encodes it:
/// the stored text keeps i64::MAX with all its digits (cjson would print
/// `9.2233720368548e+18`) through create, update, the session read, the sweep, sign-out
/// everywhere and `delete_user`.
#[tokio::test]
async fn scripts_read_records_with_extra_fields_and_never_re_encode_them() {
    in_world(|world| async move {
        let db = &world.adapter;
        let keys = db.keys().clone();
        let mut user = User::with_id("u").with_email("u@example.com");
        user.extra = full_extra("user");
        let user = db.create_user(user).await.unwrap();
        let mut account = Account::new("u", AccountType::OAuth, "p", "a");
        account.extra = full_extra("account");
        db.link_account(account.clone()).await.unwrap();

        let soon = Utc::now() + Span::minutes(10);
        for (token, expires) in [("long-1", None), ("long-2", None), ("soon", Some(soon))] {
            let mut session = match expires {
                Some(at) => Session::with_token(token, "u", at),
                None => live(token, "u"),
            };
            session.extra = full_extra(token);
            db.create_session(session).await.unwrap();
        }
        for (key, extra) in [
            (keys.user("u"), &user.extra),
            (keys.account("p", "a"), &account.extra),
            (keys.session("long-1"), &full_extra("long-1")),
        ] {
            let (json, text) = stored_json(&world.raw, &key).await.unwrap();
            assert_eq!(
                json["extra"],
                serde_json::Value::Object(extra.clone()),
                "{key}"
            );
            assert!(text.contains(r#""max":9223372036854775807"#), "{key}");
        }

        // The session read: one script that decodes the session for its user id.
        let (session, read_user) = db.get_session_and_user("long-1").await.unwrap().unwrap();
        assert_eq!(session.extra, full_extra("long-1"));
        assert_eq!(read_user, user);

        // update_session decodes the stored session for its expiry; the merge is Rust's.
        let update = auth_core::SessionUpdate::new("long-1")
            .expires(Utc::now() + Span::days(40))
            .replace_extra(&serde_json::json!({"n": i64::MIN, "f": 5e-324}))
            .unwrap();
        let changed = db.update_session(update).await.unwrap().unwrap();
        let (json, text) = stored_json(&world.raw, &keys.session("long-1"))
            .await
            .unwrap();
        assert_eq!(
            json["extra"],
            serde_json::Value::Object(changed.extra.clone())
        );
        assert!(text.contains(r#""n":-9223372036854775808"#), "{text}");

        // The sweep decodes each due session for its owner and expiry: it removes (and
        // counts) the one due at a `now` an hour ahead, whose record Redis still holds.
        let counts = db
            .delete_expired(Utc::now() + Span::hours(1))
            .await
            .unwrap();
        assert_eq!(counts.sessions, 1, "{counts:?}");
        assert!(stored_json(&world.raw, &keys.session("soon"))
            .await
            .is_none());

        // Sign-out everywhere decodes each session for its owner and expiry.
        assert_eq!(db.list_sessions("u").await.unwrap().len(), 2);
        assert_eq!(db.delete_sessions("u").await.unwrap(), 2);

        // delete_user decodes each session and account for its owner.
        let mut last = live("last", "u");
        last.extra = full_extra("last");
        db.create_session(last).await.unwrap();
        assert_eq!(db.delete_user("u").await.unwrap(), Some(user));
        let left = world.keys().await;
        assert_eq!(left, vec![keys.schema_version()], "{left:?}");
    })
    .await;
}

/// The Auth.js layout's session script decodes a session with extra fields at the size cap
/// for its `userId`, and returns both records as stored.
#[tokio::test]
async fn authjs_session_script_reads_sessions_with_extra_fields() {
    use adapter_redis::keys::KeyLayout;
    use adapter_redis::{Layout, UnstorageLayout};
    let Some(url) = server_url() else { return };
    let prefix = fresh_prefix();
    let adapter = RedisAdapter::builder(url.as_str())
        .layout(Layout::AuthJsUnstorage(
            UnstorageLayout::new().base_key_prefix(prefix.as_str()),
        ))
        .connect()
        .await
        .unwrap();
    adapter.migrate().await.unwrap();
    let raw = redis::Client::open(url.as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let outcome = AssertUnwindSafe(async {
        let mut user = User::with_id("u");
        user.extra = full_extra("user");
        let user = adapter.create_user(user).await.unwrap();
        let mut session = live("s", "u");
        session.extra = full_extra("session");
        let session = adapter.create_session(session).await.unwrap();
        let found = adapter.get_session_and_user("s").await.unwrap();
        assert_eq!(found, Some((session, user)));
        let (json, text) = stored_json(&raw, &format!("{prefix}user:session:s"))
            .await
            .unwrap();
        assert_eq!(json["max"], serde_json::json!(i64::MAX));
        assert!(text.contains(r#""max":9223372036854775807"#));
    })
    .catch_unwind()
    .await;
    teardown_prefix(&raw, &KeyLayout::new(prefix).unwrap())
        .await
        .unwrap();
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}
