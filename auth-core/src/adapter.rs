//! The [`Adapter`] trait: the storage contract every backend implements.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::AdapterError;
use crate::models::{
    Account, Authenticator, ExpiredCounts, Session, SessionUpdate, User, UserUpdate,
    VerificationToken,
};

/// The result of every adapter method.
pub type AdapterResult<T> = Result<T, AdapterError>;

/// The storage behind web authentication: users, their provider accounts, database
/// sessions, one-time email tokens and WebAuthn authenticators.
///
/// The trait is object-safe: an application holds an `Arc<dyn Adapter>` and never names
/// the backend. Every method returns [`AdapterError`]; its [`code`](AdapterError::code)
/// is the one named under each method, or ADAPTER_CONNECTION_ERROR (kind
/// [`Connection`](crate::ErrorKind::Connection)) when the database cannot be reached within
/// the adapter's timeout. An empty id or token is
/// [`InvalidInput`](crate::ErrorKind::InvalidInput), never a panic. Every string is plain
/// data: quotes, `%`, `_`, `$where`, braces, emoji or SQL and Lua fragments are stored and
/// matched as given. Arguments that name an account are always
/// `(provider, provider_account_id)`, in that order.
///
/// Nothing expired is ever returned: a session or token whose `expires <= now` reads as
/// absent. Timestamps are cut to the millisecond before they are stored, so what a write
/// returns is exactly what a later read gives.
///
/// Every value has a documented size cap (see [`validate`](crate::validate)): a write over
/// it is `InvalidInput` before any I/O, and so is a blank email. Users, accounts and
/// sessions carry the app's own fields as a JSON object (`extra`), stored and returned
/// exactly under the rules of [`extra`](crate::extra) (reserved names, a 65,535-byte cap, a
/// depth cap: `InvalidInput` otherwise). No `Debug`, error or
/// tracing field shows a token.
///
/// Backends do not implement this trait by hand: they implement [`Store`](crate::Store),
/// and the policy layer in this crate turns every `Store` into an `Adapter`, so the rules
/// above hold by construction on every backend.
///
/// ```
/// use std::sync::Arc;
/// use auth_core::{Adapter, AdapterResult, Session, User};
///
/// /// The request path of an app: read the session behind a cookie.
/// async fn current_user(db: &Arc<dyn Adapter>, cookie: &str) -> AdapterResult<Option<User>> {
///     Ok(db.get_session_and_user(cookie).await?.map(|(_session, user)| user))
/// }
/// ```
#[async_trait]
pub trait Adapter: std::fmt::Debug + Send + Sync + 'static {
    /// Stores a new user as given and returns it as stored.
    ///
    /// On a layout whose database assigns the ids (the Auth.js layouts on `SERIAL` or
    /// `ObjectId` ids) the given id is validated, then ignored: the user returned carries the
    /// id the database assigned, and that is the id every other call takes. Everywhere else the
    /// returned user equals the given one (timestamps cut to the millisecond).
    ///
    /// Errors: CREATE_USER_ERROR; `Conflict` when the id or the email (compared with
    /// [`normalize_email`](crate::normalize_email)) is taken, `InvalidInput` for an empty id.
    async fn create_user(&self, user: User) -> AdapterResult<User>;

    /// The user with this id; `None` for an unknown or malformed id (never an error for
    /// that). Errors: GET_USER_BY_ID_ERROR.
    async fn get_user(&self, id: &str) -> AdapterResult<Option<User>>;

    /// The user whose email matches case-insensitively (trimmed, Unicode lowercase).
    /// Errors: GET_USER_BY_EMAIL_ERROR.
    async fn get_user_by_email(&self, email: &str) -> AdapterResult<Option<User>>;

    /// The user who linked this provider account.
    /// Errors: GET_USER_BY_PROVIDER_ACCOUNT_ID_ERROR.
    async fn get_user_by_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<User>>;

    /// Merges the fields the update sets into the user, in one atomic step, and returns the
    /// user as stored. After an email change the old email no longer finds the user. Extra
    /// fields are merged one level deep (a field set to `null` is removed, others kept) or
    /// replaced, as [`ExtraChange`](crate::ExtraChange) says; a merge whose result is over the
    /// cap is `InvalidInput` and changes nothing.
    ///
    /// Errors: UPDATE_USER_ERROR; `NotFound` for an unknown id, `Conflict` when the new email
    /// belongs to another user (and then nothing changes).
    async fn update_user(&self, update: UserUpdate) -> AdapterResult<User>;

    /// Removes the user with all its accounts, sessions and authenticators, all or nothing,
    /// and returns the user it removed. Errors: DELETE_USER_ERROR.
    async fn delete_user(&self, id: &str) -> AdapterResult<Option<User>>;

    /// Links a provider account to an existing user; a user may link many.
    ///
    /// Errors: LINK_ACCOUNT_ERROR; `NotFound` when the user does not exist (nothing is
    /// stored), `Conflict` when the `(provider, provider_account_id)` pair is linked already.
    async fn link_account(&self, account: Account) -> AdapterResult<Account>;

    /// Removes the account and returns what it removed; `None` when absent.
    /// Errors: UNLINK_ACCOUNT_ERROR.
    async fn unlink_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<Account>>;

    /// The account with both halves of the key matching. Errors: GET_ACCOUNT_ERROR.
    async fn get_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<Account>>;

    /// Replaces the token fields (refresh, access, expires_at, token_type, scope, id_token,
    /// session_state) and the extra fields (the rest of the token response) of the existing
    /// account with the same key, keeping its user and type;
    /// returns the stored account, or `None` when there is none. Errors: UPDATE_ACCOUNT_ERROR.
    async fn update_account(&self, account: Account) -> AdapterResult<Option<Account>>;

    /// Every account the user linked (any order); `[]` for an unknown user.
    /// Errors: LIST_ACCOUNTS_ERROR.
    async fn list_accounts(&self, user_id: &str) -> AdapterResult<Vec<Account>>;

    /// Stores a session for an existing user; a user may hold many.
    ///
    /// Errors: CREATE_SESSION_ERROR; `NotFound` when the user does not exist, `Conflict`
    /// when the token is taken.
    async fn create_session(&self, session: Session) -> AdapterResult<Session>;

    /// The hot path of every request: the live session behind a token with its user.
    /// `None` when the token is unknown, the session expired (`expires <= now`) or its user
    /// is gone. SQL backends answer in one round trip. Errors: GET_SESSION_ERROR.
    async fn get_session_and_user(
        &self,
        session_token: &str,
    ) -> AdapterResult<Option<(Session, User)>>;

    /// Changes the expiry, owner and/or data (`extra`, merged or replaced as
    /// [`ExtraChange`](crate::ExtraChange) says) of a live session; `None` when it does not exist or
    /// has expired (an expired session is never revived, swept or not). Moving a session to
    /// a user that does not exist is `NotFound`; when the session is missing too, either
    /// answer is right (the contract gives no order). Errors: UPDATE_SESSION_ERROR.
    async fn update_session(&self, update: SessionUpdate) -> AdapterResult<Option<Session>>;

    /// Removes a session and returns what it removed; `None` when absent (or expired: an
    /// expired session is never returned). Errors: DELETE_SESSION_ERROR.
    async fn delete_session(&self, session_token: &str) -> AdapterResult<Option<Session>>;

    /// Every live session of the user (any order). Errors: GET_SESSION_ERROR.
    async fn list_sessions(&self, user_id: &str) -> AdapterResult<Vec<Session>>;

    /// Signs the user out everywhere: removes all its live sessions and returns exactly how
    /// many (expired ones may be removed too but are not counted, so every backend gives the
    /// same number). Errors: DELETE_SESSION_ERROR.
    async fn delete_sessions(&self, user_id: &str) -> AdapterResult<u64>;

    /// Stores a one-time email token as given.
    ///
    /// Errors: CREATE_VERIFICATION_REQUEST_ERROR; `Conflict` when the
    /// `(identifier, token)` pair exists.
    async fn create_verification_token(
        &self,
        token: VerificationToken,
    ) -> AdapterResult<VerificationToken>;

    /// Takes the token atomically: both halves must match; of any number of concurrent
    /// callers exactly one gets `Some`. An expired token is removed and gives `None`.
    /// Errors: GET_VERIFICATION_REQUEST_ERROR.
    async fn use_verification_token(
        &self,
        identifier: &str,
        token: &str,
    ) -> AdapterResult<Option<VerificationToken>>;

    /// Registers a WebAuthn credential for an existing user.
    ///
    /// Errors: CREATE_AUTHENTICATOR_ERROR; `NotFound` when the user does not exist,
    /// `Conflict` when the credential id is known.
    async fn create_authenticator(
        &self,
        authenticator: Authenticator,
    ) -> AdapterResult<Authenticator>;

    /// The credential with this id. Errors: GET_AUTHENTICATOR_ERROR.
    async fn get_authenticator(&self, credential_id: &str) -> AdapterResult<Option<Authenticator>>;

    /// Every credential of the user, complete; `[]` for an unknown user.
    /// Errors: LIST_AUTHENTICATORS_ERROR.
    async fn list_authenticators(&self, user_id: &str) -> AdapterResult<Vec<Authenticator>>;

    /// Sets the signature counter and returns the updated credential.
    /// Errors: UPDATE_AUTHENTICATOR_COUNTER_ERROR; `NotFound` for an unknown credential.
    async fn update_authenticator_counter(
        &self,
        credential_id: &str,
        counter: i64,
    ) -> AdapterResult<Authenticator>;

    /// Removes a credential and returns what it removed; `None` when absent.
    /// Errors: DELETE_AUTHENTICATOR_ERROR.
    async fn delete_authenticator(
        &self,
        credential_id: &str,
    ) -> AdapterResult<Option<Authenticator>>;

    /// Removes sessions and verification tokens with `expires <= now` and keeps live ones;
    /// the counts are exactly what this call removed (a record the store had already expired
    /// by itself, as Redis does, is not counted).
    /// Errors: DELETE_SESSION_ERROR, or DELETE_VERIFICATION_REQUEST_ERROR for the tokens.
    async fn delete_expired(&self, now: DateTime<Utc>) -> AdapterResult<ExpiredCounts>;
}
