//! The suite tested: deliberately broken adapters ("mutants") around the memory adapter,
//! each with one bug that real adapters have shipped. Every mutant must be caught by the
//! scenario named beside it, and the same scenario must pass on the unbroken wrapper, so
//! the failure is the bug's doing. A mutant that survives means a scenario is too weak.
//!
//! Every scenario has at least one mutant named for it; `catch_matrix` runs every mutant
//! against every scenario and prints which scenarios catch which mutant.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use adapter_conformance::backends::memory::MemoryInspector;
use adapter_conformance::{
    run_scenario, scenario, Backend, BoxError, Fixture, Inspector, Unreachable, UserRecords,
    SCENARIOS,
};
use auth_core::chrono::{DateTime, Datelike, Duration as Span, Utc};
use auth_core::forward::ForwardAdapter;
use auth_core::memory::MemoryAdapter;
use auth_core::serde_json::Value;
use auth_core::{
    async_trait, normalize_email, Account, Adapter, AdapterError, AdapterResult, Authenticator,
    ErrorKind, ExpiredCounts, ExtraChange, Operation, Session, SessionUpdate, User, UserUpdate,
    VerificationToken,
};
use futures::StreamExt;

/// The one bug a mutant carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// No bug: the control.
    None,
    /// create_user drops the image.
    CreateDropsImage,
    /// get_user of the empty id is an error instead of None.
    EmptyIdIsError,
    /// get_user_by_email loses email_verified.
    EmailLookupDropsVerified,
    /// get_session_and_user of an unknown token returns some live session.
    UnknownTokenFindsAny,
    /// update_user ignores a new name.
    UpdateIgnoresName,
    /// update_session ignores a new expiry.
    UpdateSessionIgnoresExpires,
    /// link_account does not store the id_token.
    LinkDropsIdToken,
    /// delete_session returns the session but keeps it.
    DeleteSessionKeepsRow,
    /// use_verification_token returns the token but keeps it.
    TokenUsableTwice,
    /// unlink_account returns the account but keeps it.
    UnlinkKeepsRow,
    /// get_account matches on the provider only.
    GetAccountByProviderOnly,
    /// list_authenticators returns only the first credential.
    ListAuthenticatorsIncomplete,
    /// use_verification_token matches on the identifier only.
    WrongTokenAccepted,
    /// use_verification_token reads, yields, then deletes: concurrent callers all win.
    TokenTakenTwice,
    /// create_user checks the email, yields, and reports success when it lost the race.
    LostRaceReportsSuccess,
    /// create_session overwrites a session with the same token.
    DuplicateSessionOverwrites,
    /// delete_user leaves the user's accounts behind.
    NoCascadeAccounts,
    /// delete_user leaves the user's sessions behind.
    NoCascadeSessions,
    /// delete_user leaves the user's authenticators behind.
    NoCascadeAuthenticators,
    /// use_verification_token hands out expired tokens.
    ExpiredTokenAccepted,
    /// get_session_and_user forgets `expires > now`.
    ExpiredSessionReturned,
    /// delete_expired compares with the wrong unit and sweeps live sessions.
    SweepRemovesLiveSessions,
    /// update_user leaves the old email pointing at the user.
    StaleEmailIndex,
    /// link_account creates a placeholder user instead of refusing.
    AccountForMissingUser,
    /// delete_session of a missing token is an error instead of None.
    DeleteMissingSessionErrors,
    /// get_user_by_email compares the address exactly.
    CaseSensitiveEmail,
    /// get_session_and_user treats `_` and `%` in a token as LIKE wildcards.
    WildcardTokens,
    /// Dates outside 1970–2038 (MySQL TIMESTAMP's range) are stored as NULL.
    FarDatesDropped,
    /// update_account replaces the whole account, owner included.
    UpdateAccountMovesOwner,
    /// A dead server makes calls retry for seconds instead of failing in time.
    DeadServerHangs,
    /// migrate() drops and recreates the tables.
    MigrateDropsData,
    /// A duplicate session token's error quotes the token.
    DuplicateErrorQuotesKey,
    /// update_session extends an expired session (revives it).
    ExpiredSessionRevived,
    /// link_account checks the user, yields, inserts: a concurrent delete leaves an orphan
    /// that blocks the provider account forever.
    OrphanAfterRace,
    /// update_session ignores a new owner.
    SessionOwnerIgnored,
    /// update_user ignores `Some(None)` for email_verified.
    EmailVerifiedClearIgnored,
    /// update_user reads, yields, then writes the whole user: a concurrent update is lost.
    LostUpdate,
    /// delete_sessions counts expired sessions too.
    CountsExpiredSessions,
    /// list_accounts returns only the first account.
    ListAccountsIncomplete,
    /// create_user asks the database something before it checks its input.
    PingBeforeValidate,
    /// create_user drops the user's extra fields.
    UserExtraDropped,
    /// create_user turns every integer in the extra fields into a float (as Lua's cjson and
    /// JavaScript do): i64::MAX loses its last digits.
    IntegersAsFloats,
    /// update_user replaces the extra fields where it should merge them.
    MergeReplacesExtra,
    /// update_user's merge ignores a field set to null instead of removing it.
    MergeIgnoresNulls,
    /// update_session ignores a change of the session's data.
    SessionDataIgnored,
    /// create_user drops extra fields that break a rule instead of refusing them.
    ExtraRulesUnchecked,
    /// update_user writes the patch alone when the merged object is over the cap (silently
    /// losing the stored fields) instead of refusing.
    MergedCapUnchecked,
    /// link_account drops the rest of the token response.
    AccountExtraDropped,
    /// update_account keeps the old token response.
    UpdateAccountKeepsExtra,
    /// update_user that changes the email and the extra fields at once clears the name (a
    /// rare combination: no scenario sends both).
    EmailAndExtraDropName,
    /// update_session that moves a session to another user ignores a change of its data in
    /// the same call.
    MovedSessionLosesData,
    /// update_session reads the session, yields, then writes it back whole: a session
    /// deleted meanwhile comes back.
    UpdateResurrectsSession,
    /// unlink_account reads the account, yields, then deletes by key and returns what it
    /// read: two concurrent unlinks both report the removal.
    UnlinkReadThenDelete,
}

