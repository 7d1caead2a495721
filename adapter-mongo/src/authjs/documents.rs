//! The documents of the Auth.js layout, handled untyped: what `@auth/mongodb-adapter` writes
//! (the table in `crate::authjs`), read field by field with its BSON types, and written
//! the same way.

use auth_core::chrono::{DateTime, Utc};
use auth_core::{
    Account, AccountType, AdapterError, AdapterResult, Authenticator, Operation, Session, User,
    VerificationToken,
};
use mongodb::bson::{doc, Bson, Document};

use crate::extra::{extra_of, fields_of};
use crate::shared::{from_bson, to_bson};

/// The fields of a user document that are Auth.js's own; every other top-level field is
/// an extra field (Auth.js keeps the whole object it is given).
pub(crate) const USER_FIELDS: &[&str] = &["_id", "name", "email", "emailVerified", "image"];

/// The fields of an account document that are Auth.js's own.
pub(crate) const ACCOUNT_FIELDS: &[&str] = &[
    "_id",
    "userId",
    "type",
    "provider",
    "providerAccountId",
    "refresh_token",
    "access_token",
    "expires_at",
    "token_type",
    "scope",
    "id_token",
    "session_state",
];

/// The fields of a session document that are Auth.js's own.
pub(crate) const SESSION_FIELDS: &[&str] = &["_id", "sessionToken", "userId", "expires"];

/// Whether `name` is one of `own`: the test `crate::extra` takes to tell Auth.js's fields
/// from the app's.
pub(super) fn is_own(own: &'static [&'static str]) -> impl Fn(&str) -> bool {
    move |name| own.contains(&name)
}

/// The extra fields of `doc`: its top-level fields that are not in `own`.
fn extras(doc: &Document, own: &'static [&'static str]) -> auth_core::extra::Extra {
    extra_of(doc, is_own(own))
}

/// Adds the extra fields to a new document, beside Auth.js's own (which the policy layer's
/// reserved names keep them from shadowing).
pub(super) fn add_extra(
    op: Operation,
    doc: &mut Document,
    extra: &auth_core::extra::Extra,
) -> AdapterResult<()> {
    doc.extend(fields_of(op, extra)?);
    Ok(())
}

pub(super) fn optional(value: &Option<String>) -> Bson {
    value.clone().map_or(Bson::Null, Bson::String)
}

pub(super) fn optional_date(value: Option<DateTime<Utc>>) -> Bson {
    value.map_or(Bson::Null, |t| Bson::DateTime(to_bson(t)))
}

pub(super) fn bad_field(op: Operation, field: &str, value: &Bson) -> AdapterError {
    AdapterError::backend(
        op,
        format!(
            "stored field {field} has BSON type {:?}, not what Auth.js writes",
            value.element_type()
        ),
    )
}

