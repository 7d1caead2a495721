//! The `extra` columns: the app's extra fields ([`Extra`]) of a user, account or session as
//! one JSON object, bound as text ([`ExtraText`]) and parsed back with serde_json
//! ([`rows`](crate::rows)); SQL `NULL` when there are none.
//!
//! MariaDB's `JSON` and SQLite's `TEXT` keep the text as written, so serde_json's own
//! output reads back exactly. PostgreSQL's `jsonb` re-prints every number from a `numeric`,
//! never with an exponent: serde_json's `1e16` would come back as the integer
//! `10000000000000000`. So on PostgreSQL floats are written the way `jsonb` prints them,
//! always with a fraction (`postgres::plain_floats`), and read back as the same `f64`.

use auth_core::serde_json;
use auth_core::Extra;
use diesel::backend::Backend;
use diesel::expression::AsExpression;
use diesel::result::Error as DieselError;
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::Text;

/// The stored text of a non-empty extra object, bound to an `extra` column of any dialect.
#[derive(Debug, Clone, AsExpression)]
#[diesel(sql_type = Text)]
#[cfg_attr(feature = "postgres", diesel(sql_type = crate::schema::postgres::Jsonb))]
pub(crate) struct ExtraText(String);

impl ExtraText {
    /// What an `extra` column of SQL type `C` stores for `object`: `None` (SQL `NULL`) for
    /// the empty object, which is the default and costs nothing to store.
    pub(crate) fn of<C: JsonColumn>(object: &Extra) -> Result<Option<Self>, DieselError> {
        if object.is_empty() {
            return Ok(None);
        }
        C::encode(object)
            .map(|text| Some(ExtraText(text)))
            .map_err(|err| DieselError::SerializationError(Box::new(err)))
    }
}

/// The SQL type of a dialect's `extra` column, with the JSON text it is written as.
pub(crate) trait JsonColumn {
    /// `object` as the column's JSON text.
    fn encode(object: &Extra) -> serde_json::Result<String>;
}

/// MariaDB's `JSON` (a checked `LONGTEXT`) and SQLite's `TEXT`: serde_json's compact text,
/// kept as written.
impl JsonColumn for Text {
    fn encode(object: &Extra) -> serde_json::Result<String> {
        serde_json::to_string(object)
    }
}

/// `TEXT` on every dialect (MariaDB's `JSON` is a `LONGTEXT`): the text as it is.
impl<DB: Backend> ToSql<Text, DB> for ExtraText
where
    str: ToSql<Text, DB>,
{
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
        <str as ToSql<Text, DB>>::to_sql(self.0.as_str(), out)
    }
}

#[cfg(feature = "postgres")]
mod postgres {
    use std::io::Write;

    use diesel::deserialize::{self, FromSql};
    use diesel::pg::{Pg, PgValue};
    use diesel::serialize::{self, IsNull, Output, ToSql};

    use auth_core::serde_json::{self, Map, Value};
    use auth_core::Extra;

    use super::{ExtraText, JsonColumn};
    use crate::schema::postgres::Jsonb;

    /// `jsonb`'s binary format: a version byte (1), then the JSON text.
    const JSONB_VERSION: u8 = 1;

    impl ToSql<Jsonb, Pg> for ExtraText {
        fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
            out.write_all(&[JSONB_VERSION])?;
            out.write_all(self.0.as_bytes())?;
            Ok(IsNull::No)
        }
    }

    impl FromSql<Jsonb, Pg> for String {
        fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
            match value.as_bytes().split_first() {
                Some((&JSONB_VERSION, text)) => Ok(std::str::from_utf8(text)?.to_owned()),
                _ => Err("a jsonb value in an unknown binary format".into()),
            }
        }
    }

    impl JsonColumn for Jsonb {
        fn encode(object: &Extra) -> serde_json::Result<String> {
            let mut out = String::new();
            plain_floats(&mut out, object)?;
            Ok(out)
        }
    }

    /// `object` as compact JSON, like serde_json's, but with every float written without an
    /// exponent and with a fraction (`10000000000000000.0`, not `1e16`): what `jsonb` keeps as
    /// a `numeric` with a fraction and prints back the same, so serde_json reads a float again.
    /// Rust's `Display` of an `f64` is the shortest text that reads back as the same value.
    pub(super) fn plain_floats(
        out: &mut String,
        object: &Map<String, Value>,
    ) -> serde_json::Result<()> {
        out.push('{');
        for (i, (name, value)) in object.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&serde_json::to_string(name)?);
            out.push(':');
            plain_value(out, value)?;
        }
        out.push('}');
        Ok(())
    }

    fn plain_value(out: &mut String, value: &Value) -> serde_json::Result<()> {
        match value {
            Value::Number(number) if number.is_f64() => match number.as_f64() {
                Some(float) => {
                    let text = float.to_string();
                    out.push_str(&text);
                    if !text.contains('.') {
                        out.push_str(".0");
                    }
                }
                None => out.push_str(&number.to_string()),
            },
            Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    plain_value(out, item)?;
                }
                out.push(']');
            }
            Value::Object(object) => plain_floats(out, object)?,
            // null, booleans, integers and strings: serde_json's compact text.
            other => out.push_str(&serde_json::to_string(other)?),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use auth_core::serde_json::{json, Value};

    fn object(value: Value) -> Extra {
        match value {
            Value::Object(object) => object,
            _ => Extra::new(),
        }
    }

    #[test]
    fn the_empty_object_is_null() {
        assert!(matches!(ExtraText::of::<Text>(&Extra::new()), Ok(None)));
    }

    #[test]
    fn text_columns_get_serde_jsons_text() {
        let fields = object(json!({"a": 1e16, "b": [0.1, "x"]}));
        let stored = ExtraText::of::<Text>(&fields).ok().flatten().map(|t| t.0);
        assert_eq!(stored.as_deref(), Some(r#"{"a":1e+16,"b":[0.1,"x"]}"#));
    }

    #[cfg(feature = "postgres")]
    #[test]
    fn plain_floats_read_back_as_the_same_floats() {
        let fields = object(json!({
            "big": 1e16,
            "max": f64::MAX,
            "tiny": f64::from_bits(1),
            "whole": 3.0,
            "neg": -1.5e300,
            "i": i64::MIN,
            "s": "1e16 \"quoted\" ✓",
            "nested": {"x": [1e21, null, true, {"y": 0.1}]},
        }));
        let mut text = String::new();
        assert!(postgres::plain_floats(&mut text, &fields).is_ok());
        // No exponent anywhere (the string holds `1e16` but no `e+`/`e-`).
        assert!(!text.contains("e+") && !text.contains("e-"), "{text}");
        assert!(text.contains(r#""big":10000000000000000.0"#), "{text}");
        assert!(text.contains(r#""whole":3.0"#), "{text}");
        let read: Value = serde_json::from_str(&text).unwrap_or_default();
        assert_eq!(read, Value::Object(fields));
    }
}
