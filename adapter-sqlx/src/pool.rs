//! The connection pool of each database, how it is opened, and how each stores a timestamp.
//!
//! [`Pools`] holds the one pool of an adapter; [`with_pool!`] runs a block of code once per
//! enabled database with `$pool` bound to the concrete pool and `$Db` to the concrete
//! `sqlx::Database`, so every adapter method is written once and compiled per database.

use auth_core::AdapterError;
use chrono::{DateTime, Utc};

use auth_sql::Stamp;

use crate::dialect::Dialect;
use crate::lease::Source;

#[cfg(not(any(feature = "postgres", feature = "mysql", feature = "sqlite")))]
compile_error!("adapter-sqlx needs at least one of the features `postgres`, `mysql`, `sqlite`");

/// The connections of one adapter (see [`Source`]).
#[derive(Clone)]
pub(crate) enum Pools {
    /// PostgreSQL.
    #[cfg(feature = "postgres")]
    Postgres(Source<sqlx::Postgres>),
    /// MySQL or MariaDB.
    #[cfg(feature = "mysql")]
    MySql(Source<sqlx::MySql>),
    /// SQLite.
    #[cfg(feature = "sqlite")]
    Sqlite(Source<sqlx::Sqlite>),
}

/// Runs `$body` with `$pool` bound to the concrete [`Source`] and `$db` naming the concrete
/// `sqlx::Database` type: the body is written once and compiled for each database.
macro_rules! with_pool {
    ($pools:expr, |$pool:ident: $db:ident| $body:expr) => {
        match $pools {
            #[cfg(feature = "postgres")]
            $crate::pool::Pools::Postgres($pool) => {
                #[allow(dead_code)]
                type $db = ::sqlx::Postgres;
                $body
            }
            #[cfg(feature = "mysql")]
            $crate::pool::Pools::MySql($pool) => {
                #[allow(dead_code)]
                type $db = ::sqlx::MySql;
                $body
            }
            #[cfg(feature = "sqlite")]
            $crate::pool::Pools::Sqlite($pool) => {
                #[allow(dead_code)]
                type $db = ::sqlx::Sqlite;
                $body
            }
        }
    };
}
pub(crate) use with_pool;

/// A pool an application already has, for [`SqlxAdapter::from_pool`](crate::SqlxAdapter::from_pool):
/// built with `.into()` from a `PgPool`, `MySqlPool` or `SqlitePool`.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let pool = adapter_sqlx::sqlx::SqlitePool::connect_lazy("sqlite::memory:").expect("pool");
/// let any: adapter_sqlx::SqlxPool = pool.into();
/// assert_eq!(format!("{any:?}"), "SqlxPool(sqlite)");
/// # });
/// ```
#[derive(Clone)]
pub struct SqlxPool(pub(crate) Pools);

/// Shows which database the pool is for; no URL.
impl std::fmt::Debug for SqlxPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let database = match &self.0 {
            #[cfg(feature = "postgres")]
            Pools::Postgres(_) => "postgres",
            #[cfg(feature = "mysql")]
            Pools::MySql(_) => "mysql",
            #[cfg(feature = "sqlite")]
            Pools::Sqlite(_) => "sqlite",
        };
        write!(f, "SqlxPool({database})")
    }
}

#[cfg(feature = "postgres")]
impl From<sqlx::PgPool> for SqlxPool {
    fn from(pool: sqlx::PgPool) -> Self {
        Self(Pools::Postgres(Source::Shared(pool)))
    }
}

#[cfg(feature = "mysql")]
impl From<sqlx::MySqlPool> for SqlxPool {
    fn from(pool: sqlx::MySqlPool) -> Self {
        Self(Pools::MySql(Source::Shared(pool)))
    }
}

#[cfg(feature = "sqlite")]
impl From<sqlx::SqlitePool> for SqlxPool {
    fn from(pool: sqlx::SqlitePool) -> Self {
        Self(Pools::Sqlite(Source::Shared(pool)))
    }
}

/// Takes an application's pool as it is and detects its dialect and whether it is a Galera
/// node (MySQL/MariaDB: `SELECT VERSION()` and `@@wsrep_on`, within `timeout`).
#[cfg_attr(not(feature = "mysql"), allow(unused_variables))]
pub(crate) async fn adopt(
    pools: Pools,
    timeout: std::time::Duration,
) -> Result<(Pools, Dialect, bool), AdapterError> {
    let (dialect, galera) = match &pools {
        #[cfg(feature = "postgres")]
        Pools::Postgres(_) => (Dialect::Postgres, false),
        #[cfg(feature = "mysql")]
        Pools::MySql(source) => {
            let ask = async {
                let mut lease = source.lease(auth_core::Operation::Connect).await?;
                let version: String = sqlx::query_scalar("SELECT VERSION()")
                    .fetch_one(&mut *lease.conn())
                    .await
                    .map_err(connect_error)?;
                let galera = crate::connect::is_galera_node(lease.conn())
                    .await
                    .map_err(connect_error)?;
                lease.settle(&Ok(()));
                Ok::<_, AdapterError>((version, galera))
            };
            let (version, galera) =
                auth_core::bound::within(auth_core::Operation::Connect, timeout, ask).await?;
            (Dialect::from_mysql_version(&version), galera)
        }
        #[cfg(feature = "sqlite")]
        Pools::Sqlite(_) => (Dialect::Sqlite, false),
    };
    Ok((pools, dialect, galera))
}

/// The timestamp type of each database.
pub(crate) trait Timestamps {
    /// What a timestamp column decodes into and binds from.
    type Stamp: Stamp;
}

#[cfg(feature = "postgres")]
impl Timestamps for sqlx::Postgres {
    type Stamp = DateTime<Utc>;
}

#[cfg(feature = "mysql")]
impl Timestamps for sqlx::MySql {
    type Stamp = chrono::NaiveDateTime;
}

#[cfg(feature = "sqlite")]
impl Timestamps for sqlx::Sqlite {
    type Stamp = i64;
}

/// The stored form of `at` on database `D`.
pub(crate) fn stamp<D: Timestamps>(at: DateTime<Utc>) -> D::Stamp {
    D::Stamp::from_utc(at)
}

/// A failed exchange while connecting (MySQL's version query).
#[cfg(feature = "mysql")]
pub(crate) fn connect_error(err: sqlx::Error) -> AdapterError {
    crate::error::map(auth_core::Operation::Connect, err)
}
