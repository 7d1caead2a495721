//! The native layout ([`Layout::Native`](crate::Layout)): [`NativeStore`], the [`Store`] on
//! this crate's own keys (see [`crate::keys`] and the crate docs).
//!
//! Reads are plain `GET`/`SMEMBERS`/`MGET`; every change that touches more than one key is
//! one Lua script ([`crate::scripts`]). Where a script needs keys that only a stored record
//! names (the owner's index set, the email claim), Rust reads the record first, derives
//! the keys, and passes them in `KEYS` together with the record as read; the script
//! re-checks that record and answers `RETRY` if it changed, and [`Db::retrying`] starts
//! over (at most [`MAX_ATTEMPTS`](crate::MAX_ATTEMPTS) times). So every script declares
//! the keys it writes.

use async_trait::async_trait;
use auth_core::chrono::{DateTime, Utc};
use auth_core::{
    Account, AdapterError, AdapterResult, Authenticator, ErrorCode, ExpiredCounts, Operation,
    Session, SessionUpdate, Store, User, UserUpdate, VerificationToken,
};
use redis::{Pipeline, Script};

use crate::connection::{Attempt, Db};
use crate::error::{self, decoded, unexpected_outcome};
use crate::keys::{self, KeyLayout};
use crate::records::{self, CorruptRecord};
use crate::scripts::{self, Reply};

/// The key layout version `migrate()` writes to `<prefix>schema-version`.
///
/// ```
/// assert_eq!(adapter_redis::SCHEMA_VERSION, "1");
/// ```
pub const SCHEMA_VERSION: &str = "1";

/// Expiry-set entries handled per sweep script in `delete_expired`.
const SWEEP_BATCH: usize = 256;

fn flag(on: bool) -> &'static str {
    if on {
        "1"
    } else {
        "0"
    }
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// A user index set: where its members point, and how to read what they point at.
struct Index<T> {
    /// The index set.
    set: String,
    /// The expiry sorted set that lists the same records, if any.
    expiries: Option<String>,
    /// The record key of a member.
    record_key: fn(&KeyLayout, &str) -> String,
    /// The expiry-set member of `(user id, member)`.
    expiry_member: fn(&str, &str) -> String,
    decode: fn(&[u8]) -> Result<T, CorruptRecord>,
    owner: fn(&T) -> &str,
}

/// The [`Store`] of the native layout: index sets, expiry sorted sets, one script per
/// multi-key change.
#[derive(Debug, Clone)]
pub(crate) struct NativeStore {
    pub(crate) db: Db,
    pub(crate) keys: KeyLayout,
}

impl NativeStore {
    /// Finishes `migrate()`: writes the layout version to `<prefix>schema-version` (or
    /// checks the one there) in the pipeline that loads the scripts.
    pub(crate) async fn migrate(&self, op: Operation, mut pipe: Pipeline) -> AdapterResult<()> {
        let version_key = self.keys.schema_version();
        pipe.cmd("SET")
            .arg(&version_key)
            .arg(SCHEMA_VERSION)
            .arg("NX")
            .ignore();
        pipe.cmd("GET").arg(&version_key);
        let (version,): (Option<String>,) = self.db.query_pipe(op, &pipe).await?;
        match version.as_deref() {
            Some(SCHEMA_VERSION) => Ok(()),
            other => Err(AdapterError::backend(
                op,
                format!(
                    "the keys under this prefix have layout version {other:?}; this adapter writes {SCHEMA_VERSION}"
                ),
            )),
        }
    }

    async fn user_exists(&self, op: Operation, id: &str) -> AdapterResult<bool> {
        self.db.exists(op, &self.keys.user(id)).await
    }

    async fn remove_owned<T>(
        &self,
        op: Operation,
        key: &str,
        decode: fn(&[u8]) -> Result<T, CorruptRecord>,
        entries: impl Fn(&T) -> (String, String, Option<(String, String)>),
    ) -> AdapterResult<Option<T>> {
        let entries = &entries;
        self.db
            .retrying(op, || async move {
                let Some((record, raw)) = self.db.record_and_raw(op, key, decode).await? else {
                    return Ok(Attempt::Done(None));
                };
                let (index, member, expiry) = entries(&record);
                let mut invocation = scripts::REMOVE_OWNED.prepare_invoke();
                invocation.key(key).key(index).arg(&raw).arg(member);
                if let Some((zset, zmember)) = expiry {
                    invocation.key(zset).arg(zmember);
                }
                match self.db.invoke(op, &invocation).await? {
                    Reply::Record(_) => Ok(Attempt::Done(Some(record))),
                    Reply::Absent => Ok(Attempt::Done(None)),
                    Reply::Retry => Ok(Attempt::Retry),
                    other => Err(unexpected_outcome(op, &other)),
                }
            })
            .await
    }

