//! The app's extra fields ([`auth_core::Extra`]) in the `extra` column that migration 2 of
//! the shared schema adds to `auth_users`, `auth_accounts` and `auth_sessions`: `jsonb` on
//! PostgreSQL, `JSON` on MySQL/MariaDB, `TEXT` on SQLite; SQL `NULL` when there are none.
//!
//! The adapter moves the object as JSON text on every database, so that no driver type (and
//! no SeaORM feature) is needed and what is read is exactly what was written:
//!
//! - SQLite and MariaDB keep the text as written.
//! - PostgreSQL parses it into `jsonb` (bound as `CAST($n AS jsonb)`, read back as
//!   `CAST(extra AS TEXT)`). The text is the one every SQL crate writes,
//!   [`auth_sql::extra_column`], whose floats keep a fractional part so that `jsonb`'s
//!   numbers print back as floats. `jsonb` does not keep the order of keys (an [`Extra`]'s
//!   equality ignores it) and has no negative zero (`-0.0` reads back `0.0`, which compares
//!   equal).
//! - MySQL 8 (not MariaDB) parses it into its binary JSON and prints it back its own way.

use auth_core::{AdapterError, Extra, Operation};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ColumnType, DbBackend, DbErr, QueryResult};

/// The value to bind for `extra` on `backend`: `NULL` for an empty object, else its JSON
/// text, cast to `jsonb` on PostgreSQL (a text parameter does not convert implicitly).
pub(crate) fn value(
    backend: DbBackend,
    _op: Operation,
    extra: &Extra,
) -> Result<Expr, AdapterError> {
    let value = Expr::val(auth_sql::extra_column::write(extra));
    Ok(match backend {
        DbBackend::Postgres => value.cast_as("jsonb"),
        _ => value,
    })
}

/// How `column` is read on `backend`: a JSON column as text (sqlx decodes neither
/// PostgreSQL's `jsonb` nor MySQL 8's `JSON` as a string), every other column as it is.
pub(crate) fn readable(backend: DbBackend, column: impl ColumnTrait, expr: Expr) -> Expr {
    match (column.def().get_column_type(), backend) {
        (ColumnType::Json | ColumnType::JsonBinary, DbBackend::Postgres) => expr.cast_as("TEXT"),
        (ColumnType::Json | ColumnType::JsonBinary, DbBackend::MySql) => expr.cast_as("CHAR"),
        _ => expr,
    }
}

/// The extra fields in column `col` of `row` (see [`parse_stored`]).
pub(crate) fn get(row: &QueryResult, col: &str) -> Result<Extra, DbErr> {
    parse_stored(col, row.try_get::<Option<String>>("", col)?.as_deref())
}

/// The extra fields stored as `text` in column `col`: empty for `NULL`; a type error (an
/// `AdapterError` of kind `Backend` for the call) when the text is not a JSON object.
pub(crate) fn parse_stored(col: &str, text: Option<&str>) -> Result<Extra, DbErr> {
    auth_sql::extra_column::read(text).map_err(|why| DbErr::Type(format!("{col}: {why}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_object_is_read() {
        for bad in ["[1]", "\"role\"", "null", "1", "{", ""] {
            assert!(parse_stored("extra", Some(bad)).is_err(), "{bad}");
        }
        assert_eq!(parse_stored("extra", Some("{}")).ok(), Some(Extra::new()));
        assert_eq!(parse_stored("extra", None).ok(), Some(Extra::new()));
    }
}
