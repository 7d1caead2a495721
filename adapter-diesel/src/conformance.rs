//! The adapter-diesel backends: `diesel-postgres`, `diesel-mariadb`, `diesel-sqlite-file`
//! and `diesel-sqlite-memory`. adapter-diesel stores into exactly the tables adapter-sqlx
//! creates, so these backends reuse the sqlx backends' database set-up (a fresh database
//! per scenario on the servers, a fresh file or shared-cache in-memory database on SQLite)
//! and their inspector, which reads the tables with its own sqlx pool and SQL.

use crate::DieselAdapter;
use adapter_sqlx::Dialect;
use async_trait::async_trait;
use auth_core::AdapterError;

use adapter_conformance::harness::{BackendSpec, Source};
use adapter_conformance::BoxError;
use adapter_sqlx::conformance::{
    Server, ServerBackend, SqliteBackend, TablesAdapter, FIXTURE_TIMEOUT, MARIADB_CONTAINER,
    MARIADB_ENV, POSTGRES_CONTAINER, POSTGRES_ENV, UNREACHABLE_TIMEOUT,
};

/// Every adapter-diesel backend, in report order.
pub fn specs() -> Vec<BackendSpec> {
    vec![
        postgres_spec(),
        mariadb_spec(),
        sqlite_file_spec(),
        sqlite_memory_spec(),
    ]
}

/// PostgreSQL through diesel-async: `AUTH_TEST_POSTGRES_URL`, else a `postgres:16-alpine`
/// container.
pub fn postgres_spec() -> BackendSpec {
    BackendSpec {
        name: "diesel-postgres",
        source: Source::Server {
            env_var: POSTGRES_ENV,
            example_url: "postgres://postgres@127.0.0.1:5432/postgres",
            container: Some(POSTGRES_CONTAINER),
        },
        open: |url| Box::pin(ServerBackend::<DieselAdapter>::open(Server::Postgres, url)),
    }
}

/// MariaDB through diesel-async: `AUTH_TEST_MARIADB_URL`, else a `mariadb:11` container.
pub fn mariadb_spec() -> BackendSpec {
    BackendSpec {
        name: "diesel-mariadb",
        source: Source::Server {
            env_var: MARIADB_ENV,
            example_url: "mysql://root@127.0.0.1:3306/test",
            container: Some(MARIADB_CONTAINER),
        },
        open: |url| Box::pin(ServerBackend::<DieselAdapter>::open(Server::MariaDb, url)),
    }
}

/// SQLite in a fresh temporary file per scenario (WAL mode), removed afterwards.
pub fn sqlite_file_spec() -> BackendSpec {
    BackendSpec {
        name: "diesel-sqlite-file",
        source: Source::Embedded,
        open: |_| Box::pin(async { Ok(SqliteBackend::<DieselAdapter>::open(false)) }),
    }
}

/// SQLite in a fresh, uniquely named shared-cache in-memory database per scenario.
pub fn sqlite_memory_spec() -> BackendSpec {
    BackendSpec {
        name: "diesel-sqlite-memory",
        source: Source::Embedded,
        open: |_| Box::pin(async { Ok(SqliteBackend::<DieselAdapter>::open(true)) }),
    }
}

#[async_trait]
impl TablesAdapter for DieselAdapter {
    async fn open_migrated(url: &str) -> Result<Self, BoxError> {
        let adapter = DieselAdapter::builder(url)
            .max_connections(adapter_sqlx::conformance::FIXTURE_CONNECTIONS)
            .call_timeout(FIXTURE_TIMEOUT)
            .connect()
            .await?;
        DieselAdapter::migrate(&adapter).await?;
        Ok(adapter)
    }

    async fn open_unreachable(url: String) -> Result<Self, AdapterError> {
        DieselAdapter::builder(url)
            .call_timeout(UNREACHABLE_TIMEOUT)
            .connect()
            .await
    }

    fn dialect(&self) -> Dialect {
        match DieselAdapter::dialect(self) {
            crate::Dialect::Postgres => Dialect::Postgres,
            crate::Dialect::Sqlite => Dialect::Sqlite,
            // The inspector's SQL is the same for every MariaDB/MySQL version.
            _ => Dialect::MariaDb {
                major: 10,
                minor: 5,
            },
        }
    }

    fn table_prefix(&self) -> &str {
        // adapter-diesel's tables are adapter-sqlx's with its default prefix.
        adapter_sqlx::DEFAULT_TABLE_PREFIX
    }

    async fn migrate(&self) -> Result<(), AdapterError> {
        DieselAdapter::migrate(self).await
    }

    async fn close(&self) {
        DieselAdapter::close(self).await
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
                "diesel-postgres",
                "diesel-mariadb",
                "diesel-sqlite-file",
                "diesel-sqlite-memory"
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
