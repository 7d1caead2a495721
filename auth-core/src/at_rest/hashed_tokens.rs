//! [`HashedTokens`]: session and verification tokens stored as their SHA-256.

use std::fmt;
use std::sync::Arc;

use super::hashing::stored_key;
use crate::adapter::{Adapter, AdapterResult};
use crate::models::{Session, SessionUpdate, User, VerificationToken};

/// Session and verification tokens stored as their SHA-256 over any [`Adapter`].
///
/// Every method that takes a token hashes it ([`token_hash`](super::token_hash)) before the inner adapter sees
/// it, and what it returns carries the token the caller supplied; one inner call per
/// method, so `get_session_and_user` stays one round trip. [`Adapter::list_sessions`] gives
/// the stored hashes (see the [module docs](super)). Everything else goes through unchanged.
///
/// ```
/// # #[cfg(feature = "memory")] {
/// use std::sync::Arc;
/// use auth_core::at_rest::HashedTokens;
/// use auth_core::memory::MemoryAdapter;
/// use auth_core::Adapter;
///
/// // Over a concrete adapter, or over the `Arc<dyn Adapter>` an app already holds.
/// let db: Arc<dyn Adapter> = Arc::new(HashedTokens::new(MemoryAdapter::new()));
/// let db: Arc<dyn Adapter> = Arc::new(HashedTokens::from_arc(db));
/// # let _ = db;
/// # }
/// ```
pub struct HashedTokens<A: ?Sized> {
    inner: Arc<A>,
}

impl<A: Adapter> HashedTokens<A> {
    /// Wraps `inner`.
    pub fn new(inner: A) -> Self {
        Self::from_arc(Arc::new(inner))
    }
}

impl<A: Adapter + ?Sized> HashedTokens<A> {
    /// Wraps an adapter already shared, e.g. an `Arc<dyn Adapter>`.
    pub fn from_arc(inner: Arc<A>) -> Self {
        Self { inner }
    }

    /// The wrapped adapter (e.g. to reach [`EncryptedAccountTokens::rotate_user`](super::EncryptedAccountTokens::rotate_user)).
    pub fn inner(&self) -> &A {
        &self.inner
    }
}

impl<A: ?Sized> Clone for HashedTokens<A> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<A: fmt::Debug + ?Sized> fmt::Debug for HashedTokens<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("HashedTokens").field(&self.inner).finish()
    }
}

fn with_token(mut session: Session, token: &str) -> Session {
    token.clone_into(&mut session.session_token);
    session
}

pass_through! {
    impl [A: Adapter + ?Sized] Adapter for HashedTokens<A>;
    pass_through: [
        create_user, get_user, get_user_by_email, get_user_by_account, update_user, delete_user,
        link_account, unlink_account, get_account, update_account, list_accounts,
        list_sessions, delete_sessions,
        create_authenticator, get_authenticator, list_authenticators,
        update_authenticator_counter, delete_authenticator,
        delete_expired,
    ];

    async fn create_session(&self, session: Session) -> AdapterResult<Session> {
        let token = session.session_token.clone();
        let stored = Session {
            session_token: stored_key(&token).into_owned(),
            ..session
        };
        let created = self.inner.create_session(stored).await?;
        Ok(with_token(created, &token))
    }

    async fn get_session_and_user(
        &self,
        session_token: &str,
    ) -> AdapterResult<Option<(Session, User)>> {
        let found = self
            .inner
            .get_session_and_user(&stored_key(session_token))
            .await?;
        Ok(found.map(|(session, user)| (with_token(session, session_token), user)))
    }

    async fn update_session(&self, update: SessionUpdate) -> AdapterResult<Option<Session>> {
        let token = update.session_token.clone();
        let stored = SessionUpdate {
            session_token: stored_key(&token).into_owned(),
            ..update
        };
        let changed = self.inner.update_session(stored).await?;
        Ok(changed.map(|session| with_token(session, &token)))
    }

    async fn delete_session(&self, session_token: &str) -> AdapterResult<Option<Session>> {
        let removed = self
            .inner
            .delete_session(&stored_key(session_token))
            .await?;
        Ok(removed.map(|session| with_token(session, session_token)))
    }

    async fn create_verification_token(
        &self,
        token: VerificationToken,
    ) -> AdapterResult<VerificationToken> {
        let clear = token.token.clone();
        let stored = VerificationToken {
            token: stored_key(&clear).into_owned(),
            ..token
        };
        let created = self.inner.create_verification_token(stored).await?;
        Ok(VerificationToken {
            token: clear,
            ..created
        })
    }

    async fn use_verification_token(
        &self,
        identifier: &str,
        token: &str,
    ) -> AdapterResult<Option<VerificationToken>> {
        let taken = self
            .inner
            .use_verification_token(identifier, &stored_key(token))
            .await?;
        Ok(taken.map(|taken| VerificationToken {
            token: token.to_owned(),
            ..taken
        }))
    }
}
