//! The backends on replicated SQL servers: `postgres-replica` (adapter-sqlx on a PostgreSQL
//! primary with a streaming replica that applies 300 ms late, reads routed to it) and
//! `galera` (a 3-node MariaDB Galera cluster, each scenario's calls spread over the three
//! nodes). `ci/replicated.sh` starts both on 127.0.0.1.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use adapter_conformance::harness::{self, BackendSpec, Resolved, Source};
use adapter_conformance::BoxError;
use async_trait::async_trait;
use auth_core::forward::ForwardAdapter;
use auth_core::{Adapter, AdapterError};

use super::{
    database_url, OpenFuture, ServerBackend, TablesAdapter, FIXTURE_CONNECTIONS, FIXTURE_TIMEOUT,
};
use crate::conformance::Server;
use crate::{Dialect, SqlxAdapter};

/// The variable holding the PostgreSQL primary's URL and its replica's, comma-separated
/// (`ci/replicated.sh urls pg`).
pub const POSTGRES_REPLICA_ENV: &str = "AUTH_TEST_POSTGRES_REPLICA_URLS";
/// The variable holding the Galera nodes' URLs, comma-separated (`ci/replicated.sh urls
/// galera`).
pub const GALERA_ENV: &str = "AUTH_TEST_GALERA_URLS";
/// The replica lag the `postgres-replica` fixtures allow.
pub const FIXTURE_REPLICA_LAG: Duration = Duration::from_secs(1);
/// How long a fixture waits for the replica to hold its fresh database and tables.
const REPLICA_CATCH_UP: Duration = Duration::from_secs(20);

