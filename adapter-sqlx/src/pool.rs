//! The connection pool of each database, how it is opened, and how each stores a timestamp.
//!
//! [`Pools`] holds the one pool of an adapter; [`with_pool!`] runs a block of code once per
//! enabled database with `$pool` bound to the concrete pool and `$Db` to the concrete
//! `sqlx::Database`, so every adapter method is written once and compiled per database.

use std::str::FromStr;

use auth_core::{AdapterError, Operation};
use chrono::{DateTime, Utc};

use auth_sql::Stamp;

use crate::dialect::Dialect;
use crate::error;
use crate::lease::{own_pool, Manager, OwnPool, Source};
use crate::options::SqlxAdapterBuilder;

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

/// Takes an application's pool as it is and detects its dialect (MySQL/MariaDB: one
/// `SELECT VERSION()`, within `timeout`).
#[cfg_attr(not(feature = "mysql"), allow(unused_variables))]
pub(crate) async fn adopt(
    pools: Pools,
    timeout: std::time::Duration,
) -> Result<(Pools, Dialect), AdapterError> {
    let dialect = match &pools {
        #[cfg(feature = "postgres")]
        Pools::Postgres(_) => Dialect::Postgres,
        #[cfg(feature = "mysql")]
        Pools::MySql(source) => {
            let ask = async {
                let mut lease = source.lease(Operation::Connect).await?;
                let version: String = sqlx::query_scalar("SELECT VERSION()")
                    .fetch_one(&mut *lease.conn())
                    .await
                    .map_err(connect_error)?;
                lease.settle(&Ok(()));
                Ok::<_, AdapterError>(version)
            };
            let version = auth_core::bound::within(Operation::Connect, timeout, ask).await?;
            Dialect::from_mysql_version(&version)
        }
        #[cfg(feature = "sqlite")]
        Pools::Sqlite(_) => Dialect::Sqlite,
    };
    Ok((pools, dialect))
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

/// The URL scheme, which picks the database.
fn scheme(url: &str) -> &str {
    url.split_once(':').map_or("", |(scheme, _)| scheme)
}

/// Whether a SQLite URL names an in-memory database, which lives only while a connection
/// to it is open.
#[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
pub(crate) fn is_sqlite_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}

/// A failed exchange while connecting (MySQL's version query).
#[cfg(feature = "mysql")]
fn connect_error(err: sqlx::Error) -> AdapterError {
    error::map(Operation::Connect, err)
}

/// A URL the driver cannot read: `InvalidInput`, with the driver's message as the cause.
fn unreadable(url: &str, database: &str, err: sqlx::Error) -> AdapterError {
    error::invalid_config(
        Operation::Connect,
        format!(
            "{} is not a {database} URL sqlx can read",
            auth_core::redact_url(url)
        ),
        err,
    )
}

/// An own pool of `manager`'s connections, with one connection opened (and kept in the
/// pool) to prove the database answers within the call timeout, so a server that cannot
/// be reached fails `connect` at once with its real cause ("Connection refused").
async fn open_own<DB: sqlx::Database>(
    manager: Manager<DB>,
    options: &SqlxAdapterBuilder,
) -> Result<(OwnPool<DB>, crate::lease::Lease<DB>), AdapterError> {
    let max = options.pool.max();
    let pool = own_pool(manager, max, options.pool.call_timeout)?;
    let source = Source::Own {
        pool: pool.clone(),
        keep_alive: None,
    };
    let mut first = source.lease(Operation::Connect).await?;
    first.settle(&Ok(()));
    // Warm the pool up to `min_connections`, so the first calls do not pay for connecting.
    let warm = options
        .pool
        .min_connections
        .unwrap_or(0)
        .min(max)
        .saturating_sub(1);
    let mut extra = Vec::new();
    for _ in 0..warm {
        let mut lease = source.lease(Operation::Connect).await?;
        lease.settle(&Ok(()));
        extra.push(lease);
    }
    drop(extra);
    Ok((pool, first))
}

