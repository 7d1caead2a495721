//! The `extra` column (migration 2): how an [`Extra`] object is written as text and read
//! back, the same way in every SQL crate.
//!
//! An empty object is `NULL`. PostgreSQL keeps `jsonb` numbers as `numeric` and prints them
//! in plain decimal: a float written as `1e16` would read back as the integer
//! `10000000000000000`, a different JSON value. So every float is written in plain decimal
//! with a fractional part (`10000000000000000.0`, `0.000…05`): `numeric` keeps that scale and
//! prints it back, and `serde_json` (with `float_roundtrip`) reads the same `f64`. MariaDB
//! (`JSON` is checked `LONGTEXT`) and SQLite (`TEXT`) keep the text as written.
//!
//! ```
//! use auth_core::serde_json::json;
//! use auth_sql::extra_column::{read, write};
//!
//! let extra = json!({"big": 1e16, "tiny": 5e-324, "n": i64::MAX}).as_object().cloned().unwrap();
//! let text = write(&extra).unwrap();
//! assert!(text.contains("10000000000000000.0"));
//! assert_eq!(read(Some(&text)).unwrap(), extra);
//! assert_eq!(write(&Default::default()), None);
//! assert!(read(None).unwrap().is_empty());
//! ```

use std::io;

use auth_core::serde_json::{self, ser::Formatter, Value};
use auth_core::Extra;

/// The column's text for `extra`: `None` (SQL `NULL`) for an empty object.
pub fn write(extra: &Extra) -> Option<String> {
    if extra.is_empty() {
        return None;
    }
    let mut text = Vec::with_capacity(64);
    let mut serializer = serde_json::Serializer::with_formatter(&mut text, PlainFloats);
    // A map of `Value`s into a `Vec` cannot fail; an empty text would be refused on read.
    serde::Serialize::serialize(extra, &mut serializer).ok()?;
    String::from_utf8(text).ok()
}

/// Why a stored `extra` value could not be read (written by something else, or corrupt):
/// its position and class only, since the text may hold a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadableExtra(pub String);

impl std::fmt::Display for UnreadableExtra {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the stored extra fields are not a JSON object: {}",
            self.0
        )
    }
}

impl std::error::Error for UnreadableExtra {}

/// The object of a stored `extra` value; `NULL` is the empty object.
///
/// # Errors
/// When the text is not JSON, or not an object.
pub fn read(text: Option<&str>) -> Result<Extra, UnreadableExtra> {
    let Some(text) = text else {
        return Ok(Extra::new());
    };
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(UnreadableExtra("it is not an object".to_owned())),
        Err(e) => Err(UnreadableExtra(format!(
            "{:?} error at line {} column {}",
            e.classify(),
            e.line(),
            e.column()
        ))),
    }
}

/// Compact JSON whose floats are plain decimals with a fractional part.
struct PlainFloats;

impl Formatter for PlainFloats {
    fn write_f64<W: ?Sized + io::Write>(&mut self, writer: &mut W, value: f64) -> io::Result<()> {
        // `Display` of an `f64` is the shortest text that reads back as the same value, never
        // in exponent form; it has no `.` for an integral value.
        let text = value.to_string();
        writer.write_all(text.as_bytes())?;
        if !text.contains('.') {
            writer.write_all(b".0")?;
        }
        Ok(())
    }

    fn write_f32<W: ?Sized + io::Write>(&mut self, writer: &mut W, value: f32) -> io::Result<()> {
        self.write_f64(writer, f64::from(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use auth_core::serde_json::json;

    #[test]
    fn floats_keep_a_fraction_and_read_back_exactly() {
        let values = [
            0.1,
            -0.25,
            1.0,
            1e15,
            1e16,
            2e18,
            1e300,
            f64::MAX,
            f64::MIN,
            f64::MIN_POSITIVE,
            f64::from_bits(1),
            -f64::from_bits(1),
        ];
        for value in values {
            let extra = json!({ "x": value, "nested": [value, {"y": value}] })
                .as_object()
                .cloned()
                .unwrap_or_default();
            let text = write(&extra).unwrap_or_default();
            let exponent = text
                .as_bytes()
                .windows(2)
                .any(|w| w[0].is_ascii_digit() && w[1] == b'e');
            assert!(!exponent, "{text}");
            assert_eq!(read(Some(&text)), Ok(extra), "{value:e}");
        }
    }

    #[test]
    fn integers_and_strings_are_plain_json() {
        let extra = json!({"a": i64::MIN, "b": "é \"q\"", "c": null, "d": [true]})
            .as_object()
            .cloned()
            .unwrap_or_default();
        let text = write(&extra).unwrap_or_default();
        assert_eq!(
            text,
            r#"{"a":-9223372036854775808,"b":"é \"q\"","c":null,"d":[true]}"#
        );
        assert!(read(Some("[1]")).is_err());
        assert!(read(Some("{")).is_err());
    }
}