pub(super) fn text(op: Operation, doc: &Document, field: &str) -> AdapterResult<Option<String>> {
    match doc.get(field) {
        None | Some(Bson::Null) => Ok(None),
        Some(Bson::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(bad_field(op, field, other)),
    }
}

pub(super) fn required(op: Operation, doc: &Document, field: &str) -> AdapterResult<String> {
    text(op, doc, field)?
        .ok_or_else(|| AdapterError::backend(op, format!("stored field {field} is missing")))
}

/// An id field as hex: an ObjectId, as Auth.js stores ids (a string is taken as it is).
pub(super) fn hex(op: Operation, doc: &Document, field: &str) -> AdapterResult<String> {
    match doc.get(field) {
        Some(Bson::ObjectId(id)) => Ok(id.to_hex()),
        Some(Bson::String(s)) => Ok(s.clone()),
        Some(other) => Err(bad_field(op, field, other)),
        None => Err(AdapterError::backend(
            op,
            format!("stored field {field} is missing"),
        )),
    }
}

pub(super) fn date(
    op: Operation,
    doc: &Document,
    field: &str,
) -> AdapterResult<Option<DateTime<Utc>>> {
    match doc.get(field) {
        None | Some(Bson::Null) => Ok(None),
        Some(Bson::DateTime(t)) => from_bson(op, *t).map(Some),
        Some(other) => Err(bad_field(op, field, other)),
    }
}

pub(super) fn required_date(
    op: Operation,
    doc: &Document,
    field: &str,
) -> AdapterResult<DateTime<Utc>> {
    date(op, doc, field)?
        .ok_or_else(|| AdapterError::backend(op, format!("stored field {field} is missing")))
}

/// A number as Node writes it: an int32 when it fits, else a double; int64 from here.
pub(super) fn integer(op: Operation, doc: &Document, field: &str) -> AdapterResult<Option<i64>> {
    match doc.get(field) {
        None | Some(Bson::Null) => Ok(None),
        Some(Bson::Int32(n)) => Ok(Some(i64::from(*n))),
        Some(Bson::Int64(n)) => Ok(Some(*n)),
        // A whole number Node stored as a double (|n| >= 2^31); `as` is exact for these.
        #[allow(clippy::cast_possible_truncation)]
        Some(Bson::Double(x)) if x.fract() == 0.0 && x.abs() < 9.0e15 => Ok(Some(*x as i64)),
        Some(other) => Err(bad_field(op, field, other)),
    }
}

pub(super) fn user_of(op: Operation, doc: &Document) -> AdapterResult<User> {
    Ok(User {
        extra: extras(doc, USER_FIELDS),
        id: hex(op, doc, "_id")?,
        email: text(op, doc, "email")?,
        email_verified: date(op, doc, "emailVerified")?,
        name: text(op, doc, "name")?,
        image: text(op, doc, "image")?,
    })
}

/// Sets the four user fields of `doc` (other fields stay).
pub(super) fn set_user_fields(doc: &mut Document, user: &User) {
    doc.insert("name", optional(&user.name));
    doc.insert("email", optional(&user.email));
    doc.insert("emailVerified", optional_date(user.email_verified));
    doc.insert("image", optional(&user.image));
}

pub(super) fn account_tokens(account: &Account) -> Document {
    doc! {
        "refresh_token": optional(&account.refresh_token),
        "access_token": optional(&account.access_token),
        "expires_at": account.expires_at.map_or(Bson::Null, Bson::Int64),
        "token_type": optional(&account.token_type),
        "scope": optional(&account.scope),
        "id_token": optional(&account.id_token),
        "session_state": optional(&account.session_state),
    }
}

pub(super) fn account_of(op: Operation, doc: &Document) -> AdapterResult<Account> {
    let account_type = required(op, doc, "type")?;
    Ok(Account {
        extra: extras(doc, ACCOUNT_FIELDS),
        user_id: hex(op, doc, "userId")?,
        account_type: account_type
            .parse::<AccountType>()
            .map_err(|e| AdapterError::backend(op, format!("stored account type: {e}")))?,
        provider: required(op, doc, "provider")?,
        provider_account_id: required(op, doc, "providerAccountId")?,
        refresh_token: text(op, doc, "refresh_token")?,
        access_token: text(op, doc, "access_token")?,
        expires_at: integer(op, doc, "expires_at")?,
        token_type: text(op, doc, "token_type")?,
        scope: text(op, doc, "scope")?,
        id_token: text(op, doc, "id_token")?,
        session_state: text(op, doc, "session_state")?,
    })
}

pub(super) fn session_of(op: Operation, doc: &Document) -> AdapterResult<Session> {
    Ok(Session {
        extra: extras(doc, SESSION_FIELDS),
        session_token: required(op, doc, "sessionToken")?,
        user_id: hex(op, doc, "userId")?,
        expires: required_date(op, doc, "expires")?,
    })
}

pub(super) fn token_of(op: Operation, doc: &Document) -> AdapterResult<VerificationToken> {
    Ok(VerificationToken {
        identifier: required(op, doc, "identifier")?,
        token: required(op, doc, "token")?,
        expires: required_date(op, doc, "expires")?,
    })
}

pub(super) fn authenticator_of(op: Operation, doc: &Document) -> AdapterResult<Authenticator> {
    Ok(Authenticator {
        credential_id: required(op, doc, "credentialID")?,
        user_id: hex(op, doc, "userId")?,
        provider_account_id: required(op, doc, "providerAccountId")?,
        credential_public_key: required(op, doc, "credentialPublicKey")?,
        counter: integer(op, doc, "counter")?
            .ok_or_else(|| AdapterError::backend(op, "stored field counter is missing"))?,
        credential_device_type: required(op, doc, "credentialDeviceType")?,
        credential_backed_up: match doc.get("credentialBackedUp") {
            Some(Bson::Boolean(b)) => *b,
            Some(other) => return Err(bad_field(op, "credentialBackedUp", other)),
            None => {
                return Err(AdapterError::backend(
                    op,
                    "stored field credentialBackedUp is missing",
                ))
            }
        },
        transports: text(op, doc, "transports")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_numbers_are_read() {
        let op = Operation::GetAccount;
        let doc = doc! { "a": 5_i32, "b": 7_i64, "c": 3.0e9, "d": 1.5, "e": Bson::Null };
        assert_eq!(integer(op, &doc, "a").ok().flatten(), Some(5));
        assert_eq!(integer(op, &doc, "b").ok().flatten(), Some(7));
        assert_eq!(integer(op, &doc, "c").ok().flatten(), Some(3_000_000_000));
        assert!(integer(op, &doc, "d").is_err());
        assert_eq!(integer(op, &doc, "e").ok().flatten(), None);
    }
}
