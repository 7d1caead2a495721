//! The schema of the native layout, written once per database, and its one migration
//! history: the table `<prefix>schema_migrations`, which adapter-sqlx, adapter-diesel and
//! adapter-seaorm all read and write, so a database migrated by one of them is current for
//! the other two, and a new migration is written once, here.
//!
//! A migration is a file per database under `src/schema/<database>/`, with `{p}` for the
//! table prefix and, on MariaDB/MySQL, `{collation}` for the server's binary collation.
//! [`migrate`] runs the pending ones over any driver's connection
//! ([`MigrationConnection`]), one migrator at a time per database: PostgreSQL and SQLite
//! apply them and their history rows in one transaction (under an advisory lock on
//! PostgreSQL), MariaDB/MySQL under `GET_LOCK` (their DDL commits by itself).
//!
//! ```
//! use auth_sql::schema::{self, MIGRATIONS};
//! use auth_sql::Dialect;
//!
//! assert_eq!(schema::history_table("auth_"), "auth_schema_migrations");
//! let first = &MIGRATIONS[0];
//! assert_eq!(first.version(), 1);
//! assert!(first.sql(Dialect::Postgres, "auth_").contains("CREATE TABLE IF NOT EXISTS auth_users ("));
//! ```

use std::fmt;
use std::future::Future;

use crate::Dialect;

/// One step of the schema, the same for every SQL crate.
///
/// ```
/// let m = &auth_sql::schema::MIGRATIONS[0];
/// assert_eq!((m.version(), m.description()), (1, "initial schema"));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    version: i64,
    description: &'static str,
    postgres: &'static str,
    mysql: &'static str,
    sqlite: &'static str,
}

/// Every migration, in version order.
///
/// ```
/// let versions: Vec<i64> = auth_sql::schema::MIGRATIONS.iter().map(|m| m.version()).collect();
/// assert!(versions.windows(2).all(|w| w[0] < w[1]));
/// ```
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        description: "initial schema",
        postgres: include_str!("schema/postgres/0001_initial.sql"),
        mysql: include_str!("schema/mysql/0001_initial.sql"),
        sqlite: include_str!("schema/sqlite/0001_initial.sql"),
    },
    Migration {
        version: 2,
        description: "extra fields",
        postgres: include_str!("schema/postgres/0002_extra_fields.sql"),
        mysql: include_str!("schema/mysql/0002_extra_fields.sql"),
        sqlite: include_str!("schema/sqlite/0002_extra_fields.sql"),
    },
];

impl Migration {
    /// Its number in the history.
    ///
    /// ```
    /// assert_eq!(auth_sql::schema::MIGRATIONS[0].version(), 1);
    /// ```
    pub fn version(&self) -> i64 {
        self.version
    }

    /// What it does, as the history records it.
    ///
    /// ```
    /// assert_eq!(auth_sql::schema::MIGRATIONS[0].description(), "initial schema");
    /// ```
    pub fn description(&self) -> &'static str {
        self.description
    }

    /// Its statements for `dialect`, with the table prefix (a validated identifier) and the
    /// collation applied.
    ///
    /// ```
    /// use auth_sql::{schema::MIGRATIONS, Dialect};
    /// let sql = MIGRATIONS[0].sql(Dialect::MySql { major: 8, minor: 0 }, "t_");
    /// assert!(sql.contains("CREATE TABLE IF NOT EXISTS t_sessions ("));
    /// assert!(sql.contains("COLLATE = utf8mb4_0900_bin"));
    /// ```
    pub fn sql(&self, dialect: Dialect, prefix: &str) -> String {
        let template = match dialect {
            Dialect::Postgres => self.postgres,
            Dialect::Sqlite => self.sqlite,
            _ => self.mysql,
        };
        template
            .replace("{p}", prefix)
            .replace("{collation}", dialect.collation())
    }
}

/// The newest version this build knows.
///
/// ```
/// assert!(auth_sql::schema::latest_version() >= 1);
/// ```
pub fn latest_version() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// The history table under `prefix`: `<prefix>schema_migrations`.
///
/// ```
/// assert_eq!(auth_sql::schema::history_table("t_"), "t_schema_migrations");
/// ```
pub fn history_table(prefix: &str) -> String {
    format!("{prefix}schema_migrations")
}

