//! The hot paths under load, run by the CLI's `bench` on a release build.
//!
//! A fixture of the backend is seeded with `users` users, each with one account and one
//! session (random 256-bit tokens). Then each operation runs in phases, one per concurrency
//! level: `c` callers call it back to back, picking users at random, for a duration and/or a
//! number of calls. A phase reports calls per second (calls over wall time) and the
//! p50/p95/p99 of single calls. Where the backend has a raw floor ([`crate::floor`]), the
//! session reads are measured on the raw driver too, on the same server and tables, and the
//! adapter's figures are given as ratios of the floor's.
//!
//! Operations that consume records take them from the ones the run made: `delete-session`
//! deletes sessions made by `create-session`, `use-token` uses tokens made by
//! `create-token` (so list those first; a phase that runs out stops early and says so in
//! its call count).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use auth_core::chrono::{Duration as Span, Utc};
use auth_core::{Account, AccountType, Adapter, Session, SessionUpdate, User, VerificationToken};
use serde::{Deserialize, Serialize};

use crate::floor::RawProbe;
use crate::node_reads::NodeReads;
use crate::relay::Relay;
use adapter_conformance::{Backend, BoxError};

/// One operation of the workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// `get_session_and_user` of a seeded session.
    SessionReadHit,
    /// `get_session_and_user` of a token that does not exist.
    SessionReadMiss,
    /// `create_session` for a seeded user.
    CreateSession,
    /// `update_session` of a seeded session's expiry.
    UpdateSession,
    /// `delete_session` of a session made by `create-session`.
    DeleteSession,
    /// `create_verification_token` for a seeded user's email.
    CreateToken,
    /// `use_verification_token` of a token made by `create-token`.
    UseToken,
    /// `get_user_by_email` of a seeded user.
    UserByEmail,
    /// `get_user_by_account` of a seeded account.
    UserByAccount,
}

impl Op {
    /// Every operation, in the order that feeds the consuming ones.
    pub const ALL: [Op; 9] = [
        Op::SessionReadHit,
        Op::SessionReadMiss,
        Op::CreateSession,
        Op::UpdateSession,
        Op::DeleteSession,
        Op::CreateToken,
        Op::UseToken,
        Op::UserByEmail,
        Op::UserByAccount,
    ];

    /// The name used on the command line and in reports.
    ///
    /// ```
    /// use conformance_cli::bench::Op;
    /// assert_eq!(Op::parse(Op::UseToken.name()), Some(Op::UseToken));
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Op::SessionReadHit => "session-read-hit",
            Op::SessionReadMiss => "session-read-miss",
            Op::CreateSession => "create-session",
            Op::UpdateSession => "update-session",
            Op::DeleteSession => "delete-session",
            Op::CreateToken => "create-token",
            Op::UseToken => "use-token",
            Op::UserByEmail => "user-by-email",
            Op::UserByAccount => "user-by-account",
        }
    }

    /// The operation with this name.
    pub fn parse(name: &str) -> Option<Op> {
        Op::ALL.into_iter().find(|op| op.name() == name)
    }

    /// Whether the raw floor measures this operation too.
    fn has_floor(self) -> bool {
        matches!(self, Op::SessionReadHit | Op::SessionReadMiss)
    }
}

/// What a `bench` run does.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Users seeded, each with one account and one session.
    pub users: usize,
    /// Concurrency levels: one phase per level and operation.
    pub concurrency: Vec<usize>,
    /// Length of a phase; `None` when only `calls` bounds it.
    pub duration: Option<Duration>,
    /// Calls per phase (over all callers); `None` when only `duration` bounds it.
    pub calls: Option<u64>,
    /// Operations, in order.
    pub ops: Vec<Op>,
    /// Times each phase runs; the report gives the median of each figure.
    pub runs: usize,
    /// Whether to measure the raw floor where the backend has one.
    pub raw_floor: bool,
    /// The size, in bytes of JSON, of the extra fields each seeded user carries (0: none).
    pub user_extra_bytes: usize,
}

