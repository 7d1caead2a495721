//! Acceptance: with the server stopped, calls fail with ADAPTER_CONNECTION_ERROR within the
//! acquire timeout, and the same adapter works again once the server is back.
//!
//! The test starts its own throwaway PostgreSQL 15 cluster (initdb + pg_ctl from
//! `/usr/lib/postgresql/15/bin`, or `AUTH_TEST_PG_BIN`) on a free port in a fresh temporary
//! directory, so the shared server on 5432 is never touched. A drop guard stops and removes
//! the cluster even when an assertion fails. Without the binaries the test is skipped with a
//! loud line, or fails when `AUTH_CONFORMANCE_REQUIRE` is set.
#![cfg(feature = "postgres")]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use adapter_sqlx::SqlxAdapter;
use auth_core::chrono::{Duration as Span, Utc};
use auth_core::{Adapter, ErrorCode, ErrorKind, Session, User};

const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);
/// Scheduling slack on a loaded 2-core machine.
const SLACK: Duration = Duration::from_secs(1);

/// A PostgreSQL cluster of our own: stopped and deleted on drop.
struct Cluster {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    as_postgres: bool,
}

impl Cluster {
    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// Runs a PostgreSQL tool, as the `postgres` OS user when we are root (PostgreSQL
    /// refuses to run as root).
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

    fn create(bin: &Path) -> Result<Self, String> {
        let as_postgres = is_root();
        let unique = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir = std::env::temp_dir().join(format!(
            "auth-sqlx-recovery-{}-{unique}",
            std::process::id()
        ));
        std::fs::create_dir_all(dir.join("sock")).map_err(|e| e.to_string())?;
        let cluster = Cluster {
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

    fn start(&self) -> Result<(), String> {
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

    fn stop(&self) -> Result<(), String> {
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

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Cluster {
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

/// The PostgreSQL binaries, or `None` (with the reason) when they are not installed.
fn postgres_bin() -> Result<PathBuf, String> {
    let bin = std::env::var("AUTH_TEST_PG_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from("/usr/lib/postgresql/15/bin"));
    if bin.join("initdb").exists() && bin.join("pg_ctl").exists() {
        Ok(bin)
    } else {
        Err(format!(
            "no initdb/pg_ctl in {} (set AUTH_TEST_PG_BIN to a PostgreSQL bin directory)",
            bin.display()
        ))
    }
}

async fn expect_connection_error<T: std::fmt::Debug>(
    what: &str,
    call: impl std::future::Future<Output = auth_core::AdapterResult<T>>,
) {
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
        elapsed <= ACQUIRE_TIMEOUT + SLACK,
        "{what} took {elapsed:?}, over the {ACQUIRE_TIMEOUT:?} acquire timeout"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_fail_fast_while_the_server_is_down_and_work_again_after() {
    let bin = match postgres_bin() {
        Ok(bin) => bin,
        Err(why) if std::env::var_os("AUTH_CONFORMANCE_REQUIRE").is_none() => {
            eprintln!("SKIPPED recovery test: {why}");
            return;
        }
        Err(why) => panic!("{why}, and AUTH_CONFORMANCE_REQUIRE is set"),
    };
    let cluster = Cluster::create(&bin).unwrap_or_else(|e| panic!("initdb: {e}"));
    cluster.start().unwrap_or_else(|e| panic!("start: {e}"));

    let adapter = SqlxAdapter::builder(cluster.url())
        .max_connections(4)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect()
        .await
        .expect("connect to the fresh cluster");
    adapter.migrate().await.expect("migrate");
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
    assert_eq!(
        adapter.get_session_and_user("tok-1").await.expect("read"),
        Some((session.clone(), user.clone()))
    );

    cluster.stop().unwrap_or_else(|e| panic!("stop: {e}"));
    expect_connection_error(
        "get_session_and_user",
        adapter.get_session_and_user("tok-1"),
    )
    .await;
    expect_connection_error("create_user", adapter.create_user(User::with_id("u-2"))).await;
    expect_connection_error(
        "use_verification_token",
        adapter.use_verification_token("a", "b"),
    )
    .await;
    expect_connection_error("delete_user", adapter.delete_user("u-1")).await;

    cluster.start().unwrap_or_else(|e| panic!("restart: {e}"));
    // The same adapter: its broken connections are replaced as calls come in. A server
    // still finishing crash recovery may answer "starting up" for a moment.
    let deadline = Instant::now() + Duration::from_secs(30);
    let back = loop {
        match adapter.get_session_and_user("tok-1").await {
            Ok(found) => break found,
            Err(err) if Instant::now() < deadline => {
                assert_eq!(err.kind(), ErrorKind::Connection, "while restarting: {err}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(err) => panic!("the adapter did not recover within 30 s: {err}"),
        }
    };
    assert_eq!(back, Some((session, user)), "the data survived the restart");
    adapter
        .create_user(User::with_id("u-2"))
        .await
        .expect("writes work again");
    adapter.close().await;
}
