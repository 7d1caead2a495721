//! The app's extra fields ([`auth_core::Extra`]) in the `extra` column that migration 2 of
//! the shared schema adds to `auth_users`, `auth_accounts` and `auth_sessions`: `jsonb` on
//! PostgreSQL, `JSON` on MySQL/MariaDB, `TEXT` on SQLite; SQL `NULL` when there are none.
//!
//! The adapter moves the object as JSON text on every database, so that no driver type (and
//! no SeaORM feature) is needed and what is read is exactly what was written:
//!
//! - SQLite and MariaDB keep the text as written.
//! - PostgreSQL parses it into `jsonb` (bound as `CAST($n AS jsonb)`, read back as
//!   `CAST(extra AS TEXT)`), which keeps every number's digits but not its spelling: it
//!   prints a number without an exponent, so a float written `1e16` would come back as the
//!   integer `10000000000000000`. The text written to PostgreSQL therefore spells every float
//!   in plain decimal with a fractional part (`10000000000000000.0`, `0.000…05`), the
//!   shortest digits that read back as the same `f64`: `jsonb` keeps the fractional part,
//!   and the float reads back as the same float. `jsonb` does not keep the order of keys
//!   (an [`Extra`]'s equality ignores it) and has no negative zero (`-0.0` reads back `0.0`,
//!   which compares equal).
//! - MySQL 8 (not MariaDB) parses it into its binary JSON and prints it back its own way.

use std::io;

use auth_core::serde_json::{self, Value};
use auth_core::{AdapterError, Extra, Operation};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ColumnType, DbBackend, DbErr, QueryResult};

/// The value to bind for `extra` on `backend`: `NULL` for an empty object, else its JSON
/// text, cast to `jsonb` on PostgreSQL (a text parameter does not convert implicitly).
pub(crate) fn value(
    backend: DbBackend,
    op: Operation,
    extra: &Extra,
) -> Result<Expr, AdapterError> {
    let text = text(backend, extra).map_err(|e| {
        AdapterError::backend(op, "the extra fields could not be written as JSON").with_source(e)
    })?;
    let value = Expr::val(text);
    Ok(match backend {
        DbBackend::Postgres => value.cast_as("jsonb"),
        _ => value,
    })
}

/// The JSON text stored for `extra` on `backend`, `None` for an empty object.
fn text(backend: DbBackend, extra: &Extra) -> serde_json::Result<Option<String>> {
    if extra.is_empty() {
        return Ok(None);
    }
    let bytes = match backend {
        DbBackend::Postgres => {
            let mut out = Vec::new();
            write_plain(&mut out, extra)?;
            out
        }
        _ => serde_json::to_vec(extra)?,
    };
    // Both writers write UTF-8 only.
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|e| serde_json::Error::io(io::Error::new(io::ErrorKind::InvalidData, e)))
}

/// Writes `object` as compact JSON with every float in plain decimal with a fractional part,
/// so that PostgreSQL's `jsonb` (which prints numbers without an exponent) gives back a
/// float, not an integer (see the module docs). Strings, names and integers are serde_json's.
fn write_plain(out: &mut Vec<u8>, object: &Extra) -> serde_json::Result<()> {
    out.push(b'{');
    for (i, (name, value)) in object.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        serde_json::to_writer(&mut *out, name)?;
        out.push(b':');
        write_value(out, value)?;
    }
    out.push(b'}');
    Ok(())
}

fn write_value(out: &mut Vec<u8>, value: &Value) -> serde_json::Result<()> {
    match value {
        Value::Number(number) => match number.as_f64().filter(|_| number.is_f64()) {
            Some(float) => {
                // Rust's `Display` for `f64` writes the shortest digits that read back as
                // the same value, and never an exponent (serde_json holds finite floats only).
                let digits = float.to_string();
                out.extend_from_slice(digits.as_bytes());
                if !digits.contains('.') {
                    out.extend_from_slice(b".0");
                }
            }
            None => serde_json::to_writer(&mut *out, number)?,
        },
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, item)?;
            }
            out.push(b']');
        }
        Value::Object(object) => write_plain(out, object)?,
        other => serde_json::to_writer(&mut *out, other)?,
    }
    Ok(())
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
    match text {
        None => Ok(Extra::new()),
        Some(text) => parse(text).map_err(|e| {
            DbErr::Type(format!(
                "{col}: the stored extra fields are not a JSON object: {e}"
            ))
        }),
    }
}

/// `text` as an extra object (any JSON but an object is refused).
fn parse(text: &str) -> serde_json::Result<Extra> {
    serde_json::from_str(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use auth_core::serde_json::json;

    fn object(value: Value) -> Extra {
        match value {
            Value::Object(object) => object,
            _ => Extra::new(),
        }
    }

    #[test]
    fn an_empty_object_is_null() {
        for backend in [DbBackend::Postgres, DbBackend::MySql, DbBackend::Sqlite] {
            assert_eq!(text(backend, &Extra::new()).ok(), Some(None));
        }
    }

    #[test]
    fn postgres_text_spells_floats_in_plain_decimal() {
        let extra = object(json!({
            "big": 1e16,
            "max": f64::MAX,
            "tiny": f64::from_bits(1),
            "tenth": 0.1,
            "one": 1.0,
            "int": i64::MIN,
            "nested": [1e300, -2.5, {"x": 7}],
        }));
        let pg = text(DbBackend::Postgres, &extra)
            .ok()
            .flatten()
            .unwrap_or_default();
        let exponent = |w: &[u8]| w[0].is_ascii_digit() && w[1].eq_ignore_ascii_case(&b'e');
        assert!(!pg.as_bytes().windows(2).any(exponent), "{pg}");
        assert!(pg.contains("\"big\":10000000000000000.0"), "{pg}");
        // Integers stay integers.
        assert!(pg.contains("\"int\":-9223372036854775808"), "{pg}");
        assert!(!pg.contains("9223372036854775808.0"), "{pg}");
        assert!(pg.contains("\"tenth\":0.1"), "{pg}");
        // Read back as written: the same numbers, and a float stays a float.
        assert_eq!(parse(&pg).ok(), Some(extra.clone()));
        let plain = text(DbBackend::Sqlite, &extra)
            .ok()
            .flatten()
            .unwrap_or_default();
        assert_eq!(plain, serde_json::to_string(&extra).unwrap_or_default());
    }

    #[test]
    fn only_an_object_parses() {
        for bad in ["[1]", "\"role\"", "null", "1", "{", ""] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert_eq!(parse("{}").ok(), Some(Extra::new()));
    }
}
