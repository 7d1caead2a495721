//! The JSON values of `@auth/unstorage-adapter`: Node's `JSON.stringify` of the Auth.js
//! objects, with camelCase fields (`userId`, `providerAccountId`, `sessionToken`,
//! `credentialID`), the account's token fields in snake_case, dates as ISO 8601 strings
//! (`Date.prototype.toISOString`, which the adapter's `hydrateDates` turns back into
//! dates), and `null` for an absent user field.
//!
//! Node's adapter stores the whole object it is given, so the app's extra fields are
//! top-level fields beside the Auth.js ones: every field a record's own list
//! ([`USER_FIELDS`], [`ACCOUNT_FIELDS`], [`SESSION_FIELDS`]) does not name is an extra
//! field on read (a `null` one is absent, as Node's `updateUser({role: null})` leaves it),
//! and extra fields are written at the top level, after the record's own.

use auth_core::chrono::{DateTime, SecondsFormat, Utc};
use auth_core::extra::Extra;
use auth_core::{Account, AccountType, Authenticator, Session, User, VerificationToken};
use serde_json::{Map, Value};

use crate::records::CorruptRecord;

pub(crate) type Object = Map<String, Value>;

fn corrupt(what: &'static str, why: impl Into<String>) -> CorruptRecord {
    CorruptRecord {
        what,
        why: why.into(),
    }
}

/// `Date.prototype.toISOString`: milliseconds and `Z`.
pub(crate) fn iso(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn parse_iso(what: &'static str, field: &str, s: &str) -> Result<DateTime<Utc>, CorruptRecord> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| corrupt(what, format!("field {field} is not an ISO 8601 date")))
}

/// A stored value as a JSON object.
pub(crate) fn object(what: &'static str, raw: &[u8]) -> Result<Object, CorruptRecord> {
    match serde_json::from_slice(raw) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(corrupt(what, "not a JSON object")),
        // Only the position: the message may quote stored data, which can be a secret.
        Err(e) => Err(corrupt(
            what,
            format!("{:?} error at column {}", e.classify(), e.column()),
        )),
    }
}

pub(crate) fn encode(object: &Object) -> String {
    Value::Object(object.clone()).to_string()
}

fn text(what: &'static str, m: &Object, field: &str) -> Result<String, CorruptRecord> {
    opt_text(what, m, field)?.ok_or_else(|| corrupt(what, format!("field {field} is missing")))
}

/// A string field; `null` and missing are `None`. A number or boolean (a provider's odd
/// token field) is kept as its JSON text rather than failing the read.
fn opt_text(what: &'static str, m: &Object, field: &str) -> Result<Option<String>, CorruptRecord> {
    match m.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(v @ (Value::Number(_) | Value::Bool(_))) => Ok(Some(v.to_string())),
        Some(_) => Err(corrupt(what, format!("field {field} is not a string"))),
    }
}

fn opt_int(what: &'static str, m: &Object, field: &str) -> Result<Option<i64>, CorruptRecord> {
    match m.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            // JavaScript numbers: 1.7e9 may come back as a float.
            .or_else(|| n.as_f64().map(|f| f as i64))
            .map(Some)
            .ok_or_else(|| corrupt(what, format!("field {field} is not a number"))),
        Some(Value::String(s)) => s
            .parse()
            .map(Some)
            .map_err(|_| corrupt(what, format!("field {field} is not a number"))),
        Some(_) => Err(corrupt(what, format!("field {field} is not a number"))),
    }
}

fn opt_date(
    what: &'static str,
    m: &Object,
    field: &str,
) -> Result<Option<DateTime<Utc>>, CorruptRecord> {
    match m.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => parse_iso(what, field, s).map(Some),
        Some(_) => Err(corrupt(what, format!("field {field} is not a date"))),
    }
}

fn date(what: &'static str, m: &Object, field: &str) -> Result<DateTime<Utc>, CorruptRecord> {
    opt_date(what, m, field)?.ok_or_else(|| corrupt(what, format!("field {field} is missing")))
}

fn opt(value: Option<impl Into<Value>>) -> Value {
    value.map_or(Value::Null, Into::into)
}

