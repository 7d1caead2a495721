//! Fault drills on a Redis Cluster the test owns: six `redis-server` processes (three
//! primaries, three replicas) on free ports of 127.0.0.1 below the ephemeral range, with an
//! append-only file that the OS flushes (`appendfsync no`: each write reaches the file
//! before its reply, so a killed process loses nothing, and no fsync on the machine's one
//! disk stalls a node: with `everysec` and `always`, six nodes under 16 writers stalled
//! for seconds, every caller timing out at once),
//! formed by `redis-cli --cluster create`, removed when the [`OwnCluster`] is dropped. The
//! adapter is adapter-redis in cluster mode with a 2 s call timeout, under the
//! [`CALLERS`] readers and writers of [`faults`](crate::faults):
//!
//! 1. [`reshard`]: 1,200 slots move from one primary to another while the callers run: no
//!    call fails, and every acknowledged write is read back;
//! 2. [`failover`]: a primary is killed (SIGKILL) while the callers run: every failure is
//!    ADAPTER_CONNECTION_ERROR within the timeout + 1 s, the same adapter serves every
//!    caller again within 20 s of the replica's promotion, and the writes acknowledged
//!    before the kill that are gone are counted (none may be gone with
//!    `wait_for_replicas`);
//! 3. [`restart`]: every node is killed and started again on its data: as the single-server
//!    restart drill, every acknowledged write read back and the same adapter serving again.
//!
//! Each returns its figures and panics with the first broken promise. Needs `redis-server`
//! and `redis-cli` 7 on the `PATH` (else a `SKIPPED` line, or a failure when
//! `AUTH_CONFORMANCE_REQUIRE` names `redis-cluster`).

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use adapter_conformance::harness;
use adapter_conformance::BoxError;
use adapter_redis::redis::{self, aio::MultiplexedConnection};
use adapter_redis::RedisAdapter;
use auth_core::{Adapter, ErrorCode};

use crate::faults::{first_success, seed_callers, until_ok, Call, Load, ADAPTER_TIMEOUT, CALLERS};

/// The backend name the drills answer to in `AUTH_CONFORMANCE_REQUIRE`.
pub const BACKEND: &str = "redis-cluster";
/// How many slots the reshard drill moves.
pub const RESHARD_SLOTS: usize = 1_200;
/// How soon after a replica's promotion (with `wait_for_replicas`: after the old primary
/// rejoins as a replica) the same adapter must serve every caller again.
pub const FAILOVER_LIMIT: Duration = Duration::from_secs(20);

/// One node: its port, its bus port, and the process while it runs.
struct Node {
    port: u16,
    bus: u16,
    child: Option<Child>,
}

/// Six `redis-server` processes forming a cluster, stopped and removed on drop.
pub struct OwnCluster {
    dir: PathBuf,
    nodes: Vec<Node>,
}

impl fmt::Debug for OwnCluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnCluster")
            .field(
                "ports",
                &self.nodes.iter().map(|n| n.port).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            if let Some(mut child) = node.child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A port on 127.0.0.1 that nothing listens on and `taken` does not hold, below the
/// kernel's ephemeral range (32768 and up on Linux): a node killed on an ephemeral port can
/// see its port taken by an outgoing connection, and a client dialling it then connects
/// to itself and waits for a reply that never comes (seen in the failover drill as every
/// call to the dead node timing out long after the failover).
fn free_port(taken: &[u16]) -> Result<u16, BoxError> {
    let mut start = 20_000 + (std::process::id() % 500) as u16 * 20;
    for _ in 0..2 {
        for port in start..30_000 {
            if !taken.contains(&port) && std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
                return Ok(port);
            }
        }
        start = 20_000;
    }
    Err("no free port between 20000 and 30000".into())
}

async fn node_connection(port: u16) -> Result<MultiplexedConnection, BoxError> {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}"))?;
    let conn = tokio::time::timeout(
        Duration::from_secs(2),
        client.get_multiplexed_async_connection(),
    )
    .await
    .map_err(|_| format!("node {port} did not answer"))??;
    Ok(conn)
}

async fn node_command(port: u16, cmd: &redis::Cmd) -> Result<String, BoxError> {
    let mut conn = node_connection(port).await?;
    Ok(cmd.query_async(&mut conn).await?)
}

