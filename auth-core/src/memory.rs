//! [`MemoryAdapter`]: the reference adapter, kept in process memory.
//!
//! It passes the whole conformance suite, concurrency scenarios included, so it is the
//! executable form of the contract and a fast stand-in for a database in an app's own
//! unit tests (like tower-sessions' `MemoryStore`). Nothing survives the process.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::adapter::AdapterResult;
use crate::email::normalize_email;
use crate::error::{AdapterError, Operation};
use crate::models::{
    Account, Authenticator, ExpiredCounts, Session, SessionUpdate, User, UserUpdate,
    VerificationToken,
};
use crate::store::Store;

/// Everything a [`MemoryAdapter`] holds, as plain maps: what [`MemoryAdapter::snapshot`]
/// returns so a test can check what was really stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemorySnapshot {
    /// Users by id.
    pub users: HashMap<String, User>,
    /// Normalized email → user id.
    pub emails: HashMap<String, String>,
    /// Accounts by `(provider, provider_account_id)`.
    pub accounts: HashMap<(String, String), Account>,
    /// Sessions by token (expired ones too, until swept or read).
    pub sessions: HashMap<String, Session>,
    /// Verification tokens by `(identifier, token)`.
    pub verification_tokens: HashMap<(String, String), VerificationToken>,
    /// Authenticators by credential id.
    pub authenticators: HashMap<String, Authenticator>,
}

/// The in-memory reference adapter. Clones share one store.
///
/// ```
/// use auth_core::{memory::MemoryAdapter, Adapter, Session, User};
/// use chrono::{Duration, Utc};
///
/// # tokio_test_block_on(async {
/// let db = MemoryAdapter::new();
/// let user = db.create_user(User::new().with_email("ada@example.com")).await?;
/// db.create_session(Session::with_token("tok", &user.id, Utc::now() + Duration::days(1))).await?;
///
/// let (_, found) = db.get_session_and_user("tok").await?.expect("live session");
/// assert_eq!(found, user);
/// assert_eq!(db.get_user_by_email("ADA@example.com").await?, Some(user));
/// # Ok::<_, auth_core::AdapterError>(())
/// # }).unwrap();
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// ```
#[derive(Clone, Default)]
pub struct MemoryAdapter {
    store: Arc<Mutex<MemorySnapshot>>,
    outage: Arc<AtomicBool>,
}

impl MemoryAdapter {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// A copy of everything stored, for assertions in tests.
    ///
    /// ```
    /// use auth_core::{memory::MemoryAdapter, Adapter, User};
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let db = MemoryAdapter::new();
    /// db.create_user(User::with_id("u1")).await.unwrap();
    /// assert!(db.snapshot().users.contains_key("u1"));
    /// # });
    /// ```
    pub fn snapshot(&self) -> MemorySnapshot {
        self.lock().clone()
    }

    /// Simulates a database outage: while on, every call fails with
    /// ADAPTER_CONNECTION_ERROR, as a real adapter does when its server is down. Lets an
    /// app test how it behaves then.
    ///
    /// ```
    /// use auth_core::{memory::MemoryAdapter, Adapter, ErrorCode};
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let db = MemoryAdapter::new();
    /// db.simulate_outage(true);
    /// let err = db.get_user("u1").await.unwrap_err();
    /// assert_eq!(err.code(), ErrorCode::AdapterConnectionError);
    /// db.simulate_outage(false);
    /// assert_eq!(db.get_user("u1").await.unwrap(), None);
    /// # });
    /// ```
    pub fn simulate_outage(&self, down: bool) {
        self.outage.store(down, Ordering::SeqCst);
    }

    fn lock(&self) -> MutexGuard<'_, MemorySnapshot> {
        // A panic while holding the lock cannot leave a half-applied change: every
        // method validates before it mutates. So a poisoned lock is still consistent.
        self.store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The store, or the outage error.
    #[allow(clippy::result_large_err)]
    fn open(&self, operation: Operation) -> AdapterResult<MutexGuard<'_, MemorySnapshot>> {
        if self.outage.load(Ordering::SeqCst) {
            return Err(AdapterError::new(
                operation,
                crate::ErrorKind::Connection,
                "simulated outage: the in-memory store is unreachable",
            ));
        }
        Ok(self.lock())
    }
}

/// Shows how much is stored, never what: the store holds tokens.
impl std::fmt::Debug for MemoryAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let store = self.lock();
        f.debug_struct("MemoryAdapter")
            .field("users", &store.users.len())
            .field("sessions", &store.sessions.len())
            .field("outage", &self.outage.load(Ordering::SeqCst))
            .finish_non_exhaustive()
    }
}

fn account_key(provider: &str, provider_account_id: &str) -> (String, String) {
    (provider.to_owned(), provider_account_id.to_owned())
}

impl MemorySnapshot {
    fn user_exists(&self, id: &str) -> bool {
        self.users.contains_key(id)
    }
}

