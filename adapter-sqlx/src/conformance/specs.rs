//! The backends of every adapter on the adapter-sqlx tables, as `BackendSpec`s: one on each
//! server and two on SQLite. adapter-sqlx, adapter-diesel and adapter-seaorm differ only in
//! the adapter type and the names, so the specs are built here once.

use adapter_conformance::harness::{BackendSpec, Source};

use super::{
    ServerBackend, SqliteBackend, TablesAdapter, MARIADB_CONTAINER, MARIADB_ENV,
    POSTGRES_CONTAINER, POSTGRES_ENV,
};
use crate::conformance::Server;
use crate::SqlxAdapter;

/// The backend of `A` on a server: its URL from the server's variable, else a container;
/// a fresh database per scenario.
///
/// ```
/// use adapter_conformance::harness::Source;
/// use adapter_sqlx::conformance::{server_spec, Server};
/// use adapter_sqlx::SqlxAdapter;
///
/// let spec = server_spec::<SqlxAdapter>("postgres", Server::Postgres);
/// assert!(matches!(spec.source, Source::Server { env_var: "AUTH_TEST_POSTGRES_URL", .. }));
/// ```
pub fn server_spec<A: TablesAdapter>(name: &'static str, server: Server) -> BackendSpec {
    match server {
        Server::Postgres => BackendSpec {
            name,
            source: Source::Server {
                env_var: POSTGRES_ENV,
                example_url: "postgres://postgres@127.0.0.1:5432/postgres",
                container: Some(POSTGRES_CONTAINER),
            },
            open: |url| Box::pin(ServerBackend::<A>::open(Server::Postgres, url)),
        },
        Server::MariaDb => BackendSpec {
            name,
            source: Source::Server {
                env_var: MARIADB_ENV,
                example_url: "mysql://root@127.0.0.1:3306/test",
                container: Some(MARIADB_CONTAINER),
            },
            open: |url| Box::pin(ServerBackend::<A>::open(Server::MariaDb, url)),
        },
    }
}

/// The `postgres-serializable` backend: adapter-sqlx on the PostgreSQL of
/// `AUTH_TEST_POSTGRES_URL` (else a container) with every transaction `SERIALIZABLE`
/// ([`serializable_url`]), the isolation CockroachDB and YugabyteDB always run: concurrent
/// calls fail with serialization errors (SQLSTATE 40001) that the adapter must run again.
///
/// ```
/// let spec = adapter_sqlx::conformance::postgres_serializable_spec();
/// assert_eq!(spec.name, "postgres-serializable");
/// ```
pub fn postgres_serializable_spec() -> BackendSpec {
    BackendSpec {
        name: "postgres-serializable",
        open: |url| {
            Box::pin(ServerBackend::<SqlxAdapter>::open(
                Server::Postgres,
                url.map(|url| serializable_url(&url)),
            ))
        },
        ..server_spec::<SqlxAdapter>("postgres-serializable", Server::Postgres)
    }
}

/// `url` with the connection option that makes every transaction of the session
/// `SERIALIZABLE` (`options=-c default_transaction_isolation=serializable`).
///
/// ```
/// use adapter_sqlx::conformance::serializable_url;
/// assert_eq!(
///     serializable_url("postgres://p@h/db"),
///     "postgres://p@h/db?options=-c%20default_transaction_isolation%3Dserializable"
/// );
/// assert!(serializable_url("postgres://p@h/db?sslmode=disable").contains("disable&options="));
/// ```
pub fn serializable_url(url: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}options=-c%20default_transaction_isolation%3Dserializable")
}

/// The embedded backend of `A` on SQLite: a fresh temporary file per scenario (WAL mode,
/// removed afterwards), or with `memory` a fresh, uniquely named shared-cache in-memory
/// database.
///
/// ```
/// use adapter_conformance::harness::Source;
/// use adapter_sqlx::conformance::sqlite_spec;
/// use adapter_sqlx::SqlxAdapter;
///
/// let spec = sqlite_spec::<SqlxAdapter>("sqlite-memory", true);
/// assert!(matches!(spec.source, Source::Embedded));
/// ```
pub fn sqlite_spec<A: TablesAdapter>(name: &'static str, memory: bool) -> BackendSpec {
    BackendSpec {
        name,
        source: Source::Embedded,
        open: if memory {
            |_| Box::pin(async { Ok(SqliteBackend::<A>::open(true)) })
        } else {
            |_| Box::pin(async { Ok(SqliteBackend::<A>::open(false)) })
        },
    }
}

