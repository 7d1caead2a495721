//! adapter-sqlx on the Auth.js layouts: `postgres-authjs` (the @auth/pg-adapter schema),
//! `postgres-drizzle`, `sqlite-drizzle` and `mariadb-drizzle` (the @auth/drizzle-adapter
//! default schema).
//!
//! The Auth.js table names are fixed, so each PostgreSQL fixture lives in its own schema
//! (`authjs_test_<hex>`) of the server's database, chosen for every connection by the URL's
//! `options=-c search_path=<schema>` ([`search_path_url`]); teardown drops the schema.
//! Each SQLite fixture is a fresh file, each MariaDB fixture a fresh database. On the pg-adapter layout the database assigns the
//! user ids, so its fixtures are wrapped in [`AssignedIds::fixture`] (Drizzle keeps the ids
//! it is given); the scenarios a layout cannot hold are its [`gaps`](Backend::gaps).
//!
//! The inspector reads the Auth.js tables with its own pool and its own SQL, timestamps
//! converted to epoch milliseconds by the database.

use std::sync::Arc;

use super::decode::{
    account_from, authenticator_from, session_from, user_from, user_records_from,
    verification_token_from, AccountTuple, AuthenticatorTuple, SessionTuple, UserTuple,
    VerificationTokenTuple,
};
use crate::sqlx::{self, MySqlPool, PgPool};
use crate::{Layout, SqlxAdapter};
use async_trait::async_trait;
use auth_core::{Account, AdapterError, Authenticator, Session, User, VerificationToken};

use super::{
    database_url, dead_server_url, numbered_placeholders, on_raw, sqlite_pool, unreachable_from,
    RawPool, Server, FIXTURE_CONNECTIONS, FIXTURE_TIMEOUT, MARIADB_CONTAINER, MARIADB_ENV,
    POSTGRES_CONTAINER, POSTGRES_ENV, UNREACHABLE_TIMEOUT,
};
use adapter_conformance::backends::assigned_ids::AssignedIds;
use adapter_conformance::harness::{BackendSpec, Source};
use adapter_conformance::{Backend, BoxError, Fixture, Gap, Inspector, Unreachable, UserRecords};

mod drizzle;
mod inspector;
pub use drizzle::{
    fresh_sqlite_file, mariadb_drizzle_spec, open_drizzle, postgres_drizzle_spec,
    sqlite_drizzle_spec, MARIADB_DRIZZLE_GAPS, POSTGRES_DRIZZLE_GAPS, SQLITE_DRIZZLE_GAPS,
};
use inspector::{AuthJsInspector, Place, DRIZZLE_TABLES, PG_ADAPTER_TABLES};

/// Every Auth.js-layout backend of adapter-sqlx, in report order.
pub fn specs() -> Vec<BackendSpec> {
    vec![
        postgres_authjs_spec(),
        postgres_drizzle_spec(),
        sqlite_drizzle_spec(),
        mariadb_drizzle_spec(),
    ]
}

/// The @auth/pg-adapter layout on PostgreSQL: `AUTH_TEST_POSTGRES_URL`, else a container.
pub fn postgres_authjs_spec() -> BackendSpec {
    BackendSpec {
        name: "postgres-authjs",
        source: Source::Server {
            env_var: POSTGRES_ENV,
            example_url: "postgres://postgres@127.0.0.1:5432/postgres",
            container: Some(POSTGRES_CONTAINER),
        },
        open: |url| Box::pin(PgAuthJsBackend::open(url)),
    }
}

/// The scenarios the @auth/pg-adapter layout fails by design.
pub const PG_GAPS: &[Gap] = &[Gap {
    scenario: "s17_duplicates_conflict",
    reason: "the database assigns user ids (SERIAL): a repeated id is a new user, not a \
                 Conflict",
}];

/// `url` with every connection's `search_path` set to `schema` (PostgreSQL's `options`
/// connection parameter, which sqlx and node-postgres both read from the URL).
///
/// ```
/// use adapter_sqlx::conformance::authjs::search_path_url;
/// assert_eq!(
///     search_path_url("postgres://postgres@127.0.0.1:5432/postgres", "s1"),
///     "postgres://postgres@127.0.0.1:5432/postgres?options=-c%20search_path%3Ds1"
/// );
/// assert_eq!(
///     search_path_url("postgres://h/db?sslmode=disable", "s1"),
///     "postgres://h/db?sslmode=disable&options=-c%20search_path%3Ds1"
/// );
/// ```
pub fn search_path_url(url: &str, schema: &str) -> String {
    let joint = if url.contains('?') { '&' } else { '?' };
    format!("{url}{joint}options=-c%20search_path%3D{schema}")
}

