//! The app's extra fields in BSON, for both layouts: the native layout keeps them in one
//! sub-document, `extra`; the Auth.js layout as top-level fields beside Auth.js's own (what
//! `@auth/mongodb-adapter` does with the whole object it is given).
//!
//! JSON to BSON is exact and typed: an integer is an int64, every other number a double, so
//! `i64::MIN`/`MAX` and every finite `f64` (`f64::MAX`, `5e-324`, `-0.0`) come back as they
//! went in. BSON to JSON reads an int32 (what Node writes for a small whole number) as an
//! integer too; a value with no JSON equivalent, written by another program (a date, an
//! ObjectId, a Decimal128, binary data, a NaN double, …), reads as MongoDB's relaxed
//! Extended JSON (`{"$date": "2024-01-01T00:00:00Z"}`, `{"$oid": "…"}`,
//! `{"$numberDecimal": "1.10"}`). A merge rewrites only the fields it names, so such a
//! value keeps its BSON type; the app cannot write one back itself (a name starting with `$`
//! is refused by the policy layer).

use auth_core::extra::{Extra, ExtraChange};
use auth_core::serde_json::Value;
use auth_core::{AdapterError, AdapterResult, Operation};
use mongodb::bson::{Bson, Document};

/// `value` as BSON: an integer as an int64, any other number as a double.
fn bson_of(op: Operation, value: &Value) -> AdapterResult<Bson> {
    Ok(match value {
        Value::Null => Bson::Null,
        Value::Bool(b) => Bson::Boolean(*b),
        Value::Number(number) => {
            if let Some(n) = number.as_i64() {
                Bson::Int64(n)
            } else if number.is_f64() {
                // `is_f64` holds exactly when the number is a float, so this is its value.
                Bson::Double(number.as_f64().unwrap_or_default())
            } else {
                // A u64 beyond i64: the policy layer refuses it before any store sees it.
                return Err(AdapterError::invalid_input(
                    op,
                    "an extra field holds an integer beyond i64, which BSON cannot store",
                ));
            }
        }
        Value::String(text) => Bson::String(text.clone()),
        Value::Array(items) => Bson::Array(
            items
                .iter()
                .map(|item| bson_of(op, item))
                .collect::<AdapterResult<_>>()?,
        ),
        Value::Object(object) => Bson::Document(nested(op, object)?),
    })
}

/// An object inside the extra fields as a document; its `null`s are kept.
fn nested(op: Operation, object: &Extra) -> AdapterResult<Document> {
    let mut doc = Document::new();
    for (name, value) in object {
        doc.insert(name.clone(), bson_of(op, value)?);
    }
    Ok(doc)
}

/// `value` as JSON: int32 and int64 as integers, a finite double as a float, anything with
/// no JSON equivalent as relaxed Extended JSON (the module docs).
pub(crate) fn json_of(value: &Bson) -> Value {
    match value {
        Bson::Array(items) => Value::Array(items.iter().map(json_of).collect()),
        Bson::Document(doc) => Value::Object(
            doc.iter()
                .map(|(name, value)| (name.clone(), json_of(value)))
                .collect(),
        ),
        // The bson crate's relaxed form is exactly this for every scalar: int32/int64 as
        // integers, a finite double as a float (`1.0` stays a float), NaN and infinities as
        // `{"$numberDouble": …}`, and the other types as their `$`-keyed objects.
        other => other.clone().into_relaxed_extjson(),
    }
}

/// The extra fields as BSON fields, top-level `null`s left out (a `null` field is an
/// absent one): the native layout's `extra` sub-document, or the top-level fields the
/// Auth.js layout adds to a document.
pub(crate) fn fields_of(op: Operation, extra: &Extra) -> AdapterResult<Document> {
    let mut doc = Document::new();
    for (name, value) in extra {
        if !value.is_null() {
            doc.insert(name.clone(), bson_of(op, value)?);
        }
    }
    Ok(doc)
}

/// The native layout's `extra` sub-document: `None` (the field absent) when there is none.
pub(crate) fn sub_document(op: Operation, extra: &Extra) -> AdapterResult<Option<Document>> {
    let doc = fields_of(op, extra)?;
    Ok((!doc.is_empty()).then_some(doc))
}

/// The extra fields among `fields`: every one `is_own` does not claim, top-level `null`s
/// left out.
pub(crate) fn extra_of<'a>(
    fields: impl IntoIterator<Item = (&'a String, &'a Bson)>,
    is_own: impl Fn(&str) -> bool,
) -> Extra {
    fields
        .into_iter()
        .filter(|(name, value)| !is_own(name) && !matches!(value, Bson::Null))
        .map(|(name, value)| (name.clone(), json_of(value)))
        .collect()
}

