//! Fault injection on a server the test owns: the server is paused under load, resumed,
//! then killed and restarted mid-load, and the same adapter must fail fast, recover and
//! keep every write it acknowledged.
//!
//! Every server backend gets the drill through [`targets`]: a [`FaultTarget`] pairs the
//! backend's [`BackendSpec`] (whose container plan gives the server: the local image its
//! `AUTH_TEST_<X>_IMAGE` names, else the Docker Hub image) with a constructor of its adapter
//! with a short timeout. MongoDB runs on nx-27017, a process the test starts and stops itself
//! ([`NX_BIN_VAR`]). [`run_drill`] returns the figures ([`DrillReport`]) and panics with the
//! first broken promise:
//!
//! 1. pause (`docker pause`, SIGSTOP) under [`CALLERS`] concurrent callers: every call returns
//!    within the adapter's timeout + 1 s, and every failure is ADAPTER_CONNECTION_ERROR;
//! 2. unpause: the same adapter serves again within 5 s;
//! 3. kill (SIGKILL) and start again on the same port and data, with writers running: every
//!    write acknowledged before the kill is read back afterwards, no read returns another
//!    user's record, and the same adapter recovers (within 60 s, crash recovery included).
//!
//! ```no_run
//! # async fn run() {
//! for target in conformance_cli::faults::targets() {
//!     if let Some(report) = conformance_cli::faults::run_target(&target).await {
//!         println!("{report}");
//!     }
//! }
//! # }
//! ```

use std::fmt;
use std::path::PathBuf;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use auth_core::chrono::{Duration as Span, Utc};
use auth_core::{Adapter, AdapterError, ErrorCode, Session, User};
use futures::future::BoxFuture;

use adapter_conformance::harness::{self, BackendSpec, RunningContainer, Source};
use adapter_conformance::BoxError;

/// How many callers run at once during each fault.
pub const CALLERS: usize = 32;
/// The timeout the drill's adapters are configured with.
pub const ADAPTER_TIMEOUT: Duration = Duration::from_secs(2);
/// How soon after the unpause the adapter must serve again.
pub const RESUME_LIMIT: Duration = Duration::from_secs(5);
/// How soon after the restart the adapter must serve again (the server's crash recovery
/// included).
pub const RESTART_LIMIT: Duration = Duration::from_secs(60);
/// The variable naming the `nx-27017` executable (the Mongo stand-in); `.ci/run` sets it to
/// the cached venv's.
pub const NX_BIN_VAR: &str = "AUTH_TEST_NX27017_BIN";

/// Builds an adapter of a backend on `url` whose every call is bounded by `timeout`,
/// migrated.
pub type FaultAdapterFn =
    fn(String, Duration) -> BoxFuture<'static, Result<Arc<dyn Adapter>, BoxError>>;

/// One backend the drill runs on.
#[derive(Clone)]
pub struct FaultTarget {
    /// The backend: its name, and its container plan for the server.
    pub spec: BackendSpec,
    /// Its adapter with a short timeout.
    pub adapter: FaultAdapterFn,
    /// Where the server comes from.
    pub server: ServerKind,
}

impl fmt::Debug for FaultTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FaultTarget")
            .field("backend", &self.spec.name)
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

/// Where a drill's server comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerKind {
    /// A container of the backend's [`ContainerPlan`](adapter_conformance::harness::ContainerPlan).
    Container,
    /// An nx-27017 process (MongoDB wire protocol), from [`NX_BIN_VAR`].
    Nx27017,
}

/// A server the drill may pause, resume, kill and start again, on a fixed address.
#[async_trait]
pub trait ServerControl: Send + Sync {
    /// Its URL on 127.0.0.1.
    fn url(&self) -> String;
    /// Freezes the server: connections stay open, nothing answers.
    async fn pause(&self) -> Result<(), BoxError>;
    /// Thaws it.
    async fn resume(&self) -> Result<(), BoxError>;
    /// Kills it at once (SIGKILL, no shutdown).
    async fn kill(&self) -> Result<(), BoxError>;
    /// Starts it again on the same port and data.
    async fn restart(&self) -> Result<(), BoxError>;
}

/// A container of the suite's own, controlled through the Docker API.
pub struct DockerServer {
    running: RunningContainer,
    docker: testcontainers::bollard::Docker,
}

impl fmt::Debug for DockerServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DockerServer")
            .field("running", &self.running)
            .finish_non_exhaustive()
    }
}

