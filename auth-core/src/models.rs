//! The records every adapter stores: users, accounts, sessions, verification tokens and
//! WebAuthn authenticators, with the update types that change them.
//!
//! Timestamps are [`DateTime<Utc>`]. Adapters keep them exact to the millisecond; digits
//! below the millisecond may be dropped by a backend (BSON dates, SQLite integer
//! milliseconds), so compare stored values with [`truncate_to_millis`].

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};

use crate::adapter::AdapterResult;
use crate::error::Operation;
use crate::extra::{self, extra_access, Extra, ExtraChange, ExtraNames};
use crate::secret::Redacted;

/// A person who signs in. The `id` is opaque and chosen by the caller.
///
/// ```
/// use auth_core::User;
///
/// let user = User::new().with_email("Ada@Example.com").with_name("Ada");
/// assert_eq!(user.email.as_deref(), Some("Ada@Example.com"));
/// assert!(!user.id.is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Opaque, non-empty id, stored as given (unless the layout has the database assign ids:
    /// see [`Adapter::create_user`](crate::Adapter::create_user)).
    pub id: String,
    /// The address as the user spelled it; lookups use [`crate::normalize_email`].
    pub email: Option<String>,
    /// When the email address was verified.
    pub email_verified: Option<DateTime<Utc>>,
    /// Display name.
    pub name: Option<String>,
    /// Avatar URL.
    pub image: Option<String>,
    /// The app's own fields (a role, a plan, a tenant id): a JSON object under the rules of
    /// [`extra`](crate::extra); empty by default.
    #[serde(default, skip_serializing_if = "Extra::is_empty")]
    pub extra: Extra,
}

extra_access!(
    User,
    "let record = auth_core::User::new().with_extra(&serde_json::json!({\"plan\": \"pro\"})).unwrap();"
);

impl User {
    /// A user with a fresh, time-ordered UUIDv7 id and no other field set.
    pub fn new() -> Self {
        Self::with_id(uuid::Uuid::now_v7().to_string())
    }

    /// A user with the given id and no other field set.
    ///
    /// ```
    /// let user = auth_core::User::with_id("user-1");
    /// assert_eq!(user.id, "user-1");
    /// assert_eq!(user.email, None);
    /// ```
    pub fn with_id(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            email: None,
            email_verified: None,
            name: None,
            image: None,
            extra: Extra::new(),
        }
    }

    /// Sets the email address.
    ///
    /// ```
    /// let user = auth_core::User::new().with_email("a@example.com");
    /// assert_eq!(user.email.as_deref(), Some("a@example.com"));
    /// ```
    pub fn with_email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }

    /// Sets the display name.
    ///
    /// ```
    /// let user = auth_core::User::new().with_name("Ada");
    /// assert_eq!(user.name.as_deref(), Some("Ada"));
    /// ```
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
}

impl Default for User {
    fn default() -> Self {
        Self::new()
    }
}

/// The kind of provider an [`Account`] comes from.
///
/// ```
/// use auth_core::AccountType;
///
/// assert_eq!("oidc".parse::<AccountType>(), Ok(AccountType::Oidc));
/// assert_eq!(AccountType::WebAuthn.as_str(), "webauthn");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccountType {
    /// OAuth 2 provider.
    OAuth,
    /// OpenID Connect provider.
    Oidc,
    /// Email (magic link) provider.
    Email,
    /// WebAuthn (passkey) provider.
    WebAuthn,
}

impl AccountType {
    /// Every account type, in declaration order.
    pub const ALL: [AccountType; 4] = [Self::OAuth, Self::Oidc, Self::Email, Self::WebAuthn];

    /// The stored spelling: `oauth`, `oidc`, `email` or `webauthn`.
    ///
    /// ```
    /// assert_eq!(auth_core::AccountType::OAuth.as_str(), "oauth");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OAuth => "oauth",
            Self::Oidc => "oidc",
            Self::Email => "email",
            Self::WebAuthn => "webauthn",
        }
    }
}

impl fmt::Display for AccountType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text was not one of the four account types.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown account type {0:?} (expected oauth, oidc, email or webauthn)")]
pub struct UnknownAccountType(pub String);

impl FromStr for AccountType {
    type Err = UnknownAccountType;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| UnknownAccountType(s.to_owned()))
    }
}

