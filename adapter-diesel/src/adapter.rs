//! [`DieselAdapter`]: connecting, migrating and closing. The [`Store`](auth_core::Store)
//! methods are in `store.rs`.

use std::sync::Arc;
use std::time::Duration;

use auth_core::{AdapterError, ErrorKind, Operation};

use crate::dialect::Dialect;
use crate::options::{DieselAdapterBuilder, Target};
use crate::pool::DieselPool;

/// The auth adapter on PostgreSQL, MariaDB/MySQL or SQLite through diesel-async: one type
/// for all three, the database picked from the URL. Implements
/// [`auth_core::Store`], and so [`auth_core::Adapter`]. Cheap to clone (clones share the
/// pool).
///
/// ```no_run
/// use std::sync::Arc;
/// use adapter_diesel::DieselAdapter;
/// use auth_core::Adapter;
///
/// # async fn run() -> Result<(), auth_core::AdapterError> {
/// let adapter = DieselAdapter::connect("sqlite://auth.db").await?;
/// adapter.migrate().await?;
/// let db: Arc<dyn Adapter> = Arc::new(adapter);
/// assert_eq!(db.get_user("nobody").await?, None);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct DieselAdapter {
    pub(crate) pool: DieselPool,
    /// The bound of one call, checkout included ([`DieselAdapterBuilder::call_timeout`]).
    pub(crate) call_timeout: Duration,
    /// For an in-memory SQLite database: a connection held open for the adapter's life,
    /// since the database lives only as long as some connection to it.
    #[allow(dead_code)] // held, never read
    keeper: Option<Arc<Keeper>>,
    /// Whether the MariaDB/MySQL server is a Galera node, asked once, at the first call
    /// ([`DieselAdapter::galera_node`]).
    #[allow(dead_code)] // a build without `mysql` never asks
    galera: Arc<tokio::sync::OnceCell<bool>>,
}

impl std::fmt::Debug for DieselAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DieselAdapter")
            .field("pool", &self.pool)
            .field("call_timeout", &self.call_timeout)
            .finish_non_exhaustive()
    }
}

