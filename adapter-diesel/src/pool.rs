//! The pool of each database: diesel-async's deadpool manager over the driver's own
//! connections, how each connection is set up, and how a checkout is handed back.
//!
//! **Recycling.** diesel-async's manager runs `SELECT 1` on every checkout by default
//! (`RecyclingMethod::Verified`): one extra round trip per call. This crate builds its pools
//! with `RecyclingMethod::Fast`, which only checks locally that no transaction was left
//! open, so a call costs exactly its own statements. Broken connections are still
//! discarded: the manager drops a PostgreSQL connection whose socket is closed before
//! handing it out, and [`settle`] takes any connection out of the pool after an error that
//! is (or may be) a connection failure, so the next checkout makes a fresh one.
//!
//! **Timeout.** A statement on an open connection to a server that stopped answering (paused,
//! cut off by a firewall) would wait forever: neither tokio-postgres nor mysql_async has a
//! read timeout. So every call, on every database, is [`bounded`] by the adapter's call
//! timeout ([`DieselAdapterBuilder::call_timeout`](crate::DieselAdapterBuilder::call_timeout)),
//! checkout and connecting included; past it the call fails with ADAPTER_CONNECTION_ERROR.
//! The connection of a call cut off that way is mid-statement: its [`Lease`] takes it out
//! of the pool instead of handing it back, so no later call inherits an unanswered
//! statement (a SQLite statement already running on its blocking thread finishes there,
//! and its connection is closed after it).

use std::time::Duration;

use auth_core::{AdapterError, ErrorKind, Operation};
use deadpool::managed::{Object, Pool, PoolError};
use diesel::result::Error as DieselError;
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, PoolError as ManagerError, RecyclingMethod,
};

use crate::dialect::Dialect;
use crate::error;

#[cfg(not(any(feature = "postgres", feature = "mysql", feature = "sqlite")))]
compile_error!("adapter-diesel needs at least one of the features `postgres`, `mysql`, `sqlite`");

/// A PostgreSQL connection: diesel-async over tokio-postgres (no libpq).
#[cfg(feature = "postgres")]
pub type PgConnection = diesel_async::AsyncPgConnection;
/// A MariaDB/MySQL connection: diesel-async over mysql_async (no libmysqlclient).
#[cfg(feature = "mysql")]
pub type MysqlConnection = diesel_async::AsyncMysqlConnection;
/// A SQLite connection: diesel's own, run on tokio's blocking threads.
#[cfg(feature = "sqlite")]
pub type SqliteConnection =
    diesel_async::sync_connection_wrapper::SyncConnectionWrapper<diesel::SqliteConnection>;

/// diesel-async's deadpool pool of connections of type `C`.
pub type DeadPool<C> = Pool<AsyncDieselConnectionManager<C>>;

/// The pool of one adapter: a diesel-async deadpool pool of one database.
///
/// Build one yourself to share it with the rest of an app, and hand it to
/// [`DieselAdapter::from_pool`](crate::DieselAdapter::from_pool):
///
/// ```no_run
/// use adapter_diesel::{DieselAdapter, DieselPool, SqliteConnection};
/// use diesel_async::pooled_connection::deadpool::Pool;
/// use diesel_async::pooled_connection::AsyncDieselConnectionManager;
///
/// # async fn run() -> Result<(), auth_core::AdapterError> {
/// let manager = AsyncDieselConnectionManager::<SqliteConnection>::new("file:auth.db");
/// let pool = Pool::builder(manager).max_size(4).build().expect("pool");
/// let adapter = DieselAdapter::from_pool(DieselPool::from(pool)).connect().await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub enum DieselPool {
    /// PostgreSQL.
    #[cfg(feature = "postgres")]
    Postgres(DeadPool<PgConnection>),
    /// MariaDB or MySQL.
    #[cfg(feature = "mysql")]
    MySql(DeadPool<MysqlConnection>),
    /// SQLite.
    #[cfg(feature = "sqlite")]
    Sqlite(DeadPool<SqliteConnection>),
}

impl std::fmt::Debug for DieselPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let status = match self {
            #[cfg(feature = "postgres")]
            DieselPool::Postgres(pool) => pool.status(),
            #[cfg(feature = "mysql")]
            DieselPool::MySql(pool) => pool.status(),
            #[cfg(feature = "sqlite")]
            DieselPool::Sqlite(pool) => pool.status(),
        };
        f.debug_struct("DieselPool")
            .field("dialect", &self.dialect().name())
            .field("size", &status.size)
            .field("max_size", &status.max_size)
            .finish()
    }
}