/// A link between a [`User`] and an identity at a provider, with that provider's tokens.
///
/// ```
/// use auth_core::{Account, AccountType};
///
/// let account = Account::new("user-1", AccountType::OAuth, "github", "12345");
/// assert_eq!(account.access_token, None);
/// ```
///
/// `Debug` shows the OAuth tokens and session state redacted (their length only).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// The user this account belongs to.
    pub user_id: String,
    /// The kind of provider.
    pub account_type: AccountType,
    /// Provider id, e.g. `github`.
    pub provider: String,
    /// The user's id at the provider.
    pub provider_account_id: String,
    /// OAuth refresh token.
    pub refresh_token: Option<String>,
    /// OAuth access token.
    pub access_token: Option<String>,
    /// When the access token expires, in seconds since the Unix epoch.
    pub expires_at: Option<i64>,
    /// OAuth token type, e.g. `bearer`.
    pub token_type: Option<String>,
    /// Granted scopes.
    pub scope: Option<String>,
    /// OpenID Connect id token.
    pub id_token: Option<String>,
    /// OAuth session state.
    pub session_state: Option<String>,
    /// The rest of the provider's token response (`expires_in`,
    /// `refresh_token_expires_in`, provider-specific fields) and the app's own fields: a JSON
    /// object under the rules of [`extra`](crate::extra). `Debug` shows its names only.
    #[serde(default, skip_serializing_if = "Extra::is_empty")]
    pub extra: Extra,
}

extra_access!(
    Account,
    "let record = auth_core::Account::new(\"u\", auth_core::AccountType::OAuth, \"github\", \"1\")\n    .with_extra(&serde_json::json!({\"plan\": \"pro\"})).unwrap();"
);

impl Account {
    /// An account with the key fields set and every token field empty.
    pub fn new(
        user_id: impl Into<String>,
        account_type: AccountType,
        provider: impl Into<String>,
        provider_account_id: impl Into<String>,
    ) -> Self {
        Self {
            user_id: user_id.into(),
            account_type,
            provider: provider.into(),
            provider_account_id: provider_account_id.into(),
            refresh_token: None,
            access_token: None,
            expires_at: None,
            token_type: None,
            scope: None,
            id_token: None,
            session_state: None,
            extra: Extra::new(),
        }
    }
}

/// A database session: the cookie's token, its user and when it ends.
///
/// ```
/// use auth_core::Session;
/// use chrono::Duration;
///
/// // A fresh 256-bit token from the operating system's CSPRNG, expiring in 30 days.
/// let session = Session::new("user-1", Duration::days(30));
/// assert_eq!(session.user_id, "user-1");
/// assert_eq!(session.session_token.len(), 43);
/// // Debug never shows the token.
/// assert!(!format!("{session:?}").contains(&session.session_token));
/// ```
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// The secret token the browser holds.
    pub session_token: String,
    /// The user signed in by this session.
    pub user_id: String,
    /// The instant the session stops being valid.
    pub expires: DateTime<Utc>,
    /// The app's data on this session (a CSRF secret, a "remember me" flag): a JSON object
    /// under the rules of [`extra`](crate::extra). `Debug` shows its names only.
    #[serde(default, skip_serializing_if = "Extra::is_empty")]
    pub extra: Extra,
}

extra_access!(
    Session,
    "let record = auth_core::Session::new(\"u\", chrono::Duration::days(1))\n    .with_extra(&serde_json::json!({\"plan\": \"pro\"})).unwrap();"
);

impl Session {
    /// A new session of the user with a fresh token from [`generate_token`](crate::generate_token)
    /// that ends `ttl` from now (to the millisecond).
    ///
    /// # Panics
    /// When the operating system has no random source to give (as `getrandom` does).
    pub fn new(user_id: impl Into<String>, ttl: chrono::Duration) -> Self {
        Self::with_token(
            crate::secret::generate_token(),
            user_id,
            truncate_to_millis(Utc::now() + ttl),
        )
    }

    /// A session from its three fields, for a token the caller chose.
    ///
    /// ```
    /// use auth_core::Session;
    /// use chrono::{Duration, Utc};
    ///
    /// let session = Session::with_token("token-1", "user-1", Utc::now() + Duration::days(30));
    /// assert_eq!(session.session_token, "token-1");
    /// ```
    pub fn with_token(
        session_token: impl Into<String>,
        user_id: impl Into<String>,
        expires: DateTime<Utc>,
    ) -> Self {
        Self {
            session_token: session_token.into(),
            user_id: user_id.into(),
            expires,
            extra: Extra::new(),
        }
    }
}

