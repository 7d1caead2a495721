//! [`RedisAdapter`]: the [`Store`] implementation on Redis. The policy layer of auth-core
//! (validation, the email key, millisecond timestamps, the clock, expiry filtering, secrets
//! kept out of errors, a span per call) makes it an [`Adapter`](auth_core::Adapter).
//!
//! The adapter holds the store of the layout it was built with ([`NativeStore`] or
//! [`UnstorageStore`]) and hands every call to it here, in one place, within the call
//! timeout ([`Db::call`]).

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use auth_core::chrono::{DateTime, Utc};
use auth_core::{
    Account, AdapterResult, Authenticator, ExpiredCounts, Operation, Session, SessionUpdate, Store,
    User, UserUpdate, VerificationToken,
};
use redis::aio::ConnectionManager;
use redis::cluster_async::ClusterConnection;

use crate::cluster::{ClusterStore, Replication};
use crate::connection::{Conn, Db, Topology};
use crate::keys::KeyLayout;
use crate::layout::Layout;
use crate::native::NativeStore;
use crate::options::RedisAdapterBuilder;
use crate::unstorage::{keys::Keys, UnstorageStore};

/// The auth adapter on Redis: see the [crate docs](crate) for the key layout and what is
/// atomic. Cloning is cheap and shares the connection. Every call is bounded by the
/// [call timeout](RedisAdapterBuilder::call_timeout).
///
/// ```no_run
/// use std::sync::Arc;
/// use adapter_redis::RedisAdapter;
/// use auth_core::Adapter;
///
/// # async fn run() -> Result<(), auth_core::AdapterError> {
/// let adapter = RedisAdapter::connect("redis://127.0.0.1:6379").await?;
/// adapter.migrate().await?;
/// let db: Arc<dyn Adapter> = Arc::new(adapter);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisAdapter {
    db: Db,
    /// The key prefix the builder was given (the default one for the Auth.js layout, which
    /// places its keys by its own options).
    keys: KeyLayout,
    store: LayoutStore,
}

/// The store of the layout chosen on the builder.
#[derive(Debug, Clone)]
enum LayoutStore {
    Native(NativeStore),
    Unstorage(UnstorageStore),
    Cluster(ClusterStore),
}

impl LayoutStore {
    fn name(&self) -> &'static str {
        match self {
            Self::Native(_) => "native",
            Self::Unstorage(_) => "authjs-unstorage",
            Self::Cluster(_) => "native (cluster)",
        }
    }

    // The one dispatch on the layout. A trait object costs one virtual call (and the boxed
    // future every `Store` method already returns) per adapter call: nothing next to the
    // round trip to Redis that every call makes.
    fn store(&self) -> &dyn Store {
        match self {
            Self::Native(store) => store,
            Self::Unstorage(store) => store,
            Self::Cluster(store) => store,
        }
    }
}

/// Shows the prefix and the timeout, never a record or a connection detail.
impl fmt::Debug for RedisAdapter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisAdapter")
            .field("prefix", &self.keys.prefix())
            .field("layout", &self.store.name())
            .field("call_timeout", &self.db.call_timeout())
            .field("closed", &self.db.conn().is_none())
            .finish_non_exhaustive()
    }
}

