//! The cluster mode on a real cluster (`redis-cluster` and `valkey-cluster`, from
//! `AUTH_TEST_REDIS_CLUSTER_URLS` / `AUTH_TEST_VALKEY_CLUSTER_URLS`; `ci/clusters.sh` forms
//! both): no call ever sends keys of two slots (the servers count every `CROSSSLOT` they
//! refuse), and the data spreads over the primaries. Without the variables the tests skip
//! loudly, or fail when `AUTH_CONFORMANCE_REQUIRE` names the backend.

// Test code: a failed set-up is a failed test.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use adapter_redis::conformance::{
    fresh_prefix, scan_keys, test_cluster_nodes, CLUSTER_DRIVER_BASE,
};
use adapter_redis::keys::KeyLayout;
use adapter_redis::redis::{self, aio::MultiplexedConnection, Value};
use adapter_redis::{Layout, RedisAdapter, UnstorageLayout};
use auth_core::chrono::{Duration as Span, Utc};
use auth_core::{
    Account, AccountType, Adapter, Authenticator, Session, SessionUpdate, User, UserUpdate,
    VerificationToken,
};
use futures::{stream, StreamExt};

const BACKENDS: [&str; 2] = ["redis-cluster", "valkey-cluster"];

/// Every node of a cluster, and which of them are primaries.
struct Nodes {
    all: Vec<MultiplexedConnection>,
    primaries: Vec<(String, MultiplexedConnection)>,
}

async fn nodes(urls: &[String]) -> Nodes {
    let mut all = Vec::new();
    let mut primaries = Vec::new();
    for url in urls {
        let mut conn = redis::Client::open(url.as_str())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        let role: Vec<Value> = redis::cmd("ROLE").query_async(&mut conn).await.unwrap();
        let is_primary = matches!(role.first(), Some(Value::BulkString(r)) if r == b"master");
        if is_primary {
            primaries.push((url.clone(), conn.clone()));
        }
        all.push(conn);
    }
    Nodes { all, primaries }
}

/// How many commands the nodes have refused with `CROSSSLOT` since they started.
async fn crossslot_refusals(nodes: &Nodes) -> u64 {
    let mut total = 0;
    for node in &nodes.all {
        let mut conn = node.clone();
        let info: String = redis::cmd("INFO")
            .arg("errorstats")
            .query_async(&mut conn)
            .await
            .unwrap();
        total += info
            .lines()
            .find_map(|line| line.strip_prefix("errorstat_CROSSSLOT:count="))
            .map_or(0, |n| n.trim().parse::<u64>().unwrap());
    }
    total
}

async fn cluster_adapter(urls: &[String], prefix: &str) -> RedisAdapter {
    cluster_adapter_with(urls, prefix, None).await
}

/// An adapter on the cluster, with `wait_for_replicas(n, 1 s)` when `replicas` is `Some(n)`.
async fn cluster_adapter_with(
    urls: &[String],
    prefix: &str,
    replicas: Option<usize>,
) -> RedisAdapter {
    let mut builder = RedisAdapter::cluster_builder(urls.iter().cloned())
        .key_prefix(prefix)
        .call_timeout(Duration::from_secs(10));
    if let Some(n) = replicas {
        builder = builder.wait_for_replicas(n, Duration::from_secs(1));
    }
    let adapter = builder.connect().await.unwrap();
    adapter.migrate().await.unwrap();
    adapter
}

/// Removes every key under `prefix`, from every primary.
async fn teardown(adapter: &RedisAdapter, nodes: &Nodes) {
    let mut conn = adapter.cluster_connection().unwrap();
    for (_, node) in &nodes.primaries {
        let keys = scan_keys(node, adapter.keys(), None).await.unwrap();
        for batch in keys.chunks(500) {
            let _: u64 = redis::cmd("UNLINK")
                .arg(batch)
                .query_async(&mut conn)
                .await
                .unwrap();
        }
    }
}

fn user(i: usize) -> User {
    let mut user = User::with_id(format!("u{{{i}}}-{i}"));
    user.email = Some(format!("User-{i}@Example.com"));
    user.name = Some(format!("User {i}"));
    user
}

fn account(user_id: &str, i: usize) -> Account {
    let mut account = Account::new(user_id, AccountType::OAuth, "github", format!("gh-{i}"));
    account.access_token = Some(format!("at-{i}"));
    account
}

fn authenticator(user_id: &str, i: usize) -> Authenticator {
    Authenticator::new(format!("cred-{i}"), user_id, format!("gh-{i}"), "pk")
}

