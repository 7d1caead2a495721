//! The adapter-seaorm backends: `seaorm-postgres` and `seaorm-mariadb` on servers (a fresh
//! database per scenario, dropped afterwards), and the embedded `seaorm-sqlite-file` and
//! `seaorm-sqlite-memory`.
//!
//! adapter-seaorm writes exactly the schema adapter-sqlx writes, so the raw reader is the
//! sqlx backend's (`SqlxInspector` in `backends/sqlx.rs`), on a database that
//! adapter-seaorm's own migration created; only `migrate`, `unreachable` and `teardown` are
//! adapter-seaorm's.

use std::sync::Arc;

use adapter_seaorm::SeaOrmAdapter;
use adapter_sqlx::SqlxAdapter;
use async_trait::async_trait;
use auth_core::{Account, Adapter, AdapterError, Authenticator, Session, User, VerificationToken};

use crate::backends::sqlx::{
    database_url, fresh_database_name, sqlite_memory_url, sqlite_pool, start_mariadb,
    start_postgres, Namespace, RawPool, Server, ServerBackend, SqlxInspector, FIXTURE_TIMEOUT,
    MARIADB_ENV, MARIADB_IMAGE, POSTGRES_ENV, POSTGRES_IMAGE, UNREACHABLE_TIMEOUT,
};
use crate::fixture::{Backend, BoxError, Fixture, Inspector, Unreachable, UserRecords};
use crate::harness::{BackendSpec, ContainerPlan, Source};

/// Every adapter-seaorm backend, in report order.
pub(crate) fn specs() -> Vec<BackendSpec> {
    vec![
        postgres_spec(),
        mariadb_spec(),
        sqlite_file_spec(),
        sqlite_memory_spec(),
    ]
}

/// PostgreSQL: `AUTH_TEST_POSTGRES_URL`, else a `postgres:16-alpine` container.
pub fn postgres_spec() -> BackendSpec {
    BackendSpec {
        name: "seaorm-postgres",
        source: Source::Server {
            env_var: POSTGRES_ENV,
            example_url: "postgres://postgres@127.0.0.1:5432/postgres",
            container: Some(ContainerPlan {
                image: POSTGRES_IMAGE.0,
                tag: POSTGRES_IMAGE.1,
                start: start_postgres,
            }),
        },
        open: |url| Box::pin(ServerBackendSeaOrm::open(Server::Postgres, url)),
    }
}

/// MariaDB (or MySQL 8): `AUTH_TEST_MARIADB_URL`, else a `mariadb:11` container.
pub fn mariadb_spec() -> BackendSpec {
    BackendSpec {
        name: "seaorm-mariadb",
        source: Source::Server {
            env_var: MARIADB_ENV,
            example_url: "mysql://root@127.0.0.1:3306/test",
            container: Some(ContainerPlan {
                image: MARIADB_IMAGE.0,
                tag: MARIADB_IMAGE.1,
                start: start_mariadb,
            }),
        },
        open: |url| Box::pin(ServerBackendSeaOrm::open(Server::MariaDb, url)),
    }
}

/// SQLite in a fresh temporary file per scenario (WAL mode), removed afterwards.
pub fn sqlite_file_spec() -> BackendSpec {
    BackendSpec {
        name: "seaorm-sqlite-file",
        source: Source::Embedded,
        open: |_| {
            Box::pin(async { Ok(Arc::new(SqliteBackend { memory: false }) as Arc<dyn Backend>) })
        },
    }
}

/// SQLite in a fresh, uniquely named shared-cache in-memory database per scenario.
pub fn sqlite_memory_spec() -> BackendSpec {
    BackendSpec {
        name: "seaorm-sqlite-memory",
        source: Source::Embedded,
        open: |_| {
            Box::pin(async { Ok(Arc::new(SqliteBackend { memory: true }) as Arc<dyn Backend>) })
        },
    }
}

/// An adapter-seaorm adapter on `url`, migrated by its own migrator, and the sqlx
/// inspector of the same database.
async fn set_up(
    url: &str,
    raw: impl std::future::Future<Output = Result<RawPool, BoxError>>,
    namespace: Namespace,
) -> Result<Fixture, (BoxError, Namespace)> {
    let made = async {
        let adapter = SeaOrmAdapter::builder(url)
            .max_connections(8)
            .acquire_timeout(FIXTURE_TIMEOUT)
            .connect()
            .await?;
        adapter.migrate().await?;
        // Only for the inspector's dialect and table prefix: it never migrates or writes.
        let reader = SqlxAdapter::builder(url)
            .max_connections(1)
            .acquire_timeout(FIXTURE_TIMEOUT)
            .connect()
            .await?;
        Ok::<_, BoxError>((adapter, reader, raw.await?))
    };
    match made.await {
        Ok((adapter, reader, raw)) => Ok(Fixture {
            adapter: Arc::new(adapter.clone()),
            inspector: Box::new(SeaOrmInspector {
                adapter,
                inner: SqlxInspector {
                    adapter: reader,
                    raw,
                    namespace,
                },
            }),
        }),
        Err(err) => Err((err, namespace)),
    }
}

