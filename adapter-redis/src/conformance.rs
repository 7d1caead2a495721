//! The Redis backend of adapter-redis: one fresh key prefix per scenario
//! (`authtest:<uuid>:`), removed with `SCAN MATCH` + `UNLINK` afterwards, so several test
//! processes share one server without touching each other's keys.
//!
//! The inspector reads the keys with plain commands and decodes the JSON records itself,
//! from the layout documented in adapter-redis, never through the adapter;
//! `records_of_user` scans every record under the prefix rather than the user's index sets,
//! so an orphan that no index names shows up too.

use std::sync::Arc;
use std::time::Duration;

use crate::connection::Conn;
use crate::keys::KeyLayout;
use crate::redis::{self, aio::MultiplexedConnection, AsyncCommands};
use crate::{Layout, RedisAdapter, RedisAdapterBuilder, UnstorageLayout};
use async_trait::async_trait;
use auth_core::chrono::{DateTime, Utc};
use auth_core::extra::{without_nulls, Extra};
use auth_core::{
    Account, AccountType, AdapterError, Authenticator, Session, User, VerificationToken,
};
use serde_json::{Map, Value};

use adapter_conformance::harness::{BackendSpec, ContainerPlan, Source};
use adapter_conformance::{Backend, BoxError, Fixture, Gap, Inspector, Unreachable, UserRecords};

/// The environment variable with the Redis URL.
pub const ENV_VAR: &str = "AUTH_TEST_REDIS_URL";
/// An example value of [`ENV_VAR`].
pub const EXAMPLE_URL: &str = "redis://127.0.0.1:6379";
/// The Redis server in a container: the registry's `redis:7`, or the local Redis or Valkey
/// image `AUTH_TEST_REDIS_IMAGE` names (e.g. `auth-adapters/valkey:8` from `ci/images.sh`).
pub const CONTAINER: ContainerPlan = ContainerPlan {
    image: "redis",
    tag: "7",
    image_var: Some("AUTH_TEST_REDIS_IMAGE"),
    port: 6379,
    ready: "Ready to accept connections",
    ready_times: 1,
    env: &[],
    cmd: &[],
    init: &[],
    url: container_url,
};
/// The timeout of the adapter pointed at a dead port.
pub const UNREACHABLE_TIMEOUT: Duration = Duration::from_secs(2);

/// The environment variable with the seed URLs of a Redis Cluster, comma-separated
/// (`ci/clusters.sh urls redis` prints them).
pub const CLUSTER_ENV_VAR: &str = "AUTH_TEST_REDIS_CLUSTER_URLS";
/// The environment variable with the seed URLs of a Valkey Cluster, comma-separated.
pub const VALKEY_CLUSTER_ENV_VAR: &str = "AUTH_TEST_VALKEY_CLUSTER_URLS";

/// The backends of this module.
pub fn specs() -> Vec<BackendSpec> {
    vec![
        redis_spec(),
        redis_authjs_spec(),
        redis_cluster_spec(),
        valkey_cluster_spec(),
        redis_cluster_authjs_spec(),
    ]
}

/// The `redis-cluster` backend: adapter-redis in cluster mode
/// ([`RedisAdapter::cluster_builder`]) on the Redis Cluster whose nodes
/// [`CLUSTER_ENV_VAR`] lists (no container: `ci/clusters.sh start redis` forms one of six
/// nodes on 127.0.0.1). Each fixture has its own key prefix, spread over every node.
///
/// ```
/// assert_eq!(adapter_redis::conformance::redis_cluster_spec().name, "redis-cluster");
/// ```
pub fn redis_cluster_spec() -> BackendSpec {
    BackendSpec {
        name: "redis-cluster",
        source: Source::Server {
            env_var: CLUSTER_ENV_VAR,
            example_url: "redis://127.0.0.1:7000,redis://127.0.0.1:7001,redis://127.0.0.1:7002",
            container: None,
        },
        open: |urls| Box::pin(open_cluster(urls)),
    }
}

/// The `valkey-cluster` backend: as [`redis_cluster_spec`], on the Valkey Cluster of
/// [`VALKEY_CLUSTER_ENV_VAR`] (`ci/clusters.sh start valkey`: six Valkey 8 containers on
/// the host network, announcing 127.0.0.1).
///
/// ```
/// assert_eq!(adapter_redis::conformance::valkey_cluster_spec().name, "valkey-cluster");
/// ```
pub fn valkey_cluster_spec() -> BackendSpec {
    BackendSpec {
        name: "valkey-cluster",
        source: Source::Server {
            env_var: VALKEY_CLUSTER_ENV_VAR,
            example_url: "redis://127.0.0.1:7100,redis://127.0.0.1:7101,redis://127.0.0.1:7102",
            container: None,
        },
        open: |urls| Box::pin(open_cluster(urls)),
    }
}

