//! [`Store`]: what a database backend implements, and the policy layer that makes every
//! `Store` an [`Adapter`].
//!
//! The contract's rules live here once: input validation and size caps (before any I/O),
//! blank emails, the email key, timestamps cut to the millisecond, the clock, filtering of
//! anything expired, `None` for keys that could never have been stored, secrets removed from
//! errors, and a `tracing` span per call. A backend only moves records in and out of its
//! database, with values it can trust to be valid.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tracing::Instrument;

use crate::adapter::{Adapter, AdapterResult};
use crate::email::normalize_email;
use crate::error::{AdapterError, Operation};
use crate::extra::{self, ExtraChange, Model};
use crate::models::{
    truncate_to_millis, Account, Authenticator, ExpiredCounts, Session, SessionUpdate, User,
    UserUpdate, VerificationToken,
};
use crate::validate::Field;

/// The storage operations of one database, as the policy layer calls them.
///
/// Implement this, not [`Adapter`]: every `Store` is an `Adapter` through the policy
/// layer, which validates every input first (so a `Store` sees only keys that are
/// non-empty, within their caps and free of NUL bytes, emails already normalized into
/// their lookup key, and timestamps already cut to the millisecond), supplies `now`, filters
/// whatever is expired out of the results, and removes secrets from errors.
///
/// What is left to a store is what only its database can do, and each method says it:
/// atomicity (one statement, transaction or script), uniqueness (`Conflict` from the
/// database's own unique keys), existence of the user behind a record (`NotFound`, also
/// when the user is deleted concurrently: no orphan may remain), and mapping driver errors
/// to [`AdapterError`] with the method's [`Operation`] (connection failures as
/// [`ErrorKind::Connection`](crate::ErrorKind::Connection)).
///
/// A minimal store, keeping users only, to show the shape (the in-memory reference
/// adapter, `memory::MemoryAdapter` (feature `memory`), is a complete one):
///
/// ```
/// use std::collections::HashMap;
/// use std::sync::Mutex;
/// use auth_core::{async_trait, Adapter, AdapterResult, Store, User, UserUpdate};
/// # use auth_core::{Account, Authenticator, ExpiredCounts, Session, SessionUpdate, VerificationToken};
/// # use chrono::{DateTime, Utc};
///
/// #[derive(Debug, Default)]
/// struct Users(Mutex<HashMap<String, User>>);
///
/// #[async_trait]
/// impl Store for Users {
///     fn backend(&self) -> &'static str { "users-only" }
///     async fn insert_user(&self, user: &User, _email_key: Option<&str>) -> AdapterResult<String> {
///         self.0.lock().unwrap().insert(user.id.clone(), user.clone());
///         Ok(user.id.clone())
///     }
///     async fn find_user(&self, id: &str) -> AdapterResult<Option<User>> {
///         Ok(self.0.lock().unwrap().get(id).cloned())
///     }
///     // … the other methods …
/// #   async fn find_user_by_email(&self, _: &str) -> AdapterResult<Option<User>> { Ok(None) }
/// #   async fn find_user_by_account(&self, _: &str, _: &str) -> AdapterResult<Option<User>> { Ok(None) }
/// #   async fn merge_user(&self, _: &UserUpdate, _: Option<Option<&str>>) -> AdapterResult<Option<User>> { Ok(None) }
/// #   async fn remove_user(&self, _: &str) -> AdapterResult<Option<User>> { Ok(None) }
/// #   async fn insert_account(&self, _: &Account) -> AdapterResult<()> { Ok(()) }
/// #   async fn remove_account(&self, _: &str, _: &str) -> AdapterResult<Option<Account>> { Ok(None) }
/// #   async fn find_account(&self, _: &str, _: &str) -> AdapterResult<Option<Account>> { Ok(None) }
/// #   async fn replace_account_tokens(&self, _: &Account) -> AdapterResult<Option<Account>> { Ok(None) }
/// #   async fn find_accounts(&self, _: &str) -> AdapterResult<Vec<Account>> { Ok(vec![]) }
/// #   async fn insert_session(&self, _: &Session) -> AdapterResult<()> { Ok(()) }
/// #   async fn find_session_and_user(&self, _: &str, _: DateTime<Utc>) -> AdapterResult<Option<(Session, User)>> { Ok(None) }
/// #   async fn change_session(&self, _: &SessionUpdate, _: DateTime<Utc>) -> AdapterResult<Option<Session>> { Ok(None) }
/// #   async fn remove_session(&self, _: &str) -> AdapterResult<Option<Session>> { Ok(None) }
/// #   async fn find_sessions(&self, _: &str, _: DateTime<Utc>) -> AdapterResult<Vec<Session>> { Ok(vec![]) }
/// #   async fn remove_sessions(&self, _: &str, _: DateTime<Utc>) -> AdapterResult<u64> { Ok(0) }
/// #   async fn insert_verification_token(&self, _: &VerificationToken) -> AdapterResult<()> { Ok(()) }
/// #   async fn take_verification_token(&self, _: &str, _: &str) -> AdapterResult<Option<VerificationToken>> { Ok(None) }
/// #   async fn insert_authenticator(&self, _: &Authenticator) -> AdapterResult<()> { Ok(()) }
/// #   async fn find_authenticator(&self, _: &str) -> AdapterResult<Option<Authenticator>> { Ok(None) }
/// #   async fn find_authenticators(&self, _: &str) -> AdapterResult<Vec<Authenticator>> { Ok(vec![]) }
/// #   async fn set_authenticator_counter(&self, _: &str, _: i64) -> AdapterResult<Option<Authenticator>> { Ok(None) }
/// #   async fn remove_authenticator(&self, _: &str) -> AdapterResult<Option<Authenticator>> { Ok(None) }
/// #   async fn remove_expired(&self, _: DateTime<Utc>) -> AdapterResult<ExpiredCounts> { Ok(ExpiredCounts::default()) }
/// }
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// // The policy layer is already there: an empty id never reaches the store.
/// let db = Users::default();
/// assert!(db.create_user(User::with_id("")).await.is_err());
/// assert!(db.create_user(User::with_id("u1")).await.is_ok());
/// # });
/// ```
#[async_trait]
pub trait Store: std::fmt::Debug + Send + Sync + 'static {
    /// A short name of the database for spans and reports, e.g. `postgres` or `redis`.
    fn backend(&self) -> &'static str;

    /// Stores a new user and returns the id it is stored under; `email_key` is
    /// [`normalize_email`] of its email. `Conflict` when the id or the email key is taken.
    ///
    /// The id returned is `user.id`, unless the store's layout has the database assign ids
    /// (a `SERIAL` column, an `ObjectId`, as the Auth.js layouts do): then `user.id` is only
    /// validated and ignored, and the id returned is the one the database assigned, which
    /// [`Adapter::create_user`] puts in the user it returns.
    async fn insert_user(&self, user: &User, email_key: Option<&str>) -> AdapterResult<String>;

    /// The user with this id.
    async fn find_user(&self, id: &str) -> AdapterResult<Option<User>>;

    /// The user whose email key is `email_key` (already normalized).
    async fn find_user_by_email(&self, email_key: &str) -> AdapterResult<Option<User>>;

    /// The user who linked this provider account.
    async fn find_user_by_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<User>>;

    /// Applies the update in one atomic step and returns the user as stored, or `None`
    /// for an unknown id. An [`ExtraChange::Merge`] is applied to the stored extra fields
    /// inside that step (a transaction with the row locked, a compare-and-set, or the
    /// database's own per-field operators), and the result must pass
    /// [`extra::check_stored`] — [`UserUpdate::apply_to`] does both checks in Rust. `email_key` is set exactly when `update.email` is (`Some(None)` when
    /// the email is cleared). `Conflict` when the new key belongs to another user, and then
    /// nothing changes.
    async fn merge_user(
        &self,
        update: &UserUpdate,
        email_key: Option<Option<&str>>,
    ) -> AdapterResult<Option<User>>;

    /// Removes the user with its accounts, sessions and authenticators, all or nothing, and
    /// returns the user.
    async fn remove_user(&self, id: &str) -> AdapterResult<Option<User>>;

    /// Stores an account for an existing user: `NotFound` when the user does not exist (also
    /// when it is being deleted concurrently: no orphan may remain), `Conflict` when the
    /// pair is linked.
    async fn insert_account(&self, account: &Account) -> AdapterResult<()>;

    /// Removes the account and returns it.
    async fn remove_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<Account>>;

    /// The account with this key.
    async fn find_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<Account>>;

    /// Replaces the token fields and the extra fields (the rest of the token response) of
    /// the account with the same key, keeping its user and type, and returns it as stored;
    /// `None` when there is none.
    async fn replace_account_tokens(&self, account: &Account) -> AdapterResult<Option<Account>>;

    /// Every account of the user.
    async fn find_accounts(&self, user_id: &str) -> AdapterResult<Vec<Account>>;

    /// Stores a session for an existing user (`NotFound` otherwise, with no orphan left
    /// behind a concurrent delete); `Conflict` when the token is taken.
    async fn insert_session(&self, session: &Session) -> AdapterResult<()>;

    /// The session with this token, if `expires > now`, with its user. The hot path: one
    /// round trip on a server.
    async fn find_session_and_user(
        &self,
        session_token: &str,
        now: DateTime<Utc>,
    ) -> AdapterResult<Option<(Session, User)>>;

    /// Applies the update to the session only if it is live (`expires > now`) and returns it
    /// as stored; `None` when it is missing or expired, and then nothing changes. Extra
    /// changes as in [`merge_user`](Self::merge_user). `NotFound`
    /// when the new user does not exist.
    async fn change_session(
        &self,
        update: &SessionUpdate,
        now: DateTime<Utc>,
    ) -> AdapterResult<Option<Session>>;

    /// Removes the session and returns it.
    async fn remove_session(&self, session_token: &str) -> AdapterResult<Option<Session>>;

    /// The user's sessions with `expires > now`.
    async fn find_sessions(&self, user_id: &str, now: DateTime<Utc>)
        -> AdapterResult<Vec<Session>>;

    /// Removes the user's sessions that are live at `now` (expired ones may go too) and
    /// returns exactly how many live ones it removed.
    async fn remove_sessions(&self, user_id: &str, now: DateTime<Utc>) -> AdapterResult<u64>;

    /// Stores a verification token; `Conflict` when the pair exists.
    async fn insert_verification_token(&self, token: &VerificationToken) -> AdapterResult<()>;

    /// Removes the token with this pair and returns it, atomically: of concurrent callers
    /// exactly one gets it. Expired or not (the policy filters).
    async fn take_verification_token(
        &self,
        identifier: &str,
        token: &str,
    ) -> AdapterResult<Option<VerificationToken>>;

    /// Stores a credential for an existing user (`NotFound` otherwise, with no orphan left
    /// behind a concurrent delete); `Conflict` when the credential id is known.
    async fn insert_authenticator(&self, authenticator: &Authenticator) -> AdapterResult<()>;

    /// The credential with this id.
    async fn find_authenticator(&self, credential_id: &str)
        -> AdapterResult<Option<Authenticator>>;

    /// Every credential of the user.
    async fn find_authenticators(&self, user_id: &str) -> AdapterResult<Vec<Authenticator>>;

    /// Sets the counter and returns the credential as stored; `None` when unknown.
    async fn set_authenticator_counter(
        &self,
        credential_id: &str,
        counter: i64,
    ) -> AdapterResult<Option<Authenticator>>;

    /// Removes the credential and returns it.
    async fn remove_authenticator(
        &self,
        credential_id: &str,
    ) -> AdapterResult<Option<Authenticator>>;

    /// Removes sessions and verification tokens with `expires <= now` and returns exactly
    /// how many of each it removed.
    async fn remove_expired(&self, now: DateTime<Utc>) -> AdapterResult<ExpiredCounts>;
}