/// One row of the report (and one JSON line of `bench --json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    /// Backend name.
    pub backend: String,
    /// Operation name ([`Op::name`]).
    pub operation: String,
    /// `ours` (the adapter), or the raw probe's name (`raw-sql`, `raw-script`, `raw-get`).
    pub implementation: String,
    /// Callers at once.
    pub concurrency: usize,
    /// Calls made in the phase (the median run's).
    pub calls: u64,
    /// Calls per second.
    pub ops_per_sec: f64,
    /// Median latency of one call, µs.
    pub p50_us: f64,
    /// 95th percentile, µs.
    pub p95_us: f64,
    /// 99th percentile, µs.
    pub p99_us: f64,
    /// Round trips to the server per call, counted by a [`Relay`] (`--round-trips`).
    pub round_trips: Option<f64>,
    /// `ours` ops/s over the floor's (`raw-sql` or `raw-script`) at the same concurrency:
    /// the median over the runs of each run's ratio to the floor's run that followed it.
    pub ratio_ops: Option<f64>,
    /// `ours` p50 over the floor's p50 at the same concurrency, paired run by run likewise.
    pub ratio_p50: Option<f64>,
}

/// The figures of one phase.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Figures {
    calls: u64,
    ops_per_sec: f64,
    p50_us: f64,
    p95_us: f64,
    p99_us: f64,
}

/// The percentiles and rate of `samples` taken over `elapsed`.
fn summarize(mut samples: Vec<Duration>, elapsed: Duration) -> Figures {
    samples.sort_unstable();
    let at = |q: f64| -> f64 {
        let index = ((samples.len() as f64 - 1.0) * q).round() as usize;
        samples.get(index).map_or(0.0, |d| d.as_secs_f64() * 1e6)
    };
    let secs = elapsed.as_secs_f64();
    Figures {
        calls: samples.len() as u64,
        ops_per_sec: if secs > 0.0 {
            samples.len() as f64 / secs
        } else {
            0.0
        },
        p50_us: at(0.5),
        p95_us: at(0.95),
        p99_us: at(0.99),
    }
}

/// The median of each figure over several runs.
fn median_of(runs: &[Figures]) -> Figures {
    let median = |f: fn(&Figures) -> f64| -> f64 {
        let mut v: Vec<f64> = runs.iter().map(f).collect();
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(0.0)
    };
    let ops_per_sec = median(|f| f.ops_per_sec);
    // The call count of the run whose rate is the median.
    let calls = runs
        .iter()
        .find(|f| f.ops_per_sec == ops_per_sec)
        .map_or(0, |f| f.calls);
    Figures {
        calls,
        ops_per_sec,
        p50_us: median(|f| f.p50_us),
        p95_us: median(|f| f.p95_us),
        p99_us: median(|f| f.p99_us),
    }
}

/// A small, fast generator (SplitMix64): random picks must not cost more than the call.
#[derive(Debug)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// A seeded user: its id, email, account id and session token.
#[derive(Debug)]
struct Seeded {
    id: String,
    email: String,
    account: String,
    session: String,
}

const PROVIDER: &str = "bench";

/// The seeded data and what the consuming operations consume.
#[derive(Debug)]
struct World {
    adapter: Arc<dyn Adapter>,
    users: Vec<Seeded>,
    made_sessions: Mutex<Vec<String>>,
    made_tokens: Mutex<Vec<(String, String)>>,
}

/// Extra fields of `bytes` bytes as compact JSON (`{"bio":"xxx…"}`), or none for 0.
fn extra_of_size(bytes: usize) -> auth_core::Extra {
    let mut extra = auth_core::Extra::new();
    if bytes > 0 {
        // `{"bio":""}` is 10 bytes around the text.
        extra.insert(
            "bio".to_owned(),
            "x".repeat(bytes.saturating_sub(10)).into(),
        );
    }
    extra
}

