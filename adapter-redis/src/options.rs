//! [`RedisAdapterBuilder`]: the key prefix, the layout, the call timeout and the reconnect
//! behaviour, for a connection opened from a URL or a `ConnectionManager` the app passes in.

use std::fmt;
use std::time::Duration;

use auth_core::{AdapterError, AdapterResult, Operation};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClient;

use crate::adapter::RedisAdapter;
use crate::cluster::Replication;
use crate::connection::{Conn, Topology};
use crate::error;
use crate::keys::{KeyLayout, DEFAULT_PREFIX};
use crate::layout::Layout;

/// Default bound of one adapter call ([`RedisAdapterBuilder::call_timeout`]).
///
/// ```
/// assert_eq!(adapter_redis::DEFAULT_CALL_TIMEOUT.as_secs(), 5);
/// ```
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// Default number of reconnect attempts after a connection is lost, before calls fail.
///
/// ```
/// assert_eq!(adapter_redis::DEFAULT_RECONNECT_RETRIES, 2);
/// ```
pub const DEFAULT_RECONNECT_RETRIES: usize = 2;
/// Default longest pause between reconnect attempts.
///
/// ```
/// assert!(adapter_redis::DEFAULT_RECONNECT_MAX_DELAY.as_secs() >= 1);
/// ```
pub const DEFAULT_RECONNECT_MAX_DELAY: Duration = Duration::from_secs(1);

/// The shortest pause between reconnect attempts (the back-off starts there).
const RECONNECT_MIN_DELAY: Duration = Duration::from_millis(100);

/// The longest call timeout of the cluster mode (see [`RedisAdapter::cluster_builder`]).
const MAX_CLUSTER_CALL_TIMEOUT: Duration = Duration::from_secs(60);

/// How often the cluster client retries a command (redirections, `TRYAGAIN`,
/// `CLUSTERDOWN` while a replica takes over, lost connections) unless
/// [`RedisAdapterBuilder::reconnect_retries`] says otherwise; the call timeout bounds them.
const CLUSTER_RETRIES: usize = 16;

/// Where the adapter's connection comes from.
#[derive(Clone)]
enum Source {
    /// `connect` opens a [`ConnectionManager`] on this URL with the builder's options.
    Url(String),
    /// The app's own manager, from [`RedisAdapter::from_pool`]: shared, configured by the app.
    Adopted(ConnectionManager),
    /// `connect` opens a cluster connection from these seed nodes
    /// ([`RedisAdapter::cluster_builder`]).
    Cluster(Vec<String>),
}

/// Options of a [`RedisAdapter`], and the way to connect one: made by
/// [`RedisAdapter::builder`] (a URL) or [`RedisAdapter::from_pool`] (a `ConnectionManager`
/// the app already has), finished by [`connect`](Self::connect).
///
/// Setters never fail: a value that cannot work (an invalid key prefix, a prefix together
/// with the Auth.js layout, a malformed URL, a reconnect option for a manager the app
/// passed in) is reported by `connect` as `InvalidInput`, before any connection is opened.
/// Time is bounded everywhere: `connect` and every adapter call fail with
/// ADAPTER_CONNECTION_ERROR once the [call timeout](Self::call_timeout) has passed.
///
/// ```no_run
/// use std::time::Duration;
/// use adapter_redis::RedisAdapter;
///
/// # async fn run() -> Result<(), auth_core::AdapterError> {
/// let adapter = RedisAdapter::builder("redis://127.0.0.1:6379")
///     .key_prefix("myapp:auth:")
///     .call_timeout(Duration::from_secs(2))
///     .reconnect_retries(3)
///     .connect()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisAdapterBuilder {
    source: Source,
    /// `None`: not set, the default prefix (and none for the Auth.js layout).
    prefix: Option<String>,
    call_timeout: Duration,
    /// `None`: not set (the default for a URL; nothing for an adopted manager).
    reconnect_retries: Option<usize>,
    reconnect_max_delay: Option<Duration>,
    layout: Layout,
    /// Cluster mode: acknowledge writes only once replicated ([`Self::wait_for_replicas`]).
    replication: Option<Replication>,
}