/// What a mutant's broken delete or racing insert left behind.
#[derive(Debug, Default)]
struct Leftovers {
    sessions: Vec<Session>,
    accounts: Vec<Account>,
    authenticators: Vec<Authenticator>,
}

/// The memory adapter with one fault injected.
#[derive(Debug)]
struct Mutant {
    inner: MemoryAdapter,
    fault: Fault,
    leftovers: Mutex<Leftovers>,
    /// Old normalized email → user id, for StaleEmailIndex.
    stale_emails: Mutex<Vec<(String, String)>>,
}

impl Mutant {
    fn new(fault: Fault, inner: MemoryAdapter) -> Self {
        Self {
            inner,
            fault,
            leftovers: Mutex::default(),
            stale_emails: Mutex::default(),
        }
    }

    fn is(&self, fault: Fault) -> bool {
        self.fault == fault
    }

    fn left(&self) -> std::sync::MutexGuard<'_, Leftovers> {
        lock(&self.leftovers)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Every integer in `value` made a float, as a JSON engine with only doubles would.
fn as_floats(value: &mut Value) {
    match value {
        Value::Number(n) if !n.is_f64() => {
            if let Some(float) = n.as_f64().and_then(auth_core::serde_json::Number::from_f64) {
                *n = float;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(as_floats),
        Value::Object(fields) => fields.values_mut().for_each(as_floats),
        _ => {}
    }
}

fn live(expires: DateTime<Utc>) -> bool {
    expires > Utc::now()
}

/// Whether `token` matches `pattern` read as SQL LIKE (`_` one character, `%` any run).
fn like(pattern: &[char], token: &[char]) -> bool {
    match (pattern.first(), token.first()) {
        (None, None) => true,
        (Some('%'), _) => {
            like(&pattern[1..], token) || (!token.is_empty() && like(pattern, &token[1..]))
        }
        (Some('_'), Some(_)) => like(&pattern[1..], &token[1..]),
        (Some(p), Some(t)) if p == t => like(&pattern[1..], &token[1..]),
        _ => false,
    }
}

#[async_trait]
impl ForwardAdapter for Mutant {
    fn inner(&self) -> &dyn Adapter {
        &self.inner
    }

    async fn create_user(&self, user: User) -> AdapterResult<User> {
        match self.fault {
            Fault::CreateDropsImage => {
                self.inner
                    .create_user(User {
                        image: None,
                        ..user.clone()
                    })
                    .await?;
                Ok(user)
            }
            Fault::FarDatesDropped => {
                let in_range = |at: DateTime<Utc>| (1970..2038).contains(&at.year());
                let stored = User {
                    email_verified: user.email_verified.filter(|at| in_range(*at)),
                    ..user.clone()
                };
                self.inner.create_user(stored).await?;
                Ok(user)
            }
            Fault::LostRaceReportsSuccess => {
                let taken = match &user.email {
                    Some(email) => self.inner.get_user_by_email(email).await?.is_some(),
                    None => false,
                };
                if taken || self.inner.get_user(&user.id).await?.is_some() {
                    return Err(AdapterError::conflict(Operation::CreateUser, "taken"));
                }
                tokio::task::yield_now().await;
                match self.inner.create_user(user.clone()).await {
                    Err(e) if e.kind() == ErrorKind::Conflict => Ok(user),
                    other => other,
                }
            }
            Fault::PingBeforeValidate => {
                self.inner.list_sessions("ping").await?;
                self.inner.create_user(user).await
            }
            Fault::UserExtraDropped => {
                let stored = User {
                    extra: Default::default(),
                    ..user.clone()
                };
                self.inner.create_user(stored).await?;
                Ok(user)
            }
            Fault::IntegersAsFloats => {
                let mut stored = user;
                for value in stored.extra.values_mut() {
                    as_floats(value);
                }
                self.inner.create_user(stored).await
            }
            Fault::ExtraRulesUnchecked => match self.inner.create_user(user.clone()).await {
                Err(e) if e.kind() == ErrorKind::InvalidInput && !user.extra.is_empty() => {
                    let stored = User {
                        extra: Default::default(),
                        ..user
                    };
                    self.inner.create_user(stored).await
                }
                other => other,
            },
            _ => self.inner.create_user(user).await,
        }
    }

    async fn get_user(&self, id: &str) -> AdapterResult<Option<User>> {
        if self.is(Fault::EmptyIdIsError) && id.is_empty() {
            return Err(AdapterError::invalid_input(Operation::GetUser, "empty id"));
        }
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
            if self.is(Fault::EmailLookupDropsVerified) {
                return Ok(Some(User {
                    email_verified: None,
                    ..user
                }));
            }
            return Ok(Some(user));
        }
        let key = normalize_email(email);
        let stale = lock(&self.stale_emails)
            .iter()
            .find(|(old, _)| *old == key)
            .map(|(_, id)| id.clone());
        match stale {
            Some(id) if self.is(Fault::StaleEmailIndex) => self.inner.get_user(&id).await,
            _ => Ok(None),
        }
    }

    async fn update_user(&self, update: UserUpdate) -> AdapterResult<User> {
        let mut update = update;
        if self.is(Fault::UpdateIgnoresName) {
            update.name = None;
        }
        if self.is(Fault::EmailVerifiedClearIgnored) && update.email_verified == Some(None) {
            update.email_verified = None;
        }
        if self.is(Fault::EmailAndExtraDropName) && update.email.is_some() && update.extra.is_some()
        {
            update.name = Some(None);
        }
        match (self.fault, update.extra.take()) {
            (Fault::MergeReplacesExtra, Some(ExtraChange::Merge(patch))) => {
                update.extra = Some(ExtraChange::Replace(patch));
            }
            (Fault::MergeIgnoresNulls, Some(ExtraChange::Merge(mut patch))) => {
                patch.retain(|_, value| !value.is_null());
                update.extra = Some(ExtraChange::Merge(patch));
            }
            (Fault::MergedCapUnchecked, Some(ExtraChange::Merge(patch))) => {
                let whole = UserUpdate {
                    extra: Some(ExtraChange::Merge(patch.clone())),
                    ..update.clone()
                };
                match self.inner.update_user(whole).await {
                    Err(e) if e.kind() == ErrorKind::InvalidInput => {
                        update.extra = Some(ExtraChange::Replace(patch));
                    }
                    other => return other,
                }
            }
            (_, change) => update.extra = change,
        }
        let before = if matches!(self.fault, Fault::StaleEmailIndex | Fault::LostUpdate) {
            self.inner.get_user(&update.id).await?
        } else {
            None
        };
        let after = if self.is(Fault::LostUpdate) {
            let Some(current) = before.clone() else {
                return self.inner.update_user(update).await;
            };
            tokio::task::yield_now().await;
            let merged = update.apply_to(current)?;
            let mut whole = UserUpdate::new(&merged.id)
                .name(merged.name)
                .image(merged.image)
                .email_verified(merged.email_verified);
            if update.email.is_some() {
                whole = whole.email(merged.email);
            }
            self.inner.update_user(whole).await?
        } else {
            self.inner.update_user(update).await?
        };
        if let Some(old) = before.and_then(|u| u.email) {
            lock(&self.stale_emails).push((normalize_email(&old), after.id.clone()));
        }
        Ok(after)
    }

    async fn delete_user(&self, id: &str) -> AdapterResult<Option<User>> {
        let store = self.inner.snapshot();
        {
            let mut left = self.left();
            if self.is(Fault::NoCascadeSessions) {
                left.sessions
                    .extend(store.sessions.values().filter(|s| s.user_id == id).cloned());
            }
            if self.is(Fault::NoCascadeAccounts) {
                left.accounts
                    .extend(store.accounts.values().filter(|a| a.user_id == id).cloned());
            }
            if self.is(Fault::NoCascadeAuthenticators) {
                left.authenticators.extend(
                    store
                        .authenticators
                        .values()
                        .filter(|a| a.user_id == id)
                        .cloned(),
                );
            }
        }
        self.inner.delete_user(id).await
    }

    async fn link_account(&self, account: Account) -> AdapterResult<Account> {
        match self.fault {
            Fault::LinkDropsIdToken => {
                self.inner
                    .link_account(Account {
                        id_token: None,
                        ..account.clone()
                    })
                    .await?;
                Ok(account)
            }
            Fault::AccountExtraDropped => {
                self.inner
                    .link_account(Account {
                        extra: Default::default(),
                        ..account.clone()
                    })
                    .await?;
                Ok(account)
            }
            Fault::AccountForMissingUser
                if self.inner.get_user(&account.user_id).await?.is_none() =>
            {
                self.inner
                    .create_user(User::with_id(account.user_id.as_str()))
                    .await?;
                self.inner.link_account(account).await
            }
            Fault::OrphanAfterRace => {
                let op = Operation::LinkAccount;
                let blocked = self.left().accounts.iter().any(|a| {
                    a.provider == account.provider
                        && a.provider_account_id == account.provider_account_id
                });
                if blocked {
                    return Err(AdapterError::conflict(op, "linked already"));
                }
                if self.inner.get_user(&account.user_id).await?.is_none() {
                    return Err(AdapterError::not_found(op, "no user with this id"));
                }
                tokio::task::yield_now().await;
                match self.inner.link_account(account.clone()).await {
                    Err(e) if e.kind() == ErrorKind::NotFound => {
                        self.left().accounts.push(account.clone());
                        Ok(account)
                    }
                    other => other,
                }
            }
            _ => self.inner.link_account(account).await,
        }
    }

    async fn unlink_account(&self, provider: &str, id: &str) -> AdapterResult<Option<Account>> {
        if self.is(Fault::UnlinkKeepsRow) {
            return self.inner.get_account(provider, id).await;
        }
        if self.is(Fault::UnlinkReadThenDelete) {
            let read = self.inner.get_account(provider, id).await?;
            if read.is_some() {
                tokio::task::yield_now().await;
                self.inner.unlink_account(provider, id).await?;
            }
            return Ok(read);
        }
        self.inner.unlink_account(provider, id).await
    }

    async fn get_account(&self, provider: &str, id: &str) -> AdapterResult<Option<Account>> {
        if self.is(Fault::GetAccountByProviderOnly) {
            let accounts = self.inner.snapshot().accounts;
            return Ok(accounts.into_values().find(|a| a.provider == provider));
        }
        let found = self.inner.get_account(provider, id).await?;
        Ok(found.or_else(|| {
            self.left()
                .accounts
                .iter()
                .find(|a| a.provider == provider && a.provider_account_id == id)
                .cloned()
        }))
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
        if self.is(Fault::UpdateAccountKeepsExtra) {
            let stored = self
                .inner
                .get_account(&account.provider, &account.provider_account_id)
                .await?;
            let extra = stored.map(|a| a.extra).unwrap_or_default();
            return self
                .inner
                .update_account(Account { extra, ..account })
                .await;
        }
        self.inner.update_account(account).await
    }

    async fn list_accounts(&self, user_id: &str) -> AdapterResult<Vec<Account>> {
        let mut all = self.inner.list_accounts(user_id).await?;
        if self.is(Fault::ListAccountsIncomplete) {
            all.truncate(1);
        }

        all.extend(
            self.left()
                .accounts
                .iter()
                .filter(|a| a.user_id == user_id)
                .cloned(),
        );
        Ok(all)
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
            Err(e)
                if e.kind() == ErrorKind::Conflict && self.is(Fault::DuplicateErrorQuotesKey) =>
            {
                Err(AdapterError::conflict(
                    Operation::CreateSession,
                    format!("duplicate key value ({})", session.session_token),
                ))
            }
            other => other,
        }
    }

    async fn get_session_and_user(&self, token: &str) -> AdapterResult<Option<(Session, User)>> {
        let store = self.inner.snapshot();
        let with_user = |s: &Session| Some((s.clone(), store.users.get(&s.user_id)?.clone()));
        if self.is(Fault::ExpiredSessionReturned) {
            return Ok(store.sessions.get(token).and_then(with_user));
        }
        if let Some(found) = self.inner.get_session_and_user(token).await? {
            return Ok(Some(found));
        }
        Ok(match self.fault {
            Fault::UnknownTokenFindsAny if !token.is_empty() => store
                .sessions
                .values()
                .filter(|s| live(s.expires))
                .find_map(with_user),
            Fault::WildcardTokens if token.contains(['_', '%']) => {
                let pattern: Vec<char> = token.chars().collect();
                store
                    .sessions
                    .values()
                    .filter(|s| live(s.expires))
                    .filter(|s| like(&pattern, &s.session_token.chars().collect::<Vec<_>>()))
                    .find_map(with_user)
            }
            _ => None,
        })
    }

    async fn update_session(&self, update: SessionUpdate) -> AdapterResult<Option<Session>> {
        let mut update = update;
        if self.is(Fault::UpdateSessionIgnoresExpires) {
            update.expires = None;
        }
        if self.is(Fault::SessionOwnerIgnored) {
            update.user_id = None;
        }
        if self.is(Fault::SessionDataIgnored)
            || self.is(Fault::MovedSessionLosesData) && update.user_id.is_some()
        {
            update.extra = None;
        }
        if self.is(Fault::UpdateResurrectsSession) {
            let stored = self
                .inner
                .snapshot()
                .sessions
                .get(&update.session_token)
                .cloned();
            if let Some(current) = stored.filter(|s| live(s.expires)) {
                tokio::task::yield_now().await;
                // The write is an upsert of what was read: deleted meanwhile (and only
                // then), it is made again.
                let gone = !self
                    .inner
                    .snapshot()
                    .sessions
                    .contains_key(&current.session_token);
                if gone {
                    return self
                        .inner
                        .create_session(update.apply_to(current)?)
                        .await
                        .map(Some);
                }
            }
        }
        if self.is(Fault::ExpiredSessionRevived) {
            let stored = self
                .inner
                .snapshot()
                .sessions
                .get(&update.session_token)
                .cloned();
            if let Some(expired) = stored.filter(|s| !live(s.expires)) {
                self.inner.delete_session(&expired.session_token).await?;
                return self
                    .inner
                    .create_session(update.apply_to(expired)?)
                    .await
                    .map(Some);
            }
        }
        self.inner.update_session(update).await
    }

    async fn delete_session(&self, token: &str) -> AdapterResult<Option<Session>> {
        if self.is(Fault::DeleteSessionKeepsRow) {
            return Ok(self
                .inner
                .get_session_and_user(token)
                .await?
                .map(|(s, _)| s));
        }
        let removed = self.inner.delete_session(token).await?;
        if removed.is_none() && self.is(Fault::DeleteMissingSessionErrors) {
            return Err(AdapterError::not_found(
                Operation::DeleteSession,
                "no such session",
            ));
        }
        Ok(removed)
    }

    async fn list_sessions(&self, user_id: &str) -> AdapterResult<Vec<Session>> {
        let mut sessions = self.inner.list_sessions(user_id).await?;
        sessions.extend(
            self.left()
                .sessions
                .iter()
                .filter(|s| s.user_id == user_id)
                .cloned(),
        );
        Ok(sessions)
    }

    async fn delete_sessions(&self, user_id: &str) -> AdapterResult<u64> {
        if self.is(Fault::CountsExpiredSessions) {
            let all = self.inner.snapshot().sessions;
            let mine = all.values().filter(|s| s.user_id == user_id).count() as u64;
            self.inner.delete_sessions(user_id).await?;
            return Ok(mine);
        }
        self.inner.delete_sessions(user_id).await
    }

    async fn use_verification_token(
        &self,
        identifier: &str,
        token: &str,
    ) -> AdapterResult<Option<VerificationToken>> {
        let tokens = self.inner.snapshot().verification_tokens;
        let key = (identifier.to_owned(), token.to_owned());
        match self.fault {
            Fault::TokenTakenTwice => {
                let found = tokens.get(&key).filter(|t| live(t.expires)).cloned();
                tokio::task::yield_now().await;
                self.inner.use_verification_token(identifier, token).await?;
                Ok(found)
            }
            Fault::TokenUsableTwice => Ok(tokens.get(&key).filter(|t| live(t.expires)).cloned()),
            Fault::WrongTokenAccepted => {
                let Some(found) = tokens.into_values().find(|t| t.identifier == identifier) else {
                    return Ok(None);
                };
                self.inner
                    .use_verification_token(identifier, &found.token)
                    .await
            }
            Fault::ExpiredTokenAccepted => {
                let found = tokens.get(&key).cloned();
                self.inner.use_verification_token(identifier, token).await?;
                Ok(found)
            }
            _ => self.inner.use_verification_token(identifier, token).await,
        }
    }

    async fn get_authenticator(&self, id: &str) -> AdapterResult<Option<Authenticator>> {
        let found = self.inner.get_authenticator(id).await?;
        Ok(found.or_else(|| {
            self.left()
                .authenticators
                .iter()
                .find(|a| a.credential_id == id)
                .cloned()
        }))
    }

    async fn list_authenticators(&self, user_id: &str) -> AdapterResult<Vec<Authenticator>> {
        let mut all = self.inner.list_authenticators(user_id).await?;
        if self.is(Fault::ListAuthenticatorsIncomplete) {
            all.truncate(1);
        }
        all.extend(
            self.left()
                .authenticators
                .iter()
                .filter(|a| a.user_id == user_id)
                .cloned(),
        );
        Ok(all)
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
auth_core::forward_adapter!(Mutant);

/// Reads the mutant's real store, plus whatever its faults left behind.
struct MutantInspector(Arc<Mutant>);

impl MutantInspector {
    fn memory(&self) -> MemoryInspector {
        MemoryInspector(self.0.inner.clone())
    }
}

#[async_trait]
impl Inspector for MutantInspector {
    async fn stored_user(&self, id: &str) -> Result<Option<User>, BoxError> {
        self.memory().stored_user(id).await
    }

    async fn stored_account(&self, provider: &str, id: &str) -> Result<Option<Account>, BoxError> {
        let left = self
            .0
            .left()
            .accounts
            .iter()
            .find(|a| a.provider == provider && a.provider_account_id == id)
            .cloned();
        match left {
            Some(account) => Ok(Some(account)),
            None => self.memory().stored_account(provider, id).await,
        }
    }

    async fn stored_session(&self, token: &str) -> Result<Option<Session>, BoxError> {
        let left = self
            .0
            .left()
            .sessions
            .iter()
            .find(|s| s.session_token == token)
            .cloned();
        match left {
            Some(session) => Ok(Some(session)),
            None => self.memory().stored_session(token).await,
        }
    }

    async fn stored_verification_token(
        &self,
        identifier: &str,
        token: &str,
    ) -> Result<Option<VerificationToken>, BoxError> {
        self.memory()
            .stored_verification_token(identifier, token)
            .await
    }

    async fn stored_authenticator(&self, id: &str) -> Result<Option<Authenticator>, BoxError> {
        let left = self
            .0
            .left()
            .authenticators
            .iter()
            .find(|a| a.credential_id == id)
            .cloned();
        match left {
            Some(authenticator) => Ok(Some(authenticator)),
            None => self.memory().stored_authenticator(id).await,
        }
    }

    async fn records_of_user(&self, user_id: &str) -> Result<UserRecords, BoxError> {
        let mut records = self.memory().records_of_user(user_id).await?;
        let left = self.0.left();
        records.sessions.extend(
            left.sessions
                .iter()
                .filter(|s| s.user_id == user_id)
                .cloned(),
        );
        records.accounts.extend(
            left.accounts
                .iter()
                .filter(|a| a.user_id == user_id)
                .cloned(),
        );
        records.authenticators.extend(
            left.authenticators
                .iter()
                .filter(|a| a.user_id == user_id)
                .cloned(),
        );
        Ok(records)
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
        let dead = MemoryAdapter::new();
        dead.simulate_outage(true);
        if self.0.is(Fault::DeadServerHangs) {
            tokio::time::sleep(Duration::from_secs(4)).await;
        }
        Unreachable {
            timeout: Duration::from_millis(100),
            adapter: Ok(Arc::new(Mutant::new(self.0.fault, dead))),
        }
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
        let mutant = Arc::new(Mutant::new(self.0, MemoryAdapter::new()));
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

/// One test per mutant; the list also feeds [`catch_matrix`].
macro_rules! mutants_caught {
    ($($test:ident: $fault:ident by $scenario:ident;)*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() {
                assert_caught(Fault::$fault, stringify!($scenario)).await;
            }
        )*

        /// Every (mutant, the scenario named for it) pair.
        const NAMED: &[(Fault, &str)] = &[$((Fault::$fault, stringify!($scenario)),)*];
    };
}

mutants_caught! {
    create_drops_image: CreateDropsImage by s01_create_user_stores_every_field;
    empty_id_is_error: EmptyIdIsError by s02_get_user_by_id;
    email_lookup_drops_verified: EmailLookupDropsVerified by s03_get_user_by_email;
    unknown_token_finds_any: UnknownTokenFindsAny by s04_create_and_read_session;
    update_ignores_name: UpdateIgnoresName by s05_update_user_changes_name;
    update_session_ignores_expires: UpdateSessionIgnoresExpires by s06_update_session_changes_expiry;
    link_drops_id_token: LinkDropsIdToken by s07_link_account_stores_every_field;
    delete_session_keeps_row: DeleteSessionKeepsRow by s08_delete_session_removes_it;
    token_usable_twice: TokenUsableTwice by s09_verification_token_used_once;
    unlink_keeps_row: UnlinkKeepsRow by s10_unlink_account_removes_it;
    no_cascade_accounts: NoCascadeAccounts by s11_delete_user_removes_sessions_and_accounts;
    get_account_by_provider_only: GetAccountByProviderOnly by s12_get_account_needs_both_halves;
    list_authenticators_incomplete: ListAuthenticatorsIncomplete by s13_authenticators;
    wrong_token_accepted: WrongTokenAccepted by s14_wrong_token_is_refused;
    token_taken_twice: TokenTakenTwice by s15_concurrent_token_use_has_one_winner;
    lost_race_reports_success: LostRaceReportsSuccess by s16_concurrent_same_email_has_one_winner;
    duplicate_session_overwrites: DuplicateSessionOverwrites by s17_duplicates_conflict;
    no_cascade_authenticators: NoCascadeAuthenticators by s18_delete_user_cascades_everything;
    expired_token_accepted: ExpiredTokenAccepted by s19_expired_records_are_never_returned;
    expired_session_returned: ExpiredSessionReturned by s19_expired_records_are_never_returned;
    sweep_removes_live_sessions: SweepRemovesLiveSessions by s19_expired_records_are_never_returned;
    stale_email_index: StaleEmailIndex by s20_update_user_moves_email;
    account_for_missing_user: AccountForMissingUser by s21_unknown_user_is_not_found;
    delete_missing_session_errors: DeleteMissingSessionErrors by s22_missing_keys_give_none;
    case_sensitive_email: CaseSensitiveEmail by s23_email_is_case_insensitive;
    wildcard_tokens: WildcardTokens by s24_hostile_strings_are_plain_data;
    far_dates_dropped: FarDatesDropped by s25_dates_round_trip;
    update_account_moves_owner: UpdateAccountMovesOwner by s26_update_account_replaces_tokens;
    no_cascade_sessions: NoCascadeSessions by s27_session_of_deleted_user_is_gone;
    dead_server_hangs: DeadServerHangs by s28_unreachable_server_fails_fast;
    migrate_drops_data: MigrateDropsData by s29_migrate_is_idempotent;
    duplicate_error_quotes_key: DuplicateErrorQuotesKey by s30_secrets_never_printed;
    expired_session_revived: ExpiredSessionRevived by s31_expired_session_is_not_revived;
    orphan_after_race: OrphanAfterRace by s32_delete_races_leave_no_orphan;
    session_owner_ignored: SessionOwnerIgnored by s33_session_moves_to_another_user;
    email_verified_clear_ignored: EmailVerifiedClearIgnored by s34_email_verified_set_and_cleared;
    lost_update: LostUpdate by s35_concurrent_partial_updates_both_land;
    counts_expired_sessions: CountsExpiredSessions by s36_counts_are_exact;
    list_accounts_incomplete: ListAccountsIncomplete by s37_delete_authenticator_and_list_accounts;
    ping_before_validate: PingBeforeValidate by s38_over_cap_inputs_are_refused_before_io;
    user_extra_dropped: UserExtraDropped by s39_extra_fields_round_trip_exactly;
    integers_as_floats: IntegersAsFloats by s39_extra_fields_round_trip_exactly;
    merge_replaces_extra: MergeReplacesExtra by s40_update_user_merges_extra_fields;
    merge_ignores_nulls: MergeIgnoresNulls by s40_update_user_merges_extra_fields;
    session_data_ignored: SessionDataIgnored by s41_update_session_writes_session_data;
    extra_rules_unchecked: ExtraRulesUnchecked by s42_extra_field_rules_are_invalid_input;
    merged_cap_unchecked: MergedCapUnchecked by s42_extra_field_rules_are_invalid_input;
    account_extra_dropped: AccountExtraDropped by s43_account_keeps_the_token_response;
    update_account_keeps_extra: UpdateAccountKeepsExtra by s43_account_keeps_the_token_response;
}

/// The model check's own mutants: bugs in combinations no hand-written scenario makes.
/// Scenario 44 draws fresh sequences each run, so these are checked on a fixed seed and
/// budget ([`only_the_model_check_catches_its_mutants`]), never left to chance.
const MODEL_MUTANTS: &[Fault] = &[Fault::EmailAndExtraDropName, Fault::MovedSessionLosesData];

/// Races no hand-written scenario makes, caught by the concurrent histories (scenario 45)
/// on a fixed seed ([`only_the_history_check_catches_its_mutants`]).
const HISTORY_MUTANTS: &[Fault] = &[Fault::UpdateResurrectsSession, Fault::UnlinkReadThenDelete];

/// The scenarios `which` selects that fail on the mutant `fault`.
async fn caught_by(
    fault: Fault,
    which: impl Fn(&adapter_conformance::Scenario) -> bool,
) -> Vec<&'static str> {
    futures::stream::iter(SCENARIOS.iter().filter(|s| which(s)))
        .map(|s| async move {
            (
                s.name,
                run_scenario(&MutantBackend(fault), s).await.passed(),
            )
        })
        .buffer_unordered(16)
        .filter_map(|(name, passed)| async move { (!passed).then_some(name) })
        .collect()
        .await
}

/// The model check's own mutants are caught by scenario 44 and by no scenario written by
/// hand: it finds what nobody wrote a scenario for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_model_check_catches_its_mutants() {
    use adapter_conformance::model::{check_sequences, Budget, Rules};
    let budget = Budget {
        cases: 2000,
        max_ops: adapter_conformance::model::MAX_OPS,
        seed: 44,
        histories: 0,
    };
    let control = Mutant::new(Fault::None, MemoryAdapter::new());
    check_sequences(&control, Rules::default(), budget)
        .await
        .expect("the unbroken wrapper agrees with the model");
    for &fault in MODEL_MUTANTS {
        let mutant = Mutant::new(fault, MemoryAdapter::new());
        let found = check_sequences(&mutant, Rules::default(), budget).await;
        let report = found.expect_err("the model check catches the mutant");
        println!("{fault:?} caught by the model check:\n{report}");
        let catchers = caught_by(fault, |s| s.number < 44).await;
        assert!(catchers.is_empty(), "{fault:?} is caught by {catchers:?}");
    }
}

/// Every scenario has a mutant named for it; and the whole matrix, printed: which scenarios
/// catch each mutant (the named one must be among them). A mutant caught by its scenario
/// alone is marked `only`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catch_matrix() {
    for s in SCENARIOS.iter().filter(|s| s.number < 44) {
        assert!(
            NAMED.iter().any(|(_, name)| *name == s.name),
            "scenario {} has no mutant named for it",
            s.name
        );
    }
    let runs: Vec<(Fault, &str, bool)> = futures::stream::iter(
        NAMED
            .iter()
            .flat_map(|(fault, _)| SCENARIOS.iter().map(move |s| (*fault, s))),
    )
    .map(|(fault, s)| async move {
        let caught = !run_scenario(&MutantBackend(fault), s).await.passed();
        (fault, s.name, caught)
    })
    .buffer_unordered(32)
    .collect()
    .await;
    let mut only = 0;
    for (fault, named) in NAMED {
        let catchers: Vec<&str> = runs
            .iter()
            .filter(|(f, _, caught)| f == fault && *caught)
            .map(|(_, name, _)| &name[..3])
            .collect();
        assert!(
            catchers.contains(&&named[..3]),
            "{fault:?} is not caught by {named}"
        );
        let alone = catchers.len() == 1;
        only += usize::from(alone);
        println!(
            "{fault:?} ({}): caught by {}{}",
            &named[..3],
            catchers.join(" "),
            if alone { "  only" } else { "" }
        );
    }
    println!(
        "{} mutants, {} scenarios; {only} mutants caught by their own scenario alone",
        NAMED.len(),
        SCENARIOS.len()
    );
}

/// The concurrent histories' own mutants are caught by the linearizability check and by no
/// other scenario (the sequential model check included: their bugs need a race).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_history_check_catches_its_mutants() {
    use adapter_conformance::model::{check_histories, Rules};
    let control = Mutant::new(Fault::None, MemoryAdapter::new());
    check_histories(&control, Rules::default(), 300, 45)
        .await
        .expect("the unbroken wrapper's histories are linearizable");
    for &fault in HISTORY_MUTANTS {
        let mutant = Mutant::new(fault, MemoryAdapter::new());
        let report = check_histories(&mutant, Rules::default(), 300, 45)
            .await
            .expect_err("the history check catches the mutant");
        println!("{fault:?} caught by the history check:\n{report}");
        let catchers = caught_by(fault, |s| s.number < 45).await;
        assert!(catchers.is_empty(), "{fault:?} is caught by {catchers:?}");
    }
}