/// Every method of the adapter, several times, with ids and tokens that hold hash-tag
/// braces of their own: a script with keys of two slots fails the call (the adapter
/// refuses it before sending), and a command the server refuses shows in its
/// `CROSSSLOT` count.
#[tokio::test]
async fn no_call_crosses_slots() {
    for backend in BACKENDS {
        let Some(urls) = test_cluster_nodes(backend) else {
            continue;
        };
        let nodes = nodes(&urls).await;
        let before = crossslot_refusals(&nodes).await;
        let adapter = cluster_adapter(&urls, &fresh_prefix()).await;
        tour(&adapter, true).await;
        // And with every write step acknowledged by the primary's replica.
        let replicated = cluster_adapter_with(&urls, &fresh_prefix(), Some(1)).await;
        tour(&replicated, true).await;
        let after = crossslot_refusals(&nodes).await;
        teardown(&adapter, &nodes).await;
        teardown(&replicated, &nodes).await;
        assert_eq!(
            after - before,
            0,
            "{backend}: the servers refused commands with CROSSSLOT"
        );
    }
}

/// The Auth.js unstorage layout on a cluster, as unstorage's docs set it up (driver base
/// `{unstorage}`): every method works, every key lands in the one slot of that hash tag,
/// and no command is refused with `CROSSSLOT`. A driver base without a tag is refused.
#[tokio::test]
async fn unstorage_layout_keeps_every_key_in_one_slot() {
    for backend in BACKENDS {
        let Some(urls) = test_cluster_nodes(backend) else {
            continue;
        };
        let nodes = nodes(&urls).await;
        let before = crossslot_refusals(&nodes).await;
        let layout = UnstorageLayout::new()
            .driver_base(CLUSTER_DRIVER_BASE)
            .base_key_prefix(fresh_prefix());
        let adapter = RedisAdapter::cluster_builder(urls.iter().cloned())
            .layout(Layout::AuthJsUnstorage(layout.clone()))
            .connect()
            .await
            .unwrap();
        adapter.migrate().await.unwrap();
        tour(&adapter, false).await;
        // What the tour leaves (sessions moved to other users, tokens) plus one of each.
        let later = Utc::now() + Span::days(1);
        let kept = adapter.create_user(user(100)).await.unwrap();
        adapter.link_account(account(&kept.id, 100)).await.unwrap();
        adapter
            .create_session(Session::with_token("kept", &kept.id, later))
            .await
            .unwrap();
        let after = crossslot_refusals(&nodes).await;

        let start = KeyLayout::new(layout.key_start()).unwrap();
        let mut holders = Vec::new();
        let mut keys = Vec::new();
        for (url, node) in &nodes.primaries {
            let found = scan_keys(node, &start, None).await.unwrap();
            if !found.is_empty() {
                holders.push(url.clone());
            }
            keys.extend(found);
        }
        let mut conn = adapter.cluster_connection().unwrap();
        let mut slots = std::collections::BTreeSet::new();
        for key in &keys {
            let slot: u16 = redis::cmd("CLUSTER")
                .arg("KEYSLOT")
                .arg(key)
                .query_async(&mut conn)
                .await
                .unwrap();
            slots.insert(slot);
        }
        if !keys.is_empty() {
            let _: u64 = redis::cmd("UNLINK")
                .arg(&keys)
                .query_async(&mut conn)
                .await
                .unwrap();
        }
        println!(
            "{backend}: unstorage layout, {} keys in slots {slots:?} on {holders:?}",
            keys.len()
        );
        assert!(keys.len() >= 3, "{backend}: only {} keys", keys.len());
        assert_eq!(slots.len(), 1, "{backend}: keys in slots {slots:?}");
        assert_eq!(holders.len(), 1, "{backend}: keys on {holders:?}");
        assert_eq!(after - before, 0, "{backend}: CROSSSLOT refusals");

        let untagged = RedisAdapter::cluster_builder(urls.iter().cloned())
            .layout(Layout::AuthJsUnstorage(UnstorageLayout::new()))
            .connect()
            .await
            .unwrap_err();
        assert_eq!(
            untagged.kind(),
            auth_core::ErrorKind::InvalidInput,
            "{untagged}"
        );
    }
}

