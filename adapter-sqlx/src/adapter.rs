//! [`SqlxAdapter`]: the type, connecting and migrating. Its [`Store`](auth_core::Store)
//! implementation is in `store.rs`. What differs between layouts beyond their statement text
//! is small and read from the statements ([`Ids`], [`Statements::binds_email_key`]) or the
//! adapter ([`Schema`]).

use std::sync::{Arc, RwLock};
use std::time::Duration;

use auth_core::{AdapterError, Operation};

use sqlx::AssertSqlSafe;

use crate::dialect::{Dialect, Statements};
use crate::layout::Layout;
use crate::options::{SqlxAdapterBuilder, Target};
use crate::pool::{self, with_pool, Pools, SqlxPool};
use crate::replicas::{ReplicaStatus, Replicas};
use crate::{authjs, error, migrate};

/// The auth adapter on PostgreSQL, MySQL/MariaDB or SQLite, one type for all three: the
/// database is picked from the URL when it connects, the tables from the
/// [`Layout`] (this crate's own by default, or an Auth.js app's). Cheap to clone (clones
/// share the pool).
///
/// ```no_run
/// use std::sync::{Arc, RwLock};
/// use adapter_sqlx::SqlxAdapter;
/// use auth_core::Adapter;
///
/// # async fn run() -> Result<(), auth_core::AdapterError> {
/// let adapter = SqlxAdapter::connect("sqlite://auth.db?mode=rwc").await?;
/// adapter.migrate().await?;
/// let db: Arc<dyn Adapter> = Arc::new(adapter);
/// assert_eq!(db.get_user("nobody").await?, None);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct SqlxAdapter {
    pub(crate) pools: Pools,
    /// How long one call may take, getting its connection included.
    pub(crate) call_timeout: Duration,
    /// The statements, swapped whole when the Auth.js layouts' app-added columns are
    /// discovered again (at the end of `migrate`); clones share them.
    pub(crate) sql: Arc<RwLock<Arc<Statements>>>,
    pub(crate) dialect: Dialect,
    pub(crate) layout: Layout,
    /// The name of the backend in errors and spans: the dialect's natively, else the layout's.
    pub(crate) backend: &'static str,
    /// The table prefix; empty for the Auth.js layouts, whose table names are fixed.
    pub(crate) prefix: Arc<str>,
    pub(crate) schema: Schema,
    /// The read replicas, when configured ([`SqlxAdapterBuilder::read_replica`]).
    pub(crate) replicas: Option<Arc<Replicas>>,
}

/// How [`SqlxAdapter::migrate`] creates a layout's tables.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Schema {
    /// The shared migrations of auth-sql, recorded in `<prefix>schema_migrations`, the
    /// history adapter-diesel and adapter-seaorm keep too (native).
    Migrations,
    /// One multi-statement text, idempotent by itself (`IF NOT EXISTS`), with no bookkeeping
    /// table (the Auth.js layouts: their tables as Auth.js ships them, and our additions).
    Script(&'static str),
}