/// Hands out a fresh database per scenario on one server, through one admin pool.
#[derive(Debug)]
struct ServerBackendSeaOrm {
    server: Server,
    url: String,
    admin: RawPool,
}

impl ServerBackendSeaOrm {
    async fn open(server: Server, url: Option<String>) -> Result<Arc<dyn Backend>, BoxError> {
        let url = url.ok_or("a server backend needs a URL")?;
        let admin = RawPool::connect(server, &url).await?;
        Ok(Arc::new(Self { server, url, admin }))
    }
}

#[async_trait]
impl Backend for ServerBackendSeaOrm {
    async fn fixture(&self) -> Result<Fixture, BoxError> {
        let name = fresh_database_name();
        self.admin
            .execute(format!("CREATE DATABASE {name}"))
            .await?;
        let url = database_url(&self.url, &name)?;
        let namespace = Namespace::Database {
            admin: self.admin.clone(),
            server: self.server,
            name: name.clone(),
        };
        match set_up(&url, RawPool::connect(self.server, &url), namespace).await {
            Ok(fixture) => Ok(fixture),
            Err((err, _)) => {
                if let Err(drop_err) =
                    ServerBackend::drop_database(&self.admin, self.server, &name).await
                {
                    tracing::warn!(%name, "could not drop a half-made fixture database: {drop_err}");
                }
                Err(err)
            }
        }
    }
}

/// Hands out a fresh SQLite database per scenario.
#[derive(Debug, Clone, Copy)]
struct SqliteBackend {
    memory: bool,
}

#[async_trait]
impl Backend for SqliteBackend {
    async fn fixture(&self) -> Result<Fixture, BoxError> {
        let unique = uuid::Uuid::now_v7().simple().to_string();
        let (url, namespace) = if self.memory {
            (
                sqlite_memory_url(&format!("seaorm-{unique}")),
                Namespace::Memory,
            )
        } else {
            let dir = std::env::temp_dir().join(format!("auth-seaorm-{unique}"));
            std::fs::create_dir_all(&dir)?;
            let path = dir.join("auth.db");
            (
                format!("sqlite://{}?mode=rwc", path.display()),
                Namespace::Directory(dir),
            )
        };
        let raw = async { Ok(RawPool::Sqlite(sqlite_pool(&url).await?)) };
        match set_up(&url, raw, namespace).await {
            Ok(fixture) => Ok(fixture),
            Err((err, namespace)) => {
                if let Namespace::Directory(dir) = &namespace {
                    let _ = std::fs::remove_dir_all(dir);
                }
                Err(err)
            }
        }
    }
}

/// The sqlx inspector's raw reads, with adapter-seaorm's migrate, outage and teardown.
#[derive(Debug)]
struct SeaOrmInspector {
    adapter: SeaOrmAdapter,
    inner: SqlxInspector,
}

#[async_trait]
impl Inspector for SeaOrmInspector {
    async fn stored_user(&self, id: &str) -> Result<Option<User>, BoxError> {
        self.inner.stored_user(id).await
    }

    async fn stored_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> Result<Option<Account>, BoxError> {
        self.inner
            .stored_account(provider, provider_account_id)
            .await
    }

    async fn stored_session(&self, session_token: &str) -> Result<Option<Session>, BoxError> {
        self.inner.stored_session(session_token).await
    }

    async fn stored_verification_token(
        &self,
        identifier: &str,
        token: &str,
    ) -> Result<Option<VerificationToken>, BoxError> {
        self.inner
            .stored_verification_token(identifier, token)
            .await
    }

    async fn stored_authenticator(
        &self,
        credential_id: &str,
    ) -> Result<Option<Authenticator>, BoxError> {
        self.inner.stored_authenticator(credential_id).await
    }

    async fn records_of_user(&self, user_id: &str) -> Result<UserRecords, BoxError> {
        self.inner.records_of_user(user_id).await
    }

    async fn migrate(&self) -> Result<(), AdapterError> {
        self.adapter.migrate().await
    }

    async fn unreachable(&self) -> Unreachable {
        let url = match self.adapter.flavor() {
            adapter_seaorm::Flavor::Postgres => format!(
                "postgres://postgres@127.0.0.1:{}/postgres",
                crate::harness::dead_port()
            ),
            adapter_seaorm::Flavor::Sqlite => {
                // A file in a directory that does not exist cannot be opened.
                let dir = std::env::temp_dir().join(format!(
                    "auth-seaorm-missing-{}",
                    uuid::Uuid::now_v7().simple()
                ));
                format!("sqlite://{}?mode=rwc", dir.join("auth.db").display())
            }
            _ => format!(
                "mysql://root@127.0.0.1:{}/test",
                crate::harness::dead_port()
            ),
        };
        let adapter = SeaOrmAdapter::builder(url)
            .acquire_timeout(UNREACHABLE_TIMEOUT)
            .connect()
            .await
            .map(|adapter| Arc::new(adapter) as Arc<dyn Adapter>);
        Unreachable {
            timeout: UNREACHABLE_TIMEOUT,
            adapter,
        }
    }

    async fn teardown(&self) -> Result<(), BoxError> {
        self.adapter.close().await;
        self.inner.teardown().await
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
    }
}