/// A one-time token for email sign-in, keyed by `(identifier, token)`.
///
/// ```
/// use auth_core::VerificationToken;
/// use chrono::{Duration, Utc};
///
/// let token = VerificationToken::new("a@example.com", "secret", Utc::now() + Duration::hours(1));
/// assert_eq!(token.identifier, "a@example.com");
/// assert!(!format!("{token:?}").contains("secret"));
/// ```
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerificationToken {
    /// Usually the email address the token was sent to.
    pub identifier: String,
    /// The secret (in Auth.js, a hash of the emailed token).
    pub token: String,
    /// The instant the token stops being usable.
    pub expires: DateTime<Utc>,
}

impl VerificationToken {
    /// A verification token from its three fields.
    pub fn new(
        identifier: impl Into<String>,
        token: impl Into<String>,
        expires: DateTime<Utc>,
    ) -> Self {
        Self {
            identifier: identifier.into(),
            token: token.into(),
            expires,
        }
    }
}

/// A WebAuthn credential registered by a user.
///
/// ```
/// use auth_core::Authenticator;
///
/// let authenticator = Authenticator::new("cred-1", "user-1", "acct-1", "pk");
/// assert_eq!(authenticator.counter, 0);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authenticator {
    /// Credential id (base64url), unique across all users.
    pub credential_id: String,
    /// Owner of the credential.
    pub user_id: String,
    /// The matching account's `provider_account_id`.
    pub provider_account_id: String,
    /// The credential's public key (base64).
    pub credential_public_key: String,
    /// Signature counter.
    pub counter: i64,
    /// `singleDevice` or `multiDevice`.
    pub credential_device_type: String,
    /// Whether the credential is backed up.
    pub credential_backed_up: bool,
    /// Comma-separated transports, e.g. `usb,nfc`.
    pub transports: Option<String>,
}

impl Authenticator {
    /// A single-device, not backed-up authenticator with counter 0.
    pub fn new(
        credential_id: impl Into<String>,
        user_id: impl Into<String>,
        provider_account_id: impl Into<String>,
        credential_public_key: impl Into<String>,
    ) -> Self {
        Self {
            credential_id: credential_id.into(),
            user_id: user_id.into(),
            provider_account_id: provider_account_id.into(),
            credential_public_key: credential_public_key.into(),
            counter: 0,
            credential_device_type: "singleDevice".to_owned(),
            credential_backed_up: false,
            transports: None,
        }
    }
}

/// A partial change to a [`User`]: `None` leaves a field, `Some(None)` clears it.
///
/// ```
/// use auth_core::UserUpdate;
///
/// let update = UserUpdate::new("user-1").name(Some("Grace".into())).image(None);
/// assert_eq!(update.name, Some(Some("Grace".to_string())));
/// assert_eq!(update.image, Some(None));
/// assert_eq!(update.email, None);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserUpdate {
    /// The user to change.
    pub id: String,
    /// New email (`Some(None)` clears it).
    pub email: Option<Option<String>>,
    /// New verification time (`Some(None)` clears it).
    pub email_verified: Option<Option<DateTime<Utc>>>,
    /// New name (`Some(None)` clears it).
    pub name: Option<Option<String>>,
    /// New image (`Some(None)` clears it).
    pub image: Option<Option<String>>,
    /// How the extra fields change, if they do: merged one level deep (a `null` removes a
    /// field) or replaced; see [`ExtraChange`].
    pub extra: Option<ExtraChange>,
}