/// The node URLs of a comma-separated list.
///
/// ```
/// let nodes = adapter_redis::conformance::cluster_nodes("redis://a:1, redis://b:2,");
/// assert_eq!(nodes, ["redis://a:1", "redis://b:2"]);
/// ```
pub fn cluster_nodes(urls: &str) -> Vec<String> {
    urls.split(',')
        .map(str::trim)
        .filter(|url| !url.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The node URLs of the cluster backend `backend` (`"redis-cluster"` or `"valkey-cluster"`)
/// for this crate's tests, from its variable ([`CLUSTER_ENV_VAR`],
/// [`VALKEY_CLUSTER_ENV_VAR`]), or `None` after a loud skip line (a panic when
/// `AUTH_CONFORMANCE_REQUIRE` requires that backend).
///
/// ```no_run
/// let Some(nodes) = adapter_redis::conformance::test_cluster_nodes("redis-cluster") else { return };
/// ```
pub fn test_cluster_nodes(backend: &str) -> Option<Vec<String>> {
    let var = if backend == "valkey-cluster" {
        VALKEY_CLUSTER_ENV_VAR
    } else {
        CLUSTER_ENV_VAR
    };
    match adapter_conformance::harness::env_url(var) {
        Some(urls) => Some(cluster_nodes(&urls)),
        None if adapter_conformance::harness::is_required(backend) => {
            panic!("{var} is not set but AUTH_CONFORMANCE_REQUIRE requires {backend}")
        }
        None => {
            eprintln!(
                "SKIPPED: {backend}: set {var} (`ci/clusters.sh start` then `ci/clusters.sh urls`) \
                 to run its tests"
            );
            None
        }
    }
}

async fn open_cluster(urls: Option<String>) -> Result<Arc<dyn Backend>, BoxError> {
    Ok(Arc::new(ClusterBackend::connect(urls).await?))
}

/// Hands out cluster-mode adapters on fresh key prefixes of one cluster.
#[derive(Clone)]
pub struct ClusterBackend {
    urls: String,
    nodes: Vec<String>,
    /// One client per node, for the inspector's scans.
    clients: Vec<redis::Client>,
    cluster: redis::cluster::ClusterClient,
}

impl ClusterBackend {
    /// The cluster of the node URLs `urls` (comma-separated), every node answering.
    async fn connect(urls: Option<String>) -> Result<Self, BoxError> {
        let urls = urls.ok_or("a cluster backend needs its node URLs")?;
        let nodes = cluster_nodes(&urls);
        let mut clients = Vec::with_capacity(nodes.len());
        for node in &nodes {
            clients.push(answering_client(node).await?);
        }
        let cluster = redis::cluster::ClusterClient::new(nodes.iter().map(String::as_str))?;
        Ok(Self {
            urls,
            nodes,
            clients,
            cluster,
        })
    }

    /// A fixture's adapter (a cluster builder on these nodes, as `configure` sets it),
    /// migrated; and its inspector's connections: commands through a cluster connection,
    /// one connection per node for `SCAN`.
    async fn migrated(
        &self,
        configure: impl FnOnce(RedisAdapterBuilder) -> RedisAdapterBuilder,
    ) -> Result<(RedisAdapter, Conn, Vec<MultiplexedConnection>), BoxError> {
        let adapter = configure(RedisAdapter::cluster_builder(self.nodes.iter().cloned()))
            .connect()
            .await?;
        adapter.migrate().await?;
        let conn = Conn::Cluster(self.cluster.get_async_connection().await?);
        let mut nodes = Vec::with_capacity(self.clients.len());
        for client in &self.clients {
            nodes.push(client.get_multiplexed_async_connection().await?);
        }
        Ok((adapter, conn, nodes))
    }
}

/// Shows the node URLs without passwords.
impl std::fmt::Debug for ClusterBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterBackend")
            .field("urls", &auth_core::redact_url(&self.urls))
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Backend for ClusterBackend {
    async fn fixture(&self) -> Result<Fixture, BoxError> {
        let prefix = fresh_prefix();
        let (adapter, conn, nodes) = self
            .migrated(|builder| builder.key_prefix(prefix.as_str()))
            .await?;
        Ok(Fixture {
            adapter: Arc::new(adapter.clone()),
            inspector: Box::new(RedisInspector {
                adapter,
                conn,
                nodes,
                keys: KeyLayout::clustered(prefix)?,
                url: self.urls.clone(),
            }),
        })
    }
}

/// The `redis` backend: a Redis 7 server from [`ENV_VAR`], else a `redis:7` container.
pub fn redis_spec() -> BackendSpec {
    BackendSpec {
        name: "redis",
        source: Source::Server {
            env_var: ENV_VAR,
            example_url: EXAMPLE_URL,
            container: Some(CONTAINER),
        },
        open: |url| Box::pin(open(url)),
    }
}

/// The URL of a Redis server published on `host:port`.
///
/// ```
/// use adapter_redis::conformance::container_url;
/// assert_eq!(container_url("localhost", 32768), "redis://localhost:32768");
/// ```
pub fn container_url(host: &str, port: u16) -> String {
    format!("redis://{host}:{port}")
}

/// A fresh, unique key prefix for one fixture.
pub fn fresh_prefix() -> String {
    format!("authtest:{}:", uuid::Uuid::now_v7().simple())
}

/// The Redis URL for this crate's tests from [`ENV_VAR`], or `None` after a loud skip
/// line (a panic when `AUTH_CONFORMANCE_REQUIRE` requires redis).
///
/// ```no_run
/// let Some(url) = adapter_redis::conformance::test_server_url() else { return };
/// ```
pub fn test_server_url() -> Option<String> {
    match adapter_conformance::harness::env_url(ENV_VAR) {
        Some(url) => Some(url),
        None if adapter_conformance::harness::is_required("redis") => {
            panic!("{ENV_VAR} is not set but AUTH_CONFORMANCE_REQUIRE requires redis")
        }
        None => {
            eprintln!("SKIPPED: set {ENV_VAR}=redis://127.0.0.1:6379 to run the Redis tests");
            None
        }
    }
}

/// Every key `SCAN MATCH <prefix>*` finds under the layout's prefix (only keys of type
/// `kind`, when given: `SCAN … TYPE`), as the server lists them.
///
/// ```no_run
/// # async fn run() -> Result<(), adapter_conformance::BoxError> {
/// use adapter_redis::{conformance::scan_keys, keys::KeyLayout, redis};
/// let conn = redis::Client::open("redis://127.0.0.1:6379")?
///     .get_multiplexed_async_connection()
///     .await?;
/// let keys = scan_keys(&conn, &KeyLayout::new("myapp:")?, None).await?;
/// # Ok(()) }
/// ```
pub async fn scan_keys(
    conn: &MultiplexedConnection,
    keys: &KeyLayout,
    kind: Option<&str>,
) -> Result<Vec<String>, BoxError> {
    let mut conn = conn.clone();
    let pattern = keys.scan_pattern();
    let mut found = Vec::new();
    let mut cursor: u64 = 0;
    loop {
        let mut scan = redis::cmd("SCAN");
        scan.arg(cursor)
            .arg("MATCH")
            .arg(&pattern)
            .arg("COUNT")
            .arg(1000);
        if let Some(kind) = kind {
            scan.arg("TYPE").arg(kind);
        }
        let (next, batch): (u64, Vec<String>) = scan.query_async(&mut conn).await?;
        found.extend(batch);
        if next == 0 {
            return Ok(found);
        }
        cursor = next;
    }
}

/// [`scan_keys`] on every node given (each node of a cluster holds its own slots; a key a
/// replica lists too counts once), checked once more against the prefix itself: the keys
/// a fixture owns.
async fn own_keys(
    nodes: &[MultiplexedConnection],
    keys: &KeyLayout,
    kind: Option<&str>,
) -> Result<Vec<String>, BoxError> {
    let mut found = Vec::new();
    for node in nodes {
        found.extend(scan_keys(node, keys, kind).await?);
    }
    found.sort_unstable();
    found.dedup();
    found.retain(|key| key.starts_with(keys.prefix()));
    Ok(found)
}

/// A client on the server at `url`, once it has answered a `PING`: a backend fails early,
/// and clearly, when the server does not answer.
async fn answering_client(url: &str) -> Result<redis::Client, BoxError> {
    let client = redis::Client::open(url)?;
    let mut conn = tokio::time::timeout(
        Duration::from_secs(10),
        client.get_multiplexed_async_connection(),
    )
    .await
    .map_err(|_| format!("Redis at {url} did not answer within 10 s"))??;
    let _: String = redis::cmd("PING").query_async(&mut conn).await?;
    Ok(client)
}

/// A fixture's adapter from `builder`, migrated, and the inspector's own connection.
async fn migrated_fixture(
    builder: RedisAdapterBuilder,
    client: &redis::Client,
) -> Result<(RedisAdapter, MultiplexedConnection), BoxError> {
    let adapter = builder.connect().await?;
    adapter.migrate().await?;
    let conn = client.get_multiplexed_async_connection().await?;
    Ok((adapter, conn))
}

/// The inspector's connections to one server: commands and scans on the same one.
async fn single_server(
    client: &redis::Client,
    conn: MultiplexedConnection,
) -> Result<(Conn, Vec<MultiplexedConnection>), BoxError> {
    let manager = redis::aio::ConnectionManager::new(client.clone()).await?;
    Ok((Conn::Single(manager), vec![conn]))
}

/// Scenario 28's adapter on `layout`, pointed at a port where nothing listens.
async fn unreachable_on(layout: Layout) -> Unreachable {
    let port = adapter_conformance::harness::dead_port();
    unreachable_with(RedisAdapter::builder(format!("redis://127.0.0.1:{port}")).layout(layout))
        .await
}

/// Scenario 28's cluster-mode adapter, its one seed node a port where nothing listens.
async fn unreachable_cluster() -> Unreachable {
    let port = adapter_conformance::harness::dead_port();
    unreachable_with(RedisAdapter::cluster_builder([format!(
        "redis://127.0.0.1:{port}"
    )]))
    .await
}

/// The adapter of `builder` at [`UNREACHABLE_TIMEOUT`], as scenario 28 takes it.
async fn unreachable_with(builder: RedisAdapterBuilder) -> Unreachable {
    let adapter = builder
        .call_timeout(UNREACHABLE_TIMEOUT)
        .connect()
        .await
        .map(|adapter| Arc::new(adapter) as Arc<dyn auth_core::Adapter>);
    Unreachable {
        timeout: UNREACHABLE_TIMEOUT,
        adapter,
    }
}

/// Where one kind of record sits under a fixture's prefix (the start of the rest of its
/// key), and the decoder of its stored JSON.
type RecordKind<T> = (&'static str, fn(&str) -> Result<T, BoxError>);

/// How a layout keeps its account, session and authenticator records.
struct RecordKinds {
    account: RecordKind<Account>,
    session: RecordKind<Session>,
    authenticator: RecordKind<Authenticator>,
}

impl RecordKinds {
    /// Adds the record `raw`, stored under `rest` (its key after the fixture's prefix), to
    /// `found` when it belongs to `user_id`; other kinds of record are passed over.
    fn sort_into(
        &self,
        found: &mut UserRecords,
        user_id: &str,
        rest: &str,
        raw: &str,
    ) -> Result<(), BoxError> {
        if rest.starts_with(self.account.0) {
            let account = (self.account.1)(raw)?;
            if account.user_id == user_id {
                found.accounts.push(account);
            }
        } else if rest.starts_with(self.session.0) {
            let session = (self.session.1)(raw)?;
            if session.user_id == user_id {
                found.sessions.push(session);
            }
        } else if rest.starts_with(self.authenticator.0) {
            let authenticator = (self.authenticator.1)(raw)?;
            if authenticator.user_id == user_id {
                found.authenticators.push(authenticator);
            }
        }
        Ok(())
    }
}

async fn open(url: Option<String>) -> Result<Arc<dyn Backend>, BoxError> {
    let url = url.ok_or("the redis backend needs a server URL")?;
    let client = answering_client(&url).await?;
    Ok(Arc::new(RedisBackend { url, client }))
}

/// Hands out adapters on fresh key prefixes of one Redis server.
#[derive(Debug, Clone)]
pub struct RedisBackend {
    url: String,
    client: redis::Client,
}

#[async_trait]
impl Backend for RedisBackend {
    async fn fixture(&self) -> Result<Fixture, BoxError> {
        let prefix = fresh_prefix();
        let builder = RedisAdapter::builder(self.url.as_str()).key_prefix(prefix.as_str());
        let (adapter, conn) = migrated_fixture(builder, &self.client).await?;
        let (conn, nodes) = single_server(&self.client, conn).await?;
        Ok(Fixture {
            adapter: Arc::new(adapter.clone()),
            inspector: Box::new(RedisInspector {
                adapter,
                conn,
                nodes,
                keys: KeyLayout::new(prefix)?,
                url: self.url.clone(),
            }),
        })
    }
}

/// Reads one fixture's keys with plain commands.
#[derive(Debug, Clone)]
pub struct RedisInspector {
    adapter: RedisAdapter,
    /// Commands (a cluster connection routes each key to its node).
    conn: Conn,
    /// Every node, for `SCAN` (one connection on a single server).
    nodes: Vec<MultiplexedConnection>,
    keys: KeyLayout,
    /// The server's URL (a cluster's node URLs joined by commas), for `bench`'s raw floor.
    url: String,
}

fn object(raw: &str) -> Result<Map<String, Value>, BoxError> {
    match serde_json::from_str(raw)? {
        Value::Object(map) => Ok(map),
        _ => Err("a stored record is not a JSON object".into()),
    }
}

fn text(map: &Map<String, Value>, field: &str) -> Result<String, BoxError> {
    map.get(field)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| format!("field {field} is missing or not a string").into())
}

fn opt_text(map: &Map<String, Value>, field: &str) -> Result<Option<String>, BoxError> {
    match map.get(field) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("field {field} is not a string").into()),
    }
}

