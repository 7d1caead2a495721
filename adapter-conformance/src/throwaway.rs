//! Throwaway servers for tests that must stop and restart a database: [`PgCluster`], a
//! PostgreSQL cluster of a test's own on a free port, so the shared server is never touched.
//!
//! The recovery tests of adapter-sqlx and adapter-diesel use it to prove that a dead server
//! gives ADAPTER_CONNECTION_ERROR within the pool timeout and that the same adapter works
//! again once the server is back:
//!
//! ```no_run
//! use adapter_conformance::throwaway::PgCluster;
//!
//! # fn run() -> Result<(), String> {
//! // `None` (with a loud SKIPPED line) when the PostgreSQL binaries are missing, unless
//! // AUTH_CONFORMANCE_REQUIRE is set, which turns that into a panic.
//! let Some(cluster) = PgCluster::start_for("my recovery test") else { return Ok(()) };
//! let url = cluster.url(); // postgres://postgres@127.0.0.1:<port>/postgres
//! cluster.stop()?;
//! cluster.start()?;
//! # Ok(())
//! # }
//! ```

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use auth_core::{AdapterResult, ErrorCode, ErrorKind};

use crate::harness::REQUIRE_VAR;

/// The variable naming a PostgreSQL `bin` directory (with `initdb` and `pg_ctl`); default
/// `/usr/lib/postgresql/15/bin`.
pub const PG_BIN_VAR: &str = "AUTH_TEST_PG_BIN";

/// A PostgreSQL cluster of a test's own (initdb + pg_ctl, trust authentication, listening on
/// 127.0.0.1 at a free port, data in a fresh temporary directory): stopped and deleted on
/// drop, also when an assertion fails. As root, the tools run as the `postgres` OS user
/// (PostgreSQL refuses to run as root).
#[derive(Debug)]
pub struct PgCluster {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    as_postgres: bool,
}

impl PgCluster {
    /// The PostgreSQL binaries: `AUTH_TEST_PG_BIN`, else `/usr/lib/postgresql/15/bin`, or why
    /// they cannot be used.
    ///
    /// ```no_run
    /// let bin = adapter_conformance::throwaway::PgCluster::bin_dir();
    /// ```
    pub fn bin_dir() -> Result<PathBuf, String> {
        let bin = std::env::var(PG_BIN_VAR)
            .map(PathBuf::from)
            .unwrap_or_else(|_| PathBuf::from("/usr/lib/postgresql/15/bin"));
        if bin.join("initdb").exists() && bin.join("pg_ctl").exists() {
            Ok(bin)
        } else {
            Err(format!(
                "no initdb/pg_ctl in {} (set {PG_BIN_VAR} to a PostgreSQL bin directory)",
                bin.display()
            ))
        }
    }

    /// Creates (initdb) and starts a cluster for the test `what`. Without the binaries it
    /// prints one loud SKIPPED line and gives `None`, or panics when
    /// `AUTH_CONFORMANCE_REQUIRE` is set; it panics when the cluster cannot be made.
    ///
    /// ```no_run
    /// let cluster = adapter_conformance::throwaway::PgCluster::start_for("recovery");
    /// ```
    pub fn start_for(what: &str) -> Option<Self> {
        let bin = match Self::bin_dir() {
            Ok(bin) => bin,
            Err(why) if std::env::var_os(REQUIRE_VAR).is_none() => {
                eprintln!("SKIPPED {what}: {why}");
                return None;
            }
            Err(why) => panic!("{what}: {why}, and {REQUIRE_VAR} is set"),
        };
        let cluster = Self::create(&bin).unwrap_or_else(|e| panic!("{what}: initdb: {e}"));
        cluster
            .start()
            .unwrap_or_else(|e| panic!("{what}: start: {e}"));
        Some(cluster)
    }

