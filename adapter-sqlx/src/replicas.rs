//! Reads from PostgreSQL streaming replicas without stale auth
//! ([`SqlxAdapterBuilder::read_replica`](crate::SqlxAdapterBuilder::read_replica)).
//!
//! How fresh a replica is, is known from WAL positions, never from clocks: a probe asks the
//! primary for its current WAL position (`pg_current_wal_insert_lsn()`) at a local instant `t`, then
//! each replica for the position it has replayed (`pg_last_wal_replay_lsn()`). A replica
//! that has replayed past the primary's position of `t` holds every transaction committed
//! before `t`: it is *fresh as of `t`*. A read may go to a replica only when
//!
//! - it is fresh as of no longer than `max_lag` ago (the revocation bound: a session deleted
//!   through any process is not served once `max_lag` has passed since), and
//! - it is fresh as of a time after this adapter's last write to the records the read names
//!   (read-your-writes). Writes mark their keys and owners in a small table of write times
//!   ([`WriteMarks`]); a hit whose owner this adapter wrote since the replica's freshness
//!   is read again on the primary.
//!
//! A miss on a replica (no row) is asked of the primary too, so a session another process
//! has just created is found. A replica that fails, times out or refuses is skipped until
//! the next probe finds it fresh again; reads then go to the primary, and no error of the
//! replica reaches the caller.

use std::collections::hash_map::RandomState;
use std::collections::VecDeque;
use std::hash::{BuildHasher, Hash};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use auth_core::{Account, AdapterResult, Authenticator, Operation, Session, User};
use futures::future::BoxFuture;

use crate::adapter::SqlxAdapter;
use crate::lease::with_conn;

/// How many write times [`WriteMarks`] keeps: keys share a slot by hash, which only sends
/// more reads to the primary.
const WRITE_MARK_SLOTS: usize = 4096;
/// How many of the primary's recent WAL positions a probe keeps, to find how far back a
/// lagging replica is fresh.
const KEPT_SAMPLES: usize = 64;

/// What a replica knows and has done, as [`SqlxAdapter::replica_status`] reports it.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let adapter = adapter_sqlx::SqlxAdapter::connect("sqlite::memory:").await?;
/// assert!(adapter.replica_status().is_empty()); // no replica configured
/// # Ok::<(), auth_core::AdapterError>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReplicaStatus {
    /// The replica's URL, its password hidden.
    pub url: String,
    /// How far behind the primary the replica was at the last probe (an upper bound: the
    /// age of the newest primary position it had replayed); `None` until a probe reached it,
    /// and while it is skipped after a failure.
    pub lag: Option<Duration>,
    /// Whether reads may go to it now: it answered and its lag is within `max_lag`.
    pub usable: bool,
    /// How many reads it has answered (a hit kept, not re-read on the primary).
    pub reads_served: u64,
}

/// Microseconds on this adapter's own clock; 0 means never.
type Micros = u64;

/// The read replicas of one adapter, its view of the primary, and the probe's findings.
pub(crate) struct Replicas {
    /// The adapter on the primary without replicas: where every read goes that no replica
    /// may answer.
    pub(crate) primary: SqlxAdapter,
    nodes: Box<[Node]>,
    max_lag: Duration,
    /// The adapter's call timeout: a routed read, replica and primary together, stays
    /// within it.
    call_timeout: Duration,
    started: Instant,
    marks: WriteMarks,
    next: AtomicUsize,
    closed: AtomicBool,
}

/// One replica.
struct Node {
    /// The adapter on the replica (no replicas of its own), whose call timeout is the time a
    /// read may spend on the replica before it goes to the primary instead.
    adapter: SqlxAdapter,
    url: String,
    /// The instant (on [`Replicas::started`]'s clock) as of which the replica holds every
    /// committed transaction; 0 after a failure, until a probe reaches it again.
    fresh_as_of: AtomicU64,
    reads_served: AtomicU64,
}

impl Replicas {
    /// The replica set over `primary` (an adapter without replicas) and one adapter per
    /// replica; starts the probe, which ends when the adapter's last clone is dropped or
    /// closed.
    pub(crate) fn start(
        primary: SqlxAdapter,
        replicas: Vec<(String, SqlxAdapter)>,
        max_lag: Duration,
    ) -> Arc<Self> {
        let call_timeout = primary.call_timeout;
        let set = Arc::new(Self {
            primary,
            nodes: replicas
                .into_iter()
                .map(|(url, adapter)| Node {
                    adapter,
                    url: auth_core::redact_url(&url),
                    fresh_as_of: AtomicU64::new(0),
                    reads_served: AtomicU64::new(0),
                })
                .collect(),
            max_lag,
            call_timeout,
            started: Instant::now(),
            marks: WriteMarks::new(),
            next: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
        });
        tokio::spawn(probe_loop(Arc::downgrade(&set), probe_interval(max_lag)));
        set
    }

