//! The scenarios on a layout whose database assigns the user ids (a `SERIAL` column, an
//! `ObjectId`), as the Auth.js layouts do.
//!
//! The scenarios name their users (`"user-17"`) and expect `create_user` to keep the name.
//! A layout that assigns ids ignores it and returns the user with the id it got (the
//! contract's rule for such layouts). [`AssignedIds`] keeps the two apart for one fixture:
//! it notes which stored id each scenario id became, and renames ids on the way in (the
//! scenario's name to the stored id) and on the way out (back). Every call still goes to
//! the adapter under test, once, with its answer renamed and nothing else changed; an id
//! the fixture never created passes through as it is, so unknown and malformed ids reach
//! the adapter untouched. [`MappedInspector`] does the same for raw reads.
//!
//! What renaming cannot paper over — a repeated user id is a new user, not a `Conflict` —
//! is a scenario the layout fails, listed in its backend's [`gaps`](crate::Backend::gaps).
//!
//! ```
//! use std::sync::Arc;
//! use adapter_conformance::backends::assigned_ids::{AssignedIds, IdMap};
//! use auth_core::{memory::MemoryAdapter, Adapter, User};
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let ids = IdMap::default();
//! let adapter = AssignedIds::new(Arc::new(MemoryAdapter::new()), ids.clone());
//! let user = adapter.create_user(User::with_id("user-1")).await.unwrap();
//! assert_eq!(user.id, "user-1");
//! assert_eq!(ids.stored("user-1"), "user-1"); // memory keeps the id it is given
//! # });
//! ```

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use auth_core::forward::ForwardAdapter;
use auth_core::{
    Account, Adapter, AdapterError, AdapterResult, Authenticator, Session, SessionUpdate, User,
    UserUpdate, VerificationToken,
};

use crate::fixture::{BoxError, Fixture, Inspector, Unreachable, UserRecords};

/// Which stored id each scenario id became, for one fixture (cheap to clone: shared).
#[derive(Debug, Clone, Default)]
pub struct IdMap(Arc<Mutex<Ids>>);

#[derive(Debug, Default)]
struct Ids {
    stored_of: HashMap<String, String>,
    scenario_of: HashMap<String, String>,
}

impl IdMap {
    fn lock(&self) -> MutexGuard<'_, Ids> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Notes that the user the scenario calls `scenario_id` is stored as `stored_id`.
    pub fn note(&self, scenario_id: &str, stored_id: &str) {
        let mut ids = self.lock();
        ids.stored_of
            .insert(scenario_id.to_owned(), stored_id.to_owned());
        ids.scenario_of
            .insert(stored_id.to_owned(), scenario_id.to_owned());
    }

    /// The stored id of the scenario's `id` (`id` itself when the fixture never created it).
    pub fn stored(&self, id: &str) -> String {
        self.lock()
            .stored_of
            .get(id)
            .cloned()
            .unwrap_or_else(|| id.to_owned())
    }

    /// The scenario's name for the stored `id` (`id` itself when it is not one of the
    /// fixture's).
    pub fn scenario(&self, id: &str) -> String {
        self.lock()
            .scenario_of
            .get(id)
            .cloned()
            .unwrap_or_else(|| id.to_owned())
    }

    fn user_out(&self, user: User) -> User {
        User {
            id: self.scenario(&user.id),
            ..user
        }
    }

    fn account_in(&self, account: Account) -> Account {
        Account {
            user_id: self.stored(&account.user_id),
            ..account
        }
    }

    fn account_out(&self, account: Account) -> Account {
        Account {
            user_id: self.scenario(&account.user_id),
            ..account
        }
    }

    fn session_in(&self, session: Session) -> Session {
        Session {
            user_id: self.stored(&session.user_id),
            ..session
        }
    }

    fn session_out(&self, session: Session) -> Session {
        Session {
            user_id: self.scenario(&session.user_id),
            ..session
        }
    }

    fn authenticator_in(&self, authenticator: Authenticator) -> Authenticator {
        Authenticator {
            user_id: self.stored(&authenticator.user_id),
            ..authenticator
        }
    }

    fn authenticator_out(&self, authenticator: Authenticator) -> Authenticator {
        Authenticator {
            user_id: self.scenario(&authenticator.user_id),
            ..authenticator
        }
    }
}

/// An adapter whose database assigns user ids, as the scenarios see it (module docs).
pub struct AssignedIds {
    inner: Arc<dyn Adapter>,
    ids: IdMap,
}