/// A fresh schema name: `authjs_test_` and 32 hex digits (nothing to quote).
pub fn fresh_schema_name() -> String {
    format!("authjs_test_{}", uuid::Uuid::now_v7().simple())
}

/// Connects an adapter-sqlx adapter on the @auth/pg-adapter layout to `url` (a schema
/// chosen with [`search_path_url`]) and migrates.
pub async fn open_pg_authjs(url: &str) -> Result<SqlxAdapter, BoxError> {
    open_migrated_on(Layout::AuthJsPg, url).await
}

/// Connects a fixture's adapter on `layout` to `url`, with the fixtures' options, and
/// migrates.
async fn open_migrated_on(layout: Layout, url: &str) -> Result<SqlxAdapter, BoxError> {
    let adapter = SqlxAdapter::builder(url)
        .layout(layout)
        .max_connections(FIXTURE_CONNECTIONS)
        .call_timeout(FIXTURE_TIMEOUT)
        .connect()
        .await?;
    adapter.migrate().await?;
    Ok(adapter)
}

/// Scenario 28's adapter on `layout`, pointed at `url`, where nothing answers.
async fn unreachable_on(layout: Layout, url: String) -> Unreachable {
    unreachable_from(
        SqlxAdapter::builder(url)
            .layout(layout)
            .call_timeout(UNREACHABLE_TIMEOUT)
            .connect()
            .await,
    )
}

async fn raw_pool(url: &str) -> Result<PgPool, BoxError> {
    Ok(sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(FIXTURE_TIMEOUT)
        .connect(url)
        .await?)
}

/// Hands out a fresh schema per scenario on one PostgreSQL server.
#[derive(Debug)]
struct PgAuthJsBackend {
    url: String,
    admin: PgPool,
}

impl PgAuthJsBackend {
    async fn open(url: Option<String>) -> Result<Arc<dyn Backend>, BoxError> {
        let url = url.ok_or("a server backend needs a URL")?;
        let admin = raw_pool(&url).await?;
        Ok(Arc::new(Self { url, admin }))
    }

    async fn drop_schema(admin: &PgPool, schema: &str) -> Result<(), BoxError> {
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE"
        )))
        .execute(admin)
        .await?;
        Ok(())
    }
}

#[async_trait]
impl Backend for PgAuthJsBackend {
    async fn fixture(&self) -> Result<Fixture, BoxError> {
        let schema = fresh_schema_name();
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
            .execute(&self.admin)
            .await?;
        let url = search_path_url(&self.url, &schema);
        let set_up = async {
            let adapter = open_pg_authjs(&url).await?;
            let raw = raw_pool(&url).await?;
            Ok::<_, BoxError>((adapter, raw))
        };
        match set_up.await {
            Ok((adapter, raw)) => Ok(AssignedIds::fixture(
                Arc::new(adapter.clone()),
                Box::new(AuthJsInspector {
                    adapter,
                    raw: RawPool::Postgres(raw),
                    place: Place::Schema {
                        admin: self.admin.clone(),
                        name: schema,
                    },
                    tables: &PG_ADAPTER_TABLES,
                }),
            )),
            Err(err) => {
                if let Err(drop_err) = Self::drop_schema(&self.admin, &schema).await {
                    tracing::warn!(%schema, "could not drop a half-made fixture schema: {drop_err}");
                }
                Err(err)
            }
        }
    }

    fn gaps(&self) -> &'static [Gap] {
        PG_GAPS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_name_real_scenarios() {
        for gap in PG_GAPS
            .iter()
            .chain(POSTGRES_DRIZZLE_GAPS)
            .chain(SQLITE_DRIZZLE_GAPS)
            .chain(MARIADB_DRIZZLE_GAPS)
        {
            assert!(
                adapter_conformance::scenario(gap.scenario).is_some(),
                "{}",
                gap.scenario
            );
        }
        let a = fresh_schema_name();
        assert!(a.len() <= 63 && a.starts_with("authjs_test_"));
        assert_ne!(a, fresh_schema_name());
    }
}
