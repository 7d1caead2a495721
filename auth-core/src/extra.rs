//! The app's own fields on [`User`](crate::User), [`Account`](crate::Account) and
//! [`Session`](crate::Session): one JSON object per record, [`Extra`].
//!
//! An app keeps a role, a plan or a tenant id on its users, the rest of the provider's token
//! response on its accounts (`expires_in`, `refresh_token_expires_in`, …) and its own data on
//! its sessions (a CSRF secret, a "remember me" flag), without a side table:
//!
//! ```
//! use auth_core::User;
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize, Debug, PartialEq)]
//! struct AppFields { role: String, plan: Option<String> }
//!
//! let mut user = User::new().with_email("ada@example.com");
//! user.set_extra(&AppFields { role: "admin".into(), plan: None }).unwrap();
//! assert_eq!(user.extra["role"], "admin");
//! let fields: AppFields = user.extra_as().unwrap();
//! assert_eq!(fields.role, "admin");
//! ```
//!
//! # Rules (checked by the policy layer before any I/O, so every backend agrees)
//!
//! Every write of extra fields is `InvalidInput` with the method's code when
//!
//! - a top-level name is one of the model's own fields, in any ASCII case and in either
//!   spelling (Rust's `email_verified` or Auth.js's `emailVerified`), or `id`, `_id` or
//!   `extra` ([`reserved_names`]): the Auth.js layouts keep extra fields beside the model's own
//!   and one must never shadow the other;
//! - a name (at any depth) is empty, starts with `$`, contains `.` or a NUL: MongoDB keeps
//!   the object as fields of a document, where such names are operators or paths;
//! - a string holds a NUL (PostgreSQL's `jsonb` refuses `\u0000`);
//! - an integer is outside `i64` (BSON and SQL integers are 64-bit signed; floats keep every
//!   finite `f64` exactly);
//! - containers nest deeper than [`MAX_EXTRA_DEPTH`] (the object itself is level 1);
//! - the object, as compact JSON, is longer than [`MAX_EXTRA_BYTES`] (65,535 bytes, the text
//!   cap: MySQL/MariaDB `TEXT`, and what an Auth.js column layout stores in one value). The
//!   cap holds for what is stored: a merge whose result would exceed it is refused too.
//!
//! A top-level `null` means "absent": [`ExtraChange::Merge`] removes the field, and a create
//! or a replacement leaves it out, so an object reads back exactly as every backend can
//! store it (a column layout cannot tell a `NULL` column from a missing field). Nested
//! `null`s are kept. An empty object is the default and costs nothing to store (SQL `NULL`).

use std::io;

use serde::Serialize;
use serde_json::Value;

use crate::error::{AdapterError, Operation};

/// The app's extra fields of one record: a JSON object (keys in insertion order; equality
/// ignores order).
pub type Extra = serde_json::Map<String, Value>;

/// The largest extra object, as compact JSON, in bytes (the text cap).
pub const MAX_EXTRA_BYTES: usize = 65_535;

/// The deepest nesting of an extra object: the object itself is level 1, each object or array
/// inside it one more. Far beyond any app's data, and far below every parser's recursion
/// limit (serde_json's is 128, MariaDB's JSON functions' 32).
pub const MAX_EXTRA_DEPTH: usize = 16;

/// Which record an extra object belongs to: it decides the reserved names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Model {
    /// [`User`](crate::User).
    User,
    /// [`Account`](crate::Account).
    Account,
    /// [`Session`](crate::Session).
    Session,
}