impl DockerServer {
    /// Starts the container of `spec`'s plan (never shared: the drill breaks it).
    pub async fn start(spec: &BackendSpec) -> Result<(String, Self), BoxError> {
        let Source::Server {
            container: Some(plan),
            ..
        } = &spec.source
        else {
            return Err(format!("backend {} has no container image", spec.name).into());
        };
        harness::docker_engine()?;
        let (image, running) = harness::start_planned(plan).await?;
        let docker = testcontainers::bollard::Docker::connect_with_local_defaults()?;
        Ok((image, Self { running, docker }))
    }
}

#[async_trait]
impl ServerControl for DockerServer {
    fn url(&self) -> String {
        self.running.url.clone()
    }
    async fn pause(&self) -> Result<(), BoxError> {
        Ok(self.docker.pause_container(&self.running.id).await?)
    }
    async fn resume(&self) -> Result<(), BoxError> {
        Ok(self.docker.unpause_container(&self.running.id).await?)
    }
    async fn kill(&self) -> Result<(), BoxError> {
        Ok(self.docker.kill_container(&self.running.id, None).await?)
    }
    async fn restart(&self) -> Result<(), BoxError> {
        // The port binding is explicit, so the host port survives the restart.
        Ok(self.docker.start_container(&self.running.id, None).await?)
    }
}

/// An nx-27017 process of the drill's own: a fresh data directory under the system's
/// temporary directory (removed on drop), a free port on 127.0.0.1.
#[derive(Debug)]
pub struct NxServer {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    child: Mutex<Option<Child>>,
}

impl NxServer {
    /// Starts nx-27017 from [`NX_BIN_VAR`], or says why it cannot.
    pub async fn start() -> Result<Self, BoxError> {
        let bin = harness::env_url(NX_BIN_VAR)
            .map(PathBuf::from)
            .ok_or_else(|| format!("{NX_BIN_VAR} is not set (the nx-27017 executable)"))?;
        if !bin.exists() {
            return Err(format!("{NX_BIN_VAR}={} does not exist", bin.display()).into());
        }
        let dir = std::env::temp_dir().join(format!(
            "auth-faults-nx-{}-{}",
            std::process::id(),
            uuid::Uuid::now_v7().simple()
        ));
        std::fs::create_dir_all(&dir)?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let server = Self {
            bin,
            dir,
            port,
            child: Mutex::new(None),
        };
        server.spawn().await?;
        Ok(server)
    }

    async fn spawn(&self) -> Result<(), BoxError> {
        let child = Command::new(&self.bin)
            .arg("--data-dir")
            .arg(self.dir.join("data"))
            .args(["--host", "127.0.0.1", "-p", &self.port.to_string()])
            .arg("--log-file")
            .arg(self.dir.join("nx.log"))
            .current_dir(&self.dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()?;
        *self.child.lock().unwrap_or_else(|p| p.into_inner()) = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .is_err()
        {
            if Instant::now() > deadline {
                return Err("nx-27017 did not listen within 30 s".into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(())
    }

    fn signal(&self, signal: &str) -> Result<(), BoxError> {
        let pid = self
            .child
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(Child::id)
            .ok_or("nx-27017 is not running")?;
        let status = Command::new("kill")
            .args([signal, &pid.to_string()])
            .status()?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("kill {signal} {pid} failed").into())
        }
    }
}

#[async_trait]
impl ServerControl for NxServer {
    fn url(&self) -> String {
        format!("mongodb://127.0.0.1:{}", self.port)
    }
    async fn pause(&self) -> Result<(), BoxError> {
        self.signal("-STOP")
    }
    async fn resume(&self) -> Result<(), BoxError> {
        self.signal("-CONT")
    }
    async fn kill(&self) -> Result<(), BoxError> {
        let child = self.child.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(mut child) = child {
            child.kill()?;
            child.wait()?;
        }
        Ok(())
    }
    async fn restart(&self) -> Result<(), BoxError> {
        self.spawn().await
    }
}

impl Drop for NxServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = Command::new("kill")
                .args(["-CONT", &child.id().to_string()])
                .status();
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The figures of one drill, for the report.
#[derive(Debug, Clone, Default)]
pub struct DrillReport {
    /// The backend.
    pub backend: String,
    /// The server (image reference, or `nx-27017`).
    pub server: String,
    /// Calls made while the server was paused (started after the pause, before the resume).
    pub paused_calls: usize,
    /// How many of them failed (all must, with ADAPTER_CONNECTION_ERROR).
    pub paused_errors: usize,
    /// The slowest call of the pause phase.
    pub paused_max_latency: Duration,
    /// From the resume to the first call served.
    pub resume_recovery: Duration,
    /// Calls made during the kill phase, before and after.
    pub kill_calls: usize,
    /// How many of them failed.
    pub kill_errors: usize,
    /// Writes acknowledged before the kill, every one read back afterwards.
    pub acknowledged_writes: usize,
    /// The slowest call of the kill phase.
    pub kill_max_latency: Duration,
    /// From the restart command to the first call served.
    pub restart_recovery: Duration,
}

impl fmt::Display for DrillReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "faults {} on {}: pause {} calls, {} ADAPTER_CONNECTION_ERROR, max {:.2?}; \
             resumed in {:.2?}; kill+restart {} calls, {} errors, max {:.2?}, \
             {} acknowledged writes all read back, recovered in {:.2?}",
            self.backend,
            self.server,
            self.paused_calls,
            self.paused_errors,
            self.paused_max_latency,
            self.resume_recovery,
            self.kill_calls,
            self.kill_errors,
            self.kill_max_latency,
            self.acknowledged_writes,
            self.restart_recovery,
        )
    }
}