/// The durability option asks for more replicas than the cluster has: every write fails
/// with ADAPTER_CONNECTION_ERROR, reads still work.
#[tokio::test]
async fn writes_fewer_replicas_acknowledge_fail_as_connection_errors() {
    for backend in BACKENDS {
        let Some(urls) = test_cluster_nodes(backend) else {
            continue;
        };
        let nodes = nodes(&urls).await;
        let adapter = RedisAdapter::cluster_builder(urls.iter().cloned())
            .key_prefix(fresh_prefix())
            .wait_for_replicas(2, Duration::from_millis(200))
            .connect()
            .await
            .unwrap();
        adapter.migrate().await.unwrap();
        let err = adapter.create_user(user(0)).await.unwrap_err();
        assert_eq!(
            err.code(),
            auth_core::ErrorCode::AdapterConnectionError,
            "{err}"
        );
        let cause = std::error::Error::source(&err).map(ToString::to_string);
        assert!(
            cause.as_deref().is_some_and(|c| c.contains("replica")),
            "{err}: {cause:?}"
        );
        assert!(adapter.get_user("nobody").await.unwrap().is_none());
        teardown(&adapter, &nodes).await;
    }
}

/// Every method, several times, with ids and tokens that hold hash-tag braces of their own.
/// `lists_every_record`: false for the unstorage layout, whose by-user-id key names one
/// session per user (a gap of that layout), so a user whose session moved lists none.
async fn tour(adapter: &RedisAdapter, lists_every_record: bool) {
    {
        let later = Utc::now() + Span::days(1);
        for i in 0..8 {
            let created = adapter.create_user(user(i)).await.unwrap();
            let id = created.id.clone();
            adapter.link_account(account(&id, i)).await.unwrap();
            adapter
                .create_authenticator(authenticator(&id, i))
                .await
                .unwrap();
            for s in 0..2 {
                adapter
                    .create_session(Session::with_token(format!("s{{{i}}}-{s}"), &id, later))
                    .await
                    .unwrap();
            }
            let token = format!("s{{{i}}}-0");
            assert!(adapter
                .get_session_and_user(&token)
                .await
                .unwrap()
                .is_some());
            adapter
                .update_session(SessionUpdate::new(&token).expires(later + Span::days(1)))
                .await
                .unwrap();
            if i > 0 {
                // Moves a session to the previous user: three slots in one change.
                let moved = SessionUpdate::new(format!("s{{{i}}}-1")).user_id(format!(
                    "u{{{}}}-{}",
                    i - 1,
                    i - 1
                ));
                assert!(adapter.update_session(moved).await.unwrap().is_some());
            }
            let sessions = adapter.list_sessions(&id).await.unwrap();
            assert!(!lists_every_record || !sessions.is_empty());
            assert_eq!(adapter.list_accounts(&id).await.unwrap().len(), 1);
            assert_eq!(adapter.list_authenticators(&id).await.unwrap().len(), 1);
            assert!(adapter
                .get_user_by_email(&format!("user-{i}@example.com"))
                .await
                .unwrap()
                .is_some());
            assert!(adapter
                .get_user_by_account("github", &format!("gh-{i}"))
                .await
                .unwrap()
                .is_some());
            let mut refreshed = account(&id, i);
            refreshed.access_token = Some("refreshed".to_owned());
            assert!(adapter.update_account(refreshed).await.unwrap().is_some());
            adapter
                .update_authenticator_counter(&format!("cred-{i}"), 7)
                .await
                .unwrap();
            let moved_email = UserUpdate::new(&id).email(Some(format!("moved-{i}@example.com")));
            adapter.update_user(moved_email).await.unwrap();
            adapter
                .create_verification_token(VerificationToken::new(
                    format!("moved-{i}@example.com"),
                    format!("v{{{i}}}"),
                    later,
                ))
                .await
                .unwrap();
            assert!(adapter
                .use_verification_token(&format!("moved-{i}@example.com"), &format!("v{{{i}}}"))
                .await
                .unwrap()
                .is_some());
        }
        for i in 0..8 {
            let id = format!("u{{{i}}}-{i}");
            adapter
                .delete_session(&format!("s{{{i}}}-0"))
                .await
                .unwrap();
            adapter
                .unlink_account("github", &format!("gh-{i}"))
                .await
                .unwrap();
            adapter
                .delete_authenticator(&format!("cred-{i}"))
                .await
                .unwrap();
            if i % 2 == 0 {
                adapter.delete_sessions(&id).await.unwrap();
            }
            adapter.delete_user(&id).await.unwrap();
        }
        adapter.delete_expired(Utc::now()).await.unwrap();
    }
}