/// Seeds `n` users with an account and a session each, 32 at a time; each user carries
/// `extra_bytes` of extra fields.
async fn seed(adapter: Arc<dyn Adapter>, n: usize, extra_bytes: usize) -> Result<World, BoxError> {
    use futures::stream::{self, StreamExt, TryStreamExt};
    let expires = Utc::now() + Span::days(1);
    let users: Vec<Seeded> = stream::iter(0..n.max(1))
        .map(|i| {
            let adapter = adapter.clone();
            async move {
                let mut user = User::with_id(format!("bench-user-{i}"))
                    .with_email(format!("bench-{i}@example.com"));
                user.extra = extra_of_size(extra_bytes);
                let user = adapter.create_user(user).await?;
                let account = format!("bench-account-{i}");
                adapter
                    .link_account(Account::new(
                        &user.id,
                        AccountType::OAuth,
                        PROVIDER,
                        &account,
                    ))
                    .await?;
                let session = adapter
                    .create_session(Session::with_token(
                        auth_core::generate_token(),
                        &user.id,
                        expires,
                    ))
                    .await?;
                Ok::<_, BoxError>(Seeded {
                    id: user.id,
                    email: format!("bench-{i}@example.com"),
                    account,
                    session: session.session_token,
                })
            }
        })
        .buffer_unordered(32)
        .try_collect()
        .await?;
    Ok(World {
        adapter,
        users,
        made_sessions: Mutex::new(Vec::new()),
        made_tokens: Mutex::new(Vec::new()),
    })
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// What one call did.
enum Outcome {
    Done,
    /// Nothing left to consume: the caller stops.
    Exhausted,
}

/// One call of `op` through the adapter, checked: a call that does not do what the
/// workload expects (a seeded session not found, a miss found) fails the benchmark.
async fn call(world: &World, op: Op, rng: &mut Rng) -> Result<Outcome, BoxError> {
    let db = &world.adapter;
    let user = &world.users[rng.below(world.users.len())];
    // Only for the operations that write it: the raw probes do no such work on reads.
    let expires = || Utc::now() + Span::days(1);
    match op {
        Op::SessionReadHit => {
            if db.get_session_and_user(&user.session).await?.is_none() {
                return Err("a seeded session was not found".into());
            }
        }
        Op::SessionReadMiss => {
            let token = format!("bench-miss-{:016x}{:016x}", rng.next(), rng.next());
            if db.get_session_and_user(&token).await?.is_some() {
                return Err("a token never stored was found".into());
            }
        }
        Op::CreateSession => {
            let session = db
                .create_session(Session::with_token(
                    auth_core::generate_token(),
                    &user.id,
                    expires(),
                ))
                .await?;
            lock(&world.made_sessions).push(session.session_token);
        }
        Op::UpdateSession => {
            let update = SessionUpdate::new(&user.session).expires(expires());
            if db.update_session(update).await?.is_none() {
                return Err("a seeded session could not be updated".into());
            }
        }
        Op::DeleteSession => {
            let Some(token) = lock(&world.made_sessions).pop() else {
                return Ok(Outcome::Exhausted);
            };
            if db.delete_session(&token).await?.is_none() {
                return Err("a session made by the run was not deleted".into());
            }
        }
        Op::CreateToken => {
            let token = auth_core::generate_token();
            db.create_verification_token(VerificationToken::new(&user.email, &token, expires()))
                .await?;
            lock(&world.made_tokens).push((user.email.clone(), token));
        }
        Op::UseToken => {
            let Some((identifier, token)) = lock(&world.made_tokens).pop() else {
                return Ok(Outcome::Exhausted);
            };
            if db
                .use_verification_token(&identifier, &token)
                .await?
                .is_none()
            {
                return Err("a token made by the run was not found".into());
            }
        }
        Op::UserByEmail => {
            if db.get_user_by_email(&user.email).await?.is_none() {
                return Err("a seeded user was not found by email".into());
            }
        }
        Op::UserByAccount => {
            if db
                .get_user_by_account(PROVIDER, &user.account)
                .await?
                .is_none()
            {
                return Err("a seeded user was not found by account".into());
            }
        }
    }
    Ok(Outcome::Done)
}

/// What bounds a phase.
#[derive(Debug, Clone, Copy)]
struct Limit {
    duration: Option<Duration>,
    calls: Option<u64>,
}

/// Which side a phase measures.
#[derive(Clone)]
enum Side {
    Ours(Arc<World>),
    Raw(Arc<World>, Arc<RawProbe>),
}

/// Runs one phase: `concurrency` tasks call `op` until the limit.
async fn phase(side: &Side, op: Op, concurrency: usize, limit: Limit) -> Result<Figures, BoxError> {
    let tickets = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = limit.duration.map(|d| started + d);
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut tasks = Vec::with_capacity(concurrency);
    for worker in 0..concurrency.max(1) {
        let side = side.clone();
        let tickets = tickets.clone();
        tasks.push(tokio::spawn(async move {
            let mut rng = Rng::new(seed.wrapping_add(worker as u64 * 7919));
            let mut samples = Vec::new();
            loop {
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    break;
                }
                if let Some(max) = limit.calls {
                    if tickets.fetch_add(1, Ordering::Relaxed) >= max {
                        break;
                    }
                }
                let at = Instant::now();
                let outcome = match &side {
                    Side::Ours(world) => call(world, op, &mut rng).await?,
                    Side::Raw(world, probe) => {
                        let miss;
                        let token: &str = match op {
                            Op::SessionReadMiss => {
                                miss = format!("bench-miss-{:016x}{:016x}", rng.next(), rng.next());
                                &miss
                            }
                            _ => &world.users[rng.below(world.users.len())].session,
                        };
                        let found = probe.read(worker, token).await?;
                        if found != (op == Op::SessionReadHit) {
                            return Err::<_, BoxError>(
                                format!("{} answered found={found} for {}", probe.name, op.name())
                                    .into(),
                            );
                        }
                        Outcome::Done
                    }
                };
                match outcome {
                    Outcome::Done => samples.push(at.elapsed()),
                    Outcome::Exhausted => break,
                }
            }
            Ok::<_, BoxError>(samples)
        }));
    }
    let mut samples = Vec::new();
    for task in tasks {
        samples.extend(task.await??);
    }
    Ok(summarize(samples, started.elapsed()))
}