impl UserUpdate {
    /// An update of the given user that changes nothing yet.
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            ..Self::default()
        }
    }

    /// Sets or clears the email.
    pub fn email(mut self, email: Option<String>) -> Self {
        self.email = Some(email);
        self
    }

    /// Sets or clears the verification time.
    pub fn email_verified(mut self, at: Option<DateTime<Utc>>) -> Self {
        self.email_verified = Some(at);
        self
    }

    /// Sets or clears the name.
    pub fn name(mut self, name: Option<String>) -> Self {
        self.name = Some(name);
        self
    }

    /// Sets or clears the image.
    pub fn image(mut self, image: Option<String>) -> Self {
        self.image = Some(image);
        self
    }

    /// Merges `fields` into the extra fields (Auth.js's partial update: a field given as
    /// `null` is removed, fields not named are kept, a nested object is replaced whole).
    ///
    /// ```
    /// use auth_core::UserUpdate;
    /// use serde_json::json;
    ///
    /// let update = UserUpdate::new("user-1").merge_extra(&json!({"role": "admin", "plan": null})).unwrap();
    /// assert!(update.extra.is_some());
    /// ```
    ///
    /// # Errors
    /// When `fields` does not serialize to a JSON object.
    pub fn merge_extra<T: serde::Serialize>(mut self, fields: &T) -> serde_json::Result<Self> {
        self.extra = Some(ExtraChange::Merge(merge_patch(fields)?));
        Ok(self)
    }

    /// Replaces the extra fields with `fields` (an empty object removes them all).
    ///
    /// # Errors
    /// When `fields` does not serialize to a JSON object.
    pub fn replace_extra<T: serde::Serialize>(mut self, fields: &T) -> serde_json::Result<Self> {
        self.extra = Some(ExtraChange::Replace(extra::extra_object(fields)?));
        Ok(self)
    }

    /// The user after this update: what every adapter computes in one atomic step.
    ///
    /// ```
    /// use auth_core::{User, UserUpdate};
    ///
    /// let user = User::with_id("u").with_name("Ada").with_email("a@example.com");
    /// let merged = UserUpdate::new("u").name(None).apply_to(user).unwrap();
    /// assert_eq!(merged.name, None);
    /// assert_eq!(merged.email.as_deref(), Some("a@example.com"));
    /// ```
    ///
    /// # Errors
    /// `InvalidInput` (UPDATE_USER_ERROR) when the merged extra fields are over
    /// [`MAX_EXTRA_BYTES`](crate::extra::MAX_EXTRA_BYTES): the store then writes nothing.
    pub fn apply_to(&self, mut user: User) -> AdapterResult<User> {
        if let Some(email) = &self.email {
            user.email = email.clone();
        }
        if let Some(at) = self.email_verified {
            user.email_verified = at;
        }
        if let Some(name) = &self.name {
            user.name = name.clone();
        }
        if let Some(image) = &self.image {
            user.image = image.clone();
        }
        if let Some(change) = &self.extra {
            user.extra = change.applied_to(std::mem::take(&mut user.extra));
            extra::check_stored(Operation::UpdateUser, &user.extra)?;
        }
        Ok(user)
    }
}

/// A change to a [`Session`]: a new expiry (sliding sessions) and/or a new user.
///
/// ```
/// use auth_core::SessionUpdate;
/// use chrono::Utc;
///
/// let update = SessionUpdate::new("token-1").expires(Utc::now());
/// assert!(update.expires.is_some());
/// assert_eq!(update.user_id, None);
/// ```
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionUpdate {
    /// The session to change.
    pub session_token: String,
    /// New expiry, if any.
    pub expires: Option<DateTime<Utc>>,
    /// New owner, if any.
    pub user_id: Option<String>,
    /// How the session's data changes, if it does (see [`ExtraChange`]).
    pub extra: Option<ExtraChange>,
}

impl SessionUpdate {
    /// An update of the given session that changes nothing yet.
    pub fn new(session_token: impl Into<String>) -> Self {
        Self {
            session_token: session_token.into(),
            ..Self::default()
        }
    }

    /// Sets the new expiry.
    pub fn expires(mut self, expires: DateTime<Utc>) -> Self {
        self.expires = Some(expires);
        self
    }

    /// Sets the new owner.
    pub fn user_id(mut self, user_id: impl Into<String>) -> Self {
        self.user_id = Some(user_id.into());
        self
    }

    /// Merges `fields` into the session's data (a field given as `null` is removed).
    ///
    /// ```
    /// use auth_core::SessionUpdate;
    /// let update = SessionUpdate::new("token-1").merge_extra(&serde_json::json!({"remember": true})).unwrap();
    /// assert!(update.extra.is_some());
    /// ```
    ///
    /// # Errors
    /// When `fields` does not serialize to a JSON object.
    pub fn merge_extra<T: serde::Serialize>(mut self, fields: &T) -> serde_json::Result<Self> {
        self.extra = Some(ExtraChange::Merge(merge_patch(fields)?));
        Ok(self)
    }

    /// Replaces the session's data with `fields`, as a `tower_sessions` store saves a record.
    ///
    /// # Errors
    /// When `fields` does not serialize to a JSON object.
    pub fn replace_extra<T: serde::Serialize>(mut self, fields: &T) -> serde_json::Result<Self> {
        self.extra = Some(ExtraChange::Replace(extra::extra_object(fields)?));
        Ok(self)
    }