/// Every primary's count of the commands it has run (`INFO commandstats`, `INFO` itself
/// left out), in the order of `nodes.primaries`.
async fn commands_per_primary(nodes: &Nodes) -> Vec<(String, u64)> {
    let mut counts = Vec::new();
    for (url, node) in &nodes.primaries {
        let mut conn = node.clone();
        let info: String = redis::cmd("INFO")
            .arg("commandstats")
            .query_async(&mut conn)
            .await
            .unwrap();
        let calls = info
            .lines()
            .filter(|line| !line.starts_with("cmdstat_info:"))
            .filter_map(|line| line.split_once(":calls=")?.1.split(',').next())
            .map(|n| n.parse::<u64>().unwrap())
            .sum();
        counts.push((url.clone(), calls));
    }
    counts
}

/// The point of a cluster: 10,000 users with a session each spread over the primaries, none
/// holding more than 40 % of the keys (users, their indexes, sessions, email claims), and
/// under session reads (`bench`'s hot path) none serving more than 45 % of the commands.
#[tokio::test]
async fn ten_thousand_users_spread_over_the_primaries() {
    const USERS: usize = 10_000;
    const SESSION_READS: usize = 20_000;
    for backend in BACKENDS {
        let Some(urls) = test_cluster_nodes(backend) else {
            continue;
        };
        let nodes = nodes(&urls).await;
        assert!(
            nodes.primaries.len() >= 3,
            "{backend}: fewer than 3 primaries"
        );
        let adapter = cluster_adapter(&urls, &fresh_prefix()).await;
        let later = Utc::now() + Span::days(1);
        let started = Instant::now();
        stream::iter(0..USERS)
            .for_each_concurrent(64, |i| {
                let adapter = adapter.clone();
                async move {
                    let created = adapter.create_user(user(i)).await.unwrap();
                    adapter
                        .create_session(Session::with_token(format!("t-{i}"), &created.id, later))
                        .await
                        .unwrap();
                }
            })
            .await;
        let seeded = started.elapsed();

        // The bench's hot path: session reads of random users, 32 callers; each primary's
        // share of the commands it ran meanwhile (`INFO commandstats`, the commands a
        // script calls included).
        let before = commands_per_primary(&nodes).await;
        let reads_started = Instant::now();
        stream::iter(0..SESSION_READS)
            .for_each_concurrent(32, |i| {
                let adapter = adapter.clone();
                // A fixed spread of the users (a full-period step modulo USERS), no RNG.
                let token = format!("t-{}", (i * 7_919 + 13) % USERS);
                async move {
                    let found = adapter.get_session_and_user(&token).await.unwrap();
                    assert!(found.is_some(), "the session {token} is live");
                }
            })
            .await;
        let read_for = reads_started.elapsed();
        let after = commands_per_primary(&nodes).await;
        let served: Vec<(String, u64)> = after
            .iter()
            .zip(&before)
            .map(|((url, a), (_, b))| (url.clone(), a.saturating_sub(*b)))
            .collect();
        let commands: u64 = served.iter().map(|(_, n)| n).sum();
        let command_shares: Vec<String> = served
            .iter()
            .map(|(url, n)| format!("{url} {n} ({:.1} %)", 100.0 * *n as f64 / commands as f64))
            .collect();
        println!(
            "{backend}: {SESSION_READS} session reads in {read_for:.1?}; {commands} commands: {}",
            command_shares.join(", ")
        );
        let busiest = served.iter().map(|(_, n)| *n).max().unwrap_or(0);
        assert!(
            commands >= 2 * SESSION_READS as u64,
            "{backend}: only {commands} commands for {SESSION_READS} session reads"
        );
        assert!(
            busiest * 100 <= commands * 45,
            "{backend}: one primary served more than 45 % of the commands: {}",
            command_shares.join(", ")
        );

        let layout: &KeyLayout = adapter.keys();
        let mut counts = Vec::new();
        for (url, node) in &nodes.primaries {
            counts.push((
                url.clone(),
                scan_keys(node, layout, None).await.unwrap().len(),
            ));
        }
        let total: usize = counts.iter().map(|(_, n)| n).sum();
        teardown(&adapter, &nodes).await;
        let shares: Vec<String> = counts
            .iter()
            .map(|(url, n)| format!("{url} {n} ({:.1} %)", 100.0 * *n as f64 / total as f64))
            .collect();
        println!(
            "{backend}: {USERS} users with a session seeded in {seeded:.1?}; {total} keys: {}",
            shares.join(", ")
        );
        // Users with an email and a session: the user, its sessions index, its claim and
        // its session (the schema version is one more).
        assert!(total >= 4 * USERS, "{backend}: only {total} keys");
        let largest = counts.iter().map(|(_, n)| *n).max().unwrap_or(0);
        assert!(
            largest * 100 <= total * 40,
            "{backend}: one primary holds more than 40 % of the keys: {}",
            shares.join(", ")
        );
    }
}
