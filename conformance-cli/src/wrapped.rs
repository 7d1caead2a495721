//! The at-rest wrappers of auth-core ([`HashedTokens`] and [`EncryptedAccountTokens`])
//! over in-tree backends, both wrappers on each, in both orders:
//!
//! | backend                      | adapter the scenarios get                       |
//! |------------------------------|-------------------------------------------------|
//! | `memory+hashed+sealed`       | `HashedTokens<EncryptedAccountTokens<memory>>`  |
//! | `sqlite-file+sealed+hashed`  | `EncryptedAccountTokens<HashedTokens<sqlite>>`  |
//! | `postgres+hashed+sealed`     | `HashedTokens<EncryptedAccountTokens<postgres>>`|
//! | `redis+sealed+hashed`        | `EncryptedAccountTokens<HashedTokens<redis>>`   |
//!
//! Each fixture gets a fresh key ring of two random keys (a current one and an old one).
//! The server ones take their server from the same place as the plain backend (the same
//! environment variable or container).
//!
//! The scenarios run unchanged. Two things translate between the tokens a scenario holds
//! and what the wrapped storage holds, exactly as the inspector of a plain backend decodes
//! its rows: the [`Inspector`] hashes a token before it reads raw storage and opens the
//! sealed account tokens it finds; and since `list_sessions` of a hashing adapter gives the
//! stored hashes (the clear token exists only in the caller's hands), the fixture's adapter
//! maps each listed hash back to the token this fixture's scenario created it with. Both
//! only rename what the wrapped adapter returned; they never answer for it.
//! [`Inspector::dump`] does not translate: it shows what a stolen copy holds.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use auth_core::at_rest::{token_hash, EncryptedAccountTokens, HashedTokens, KeyRing};
use auth_core::forward::ForwardAdapter;
use auth_core::validate::Field;
use auth_core::{
    Account, Adapter, AdapterError, AdapterResult, Authenticator, Session, User, VerificationToken,
};

use adapter_conformance::harness::{BackendSpec, OpenFn};
use adapter_conformance::{Backend, BoxError, Fixture, Inspector, Unreachable, UserRecords};

/// Which wrapper is outermost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// `HashedTokens<EncryptedAccountTokens<inner>>`.
    HashedOutside,
    /// `EncryptedAccountTokens<HashedTokens<inner>>`.
    SealedOutside,
}

/// Every wrapped backend compiled into this build, in report order (each right after the
/// plain ones, see [`all`](super::all)).
pub(crate) fn specs() -> Vec<BackendSpec> {
    #[allow(unused_mut)]
    let mut specs = vec![memory_spec()];
    specs.extend([sqlite_file_spec(), postgres_spec()]);
    specs.push(redis_spec());
    specs
}

/// The spec `name`, on the server of `plain`, opened by `open`.
fn wrap(name: &'static str, plain: BackendSpec, open: OpenFn) -> BackendSpec {
    BackendSpec {
        name,
        source: plain.source,
        open,
    }
}

/// `memory+hashed+sealed`.
pub fn memory_spec() -> BackendSpec {
    wrap("memory+hashed+sealed", super::memory::spec(), |url| {
        Box::pin(async move {
            let plain = (super::memory::spec().open)(url).await?;
            Ok(WrappedBackend::shared(plain, Order::HashedOutside))
        })
    })
}

/// `sqlite-file+sealed+hashed`.
pub fn sqlite_file_spec() -> BackendSpec {
    wrap(
        "sqlite-file+sealed+hashed",
        super::sqlx::sqlite_file_spec(),
        |url| {
            Box::pin(async move {
                let plain = (super::sqlx::sqlite_file_spec().open)(url).await?;
                Ok(WrappedBackend::shared(plain, Order::SealedOutside))
            })
        },
    )
}

/// `postgres+hashed+sealed`, on the server of `AUTH_TEST_POSTGRES_URL` (or a container).
pub fn postgres_spec() -> BackendSpec {
    wrap(
        "postgres+hashed+sealed",
        super::sqlx::postgres_spec(),
        |url| {
            Box::pin(async move {
                let plain = (super::sqlx::postgres_spec().open)(url).await?;
                Ok(WrappedBackend::shared(plain, Order::HashedOutside))
            })
        },
    )
}

/// `redis+sealed+hashed`, on the server of `AUTH_TEST_REDIS_URL` (or a container).
pub fn redis_spec() -> BackendSpec {
    wrap("redis+sealed+hashed", super::redis::redis_spec(), |url| {
        Box::pin(async move {
            let plain = (super::redis::redis_spec().open)(url).await?;
            Ok(WrappedBackend::shared(plain, Order::SealedOutside))
        })
    })
}

/// A plain backend whose fixtures come wrapped.
#[derive(Debug)]
pub struct WrappedBackend {
    plain: Arc<dyn Backend>,
    order: Order,
}

impl WrappedBackend {
    /// Wraps every fixture of `plain` in both wrappers, `order` telling which is outside.
    pub fn shared(plain: Arc<dyn Backend>, order: Order) -> Arc<dyn Backend> {
        Arc::new(Self { plain, order })
    }
}

/// A fresh ring: a random current key and a random old one, so both paths are live.
fn fresh_ring() -> Arc<KeyRing> {
    let ring = KeyRing::new("current", *KeyRing::generate_key())
        .and_then(|ring| ring.with_old_key("previous", *KeyRing::generate_key()));
    match ring {
        Ok(ring) => Arc::new(ring),
        // Both ids are constants that satisfy the rule.
        Err(e) => panic!("the fixture's key ring: {e}"),
    }
}