/// Keeps an in-memory SQLite database alive.
#[cfg(feature = "sqlite")]
struct Keeper(#[allow(dead_code)] std::sync::Mutex<diesel::SqliteConnection>);
#[cfg(not(feature = "sqlite"))]
struct Keeper;

impl DieselAdapter {
    /// Connects with the default options (see [`DieselAdapterBuilder`]): `postgres://…`,
    /// `mysql://…` / `mariadb://…`, or `sqlite://path`, `sqlite:path`, `sqlite::memory:`,
    /// `sqlite:file:name?mode=memory&cache=shared`.
    ///
    /// Errors: `InvalidInput` for a URL that cannot work (see
    /// [`DieselAdapterBuilder::connect`]); ADAPTER_CONNECTION_ERROR when the database does
    /// not answer within the call timeout.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), auth_core::AdapterError> {
    /// let adapter = adapter_diesel::DieselAdapter::connect("sqlite::memory:").await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn connect(url: &str) -> Result<Self, AdapterError> {
        Self::builder(url).connect().await
    }

    /// Options for an adapter that builds its own pool on `url`: pool size and call
    /// timeout; then [`connect`](DieselAdapterBuilder::connect).
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), auth_core::AdapterError> {
    /// let adapter = adapter_diesel::DieselAdapter::builder("mysql://root@127.0.0.1/app")
    ///     .max_connections(16)
    ///     .connect()
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn builder(url: impl Into<String>) -> DieselAdapterBuilder {
        DieselAdapterBuilder::new(url)
    }

    /// Options for an adapter on a pool the app already has. The same builder as
    /// [`builder`](Self::builder): the call timeout applies (every call, checkout
    /// included, is bounded by it); `max_connections` and `min_connections` do not (the
    /// pool keeps its own settings, and [`connect`](DieselAdapterBuilder::connect) refuses
    /// them with `InvalidInput`: configure the pool you pass instead). `connect` sends
    /// nothing. diesel-async's default recycling runs a query on every checkout;
    /// [`builder`](Self::builder) builds pools that do not. A SQLite pool must enforce
    /// foreign keys (`PRAGMA foreign_keys = ON` on each connection), as the pools this
    /// crate builds do.
    ///
    /// ```no_run
    /// use adapter_diesel::{DieselAdapter, SqliteConnection};
    /// use diesel_async::pooled_connection::deadpool::Pool;
    /// use diesel_async::pooled_connection::AsyncDieselConnectionManager;
    ///
    /// # async fn run() -> Result<(), auth_core::AdapterError> {
    /// let manager = AsyncDieselConnectionManager::<SqliteConnection>::new("file:auth.db");
    /// let pool = Pool::builder(manager).build().expect("pool");
    /// let adapter = DieselAdapter::from_pool(pool)
    ///     .call_timeout(std::time::Duration::from_secs(2))
    ///     .connect()
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn from_pool(pool: impl Into<DieselPool>) -> DieselAdapterBuilder {
        DieselAdapterBuilder::adopting(pool.into())
    }

    /// The pool, to share with the rest of the app.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), auth_core::AdapterError> {
    /// let adapter = adapter_diesel::DieselAdapter::connect("sqlite::memory:").await?;
    /// let pool = adapter.pool().clone();
    /// # Ok(())
    /// # }
    /// ```
    pub fn pool(&self) -> &DieselPool {
        &self.pool
    }

    /// The database this adapter talks to.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), auth_core::AdapterError> {
    /// let adapter = adapter_diesel::DieselAdapter::connect("sqlite::memory:").await?;
    /// assert_eq!(adapter.dialect(), adapter_diesel::Dialect::Sqlite);
    /// # Ok(())
    /// # }
    /// ```
    pub fn dialect(&self) -> Dialect {
        self.pool.dialect()
    }

    /// Closes the pool; calls afterwards fail with ADAPTER_CONNECTION_ERROR.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), auth_core::AdapterError> {
    /// let adapter = adapter_diesel::DieselAdapter::connect("sqlite::memory:").await?;
    /// adapter.close().await;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn close(&self) {
        self.pool.close();
    }

    /// Creates the five tables, their keys and indexes: the pending migrations of the schema
    /// shared with adapter-sqlx and adapter-seaorm (the `auth-sql` crate), recorded in the
    /// shared history `auth_schema_migrations`, so a database one of the three crates
    /// migrated is current for the others. Idempotent.
    ///
    /// Errors: MIGRATION_ERROR (or ADAPTER_CONNECTION_ERROR).
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), auth_core::AdapterError> {
    /// let adapter = adapter_diesel::DieselAdapter::connect("sqlite::memory:").await?;
    /// adapter.migrate().await?;
    /// adapter.migrate().await?; // harmless
    /// # Ok(())
    /// # }
    /// ```
    #[tracing::instrument(skip_all, fields(dialect = self.dialect().name()))]
    pub async fn migrate(&self) -> Result<(), AdapterError> {
        crate::migrate::migrate(&self.pool).await
    }

    /// Where the database stands against the shared schema: the versions its history
    /// records and those [`migrate`](Self::migrate) would apply. Creates nothing.
    ///
    /// Errors: MIGRATION_ERROR when a newer version of the adapters migrated the database;
    /// ADAPTER_CONNECTION_ERROR.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), auth_core::AdapterError> {
    /// let adapter = adapter_diesel::DieselAdapter::connect("sqlite::memory:").await?;
    /// adapter.migrate().await?;
    /// assert!(adapter.schema_status().await?.is_current());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn schema_status(&self) -> Result<crate::SchemaStatus, AdapterError> {
        crate::migrate::status(&self.pool).await
    }

    #[tracing::instrument(name = "connect", skip_all)]
    pub(crate) async fn connect_with(options: DieselAdapterBuilder) -> Result<Self, AdapterError> {
        options.check()?;
        let call_timeout = options.pool.call_timeout;
        let url = match &options.pool.target {
            Target::Url(url) => url,
            Target::Pool(pool) => {
                return Ok(Self {
                    pool: pool.clone(),
                    call_timeout,
                    keeper: None,
                    galera: Arc::default(),
                })
            }
        };
        let op = Operation::Connect;
        let dialect = Dialect::from_url(url).ok_or_else(|| {
            AdapterError::invalid_input(
                op,
                format!(
                    "unsupported URL scheme in {}: adapter-diesel takes postgres://, mysql:// \
                     (or mariadb://) and sqlite: URLs",
                    auth_core::redact_url(url)
                ),
            )
        })?;
        if !dialect.enabled() {
            return Err(AdapterError::invalid_input(
                op,
                format!(
                    "{} URLs need the cargo feature `{}` of adapter-diesel, which is off in \
                     this build",
                    dialect.name(),
                    dialect.feature()
                ),
            ));
        }
        let max = options.pool.max();
        let (pool, keeper) = open(dialect, url, max, call_timeout)?;
        let adapter = Self {
            pool,
            call_timeout,
            keeper,
            galera: Arc::default(),
        };
        let min = options.pool.min_connections.unwrap_or(0);
        adapter.hold(min.clamp(1, max)).await?;
        tracing::debug!(dialect = dialect.name(), "connected");
        Ok(adapter)
    }

    /// Proves the database answers, and warms the pool up to `n` connections: `n`
    /// checkouts held at once (each within the pool's timeouts), then handed back.
    async fn hold(&self, n: u32) -> Result<(), AdapterError> {
        let op = Operation::Connect;
        macro_rules! hold {
            ($pool:expr) => {{
                // An in-memory SQLite pool has one connection, whatever was asked.
                let n = usize::try_from(n)
                    .unwrap_or(usize::MAX)
                    .min($pool.status().max_size);
                let mut held = Vec::new();
                for _ in 0..n {
                    held.push(crate::pool::checkout($pool, op).await?);
                }
                drop(held);
            }};
        }
        match &self.pool {
            #[cfg(feature = "postgres")]
            DieselPool::Postgres(pool) => hold!(pool),
            #[cfg(feature = "mysql")]
            DieselPool::MySql(pool) => hold!(pool),
            #[cfg(feature = "sqlite")]
            DieselPool::Sqlite(pool) => hold!(pool),
        }
        Ok(())
    }
}