/// Now, at the millisecond every backend keeps: the one clock of the policy layer.
fn now() -> DateTime<Utc> {
    truncate_to_millis(Utc::now())
}

fn live(expires: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    expires > now
}

/// Whether every key could have been stored; a read of one that could not answers
/// "absent" without I/O.
fn storable(keys: &[&str]) -> bool {
    keys.iter().all(|k| Field::Key.admits(k))
}

fn check_account(op: Operation, account: &Account) -> AdapterResult<()> {
    Field::Key.check(op, "user_id", &account.user_id)?;
    Field::Key.check(op, "provider", &account.provider)?;
    Field::Key.check(op, "provider_account_id", &account.provider_account_id)?;
    check_account_tokens(op, account)
}

/// The extra fields of a record being written: checked, and their top-level `null`s left
/// out (a `null` field is an absent one).
fn checked_extra(op: Operation, model: Model, object: &mut extra::Extra) -> AdapterResult<()> {
    extra::check(op, model, object)?;
    object.retain(|_, value| !value.is_null());
    Ok(())
}

/// An extra change, checked; a replacement loses its top-level `null`s.
fn checked_change(op: Operation, model: Model, change: &mut ExtraChange) -> AdapterResult<()> {
    match change {
        ExtraChange::Merge(patch) => extra::check(op, model, patch),
        ExtraChange::Replace(object) => checked_extra(op, model, object),
    }
}

