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
pub use drizzle::{
    fresh_sqlite_file, mariadb_drizzle_spec, open_drizzle, postgres_drizzle_spec,
    sqlite_drizzle_spec, MARIADB_DRIZZLE_GAPS, POSTGRES_DRIZZLE_GAPS, SQLITE_DRIZZLE_GAPS,
};

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
                Box::new(PgAuthJsInspector {
                    adapter,
                    raw,
                    admin: self.admin.clone(),
                    schema,
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

/// Reads the @auth/pg-adapter tables of one fixture schema with plain SQL.
#[derive(Debug)]
struct PgAuthJsInspector {
    adapter: SqlxAdapter,
    raw: PgPool,
    admin: PgPool,
    schema: String,
}

/// Whether `id` can name a row of a `SERIAL` column (else the inspector finds nothing,
/// as the adapter does).
fn serial(id: &str) -> Option<i32> {
    id.parse::<i32>().ok().filter(|n| n.to_string() == id)
}

const ACCOUNT: &str = r#""userId", type, provider, "providerAccountId", refresh_token,
    access_token, expires_at, token_type, scope, id_token, session_state"#;
const AUTHENTICATOR: &str = r#""credentialID", "userId", "providerAccountId",
    "credentialPublicKey", counter, "credentialDeviceType", "credentialBackedUp", transports"#;

const MILLIS_EXPIRES: &str = "(EXTRACT(EPOCH FROM expires) * 1000)::BIGINT";

#[async_trait]
impl Inspector for PgAuthJsInspector {
    async fn stored_user(&self, id: &str) -> Result<Option<User>, BoxError> {
        let Some(id) = serial(id) else {
            return Ok(None);
        };
        let row: Option<UserTuple<i32>> = sqlx::query_as(
            r#"SELECT id, email, (EXTRACT(EPOCH FROM "emailVerified") * 1000)::BIGINT,
                      name, image FROM users WHERE id = $1"#,
        )
        .bind(id)
        .fetch_optional(&self.raw)
        .await?;
        row.map(user_from).transpose()
    }

    async fn stored_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> Result<Option<Account>, BoxError> {
        let sql = format!(
            r#"SELECT {ACCOUNT} FROM accounts WHERE provider = $1 AND "providerAccountId" = $2"#
        );
        let row: Option<AccountTuple<i32>> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(provider)
            .bind(provider_account_id)
            .fetch_optional(&self.raw)
            .await?;
        row.map(account_from).transpose()
    }

    async fn stored_session(&self, session_token: &str) -> Result<Option<Session>, BoxError> {
        let sql = format!(
            r#"SELECT "sessionToken", "userId", {MILLIS_EXPIRES} FROM sessions
               WHERE "sessionToken" = $1"#
        );
        let row: Option<SessionTuple<i32>> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(session_token)
            .fetch_optional(&self.raw)
            .await?;
        row.map(session_from).transpose()
    }

    async fn stored_verification_token(
        &self,
        identifier: &str,
        token: &str,
    ) -> Result<Option<VerificationToken>, BoxError> {
        let sql = format!(
            "SELECT identifier, token, {MILLIS_EXPIRES} FROM verification_token \
             WHERE identifier = $1 AND token = $2"
        );
        let row: Option<VerificationTokenTuple> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(identifier)
            .bind(token)
            .fetch_optional(&self.raw)
            .await?;
        row.map(verification_token_from).transpose()
    }

    async fn stored_authenticator(
        &self,
        credential_id: &str,
    ) -> Result<Option<Authenticator>, BoxError> {
        let sql =
            format!(r#"SELECT {AUTHENTICATOR} FROM authenticators WHERE "credentialID" = $1"#);
        let row: Option<AuthenticatorTuple<i32>> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(credential_id)
            .fetch_optional(&self.raw)
            .await?;
        Ok(row.map(authenticator_from))
    }

    async fn records_of_user(&self, user_id: &str) -> Result<UserRecords, BoxError> {
        // Compared as text, so no id (not even a malformed one) is left unchecked.
        let sql = format!(r#"SELECT {ACCOUNT} FROM accounts WHERE "userId"::text = $1"#);
        let accounts: Vec<AccountTuple<i32>> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(user_id)
            .fetch_all(&self.raw)
            .await?;
        let sql = format!(
            r#"SELECT "sessionToken", "userId", {MILLIS_EXPIRES} FROM sessions
               WHERE "userId"::text = $1"#
        );
        let sessions: Vec<SessionTuple<i32>> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(user_id)
            .fetch_all(&self.raw)
            .await?;
        let sql =
            format!(r#"SELECT {AUTHENTICATOR} FROM authenticators WHERE "userId"::text = $1"#);
        let authenticators: Vec<AuthenticatorTuple<i32>> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(user_id)
            .fetch_all(&self.raw)
            .await?;
        user_records_from(accounts, sessions, authenticators)
    }

    async fn dump(&self) -> Result<Vec<String>, BoxError> {
        // Every row of every table, each column as text, read as stored.
        let mut out = Vec::new();
        for table in [
            "users",
            "accounts",
            "sessions",
            "verification_token",
            "authenticators",
        ] {
            let sql = format!(
                "SELECT v FROM {table} t, LATERAL jsonb_each_text(to_jsonb(t)) AS e(k, v) \
                 WHERE v IS NOT NULL"
            );
            let values: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .fetch_all(&self.raw)
                .await?;
            out.extend(values.into_iter().map(|(value,)| value));
        }
        Ok(out)
    }

    async fn migrate(&self) -> Result<(), AdapterError> {
        self.adapter.migrate().await
    }

    async fn unreachable(&self) -> Unreachable {
        unreachable_on(Layout::AuthJsPg, dead_server_url(Server::Postgres)).await
    }

    async fn teardown(&self) -> Result<(), BoxError> {
        self.adapter.close().await;
        self.raw.close().await;
        PgAuthJsBackend::drop_schema(&self.admin, &self.schema).await
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