/// One call of a caller: when it started and ended, and what it gave.
pub(crate) struct Call {
    pub(crate) started: Instant,
    pub(crate) took: Duration,
    /// `Ok(Some(id))` for a write acknowledged (the user id), `Ok(None)` for a read served.
    pub(crate) result: Result<Option<String>, AdapterError>,
}

/// Runs the drill on `target`: `None` (with a SKIPPED line) when its server cannot be had
/// here and `AUTH_CONFORMANCE_REQUIRE` does not name it; panics on a broken promise or a
/// required server that cannot start.
pub async fn run_target(target: &FaultTarget) -> Option<DrillReport> {
    let name = target.spec.name;
    let started: Result<(String, Box<dyn ServerControl>), BoxError> = match target.server {
        ServerKind::Container => DockerServer::start(&target.spec)
            .await
            .map(|(image, server)| (image, Box::new(server) as Box<dyn ServerControl>)),
        ServerKind::Nx27017 => NxServer::start().await.map(|server| {
            (
                "nx-27017".to_owned(),
                Box::new(server) as Box<dyn ServerControl>,
            )
        }),
    };
    let (image, server) = match started {
        Ok(started) => started,
        Err(why) if !harness::is_required(name) => {
            eprintln!("SKIPPED faults {name}: {why}");
            return None;
        }
        Err(why) => panic!(
            "faults {name}: no server ({why}), and {} requires it",
            harness::REQUIRE_VAR
        ),
    };
    let adapter = until_ok(Duration::from_secs(60), || {
        (target.adapter)(server.url(), ADAPTER_TIMEOUT)
    })
    .await
    .unwrap_or_else(|e| panic!("faults {name}: the adapter could not connect: {e}"));
    let mut report = run_drill(adapter, server.as_ref()).await;
    report.backend = name.to_owned();
    report.server = image;
    // Leaves nothing behind: the container (or process) goes with `server`.
    drop(server);
    println!("{report}");
    Some(report)
}

