//! [`Db`]: the connection both layouts' stores talk through, and the ways they talk:
//! the call bound, one round trip with its error mapped, script invocations, reads of
//! records, and the compare-and-set loop ([`Db::retrying`]). Nothing here knows a key
//! layout.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use auth_core::ErrorKind;
use auth_core::{AdapterError, AdapterResult, Operation};
use redis::aio::{ConnectionLike, ConnectionManager};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{RoutingInfo, SingleNodeRoutingInfo};
use redis::{
    Cmd, ErrorKind as RedisKind, FromRedisValue, Pipeline, RedisFuture, RedisResult,
    ScriptInvocation, ServerErrorKind, Value,
};

use crate::error::{self, decoded};
use crate::records::CorruptRecord;
use crate::scripts::{self, Reply};

/// How often a compare-and-set script is retried when concurrent writers keep changing
/// its inputs, before the call fails with a `Backend` error.
///
/// ```
/// assert_eq!(adapter_redis::MAX_ATTEMPTS, 16);
/// ```
pub const MAX_ATTEMPTS: usize = 16;

/// One attempt of a compare-and-set: done, or the record changed under it.
pub(crate) enum Attempt<T> {
    Done(T),
    Retry,
}

/// The connection to one server (a [`ConnectionManager`]) or to a Redis Cluster (a
/// [`ClusterConnection`], which follows `MOVED`/`ASK` redirections, retries `TRYAGAIN` and
/// `CLUSTERDOWN` within the call bound, and reloads a script on `NOSCRIPT`). Both are
/// multiplexed and cheap to clone.
#[derive(Clone)]
pub(crate) enum Conn {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

/// Which kind of connection, never a connection detail.
impl fmt::Debug for Conn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Single(_) => "Conn::Single",
            Self::Cluster(_) => "Conn::Cluster",
        })
    }
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Single(conn) => conn.req_packed_command(cmd),
            Self::Cluster(conn) => conn.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Self::Single(conn) => conn.req_packed_commands(cmd, offset, count),
            Self::Cluster(conn) => conn.req_packed_commands(cmd, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Single(conn) => conn.get_db(),
            Self::Cluster(conn) => conn.get_db(),
        }
    }
}

/// The adapter's connection and call bound, shared by the adapter, its clones and the
/// store of its layout. Cloning shares the connection, so [`close`](Self::close) closes it
/// for all of them.
#[derive(Clone)]
pub(crate) struct Db {
    /// `None` once [`close`](Self::close) was called.
    conn: Arc<RwLock<Option<Conn>>>,
    call_timeout: Duration,
    /// Cluster mode: the seed nodes, and when the slot map was last nudged.
    topology: Arc<Topology>,
}

/// What the cluster mode needs to recover from a failover at once. redis-rs follows
/// `MOVED` and rebuilds its slot map then, but requests for a node that died are retried
/// against that same address, and under load its connection stayed stuck on the dead node
/// long after a replica had taken over (every call timing out for 25 s and more, in the
/// failover drill). So after a call fails with a connection error, the adapter opens a
/// fresh cluster connection from the seed nodes in the background (at most once per
/// [`RENEW_EVERY`]) and swaps it in: it learns the current slot map as it connects.
#[derive(Default)]
pub(crate) struct Topology {
    client: Option<ClusterClient>,
    last_renewal: Mutex<Option<Instant>>,
}

impl fmt::Debug for Topology {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Topology")
            .field("cluster", &self.client.is_some())
            .finish_non_exhaustive()
    }
}

impl Topology {
    /// The cluster mode's, renewing connections from `client`.
    pub(crate) fn new(client: ClusterClient) -> Self {
        Self {
            client: Some(client),
            last_renewal: Mutex::new(None),
        }
    }

    /// Whether a renewal may start now.
    fn due(&self) -> bool {
        let mut last = self
            .last_renewal
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if last.is_some_and(|at| at.elapsed() < RENEW_EVERY) {
            return false;
        }
        *last = Some(Instant::now());
        true
    }
}

/// The least time between two renewals of the cluster connection.
const RENEW_EVERY: Duration = Duration::from_secs(1);

/// Shows the timeout and whether it is closed, never a connection detail.
impl fmt::Debug for Db {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Db")
            .field("call_timeout", &self.call_timeout)
            .field("closed", &self.conn().is_none())
            .finish()
    }
}

impl Db {
    pub(crate) fn new(conn: Conn, call_timeout: Duration, topology: Topology) -> Self {
        Self {
            conn: Arc::new(RwLock::new(Some(conn))),
            call_timeout,
            topology: Arc::new(topology),
        }
    }

    pub(crate) fn call_timeout(&self) -> Duration {
        self.call_timeout
    }