    /// The session after this update.
    ///
    /// # Errors
    /// `InvalidInput` (UPDATE_SESSION_ERROR) when the merged data is over
    /// [`MAX_EXTRA_BYTES`](crate::extra::MAX_EXTRA_BYTES): the store then writes nothing.
    pub fn apply_to(&self, mut session: Session) -> AdapterResult<Session> {
        if let Some(expires) = self.expires {
            session.expires = expires;
        }
        if let Some(user_id) = &self.user_id {
            session.user_id = user_id.clone();
        }
        if let Some(change) = &self.extra {
            session.extra = change.applied_to(std::mem::take(&mut session.extra));
            extra::check_stored(Operation::UpdateSession, &session.extra)?;
        }
        Ok(session)
    }
}

/// A merge patch: an object whose `null`s are kept (they remove fields).
fn merge_patch<T: serde::Serialize>(fields: &T) -> serde_json::Result<Extra> {
    match serde_json::to_value(fields)? {
        serde_json::Value::Object(object) => Ok(object),
        _ => Err(serde::ser::Error::custom(
            "extra fields must be a JSON object",
        )),
    }
}

/// How many expired records [`crate::Adapter::delete_expired`] removed.
///
/// ```
/// let counts = auth_core::ExpiredCounts { sessions: 2, verification_tokens: 1 };
/// assert_eq!(counts.total(), 3);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpiredCounts {
    /// Expired sessions removed.
    pub sessions: u64,
    /// Expired verification tokens removed.
    pub verification_tokens: u64,
}

impl ExpiredCounts {
    /// Sessions plus verification tokens.
    pub fn total(&self) -> u64 {
        self.sessions + self.verification_tokens
    }
}

/// Drops the digits below the millisecond: the precision every adapter guarantees.
///
/// ```
/// use chrono::{TimeZone, Timelike, Utc};
///
/// let t = Utc.timestamp_opt(1_700_000_000, 123_456_789).unwrap();
/// assert_eq!(auth_core::truncate_to_millis(t).nanosecond(), 123_000_000);
/// ```
pub fn truncate_to_millis(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(3)
}

impl fmt::Debug for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Account")
            .field("user_id", &self.user_id)
            .field("account_type", &self.account_type)
            .field("provider", &self.provider)
            .field("provider_account_id", &self.provider_account_id)
            .field("refresh_token", &Redacted::opt(&self.refresh_token))
            .field("access_token", &Redacted::opt(&self.access_token))
            .field("expires_at", &self.expires_at)
            .field("token_type", &self.token_type)
            .field("scope", &self.scope)
            .field("id_token", &Redacted::opt(&self.id_token))
            .field("session_state", &Redacted::opt(&self.session_state))
            .field("extra", &ExtraNames(&self.extra))
            .finish()
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("session_token", &Redacted(&self.session_token))
            .field("user_id", &self.user_id)
            .field("expires", &self.expires)
            .field("extra", &ExtraNames(&self.extra))
            .finish()
    }
}

impl fmt::Debug for SessionUpdate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionUpdate")
            .field("session_token", &Redacted(&self.session_token))
            .field("expires", &self.expires)
            .field("user_id", &self.user_id)
            .field(
                "extra",
                &self
                    .extra
                    .as_ref()
                    .map(|change| ExtraNames(change.object())),
            )
            .finish()
    }
}

impl fmt::Debug for VerificationToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerificationToken")
            .field("identifier", &self.identifier)
            .field("token", &Redacted(&self.token))
            .field("expires", &self.expires)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_a_secret() {
        let mut account = Account::new("u", AccountType::Oidc, "github", "42");
        account.access_token = Some("access-SECRET".into());
        account.refresh_token = Some("refresh-SECRET".into());
        account.id_token = Some("id-SECRET".into());
        account.session_state = Some("state-SECRET".into());
        let session = Session::with_token("session-SECRET", "u", Utc::now());
        let update = SessionUpdate::new("update-SECRET");
        let token = VerificationToken::new("a@example.com", "email-SECRET", Utc::now());
        let printed = format!("{account:?} {session:?} {update:?} {token:?} {account:#?}");
        assert!(!printed.contains("SECRET"), "{printed}");
        assert!(printed.contains("github") && printed.contains("a@example.com"));
    }

    #[test]
    fn new_sessions_get_distinct_random_tokens() {
        let a = Session::new("u", chrono::Duration::days(1));
        let b = Session::new("u", chrono::Duration::days(1));
        assert_ne!(a.session_token, b.session_token);
        assert_eq!(a.expires, truncate_to_millis(a.expires));
        assert!(a.expires > Utc::now());
    }
}
