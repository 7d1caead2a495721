//! How a [`SeaOrmAdapter`] connects (URL checks, the pool, the server's dialect) and
//! migrates (the schema and history shared with the other SQL crates, on one sqlx
//! connection of SeaORM's pool).

use std::time::Duration;

use auth_core::{AdapterError, Operation};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement,
};

use crate::adapter::SeaOrmAdapter;
use crate::error::{self, ResultExt};
use crate::options::{SeaOrmAdapterBuilder, Target};
use crate::Dialect;

/// How long a pooled connection may sit idle before it is pinged on checkout.
const IDLE_BEFORE_PING: Duration = Duration::from_secs(30);

/// The URL scheme, which picks the database (`mariadb:` is read as `mysql:`).
fn scheme(url: &str) -> &str {
    url.split_once(':').map_or("", |(scheme, _)| scheme)
}

/// Whether a SQLite URL names an in-memory database, which lives only while a connection
/// to it is open.
#[cfg(feature = "sqlite")]
fn is_sqlite_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}

fn unsupported(scheme: &str) -> AdapterError {
    let feature = match scheme {
        "postgres" | "postgresql" => Some("postgres"),
        "mysql" | "mariadb" => Some("mysql"),
        "sqlite" => Some("sqlite"),
        _ => None,
    };
    AdapterError::invalid_input(
        Operation::Connect,
        match feature {
            Some(feature) => format!(
                "{scheme}: URLs need the `{feature}` cargo feature of adapter-seaorm, which is off \
                 in this build"
            ),
            None => format!(
                "unsupported URL scheme {scheme:?}: adapter-seaorm serves postgres://, mysql:// \
                 or mariadb://, and sqlite: URLs"
            ),
        },
    )
}

/// Opens one connection directly, bounded by `timeout`, and closes it: a pool retries a
/// refused connection until its timeout and then reports only "pool timed out"; this keeps
/// the real cause.
async fn probe(url: &str, timeout: Duration) -> Result<(), AdapterError> {
    let op = Operation::Connect;
    let attempt = async {
        match scheme(url) {
            #[cfg(feature = "postgres")]
            "postgres" | "postgresql" => {
                use sea_orm::sqlx::{ConnectOptions as _, Connection as _};
                use std::str::FromStr;
                let options = sea_orm::sqlx::postgres::PgConnectOptions::from_str(url)?;
                options.connect().await?.close().await
            }
            #[cfg(feature = "mysql")]
            "mysql" => {
                use sea_orm::sqlx::{ConnectOptions as _, Connection as _};
                use std::str::FromStr;
                let options = sea_orm::sqlx::mysql::MySqlConnectOptions::from_str(url)?;
                options.connect().await?.close().await
            }
            // SQLite reports a file it cannot open at once, with its own error.
            _ => Ok(()),
        }
    };
    auth_core::bound::within(op, timeout, async {
        attempt.await.map_err(|err| error::map_sqlx(op, err))
    })
    .await
}

/// The name of a scheme's database, for messages.
fn database_of(scheme: &str) -> &'static str {
    match scheme {
        "postgres" | "postgresql" => "PostgreSQL",
        "mysql" | "mariadb" => "MySQL/MariaDB",
        _ => "SQLite",
    }
}

/// Reads `url` (`mariadb:` already spelled `mysql:`) with sqlx's own parser, the one
/// SeaORM opens its pool with: a URL it cannot read is `InvalidInput`, with sqlx's message
/// as the cause, before any I/O. `given` is the URL as the application wrote it.
fn read_url(given: &str, url: &str) -> Result<(), AdapterError> {
    use std::str::FromStr;
    let read: Result<(), sea_orm::sqlx::Error> = match scheme(url) {
        #[cfg(feature = "postgres")]
        "postgres" | "postgresql" => {
            sea_orm::sqlx::postgres::PgConnectOptions::from_str(url).map(drop)
        }
        #[cfg(feature = "mysql")]
        "mysql" => sea_orm::sqlx::mysql::MySqlConnectOptions::from_str(url).map(drop),
        #[cfg(feature = "sqlite")]
        "sqlite" => sea_orm::sqlx::sqlite::SqliteConnectOptions::from_str(url).map(drop),
        _ => Ok(()),
    };
    read.map_err(|err| {
        adapter_sqlx::errors::invalid_config(
            Operation::Connect,
            format!(
                "{} is not a {} URL sqlx can read",
                auth_core::redact_url(given),
                database_of(scheme(url))
            ),
            err,
        )
    })
}