/// The statement that creates the history table when it is missing.
fn create_history(dialect: Dialect, table: &str) -> String {
    match dialect {
        Dialect::Postgres => format!(
            "CREATE TABLE IF NOT EXISTS {table} (version BIGINT PRIMARY KEY, \
             description TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        ),
        Dialect::Sqlite => format!(
            "CREATE TABLE IF NOT EXISTS {table} (version INTEGER NOT NULL PRIMARY KEY, \
             description TEXT NOT NULL, applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP) STRICT"
        ),
        _ => format!(
            "CREATE TABLE IF NOT EXISTS {table} (version BIGINT NOT NULL PRIMARY KEY, \
             description VARCHAR(255) NOT NULL, \
             applied_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)) \
             ENGINE = InnoDB DEFAULT CHARSET = utf8mb4"
        ),
    }
}

/// The statement counting history tables named `table` (0 or 1), without creating one.
fn history_exists(dialect: Dialect, table: &str) -> String {
    match dialect {
        Dialect::Postgres => format!(
            "SELECT COUNT(*) AS version FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_name = '{table}'"
        ),
        Dialect::Sqlite => {
            format!("SELECT COUNT(*) AS version FROM sqlite_master WHERE type = 'table' AND name = '{table}'")
        }
        _ => format!(
            "SELECT COUNT(*) AS version FROM information_schema.tables \
             WHERE table_schema = DATABASE() AND table_name = '{table}'"
        ),
    }
}

/// One name per history table for the database's migration lock (FNV-1a of the table name:
/// short enough for MySQL's 64-character lock names, a number for PostgreSQL's advisory
/// locks).
fn lock_key(table: &str) -> i64 {
    let hash = table.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    // The same 64 bits, read as PostgreSQL's signed bigint.
    i64::from_ne_bytes(hash.to_ne_bytes())
}

/// The one connection a migration runs on, in whatever driver the crate uses. Every
/// statement text comes from this crate (constants and a validated prefix); nothing is bound.
///
/// ```no_run
/// use std::future::Future;
/// use auth_sql::schema::MigrationConnection;
///
/// /// A connection of some driver (sketch: `execute` would run the text, `query_versions`
/// /// read the first column of every row as a number).
/// struct Conn;
///
/// impl MigrationConnection for Conn {
///     type Error = std::io::Error;
///     fn execute(&mut self, _sql: &str) -> impl Future<Output = Result<(), Self::Error>> + Send {
///         async { Ok(()) }
///     }
///     fn query_versions(
///         &mut self,
///         _sql: &str,
///     ) -> impl Future<Output = Result<Vec<i64>, Self::Error>> + Send {
///         async { Ok(vec![]) }
///     }
/// }
/// ```
pub trait MigrationConnection: Send {
    /// The driver's error.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Runs `sql`, which may hold several statements separated by `;`, ignoring any rows.
    fn execute(&mut self, sql: &str) -> impl Future<Output = Result<(), Self::Error>> + Send;

    /// Runs one `SELECT` whose only column is a `BIGINT` named `version` and returns it, row
    /// by row.
    fn query_versions(
        &mut self,
        sql: &str,
    ) -> impl Future<Output = Result<Vec<i64>, Self::Error>> + Send;
}

/// Why a migration (or a status check) failed.
///
/// ```
/// use auth_sql::schema::MigrateError;
/// let err: MigrateError<std::io::Error> = MigrateError::Newer { found: 3, known: 2 };
/// assert!(err.to_string().contains("version 3"));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum MigrateError<E> {
    /// The database refused a statement.
    Database(E),
    /// The database holds a migration this build does not know: it was migrated by a newer
    /// version of the adapters. Nothing was changed.
    Newer {
        /// The highest version in the history.
        found: i64,
        /// The highest version this build knows.
        known: i64,
    },
    /// MariaDB/MySQL: another migrator held the lock for 60 seconds.
    Locked,
}

impl<E: fmt::Display> fmt::Display for MigrateError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MigrateError::Database(e) => write!(f, "migration failed: {e}"),
            MigrateError::Newer { found, known } => write!(
                f,
                "the database has schema version {found}, newer than this build knows \
                 ({known}): it was migrated by a newer version of the adapters"
            ),
            MigrateError::Locked => {
                f.write_str("another migration held the schema lock for 60 seconds")
            }
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for MigrateError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            MigrateError::Database(e) => Some(e),
            _ => None,
        }
    }
}

