//! [`RedisAdapter`]: the [`Adapter`] implementation on Redis.
//!
//! Reads are plain `GET`/`SMEMBERS`/`MGET`; every change that touches more than one key is
//! one Lua script ([`crate::scripts`]). Where a script needs keys that only a stored record
//! names (the owner's index set, the email claim), Rust reads the record first, derives
//! the keys, and passes them in `KEYS` together with the record as read; the script
//! re-checks that record and answers `RETRY` if it changed, and Rust starts over (at most
//! [`MAX_ATTEMPTS`] times). So every script declares the keys it writes.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use async_trait::async_trait;
use auth_core::chrono::{DateTime, Utc};
use auth_core::{
    normalize_email, validate, Account, Adapter, AdapterError, AdapterResult, Authenticator,
    ErrorCode, ErrorKind, ExpiredCounts, Operation, Session, SessionUpdate, User, UserUpdate,
    VerificationToken,
};
use redis::aio::ConnectionManager;
use redis::{Cmd, FromRedisValue, Pipeline, RedisResult, ScriptInvocation, Value};

use crate::error;
use crate::keys::{self, KeyLayout};
use crate::options::RedisAdapterBuilder;
use crate::records;
use crate::scripts::{self, Reply};

/// How often a compare-and-set script is retried when concurrent writers keep changing
/// its inputs, before the call fails with a `Backend` error.
pub const MAX_ATTEMPTS: usize = 16;

/// The key layout version `migrate()` writes to `<prefix>schema-version`.
pub const SCHEMA_VERSION: &str = "1";

/// Expiry-set entries handled per sweep script in `delete_expired`.
const SWEEP_BATCH: usize = 256;

/// The auth adapter on Redis: see the [crate docs](crate) for the key layout and what is
/// atomic. Cloning is cheap and shares the connection.
///
/// ```no_run
/// use std::sync::Arc;
/// use adapter_redis::RedisAdapter;
/// use auth_core::Adapter;
///
/// # async fn run() -> Result<(), auth_core::AdapterError> {
/// let adapter = RedisAdapter::connect("redis://127.0.0.1:6379").await?;
/// adapter.migrate().await?;
/// let db: Arc<dyn Adapter> = Arc::new(adapter);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisAdapter {
    conn: ConnectionManager,
    keys: KeyLayout,
    call_timeout: Duration,
}

impl fmt::Debug for RedisAdapter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisAdapter")
            .field("prefix", &self.keys.prefix())
            .field("call_timeout", &self.call_timeout)
            .finish_non_exhaustive()
    }
}

fn flag(on: bool) -> &'static str {
    if on {
        "1"
    } else {
        "0"
    }
}

impl RedisAdapter {
    /// Options: key prefix, timeouts, reconnects.
    pub fn builder() -> RedisAdapterBuilder {
        RedisAdapterBuilder::new()
    }

    /// Connects with the default options (prefix `auth:`, 5 s timeouts).
    ///
    /// Errors: ADAPTER_CONNECTION_ERROR when Redis cannot be reached within the connection
    /// timeout.
    pub async fn connect(url: &str) -> AdapterResult<Self> {
        RedisAdapterBuilder::new().connect(url).await
    }

    pub(crate) fn from_parts(
        conn: ConnectionManager,
        keys: KeyLayout,
        call_timeout: Duration,
    ) -> Self {
        Self {
            conn,
            keys,
            call_timeout,
        }
    }

    /// The key layout (prefix) of this adapter.
    pub fn keys(&self) -> &KeyLayout {
        &self.keys
    }

    /// The connection the adapter uses (a clone shares it), for commands of your own.
    pub fn connection(&self) -> ConnectionManager {
        self.conn.clone()
    }

    /// The most one round trip may take before it fails with ADAPTER_CONNECTION_ERROR.
    pub fn call_timeout(&self) -> Duration {
        self.call_timeout
    }

