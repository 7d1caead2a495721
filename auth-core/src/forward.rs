//! Default forwarding for wrappers that change a few methods of another adapter or store
//! and pass every other call through: a fault injector, a test view that renames ids, a
//! store that adds metrics around one call.
//!
//! A wrapper implements [`ForwardStore`] or [`ForwardAdapter`] with the one method they
//! require, `inner` (what to forward to), and writes only the methods it changes; every
//! other method has a default body that calls the same method of `inner` with the same
//! arguments.
//!
//! - [`ForwardStore`]: every `ForwardStore` is a [`Store`] (a blanket impl here), so the
//!   policy layer makes it an [`Adapter`] as it does every store.
//! - [`ForwardAdapter`]: the [`Adapter`] impl is one line, [`forward_adapter!`](crate::forward_adapter).
//!   A blanket `impl<T: ForwardAdapter> Adapter for T` cannot exist next to the policy
//!   layer's `impl<S: Store> Adapter for S` (Rust rejects two blanket impls of one trait
//!   that could both apply to a type), so the macro writes the impl for one named type.
//!
//! Not for wrappers where a forgotten method is a leak: the at-rest wrappers
//! (`auth_core::at_rest`, feature `at-rest`) name every method they pass through, so a
//! method added to the contract later does not reach the database with a token in clear.
//!
//! ```
//! # #[cfg(feature = "memory")] {
//! use std::sync::atomic::{AtomicU64, Ordering};
//! use auth_core::forward::ForwardAdapter;
//! use auth_core::memory::MemoryAdapter;
//! use auth_core::{async_trait, Adapter, AdapterResult, Session, User};
//!
//! /// Counts the session lookups; everything else goes to the inner adapter unchanged.
//! #[derive(Debug, Default)]
//! struct CountLookups {
//!     inner: MemoryAdapter,
//!     lookups: AtomicU64,
//! }
//!
//! #[async_trait]
//! impl ForwardAdapter for CountLookups {
//!     fn inner(&self) -> &dyn Adapter {
//!         &self.inner
//!     }
//!
//!     async fn get_session_and_user(&self, token: &str) -> AdapterResult<Option<(Session, User)>> {
//!         self.lookups.fetch_add(1, Ordering::Relaxed);
//!         self.inner.get_session_and_user(token).await
//!     }
//! }
//! auth_core::forward_adapter!(CountLookups);
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let db: std::sync::Arc<dyn Adapter> = std::sync::Arc::new(CountLookups::default());
//! db.create_user(User::with_id("u1")).await?;
//! assert!(db.get_session_and_user("no-such-token").await?.is_none());
//! # Ok::<(), auth_core::AdapterError>(())
//! # }).unwrap();
//! # }
//! ```

use std::fmt::Debug;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::adapter::{Adapter, AdapterResult};
use crate::models::{
    Account, Authenticator, ExpiredCounts, Session, SessionUpdate, User, UserUpdate,
    VerificationToken,
};
use crate::store::Store;