/// Shows the URL without its password, and the options.
impl fmt::Debug for RedisAdapterBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("RedisAdapterBuilder");
        match &self.source {
            Source::Url(url) => s.field("url", &auth_core::redact_url(url)),
            Source::Adopted(_) => s.field("connection", &"ConnectionManager (from_pool)"),
            Source::Cluster(nodes) => s.field(
                "cluster_nodes",
                &nodes
                    .iter()
                    .map(|url| auth_core::redact_url(url))
                    .collect::<Vec<_>>(),
            ),
        };
        s.field("key_prefix", &self.prefix)
            .field("call_timeout", &self.call_timeout)
            .field("reconnect_retries", &self.reconnect_retries)
            .field("reconnect_max_delay", &self.reconnect_max_delay)
            .field("layout", &self.layout)
            .field("replication", &self.replication)
            .finish()
    }
}

impl RedisAdapterBuilder {
    /// The defaults for the server at `url` (`redis://[user:password@]host:port[/db]`, or
    /// `rediss://` for TLS): prefix `auth:`, [`DEFAULT_CALL_TIMEOUT`] per call,
    /// [`DEFAULT_RECONNECT_RETRIES`] reconnect retries at most
    /// [`DEFAULT_RECONNECT_MAX_DELAY`] apart. Same as [`RedisAdapter::builder`].
    ///
    /// ```
    /// use adapter_redis::RedisAdapterBuilder;
    /// let builder = RedisAdapterBuilder::new("redis://:secret@127.0.0.1:6379");
    /// assert!(!format!("{builder:?}").contains("secret"));
    /// ```
    pub fn new(url: impl Into<String>) -> Self {
        Self::with_source(Source::Url(url.into()))
    }

    /// The defaults on a manager the app passed to [`RedisAdapter::from_pool`].
    pub(crate) fn adopting(manager: ConnectionManager) -> Self {
        Self::with_source(Source::Adopted(manager))
    }

    /// The defaults on a cluster's seed nodes ([`RedisAdapter::cluster_builder`]).
    pub(crate) fn cluster(nodes: Vec<String>) -> Self {
        Self::with_source(Source::Cluster(nodes))
    }

    fn with_source(source: Source) -> Self {
        Self {
            source,
            prefix: None,
            call_timeout: DEFAULT_CALL_TIMEOUT,
            reconnect_retries: None,
            reconnect_max_delay: None,
            layout: Layout::Native,
            replication: None,
        }
    }

