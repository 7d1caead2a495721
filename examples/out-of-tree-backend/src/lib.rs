//! # out-of-tree-backend
//!
//! A trivial backend built the way one in another repository would be: [`WrappedStore`]
//! implements [`auth_core::forward::ForwardStore`] over the in-memory reference store,
//! writing only the two methods its deliberate flaws change, so it is an
//! [`auth_core::Store`] and the policy layer makes it an [`auth_core::Adapter`]; and
//! `tests/conformance.rs` runs the whole shared suite on it with its own fixture and
//! inspector, through public API only.
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
use auth_core::forward::ForwardStore;
use auth_core::memory::{MemoryAdapter, MemorySnapshot};
use auth_core::{async_trait, AdapterError, AdapterResult, Store, VerificationToken};

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
impl ForwardStore for WrappedStore {
    fn inner(&self) -> &dyn Store {
        &self.inner
    }

    fn backend(&self) -> &'static str {
        "wrapped-memory"
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
}