/// Opens the adapter's own pool for the URL's scheme and checks that the database answers
/// within the call timeout. Returns the pool and the detected dialect. The URL is read
/// (by the driver's own parser) before anything is sent: a URL it cannot read, or an
/// unknown scheme, is `InvalidInput`.
pub(crate) async fn open(
    url: &str,
    options: &SqlxAdapterBuilder,
) -> Result<(Pools, Dialect), AdapterError> {
    match scheme(url) {
        #[cfg(feature = "postgres")]
        "postgres" | "postgresql" => {
            let connect = sqlx::postgres::PgConnectOptions::from_str(url)
                .map_err(|e| unreadable(url, "PostgreSQL", e))?;
            let (pool, _first) = open_own(Manager::new(connect, None), options).await?;
            let source = Source::Own {
                pool,
                keep_alive: None,
            };
            Ok((Pools::Postgres(source), Dialect::Postgres))
        }
        #[cfg(feature = "mysql")]
        "mysql" | "mariadb" => {
            let given = url;
            let url = match url.strip_prefix("mariadb:") {
                Some(rest) => format!("mysql:{rest}"),
                None => url.to_owned(),
            };
            let connect = sqlx::mysql::MySqlConnectOptions::from_str(&url)
                .map_err(|e| unreadable(given, "MySQL/MariaDB", e))?
                .charset("utf8mb4")
                .timezone(Some("+00:00".to_owned()));
            let manager = Manager::new(connect, Some(mysql_strict_mode));
            let (pool, mut first) = open_own(manager, options).await?;
            // Within the call timeout, like every exchange of `connect`: a server that
            // accepted the connection and then stopped answering must not hang it.
            let ask = async {
                sqlx::query_scalar::<_, String>("SELECT VERSION()")
                    .fetch_one(&mut *first.conn())
                    .await
                    .map_err(connect_error)
            };
            let version =
                auth_core::bound::within(Operation::Connect, options.pool.call_timeout, ask)
                    .await?;
            first.settle(&Ok(()));
            let source = Source::Own {
                pool,
                keep_alive: None,
            };
            Ok((Pools::MySql(source), Dialect::from_mysql_version(&version)))
        }
        #[cfg(feature = "sqlite")]
        "sqlite" => {
            use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
            let memory = is_sqlite_memory(url);
            let mut connect = SqliteConnectOptions::from_str(url)
                .map_err(|e| unreadable(url, "SQLite", e))?
                .foreign_keys(true)
                .busy_timeout(options.pool.call_timeout);
            if !memory {
                connect = connect
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal);
            }
            let (pool, first) = open_own(Manager::new(connect, None), options).await?;
            // An in-memory database lives as long as one connection to it: the adapter
            // keeps its first connection, outside the pool, for its whole life.
            let keep_alive: Option<std::sync::Arc<dyn std::any::Any + Send + Sync>> = match first {
                crate::lease::Lease::Own(conn) if memory => Some(std::sync::Arc::new(
                    std::sync::Mutex::new(deadpool::managed::Object::take(conn)),
                )),
                _ => None,
            };
            Ok((
                Pools::Sqlite(Source::Own { pool, keep_alive }),
                Dialect::Sqlite,
            ))
        }
        other => Err(AdapterError::invalid_input(
            Operation::Connect,
            match feature_for(other) {
                Some(feature) => format!(
                    "{other}: URLs need the `{feature}` feature of adapter-sqlx, which this \
                     build does not have (it accepts {})",
                    supported_schemes()
                ),
                None => format!(
                    "unsupported URL scheme {other:?}: this build of adapter-sqlx accepts {}",
                    supported_schemes()
                ),
            },
        )),
    }
}

/// Strict mode on every MySQL/MariaDB connection: an over-long or invalid value is an error,
/// never silently truncated or coerced.
#[cfg(feature = "mysql")]
fn mysql_strict_mode(
    conn: &mut sqlx::MySqlConnection,
) -> futures::future::BoxFuture<'_, Result<(), sqlx::Error>> {
    Box::pin(async move {
        sqlx::Executor::execute(
            &mut *conn,
            "SET SESSION sql_mode = CONCAT(@@SESSION.sql_mode, ',STRICT_ALL_TABLES')",
        )
        .await?;
        Ok(())
    })
}

/// The cargo feature a URL scheme needs.
fn feature_for(scheme: &str) -> Option<&'static str> {
    match scheme {
        "postgres" | "postgresql" => Some("postgres"),
        "mysql" | "mariadb" => Some("mysql"),
        "sqlite" => Some("sqlite"),
        _ => None,
    }
}

fn supported_schemes() -> String {
    let schemes: &[&str] = &[
        #[cfg(feature = "postgres")]
        "postgres://",
        #[cfg(feature = "mysql")]
        "mysql:// or mariadb://",
        #[cfg(feature = "sqlite")]
        "sqlite:",
    ];
    schemes.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_and_memory_urls() {
        assert_eq!(scheme("postgres://u@h/db"), "postgres");
        assert_eq!(scheme("sqlite::memory:"), "sqlite");
        assert_eq!(scheme("nonsense"), "");
        assert!(is_sqlite_memory("sqlite::memory:"));
        assert!(is_sqlite_memory(
            "sqlite:file:auth-1?mode=memory&cache=shared"
        ));
        assert!(!is_sqlite_memory("sqlite:///var/lib/app/auth.db?mode=rwc"));
        assert_eq!(feature_for("postgresql"), Some("postgres"));
        assert_eq!(feature_for("mariadb"), Some("mysql"));
        assert_eq!(feature_for("redis"), None);
    }
}