impl DieselPool {
    /// The database this pool talks to.
    ///
    /// ```no_run
    /// # use adapter_diesel::{Dialect, DieselPool};
    /// # fn check(pool: DieselPool) {
    /// assert_eq!(pool.dialect(), Dialect::Sqlite);
    /// # }
    /// ```
    pub fn dialect(&self) -> Dialect {
        match self {
            #[cfg(feature = "postgres")]
            DieselPool::Postgres(_) => Dialect::Postgres,
            #[cfg(feature = "mysql")]
            DieselPool::MySql(_) => Dialect::MySql,
            #[cfg(feature = "sqlite")]
            DieselPool::Sqlite(_) => Dialect::Sqlite,
        }
    }

    /// Closes the pool: idle connections are dropped and later checkouts fail.
    pub(crate) fn close(&self) {
        match self {
            #[cfg(feature = "postgres")]
            DieselPool::Postgres(pool) => pool.close(),
            #[cfg(feature = "mysql")]
            DieselPool::MySql(pool) => pool.close(),
            #[cfg(feature = "sqlite")]
            DieselPool::Sqlite(pool) => pool.close(),
        }
    }
}

#[cfg(feature = "postgres")]
impl From<DeadPool<PgConnection>> for DieselPool {
    fn from(pool: DeadPool<PgConnection>) -> Self {
        DieselPool::Postgres(pool)
    }
}

#[cfg(feature = "mysql")]
impl From<DeadPool<MysqlConnection>> for DieselPool {
    fn from(pool: DeadPool<MysqlConnection>) -> Self {
        DieselPool::MySql(pool)
    }
}

#[cfg(feature = "sqlite")]
impl From<DeadPool<SqliteConnection>> for DieselPool {
    fn from(pool: DeadPool<SqliteConnection>) -> Self {
        DieselPool::Sqlite(pool)
    }
}

/// Runs `$body` (an expression giving a `diesel::QueryResult`) once per enabled database,
/// with `$conn` bound to a checked-out `&mut` connection of `$adapter`'s pool, `$s` to the
/// dialect's schema module and `$Stamp` to its timestamp type, then hands the connection
/// back through [`settle`]: every Store method is written once in diesel's DSL and compiled
/// per database. The whole call, checkout included, is [`bounded`] by the adapter's call
/// timeout.
///
/// The second form takes two bodies: `returning` for PostgreSQL and SQLite (which have
/// `RETURNING` clauses in diesel) and `mysql` for MariaDB/MySQL (which do not). The third
/// takes one body per database, for what differs on each (a locking read is
/// `SELECT … FOR UPDATE` on the servers and a `BEGIN IMMEDIATE` transaction on SQLite).
macro_rules! with_conn {
    ($adapter:expr, $op:expr, |$conn:ident, $s:ident, $Stamp:ident| $body:expr) => {
        $crate::pool::with_conn!($adapter, $op, |$conn, $s, $Stamp| returning: $body, mysql: $body)
    };
    (
        $adapter:expr, $op:expr, |$conn:ident, $s:ident, $Stamp:ident|
        returning: $returning:expr, mysql: $mysql:expr
    ) => {
        $crate::pool::with_conn!(
            $adapter, $op, |$conn, $s, $Stamp|
            postgres: $returning, mysql: $mysql, sqlite: $returning
        )
    };
    (
        $adapter:expr, $op:expr, |$conn:ident, $s:ident, $Stamp:ident|
        postgres: $postgres:expr, mysql: $mysql:expr, sqlite: $sqlite:expr
    ) => {
        match &$adapter.pool {
            #[cfg(feature = "postgres")]
            $crate::pool::DieselPool::Postgres(pool) => {
                #[allow(unused_imports)]
                use $crate::schema::postgres as $s;
                #[allow(dead_code)]
                type $Stamp = ::chrono::DateTime<::chrono::Utc>;
                $crate::pool::bounded($adapter.call_timeout, $op, async {
                    let mut object = $crate::pool::lease(pool, $op).await?;
                    let result = {
                        let $conn: &mut $crate::pool::PgConnection = &mut object;
                        async { $postgres }.await
                    };
                    $crate::pool::settle(pool, object, $op, result).await
                })
                .await
            }
            #[cfg(feature = "mysql")]
            $crate::pool::DieselPool::MySql(pool) => {
                #[allow(unused_imports)]
                use $crate::schema::mysql as $s;
                #[allow(dead_code)]
                type $Stamp = ::chrono::NaiveDateTime;
                $crate::pool::bounded($adapter.call_timeout, $op, async {
                    let mut object = $crate::pool::lease(pool, $op).await?;
                    let result = {
                        let $conn: &mut $crate::pool::MysqlConnection = &mut object;
                        let galera = $adapter.galera_node($conn).await;
                        $crate::store::GALERA_NODE.scope(galera, async { $mysql }).await
                    };
                    $crate::pool::settle(pool, object, $op, result).await
                })
                .await
            }
            #[cfg(feature = "sqlite")]
            $crate::pool::DieselPool::Sqlite(pool) => {
                #[allow(unused_imports)]
                use $crate::schema::sqlite as $s;
                #[allow(dead_code)]
                type $Stamp = i64;
                $crate::pool::bounded($adapter.call_timeout, $op, async {
                    let mut object = $crate::pool::lease(pool, $op).await?;
                    let result = {
                        let $conn: &mut $crate::pool::SqliteConnection = &mut object;
                        async { $sqlite }.await
                    };
                    $crate::pool::settle(pool, object, $op, result).await
                })
                .await
            }
        }
    };
}
pub(crate) use with_conn;