fn check_account_tokens(op: Operation, account: &Account) -> AdapterResult<()> {
    for (field, value) in [
        ("refresh_token", &account.refresh_token),
        ("access_token", &account.access_token),
        ("token_type", &account.token_type),
        ("scope", &account.scope),
        ("id_token", &account.id_token),
        ("session_state", &account.session_state),
    ] {
        Field::Text.check_opt(op, field, value.as_deref())?;
    }
    Ok(())
}

fn account_secrets(account: &Account) -> [&str; 5] {
    [
        account.provider_account_id.as_str(),
        account.refresh_token.as_deref().unwrap_or_default(),
        account.access_token.as_deref().unwrap_or_default(),
        account.id_token.as_deref().unwrap_or_default(),
        account.session_state.as_deref().unwrap_or_default(),
    ]
}
/// A read or removal by account key: a key no store can hold finds nothing (without a
/// round trip), and the provider account id is a secret in the call's trace.
async fn by_account_key<T, F>(
    backend: &'static str,
    op: Operation,
    provider: &str,
    provider_account_id: &str,
    make: impl Fn() -> F,
) -> AdapterResult<Option<T>>
where
    F: std::future::Future<Output = AdapterResult<Option<T>>>,
{
    if !storable(&[provider, provider_account_id]) {
        return Ok(None);
    }
    call(backend, op, &[provider_account_id], make).await
}

