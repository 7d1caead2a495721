//! The shared schema (auth-sql's migrations and its one history table,
//! `<prefix>schema_migrations`) run over a sqlx connection.
//!
//! [`SqlxMigration`] is public for adapter-seaorm, which reaches its databases through the
//! same sqlx and runs the same migrator on them; apps call
//! [`SqlxAdapter::migrate`](crate::SqlxAdapter::migrate).
//!
//! ```no_run
//! use adapter_sqlx::migrate::SqlxMigration;
//! use adapter_sqlx::sqlx::Connection as _;
//! use auth_sql::{schema, Dialect};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let mut conn = adapter_sqlx::sqlx::SqliteConnection::connect("sqlite::memory:").await?;
//! let applied = schema::migrate(&mut SqlxMigration(&mut conn), Dialect::Sqlite, "auth_").await?;
//! assert_eq!(applied, vec![1]);
//! # Ok(())
//! # }
//! ```

use std::future::Future;

use auth_sql::schema::MigrationConnection;
use sqlx::AssertSqlSafe;

/// One sqlx connection (`PgConnection`, `MySqlConnection` or `SqliteConnection`, as the
/// crate's features allow) as the shared migrator's connection.
#[derive(Debug)]
pub struct SqlxMigration<'c, C>(pub &'c mut C);

macro_rules! migration_connection {
    ($feature:literal, $conn:ty) => {
        #[cfg(feature = $feature)]
        impl MigrationConnection for SqlxMigration<'_, $conn> {
            type Error = sqlx::Error;

            fn execute(
                &mut self,
                sql: &str,
            ) -> impl Future<Output = Result<(), sqlx::Error>> + Send {
                // The text is auth-sql's (constants and a validated prefix).
                let sql = AssertSqlSafe(sql.to_owned());
                async move { sqlx::raw_sql(sql).execute(&mut *self.0).await.map(drop) }
            }

            fn query_versions(
                &mut self,
                sql: &str,
            ) -> impl Future<Output = Result<Vec<i64>, sqlx::Error>> + Send {
                let sql = AssertSqlSafe(sql.to_owned());
                async move {
                    sqlx::query_scalar::<_, i64>(sql)
                        .fetch_all(&mut *self.0)
                        .await
                }
            }
        }
    };
}

migration_connection!("postgres", sqlx::PgConnection);
migration_connection!("mysql", sqlx::MySqlConnection);
migration_connection!("sqlite", sqlx::SqliteConnection);