/// Where a database stands against this build's migrations.
///
/// ```
/// let status = auth_sql::schema::SchemaStatus { applied: vec![1], pending: vec![] };
/// assert!(status.is_current());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaStatus {
    /// The versions the history records, ascending.
    pub applied: Vec<i64>,
    /// The versions this build would apply, ascending.
    pub pending: Vec<i64>,
}

impl SchemaStatus {
    /// Whether nothing is pending.
    ///
    /// ```
    /// let status = auth_sql::schema::SchemaStatus { applied: vec![], pending: vec![1] };
    /// assert!(!status.is_current());
    /// ```
    pub fn is_current(&self) -> bool {
        self.pending.is_empty()
    }
}

/// The status of `applied` against [`MIGRATIONS`].
fn status_of<E>(mut applied: Vec<i64>) -> Result<SchemaStatus, MigrateError<E>> {
    applied.sort_unstable();
    let known = latest_version();
    if let Some(&found) = applied.last().filter(|&&found| found > known) {
        return Err(MigrateError::Newer { found, known });
    }
    let pending = MIGRATIONS
        .iter()
        .map(|m| m.version)
        .filter(|v| !applied.contains(v))
        .collect();
    Ok(SchemaStatus { applied, pending })
}

/// Reads where the database under `prefix` stands, creating nothing.
///
/// Errors: [`MigrateError::Newer`] when the history holds a version this build does not
/// know.
pub async fn status<C: MigrationConnection>(
    conn: &mut C,
    dialect: Dialect,
    prefix: &str,
) -> Result<SchemaStatus, MigrateError<C::Error>> {
    let table = history_table(prefix);
    let exists = conn
        .query_versions(&history_exists(dialect, &table))
        .await
        .map_err(MigrateError::Database)?;
    let applied = if exists.first().is_some_and(|&n| n > 0) {
        conn.query_versions(&format!("SELECT version FROM {table}"))
            .await
            .map_err(MigrateError::Database)?
    } else {
        Vec::new()
    };
    status_of(applied)
}

/// Applies the pending migrations to the database under `prefix` and records them in the
/// shared history; returns the versions it applied (none when the database was current).
///
/// A database made before the shared history existed has the tables but no history: the
/// first migration is `CREATE … IF NOT EXISTS` throughout, so it changes nothing there and
/// is recorded.
///
/// Errors: [`MigrateError::Newer`] (nothing changed), [`MigrateError::Locked`],
/// [`MigrateError::Database`].
pub async fn migrate<C: MigrationConnection>(
    conn: &mut C,
    dialect: Dialect,
    prefix: &str,
) -> Result<Vec<i64>, MigrateError<C::Error>> {
    migrate_to(conn, dialect, prefix, i64::MAX).await
}

/// [`migrate`], stopping after version `last`: what an older release of the adapters left
/// behind, for upgrade tests (`migrate_to(…, 1)` is the schema before extra fields).
///
/// Errors: as [`migrate`].
pub async fn migrate_to<C: MigrationConnection>(
    conn: &mut C,
    dialect: Dialect,
    prefix: &str,
    last: i64,
) -> Result<Vec<i64>, MigrateError<C::Error>> {
    let table = history_table(prefix);
    let key = lock_key(&table);
    let (open, close, undo) = match dialect {
        Dialect::Postgres => (
            format!("BEGIN; SELECT pg_advisory_xact_lock({key})"),
            "COMMIT".to_owned(),
            "ROLLBACK".to_owned(),
        ),
        Dialect::Sqlite => (
            "BEGIN IMMEDIATE".to_owned(),
            "COMMIT".to_owned(),
            "ROLLBACK".to_owned(),
        ),
        _ => {
            let lock = format!("auth_sql_{key:016x}");
            let held = conn
                .query_versions(&format!(
                    "SELECT CAST(GET_LOCK('{lock}', 60) AS SIGNED) AS version"
                ))
                .await
                .map_err(MigrateError::Database)?;
            if held != [1] {
                return Err(MigrateError::Locked);
            }
            let release = format!("SELECT CAST(RELEASE_LOCK('{lock}') AS SIGNED) AS version");
            (String::new(), release.clone(), release)
        }
    };
    if !open.is_empty() {
        conn.execute(&open).await.map_err(MigrateError::Database)?;
    }
    let result = apply_pending(conn, dialect, prefix, &table, last).await;
    let end = if result.is_ok() { &close } else { &undo };
    // MariaDB/MySQL: `end` reads a row (RELEASE_LOCK); the others ignore the rows anyway.
    let ended = if dialect.is_mysql_family() {
        conn.query_versions(end).await.map(drop)
    } else {
        conn.execute(end).await
    };
    let applied = result?;
    ended.map_err(MigrateError::Database)?;
    Ok(applied)
}