fn opt_int(map: &Map<String, Value>, field: &str) -> Result<Option<i64>, BoxError> {
    match map.get(field) {
        None => Ok(None),
        Some(v) => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| format!("field {field} is not an integer").into()),
    }
}

fn int(map: &Map<String, Value>, field: &str) -> Result<i64, BoxError> {
    opt_int(map, field)?.ok_or_else(|| format!("field {field} is missing").into())
}

/// The native layout's `extra` object of a record (absent: none; a top-level `null` is an
/// absent field).
fn native_extra(map: &Map<String, Value>) -> Result<Extra, BoxError> {
    match map.get("extra") {
        None => Ok(Extra::new()),
        Some(Value::Object(extra)) => Ok(without_nulls(extra.clone())),
        Some(_) => Err("field extra is not an object".into()),
    }
}

fn millis(ms: i64) -> Result<DateTime<Utc>, BoxError> {
    DateTime::from_timestamp_millis(ms).ok_or_else(|| format!("{ms} ms is out of range").into())
}

fn decode_account(raw: &str) -> Result<Account, BoxError> {
    let m = object(raw)?;
    Ok(Account {
        extra: native_extra(&m)?,
        user_id: text(&m, "user_id")?,
        account_type: text(&m, "type")?.parse::<AccountType>()?,
        provider: text(&m, "provider")?,
        provider_account_id: text(&m, "provider_account_id")?,
        refresh_token: opt_text(&m, "refresh_token")?,
        access_token: opt_text(&m, "access_token")?,
        expires_at: opt_int(&m, "expires_at")?,
        token_type: opt_text(&m, "token_type")?,
        scope: opt_text(&m, "scope")?,
        id_token: opt_text(&m, "id_token")?,
        session_state: opt_text(&m, "session_state")?,
    })
}

