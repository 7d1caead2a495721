//! The adapter-diesel backends: `diesel-postgres`, `diesel-mariadb`, `diesel-sqlite-file`
//! and `diesel-sqlite-memory`. adapter-diesel stores into exactly the tables adapter-sqlx
//! creates, so these backends reuse the sqlx backends' database set-up (a fresh database
//! per scenario on the servers, a fresh file or shared-cache in-memory database on SQLite)
//! and their inspector, which reads the tables with its own sqlx pool and SQL.

use std::future::Future;
use std::time::Duration;

use crate::{DieselAdapter, DieselAdapterBuilder};
use adapter_sqlx::Dialect;
use async_trait::async_trait;
use auth_core::AdapterError;

use adapter_conformance::harness::BackendSpec;
use adapter_conformance::BoxError;
use adapter_sqlx::conformance::{
    server_spec, sqlite_spec, BackendNames, Server, TablesAdapter, TablesAdapterOptions,
    FIXTURE_TIMEOUT, UNREACHABLE_TIMEOUT,
};

/// The names of the adapter-diesel backends.
const NAMES: BackendNames = BackendNames {
    postgres: "diesel-postgres",
    mariadb: "diesel-mariadb",
    sqlite_file: "diesel-sqlite-file",
    sqlite_memory: "diesel-sqlite-memory",
};

/// Every adapter-diesel backend, in report order.
pub fn specs() -> Vec<BackendSpec> {
    NAMES.specs::<DieselAdapter>()
}

/// PostgreSQL through diesel-async: `AUTH_TEST_POSTGRES_URL`, else a `postgres:16-alpine`
/// container.
pub fn postgres_spec() -> BackendSpec {
    server_spec::<DieselAdapter>(NAMES.postgres, Server::Postgres)
}

/// MariaDB through diesel-async: `AUTH_TEST_MARIADB_URL`, else a `mariadb:11` container.
pub fn mariadb_spec() -> BackendSpec {
    server_spec::<DieselAdapter>(NAMES.mariadb, Server::MariaDb)
}

/// A 3-node MariaDB Galera cluster (`AUTH_TEST_GALERA_URLS`), each scenario's calls spread
/// over the nodes in turn: certification conflicts, run again by the adapter.
///
/// ```
/// assert_eq!(adapter_diesel::conformance::galera_spec().name, "diesel-galera");
/// ```
pub fn galera_spec() -> BackendSpec {
    adapter_sqlx::conformance::replicated::galera_spec_of::<DieselAdapter>("diesel-galera")
}

/// SQLite in a fresh temporary file per scenario (WAL mode), removed afterwards.
pub fn sqlite_file_spec() -> BackendSpec {
    sqlite_spec::<DieselAdapter>(NAMES.sqlite_file, false)
}

/// SQLite in a fresh, uniquely named shared-cache in-memory database per scenario.
pub fn sqlite_memory_spec() -> BackendSpec {
    sqlite_spec::<DieselAdapter>(NAMES.sqlite_memory, true)
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

impl TablesAdapterOptions for DieselAdapterBuilder {
    type Adapter = DieselAdapter;
    fn max_connections(self, max: u32) -> Self {
        DieselAdapterBuilder::max_connections(self, max)
    }
    fn min_connections(self, min: u32) -> Self {
        DieselAdapterBuilder::min_connections(self, min)
    }
    fn call_timeout(self, timeout: Duration) -> Self {
        DieselAdapterBuilder::call_timeout(self, timeout)
    }
    fn connect(self) -> impl Future<Output = Result<DieselAdapter, AdapterError>> {
        DieselAdapterBuilder::connect(self)
    }
}

#[cfg(test)]
mod tests {
    use super::specs;
    use adapter_sqlx::conformance::assert_table_specs;

    #[test]
    fn specs_are_named_as_documented() {
        assert_table_specs(
            [
                "diesel-postgres",
                "diesel-mariadb",
                "diesel-sqlite-file",
                "diesel-sqlite-memory",
            ],
            &specs(),
        );
    }
}