/// An [`Adapter`] wrapper that writes only the methods it changes; the others forward to
/// [`inner`](Self::inner). Pair it with [`forward_adapter!`](crate::forward_adapter), which
/// writes the `Adapter` impl (see the [module docs](self) for why a macro).
///
/// ```
/// # #[cfg(feature = "memory")] {
/// use auth_core::forward::ForwardAdapter;
/// use auth_core::memory::MemoryAdapter;
/// use auth_core::{async_trait, Adapter, AdapterError, AdapterResult, Operation, User};
///
/// /// Refuses to create users, as a read-only replica would.
/// #[derive(Debug, Default)]
/// struct ReadOnly(MemoryAdapter);
///
/// #[async_trait]
/// impl ForwardAdapter for ReadOnly {
///     fn inner(&self) -> &dyn Adapter {
///         &self.0
///     }
///
///     async fn create_user(&self, _user: User) -> AdapterResult<User> {
///         Err(AdapterError::backend(Operation::CreateUser, "read-only"))
///     }
/// }
/// auth_core::forward_adapter!(ReadOnly);
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let db = ReadOnly::default();
/// assert!(Adapter::create_user(&db, User::with_id("u1")).await.is_err());
/// assert_eq!(Adapter::get_user(&db, "u1").await?, None);
/// # Ok::<(), AdapterError>(())
/// # }).unwrap();
/// # }
/// ```
#[async_trait]
pub trait ForwardAdapter: Debug + Send + Sync + 'static {
    /// The adapter every method the wrapper does not write goes to.
    fn inner(&self) -> &dyn Adapter;

    /// Forwards [`Adapter::create_user`] to [`inner`](Self::inner).
    async fn create_user(&self, user: User) -> AdapterResult<User> {
        self.inner().create_user(user).await
    }

    /// Forwards [`Adapter::get_user`] to [`inner`](Self::inner).
    async fn get_user(&self, id: &str) -> AdapterResult<Option<User>> {
        self.inner().get_user(id).await
    }

    /// Forwards [`Adapter::get_user_by_email`] to [`inner`](Self::inner).
    async fn get_user_by_email(&self, email: &str) -> AdapterResult<Option<User>> {
        self.inner().get_user_by_email(email).await
    }

    /// Forwards [`Adapter::get_user_by_account`] to [`inner`](Self::inner).
    async fn get_user_by_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<User>> {
        self.inner()
            .get_user_by_account(provider, provider_account_id)
            .await
    }

    /// Forwards [`Adapter::update_user`] to [`inner`](Self::inner).
    async fn update_user(&self, update: UserUpdate) -> AdapterResult<User> {
        self.inner().update_user(update).await
    }

    /// Forwards [`Adapter::delete_user`] to [`inner`](Self::inner).
    async fn delete_user(&self, id: &str) -> AdapterResult<Option<User>> {
        self.inner().delete_user(id).await
    }

    /// Forwards [`Adapter::link_account`] to [`inner`](Self::inner).
    async fn link_account(&self, account: Account) -> AdapterResult<Account> {
        self.inner().link_account(account).await
    }

    /// Forwards [`Adapter::unlink_account`] to [`inner`](Self::inner).
    async fn unlink_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<Account>> {
        self.inner()
            .unlink_account(provider, provider_account_id)
            .await
    }

    /// Forwards [`Adapter::get_account`] to [`inner`](Self::inner).
    async fn get_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<Account>> {
        self.inner()
            .get_account(provider, provider_account_id)
            .await
    }

    /// Forwards [`Adapter::update_account`] to [`inner`](Self::inner).
    async fn update_account(&self, account: Account) -> AdapterResult<Option<Account>> {
        self.inner().update_account(account).await
    }

    /// Forwards [`Adapter::list_accounts`] to [`inner`](Self::inner).
    async fn list_accounts(&self, user_id: &str) -> AdapterResult<Vec<Account>> {
        self.inner().list_accounts(user_id).await
    }

    /// Forwards [`Adapter::create_session`] to [`inner`](Self::inner).
    async fn create_session(&self, session: Session) -> AdapterResult<Session> {
        self.inner().create_session(session).await
    }

    /// Forwards [`Adapter::get_session_and_user`] to [`inner`](Self::inner).
    async fn get_session_and_user(
        &self,
        session_token: &str,
    ) -> AdapterResult<Option<(Session, User)>> {
        self.inner().get_session_and_user(session_token).await
    }

    /// Forwards [`Adapter::update_session`] to [`inner`](Self::inner).
    async fn update_session(&self, update: SessionUpdate) -> AdapterResult<Option<Session>> {
        self.inner().update_session(update).await
    }

    /// Forwards [`Adapter::delete_session`] to [`inner`](Self::inner).
    async fn delete_session(&self, session_token: &str) -> AdapterResult<Option<Session>> {
        self.inner().delete_session(session_token).await
    }

    /// Forwards [`Adapter::list_sessions`] to [`inner`](Self::inner).
    async fn list_sessions(&self, user_id: &str) -> AdapterResult<Vec<Session>> {
        self.inner().list_sessions(user_id).await
    }

    /// Forwards [`Adapter::delete_sessions`] to [`inner`](Self::inner).
    async fn delete_sessions(&self, user_id: &str) -> AdapterResult<u64> {
        self.inner().delete_sessions(user_id).await
    }

    /// Forwards [`Adapter::create_verification_token`] to [`inner`](Self::inner).
    async fn create_verification_token(
        &self,
        token: VerificationToken,
    ) -> AdapterResult<VerificationToken> {
        self.inner().create_verification_token(token).await
    }

    /// Forwards [`Adapter::use_verification_token`] to [`inner`](Self::inner).
    async fn use_verification_token(
        &self,
        identifier: &str,
        token: &str,
    ) -> AdapterResult<Option<VerificationToken>> {
        self.inner().use_verification_token(identifier, token).await
    }

    /// Forwards [`Adapter::create_authenticator`] to [`inner`](Self::inner).
    async fn create_authenticator(
        &self,
        authenticator: Authenticator,
    ) -> AdapterResult<Authenticator> {
        self.inner().create_authenticator(authenticator).await
    }

    /// Forwards [`Adapter::get_authenticator`] to [`inner`](Self::inner).
    async fn get_authenticator(&self, credential_id: &str) -> AdapterResult<Option<Authenticator>> {
        self.inner().get_authenticator(credential_id).await
    }

    /// Forwards [`Adapter::list_authenticators`] to [`inner`](Self::inner).
    async fn list_authenticators(&self, user_id: &str) -> AdapterResult<Vec<Authenticator>> {
        self.inner().list_authenticators(user_id).await
    }

    /// Forwards [`Adapter::update_authenticator_counter`] to [`inner`](Self::inner).
    async fn update_authenticator_counter(
        &self,
        credential_id: &str,
        counter: i64,
    ) -> AdapterResult<Authenticator> {
        self.inner()
            .update_authenticator_counter(credential_id, counter)
            .await
    }

    /// Forwards [`Adapter::delete_authenticator`] to [`inner`](Self::inner).
    async fn delete_authenticator(
        &self,
        credential_id: &str,
    ) -> AdapterResult<Option<Authenticator>> {
        self.inner().delete_authenticator(credential_id).await
    }

    /// Forwards [`Adapter::delete_expired`] to [`inner`](Self::inner).
    async fn delete_expired(&self, now: DateTime<Utc>) -> AdapterResult<ExpiredCounts> {
        self.inner().delete_expired(now).await
    }
}

