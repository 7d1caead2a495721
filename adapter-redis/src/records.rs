//! The stored form of each record: one JSON object per Redis string, timestamps as epoch
//! milliseconds (exact to the millisecond, far past and far future included), absent
//! optional fields left out.
//!
//! The field names are the model's, except that `Account::account_type` is `type`, and a
//! user with an email also keeps `email_key`: the email key it claims (what the policy layer
//! computed when the email was written), so the claim is released exactly, whatever the
//! normalization of a later version. The Lua scripts read two fields of a session
//! (`user_id`, `expires`) and one of accounts and authenticators (`user_id`); everything
//! else is only read in Rust.
//!
//! Users, accounts and sessions keep the app's extra fields as one object, `extra`, last in
//! the record and left out when empty (so a record without extras is byte for byte what an
//! earlier version wrote). Its numbers are serde_json's text, exact both ways
//! (`float_roundtrip`): a script may `cjson.decode` a record to read a field, but no script
//! ever encodes one (cjson would print `i64::MAX` as `9.2233720368548e+18`); every record
//! that reaches Redis is text computed here.

use auth_core::chrono::{DateTime, Utc};
use auth_core::extra::{without_nulls, Extra};
use auth_core::{Account, AccountType, Authenticator, Session, User, VerificationToken};
use serde::{Deserialize, Serialize};

/// A stored record that could not be decoded (written by something else, or corrupt).
#[derive(Debug)]
pub(crate) struct CorruptRecord {
    pub(crate) what: &'static str,
    pub(crate) why: String,
}

impl std::fmt::Display for CorruptRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "a stored {} record could not be read: {}",
            self.what, self.why
        )
    }
}

impl std::error::Error for CorruptRecord {}

fn millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn from_millis(what: &'static str, ms: i64) -> Result<DateTime<Utc>, CorruptRecord> {
    DateTime::from_timestamp_millis(ms).ok_or_else(|| CorruptRecord {
        what,
        why: format!("timestamp {ms} ms is out of range"),
    })
}

fn decode<T: serde::de::DeserializeOwned>(
    what: &'static str,
    raw: &[u8],
) -> Result<T, CorruptRecord> {
    // Only the position and class of the error: serde's message may quote stored data,
    // which can be a secret (a token).
    serde_json::from_slice(raw).map_err(|e| CorruptRecord {
        what,
        why: format!(
            "{:?} error at line {} column {}",
            e.classify(),
            e.line(),
            e.column()
        ),
    })
}

fn encode<T: Serialize>(value: &T) -> String {
    // Serializing these structs (strings, integers, booleans, and a `Map` of `Value`s, whose
    // keys are strings and whose numbers are finite) cannot fail.
    serde_json::to_string(value).unwrap_or_default()
}

/// The extra fields as stored: a top-level `null` means absent (the policy layer never
/// writes one; a record edited by hand may hold one).
fn stored_extra(extra: Extra) -> Extra {
    without_nulls(extra)
}

#[derive(Serialize, Deserialize)]
struct StoredUser {
    id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    email_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    email_verified: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    image: Option<String>,
    #[serde(default, skip_serializing_if = "Extra::is_empty")]
    extra: Extra,
    /// Cluster mode: which life of this user id the record is (a fresh value per
    /// `create_user`), so that what a deleted user left behind is never taken for what a
    /// new user of the same id owns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    incarnation: Option<String>,
}

/// The stored form of a user whose email (if any) claims `email_key`.
pub(crate) fn encode_user(user: &User, email_key: Option<&str>) -> String {
    encode_user_incarnation(user, email_key, None)
}

/// [`encode_user`] with the cluster mode's incarnation.
pub(crate) fn encode_user_incarnation(
    user: &User,
    email_key: Option<&str>,
    incarnation: Option<&str>,
) -> String {
    encode(&StoredUser {
        incarnation: incarnation.map(str::to_owned),
        id: user.id.clone(),
        email: user.email.clone(),
        email_key: user.email.as_ref().and(email_key).map(str::to_owned),
        email_verified: user.email_verified.map(millis),
        name: user.name.clone(),
        image: user.image.clone(),
        extra: user.extra.clone(),
    })
}

pub(crate) fn decode_user(raw: &[u8]) -> Result<User, CorruptRecord> {
    decode_user_and_key(raw).map(|(user, _)| user)
}

