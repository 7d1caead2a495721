//! The suite tested: deliberately broken adapters ("mutants") around the memory adapter,
//! each with one bug that real adapters have shipped. Every mutant must be caught by the
//! scenario named beside it, and the same scenario must pass on the unbroken wrapper, so
//! the failure is the bug's doing. A mutant that survives means a scenario is too weak.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use adapter_conformance::backends::memory::MemoryInspector;
use adapter_conformance::{
    run_scenario, scenario, Backend, BoxError, Fixture, Inspector, Unreachable,
};
use auth_core::chrono::{DateTime, Duration as Span, Utc};
use auth_core::memory::MemoryAdapter;
use auth_core::{
    async_trait, normalize_email, Account, Adapter, AdapterError, AdapterResult, Authenticator,
    ErrorKind, ExpiredCounts, Session, SessionUpdate, User, UserUpdate, VerificationToken,
};

/// The one bug a mutant carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// No bug: the control.
    None,
    /// use_verification_token reads, yields, then deletes: concurrent callers all win.
    TokenTakenTwice,
    /// use_verification_token matches on the identifier only.
    WrongTokenAccepted,
    /// use_verification_token hands out expired tokens.
    ExpiredTokenAccepted,
    /// delete_user removes the user row and leaves its sessions, accounts, credentials.
    NoCascadeOnDeleteUser,
    /// get_session_and_user forgets `expires > now`.
    ExpiredSessionReturned,
    /// get_user_by_email compares the address exactly.
    CaseSensitiveEmail,
    /// create_session overwrites a session with the same token.
    DuplicateSessionOverwrites,
    /// link_account creates a placeholder user instead of refusing.
    AccountForMissingUser,
    /// update_user leaves the old email pointing at the user.
    StaleEmailIndex,
    /// delete_expired compares with the wrong unit and sweeps live sessions.
    SweepRemovesLiveSessions,
    /// update_account replaces the whole account, owner included.
    UpdateAccountMovesOwner,
    /// list_authenticators returns only the first credential.
    ListAuthenticatorsIncomplete,
    /// migrate() drops and recreates the tables.
    MigrateDropsData,
    /// A dead server makes calls retry for seconds instead of failing in time.
    DeadServerHangs,
}

/// The memory adapter with one fault injected. Clones share state.
#[derive(Debug)]
struct Mutant {
    inner: MemoryAdapter,
    fault: Fault,
    /// What NoCascadeOnDeleteUser failed to delete.
    orphans: Mutex<Vec<Session>>,
    /// Old normalized email → user id, for StaleEmailIndex.
    stale_emails: Mutex<HashMap<String, String>>,
}

impl Mutant {
    fn new(fault: Fault) -> Self {
        Self {
            inner: MemoryAdapter::new(),
            fault,
            orphans: Mutex::default(),
            stale_emails: Mutex::default(),
        }
    }