    /// Creates a cluster (initdb) with the binaries in `bin`, not started yet.
    ///
    /// ```no_run
    /// use adapter_conformance::throwaway::PgCluster;
    /// let cluster = PgCluster::create(&PgCluster::bin_dir()?)?;
    /// cluster.start()?;
    /// # Ok::<(), String>(())
    /// ```
    pub fn create(bin: &Path) -> Result<Self, String> {
        let as_postgres = is_root();
        let dir = std::env::temp_dir().join(format!(
            "auth-pg-cluster-{}-{}",
            std::process::id(),
            uuid::Uuid::now_v7().simple()
        ));
        std::fs::create_dir_all(dir.join("sock")).map_err(|e| e.to_string())?;
        let cluster = PgCluster {
            bin: bin.to_owned(),
            dir,
            port: free_port()?,
            as_postgres,
        };
        if as_postgres {
            let status = Command::new("chown")
                .args(["-R", "postgres:"])
                .arg(&cluster.dir)
                .status()
                .map_err(|e| e.to_string())?;
            if !status.success() {
                return Err(format!("chown of {} failed", cluster.dir.display()));
            }
        }
        let data = cluster.data();
        cluster.run(
            "initdb",
            &[
                "-D",
                &data.to_string_lossy(),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        )?;
        Ok(cluster)
    }

    /// Starts the server and waits until it accepts connections (at most 60 s).
    ///
    /// ```no_run
    /// # let cluster = adapter_conformance::throwaway::PgCluster::start_for("x").unwrap();
    /// cluster.stop()?;
    /// cluster.start()?;
    /// # Ok::<(), String>(())
    /// ```
    pub fn start(&self) -> Result<(), String> {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.join("sock").display()
        );
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data().to_string_lossy(),
                "-l",
                &self.dir.join("server.log").to_string_lossy(),
                "-o",
                &options,
                "-w",
                "-t",
                "60",
                "start",
            ],
        )
    }

    /// Stops the server at once (`-m immediate`: connections are cut, as in a crash).
    ///
    /// ```no_run
    /// # let cluster = adapter_conformance::throwaway::PgCluster::start_for("x").unwrap();
    /// cluster.stop()?;
    /// # Ok::<(), String>(())
    /// ```
    pub fn stop(&self) -> Result<(), String> {
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data().to_string_lossy(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
        )
    }

    /// The URL of the `postgres` database as the `postgres` user (trust, no password).
    ///
    /// ```no_run
    /// # let cluster = adapter_conformance::throwaway::PgCluster::start_for("x").unwrap();
    /// assert!(cluster.url().starts_with("postgres://postgres@127.0.0.1:"));
    /// ```
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// The TCP port the server listens on.
    ///
    /// ```no_run
    /// # let cluster = adapter_conformance::throwaway::PgCluster::start_for("x").unwrap();
    /// assert!(cluster.port() > 0);
    /// ```
    pub fn port(&self) -> u16 {
        self.port
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// Runs a PostgreSQL tool, as the `postgres` OS user when we are root.
    fn run(&self, tool: &str, args: &[&str]) -> Result<(), String> {
        let program = self.bin.join(tool);
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&program);
            c
        } else {
            Command::new(&program)
        };
        let output = command
            .args(args)
            .output()
            .map_err(|e| format!("could not run {}: {e}", program.display()))?;
        if output.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{tool} {args:?} failed ({}):\n{}{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ))
        }
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        // Stopping a stopped cluster fails harmlessly.
        let _ = self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
        .unwrap_or(false)
}

fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(|e| e.to_string())
}

/// Awaits `call` and asserts it failed with ADAPTER_CONNECTION_ERROR (kind `Connection`)
/// within `limit`; returns how long it took.
///
/// ```no_run
/// use std::time::Duration;
/// use adapter_conformance::throwaway::expect_connection_error;
/// # async fn run(db: &dyn auth_core::Adapter) {
/// expect_connection_error("get_user", Duration::from_secs(3), db.get_user("u-1")).await;
/// # }
/// ```
pub async fn expect_connection_error<T: std::fmt::Debug>(
    what: &str,
    limit: Duration,
    call: impl Future<Output = AdapterResult<T>>,
) -> Duration {
    let started = Instant::now();
    let result = call.await;
    let elapsed = started.elapsed();
    let err = result.expect_err(&format!("{what} on a stopped server succeeded"));
    eprintln!("{what}: {} after {elapsed:?}", err.code().as_str());
    assert_eq!(
        err.code(),
        ErrorCode::AdapterConnectionError,
        "{what}: {err}"
    );
    assert_eq!(err.kind(), ErrorKind::Connection, "{what}: {err}");
    assert!(
        elapsed <= limit,
        "{what} took {elapsed:?}, over the {limit:?} limit"
    );
    elapsed
}

