//! [`RedisAdapter`]: the [`Store`] implementation on Redis. The policy layer of auth-core
//! (validation, the email key, millisecond timestamps, the clock, expiry filtering, secrets
//! kept out of errors, a span per call) makes it an [`Adapter`](auth_core::Adapter).
//!
//! Reads are plain `GET`/`SMEMBERS`/`MGET`; every change that touches more than one key is
//! one Lua script ([`crate::scripts`]). Where a script needs keys that only a stored record
//! names (the owner's index set, the email claim), Rust reads the record first, derives
//! the keys, and passes them in `KEYS` together with the record as read; the script
//! re-checks that record and answers `RETRY` if it changed, and [`RedisAdapter::retrying`]
//! starts over (at most [`MAX_ATTEMPTS`] times). So every script declares the keys it writes.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use auth_core::chrono::{DateTime, Utc};
use auth_core::{
    Account, AdapterError, AdapterResult, Authenticator, ErrorCode, ExpiredCounts, Operation,
    Session, SessionUpdate, Store, User, UserUpdate, VerificationToken,
};
use redis::aio::ConnectionManager;
use redis::{Cmd, FromRedisValue, Pipeline, RedisResult, Script, ScriptInvocation, Value};

use crate::error;
use crate::keys::{self, KeyLayout};
use crate::layout::Layout;
use crate::options::RedisAdapterBuilder;
use crate::records::{self, CorruptRecord};
use crate::scripts::{self, Reply};
use crate::unstorage::{keys::Keys, Unstorage};

/// How often a compare-and-set script is retried when concurrent writers keep changing
/// its inputs, before the call fails with a `Backend` error.
///
/// ```
/// assert_eq!(adapter_redis::MAX_ATTEMPTS, 16);
/// ```
pub const MAX_ATTEMPTS: usize = 16;

/// The key layout version `migrate()` writes to `<prefix>schema-version`.
///
/// ```
/// assert_eq!(adapter_redis::SCHEMA_VERSION, "1");
/// ```
pub const SCHEMA_VERSION: &str = "1";

/// Expiry-set entries handled per sweep script in `delete_expired`.
const SWEEP_BATCH: usize = 256;

/// The auth adapter on Redis: see the [crate docs](crate) for the key layout and what is
/// atomic. Cloning is cheap and shares the connection. Every call is bounded by the
/// [call timeout](RedisAdapterBuilder::call_timeout).
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
    /// `None` once [`close`](Self::close) was called.
    conn: Arc<RwLock<Option<ConnectionManager>>>,
    keys: KeyLayout,
    call_timeout: Duration,
    /// The Auth.js unstorage layout's keys, when that layout was chosen.
    unstorage: Option<Keys>,
}

/// Shows the prefix and the timeout, never a record or a connection detail.
impl fmt::Debug for RedisAdapter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisAdapter")
            .field("prefix", &self.keys.prefix())
            .field("layout", &self.layout_name())
            .field("call_timeout", &self.call_timeout)
            .field("closed", &self.manager().is_none())
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

/// One attempt of a compare-and-set: done, or the record changed under it.
pub(crate) enum Attempt<T> {
    Done(T),
    Retry,
}

/// Reads a stored record, or fails the operation with a `Backend` error.
pub(crate) fn decoded<T>(
    op: Operation,
    raw: &[u8],
    decode: fn(&[u8]) -> Result<T, CorruptRecord>,
) -> AdapterResult<T> {
    decode(raw).map_err(|e| error::corrupt(op, e))
}