/// The part of [`migrate`] that runs under the lock.
async fn apply_pending<C: MigrationConnection>(
    conn: &mut C,
    dialect: Dialect,
    prefix: &str,
    table: &str,
    last: i64,
) -> Result<Vec<i64>, MigrateError<C::Error>> {
    conn.execute(&create_history(dialect, table))
        .await
        .map_err(MigrateError::Database)?;
    let applied = conn
        .query_versions(&format!("SELECT version FROM {table}"))
        .await
        .map_err(MigrateError::Database)?;
    let mut pending = status_of(applied)?.pending;
    pending.retain(|&version| version <= last);
    for migration in MIGRATIONS.iter().filter(|m| pending.contains(&m.version)) {
        conn.execute(&migration.sql(dialect, prefix))
            .await
            .map_err(MigrateError::Database)?;
        conn.execute(&format!(
            "INSERT INTO {table} (version, description) VALUES ({}, '{}')",
            migration.version,
            migration.description.replace('\'', "''")
        ))
        .await
        .map_err(MigrateError::Database)?;
    }
    Ok(pending)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Dialect; 4] = [
        Dialect::Postgres,
        Dialect::MariaDb {
            major: 10,
            minor: 11,
        },
        Dialect::MySql { major: 8, minor: 0 },
        Dialect::Sqlite,
    ];

    #[test]
    fn the_prefix_reaches_every_table_and_index() {
        for dialect in ALL {
            let schema = MIGRATIONS[0].sql(dialect, "tenant_");
            assert!(!schema.contains("{p}") && !schema.contains("{collation}"));
            for table in [
                "users",
                "accounts",
                "sessions",
                "verification_tokens",
                "authenticators",
            ] {
                assert!(
                    schema.contains(&format!("CREATE TABLE IF NOT EXISTS tenant_{table} (")),
                    "{dialect:?} {table}"
                );
            }
            for index in ["accounts", "sessions", "authenticators"] {
                assert!(
                    schema.contains(&format!("tenant_{index}_user_id_idx")),
                    "{dialect:?}"
                );
            }
            assert_eq!(
                schema.matches("ON DELETE CASCADE").count(),
                3,
                "{dialect:?}"
            );
            // Idempotent: every statement can run on a database that has the schema.
            let statements: Vec<&str> = schema
                .lines()
                .filter(|line| line.starts_with("CREATE "))
                .collect();
            assert!(statements.len() >= 5, "{dialect:?}");
            for statement in statements {
                assert!(
                    statement.starts_with("CREATE TABLE IF NOT EXISTS ")
                        || statement.starts_with("CREATE INDEX IF NOT EXISTS "),
                    "{dialect:?}: {statement}"
                );
            }
        }
        assert!(MIGRATIONS[0]
            .sql(ALL[1], "")
            .contains("COLLATE = utf8mb4_nopad_bin"));
        assert!(MIGRATIONS[0]
            .sql(ALL[2], "")
            .contains("COLLATE = utf8mb4_0900_bin"));
    }

    #[test]
    fn status_lists_what_is_pending_and_refuses_a_newer_database() {
        let fresh: SchemaStatus = status_of::<()>(vec![]).unwrap_or_else(|_| unreachable!());
        assert_eq!(fresh.pending, vec![1, 2]);
        let previous = status_of::<()>(vec![1]).unwrap_or_else(|_| unreachable!());
        assert_eq!(previous.pending, vec![2]);
        let current = status_of::<()>(vec![1, 2]).unwrap_or_else(|_| unreachable!());
        assert!(current.is_current());
        assert!(matches!(
            status_of::<()>(vec![1, 2, latest_version() + 1]),
            Err(MigrateError::Newer { .. })
        ));
    }

    #[test]
    fn lock_keys_are_stable_per_table() {
        assert_eq!(
            lock_key("auth_schema_migrations"),
            lock_key("auth_schema_migrations")
        );
        assert_ne!(
            lock_key("a_schema_migrations"),
            lock_key("b_schema_migrations")
        );
    }
}