/// How many times the policy layer runs a store call again after a
/// [transient](AdapterError::is_transient) failure: a transaction the database rolled back
/// because it lost a race (a deadlock between concurrent sign-ups and deletes on MariaDB, a
/// serialization failure under PostgreSQL's `SERIALIZABLE`, say). Every store call is one
/// transaction or one statement, so an attempt the database rolled back left nothing
/// behind; each attempt is bounded by the adapter's call timeout. Between attempts the
/// call pauses for [`retry_pause`] (with the `call-bound` feature, which every adapter
/// crate of this workspace turns on; without a timer it tries again at once).
pub const TRANSIENT_RETRIES: u32 = 5;

/// The pause before attempt `attempt + 1` of a store call that lost a race: a random time
/// between half of and all of `2^attempt` milliseconds (2, 4, 8, 16, 32 ms for the five
/// retries), so that calls which collided do not collide again in step, and the
/// transaction they lost to has time to finish. At most 32 ms, 62 ms over all retries.
///
/// ```
/// use std::time::Duration;
/// for attempt in 1..=auth_core::TRANSIENT_RETRIES {
///     let pause = auth_core::retry_pause(attempt);
///     let ceiling = Duration::from_millis(1 << attempt);
///     assert!(pause >= ceiling / 2 && pause <= ceiling, "{attempt}: {pause:?}");
/// }
/// assert!(auth_core::retry_pause(40) <= Duration::from_millis(32));
/// ```
pub fn retry_pause(attempt: u32) -> std::time::Duration {
    let ceiling_us = 1_000u64 << attempt.clamp(1, 5);
    let mut random = [0u8; 8];
    // No entropy (never expected) only loses the jitter: the pause is then the ceiling.
    let spread = match getrandom::fill(&mut random) {
        Ok(()) => u64::from_le_bytes(random) % (ceiling_us / 2 + 1),
        Err(_) => ceiling_us / 2,
    };
    std::time::Duration::from_micros(ceiling_us / 2 + spread)
}