/// Measures the workload on a fresh fixture of `backend` (named `name` in the report),
/// with the raw floor where the fixture has one; the fixture is torn down afterwards.
pub async fn run(
    name: &str,
    backend: &dyn Backend,
    options: &LoadOptions,
) -> Result<Vec<Measurement>, BoxError> {
    let fixture = backend.fixture().await?;
    let outcome = measure(name, &fixture, options).await;
    // The figures stand even when removing tens of thousands of records fails (a Redis
    // teardown can outlast the inspector's response timeout on a busy machine).
    if let Err(e) = fixture.inspector.teardown().await {
        tracing::error!(backend = name, "the benchmark fixture was not removed: {e}");
    }
    outcome
}

async fn measure(
    name: &str,
    fixture: &adapter_conformance::Fixture,
    options: &LoadOptions,
) -> Result<Vec<Measurement>, BoxError> {
    let world = Arc::new(
        seed(
            fixture.adapter.clone(),
            options.users,
            options.user_extra_bytes,
        )
        .await?,
    );
    let probes: Vec<Arc<RawProbe>> = match fixture.inspector.location() {
        Some(target) if options.raw_floor => RawProbe::open(&target)
            .await?
            .into_iter()
            .map(Arc::new)
            .collect(),
        _ => Vec::new(),
    };
    let limit = Limit {
        duration: options.duration,
        calls: options.calls,
    };
    let top = options.concurrency.iter().copied().max().unwrap_or(1);
    // Warm up: connections opened, statements prepared, on both sides.
    let warm_up = Limit {
        duration: Some(Duration::from_millis(300)),
        calls: Some(50 * top as u64),
    };
    phase(&Side::Ours(world.clone()), Op::SessionReadHit, top, warm_up).await?;
    for probe in &probes {
        phase(
            &Side::Raw(world.clone(), probe.clone()),
            Op::SessionReadHit,
            top,
            warm_up,
        )
        .await?;
    }

    let mut rows = Vec::new();
    for &op in &options.ops {
        for &c in &options.concurrency {
            let raw_sides: Vec<(&'static str, Side)> = if op.has_floor() {
                probes
                    .iter()
                    .map(|probe| (probe.name, Side::Raw(world.clone(), probe.clone())))
                    .collect()
            } else {
                Vec::new()
            };
            // Ours and the raw probes take turns run by run, so a machine that gets busier
            // or quieter during the phases weighs on both sides alike; each ratio is the
            // median of the runs' own ratios (ours over the floor run just after it).
            let mut ours_runs = Vec::with_capacity(options.runs);
            let mut raw_runs: Vec<Vec<Figures>> = vec![Vec::new(); raw_sides.len()];
            for _ in 0..options.runs.max(1) {
                ours_runs.push(phase(&Side::Ours(world.clone()), op, c, limit).await?);
                for ((_, side), runs) in raw_sides.iter().zip(&mut raw_runs) {
                    runs.push(phase(side, op, c, limit).await?);
                }
            }
            let mut row = measurement(name, op, "ours", c, median_of(&ours_runs));
            if let Some(floor_runs) = raw_runs.first() {
                row.ratio_ops = paired_ratio(&ours_runs, floor_runs, |f| f.ops_per_sec);
                row.ratio_p50 = paired_ratio(&ours_runs, floor_runs, |f| f.p50_us);
            }
            rows.push(row);
            for ((probe_name, _), runs) in raw_sides.iter().zip(&raw_runs) {
                rows.push(measurement(name, op, probe_name, c, median_of(runs)));
            }
        }
    }
    Ok(rows)
}