impl RedisAdapter {
    /// Options (key prefix, layout, call timeout, reconnects) for the server at `url`;
    /// finish with [`RedisAdapterBuilder::connect`].
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), auth_core::AdapterError> {
    /// let adapter = adapter_redis::RedisAdapter::builder("redis://127.0.0.1:6379")
    ///     .key_prefix("myapp:auth:")
    ///     .connect()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn builder(url: impl Into<String>) -> RedisAdapterBuilder {
        RedisAdapterBuilder::new(url)
    }

    /// Connects with the default options (prefix `auth:`,
    /// [`DEFAULT_CALL_TIMEOUT`](crate::DEFAULT_CALL_TIMEOUT)).
    ///
    /// Errors: `InvalidInput` for a URL redis-rs does not accept (before any I/O);
    /// ADAPTER_CONNECTION_ERROR when Redis cannot be reached within the call timeout (a
    /// refused connection fails at once, its cause in `source()`).
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), auth_core::AdapterError> {
    /// let adapter = adapter_redis::RedisAdapter::connect("redis://127.0.0.1:6379").await?;
    /// # Ok(()) }
    /// ```
    pub async fn connect(url: &str) -> AdapterResult<Self> {
        RedisAdapterBuilder::new(url).connect().await
    }

    /// Options for an adapter on a [`ConnectionManager`] the app already has (the adapter
    /// shares its connection: a clone of the manager), finished by
    /// [`RedisAdapterBuilder::connect`], which does no I/O. Every builder option applies
    /// to it (key prefix, layout, call timeout), except those of a connection the adapter
    /// opens itself: [`reconnect_retries`](RedisAdapterBuilder::reconnect_retries) and
    /// [`reconnect_max_delay`](RedisAdapterBuilder::reconnect_max_delay) make `connect`
    /// fail with `InvalidInput` (configure the manager instead, e.g. with
    /// [`RedisAdapterBuilder::manager_config`]).
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use adapter_redis::{redis, RedisAdapter};
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let client = redis::Client::open("redis://127.0.0.1:6379")?;
    /// let manager = redis::aio::ConnectionManager::new(client).await?;
    /// let adapter = RedisAdapter::from_pool(manager.clone())
    ///     .key_prefix("myapp:auth:")
    ///     .call_timeout(Duration::from_secs(2))
    ///     .connect()
    ///     .await?;
    /// // The app keeps using `manager` for its own commands.
    /// # Ok(()) }
    /// ```
    pub fn from_pool(manager: ConnectionManager) -> RedisAdapterBuilder {
        RedisAdapterBuilder::adopting(manager)
    }

    /// Options for an adapter on a Redis Cluster or Valkey Cluster, from the URLs of some
    /// of its nodes (`redis://host:port`, or `rediss://` for TLS; the client learns the rest
    /// of the cluster from them), finished by [`RedisAdapterBuilder::connect`]. The cluster
    /// mode spreads users, sessions and tokens over the slots and runs every change as
    /// single-slot steps in a safe order: see the crate docs ("Redis Cluster") for the key
    /// layout, the round trips and what an interrupted change leaves behind. The native
    /// layout, or the Auth.js unstorage layout with a hash tag in its driver base (every
    /// key in one slot, as unstorage runs on a cluster: `driver_base("{unstorage}")`);
    /// a key prefix may not hold a hash tag (`{…}`); the call timeout may be
    /// at most a minute (an email claim that no user confirms for two minutes is taken
    /// over, so no change may last that long). Every other option applies; the reconnect
    /// options set the cluster client's retries (16 by default) and their longest pause.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), auth_core::AdapterError> {
    /// let adapter = adapter_redis::RedisAdapter::cluster_builder([
    ///     "redis://127.0.0.1:7000",
    ///     "redis://127.0.0.1:7001",
    ///     "redis://127.0.0.1:7002",
    /// ])
    /// .key_prefix("myapp:auth:")
    /// .connect()
    /// .await?;
    /// adapter.migrate().await?;
    /// # Ok(()) }
    /// ```
    pub fn cluster_builder<I, S>(nodes: I) -> RedisAdapterBuilder
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        RedisAdapterBuilder::cluster(nodes.into_iter().map(Into::into).collect())
    }

    /// The adapter on a checked configuration (see [`RedisAdapterBuilder::connect`]).
    pub(crate) fn from_parts(
        conn: Conn,
        keys: KeyLayout,
        call_timeout: Duration,
        layout: &Layout,
        replication: Option<Replication>,
        topology: Topology,
    ) -> Self {
        let clustered = matches!(conn, Conn::Cluster(_));
        let db = Db::new(conn, call_timeout, topology);
        let store = match layout {
            Layout::Native if clustered => LayoutStore::Cluster(ClusterStore {
                db: db.clone(),
                keys: keys.clone(),
                replication,
            }),
            Layout::Native => LayoutStore::Native(NativeStore {
                db: db.clone(),
                keys: keys.clone(),
            }),
            Layout::AuthJsUnstorage(options) => LayoutStore::Unstorage(UnstorageStore {
                db: db.clone(),
                keys: Keys::new(options.get_base_key_prefix(), options.get_driver_base()),
            }),
        };
        Self { db, keys, store }
    }

    /// The key layout (prefix) of this adapter, for this workspace's tests and conformance
    /// inspectors, which read the keys raw (hidden: [`KeyLayout`] is an implementation
    /// detail, see [`crate::keys`]).
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), auth_core::AdapterError> {
    /// let adapter = adapter_redis::RedisAdapter::connect("redis://127.0.0.1:6379").await?;
    /// assert_eq!(adapter.keys().prefix(), "auth:");
    /// # Ok(()) }
    /// ```
    #[doc(hidden)]
    pub fn keys(&self) -> &KeyLayout {
        &self.keys
    }

    /// The connection the adapter uses (a clone shares it), for commands of your own;
    /// `None` after [`close`](Self::close), and in cluster mode (see
    /// [`cluster_connection`](Self::cluster_connection)).
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let adapter = adapter_redis::RedisAdapter::connect("redis://127.0.0.1:6379").await?;
    /// let mut conn = adapter.connection().expect("open");
    /// let pong: String = adapter_redis::redis::cmd("PING").query_async(&mut conn).await?;
    /// # Ok(()) }
    /// ```
    pub fn connection(&self) -> Option<ConnectionManager> {
        match self.db.conn()? {
            Conn::Single(manager) => Some(manager),
            Conn::Cluster(_) => None,
        }
    }

    /// In cluster mode ([`cluster_builder`](Self::cluster_builder)), the cluster connection
    /// the adapter uses (a clone shares it); `None` after [`close`](Self::close) and for an
    /// adapter on one server.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let adapter = adapter_redis::RedisAdapter::cluster_builder(["redis://127.0.0.1:7000"])
    ///     .connect()
    ///     .await?;
    /// let mut conn = adapter.cluster_connection().expect("open");
    /// let _: Option<String> = adapter_redis::redis::cmd("GET").arg("k").query_async(&mut conn).await?;
    /// # Ok(()) }
    /// ```
    pub fn cluster_connection(&self) -> Option<ClusterConnection> {
        match self.db.conn()? {
            Conn::Cluster(conn) => Some(conn),
            Conn::Single(_) => None,
        }
    }

    /// The most one call may take before it fails with ADAPTER_CONNECTION_ERROR (see
    /// [`RedisAdapterBuilder::call_timeout`]).
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), auth_core::AdapterError> {
    /// let adapter = adapter_redis::RedisAdapter::connect("redis://127.0.0.1:6379").await?;
    /// assert_eq!(adapter.call_timeout(), adapter_redis::DEFAULT_CALL_TIMEOUT);
    /// # Ok(()) }
    /// ```
    pub fn call_timeout(&self) -> Duration {
        self.db.call_timeout()
    }

    /// Lets go of the connection, for this adapter and every clone of it: calls afterwards
    /// fail with ADAPTER_CONNECTION_ERROR. The connection closes once no call in flight
    /// holds it (a manager shared with the app stays open for the app's own clones).
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), auth_core::AdapterError> {
    /// use auth_core::Adapter;
    /// let adapter = adapter_redis::RedisAdapter::connect("redis://127.0.0.1:6379").await?;
    /// adapter.close().await;
    /// assert!(adapter.get_user("u1").await.is_err());
    /// # Ok(()) }
    /// ```
    pub async fn close(&self) {
        self.db.close();
    }

    /// Prepares the server: checks that it is Redis 7.0 or later (Valkey reports 7.2), loads every script, and
    /// writes the layout version to `<prefix>schema-version` (or checks the one there).
    /// Idempotent; stored data is never touched.
    ///
    /// Errors: MIGRATION_ERROR for an old server or a prefix written by another layout
    /// version; ADAPTER_CONNECTION_ERROR when Redis cannot be reached within the call
    /// timeout.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), auth_core::AdapterError> {
    /// let adapter = adapter_redis::RedisAdapter::connect("redis://127.0.0.1:6379").await?;
    /// adapter.migrate().await?;
    /// adapter.migrate().await?; // harmless
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(skip_all, fields(db.system = "redis", prefix = %self.keys.prefix()))]
    pub async fn migrate(&self) -> AdapterResult<()> {
        let op = Operation::Migrate;
        self.db
            .call(op, async {
                let pipe = self.db.server_checked_and_scripts(op).await?;
                match &self.store {
                    LayoutStore::Native(native) => native.migrate(op, pipe).await,
                    LayoutStore::Cluster(cluster) => cluster.migrate(op).await,
                    // Auth.js keeps no layout version: nothing to write or check. (On a
                    // cluster the scripts are loaded on every primary already.)
                    LayoutStore::Unstorage(_) if pipe.is_empty() => Ok(()),
                    LayoutStore::Unstorage(_) => self.db.query_pipe(op, &pipe).await,
                }
            })
            .await
    }
}