/// The fields of `m` that `own` does not name, without the `null` ones: the extra fields.
fn extra_of(m: &Object, own: &[&str]) -> Extra {
    m.iter()
        .filter(|(name, value)| !value.is_null() && !own.contains(&name.as_str()))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect()
}

/// Writes the extra fields at the top level of `m`. The policy layer refuses an extra field
/// named like one of the record's own (in any case), so none is overwritten here.
fn put_extra(m: &mut Object, extra: &Extra) {
    for (name, value) in extra {
        m.insert(name.clone(), value.clone());
    }
}

// ---------------------------------------------------------------- users

/// The fields of a stored user that are not extra fields.
pub(crate) const USER_FIELDS: [&str; 5] = ["id", "name", "email", "emailVerified", "image"];

/// The user as Auth.js stores it: every field, `null` when absent, then the extra fields.
pub(crate) fn user_object(user: &User) -> Object {
    let mut m = Object::new();
    m.insert("id".into(), user.id.clone().into());
    m.insert("name".into(), opt(user.name.clone()));
    m.insert("email".into(), opt(user.email.clone()));
    m.insert("emailVerified".into(), opt(user.email_verified.map(iso)));
    m.insert("image".into(), opt(user.image.clone()));
    put_extra(&mut m, &user.extra);
    m
}

pub(crate) fn user_from(m: &Object) -> Result<User, CorruptRecord> {
    const WHAT: &str = "user";
    Ok(User {
        extra: extra_of(m, &USER_FIELDS),
        id: text(WHAT, m, "id")?,
        email: opt_text(WHAT, m, "email")?,
        email_verified: opt_date(WHAT, m, "emailVerified")?,
        name: opt_text(WHAT, m, "name")?,
        image: opt_text(WHAT, m, "image")?,
    })
}

pub(crate) fn decode_user(raw: &[u8]) -> Result<User, CorruptRecord> {
    user_from(&object("user", raw)?)
}

// ---------------------------------------------------------------- accounts

/// The fields of a stored account that are not extra fields: the key fields, the token
/// fields and the `id` Node's `linkAccount` adds.
pub(crate) const ACCOUNT_FIELDS: [&str; 12] = [
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
    "id",
];

const TOKEN_FIELDS: [&str; 7] = [
    "refresh_token",
    "access_token",
    "expires_at",
    "token_type",
    "scope",
    "id_token",
    "session_state",
];

/// Sets the account's token fields on `m`: present ones written, absent ones removed.
fn set_account_tokens(m: &mut Object, account: &Account) {
    let values: [Option<Value>; 7] = [
        account.refresh_token.clone().map(Into::into),
        account.access_token.clone().map(Into::into),
        account.expires_at.map(Into::into),
        account.token_type.clone().map(Into::into),
        account.scope.clone().map(Into::into),
        account.id_token.clone().map(Into::into),
        account.session_state.clone().map(Into::into),
    ];
    for (field, value) in TOKEN_FIELDS.into_iter().zip(values) {
        match value {
            Some(v) => m.insert(field.into(), v),
            None => m.remove(field),
        };
    }
}

/// The account as `linkAccount` stores it: the account, plus `id` =
/// `<provider>:<providerAccountId>`, then the extra fields (the rest of the token response).
pub(crate) fn account_object(account: &Account) -> Object {
    let mut m = Object::new();
    m.insert("userId".into(), account.user_id.clone().into());
    m.insert("type".into(), account.account_type.as_str().into());
    m.insert("provider".into(), account.provider.clone().into());
    m.insert(
        "providerAccountId".into(),
        account.provider_account_id.clone().into(),
    );
    set_account_tokens(&mut m, account);
    m.insert(
        "id".into(),
        format!("{}:{}", account.provider, account.provider_account_id).into(),
    );
    put_extra(&mut m, &account.extra);
    m
}