    /// Prepares the server: checks that it is Redis 6.2 or later, loads every script, and
    /// writes the layout version to `<prefix>schema-version` (or checks the one there).
    /// Idempotent; stored data is never touched.
    ///
    /// Errors: MIGRATION_ERROR for an old server or a prefix written by another layout
    /// version; ADAPTER_CONNECTION_ERROR when Redis cannot be reached.
    #[tracing::instrument(skip_all, fields(db.system = "redis", prefix = %self.keys.prefix()))]
    pub async fn migrate(&self) -> AdapterResult<()> {
        let op = Operation::Migrate;
        let info: String = self.query(op, redis::cmd("INFO").arg("server")).await?;
        check_server_version(&info).map_err(|why| AdapterError::backend(op, why))?;
        let mut pipe = redis::pipe();
        for (_, source, _) in scripts::all() {
            pipe.cmd("SCRIPT").arg("LOAD").arg(source).ignore();
        }
        let version_key = self.keys.schema_version();
        pipe.cmd("SET")
            .arg(&version_key)
            .arg(SCHEMA_VERSION)
            .arg("NX")
            .ignore();
        pipe.cmd("GET").arg(&version_key);
        let (version,): (Option<String>,) = self.query_pipe(op, &pipe).await?;
        match version.as_deref() {
            Some(SCHEMA_VERSION) => Ok(()),
            other => Err(AdapterError::backend(
                op,
                format!(
                    "the keys under {:?} have layout version {other:?}; this adapter writes {SCHEMA_VERSION}",
                    self.keys.prefix()
                ),
            )),
        }
    }

    // ------------------------------------------------------------ round trips

    async fn bounded<T>(
        &self,
        op: Operation,
        fut: impl Future<Output = RedisResult<T>>,
    ) -> AdapterResult<T> {
        match tokio::time::timeout(self.call_timeout, fut).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(err)) => Err(error::from_redis(op, err)),
            Err(_) => Err(error::timed_out(op, self.call_timeout)),
        }
    }

    async fn query<T: FromRedisValue>(&self, op: Operation, cmd: &Cmd) -> AdapterResult<T> {
        let mut conn = self.conn.clone();
        self.bounded(op, cmd.query_async(&mut conn)).await
    }

    async fn query_pipe<T: FromRedisValue>(
        &self,
        op: Operation,
        pipe: &Pipeline,
    ) -> AdapterResult<T> {
        let mut conn = self.conn.clone();
        self.bounded(op, pipe.query_async(&mut conn)).await
    }

    async fn invoke(
        &self,
        op: Operation,
        invocation: &ScriptInvocation<'_>,
    ) -> AdapterResult<Reply> {
        let mut conn = self.conn.clone();
        let value: Value = self.bounded(op, invocation.invoke_async(&mut conn)).await?;
        Reply::parse(value).map_err(|what| error::unexpected(op, what))
    }

    async fn get(&self, op: Operation, key: &str) -> AdapterResult<Option<Vec<u8>>> {
        self.query(op, redis::cmd("GET").arg(key)).await
    }

    async fn members(&self, op: Operation, key: &str) -> AdapterResult<Vec<String>> {
        self.query(op, redis::cmd("SMEMBERS").arg(key)).await
    }

    async fn mget(&self, op: Operation, keys: &[String]) -> AdapterResult<Vec<Option<Vec<u8>>>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        self.query(op, redis::cmd("MGET").arg(keys)).await
    }

    async fn user_record(&self, op: Operation, id: &str) -> AdapterResult<Option<User>> {
        if id.is_empty() {
            return Ok(None);
        }
        self.get(op, &self.keys.user(id))
            .await?
            .map(|raw| records::decode_user(&raw).map_err(|e| error::corrupt(op, e)))
            .transpose()
    }

    // ------------------------------------------------------------ sweeps

    async fn sweep_sessions(&self, now_ms: i64) -> AdapterResult<u64> {
        let op = Operation::DeleteExpired;
        let zset = self.keys.session_expiries();
        let mut swept = 0u64;
        loop {
            let members: Vec<String> = self
                .query(
                    op,
                    redis::cmd("ZRANGEBYSCORE")
                        .arg(&zset)
                        .arg("-inf")
                        .arg(now_ms)
                        .arg("LIMIT")
                        .arg(0)
                        .arg(SWEEP_BATCH),
                )
                .await?;
            if members.is_empty() {
                return Ok(swept);
            }
            let mut well_formed = Vec::new();
            let mut malformed = Vec::new();
            for member in members {
                match keys::decode_parts(&member).as_deref() {
                    Some([user_id, token]) => {
                        well_formed.push((member.clone(), user_id.clone(), token.clone()))
                    }
                    _ => malformed.push(member),
                }
            }
            if !malformed.is_empty() {
                // Not written by this adapter: no keys to derive, drop the entries.
                let dropped: u64 = self
                    .query(op, redis::cmd("ZREM").arg(&zset).arg(&malformed))
                    .await?;
                swept += dropped;
            }
            if well_formed.is_empty() {
                continue;
            }
            let mut invocation = scripts::SWEEP_SESSIONS.prepare_invoke();
            invocation.key(&zset);
            for (_, user_id, token) in &well_formed {
                invocation
                    .key(self.keys.session(token))
                    .key(self.keys.user_sessions(user_id));
            }
            invocation.arg(now_ms).arg(well_formed.len());
            for (member, _, _) in &well_formed {
                invocation.arg(member);
            }
            for (_, _, token) in &well_formed {
                invocation.arg(token);
            }
            for (_, user_id, _) in &well_formed {
                invocation.arg(user_id);
            }
            match self.invoke(op, &invocation).await? {
                Reply::Count(0) if malformed.is_empty() => return Ok(swept),
                Reply::Count(n) => swept += u64::try_from(n).unwrap_or(0),
                other => return Err(error::unexpected(op, other.describe())),
            }
        }
    }

    async fn sweep_tokens(&self, now_ms: i64) -> AdapterResult<u64> {
        let op = Operation::DeleteExpired;
        let zset = self.keys.token_expiries();
        let mut swept = 0u64;
        loop {
            let members: Vec<String> = self
                .query(
                    op,
                    redis::cmd("ZRANGEBYSCORE")
                        .arg(&zset)
                        .arg("-inf")
                        .arg(now_ms)
                        .arg("LIMIT")
                        .arg(0)
                        .arg(SWEEP_BATCH),
                )
                .await?;
            if members.is_empty() {
                return Ok(swept);
            }
            let mut well_formed = Vec::new();
            let mut malformed = Vec::new();
            for member in members {
                match keys::decode_parts(&member).as_deref() {
                    Some([identifier, token]) => well_formed.push((
                        member.clone(),
                        self.keys.verification_token(identifier, token),
                    )),
                    _ => malformed.push(member),
                }
            }
            if !malformed.is_empty() {
                let dropped: u64 = self
                    .query(op, redis::cmd("ZREM").arg(&zset).arg(&malformed))
                    .await?;
                swept += dropped;
            }
            if well_formed.is_empty() {
                continue;
            }
            let mut invocation = scripts::SWEEP_TOKENS.prepare_invoke();
            invocation.key(&zset);
            for (_, key) in &well_formed {
                invocation.key(key);
            }
            invocation.arg(now_ms).arg(well_formed.len());
            for (member, _) in &well_formed {
                invocation.arg(member);
            }
            match self.invoke(op, &invocation).await? {
                Reply::Count(0) if malformed.is_empty() => return Ok(swept),
                Reply::Count(n) => swept += u64::try_from(n).unwrap_or(0),
                other => return Err(error::unexpected(op, other.describe())),
            }
        }
    }
}