    /// Which keys and values the adapter reads and writes (default [`Layout::Native`]).
    /// [`Layout::AuthJsUnstorage`] shares the Redis of an Auth.js app that uses
    /// `@auth/unstorage-adapter` on unstorage's Redis driver; its own `baseKeyPrefix` and
    /// driver `base` place the keys, so a [`key_prefix`](Self::key_prefix) given with it
    /// makes [`connect`](Self::connect) fail with `InvalidInput`.
    ///
    /// ```no_run
    /// use adapter_redis::{Layout, RedisAdapter, UnstorageLayout};
    ///
    /// # async fn run() -> Result<(), auth_core::AdapterError> {
    /// // UnstorageAdapter(createStorage({ driver: redisDriver({ url }) }), { baseKeyPrefix: "app:" })
    /// let adapter = RedisAdapter::builder("redis://127.0.0.1:6379")
    ///     .layout(Layout::AuthJsUnstorage(UnstorageLayout::new().base_key_prefix("app:")))
    ///     .connect()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn layout(mut self, layout: Layout) -> Self {
        self.layout = layout;
        self
    }

    /// The prefix of every key of the native layout (default `auth:`): 1 to 128 ASCII
    /// letters, digits and `:_-./{}`, so that it can never act as a glob pattern. Anything
    /// else, or any prefix together with [`Layout::AuthJsUnstorage`], makes
    /// [`connect`](Self::connect) fail with `InvalidInput`.
    ///
    /// ```
    /// use adapter_redis::RedisAdapter;
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let err = RedisAdapter::builder("redis://127.0.0.1:6379")
    ///     .key_prefix("auth:*")
    ///     .connect()
    ///     .await
    ///     .unwrap_err();
    /// assert_eq!(err.kind(), auth_core::ErrorKind::InvalidInput);
    /// # });
    /// ```
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Some(prefix.into());
        self
    }

    /// The bound of one adapter call (default [`DEFAULT_CALL_TIMEOUT`]): `connect`,
    /// `migrate()` and every method of the adapter, all of its round trips, reconnects and
    /// compare-and-set retries included, fail with ADAPTER_CONNECTION_ERROR (kind
    /// `Connection`, "did not answer within …") once it has passed, whatever the server
    /// does (down, unreachable, paused). It applies to a manager passed to
    /// [`RedisAdapter::from_pool`] too.
    ///
    /// For a connection the adapter opens itself, the driver's own timeouts derive from it:
    /// each (re)connect attempt and each reply of the `ConnectionManager` are bounded by the
    /// same duration (see [`manager_config`](Self::manager_config)). Zero makes `connect`
    /// fail with `InvalidInput`.
    ///
    /// ```
    /// # use std::time::Duration;
    /// let builder = adapter_redis::RedisAdapter::builder("redis://127.0.0.1")
    ///     .call_timeout(Duration::from_secs(2));
    /// assert_eq!(builder.manager_config().response_timeout(), Some(Duration::from_secs(2)));
    /// ```
    pub fn call_timeout(mut self, timeout: Duration) -> Self {
        self.call_timeout = timeout;
        self
    }

    /// Cluster mode only: acknowledge a write only once `replicas` replicas of its primary
    /// have it, waiting at most `timeout` (Redis `WAIT` after each write step, sent to that
    /// step's primary; off by default). Redis replicates asynchronously, so without it a
    /// primary that fails right after acknowledging a write can take the write with it when
    /// its replica takes over: a session just created gone, a verification token just used
    /// usable again. With it, a write step that fewer replicas acknowledge in time fails the
    /// call with ADAPTER_CONNECTION_ERROR (the write may or may not survive), and each write
    /// step costs one more round trip. `connect` refuses it (`InvalidInput`) on a single
    /// server, with zero replicas, or with a `timeout` not shorter than the call timeout.
    ///
    /// ```no_run
    /// # use std::time::Duration;
    /// # async fn run() -> Result<(), auth_core::AdapterError> {
    /// let adapter = adapter_redis::RedisAdapter::cluster_builder(["redis://127.0.0.1:7000"])
    ///     .wait_for_replicas(1, Duration::from_millis(500))
    ///     .connect()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn wait_for_replicas(mut self, replicas: usize, timeout: Duration) -> Self {
        self.replication = Some(Replication { replicas, timeout });
        self
    }

    /// How many times to retry opening a lost connection, with exponential back-off
    /// starting at 100 ms, before the waiting calls fail (default
    /// [`DEFAULT_RECONNECT_RETRIES`]). The next call after such a failure starts
    /// reconnecting again, so the adapter recovers by itself once Redis is back.
    ///
    /// Only for a connection the adapter opens: with a manager passed to
    /// [`RedisAdapter::from_pool`], `connect` fails with `InvalidInput` (configure that
    /// manager instead).
    ///
    /// ```
    /// let builder = adapter_redis::RedisAdapter::builder("redis://127.0.0.1").reconnect_retries(5);
    /// assert_eq!(builder.manager_config().number_of_retries(), 5);
    /// ```
    pub fn reconnect_retries(mut self, retries: usize) -> Self {
        self.reconnect_retries = Some(retries);
        self
    }

    /// The longest pause between two reconnect attempts (default
    /// [`DEFAULT_RECONNECT_MAX_DELAY`]).
    ///
    /// Only for a connection the adapter opens: with a manager passed to
    /// [`RedisAdapter::from_pool`], `connect` fails with `InvalidInput` (configure that
    /// manager instead).
    ///
    /// ```
    /// # use std::time::Duration;
    /// let builder = adapter_redis::RedisAdapter::builder("redis://127.0.0.1")
    ///     .reconnect_max_delay(Duration::from_millis(500));
    /// assert_eq!(builder.manager_config().max_delay(), Some(Duration::from_millis(500)));
    /// ```
    pub fn reconnect_max_delay(mut self, delay: Duration) -> Self {
        self.reconnect_max_delay = Some(delay);
        self
    }

    /// The [`ConnectionManagerConfig`] the adapter opens its connection with: connection
    /// and response timeouts equal to the [call timeout](Self::call_timeout), and the
    /// reconnect options. Use it to build a manager of your own with the same behaviour,
    /// to pass to [`RedisAdapter::from_pool`].
    ///
    /// ```no_run
    /// use adapter_redis::{redis, RedisAdapter};
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let config = RedisAdapter::builder("redis://127.0.0.1:6379").manager_config();
    /// let client = redis::Client::open("redis://127.0.0.1:6379")?;
    /// let manager = redis::aio::ConnectionManager::new_with_config(client, config).await?;
    /// let adapter = RedisAdapter::from_pool(manager).connect().await?;
    /// # Ok(()) }
    /// ```
    pub fn manager_config(&self) -> ConnectionManagerConfig {
        ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.call_timeout))
            .set_response_timeout(Some(self.call_timeout))
            .set_number_of_retries(self.reconnect_retries.unwrap_or(DEFAULT_RECONNECT_RETRIES))
            .set_min_delay(RECONNECT_MIN_DELAY)
            .set_max_delay(
                self.reconnect_max_delay
                    .unwrap_or(DEFAULT_RECONNECT_MAX_DELAY),
            )
    }

    /// Checks the options, then connects (a URL) or takes the manager (from
    /// [`RedisAdapter::from_pool`], without any I/O: a server that is down shows on the
    /// first call).
    ///
    /// Errors (operation `connect`, code ADAPTER_CONNECTION_ERROR):
    /// - kind `InvalidInput`, before any I/O: an invalid key prefix, a key prefix together
    ///   with [`Layout::AuthJsUnstorage`], a zero call timeout, a URL redis-rs does not
    ///   accept (its message is the error's `source()`), or a reconnect option given with
    ///   a manager passed to `from_pool`;
    /// - kind `Connection`: the server cannot be reached within the call timeout, with the
    ///   cause (e.g. "Connection refused") in the error's `source()`.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), auth_core::AdapterError> {
    /// let adapter = adapter_redis::RedisAdapter::builder("redis://127.0.0.1:6379")
    ///     .connect()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn connect(self) -> AdapterResult<RedisAdapter> {
        let op = Operation::Connect;
        let keys = self.key_layout()?;
        if self.call_timeout.is_zero() {
            return Err(AdapterError::invalid_input(
                op,
                "the call timeout must be longer than zero",
            ));
        }
        if let Some(replication) = self.replication {
            let why = if !matches!(self.source, Source::Cluster(_)) {
                Some(
                    "wait_for_replicas applies to the cluster mode (RedisAdapter::cluster_builder)",
                )
            } else if replication.replicas == 0 {
                Some("wait_for_replicas needs at least one replica")
            } else if replication.timeout.is_zero() || replication.timeout >= self.call_timeout {
                Some("the wait_for_replicas timeout must be longer than zero and shorter than the call timeout")
            } else {
                None
            };
            if let Some(why) = why {
                return Err(AdapterError::invalid_input(op, why));
            }
        }
        if matches!(self.source, Source::Cluster(_)) && self.call_timeout > MAX_CLUSTER_CALL_TIMEOUT
        {
            return Err(AdapterError::invalid_input(
                op,
                "in cluster mode the call timeout may be at most a minute: a change still in \
                 flight must never outlast the two minutes after which another adapter takes \
                 over an email claim nobody confirmed",
            ));
        }
        let mut topology = Topology::default();
        let conn = match &self.source {
            Source::Adopted(manager) => {
                if let Some(option) = self.own_connection_option() {
                    return Err(AdapterError::invalid_input(
                        op,
                        format!(
                            "{option} applies to a connection the adapter opens itself, not to a \
                             ConnectionManager passed to from_pool: configure the manager you \
                             passed instead (RedisAdapterBuilder::manager_config builds such a \
                             configuration)"
                        ),
                    ));
                }
                Conn::Single(manager.clone())
            }
            Source::Cluster(nodes) => {
                let client = self.cluster_client(nodes)?;
                let conn = auth_core::bound::within(op, self.call_timeout, async {
                    client
                        .get_async_connection()
                        .await
                        .map_err(|e| error::from_redis(op, e))
                })
                .await?;
                topology = Topology::new(client);
                Conn::Cluster(conn)
            }
            Source::Url(url) => {
                // Parsing only: redis-rs opens nothing until the manager connects.
                let client = redis::Client::open(url.as_str()).map_err(error::invalid_url)?;
                Conn::Single(
                    auth_core::bound::within(op, self.call_timeout, async {
                        ConnectionManager::new_with_config(client, self.manager_config())
                            .await
                            .map_err(|e| error::from_redis(op, e))
                    })
                    .await?,
                )
            }
        };
        Ok(RedisAdapter::from_parts(
            conn,
            keys,
            self.call_timeout,
            &self.layout,
            self.replication,
            topology,
        ))
    }

    /// The cluster client of the seed nodes: the driver's connect and reply timeouts are
    /// the call timeout, its retries (of `MOVED`, `ASK`, `TRYAGAIN`, `CLUSTERDOWN` and lost
    /// connections) the reconnect options; the call bound caps them all.
    fn cluster_client(&self, nodes: &[String]) -> AdapterResult<ClusterClient> {
        if nodes.is_empty() {
            return Err(AdapterError::invalid_input(
                Operation::Connect,
                "a cluster needs the URL of at least one node",
            ));
        }
        let retries = self.reconnect_retries.unwrap_or(CLUSTER_RETRIES);
        let max_wait = self
            .reconnect_max_delay
            .unwrap_or(DEFAULT_RECONNECT_MAX_DELAY);
        ClusterClient::builder(nodes.iter().map(String::as_str))
            .connection_timeout(self.call_timeout)
            .response_timeout(self.call_timeout)
            .retries(u32::try_from(retries).unwrap_or(u32::MAX))
            .min_retry_wait(u64::try_from(RECONNECT_MIN_DELAY.as_millis()).unwrap_or(100))
            .max_retry_wait(u64::try_from(max_wait.as_millis()).unwrap_or(u64::MAX))
            .build()
            .map_err(error::invalid_url)
    }

    /// The key layout of the options: the prefix checked, and refused together with the
    /// Auth.js layout (which places its keys by its own options; on a cluster only when
    /// they hold a hash tag, so every key shares one slot).
    fn key_layout(&self) -> AdapterResult<KeyLayout> {
        let clustered = matches!(self.source, Source::Cluster(_));
        let prefix = self.prefix.as_deref().unwrap_or(DEFAULT_PREFIX);
        match (&self.layout, self.prefix.is_some()) {
            (Layout::AuthJsUnstorage(_), true) => Err(AdapterError::invalid_input(
                Operation::Connect,
                "a key prefix does not apply to the Auth.js unstorage layout: set its \
                 base_key_prefix or driver_base in UnstorageLayout instead",
            )),
            (Layout::AuthJsUnstorage(layout), false)
                if clustered && layout.fixed_hash_tag().is_none() =>
            {
                Err(AdapterError::invalid_input(
                    Operation::Connect,
                    "the Auth.js unstorage layout on a cluster needs every key in one slot: \
                     a driver_base with a hash tag, as unstorage's base: \"{unstorage}\"",
                ))
            }
            (Layout::Native, _) if clustered => {
                KeyLayout::clustered(prefix).map_err(error::invalid_prefix)
            }
            _ => KeyLayout::new(prefix).map_err(error::invalid_prefix),
        }
    }

    /// The first option set that only a connection the adapter opens itself can take.
    fn own_connection_option(&self) -> Option<&'static str> {
        if self.reconnect_retries.is_some() {
            Some("reconnect_retries")
        } else if self.reconnect_max_delay.is_some() {
            Some("reconnect_max_delay")
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let b = RedisAdapterBuilder::new("redis://127.0.0.1");
        assert_eq!(b.prefix, None);
        assert_eq!(b.call_timeout, DEFAULT_CALL_TIMEOUT);
        let config = b.manager_config();
        assert_eq!(config.connection_timeout(), Some(DEFAULT_CALL_TIMEOUT));
        assert_eq!(config.response_timeout(), Some(DEFAULT_CALL_TIMEOUT));
        assert_eq!(config.number_of_retries(), DEFAULT_RECONNECT_RETRIES);
        assert_eq!(config.max_delay(), Some(DEFAULT_RECONNECT_MAX_DELAY));
    }

    #[test]
    fn the_driver_timeouts_follow_the_call_timeout() {
        let config = RedisAdapterBuilder::new("redis://127.0.0.1")
            .call_timeout(Duration::from_millis(1500))
            .manager_config();
        assert_eq!(
            config.connection_timeout(),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(config.response_timeout(), Some(Duration::from_millis(1500)));
    }

    #[test]
    fn debug_hides_the_password() {
        let b = RedisAdapterBuilder::new("redis://user:hunter2@db:6379/0").key_prefix("p:");
        let shown = format!("{b:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("db:6379") && shown.contains("p:"), "{shown}");
    }

    #[tokio::test]
    async fn an_invalid_prefix_is_reported_by_connect_before_any_io() {
        for bad in ["", "a b", "a*", "x".repeat(200).as_str()] {
            // Port 9 (discard) is never dialled: the prefix is checked first.
            let err = RedisAdapterBuilder::new("redis://127.0.0.1:9")
                .key_prefix(bad)
                .connect()
                .await
                .unwrap_err();
            assert_eq!(err.kind(), auth_core::ErrorKind::InvalidInput, "{bad:?}");
            assert_eq!(err.operation(), Operation::Connect);
        }
    }

    #[tokio::test]
    async fn a_malformed_url_is_invalid_input() {
        let err = RedisAdapterBuilder::new("not a url")
            .connect()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), auth_core::ErrorKind::InvalidInput);
        assert_eq!(err.operation(), Operation::Connect);
    }

    #[tokio::test]
    async fn the_cluster_mode_refuses_what_it_cannot_hold_before_any_io() {
        // Port 9 (discard) is never dialled: every option is checked first.
        let cluster = || RedisAdapterBuilder::cluster(vec!["redis://127.0.0.1:9".to_owned()]);
        let refused = [
            cluster().key_prefix("{auth}:"),
            cluster().call_timeout(Duration::from_secs(61)),
            cluster().layout(Layout::AuthJsUnstorage(crate::UnstorageLayout::new())),
            cluster().layout(Layout::AuthJsUnstorage(
                crate::UnstorageLayout::new().driver_base("app{}"),
            )),
            cluster()
                .key_prefix("auth:")
                .layout(Layout::AuthJsUnstorage(
                    crate::UnstorageLayout::new().driver_base("{unstorage}"),
                )),
            RedisAdapterBuilder::cluster(Vec::new()),
            cluster().wait_for_replicas(0, Duration::from_millis(100)),
            cluster().wait_for_replicas(1, DEFAULT_CALL_TIMEOUT),
            RedisAdapterBuilder::new("redis://127.0.0.1:9")
                .wait_for_replicas(1, Duration::from_millis(100)),
        ];
        for builder in refused {
            let shown = format!("{builder:?}");
            let err = builder.connect().await.unwrap_err();
            assert_eq!(err.kind(), auth_core::ErrorKind::InvalidInput, "{shown}");
            assert_eq!(err.operation(), Operation::Connect);
        }
    }

    #[test]
    fn debug_hides_the_passwords_of_cluster_nodes() {
        let b = RedisAdapterBuilder::cluster(vec![
            "redis://:hunter2@10.0.0.1:7000".to_owned(),
            "redis://:hunter2@10.0.0.2:7000".to_owned(),
        ]);
        let shown = format!("{b:?}");
        assert!(
            !shown.contains("hunter2") && shown.contains("10.0.0.2:7000"),
            "{shown}"
        );
    }

    #[tokio::test]
    async fn a_zero_call_timeout_is_invalid_input() {
        let err = RedisAdapterBuilder::new("redis://127.0.0.1:9")
            .call_timeout(Duration::ZERO)
            .connect()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), auth_core::ErrorKind::InvalidInput);
    }
}