pub(crate) fn account_from(m: &Object) -> Result<Account, CorruptRecord> {
    const WHAT: &str = "account";
    Ok(Account {
        extra: extra_of(m, &ACCOUNT_FIELDS),
        user_id: text(WHAT, m, "userId")?,
        account_type: text(WHAT, m, "type")?
            .parse::<AccountType>()
            .map_err(|_| corrupt(WHAT, "field type is not an account type"))?,
        provider: text(WHAT, m, "provider")?,
        provider_account_id: text(WHAT, m, "providerAccountId")?,
        refresh_token: opt_text(WHAT, m, "refresh_token")?,
        access_token: opt_text(WHAT, m, "access_token")?,
        expires_at: opt_int(WHAT, m, "expires_at")?,
        token_type: opt_text(WHAT, m, "token_type")?,
        scope: opt_text(WHAT, m, "scope")?,
        id_token: opt_text(WHAT, m, "id_token")?,
        session_state: opt_text(WHAT, m, "session_state")?,
    })
}

pub(crate) fn decode_account(raw: &[u8]) -> Result<Account, CorruptRecord> {
    account_from(&object("account", raw)?)
}

// ---------------------------------------------------------------- sessions, tokens

/// The fields of a stored session that are not extra fields.
pub(crate) const SESSION_FIELDS: [&str; 3] = ["sessionToken", "userId", "expires"];

/// The session as `createSession` stores it, then the extra fields (the app's data).
pub(crate) fn session_object(session: &Session) -> Object {
    let mut m = Object::new();
    m.insert("sessionToken".into(), session.session_token.clone().into());
    m.insert("userId".into(), session.user_id.clone().into());
    m.insert("expires".into(), iso(session.expires).into());
    put_extra(&mut m, &session.extra);
    m
}

pub(crate) fn decode_session(raw: &[u8]) -> Result<Session, CorruptRecord> {
    const WHAT: &str = "session";
    let m = object(WHAT, raw)?;
    Ok(Session {
        extra: extra_of(&m, &SESSION_FIELDS),
        session_token: text(WHAT, &m, "sessionToken")?,
        user_id: text(WHAT, &m, "userId")?,
        expires: date(WHAT, &m, "expires")?,
    })
}

pub(crate) fn token_object(token: &VerificationToken) -> Object {
    let mut m = Object::new();
    m.insert("identifier".into(), token.identifier.clone().into());
    m.insert("token".into(), token.token.clone().into());
    m.insert("expires".into(), iso(token.expires).into());
    m
}

pub(crate) fn decode_token(raw: &[u8]) -> Result<VerificationToken, CorruptRecord> {
    const WHAT: &str = "verification token";
    let m = object(WHAT, raw)?;
    Ok(VerificationToken {
        identifier: text(WHAT, &m, "identifier")?,
        token: text(WHAT, &m, "token")?,
        expires: date(WHAT, &m, "expires")?,
    })
}

// ---------------------------------------------------------------- authenticators

pub(crate) fn authenticator_object(a: &Authenticator) -> Object {
    let mut m = Object::new();
    m.insert("credentialID".into(), a.credential_id.clone().into());
    m.insert("userId".into(), a.user_id.clone().into());
    m.insert(
        "providerAccountId".into(),
        a.provider_account_id.clone().into(),
    );
    m.insert(
        "credentialPublicKey".into(),
        a.credential_public_key.clone().into(),
    );
    m.insert("counter".into(), a.counter.into());
    m.insert(
        "credentialDeviceType".into(),
        a.credential_device_type.clone().into(),
    );
    m.insert("credentialBackedUp".into(), a.credential_backed_up.into());
    m.insert("transports".into(), opt(a.transports.clone()));
    m
}

pub(crate) fn authenticator_from(m: &Object) -> Result<Authenticator, CorruptRecord> {
    const WHAT: &str = "authenticator";
    Ok(Authenticator {
        credential_id: text(WHAT, m, "credentialID")?,
        user_id: text(WHAT, m, "userId")?,
        provider_account_id: text(WHAT, m, "providerAccountId")?,
        credential_public_key: text(WHAT, m, "credentialPublicKey")?,
        counter: opt_int(WHAT, m, "counter")?.unwrap_or(0),
        credential_device_type: text(WHAT, m, "credentialDeviceType")?,
        credential_backed_up: match m.get("credentialBackedUp") {
            Some(Value::Bool(b)) => *b,
            _ => return Err(corrupt(WHAT, "field credentialBackedUp is not a boolean")),
        },
        transports: opt_text(WHAT, m, "transports")?,
    })
}