/// The connection types this crate pools, with what [`settle`] needs of them.
pub(crate) trait Pooled: diesel_async::AsyncConnection + Send + 'static {
    /// The dialect of this connection type.
    const DIALECT: Dialect;
}

#[cfg(feature = "postgres")]
impl Pooled for PgConnection {
    const DIALECT: Dialect = Dialect::Postgres;
}
#[cfg(feature = "mysql")]
impl Pooled for MysqlConnection {
    const DIALECT: Dialect = Dialect::MySql;
}
#[cfg(feature = "sqlite")]
impl Pooled for SqliteConnection {
    const DIALECT: Dialect = Dialect::Sqlite;
}

/// A connection from the pool, or ADAPTER_CONNECTION_ERROR (pool timeout, refused,
/// closed) with the driver's cause as the source.
pub(crate) async fn checkout<C>(
    pool: &DeadPool<C>,
    op: Operation,
) -> Result<Object<AsyncDieselConnectionManager<C>>, AdapterError>
where
    C: Pooled,
    AsyncDieselConnectionManager<C>: deadpool::managed::Manager<Type = C, Error = ManagerError>,
{
    pool.get().await.map_err(|err| pool_error(op, err))
}

/// A checked-out connection that goes back to the pool only through [`settle`]: dropped
/// any other way (its call was cancelled or timed out mid-statement) it is taken out of
/// the pool and closed, never handed to another call.
pub(crate) struct Lease<C: Pooled>
where
    AsyncDieselConnectionManager<C>: deadpool::managed::Manager<Type = C, Error = ManagerError>,
{
    object: Option<Object<AsyncDieselConnectionManager<C>>>,
}

impl<C: Pooled> Lease<C>
where
    AsyncDieselConnectionManager<C>: deadpool::managed::Manager<Type = C, Error = ManagerError>,
{
    /// The connection, disarmed: dropping it now hands it back to the pool.
    fn release(mut self) -> Object<AsyncDieselConnectionManager<C>> {
        match self.object.take() {
            Some(object) => object,
            // Only `release` empties it, and it consumes the lease.
            None => unreachable!("a lease is released once"),
        }
    }
}

impl<C: Pooled> std::ops::Deref for Lease<C>
where
    AsyncDieselConnectionManager<C>: deadpool::managed::Manager<Type = C, Error = ManagerError>,
{
    type Target = C;
    fn deref(&self) -> &C {
        match &self.object {
            Some(object) => object,
            None => unreachable!("a lease is released once"),
        }
    }
}

impl<C: Pooled> std::ops::DerefMut for Lease<C>
where
    AsyncDieselConnectionManager<C>: deadpool::managed::Manager<Type = C, Error = ManagerError>,
{
    fn deref_mut(&mut self) -> &mut C {
        match &mut self.object {
            Some(object) => object,
            None => unreachable!("a lease is released once"),
        }
    }
}

impl<C: Pooled> Drop for Lease<C>
where
    AsyncDieselConnectionManager<C>: deadpool::managed::Manager<Type = C, Error = ManagerError>,
{
    fn drop(&mut self) {
        if let Some(object) = self.object.take() {
            drop(Object::take(object));
        }
    }
}

/// A connection for one call, as a [`Lease`].
pub(crate) async fn lease<C>(pool: &DeadPool<C>, op: Operation) -> Result<Lease<C>, AdapterError>
where
    C: Pooled,
    AsyncDieselConnectionManager<C>: deadpool::managed::Manager<Type = C, Error = ManagerError>,
{
    let object = checkout(pool, op).await?;
    Ok(Lease {
        object: Some(object),
    })
}