impl AssignedIds {
    /// Renames ids between the scenarios and `inner`, noting them in `ids`.
    pub fn new(inner: Arc<dyn Adapter>, ids: IdMap) -> Self {
        Self { inner, ids }
    }

    /// The fixture of a layout that assigns ids: `adapter` and `inspector` both renamed
    /// through one fresh map.
    pub fn fixture(adapter: Arc<dyn Adapter>, inspector: Box<dyn Inspector>) -> Fixture {
        let ids = IdMap::default();
        Fixture {
            adapter: Arc::new(Self::new(adapter, ids.clone())),
            inspector: Box::new(MappedInspector {
                inner: inspector,
                ids,
            }),
        }
    }
}

impl fmt::Debug for AssignedIds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

#[async_trait]
impl ForwardAdapter for AssignedIds {
    fn inner(&self) -> &dyn Adapter {
        &*self.inner
    }

    async fn create_user(&self, user: User) -> AdapterResult<User> {
        let scenario_id = user.id.clone();
        let stored = self.inner.create_user(user).await?;
        self.ids.note(&scenario_id, &stored.id);
        Ok(User {
            id: scenario_id,
            ..stored
        })
    }

    async fn get_user(&self, id: &str) -> AdapterResult<Option<User>> {
        let found = self.inner.get_user(&self.ids.stored(id)).await?;
        Ok(found.map(|u| self.ids.user_out(u)))
    }

    async fn get_user_by_email(&self, email: &str) -> AdapterResult<Option<User>> {
        let found = self.inner.get_user_by_email(email).await?;
        Ok(found.map(|u| self.ids.user_out(u)))
    }

    async fn get_user_by_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<User>> {
        let found = self
            .inner
            .get_user_by_account(provider, provider_account_id)
            .await?;
        Ok(found.map(|u| self.ids.user_out(u)))
    }

    async fn update_user(&self, update: UserUpdate) -> AdapterResult<User> {
        let update = UserUpdate {
            id: self.ids.stored(&update.id),
            ..update
        };
        Ok(self.ids.user_out(self.inner.update_user(update).await?))
    }

    async fn delete_user(&self, id: &str) -> AdapterResult<Option<User>> {
        let deleted = self.inner.delete_user(&self.ids.stored(id)).await?;
        Ok(deleted.map(|u| self.ids.user_out(u)))
    }

    async fn link_account(&self, account: Account) -> AdapterResult<Account> {
        let linked = self
            .inner
            .link_account(self.ids.account_in(account))
            .await?;
        Ok(self.ids.account_out(linked))
    }

    async fn unlink_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<Account>> {
        let removed = self
            .inner
            .unlink_account(provider, provider_account_id)
            .await?;
        Ok(removed.map(|a| self.ids.account_out(a)))
    }

    async fn get_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<Account>> {
        let found = self
            .inner
            .get_account(provider, provider_account_id)
            .await?;
        Ok(found.map(|a| self.ids.account_out(a)))
    }

    async fn update_account(&self, account: Account) -> AdapterResult<Option<Account>> {
        let updated = self
            .inner
            .update_account(self.ids.account_in(account))
            .await?;
        Ok(updated.map(|a| self.ids.account_out(a)))
    }

    async fn list_accounts(&self, user_id: &str) -> AdapterResult<Vec<Account>> {
        let listed = self.inner.list_accounts(&self.ids.stored(user_id)).await?;
        Ok(listed
            .into_iter()
            .map(|a| self.ids.account_out(a))
            .collect())
    }

    async fn create_session(&self, session: Session) -> AdapterResult<Session> {
        let created = self
            .inner
            .create_session(self.ids.session_in(session))
            .await?;
        Ok(self.ids.session_out(created))
    }

    async fn get_session_and_user(
        &self,
        session_token: &str,
    ) -> AdapterResult<Option<(Session, User)>> {
        let found = self.inner.get_session_and_user(session_token).await?;
        Ok(found.map(|(s, u)| (self.ids.session_out(s), self.ids.user_out(u))))
    }

    async fn update_session(&self, update: SessionUpdate) -> AdapterResult<Option<Session>> {
        let update = SessionUpdate {
            user_id: update.user_id.as_deref().map(|id| self.ids.stored(id)),
            ..update
        };
        let updated = self.inner.update_session(update).await?;
        Ok(updated.map(|s| self.ids.session_out(s)))
    }

    async fn delete_session(&self, session_token: &str) -> AdapterResult<Option<Session>> {
        let deleted = self.inner.delete_session(session_token).await?;
        Ok(deleted.map(|s| self.ids.session_out(s)))
    }