pub(crate) fn decode_authenticator(raw: &[u8]) -> Result<Authenticator, CorruptRecord> {
    authenticator_from(&object("authenticator", raw)?)
}

/// The by-user-id list of credential ids (`JSON.stringify` of an array), deduplicated
/// (Node's `updateAuthenticatorCounter` can repeat an id).
pub(crate) fn decode_credential_ids(raw: &[u8]) -> Result<Vec<String>, CorruptRecord> {
    let ids: Vec<String> = serde_json::from_slice(raw)
        .map_err(|_| corrupt("authenticator list", "not a JSON array of strings"))?;
    let mut unique = Vec::with_capacity(ids.len());
    for id in ids {
        if !unique.contains(&id) {
            unique.push(id);
        }
    }
    Ok(unique)
}

pub(crate) fn encode_credential_ids(ids: &[String]) -> String {
    serde_json::to_string(ids).unwrap_or_else(|_| "[]".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_written_as_javascript_writes_them() {
        let at = DateTime::from_timestamp_millis(1_767_225_600_123).unwrap_or_default();
        assert_eq!(iso(at), "2026-01-01T00:00:00.123Z");
        assert_eq!(
            parse_iso("x", "f", "2026-01-01T00:00:00.123Z").ok(),
            Some(at)
        );
    }

    fn object_of(value: Value) -> Object {
        match value {
            Value::Object(m) => m,
            _ => Object::new(),
        }
    }

    #[test]
    fn records_round_trip_and_unknown_fields_are_extra_fields() {
        let mut account = Account {
            access_token: Some("at".into()),
            expires_at: Some(1_700_000_000),
            ..Account::new("u1", AccountType::OAuth, "github", "12")
        };
        let mut m = account_object(&account);
        assert_eq!(m.get("id"), Some(&Value::from("github:12")));
        // What Node stores for the rest of a token response.
        m.insert("ext_expires_in".into(), 3600.into());
        m.insert("refresh_token_expires_in".into(), Value::Null);
        let back = decode_account(encode(&m).as_bytes()).ok();
        account.extra = object_of(serde_json::json!({"ext_expires_in": 3600}));
        assert_eq!(back, Some(account.clone()));
        // Written back at the top level, beside the account's own fields.
        let written = object("account", encode(&account_object(&account)).as_bytes());
        assert_eq!(
            written.ok().and_then(|m| m.get("ext_expires_in").cloned()),
            Some(Value::from(3600))
        );
        let raw = br#"{"id":"u1","name":null,"email":"a@b.c","emailVerified":null,"image":null}"#;
        let user = decode_user(raw).ok();
        assert_eq!(user.and_then(|u| u.email), Some("a@b.c".to_owned()));
        // Node's `updateUser({role: null})` stores a null: an absent field.
        let raw = br#"{"id":"u1","name":null,"email":null,"emailVerified":null,"image":null,"role":"admin","plan":null,"n":9223372036854775807,"f":5e-324}"#;
        let user = decode_user(raw).unwrap_or_default();
        let extra = object_of(serde_json::json!({"role": "admin", "n": i64::MAX, "f": 5e-324}));
        assert_eq!(user.extra, extra);
        let written: Value = serde_json::from_str(&encode(&user_object(&user))).unwrap_or_default();
        let expected: Value = serde_json::from_str(
            r#"{"id":"u1","name":null,"email":null,"emailVerified":null,"image":null,"role":"admin","n":9223372036854775807,"f":5e-324}"#,
        )
        .unwrap_or_default();
        assert_eq!(written, expected);
        let raw = br#"{"sessionToken":"t","userId":"u1","expires":"2026-01-01T00:00:00.123Z","csrf":"c"}"#;
        let session = decode_session(raw).ok().map(|s| s.extra);
        assert_eq!(session, Some(object_of(serde_json::json!({"csrf": "c"}))));
        assert_eq!(
            decode_credential_ids(br#"["a","b","a"]"#).ok(),
            Some(vec!["a".to_owned(), "b".to_owned()])
        );
    }
}