/// A stored user and the email key it claims. A record written by 0.1, which kept no
/// `email_key`, claims the normalized form of its email.
pub(crate) fn decode_user_and_key(raw: &[u8]) -> Result<(User, Option<String>), CorruptRecord> {
    decode_user_incarnation(raw).map(|(user, key, _)| (user, key))
}

/// [`decode_user_and_key`] and the cluster mode's incarnation (`None` in a record of the
/// single-server layout).
pub(crate) fn decode_user_incarnation(
    raw: &[u8],
) -> Result<(User, Option<String>, Option<String>), CorruptRecord> {
    let s: StoredUser = decode("user", raw)?;
    let email_key = match (&s.email, s.email_key) {
        (None, _) => None,
        (Some(_), Some(key)) => Some(key),
        (Some(email), None) => Some(auth_core::normalize_email(email)),
    };
    let user = User {
        extra: stored_extra(s.extra),
        id: s.id,
        email: s.email,
        email_verified: s
            .email_verified
            .map(|ms| from_millis("user", ms))
            .transpose()?,
        name: s.name,
        image: s.image,
    };
    Ok((user, email_key, s.incarnation))
}

#[derive(Serialize, Deserialize)]
struct StoredAccount {
    user_id: String,
    #[serde(rename = "type")]
    account_type: AccountType,
    provider: String,
    provider_account_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    access_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    token_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    session_state: Option<String>,
    #[serde(default, skip_serializing_if = "Extra::is_empty")]
    extra: Extra,
}

pub(crate) fn encode_account(a: &Account) -> String {
    encode(&StoredAccount {
        user_id: a.user_id.clone(),
        account_type: a.account_type,
        provider: a.provider.clone(),
        provider_account_id: a.provider_account_id.clone(),
        refresh_token: a.refresh_token.clone(),
        access_token: a.access_token.clone(),
        expires_at: a.expires_at,
        token_type: a.token_type.clone(),
        scope: a.scope.clone(),
        id_token: a.id_token.clone(),
        session_state: a.session_state.clone(),
        extra: a.extra.clone(),
    })
}

pub(crate) fn decode_account(raw: &[u8]) -> Result<Account, CorruptRecord> {
    let s: StoredAccount = decode("account", raw)?;
    Ok(Account {
        extra: stored_extra(s.extra),
        user_id: s.user_id,
        account_type: s.account_type,
        provider: s.provider,
        provider_account_id: s.provider_account_id,
        refresh_token: s.refresh_token,
        access_token: s.access_token,
        expires_at: s.expires_at,
        token_type: s.token_type,
        scope: s.scope,
        id_token: s.id_token,
        session_state: s.session_state,
    })
}

#[derive(Serialize, Deserialize)]
struct StoredSession {
    session_token: String,
    user_id: String,
    expires: i64,
    #[serde(default, skip_serializing_if = "Extra::is_empty")]
    extra: Extra,
}

pub(crate) fn encode_session(s: &Session) -> String {
    encode(&StoredSession {
        session_token: s.session_token.clone(),
        user_id: s.user_id.clone(),
        expires: millis(s.expires),
        extra: s.extra.clone(),
    })
}

pub(crate) fn decode_session(raw: &[u8]) -> Result<Session, CorruptRecord> {
    let s: StoredSession = decode("session", raw)?;
    Ok(Session {
        extra: stored_extra(s.extra),
        session_token: s.session_token,
        user_id: s.user_id,
        expires: from_millis("session", s.expires)?,
    })
}

#[derive(Serialize, Deserialize)]
struct StoredToken {
    identifier: String,
    token: String,
    expires: i64,
}

pub(crate) fn encode_token(t: &VerificationToken) -> String {
    encode(&StoredToken {
        identifier: t.identifier.clone(),
        token: t.token.clone(),
        expires: millis(t.expires),
    })
}

pub(crate) fn decode_token(raw: &[u8]) -> Result<VerificationToken, CorruptRecord> {
    let s: StoredToken = decode("verification token", raw)?;
    Ok(VerificationToken {
        identifier: s.identifier,
        token: s.token,
        expires: from_millis("verification token", s.expires)?,
    })
}