/// The names an extra field of `model` may not have (compared in ASCII lowercase): the
/// model's own fields in Rust and Auth.js spelling, and `id`, `_id`, `extra`.
///
/// ```
/// use auth_core::extra::{reserved_names, Model};
/// assert!(reserved_names(Model::User).contains(&"emailverified"));
/// assert!(reserved_names(Model::Account).contains(&"access_token"));
/// assert!(!reserved_names(Model::Session).contains(&"csrf"));
/// ```
pub fn reserved_names(model: Model) -> &'static [&'static str] {
    match model {
        Model::User => &[
            "id",
            "_id",
            "extra",
            "email",
            "email_verified",
            "emailverified",
            "name",
            "image",
        ],
        Model::Account => &[
            "id",
            "_id",
            "extra",
            "user_id",
            "userid",
            "type",
            "account_type",
            "provider",
            "provider_account_id",
            "provideraccountid",
            "refresh_token",
            "access_token",
            "expires_at",
            "token_type",
            "scope",
            "id_token",
            "session_state",
        ],
        Model::Session => &[
            "id",
            "_id",
            "extra",
            "session_token",
            "sessiontoken",
            "user_id",
            "userid",
            "expires",
        ],
    }
}

/// How [`UserUpdate`](crate::UserUpdate) and [`SessionUpdate`](crate::SessionUpdate) change
/// the extra object.
///
/// ```
/// use auth_core::extra::{Extra, ExtraChange};
/// use serde_json::json;
///
/// let stored: Extra = json!({"role": "user", "plan": "free"}).as_object().unwrap().clone();
/// let patch: Extra = json!({"role": "admin", "plan": null}).as_object().unwrap().clone();
/// let merged = ExtraChange::Merge(patch).applied_to(stored.clone());
/// assert_eq!(serde_json::Value::Object(merged), json!({"role": "admin"}));
///
/// let replaced = ExtraChange::Replace(Extra::new()).applied_to(stored);
/// assert!(replaced.is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExtraChange {
    /// Auth.js's partial update, one level deep: each top-level field given replaces the
    /// stored one (a nested object is replaced whole, not merged), a field given as `null` is
    /// removed, and fields not named are kept.
    Merge(Extra),
    /// The whole object is replaced (top-level `null`s left out).
    Replace(Extra),
}

impl ExtraChange {
    /// The stored object after this change (not checked against the cap: the policy layer's
    /// [`check_stored`] does that where a store merges).
    pub fn applied_to(&self, mut current: Extra) -> Extra {
        match self {
            ExtraChange::Merge(patch) => {
                for (name, value) in patch {
                    if value.is_null() {
                        current.remove(name);
                    } else {
                        current.insert(name.clone(), value.clone());
                    }
                }
                current
            }
            ExtraChange::Replace(object) => without_nulls(object.clone()),
        }
    }

    /// The object this change carries.
    pub fn object(&self) -> &Extra {
        match self {
            ExtraChange::Merge(object) | ExtraChange::Replace(object) => object,
        }
    }
}

/// The object with its top-level `null`s left out (a `null` field is an absent one).
pub fn without_nulls(mut object: Extra) -> Extra {
    object.retain(|_, value| !value.is_null());
    object
}

/// `InvalidInput` for `operation` unless `object` keeps every rule of the module docs.
///
/// ```
/// use auth_core::extra::{check, Model};
/// use auth_core::{ErrorKind, Operation};
/// use serde_json::json;
///
/// let ok = json!({"role": "admin", "tags": ["a", 1, 2.5, {"x": null}]});
/// assert!(check(Operation::CreateUser, Model::User, ok.as_object().unwrap()).is_ok());
/// let reserved = json!({"Email": "x@example.com"});
/// let err = check(Operation::CreateUser, Model::User, reserved.as_object().unwrap()).unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::InvalidInput);
/// ```
pub fn check(operation: Operation, model: Model, object: &Extra) -> Result<(), AdapterError> {
    let reserved = reserved_names(model);
    for name in object.keys() {
        let lower = name.to_ascii_lowercase();
        if reserved.contains(&lower.as_str()) {
            return Err(AdapterError::invalid_input(
                operation,
                format!("extra field {name:?} is one of the record's own fields"),
            ));
        }
    }
    for (name, value) in object {
        check_name(operation, name)?;
        check_value(operation, name, value, 2)?;
    }
    check_stored(operation, object)
}