/// Writes `impl Adapter for $type` for a type that implements [`ForwardAdapter`]: each
/// method calls the type's `ForwardAdapter` method of the same name, so the methods the type
/// wrote run and the others forward. The type must not be generic.
///
/// ```
/// # #[cfg(feature = "memory")] {
/// use auth_core::forward::ForwardAdapter;
/// use auth_core::memory::MemoryAdapter;
/// use auth_core::{async_trait, Adapter};
///
/// /// Forwards everything: the smallest wrapper.
/// #[derive(Debug, Default)]
/// struct Same(MemoryAdapter);
///
/// #[async_trait]
/// impl ForwardAdapter for Same {
///     fn inner(&self) -> &dyn Adapter {
///         &self.0
///     }
/// }
/// auth_core::forward_adapter!(Same);
///
/// let db: std::sync::Arc<dyn Adapter> = std::sync::Arc::new(Same::default());
/// # let _ = db;
/// # }
/// ```
///
/// A generic wrapper names its parameters and their bounds first:
/// `forward_adapter!(impl<A: MyBound> MyWrapper<A>)`.
///
/// ```
/// # #[cfg(feature = "memory")] {
/// use auth_core::forward::ForwardAdapter;
/// use auth_core::{async_trait, Adapter};
///
/// /// Forwards everything to any adapter.
/// #[derive(Debug)]
/// struct Around<A>(A);
///
/// #[async_trait]
/// impl<A: Adapter> ForwardAdapter for Around<A> {
///     fn inner(&self) -> &dyn Adapter {
///         &self.0
///     }
/// }
/// auth_core::forward_adapter!(impl<A: Adapter> Around<A>);
///
/// let db: std::sync::Arc<dyn Adapter> =
///     std::sync::Arc::new(Around(auth_core::memory::MemoryAdapter::default()));
/// # let _ = db;
/// # }
/// ```
#[macro_export]
macro_rules! forward_adapter {
    (@impl [$($generics:tt)*] $type:ty) => {
        #[$crate::async_trait]
        impl<$($generics)*> $crate::Adapter for $type {
            async fn create_user(&self, user: $crate::User) -> $crate::AdapterResult<$crate::User> {
                <Self as $crate::forward::ForwardAdapter>::create_user(self, user).await
            }
            async fn get_user(&self, id: &str) -> $crate::AdapterResult<Option<$crate::User>> {
                <Self as $crate::forward::ForwardAdapter>::get_user(self, id).await
            }
            async fn get_user_by_email(
                &self,
                email: &str,
            ) -> $crate::AdapterResult<Option<$crate::User>> {
                <Self as $crate::forward::ForwardAdapter>::get_user_by_email(self, email).await
            }
            async fn get_user_by_account(
                &self,
                provider: &str,
                provider_account_id: &str,
            ) -> $crate::AdapterResult<Option<$crate::User>> {
                <Self as $crate::forward::ForwardAdapter>::get_user_by_account(
                    self,
                    provider,
                    provider_account_id,
                )
                .await
            }
            async fn update_user(
                &self,
                update: $crate::UserUpdate,
            ) -> $crate::AdapterResult<$crate::User> {
                <Self as $crate::forward::ForwardAdapter>::update_user(self, update).await
            }
            async fn delete_user(&self, id: &str) -> $crate::AdapterResult<Option<$crate::User>> {
                <Self as $crate::forward::ForwardAdapter>::delete_user(self, id).await
            }
            async fn link_account(
                &self,
                account: $crate::Account,
            ) -> $crate::AdapterResult<$crate::Account> {
                <Self as $crate::forward::ForwardAdapter>::link_account(self, account).await
            }
            async fn unlink_account(
                &self,
                provider: &str,
                provider_account_id: &str,
            ) -> $crate::AdapterResult<Option<$crate::Account>> {
                <Self as $crate::forward::ForwardAdapter>::unlink_account(
                    self,
                    provider,
                    provider_account_id,
                )
                .await
            }
            async fn get_account(
                &self,
                provider: &str,
                provider_account_id: &str,
            ) -> $crate::AdapterResult<Option<$crate::Account>> {
                <Self as $crate::forward::ForwardAdapter>::get_account(
                    self,
                    provider,
                    provider_account_id,
                )
                .await
            }
            async fn update_account(
                &self,
                account: $crate::Account,
            ) -> $crate::AdapterResult<Option<$crate::Account>> {
                <Self as $crate::forward::ForwardAdapter>::update_account(self, account).await
            }
            async fn list_accounts(
                &self,
                user_id: &str,
            ) -> $crate::AdapterResult<Vec<$crate::Account>> {
                <Self as $crate::forward::ForwardAdapter>::list_accounts(self, user_id).await
            }
            async fn create_session(
                &self,
                session: $crate::Session,
            ) -> $crate::AdapterResult<$crate::Session> {
                <Self as $crate::forward::ForwardAdapter>::create_session(self, session).await
            }
            async fn get_session_and_user(
                &self,
                session_token: &str,
            ) -> $crate::AdapterResult<Option<($crate::Session, $crate::User)>> {
                <Self as $crate::forward::ForwardAdapter>::get_session_and_user(self, session_token)
                    .await
            }
            async fn update_session(
                &self,
                update: $crate::SessionUpdate,
            ) -> $crate::AdapterResult<Option<$crate::Session>> {
                <Self as $crate::forward::ForwardAdapter>::update_session(self, update).await
            }
            async fn delete_session(
                &self,
                session_token: &str,
            ) -> $crate::AdapterResult<Option<$crate::Session>> {
                <Self as $crate::forward::ForwardAdapter>::delete_session(self, session_token).await
            }
            async fn list_sessions(
                &self,
                user_id: &str,
            ) -> $crate::AdapterResult<Vec<$crate::Session>> {
                <Self as $crate::forward::ForwardAdapter>::list_sessions(self, user_id).await
            }
            async fn delete_sessions(&self, user_id: &str) -> $crate::AdapterResult<u64> {
                <Self as $crate::forward::ForwardAdapter>::delete_sessions(self, user_id).await
            }
            async fn create_verification_token(
                &self,
                token: $crate::VerificationToken,
            ) -> $crate::AdapterResult<$crate::VerificationToken> {
                <Self as $crate::forward::ForwardAdapter>::create_verification_token(self, token)
                    .await
            }
            async fn use_verification_token(
                &self,
                identifier: &str,
                token: &str,
            ) -> $crate::AdapterResult<Option<$crate::VerificationToken>> {
                <Self as $crate::forward::ForwardAdapter>::use_verification_token(
                    self, identifier, token,
                )
                .await
            }
            async fn create_authenticator(
                &self,
                authenticator: $crate::Authenticator,
            ) -> $crate::AdapterResult<$crate::Authenticator> {
                <Self as $crate::forward::ForwardAdapter>::create_authenticator(self, authenticator)
                    .await
            }
            async fn get_authenticator(
                &self,
                credential_id: &str,
            ) -> $crate::AdapterResult<Option<$crate::Authenticator>> {
                <Self as $crate::forward::ForwardAdapter>::get_authenticator(self, credential_id)
                    .await
            }
            async fn list_authenticators(
                &self,
                user_id: &str,
            ) -> $crate::AdapterResult<Vec<$crate::Authenticator>> {
                <Self as $crate::forward::ForwardAdapter>::list_authenticators(self, user_id).await
            }
            async fn update_authenticator_counter(
                &self,
                credential_id: &str,
                counter: i64,
            ) -> $crate::AdapterResult<$crate::Authenticator> {
                <Self as $crate::forward::ForwardAdapter>::update_authenticator_counter(
                    self,
                    credential_id,
                    counter,
                )
                .await
            }
            async fn delete_authenticator(
                &self,
                credential_id: &str,
            ) -> $crate::AdapterResult<Option<$crate::Authenticator>> {
                <Self as $crate::forward::ForwardAdapter>::delete_authenticator(self, credential_id)
                    .await
            }
            async fn delete_expired(
                &self,
                now: $crate::chrono::DateTime<$crate::chrono::Utc>,
            ) -> $crate::AdapterResult<$crate::ExpiredCounts> {
                <Self as $crate::forward::ForwardAdapter>::delete_expired(self, now).await
            }
        }
    };
    (impl<$($param:ident: $bound:path),+ $(,)?> $type:ty) => {
        $crate::forward_adapter!(@impl [$($param: $bound),+] $type);
    };
    ($type:ty) => {
        $crate::forward_adapter!(@impl [] $type);
    };
}