fn decode_session(raw: &str) -> Result<Session, BoxError> {
    let m = object(raw)?;
    Ok(Session {
        extra: native_extra(&m)?,
        session_token: text(&m, "session_token")?,
        user_id: text(&m, "user_id")?,
        expires: millis(int(&m, "expires")?)?,
    })
}

fn decode_authenticator(raw: &str) -> Result<Authenticator, BoxError> {
    let m = object(raw)?;
    Ok(Authenticator {
        credential_id: text(&m, "credential_id")?,
        user_id: text(&m, "user_id")?,
        provider_account_id: text(&m, "provider_account_id")?,
        credential_public_key: text(&m, "credential_public_key")?,
        counter: int(&m, "counter")?,
        credential_device_type: text(&m, "credential_device_type")?,
        credential_backed_up: m
            .get("credential_backed_up")
            .and_then(Value::as_bool)
            .ok_or("field credential_backed_up is missing or not a boolean")?,
        transports: opt_text(&m, "transports")?,
    })
}

/// The native layout's records: `account:…`, `session:…`, `authenticator:…`.
const NATIVE_RECORDS: RecordKinds = RecordKinds {
    account: ("account:", decode_account),
    session: ("session:", decode_session),
    authenticator: ("authenticator:", decode_authenticator),
};