impl SqlxAdapter {
    /// Connects with the default options (see [`SqlxAdapterBuilder`]): `postgres://…`,
    /// `mysql://…` / `mariadb://…` or `sqlite:…` (e.g. `sqlite://auth.db?mode=rwc`,
    /// `sqlite::memory:`).
    ///
    /// Errors: `InvalidInput` for a URL that cannot work (see
    /// [`SqlxAdapterBuilder::connect`]); ADAPTER_CONNECTION_ERROR when the database does not
    /// answer within the call timeout.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), auth_core::AdapterError> {
    /// let adapter = adapter_sqlx::SqlxAdapter::connect("sqlite::memory:").await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn connect(url: &str) -> Result<Self, AdapterError> {
        Self::builder(url).connect().await
    }

    /// Options for an adapter that opens its own pool on `url`: pool size, call timeout,
    /// table prefix, layout; then [`connect`](SqlxAdapterBuilder::connect).
    ///
    /// ```
    /// let options = adapter_sqlx::SqlxAdapter::builder("sqlite::memory:").max_connections(4);
    /// ```
    pub fn builder(url: impl Into<String>) -> SqlxAdapterBuilder {
        SqlxAdapterBuilder::new(url)
    }

    /// Options for an adapter on a pool the application already has: a `PgPool`,
    /// `MySqlPool` or `SqlitePool`. The same builder as [`builder`](Self::builder): table
    /// prefix, layout and call timeout apply; `max_connections` and `min_connections` do
    /// not (the pool keeps its own options, and [`connect`](SqlxAdapterBuilder::connect)
    /// refuses them with `InvalidInput`: configure the pool you pass instead).
    /// `connect` asks MySQL/MariaDB for its version (to pick the dialect); nothing else is
    /// sent.
    ///
    /// sqlx pools ping a connection before handing it out (`test_before_acquire`, on by
    /// default), which costs one round trip per call; turn it off on the pool if the hot
    /// path matters.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), auth_core::AdapterError> {
    /// use adapter_sqlx::{sqlx::SqlitePool, SqlxAdapter};
    /// let pool = SqlitePool::connect("sqlite::memory:").await.expect("pool");
    /// let adapter = SqlxAdapter::from_pool(pool)
    ///     .table_prefix("tenant_7_")
    ///     .connect()
    ///     .await?;
    /// adapter.migrate().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn from_pool(pool: impl Into<SqlxPool>) -> SqlxAdapterBuilder {
        SqlxAdapterBuilder::adopting(pool.into())
    }

    /// Connects for `options.layout`, refusing options that cannot work (before any I/O)
    /// and a database the layout does not exist on.
    #[tracing::instrument(
        name = "connect",
        skip_all,
        fields(layout = options.layout.name(), prefix = %options.prefix())
    )]
    pub(crate) async fn connect_with(options: SqlxAdapterBuilder) -> Result<Self, AdapterError> {
        options.check()?;
        let layout = options.layout;
        let (pools, dialect, galera) = match &options.pool.target {
            Target::Url(url) => crate::connect::open(url, &options).await?,
            Target::Pool(pool) => pool::adopt(pool.0.clone(), options.pool.call_timeout).await?,
        };
        tracing::debug!(dialect = dialect.name(), "connected");
        let (sql, schema, prefix) = if layout == Layout::Native {
            let sql = Statements::new(dialect, options.prefix()).on_galera(galera);
            (sql, Schema::Migrations, options.prefix())
        } else {
            let Some((sql, script)) = authjs::layout(layout, dialect, &Default::default()) else {
                if let Target::Url(_) = options.pool.target {
                    // Our own pool: nobody else will close it.
                    with_pool!(&pools, |source: Db| source.close().await);
                }
                return Err(AdapterError::invalid_input(
                    Operation::Connect,
                    format!(
                        "the {} layout does not exist on {}",
                        layout.name(),
                        dialect.name()
                    ),
                ));
            };
            (sql.on_galera(galera), Schema::Script(script), "")
        };
        let adapter = Self {
            pools,
            call_timeout: options.pool.call_timeout,
            sql: Arc::new(RwLock::new(Arc::new(sql))),
            dialect,
            layout,
            backend: if layout == Layout::Native {
                dialect.name()
            } else {
                layout.name()
            },
            prefix: prefix.into(),
            schema,
            replicas: None,
        };
        adapter.discover_columns(Operation::Connect).await?;
        if options.replicas.is_empty() {
            return Ok(adapter);
        }
        match adapter.with_replicas(&options) {
            Ok(adapter) => Ok(adapter),
            Err(err) => {
                if let Target::Url(_) = options.pool.target {
                    adapter.close().await;
                }
                Err(err)
            }
        }
    }

    /// This adapter with the read replicas of `options` (PostgreSQL only), their pools
    /// opened lazily and their probe started.
    fn with_replicas(&self, options: &SqlxAdapterBuilder) -> Result<Self, AdapterError> {
        if self.dialect != Dialect::Postgres {
            return Err(AdapterError::invalid_input(
                Operation::Connect,
                format!(
                    "read replicas are PostgreSQL only, not {}",
                    self.dialect.name()
                ),
            ));
        }
        let max_lag = options.max_replica_lag.unwrap_or_default();
        let budget = self.call_timeout / 3;
        let mut nodes = Vec::with_capacity(options.replicas.len());
        for url in &options.replicas {
            let pools = crate::connect::open_replica(url, options.pool.max(), budget)?;
            let replica = Self {
                pools,
                call_timeout: budget,
                replicas: None,
                ..self.clone()
            };
            nodes.push((url.clone(), replica));
        }
        Ok(Self {
            replicas: Some(Replicas::start(self.clone(), nodes, max_lag)),
            ..self.clone()
        })
    }

    /// The read replicas, as the last probe found them, in the order they were given;
    /// empty without replicas. For health checks and dashboards: which replica is
    /// serving, how far behind it is, how many reads it answered.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), auth_core::AdapterError> {
    /// use std::time::Duration;
    /// let adapter = adapter_sqlx::SqlxAdapter::builder("postgres://app@primary/auth")
    ///     .read_replica("postgres://app@replica/auth")
    ///     .max_replica_lag(Duration::from_secs(1))
    ///     .connect()
    ///     .await?;
    /// for replica in adapter.replica_status() {
    ///     println!("{}: lag {:?}, usable {}", replica.url, replica.lag, replica.usable);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn replica_status(&self) -> Vec<ReplicaStatus> {
        self.replicas
            .as_ref()
            .map(|replicas| replicas.status())
            .unwrap_or_default()
    }

    /// The statements in use.
    pub(crate) fn sql(&self) -> Arc<Statements> {
        // A poisoned lock still holds a whole `Arc` (it is only ever replaced whole).
        match self.sql.read() {
            Ok(sql) => Arc::clone(&sql),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Auth.js layouts: reads the columns the app added to its users, accounts and
    /// sessions tables from the catalog and renders the statements for them. Native: nothing.
    async fn discover_columns(&self, op: Operation) -> Result<(), AdapterError> {
        if self.layout == Layout::Native {
            return Ok(());
        }
        let query = authjs::catalog_query(self.layout, self.dialect);
        let rows = crate::lease::with_conn!(self, op, |conn: Db| {
            sqlx::query_as::<_, (String, String, String)>(AssertSqlSafe(query.clone()))
                .fetch_all(&mut *conn)
                .await
                .map_err(|e| error::map(op, e))
        })?;
        let columns = authjs::from_catalog(self.layout, self.dialect, op, rows)?;
        let Some((sql, _)) = authjs::layout(self.layout, self.dialect, &columns) else {
            return Ok(());
        };
        let galera = self.sql().transaction_check.is_some();
        let sql = Arc::new(sql.on_galera(galera));
        match self.sql.write() {
            Ok(mut slot) => *slot = sql,
            Err(poisoned) => *poisoned.into_inner() = sql,
        }
        Ok(())
    }

    /// Creates the tables, keys and indexes of the layout. Idempotent: data is kept.
    /// Native: the pending migrations of the schema shared with adapter-diesel and
    /// adapter-seaorm (the `auth-sql` crate), recorded in `<prefix>schema_migrations`, so a
    /// database one of the three crates migrated is current for the others. Auth.js
    /// layouts: the tables as Auth.js ships them, when missing, and the indexes and foreign
    /// keys listed in the README (no bookkeeping table).
    /// Not bounded by the call timeout: creating tables may take longer than a query.
    ///
    /// Errors: MIGRATION_ERROR (or ADAPTER_CONNECTION_ERROR).
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), auth_core::AdapterError> {
    /// let adapter = adapter_sqlx::SqlxAdapter::connect("sqlite::memory:").await?;
    /// adapter.migrate().await?; // at every start
    /// # Ok(())
    /// # }
    /// ```
    #[tracing::instrument(skip_all, fields(dialect = self.dialect.name(), layout = self.layout.name()))]
    pub async fn migrate(&self) -> Result<(), AdapterError> {
        let op = Operation::Migrate;
        with_pool!(&self.pools, |source: Db| {
            let mut lease = source.lease(op).await?;
            let conn = lease.conn();
            let result = match self.schema {
                Schema::Migrations => auth_sql::schema::migrate(
                    &mut migrate::SqlxMigration(&mut *conn),
                    self.dialect,
                    &self.prefix,
                )
                .await
                .map(drop)
                .map_err(error::map_migrate),
                // One multi-statement text: PostgreSQL runs it as one implicit transaction.
                Schema::Script(script) => sqlx::raw_sql(AssertSqlSafe(script))
                    .execute(&mut *conn)
                    .await
                    .map(drop)
                    .map_err(|e| error::map(op, e)),
            };
            lease.settle(&result);
            result
        })?;
        // The tables exist now: the columns the app added to them are known.
        self.discover_columns(Operation::Migrate).await
    }

    /// Where the database stands against the shared schema (native layout): the versions
    /// its history records and those [`migrate`](Self::migrate) would apply. Creates
    /// nothing. The Auth.js layouts keep no history: always current.
    ///
    /// Errors: MIGRATION_ERROR when the database was migrated by a newer version of the
    /// adapters; ADAPTER_CONNECTION_ERROR.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), auth_core::AdapterError> {
    /// let adapter = adapter_sqlx::SqlxAdapter::connect("sqlite::memory:").await?;
    /// assert!(!adapter.schema_status().await?.is_current());
    /// adapter.migrate().await?;
    /// assert!(adapter.schema_status().await?.is_current());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn schema_status(&self) -> Result<auth_sql::schema::SchemaStatus, AdapterError> {
        let op = Operation::Migrate;
        if let Schema::Script(_) = self.schema {
            return Ok(auth_sql::schema::SchemaStatus {
                applied: Vec::new(),
                pending: Vec::new(),
            });
        }
        with_pool!(&self.pools, |source: Db| {
            let mut lease = source.lease(op).await?;
            let result = auth_sql::schema::status(
                &mut migrate::SqlxMigration(&mut *lease.conn()),
                self.dialect,
                &self.prefix,
            )
            .await
            .map_err(error::map_migrate);
            lease.settle(&result);
            result
        })
    }

    /// The database this adapter talks to.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), auth_core::AdapterError> {
    /// let adapter = adapter_sqlx::SqlxAdapter::connect("sqlite::memory:").await?;
    /// assert_eq!(adapter.dialect(), adapter_sqlx::Dialect::Sqlite);
    /// # Ok(())
    /// # }
    /// ```
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Whose tables this adapter reads and writes.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), auth_core::AdapterError> {
    /// let adapter = adapter_sqlx::SqlxAdapter::connect("sqlite::memory:").await?;
    /// assert_eq!(adapter.layout(), adapter_sqlx::Layout::Native);
    /// # Ok(())
    /// # }
    /// ```
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// The prefix of every table name, e.g. `auth_` for `auth_users`; empty for the Auth.js
    /// layouts, whose table names are fixed.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), auth_core::AdapterError> {
    /// let adapter = adapter_sqlx::SqlxAdapter::connect("sqlite::memory:").await?;
    /// assert_eq!(adapter.table_prefix(), "auth_");
    /// # Ok(())
    /// # }
    /// ```
    pub fn table_prefix(&self) -> &str {
        &self.prefix
    }

    /// Closes the pool: waits for connections in use to come back and closes them all.
    /// Calls afterwards fail with ADAPTER_CONNECTION_ERROR.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), auth_core::AdapterError> {
    /// let adapter = adapter_sqlx::SqlxAdapter::connect("sqlite::memory:").await?;
    /// adapter.close().await;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn close(&self) {
        if let Some(replicas) = &self.replicas {
            replicas.close().await;
        }
        with_pool!(&self.pools, |source: Db| source.close().await)
    }
}

/// Shows the layout, the database and the pool's size, never the URL (it may hold a
/// password).
impl std::fmt::Debug for SqlxAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (size, idle) = with_pool!(&self.pools, |source: Db| source.sizes());
        f.debug_struct("SqlxAdapter")
            .field("layout", &self.layout)
            .field("dialect", &self.dialect)
            .field("table_prefix", &self.prefix)
            .field("connections", &size)
            .field("idle", &idle)
            .field("replicas", &self.replicas)
            .finish()
    }
}