#[async_trait]
impl Store for MemoryAdapter {
    fn backend(&self) -> &'static str {
        "memory"
    }

    async fn insert_user(&self, user: &User, email_key: Option<&str>) -> AdapterResult<String> {
        let op = Operation::CreateUser;
        let mut store = self.open(op)?;
        if store.user_exists(&user.id) {
            return Err(AdapterError::conflict(op, "a user with this id exists"));
        }
        if let Some(key) = email_key {
            if store.emails.contains_key(key) {
                return Err(AdapterError::conflict(op, "a user with this email exists"));
            }
            store.emails.insert(key.to_owned(), user.id.clone());
        }
        store.users.insert(user.id.clone(), user.clone());
        Ok(user.id.clone())
    }

    async fn find_user(&self, id: &str) -> AdapterResult<Option<User>> {
        Ok(self.open(Operation::GetUser)?.users.get(id).cloned())
    }

    async fn find_user_by_email(&self, email_key: &str) -> AdapterResult<Option<User>> {
        let store = self.open(Operation::GetUserByEmail)?;
        Ok(store
            .emails
            .get(email_key)
            .and_then(|id| store.users.get(id))
            .cloned())
    }

    async fn find_user_by_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<User>> {
        let store = self.open(Operation::GetUserByAccount)?;
        Ok(store
            .accounts
            .get(&account_key(provider, provider_account_id))
            .and_then(|account| store.users.get(&account.user_id))
            .cloned())
    }

    async fn merge_user(
        &self,
        update: &UserUpdate,
        email_key: Option<Option<&str>>,
    ) -> AdapterResult<Option<User>> {
        let op = Operation::UpdateUser;
        let mut store = self.open(op)?;
        let Some(current) = store.users.get(&update.id).cloned() else {
            return Ok(None);
        };
        let merged = update.apply_to(current.clone())?;
        if let Some(new_key) = email_key {
            let old_key = current.email.as_deref().map(normalize_email);
            if let Some(key) = new_key {
                if store
                    .emails
                    .get(key)
                    .is_some_and(|owner| owner != &merged.id)
                {
                    return Err(AdapterError::conflict(
                        op,
                        "the new email belongs to another user",
                    ));
                }
            }
            if let Some(key) = old_key {
                store.emails.remove(&key);
            }
            if let Some(key) = new_key {
                store.emails.insert(key.to_owned(), merged.id.clone());
            }
        }
        store.users.insert(merged.id.clone(), merged.clone());
        Ok(Some(merged))
    }

    async fn remove_user(&self, id: &str) -> AdapterResult<Option<User>> {
        let mut store = self.open(Operation::DeleteUser)?;
        let Some(user) = store.users.remove(id) else {
            return Ok(None);
        };
        if let Some(email) = &user.email {
            store.emails.remove(&normalize_email(email));
        }
        store.accounts.retain(|_, a| a.user_id != id);
        store.sessions.retain(|_, s| s.user_id != id);
        store.authenticators.retain(|_, a| a.user_id != id);
        Ok(Some(user))
    }

    async fn insert_account(&self, account: &Account) -> AdapterResult<()> {
        let op = Operation::LinkAccount;
        let mut store = self.open(op)?;
        if !store.user_exists(&account.user_id) {
            return Err(AdapterError::not_found(op, "no user with this id"));
        }
        let key = account_key(&account.provider, &account.provider_account_id);
        if store.accounts.contains_key(&key) {
            return Err(AdapterError::conflict(
                op,
                "this provider account is linked already",
            ));
        }
        store.accounts.insert(key, account.clone());
        Ok(())
    }

    async fn remove_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<Account>> {
        let mut store = self.open(Operation::UnlinkAccount)?;
        Ok(store
            .accounts
            .remove(&account_key(provider, provider_account_id)))
    }

    async fn find_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<Account>> {
        let store = self.open(Operation::GetAccount)?;
        Ok(store
            .accounts
            .get(&account_key(provider, provider_account_id))
            .cloned())
    }

    async fn replace_account_tokens(&self, account: &Account) -> AdapterResult<Option<Account>> {
        let mut store = self.open(Operation::UpdateAccount)?;
        let key = account_key(&account.provider, &account.provider_account_id);
        let Some(stored) = store.accounts.get_mut(&key) else {
            return Ok(None);
        };
        let updated = Account {
            user_id: stored.user_id.clone(),
            account_type: stored.account_type,
            ..account.clone()
        };
        *stored = updated.clone();
        Ok(Some(updated))
    }

    async fn find_accounts(&self, user_id: &str) -> AdapterResult<Vec<Account>> {
        let store = self.open(Operation::ListAccounts)?;
        Ok(store
            .accounts
            .values()
            .filter(|a| a.user_id == user_id)
            .cloned()
            .collect())
    }

    async fn insert_session(&self, session: &Session) -> AdapterResult<()> {
        let op = Operation::CreateSession;
        let mut store = self.open(op)?;
        if !store.user_exists(&session.user_id) {
            return Err(AdapterError::not_found(op, "no user with this id"));
        }
        if store.sessions.contains_key(&session.session_token) {
            return Err(AdapterError::conflict(op, "this session token exists"));
        }
        store
            .sessions
            .insert(session.session_token.clone(), session.clone());
        Ok(())
    }

    async fn find_session_and_user(
        &self,
        session_token: &str,
        now: DateTime<Utc>,
    ) -> AdapterResult<Option<(Session, User)>> {
        let store = self.open(Operation::GetSessionAndUser)?;
        Ok(store
            .sessions
            .get(session_token)
            .filter(|s| s.expires > now)
            .and_then(|s| Some((s.clone(), store.users.get(&s.user_id)?.clone()))))
    }

    async fn change_session(
        &self,
        update: &SessionUpdate,
        now: DateTime<Utc>,
    ) -> AdapterResult<Option<Session>> {
        let op = Operation::UpdateSession;
        let mut store = self.open(op)?;
        if let Some(user_id) = &update.user_id {
            if !store.user_exists(user_id) {
                return Err(AdapterError::not_found(op, "no user with the new user id"));
            }
        }
        let Some(session) = store
            .sessions
            .get_mut(&update.session_token)
            .filter(|session| session.expires > now)
        else {
            return Ok(None);
        };
        *session = update.apply_to(session.clone())?;
        Ok(Some(session.clone()))
    }

    async fn remove_session(&self, session_token: &str) -> AdapterResult<Option<Session>> {
        Ok(self
            .open(Operation::DeleteSession)?
            .sessions
            .remove(session_token))
    }

    async fn find_sessions(
        &self,
        user_id: &str,
        now: DateTime<Utc>,
    ) -> AdapterResult<Vec<Session>> {
        let store = self.open(Operation::ListSessions)?;
        Ok(store
            .sessions
            .values()
            .filter(|s| s.user_id == user_id && s.expires > now)
            .cloned()
            .collect())
    }

    async fn remove_sessions(&self, user_id: &str, now: DateTime<Utc>) -> AdapterResult<u64> {
        let mut store = self.open(Operation::DeleteSessions)?;
        let mut live = 0;
        store.sessions.retain(|_, s| {
            let mine = s.user_id == user_id;
            if mine && s.expires > now {
                live += 1;
            }
            !mine
        });
        Ok(live)
    }

    async fn insert_verification_token(&self, token: &VerificationToken) -> AdapterResult<()> {
        let op = Operation::CreateVerificationToken;
        let mut store = self.open(op)?;
        let key = (token.identifier.clone(), token.token.clone());
        if store.verification_tokens.contains_key(&key) {
            return Err(AdapterError::conflict(op, "this verification token exists"));
        }
        store.verification_tokens.insert(key, token.clone());
        Ok(())
    }

    async fn take_verification_token(
        &self,
        identifier: &str,
        token: &str,
    ) -> AdapterResult<Option<VerificationToken>> {
        let mut store = self.open(Operation::UseVerificationToken)?;
        Ok(store
            .verification_tokens
            .remove(&(identifier.to_owned(), token.to_owned())))
    }

    async fn insert_authenticator(&self, authenticator: &Authenticator) -> AdapterResult<()> {
        let op = Operation::CreateAuthenticator;
        let mut store = self.open(op)?;
        if !store.user_exists(&authenticator.user_id) {
            return Err(AdapterError::not_found(op, "no user with this id"));
        }
        if store
            .authenticators
            .contains_key(&authenticator.credential_id)
        {
            return Err(AdapterError::conflict(op, "this credential id exists"));
        }
        store
            .authenticators
            .insert(authenticator.credential_id.clone(), authenticator.clone());
        Ok(())
    }

    async fn find_authenticator(
        &self,
        credential_id: &str,
    ) -> AdapterResult<Option<Authenticator>> {
        Ok(self
            .open(Operation::GetAuthenticator)?
            .authenticators
            .get(credential_id)
            .cloned())
    }

    async fn find_authenticators(&self, user_id: &str) -> AdapterResult<Vec<Authenticator>> {
        let store = self.open(Operation::ListAuthenticators)?;
        Ok(store
            .authenticators
            .values()
            .filter(|a| a.user_id == user_id)
            .cloned()
            .collect())
    }

    async fn set_authenticator_counter(
        &self,
        credential_id: &str,
        counter: i64,
    ) -> AdapterResult<Option<Authenticator>> {
        let mut store = self.open(Operation::UpdateAuthenticatorCounter)?;
        Ok(store.authenticators.get_mut(credential_id).map(|a| {
            a.counter = counter;
            a.clone()
        }))
    }

    async fn remove_authenticator(
        &self,
        credential_id: &str,
    ) -> AdapterResult<Option<Authenticator>> {
        Ok(self
            .open(Operation::DeleteAuthenticator)?
            .authenticators
            .remove(credential_id))
    }

    async fn remove_expired(&self, now: DateTime<Utc>) -> AdapterResult<ExpiredCounts> {
        let mut store = self.open(Operation::DeleteExpired)?;
        let sessions_before = store.sessions.len();
        store.sessions.retain(|_, s| s.expires > now);
        let tokens_before = store.verification_tokens.len();
        store.verification_tokens.retain(|_, t| t.expires > now);
        Ok(ExpiredCounts {
            sessions: (sessions_before - store.sessions.len()) as u64,
            verification_tokens: (tokens_before - store.verification_tokens.len()) as u64,
        })
    }
}