    async fn list_sessions(&self, user_id: &str) -> AdapterResult<Vec<Session>> {
        let listed = self.inner.list_sessions(&self.ids.stored(user_id)).await?;
        Ok(listed
            .into_iter()
            .map(|s| self.ids.session_out(s))
            .collect())
    }

    async fn delete_sessions(&self, user_id: &str) -> AdapterResult<u64> {
        self.inner.delete_sessions(&self.ids.stored(user_id)).await
    }

    async fn create_authenticator(
        &self,
        authenticator: Authenticator,
    ) -> AdapterResult<Authenticator> {
        let created = self
            .inner
            .create_authenticator(self.ids.authenticator_in(authenticator))
            .await?;
        Ok(self.ids.authenticator_out(created))
    }

    async fn get_authenticator(&self, credential_id: &str) -> AdapterResult<Option<Authenticator>> {
        let found = self.inner.get_authenticator(credential_id).await?;
        Ok(found.map(|a| self.ids.authenticator_out(a)))
    }

    async fn list_authenticators(&self, user_id: &str) -> AdapterResult<Vec<Authenticator>> {
        let listed = self
            .inner
            .list_authenticators(&self.ids.stored(user_id))
            .await?;
        Ok(listed
            .into_iter()
            .map(|a| self.ids.authenticator_out(a))
            .collect())
    }

    async fn update_authenticator_counter(
        &self,
        credential_id: &str,
        counter: i64,
    ) -> AdapterResult<Authenticator> {
        let updated = self
            .inner
            .update_authenticator_counter(credential_id, counter)
            .await?;
        Ok(self.ids.authenticator_out(updated))
    }

    async fn delete_authenticator(
        &self,
        credential_id: &str,
    ) -> AdapterResult<Option<Authenticator>> {
        let deleted = self.inner.delete_authenticator(credential_id).await?;
        Ok(deleted.map(|a| self.ids.authenticator_out(a)))
    }
}
auth_core::forward_adapter!(AssignedIds);

/// Raw reads of a layout that assigns ids, in the scenario's names (module docs).
pub struct MappedInspector {
    inner: Box<dyn Inspector>,
    ids: IdMap,
}

impl fmt::Debug for MappedInspector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MappedInspector")
            .field("ids", &self.ids)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Inspector for MappedInspector {
    async fn stored_user(&self, id: &str) -> Result<Option<User>, BoxError> {
        let found = self.inner.stored_user(&self.ids.stored(id)).await?;
        Ok(found.map(|u| self.ids.user_out(u)))
    }

    async fn stored_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> Result<Option<Account>, BoxError> {
        let found = self
            .inner
            .stored_account(provider, provider_account_id)
            .await?;
        Ok(found.map(|a| self.ids.account_out(a)))
    }

    async fn stored_session(&self, session_token: &str) -> Result<Option<Session>, BoxError> {
        let found = self.inner.stored_session(session_token).await?;
        Ok(found.map(|s| self.ids.session_out(s)))
    }

    async fn stored_verification_token(
        &self,
        identifier: &str,
        token: &str,
    ) -> Result<Option<VerificationToken>, BoxError> {
        self.inner
            .stored_verification_token(identifier, token)
            .await
    }

    async fn stored_authenticator(
        &self,
        credential_id: &str,
    ) -> Result<Option<Authenticator>, BoxError> {
        let found = self.inner.stored_authenticator(credential_id).await?;
        Ok(found.map(|a| self.ids.authenticator_out(a)))
    }

    async fn records_of_user(&self, user_id: &str) -> Result<UserRecords, BoxError> {
        let records = self
            .inner
            .records_of_user(&self.ids.stored(user_id))
            .await?;
        Ok(UserRecords {
            accounts: records
                .accounts
                .into_iter()
                .map(|a| self.ids.account_out(a))
                .collect(),
            sessions: records
                .sessions
                .into_iter()
                .map(|s| self.ids.session_out(s))
                .collect(),
            authenticators: records
                .authenticators
                .into_iter()
                .map(|a| self.ids.authenticator_out(a))
                .collect(),
        })
    }

    async fn dump(&self) -> Result<Vec<String>, BoxError> {
        self.inner.dump().await
    }

    async fn migrate(&self) -> Result<(), AdapterError> {
        self.inner.migrate().await
    }

    async fn unreachable(&self) -> Unreachable {
        self.inner.unreachable().await
    }

    async fn teardown(&self) -> Result<(), BoxError> {
        self.inner.teardown().await
    }

    fn location(&self) -> Option<crate::StorageLocation> {
        self.inner.location()
    }
}