impl RedisInspector {
    async fn raw(&self, key: &str) -> Result<Option<String>, BoxError> {
        let mut conn = self.conn.clone();
        Ok(conn.get(key).await?)
    }

    /// Every string key under the fixture's prefix (`SCAN MATCH <prefix>* TYPE string`):
    /// the records, whatever index names them or not.
    async fn record_keys(&self) -> Result<Vec<String>, BoxError> {
        own_keys(&self.nodes, &self.keys, Some("string")).await
    }
}

#[async_trait]
impl Inspector for RedisInspector {
    async fn stored_user(&self, id: &str) -> Result<Option<User>, BoxError> {
        let Some(raw) = self.raw(&self.keys.user(id)).await? else {
            return Ok(None);
        };
        let m = object(&raw)?;
        Ok(Some(User {
            extra: native_extra(&m)?,
            id: text(&m, "id")?,
            email: opt_text(&m, "email")?,
            email_verified: opt_int(&m, "email_verified")?.map(millis).transpose()?,
            name: opt_text(&m, "name")?,
            image: opt_text(&m, "image")?,
        }))
    }

    async fn stored_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> Result<Option<Account>, BoxError> {
        let key = self.keys.account(provider, provider_account_id);
        self.raw(&key)
            .await?
            .as_deref()
            .map(decode_account)
            .transpose()
    }

    async fn stored_session(&self, session_token: &str) -> Result<Option<Session>, BoxError> {
        let key = self.keys.session(session_token);
        self.raw(&key)
            .await?
            .as_deref()
            .map(decode_session)
            .transpose()
    }

    async fn stored_verification_token(
        &self,
        identifier: &str,
        token: &str,
    ) -> Result<Option<VerificationToken>, BoxError> {
        let key = self.keys.verification_token(identifier, token);
        let Some(raw) = self.raw(&key).await? else {
            return Ok(None);
        };
        let m = object(&raw)?;
        Ok(Some(VerificationToken {
            identifier: text(&m, "identifier")?,
            token: text(&m, "token")?,
            expires: millis(int(&m, "expires")?)?,
        }))
    }

    async fn stored_authenticator(
        &self,
        credential_id: &str,
    ) -> Result<Option<Authenticator>, BoxError> {
        let key = self.keys.authenticator(credential_id);
        self.raw(&key)
            .await?
            .as_deref()
            .map(decode_authenticator)
            .transpose()
    }

    async fn records_of_user(&self, user_id: &str) -> Result<UserRecords, BoxError> {
        let keys = self.record_keys().await?;
        let mut conn = self.conn.clone();
        let mut found = UserRecords::default();
        for chunk in keys.chunks(500) {
            let raws: Vec<Option<String>> =
                redis::cmd("MGET").arg(chunk).query_async(&mut conn).await?;
            for (key, raw) in chunk.iter().zip(raws) {
                // Expired or removed between the scan and the read.
                let Some(raw) = raw else { continue };
                let rest = &key[self.keys.prefix().len()..];
                NATIVE_RECORDS.sort_into(&mut found, user_id, rest, &raw)?;
            }
        }
        Ok(found)
    }

    async fn dump(&self) -> Result<Vec<String>, BoxError> {
        // Every key under the prefix (records and indexes alike) with what it holds.
        let mut conn = self.conn.clone();
        let keys = own_keys(&self.nodes, &self.keys, None).await?;
        let mut out = Vec::new();
        for key in keys {
            let kind: String = redis::cmd("TYPE").arg(&key).query_async(&mut conn).await?;
            let values: Vec<String> = match kind.as_str() {
                "string" => conn
                    .get::<_, Option<String>>(&key)
                    .await?
                    .into_iter()
                    .collect(),
                "set" => conn.smembers(&key).await?,
                "zset" => conn.zrange(&key, 0, -1).await?,
                "list" => conn.lrange(&key, 0, -1).await?,
                "hash" => {
                    let pairs: Vec<(String, String)> = conn.hgetall(&key).await?;
                    pairs.into_iter().flat_map(|(f, v)| [f, v]).collect()
                }
                "none" => Vec::new(),
                other => return Err(format!("key of type {other} in the layout").into()),
            };
            out.push(key);
            out.extend(values);
        }
        Ok(out)
    }

    async fn migrate(&self) -> Result<(), AdapterError> {
        self.adapter.migrate().await
    }

    async fn unreachable(&self) -> Unreachable {
        if self.keys.is_clustered() {
            return unreachable_cluster().await;
        }
        unreachable_on(Layout::Native).await
    }

    async fn teardown(&self) -> Result<(), BoxError> {
        let mine = own_keys(&self.nodes, &self.keys, None).await?;
        unlink(&self.conn, &mine).await
    }

    fn location(&self) -> Option<adapter_conformance::StorageLocation> {
        Some(adapter_conformance::StorageLocation {
            // A cluster's seed nodes, joined by commas (what `StorageLocation` says).
            url: self.url.clone(),
            namespace: self.keys.prefix().to_owned(),
            connections: 1,
        })
    }
}

/// Removes every key under the layout's prefix (`SCAN MATCH <prefix>*` + `UNLINK`), and
/// nothing else.
pub async fn teardown_prefix(
    conn: &MultiplexedConnection,
    keys: &KeyLayout,
) -> Result<(), BoxError> {
    // The pattern is the escaped prefix; `own_keys` checks again before anything is deleted.
    let mine = own_keys(std::slice::from_ref(conn), keys, None).await?;
    unlink(conn, &mine).await
}