    /// The connection, or `None` after [`close`](Self::close).
    pub(crate) fn conn(&self) -> Option<Conn> {
        self.conn
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Lets go of the connection for every holder of this `Db`: calls afterwards fail
    /// with ADAPTER_CONNECTION_ERROR.
    pub(crate) fn close(&self) {
        self.conn
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
    }

    fn open(&self, op: Operation) -> AdapterResult<Conn> {
        self.conn().ok_or_else(|| error::closed(op))
    }

    /// Runs one adapter call (all of its round trips and retries) within the call timeout:
    /// past it the call is dropped and fails with ADAPTER_CONNECTION_ERROR, whatever the
    /// server does. A request already written stays queued on the multiplexed connection
    /// and its late reply is discarded.
    pub(crate) async fn call<T>(
        &self,
        op: Operation,
        call: impl Future<Output = AdapterResult<T>>,
    ) -> AdapterResult<T> {
        let result = auth_core::bound::within(op, self.call_timeout, call).await;
        if let Err(err) = &result {
            if err.kind() == ErrorKind::Connection {
                self.renew_cluster_connection();
            }
        }
        result
    }

    /// Cluster mode: a fresh connection from the seed nodes, swapped in once it is up
    /// (see [`Topology`]), in the background, at most once each [`RENEW_EVERY`]. A single
    /// server: nothing.
    fn renew_cluster_connection(&self) {
        let Some(client) = self.topology.client.clone() else {
            return;
        };
        if !matches!(self.conn(), Some(Conn::Cluster(_))) || !self.topology.due() {
            return;
        }
        let slot = self.conn.clone();
        tokio::spawn(async move {
            let Ok(fresh) = client.get_async_connection().await else {
                return;
            };
            let mut current = slot.write().unwrap_or_else(PoisonError::into_inner);
            // Not after close(): a closed adapter stays closed.
            if current.is_some() {
                *current = Some(Conn::Cluster(fresh));
            }
        });
    }

    /// One round trip, its driver error mapped (the bound is [`call`](Self::call)'s).
    async fn round_trip<T>(
        &self,
        op: Operation,
        fut: impl Future<Output = RedisResult<T>>,
    ) -> AdapterResult<T> {
        fut.await.map_err(|err| error::from_redis(op, err))
    }

    pub(crate) async fn query<T: FromRedisValue>(
        &self,
        op: Operation,
        cmd: &Cmd,
    ) -> AdapterResult<T> {
        let mut conn = self.open(op)?;
        self.round_trip(op, cmd.query_async(&mut conn)).await
    }

    pub(crate) async fn query_pipe<T: FromRedisValue>(
        &self,
        op: Operation,
        pipe: &Pipeline,
    ) -> AdapterResult<T> {
        let mut conn = self.open(op)?;
        self.round_trip(op, pipe.query_async(&mut conn)).await
    }

    pub(crate) async fn invoke(
        &self,
        op: Operation,
        invocation: &ScriptInvocation<'_>,
    ) -> AdapterResult<Reply> {
        let mut conn = self.open(op)?;
        let value: Value = self
            .round_trip(op, invocation.invoke_async(&mut conn))
            .await?;
        Reply::parse(value).map_err(|what| error::unexpected(op, what))
    }

    /// Cluster mode: runs the script of `source` by its SHA1 (`EVALSHA`, sent to the
    /// primary of the first key), and on `NOSCRIPT` (a replica promoted by a failover, a
    /// node that joined or restarted: scripts are not replicated) sends it whole (`EVAL`,
    /// which also caches it there). Only that node is asked, never every node: redis-rs's
    /// own fallback loads a script on all of them, and one unreachable node then stalls
    /// the call.
    pub(crate) async fn eval(
        &self,
        op: Operation,
        hash: &str,
        source: &str,
        keys: &[&str],
        args: &[&[u8]],
    ) -> AdapterResult<Reply> {
        let command = |name: &str, script: &str| {
            let mut cmd = redis::cmd(name);
            cmd.arg(script).arg(keys.len()).arg(keys);
            for arg in args {
                cmd.arg(*arg);
            }
            cmd
        };
        let mut conn = self.open(op)?;
        let value: Value = match command("EVALSHA", hash).query_async(&mut conn).await {
            Err(err) if err.kind() == RedisKind::Server(ServerErrorKind::NoScript) => {
                self.round_trip(op, command("EVAL", source).query_async(&mut conn))
                    .await?
            }
            other => other.map_err(|err| error::from_redis(op, err))?,
        };
        Reply::parse(value).map_err(|what| error::unexpected(op, what))
    }

    pub(crate) async fn get(&self, op: Operation, key: &str) -> AdapterResult<Option<Vec<u8>>> {
        self.query(op, redis::cmd("GET").arg(key)).await
    }

    pub(crate) async fn mget(
        &self,
        op: Operation,
        keys: &[String],
    ) -> AdapterResult<Vec<Option<Vec<u8>>>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        self.query(op, redis::cmd("MGET").arg(keys)).await
    }