#[derive(Serialize, Deserialize)]
struct StoredAuthenticator {
    credential_id: String,
    user_id: String,
    provider_account_id: String,
    credential_public_key: String,
    counter: i64,
    credential_device_type: String,
    credential_backed_up: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    transports: Option<String>,
}

pub(crate) fn encode_authenticator(a: &Authenticator) -> String {
    encode(&StoredAuthenticator {
        credential_id: a.credential_id.clone(),
        user_id: a.user_id.clone(),
        provider_account_id: a.provider_account_id.clone(),
        credential_public_key: a.credential_public_key.clone(),
        counter: a.counter,
        credential_device_type: a.credential_device_type.clone(),
        credential_backed_up: a.credential_backed_up,
        transports: a.transports.clone(),
    })
}

pub(crate) fn decode_authenticator(raw: &[u8]) -> Result<Authenticator, CorruptRecord> {
    let s: StoredAuthenticator = decode("authenticator", raw)?;
    Ok(Authenticator {
        credential_id: s.credential_id,
        user_id: s.user_id,
        provider_account_id: s.provider_account_id,
        credential_public_key: s.credential_public_key,
        counter: s.counter,
        credential_device_type: s.credential_device_type,
        credential_backed_up: s.credential_backed_up,
        transports: s.transports,
    })
}