/// Runs one store call (made by `make`, again while it fails with a transient error, up to
/// [`TRANSIENT_RETRIES`] times) in the method's span, and removes the call's secrets from its
/// error.
async fn call<T, F>(
    backend: &'static str,
    op: Operation,
    secrets: &[&str],
    make: impl Fn() -> F,
) -> AdapterResult<T>
where
    F: std::future::Future<Output = AdapterResult<T>>,
{
    let span = tracing::debug_span!("adapter", op = op.as_str(), backend);
    let mut races = 0;
    let result = loop {
        match make().instrument(span.clone()).await {
            Err(err) if err.is_transient() && races < TRANSIENT_RETRIES => {
                races += 1;
                span.in_scope(|| {
                    tracing::debug!(attempt = races, "the transaction lost a race; again")
                });
                #[cfg(feature = "call-bound")]
                tokio::time::sleep(retry_pause(races)).await;
            }
            other => break other,
        }
    };
    result.map_err(|err| {
        let err = err.redact(secrets);
        span.in_scope(
            || tracing::debug!(code = %err.code(), kind = %err.kind(), error = %err, "failed"),
        );
        err
    })
}

/// The policy layer: every [`Store`] is an [`Adapter`] that keeps the whole contract.
#[async_trait]
impl<S: Store> Adapter for S {
    async fn create_user(&self, mut user: User) -> AdapterResult<User> {
        let op = Operation::CreateUser;
        Field::Key.check(op, "id", &user.id)?;
        checked_extra(op, Model::User, &mut user.extra)?;
        Field::Email.check_opt(op, "email", user.email.as_deref())?;
        Field::Text.check_opt(op, "name", user.name.as_deref())?;
        Field::Text.check_opt(op, "image", user.image.as_deref())?;
        let email_key = user.email.as_deref().map(normalize_email);
        Field::Email.check_opt(op, "email", email_key.as_deref())?;
        let user = User {
            email_verified: user.email_verified.map(truncate_to_millis),
            ..user
        };
        let id = call(self.backend(), op, &[], || {
            self.insert_user(&user, email_key.as_deref())
        })
        .await?;
        Ok(User { id, ..user })
    }

    async fn get_user(&self, id: &str) -> AdapterResult<Option<User>> {
        if !storable(&[id]) {
            return Ok(None);
        }
        call(self.backend(), Operation::GetUser, &[], || {
            self.find_user(id)
        })
        .await
    }

    async fn get_user_by_email(&self, email: &str) -> AdapterResult<Option<User>> {
        let key = normalize_email(email);
        if !Field::Email.admits(&key) {
            return Ok(None);
        }
        call(self.backend(), Operation::GetUserByEmail, &[], || {
            self.find_user_by_email(&key)
        })
        .await
    }

    async fn get_user_by_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<User>> {
        let fut = || self.find_user_by_account(provider, provider_account_id);
        let op = Operation::GetUserByAccount;
        by_account_key(self.backend(), op, provider, provider_account_id, fut).await
    }

    async fn update_user(&self, mut update: UserUpdate) -> AdapterResult<User> {
        let op = Operation::UpdateUser;
        let missing = || AdapterError::not_found(op, "no user with this id");
        if let Some(change) = &mut update.extra {
            checked_change(op, Model::User, change)?;
        }
        if !storable(&[&update.id]) {
            return Err(missing());
        }
        if let Some(email) = &update.email {
            Field::Email.check_opt(op, "email", email.as_deref())?;
        }
        if let Some(name) = &update.name {
            Field::Text.check_opt(op, "name", name.as_deref())?;
        }
        if let Some(image) = &update.image {
            Field::Text.check_opt(op, "image", image.as_deref())?;
        }
        let email_key = update
            .email
            .as_ref()
            .map(|email| email.as_deref().map(normalize_email));
        if let Some(Some(key)) = &email_key {
            Field::Email.check(op, "email", key)?;
        }
        let update = UserUpdate {
            email_verified: update.email_verified.map(|at| at.map(truncate_to_millis)),
            ..update
        };
        let email_key = email_key.as_ref().map(Option::as_deref);
        call(self.backend(), op, &[], || {
            self.merge_user(&update, email_key)
        })
        .await?
        .ok_or_else(missing)
    }

    async fn delete_user(&self, id: &str) -> AdapterResult<Option<User>> {
        if !storable(&[id]) {
            return Ok(None);
        }
        call(self.backend(), Operation::DeleteUser, &[], || {
            self.remove_user(id)
        })
        .await
    }