/// `adapter` in both wrappers.
pub fn wrap_adapter(
    adapter: Arc<dyn Adapter>,
    order: Order,
    keys: Arc<KeyRing>,
) -> Arc<dyn Adapter> {
    match order {
        Order::HashedOutside => Arc::new(HashedTokens::new(EncryptedAccountTokens::from_arc(
            adapter, keys,
        ))),
        Order::SealedOutside => Arc::new(EncryptedAccountTokens::new(
            HashedTokens::from_arc(adapter),
            keys,
        )),
    }
}

#[async_trait]
impl Backend for WrappedBackend {
    async fn fixture(&self) -> Result<Fixture, BoxError> {
        let plain = self.plain.fixture().await?;
        let keys = fresh_ring();
        let tokens = TokenMemo::default();
        let wrapped = wrap_adapter(plain.adapter, self.order, keys.clone());
        Ok(Fixture {
            adapter: Arc::new(ClearView {
                inner: wrapped,
                tokens: tokens.clone(),
            }),
            inspector: Box::new(WrappedInspector {
                plain: plain.inspector,
                keys,
                tokens,
                order: self.order,
            }),
        })
    }
}

/// The session tokens this fixture's scenario handed to the adapter, by their hash.
#[derive(Debug, Clone, Default)]
struct TokenMemo(Arc<Mutex<HashMap<String, String>>>);

impl TokenMemo {
    fn note(&self, token: &str) {
        if Field::Key.admits(token) {
            self.0
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .insert(token_hash(token), token.to_owned());
        }
    }

    /// The session with the token its stored hash stands for, when this fixture saw it.
    fn clear(&self, mut session: Session) -> Session {
        let memo = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(token) = memo.get(&session.session_token) {
            session.session_token.clone_from(token);
        }
        session
    }
}

/// Raw reads of the wrapped storage in the scenario's terms: tokens hashed on the way in,
/// account tokens opened on the way out. `dump` is the plain inspector's, untranslated.
struct WrappedInspector {
    plain: Box<dyn Inspector>,
    keys: Arc<KeyRing>,
    tokens: TokenMemo,
    order: Order,
}

/// What the wrapper stores for a token (the token itself when no backend could store it).
fn key_of(token: &str) -> String {
    if Field::Key.admits(token) {
        token_hash(token)
    } else {
        token.to_owned()
    }
}

#[async_trait]
impl Inspector for WrappedInspector {
    async fn stored_user(&self, id: &str) -> Result<Option<User>, BoxError> {
        self.plain.stored_user(id).await
    }

    async fn stored_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> Result<Option<Account>, BoxError> {
        let stored = self
            .plain
            .stored_account(provider, provider_account_id)
            .await?;
        Ok(stored.map(|a| self.keys.open_account(a)).transpose()?)
    }

    async fn stored_session(&self, session_token: &str) -> Result<Option<Session>, BoxError> {
        let stored = self.plain.stored_session(&key_of(session_token)).await?;
        Ok(stored.map(|session| Session {
            session_token: session_token.to_owned(),
            ..session
        }))
    }

    async fn stored_verification_token(
        &self,
        identifier: &str,
        token: &str,
    ) -> Result<Option<VerificationToken>, BoxError> {
        let stored = self
            .plain
            .stored_verification_token(identifier, &key_of(token))
            .await?;
        Ok(stored.map(|stored| VerificationToken {
            token: token.to_owned(),
            ..stored
        }))
    }

    async fn stored_authenticator(
        &self,
        credential_id: &str,
    ) -> Result<Option<Authenticator>, BoxError> {
        self.plain.stored_authenticator(credential_id).await
    }

    async fn records_of_user(&self, user_id: &str) -> Result<UserRecords, BoxError> {
        let records = self.plain.records_of_user(user_id).await?;
        Ok(UserRecords {
            accounts: records
                .accounts
                .into_iter()
                .map(|a| self.keys.open_account(a))
                .collect::<Result<_, _>>()?,
            sessions: records
                .sessions
                .into_iter()
                .map(|s| self.tokens.clear(s))
                .collect(),
            authenticators: records.authenticators,
        })
    }

    async fn dump(&self) -> Result<Vec<String>, BoxError> {
        self.plain.dump().await
    }

    async fn migrate(&self) -> Result<(), AdapterError> {
        self.plain.migrate().await
    }

    async fn unreachable(&self) -> Unreachable {
        let plain = self.plain.unreachable().await;
        Unreachable {
            timeout: plain.timeout,
            adapter: plain
                .adapter
                .map(|adapter| wrap_adapter(adapter, self.order, self.keys.clone())),
        }
    }

    async fn teardown(&self) -> Result<(), BoxError> {
        self.plain.teardown().await
    }
}

/// The wrapped adapter as the scenarios see it: every call goes to it unchanged; the
/// tokens of listed sessions are mapped back from their hashes (see the module docs).
struct ClearView {
    inner: Arc<dyn Adapter>,
    tokens: TokenMemo,
}

impl fmt::Debug for ClearView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

#[async_trait]
impl ForwardAdapter for ClearView {
    fn inner(&self) -> &dyn Adapter {
        &*self.inner
    }

    async fn create_session(&self, session: Session) -> AdapterResult<Session> {
        self.tokens.note(&session.session_token);
        self.inner.create_session(session).await
    }

    async fn list_sessions(&self, user_id: &str) -> AdapterResult<Vec<Session>> {
        let listed = self.inner.list_sessions(user_id).await?;
        Ok(listed.into_iter().map(|s| self.tokens.clear(s)).collect())
    }
}
auth_core::forward_adapter!(ClearView);