/// The names of one adapter's backends on the adapter-sqlx tables, one a database.
///
/// ```
/// use adapter_sqlx::conformance::BackendNames;
/// use adapter_sqlx::SqlxAdapter;
///
/// let names = BackendNames {
///     postgres: "postgres",
///     mariadb: "mariadb",
///     sqlite_file: "sqlite-file",
///     sqlite_memory: "sqlite-memory",
/// };
/// assert_eq!(names.specs::<SqlxAdapter>()[2].name, "sqlite-file");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackendNames {
    /// The PostgreSQL backend ([`server_spec`] with [`Server::Postgres`]).
    pub postgres: &'static str,
    /// The MariaDB backend ([`server_spec`] with [`Server::MariaDb`]).
    pub mariadb: &'static str,
    /// The SQLite file backend ([`sqlite_spec`] without `memory`).
    pub sqlite_file: &'static str,
    /// The SQLite in-memory backend ([`sqlite_spec`] with `memory`).
    pub sqlite_memory: &'static str,
}

impl BackendNames {
    /// The four backends of `A`, in report order: PostgreSQL, MariaDB, SQLite file, SQLite
    /// in memory.
    pub fn specs<A: TablesAdapter>(&self) -> Vec<BackendSpec> {
        vec![
            server_spec::<A>(self.postgres, Server::Postgres),
            server_spec::<A>(self.mariadb, Server::MariaDb),
            sqlite_spec::<A>(self.sqlite_file, false),
            sqlite_spec::<A>(self.sqlite_memory, true),
        ]
    }
}

/// Checks a crate's `specs()`: named `names` in report order (PostgreSQL, MariaDB, SQLite
/// file, SQLite in memory), the servers read from their documented variables, and the
/// in-memory backend is embedded.
///
/// ```
/// adapter_sqlx::conformance::assert_table_specs(
///     ["postgres", "mariadb", "sqlite-file", "sqlite-memory"],
///     &adapter_sqlx::conformance::specs(),
/// );
/// ```
pub fn assert_table_specs(names: [&str; 4], specs: &[BackendSpec]) {
    let actual: Vec<_> = specs.iter().map(|s| s.name).collect();
    assert_eq!(actual, names);
    assert!(matches!(
        specs[0].source,
        Source::Server {
            env_var: "AUTH_TEST_POSTGRES_URL",
            ..
        }
    ));
    assert!(matches!(
        specs[1].source,
        Source::Server {
            env_var: "AUTH_TEST_MARIADB_URL",
            ..
        }
    ));
    assert!(matches!(specs[3].source, Source::Embedded));
}

/// The names of the adapter-sqlx backends.
const NAMES: BackendNames = BackendNames {
    postgres: "postgres",
    mariadb: "mariadb",
    sqlite_file: "sqlite-file",
    sqlite_memory: "sqlite-memory",
};

/// Every adapter-sqlx backend, in report order.
pub fn specs() -> Vec<BackendSpec> {
    NAMES.specs::<SqlxAdapter>()
}

/// PostgreSQL: `AUTH_TEST_POSTGRES_URL`, else a `postgres:16-alpine` container.
pub fn postgres_spec() -> BackendSpec {
    server_spec::<SqlxAdapter>(NAMES.postgres, Server::Postgres)
}

/// MariaDB (or MySQL 8): `AUTH_TEST_MARIADB_URL`, else a `mariadb:11` container.
pub fn mariadb_spec() -> BackendSpec {
    server_spec::<SqlxAdapter>(NAMES.mariadb, Server::MariaDb)
}

/// SQLite in a fresh temporary file per scenario (WAL mode), removed afterwards.
pub fn sqlite_file_spec() -> BackendSpec {
    sqlite_spec::<SqlxAdapter>(NAMES.sqlite_file, false)
}

/// SQLite in a fresh, uniquely named shared-cache in-memory database per scenario.
pub fn sqlite_memory_spec() -> BackendSpec {
    sqlite_spec::<SqlxAdapter>(NAMES.sqlite_memory, true)
}