    async fn link_account(&self, mut account: Account) -> AdapterResult<Account> {
        let op = Operation::LinkAccount;
        check_account(op, &account)?;
        checked_extra(op, Model::Account, &mut account.extra)?;
        let secrets = account_secrets(&account);
        call(self.backend(), op, &secrets, || {
            self.insert_account(&account)
        })
        .await?;
        Ok(account)
    }

    async fn unlink_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<Account>> {
        let fut = || self.remove_account(provider, provider_account_id);
        let op = Operation::UnlinkAccount;
        by_account_key(self.backend(), op, provider, provider_account_id, fut).await
    }

    async fn get_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<Account>> {
        let fut = || self.find_account(provider, provider_account_id);
        let op = Operation::GetAccount;
        by_account_key(self.backend(), op, provider, provider_account_id, fut).await
    }

    async fn update_account(&self, mut account: Account) -> AdapterResult<Option<Account>> {
        let op = Operation::UpdateAccount;
        check_account_tokens(op, &account)?;
        checked_extra(op, Model::Account, &mut account.extra)?;
        if !storable(&[&account.provider, &account.provider_account_id]) {
            return Ok(None);
        }
        let secrets = account_secrets(&account);
        call(self.backend(), op, &secrets, || {
            self.replace_account_tokens(&account)
        })
        .await
    }

    async fn list_accounts(&self, user_id: &str) -> AdapterResult<Vec<Account>> {
        if !storable(&[user_id]) {
            return Ok(Vec::new());
        }
        call(self.backend(), Operation::ListAccounts, &[], || {
            self.find_accounts(user_id)
        })
        .await
    }

    async fn create_session(&self, mut session: Session) -> AdapterResult<Session> {
        let op = Operation::CreateSession;
        Field::Key.check(op, "session_token", &session.session_token)?;
        checked_extra(op, Model::Session, &mut session.extra)?;
        Field::Key.check(op, "user_id", &session.user_id)?;
        let session = Session {
            expires: truncate_to_millis(session.expires),
            ..session
        };
        let secrets = [session.session_token.as_str()];
        call(self.backend(), op, &secrets, || {
            self.insert_session(&session)
        })
        .await?;
        Ok(session)
    }

    async fn get_session_and_user(
        &self,
        session_token: &str,
    ) -> AdapterResult<Option<(Session, User)>> {
        if !storable(&[session_token]) {
            return Ok(None);
        }
        let now = now();
        let op = Operation::GetSessionAndUser;
        let fut = || self.find_session_and_user(session_token, now);
        let found = call(self.backend(), op, &[session_token], fut).await?;
        Ok(
            found
                .filter(|(session, user)| live(session.expires, now) && session.user_id == user.id),
        )
    }

    async fn update_session(&self, mut update: SessionUpdate) -> AdapterResult<Option<Session>> {
        let op = Operation::UpdateSession;
        Field::Key.check_opt(op, "user_id", update.user_id.as_deref())?;
        if let Some(change) = &mut update.extra {
            checked_change(op, Model::Session, change)?;
        }
        if !storable(&[&update.session_token]) {
            return Ok(None);
        }
        let update = SessionUpdate {
            expires: update.expires.map(truncate_to_millis),
            ..update
        };
        let now = now();
        let secrets = [update.session_token.as_str()];
        let changed = call(self.backend(), op, &secrets, || {
            self.change_session(&update, now)
        })
        .await?;
        Ok(changed.filter(|session| live(session.expires, now)))
    }

    async fn delete_session(&self, session_token: &str) -> AdapterResult<Option<Session>> {
        if !storable(&[session_token]) {
            return Ok(None);
        }
        let now = now();
        let op = Operation::DeleteSession;
        let fut = || self.remove_session(session_token);
        let removed = call(self.backend(), op, &[session_token], fut).await?;
        Ok(removed.filter(|session| live(session.expires, now)))
    }

    async fn list_sessions(&self, user_id: &str) -> AdapterResult<Vec<Session>> {
        if !storable(&[user_id]) {
            return Ok(Vec::new());
        }
        let now = now();
        let op = Operation::ListSessions;
        let mut sessions =
            call(self.backend(), op, &[], || self.find_sessions(user_id, now)).await?;
        sessions.retain(|session| live(session.expires, now) && session.user_id == user_id);
        Ok(sessions)
    }

