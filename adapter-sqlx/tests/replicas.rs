//! adapter-sqlx with a PostgreSQL read replica that applies 300 ms late
//! (`AUTH_TEST_POSTGRES_REPLICA_URLS`, `ci/replicated.sh`): sign-ins read at once never
//! miss, sign-outs through another instance are refused within the lag bound, and a
//! replica that is down costs no error.

use std::sync::Arc;
use std::time::{Duration, Instant};

use adapter_conformance::harness;
use adapter_conformance::Fixture;
use adapter_sqlx::conformance::replicated::{replica_instances, wait_for_replicas};
use adapter_sqlx::SqlxAdapter;
use auth_core::{Adapter, Session, User, UserUpdate};

/// The revocation bound under test (the replica applies 300 ms late).
const BOUND: Duration = Duration::from_secs(1);
/// How often a sign-out's effect is polled.
const POLL: Duration = Duration::from_millis(10);

/// A fresh fixture database on the primary and two adapter instances ("processes") on it,
/// each with the replica and lag bound `bound`.
async fn two_instances(bound: Duration) -> Option<(Fixture, SqlxAdapter, SqlxAdapter)> {
    let (fx, mut instances) = replica_instances(2, bound).await?;
    let b = instances.pop().expect("two");
    let a = instances.pop().expect("two");
    Some((fx, a, b))
}

fn served(adapter: &SqlxAdapter) -> u64 {
    adapter
        .replica_status()
        .iter()
        .map(|r| r.reads_served)
        .sum()
}

/// 100 sessions signed in through `b`, once the replica holds them read by `a` (each
/// found), and how many of those reads `a`'s replica served.
async fn held_by_the_replica(a: &SqlxAdapter, b: &SqlxAdapter) -> (Vec<Session>, u64) {
    let mut sessions = Vec::new();
    for i in 0..100 {
        sessions.push(signed_in(b, &format!("user-{i}")).await);
    }
    tokio::time::sleep(Duration::from_millis(600)).await;
    wait_for_replicas(a, Duration::from_secs(10))
        .await
        .expect("fresh");
    let before = served(a);
    for session in &sessions {
        let found = a.get_session_and_user(&session.session_token).await;
        assert!(found.expect("read").is_some());
    }
    (sessions, served(a) - before)
}

async fn signed_in(adapter: &SqlxAdapter, id: &str) -> Session {
    adapter
        .create_user(User::with_id(id))
        .await
        .expect("user created");
    adapter
        .create_session(Session::new(id, chrono::Duration::hours(1)))
        .await
        .expect("session created")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_is_found_right_after_sign_in_on_either_instance() {
    let Some((fx, a, b)) = two_instances(BOUND).await else {
        return;
    };
    let mut misses = 0;
    for i in 0..100 {
        // Signed in through this instance, read at once through it (read-your-writes) ...
        let own = signed_in(&a, &format!("own-{i}")).await;
        if a.get_session_and_user(&own.session_token)
            .await
            .expect("read")
            .is_none()
        {
            misses += 1;
        }
        // ... and through the other instance, which has never seen it (the replica's miss
        // is asked of the primary).
        let other = signed_in(&b, &format!("other-{i}")).await;
        if a.get_session_and_user(&other.session_token)
            .await
            .expect("read")
            .is_none()
        {
            misses += 1;
        }
    }
    eprintln!(
        "200 sign-ins read at once: {misses} missed; replica reads served: {}",
        served(&a)
    );
    assert_eq!(misses, 0);
    a.close().await;
    b.close().await;
    fx.inspector.teardown().await.expect("teardown");
}

/// Records the replica already holds, changed through this instance and read back at once:
/// the change is seen, never the replica's older copy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn own_sign_outs_and_renames_are_read_at_once() {
    let Some((fx, a, b)) = two_instances(BOUND).await else {
        return;
    };
    let (signed_in, from_replica) = held_by_the_replica(&a, &b).await;
    let mut stale = 0;
    for session in &signed_in {
        let renamed = a
            .update_user(UserUpdate::new(&session.user_id).name(Some("renamed".into())))
            .await
            .expect("rename");
        let read = a.get_user(&renamed.id).await.expect("read");
        stale += usize::from(read.and_then(|u| u.name).as_deref() != Some("renamed"));
        a.delete_session(&session.session_token)
            .await
            .expect("sign-out");
        let read = a
            .get_session_and_user(&session.session_token)
            .await
            .expect("read");
        stale += usize::from(read.is_some());
    }
    eprintln!(
        "100 renames and 100 sign-outs through this instance, of records the replica held \
         ({from_replica} of 100 read there before): {stale} stale reads after them"
    );
    assert!(
        from_replica > 0,
        "the replica served nothing: the test shows nothing"
    );
    assert_eq!(stale, 0);
    a.close().await;
    b.close().await;
    fx.inspector.teardown().await.expect("teardown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_out_elsewhere_is_refused_within_the_bound() {
    sign_outs_are_refused_within(BOUND).await;
}

/// A bound shorter than the replica's 300 ms apply delay: a replica that cannot keep within
/// it must be skipped, or the sign-outs would be served for 300 ms.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bound_below_the_replica_lag_is_kept() {
    sign_outs_are_refused_within(Duration::from_millis(100)).await;
}