/// `impl Store for RedisAdapter`, from a table of the `Store` methods: each runs on the
/// chosen layout's store, within the call timeout of its operation.
macro_rules! store_on_layout {
    ($($method:ident($($arg:ident: $ty:ty),*) -> $out:ty, $op:ident;)*) => {
        #[async_trait]
        impl Store for RedisAdapter {
            fn backend(&self) -> &'static str {
                "redis"
            }

            $(
                async fn $method(&self, $($arg: $ty),*) -> AdapterResult<$out> {
                    let call = self.store.store().$method($($arg),*);
                    self.db.call(Operation::$op, call).await
                }
            )*
        }
    };
}

store_on_layout! {
    insert_user(user: &User, email_key: Option<&str>) -> String, CreateUser;
    find_user(id: &str) -> Option<User>, GetUser;
    find_user_by_email(email_key: &str) -> Option<User>, GetUserByEmail;
    find_user_by_account(provider: &str, provider_account_id: &str) -> Option<User>, GetUserByAccount;
    merge_user(update: &UserUpdate, email_key: Option<Option<&str>>) -> Option<User>, UpdateUser;
    remove_user(id: &str) -> Option<User>, DeleteUser;
    insert_account(account: &Account) -> (), LinkAccount;
    remove_account(provider: &str, provider_account_id: &str) -> Option<Account>, UnlinkAccount;
    find_account(provider: &str, provider_account_id: &str) -> Option<Account>, GetAccount;
    replace_account_tokens(account: &Account) -> Option<Account>, UpdateAccount;
    find_accounts(user_id: &str) -> Vec<Account>, ListAccounts;
    insert_session(session: &Session) -> (), CreateSession;
    find_session_and_user(session_token: &str, now: DateTime<Utc>) -> Option<(Session, User)>, GetSessionAndUser;
    change_session(update: &SessionUpdate, now: DateTime<Utc>) -> Option<Session>, UpdateSession;
    remove_session(session_token: &str) -> Option<Session>, DeleteSession;
    find_sessions(user_id: &str, now: DateTime<Utc>) -> Vec<Session>, ListSessions;
    remove_sessions(user_id: &str, now: DateTime<Utc>) -> u64, DeleteSessions;
    insert_verification_token(token: &VerificationToken) -> (), CreateVerificationToken;
    take_verification_token(identifier: &str, token: &str) -> Option<VerificationToken>, UseVerificationToken;
    insert_authenticator(authenticator: &Authenticator) -> (), CreateAuthenticator;
    find_authenticator(credential_id: &str) -> Option<Authenticator>, GetAuthenticator;
    find_authenticators(user_id: &str) -> Vec<Authenticator>, ListAuthenticators;
    set_authenticator_counter(credential_id: &str, counter: i64) -> Option<Authenticator>, UpdateAuthenticatorCounter;
    remove_authenticator(credential_id: &str) -> Option<Authenticator>, DeleteAuthenticator;
    remove_expired(now: DateTime<Utc>) -> ExpiredCounts, DeleteExpired;
}
