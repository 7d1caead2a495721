//! A PostgreSQL schema per fixture: the Auth.js table names are fixed, so each fixture on
//! a PostgreSQL server gets a schema of its own, chosen for every connection by the URL.

use crate::sqlx::{self, PgPool};

use adapter_conformance::BoxError;

use super::super::FIXTURE_TIMEOUT;

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

/// A small pool (two connections) on the PostgreSQL database at `url`.
pub(super) async fn raw_pool(url: &str) -> Result<PgPool, BoxError> {
    Ok(sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(FIXTURE_TIMEOUT)
        .connect(url)
        .await?)
}

/// Drops the fixture schema `schema` with everything in it.
pub(super) async fn drop_schema(admin: &PgPool, schema: &str) -> Result<(), BoxError> {
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP SCHEMA IF EXISTS {schema} CASCADE"
    )))
    .execute(admin)
    .await?;
    Ok(())
}
