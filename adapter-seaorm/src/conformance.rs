//! The adapter-seaorm backends: `seaorm-postgres`, `seaorm-mariadb`, `seaorm-sqlite-file`
//! and `seaorm-sqlite-memory`. adapter-seaorm's own migration creates exactly the tables
//! adapter-sqlx creates, so these backends reuse the sqlx backends' database set-up (a
//! fresh database per scenario on the servers, a fresh file or shared-cache in-memory
//! database on SQLite) and their inspector, which reads the tables with its own sqlx pool
//! and SQL.

use std::future::Future;
use std::time::Duration;

use crate::{SeaOrmAdapter, SeaOrmAdapterBuilder};
use adapter_sqlx::Dialect;
use async_trait::async_trait;
use auth_core::AdapterError;

use adapter_conformance::harness::BackendSpec;
use adapter_conformance::BoxError;
use adapter_sqlx::conformance::{
    server_spec, sqlite_spec, BackendNames, Server, TablesAdapter, TablesAdapterOptions,
    FIXTURE_TIMEOUT, UNREACHABLE_TIMEOUT,
};

/// The names of the adapter-seaorm backends.
const NAMES: BackendNames = BackendNames {
    postgres: "seaorm-postgres",
    mariadb: "seaorm-mariadb",
    sqlite_file: "seaorm-sqlite-file",
    sqlite_memory: "seaorm-sqlite-memory",
};

/// Every adapter-seaorm backend, in report order.
pub fn specs() -> Vec<BackendSpec> {
    NAMES.specs::<SeaOrmAdapter>()
}

/// PostgreSQL through sea-orm: `AUTH_TEST_POSTGRES_URL`, else a `postgres:16-alpine`
/// container.
pub fn postgres_spec() -> BackendSpec {
    server_spec::<SeaOrmAdapter>(NAMES.postgres, Server::Postgres)
}

/// MariaDB through sea-orm: `AUTH_TEST_MARIADB_URL`, else a `mariadb:11` container.
pub fn mariadb_spec() -> BackendSpec {
    server_spec::<SeaOrmAdapter>(NAMES.mariadb, Server::MariaDb)
}

/// A 3-node MariaDB Galera cluster (`AUTH_TEST_GALERA_URLS`), each scenario's calls spread
/// over the nodes in turn: certification conflicts, run again by the adapter.
///
/// ```
/// assert_eq!(adapter_seaorm::conformance::galera_spec().name, "seaorm-galera");
/// ```
pub fn galera_spec() -> BackendSpec {
    adapter_sqlx::conformance::replicated::galera_spec_of::<SeaOrmAdapter>("seaorm-galera")
}

/// SQLite in a fresh temporary file per scenario (WAL mode), removed afterwards.
pub fn sqlite_file_spec() -> BackendSpec {
    sqlite_spec::<SeaOrmAdapter>(NAMES.sqlite_file, false)
}

/// SQLite in a fresh, uniquely named shared-cache in-memory database per scenario.
pub fn sqlite_memory_spec() -> BackendSpec {
    sqlite_spec::<SeaOrmAdapter>(NAMES.sqlite_memory, true)
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

impl TablesAdapterOptions for SeaOrmAdapterBuilder {
    type Adapter = SeaOrmAdapter;
    fn max_connections(self, max: u32) -> Self {
        SeaOrmAdapterBuilder::max_connections(self, max)
    }
    fn min_connections(self, min: u32) -> Self {
        SeaOrmAdapterBuilder::min_connections(self, min)
    }
    fn call_timeout(self, timeout: Duration) -> Self {
        SeaOrmAdapterBuilder::call_timeout(self, timeout)
    }
    fn connect(self) -> impl Future<Output = Result<SeaOrmAdapter, AdapterError>> {
        SeaOrmAdapterBuilder::connect(self)
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
                "seaorm-postgres",
                "seaorm-mariadb",
                "seaorm-sqlite-file",
                "seaorm-sqlite-memory",
            ],
            &specs(),
        );
    }
}
