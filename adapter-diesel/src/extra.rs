//! The `extra` columns: the app's extra fields ([`Extra`]) of a user, account or session as
//! one JSON object, bound as text ([`ExtraText`]) and parsed back with serde_json
//! ([`rows`](crate::rows)); SQL `NULL` when there are none.
//!
//! The text is the one every SQL crate writes and reads, [`auth_sql::extra_column`]:
//! MariaDB's `JSON` and SQLite's `TEXT` keep it as written, and its floats keep a fraction
//! so that PostgreSQL's `jsonb` (which re-prints numbers from a `numeric`, never with an
//! exponent) gives back floats, not integers.

use auth_core::Extra;
use diesel::backend::Backend;
use diesel::expression::AsExpression;
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::Text;

/// The stored text of a non-empty extra object, bound to an `extra` column of any dialect.
#[derive(Debug, Clone, AsExpression)]
#[diesel(sql_type = Text)]
#[cfg_attr(feature = "postgres", diesel(sql_type = crate::schema::postgres::Jsonb))]
pub(crate) struct ExtraText(String);

impl ExtraText {
    /// What an `extra` column stores for `object` (the same text on every dialect):
    /// `None` (SQL `NULL`) for the empty object, which is the default and costs nothing.
    pub(crate) fn of(object: &Extra) -> Option<Self> {
        auth_sql::extra_column::write(object).map(ExtraText)
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

    use super::ExtraText;
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
        assert!(ExtraText::of(&Extra::new()).is_none());
    }

    #[test]
    fn every_column_gets_the_shared_text() {
        let fields = object(json!({"a": 1e16, "b": [0.1, "x"]}));
        let stored = ExtraText::of(&fields).map(|t| t.0);
        assert_eq!(
            stored.as_deref(),
            Some(r#"{"a":10000000000000000.0,"b":[0.1,"x"]}"#)
        );
    }
}