/// `UNLINK`s `keys` in batches (a cluster connection splits each batch by slot).
async fn unlink<C>(conn: &C, keys: &[String]) -> Result<(), BoxError>
where
    C: redis::aio::ConnectionLike + Clone,
{
    let mut conn = conn.clone();
    for batch in keys.chunks(1000) {
        let _: u64 = redis::cmd("UNLINK")
            .arg(batch)
            .query_async(&mut conn)
            .await?;
    }
    Ok(())
}

// ---------------------------------------------------------------- the Auth.js layout

/// The `redis-authjs` backend: adapter-redis on the Auth.js unstorage layout
/// ([`Layout::AuthJsUnstorage`](crate::Layout)), on the server of [`ENV_VAR`] (else
/// a `redis:7` container). Each fixture gets its own `baseKeyPrefix` (`authtest:<uuid>:`),
/// so every key it writes starts with it and teardown removes exactly those.
///
/// ```
/// let spec = adapter_redis::conformance::redis_authjs_spec();
/// assert_eq!(spec.name, "redis-authjs");
/// ```
pub fn redis_authjs_spec() -> BackendSpec {
    BackendSpec {
        name: "redis-authjs",
        open: |url| Box::pin(open_authjs(url)),
        ..redis_spec()
    }
}

async fn open_authjs(url: Option<String>) -> Result<Arc<dyn Backend>, BoxError> {
    let url = url.ok_or("the redis-authjs backend needs a server URL")?;
    let client = answering_client(&url).await?;
    Ok(Arc::new(RedisAuthJsBackend { url, client }))
}

/// What the unstorage layout cannot hold, by scenario (adapter-redis's README quotes it).
///
/// ```
/// use adapter_redis::conformance::AUTHJS_GAPS;
/// assert!(AUTHJS_GAPS.iter().all(|gap| adapter_conformance::scenario(gap.scenario).is_some()));
/// ```
pub const AUTHJS_GAPS: &[Gap] = &[
    Gap {
        scenario: "s18_delete_user_cascades_everything",
        reason: "the layout's by-user-id keys name one account and one session per user (the last written), so delete_user cannot reach the others: they stay stored, never returned",
    },
    Gap {
        scenario: "s19_expired_records_are_never_returned",
        reason: "the layout's by-user-id key names one session per user, so list_sessions returns at most one live session",
    },
    Gap {
        scenario: "s32_delete_races_leave_no_orphan",
        reason: "with several accounts and sessions linked before the delete lands, only those the by-user-id keys name are removed (the rest stay stored, never returned)",
    },
    Gap {
        scenario: "s36_counts_are_exact",
        reason: "the layout has one session pointer per user and no expiry index: delete_sessions reaches one session, and delete_expired leaves expiry to Redis and counts 0",
    },
    Gap {
        scenario: "s37_delete_authenticator_and_list_accounts",
        reason: "the layout's by-user-id key names one account per user, so list_accounts returns the last one linked",
    },
];

/// Hands out adapters on the Auth.js unstorage layout, each on a fresh `baseKeyPrefix`.
#[derive(Debug, Clone)]
pub struct RedisAuthJsBackend {
    url: String,
    client: redis::Client,
}

#[async_trait]
impl Backend for RedisAuthJsBackend {
    async fn fixture(&self) -> Result<Fixture, BoxError> {
        let prefix = fresh_prefix();
        let layout = UnstorageLayout::new().base_key_prefix(prefix.as_str());
        let builder = RedisAdapter::builder(self.url.as_str())
            .layout(Layout::AuthJsUnstorage(layout.clone()));
        let (adapter, conn) = migrated_fixture(builder, &self.client).await?;
        let (conn, nodes) = single_server(&self.client, conn).await?;
        Ok(Fixture {
            adapter: Arc::new(adapter.clone()),
            inspector: Box::new(UnstorageInspector::new(adapter, conn, nodes, layout)?),
        })
    }

    fn gaps(&self) -> &'static [Gap] {
        AUTHJS_GAPS
    }

    fn model_rules(&self) -> adapter_conformance::model::Rules {
        authjs_rules()
    }
}

/// The model rules of the unstorage layout: its gaps, and an account's and a verification
/// token's key halves joined with `:`, as @auth/unstorage-adapter's keys are, so look-alike
/// pairs are one record.
fn authjs_rules() -> adapter_conformance::model::Rules {
    adapter_conformance::model::Rules {
        joined_keys: true,
        ..adapter_conformance::model::Rules::from_gaps(AUTHJS_GAPS)
    }
}

/// The `redis-cluster-authjs` backend: the Auth.js unstorage layout on the Redis Cluster of
/// [`CLUSTER_ENV_VAR`], as an Auth.js app runs it there: every key under unstorage's
/// driver base `{unstorage}`, one hash tag, so one slot (availability, no spread). Each
/// fixture has its own `baseKeyPrefix` under it.
///
/// ```
/// let spec = adapter_redis::conformance::redis_cluster_authjs_spec();
/// assert_eq!(spec.name, "redis-cluster-authjs");
/// ```
pub fn redis_cluster_authjs_spec() -> BackendSpec {
    BackendSpec {
        name: "redis-cluster-authjs",
        open: |urls| Box::pin(open_cluster_authjs(urls)),
        ..redis_cluster_spec()
    }
}

/// The driver base of [`redis_cluster_authjs_spec`]: what the unstorage docs give for a
/// cluster.
pub const CLUSTER_DRIVER_BASE: &str = "{unstorage}";

