//! adapter-sqlx on the @auth/drizzle-adapter default schema: `postgres-drizzle`,
//! `sqlite-drizzle` and `mariadb-drizzle` backends and their gaps.

use std::sync::Arc;

use crate::sqlx::{self, MySqlPool, PgPool};
use crate::{Layout, SqlxAdapter};
use async_trait::async_trait;

use super::super::{
    database_url, open_migrated_on, sqlite_pool, RawPool, FIXTURE_TIMEOUT, MARIADB_CONTAINER,
    MARIADB_ENV, POSTGRES_CONTAINER, POSTGRES_ENV,
};
use super::extra_columns::add_columns;
use super::inspector::{AuthJsInspector, Place, DRIZZLE_TABLES};
use super::schema::{fresh_schema_name, raw_pool, search_path_url};
use adapter_conformance::harness::{BackendSpec, Source};
use adapter_conformance::{Backend, BoxError, Fixture, Gap};

/// The @auth/drizzle-adapter default schema on PostgreSQL: `AUTH_TEST_POSTGRES_URL`, else a
/// container; a schema per fixture.
pub fn postgres_drizzle_spec() -> BackendSpec {
    BackendSpec {
        name: "postgres-drizzle",
        source: Source::Server {
            env_var: POSTGRES_ENV,
            example_url: "postgres://postgres@127.0.0.1:5432/postgres",
            container: Some(POSTGRES_CONTAINER),
        },
        open: |url| Box::pin(DrizzleBackend::open_postgres(url)),
    }
}

/// The @auth/drizzle-adapter default schema on SQLite: a fresh file per fixture.
pub fn sqlite_drizzle_spec() -> BackendSpec {
    BackendSpec {
        name: "sqlite-drizzle",
        source: Source::Embedded,
        open: |_| Box::pin(async { Ok(Arc::new(DrizzleBackend::Sqlite) as Arc<dyn Backend>) }),
    }
}

/// The @auth/drizzle-adapter default schema on MariaDB: `AUTH_TEST_MARIADB_URL`, else a
/// container; a database per fixture.
pub fn mariadb_drizzle_spec() -> BackendSpec {
    BackendSpec {
        name: "mariadb-drizzle",
        source: Source::Server {
            env_var: MARIADB_ENV,
            example_url: "mysql://root@127.0.0.1:3306/test",
            container: Some(MARIADB_CONTAINER),
        },
        open: |url| Box::pin(DrizzleBackend::open_mariadb(url)),
    }
}

/// Why most MariaDB gaps fail: they compare a session's or token's expiry to the millisecond.
const SECONDS: &str = "Drizzle's MySQL schema stores session and verification token expiry \
     as TIMESTAMP without fractional seconds: the milliseconds are dropped (the scenario \
     compares them, and its instants are never on a whole second)";

/// The scenarios the Drizzle layout fails by design on MariaDB.
pub const MARIADB_DRIZZLE_GAPS: &[Gap] = &[
    Gap {
        scenario: "s04_create_and_read_session",
        reason: SECONDS,
    },
    Gap {
        scenario: "s06_update_session_changes_expiry",
        reason: SECONDS,
    },
    Gap {
        scenario: "s08_delete_session_removes_it",
        reason: SECONDS,
    },
    Gap {
        scenario: "s09_verification_token_used_once",
        reason: SECONDS,
    },
    Gap {
        scenario: "s14_wrong_token_is_refused",
        reason: SECONDS,
    },
    Gap {
        scenario: "s17_duplicates_conflict",
        reason: SECONDS,
    },
    Gap {
        scenario: "s18_delete_user_cascades_everything",
        reason: SECONDS,
    },
    Gap {
        scenario: "s19_expired_records_are_never_returned",
        reason: SECONDS,
    },
    Gap {
        scenario: "s24_hostile_strings_are_plain_data",
        reason: SECONDS,
    },
    Gap {
        scenario: "s25_dates_round_trip",
        reason: "Drizzle's MySQL schema stores instants as TIMESTAMP, whose range is \
                 1970-01-01 to 2038-01-19: earlier and later dates are refused",
    },
    Gap {
        scenario: "s29_migrate_is_idempotent",
        reason: SECONDS,
    },
    Gap {
        scenario: "s31_expired_session_is_not_revived",
        reason: SECONDS,
    },
    Gap {
        scenario: "s33_session_moves_to_another_user",
        reason: SECONDS,
    },
    Gap {
        scenario: "s36_counts_are_exact",
        reason: SECONDS,
    },
    Gap {
        scenario: "s41_update_session_writes_session_data",
        reason: SECONDS,
    },
    Gap {
        scenario: "s42_extra_field_rules_are_invalid_input",
        reason: SECONDS,
    },
];

/// The scenarios the Drizzle layout fails by design on PostgreSQL: none.
pub const POSTGRES_DRIZZLE_GAPS: &[Gap] = &[];

/// The scenarios the Drizzle layout fails by design on SQLite.
pub const SQLITE_DRIZZLE_GAPS: &[Gap] = &[Gap {
    scenario: "s23_email_is_case_insensitive",
    reason: "SQLite's lower() folds ASCII letters only (the layout cannot add a column, and \
             an index on an application-defined function would break the Node adapter), so \
             non-ASCII letters of an email match only in the case they were stored",
}];