/// Builds the pool (and the keeper of an in-memory SQLite database) for a URL, after
/// reading the URL with the driver's own parser: one it cannot read is `InvalidInput`,
/// before any I/O.
#[allow(unused_variables)]
fn open(
    dialect: Dialect,
    url: &str,
    max: u32,
    timeout: Duration,
) -> Result<(DieselPool, Option<Arc<Keeper>>), AdapterError> {
    let max = usize::try_from(max).unwrap_or(usize::MAX);
    match dialect {
        #[cfg(feature = "postgres")]
        Dialect::Postgres => Ok((
            DieselPool::Postgres(crate::pool::build(
                crate::connect::check_postgres_url(url)?,
                max,
                timeout,
                crate::connect::postgres_setup(timeout),
            )?),
            None,
        )),
        #[cfg(feature = "mysql")]
        Dialect::MySql => {
            let given = url;
            let url = crate::connect::mysql_url(url);
            crate::connect::check_mysql_url(given, &url)?;
            Ok((
                DieselPool::MySql(crate::pool::build(
                    &url,
                    max,
                    timeout,
                    crate::connect::mysql_setup(),
                )?),
                None,
            ))
        }
        #[cfg(feature = "sqlite")]
        Dialect::Sqlite => {
            let target = crate::connect::sqlite_target(url);
            crate::connect::check_sqlite_uri(url, &target.url)?;
            let keeper = if target.memory {
                let conn = crate::connect::sqlite_establish(&target.url, timeout, false)
                    .map_err(|err| crate::error::connection(Operation::Connect, err))?;
                Some(Arc::new(Keeper(std::sync::Mutex::new(conn))))
            } else {
                None
            };
            // One connection for a shared-cache in-memory database: its table locks answer
            // SQLITE_LOCKED at once to a second writer, which no busy timeout waits out.
            let max = if target.memory { 1 } else { max };
            let setup = crate::connect::sqlite_setup(timeout, !target.memory);
            Ok((
                DieselPool::Sqlite(crate::pool::build(&target.url, max, timeout, setup)?),
                keeper,
            ))
        }
        #[allow(unreachable_patterns)]
        _ => Err(AdapterError::from_driver(
            Operation::Connect,
            ErrorKind::InvalidInput,
            std::io::Error::other("this dialect's feature is off"),
        )),
    }
}

#[cfg(feature = "mysql")]
impl DieselAdapter {
    /// Whether the server behind `conn` is a Galera node (`@@wsrep_on`; MySQL has no such
    /// variable, which means no), asked once per adapter. On a Galera node each write
    /// transaction checks that it is still open before it commits
    /// ([`still_open`](crate::store::still_open)).
    pub(crate) async fn galera_node(&self, conn: &mut crate::pool::MysqlConnection) -> bool {
        use diesel_async::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct WsrepOn {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            galera: i64,
        }
        // A server that answers with an error has no such variable (MySQL): no Galera, for
        // good. Any other failure (the connection) is not cached: the next call asks again.
        let asked = self
            .galera
            .get_or_try_init(|| async {
                match diesel::sql_query(auth_sql::errors::GALERA_NODE_QUERY)
                    .get_result::<WsrepOn>(conn)
                    .await
                {
                    Ok(row) => Ok(row.galera == 1),
                    Err(diesel::result::Error::DatabaseError(..)) => Ok(false),
                    Err(err) => Err(err),
                }
            })
            .await;
        asked.is_ok_and(|on| *on)
    }
}