/// The median over the runs of ours ÷ floor for one figure, each run of ours paired with
/// the floor's run that followed it; `None` when the floor's figure is zero in every run.
fn paired_ratio(ours: &[Figures], floor: &[Figures], figure: fn(&Figures) -> f64) -> Option<f64> {
    let mut ratios: Vec<f64> = ours
        .iter()
        .zip(floor)
        .filter_map(|(o, f)| ratio(figure(o), figure(f)))
        .collect();
    ratios.sort_by(f64::total_cmp);
    ratios.get(ratios.len() / 2).copied()
}

fn ratio(ours: f64, floor: f64) -> Option<f64> {
    (floor > 0.0).then(|| ours / floor)
}

fn measurement(backend: &str, op: Op, implementation: &str, c: usize, f: Figures) -> Measurement {
    Measurement {
        backend: backend.to_owned(),
        operation: op.name().to_owned(),
        implementation: implementation.to_owned(),
        concurrency: c,
        calls: f.calls,
        ops_per_sec: f.ops_per_sec,
        p50_us: f.p50_us,
        p95_us: f.p95_us,
        p99_us: f.p99_us,
        round_trips: None,
        ratio_ops: None,
        ratio_p50: None,
    }
}

/// What counts the round trips of [`round_trips`].
#[derive(Debug)]
pub enum TripCounter {
    /// A relay in front of each server (one; or a primary and its replicas, the nodes of a
    /// multi-primary cluster); the backend was opened through them, and a call's round
    /// trips are what all of them relayed.
    Relays(Vec<Relay>),
    /// A cluster's primaries counting their read events.
    NodeReads(NodeReads),
}

impl TripCounter {
    async fn reset(&self) -> Result<(), BoxError> {
        match self {
            Self::Relays(relays) => {
                relays.iter().for_each(Relay::reset);
                Ok(())
            }
            Self::NodeReads(nodes) => nodes.reset().await,
        }
    }

    async fn round_trips(&self) -> Result<u64, BoxError> {
        match self {
            Self::Relays(relays) => Ok(relays.iter().map(Relay::round_trips).sum()),
            Self::NodeReads(nodes) => nodes.round_trips().await,
        }
    }
}

