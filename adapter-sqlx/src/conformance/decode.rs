//! The raw rows the inspectors read (tuples in column order), decoded into the models
//! once for every layout. The user id column is text (native, Drizzle) or a `SERIAL`
//! (Auth.js pg-adapter), hence the `Id` parameter.

use auth_core::chrono::{DateTime, Utc};
use auth_core::serde_json::{self, Value};
use auth_core::{Account, Authenticator, Extra, Session, User, VerificationToken};

use adapter_conformance::{BoxError, UserRecords};

/// A nullable text column.
type OptText = Option<String>;

/// A user row of the native layout: id, email, email_normalized, email_verified as epoch
/// milliseconds, name, image, extra fields as JSON text.
pub(crate) type NativeUserTuple = (
    String,
    OptText,
    OptText,
    Option<i64>,
    OptText,
    OptText,
    OptText,
);

/// A user row: id, email, email_verified as epoch milliseconds, name, image, extra fields as
/// a JSON object's text (`NULL`: none).
pub(crate) type UserTuple<Id> = (Id, OptText, Option<i64>, OptText, OptText, OptText);

/// A session row: token, user id, expiry as epoch milliseconds, extra fields as JSON text.
pub(crate) type SessionTuple<Id> = (String, Id, i64, OptText);

/// A verification token row: identifier, token, expiry as epoch milliseconds.
pub(crate) type VerificationTokenTuple = (String, String, i64);

/// An account row: user id, type, provider, provider account id, the seven token columns,
/// extra fields as JSON text.
pub(crate) type AccountTuple<Id> = (
    Id,
    String,
    String,
    String,
    OptText,
    OptText,
    Option<i64>,
    OptText,
    OptText,
    OptText,
    OptText,
    OptText,
);

/// An authenticator row: credential id, user id, provider account id, public key, counter,
/// device type, backed up, transports.
pub(crate) type AuthenticatorTuple<Id> = (String, Id, String, String, i64, String, bool, OptText);

/// An instant stored as epoch milliseconds (or computed as such by the database).
pub(crate) fn instant(ms: i64) -> Result<DateTime<Utc>, BoxError> {
    DateTime::from_timestamp_millis(ms).ok_or_else(|| format!("{ms} ms is out of range").into())
}

/// The extra object stored as `text` (`None`: none); anything but a JSON object is an error.
pub(crate) fn extra_from(text: OptText) -> Result<Extra, BoxError> {
    match text
        .as_deref()
        .map(serde_json::from_str::<Value>)
        .transpose()?
    {
        None => Ok(Extra::new()),
        Some(Value::Object(object)) => Ok(object),
        Some(other) => Err(format!("stored extra fields are not an object: {other}").into()),
    }
}

pub(crate) fn account_from<Id: ToString>(row: AccountTuple<Id>) -> Result<Account, BoxError> {
    let (user_id, kind, provider, pai, refresh, access, expires_at, tt, scope, id, ss, extra) = row;
    Ok(Account {
        extra: extra_from(extra)?,
        user_id: user_id.to_string(),
        account_type: kind.parse()?,
        provider,
        provider_account_id: pai,
        refresh_token: refresh,
        access_token: access,
        expires_at,
        token_type: tt,
        scope,
        id_token: id,
        session_state: ss,
    })
}

pub(crate) fn authenticator_from<Id: ToString>(row: AuthenticatorTuple<Id>) -> Authenticator {
    let (credential_id, user_id, pai, key, counter, device, backed_up, transports) = row;
    Authenticator {
        credential_id,
        user_id: user_id.to_string(),
        provider_account_id: pai,
        credential_public_key: key,
        counter,
        credential_device_type: device,
        credential_backed_up: backed_up,
        transports,
    }
}

pub(crate) fn user_from<Id: ToString>(
    (id, email, verified, name, image, extra): UserTuple<Id>,
) -> Result<User, BoxError> {
    Ok(User {
        extra: extra_from(extra)?,
        id: id.to_string(),
        email,
        email_verified: verified.map(instant).transpose()?,
        name,
        image,
    })
}

pub(crate) fn session_from<Id: ToString>(
    (session_token, user_id, ms, extra): SessionTuple<Id>,
) -> Result<Session, BoxError> {
    Ok(Session {
        extra: extra_from(extra)?,
        session_token,
        user_id: user_id.to_string(),
        expires: instant(ms)?,
    })
}

pub(crate) fn verification_token_from(
    (identifier, token, ms): VerificationTokenTuple,
) -> Result<VerificationToken, BoxError> {
    Ok(VerificationToken {
        identifier,
        token,
        expires: instant(ms)?,
    })
}

/// Everything one user owns, from the rows `records_of_user` read.
pub(crate) fn user_records_from<Id: ToString>(
    accounts: Vec<AccountTuple<Id>>,
    sessions: Vec<SessionTuple<Id>>,
    authenticators: Vec<AuthenticatorTuple<Id>>,
) -> Result<UserRecords, BoxError> {
    Ok(UserRecords {
        accounts: accounts
            .into_iter()
            .map(account_from)
            .collect::<Result<_, _>>()?,
        sessions: sessions
            .into_iter()
            .map(session_from)
            .collect::<Result<_, _>>()?,
        authenticators: authenticators.into_iter().map(authenticator_from).collect(),
    })
}