/// Checks the URL (before any I/O), probes the server and opens the adapter's own pool.
async fn open(
    given: &str,
    options: &SeaOrmAdapterBuilder,
) -> Result<DatabaseConnection, AdapterError> {
    let url = match given.strip_prefix("mariadb:") {
        Some(rest) => format!("mysql:{rest}"),
        None => given.to_owned(),
    };
    // Each arm depends on a cargo feature, so with every feature on they look alike.
    #[allow(clippy::match_like_matches_macro)]
    let served = match scheme(&url) {
        "postgres" | "postgresql" => cfg!(feature = "postgres"),
        "mysql" => cfg!(feature = "mysql"),
        "sqlite" => cfg!(feature = "sqlite"),
        _ => false,
    };
    if !served {
        return Err(unsupported(scheme(given)));
    }
    read_url(given, &url)?;
    let timeout = options.pool.call_timeout;
    probe(&url, timeout).await?;
    let max = options.pool.max();
    let min = options.pool.min_connections.unwrap_or(0);
    let mut connect = ConnectOptions::new(url.clone());
    connect
        .max_connections(max)
        .min_connections(Ord::min(min, max))
        .acquire_timeout(timeout)
        .connect_timeout(timeout)
        // sqlx pings every connection it hands out (one more round trip per call);
        // ping only one that sat idle long enough to have been dropped on the way.
        .test_before_acquire_if_idle_for(IDLE_BEFORE_PING)
        .sqlx_logging(false);
    #[cfg(feature = "sqlite")]
    if scheme(&url) == "sqlite" {
        use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
        let memory = is_sqlite_memory(&url);
        connect.map_sqlx_sqlite_opts(move |o| {
            let o = o.foreign_keys(true).busy_timeout(timeout);
            if memory {
                o
            } else {
                o.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
            }
        });
        if memory {
            // The database lives as long as one connection to it: keep one open and
            // never reap it.
            connect
                .min_connections(min.clamp(1, max))
                .idle_timeout(None::<Duration>)
                .max_lifetime(None::<Duration>);
        }
    }
    #[cfg(feature = "mysql")]
    if scheme(&url) == "mysql" {
        connect.map_sqlx_mysql_opts(|o| o.charset("utf8mb4").timezone(Some("+00:00".to_owned())));
    }
    Database::connect(connect).await.for_op(Operation::Connect)
}

/// The database behind a SeaORM connection: a MySQL-family server is asked for its
/// version and whether it is a Galera node (`@@wsrep_on`; MySQL has no such variable).
async fn detect(db: &DatabaseConnection) -> Result<(Dialect, bool), AdapterError> {
    Ok(match db.get_database_backend() {
        DbBackend::Postgres => (Dialect::Postgres, false),
        DbBackend::Sqlite => (Dialect::Sqlite, false),
        backend => {
            let version = db
                .query_one_raw(Statement::from_string(
                    backend,
                    "SELECT VERSION() AS version",
                ))
                .await
                .for_op(Operation::Connect)?
                .map(|row| row.try_get::<String>("", "version"))
                .transpose()
                .for_op(Operation::Connect)?
                .unwrap_or_default();
            // The server answering with an error means no such variable (MySQL): no
            // Galera. Any other failure is the connection's, and an error.
            let galera = match db
                .query_one_raw(Statement::from_string(
                    backend,
                    auth_sql::errors::GALERA_NODE_QUERY,
                ))
                .await
            {
                Ok(row) => {
                    row.map(|row| row.try_get::<i64>("", "galera"))
                        .transpose()
                        .for_op(Operation::Connect)?
                        == Some(1)
                }
                Err(sea_orm::DbErr::Query(sea_orm::RuntimeErr::SqlxError(err)))
                    if matches!(*err, sea_orm::sqlx::Error::Database(_)) =>
                {
                    false
                }
                Err(err) => return Err(error::map(Operation::Connect, err)),
            };
            (Dialect::from_mysql_version(&version), galera)
        }
    })
}

/// The table prefix of the entities (adapter-sqlx's default).
const TABLE_PREFIX: &str = "auth_";