/// Connects an adapter-sqlx adapter on the Drizzle layout to `url` and migrates.
pub async fn open_drizzle(url: &str) -> Result<SqlxAdapter, BoxError> {
    open_migrated_on(Layout::AuthJsDrizzle, url).await
}

/// A fresh SQLite file for one fixture: its directory (removed at teardown) and the URLs of
/// the file for sqlx (`sqlite://…?mode=rwc`) and for libsql (`file:…`).
///
/// ```
/// let (dir, sqlx_url, libsql_url) = adapter_sqlx::conformance::authjs::fresh_sqlite_file();
/// assert!(sqlx_url.starts_with("sqlite://") && sqlx_url.ends_with("auth.db?mode=rwc"));
/// assert!(libsql_url.starts_with("file:") && libsql_url.ends_with("auth.db"));
/// assert!(!dir.exists());
/// ```
pub fn fresh_sqlite_file() -> (std::path::PathBuf, String, String) {
    let dir = std::env::temp_dir().join(format!("auth-drizzle-{}", uuid::Uuid::now_v7().simple()));
    let path = dir.join("auth.db");
    (
        dir,
        format!("sqlite://{}?mode=rwc", path.display()),
        format!("file:{}", path.display()),
    )
}

/// Hands out fresh Drizzle-layout fixtures.
#[derive(Debug)]
enum DrizzleBackend {
    /// A schema per fixture on one PostgreSQL server.
    Postgres { url: String, admin: PgPool },
    /// A file per fixture.
    Sqlite,
    /// A database per fixture on one MariaDB server.
    MariaDb { url: String, admin: MySqlPool },
}

impl DrizzleBackend {
    async fn open_postgres(url: Option<String>) -> Result<Arc<dyn Backend>, BoxError> {
        let url = url.ok_or("a server backend needs a URL")?;
        let admin = raw_pool(&url).await?;
        Ok(Arc::new(Self::Postgres { url, admin }))
    }

    async fn open_mariadb(url: Option<String>) -> Result<Arc<dyn Backend>, BoxError> {
        let url = url.ok_or("a server backend needs a URL")?;
        let admin = mysql_pool(&url).await?;
        Ok(Arc::new(Self::MariaDb { url, admin }))
    }
}

async fn mysql_pool(url: &str) -> Result<MySqlPool, BoxError> {
    Ok(sqlx::mysql::MySqlPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(FIXTURE_TIMEOUT)
        .connect(url)
        .await?)
}

/// A fresh database name: `auth_drizzle_` and 32 hex digits (nothing to quote).
fn fresh_database_name() -> String {
    format!("auth_drizzle_{}", uuid::Uuid::now_v7().simple())
}

#[async_trait]
impl Backend for DrizzleBackend {
    async fn fixture(&self) -> Result<Fixture, BoxError> {
        let (url, raw, place) = match self {
            Self::Postgres { url, admin } => {
                let schema = fresh_schema_name();
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
                    .execute(admin)
                    .await?;
                let url = search_path_url(url, &schema);
                let place = Place::Schema {
                    admin: admin.clone(),
                    name: schema,
                };
                match raw_pool(&url).await {
                    Ok(raw) => (url, Some(RawPool::Postgres(raw)), place),
                    Err(err) => {
                        place.remove().await?;
                        return Err(err);
                    }
                }
            }
            Self::MariaDb { url, admin } => {
                let name = fresh_database_name();
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(admin)
                    .await?;
                let place = Place::Database {
                    admin: admin.clone(),
                    name: name.clone(),
                };
                let opened = async {
                    let url = database_url(url, &name)?;
                    let raw = mysql_pool(&url).await?;
                    Ok::<_, BoxError>((url, raw))
                };
                match opened.await {
                    Ok((url, raw)) => (url, Some(RawPool::MySql(raw)), place),
                    Err(err) => {
                        place.remove().await?;
                        return Err(err);
                    }
                }
            }
            Self::Sqlite => {
                let (dir, url, _) = fresh_sqlite_file();
                std::fs::create_dir_all(&dir)?;
                let place = Place::Directory(dir);
                // The adapter creates the file; the inspector opens it afterwards.
                (url, None, place)
            }
        };
        let set_up = async {
            let adapter = open_drizzle(&url).await?;
            let raw = match raw {
                Some(raw) => raw,
                None => RawPool::Sqlite(sqlite_pool(&url).await?),
            };
            add_columns(&adapter, &raw, &DRIZZLE_TABLES).await?;
            Ok::<_, BoxError>((adapter, raw))
        };
        match set_up.await {
            Ok((adapter, raw)) => Ok(Fixture {
                adapter: Arc::new(adapter.clone()),
                inspector: Box::new(AuthJsInspector {
                    adapter,
                    raw,
                    place,
                    tables: &DRIZZLE_TABLES,
                }),
            }),
            Err(err) => {
                if let Err(remove_err) = place.remove().await {
                    tracing::warn!("could not remove a half-made fixture: {remove_err}");
                }
                Err(err)
            }
        }
    }

    fn gaps(&self) -> &'static [Gap] {
        match self {
            Self::Postgres { .. } => POSTGRES_DRIZZLE_GAPS,
            Self::Sqlite => SQLITE_DRIZZLE_GAPS,
            Self::MariaDb { .. } => MARIADB_DRIZZLE_GAPS,
        }
    }
}