/// The URLs of a comma-separated list, trimmed, empty entries dropped.
///
/// ```
/// use adapter_sqlx::conformance::replicated::url_list;
/// assert_eq!(url_list(" a, b ,,"), ["a", "b"]);
/// ```
pub fn url_list(urls: &str) -> Vec<String> {
    urls.split(',')
        .map(str::trim)
        .filter(|url| !url.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The URLs in `var`, or why they cannot be used.
fn urls_from(var: &str, at_least: usize) -> Result<Vec<String>, BoxError> {
    let value = std::env::var(var).map_err(|_| format!("{var} is not set"))?;
    let urls = url_list(&value);
    if urls.len() < at_least {
        return Err(format!("{var} must list at least {at_least} comma-separated URLs").into());
    }
    Ok(urls)
}

/// The database name of a URL (its path).
fn database_of(url: &str) -> Result<&str, BoxError> {
    let path = url.split_once("://").map(|(_, rest)| rest).unwrap_or(url);
    let path = path.split('?').next().unwrap_or_default();
    path.split_once('/')
        .map(|(_, name)| name)
        .filter(|name| !name.is_empty())
        .ok_or_else(|| format!("{url:?} names no database").into())
}

// ---------------------------------------------------------------- postgres-replica

/// The `postgres-replica` backend: adapter-sqlx on the primary of
/// `AUTH_TEST_POSTGRES_REPLICA_URLS` with the second URL as its read replica (a fresh
/// database per scenario on the primary, which the replica receives by streaming), lag
/// bound [`FIXTURE_REPLICA_LAG`]. Each fixture waits until the replica holds its tables and
/// is fresh, so reads do reach it.
///
/// ```
/// let spec = adapter_sqlx::conformance::replicated::postgres_replica_spec();
/// assert_eq!(spec.name, "postgres-replica");
/// ```
pub fn postgres_replica_spec() -> BackendSpec {
    BackendSpec {
        name: "postgres-replica",
        source: Source::Server {
            env_var: POSTGRES_REPLICA_ENV,
            example_url: "postgres://postgres@127.0.0.1:5440/postgres,postgres://postgres@127.0.0.1:5441/postgres",
            container: None,
        },
        open: |urls| {
            Box::pin(async move {
                let urls = url_list(&urls.ok_or("postgres-replica needs its URLs")?);
                let [primary, replica] = <[String; 2]>::try_from(urls).map_err(|_| {
                    format!("{POSTGRES_REPLICA_ENV} must list the primary, then the replica")
                })?;
                ServerBackend::<SqlxAdapter>::open_with(Server::Postgres, Some(primary), move |url| {
                    open_with_replica(url, replica.clone())
                })
                .await
            })
        },
    }
}

/// Opens adapter-sqlx on the primary database `url` with the same database on the replica
/// server `replica`, migrates, and waits for the replica.
fn open_with_replica(url: String, replica: String) -> OpenFuture<SqlxAdapter> {
    Box::pin(async move {
        let replica = database_url(&replica, database_of(&url)?)?;
        let adapter = replicated_adapter(&url, &replica, FIXTURE_REPLICA_LAG).await?;
        adapter.migrate().await?;
        wait_for_replicas(&adapter, REPLICA_CATCH_UP).await?;
        Ok(adapter)
    })
}

/// adapter-sqlx on `primary` with `replica` as its read replica, with the fixtures' pool
/// size and call timeout and the lag bound `max_lag`.
pub async fn replicated_adapter(
    primary: &str,
    replica: &str,
    max_lag: Duration,
) -> Result<SqlxAdapter, AdapterError> {
    SqlxAdapter::builder(primary)
        .read_replica(replica)
        .max_replica_lag(max_lag)
        .max_connections(FIXTURE_CONNECTIONS)
        .call_timeout(FIXTURE_TIMEOUT)
        .connect()
        .await
}

/// Waits until every replica of `adapter` is usable (it holds what the primary held when
/// the wait began, within the lag bound), at most `timeout`.
pub async fn wait_for_replicas(adapter: &SqlxAdapter, timeout: Duration) -> Result<(), BoxError> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let status = adapter.replica_status();
        if status.iter().all(|replica| replica.usable) {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(format!("replicas not usable within {timeout:?}: {status:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A fresh `postgres-replica` fixture and `n` more adapter instances on its database (as
/// other processes of the app would hold), each with the replica, lag bound `max_lag`, and
/// caught up. `None`, after printing why, when the topology is not configured (a panic
/// where `AUTH_CONFORMANCE_REQUIRE` names `postgres-replica`).
pub async fn replica_instances(
    n: usize,
    max_lag: Duration,
) -> Option<(adapter_conformance::Fixture, Vec<SqlxAdapter>)> {
    let spec = postgres_replica_spec();
    let backend = match harness::resolve(&spec).await.expect("backend opens") {
        Resolved::Ready(backend) => backend,
        Resolved::Skipped(why) => {
            assert!(!harness::is_required(spec.name), "{why}");
            eprintln!("{why}");
            return None;
        }
    };
    let fx = backend.fixture().await.expect("fixture");
    let primary = fx.inspector.location().expect("a location").url;
    let urls = urls_from(POSTGRES_REPLICA_ENV, 2).expect("the variable is set");
    let replica = database_url(&urls[1], database_of(&primary).expect("a database"))
        .expect("the replica's URL");
    let mut instances = Vec::with_capacity(n);
    for _ in 0..n {
        let adapter = replicated_adapter(&primary, &replica, max_lag)
            .await
            .expect("connects");
        wait_for_replicas(&adapter, REPLICA_CATCH_UP)
            .await
            .expect("the replica catches up");
        instances.push(adapter);
    }
    Some((fx, instances))
}

// ---------------------------------------------------------------- galera

/// The `galera` backend: adapter-sqlx on the nodes of `AUTH_TEST_GALERA_URLS` (see
/// [`galera_spec_of`]).
///
/// ```
/// let spec = adapter_sqlx::conformance::replicated::galera_spec();
/// assert_eq!(spec.name, "galera");
/// ```
pub fn galera_spec() -> BackendSpec {
    galera_spec_of::<SqlxAdapter>("galera")
}

/// The backend `name` of `A` on the three nodes of `AUTH_TEST_GALERA_URLS` (a fresh
/// database per scenario, created on the first node), each call of a scenario going to
/// the next node in turn ([`Spread`]), so concurrent calls race on different nodes and
/// lose to certification conflicts, which the adapter must run again.
///
/// ```
/// use adapter_sqlx::conformance::replicated::galera_spec_of;
/// let spec = galera_spec_of::<adapter_sqlx::SqlxAdapter>("galera");
/// assert_eq!(spec.name, "galera");
/// ```
pub fn galera_spec_of<A: TablesAdapter>(name: &'static str) -> BackendSpec {
    BackendSpec {
        name,
        source: Source::Server {
            env_var: GALERA_ENV,
            example_url: "mysql://root@127.0.0.1:3311/test,mysql://root@127.0.0.1:3312/test,mysql://root@127.0.0.1:3313/test",
            container: None,
        },
        open: |urls| {
            Box::pin(async move {
                let urls = url_list(&urls.ok_or("a Galera backend needs its URLs")?);
                let first = urls.first().cloned();
                ServerBackend::<Spread<A>>::open_with(Server::MariaDb, first, move |url| {
                    let nodes = urls.clone();
                    Box::pin(async move { Spread::open_migrated_on(&url, &nodes).await })
                })
                .await
            })
        },
    }
}

/// One adapter per node of a multi-primary cluster, each call going to the next in turn.
#[derive(Debug)]
pub struct Spread<A = SqlxAdapter> {
    nodes: Arc<[A]>,
    next: Arc<AtomicUsize>,
}

impl<A> Clone for Spread<A> {
    fn clone(&self) -> Self {
        Self {
            nodes: Arc::clone(&self.nodes),
            next: Arc::clone(&self.next),
        }
    }
}

impl<A: TablesAdapter> Spread<A> {
    /// Adapters on `urls`, one a node, with the fixtures' options, each migrated (the first
    /// creates the tables; the others find them).
    pub async fn connect(urls: &[String]) -> Result<Self, BoxError> {
        let mut nodes = Vec::with_capacity(urls.len());
        for url in urls {
            nodes.push(A::open_migrated(url).await?);
        }
        Ok(Self {
            nodes: nodes.into(),
            next: Arc::new(AtomicUsize::new(0)),
        })
    }

    /// Adapters on the fixture database `url` (on the first node) and on the same database
    /// on the other `nodes` (server URLs, the first node's first).
    pub async fn open_migrated_on(url: &str, nodes: &[String]) -> Result<Self, BoxError> {
        let name = database_of(url)?;
        let mut urls = vec![url.to_owned()];
        for node in nodes.iter().skip(1) {
            urls.push(database_url(node, name)?);
        }
        // The database was created on the first node; the others apply it (in total
        // order, but not at the same instant): wait until each node has it.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            match Self::connect(&urls).await {
                Ok(spread) => return Ok(spread),
                Err(err) if tokio::time::Instant::now() < deadline => {
                    tracing::debug!("a node does not have the database yet: {err}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(err) => return Err(err),
            }
        }
    }

    /// The node adapters, in the order of their URLs.
    pub fn nodes(&self) -> &[A] {
        &self.nodes
    }

    /// Closes every node's pool.
    pub async fn close_all(&self) {
        for node in self.nodes.iter() {
            node.close().await;
        }
    }
}

#[async_trait]
impl<A: TablesAdapter> ForwardAdapter for Spread<A> {
    fn inner(&self) -> &dyn Adapter {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.nodes.len();
        &self.nodes[i]
    }
}
auth_core::forward_adapter!(impl<A: TablesAdapter> Spread<A>);

#[async_trait]
impl<A: TablesAdapter> TablesAdapter for Spread<A> {
    /// `url` is the fixture database on the first node; the others are the same database
    /// on the other nodes of `AUTH_TEST_GALERA_URLS`.
    async fn open_migrated(url: &str) -> Result<Self, BoxError> {
        Self::open_migrated_on(url, &urls_from(GALERA_ENV, 2)?).await
    }
    async fn open_unreachable(url: String) -> Result<Self, AdapterError> {
        Ok(Self {
            nodes: vec![A::open_unreachable(url).await?].into(),
            next: Arc::new(AtomicUsize::new(0)),
        })
    }
    fn dialect(&self) -> Dialect {
        self.nodes[0].dialect()
    }
    fn table_prefix(&self) -> &str {
        self.nodes[0].table_prefix()
    }
    async fn migrate(&self) -> Result<(), AdapterError> {
        self.nodes[0].migrate().await
    }
    async fn close(&self) {
        self.close_all().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_names_come_from_the_path() {
        assert_eq!(
            database_of("postgres://p@h:1/auth_test_1?x=y").ok(),
            Some("auth_test_1")
        );
        assert!(database_of("postgres://p@h:1").is_err());
        assert!(database_of("postgres://p@h:1/").is_err());
    }
}