    /// Replaces one record by compare-and-set: `change` gives the new record from the one
    /// stored.
    async fn replace<T>(
        &self,
        op: Operation,
        key: &str,
        decode: fn(&[u8]) -> Result<T, CorruptRecord>,
        encode: fn(&T) -> String,
        change: impl Fn(T) -> T,
    ) -> AdapterResult<Option<T>> {
        let change = &change;
        self.db
            .retrying(op, || async move {
                let Some((stored, raw)) = self.db.record_and_raw(op, key, decode).await? else {
                    return Ok(Attempt::Done(None));
                };
                let updated = change(stored);
                let mut invocation = scripts::REPLACE_RECORD.prepare_invoke();
                invocation.key(key).arg(&raw).arg(encode(&updated));
                match self.db.invoke(op, &invocation).await? {
                    Reply::Ok => Ok(Attempt::Done(Some(updated))),
                    Reply::Absent => Ok(Attempt::Done(None)),
                    Reply::Retry => Ok(Attempt::Retry),
                    other => Err(unexpected_outcome(op, &other)),
                }
            })
            .await
    }

    /// Every record a user's index points at that still belongs to the user. Entries that
    /// point at nothing (an expired session) or at another user's record (a reused key) are
    /// pruned afterwards; a failed prune does not fail the read.
    async fn list_indexed<T>(
        &self,
        op: Operation,
        user_id: &str,
        index: Index<T>,
    ) -> AdapterResult<Vec<T>> {
        let members: Vec<String> = self
            .db
            .query(op, redis::cmd("SMEMBERS").arg(&index.set))
            .await?;
        let record_keys: Vec<String> = members
            .iter()
            .map(|m| (index.record_key)(&self.keys, m))
            .collect();
        let raws = self.db.mget(op, &record_keys).await?;
        let mut owned = Vec::with_capacity(members.len());
        let mut stale = Vec::new();
        for (i, raw) in raws.into_iter().enumerate() {
            let record = raw.map(|raw| decoded(op, &raw, index.decode)).transpose()?;
            match record {
                Some(record) if (index.owner)(&record) == user_id => owned.push(record),
                _ => stale.push(i),
            }
        }
        if !stale.is_empty() {
            let mut invocation = scripts::PRUNE_INDEX.prepare_invoke();
            invocation
                .key(&index.set)
                .key(index.expiries.as_deref().unwrap_or(&index.set));
            for &i in &stale {
                invocation.key(&record_keys[i]);
            }
            invocation.arg(user_id).arg(stale.len());
            for &i in &stale {
                invocation.arg(&members[i]);
            }
            if index.expiries.is_some() {
                for &i in &stale {
                    invocation.arg((index.expiry_member)(user_id, &members[i]));
                }
            }
            if let Err(err) = self.db.invoke(op, &invocation).await {
                tracing::warn!(code = %err.code(), kind = %err.kind(), "pruning a user index failed");
            }
        }
        Ok(owned)
    }

    fn sessions_index(&self, user_id: &str) -> Index<Session> {
        Index {
            set: self.keys.user_sessions(user_id),
            expiries: Some(self.keys.session_expiries()),
            record_key: KeyLayout::session,
            expiry_member: keys::session_member,
            decode: records::decode_session,
            owner: |s| &s.user_id,
        }
    }

    // ------------------------------------------------------------ sweeps

