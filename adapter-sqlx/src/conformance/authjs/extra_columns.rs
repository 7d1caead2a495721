//! The columns an app would add, on the Auth.js test tables: one per extra field the
//! scenarios write ([`EXTRA_VOCABULARY`]), typed by the kind of its values, so the Auth.js
//! SQL layouts run scenarios 39–43 as an app with those columns would. The inspector reads
//! them back with its own SQL, each column decoded as the driver's native type of its kind
//! (never through the adapter's column code).

use adapter_conformance::scenarios::{ExtraKind, EXTRA_VOCABULARY};
use adapter_conformance::BoxError;
use auth_core::extra::Model;
use auth_core::serde_json::{self, Value};
use auth_core::Extra;

use crate::sqlx::{self, Row};
use crate::SqlxAdapter;

use super::super::RawPool;
use super::inspector::AuthJsTables;

/// The added columns of `model`'s table: name and kind, in [`EXTRA_VOCABULARY`] order.
pub(super) fn columns_of(model: Model) -> impl Iterator<Item = (&'static str, ExtraKind)> {
    EXTRA_VOCABULARY
        .iter()
        .filter(move |(of, _, _)| *of == model)
        .map(|(_, name, kind)| (*name, *kind))
}

/// The declared type of a column holding values of `kind` on `raw`'s database.
fn declared_type(raw: &RawPool, kind: ExtraKind) -> &'static str {
    match raw {
        RawPool::Postgres(_) => match kind {
            ExtraKind::String => "text",
            ExtraKind::Integer => "bigint",
            ExtraKind::Float => "double precision",
            ExtraKind::Bool => "boolean",
            ExtraKind::Json => "jsonb",
        },
        RawPool::MySql(_) => match kind {
            ExtraKind::String => "TEXT",
            ExtraKind::Integer => "BIGINT",
            ExtraKind::Float => "DOUBLE",
            ExtraKind::Bool => "BOOLEAN",
            ExtraKind::Json => "JSON",
        },
        RawPool::Sqlite(_) => match kind {
            ExtraKind::String => "TEXT",
            ExtraKind::Integer => "INTEGER",
            ExtraKind::Float => "REAL",
            ExtraKind::Bool => "BOOLEAN",
            ExtraKind::Json => "JSON",
        },
    }
}

/// The statements adding every column to the users, accounts and sessions tables of
/// `tables` (`"` quotes: backticks on MariaDB). SQLite adds one column a statement.
fn add_columns_sql(raw: &RawPool, tables: &AuthJsTables) -> String {
    let mut sql = String::new();
    for (model, table) in [
        (Model::User, tables.user),
        (Model::Account, tables.account),
        (Model::Session, tables.session),
    ] {
        let adds = columns_of(model)
            .map(|(name, kind)| format!(r#"ADD COLUMN "{name}" {}"#, declared_type(raw, kind)));
        if matches!(raw, RawPool::Sqlite(_)) {
            for add in adds {
                sql.push_str(&format!("ALTER TABLE \"{table}\" {add};\n"));
            }
        } else {
            let adds = adds.collect::<Vec<_>>().join(", ");
            sql.push_str(&format!("ALTER TABLE \"{table}\" {adds};\n"));
        }
    }
    if matches!(raw, RawPool::MySql(_)) {
        sql = sql.replace('"', "`");
    }
    sql
}

/// Adds the columns to the migrated tables of a fixture and has `adapter` discover them
/// (its `migrate` reads the catalog again, as an app's next start would).
pub(super) async fn add_columns(
    adapter: &SqlxAdapter,
    raw: &RawPool,
    tables: &AuthJsTables,
) -> Result<(), BoxError> {
    raw.execute(add_columns_sql(raw, tables)).await?;
    adapter.migrate().await?;
    Ok(())
}

/// The select list reading the added columns of `model`'s table, in [`columns_of`] order:
/// each column as the one type [`extra_from_row`] decodes its kind as (PostgreSQL's `jsonb`
/// as its text).
pub(super) fn select_list(raw: &RawPool, model: Model) -> String {
    columns_of(model)
        .map(|(name, kind)| match (raw, kind) {
            (RawPool::Postgres(_), ExtraKind::Json) => format!(r#"CAST("{name}" AS TEXT)"#),
            _ => format!(r#""{name}""#),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The extra fields of one row read with [`select_list`]: a column's `NULL` is an absent
/// field; a JSON column's text is parsed (its JSON `null` kept, so a stored `null` shows).
pub(super) fn extra_from_row<R>(row: &R, model: Model) -> Result<Extra, BoxError>
where
    R: Row,
    usize: sqlx::ColumnIndex<R>,
    String: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    i64: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    f64: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    bool: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let mut extra = Extra::new();
    for (i, (name, kind)) in columns_of(model).enumerate() {
        let value = match kind {
            ExtraKind::String => row.try_get::<Option<String>, _>(i)?.map(Value::String),
            ExtraKind::Integer => row.try_get::<Option<i64>, _>(i)?.map(Value::from),
            ExtraKind::Float => row.try_get::<Option<f64>, _>(i)?.map(Value::from),
            ExtraKind::Bool => row.try_get::<Option<bool>, _>(i)?.map(Value::Bool),
            ExtraKind::Json => row
                .try_get::<Option<String>, _>(i)?
                .map(|text| serde_json::from_str::<Value>(&text))
                .transpose()?,
        };
        if let Some(value) = value {
            extra.insert(name.to_owned(), value);
        }
    }
    Ok(extra)
}