/// A node of `CLUSTER NODES`: id, port, whether a primary, whether failed, slot ranges.
#[derive(Debug, Clone)]
pub struct NodeInfo {
    /// The node id.
    pub id: String,
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// Whether it is a primary now.
    pub primary: bool,
    /// Whether the cluster marks it failed.
    pub failed: bool,
    /// How many slots it serves.
    pub slots: usize,
}

fn parse_nodes(text: &str) -> Vec<NodeInfo> {
    text.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (id, address, flags) = (fields.first()?, fields.get(1)?, fields.get(2)?);
            let port = address.split(['@', ':']).nth(1)?.parse().ok()?;
            let slots = fields
                .iter()
                .skip(8)
                .filter(|range| !range.starts_with('['))
                .map(|range| match range.split_once('-') {
                    Some((a, b)) => {
                        b.parse::<usize>().unwrap_or(0) + 1 - a.parse::<usize>().unwrap_or(0)
                    }
                    None => 1,
                })
                .sum();
            Some(NodeInfo {
                id: (*id).to_owned(),
                port,
                primary: flags.contains("master"),
                failed: flags.contains("fail") && !flags.contains("fail?"),
                slots,
            })
        })
        .collect()
}

impl OwnCluster {
    /// Starts six nodes and forms the cluster; `Err` when `redis-server` or `redis-cli`
    /// cannot be run here.
    pub async fn start() -> Result<Self, BoxError> {
        for tool in ["redis-server", "redis-cli"] {
            Command::new(tool)
                .arg("--version")
                .stdout(Stdio::null())
                .status()
                .map_err(|e| format!("{tool} cannot be run: {e}"))?;
        }
        let dir =
            std::env::temp_dir().join(format!("auth-cluster-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir)?;
        let mut taken = Vec::new();
        let mut nodes = Vec::new();
        for _ in 0..6 {
            let port = free_port(&taken)?;
            taken.push(port);
            let bus = free_port(&taken)?;
            taken.push(bus);
            nodes.push(Node {
                port,
                bus,
                child: None,
            });
        }
        let mut cluster = Self { dir, nodes };
        for i in 0..cluster.nodes.len() {
            cluster.spawn(i)?;
        }
        for node in &cluster.nodes {
            until_ok(Duration::from_secs(20), || node_connection(node.port)).await?;
        }
        let mut create = Command::new("redis-cli");
        create.arg("--cluster").arg("create");
        for node in &cluster.nodes {
            create.arg(format!("127.0.0.1:{}", node.port));
        }
        let out = create
            .args(["--cluster-replicas", "1", "--cluster-yes"])
            .output()?;
        if !out.status.success() {
            return Err(format!(
                "redis-cli --cluster create failed: {}",
                String::from_utf8_lossy(&out.stdout)
            )
            .into());
        }
        cluster.settled(Duration::from_secs(60)).await?;
        Ok(cluster)
    }

    fn spawn(&mut self, i: usize) -> Result<(), BoxError> {
        let node = &self.nodes[i];
        let dir = self.dir.join(node.port.to_string());
        std::fs::create_dir_all(&dir)?;
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port"])
            .arg(node.port.to_string())
            .arg("--cluster-port")
            .arg(node.bus.to_string())
            .args(["--cluster-enabled", "yes", "--cluster-config-file"])
            .arg(dir.join("nodes.conf"))
            .args([
                "--cluster-node-timeout",
                "2000",
                "--cluster-announce-ip",
                "127.0.0.1",
            ])
            .args([
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
            ])
            .args(["--repl-diskless-sync-delay", "0", "--dir"])
            .arg(&dir)
            .args(["--logfile"])
            .arg(dir.join("log"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        self.nodes[i].child = Some(child);
        Ok(())
    }

    /// The seed URLs of every node.
    pub fn urls(&self) -> Vec<String> {
        self.nodes
            .iter()
            .map(|n| format!("redis://127.0.0.1:{}", n.port))
            .collect()
    }

    /// `CLUSTER NODES` as a running node sees it.
    pub async fn topology(&self) -> Result<Vec<NodeInfo>, BoxError> {
        let mut last = None;
        for node in self.nodes.iter().filter(|n| n.child.is_some()) {
            match node_command(node.port, redis::cmd("CLUSTER").arg("NODES")).await {
                Ok(text) => return Ok(parse_nodes(&text)),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| "no node runs".into()))
    }

    /// Waits until every running node says `cluster_state:ok`, three primaries serve all
    /// 16,384 slots, and no running node is marked failed.
    pub async fn settled(&self, limit: Duration) -> Result<Duration, BoxError> {
        let started = Instant::now();
        loop {
            let ok = self.is_settled().await.unwrap_or(false);
            if ok {
                return Ok(started.elapsed());
            }
            if started.elapsed() > limit {
                return Err(format!("the cluster did not settle within {limit:?}").into());
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Waits until the node `id` (killed) is marked failed and another primary serves its
    /// slots, on every running node: the time a replica took to take over.
    pub async fn promoted_away_from(
        &self,
        id: &str,
        limit: Duration,
    ) -> Result<Duration, BoxError> {
        let started = Instant::now();
        loop {
            let mut everywhere = true;
            for node in self.nodes.iter().filter(|n| n.child.is_some()) {
                let seen = node_command(node.port, redis::cmd("CLUSTER").arg("NODES"))
                    .await
                    .map(|text| parse_nodes(&text))
                    .unwrap_or_default();
                let gone = seen.iter().any(|n| n.id == id && (n.failed || !n.primary));
                let serving: usize = seen
                    .iter()
                    .filter(|n| n.primary && !n.failed && n.id != id)
                    .map(|n| n.slots)
                    .sum();
                everywhere &= gone && serving == 16_384;
            }
            if everywhere {
                return Ok(started.elapsed());
            }
            if started.elapsed() > limit {
                return Err(format!("no replica took over within {limit:?}").into());
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    async fn is_settled(&self) -> Result<bool, BoxError> {
        for node in self.nodes.iter().filter(|n| n.child.is_some()) {
            let info = node_command(node.port, redis::cmd("CLUSTER").arg("INFO")).await?;
            if !info.contains("cluster_state:ok") {
                return Ok(false);
            }
            let nodes =
                parse_nodes(&node_command(node.port, redis::cmd("CLUSTER").arg("NODES")).await?);
            let serving: usize = nodes
                .iter()
                .filter(|n| n.primary && !n.failed)
                .map(|n| n.slots)
                .sum();
            let running_failed = nodes.iter().any(|n| {
                n.failed
                    && self
                        .nodes
                        .iter()
                        .any(|own| own.port == n.port && own.child.is_some())
            });
            if serving != 16_384 || running_failed {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Kills the node on `port` (SIGKILL).
    pub fn kill(&mut self, port: u16) {
        if let Some(node) = self.nodes.iter_mut().find(|n| n.port == port) {
            if let Some(mut child) = node.child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }

    /// Starts the node on `port` again, on its data and cluster configuration.
    pub fn restart(&mut self, port: u16) -> Result<(), BoxError> {
        let i = self
            .nodes
            .iter()
            .position(|n| n.port == port)
            .ok_or("no such node")?;
        self.spawn(i)
    }

    /// Every port.
    pub fn ports(&self) -> Vec<u16> {
        self.nodes.iter().map(|n| n.port).collect()
    }

    fn log_tail(&self) -> String {
        self.nodes
            .iter()
            .map(|n| {
                let log = std::fs::read_to_string(self.dir.join(n.port.to_string()).join("log"))
                    .unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(5).collect();
                format!("{}: {}", n.port, tail.join(" | "))
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The directory of the nodes' data.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// The figures of the three drills.
#[derive(Debug, Clone, Default)]
pub struct ClusterDrills {
    /// Slots moved by the reshard, and how long it took.
    pub resharded_slots: usize,
    /// How long the reshard took.
    pub reshard_took: Duration,
    /// Calls during the reshard (none may fail).
    pub reshard_calls: usize,
    /// Writes acknowledged during the reshard, all read back.
    pub reshard_writes: usize,
    /// Per failover (without, then with `wait_for_replicas(1, …)`): the figures.
    pub failovers: Vec<Failover>,
    /// The whole-cluster restart: calls, errors, writes acknowledged before the kill (all
    /// read back), and how long until the adapter served again.
    pub restart_calls: usize,
    /// Errors around the restart (all ADAPTER_CONNECTION_ERROR).
    pub restart_errors: usize,
    /// Writes acknowledged before the kill.
    pub restart_writes: usize,
    /// From the restart of the nodes to the first call served.
    pub restart_recovery: Duration,
}

/// The figures of one failover drill.
#[derive(Debug, Clone, Default)]
pub struct Failover {
    /// Whether the adapter waited for a replica on every write step.
    pub wait_for_replicas: bool,
    /// From the kill to the replica's promotion (the cluster settled again).
    pub promotion: Duration,
    /// Until every caller was served again: from the promotion, or with
    /// `wait_for_replicas` from the old primary's return as a replica.
    pub recovery: Option<Duration>,
    /// Calls, and how many failed (all with ADAPTER_CONNECTION_ERROR).
    pub calls: usize,
    /// Failed calls.
    pub errors: usize,
    /// Writes acknowledged before the kill.
    pub acknowledged: usize,
    /// Of those, how many are gone.
    pub lost: usize,
}

impl fmt::Display for ClusterDrills {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "cluster drills on redis-cluster: reshard of {} slots in {:.1?} under {} callers: {} calls, 0 errors, {} writes all read back",
            self.resharded_slots, self.reshard_took, CALLERS, self.reshard_calls, self.reshard_writes
        )?;
        for fo in &self.failovers {
            writeln!(
                f,
                "  failover{}: promoted {:.1?} after the kill, every caller served {}; {} calls, {} ADAPTER_CONNECTION_ERROR; {} writes acknowledged before the kill, {} lost",
                if fo.wait_for_replicas { " (wait_for_replicas 1)" } else { "" },
                fo.promotion,
                fo.recovery.map_or_else(String::new, |d| if fo.wait_for_replicas {
                    format!("{d:.2?} after the old primary rejoined as its replica")
                } else {
                    format!("{d:.2?} later")
                }),
                fo.calls,
                fo.errors,
                fo.acknowledged,
                fo.lost
            )?;
        }
        write!(
            f,
            "  whole cluster killed and restarted: {} calls, {} ADAPTER_CONNECTION_ERROR, {} writes all read back, serving {:.1?} after the restart",
            self.restart_calls, self.restart_errors, self.restart_writes, self.restart_recovery
        )
    }
}

fn drill_prefix() -> String {
    format!("drill:{}:", uuid::Uuid::now_v7().simple())
}

async fn cluster_adapter(
    urls: &[String],
    wait_for_replicas: bool,
) -> Result<Arc<dyn Adapter>, BoxError> {
    cluster_adapter_on(urls, wait_for_replicas, &drill_prefix()).await
}

async fn cluster_adapter_on(
    urls: &[String],
    wait_for_replicas: bool,
    prefix: &str,
) -> Result<Arc<dyn Adapter>, BoxError> {
    let mut builder = RedisAdapter::cluster_builder(urls.iter().cloned())
        .key_prefix(prefix)
        .call_timeout(ADAPTER_TIMEOUT);
    if wait_for_replicas {
        builder = builder.wait_for_replicas(1, Duration::from_millis(500));
    }
    let adapter = builder.connect().await?;
    adapter.migrate().await?;
    Ok(Arc::new(adapter))
}

/// Every call returned within the timeout + 1 s and failed, if at all, with
/// ADAPTER_CONNECTION_ERROR; returns the number of failures.
fn check_calls(calls: &[Call], what: &str) -> usize {
    let limit = ADAPTER_TIMEOUT + Duration::from_secs(1);
    let mut errors = 0;
    for call in calls {
        assert!(call.took <= limit, "{what}: a call took {:.2?}", call.took);
        if let Err(err) = &call.result {
            errors += 1;
            assert_eq!(
                err.code(),
                ErrorCode::AdapterConnectionError,
                "{what}: a call failed with another error: {err:?}"
            );
        }
    }
    errors
}

/// The users acknowledged before `before` (all when `None`) and how many of them the
/// adapter cannot read now.
async fn lost_writes(
    adapter: &dyn Adapter,
    calls: &[Call],
    before: Option<Instant>,
) -> (usize, usize) {
    let mut acknowledged = 0;
    let mut lost = 0;
    for call in calls {
        let Ok(Some(id)) = &call.result else { continue };
        if before.is_some_and(|at| call.started + call.took >= at) {
            continue;
        }
        acknowledged += 1;
        let found = until_ok(Duration::from_secs(10), || async {
            adapter.get_user(id).await.map_err(BoxError::from)
        })
        .await
        .unwrap_or_else(|e| panic!("reading {id} back: {e}"));
        lost += usize::from(found.is_none());
    }
    (acknowledged, lost)
}

/// Until every caller's session reads again, or what the last read gave past `limit`.
async fn all_callers_served(adapter: &dyn Adapter, limit: Duration) -> Result<Duration, String> {
    let started = Instant::now();
    let mut next = 0;
    let mut last = String::new();
    while started.elapsed() < limit {
        while next < CALLERS {
            match adapter
                .get_session_and_user(&format!("fault-t{next}"))
                .await
            {
                Ok(Some(_)) => next += 1,
                other => {
                    last = format!("caller {next}: {other:?}");
                    break;
                }
            }
        }
        if next == CALLERS {
            return Ok(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Err(last)
}

/// Drill 1: moves [`RESHARD_SLOTS`] slots from the primary with the most to another while
/// the callers read and write.
pub async fn reshard(cluster: &OwnCluster, figures: &mut ClusterDrills) {
    let adapter = cluster_adapter(&cluster.urls(), false)
        .await
        .expect("adapter");
    seed_callers(adapter.as_ref()).await;
    let topology = cluster.topology().await.expect("topology");
    let mut primaries: Vec<&NodeInfo> = topology.iter().filter(|n| n.primary).collect();
    primaries.sort_by_key(|n| std::cmp::Reverse(n.slots));
    let (from, to) = (primaries[0].clone(), primaries[1].clone());
    let load = Load::start(adapter.clone(), true);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = Instant::now();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("redis-cli")
            .args(["--cluster", "reshard"])
            .arg(format!("127.0.0.1:{}", from.port))
            .args([
                "--cluster-from",
                &from.id,
                "--cluster-to",
                &to.id,
                "--cluster-slots",
            ])
            .arg(RESHARD_SLOTS.to_string())
            .args(["--cluster-yes", "--cluster-pipeline", "100"])
            .output()
    })
    .await
    .expect("reshard task")
    .expect("redis-cli --cluster reshard");
    figures.reshard_took = started.elapsed();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let calls = load.stop().await;
    assert!(
        out.status.success(),
        "the reshard failed: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let after = cluster.topology().await.expect("topology");
    let moved_to = after
        .iter()
        .find(|n| n.port == to.port)
        .map_or(0, |n| n.slots);
    assert_eq!(moved_to, to.slots + RESHARD_SLOTS, "the slots did not move");
    figures.resharded_slots = RESHARD_SLOTS;
    figures.reshard_calls = calls.len();
    let errors: Vec<_> = calls
        .iter()
        .filter_map(|c| c.result.as_ref().err())
        .collect();
    assert!(
        errors.is_empty(),
        "{} calls failed during the reshard, e.g. {:?}",
        errors.len(),
        errors.first()
    );
    let (acknowledged, lost) = lost_writes(adapter.as_ref(), &calls, None).await;
    assert_eq!(lost, 0, "writes acknowledged during the reshard are gone");
    figures.reshard_writes = acknowledged;
}

/// Drill 2: kills the primary with the most slots under load and waits for its replica's
/// promotion (required within 30 s); every call must fail, if at all, with
/// ADAPTER_CONNECTION_ERROR within the timeout + 1 s. The writes acknowledged before the
/// kill are read back by a new adapter on the same keys (what the cluster kept): with
/// `wait_for_replicas` none may be missing. The same adapter must serve every caller again
/// within [`FAILOVER_LIMIT`] of the promotion; with `wait_for_replicas`, of the old
/// primary's return as a replica (before it, the promoted primary has no replica: its
/// writes fail after the wait, and calls sharing its connection wait behind the `WAIT`s).
pub async fn failover(cluster: &mut OwnCluster, wait_for_replicas: bool) -> Failover {
    let urls = cluster.urls();
    let prefix = drill_prefix();
    let adapter = cluster_adapter_on(&urls, wait_for_replicas, &prefix)
        .await
        .expect("adapter");
    seed_callers(adapter.as_ref()).await;
    let topology = cluster.topology().await.expect("topology");
    let victim = topology
        .iter()
        .filter(|n| n.primary)
        .max_by_key(|n| n.slots)
        .expect("a primary")
        .clone();
    let load = Load::start(adapter.clone(), true);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let killed_at = Instant::now();
    cluster.kill(victim.port);
    let promotion = cluster
        .promoted_away_from(&victim.id, Duration::from_secs(30))
        .await
        .unwrap_or_else(|e| panic!("no promotion after the kill: {e}\n{}", cluster.log_tail()));
    let mut recovery = None;
    if !wait_for_replicas {
        recovery = Some(
            all_callers_served(adapter.as_ref(), FAILOVER_LIMIT)
                .await
                .unwrap_or_else(|last| {
                    panic!("callers not served {FAILOVER_LIMIT:?} after the promotion: {last}")
                }),
        );
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let calls = load.stop().await;
    let errors = check_calls(&calls, "failover");
    let reader = cluster_adapter_on(&urls, false, &prefix)
        .await
        .expect("a new adapter on the promoted cluster");
    let (acknowledged, lost) = lost_writes(reader.as_ref(), &calls, Some(killed_at)).await;
    cluster
        .restart(victim.port)
        .expect("restart the old primary");
    cluster
        .settled(Duration::from_secs(30))
        .await
        .expect("the old primary rejoins");
    if wait_for_replicas {
        assert_eq!(
            lost, 0,
            "with wait_for_replicas, acknowledged writes were lost"
        );
        // Until the promoted primary has a replica again, every write to it fails after the
        // wait, and the calls that share its connection wait behind those `WAIT`s: the
        // adapter is judged once the old primary has rejoined as that replica.
        recovery = Some(
            all_callers_served(adapter.as_ref(), FAILOVER_LIMIT)
                .await
                .unwrap_or_else(|last| {
                    panic!(
                        "callers not served {FAILOVER_LIMIT:?} after the replica rejoined: {last}"
                    )
                }),
        );
    }
    Failover {
        wait_for_replicas,
        promotion,
        recovery,
        calls: calls.len(),
        errors,
        acknowledged,
        lost,
    }
}

/// Drill 3: every node killed, then started again on its data, under load.
pub async fn restart(cluster: &mut OwnCluster, figures: &mut ClusterDrills) {
    let adapter = cluster_adapter(&cluster.urls(), false)
        .await
        .expect("adapter");
    seed_callers(adapter.as_ref()).await;
    let load = Load::start(adapter.clone(), true);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let killed_at = Instant::now();
    let ports = cluster.ports();
    for port in &ports {
        cluster.kill(*port);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    for port in &ports {
        cluster.restart(*port).expect("restart a node");
    }
    let restarted_at = Instant::now();
    figures.restart_recovery = first_success(adapter.as_ref(), Duration::from_secs(60))
        .await
        .map(|_| restarted_at.elapsed())
        .unwrap_or_else(|| panic!("not serving 60 s after the restart\n{}", cluster.log_tail()));
    cluster
        .settled(Duration::from_secs(60))
        .await
        .expect("settled");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let calls = load.stop().await;
    figures.restart_calls = calls.len();
    figures.restart_errors = check_calls(&calls, "restart");
    let (acknowledged, lost) = lost_writes(adapter.as_ref(), &calls, Some(killed_at)).await;
    assert_eq!(
        lost, 0,
        "writes acknowledged before the kill are gone after the restart"
    );
    figures.restart_writes = acknowledged;
}

/// The three drills on a cluster of their own; `None` (after a `SKIPPED` line) when
/// `redis-server` cannot be run here and nothing requires [`BACKEND`].
pub async fn run() -> Option<ClusterDrills> {
    let mut cluster = match OwnCluster::start().await {
        Ok(cluster) => cluster,
        Err(why) if !harness::is_required(BACKEND) => {
            eprintln!("SKIPPED cluster drills: {why}");
            return None;
        }
        Err(why) => panic!(
            "cluster drills: no cluster ({why}), and {} requires it",
            harness::REQUIRE_VAR
        ),
    };
    let mut figures = ClusterDrills::default();
    reshard(&cluster, &mut figures).await;
    figures.failovers.push(failover(&mut cluster, false).await);
    figures.failovers.push(failover(&mut cluster, true).await);
    restart(&mut cluster, &mut figures).await;
    println!("{figures}");
    Some(figures)
}
