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

use crate::sqlx::{self, PgPool};
use crate::{Layout, SqlxAdapter};
use async_trait::async_trait;

use super::{open_migrated_on, RawPool, POSTGRES_CONTAINER, POSTGRES_ENV};
use adapter_conformance::backends::assigned_ids::AssignedIds;
use adapter_conformance::harness::{BackendSpec, Source};
use adapter_conformance::{Backend, BoxError, Fixture, Gap};

mod drizzle;
mod extra_columns;
mod inspector;
mod schema;
pub use drizzle::{
    fresh_sqlite_file, mariadb_drizzle_spec, open_drizzle, postgres_drizzle_spec,
    sqlite_drizzle_spec, MARIADB_DRIZZLE_GAPS, POSTGRES_DRIZZLE_GAPS, SQLITE_DRIZZLE_GAPS,
};
use inspector::{AuthJsInspector, Place, PG_ADAPTER_TABLES};
use schema::{drop_schema, raw_pool};
pub use schema::{fresh_schema_name, search_path_url};

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

/// Connects an adapter-sqlx adapter on the @auth/pg-adapter layout to `url` (a schema
/// chosen with [`search_path_url`]) and migrates.
pub async fn open_pg_authjs(url: &str) -> Result<SqlxAdapter, BoxError> {
    open_migrated_on(Layout::AuthJsPg, url).await
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
            let raw = RawPool::Postgres(raw_pool(&url).await?);
            extra_columns::add_columns(&adapter, &raw, &PG_ADAPTER_TABLES).await?;
            Ok::<_, BoxError>((adapter, raw))
        };
        match set_up.await {
            Ok((adapter, raw)) => Ok(AssignedIds::fixture(
                Arc::new(adapter.clone()),
                Box::new(AuthJsInspector {
                    adapter,
                    raw,
                    place: Place::Schema {
                        admin: self.admin.clone(),
                        name: schema,
                    },
                    tables: &PG_ADAPTER_TABLES,
                }),
            )),
            Err(err) => {
                if let Err(drop_err) = drop_schema(&self.admin, &schema).await {
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