/// `InvalidInput` for `operation` when the object, as stored, is over [`MAX_EXTRA_BYTES`]:
/// what a store that merges calls on the merged object before it writes.
///
/// ```
/// use auth_core::extra::{check_stored, Extra, MAX_EXTRA_BYTES};
/// use auth_core::Operation;
///
/// let mut object = Extra::new();
/// object.insert("bio".into(), "x".repeat(MAX_EXTRA_BYTES).into());
/// assert!(check_stored(Operation::UpdateUser, &object).is_err());
/// ```
pub fn check_stored(operation: Operation, object: &Extra) -> Result<(), AdapterError> {
    let bytes = json_len(object);
    if bytes > MAX_EXTRA_BYTES {
        return Err(AdapterError::invalid_input(
            operation,
            format!(
                "the extra fields are {bytes} bytes of JSON; the contract caps them at {MAX_EXTRA_BYTES}"
            ),
        ));
    }
    Ok(())
}

/// The length of the object as compact JSON, counted without building the text.
pub fn json_len(object: &Extra) -> usize {
    struct Count(usize);
    impl io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    // Writing a `Map` of `Value`s to an infallible writer cannot fail.
    let _ = serde_json::to_writer(&mut count, object);
    count.0
}

fn check_name(operation: Operation, name: &str) -> Result<(), AdapterError> {
    let why = if name.is_empty() {
        "is empty"
    } else if name.starts_with('$') {
        "starts with `$`"
    } else if name.contains('.') {
        "contains `.`"
    } else if name.contains('\0') {
        "contains a NUL byte"
    } else {
        return Ok(());
    };
    Err(AdapterError::invalid_input(
        operation,
        format!("extra field name {name:?} {why}, which not every backend can store"),
    ))
}

fn check_value(
    operation: Operation,
    name: &str,
    value: &Value,
    depth: usize,
) -> Result<(), AdapterError> {
    let too_deep = || {
        AdapterError::invalid_input(
            operation,
            format!("extra field {name:?} nests deeper than {MAX_EXTRA_DEPTH} levels"),
        )
    };
    match value {
        Value::String(text) if text.contains('\0') => Err(AdapterError::invalid_input(
            operation,
            format!("extra field {name:?} holds a NUL byte, which no backend stores"),
        )),
        Value::Number(number) if number.as_i64().is_none() && !number.is_f64() => {
            Err(AdapterError::invalid_input(
                operation,
                format!("extra field {name:?} holds an integer beyond i64"),
            ))
        }
        Value::Array(items) => {
            if depth > MAX_EXTRA_DEPTH {
                return Err(too_deep());
            }
            items
                .iter()
                .try_for_each(|item| check_value(operation, name, item, depth + 1))
        }
        Value::Object(object) => {
            if depth > MAX_EXTRA_DEPTH {
                return Err(too_deep());
            }
            object.iter().try_for_each(|(key, item)| {
                check_name(operation, key)?;
                check_value(operation, name, item, depth + 1)
            })
        }
        _ => Ok(()),
    }
}

/// Typed access to a record's extra fields: `extra_as`, `set_extra`, `with_extra`.
macro_rules! extra_access {
    ($model:ident, $example:expr) => {
        impl $model {
            /// The extra fields read as `T` (a struct of the app's fields, say).
            ///
            /// ```
            #[doc = $example]
            /// #[derive(serde::Deserialize)]
            /// struct Fields { plan: String }
            /// let fields: Fields = record.extra_as().unwrap();
            /// assert_eq!(fields.plan, "pro");
            /// ```
            ///
            /// # Errors
            /// When the object does not deserialize as `T`.
            pub fn extra_as<T: serde::de::DeserializeOwned>(&self) -> serde_json::Result<T> {
                T::deserialize(&serde_json::Value::Object(self.extra.clone()))
            }

            /// Replaces the extra fields with `value`, which must serialize to a JSON object
            /// (top-level `null`s are left out: they mean absent).
            ///
            /// # Errors
            /// When `value` does not serialize, or not to an object.
            pub fn set_extra<T: serde::Serialize>(&mut self, value: &T) -> serde_json::Result<()> {
                self.extra = $crate::extra::extra_object(value)?;
                Ok(())
            }

            /// [`set_extra`](Self::set_extra) as a builder.
            ///
            /// # Errors
            /// When `value` does not serialize, or not to an object.
            pub fn with_extra<T: serde::Serialize>(
                mut self,
                value: &T,
            ) -> serde_json::Result<Self> {
                self.set_extra(value)?;
                Ok(self)
            }
        }
    };
}

