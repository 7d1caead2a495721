//! The in-memory reference adapter as a backend: always available, the suite's own
//! baseline.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use auth_core::memory::MemoryAdapter;
use auth_core::{Account, AdapterError, Authenticator, Session, User, VerificationToken};

use crate::fixture::{Backend, BoxError, Fixture, Inspector, Unreachable, UserRecords};
use crate::harness::{BackendSpec, Source};

/// The spec of the `memory` backend.
pub fn spec() -> BackendSpec {
    BackendSpec {
        name: "memory",
        source: Source::Embedded,
        open: |_| Box::pin(async { Ok(Arc::new(MemoryBackend) as Arc<dyn Backend>) }),
    }
}

/// Hands out a fresh [`MemoryAdapter`] per scenario.
#[derive(Debug, Clone, Copy, Default)]
pub struct MemoryBackend;

#[async_trait]
impl Backend for MemoryBackend {
    async fn fixture(&self) -> Result<Fixture, BoxError> {
        Ok(fixture_for(MemoryAdapter::new()))
    }
}

/// A fixture around an existing memory adapter (the mutant tests wrap it).
pub fn fixture_for(adapter: MemoryAdapter) -> Fixture {
    Fixture {
        adapter: Arc::new(adapter.clone()),
        inspector: Box::new(MemoryInspector(adapter)),
    }
}

/// Reads a [`MemoryAdapter`]'s maps directly through its snapshot.
#[derive(Debug, Clone)]
pub struct MemoryInspector(pub MemoryAdapter);

fn pair(a: &str, b: &str) -> (String, String) {
    (a.to_owned(), b.to_owned())
}

#[async_trait]
impl Inspector for MemoryInspector {
    async fn stored_user(&self, id: &str) -> Result<Option<User>, BoxError> {
        Ok(self.0.snapshot().users.get(id).cloned())
    }

    async fn stored_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> Result<Option<Account>, BoxError> {
        Ok(self
            .0
            .snapshot()
            .accounts
            .get(&pair(provider, provider_account_id))
            .cloned())
    }

    async fn stored_session(&self, session_token: &str) -> Result<Option<Session>, BoxError> {
        Ok(self.0.snapshot().sessions.get(session_token).cloned())
    }

    async fn stored_verification_token(
        &self,
        identifier: &str,
        token: &str,
    ) -> Result<Option<VerificationToken>, BoxError> {
        Ok(self
            .0
            .snapshot()
            .verification_tokens
            .get(&pair(identifier, token))
            .cloned())
    }

    async fn stored_authenticator(
        &self,
        credential_id: &str,
    ) -> Result<Option<Authenticator>, BoxError> {
        Ok(self.0.snapshot().authenticators.get(credential_id).cloned())
    }

    async fn records_of_user(&self, user_id: &str) -> Result<UserRecords, BoxError> {
        let store = self.0.snapshot();
        Ok(UserRecords {
            accounts: store
                .accounts
                .into_values()
                .filter(|a| a.user_id == user_id)
                .collect(),
            sessions: store
                .sessions
                .into_values()
                .filter(|s| s.user_id == user_id)
                .collect(),
            authenticators: store
                .authenticators
                .into_values()
                .filter(|a| a.user_id == user_id)
                .collect(),
        })
    }

    async fn dump(&self) -> Result<Vec<String>, BoxError> {
        let store = self.0.snapshot();
        let mut out = Vec::new();
        // JSON of every key and record: the models' `Debug` would redact the tokens.
        for (key, value) in &store.users {
            out.extend([key.clone(), serde_json::to_string(value)?]);
        }
        for ((a, b), value) in &store.accounts {
            out.extend([a.clone(), b.clone(), serde_json::to_string(value)?]);
        }
        for (key, value) in &store.emails {
            out.extend([key.clone(), value.clone()]);
        }
        for (key, value) in &store.sessions {
            out.extend([key.clone(), serde_json::to_string(value)?]);
        }
        for ((a, b), value) in &store.verification_tokens {
            out.extend([a.clone(), b.clone(), serde_json::to_string(value)?]);
        }
        for (key, value) in &store.authenticators {
            out.extend([key.clone(), serde_json::to_string(value)?]);
        }
        Ok(out)
    }

    async fn migrate(&self) -> Result<(), AdapterError> {
        Ok(())
    }

    async fn unreachable(&self) -> Unreachable {
        let adapter = MemoryAdapter::new();
        adapter.simulate_outage(true);
        Unreachable {
            timeout: Duration::from_millis(100),
            adapter: Ok(Arc::new(adapter)),
        }
    }

    async fn teardown(&self) -> Result<(), BoxError> {
        Ok(())
    }
}