/// Runs one call (checkout, statements, [`settle`]) within `limit`, the adapter's call
/// timeout; past it the call is dropped, its [`Lease`] discards the connection, and the
/// call fails with ADAPTER_CONNECTION_ERROR.
pub(crate) async fn bounded<T>(
    limit: Duration,
    op: Operation,
    call: impl std::future::Future<Output = Result<T, AdapterError>>,
) -> Result<T, AdapterError> {
    auth_core::bound::within(op, limit, call).await
}

/// Maps a failed checkout: every pool failure is a connection failure.
pub(crate) fn pool_error(op: Operation, err: PoolError<ManagerError>) -> AdapterError {
    AdapterError::from_driver(op, ErrorKind::Connection, PoolFailure(err))
}

/// A pool error with its cause reachable through `source()` (deadpool's own error shows
/// the cause in its text only).
#[derive(Debug)]
pub(crate) struct PoolFailure(pub(crate) PoolError<ManagerError>);

impl std::fmt::Display for PoolFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            PoolError::Timeout(kind) => {
                write!(f, "no connection within the pool timeout ({kind:?})")
            }
            PoolError::Backend(err) => write!(f, "could not connect: {err}"),
            PoolError::Closed => f.write_str("the pool is closed"),
            other => write!(f, "{other}"),
        }
    }
}

impl std::error::Error for PoolFailure {}

/// Hands a connection back after a call and maps the call's error. A connection whose
/// call failed with a connection error, or with an error the driver does not classify
/// (which may be one), is taken out of the pool instead of going back, so a dead
/// connection is never handed out again; for such an unclassified error on a server, a
/// fresh connection attempt tells a dead server (ADAPTER_CONNECTION_ERROR) from a failed
/// statement.
pub(crate) async fn settle<C, T>(
    pool: &DeadPool<C>,
    lease: Lease<C>,
    op: Operation,
    result: Result<T, DieselError>,
) -> Result<T, AdapterError>
where
    C: Pooled,
    AsyncDieselConnectionManager<C>: deadpool::managed::Manager<Type = C, Error = ManagerError>,
{
    let object = lease.release();
    let err = match result {
        Ok(value) => return Ok(value),
        Err(err) => err,
    };
    let kind = error::kind_of(&err);
    let suspect = kind == ErrorKind::Connection || error::is_unclassified(&err);
    if !suspect || C::DIALECT == Dialect::Sqlite {
        // SQLite connections do not break; an in-memory database lives in them.
        drop(object);
        return Err(error::map(op, err));
    }
    drop(Object::take(object));
    if kind == ErrorKind::Connection || !server_answers(pool).await {
        return Err(AdapterError::from_driver(op, ErrorKind::Connection, err));
    }
    Err(error::map(op, err))
}

/// Whether a fresh connection to the server can be made within the pool's create timeout.
async fn server_answers<C>(pool: &DeadPool<C>) -> bool
where
    C: Pooled,
    AsyncDieselConnectionManager<C>: deadpool::managed::Manager<Type = C, Error = ManagerError>,
{
    use deadpool::managed::Manager;
    let limit = pool.timeouts().create.unwrap_or(Duration::from_secs(5));
    matches!(
        tokio::time::timeout(limit, pool.manager().create()).await,
        Ok(Ok(_))
    )
}

/// Builds a deadpool pool with Fast recycling and this crate's connection set-up.
pub(crate) fn build<C>(
    url: &str,
    max_size: usize,
    timeout: Duration,
    setup: diesel_async::pooled_connection::SetupCallback<C>,
) -> Result<DeadPool<C>, AdapterError>
where
    C: Pooled,
    AsyncDieselConnectionManager<C>: deadpool::managed::Manager<Type = C, Error = ManagerError>,
{
    let mut config = ManagerConfig::<C>::default();
    config.recycling_method = RecyclingMethod::Fast;
    config.custom_setup = setup;
    let manager = AsyncDieselConnectionManager::new_with_config(url, config);
    Pool::builder(manager)
        .max_size(max_size)
        .runtime(deadpool::Runtime::Tokio1)
        .wait_timeout(Some(timeout))
        .create_timeout(Some(timeout))
        .recycle_timeout(Some(timeout))
        .build()
        .map_err(|err| AdapterError::from_driver(Operation::Connect, ErrorKind::Backend, err))
}
