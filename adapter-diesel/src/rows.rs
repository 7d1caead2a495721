//! The rows the queries load (tuples in each table's column order, as `diesel::table!`
//! declares them) and their conversion into the `auth_core` models. Generic over the
//! dialect's timestamp type ([`Stamp`]). The `extra` column reads as JSON text on every
//! dialect ([`crate::extra`]) and is parsed here.

use auth_core::{Account, Authenticator, Extra, Session, User, VerificationToken};
use auth_sql::Stamp;
use chrono::{DateTime, Utc};
use diesel::result::Error as DieselError;

/// The stored form of `at`.
pub(crate) fn stamp<T: Stamp>(at: DateTime<Utc>) -> T {
    T::from_utc(at)
}

/// A stored value that is not a valid model value.
#[derive(Debug)]
struct Undecodable(String);

impl std::fmt::Display for Undecodable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Undecodable {}

fn undecodable(why: impl Into<String>) -> DieselError {
    DieselError::DeserializationError(Box::new(Undecodable(why.into())))
}

/// The extra fields of a row: `NULL` is the empty object; anything stored must be a JSON
/// object (a decoding error otherwise, which the caller gets as an `AdapterError`).
fn extra(stored: Option<String>) -> Result<Extra, DieselError> {
    auth_sql::extra_column::read(stored.as_deref()).map_err(|why| undecodable(why.to_string()))
}

fn instant<T: Stamp>(stored: T) -> Result<DateTime<Utc>, DieselError> {
    stored
        .to_utc()
        .ok_or_else(|| undecodable("a stored timestamp is not a representable instant"))
}

/// `auth_users`: id, email, email_normalized, email_verified, name, image, extra.
pub(crate) type UserRow<T> = (
    String,
    Option<String>,
    Option<String>,
    Option<T>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// `auth_accounts`: provider, provider_account_id, user_id, account_type, refresh_token,
/// access_token, expires_at, token_type, scope, id_token, session_state, extra.
pub(crate) type AccountRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// `auth_sessions`: session_token, user_id, expires, extra.
pub(crate) type SessionRow<T> = (String, String, T, Option<String>);

/// `auth_verification_tokens`: identifier, token, expires.
pub(crate) type TokenRow<T> = (String, String, T);

/// `auth_authenticators`: credential_id, user_id, provider_account_id,
/// credential_public_key, counter, credential_device_type, credential_backed_up, transports.
pub(crate) type AuthenticatorRow = (
    String,
    String,
    String,
    String,
    i64,
    String,
    bool,
    Option<String>,
);

pub(crate) fn user<T: Stamp>(row: UserRow<T>) -> Result<User, DieselError> {
    let (id, email, _email_normalized, email_verified, name, image, stored) = row;
    Ok(User {
        extra: extra(stored)?,
        id,
        email,
        email_verified: email_verified.map(instant).transpose()?,
        name,
        image,
    })
}

pub(crate) fn account(row: AccountRow) -> Result<Account, DieselError> {
    let (
        provider,
        provider_account_id,
        user_id,
        kind,
        refresh,
        access,
        expires_at,
        tt,
        scope,
        id,
        ss,
        stored,
    ) = row;
    let account_type = kind
        .parse()
        .map_err(|e| DieselError::DeserializationError(Box::new(e)))?;
    Ok(Account {
        extra: extra(stored)?,
        user_id,
        account_type,
        provider,
        provider_account_id,
        refresh_token: refresh,
        access_token: access,
        expires_at,
        token_type: tt,
        scope,
        id_token: id,
        session_state: ss,
    })
}

pub(crate) fn session<T: Stamp>(row: SessionRow<T>) -> Result<Session, DieselError> {
    let (session_token, user_id, expires, stored) = row;
    Ok(Session {
        extra: extra(stored)?,
        session_token,
        user_id,
        expires: instant(expires)?,
    })
}

pub(crate) fn token<T: Stamp>(row: TokenRow<T>) -> Result<VerificationToken, DieselError> {
    let (identifier, token, expires) = row;
    Ok(VerificationToken {
        identifier,
        token,
        expires: instant(expires)?,
    })
}

pub(crate) fn authenticator(row: AuthenticatorRow) -> Authenticator {
    let (credential_id, user_id, pai, key, counter, device, backed_up, transports) = row;
    Authenticator {
        credential_id,
        user_id,
        provider_account_id: pai,
        credential_public_key: key,
        counter,
        credential_device_type: device,
        credential_backed_up: backed_up,
        transports,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_instant_out_of_range_is_a_decoding_error() {
        assert!(instant(i64::MAX).is_err());
    }

    #[test]
    fn an_unknown_account_type_is_a_decoding_error() {
        let row: AccountRow = (
            "p".into(),
            "a".into(),
            "u".into(),
            "carrier-pigeon".into(),
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
        );
        assert!(matches!(
            account(row),
            Err(DieselError::DeserializationError(_))
        ));
    }

    #[test]
    fn extra_fields_read_back_and_null_is_empty() {
        assert_eq!(extra(None).ok(), Some(Extra::new()));
        let read = extra(Some(r#"{"role":"admin","n":[1,2.5]}"#.into())).unwrap_or_default();
        assert_eq!(
            read.get("role"),
            Some(&auth_core::serde_json::Value::from("admin"))
        );
        assert_eq!(read.len(), 2);
    }

    #[test]
    fn a_stored_extra_that_is_not_an_object_is_a_decoding_error() {
        for stored in ["[1,2]", "\"text\"", "null", "{\"a\":", "not json"] {
            assert!(
                matches!(
                    extra(Some(stored.into())),
                    Err(DieselError::DeserializationError(_))
                ),
                "{stored}"
            );
        }
        let row = ("s".into(), "u".into(), 0_i64, Some("[]".into()));
        assert!(session(row).is_err());
    }
}