    fn is(&self, fault: Fault) -> bool {
        self.fault == fault
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[async_trait]
impl Adapter for Mutant {
    async fn create_user(&self, user: User) -> AdapterResult<User> {
        self.inner.create_user(user).await
    }

    async fn get_user(&self, id: &str) -> AdapterResult<Option<User>> {
        self.inner.get_user(id).await
    }

    async fn get_user_by_email(&self, email: &str) -> AdapterResult<Option<User>> {
        if self.is(Fault::CaseSensitiveEmail) {
            let users = self.inner.snapshot().users;
            return Ok(users
                .into_values()
                .find(|u| u.email.as_deref() == Some(email)));
        }
        if let Some(user) = self.inner.get_user_by_email(email).await? {
            return Ok(Some(user));
        }
        let stale = lock(&self.stale_emails)
            .get(&normalize_email(email))
            .cloned();
        match stale {
            Some(id) if self.is(Fault::StaleEmailIndex) => self.inner.get_user(&id).await,
            _ => Ok(None),
        }
    }

    async fn get_user_by_account(&self, provider: &str, id: &str) -> AdapterResult<Option<User>> {
        self.inner.get_user_by_account(provider, id).await
    }

    async fn update_user(&self, update: UserUpdate) -> AdapterResult<User> {
        let before = self.inner.get_user(&update.id).await?;
        let after = self.inner.update_user(update).await?;
        if let Some(old) = before.and_then(|u| u.email) {
            lock(&self.stale_emails).insert(normalize_email(&old), after.id.clone());
        }
        Ok(after)
    }

    async fn delete_user(&self, id: &str) -> AdapterResult<Option<User>> {
        if self.is(Fault::NoCascadeOnDeleteUser) {
            let left_behind: Vec<Session> = self
                .inner
                .snapshot()
                .sessions
                .into_values()
                .filter(|s| s.user_id == id)
                .collect();
            lock(&self.orphans).extend(left_behind);
        }
        self.inner.delete_user(id).await
    }

    async fn link_account(&self, account: Account) -> AdapterResult<Account> {
        if self.is(Fault::AccountForMissingUser)
            && self.inner.get_user(&account.user_id).await?.is_none()
        {
            self.inner
                .create_user(User::with_id(account.user_id.as_str()))
                .await?;
        }
        self.inner.link_account(account).await
    }

    async fn unlink_account(&self, provider: &str, id: &str) -> AdapterResult<Option<Account>> {
        self.inner.unlink_account(provider, id).await
    }

    async fn get_account(&self, provider: &str, id: &str) -> AdapterResult<Option<Account>> {
        self.inner.get_account(provider, id).await
    }

    async fn update_account(&self, account: Account) -> AdapterResult<Option<Account>> {
        if self.is(Fault::UpdateAccountMovesOwner) {
            let removed = self
                .inner
                .unlink_account(&account.provider, &account.provider_account_id)
                .await?;
            return match removed {
                Some(_) => self.inner.link_account(account).await.map(Some),
                None => Ok(None),
            };
        }
        self.inner.update_account(account).await
    }

    async fn create_session(&self, session: Session) -> AdapterResult<Session> {
        match self.inner.create_session(session.clone()).await {
            Err(e)
                if e.kind() == ErrorKind::Conflict
                    && self.is(Fault::DuplicateSessionOverwrites) =>
            {
                self.inner.delete_session(&session.session_token).await?;
                self.inner.create_session(session).await
            }
            other => other,
        }
    }

    async fn get_session_and_user(&self, token: &str) -> AdapterResult<Option<(Session, User)>> {
        if self.is(Fault::ExpiredSessionReturned) {
            let store = self.inner.snapshot();
            return Ok(store
                .sessions
                .get(token)
                .and_then(|s| Some((s.clone(), store.users.get(&s.user_id)?.clone()))));
        }
        self.inner.get_session_and_user(token).await
    }

    async fn update_session(&self, update: SessionUpdate) -> AdapterResult<Option<Session>> {
        self.inner.update_session(update).await
    }

    async fn delete_session(&self, token: &str) -> AdapterResult<Option<Session>> {
        self.inner.delete_session(token).await
    }

    async fn list_sessions(&self, user_id: &str) -> AdapterResult<Vec<Session>> {
        let mut sessions = self.inner.list_sessions(user_id).await?;
        sessions.extend(
            lock(&self.orphans)
                .iter()
                .filter(|s| s.user_id == user_id)
                .cloned(),
        );
        Ok(sessions)
    }

    async fn delete_sessions(&self, user_id: &str) -> AdapterResult<u64> {
        self.inner.delete_sessions(user_id).await
    }

    async fn create_verification_token(
        &self,
        token: VerificationToken,
    ) -> AdapterResult<VerificationToken> {
        self.inner.create_verification_token(token).await
    }

    async fn use_verification_token(
        &self,
        identifier: &str,
        token: &str,
    ) -> AdapterResult<Option<VerificationToken>> {
        let tokens = self.inner.snapshot().verification_tokens;
        match self.fault {
            Fault::TokenTakenTwice => {
                let found = tokens
                    .get(&(identifier.to_owned(), token.to_owned()))
                    .filter(|t| t.expires > Utc::now())
                    .cloned();
                tokio::task::yield_now().await;
                self.inner.use_verification_token(identifier, token).await?;
                Ok(found)
            }
            Fault::WrongTokenAccepted => {
                let Some(found) = tokens.into_values().find(|t| t.identifier == identifier) else {
                    return Ok(None);
                };
                self.inner
                    .use_verification_token(identifier, &found.token)
                    .await
            }
            Fault::ExpiredTokenAccepted => {
                let found = tokens
                    .get(&(identifier.to_owned(), token.to_owned()))
                    .cloned();
                self.inner.use_verification_token(identifier, token).await?;
                Ok(found)
            }
            _ => self.inner.use_verification_token(identifier, token).await,
        }
    }

    async fn create_authenticator(&self, a: Authenticator) -> AdapterResult<Authenticator> {
        self.inner.create_authenticator(a).await
    }

    async fn get_authenticator(&self, id: &str) -> AdapterResult<Option<Authenticator>> {
        self.inner.get_authenticator(id).await
    }

    async fn list_authenticators(&self, user_id: &str) -> AdapterResult<Vec<Authenticator>> {
        let mut all = self.inner.list_authenticators(user_id).await?;
        if self.is(Fault::ListAuthenticatorsIncomplete) {
            all.truncate(1);
        }
        Ok(all)
    }

    async fn update_authenticator_counter(
        &self,
        id: &str,
        counter: i64,
    ) -> AdapterResult<Authenticator> {
        self.inner.update_authenticator_counter(id, counter).await
    }

    async fn delete_expired(&self, now: DateTime<Utc>) -> AdapterResult<ExpiredCounts> {
        let cutoff = if self.is(Fault::SweepRemovesLiveSessions) {
            now + Span::days(31)
        } else {
            now
        };
        self.inner.delete_expired(cutoff).await
    }
}

/// Reads the mutant's real store, plus what a no-cascade delete left behind.
struct MutantInspector(Arc<Mutant>);

#[async_trait]
impl Inspector for MutantInspector {
    async fn stored_user(&self, id: &str) -> Result<Option<User>, BoxError> {
        MemoryInspector(self.0.inner.clone()).stored_user(id).await
    }

    async fn stored_account(&self, provider: &str, id: &str) -> Result<Option<Account>, BoxError> {
        MemoryInspector(self.0.inner.clone())
            .stored_account(provider, id)
            .await
    }

    async fn stored_session(&self, token: &str) -> Result<Option<Session>, BoxError> {
        let orphan = lock(&self.0.orphans)
            .iter()
            .find(|s| s.session_token == token)
            .cloned();
        match orphan {
            Some(session) => Ok(Some(session)),
            None => {
                MemoryInspector(self.0.inner.clone())
                    .stored_session(token)
                    .await
            }
        }
    }

    async fn stored_verification_token(
        &self,
        identifier: &str,
        token: &str,
    ) -> Result<Option<VerificationToken>, BoxError> {
        MemoryInspector(self.0.inner.clone())
            .stored_verification_token(identifier, token)
            .await
    }

    async fn stored_authenticator(&self, id: &str) -> Result<Option<Authenticator>, BoxError> {
        MemoryInspector(self.0.inner.clone())
            .stored_authenticator(id)
            .await
    }

    async fn migrate(&self) -> Result<(), AdapterError> {
        if self.0.is(Fault::MigrateDropsData) {
            for id in self.0.inner.snapshot().users.into_keys() {
                self.0.inner.delete_user(&id).await?;
            }
        }
        Ok(())
    }

    async fn unreachable(&self) -> Unreachable {
        let dead = MemoryInspector(MemoryAdapter::new()).unreachable().await;
        if self.0.is(Fault::DeadServerHangs) {
            tokio::time::sleep(Duration::from_secs(4)).await;
        }
        dead
    }

    async fn teardown(&self) -> Result<(), BoxError> {
        Ok(())
    }
}

#[derive(Debug)]
struct MutantBackend(Fault);

#[async_trait]
impl Backend for MutantBackend {
    async fn fixture(&self) -> Result<Fixture, BoxError> {
        let mutant = Arc::new(Mutant::new(self.0));
        Ok(Fixture {
            adapter: mutant.clone(),
            inspector: Box::new(MutantInspector(mutant)),
        })
    }
}

async fn assert_caught(fault: Fault, scenario_name: &str) {
    let Some(scenario) = scenario(scenario_name) else {
        panic!("no scenario named {scenario_name}");
    };
    let control = run_scenario(&MutantBackend(Fault::None), scenario).await;
    assert!(
        control.passed(),
        "{scenario_name} fails on the unbroken wrapper: {:?}",
        control.error
    );
    let result = run_scenario(&MutantBackend(fault), scenario).await;
    match result.error {
        Some(why) => println!("{fault:?} caught by {scenario_name}: {why}"),
        None => panic!("mutant {fault:?} SURVIVED {scenario_name}: the scenario is too weak"),
    }
}

macro_rules! mutants_caught {
    ($($test:ident: $fault:ident by $scenario:ident;)*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() {
                assert_caught(Fault::$fault, stringify!($scenario)).await;
            }
        )*
    };
}

mutants_caught! {
    token_taken_twice: TokenTakenTwice by s15_concurrent_token_use_has_one_winner;
    wrong_token_accepted: WrongTokenAccepted by s14_wrong_token_is_refused;
    expired_token_accepted: ExpiredTokenAccepted by s19_expired_records_are_never_returned;
    no_cascade_on_delete_user: NoCascadeOnDeleteUser by s11_delete_user_removes_sessions_and_accounts;
    no_cascade_on_delete_user_full: NoCascadeOnDeleteUser by s18_delete_user_cascades_everything;
    no_cascade_session_list: NoCascadeOnDeleteUser by s27_session_of_deleted_user_is_gone;
    expired_session_returned: ExpiredSessionReturned by s19_expired_records_are_never_returned;
    case_sensitive_email: CaseSensitiveEmail by s23_email_is_case_insensitive;
    duplicate_session_overwrites: DuplicateSessionOverwrites by s17_duplicates_conflict;
    account_for_missing_user: AccountForMissingUser by s21_unknown_user_is_not_found;
    stale_email_index: StaleEmailIndex by s20_update_user_moves_email;
    sweep_removes_live_sessions: SweepRemovesLiveSessions by s19_expired_records_are_never_returned;
    update_account_moves_owner: UpdateAccountMovesOwner by s26_update_account_replaces_tokens;
    list_authenticators_incomplete: ListAuthenticatorsIncomplete by s13_authenticators;
    migrate_drops_data: MigrateDropsData by s29_migrate_is_idempotent;
    dead_server_hangs: DeadServerHangs by s28_unreachable_server_fails_fast;
}