/// Checks `INFO server` for Redis 6.2 or later (`SET … PXAT`, `SMISMEMBER`-era commands).
fn check_server_version(info: &str) -> Result<(), String> {
    let version = info
        .lines()
        .find_map(|line| line.trim().strip_prefix("redis_version:"))
        .ok_or_else(|| "the server did not report redis_version".to_owned())?;
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let major = parts.next().unwrap_or(0);
    let minor = parts.next().unwrap_or(0);
    if (major, minor) >= (6, 2) {
        Ok(())
    } else {
        Err(format!(
            "Redis {version} is too old: this adapter needs 6.2 or later"
        ))
    }
}

fn unexpected(op: Operation, reply: &Reply) -> AdapterError {
    error::unexpected(
        op,
        format!("unexpected script outcome {}", reply.describe()),
    )
}

#[async_trait]
impl Adapter for RedisAdapter {
    #[tracing::instrument(skip_all, fields(db.system = "redis", user_id = %user.id))]
    async fn create_user(&self, user: User) -> AdapterResult<User> {
        let op = Operation::CreateUser;
        validate::non_empty(op, "id", &user.id)?;
        let mut invocation = scripts::CREATE_USER.prepare_invoke();
        invocation.key(self.keys.user(&user.id));
        if let Some(email) = &user.email {
            invocation.key(self.keys.email(&normalize_email(email)));
        }
        invocation.arg(records::encode_user(&user)).arg(&user.id);
        match self.invoke(op, &invocation).await? {
            Reply::Ok => Ok(user),
            Reply::Conflict => Err(AdapterError::conflict(op, "a user with this id exists")),
            Reply::ConflictEmail => {
                Err(AdapterError::conflict(op, "a user with this email exists"))
            }
            other => Err(unexpected(op, &other)),
        }
    }

    #[tracing::instrument(skip_all, fields(db.system = "redis", user_id = %id))]
    async fn get_user(&self, id: &str) -> AdapterResult<Option<User>> {
        self.user_record(Operation::GetUser, id).await
    }