    fn now(&self) -> Micros {
        micros(self.started.elapsed()) + 1
    }

    /// Reads through `run` on a replica that may answer for `keys`, else (or after a miss,
    /// a failure or a hit on a record this adapter wrote since) on the primary.
    pub(crate) async fn read<'s, T: Routed>(
        &'s self,
        op: Operation,
        keys: &[RecordKey<'_>],
        run: impl Fn(&'s SqlxAdapter) -> BoxFuture<'s, AdapterResult<T>>,
    ) -> AdapterResult<T> {
        let written = keys.iter().map(|k| self.marks.get(k)).max().unwrap_or(0);
        // No replica may answer: straight to the primary, bounded by its own call timeout.
        let Some(node) = self.pick(written) else {
            return run(&self.primary).await;
        };
        let routed = async {
            let fresh_as_of = node.fresh_as_of.load(Ordering::Acquire);
            match run(&node.adapter).await {
                Ok(found)
                    if !found.is_miss()
                        && found
                            .owners()
                            .all(|owner| self.marks.get(&owner) < fresh_as_of) =>
                {
                    node.reads_served.fetch_add(1, Ordering::Relaxed);
                    return Ok(found);
                }
                Ok(_) => {}
                Err(err) => {
                    // Skipped until a probe finds it fresh again.
                    node.fresh_as_of.store(0, Ordering::Release);
                    // The code and kind only: the store's error is not yet stripped of the
                    // call's secrets (the policy layer does that for what it returns).
                    tracing::debug!(replica = %node.url, code = %err.code(), kind = %err.kind(), "replica read failed; the primary answers");
                }
            }
            run(&self.primary).await
        };
        // The replica's third of the call timeout and the primary's rest, together.
        auth_core::bound::within(op, self.call_timeout, routed).await
    }

    /// A replica fresh within `max_lag` and since `written`, in turn.
    fn pick(&self, written: Micros) -> Option<&Node> {
        let now = self.now();
        let oldest = now.saturating_sub(micros(self.max_lag));
        let usable = |node: &&Node| {
            let fresh = node.fresh_as_of.load(Ordering::Acquire);
            fresh != 0 && fresh >= oldest && fresh > written
        };
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let n = self.nodes.len();
        (0..n).map(|i| &self.nodes[(start + i) % n]).find(usable)
    }

    /// Notes that this adapter wrote the records of `keys` (at the end of the write, its
    /// outcome known or not).
    pub(crate) fn wrote(&self, keys: &[RecordKey]) {
        let now = self.now();
        for key in keys {
            self.marks.set(key, now);
        }
    }

    pub(crate) fn status(&self) -> Vec<ReplicaStatus> {
        let now = self.now();
        self.nodes
            .iter()
            .map(|node| {
                let fresh = node.fresh_as_of.load(Ordering::Acquire);
                let lag = (fresh != 0).then(|| Duration::from_micros(now.saturating_sub(fresh)));
                ReplicaStatus {
                    url: node.url.clone(),
                    lag,
                    usable: lag.is_some_and(|lag| lag <= self.max_lag),
                    reads_served: node.reads_served.load(Ordering::Relaxed),
                }
            })
            .collect()
    }

    /// Closes the replicas' pools and ends the probe.
    pub(crate) async fn close(&self) {
        self.closed.store(true, Ordering::Release);
        for node in self.nodes.iter() {
            crate::pool::with_pool!(&node.adapter.pools, |source: Db| source.close().await);
        }
    }

    /// One probe: the primary's WAL position now, then each replica's replayed position.
    async fn probe(&self, samples: &mut VecDeque<(Micros, i64)>) {
        let taken = self.now();
        match wal_position(&self.primary, WalQuery::Primary).await {
            Ok(Some(lsn)) => {
                if samples.len() == KEPT_SAMPLES {
                    samples.pop_front();
                }
                samples.push_back((taken, lsn));
            }
            Ok(None) | Err(_) => {
                // The primary did not answer: no replica can be proven fresh past what is
                // known already; their freshness ages until it answers again.
                tracing::debug!("replica probe: the primary did not give its WAL position");
                return;
            }
        }
        let replayed = futures::future::join_all(
            self.nodes
                .iter()
                .map(|node| wal_position(&node.adapter, WalQuery::Replica)),
        )
        .await;
        for (node, replayed) in self.nodes.iter().zip(replayed) {
            match replayed {
                Ok(Some(replayed)) => {
                    // The newest primary position it has replayed past.
                    if let Some(&(at, _)) = samples.iter().rev().find(|(_, lsn)| *lsn <= replayed) {
                        node.fresh_as_of.fetch_max(at, Ordering::AcqRel);
                    }
                }
                Ok(None) => {
                    node.fresh_as_of.store(0, Ordering::Release);
                    tracing::warn!(replica = %node.url, "not a replica (pg_last_wal_replay_lsn() is NULL: not in recovery); no reads go to it");
                }
                Err(err) => {
                    node.fresh_as_of.store(0, Ordering::Release);
                    tracing::debug!(replica = %node.url, code = %err.code(), kind = %err.kind(), "replica probe failed");
                }
            }
        }
    }
}

/// Probes four times within the lag bound, so a replica that keeps up stays usable, but
/// no more often than every 10 ms nor less often than every second.
fn probe_interval(max_lag: Duration) -> Duration {
    (max_lag / 4).clamp(Duration::from_millis(10), Duration::from_secs(1))
}

async fn probe_loop(replicas: Weak<Replicas>, interval: Duration) {
    let mut samples = VecDeque::with_capacity(KEPT_SAMPLES);
    loop {
        let Some(replicas) = replicas.upgrade() else {
            return;
        };
        if replicas.closed.load(Ordering::Acquire) {
            return;
        }
        replicas.probe(&mut samples).await;
        drop(replicas);
        tokio::time::sleep(interval).await;
    }
}

#[derive(Clone, Copy)]
enum WalQuery {
    Primary,
    Replica,
}

/// The server's WAL position as a byte offset: where the primary writes, or what a
/// replica has replayed (`None` when the server is not a replica).
async fn wal_position(adapter: &SqlxAdapter, which: WalQuery) -> AdapterResult<Option<i64>> {
    let op = Operation::GetSessionAndUser;
    let sql = match which {
        // The insert position, not the write position (`pg_current_wal_lsn()`): with
        // `synchronous_commit = off` a commit has returned while its record may still sit
        // in the WAL buffers, before the write position.
        WalQuery::Primary => "SELECT (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint",
        WalQuery::Replica => "SELECT (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint",
    };
    // Replicas are refused at connect on anything but PostgreSQL: only its arm runs.
    with_conn!(adapter, op, |conn: Db| {
        sqlx::query_scalar::<_, Option<i64>>(sql)
            .fetch_one(&mut *conn)
            .await
            .map_err(|e| crate::error::map(op, e))
    })
}

fn micros(d: Duration) -> Micros {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// A record a read names or a write touches, for [`WriteMarks`]: what kind, and its key.
#[derive(Debug, Clone, Copy, Hash)]
pub(crate) enum RecordKey<'a> {
    /// A user, by id: also the owner of every account, session and authenticator.
    User(&'a str),
    /// A user, by email key (what `get_user_by_email` looks up).
    Email(&'a str),
    /// A session, by token.
    Session(&'a str),
    /// An account, by provider and provider account id.
    Account(&'a str, &'a str),
    /// An authenticator, by credential id.
    Authenticator(&'a str),
}

/// When this adapter last wrote each record, by hash slot (a shared slot only sends more
/// reads to the primary).
struct WriteMarks {
    slots: Box<[AtomicU64]>,
    hasher: RandomState,
}

impl WriteMarks {
    fn new() -> Self {
        Self {
            slots: (0..WRITE_MARK_SLOTS).map(|_| AtomicU64::new(0)).collect(),
            hasher: RandomState::new(),
        }
    }

    fn slot(&self, key: &RecordKey<'_>) -> &AtomicU64 {
        // The modulo keeps the index below the slot count.
        let i = usize::try_from(self.hasher.hash_one(key) % WRITE_MARK_SLOTS as u64).unwrap_or(0);
        &self.slots[i]
    }

    fn get(&self, key: &RecordKey<'_>) -> Micros {
        self.slot(key).load(Ordering::Acquire)
    }

    fn set(&self, key: &RecordKey<'_>, at: Micros) {
        self.slot(key).fetch_max(at, Ordering::AcqRel);
    }
}

/// A read's result, as routing sees it: whether the replica found nothing (then the
/// primary is asked), and the users who own what it found.
pub(crate) trait Routed: Send {
    /// Nothing found.
    fn is_miss(&self) -> bool;
    /// The owners of what was found, each a [`RecordKey::User`].
    fn owners(&self) -> impl Iterator<Item = RecordKey<'_>>;
}

/// A record with an owning user.
pub(crate) trait Owned {
    /// The id of the user who owns it.
    fn owner(&self) -> &str;
}

impl Owned for User {
    fn owner(&self) -> &str {
        &self.id
    }
}
impl Owned for Account {
    fn owner(&self) -> &str {
        &self.user_id
    }
}
impl Owned for Authenticator {
    fn owner(&self) -> &str {
        &self.user_id
    }
}
impl Owned for Session {
    fn owner(&self) -> &str {
        &self.user_id
    }
}

impl<T: Owned + Send> Routed for Option<T> {
    fn is_miss(&self) -> bool {
        self.is_none()
    }
    fn owners(&self) -> impl Iterator<Item = RecordKey<'_>> {
        self.iter().map(|r| RecordKey::User(r.owner()))
    }
}

impl<T: Owned + Send> Routed for Vec<T> {
    fn is_miss(&self) -> bool {
        self.is_empty()
    }
    fn owners(&self) -> impl Iterator<Item = RecordKey<'_>> {
        self.iter().map(|r| RecordKey::User(r.owner()))
    }
}

impl Routed for Option<(Session, User)> {
    fn is_miss(&self) -> bool {
        self.is_none()
    }
    fn owners(&self) -> impl Iterator<Item = RecordKey<'_>> {
        self.iter().flat_map(|(session, user)| {
            [RecordKey::User(&session.user_id), RecordKey::User(&user.id)]
        })
    }
}

/// Marks the records of a write as written when dropped: at the end of the write, or when
/// the caller gave up on it (its outcome unknown, so assumed done).
pub(crate) struct WriteGuard<'a> {
    replicas: Option<&'a Replicas>,
    keys: Vec<RecordKey<'a>>,
}

impl<'a> WriteGuard<'a> {
    pub(crate) fn new(replicas: Option<&'a Replicas>, keys: &[RecordKey<'a>]) -> Self {
        Self {
            replicas,
            keys: if replicas.is_some() {
                keys.to_vec()
            } else {
                Vec::new()
            },
        }
    }

