//! `migrate()` and `schema_status()`: the schema and migration history shared with
//! adapter-sqlx and adapter-seaorm (the `auth-sql` crate, table `auth_schema_migrations`),
//! run on one connection taken out of the pool.

use std::future::Future;

use auth_core::{AdapterError, ErrorKind, Operation};
use auth_sql::schema::{self, MigrateError, MigrationConnection, SchemaStatus};
use auth_sql::Dialect;
use deadpool::managed::Object;
use diesel::result::Error as DieselError;
use diesel::sql_types::{BigInt, Text};
use diesel::QueryableByName;
use diesel_async::{RunQueryDsl, SimpleAsyncConnection};

use crate::error;
use crate::pool::DieselPool;

/// The table prefix of this crate's `diesel::table!` definitions (adapter-sqlx's default).
const PREFIX: &str = "auth_";

/// A row of the migrator's one-column queries.
#[derive(QueryableByName)]
struct Version {
    #[diesel(sql_type = BigInt)]
    version: i64,
}

/// A row of `SELECT VERSION()`.
#[derive(QueryableByName)]
struct ServerVersion {
    #[diesel(sql_type = Text)]
    version: String,
}

/// One pooled diesel-async connection as the shared migrator's connection.
struct DieselMigration<'c, C>(&'c mut C);

macro_rules! migration_connection {
    ($feature:literal, $conn:ty) => {
        #[cfg(feature = $feature)]
        impl MigrationConnection for DieselMigration<'_, $conn> {
            type Error = DieselError;

            fn execute(
                &mut self,
                sql: &str,
            ) -> impl Future<Output = Result<(), DieselError>> + Send {
                let sql = sql.to_owned();
                async move { self.0.batch_execute(&sql).await }
            }

            fn query_versions(
                &mut self,
                sql: &str,
            ) -> impl Future<Output = Result<Vec<i64>, DieselError>> + Send {
                // The text is auth-sql's (constants and this crate's prefix).
                let query = diesel::sql_query(sql.to_owned());
                async move {
                    let rows: Vec<Version> = query.load(self.0).await?;
                    Ok(rows.into_iter().map(|row| row.version).collect())
                }
            }
        }
    };
}

migration_connection!("postgres", crate::pool::PgConnection);
migration_connection!("mysql", crate::pool::MysqlConnection);
migration_connection!("sqlite", crate::pool::SqliteConnection);

/// What to do with the shared schema; both end with where the database stands.
#[derive(Clone, Copy)]
enum Task {
    Migrate,
    Status,
}

/// Runs `$task` on one connection of `$pool` (`$dialect`, or the MySQL-family server's own
/// when `None`). A connection whose run failed is closed, not handed back: it may be inside
/// a transaction or hold the migration lock.
macro_rules! run_on {
    ($pool:expr, $dialect:expr, $task:expr) => {{
        let op = Operation::Migrate;
        let mut object = crate::pool::checkout($pool, op).await?;
        let result = async {
            let conn = &mut *object;
            let dialect: Dialect = match $dialect {
                Some(dialect) => dialect,
                None => {
                    let rows: Vec<ServerVersion> = diesel::sql_query("SELECT VERSION() AS version")
                        .load(&mut *conn)
                        .await
                        .map_err(|e| error::map(op, e))?;
                    let version = rows.into_iter().next().map(|row| row.version);
                    Dialect::from_mysql_version(&version.unwrap_or_default())
                }
            };
            let mut migration = DieselMigration(conn);
            if let Task::Migrate = $task {
                schema::migrate(&mut migration, dialect, PREFIX)
                    .await
                    .map_err(map_migrate)?;
            }
            schema::status(&mut migration, dialect, PREFIX)
                .await
                .map_err(map_migrate)
        }
        .await;
        if result.is_err() {
            drop(Object::take(object));
        }
        result
    }};
}

/// Runs `task` on a connection of `pool`.
async fn run(pool: &DieselPool, task: Task) -> Result<SchemaStatus, AdapterError> {
    match pool {
        #[cfg(feature = "postgres")]
        DieselPool::Postgres(pool) => run_on!(pool, Some(Dialect::Postgres), task),
        #[cfg(feature = "mysql")]
        DieselPool::MySql(pool) => run_on!(pool, None, task),
        #[cfg(feature = "sqlite")]
        DieselPool::Sqlite(pool) => run_on!(pool, Some(Dialect::Sqlite), task),
    }
}

/// Applies the pending shared migrations.
pub(crate) async fn migrate(pool: &DieselPool) -> Result<(), AdapterError> {
    run(pool, Task::Migrate).await.map(drop)
}

/// Where the database stands against the shared migrations.
pub(crate) async fn status(pool: &DieselPool) -> Result<SchemaStatus, AdapterError> {
    run(pool, Task::Status).await
}

/// Wraps an error of the shared migrator: the statement's own error when there is one.
fn map_migrate(err: MigrateError<DieselError>) -> AdapterError {
    match err {
        MigrateError::Database(inner) => error::map(Operation::Migrate, inner),
        other => AdapterError::from_driver(Operation::Migrate, ErrorKind::Backend, other),
    }
}