/// Runs `$body` with `$conn` bound to one sqlx connection of the adapter's pool (the
/// migrator needs one connection: it takes a lock and, on PostgreSQL and SQLite, a
/// transaction). A connection whose run failed is closed, not handed back.
macro_rules! with_sqlx_connection {
    ($adapter:expr, |$conn:ident| $body:expr) => {{
        let op = Operation::Migrate;
        match $adapter.db.get_database_backend() {
            #[cfg(feature = "postgres")]
            DbBackend::Postgres => {
                with_sqlx_connection!(@on $adapter.db.get_postgres_connection_pool(), op, |$conn| $body)
            }
            #[cfg(feature = "mysql")]
            DbBackend::MySql => {
                with_sqlx_connection!(@on $adapter.db.get_mysql_connection_pool(), op, |$conn| $body)
            }
            #[cfg(feature = "sqlite")]
            DbBackend::Sqlite => {
                with_sqlx_connection!(@on $adapter.db.get_sqlite_connection_pool(), op, |$conn| $body)
            }
            #[allow(unreachable_patterns)]
            other => Err(AdapterError::invalid_input(
                op,
                format!("{other:?} is not compiled into this build of adapter-seaorm"),
            )),
        }
    }};
    (@on $pool:expr, $op:expr, |$conn:ident| $body:expr) => {{
        let mut pooled = $pool.acquire().await.map_err(|e| error::map_sqlx($op, e))?;
        let result = {
            let $conn = &mut *pooled;
            $body
        };
        match result {
            Ok(value) => Ok(value),
            Err(err) => {
                drop(pooled.detach());
                Err(adapter_sqlx::errors::map_migrate(err))
            }
        }
    }};
}

impl SeaOrmAdapter {
    #[tracing::instrument(name = "connect", skip_all)]
    pub(crate) async fn connect_with(options: SeaOrmAdapterBuilder) -> Result<Self, AdapterError> {
        options.check()?;
        let timeout = options.pool.call_timeout;
        let db = match &options.pool.target {
            Target::Url(url) => open(url, &options).await?,
            Target::Pool(db) => db.clone(),
        };
        let ask = detect(&db);
        let (dialect, galera) = auth_core::bound::within(Operation::Connect, timeout, ask).await?;
        tracing::debug!(dialect = dialect.name(), galera, "connected");
        Ok(Self {
            db,
            dialect,
            galera,
            call_timeout: timeout,
        })
    }

    /// Creates the tables, keys and indexes: the pending migrations of the schema shared
    /// with adapter-sqlx and adapter-diesel (the `auth-sql` crate), recorded in the shared
    /// history `auth_schema_migrations`, so a database one of the three crates migrated is
    /// current for the others. Runs on one connection of the pool, through the sqlx
    /// SeaORM is built on. Idempotent: data is kept.
    ///
    /// Errors: MIGRATION_ERROR (or ADAPTER_CONNECTION_ERROR).
    ///
    /// ```no_run
    /// # async fn run(adapter: adapter_seaorm::SeaOrmAdapter) -> Result<(), auth_core::AdapterError> {
    /// adapter.migrate().await?;
    /// adapter.migrate().await?; // harmless
    /// # Ok(())
    /// # }
    /// ```
    #[tracing::instrument(skip_all, fields(dialect = self.dialect.name()))]
    pub async fn migrate(&self) -> Result<(), AdapterError> {
        with_sqlx_connection!(self, |conn| auth_sql::schema::migrate(
            &mut adapter_sqlx::migrate::SqlxMigration(conn),
            self.dialect,
            TABLE_PREFIX,
        )
        .await
        .map(drop))
    }

    /// Where the database stands against the shared schema: the versions its history
    /// records and those [`migrate`](Self::migrate) would apply. Creates nothing.
    ///
    /// Errors: MIGRATION_ERROR when a newer version of the adapters migrated the database;
    /// ADAPTER_CONNECTION_ERROR.
    ///
    /// ```no_run
    /// # async fn run(adapter: adapter_seaorm::SeaOrmAdapter) -> Result<(), auth_core::AdapterError> {
    /// adapter.migrate().await?;
    /// assert!(adapter.schema_status().await?.is_current());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn schema_status(&self) -> Result<crate::SchemaStatus, AdapterError> {
        with_sqlx_connection!(self, |conn| auth_sql::schema::status(
            &mut adapter_sqlx::migrate::SqlxMigration(conn),
            self.dialect,
            TABLE_PREFIX,
        )
        .await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scheme_whose_feature_is_off_names_the_feature() {
        let err = unsupported("postgresql");
        assert_eq!(err.kind(), auth_core::ErrorKind::InvalidInput);
        assert!(
            err.to_string().contains("`postgres` cargo feature"),
            "{err}"
        );
        assert!(unsupported("mariadb").to_string().contains("`mysql`"));
        assert!(unsupported("ftp")
            .to_string()
            .contains("unsupported URL scheme"));
    }

    #[test]
    fn schemes_and_memory_urls() {
        assert_eq!(scheme("postgres://u@h/db"), "postgres");
        assert_eq!(scheme("sqlite::memory:"), "sqlite");
        assert!(is_sqlite_memory(
            "sqlite:file:auth-1?mode=memory&cache=shared"
        ));
        assert!(!is_sqlite_memory("sqlite:///var/lib/app/auth.db?mode=rwc"));
    }
}