    /// Sweeps one expiry sorted set in batches: `entry` turns a member's parts into the
    /// keys and arguments the script takes for it (`None`: a member this adapter never
    /// writes, dropped). Returns how many records the scripts removed.
    async fn sweep(
        &self,
        op: Operation,
        script: &Script,
        zset: &str,
        now_ms: i64,
        entry: impl Fn(&[String]) -> Option<(Vec<String>, Vec<String>)>,
    ) -> AdapterResult<u64> {
        let mut removed = 0u64;
        loop {
            let members: Vec<String> = self
                .db
                .query(
                    op,
                    redis::cmd("ZRANGEBYSCORE")
                        .arg(zset)
                        .arg("-inf")
                        .arg(now_ms)
                        .arg("LIMIT")
                        .arg(0)
                        .arg(SWEEP_BATCH),
                )
                .await?;
            if members.is_empty() {
                return Ok(removed);
            }
            let mut well_formed = Vec::new();
            let mut malformed = Vec::new();
            for member in members {
                match keys::decode_parts(&member).as_deref().and_then(&entry) {
                    Some((keys, args)) => well_formed.push((member, keys, args)),
                    None => malformed.push(member),
                }
            }
            if !malformed.is_empty() {
                // Not written by this adapter: no record to remove, drop the entries.
                let _: u64 = self
                    .db
                    .query(op, redis::cmd("ZREM").arg(zset).arg(&malformed))
                    .await?;
            }
            if well_formed.is_empty() {
                continue;
            }
            let mut invocation = script.prepare_invoke();
            invocation.key(zset).arg(now_ms).arg(well_formed.len());
            for (member, keys, args) in &well_formed {
                for key in keys {
                    invocation.key(key);
                }
                invocation.arg(member).arg(args);
            }
            match self.db.invoke(op, &invocation).await? {
                Reply::Counts(counts) => match counts.as_slice() {
                    [handled, swept] => {
                        removed += count(*swept);
                        if *handled == 0 && malformed.is_empty() {
                            // Every entry changed meanwhile: nothing left in range.
                            return Ok(removed);
                        }
                    }
                    _ => return Err(error::unexpected(op, "a sweep reply without two counts")),
                },
                other => return Err(unexpected_outcome(op, &other)),
            }
        }
    }
}