/// The epoch milliseconds stored for an instant (what `PEXPIREAT` and the expiry sets get).
pub(crate) fn expires_ms(t: DateTime<Utc>) -> i64 {
    millis(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use auth_core::chrono::TimeZone;

    #[test]
    fn records_round_trip_to_the_millisecond() {
        let at = Utc.with_ymd_and_hms(1001, 1, 1, 0, 0, 0).unwrap()
            + auth_core::chrono::Duration::microseconds(123_456);
        let user = User {
            extra: edge_extra(),
            id: "u\0\"{}".into(),
            email: Some("A@x".into()),
            email_verified: Some(at),
            name: None,
            image: Some("🦀".into()),
        };
        let (back, key) = decode_user_and_key(encode_user(&user, Some("a@x")).as_bytes()).unwrap();
        assert_eq!(key.as_deref(), Some("a@x"));
        assert_eq!(back.email_verified, Some(auth_core::truncate_to_millis(at)));
        assert_eq!(back.id, user.id);
        assert_eq!(back.name, None);
        assert_eq!(back.extra, user.extra);

        let session = Session::with_token(
            "t",
            "u",
            Utc.with_ymd_and_hms(9998, 12, 31, 23, 59, 59).unwrap(),
        );
        assert_eq!(
            decode_session(encode_session(&session).as_bytes()).unwrap(),
            session
        );

        let mut account = Account::new("u", AccountType::WebAuthn, "p", "a");
        account.expires_at = Some(-5);
        account.id_token = Some("x".repeat(4096));
        assert_eq!(
            decode_account(encode_account(&account).as_bytes()).unwrap(),
            account
        );

        let token = VerificationToken::new("i", "t", Utc.timestamp_millis_opt(-1).unwrap());
        assert_eq!(
            decode_token(encode_token(&token).as_bytes()).unwrap(),
            token
        );

        let cred = Authenticator::new("c", "u", "pa", "pk");
        assert_eq!(
            decode_authenticator(encode_authenticator(&cred).as_bytes()).unwrap(),
            cred
        );
    }

    #[test]
    fn the_stored_form_is_documented_json() {
        let session = Session::with_token(
            "tok",
            "u1",
            Utc.timestamp_millis_opt(1_700_000_000_123).unwrap(),
        );
        assert_eq!(
            encode_session(&session),
            r#"{"session_token":"tok","user_id":"u1","expires":1700000000123}"#
        );
        let user = User::with_id("u1");
        assert_eq!(encode_user(&user, None), r#"{"id":"u1"}"#);
        let user = User::with_id("u1").with_email("Ada@X");
        assert_eq!(
            encode_user(&user, Some("ada@x")),
            r#"{"id":"u1","email":"Ada@X","email_key":"ada@x"}"#
        );
        // A record of 0.1 claims the normalized email.
        let (_, key) = decode_user_and_key(br#"{"id":"u1","email":" Ada@X "}"#).unwrap();
        assert_eq!(key.as_deref(), Some("ada@x"));
        let account = Account::new("u1", AccountType::Oidc, "github", "1");
        assert_eq!(
            encode_account(&account),
            r#"{"user_id":"u1","type":"oidc","provider":"github","provider_account_id":"1"}"#
        );
    }

    /// Numbers at the edges of i64 and f64, Unicode, nested nulls.
    fn edge_extra() -> Extra {
        match serde_json::json!({
            "max": i64::MAX,
            "min": i64::MIN,
            "big": f64::MAX,
            "tiny": 5e-324,
            "tenth": 0.1,
            "neg_zero": -0.0,
            "text": "Zoë 🦀 \u{1} \"q\" \\",
            "nested": {"a": [null, 1.5, {"b": null}], "e": {}},
        }) {
            serde_json::Value::Object(object) => object,
            _ => Extra::new(),
        }
    }

    #[test]
    fn extra_fields_round_trip_exactly() {
        let mut user = User::with_id("u1").with_email("a@x");
        user.extra = edge_extra();
        let raw = encode_user(&user, Some("a@x"));
        let (back, _) = decode_user_and_key(raw.as_bytes()).unwrap();
        assert_eq!(back.extra, user.extra);
        // The text itself: integers with all their digits (what cjson would print as
        // 9.2233720368548e+18), and the same text again after a read and a write, which is
        // what a compare-and-set script checks byte for byte.
        assert!(raw.contains(r#""max":9223372036854775807"#), "{raw}");
        assert!(raw.contains(r#""min":-9223372036854775808"#), "{raw}");
        assert!(raw.contains(r#""tiny":5e-324"#), "{raw}");
        assert_eq!(encode_user(&back, Some("a@x")), raw);

        let mut account = Account::new("u1", AccountType::OAuth, "p", "a");
        account.extra = edge_extra();
        let raw = encode_account(&account);
        assert_eq!(decode_account(raw.as_bytes()).unwrap(), account);
        assert_eq!(
            encode_account(&decode_account(raw.as_bytes()).unwrap()),
            raw
        );

        let mut session = Session::with_token(
            "t",
            "u1",
            Utc.timestamp_millis_opt(1_700_000_000_123).unwrap(),
        );
        session.extra = edge_extra();
        // The largest object the policy layer lets through.
        let room = auth_core::extra::MAX_EXTRA_BYTES - auth_core::extra::json_len(&session.extra);
        session.extra.insert(
            "fill".into(),
            "f".repeat(room - r#","fill":"""#.len()).into(),
        );
        assert_eq!(
            auth_core::extra::json_len(&session.extra),
            auth_core::extra::MAX_EXTRA_BYTES
        );
        let raw = encode_session(&session);
        assert_eq!(decode_session(raw.as_bytes()).unwrap(), session);
        assert_eq!(
            encode_session(&decode_session(raw.as_bytes()).unwrap()),
            raw
        );
    }

    #[test]
    fn extra_fields_are_stored_last_and_only_when_present() {
        let mut session = Session::with_token(
            "tok",
            "u1",
            Utc.timestamp_millis_opt(1_700_000_000_123).unwrap(),
        );
        session.extra.insert("remember".into(), true.into());
        assert_eq!(
            encode_session(&session),
            r#"{"session_token":"tok","user_id":"u1","expires":1700000000123,"extra":{"remember":true}}"#
        );
        let mut user = User::with_id("u1");
        user.extra.insert("role".into(), "admin".into());
        assert_eq!(
            encode_user(&user, None),
            r#"{"id":"u1","extra":{"role":"admin"}}"#
        );
        // A top-level null is an absent field, whoever wrote it.
        let read = decode_user(br#"{"id":"u1","extra":{"role":"admin","plan":null}}"#).unwrap();
        assert_eq!(read, user);
        // A record of an earlier version has none.
        let read = decode_user(br#"{"id":"u1"}"#).unwrap();
        assert!(read.extra.is_empty());
        assert!(decode_user(br#"{"id":"u1","extra":[1]}"#).is_err());
    }

    #[test]
    fn corrupt_records_are_errors_not_panics() {
        assert!(decode_user(b"not json").is_err());
        assert!(decode_session(br#"{"session_token":"t","user_id":"u","expires":9e30}"#).is_err());
        assert!(decode_session(
            br#"{"session_token":"t","user_id":"u","expires":9223372036854775807}"#
        )
        .is_err());
    }
}