/// Calls `call` until it succeeds, for at most `limit`, and returns its value; every
/// failure on the way must be a connection error (a server finishing crash recovery may
/// answer "starting up" for a moment).
///
/// ```no_run
/// use std::time::Duration;
/// use adapter_conformance::throwaway::until_back;
/// # async fn run(db: &dyn auth_core::Adapter) {
/// let user = until_back(Duration::from_secs(30), || db.get_user("u-1")).await;
/// # }
/// ```
pub async fn until_back<T, F, Fut>(limit: Duration, mut call: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = AdapterResult<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        match call().await {
            Ok(value) => return value,
            Err(err) if Instant::now() < deadline => {
                assert_eq!(err.kind(), ErrorKind::Connection, "while restarting: {err}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(err) => panic!("the adapter did not recover within {limit:?}: {err}"),
        }
    }
}

/// The whole outage drill on an adapter connected (with a pool timeout of `timeout`) to
/// `cluster`, which it has migrated: a user with a session is written and read; the server
/// stops and every kind of call (read, write, atomic take, delete, update) fails with
/// ADAPTER_CONNECTION_ERROR within `timeout` + 1 s; the server starts again and the same
/// adapter serves the session (within 30 s) and writes again.
///
/// ```no_run
/// use std::time::Duration;
/// use adapter_conformance::throwaway::{outage_drill, PgCluster};
/// # async fn run(connect: impl Fn(String) -> std::sync::Arc<dyn auth_core::Adapter>) {
/// let Some(cluster) = PgCluster::start_for("recovery") else { return };
/// let adapter = connect(cluster.url()); // with a 2 s pool timeout, migrated
/// outage_drill(adapter.as_ref(), &cluster, Duration::from_secs(2)).await;
/// # }
/// ```
pub async fn outage_drill(
    adapter: &dyn auth_core::Adapter,
    cluster: &PgCluster,
    timeout: Duration,
) {
    use auth_core::chrono::{Duration as Span, Utc};
    use auth_core::{Session, User, UserUpdate};

    let user = adapter
        .create_user(User::with_id("u-1").with_email("ada@example.com"))
        .await
        .expect("create_user");
    let session = adapter
        .create_session(Session::with_token(
            "tok-1",
            "u-1",
            Utc::now() + Span::days(1),
        ))
        .await
        .expect("create_session");
    // Several calls at once, so the pool holds several connections that die with the server.
    let reads = (0..4).map(|_| adapter.get_session_and_user("tok-1"));
    for found in futures::future::join_all(reads).await {
        assert_eq!(found.expect("read"), Some((session.clone(), user.clone())));
    }

    cluster.stop().unwrap_or_else(|e| panic!("stop: {e}"));
    // Scheduling slack on a loaded 2-core machine.
    let limit = timeout + Duration::from_secs(1);
    let get = adapter.get_session_and_user("tok-1");
    expect_connection_error("get_session_and_user", limit, get).await;
    let create = adapter.create_user(User::with_id("u-2"));
    expect_connection_error("create_user", limit, create).await;
    let take = adapter.use_verification_token("a", "b");
    expect_connection_error("use_verification_token", limit, take).await;
    expect_connection_error("delete_user", limit, adapter.delete_user("u-1")).await;
    let update = adapter.update_user(UserUpdate::new("u-1").name(Some("Ada".into())));
    expect_connection_error("update_user", limit, update).await;

    cluster.start().unwrap_or_else(|e| panic!("restart: {e}"));
    // The same adapter: its broken connections are replaced as calls come in.
    let back = until_back(Duration::from_secs(30), || {
        adapter.get_session_and_user("tok-1")
    })
    .await;
    assert_eq!(back, Some((session, user)), "the data survived the restart");
    for i in 0..8 {
        adapter
            .create_user(User::with_id(format!("u-after-{i}")))
            .await
            .expect("writes work again, on every connection");
    }
}