/// `value` as an extra object: it must serialize to a JSON object; top-level `null`s are
/// left out.
///
/// ```
/// let object = auth_core::extra::extra_object(&serde_json::json!({"a": 1, "b": null})).unwrap();
/// assert_eq!(object.len(), 1);
/// assert!(auth_core::extra::extra_object(&42).is_err());
/// ```
///
/// # Errors
/// When `value` does not serialize, or not to an object.
pub fn extra_object<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<Extra> {
    match serde_json::to_value(value)? {
        Value::Object(object) => Ok(without_nulls(object)),
        other => Err(serde::ser::Error::custom(format_args!(
            "extra fields must be a JSON object, not {}",
            kind_of(&other)
        ))),
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

pub(crate) use extra_access;

/// Shows the names of extra fields only: their values may be secrets (the rest of a token
/// response).
pub(crate) struct ExtraNames<'a>(pub(crate) &'a Extra);

impl std::fmt::Debug for ExtraNames<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> Extra {
        value.as_object().cloned().unwrap_or_default()
    }

    fn refused(model: Model, value: Value) -> bool {
        check(Operation::CreateUser, model, &object(value)).is_err()
    }

    #[test]
    fn the_rules() {
        assert!(!refused(
            Model::User,
            json!({"role": "a", "n": i64::MIN, "f": f64::MAX, "tiny": 5e-324, "nested": {"x": [null, true]}})
        ));
        for name in [
            "ID",
            "_id",
            "Email",
            "emailVerified",
            "email_verified",
            "image",
        ] {
            assert!(refused(Model::User, json!({ name: 1 })), "{name}");
        }
        assert!(refused(Model::Account, json!({"providerAccountId": 1})));
        assert!(refused(Model::Session, json!({"sessionToken": 1})));
        assert!(!refused(Model::Session, json!({"name": 1})));
        for name in ["", "$where", "a.b", "a\0b"] {
            assert!(refused(Model::User, json!({ name: 1 })), "{name:?}");
            assert!(refused(Model::User, json!({"ok": { name: 1 }})), "{name:?}");
        }
        assert!(refused(Model::User, json!({"s": "a\0b"})));
        assert!(refused(Model::User, json!({"n": u64::MAX})));
        assert!(!refused(Model::User, json!({"n": i64::MAX as u64})));
    }

    #[test]
    fn depth_is_capped() {
        let nest = |levels: usize| {
            let mut value = json!(1);
            for _ in 0..levels {
                value = json!([value]);
            }
            json!({ "deep": value })
        };
        assert!(!refused(Model::User, nest(MAX_EXTRA_DEPTH - 1)));
        assert!(refused(Model::User, nest(MAX_EXTRA_DEPTH)));
    }

    #[test]
    fn size_is_capped_in_compact_json() {
        // `{"bio":"…"}` is 10 bytes around the text.
        let fits = json!({ "bio": "x".repeat(MAX_EXTRA_BYTES - 10) });
        assert_eq!(json_len(&object(fits.clone())), MAX_EXTRA_BYTES);
        assert!(!refused(Model::User, fits));
        assert!(refused(
            Model::User,
            json!({ "bio": "x".repeat(MAX_EXTRA_BYTES - 9) })
        ));
    }

    #[test]
    fn merge_is_one_level_deep() {
        let stored = object(json!({"a": {"x": 1}, "b": 2, "c": 3}));
        let patch = object(json!({"a": {"y": 2}, "b": null, "d": [null]}));
        let merged = ExtraChange::Merge(patch).applied_to(stored);
        assert_eq!(
            Value::Object(merged),
            json!({"a": {"y": 2}, "c": 3, "d": [null]})
        );
    }
}
