//! Round trips to a Redis Cluster or Valkey Cluster, counted by its nodes: `bench
//! --round-trips` cannot put its relay ([`crate::relay`]) in front of a cluster, whose
//! client learns every node's address from the nodes and connects to each.
//!
//! Each primary counts the read events of its client connections (`total_reads_processed`
//! of `INFO stats`). One caller sending a request (a command, or a pipeline written at
//! once) and waiting for the reply makes one read event on the primary it reached: the sum
//! over the primaries is the round trips. What else reads there is small and left in:
//! replicas acknowledge replication to their primary once a second, so a counted phase of
//! a fraction of a second may show one read more; the counter's own `INFO` calls are taken
//! out.

use adapter_conformance::BoxError;
use adapter_redis::redis::{self, aio::MultiplexedConnection};
use std::sync::atomic::{AtomicU64, Ordering};

/// The read events of a cluster's primaries, since [`NodeReads::reset`].
pub struct NodeReads {
    nodes: Vec<MultiplexedConnection>,
    since: AtomicU64,
}

impl std::fmt::Debug for NodeReads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeReads")
            .field("nodes", &self.nodes.len())
            .finish_non_exhaustive()
    }
}

impl NodeReads {
    /// Connects to the primaries among `urls` (the cluster's nodes). Replicas are left out:
    /// the adapter sends them nothing, and each write reaches them as a read of the
    /// replication stream, which would count the write twice.
    pub async fn open(urls: &[String]) -> Result<Self, BoxError> {
        let mut nodes = Vec::with_capacity(urls.len());
        for url in urls {
            let mut conn = redis::Client::open(url.as_str())?
                .get_multiplexed_async_connection()
                .await?;
            let role: Vec<redis::Value> = redis::cmd("ROLE").query_async(&mut conn).await?;
            if matches!(role.first(), Some(redis::Value::BulkString(r)) if r == b"master") {
                nodes.push(conn);
            }
        }
        if nodes.is_empty() {
            return Err("no primary among the cluster's nodes".into());
        }
        let reads = Self {
            nodes,
            since: AtomicU64::new(0),
        };
        reads.reset().await?;
        Ok(reads)
    }

    /// The primaries' read events so far, this call's own `INFO` included (a node counts a
    /// read before it runs the command in it).
    async fn total(&self) -> Result<u64, BoxError> {
        let mut total = 0;
        for node in &self.nodes {
            let mut conn = node.clone();
            let info: String = redis::cmd("INFO")
                .arg("stats")
                .query_async(&mut conn)
                .await?;
            total += read_events(&info)?;
        }
        Ok(total)
    }

    /// Starts counting from zero.
    pub async fn reset(&self) -> Result<(), BoxError> {
        self.since.store(self.total().await?, Ordering::SeqCst);
        Ok(())
    }

    /// Round trips since the last [`reset`](Self::reset), this call's `INFO`s left out.
    pub async fn round_trips(&self) -> Result<u64, BoxError> {
        let total = self.total().await?;
        let since = self.since.load(Ordering::SeqCst);
        Ok(total.saturating_sub(since + self.nodes.len() as u64))
    }
}

/// `total_reads_processed` of an `INFO stats` reply.
///
/// ```
/// use conformance_cli::node_reads::read_events;
/// let info = "# Stats\r\ntotal_connections_received:3\r\ntotal_reads_processed:42\r\n";
/// assert_eq!(read_events(info).unwrap(), 42);
/// assert!(read_events("# Stats\r\n").is_err());
/// ```
pub fn read_events(info: &str) -> Result<u64, BoxError> {
    info.lines()
        .find_map(|line| line.strip_prefix("total_reads_processed:"))
        .ok_or("INFO stats has no total_reads_processed")?
        .trim()
        .parse()
        .map_err(|e| format!("total_reads_processed: {e}").into())
}
