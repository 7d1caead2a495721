//! [`DieselAdapter`]: connecting, migrating and closing. The [`Store`](auth_core::Store)
//! methods are in `store.rs`.

use std::sync::Arc;
use std::time::Duration;

use auth_core::{AdapterError, ErrorKind, Operation};

use crate::dialect::Dialect;
use crate::options::DieselAdapterBuilder;
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
    /// For an in-memory SQLite database: a connection held open for the adapter's life,
    /// since the database lives only as long as some connection to it.
    #[allow(dead_code)] // held, never read
    keeper: Option<Arc<Keeper>>,
}

impl std::fmt::Debug for DieselAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DieselAdapter")
            .field("pool", &self.pool)
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
    /// Errors: ADAPTER_CONNECTION_ERROR when the database does not answer within the pool
    /// timeout.
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

    /// Options: pool size and pool timeout.
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

    /// An adapter on a pool the app already has. The pool's own settings stay as they are
    /// (diesel-async's default recycling runs a query on every checkout;
    /// [`connect`](Self::connect) builds pools that do not). A SQLite pool must enforce
    /// foreign keys (`PRAGMA foreign_keys = ON` on each connection), as the pools this
    /// crate builds do. A call on a server is bounded by the pool's wait timeout
    /// ([`DEFAULT_ACQUIRE_TIMEOUT`](crate::DEFAULT_ACQUIRE_TIMEOUT) if it has none).
    ///
    /// ```no_run
    /// use adapter_diesel::{DieselAdapter, DieselPool, SqliteConnection};
    /// use diesel_async::pooled_connection::deadpool::Pool;
    /// use diesel_async::pooled_connection::AsyncDieselConnectionManager;
    ///
    /// let manager = AsyncDieselConnectionManager::<SqliteConnection>::new("file:auth.db");
    /// let pool = Pool::builder(manager).build().expect("pool");
    /// let adapter = DieselAdapter::from_pool(pool);
    /// ```
    pub fn from_pool(pool: impl Into<DieselPool>) -> Self {
        Self {
            pool: pool.into(),
            keeper: None,
        }
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

    /// Creates the five tables, their keys and indexes with `diesel_migrations` and the
    /// migrations embedded for the dialect (recorded in `__diesel_schema_migrations`).
    /// Idempotent, and every statement is `CREATE … IF NOT EXISTS`, so a database that
    /// adapter-sqlx migrated (with its default prefix `auth_`) is left as it is, and the
    /// other way round.
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
        crate::migrate::run(&self.pool).await
    }

    #[tracing::instrument(name = "connect", skip_all)]
    pub(crate) async fn connect_with(options: DieselAdapterBuilder) -> Result<Self, AdapterError> {
        let op = Operation::Connect;
        let dialect = Dialect::from_url(&options.url).ok_or_else(|| {
            AdapterError::invalid_input(
                op,
                format!(
                    "unsupported URL scheme in {}: adapter-diesel takes postgres://, mysql:// \
                     (or mariadb://) and sqlite: URLs",
                    auth_core::redact_url(&options.url)
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
        let timeout = options.acquire_timeout;
        let (pool, keeper) = open(dialect, &options.url, options.max_connections, timeout)?;
        let adapter = Self { pool, keeper };
        adapter.ping().await?;
        tracing::debug!(dialect = dialect.name(), "connected");
        Ok(adapter)
    }

    /// Proves the database answers: one checkout, within the pool timeout.
    async fn ping(&self) -> Result<(), AdapterError> {
        let op = Operation::Connect;
        match &self.pool {
            #[cfg(feature = "postgres")]
            DieselPool::Postgres(pool) => drop(crate::pool::checkout(pool, op).await?),
            #[cfg(feature = "mysql")]
            DieselPool::Mysql(pool) => drop(crate::pool::checkout(pool, op).await?),
            #[cfg(feature = "sqlite")]
            DieselPool::Sqlite(pool) => drop(crate::pool::checkout(pool, op).await?),
        }
        Ok(())
    }
}

/// Builds the pool (and the keeper of an in-memory SQLite database) for a URL.
#[allow(unused_variables)]
fn open(
    dialect: Dialect,
    url: &str,
    max: usize,
    timeout: Duration,
) -> Result<(DieselPool, Option<Arc<Keeper>>), AdapterError> {
    match dialect {
        #[cfg(feature = "postgres")]
        Dialect::Postgres => Ok((
            DieselPool::Postgres(crate::pool::build(
                url,
                max,
                timeout,
                crate::connect::postgres_setup(timeout),
            )?),
            None,
        )),
        #[cfg(feature = "mysql")]
        Dialect::Mysql => {
            let url = crate::connect::mysql_url(url);
            Ok((
                DieselPool::Mysql(crate::pool::build(
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