    /// Whether `key` exists.
    pub(crate) async fn exists(&self, op: Operation, key: &str) -> AdapterResult<bool> {
        let n: i64 = self.query(op, redis::cmd("EXISTS").arg(key)).await?;
        Ok(n > 0)
    }

    /// The record at `key`, decoded.
    pub(crate) async fn record<T>(
        &self,
        op: Operation,
        key: &str,
        decode: fn(&[u8]) -> Result<T, CorruptRecord>,
    ) -> AdapterResult<Option<T>> {
        self.get(op, key)
            .await?
            .map(|raw| decoded(op, &raw, decode))
            .transpose()
    }

    /// The record at `key` as stored (for a compare-and-set) and decoded.
    pub(crate) async fn record_and_raw<T>(
        &self,
        op: Operation,
        key: &str,
        decode: fn(&[u8]) -> Result<T, CorruptRecord>,
    ) -> AdapterResult<Option<(T, Vec<u8>)>> {
        match self.get(op, key).await? {
            Some(raw) => Ok(Some((decoded(op, &raw, decode)?, raw))),
            None => Ok(None),
        }
    }

    /// The compare-and-set loop, once for every method: runs `attempt` until it is done,
    /// at most [`MAX_ATTEMPTS`] times, then fails with a `Backend` error.
    pub(crate) async fn retrying<T, F, Fut>(
        &self,
        op: Operation,
        mut attempt: F,
    ) -> AdapterResult<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = AdapterResult<Attempt<T>>>,
    {
        for _ in 0..MAX_ATTEMPTS {
            if let Attempt::Done(value) = attempt().await? {
                return Ok(value);
            }
        }
        Err(error::contention(op, MAX_ATTEMPTS))
    }

    /// What `migrate()` does whatever the layout: checks that the server is recent enough,
    /// and gives the pipeline that loads every script, for the layout to add its own
    /// commands to and send. On a cluster the scripts are loaded here, on every node
    /// (redis-rs sends `SCRIPT LOAD` to all of them), and the pipeline starts empty.
    pub(crate) async fn server_checked_and_scripts(
        &self,
        op: Operation,
    ) -> AdapterResult<Pipeline> {
        let info: String = match self.open(op)? {
            Conn::Single(_) => self.query(op, redis::cmd("INFO").arg("server")).await?,
            Conn::Cluster(mut conn) => {
                // One node answers for all: they run one version (a mixed cluster during a
                // rolling upgrade passes once the oldest node does).
                let routing = RoutingInfo::SingleNode(SingleNodeRoutingInfo::Random);
                let mut info = redis::cmd("INFO");
                info.arg("server");
                let value = self
                    .round_trip(op, conn.route_command(info, routing))
                    .await?;
                redis::from_redis_value(value).map_err(|e| error::from_redis(op, e.into()))?
            }
        };
        check_server_version(&info).map_err(|why| AdapterError::backend(op, why))?;
        if let Some(Conn::Cluster(_)) = self.conn() {
            for (_, source, _) in scripts::all() {
                let _: String = self
                    .query(op, redis::cmd("SCRIPT").arg("LOAD").arg(source))
                    .await?;
            }
            return Ok(redis::pipe());
        }
        let mut pipe = redis::pipe();
        for (_, source, _) in scripts::all() {
            pipe.cmd("SCRIPT").arg("LOAD").arg(source).ignore();
        }
        Ok(pipe)
    }
}

/// Checks `INFO server` for Redis 7.0 or later: `SET … PXAT` (6.2) and `PEXPIRETIME` (7.0),
/// which the index upkeep (`upkeep.lua`) uses to only ever raise an index set's expiry.
fn check_server_version(info: &str) -> Result<(), String> {
    let version = info
        .lines()
        .find_map(|line| line.trim().strip_prefix("redis_version:"))
        .ok_or_else(|| "the server did not report redis_version".to_owned())?;
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let major = parts.next().unwrap_or(0);
    let minor = parts.next().unwrap_or(0);
    if (major, minor) >= (7, 0) {
        Ok(())
    } else {
        Err(format!(
            "Redis {version} is too old: this adapter needs 7.0 or later"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_versions() {
        assert!(check_server_version("# Server\r\nredis_version:7.0.15\r\n").is_ok());
        assert!(check_server_version("redis_version:7.0.0").is_ok());
        // Valkey 8 reports the Redis version it is compatible with.
        assert!(check_server_version("redis_version:7.2.4\r\nvalkey_version:8.0.1").is_ok());
        assert!(check_server_version("redis_version:6.2.14").is_err());
        assert!(check_server_version("redis_version:10.0.0").is_ok());
        assert!(check_server_version("redis_version:6.0.9").is_err());
        assert!(check_server_version("nothing").is_err());
    }
}