#[async_trait]
impl Store for NativeStore {
    fn backend(&self) -> &'static str {
        "redis"
    }

    async fn insert_user(&self, user: &User, email_key: Option<&str>) -> AdapterResult<String> {
        let op = Operation::CreateUser;
        let mut invocation = scripts::CREATE_USER.prepare_invoke();
        invocation.key(self.keys.user(&user.id));
        if let Some(key) = email_key {
            invocation.key(self.keys.email(key));
        }
        invocation
            .arg(records::encode_user(user, email_key))
            .arg(&user.id);
        match self.db.invoke(op, &invocation).await? {
            Reply::Ok => Ok(user.id.clone()),
            Reply::Conflict => Err(AdapterError::conflict(op, "a user with this id exists")),
            Reply::ConflictEmail => {
                Err(AdapterError::conflict(op, "a user with this email exists"))
            }
            other => Err(unexpected_outcome(op, &other)),
        }
    }

    async fn find_user(&self, id: &str) -> AdapterResult<Option<User>> {
        let op = Operation::GetUser;
        self.db
            .record(op, &self.keys.user(id), records::decode_user)
            .await
    }

    async fn find_user_by_email(&self, email_key: &str) -> AdapterResult<Option<User>> {
        let op = Operation::GetUserByEmail;
        let id: Option<String> = self
            .db
            .query(op, redis::cmd("GET").arg(self.keys.email(email_key)))
            .await?;
        match id {
            Some(id) => {
                self.db
                    .record(op, &self.keys.user(&id), records::decode_user)
                    .await
            }
            None => Ok(None),
        }
    }

    async fn find_user_by_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<User>> {
        let op = Operation::GetUserByAccount;
        let key = self.keys.account(provider, provider_account_id);
        match self.db.record(op, &key, records::decode_account).await? {
            Some(account) => {
                self.db
                    .record(op, &self.keys.user(&account.user_id), records::decode_user)
                    .await
            }
            None => Ok(None),
        }
    }

    async fn merge_user(
        &self,
        update: &UserUpdate,
        email_key: Option<Option<&str>>,
    ) -> AdapterResult<Option<User>> {
        let op = Operation::UpdateUser;
        let user_key = &self.keys.user(&update.id);
        self.db
            .retrying(op, || async move {
                let Some(raw) = self.db.get(op, user_key).await? else {
                    return Ok(Attempt::Done(None));
                };
                let (current, old_key) = decoded(op, &raw, records::decode_user_and_key)?;
                let merged = update.apply_to(current)?;
                let new_key = match email_key {
                    Some(key) => key.map(str::to_owned),
                    None => old_key.clone(),
                };
                let (old_claim, new_claim) = if old_key == new_key {
                    (None, None)
                } else {
                    (old_key.as_deref(), new_key.as_deref())
                };
                let mut invocation = scripts::UPDATE_USER.prepare_invoke();
                invocation.key(user_key);
                if let Some(key) = old_claim {
                    invocation.key(self.keys.email(key));
                }
                if let Some(key) = new_claim {
                    invocation.key(self.keys.email(key));
                }
                invocation
                    .arg(&raw)
                    .arg(records::encode_user(&merged, new_key.as_deref()))
                    .arg(&update.id)
                    .arg(flag(old_claim.is_some()))
                    .arg(flag(new_claim.is_some()));
                match self.db.invoke(op, &invocation).await? {
                    Reply::Ok => Ok(Attempt::Done(Some(merged))),
                    Reply::NotFound => Ok(Attempt::Done(None)),
                    Reply::ConflictEmail => Err(AdapterError::conflict(
                        op,
                        "the new email belongs to another user",
                    )),
                    Reply::Retry => Ok(Attempt::Retry),
                    other => Err(unexpected_outcome(op, &other)),
                }
            })
            .await
    }

    async fn remove_user(&self, id: &str) -> AdapterResult<Option<User>> {
        let op = Operation::DeleteUser;
        let user_key = &self.keys.user(id);
        let sessions_key = &self.keys.user_sessions(id);
        let accounts_key = &self.keys.user_accounts(id);
        let authenticators_key = &self.keys.user_authenticators(id);
        self.db
            .retrying(op, || async move {
                let mut read = redis::pipe();
                read.cmd("GET").arg(user_key);
                read.cmd("SMEMBERS").arg(sessions_key);
                read.cmd("SMEMBERS").arg(accounts_key);
                read.cmd("SMEMBERS").arg(authenticators_key);
                let (raw, tokens, accounts, credentials): (
                    Option<Vec<u8>>,
                    Vec<String>,
                    Vec<String>,
                    Vec<String>,
                ) = self.db.query_pipe(op, &read).await?;
                let Some(raw) = raw else {
                    return Ok(Attempt::Done(None));
                };
                let (user, email_key) = decoded(op, &raw, records::decode_user_and_key)?;
                let mut invocation = scripts::DELETE_USER.prepare_invoke();
                invocation
                    .key(user_key)
                    .key(sessions_key)
                    .key(accounts_key)
                    .key(authenticators_key)
                    .key(self.keys.session_expiries());
                if let Some(key) = &email_key {
                    invocation.key(self.keys.email(key));
                }
                for token in &tokens {
                    invocation.key(self.keys.session(token));
                }
                for member in &accounts {
                    invocation.key(self.keys.account_from_member(member));
                }
                for credential_id in &credentials {
                    invocation.key(self.keys.authenticator(credential_id));
                }
                invocation
                    .arg(&raw)
                    .arg(id)
                    .arg(flag(email_key.is_some()))
                    .arg(tokens.len())
                    .arg(accounts.len())
                    .arg(credentials.len())
                    .arg(&tokens);
                for token in &tokens {
                    invocation.arg(keys::session_member(id, token));
                }
                invocation.arg(&accounts).arg(&credentials);
                match self.db.invoke(op, &invocation).await? {
                    Reply::Record(_) => Ok(Attempt::Done(Some(user))),
                    Reply::Absent => Ok(Attempt::Done(None)),
                    Reply::Retry => Ok(Attempt::Retry),
                    other => Err(unexpected_outcome(op, &other)),
                }
            })
            .await
    }

    async fn insert_account(&self, account: &Account) -> AdapterResult<()> {
        let op = Operation::LinkAccount;
        let mut invocation = scripts::INSERT_OWNED.prepare_invoke();
        invocation
            .key(self.keys.user(&account.user_id))
            .key(
                self.keys
                    .account(&account.provider, &account.provider_account_id),
            )
            .key(self.keys.user_accounts(&account.user_id))
            .arg(records::encode_account(account))
            .arg(keys::account_member(
                &account.provider,
                &account.provider_account_id,
            ));
        match self.db.invoke(op, &invocation).await? {
            Reply::Ok => Ok(()),
            Reply::NotFound => Err(AdapterError::not_found(op, "no user with this id")),
            Reply::Conflict => Err(AdapterError::conflict(
                op,
                "this provider account is linked already",
            )),
            other => Err(unexpected_outcome(op, &other)),
        }
    }

    async fn remove_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<Account>> {
        let op = Operation::UnlinkAccount;
        let key = self.keys.account(provider, provider_account_id);
        let member = keys::account_member(provider, provider_account_id);
        self.remove_owned(op, &key, records::decode_account, |account| {
            (
                self.keys.user_accounts(&account.user_id),
                member.clone(),
                None,
            )
        })
        .await
    }

    async fn find_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<Account>> {
        let op = Operation::GetAccount;
        let key = self.keys.account(provider, provider_account_id);
        self.db.record(op, &key, records::decode_account).await
    }

    async fn replace_account_tokens(&self, account: &Account) -> AdapterResult<Option<Account>> {
        let op = Operation::UpdateAccount;
        let key = self
            .keys
            .account(&account.provider, &account.provider_account_id);
        self.replace(
            op,
            &key,
            records::decode_account,
            records::encode_account,
            |stored| Account {
                user_id: stored.user_id,
                account_type: stored.account_type,
                ..account.clone()
            },
        )
        .await
    }

    async fn find_accounts(&self, user_id: &str) -> AdapterResult<Vec<Account>> {
        let index = Index {
            set: self.keys.user_accounts(user_id),
            expiries: None,
            record_key: KeyLayout::account_from_member,
            expiry_member: |_, member| member.to_owned(),
            decode: records::decode_account,
            owner: |a| &a.user_id,
        };
        self.list_indexed(Operation::ListAccounts, user_id, index)
            .await
    }

    async fn insert_session(&self, session: &Session) -> AdapterResult<()> {
        let op = Operation::CreateSession;
        let mut invocation = scripts::CREATE_SESSION.prepare_invoke();
        invocation
            .key(self.keys.user(&session.user_id))
            .key(self.keys.session(&session.session_token))
            .key(self.keys.user_sessions(&session.user_id))
            .key(self.keys.session_expiries())
            .arg(records::encode_session(session))
            .arg(&session.session_token)
            .arg(records::expires_ms(session.expires))
            .arg(keys::session_member(
                &session.user_id,
                &session.session_token,
            ))
            .arg(self.keys.prefix())
            .arg(&session.user_id);
        match self.db.invoke(op, &invocation).await? {
            Reply::Ok => Ok(()),
            Reply::NotFound => Err(AdapterError::not_found(op, "no user with this id")),
            Reply::Conflict => Err(AdapterError::conflict(op, "this session token exists")),
            other => Err(unexpected_outcome(op, &other)),
        }
    }

    async fn find_session_and_user(
        &self,
        session_token: &str,
        // Not sent: the key's `PEXPIREAT` already hides an expired session, and the policy
        // layer compares `expires` with this `now` on the way out.
        _now: DateTime<Utc>,
    ) -> AdapterResult<Option<(Session, User)>> {
        let op = Operation::GetSessionAndUser;
        let mut invocation = scripts::GET_SESSION_AND_USER.prepare_invoke();
        invocation
            .key(self.keys.session(session_token))
            .arg(self.keys.prefix());
        match self.db.invoke(op, &invocation).await? {
            Reply::Absent => Ok(None),
            Reply::Records(pair) => match pair.as_slice() {
                [session, user] => Ok(Some((
                    decoded(op, session, records::decode_session)?,
                    decoded(op, user, records::decode_user)?,
                ))),
                _ => Err(error::unexpected(op, "a session reply without two records")),
            },
            other => Err(unexpected_outcome(op, &other)),
        }
    }

    async fn change_session(
        &self,
        update: &SessionUpdate,
        now: DateTime<Utc>,
    ) -> AdapterResult<Option<Session>> {
        let op = Operation::UpdateSession;
        let token = &update.session_token;
        let session_key = &self.keys.session(token);
        let now_ms = records::expires_ms(now);
        let missing_owner = &|| AdapterError::not_found(op, "no user with the new user id");
        self.db
            .retrying(op, || async move {
                let current = self
                    .db
                    .record_and_raw(op, session_key, records::decode_session)
                    .await?;
                let Some((current, raw)) = current.filter(|(s, _)| s.expires > now) else {
                    // Missing or expired: nothing changes. As the reference store, a missing
                    // new owner is reported first.
                    if let Some(user_id) = &update.user_id {
                        if !self.user_exists(op, user_id).await? {
                            return Err(missing_owner());
                        }
                    }
                    return Ok(Attempt::Done(None));
                };
                let merged = update.apply_to(current.clone())?;
                let mut invocation = scripts::UPDATE_SESSION.prepare_invoke();
                invocation
                    .key(session_key)
                    .key(self.keys.user(&merged.user_id))
                    .key(self.keys.user_sessions(&current.user_id))
                    .key(self.keys.user_sessions(&merged.user_id))
                    .key(self.keys.session_expiries())
                    .arg(&raw)
                    .arg(records::encode_session(&merged))
                    .arg(token)
                    .arg(records::expires_ms(merged.expires))
                    .arg(keys::session_member(&current.user_id, token))
                    .arg(keys::session_member(&merged.user_id, token))
                    .arg(flag(update.user_id.is_some()))
                    .arg(now_ms)
                    .arg(self.keys.prefix())
                    .arg(&merged.user_id);
                match self.db.invoke(op, &invocation).await? {
                    Reply::Ok => Ok(Attempt::Done(Some(merged))),
                    Reply::Absent => Ok(Attempt::Done(None)),
                    Reply::NotFound => Err(missing_owner()),
                    Reply::Retry => Ok(Attempt::Retry),
                    other => Err(unexpected_outcome(op, &other)),
                }
            })
            .await
    }

    async fn remove_session(&self, session_token: &str) -> AdapterResult<Option<Session>> {
        let op = Operation::DeleteSession;
        let key = self.keys.session(session_token);
        self.remove_owned(op, &key, records::decode_session, |session| {
            (
                self.keys.user_sessions(&session.user_id),
                session_token.to_owned(),
                Some((
                    self.keys.session_expiries(),
                    keys::session_member(&session.user_id, session_token),
                )),
            )
        })
        .await
    }

    async fn find_sessions(
        &self,
        user_id: &str,
        now: DateTime<Utc>,
    ) -> AdapterResult<Vec<Session>> {
        let index = self.sessions_index(user_id);
        let mut sessions = self
            .list_indexed(Operation::ListSessions, user_id, index)
            .await?;
        sessions.retain(|s| s.expires > now);
        Ok(sessions)
    }

    async fn remove_sessions(&self, user_id: &str, now: DateTime<Utc>) -> AdapterResult<u64> {
        let op = Operation::DeleteSessions;
        let index_key = &self.keys.user_sessions(user_id);
        let now_ms = records::expires_ms(now);
        self.db
            .retrying(op, || async move {
                let tokens: Vec<String> = self
                    .db
                    .query(op, redis::cmd("SMEMBERS").arg(index_key))
                    .await?;
                if tokens.is_empty() {
                    return Ok(Attempt::Done(0));
                }
                let mut invocation = scripts::DELETE_SESSIONS.prepare_invoke();
                invocation.key(index_key).key(self.keys.session_expiries());
                for token in &tokens {
                    invocation.key(self.keys.session(token));
                }
                invocation
                    .arg(user_id)
                    .arg(now_ms)
                    .arg(tokens.len())
                    .arg(&tokens);
                for token in &tokens {
                    invocation.arg(keys::session_member(user_id, token));
                }
                match self.db.invoke(op, &invocation).await? {
                    Reply::Count(n) => Ok(Attempt::Done(count(n))),
                    Reply::Retry => Ok(Attempt::Retry),
                    other => Err(unexpected_outcome(op, &other)),
                }
            })
            .await
    }

    async fn insert_verification_token(&self, token: &VerificationToken) -> AdapterResult<()> {
        let op = Operation::CreateVerificationToken;
        let mut invocation = scripts::CREATE_VERIFICATION_TOKEN.prepare_invoke();
        invocation
            .key(
                self.keys
                    .verification_token(&token.identifier, &token.token),
            )
            .key(self.keys.token_expiries())
            .arg(records::encode_token(token))
            .arg(records::expires_ms(token.expires))
            .arg(keys::token_member(&token.identifier, &token.token));
        match self.db.invoke(op, &invocation).await? {
            Reply::Ok => Ok(()),
            Reply::Conflict => Err(AdapterError::conflict(op, "this verification token exists")),
            other => Err(unexpected_outcome(op, &other)),
        }
    }

    async fn take_verification_token(
        &self,
        identifier: &str,
        token: &str,
    ) -> AdapterResult<Option<VerificationToken>> {
        let op = Operation::UseVerificationToken;
        let mut invocation = scripts::USE_VERIFICATION_TOKEN.prepare_invoke();
        invocation
            .key(self.keys.verification_token(identifier, token))
            .key(self.keys.token_expiries())
            .arg(keys::token_member(identifier, token));
        match self.db.invoke(op, &invocation).await? {
            Reply::Absent => Ok(None),
            Reply::Record(raw) => Ok(Some(decoded(op, &raw, records::decode_token)?)),
            other => Err(unexpected_outcome(op, &other)),
        }
    }

    async fn insert_authenticator(&self, authenticator: &Authenticator) -> AdapterResult<()> {
        let op = Operation::CreateAuthenticator;
        let mut invocation = scripts::INSERT_OWNED.prepare_invoke();
        invocation
            .key(self.keys.user(&authenticator.user_id))
            .key(self.keys.authenticator(&authenticator.credential_id))
            .key(self.keys.user_authenticators(&authenticator.user_id))
            .arg(records::encode_authenticator(authenticator))
            .arg(&authenticator.credential_id);
        match self.db.invoke(op, &invocation).await? {
            Reply::Ok => Ok(()),
            Reply::NotFound => Err(AdapterError::not_found(op, "no user with this id")),
            Reply::Conflict => Err(AdapterError::conflict(op, "this credential id exists")),
            other => Err(unexpected_outcome(op, &other)),
        }
    }

    async fn find_authenticator(
        &self,
        credential_id: &str,
    ) -> AdapterResult<Option<Authenticator>> {
        let op = Operation::GetAuthenticator;
        let key = self.keys.authenticator(credential_id);
        self.db
            .record(op, &key, records::decode_authenticator)
            .await
    }

    async fn find_authenticators(&self, user_id: &str) -> AdapterResult<Vec<Authenticator>> {
        let index = Index {
            set: self.keys.user_authenticators(user_id),
            expiries: None,
            record_key: KeyLayout::authenticator,
            expiry_member: |_, member| member.to_owned(),
            decode: records::decode_authenticator,
            owner: |a| &a.user_id,
        };
        self.list_indexed(Operation::ListAuthenticators, user_id, index)
            .await
    }

    async fn set_authenticator_counter(
        &self,
        credential_id: &str,
        counter: i64,
    ) -> AdapterResult<Option<Authenticator>> {
        let op = Operation::UpdateAuthenticatorCounter;
        let key = self.keys.authenticator(credential_id);
        self.replace(
            op,
            &key,
            records::decode_authenticator,
            records::encode_authenticator,
            |stored| Authenticator { counter, ..stored },
        )
        .await
    }

    async fn remove_authenticator(
        &self,
        credential_id: &str,
    ) -> AdapterResult<Option<Authenticator>> {
        let op = Operation::DeleteAuthenticator;
        let key = self.keys.authenticator(credential_id);
        self.remove_owned(op, &key, records::decode_authenticator, |authenticator| {
            (
                self.keys.user_authenticators(&authenticator.user_id),
                credential_id.to_owned(),
                None,
            )
        })
        .await
    }

    async fn remove_expired(&self, now: DateTime<Utc>) -> AdapterResult<ExpiredCounts> {
        let op = Operation::DeleteExpired;
        let now_ms = records::expires_ms(now);
        let sessions = self
            .sweep(
                op,
                &scripts::SWEEP_SESSIONS,
                &self.keys.session_expiries(),
                now_ms,
                |parts| match parts {
                    [user_id, token] => Some((
                        vec![self.keys.session(token), self.keys.user_sessions(user_id)],
                        vec![token.clone(), user_id.clone()],
                    )),
                    _ => None,
                },
            )
            .await?;
        let verification_tokens = self
            .sweep(
                op,
                &scripts::SWEEP_TOKENS,
                &self.keys.token_expiries(),
                now_ms,
                |parts| match parts {
                    [identifier, token] => Some((
                        vec![self.keys.verification_token(identifier, token)],
                        Vec::new(),
                    )),
                    _ => None,
                },
            )
            .await
            // A connection failure keeps ADAPTER_CONNECTION_ERROR (`with_code` sees to it).
            .map_err(|err| err.with_code(ErrorCode::DeleteVerificationRequestError))?;
        Ok(ExpiredCounts {
            sessions,
            verification_tokens,
        })
    }
}
