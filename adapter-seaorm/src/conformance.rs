//! The adapter-seaorm backends: `seaorm-postgres`, `seaorm-mariadb`, `seaorm-sqlite-file`
//! and `seaorm-sqlite-memory`. adapter-seaorm's own migration creates exactly the tables
//! adapter-sqlx creates, so these backends reuse the sqlx backends' database set-up (a
//! fresh database per scenario on the servers, a fresh file or shared-cache in-memory
//! database on SQLite) and their inspector, which reads the tables with its own sqlx pool
//! and SQL.

use crate::SeaOrmAdapter;
use adapter_sqlx::Dialect;
use async_trait::async_trait;
use auth_core::AdapterError;

use adapter_conformance::harness::{BackendSpec, Source};
use adapter_conformance::BoxError;
use adapter_sqlx::conformance::{
    Server, ServerBackend, SqliteBackend, TablesAdapter, FIXTURE_TIMEOUT, MARIADB_CONTAINER,
    MARIADB_ENV, POSTGRES_CONTAINER, POSTGRES_ENV, UNREACHABLE_TIMEOUT,
};

/// Every adapter-seaorm backend, in report order.
pub fn specs() -> Vec<BackendSpec> {
    vec![
        postgres_spec(),
        mariadb_spec(),
        sqlite_file_spec(),
        sqlite_memory_spec(),
    ]
}

/// PostgreSQL through sea-orm: `AUTH_TEST_POSTGRES_URL`, else a `postgres:16-alpine`
/// container.
pub fn postgres_spec() -> BackendSpec {
    BackendSpec {
        name: "seaorm-postgres",
        source: Source::Server {
            env_var: POSTGRES_ENV,
            example_url: "postgres://postgres@127.0.0.1:5432/postgres",
            container: Some(POSTGRES_CONTAINER),
        },
        open: |url| Box::pin(ServerBackend::<SeaOrmAdapter>::open(Server::Postgres, url)),
    }
}

/// MariaDB through sea-orm: `AUTH_TEST_MARIADB_URL`, else a `mariadb:11` container.
pub fn mariadb_spec() -> BackendSpec {
    BackendSpec {
        name: "seaorm-mariadb",
        source: Source::Server {
            env_var: MARIADB_ENV,
            example_url: "mysql://root@127.0.0.1:3306/test",
            container: Some(MARIADB_CONTAINER),
        },
        open: |url| Box::pin(ServerBackend::<SeaOrmAdapter>::open(Server::MariaDb, url)),
    }
}

/// SQLite in a fresh temporary file per scenario (WAL mode), removed afterwards.
pub fn sqlite_file_spec() -> BackendSpec {
    BackendSpec {
        name: "seaorm-sqlite-file",
        source: Source::Embedded,
        open: |_| Box::pin(async { Ok(SqliteBackend::<SeaOrmAdapter>::open(false)) }),
    }
}

/// SQLite in a fresh, uniquely named shared-cache in-memory database per scenario.
pub fn sqlite_memory_spec() -> BackendSpec {
    BackendSpec {
        name: "seaorm-sqlite-memory",
        source: Source::Embedded,
        open: |_| Box::pin(async { Ok(SqliteBackend::<SeaOrmAdapter>::open(true)) }),
    }
}

#[async_trait]
impl TablesAdapter for SeaOrmAdapter {
    async fn open_migrated(url: &str) -> Result<Self, BoxError> {
        let adapter = SeaOrmAdapter::builder(url)
            .max_connections(adapter_sqlx::conformance::FIXTURE_CONNECTIONS)
            .call_timeout(FIXTURE_TIMEOUT)
            .connect()
            .await?;
        SeaOrmAdapter::migrate(&adapter).await?;
        Ok(adapter)
    }

    async fn open_unreachable(url: String) -> Result<Self, AdapterError> {
        SeaOrmAdapter::builder(url)
            .call_timeout(UNREACHABLE_TIMEOUT)
            .connect()
            .await
    }

    fn dialect(&self) -> Dialect {
        SeaOrmAdapter::dialect(self)
    }

    fn table_prefix(&self) -> &str {
        // adapter-seaorm's tables are adapter-sqlx's with its default prefix.
        adapter_sqlx::DEFAULT_TABLE_PREFIX
    }

    async fn migrate(&self) -> Result<(), AdapterError> {
        SeaOrmAdapter::migrate(self).await
    }

    async fn close(&self) {
        SeaOrmAdapter::close(self).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_are_named_as_documented() {
        let names: Vec<_> = specs().iter().map(|s| s.name).collect();
        assert_eq!(
            names,
            [
                "seaorm-postgres",
                "seaorm-mariadb",
                "seaorm-sqlite-file",
                "seaorm-sqlite-memory"
            ]
        );
        assert!(matches!(
            postgres_spec().source,
            Source::Server {
                env_var: "AUTH_TEST_POSTGRES_URL",
                ..
            }
        ));
        assert!(matches!(sqlite_memory_spec().source, Source::Embedded));
    }
}
