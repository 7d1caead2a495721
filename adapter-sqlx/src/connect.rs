//! Opening the adapter's own pool from a URL: reading the URL with the driver's own
//! parser, the per-database connection set-up, the first connection within the call
//! timeout, and the MySQL-family server's version.

use std::str::FromStr;

use auth_core::{AdapterError, Operation};

use crate::dialect::Dialect;
use crate::error;
use crate::lease::{own_pool, Manager, OwnPool, Source};
use crate::options::SqlxAdapterBuilder;
#[cfg(feature = "mysql")]
use crate::pool::connect_error;
use crate::pool::Pools;

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
/// within the call timeout. Returns the pool, the detected dialect and whether the server is
/// a Galera node ([`Statements::on_galera`](crate::dialect::Statements::on_galera)). The URL is read
/// (by the driver's own parser) before anything is sent: a URL it cannot read, or an
/// unknown scheme, is `InvalidInput`.
pub(crate) async fn open(
    url: &str,
    options: &SqlxAdapterBuilder,
) -> Result<(Pools, Dialect, bool), AdapterError> {
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
            Ok((Pools::Postgres(source), Dialect::Postgres, false))
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
                let conn = first.conn();
                let version = sqlx::query_scalar::<_, String>("SELECT VERSION()")
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(connect_error)?;
                let galera = is_galera_node(conn).await.map_err(connect_error)?;
                Ok::<_, AdapterError>((version, galera))
            };
            let (version, galera) =
                auth_core::bound::within(Operation::Connect, options.pool.call_timeout, ask)
                    .await?;
            first.settle(&Ok(()));
            let source = Source::Own {
                pool,
                keep_alive: None,
            };
            Ok((
                Pools::MySql(source),
                Dialect::from_mysql_version(&version),
                galera,
            ))
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
                false,
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

/// The pool on a PostgreSQL read replica: `max` connections, each call's time on it bounded
/// by `timeout`. Opened lazily: a replica that is down must not fail `connect` (reads skip
/// it until it answers).
#[cfg_attr(not(feature = "postgres"), allow(unused_variables))]
pub(crate) fn open_replica(
    url: &str,
    max: u32,
    timeout: std::time::Duration,
) -> Result<Pools, AdapterError> {
    match scheme(url) {
        #[cfg(feature = "postgres")]
        "postgres" | "postgresql" => {
            let connect = sqlx::postgres::PgConnectOptions::from_str(url)
                .map_err(|e| unreadable(url, "PostgreSQL", e))?;
            let pool = own_pool(Manager::new(connect, None), max, timeout)?;
            Ok(Pools::Postgres(Source::Own {
                pool,
                keep_alive: None,
            }))
        }
        _ => Err(AdapterError::invalid_input(
            Operation::Connect,
            format!(
                "{} is not a PostgreSQL URL: a read replica of a PostgreSQL primary is \
                 postgres://",
                auth_core::redact_url(url)
            ),
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

/// Whether the MySQL-family server on `conn` is a Galera node (`@@wsrep_on`; MySQL itself
/// has no such variable and answers with an error, which means no). Any other failure (the
/// connection) is an error: a Galera node must not pass for a plain server.
#[cfg(feature = "mysql")]
pub(crate) async fn is_galera_node(conn: &mut sqlx::MySqlConnection) -> Result<bool, sqlx::Error> {
    match sqlx::query_scalar::<_, i64>(auth_sql::errors::GALERA_NODE_QUERY)
        .fetch_one(conn)
        .await
    {
        Ok(on) => Ok(on == 1),
        Err(sqlx::Error::Database(_)) => Ok(false),
        Err(err) => Err(err),
    }
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