    #[tracing::instrument(skip_all, fields(db.system = "redis"))]
    async fn get_user_by_email(&self, email: &str) -> AdapterResult<Option<User>> {
        let op = Operation::GetUserByEmail;
        let key = self.keys.email(&normalize_email(email));
        let id: Option<String> = self.query(op, redis::cmd("GET").arg(&key)).await?;
        match id {
            Some(id) => self.user_record(op, &id).await,
            None => Ok(None),
        }
    }

    #[tracing::instrument(skip_all, fields(db.system = "redis", provider = %provider))]
    async fn get_user_by_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<User>> {
        let op = Operation::GetUserByAccount;
        let Some(raw) = self
            .get(op, &self.keys.account(provider, provider_account_id))
            .await?
        else {
            return Ok(None);
        };
        let account = records::decode_account(&raw).map_err(|e| error::corrupt(op, e))?;
        self.user_record(op, &account.user_id).await
    }

    #[tracing::instrument(skip_all, fields(db.system = "redis", user_id = %update.id))]
    async fn update_user(&self, update: UserUpdate) -> AdapterResult<User> {
        let op = Operation::UpdateUser;
        let user_key = self.keys.user(&update.id);
        for _ in 0..MAX_ATTEMPTS {
            let Some(raw) = self.get(op, &user_key).await? else {
                return Err(AdapterError::not_found(op, "no user with this id"));
            };
            let current = records::decode_user(&raw).map_err(|e| error::corrupt(op, e))?;
            let merged = update.apply_to(current.clone());
            let old_email = current.email.as_deref().map(normalize_email);
            let new_email = merged.email.as_deref().map(normalize_email);
            let (old_email, new_email) = if old_email == new_email {
                (None, None)
            } else {
                (old_email, new_email)
            };
            let mut invocation = scripts::UPDATE_USER.prepare_invoke();
            invocation.key(&user_key);
            if let Some(email) = &old_email {
                invocation.key(self.keys.email(email));
            }
            if let Some(email) = &new_email {
                invocation.key(self.keys.email(email));
            }
            invocation
                .arg(&raw)
                .arg(records::encode_user(&merged))
                .arg(&update.id)
                .arg(flag(old_email.is_some()))
                .arg(flag(new_email.is_some()));
            match self.invoke(op, &invocation).await? {
                Reply::Ok => return Ok(merged),
                Reply::NotFound => return Err(AdapterError::not_found(op, "no user with this id")),
                Reply::ConflictEmail => {
                    return Err(AdapterError::conflict(
                        op,
                        "the new email belongs to another user",
                    ))
                }
                Reply::Retry => continue,
                other => return Err(unexpected(op, &other)),
            }
        }
        Err(error::contention(op, MAX_ATTEMPTS))
    }