pub(crate) fn unexpected(op: Operation, reply: &Reply) -> AdapterError {
    error::unexpected(
        op,
        format!("unexpected script outcome {}", reply.describe()),
    )
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

impl RedisAdapter {
    /// Options (key prefix, layout, call timeout, reconnects) for the server at `url`;
    /// finish with [`RedisAdapterBuilder::connect`].
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), auth_core::AdapterError> {
    /// let adapter = adapter_redis::RedisAdapter::builder("redis://127.0.0.1:6379")
    ///     .key_prefix("myapp:auth:")
    ///     .connect()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn builder(url: impl Into<String>) -> RedisAdapterBuilder {
        RedisAdapterBuilder::new(url)
    }

    /// Connects with the default options (prefix `auth:`,
    /// [`DEFAULT_CALL_TIMEOUT`](crate::DEFAULT_CALL_TIMEOUT)).
    ///
    /// Errors: `InvalidInput` for a URL redis-rs does not accept (before any I/O);
    /// ADAPTER_CONNECTION_ERROR when Redis cannot be reached within the call timeout (a
    /// refused connection fails at once, its cause in `source()`).
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), auth_core::AdapterError> {
    /// let adapter = adapter_redis::RedisAdapter::connect("redis://127.0.0.1:6379").await?;
    /// # Ok(()) }
    /// ```
    pub async fn connect(url: &str) -> AdapterResult<Self> {
        RedisAdapterBuilder::new(url).connect().await
    }

    /// Options for an adapter on a [`ConnectionManager`] the app already has (the adapter
    /// shares its connection: a clone of the manager), finished by
    /// [`RedisAdapterBuilder::connect`], which does no I/O. Every builder option applies
    /// to it (key prefix, layout, call timeout), except those of a connection the adapter
    /// opens itself: [`reconnect_retries`](RedisAdapterBuilder::reconnect_retries) and
    /// [`reconnect_max_delay`](RedisAdapterBuilder::reconnect_max_delay) make `connect`
    /// fail with `InvalidInput` (configure the manager instead, e.g. with
    /// [`RedisAdapterBuilder::manager_config`]).
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use adapter_redis::{redis, RedisAdapter};
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let client = redis::Client::open("redis://127.0.0.1:6379")?;
    /// let manager = redis::aio::ConnectionManager::new(client).await?;
    /// let adapter = RedisAdapter::from_pool(manager.clone())
    ///     .key_prefix("myapp:auth:")
    ///     .call_timeout(Duration::from_secs(2))
    ///     .connect()
    ///     .await?;
    /// // The app keeps using `manager` for its own commands.
    /// # Ok(()) }
    /// ```
    pub fn from_pool(manager: ConnectionManager) -> RedisAdapterBuilder {
        RedisAdapterBuilder::adopting(manager)
    }

    /// The adapter on a checked configuration (see [`RedisAdapterBuilder::connect`]).
    pub(crate) fn from_parts(
        conn: ConnectionManager,
        keys: KeyLayout,
        call_timeout: Duration,
        layout: &Layout,
    ) -> Self {
        Self {
            conn: Arc::new(RwLock::new(Some(conn))),
            keys,
            call_timeout,
            unstorage: match layout {
                Layout::Native => None,
                Layout::AuthJsUnstorage(options) => Some(Keys::new(
                    options.get_base_key_prefix(),
                    options.get_driver_base(),
                )),
            },
        }
    }

    fn layout_name(&self) -> &'static str {
        match self.unstorage {
            None => "native",
            Some(_) => "authjs-unstorage",
        }
    }

    /// The Auth.js unstorage layout's methods, when that layout was chosen.
    fn unstorage(&self) -> Option<Unstorage<'_>> {
        self.unstorage
            .as_ref()
            .map(|keys| Unstorage { db: self, keys })
    }

    /// The key layout (prefix) of this adapter, for this workspace's tests and conformance
    /// inspectors, which read the keys raw (hidden: [`KeyLayout`] is an implementation
    /// detail, see [`crate::keys`]).
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), auth_core::AdapterError> {
    /// let adapter = adapter_redis::RedisAdapter::connect("redis://127.0.0.1:6379").await?;
    /// assert_eq!(adapter.keys().prefix(), "auth:");
    /// # Ok(()) }
    /// ```
    #[doc(hidden)]
    pub fn keys(&self) -> &KeyLayout {
        &self.keys
    }

    /// The connection the adapter uses (a clone shares it), for commands of your own;
    /// `None` after [`close`](Self::close).
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let adapter = adapter_redis::RedisAdapter::connect("redis://127.0.0.1:6379").await?;
    /// let mut conn = adapter.connection().expect("open");
    /// let pong: String = adapter_redis::redis::cmd("PING").query_async(&mut conn).await?;
    /// # Ok(()) }
    /// ```
    pub fn connection(&self) -> Option<ConnectionManager> {
        self.manager()
    }

    /// The most one call may take before it fails with ADAPTER_CONNECTION_ERROR (see
    /// [`RedisAdapterBuilder::call_timeout`]).
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), auth_core::AdapterError> {
    /// let adapter = adapter_redis::RedisAdapter::connect("redis://127.0.0.1:6379").await?;
    /// assert_eq!(adapter.call_timeout(), adapter_redis::DEFAULT_CALL_TIMEOUT);
    /// # Ok(()) }
    /// ```
    pub fn call_timeout(&self) -> Duration {
        self.call_timeout
    }

    /// Lets go of the connection, for this adapter and every clone of it: calls afterwards
    /// fail with ADAPTER_CONNECTION_ERROR. The connection closes once no call in flight
    /// holds it (a manager shared with the app stays open for the app's own clones).
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), auth_core::AdapterError> {
    /// use auth_core::Adapter;
    /// let adapter = adapter_redis::RedisAdapter::connect("redis://127.0.0.1:6379").await?;
    /// adapter.close().await;
    /// assert!(adapter.get_user("u1").await.is_err());
    /// # Ok(()) }
    /// ```
    pub async fn close(&self) {
        self.conn
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
    }

    /// Prepares the server: checks that it is Redis 7.0 or later (Valkey reports 7.2), loads every script, and
    /// writes the layout version to `<prefix>schema-version` (or checks the one there).
    /// Idempotent; stored data is never touched.
    ///
    /// Errors: MIGRATION_ERROR for an old server or a prefix written by another layout
    /// version; ADAPTER_CONNECTION_ERROR when Redis cannot be reached within the call
    /// timeout.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), auth_core::AdapterError> {
    /// let adapter = adapter_redis::RedisAdapter::connect("redis://127.0.0.1:6379").await?;
    /// adapter.migrate().await?;
    /// adapter.migrate().await?; // harmless
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(skip_all, fields(db.system = "redis", prefix = %self.keys.prefix()))]
    pub async fn migrate(&self) -> AdapterResult<()> {
        self.call(Operation::Migrate, self.migrate_unbounded())
            .await
    }

    async fn migrate_unbounded(&self) -> AdapterResult<()> {
        let op = Operation::Migrate;
        let info: String = self.query(op, redis::cmd("INFO").arg("server")).await?;
        check_server_version(&info).map_err(|why| AdapterError::backend(op, why))?;
        let mut pipe = redis::pipe();
        for (_, source, _) in scripts::all() {
            pipe.cmd("SCRIPT").arg("LOAD").arg(source).ignore();
        }
        if self.unstorage.is_some() {
            // Auth.js keeps no layout version: nothing to write or check.
            return self.query_pipe(op, &pipe).await;
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
                    "the keys under this prefix have layout version {other:?}; this adapter writes {SCHEMA_VERSION}"
                ),
            )),
        }
    }

    // ------------------------------------------------------------ round trips

    fn manager(&self) -> Option<ConnectionManager> {
        self.conn
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn open(&self, op: Operation) -> AdapterResult<ConnectionManager> {
        self.manager().ok_or_else(|| error::closed(op))
    }

    /// Runs one adapter call (all of its round trips and retries) within the call timeout:
    /// past it the call is dropped and fails with ADAPTER_CONNECTION_ERROR, whatever the
    /// server does. A request already written stays queued on the multiplexed connection
    /// and its late reply is discarded.
    async fn call<T>(
        &self,
        op: Operation,
        call: impl Future<Output = AdapterResult<T>>,
    ) -> AdapterResult<T> {
        auth_core::bound::within(op, self.call_timeout, call).await
    }

    /// One round trip, its driver error mapped (the bound is [`call`](Self::call)'s).
    async fn round_trip<T>(
        &self,
        op: Operation,
        fut: impl Future<Output = RedisResult<T>>,
    ) -> AdapterResult<T> {
        fut.await.map_err(|err| error::from_redis(op, err))
    }

    pub(crate) async fn query<T: FromRedisValue>(
        &self,
        op: Operation,
        cmd: &Cmd,
    ) -> AdapterResult<T> {
        let mut conn = self.open(op)?;
        self.round_trip(op, cmd.query_async(&mut conn)).await
    }

    pub(crate) async fn query_pipe<T: FromRedisValue>(
        &self,
        op: Operation,
        pipe: &Pipeline,
    ) -> AdapterResult<T> {
        let mut conn = self.open(op)?;
        self.round_trip(op, pipe.query_async(&mut conn)).await
    }

    pub(crate) async fn invoke(
        &self,
        op: Operation,
        invocation: &ScriptInvocation<'_>,
    ) -> AdapterResult<Reply> {
        let mut conn = self.open(op)?;
        let value: Value = self
            .round_trip(op, invocation.invoke_async(&mut conn))
            .await?;
        Reply::parse(value).map_err(|what| error::unexpected(op, what))
    }

    pub(crate) async fn get(&self, op: Operation, key: &str) -> AdapterResult<Option<Vec<u8>>> {
        self.query(op, redis::cmd("GET").arg(key)).await
    }

    pub(crate) async fn mget(
        &self,
        op: Operation,
        keys: &[String],
    ) -> AdapterResult<Vec<Option<Vec<u8>>>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        self.query(op, redis::cmd("MGET").arg(keys)).await
    }

    /// The record at `key`, decoded.
    pub(crate) async fn record<T>(
        &self,
        op: Operation,
        key: &str,
        decode: fn(&[u8]) -> Result<T, CorruptRecord>,
    ) -> AdapterResult<Option<T>> {
        self.get(op, key)
            .await?
            .map(|raw| decoded(op, &raw, decode))
            .transpose()
    }

    /// The record at `key` as stored (for a compare-and-set) and decoded.
    async fn record_and_raw<T>(
        &self,
        op: Operation,
        key: &str,
        decode: fn(&[u8]) -> Result<T, CorruptRecord>,
    ) -> AdapterResult<Option<(T, Vec<u8>)>> {
        match self.get(op, key).await? {
            Some(raw) => Ok(Some((decoded(op, &raw, decode)?, raw))),
            None => Ok(None),
        }
    }

    async fn user_exists(&self, op: Operation, id: &str) -> AdapterResult<bool> {
        let n: i64 = self
            .query(op, redis::cmd("EXISTS").arg(self.keys.user(id)))
            .await?;
        Ok(n > 0)
    }

    /// The compare-and-set loop, once for every method: runs `attempt` until it is done,
    /// at most [`MAX_ATTEMPTS`] times, then fails with a `Backend` error.
    pub(crate) async fn retrying<T, F, Fut>(
        &self,
        op: Operation,
        mut attempt: F,
    ) -> AdapterResult<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = AdapterResult<Attempt<T>>>,
    {
        for _ in 0..MAX_ATTEMPTS {
            if let Attempt::Done(value) = attempt().await? {
                return Ok(value);
            }
        }
        Err(error::contention(op, MAX_ATTEMPTS))
    }

    /// Reads a record and removes it with its entry in its owner's index (and expiry set),
    /// in one script that re-checks the record.
    async fn remove_owned<T>(
        &self,
        op: Operation,
        key: &str,
        decode: fn(&[u8]) -> Result<T, CorruptRecord>,
        entries: impl Fn(&T) -> (String, String, Option<(String, String)>),
    ) -> AdapterResult<Option<T>> {
        let entries = &entries;
        self.retrying(op, || async move {
            let Some((record, raw)) = self.record_and_raw(op, key, decode).await? else {
                return Ok(Attempt::Done(None));
            };
            let (index, member, expiry) = entries(&record);
            let mut invocation = scripts::REMOVE_OWNED.prepare_invoke();
            invocation.key(key).key(index).arg(&raw).arg(member);
            if let Some((zset, zmember)) = expiry {
                invocation.key(zset).arg(zmember);
            }
            match self.invoke(op, &invocation).await? {
                Reply::Record(_) => Ok(Attempt::Done(Some(record))),
                Reply::Absent => Ok(Attempt::Done(None)),
                Reply::Retry => Ok(Attempt::Retry),
                other => Err(unexpected(op, &other)),
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
        self.retrying(op, || async move {
            let Some((stored, raw)) = self.record_and_raw(op, key, decode).await? else {
                return Ok(Attempt::Done(None));
            };
            let updated = change(stored);
            let mut invocation = scripts::REPLACE_RECORD.prepare_invoke();
            invocation.key(key).arg(&raw).arg(encode(&updated));
            match self.invoke(op, &invocation).await? {
                Reply::Ok => Ok(Attempt::Done(Some(updated))),
                Reply::Absent => Ok(Attempt::Done(None)),
                Reply::Retry => Ok(Attempt::Retry),
                other => Err(unexpected(op, &other)),
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
            .query(op, redis::cmd("SMEMBERS").arg(&index.set))
            .await?;
        let record_keys: Vec<String> = members
            .iter()
            .map(|m| (index.record_key)(&self.keys, m))
            .collect();
        let raws = self.mget(op, &record_keys).await?;
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
            if let Err(err) = self.invoke(op, &invocation).await {
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
            match self.invoke(op, &invocation).await? {
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
                other => return Err(unexpected(op, &other)),
            }
        }
    }
}

/// Checks `INFO server` for Redis 7.0 or later: `SET … PXAT` (6.2) and `PEXPIRETIME` (7.0),
/// which the index upkeep (`upkeep.lua`) uses to only ever raise an index set's expiry.
fn check_server_version(info: &str) -> Result<(), String> {
    let version = info
        .lines()
        .find_map(|line| line.trim().strip_prefix("redis_version:"))
        .ok_or_else(|| "the server did not report redis_version".to_owned())?;
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let major = parts.next().unwrap_or(0);
    let minor = parts.next().unwrap_or(0);
    if (major, minor) >= (7, 0) {
        Ok(())
    } else {
        Err(format!(
            "Redis {version} is too old: this adapter needs 7.0 or later"
        ))
    }
}

#[async_trait]
impl Store for RedisAdapter {
    fn backend(&self) -> &'static str {
        "redis"
    }

    async fn insert_user(&self, user: &User, email_key: Option<&str>) -> AdapterResult<String> {
        self.call(Operation::CreateUser, async {
            if let Some(us) = self.unstorage() {
                return us.insert_user(user).await;
            }
            let op = Operation::CreateUser;
            let mut invocation = scripts::CREATE_USER.prepare_invoke();
            invocation.key(self.keys.user(&user.id));
            if let Some(key) = email_key {
                invocation.key(self.keys.email(key));
            }
            invocation
                .arg(records::encode_user(user, email_key))
                .arg(&user.id);
            match self.invoke(op, &invocation).await? {
                Reply::Ok => Ok(user.id.clone()),
                Reply::Conflict => Err(AdapterError::conflict(op, "a user with this id exists")),
                Reply::ConflictEmail => {
                    Err(AdapterError::conflict(op, "a user with this email exists"))
                }
                other => Err(unexpected(op, &other)),
            }
        })
        .await
    }

    async fn find_user(&self, id: &str) -> AdapterResult<Option<User>> {
        self.call(Operation::GetUser, async {
            if let Some(us) = self.unstorage() {
                return us.find_user(id).await;
            }
            let op = Operation::GetUser;
            self.record(op, &self.keys.user(id), records::decode_user)
                .await
        })
        .await
    }

    async fn find_user_by_email(&self, email_key: &str) -> AdapterResult<Option<User>> {
        self.call(Operation::GetUserByEmail, async {
            if let Some(us) = self.unstorage() {
                return us.find_user_by_email(email_key).await;
            }
            let op = Operation::GetUserByEmail;
            let id: Option<String> = self
                .query(op, redis::cmd("GET").arg(self.keys.email(email_key)))
                .await?;
            match id {
                Some(id) => {
                    self.record(op, &self.keys.user(&id), records::decode_user)
                        .await
                }
                None => Ok(None),
            }
        })
        .await
    }

    async fn find_user_by_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<User>> {
        self.call(Operation::GetUserByAccount, async {
            if let Some(us) = self.unstorage() {
                return us.find_user_by_account(provider, provider_account_id).await;
            }
            let op = Operation::GetUserByAccount;
            let key = self.keys.account(provider, provider_account_id);
            match self.record(op, &key, records::decode_account).await? {
                Some(account) => {
                    self.record(op, &self.keys.user(&account.user_id), records::decode_user)
                        .await
                }
                None => Ok(None),
            }
        })
        .await
    }

    async fn merge_user(
        &self,
        update: &UserUpdate,
        email_key: Option<Option<&str>>,
    ) -> AdapterResult<Option<User>> {
        self.call(Operation::UpdateUser, async {
            if let Some(us) = self.unstorage() {
                return us.merge_user(update).await;
            }
            let op = Operation::UpdateUser;
            let user_key = &self.keys.user(&update.id);
            self.retrying(op, || async move {
                let Some(raw) = self.get(op, user_key).await? else {
                    return Ok(Attempt::Done(None));
                };
                let (current, old_key) = decoded(op, &raw, records::decode_user_and_key)?;
                let merged = update.apply_to(current);
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
                match self.invoke(op, &invocation).await? {
                    Reply::Ok => Ok(Attempt::Done(Some(merged))),
                    Reply::NotFound => Ok(Attempt::Done(None)),
                    Reply::ConflictEmail => Err(AdapterError::conflict(
                        op,
                        "the new email belongs to another user",
                    )),
                    Reply::Retry => Ok(Attempt::Retry),
                    other => Err(unexpected(op, &other)),
                }
            })
            .await
        })
        .await
    }

    async fn remove_user(&self, id: &str) -> AdapterResult<Option<User>> {
        self.call(Operation::DeleteUser, async {
            if let Some(us) = self.unstorage() {
                return us.remove_user(id).await;
            }
            let op = Operation::DeleteUser;
            let user_key = &self.keys.user(id);
            let sessions_key = &self.keys.user_sessions(id);
            let accounts_key = &self.keys.user_accounts(id);
            let authenticators_key = &self.keys.user_authenticators(id);
            self.retrying(op, || async move {
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
                ) = self.query_pipe(op, &read).await?;
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
                match self.invoke(op, &invocation).await? {
                    Reply::Record(_) => Ok(Attempt::Done(Some(user))),
                    Reply::Absent => Ok(Attempt::Done(None)),
                    Reply::Retry => Ok(Attempt::Retry),
                    other => Err(unexpected(op, &other)),
                }
            })
            .await
        })
        .await
    }

    async fn insert_account(&self, account: &Account) -> AdapterResult<()> {
        self.call(Operation::LinkAccount, async {
            if let Some(us) = self.unstorage() {
                return us.insert_account(account).await;
            }
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
            match self.invoke(op, &invocation).await? {
                Reply::Ok => Ok(()),
                Reply::NotFound => Err(AdapterError::not_found(op, "no user with this id")),
                Reply::Conflict => Err(AdapterError::conflict(
                    op,
                    "this provider account is linked already",
                )),
                other => Err(unexpected(op, &other)),
            }
        })
        .await
    }

    async fn remove_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<Account>> {
        self.call(Operation::UnlinkAccount, async {
            if let Some(us) = self.unstorage() {
                return us.remove_account(provider, provider_account_id).await;
            }
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
        })
        .await
    }

    async fn find_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<Account>> {
        self.call(Operation::GetAccount, async {
            if let Some(us) = self.unstorage() {
                return us.find_account(provider, provider_account_id).await;
            }
            let op = Operation::GetAccount;
            let key = self.keys.account(provider, provider_account_id);
            self.record(op, &key, records::decode_account).await
        })
        .await
    }

    async fn replace_account_tokens(&self, account: &Account) -> AdapterResult<Option<Account>> {
        self.call(Operation::UpdateAccount, async {
            if let Some(us) = self.unstorage() {
                return us.replace_account_tokens(account).await;
            }
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
        })
        .await
    }

    async fn find_accounts(&self, user_id: &str) -> AdapterResult<Vec<Account>> {
        self.call(Operation::ListAccounts, async {
            if let Some(us) = self.unstorage() {
                return us.find_accounts(user_id).await;
            }
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
        })
        .await
    }

    async fn insert_session(&self, session: &Session) -> AdapterResult<()> {
        self.call(Operation::CreateSession, async {
            if let Some(us) = self.unstorage() {
                return us.insert_session(session).await;
            }
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
            match self.invoke(op, &invocation).await? {
                Reply::Ok => Ok(()),
                Reply::NotFound => Err(AdapterError::not_found(op, "no user with this id")),
                Reply::Conflict => Err(AdapterError::conflict(op, "this session token exists")),
                other => Err(unexpected(op, &other)),
            }
        })
        .await
    }

    async fn find_session_and_user(
        &self,
        session_token: &str,
        // Not sent: the key's `PEXPIREAT` already hides an expired session, and the policy
        // layer compares `expires` with this `now` on the way out.
        _now: DateTime<Utc>,
    ) -> AdapterResult<Option<(Session, User)>> {
        self.call(Operation::GetSessionAndUser, async {
            if let Some(us) = self.unstorage() {
                return us.find_session_and_user(session_token).await;
            }
            let op = Operation::GetSessionAndUser;
            let mut invocation = scripts::GET_SESSION_AND_USER.prepare_invoke();
            invocation
                .key(self.keys.session(session_token))
                .arg(self.keys.prefix());
            match self.invoke(op, &invocation).await? {
                Reply::Absent => Ok(None),
                Reply::Records(pair) => match pair.as_slice() {
                    [session, user] => Ok(Some((
                        decoded(op, session, records::decode_session)?,
                        decoded(op, user, records::decode_user)?,
                    ))),
                    _ => Err(error::unexpected(op, "a session reply without two records")),
                },
                other => Err(unexpected(op, &other)),
            }
        })
        .await
    }

    async fn change_session(
        &self,
        update: &SessionUpdate,
        now: DateTime<Utc>,
    ) -> AdapterResult<Option<Session>> {
        self.call(Operation::UpdateSession, async {
            if let Some(us) = self.unstorage() {
                return us.change_session(update, now).await;
            }
            let op = Operation::UpdateSession;
            let token = &update.session_token;
            let session_key = &self.keys.session(token);
            let now_ms = records::expires_ms(now);
            let missing_owner = &|| AdapterError::not_found(op, "no user with the new user id");
            self.retrying(op, || async move {
                let current = self
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
                let merged = update.apply_to(current.clone());
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
                match self.invoke(op, &invocation).await? {
                    Reply::Ok => Ok(Attempt::Done(Some(merged))),
                    Reply::Absent => Ok(Attempt::Done(None)),
                    Reply::NotFound => Err(missing_owner()),
                    Reply::Retry => Ok(Attempt::Retry),
                    other => Err(unexpected(op, &other)),
                }
            })
            .await
        })
        .await
    }

    async fn remove_session(&self, session_token: &str) -> AdapterResult<Option<Session>> {
        self.call(Operation::DeleteSession, async {
            if let Some(us) = self.unstorage() {
                return us.remove_session(session_token).await;
            }
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
        })
        .await
    }

    async fn find_sessions(
        &self,
        user_id: &str,
        now: DateTime<Utc>,
    ) -> AdapterResult<Vec<Session>> {
        self.call(Operation::ListSessions, async {
            if let Some(us) = self.unstorage() {
                return us.find_sessions(user_id, now).await;
            }
            let index = self.sessions_index(user_id);
            let mut sessions = self
                .list_indexed(Operation::ListSessions, user_id, index)
                .await?;
            sessions.retain(|s| s.expires > now);
            Ok(sessions)
        })
        .await
    }

    async fn remove_sessions(&self, user_id: &str, now: DateTime<Utc>) -> AdapterResult<u64> {
        self.call(Operation::DeleteSessions, async {
            if let Some(us) = self.unstorage() {
                return us.remove_sessions(user_id, now).await;
            }
            let op = Operation::DeleteSessions;
            let index_key = &self.keys.user_sessions(user_id);
            let now_ms = records::expires_ms(now);
            self.retrying(op, || async move {
                let tokens: Vec<String> = self
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
                match self.invoke(op, &invocation).await? {
                    Reply::Count(n) => Ok(Attempt::Done(count(n))),
                    Reply::Retry => Ok(Attempt::Retry),
                    other => Err(unexpected(op, &other)),
                }
            })
            .await
        })
        .await
    }

    async fn insert_verification_token(&self, token: &VerificationToken) -> AdapterResult<()> {
        self.call(Operation::CreateVerificationToken, async {
            if let Some(us) = self.unstorage() {
                return us.insert_verification_token(token).await;
            }
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
            match self.invoke(op, &invocation).await? {
                Reply::Ok => Ok(()),
                Reply::Conflict => {
                    Err(AdapterError::conflict(op, "this verification token exists"))
                }
                other => Err(unexpected(op, &other)),
            }
        })
        .await
    }

    async fn take_verification_token(
        &self,
        identifier: &str,
        token: &str,
    ) -> AdapterResult<Option<VerificationToken>> {
        self.call(Operation::UseVerificationToken, async {
            if let Some(us) = self.unstorage() {
                return us.take_verification_token(identifier, token).await;
            }
            let op = Operation::UseVerificationToken;
            let mut invocation = scripts::USE_VERIFICATION_TOKEN.prepare_invoke();
            invocation
                .key(self.keys.verification_token(identifier, token))
                .key(self.keys.token_expiries())
                .arg(keys::token_member(identifier, token));
            match self.invoke(op, &invocation).await? {
                Reply::Absent => Ok(None),
                Reply::Record(raw) => Ok(Some(decoded(op, &raw, records::decode_token)?)),
                other => Err(unexpected(op, &other)),
            }
        })
        .await
    }

    async fn insert_authenticator(&self, authenticator: &Authenticator) -> AdapterResult<()> {
        self.call(Operation::CreateAuthenticator, async {
            if let Some(us) = self.unstorage() {
                return us.insert_authenticator(authenticator).await;
            }
            let op = Operation::CreateAuthenticator;
            let mut invocation = scripts::INSERT_OWNED.prepare_invoke();
            invocation
                .key(self.keys.user(&authenticator.user_id))
                .key(self.keys.authenticator(&authenticator.credential_id))
                .key(self.keys.user_authenticators(&authenticator.user_id))
                .arg(records::encode_authenticator(authenticator))
                .arg(&authenticator.credential_id);
            match self.invoke(op, &invocation).await? {
                Reply::Ok => Ok(()),
                Reply::NotFound => Err(AdapterError::not_found(op, "no user with this id")),
                Reply::Conflict => Err(AdapterError::conflict(op, "this credential id exists")),
                other => Err(unexpected(op, &other)),
            }
        })
        .await
    }

    async fn find_authenticator(
        &self,
        credential_id: &str,
    ) -> AdapterResult<Option<Authenticator>> {
        self.call(Operation::GetAuthenticator, async {
            if let Some(us) = self.unstorage() {
                return us.find_authenticator(credential_id).await;
            }
            let op = Operation::GetAuthenticator;
            let key = self.keys.authenticator(credential_id);
            self.record(op, &key, records::decode_authenticator).await
        })
        .await
    }

    async fn find_authenticators(&self, user_id: &str) -> AdapterResult<Vec<Authenticator>> {
        self.call(Operation::ListAuthenticators, async {
            if let Some(us) = self.unstorage() {
                return us.find_authenticators(user_id).await;
            }
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
        })
        .await
    }

    async fn set_authenticator_counter(
        &self,
        credential_id: &str,
        counter: i64,
    ) -> AdapterResult<Option<Authenticator>> {
        self.call(Operation::UpdateAuthenticatorCounter, async {
            if let Some(us) = self.unstorage() {
                return us.set_authenticator_counter(credential_id, counter).await;
            }
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
        })
        .await
    }

    async fn remove_authenticator(
        &self,
        credential_id: &str,
    ) -> AdapterResult<Option<Authenticator>> {
        self.call(Operation::DeleteAuthenticator, async {
            if let Some(us) = self.unstorage() {
                return us.remove_authenticator(credential_id).await;
            }
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
        })
        .await
    }

    async fn remove_expired(&self, now: DateTime<Utc>) -> AdapterResult<ExpiredCounts> {
        self.call(Operation::DeleteExpired, async {
            if let Some(us) = self.unstorage() {
                return Ok(us.remove_expired());
            }
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
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_versions() {
        assert!(check_server_version("# Server\r\nredis_version:7.0.15\r\n").is_ok());
        assert!(check_server_version("redis_version:7.0.0").is_ok());
        // Valkey 8 reports the Redis version it is compatible with.
        assert!(check_server_version("redis_version:7.2.4\r\nvalkey_version:8.0.1").is_ok());
        assert!(check_server_version("redis_version:6.2.14").is_err());
        assert!(check_server_version("redis_version:10.0.0").is_ok());
        assert!(check_server_version("redis_version:6.0.9").is_err());
        assert!(check_server_version("nothing").is_err());
    }
}