async fn open_cluster_authjs(urls: Option<String>) -> Result<Arc<dyn Backend>, BoxError> {
    Ok(Arc::new(ClusterAuthJsBackend(
        ClusterBackend::connect(urls).await?,
    )))
}

/// Hands out adapters on the Auth.js unstorage layout on a cluster, each on a fresh
/// `baseKeyPrefix` under the driver base [`CLUSTER_DRIVER_BASE`].
#[derive(Debug, Clone)]
pub struct ClusterAuthJsBackend(ClusterBackend);

#[async_trait]
impl Backend for ClusterAuthJsBackend {
    async fn fixture(&self) -> Result<Fixture, BoxError> {
        let prefix = fresh_prefix();
        let layout = UnstorageLayout::new()
            .driver_base(CLUSTER_DRIVER_BASE)
            .base_key_prefix(prefix.as_str());
        let (adapter, conn, nodes) = self
            .0
            .migrated(|builder| builder.layout(Layout::AuthJsUnstorage(layout.clone())))
            .await?;
        Ok(Fixture {
            adapter: Arc::new(adapter.clone()),
            inspector: Box::new(UnstorageInspector::new(adapter, conn, nodes, layout)?),
        })
    }

    fn gaps(&self) -> &'static [Gap] {
        AUTHJS_GAPS
    }

    fn model_rules(&self) -> adapter_conformance::model::Rules {
        authjs_rules()
    }
}

/// Reads one fixture's unstorage keys with plain commands and decodes the JSON values
/// Auth.js writes (camelCase fields, ISO 8601 dates) itself.
#[derive(Debug, Clone)]
pub struct UnstorageInspector {
    adapter: RedisAdapter,
    /// Commands (on a cluster, routed to the one slot of the layout's hash tag).
    conn: Conn,
    /// Every node, for `SCAN` (one connection on a single server).
    nodes: Vec<MultiplexedConnection>,
    /// Where the fixture's keys are: its `baseKeyPrefix` and the driver base.
    layout: UnstorageLayout,
    /// The start of every key of the fixture (driver base and `baseKeyPrefix`), for `SCAN`
    /// and teardown.
    keys: KeyLayout,
}

fn iso(map: &Map<String, Value>, field: &str) -> Result<Option<DateTime<Utc>>, BoxError> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(DateTime::parse_from_rfc3339(s)?.with_timezone(&Utc))),
        Some(_) => Err(format!("field {field} is not a date string").into()),
    }
}

fn null_text(map: &Map<String, Value>, field: &str) -> Result<Option<String>, BoxError> {
    match map.get(field) {
        Some(Value::Null) => Ok(None),
        _ => opt_text(map, field),
    }
}

/// The extra fields of an Auth.js record: its top-level fields other than `own`, without
/// the `null` ones (Node's `updateUser({role: null})` stores a null, which means absent).
fn js_extra(map: &Map<String, Value>, own: &[&str]) -> Extra {
    map.iter()
        .filter(|(name, value)| !value.is_null() && !own.contains(&name.as_str()))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect()
}

fn decode_js_account(raw: &str) -> Result<Account, BoxError> {
    let m = object(raw)?;
    let own = [
        "userId",
        "type",
        "provider",
        "providerAccountId",
        "refresh_token",
        "access_token",
        "expires_at",
        "token_type",
        "scope",
        "id_token",
        "session_state",
        "id",
    ];
    Ok(Account {
        extra: js_extra(&m, &own),
        user_id: text(&m, "userId")?,
        account_type: text(&m, "type")?.parse::<AccountType>()?,
        provider: text(&m, "provider")?,
        provider_account_id: text(&m, "providerAccountId")?,
        refresh_token: null_text(&m, "refresh_token")?,
        access_token: null_text(&m, "access_token")?,
        expires_at: opt_int(&m, "expires_at")?,
        token_type: null_text(&m, "token_type")?,
        scope: null_text(&m, "scope")?,
        id_token: null_text(&m, "id_token")?,
        session_state: null_text(&m, "session_state")?,
    })
}

fn decode_js_session(raw: &str) -> Result<Session, BoxError> {
    let m = object(raw)?;
    Ok(Session {
        extra: js_extra(&m, &["sessionToken", "userId", "expires"]),
        session_token: text(&m, "sessionToken")?,
        user_id: text(&m, "userId")?,
        expires: iso(&m, "expires")?.ok_or("field expires is missing")?,
    })
}

fn decode_js_authenticator(raw: &str) -> Result<Authenticator, BoxError> {
    let m = object(raw)?;
    Ok(Authenticator {
        credential_id: text(&m, "credentialID")?,
        user_id: text(&m, "userId")?,
        provider_account_id: text(&m, "providerAccountId")?,
        credential_public_key: text(&m, "credentialPublicKey")?,
        counter: int(&m, "counter")?,
        credential_device_type: text(&m, "credentialDeviceType")?,
        credential_backed_up: m
            .get("credentialBackedUp")
            .and_then(Value::as_bool)
            .ok_or("field credentialBackedUp is missing or not a boolean")?,
        transports: null_text(&m, "transports")?,
    })
}

/// The unstorage layout's records (their by-user-id pointers are passed over before).
const UNSTORAGE_RECORDS: RecordKinds = RecordKinds {
    account: ("user:account:", decode_js_account),
    session: ("user:session:", decode_js_session),
    authenticator: ("authenticator:", decode_js_authenticator),
};