    /// Marks the owners of what the write returned too (a session's user, say, known only
    /// from the row it removed), and ends the guard.
    pub(crate) fn done<T: Routed>(self, result: AdapterResult<T>) -> AdapterResult<T> {
        if let (Some(replicas), Ok(found)) = (self.replicas, &result) {
            let owners: Vec<RecordKey<'_>> = found.owners().collect();
            replicas.wrote(&owners);
        }
        result
    }
}

impl Drop for WriteGuard<'_> {
    fn drop(&mut self) {
        if let Some(replicas) = self.replicas {
            replicas.wrote(&self.keys);
        }
    }
}

/// A write's result with no owner to mark beyond its keys.
impl Routed for () {
    fn is_miss(&self) -> bool {
        true
    }
    fn owners(&self) -> impl Iterator<Item = RecordKey<'_>> {
        std::iter::empty()
    }
}

/// A created user's id (assigned by the database in some layouts).
impl Routed for String {
    fn is_miss(&self) -> bool {
        false
    }
    fn owners(&self) -> impl Iterator<Item = RecordKey<'_>> {
        std::iter::once(RecordKey::User(self))
    }
}

impl Routed for u64 {
    fn is_miss(&self) -> bool {
        *self == 0
    }
    fn owners(&self) -> impl Iterator<Item = RecordKey<'_>> {
        std::iter::empty()
    }
}