    async fn delete_sessions(&self, user_id: &str) -> AdapterResult<u64> {
        if !storable(&[user_id]) {
            return Ok(0);
        }
        let op = Operation::DeleteSessions;
        call(self.backend(), op, &[], || {
            self.remove_sessions(user_id, now())
        })
        .await
    }

    async fn create_verification_token(
        &self,
        token: VerificationToken,
    ) -> AdapterResult<VerificationToken> {
        let op = Operation::CreateVerificationToken;
        Field::Key.check(op, "identifier", &token.identifier)?;
        Field::Key.check(op, "token", &token.token)?;
        let token = VerificationToken {
            expires: truncate_to_millis(token.expires),
            ..token
        };
        let secrets = [token.token.as_str(), token.identifier.as_str()];
        call(self.backend(), op, &secrets, || {
            self.insert_verification_token(&token)
        })
        .await?;
        Ok(token)
    }

    async fn use_verification_token(
        &self,
        identifier: &str,
        token: &str,
    ) -> AdapterResult<Option<VerificationToken>> {
        if !storable(&[identifier, token]) {
            return Ok(None);
        }
        let now = now();
        let op = Operation::UseVerificationToken;
        let fut = || self.take_verification_token(identifier, token);
        let taken = call(self.backend(), op, &[token, identifier], fut).await?;
        Ok(taken.filter(|t| live(t.expires, now)))
    }

    async fn create_authenticator(
        &self,
        authenticator: Authenticator,
    ) -> AdapterResult<Authenticator> {
        let op = Operation::CreateAuthenticator;
        let a = &authenticator;
        Field::CredentialId.check(op, "credential_id", &a.credential_id)?;
        Field::Key.check(op, "user_id", &a.user_id)?;
        Field::Text.check(op, "provider_account_id", &a.provider_account_id)?;
        Field::Text.check(op, "credential_public_key", &a.credential_public_key)?;
        Field::Text.check(op, "credential_device_type", &a.credential_device_type)?;
        Field::Text.check_opt(op, "transports", a.transports.as_deref())?;
        let secrets = [a.credential_id.as_str()];
        call(self.backend(), op, &secrets, || {
            self.insert_authenticator(a)
        })
        .await?;
        Ok(authenticator)
    }

    async fn get_authenticator(&self, credential_id: &str) -> AdapterResult<Option<Authenticator>> {
        if !Field::CredentialId.admits(credential_id) {
            return Ok(None);
        }
        let op = Operation::GetAuthenticator;
        let fut = || self.find_authenticator(credential_id);
        call(self.backend(), op, &[credential_id], fut).await
    }

    async fn list_authenticators(&self, user_id: &str) -> AdapterResult<Vec<Authenticator>> {
        if !storable(&[user_id]) {
            return Ok(Vec::new());
        }
        let op = Operation::ListAuthenticators;
        call(self.backend(), op, &[], || {
            self.find_authenticators(user_id)
        })
        .await
    }

    async fn update_authenticator_counter(
        &self,
        credential_id: &str,
        counter: i64,
    ) -> AdapterResult<Authenticator> {
        let op = Operation::UpdateAuthenticatorCounter;
        let missing = || AdapterError::not_found(op, "no authenticator with this credential id");
        if !Field::CredentialId.admits(credential_id) {
            return Err(missing());
        }
        let fut = || self.set_authenticator_counter(credential_id, counter);
        call(self.backend(), op, &[credential_id], fut)
            .await?
            .ok_or_else(missing)
    }

    async fn delete_authenticator(
        &self,
        credential_id: &str,
    ) -> AdapterResult<Option<Authenticator>> {
        if !Field::CredentialId.admits(credential_id) {
            return Ok(None);
        }
        let op = Operation::DeleteAuthenticator;
        let fut = || self.remove_authenticator(credential_id);
        call(self.backend(), op, &[credential_id], fut).await
    }

    async fn delete_expired(&self, now: DateTime<Utc>) -> AdapterResult<ExpiredCounts> {
        let op = Operation::DeleteExpired;
        let now = truncate_to_millis(now);
        call(self.backend(), op, &[], || self.remove_expired(now)).await
    }
}