impl UnstorageInspector {
    /// The inspector of a fixture on `layout`: `conn` for commands, `nodes` for `SCAN`.
    fn new(
        adapter: RedisAdapter,
        conn: Conn,
        nodes: Vec<MultiplexedConnection>,
        layout: UnstorageLayout,
    ) -> Result<Self, BoxError> {
        Ok(Self {
            adapter,
            conn,
            nodes,
            keys: KeyLayout::new(layout.key_start())?,
            layout,
        })
    }

    /// The Redis key of a storage key under this fixture's `baseKeyPrefix`, as unstorage
    /// normalizes it.
    fn key(&self, rest: &str) -> String {
        self.layout
            .redis_key(&format!("{}{rest}", self.layout.get_base_key_prefix()))
    }

    async fn raw(&self, rest: &str) -> Result<Option<String>, BoxError> {
        let mut conn = self.conn.clone();
        Ok(conn.get(self.key(rest)).await?)
    }

    async fn all_keys(&self) -> Result<Vec<String>, BoxError> {
        own_keys(&self.nodes, &self.keys, None).await
    }
}

#[async_trait]
impl Inspector for UnstorageInspector {
    async fn stored_user(&self, id: &str) -> Result<Option<User>, BoxError> {
        let Some(raw) = self.raw(&format!("user:{id}")).await? else {
            return Ok(None);
        };
        let m = object(&raw)?;
        Ok(Some(User {
            extra: js_extra(&m, &["id", "name", "email", "emailVerified", "image"]),
            id: text(&m, "id")?,
            email: null_text(&m, "email")?,
            email_verified: iso(&m, "emailVerified")?,
            name: null_text(&m, "name")?,
            image: null_text(&m, "image")?,
        }))
    }

    async fn stored_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> Result<Option<Account>, BoxError> {
        let raw = self
            .raw(&format!("user:account:{provider}:{provider_account_id}"))
            .await?;
        let account = raw.as_deref().map(decode_js_account).transpose()?;
        // Another pair may share the key.
        Ok(account
            .filter(|a| a.provider == provider && a.provider_account_id == provider_account_id))
    }

    async fn stored_session(&self, session_token: &str) -> Result<Option<Session>, BoxError> {
        let raw = self.raw(&format!("user:session:{session_token}")).await?;
        let session = raw.as_deref().map(decode_js_session).transpose()?;
        Ok(session.filter(|s| s.session_token == session_token))
    }

    async fn stored_verification_token(
        &self,
        identifier: &str,
        token: &str,
    ) -> Result<Option<VerificationToken>, BoxError> {
        let Some(raw) = self
            .raw(&format!("user:token:{identifier}:{token}"))
            .await?
        else {
            return Ok(None);
        };
        let m = object(&raw)?;
        let found = VerificationToken {
            identifier: text(&m, "identifier")?,
            token: text(&m, "token")?,
            expires: iso(&m, "expires")?.ok_or("field expires is missing")?,
        };
        Ok((found.identifier == identifier && found.token == token).then_some(found))
    }

    async fn stored_authenticator(
        &self,
        credential_id: &str,
    ) -> Result<Option<Authenticator>, BoxError> {
        let raw = self.raw(&format!("authenticator:{credential_id}")).await?;
        let found = raw.as_deref().map(decode_js_authenticator).transpose()?;
        Ok(found.filter(|a| a.credential_id == credential_id))
    }

    async fn records_of_user(&self, user_id: &str) -> Result<UserRecords, BoxError> {
        // Every record under the prefix, whichever pointer names it or not.
        let keys = self.all_keys().await?;
        let mut conn = self.conn.clone();
        let mut found = UserRecords::default();
        for key in keys {
            let kind = &key[self.keys.prefix().len()..];
            if kind.starts_with("user:account:by-user-id:")
                || kind.starts_with("user:session:by-user-id:")
                || kind.starts_with("authenticator:by-user-id:")
            {
                continue;
            }
            let Some(raw): Option<String> = conn.get(&key).await? else {
                continue;
            };
            UNSTORAGE_RECORDS.sort_into(&mut found, user_id, kind, &raw)?;
        }
        Ok(found)
    }

    async fn dump(&self) -> Result<Vec<String>, BoxError> {
        let mut conn = self.conn.clone();
        let mut out = Vec::new();
        for key in self.all_keys().await? {
            let value: Option<String> = conn.get(&key).await?;
            out.push(key);
            out.extend(value);
        }
        Ok(out)
    }

    async fn migrate(&self) -> Result<(), AdapterError> {
        self.adapter.migrate().await
    }

    async fn unreachable(&self) -> Unreachable {
        unreachable_on(Layout::AuthJsUnstorage(UnstorageLayout::new())).await
    }

    async fn teardown(&self) -> Result<(), BoxError> {
        let mine = self.all_keys().await?;
        unlink(&self.conn, &mine).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_container_plan_uses_a_current_image() {
        let spec = redis_spec();
        assert_eq!(spec.name, "redis");
        match spec.source {
            Source::Server {
                env_var,
                container: Some(plan),
                ..
            } => {
                assert_eq!(env_var, "AUTH_TEST_REDIS_URL");
                assert_eq!((plan.image, plan.tag), ("redis", "7"));
            }
            other => panic!("unexpected source {other:?}"),
        }
        assert_eq!(container_url("127.0.0.1", 6379), "redis://127.0.0.1:6379");
    }

    #[test]
    fn fresh_prefixes_are_unique_and_valid() {
        let a = fresh_prefix();
        let b = fresh_prefix();
        assert_ne!(a, b);
        assert!(KeyLayout::new(a.as_str()).is_ok());
        assert!(a.starts_with("authtest:") && a.ends_with(':'));
    }
}