/// A [`Store`] wrapper that writes only the methods it changes; the others forward to
/// [`inner`](Self::inner). Every `ForwardStore` is a `Store`, hence an [`Adapter`] through
/// the policy layer.
///
/// ```
/// # #[cfg(feature = "memory")] {
/// use auth_core::forward::ForwardStore;
/// use auth_core::memory::MemoryAdapter;
/// use auth_core::{async_trait, Adapter, Store, User};
///
/// /// The memory store under another name in spans and reports.
/// #[derive(Debug, Default)]
/// struct Renamed(MemoryAdapter);
///
/// #[async_trait]
/// impl ForwardStore for Renamed {
///     fn inner(&self) -> &dyn Store {
///         &self.0
///     }
///
///     fn backend(&self) -> &'static str {
///         "renamed-memory"
///     }
/// }
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let db = Renamed::default();
/// let user = db.create_user(User::with_id("u1")).await?;
/// assert_eq!(db.get_user("u1").await?, Some(user));
/// # Ok::<(), auth_core::AdapterError>(())
/// # }).unwrap();
/// # }
/// ```
#[async_trait]
pub trait ForwardStore: Debug + Send + Sync + 'static {
    /// The store every method the wrapper does not write goes to.
    fn inner(&self) -> &dyn Store;

    /// Forwards [`Store::backend`] to [`inner`](Self::inner).
    fn backend(&self) -> &'static str {
        self.inner().backend()
    }

    /// Forwards [`Store::insert_user`] to [`inner`](Self::inner).
    async fn insert_user(&self, user: &User, email_key: Option<&str>) -> AdapterResult<String> {
        self.inner().insert_user(user, email_key).await
    }

    /// Forwards [`Store::find_user`] to [`inner`](Self::inner).
    async fn find_user(&self, id: &str) -> AdapterResult<Option<User>> {
        self.inner().find_user(id).await
    }

    /// Forwards [`Store::find_user_by_email`] to [`inner`](Self::inner).
    async fn find_user_by_email(&self, email_key: &str) -> AdapterResult<Option<User>> {
        self.inner().find_user_by_email(email_key).await
    }

    /// Forwards [`Store::find_user_by_account`] to [`inner`](Self::inner).
    async fn find_user_by_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<User>> {
        self.inner()
            .find_user_by_account(provider, provider_account_id)
            .await
    }

    /// Forwards [`Store::merge_user`] to [`inner`](Self::inner).
    async fn merge_user(
        &self,
        update: &UserUpdate,
        email_key: Option<Option<&str>>,
    ) -> AdapterResult<Option<User>> {
        self.inner().merge_user(update, email_key).await
    }

    /// Forwards [`Store::remove_user`] to [`inner`](Self::inner).
    async fn remove_user(&self, id: &str) -> AdapterResult<Option<User>> {
        self.inner().remove_user(id).await
    }

    /// Forwards [`Store::insert_account`] to [`inner`](Self::inner).
    async fn insert_account(&self, account: &Account) -> AdapterResult<()> {
        self.inner().insert_account(account).await
    }

    /// Forwards [`Store::remove_account`] to [`inner`](Self::inner).
    async fn remove_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<Account>> {
        self.inner()
            .remove_account(provider, provider_account_id)
            .await
    }

    /// Forwards [`Store::find_account`] to [`inner`](Self::inner).
    async fn find_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<Account>> {
        self.inner()
            .find_account(provider, provider_account_id)
            .await
    }

    /// Forwards [`Store::replace_account_tokens`] to [`inner`](Self::inner).
    async fn replace_account_tokens(&self, account: &Account) -> AdapterResult<Option<Account>> {
        self.inner().replace_account_tokens(account).await
    }

    /// Forwards [`Store::find_accounts`] to [`inner`](Self::inner).
    async fn find_accounts(&self, user_id: &str) -> AdapterResult<Vec<Account>> {
        self.inner().find_accounts(user_id).await
    }

    /// Forwards [`Store::insert_session`] to [`inner`](Self::inner).
    async fn insert_session(&self, session: &Session) -> AdapterResult<()> {
        self.inner().insert_session(session).await
    }

    /// Forwards [`Store::find_session_and_user`] to [`inner`](Self::inner).
    async fn find_session_and_user(
        &self,
        session_token: &str,
        now: DateTime<Utc>,
    ) -> AdapterResult<Option<(Session, User)>> {
        self.inner().find_session_and_user(session_token, now).await
    }

    /// Forwards [`Store::change_session`] to [`inner`](Self::inner).
    async fn change_session(
        &self,
        update: &SessionUpdate,
        now: DateTime<Utc>,
    ) -> AdapterResult<Option<Session>> {
        self.inner().change_session(update, now).await
    }

    /// Forwards [`Store::remove_session`] to [`inner`](Self::inner).
    async fn remove_session(&self, session_token: &str) -> AdapterResult<Option<Session>> {
        self.inner().remove_session(session_token).await
    }

    /// Forwards [`Store::find_sessions`] to [`inner`](Self::inner).
    async fn find_sessions(
        &self,
        user_id: &str,
        now: DateTime<Utc>,
    ) -> AdapterResult<Vec<Session>> {
        self.inner().find_sessions(user_id, now).await
    }

    /// Forwards [`Store::remove_sessions`] to [`inner`](Self::inner).
    async fn remove_sessions(&self, user_id: &str, now: DateTime<Utc>) -> AdapterResult<u64> {
        self.inner().remove_sessions(user_id, now).await
    }

    /// Forwards [`Store::insert_verification_token`] to [`inner`](Self::inner).
    async fn insert_verification_token(&self, token: &VerificationToken) -> AdapterResult<()> {
        self.inner().insert_verification_token(token).await
    }

    /// Forwards [`Store::take_verification_token`] to [`inner`](Self::inner).
    async fn take_verification_token(
        &self,
        identifier: &str,
        token: &str,
    ) -> AdapterResult<Option<VerificationToken>> {
        self.inner()
            .take_verification_token(identifier, token)
            .await
    }

    /// Forwards [`Store::insert_authenticator`] to [`inner`](Self::inner).
    async fn insert_authenticator(&self, authenticator: &Authenticator) -> AdapterResult<()> {
        self.inner().insert_authenticator(authenticator).await
    }

    /// Forwards [`Store::find_authenticator`] to [`inner`](Self::inner).
    async fn find_authenticator(
        &self,
        credential_id: &str,
    ) -> AdapterResult<Option<Authenticator>> {
        self.inner().find_authenticator(credential_id).await
    }

    /// Forwards [`Store::find_authenticators`] to [`inner`](Self::inner).
    async fn find_authenticators(&self, user_id: &str) -> AdapterResult<Vec<Authenticator>> {
        self.inner().find_authenticators(user_id).await
    }

    /// Forwards [`Store::set_authenticator_counter`] to [`inner`](Self::inner).
    async fn set_authenticator_counter(
        &self,
        credential_id: &str,
        counter: i64,
    ) -> AdapterResult<Option<Authenticator>> {
        self.inner()
            .set_authenticator_counter(credential_id, counter)
            .await
    }

    /// Forwards [`Store::remove_authenticator`] to [`inner`](Self::inner).
    async fn remove_authenticator(
        &self,
        credential_id: &str,
    ) -> AdapterResult<Option<Authenticator>> {
        self.inner().remove_authenticator(credential_id).await
    }

    /// Forwards [`Store::remove_expired`] to [`inner`](Self::inner).
    async fn remove_expired(&self, now: DateTime<Utc>) -> AdapterResult<ExpiredCounts> {
        self.inner().remove_expired(now).await
    }
}