/// Shared by [`SqlxAdapter`]'s clones through an `Arc`; shows the replicas, not the URLs'
/// passwords.
impl std::fmt::Debug for Replicas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replicas")
            .field(
                "nodes",
                &self.nodes.iter().map(|n| &n.url).collect::<Vec<_>>(),
            )
            .field("max_lag", &self.max_lag)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes_four_times_within_the_bound() {
        assert_eq!(
            probe_interval(Duration::from_secs(1)),
            Duration::from_millis(250)
        );
        assert_eq!(
            probe_interval(Duration::from_millis(1)),
            Duration::from_millis(10)
        );
        assert_eq!(
            probe_interval(Duration::from_secs(60)),
            Duration::from_secs(1)
        );
    }

    #[test]
    fn marks_keep_the_latest_write_per_record() {
        let marks = WriteMarks::new();
        let session = RecordKey::Session("t1");
        assert_eq!(marks.get(&session), 0);
        marks.set(&session, 7);
        marks.set(&session, 5);
        assert_eq!(marks.get(&session), 7);
        // Kinds are apart: a user id equal to a token is another record.
        let user = RecordKey::User("t1");
        assert!(marks.get(&user) == 0 || marks.get(&user) == 7);
    }

    #[test]
    fn owners_of_results() {
        let user = User::with_id("u1");
        let found: Option<User> = Some(user.clone());
        assert!(!found.is_miss());
        assert_eq!(found.owners().count(), 1);
        assert!(None::<User>.is_miss());
        assert!(Vec::<Account>::new().is_miss());
    }
}