pub(crate) async fn until_ok<T, F, Fut>(limit: Duration, mut f: F) -> Result<T, BoxError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, BoxError>>,
{
    let deadline = Instant::now() + limit;
    loop {
        match f().await {
            Ok(value) => return Ok(value),
            Err(e) if Instant::now() > deadline => return Err(e),
            Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
}

/// The three faults on an adapter (configured with [`ADAPTER_TIMEOUT`]) connected to
/// `server`. Panics with what broke.
pub async fn run_drill(adapter: Arc<dyn Adapter>, server: &dyn ServerControl) -> DrillReport {
    let limit = ADAPTER_TIMEOUT + Duration::from_secs(1);
    let mut report = DrillReport::default();

    seed_callers(adapter.as_ref()).await;

    // 1 and 2: pause under load, then resume.
    let load = Load::start(adapter.clone(), false);
    tokio::time::sleep(Duration::from_millis(500)).await;
    server.pause().await.expect("pause");
    // Calls that began before the engine froze the server may have been served.
    let paused_at = Instant::now();
    // Long enough for a call begun after the pause to end before the resume: each caller
    // may first wait out a call already in flight (up to the timeout), then its next call
    // runs up to the timeout again.
    tokio::time::sleep(ADAPTER_TIMEOUT * 2 + Duration::from_secs(1)).await;
    let resumed_at = Instant::now();
    server.resume().await.expect("resume");
    report.resume_recovery = first_success(adapter.as_ref(), RESUME_LIMIT)
        .await
        .unwrap_or_else(|| panic!("not serving again {RESUME_LIMIT:?} after the resume"));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let calls = load.stop().await;
    for call in &calls {
        assert!(
            call.took <= limit,
            "a call took {:.2?} (over the timeout + 1 s)",
            call.took
        );
        if let Err(err) = &call.result {
            assert_eq!(
                err.code(),
                ErrorCode::AdapterConnectionError,
                "a call failed with another error than a connection error: {err:?}"
            );
        }
        if call.started >= paused_at && call.started + call.took < resumed_at {
            report.paused_calls += 1;
            report.paused_max_latency = report.paused_max_latency.max(call.took);
            match &call.result {
                Err(_) => report.paused_errors += 1,
                Ok(_) => panic!("a call served while the server was paused"),
            }
        }
    }
    assert!(report.paused_calls > 0, "no call ran during the pause");

    // 3: kill and restart mid-load, writers running.
    let load = Load::start(adapter.clone(), true);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let killed_at = Instant::now();
    server.kill().await.expect("kill");
    tokio::time::sleep(Duration::from_millis(500)).await;
    server.restart().await.expect("restart");
    let recovered = first_success(adapter.as_ref(), RESTART_LIMIT)
        .await
        .unwrap_or_else(|| panic!("not serving again {RESTART_LIMIT:?} after the restart"));
    report.restart_recovery = recovered;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let calls = load.stop().await;
    report.kill_calls = calls.len();
    for call in &calls {
        report.kill_max_latency = report.kill_max_latency.max(call.took);
        assert!(
            call.took <= limit,
            "a call took {:.2?} around the kill (over the timeout + 1 s)",
            call.took
        );
        match &call.result {
            Err(err) => {
                report.kill_errors += 1;
                assert_eq!(
                    err.code(),
                    ErrorCode::AdapterConnectionError,
                    "a call around the kill failed with another error: {err:?}"
                );
            }
            Ok(Some(id)) if call.started + call.took < killed_at => {
                report.acknowledged_writes += 1;
                let stored = adapter
                    .get_user(id)
                    .await
                    .unwrap_or_else(|e| panic!("reading {id} back: {e}"));
                assert_eq!(
                    stored.map(|u| u.id),
                    Some(id.clone()),
                    "a write acknowledged before the kill is gone"
                );
            }
            Ok(_) => {}
        }
    }
    assert!(report.acknowledged_writes > 0, "no write before the kill");
    report
}

/// The user and session each of the [`CALLERS`] reads: a reply with anyone else's is a bug.
pub(crate) async fn seed_callers(adapter: &dyn Adapter) {
    for i in 0..CALLERS {
        let user = adapter
            .create_user(User::with_id(format!("fault-u{i}")).with_email(format!("f{i}@x.test")))
            .await
            .expect("seed user");
        adapter
            .create_session(Session::with_token(
                format!("fault-t{i}"),
                user.id,
                Utc::now() + Span::days(1),
            ))
            .await
            .expect("seed session");
    }
}

/// From now until the adapter serves a read, or `None` past `limit`.
pub(crate) async fn first_success(adapter: &dyn Adapter, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < limit {
        if adapter.get_session_and_user("fault-t0").await.is_ok() {
            return Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    None
}

/// [`CALLERS`] tasks calling the adapter in a loop until stopped.
pub(crate) struct Load {
    stop: Arc<AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<Vec<Call>>>,
}

impl Load {
    /// Readers of their own sessions; with `writes`, every other call creates a user.
    pub(crate) fn start(adapter: Arc<dyn Adapter>, writes: bool) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let tasks = (0..CALLERS)
            .map(|caller| {
                let (adapter, stop) = (adapter.clone(), stop.clone());
                tokio::spawn(async move {
                    let mut calls = Vec::new();
                    let mut n = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        n += 1;
                        let started = Instant::now();
                        let result = if writes && n.is_multiple_of(2) {
                            let id = format!("fault-w{caller}-{n}-{}", uuid::Uuid::now_v7());
                            match adapter.create_user(User::with_id(id.clone())).await {
                                Ok(user) => {
                                    assert_eq!(user.id, id, "create_user returned another user");
                                    Ok(Some(id))
                                }
                                Err(e) => Err(e),
                            }
                        } else {
                            match adapter
                                .get_session_and_user(&format!("fault-t{caller}"))
                                .await
                            {
                                Ok(Some((session, user))) => {
                                    let want = format!("fault-u{caller}");
                                    assert_eq!(user.id, want, "a read returned another user");
                                    assert_eq!(
                                        session.user_id, want,
                                        "a read returned another session"
                                    );
                                    Ok(None)
                                }
                                Ok(None) => panic!("caller {caller}'s session is gone"),
                                Err(e) => Err(e),
                            }
                        };
                        calls.push(Call {
                            started,
                            took: started.elapsed(),
                            result,
                        });
                        if calls.last().is_some_and(|c| c.result.is_err()) {
                            // Not a busy loop on a dead server.
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                    }
                    calls
                })
            })
            .collect();
        Self { stop, tasks }
    }

    pub(crate) async fn stop(self) -> Vec<Call> {
        self.stop.store(true, Ordering::Relaxed);
        let mut all = Vec::new();
        for task in self.tasks {
            // A caller that panicked (a wrong user, a lost session) fails the drill here.
            all.extend(
                task.await
                    .unwrap_or_else(|e| panic!("a caller panicked: {e}")),
            );
        }
        all
    }
}

/// The body of a [`FaultAdapterFn`]: `$builder` (one adapter crate's builder, with any
/// option of its own) connects at the drill's `$timeout` and migrates. A macro, as the
/// builders and their `migrate` share no trait.
macro_rules! migrated_adapter {
    ($builder:expr, $timeout:expr) => {
        Box::pin(async move {
            let adapter = $builder.call_timeout($timeout).connect().await?;
            adapter.migrate().await?;
            Ok(Arc::new(adapter) as Arc<dyn Adapter>)
        })
    };
}

/// A target whose server is the backend's container.
fn in_container(spec: BackendSpec, adapter: FaultAdapterFn) -> FaultTarget {
    FaultTarget {
        spec,
        adapter,
        server: ServerKind::Container,
    }
}

/// Every server backend compiled in, with its adapter at a short timeout.
pub fn targets() -> Vec<FaultTarget> {
    use crate::backends::{diesel, mongo, redis, seaorm, sqlx};
    let sqlx_adapter: FaultAdapterFn = |url, timeout| {
        migrated_adapter!(
            adapter_sqlx::SqlxAdapter::builder(url).max_connections(8),
            timeout
        )
    };
    let diesel_adapter: FaultAdapterFn =
        |url, timeout| migrated_adapter!(adapter_diesel::DieselAdapter::builder(url), timeout);
    let seaorm_adapter: FaultAdapterFn =
        |url, timeout| migrated_adapter!(adapter_seaorm::SeaOrmAdapter::builder(url), timeout);
    let redis_adapter: FaultAdapterFn =
        |url, timeout| migrated_adapter!(adapter_redis::RedisAdapter::builder(url), timeout);
    let mongo_adapter: FaultAdapterFn =
        |url, timeout| migrated_adapter!(adapter_mongo::MongoAdapter::builder(url), timeout);
    vec![
        in_container(sqlx::postgres_spec(), sqlx_adapter),
        in_container(sqlx::mariadb_spec(), sqlx_adapter),
        in_container(diesel::postgres_spec(), diesel_adapter),
        in_container(diesel::mariadb_spec(), diesel_adapter),
        in_container(seaorm::postgres_spec(), seaorm_adapter),
        in_container(seaorm::mariadb_spec(), seaorm_adapter),
        in_container(redis::redis_spec(), redis_adapter),
        FaultTarget {
            spec: mongo::mongo_spec(),
            adapter: mongo_adapter,
            server: ServerKind::Nx27017,
        },
    ]
}

/// The target of this backend name.
///
/// ```
/// # /// assert!(conformance_cli::faults::target("redis").is_some());
/// assert!(conformance_cli::faults::target("memory").is_none());
/// ```
pub fn target(name: &str) -> Option<FaultTarget> {
    targets().into_iter().find(|t| t.spec.name == name)
}
