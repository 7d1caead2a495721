//! What the suite needs from this backend, written with adapter-conformance's public API
//! only: a spec, a `Backend` that hands out a fresh store per scenario, and an `Inspector`
//! that reads the store's data directly (through `WrappedStore::snapshot`, never through the
//! adapter's read methods).

use std::sync::Arc;
use std::time::Duration;

use adapter_conformance::{
    Backend, BackendSpec, BoxError, Fixture, Inspector, Source, Unreachable, UserRecords,
};
use auth_core::{
    async_trait, Account, AdapterError, Authenticator, Session, User, VerificationToken,
};
use out_of_tree_backend::{Flaw, WrappedStore};

/// The backend as the suite sees it: embedded, always available.
pub fn spec() -> BackendSpec {
    BackendSpec {
        name: "wrapped-memory",
        source: Source::Embedded,
        open: |_url| {
            Box::pin(async { Ok(Arc::new(WrappedBackend::default()) as Arc<dyn Backend>) })
        },
    }
}

/// Hands out a fresh, empty store per scenario, carrying `flaw`.
#[derive(Debug, Default, Clone, Copy)]
pub struct WrappedBackend {
    /// The deliberate bug of every store it hands out (`Flaw::None` for the real one).
    pub flaw: Flaw,
}

#[async_trait]
impl Backend for WrappedBackend {
    async fn fixture(&self) -> Result<Fixture, BoxError> {
        let store = WrappedStore::with_flaw(self.flaw);
        store.migrate().await?;
        Ok(Fixture {
            adapter: Arc::new(store.clone()),
            inspector: Box::new(WrappedInspector(store)),
        })
    }
}

/// Raw reads of one store.
#[derive(Debug)]
pub struct WrappedInspector(WrappedStore);

fn pair(a: &str, b: &str) -> (String, String) {
    (a.to_owned(), b.to_owned())
}

#[async_trait]
impl Inspector for WrappedInspector {
    async fn stored_user(&self, id: &str) -> Result<Option<User>, BoxError> {
        Ok(self.0.snapshot().users.get(id).cloned())
    }

    async fn stored_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> Result<Option<Account>, BoxError> {
        let key = pair(provider, provider_account_id);
        Ok(self.0.snapshot().accounts.get(&key).cloned())
    }

    async fn stored_session(&self, session_token: &str) -> Result<Option<Session>, BoxError> {
        Ok(self.0.snapshot().sessions.get(session_token).cloned())
    }

    async fn stored_verification_token(
        &self,
        identifier: &str,
        token: &str,
    ) -> Result<Option<VerificationToken>, BoxError> {
        let key = pair(identifier, token);
        Ok(self.0.snapshot().verification_tokens.get(&key).cloned())
    }

    async fn stored_authenticator(
        &self,
        credential_id: &str,
    ) -> Result<Option<Authenticator>, BoxError> {
        Ok(self.0.snapshot().authenticators.get(credential_id).cloned())
    }

    async fn records_of_user(&self, user_id: &str) -> Result<UserRecords, BoxError> {
        let data = self.0.snapshot();
        Ok(UserRecords {
            accounts: data
                .accounts
                .into_values()
                .filter(|a| a.user_id == user_id)
                .collect(),
            sessions: data
                .sessions
                .into_values()
                .filter(|s| s.user_id == user_id)
                .collect(),
            authenticators: data
                .authenticators
                .into_values()
                .filter(|a| a.user_id == user_id)
                .collect(),
        })
    }

    async fn migrate(&self) -> Result<(), AdapterError> {
        self.0.migrate().await
    }

    async fn unreachable(&self) -> Unreachable {
        let store = WrappedStore::new();
        store.simulate_outage(true);
        Unreachable {
            timeout: Duration::from_millis(100),
            adapter: Ok(Arc::new(store)),
        }
    }

    async fn teardown(&self) -> Result<(), BoxError> {
        Ok(())
    }
}
