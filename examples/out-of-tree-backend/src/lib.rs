//! # out-of-tree-backend
//!
//! A trivial backend built the way one in another repository would be: [`WrappedStore`]
//! implements [`auth_core::Store`] by delegating to the in-memory reference store, so the
//! policy layer makes it an [`auth_core::Adapter`], and `tests/conformance.rs` runs the whole
//! shared suite on it with its own fixture and inspector, through public API only.
//!
//! ```
//! use auth_core::{Adapter, User};
//! use out_of_tree_backend::WrappedStore;
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let db = WrappedStore::new();
//! let user = db.create_user(User::new().with_email("ada@example.com")).await?;
//! assert_eq!(db.get_user_by_email("ADA@example.com").await?, Some(user));
//! # Ok::<_, auth_core::AdapterError>(())
//! # }).unwrap();
//! ```

use auth_core::chrono::{DateTime, Utc};
use auth_core::memory::{MemoryAdapter, MemorySnapshot};
use auth_core::{
    async_trait, Account, AdapterError, AdapterResult, Authenticator, ExpiredCounts, Session,
    SessionUpdate, Store, User, UserUpdate, VerificationToken,
};

/// A deliberate bug, for the test that proves the suite catches a broken store
/// (`tests/broken.rs`). Real stores have none of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Flaw {
    /// No bug.
    #[default]
    None,
    /// `take_verification_token` hands the token out but leaves it stored, so it can be
    /// used again (the bug of Auth.js adapters that read, then delete in a second step).
    TokenNotRemoved,
    /// `remove_sessions` ("sign out everywhere") counts the expired sessions it swept along
    /// with the live ones, so the count differs from backend to backend.
    ExpiredSessionsCounted,
}

/// The store: a [`MemoryAdapter`] behind a newtype. Clones share the data.
///
/// ```
/// use out_of_tree_backend::WrappedStore;
/// let store = WrappedStore::new();
/// assert!(store.snapshot().users.is_empty());
/// ```
#[derive(Debug, Clone, Default)]
pub struct WrappedStore {
    inner: MemoryAdapter,
    flaw: Flaw,
}

impl WrappedStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty store with a deliberate bug (for the suite's self-check only).
    ///
    /// ```
    /// use out_of_tree_backend::{Flaw, WrappedStore};
    /// let broken = WrappedStore::with_flaw(Flaw::TokenNotRemoved);
    /// assert_eq!(broken.flaw(), Flaw::TokenNotRemoved);
    /// ```
    pub fn with_flaw(flaw: Flaw) -> Self {
        Self {
            inner: MemoryAdapter::new(),
            flaw,
        }
    }

    /// The bug this store carries.
    ///
    /// ```
    /// use out_of_tree_backend::{Flaw, WrappedStore};
    /// assert_eq!(WrappedStore::new().flaw(), Flaw::None);
    /// ```
    pub fn flaw(&self) -> Flaw {
        self.flaw
    }

    /// Everything stored, read directly (what the test inspector uses).
    ///
    /// ```
    /// use out_of_tree_backend::WrappedStore;
    /// assert!(WrappedStore::new().snapshot().sessions.is_empty());
    /// ```
    pub fn snapshot(&self) -> MemorySnapshot {
        self.inner.snapshot()
    }

    /// While `down`, every call fails with ADAPTER_CONNECTION_ERROR, like a dead server.
    ///
    /// ```
    /// use auth_core::{Adapter, ErrorCode};
    /// use out_of_tree_backend::WrappedStore;
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let store = WrappedStore::new();
    /// store.simulate_outage(true);
    /// let err = store.get_user("u1").await.unwrap_err();
    /// assert_eq!(err.code(), ErrorCode::AdapterConnectionError);
    /// # });
    /// ```
    pub fn simulate_outage(&self, down: bool) {
        self.inner.simulate_outage(down);
    }

    /// Creates the storage; nothing to do in memory, and idempotent like every `migrate`.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// out_of_tree_backend::WrappedStore::new().migrate().await.unwrap();
    /// # });
    /// ```
    pub async fn migrate(&self) -> Result<(), AdapterError> {
        Ok(())
    }
}