/// Applies `change` to the extra fields held in `doc` (the native sub-document, or a
/// whole Auth.js document, where `is_own` claims the fields that are not extras): a merge
/// sets the fields it gives and removes those given as `null`, leaving every other field as
/// stored (its BSON type included); a replacement removes every extra field first.
pub(crate) fn apply_change(
    op: Operation,
    doc: &mut Document,
    change: &ExtraChange,
    is_own: impl Fn(&str) -> bool,
) -> AdapterResult<()> {
    match change {
        ExtraChange::Merge(patch) => {
            for (name, value) in patch {
                if value.is_null() {
                    doc.remove(name);
                } else {
                    doc.insert(name.clone(), bson_of(op, value)?);
                }
            }
        }
        ExtraChange::Replace(object) => {
            let stale: Vec<String> = doc.keys().filter(|name| !is_own(name)).cloned().collect();
            for name in stale {
                doc.remove(&name);
            }
            doc.extend(fields_of(op, object)?);
        }
    }
    Ok(())
}

/// Whether an update's result depends on the extra fields as stored: every update but a
/// replacement of them (a merge starts from them; no change carries them over), so the
/// write that ends a read-modify-write must be guarded on them.
pub(crate) fn reads_stored(change: Option<&ExtraChange>) -> bool {
    !matches!(change, Some(ExtraChange::Replace(_)))
}

/// The native layout's `extra` sub-document after `change` (as stored when there is none):
/// `None` when it ends up empty.
pub(crate) fn changed_sub_document(
    op: Operation,
    stored: Option<&Document>,
    change: Option<&ExtraChange>,
) -> AdapterResult<Option<Document>> {
    let Some(change) = change else {
        return Ok(stored.cloned());
    };
    let mut doc = stored.cloned().unwrap_or_default();
    apply_change(op, &mut doc, change, |_| false)?;
    Ok((!doc.is_empty()).then_some(doc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use auth_core::serde_json::json;
    use mongodb::bson::{doc, oid::ObjectId, Decimal128};

    fn object(value: Value) -> Extra {
        match value {
            Value::Object(object) => object,
            _ => Extra::new(),
        }
    }

    #[test]
    fn numbers_at_the_edges_round_trip_with_their_bson_types() {
        let op = Operation::CreateUser;
        let extra = object(json!({
            "max": i64::MAX, "min": i64::MIN, "big": f64::MAX, "tiny": 5e-324,
            "tenth": 0.1, "whole": 2.0, "neg_zero": -0.0,
            "nested": {"a": [1, null, {"b": null}], "ü": "Zoë 🦀"},
        }));
        let doc = fields_of(op, &extra).unwrap();
        assert_eq!(doc.get("max"), Some(&Bson::Int64(i64::MAX)));
        assert_eq!(doc.get("min"), Some(&Bson::Int64(i64::MIN)));
        assert_eq!(doc.get("big"), Some(&Bson::Double(f64::MAX)));
        assert_eq!(doc.get("whole"), Some(&Bson::Double(2.0)));
        let back = extra_of(&doc, |_| false);
        assert_eq!(back, extra);
        let neg_zero = back.get("neg_zero").and_then(Value::as_f64).unwrap();
        assert!(neg_zero == 0.0 && neg_zero.is_sign_negative());
    }

    #[test]
    fn foreign_bson_reads_as_relaxed_extended_json() {
        let oid = ObjectId::parse_str("65a1f0c2e4b0a1b2c3d4e5f6").unwrap();
        let doc = doc! {
            "small": 5_i32,
            "when": mongodb::bson::DateTime::from_millis(1_700_000_000_123),
            "oid": oid,
            "dec": Bson::Decimal128("1.10".parse::<Decimal128>().unwrap()),
            "nan": f64::NAN,
            "gone": Bson::Null,
        };
        let extra = extra_of(&doc, |_| false);
        assert_eq!(extra["small"], json!(5));
        assert_eq!(extra["when"], json!({"$date": "2023-11-14T22:13:20.123Z"}));
        assert_eq!(extra["oid"], json!({"$oid": "65a1f0c2e4b0a1b2c3d4e5f6"}));
        assert_eq!(extra["dec"], json!({"$numberDecimal": "1.10"}));
        assert_eq!(extra["nan"], json!({"$numberDouble": "NaN"}));
        assert!(!extra.contains_key("gone"));
    }

    #[test]
    fn a_merge_keeps_what_it_does_not_name_and_a_replacement_keeps_own_fields() {
        let op = Operation::UpdateUser;
        let when = mongodb::bson::DateTime::from_millis(1);
        let mut doc = doc! { "_id": 1, "email": "a@b.c", "when": when, "role": "user" };
        let own = |name: &str| matches!(name, "_id" | "email");
        let merge = ExtraChange::Merge(object(json!({"role": null, "level": 3})));
        apply_change(op, &mut doc, &merge, own).unwrap();
        assert_eq!(
            doc,
            doc! { "_id": 1, "email": "a@b.c", "when": when, "level": 3_i64 }
        );
        let replace = ExtraChange::Replace(object(json!({"plan": "pro"})));
        apply_change(op, &mut doc, &replace, own).unwrap();
        assert_eq!(doc, doc! { "_id": 1, "email": "a@b.c", "plan": "pro" });
    }
}