#[async_trait]
impl<T: ForwardStore> Store for T {
    fn backend(&self) -> &'static str {
        ForwardStore::backend(self)
    }

    async fn insert_user(&self, user: &User, email_key: Option<&str>) -> AdapterResult<String> {
        ForwardStore::insert_user(self, user, email_key).await
    }

    async fn find_user(&self, id: &str) -> AdapterResult<Option<User>> {
        ForwardStore::find_user(self, id).await
    }

    async fn find_user_by_email(&self, email_key: &str) -> AdapterResult<Option<User>> {
        ForwardStore::find_user_by_email(self, email_key).await
    }

    async fn find_user_by_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<User>> {
        ForwardStore::find_user_by_account(self, provider, provider_account_id).await
    }

    async fn merge_user(
        &self,
        update: &UserUpdate,
        email_key: Option<Option<&str>>,
    ) -> AdapterResult<Option<User>> {
        ForwardStore::merge_user(self, update, email_key).await
    }

    async fn remove_user(&self, id: &str) -> AdapterResult<Option<User>> {
        ForwardStore::remove_user(self, id).await
    }

    async fn insert_account(&self, account: &Account) -> AdapterResult<()> {
        ForwardStore::insert_account(self, account).await
    }

    async fn remove_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<Account>> {
        ForwardStore::remove_account(self, provider, provider_account_id).await
    }

    async fn find_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<Account>> {
        ForwardStore::find_account(self, provider, provider_account_id).await
    }

    async fn replace_account_tokens(&self, account: &Account) -> AdapterResult<Option<Account>> {
        ForwardStore::replace_account_tokens(self, account).await
    }

    async fn find_accounts(&self, user_id: &str) -> AdapterResult<Vec<Account>> {
        ForwardStore::find_accounts(self, user_id).await
    }

    async fn insert_session(&self, session: &Session) -> AdapterResult<()> {
        ForwardStore::insert_session(self, session).await
    }

    async fn find_session_and_user(
        &self,
        session_token: &str,
        now: DateTime<Utc>,
    ) -> AdapterResult<Option<(Session, User)>> {
        ForwardStore::find_session_and_user(self, session_token, now).await
    }

    async fn change_session(
        &self,
        update: &SessionUpdate,
        now: DateTime<Utc>,
    ) -> AdapterResult<Option<Session>> {
        ForwardStore::change_session(self, update, now).await
    }

    async fn remove_session(&self, session_token: &str) -> AdapterResult<Option<Session>> {
        ForwardStore::remove_session(self, session_token).await
    }

    async fn find_sessions(
        &self,
        user_id: &str,
        now: DateTime<Utc>,
    ) -> AdapterResult<Vec<Session>> {
        ForwardStore::find_sessions(self, user_id, now).await
    }

    async fn remove_sessions(&self, user_id: &str, now: DateTime<Utc>) -> AdapterResult<u64> {
        ForwardStore::remove_sessions(self, user_id, now).await
    }

    async fn insert_verification_token(&self, token: &VerificationToken) -> AdapterResult<()> {
        ForwardStore::insert_verification_token(self, token).await
    }

    async fn take_verification_token(
        &self,
        identifier: &str,
        token: &str,
    ) -> AdapterResult<Option<VerificationToken>> {
        ForwardStore::take_verification_token(self, identifier, token).await
    }

    async fn insert_authenticator(&self, authenticator: &Authenticator) -> AdapterResult<()> {
        ForwardStore::insert_authenticator(self, authenticator).await
    }

    async fn find_authenticator(
        &self,
        credential_id: &str,
    ) -> AdapterResult<Option<Authenticator>> {
        ForwardStore::find_authenticator(self, credential_id).await
    }

    async fn find_authenticators(&self, user_id: &str) -> AdapterResult<Vec<Authenticator>> {
        ForwardStore::find_authenticators(self, user_id).await
    }

    async fn set_authenticator_counter(
        &self,
        credential_id: &str,
        counter: i64,
    ) -> AdapterResult<Option<Authenticator>> {
        ForwardStore::set_authenticator_counter(self, credential_id, counter).await
    }

    async fn remove_authenticator(
        &self,
        credential_id: &str,
    ) -> AdapterResult<Option<Authenticator>> {
        ForwardStore::remove_authenticator(self, credential_id).await
    }

    async fn remove_expired(&self, now: DateTime<Utc>) -> AdapterResult<ExpiredCounts> {
        ForwardStore::remove_expired(self, now).await
    }
}