/// Counts the round trips per call of each operation: `backend` must have been opened
/// through the counter's relay, or be on the counter's cluster. A few users are seeded,
/// then each operation runs `calls` times by one caller after `calls` uncounted ones, so
/// neither opening connections nor preparing a statement on each pooled connection the
/// first time is counted. An operation none of whose traffic the counter saw is left out
/// of the map.
pub async fn round_trips(
    backend: &dyn Backend,
    counter: &TripCounter,
    ops: &[Op],
    calls: u64,
    user_extra_bytes: usize,
) -> Result<HashMap<Op, f64>, BoxError> {
    let fixture = backend.fixture().await?;
    let outcome = async {
        let world = Arc::new(seed(fixture.adapter.clone(), 20, user_extra_bytes).await?);
        let side = Side::Ours(world);
        let one_by_one = Limit {
            duration: None,
            calls: Some(calls.max(1)),
        };
        phase(&side, Op::SessionReadHit, 1, one_by_one).await?;
        let mut counted = HashMap::new();
        for &op in ops {
            phase(&side, op, 1, one_by_one).await?;
            counter.reset().await?;
            let figures = phase(&side, op, 1, one_by_one).await?;
            let trips = counter.round_trips().await?;
            // No traffic at all means the driver reached the server another way (mysql_async
            // moves a local connection to the server's Unix socket): not counted, not 0.
            if figures.calls > 0 && trips > 0 {
                counted.insert(op, trips as f64 / figures.calls as f64);
            }
        }
        Ok::<_, BoxError>(counted)
    }
    .await;
    fixture.inspector.teardown().await?;
    outcome
}

/// The rows as a table, one block per backend.
pub fn render_table(rows: &[Measurement]) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let mut backend = "";
    for r in rows {
        if r.backend != backend {
            backend = &r.backend;
            let _ = writeln!(out, "\n== {backend} ==");
            let _ = writeln!(
                out,
                "{:<18} {:<11} {:>4} {:>8} {:>10} {:>9} {:>9} {:>9} {:>6} {:>9} {:>9}",
                "operation",
                "impl",
                "c",
                "calls",
                "ops/s",
                "p50 µs",
                "p95 µs",
                "p99 µs",
                "trips",
                "ops/floor",
                "p50/floor"
            );
        }
        let opt = |v: Option<f64>, digits: usize| {
            v.map_or_else(|| "-".to_owned(), |v| format!("{v:.digits$}"))
        };
        let _ = writeln!(
            out,
            "{:<18} {:<11} {:>4} {:>8} {:>10.0} {:>9.1} {:>9.1} {:>9.1} {:>6} {:>9} {:>9}",
            r.operation,
            r.implementation,
            r.concurrency,
            r.calls,
            r.ops_per_sec,
            r.p50_us,
            r.p95_us,
            r.p99_us,
            opt(r.round_trips, 2),
            opt(r.ratio_ops, 2),
            opt(r.ratio_p50, 2)
        );
    }
    out
}

/// A row whose throughput fell by more than the tolerance against the baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct Regression {
    /// The row now.
    pub now: Measurement,
    /// Its ops/s in the baseline.
    pub baseline_ops_per_sec: f64,
}

/// Reads a baseline written by `bench --json` (one [`Measurement`] per line; blank lines
/// are skipped).
pub fn parse_baseline(text: &str) -> Result<Vec<Measurement>, BoxError> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(n, line)| {
            serde_json::from_str(line).map_err(|e| format!("baseline line {}: {e}", n + 1).into())
        })
        .collect()
}

