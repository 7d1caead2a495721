//! `migrate()`: diesel_migrations with the migrations embedded per dialect, run on a
//! connection taken out of the pool and wrapped in diesel-async's
//! `AsyncConnectionWrapper` on a blocking thread (diesel_migrations is synchronous).

use auth_core::{AdapterError, ErrorKind, Operation};
use deadpool::managed::Object;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness};

use crate::pool::DieselPool;

/// The PostgreSQL migrations (`migrations/postgres`).
#[cfg(feature = "postgres")]
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations =
    diesel_migrations::embed_migrations!("migrations/postgres");
/// The MariaDB/MySQL migrations (`migrations/mysql`).
#[cfg(feature = "mysql")]
pub const MYSQL_MIGRATIONS: EmbeddedMigrations =
    diesel_migrations::embed_migrations!("migrations/mysql");
/// The SQLite migrations (`migrations/sqlite`).
#[cfg(feature = "sqlite")]
pub const SQLITE_MIGRATIONS: EmbeddedMigrations =
    diesel_migrations::embed_migrations!("migrations/sqlite");

/// A migration failure (diesel_migrations gives a boxed error).
#[derive(Debug)]
struct MigrationFailure(Box<dyn std::error::Error + Send + Sync>);

impl std::fmt::Display for MigrationFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "migration failed: {}", self.0)
    }
}

impl std::error::Error for MigrationFailure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

/// Runs `$migrations` on a connection taken from `$pool`.
macro_rules! migrate_on {
    ($pool:expr, $migrations:expr) => {{
        let object = crate::pool::checkout($pool, Operation::Migrate).await?;
        // Out of the pool for good: the wrapper owns it, and drops it when done.
        let conn = Object::take(object);
        tokio::task::spawn_blocking(move || {
            let mut conn: diesel_async::async_connection_wrapper::AsyncConnectionWrapper<_> =
                diesel_async::async_connection_wrapper::AsyncConnectionWrapper::from(conn);
            conn.run_pending_migrations($migrations)
                .map(|_| ())
                .map_err(MigrationFailure)
        })
        .await
        .map_err(|e| AdapterError::from_driver(Operation::Migrate, ErrorKind::Backend, e))?
        .map_err(|e| AdapterError::from_driver(Operation::Migrate, ErrorKind::Backend, e))
    }};
}

/// Applies the pending migrations of the pool's dialect.
pub(crate) async fn run(pool: &DieselPool) -> Result<(), AdapterError> {
    match pool {
        #[cfg(feature = "postgres")]
        DieselPool::Postgres(pool) => migrate_on!(pool, POSTGRES_MIGRATIONS),
        #[cfg(feature = "mysql")]
        DieselPool::MySql(pool) => migrate_on!(pool, MYSQL_MIGRATIONS),
        #[cfg(feature = "sqlite")]
        DieselPool::Sqlite(pool) => migrate_on!(pool, SQLITE_MIGRATIONS),
    }
}