    #[tracing::instrument(skip_all, fields(db.system = "redis", user_id = %id))]
    async fn delete_user(&self, id: &str) -> AdapterResult<Option<User>> {
        let op = Operation::DeleteUser;
        if id.is_empty() {
            return Ok(None);
        }
        let user_key = self.keys.user(id);
        let sessions_key = self.keys.user_sessions(id);
        let accounts_key = self.keys.user_accounts(id);
        let authenticators_key = self.keys.user_authenticators(id);
        for _ in 0..MAX_ATTEMPTS {
            let mut read = redis::pipe();
            read.cmd("GET").arg(&user_key);
            read.cmd("SMEMBERS").arg(&sessions_key);
            read.cmd("SMEMBERS").arg(&accounts_key);
            read.cmd("SMEMBERS").arg(&authenticators_key);
            let (raw, tokens, accounts, credentials): (
                Option<Vec<u8>>,
                Vec<String>,
                Vec<String>,
                Vec<String>,
            ) = self.query_pipe(op, &read).await?;
            let Some(raw) = raw else {
                return Ok(None);
            };
            let user = records::decode_user(&raw).map_err(|e| error::corrupt(op, e))?;
            let mut invocation = scripts::DELETE_USER.prepare_invoke();
            invocation
                .key(&user_key)
                .key(&sessions_key)
                .key(&accounts_key)
                .key(&authenticators_key)
                .key(self.keys.session_expiries());
            if let Some(email) = &user.email {
                invocation.key(self.keys.email(&normalize_email(email)));
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
                .arg(flag(user.email.is_some()))
                .arg(tokens.len())
                .arg(accounts.len())
                .arg(credentials.len())
                .arg(&tokens);
            for token in &tokens {
                invocation.arg(keys::session_member(id, token));
            }
            invocation.arg(&accounts).arg(&credentials);
            match self.invoke(op, &invocation).await? {
                Reply::Record(_) => return Ok(Some(user)),
                Reply::Absent => return Ok(None),
                Reply::Retry => continue,
                other => return Err(unexpected(op, &other)),
            }
        }
        Err(error::contention(op, MAX_ATTEMPTS))
    }

    #[tracing::instrument(skip_all, fields(db.system = "redis", user_id = %account.user_id, provider = %account.provider))]
    async fn link_account(&self, account: Account) -> AdapterResult<Account> {
        let op = Operation::LinkAccount;
        validate::non_empty(op, "provider", &account.provider)?;
        validate::non_empty(op, "provider_account_id", &account.provider_account_id)?;
        let mut invocation = scripts::INSERT_OWNED.prepare_invoke();
        invocation
            .key(self.keys.user(&account.user_id))
            .key(
                self.keys
                    .account(&account.provider, &account.provider_account_id),
            )
            .key(self.keys.user_accounts(&account.user_id))
            .arg(records::encode_account(&account))
            .arg(keys::account_member(
                &account.provider,
                &account.provider_account_id,
            ));
        match self.invoke(op, &invocation).await? {
            Reply::Ok => Ok(account),
            Reply::NotFound => Err(AdapterError::not_found(op, "no user with this id")),
            Reply::Conflict => Err(AdapterError::conflict(
                op,
                "this provider account is linked already",
            )),
            other => Err(unexpected(op, &other)),
        }
    }

    #[tracing::instrument(skip_all, fields(db.system = "redis", provider = %provider))]
    async fn unlink_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<Account>> {
        let op = Operation::UnlinkAccount;
        let key = self.keys.account(provider, provider_account_id);
        for _ in 0..MAX_ATTEMPTS {
            let Some(raw) = self.get(op, &key).await? else {
                return Ok(None);
            };
            let account = records::decode_account(&raw).map_err(|e| error::corrupt(op, e))?;
            let mut invocation = scripts::UNLINK_ACCOUNT.prepare_invoke();
            invocation
                .key(&key)
                .key(self.keys.user_accounts(&account.user_id))
                .arg(&raw)
                .arg(keys::account_member(provider, provider_account_id));
            match self.invoke(op, &invocation).await? {
                Reply::Record(_) => return Ok(Some(account)),
                Reply::Absent => return Ok(None),
                Reply::Retry => continue,
                other => return Err(unexpected(op, &other)),
            }
        }
        Err(error::contention(op, MAX_ATTEMPTS))
    }

    #[tracing::instrument(skip_all, fields(db.system = "redis", provider = %provider))]
    async fn get_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<Account>> {
        let op = Operation::GetAccount;
        self.get(op, &self.keys.account(provider, provider_account_id))
            .await?
            .map(|raw| records::decode_account(&raw).map_err(|e| error::corrupt(op, e)))
            .transpose()
    }

    #[tracing::instrument(skip_all, fields(db.system = "redis", provider = %account.provider))]
    async fn update_account(&self, account: Account) -> AdapterResult<Option<Account>> {
        let op = Operation::UpdateAccount;
        let key = self
            .keys
            .account(&account.provider, &account.provider_account_id);
        for _ in 0..MAX_ATTEMPTS {
            let Some(raw) = self.get(op, &key).await? else {
                return Ok(None);
            };
            let stored = records::decode_account(&raw).map_err(|e| error::corrupt(op, e))?;
            let updated = Account {
                user_id: stored.user_id,
                account_type: stored.account_type,
                ..account.clone()
            };
            let mut invocation = scripts::REPLACE_RECORD.prepare_invoke();
            invocation
                .key(&key)
                .arg(&raw)
                .arg(records::encode_account(&updated));
            match self.invoke(op, &invocation).await? {
                Reply::Ok => return Ok(Some(updated)),
                Reply::Absent => return Ok(None),
                Reply::Retry => continue,
                other => return Err(unexpected(op, &other)),
            }
        }
        Err(error::contention(op, MAX_ATTEMPTS))
    }

    #[tracing::instrument(skip_all, fields(db.system = "redis", user_id = %session.user_id))]
    async fn create_session(&self, session: Session) -> AdapterResult<Session> {
        let op = Operation::CreateSession;
        validate::non_empty(op, "session_token", &session.session_token)?;
        let mut invocation = scripts::CREATE_SESSION.prepare_invoke();
        invocation
            .key(self.keys.user(&session.user_id))
            .key(self.keys.session(&session.session_token))
            .key(self.keys.user_sessions(&session.user_id))
            .key(self.keys.session_expiries())
            .arg(records::encode_session(&session))
            .arg(&session.session_token)
            .arg(records::expires_ms(session.expires))
            .arg(keys::session_member(
                &session.user_id,
                &session.session_token,
            ));
        match self.invoke(op, &invocation).await? {
            Reply::Ok => Ok(session),
            Reply::NotFound => Err(AdapterError::not_found(op, "no user with this id")),
            Reply::Conflict => Err(AdapterError::conflict(op, "this session token exists")),
            other => Err(unexpected(op, &other)),
        }
    }

    #[tracing::instrument(skip_all, fields(db.system = "redis"))]
    async fn get_session_and_user(
        &self,
        session_token: &str,
    ) -> AdapterResult<Option<(Session, User)>> {
        let op = Operation::GetSessionAndUser;
        if session_token.is_empty() {
            return Ok(None);
        }
        let mut invocation = scripts::GET_SESSION_AND_USER.prepare_invoke();
        invocation
            .key(self.keys.session(session_token))
            .arg(self.keys.prefix());
        match self.invoke(op, &invocation).await? {
            Reply::Absent => Ok(None),
            Reply::Records(pair) => match pair.as_slice() {
                [session, user] => {
                    let session =
                        records::decode_session(session).map_err(|e| error::corrupt(op, e))?;
                    let user = records::decode_user(user).map_err(|e| error::corrupt(op, e))?;
                    Ok(Some((session, user)))
                }
                _ => Err(error::unexpected(op, "a session reply without two records")),
            },
            other => Err(unexpected(op, &other)),
        }
    }

    #[tracing::instrument(skip_all, fields(db.system = "redis"))]
    async fn update_session(&self, update: SessionUpdate) -> AdapterResult<Option<Session>> {
        let op = Operation::UpdateSession;
        let token = &update.session_token;
        let session_key = self.keys.session(token);
        for _ in 0..MAX_ATTEMPTS {
            let Some(raw) = self.get(op, &session_key).await? else {
                // As the reference adapter: a missing new owner is reported first.
                if let Some(user_id) = &update.user_id {
                    if self.user_record(op, user_id).await?.is_none() {
                        return Err(AdapterError::not_found(op, "no user with the new user id"));
                    }
                }
                return Ok(None);
            };
            let current = records::decode_session(&raw).map_err(|e| error::corrupt(op, e))?;
            let merged = update.apply_to(current.clone());
            let moved = merged.user_id != current.user_id;
            let mut invocation = scripts::UPDATE_SESSION.prepare_invoke();
            invocation
                .key(&session_key)
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
                .arg(flag(moved));
            match self.invoke(op, &invocation).await? {
                Reply::Ok => return Ok(Some(merged)),
                Reply::Absent => return Ok(None),
                Reply::NotFound => {
                    return Err(AdapterError::not_found(op, "no user with the new user id"))
                }
                Reply::Retry => continue,
                other => return Err(unexpected(op, &other)),
            }
        }
        Err(error::contention(op, MAX_ATTEMPTS))
    }

    #[tracing::instrument(skip_all, fields(db.system = "redis"))]
    async fn delete_session(&self, session_token: &str) -> AdapterResult<Option<Session>> {
        let op = Operation::DeleteSession;
        if session_token.is_empty() {
            return Ok(None);
        }
        let session_key = self.keys.session(session_token);
        for _ in 0..MAX_ATTEMPTS {
            let Some(raw) = self.get(op, &session_key).await? else {
                return Ok(None);
            };
            let session = records::decode_session(&raw).map_err(|e| error::corrupt(op, e))?;
            let mut invocation = scripts::DELETE_SESSION.prepare_invoke();
            invocation
                .key(&session_key)
                .key(self.keys.user_sessions(&session.user_id))
                .key(self.keys.session_expiries())
                .arg(&raw)
                .arg(session_token)
                .arg(keys::session_member(&session.user_id, session_token));
            match self.invoke(op, &invocation).await? {
                Reply::Record(_) => return Ok(Some(session)),
                Reply::Absent => return Ok(None),
                Reply::Retry => continue,
                other => return Err(unexpected(op, &other)),
            }
        }
        Err(error::contention(op, MAX_ATTEMPTS))
    }

    #[tracing::instrument(skip_all, fields(db.system = "redis", user_id = %user_id))]
    async fn list_sessions(&self, user_id: &str) -> AdapterResult<Vec<Session>> {
        let op = Operation::ListSessions;
        if user_id.is_empty() {
            return Ok(Vec::new());
        }
        let index_key = self.keys.user_sessions(user_id);
        let tokens = self.members(op, &index_key).await?;
        let session_keys: Vec<String> = tokens.iter().map(|t| self.keys.session(t)).collect();
        let raws = self.mget(op, &session_keys).await?;
        let now = Utc::now();
        let mut live = Vec::new();
        let mut stale = Vec::new();
        for (token, raw) in tokens.iter().zip(raws) {
            let owned = match raw {
                Some(raw) => {
                    let session =
                        records::decode_session(&raw).map_err(|e| error::corrupt(op, e))?;
                    if session.user_id == user_id {
                        if session.expires > now {
                            live.push(session);
                        }
                        true
                    } else {
                        false
                    }
                }
                None => false,
            };
            if !owned {
                stale.push(token.as_str());
            }
        }
        if !stale.is_empty() {
            // Lazy clean-up of index entries whose session expired or was reused; a failure
            // here does not fail the read.
            let mut invocation = scripts::USER_SESSIONS.prepare_invoke();
            invocation.key(&index_key).key(self.keys.session_expiries());
            for token in &stale {
                invocation.key(self.keys.session(token));
            }
            invocation
                .arg(user_id)
                .arg("prune")
                .arg(stale.len())
                .arg(&stale);
            for token in &stale {
                invocation.arg(keys::session_member(user_id, token));
            }
            if let Err(err) = self.invoke(op, &invocation).await {
                tracing::warn!(error = %err, "pruning the session index failed");
            }
        }
        Ok(live)
    }

    #[tracing::instrument(skip_all, fields(db.system = "redis", user_id = %user_id))]
    async fn delete_sessions(&self, user_id: &str) -> AdapterResult<u64> {
        let op = Operation::DeleteSessions;
        if user_id.is_empty() {
            return Ok(0);
        }
        let index_key = self.keys.user_sessions(user_id);
        for _ in 0..MAX_ATTEMPTS {
            let tokens = self.members(op, &index_key).await?;
            if tokens.is_empty() {
                return Ok(0);
            }
            let mut invocation = scripts::USER_SESSIONS.prepare_invoke();
            invocation.key(&index_key).key(self.keys.session_expiries());
            for token in &tokens {
                invocation.key(self.keys.session(token));
            }
            invocation
                .arg(user_id)
                .arg("delete")
                .arg(tokens.len())
                .arg(&tokens);
            for token in &tokens {
                invocation.arg(keys::session_member(user_id, token));
            }
            match self.invoke(op, &invocation).await? {
                Reply::Count(n) => return Ok(u64::try_from(n).unwrap_or(0)),
                Reply::Retry => continue,
                other => return Err(unexpected(op, &other)),
            }
        }
        Err(error::contention(op, MAX_ATTEMPTS))
    }

    #[tracing::instrument(skip_all, fields(db.system = "redis"))]
    async fn create_verification_token(
        &self,
        token: VerificationToken,
    ) -> AdapterResult<VerificationToken> {
        let op = Operation::CreateVerificationToken;
        validate::non_empty(op, "identifier", &token.identifier)?;
        validate::non_empty(op, "token", &token.token)?;
        let mut invocation = scripts::CREATE_VERIFICATION_TOKEN.prepare_invoke();
        invocation
            .key(
                self.keys
                    .verification_token(&token.identifier, &token.token),
            )
            .key(self.keys.token_expiries())
            .arg(records::encode_token(&token))
            .arg(records::expires_ms(token.expires))
            .arg(keys::token_member(&token.identifier, &token.token));
        match self.invoke(op, &invocation).await? {
            Reply::Ok => Ok(token),
            Reply::Conflict => Err(AdapterError::conflict(op, "this verification token exists")),
            other => Err(unexpected(op, &other)),
        }
    }

    #[tracing::instrument(skip_all, fields(db.system = "redis"))]
    async fn use_verification_token(
        &self,
        identifier: &str,
        token: &str,
    ) -> AdapterResult<Option<VerificationToken>> {
        let op = Operation::UseVerificationToken;
        if identifier.is_empty() || token.is_empty() {
            return Ok(None);
        }
        let mut invocation = scripts::USE_VERIFICATION_TOKEN.prepare_invoke();
        invocation
            .key(self.keys.verification_token(identifier, token))
            .key(self.keys.token_expiries())
            .arg(keys::token_member(identifier, token));
        match self.invoke(op, &invocation).await? {
            Reply::Absent => Ok(None),
            Reply::Record(raw) => {
                let taken = records::decode_token(&raw).map_err(|e| error::corrupt(op, e))?;
                // Taken either way: an expired token is removed and gives nothing.
                Ok((taken.expires > Utc::now()).then_some(taken))
            }
            other => Err(unexpected(op, &other)),
        }
    }

    #[tracing::instrument(skip_all, fields(db.system = "redis", user_id = %authenticator.user_id))]
    async fn create_authenticator(
        &self,
        authenticator: Authenticator,
    ) -> AdapterResult<Authenticator> {
        let op = Operation::CreateAuthenticator;
        validate::non_empty(op, "credential_id", &authenticator.credential_id)?;
        let mut invocation = scripts::INSERT_OWNED.prepare_invoke();
        invocation
            .key(self.keys.user(&authenticator.user_id))
            .key(self.keys.authenticator(&authenticator.credential_id))
            .key(self.keys.user_authenticators(&authenticator.user_id))
            .arg(records::encode_authenticator(&authenticator))
            .arg(&authenticator.credential_id);
        match self.invoke(op, &invocation).await? {
            Reply::Ok => Ok(authenticator),
            Reply::NotFound => Err(AdapterError::not_found(op, "no user with this id")),
            Reply::Conflict => Err(AdapterError::conflict(op, "this credential id exists")),
            other => Err(unexpected(op, &other)),
        }
    }

    #[tracing::instrument(skip_all, fields(db.system = "redis"))]
    async fn get_authenticator(&self, credential_id: &str) -> AdapterResult<Option<Authenticator>> {
        let op = Operation::GetAuthenticator;
        self.get(op, &self.keys.authenticator(credential_id))
            .await?
            .map(|raw| records::decode_authenticator(&raw).map_err(|e| error::corrupt(op, e)))
            .transpose()
    }

    #[tracing::instrument(skip_all, fields(db.system = "redis", user_id = %user_id))]
    async fn list_authenticators(&self, user_id: &str) -> AdapterResult<Vec<Authenticator>> {
        let op = Operation::ListAuthenticators;
        if user_id.is_empty() {
            return Ok(Vec::new());
        }
        let ids = self
            .members(op, &self.keys.user_authenticators(user_id))
            .await?;
        let keys: Vec<String> = ids.iter().map(|id| self.keys.authenticator(id)).collect();
        let mut list = Vec::with_capacity(keys.len());
        for raw in self.mget(op, &keys).await?.into_iter().flatten() {
            let authenticator =
                records::decode_authenticator(&raw).map_err(|e| error::corrupt(op, e))?;
            if authenticator.user_id == user_id {
                list.push(authenticator);
            }
        }
        Ok(list)
    }

    #[tracing::instrument(skip_all, fields(db.system = "redis", counter))]
    async fn update_authenticator_counter(
        &self,
        credential_id: &str,
        counter: i64,
    ) -> AdapterResult<Authenticator> {
        let op = Operation::UpdateAuthenticatorCounter;
        tracing::Span::current().record("counter", counter);
        let key = self.keys.authenticator(credential_id);
        let missing = || AdapterError::not_found(op, "no authenticator with this credential id");
        for _ in 0..MAX_ATTEMPTS {
            let Some(raw) = self.get(op, &key).await? else {
                return Err(missing());
            };
            let stored = records::decode_authenticator(&raw).map_err(|e| error::corrupt(op, e))?;
            let updated = Authenticator { counter, ..stored };
            let mut invocation = scripts::REPLACE_RECORD.prepare_invoke();
            invocation
                .key(&key)
                .arg(&raw)
                .arg(records::encode_authenticator(&updated));
            match self.invoke(op, &invocation).await? {
                Reply::Ok => return Ok(updated),
                Reply::Absent => return Err(missing()),
                Reply::Retry => continue,
                other => return Err(unexpected(op, &other)),
            }
        }
        Err(error::contention(op, MAX_ATTEMPTS))
    }

    #[tracing::instrument(skip_all, fields(db.system = "redis", now = %now))]
    async fn delete_expired(&self, now: DateTime<Utc>) -> AdapterResult<ExpiredCounts> {
        let now_ms = records::expires_ms(now);
        let sessions = self.sweep_sessions(now_ms).await?;
        let verification_tokens = self.sweep_tokens(now_ms).await.map_err(|err| {
            if err.kind() == ErrorKind::Connection {
                err
            } else {
                err.with_code(ErrorCode::DeleteVerificationRequestError)
            }
        })?;
        Ok(ExpiredCounts {
            sessions,
            verification_tokens,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_versions() {
        assert!(check_server_version("# Server\r\nredis_version:7.0.15\r\n").is_ok());
        assert!(check_server_version("redis_version:6.2.0").is_ok());
        assert!(check_server_version("redis_version:10.0.0").is_ok());
        assert!(check_server_version("redis_version:6.0.9").is_err());
        assert!(check_server_version("nothing").is_err());
    }
}