#[async_trait]
impl Store for WrappedStore {
    fn backend(&self) -> &'static str {
        "wrapped-memory"
    }

    async fn insert_user(&self, user: &User, email_key: Option<&str>) -> AdapterResult<String> {
        self.inner.insert_user(user, email_key).await
    }

    async fn find_user(&self, id: &str) -> AdapterResult<Option<User>> {
        self.inner.find_user(id).await
    }

    async fn find_user_by_email(&self, email_key: &str) -> AdapterResult<Option<User>> {
        self.inner.find_user_by_email(email_key).await
    }

    async fn find_user_by_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<User>> {
        self.inner
            .find_user_by_account(provider, provider_account_id)
            .await
    }

    async fn merge_user(
        &self,
        update: &UserUpdate,
        email_key: Option<Option<&str>>,
    ) -> AdapterResult<Option<User>> {
        self.inner.merge_user(update, email_key).await
    }

    async fn remove_user(&self, id: &str) -> AdapterResult<Option<User>> {
        self.inner.remove_user(id).await
    }

    async fn insert_account(&self, account: &Account) -> AdapterResult<()> {
        self.inner.insert_account(account).await
    }

    async fn remove_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<Account>> {
        self.inner
            .remove_account(provider, provider_account_id)
            .await
    }

    async fn find_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<Account>> {
        self.inner.find_account(provider, provider_account_id).await
    }

    async fn replace_account_tokens(&self, account: &Account) -> AdapterResult<Option<Account>> {
        self.inner.replace_account_tokens(account).await
    }

    async fn find_accounts(&self, user_id: &str) -> AdapterResult<Vec<Account>> {
        self.inner.find_accounts(user_id).await
    }

    async fn insert_session(&self, session: &Session) -> AdapterResult<()> {
        self.inner.insert_session(session).await
    }

    async fn find_session_and_user(
        &self,
        session_token: &str,
        now: DateTime<Utc>,
    ) -> AdapterResult<Option<(Session, User)>> {
        self.inner.find_session_and_user(session_token, now).await
    }

    async fn change_session(
        &self,
        update: &SessionUpdate,
        now: DateTime<Utc>,
    ) -> AdapterResult<Option<Session>> {
        self.inner.change_session(update, now).await
    }

    async fn remove_session(&self, session_token: &str) -> AdapterResult<Option<Session>> {
        self.inner.remove_session(session_token).await
    }

    async fn find_sessions(
        &self,
        user_id: &str,
        now: DateTime<Utc>,
    ) -> AdapterResult<Vec<Session>> {
        self.inner.find_sessions(user_id, now).await
    }

    async fn remove_sessions(&self, user_id: &str, now: DateTime<Utc>) -> AdapterResult<u64> {
        let expired = self
            .snapshot()
            .sessions
            .values()
            .filter(|s| s.user_id == user_id && s.expires <= now)
            .count() as u64;
        let live = self.inner.remove_sessions(user_id, now).await?;
        Ok(match self.flaw {
            // The bug: the expired ones are counted too.
            Flaw::ExpiredSessionsCounted => live + expired,
            _ => live,
        })
    }

    async fn insert_verification_token(&self, token: &VerificationToken) -> AdapterResult<()> {
        self.inner.insert_verification_token(token).await
    }

    async fn take_verification_token(
        &self,
        identifier: &str,
        token: &str,
    ) -> AdapterResult<Option<VerificationToken>> {
        let taken = self
            .inner
            .take_verification_token(identifier, token)
            .await?;
        if self.flaw == Flaw::TokenNotRemoved {
            if let Some(token) = &taken {
                // Put it back: the bug.
                self.inner.insert_verification_token(token).await?;
            }
        }
        Ok(taken)
    }

    async fn insert_authenticator(&self, authenticator: &Authenticator) -> AdapterResult<()> {
        self.inner.insert_authenticator(authenticator).await
    }

    async fn find_authenticator(
        &self,
        credential_id: &str,
    ) -> AdapterResult<Option<Authenticator>> {
        self.inner.find_authenticator(credential_id).await
    }

    async fn find_authenticators(&self, user_id: &str) -> AdapterResult<Vec<Authenticator>> {
        self.inner.find_authenticators(user_id).await
    }

    async fn set_authenticator_counter(
        &self,
        credential_id: &str,
        counter: i64,
    ) -> AdapterResult<Option<Authenticator>> {
        self.inner
            .set_authenticator_counter(credential_id, counter)
            .await
    }

    async fn remove_authenticator(
        &self,
        credential_id: &str,
    ) -> AdapterResult<Option<Authenticator>> {
        self.inner.remove_authenticator(credential_id).await
    }

    async fn remove_expired(&self, now: DateTime<Utc>) -> AdapterResult<ExpiredCounts> {
        self.inner.remove_expired(now).await
    }
}