/// 100 sessions signed out through instance B while instance A, which read them on the
/// replica, polls them: A refuses each within `bound` of its sign-out.
async fn sign_outs_are_refused_within(bound: Duration) {
    let Some((fx, a, b)) = two_instances(bound).await else {
        return;
    };
    let (sessions, from_replica) = held_by_the_replica(&a, &b).await;
    let tokens: Vec<String> = sessions.into_iter().map(|s| s.session_token).collect();
    let a = Arc::new(a);
    // Every sign-out through B, then A polls until it refuses the session. The bound is on
    // when a read starts: one started `bound` after the sign-out returned never serves it
    // (its answer may arrive later on a loaded machine).
    let polls = tokens.iter().cloned().map(|token| {
        let (a, b) = (Arc::clone(&a), b.clone());
        tokio::spawn(async move {
            assert!(b.delete_session(&token).await.expect("delete").is_some());
            let signed_out = Instant::now();
            let mut last_stale_read_started = None;
            loop {
                let started = signed_out.elapsed();
                match a.get_session_and_user(&token).await.expect("read") {
                    None => return (signed_out.elapsed(), last_stale_read_started),
                    Some(_) => last_stale_read_started = Some(started),
                }
                assert!(
                    started <= bound * 2 + Duration::from_secs(1),
                    "still served {started:?} after the sign-out"
                );
                tokio::time::sleep(POLL).await;
            }
        })
    });
    let (mut refused_after, mut stale_started) = (Vec::new(), Vec::new());
    for poll in futures::future::join_all(polls).await {
        let (after, stale) = poll.expect("poll task");
        refused_after.push(after);
        stale_started.extend(stale);
    }
    refused_after.sort();
    stale_started.sort();
    let (median, max) = (refused_after[50], refused_after[99]);
    let latest_stale = stale_started.last().copied().unwrap_or_default();
    eprintln!(
        "100 sign-outs through another instance: {from_replica} of 100 reads before them \
         served by the replica; refused after median {median:?}, max {max:?} (bound {bound:?}); \
         {} served stale at least once, the latest stale read started {latest_stale:?} after \
         its sign-out",
        stale_started.len()
    );
    assert!(
        latest_stale <= bound,
        "a read started {latest_stale:?} after the sign-out served it"
    );
    a.close().await;
    b.close().await;
    fx.inspector.teardown().await.expect("teardown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_that_is_down_costs_no_error() {
    let Some((fx, a, _b)) = two_instances(BOUND).await else {
        return;
    };
    let primary = fx.inspector.location().expect("a location").url;
    let port = harness::dead_port();
    let adapter = SqlxAdapter::builder(&primary)
        .read_replica(format!("postgres://postgres@127.0.0.1:{port}/postgres"))
        .max_replica_lag(BOUND)
        .connect()
        .await
        .expect("a dead replica does not fail connect");
    let session = signed_in(&a, "u1").await;
    let started = Instant::now();
    for _ in 0..20 {
        let found = adapter
            .get_session_and_user(&session.session_token)
            .await
            .expect("the primary answers");
        assert!(found.is_some());
    }
    let status = adapter.replica_status();
    eprintln!(
        "20 reads with the only replica down: {:?}; {status:?}",
        started.elapsed()
    );
    assert!(!status[0].usable && status[0].reads_served == 0);
    adapter.close().await;
    a.close().await;
    fx.inspector.teardown().await.expect("teardown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_need_a_bound_and_postgres() {
    let refused = SqlxAdapter::builder("postgres://postgres@127.0.0.1:1/postgres")
        .read_replica("postgres://postgres@127.0.0.1:2/postgres")
        .connect()
        .await
        .expect_err("no bound");
    assert_eq!(refused.kind(), auth_core::ErrorKind::InvalidInput);
    let refused = SqlxAdapter::builder("sqlite::memory:")
        .read_replica("postgres://postgres@127.0.0.1:2/postgres")
        .max_replica_lag(BOUND)
        .connect()
        .await
        .expect_err("SQLite has no replicas");
    assert_eq!(refused.kind(), auth_core::ErrorKind::InvalidInput);
    assert!(refused.to_string().contains("PostgreSQL only"), "{refused}");
}