/// The adapter's rows (`ours`) whose ops/s fell below `(1 − tolerance)` × the baseline's
/// for the same backend, operation and concurrency, and how many rows had a match. Raw
/// floor rows measure the server, not the adapter, and are not compared.
///
/// ```
/// use conformance_cli::bench::{compare, Measurement};
/// let row = |ops: f64| Measurement {
///     backend: "postgres".into(), operation: "session-read-hit".into(),
///     implementation: "ours".into(), concurrency: 32, calls: 1000, ops_per_sec: ops,
///     p50_us: 100.0, p95_us: 200.0, p99_us: 300.0,
///     round_trips: None, ratio_ops: None, ratio_p50: None,
/// };
/// let (matched, flagged) = compare(&[row(8000.0)], &[row(10000.0)], 0.15);
/// assert_eq!((matched, flagged.len()), (1, 1)); // 20 % slower
/// let (_, flagged) = compare(&[row(9000.0)], &[row(10000.0)], 0.15);
/// assert!(flagged.is_empty()); // 10 % slower: within the tolerance
/// ```
pub fn compare(
    now: &[Measurement],
    baseline: &[Measurement],
    tolerance: f64,
) -> (usize, Vec<Regression>) {
    let key = |m: &Measurement| {
        (
            m.backend.clone(),
            m.operation.clone(),
            m.implementation.clone(),
            m.concurrency,
        )
    };
    let before: HashMap<_, f64> = baseline.iter().map(|m| (key(m), m.ops_per_sec)).collect();
    let mut matched = 0;
    let mut flagged = Vec::new();
    for row in now.iter().filter(|m| m.implementation == "ours") {
        let Some(&base) = before.get(&key(row)) else {
            continue;
        };
        matched += 1;
        if row.ops_per_sec < base * (1.0 - tolerance) {
            flagged.push(Regression {
                now: row.clone(),
                baseline_ops_per_sec: base,
            });
        }
    }
    (matched, flagged)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_and_rate_come_from_the_samples() {
        let samples = (1..=100).map(Duration::from_micros).collect();
        let f = summarize(samples, Duration::from_millis(50));
        assert_eq!(
            (f.p50_us.round(), f.p95_us.round(), f.p99_us.round()),
            (51.0, 95.0, 99.0)
        );
        assert_eq!((f.calls, f.ops_per_sec.round()), (100, 2000.0));
    }

    #[test]
    fn the_median_run_is_taken_figure_by_figure() {
        let f = |ops: f64, p50: f64| Figures {
            calls: ops as u64,
            ops_per_sec: ops,
            p50_us: p50,
            p95_us: p50 * 2.0,
            p99_us: p50 * 3.0,
        };
        let m = median_of(&[f(300.0, 10.0), f(100.0, 30.0), f(200.0, 20.0)]);
        assert_eq!((m.calls, m.ops_per_sec, m.p50_us), (200, 200.0, 20.0));
    }

    #[test]
    fn each_run_is_compared_with_the_floor_run_beside_it() {
        let f = |ops: f64| Figures {
            calls: ops as u64,
            ops_per_sec: ops,
            p50_us: 1e6 / ops,
            p95_us: 0.0,
            p99_us: 0.0,
        };
        // The machine slows down run by run; the pairs show ours at 0.9, 0.6 and 1.0 of
        // the floor (median 0.9), where the ratio of the two medians would say 0.6.
        let ours = [f(900.0), f(300.0), f(200.0)];
        let floor = [f(1000.0), f(500.0), f(200.0)];
        let ratio = paired_ratio(&ours, &floor, |f| f.ops_per_sec).expect("a ratio");
        assert!((ratio - 0.9).abs() < 1e-9, "{ratio}");
        assert_eq!(paired_ratio(&ours, &[f(0.0)], |f| f.ops_per_sec), None);
    }

    #[test]
    fn a_baseline_round_trips_through_json_lines_and_flags_only_ours() {
        let row = |implementation: &str, ops: f64| Measurement {
            backend: "redis".into(),
            operation: "session-read-hit".into(),
            implementation: implementation.into(),
            concurrency: 1,
            calls: 10,
            ops_per_sec: ops,
            p50_us: 1.0,
            p95_us: 2.0,
            p99_us: 3.0,
            round_trips: Some(1.0),
            ratio_ops: None,
            ratio_p50: None,
        };
        let baseline = [row("ours", 1000.0), row("raw-script", 1000.0)];
        let text: String = baseline
            .iter()
            .map(|m| serde_json::to_string(m).unwrap() + "\n\n")
            .collect();
        let parsed = parse_baseline(&text).unwrap();
        assert_eq!(parsed, baseline);
        let now = [row("ours", 800.0), row("raw-script", 100.0)];
        let (matched, flagged) = compare(&now, &parsed, 0.15);
        assert_eq!(matched, 1);
        assert_eq!(flagged.len(), 1);
        assert_eq!(flagged[0].baseline_ops_per_sec, 1000.0);
        assert!(parse_baseline("{not json").is_err());
    }

    #[test]
    fn every_op_name_parses_back() {
        for op in Op::ALL {
            assert_eq!(Op::parse(op.name()), Some(op));
        }
        assert_eq!(Op::parse("nope"), None);
    }
}
