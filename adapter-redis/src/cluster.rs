//! The native layout on a Redis Cluster or Valkey Cluster: [`ClusterStore`].
//!
//! A script may only touch keys of one slot, so the cluster mode spreads the data by owner
//! (a user's record and indexes under the user's hash tag, every other record one key in
//! its own slot, no global key) and does every change that spans slots as ordered
//! single-slot steps. The rule that makes them safe: a record is served only when its
//! owner's index confirms it, and an email claim only when its user, in the life the claim
//! names, holds the address. The crate docs ("Redis Cluster and Valkey Cluster") give the
//! steps of every change, what a crash between two of them leaves, and the round trips;
//! this module is that table in code.

use std::time::Duration;

use async_trait::async_trait;
use auth_core::chrono::{DateTime, Utc};
use auth_core::{
    Account, AdapterError, AdapterResult, Authenticator, ExpiredCounts, Operation, Session,
    SessionUpdate, Store, User, UserUpdate, VerificationToken,
};
use futures::future::try_join_all;
use redis::cluster_routing::{Route, RoutingInfo, SingleNodeRoutingInfo, Slot, SlotAddr};
use redis::{Cmd, FromRedisValue, Script};

use crate::connection::{Attempt, Conn, Db};
use crate::error::{self, decoded, unexpected_outcome};
use crate::keys::{self, KeyLayout};
use crate::records::{self, CorruptRecord};
use crate::scripts::{self, Reply};
use crate::MAX_ATTEMPTS;

/// The key layout version `migrate()` writes in cluster mode (the single-server layout's
/// adapter refuses it, and this one refuses the single-server version).
///
/// ```
/// assert_eq!(adapter_redis::CLUSTER_SCHEMA_VERSION, "1-cluster");
/// ```
pub const CLUSTER_SCHEMA_VERSION: &str = "1-cluster";

/// How long a pending record or email claim lives if the change that wrote it never
/// finishes.
const PENDING_MS: i64 = 24 * 60 * 60 * 1000;

/// One kind of record that a user owns and lists in an index in the user's slot.
struct Owned<T> {
    /// The record's key, from its member of the owner's index.
    record_key: fn(&KeyLayout, &str) -> String,
    decode: fn(&[u8]) -> Result<T, CorruptRecord>,
    owner: fn(&T) -> &str,
    /// The owner's index key, from the owner's id.
    index: fn(&KeyLayout, &str) -> String,
    /// Sessions: the record's expiry (epoch ms), its `PXAT` once durable and its score in
    /// the index. Lasting records: `None`.
    expires_ms: fn(&T) -> Option<i64>,
    /// The CONFLICT message when the key is taken.
    taken: &'static str,
}

fn session_owner(s: &Session) -> &str {
    &s.user_id
}
fn session_expiry(s: &Session) -> Option<i64> {
    Some(records::expires_ms(s.expires))
}
fn account_owner(a: &Account) -> &str {
    &a.user_id
}
fn authenticator_owner(a: &Authenticator) -> &str {
    &a.user_id
}
fn lasting<T>(_: &T) -> Option<i64> {
    None
}

const SESSIONS: Owned<Session> = Owned {
    record_key: KeyLayout::session,
    decode: records::decode_session,
    owner: session_owner,
    index: KeyLayout::user_sessions,
    expires_ms: session_expiry,
    taken: "this session token exists",
};
const ACCOUNTS: Owned<Account> = Owned {
    record_key: KeyLayout::account_from_member,
    decode: records::decode_account,
    owner: account_owner,
    index: KeyLayout::user_accounts,
    expires_ms: lasting,
    taken: "this provider account is linked already",
};
const AUTHENTICATORS: Owned<Authenticator> = Owned {
    record_key: KeyLayout::authenticator,
    decode: records::decode_authenticator,
    owner: authenticator_owner,
    index: KeyLayout::user_authenticators,
    expires_ms: lasting,
    taken: "this credential id exists",
};

/// A record as read, with what tells whether it is still pending.
struct Read<T> {
    record: T,
    raw: Vec<u8>,
    /// `PEXPIRETIME`: -1 without expiry.
    expire_at: i64,
}

/// Whether a record read with `expire_at` is still pending: a lasting record with an
/// expiry, or a session whose key expires before the session does.
fn is_pending(expires_ms: Option<i64>, expire_at: i64) -> bool {
    match expires_ms {
        None => expire_at >= 0,
        Some(expires) => expire_at != expires,
    }
}

/// The `PXAT` of a pending record: 24 h from now, or for a session that expires sooner a
/// millisecond before its expiry, so that a pending session never carries the expiry of a
/// durable one (that is how [`is_pending`] tells them apart).
fn pending_until(expires_ms: Option<i64>) -> i64 {
    let limit = Utc::now().timestamp_millis().saturating_add(PENDING_MS);
    expires_ms.map_or(limit, |expires| expires.saturating_sub(1).min(limit))
}

/// How old an email claim that no user confirms must be before another user may take it
/// over: longer than any change takes (the cluster mode refuses call timeouts over a
/// minute), so a claim of a change still in flight is never taken.
const CLAIM_GRACE_MS: i64 = 2 * 60 * 1000;

/// An email claim, `<prefix>email:<email key>`: which life of which user holds the
/// address, since when (epoch ms, the writer's clock), and a nonce that makes each write
/// distinct.
#[derive(serde::Serialize, serde::Deserialize)]
struct EmailClaim {
    user_id: String,
    incarnation: String,
    at: i64,
    nonce: String,
}

impl EmailClaim {
    fn new(user_id: &str, incarnation: &str) -> Self {
        Self {
            user_id: user_id.to_owned(),
            incarnation: incarnation.to_owned(),
            at: Utc::now().timestamp_millis(),
            nonce: uuid::Uuid::now_v7().simple().to_string(),
        }
    }

    fn encode(&self) -> String {
        // A struct of strings and an integer: serializing it cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The claim, or `None` for a value this adapter does not write.
    fn decode(raw: &[u8]) -> Option<Self> {
        serde_json::from_slice(raw).ok()
    }
}

/// A record as written by one call: the encoded record with a field `write` that no other
/// write has, so that a step that compares what it wrote (settling it, or removing it
/// when the owner is gone) never mistakes another call's identical record for its own.
/// Readers ignore the field.
fn with_write_id(mut encoded: String) -> String {
    // `encoded` is a JSON object with at least one field, as serde_json writes it.
    if encoded.ends_with('}') {
        encoded.pop();
        encoded.push_str(",\"write\":\"");
        encoded.push_str(&uuid::Uuid::now_v7().simple().to_string());
        encoded.push_str("\"}");
    }
    encoded
}

/// A fresh incarnation: a new life of a user id.
fn new_incarnation() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

/// A number a script sent as text.
fn number(op: Operation, text: &[u8]) -> AdapterResult<i64> {
    String::from_utf8_lossy(text)
        .parse()
        .map_err(|_| error::unexpected(op, "a script sent a number that does not parse"))
}

fn ms_text(ms: Option<i64>) -> String {
    ms.map(|ms| ms.to_string()).unwrap_or_default()
}

/// The pause before looking again at a key a change in flight holds.
async fn back_off(attempt: usize) {
    let ms = 1u64 << attempt.min(6);
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

/// The durability option of the cluster mode: a write step is acknowledged only once this
/// many replicas of its primary have it (`WAIT`), within this time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Replication {
    pub(crate) replicas: usize,
    pub(crate) timeout: Duration,
}

/// The [`Store`] of the native layout on a cluster (see the module docs).
#[derive(Debug, Clone)]
pub(crate) struct ClusterStore {
    pub(crate) db: Db,
    pub(crate) keys: KeyLayout,
    pub(crate) replication: Option<Replication>,
}

impl ClusterStore {
    /// Finishes `migrate()`: the layout version, written or checked.
    pub(crate) async fn migrate(&self, op: Operation) -> AdapterResult<()> {
        let version_key = self.keys.schema_version();
        let _: Option<String> = self
            .db
            .query(
                op,
                redis::cmd("SET")
                    .arg(&version_key)
                    .arg(CLUSTER_SCHEMA_VERSION)
                    .arg("NX"),
            )
            .await?;
        let version: Option<String> = self
            .db
            .query(op, redis::cmd("GET").arg(&version_key))
            .await?;
        match version.as_deref() {
            Some(CLUSTER_SCHEMA_VERSION) => Ok(()),
            other => Err(AdapterError::backend(
                op,
                format!(
                    "the keys under this prefix have layout version {other:?}; this adapter in \
                     cluster mode writes {CLUSTER_SCHEMA_VERSION}"
                ),
            )),
        }
    }

    /// Runs `script` on `keys`, which must share one slot: a change that would cross slots
    /// is a bug of this module, refused here before the server would say `CROSSSLOT`.
    async fn run(
        &self,
        op: Operation,
        script: &Script,
        keys: &[&str],
        args: &[&[u8]],
    ) -> AdapterResult<Reply> {
        if let Some((first, rest)) = keys.split_first() {
            let slot = Slot::for_key(first);
            if rest.iter().any(|key| Slot::for_key(key) != slot) {
                return Err(error::unexpected(
                    op,
                    "a script's keys are in different cluster slots",
                ));
            }
        }
        let source = scripts::source_of(script);
        let reply = self
            .db
            .eval(op, script.get_hash(), source, keys, args)
            .await?;
        let read_only = std::ptr::eq(script, &*scripts::CLUSTER_OWNER_READ);
        if let (false, Some(key)) = (read_only, keys.first()) {
            self.replicated(op, key).await?;
        }
        Ok(reply)
    }

    /// One write command on `key`, acknowledged as [`replicated`](Self::replicated) says.
    async fn write<T: FromRedisValue>(
        &self,
        op: Operation,
        key: &str,
        cmd: &Cmd,
    ) -> AdapterResult<T> {
        let value = self.db.query(op, cmd).await?;
        self.replicated(op, key).await?;
        Ok(value)
    }

    /// With the durability option, waits until the replicas of `key`'s primary have every
    /// write sent before on the connection to it (`WAIT`, sent to that primary): fewer
    /// than asked within the time fails the call with ADAPTER_CONNECTION_ERROR (the write
    /// may or may not survive a failover). Without it, nothing.
    async fn replicated(&self, op: Operation, key: &str) -> AdapterResult<()> {
        let Some(replication) = self.replication else {
            return Ok(());
        };
        let Some(Conn::Cluster(mut conn)) = self.db.conn() else {
            return Err(error::closed(op));
        };
        let timeout_ms = u64::try_from(replication.timeout.as_millis()).unwrap_or(u64::MAX);
        let mut wait = redis::cmd("WAIT");
        wait.arg(replication.replicas).arg(timeout_ms);
        let routing = RoutingInfo::SingleNode(SingleNodeRoutingInfo::SpecificNode(
            Route::with_key(key, SlotAddr::Master),
        ));
        let value = conn
            .route_command(wait, routing)
            .await
            .map_err(|e| error::from_redis(op, e))?;
        // A node that answers with an error (a replica: the map is behind a failover) has
        // not replicated anything for us.
        let acknowledged: i64 = redis::from_redis_value(value).unwrap_or(0);
        if usize::try_from(acknowledged).unwrap_or(0) < replication.replicas {
            return Err(error::not_replicated(
                op,
                acknowledged,
                replication.replicas,
            ));
        }
        Ok(())
    }

    /// A record and its `PEXPIRETIME`, in one round trip.
    async fn read<T>(
        &self,
        op: Operation,
        key: &str,
        kind: &Owned<T>,
    ) -> AdapterResult<Option<Read<T>>> {
        let mut pipe = redis::pipe();
        pipe.cmd("GET").arg(key).cmd("PEXPIRETIME").arg(key);
        let (raw, expire_at): (Option<Vec<u8>>, i64) = self.db.query_pipe(op, &pipe).await?;
        let Some(raw) = raw else { return Ok(None) };
        let record = decoded(op, &raw, kind.decode)?;
        Ok(Some(Read {
            record,
            raw,
            expire_at,
        }))
    }

    /// The owner's user record if the owner's index lists `member`: the confirmation
    /// every read of an owned record makes.
    async fn confirmed_owner(
        &self,
        op: Operation,
        owner: &str,
        index: &str,
        member: &str,
    ) -> AdapterResult<Option<Vec<u8>>> {
        let user_key = self.keys.user(owner);
        match self
            .run(
                op,
                &scripts::CLUSTER_OWNER_READ,
                &[&user_key, index],
                &[member.as_bytes()],
            )
            .await?
        {
            Reply::Record(user) => Ok(Some(user)),
            Reply::Absent => Ok(None),
            other => Err(unexpected_outcome(op, &other)),
        }
    }

    /// Makes a record durable if it is still `raw` (a no-op otherwise: it was changed or
    /// removed meanwhile, by a step that decides for it).
    async fn settle(
        &self,
        op: Operation,
        key: &str,
        raw: &[u8],
        expires_ms: Option<i64>,
    ) -> AdapterResult<()> {
        let at = ms_text(expires_ms);
        self.run(op, &scripts::CLUSTER_SETTLE, &[key], &[raw, at.as_bytes()])
            .await
            .map(drop)
    }

    /// Removes the record at `key` if it is exactly `raw` (`"raw"`) or belongs to the
    /// user `owner` (`"owner"`); the removed value, if any.
    async fn delete_if(
        &self,
        op: Operation,
        key: &str,
        mode: &str,
        value: &[u8],
    ) -> AdapterResult<Option<Vec<u8>>> {
        self.delete_if_claim(op, key, mode, value, b"").await
    }

    /// [`delete_if`](Self::delete_if) with the incarnation of mode `"claim"`.
    async fn delete_if_claim(
        &self,
        op: Operation,
        key: &str,
        mode: &str,
        value: &[u8],
        incarnation: &[u8],
    ) -> AdapterResult<Option<Vec<u8>>> {
        match self
            .run(
                op,
                &scripts::CLUSTER_DELETE_IF,
                &[key],
                &[mode.as_bytes(), value, incarnation],
            )
            .await?
        {
            Reply::Record(raw) => Ok(Some(raw)),
            Reply::Absent => Ok(None),
            other => Err(unexpected_outcome(op, &other)),
        }
    }

    /// Compare-and-set of one key: `Some(true)` done, `Some(false)` changed meanwhile,
    /// `None` gone.
    async fn swap(
        &self,
        op: Operation,
        key: &str,
        read: &[u8],
        new: &[u8],
        expire_at: Option<i64>,
    ) -> AdapterResult<Option<bool>> {
        let at = ms_text(expire_at);
        match self
            .run(
                op,
                &scripts::CLUSTER_SWAP,
                &[key],
                &[read, new, at.as_bytes()],
            )
            .await?
        {
            Reply::Ok => Ok(Some(true)),
            Reply::Retry => Ok(Some(false)),
            Reply::Absent => Ok(None),
            other => Err(unexpected_outcome(op, &other)),
        }
    }

    async fn user_exists(&self, op: Operation, id: &str) -> AdapterResult<bool> {
        self.db.exists(op, &self.keys.user(id)).await
    }

    /// A record of `kind` at `key`, served only when its owner's index lists `member`;
    /// repairs a pending record it finds confirmed. Returns it with the owner's record.
    async fn confirmed<T>(
        &self,
        op: Operation,
        key: &str,
        member: &str,
        kind: &Owned<T>,
    ) -> AdapterResult<Option<(Read<T>, Vec<u8>)>> {
        let Some(read) = self.read(op, key, kind).await? else {
            return Ok(None);
        };
        let owner = (kind.owner)(&read.record);
        let index = (kind.index)(&self.keys, owner);
        let Some(user) = self.confirmed_owner(op, owner, &index, member).await? else {
            return Ok(None);
        };
        let expires = (kind.expires_ms)(&read.record);
        if is_pending(expires, read.expire_at) {
            self.settle(op, key, &read.raw, expires).await?;
        }
        Ok(Some((read, user)))
    }

    /// create_session, link_account, create_authenticator: the three steps of the module
    /// table.
    async fn insert_owned<T>(
        &self,
        op: Operation,
        key: &str,
        member: &str,
        record: &T,
        raw: &str,
        kind: &Owned<T>,
    ) -> AdapterResult<()> {
        let expires = (kind.expires_ms)(record);
        let owner = (kind.owner)(record);
        let pending = pending_until(expires).to_string();
        let mut attempt = 0;
        loop {
            let reply = self
                .run(
                    op,
                    &scripts::CLUSTER_INSERT,
                    &[key],
                    &[raw.as_bytes(), pending.as_bytes()],
                )
                .await?;
            let held = match reply {
                Reply::Ok => break,
                Reply::Records(held) => held,
                other => return Err(unexpected_outcome(op, &other)),
            };
            let [there, expire_at] = held.as_slice() else {
                return Err(error::unexpected(op, "an insert reply without two parts"));
            };
            let current = decoded(op, there, kind.decode)?;
            let holder = (kind.owner)(&current);
            let holder_index = (kind.index)(&self.keys, holder);
            if self
                .confirmed_owner(op, holder, &holder_index, member)
                .await?
                .is_some()
            {
                return Err(AdapterError::conflict(op, kind.taken));
            }
            let pending = is_pending((kind.expires_ms)(&current), number(op, expire_at)?);
            attempt += 1;
            if self.abandoned(op, pending, attempt, holder).await? {
                let until = Some(pending_until(expires));
                if self.swap(op, key, there, raw.as_bytes(), until).await? == Some(true) {
                    break;
                }
                continue;
            }
            if attempt >= MAX_ATTEMPTS {
                // Still unconfirmed: the other write has not finished; it came first.
                return Err(AdapterError::conflict(op, kind.taken));
            }
            back_off(attempt).await;
        }
        let user_key = self.keys.user(owner);
        let index = (kind.index)(&self.keys, owner);
        let score = ms_text(expires);
        match self
            .run(
                op,
                &scripts::CLUSTER_INDEX_ADD,
                &[&user_key, &index],
                &[member.as_bytes(), score.as_bytes()],
            )
            .await?
        {
            Reply::Ok => self.settle(op, key, raw.as_bytes(), expires).await,
            Reply::NotFound => {
                self.delete_if(op, key, "raw", raw.as_bytes()).await?;
                Err(AdapterError::not_found(op, "no user with this id"))
            }
            other => Err(unexpected_outcome(op, &other)),
        }
    }

    /// delete_session, unlink_account, delete_authenticator: a record its owner's index
    /// confirms is removed if it is still the one read (the change takes effect there),
    /// then its index entry.
    async fn remove_owned<T>(
        &self,
        op: Operation,
        key: &str,
        member: &str,
        kind: &Owned<T>,
    ) -> AdapterResult<Option<T>> {
        self.db
            .retrying(op, || async move {
                let Some((read, _)) = self.confirmed(op, key, member, kind).await? else {
                    return Ok(Attempt::Done(None));
                };
                if self.delete_if(op, key, "raw", &read.raw).await?.is_none() {
                    // Changed since it was read (update_session moved it, say): again.
                    return Ok(Attempt::Retry);
                }
                let owner = (kind.owner)(&read.record);
                let index = (kind.index)(&self.keys, owner);
                let command = if (kind.expires_ms)(&read.record).is_some() {
                    "ZREM"
                } else {
                    "SREM"
                };
                let _: i64 = self
                    .write(op, &index, redis::cmd(command).arg(&index).arg(member))
                    .await?;
                Ok(Attempt::Done(Some(read.record)))
            })
            .await
    }

    /// Every record a user's index lists that is still the user's (one `MGET`, which the
    /// cluster client splits by slot).
    async fn list_owned<T>(
        &self,
        op: Operation,
        user_id: &str,
        members: Vec<String>,
        kind: &Owned<T>,
    ) -> AdapterResult<Vec<T>> {
        let record_keys: Vec<String> = members
            .iter()
            .map(|m| (kind.record_key)(&self.keys, m))
            .collect();
        let raws = self.db.mget(op, &record_keys).await?;
        let mut owned = Vec::with_capacity(raws.len());
        for raw in raws.into_iter().flatten() {
            let record = decoded(op, &raw, kind.decode)?;
            if (kind.owner)(&record) == user_id {
                owned.push(record);
            }
        }
        Ok(owned)
    }

    /// list_accounts, list_authenticators: [`list_owned`](Self::list_owned) of every member
    /// of the user's index set.
    async fn list_set<T>(
        &self,
        op: Operation,
        user_id: &str,
        kind: &Owned<T>,
    ) -> AdapterResult<Vec<T>> {
        let index = (kind.index)(&self.keys, user_id);
        let members: Vec<String> = self
            .db
            .query(op, redis::cmd("SMEMBERS").arg(&index))
            .await?;
        self.list_owned(op, user_id, members, kind).await
    }

    /// Whether a record that no owner confirms may be taken over, on the `attempt`-th
    /// look: a durable one was confirmed once and has been let go since (its owner deleted
    /// or moved it: what is left is a leftover); a pending one belongs to a change in
    /// flight, which settles or withdraws within milliseconds, so it is waited for, and
    /// taken over only if it outlasts the wait and its owner does not even exist (that
    /// change was interrupted).
    async fn abandoned(
        &self,
        op: Operation,
        pending: bool,
        attempt: usize,
        holder: &str,
    ) -> AdapterResult<bool> {
        if !pending {
            return Ok(true);
        }
        Ok(attempt >= MAX_ATTEMPTS && !self.user_exists(op, holder).await?)
    }

    /// Claims `email_key` for this life of the user (`user_id`, `incarnation`): the
    /// claim as written, for [`release_claim`](Self::release_claim) to remove exactly it.
    /// A claim of the same life is rewritten (so a concurrent release of the old one
    /// misses); one that another user holds is CONFLICT; a young one that nobody confirms
    /// yet belongs to a change in flight and is waited for; an old one that nobody
    /// confirms was let go and is taken over.
    async fn claim_email(
        &self,
        op: Operation,
        email_key: &str,
        user_id: &str,
        incarnation: &str,
    ) -> AdapterResult<String> {
        let key = self.keys.email(email_key);
        let mut attempt = 0;
        loop {
            let mine = EmailClaim::new(user_id, incarnation).encode();
            let reply = self
                .run(
                    op,
                    &scripts::CLUSTER_INSERT,
                    &[&key],
                    &[mine.as_bytes(), b""],
                )
                .await?;
            let held = match reply {
                Reply::Ok => return Ok(mine),
                Reply::Records(held) => held,
                other => return Err(unexpected_outcome(op, &other)),
            };
            let [there, _] = held.as_slice() else {
                return Err(error::unexpected(op, "an insert reply without two parts"));
            };
            let holder = EmailClaim::decode(there);
            let take_over = match &holder {
                Some(h) if h.user_id == user_id && h.incarnation == incarnation => true,
                Some(h) if self.claim_confirmed(op, h, email_key).await? => {
                    return Err(AdapterError::conflict(op, "a user with this email exists"));
                }
                Some(h) => Utc::now().timestamp_millis() - h.at > CLAIM_GRACE_MS,
                // Not a claim this adapter writes: nothing can confirm it.
                None => true,
            };
            if take_over {
                if self.swap(op, &key, there, mine.as_bytes(), None).await? == Some(true) {
                    return Ok(mine);
                }
                continue;
            }
            attempt += 1;
            if attempt >= MAX_ATTEMPTS {
                return Err(AdapterError::conflict(op, "a user with this email exists"));
            }
            back_off(attempt).await;
        }
    }

    /// Whether the claim's user exists, in the claim's life, and holds `email_key`.
    async fn claim_confirmed(
        &self,
        op: Operation,
        claim: &EmailClaim,
        email_key: &str,
    ) -> AdapterResult<bool> {
        Ok(self.user_of_claim(op, claim, email_key).await?.is_some())
    }

    /// The user a claim confirms: the claim's user, in the claim's life, holding
    /// `email_key`.
    async fn user_of_claim(
        &self,
        op: Operation,
        claim: &EmailClaim,
        email_key: &str,
    ) -> AdapterResult<Option<User>> {
        let Some(raw) = self.db.get(op, &self.keys.user(&claim.user_id)).await? else {
            return Ok(None);
        };
        let (user, key, incarnation) = decoded(op, &raw, records::decode_user_incarnation)?;
        let confirmed = key.as_deref() == Some(email_key)
            && incarnation.as_deref() == Some(claim.incarnation.as_str());
        Ok(confirmed.then_some(user))
    }

    /// Removes the claim of `email_key` if it is still exactly `claim`.
    async fn release_claim(
        &self,
        op: Operation,
        email_key: &str,
        claim: &str,
    ) -> AdapterResult<()> {
        self.delete_if(op, &self.keys.email(email_key), "raw", claim.as_bytes())
            .await
            .map(drop)
    }
}

#[async_trait]
impl Store for ClusterStore {
    fn backend(&self) -> &'static str {
        "redis"
    }

    async fn insert_user(&self, user: &User, email_key: Option<&str>) -> AdapterResult<String> {
        let op = Operation::CreateUser;
        let incarnation = new_incarnation();
        let claim = match email_key {
            Some(key) => Some(self.claim_email(op, key, &user.id, &incarnation).await?),
            None => None,
        };
        let user_key = self.keys.user(&user.id);
        let created: Option<String> = self
            .write(
                op,
                &user_key,
                redis::cmd("SET")
                    .arg(&user_key)
                    .arg(records::encode_user_incarnation(
                        user,
                        email_key,
                        Some(&incarnation),
                    ))
                    .arg("NX"),
            )
            .await?;
        if created.is_none() {
            if let (Some(key), Some(claim)) = (email_key, &claim) {
                self.release_claim(op, key, claim).await?;
            }
            return Err(AdapterError::conflict(op, "a user with this id exists"));
        }
        Ok(user.id.clone())
    }

    async fn find_user(&self, id: &str) -> AdapterResult<Option<User>> {
        self.db
            .record(
                Operation::GetUser,
                &self.keys.user(id),
                records::decode_user,
            )
            .await
    }

    async fn find_user_by_email(&self, email_key: &str) -> AdapterResult<Option<User>> {
        let op = Operation::GetUserByEmail;
        let Some(raw) = self.db.get(op, &self.keys.email(email_key)).await? else {
            return Ok(None);
        };
        match EmailClaim::decode(&raw) {
            Some(claim) => self.user_of_claim(op, &claim, email_key).await,
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
        let member = keys::account_member(provider, provider_account_id);
        match self.confirmed(op, &key, &member, &ACCOUNTS).await? {
            Some((_, user)) => Ok(Some(decoded(op, &user, records::decode_user)?)),
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
                let (current, old_key, incarnation) =
                    decoded(op, &raw, records::decode_user_incarnation)?;
                let incarnation = incarnation.unwrap_or_default();
                let merged = update.apply_to(current)?;
                let new_key = match email_key {
                    Some(key) => key.map(str::to_owned),
                    None => old_key.clone(),
                };
                let moved = old_key != new_key;
                // The new address first (step 1); the old claim as it is now, to remove
                // exactly it once the user has moved (step 4).
                let claim = match (&new_key, moved) {
                    (Some(key), true) => {
                        Some(self.claim_email(op, key, &update.id, &incarnation).await?)
                    }
                    _ => None,
                };
                let old_claim = match (&old_key, moved) {
                    (Some(key), true) => self.db.get(op, &self.keys.email(key)).await?,
                    _ => None,
                };
                let encoded = records::encode_user_incarnation(
                    &merged,
                    new_key.as_deref(),
                    Some(&incarnation),
                );
                let swapped = self
                    .swap(op, user_key, &raw, encoded.as_bytes(), None)
                    .await?;
                if swapped != Some(true) {
                    if let (Some(key), Some(claim)) = (&new_key, &claim) {
                        self.release_claim(op, key, claim).await?;
                    }
                    return Ok(match swapped {
                        None => Attempt::Done(None),
                        _ => Attempt::Retry,
                    });
                }
                if let (Some(key), Some(old)) = (&old_key, &old_claim) {
                    let ours = EmailClaim::decode(old)
                        .is_some_and(|c| c.user_id == update.id && c.incarnation == incarnation);
                    if ours {
                        let old = String::from_utf8_lossy(old);
                        self.release_claim(op, key, &old).await?;
                    }
                }
                Ok(Attempt::Done(Some(merged)))
            })
            .await
    }

    async fn remove_user(&self, id: &str) -> AdapterResult<Option<User>> {
        let op = Operation::DeleteUser;
        let user_key = self.keys.user(id);
        let index_keys = [
            self.keys.user_sessions(id),
            self.keys.user_accounts(id),
            self.keys.user_authenticators(id),
        ];
        let reply = self
            .run(
                op,
                &scripts::CLUSTER_TAKE_USER,
                &[&user_key, &index_keys[0], &index_keys[1], &index_keys[2]],
                &[],
            )
            .await?;
        let taken = match reply {
            Reply::Absent => return Ok(None),
            Reply::Records(taken) => taken,
            other => return Err(unexpected_outcome(op, &other)),
        };
        let [raw, sessions, accounts, members @ ..] = taken.as_slice() else {
            return Err(error::unexpected(
                op,
                "a delete_user reply without its counts",
            ));
        };
        let size = |bytes: &[u8]| -> AdapterResult<usize> {
            usize::try_from(number(op, bytes)?)
                .map_err(|_| error::unexpected(op, "a delete_user count is negative"))
        };
        let (sessions, accounts) = (size(sessions)?, size(accounts)?);
        if sessions + accounts > members.len() {
            return Err(error::unexpected(
                op,
                "a delete_user reply shorter than its counts",
            ));
        }
        let (user, email_key, incarnation) = decoded(op, raw, records::decode_user_incarnation)?;
        let record_keys: Vec<String> = members
            .iter()
            .enumerate()
            .map(|(i, member)| {
                let record_key = if i < sessions {
                    SESSIONS.record_key
                } else if i < sessions + accounts {
                    ACCOUNTS.record_key
                } else {
                    AUTHENTICATORS.record_key
                };
                record_key(&self.keys, &String::from_utf8_lossy(member))
            })
            .collect();
        let removals = record_keys
            .iter()
            .map(|key| self.delete_if(op, key, "owner", id.as_bytes()));
        try_join_all(removals).await?;
        if let Some(key) = &email_key {
            // Any claim of this life of the user: a new user of the same id claims anew.
            let incarnation = incarnation.unwrap_or_default();
            self.delete_if_claim(
                op,
                &self.keys.email(key),
                "claim",
                id.as_bytes(),
                incarnation.as_bytes(),
            )
            .await?;
        }
        Ok(Some(user))
    }

    async fn insert_account(&self, account: &Account) -> AdapterResult<()> {
        let key = self
            .keys
            .account(&account.provider, &account.provider_account_id);
        let member = keys::account_member(&account.provider, &account.provider_account_id);
        let raw = with_write_id(records::encode_account(account));
        self.insert_owned(
            Operation::LinkAccount,
            &key,
            &member,
            account,
            &raw,
            &ACCOUNTS,
        )
        .await
    }

    async fn remove_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<Account>> {
        let key = self.keys.account(provider, provider_account_id);
        let member = keys::account_member(provider, provider_account_id);
        self.remove_owned(Operation::UnlinkAccount, &key, &member, &ACCOUNTS)
            .await
    }

    async fn find_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<Account>> {
        let key = self.keys.account(provider, provider_account_id);
        let member = keys::account_member(provider, provider_account_id);
        Ok(self
            .confirmed(Operation::GetAccount, &key, &member, &ACCOUNTS)
            .await?
            .map(|(read, _)| read.record))
    }

    async fn replace_account_tokens(&self, account: &Account) -> AdapterResult<Option<Account>> {
        let op = Operation::UpdateAccount;
        let key = &self
            .keys
            .account(&account.provider, &account.provider_account_id);
        let member = &keys::account_member(&account.provider, &account.provider_account_id);
        self.db
            .retrying(op, || async move {
                let Some((read, _)) = self.confirmed(op, key, member, &ACCOUNTS).await? else {
                    return Ok(Attempt::Done(None));
                };
                let updated = Account {
                    user_id: read.record.user_id,
                    account_type: read.record.account_type,
                    ..account.clone()
                };
                let encoded = records::encode_account(&updated);
                match self
                    .swap(op, key, &read.raw, encoded.as_bytes(), None)
                    .await?
                {
                    Some(true) => Ok(Attempt::Done(Some(updated))),
                    Some(false) => Ok(Attempt::Retry),
                    None => Ok(Attempt::Done(None)),
                }
            })
            .await
    }

    async fn find_accounts(&self, user_id: &str) -> AdapterResult<Vec<Account>> {
        self.list_set(Operation::ListAccounts, user_id, &ACCOUNTS)
            .await
    }

    async fn insert_session(&self, session: &Session) -> AdapterResult<()> {
        let key = self.keys.session(&session.session_token);
        let raw = with_write_id(records::encode_session(session));
        self.insert_owned(
            Operation::CreateSession,
            &key,
            &session.session_token,
            session,
            &raw,
            &SESSIONS,
        )
        .await
    }

    async fn find_session_and_user(
        &self,
        session_token: &str,
        // Not sent: the key's `PXAT` already hides an expired session, and the policy layer
        // compares `expires` with this `now` on the way out.
        _now: DateTime<Utc>,
    ) -> AdapterResult<Option<(Session, User)>> {
        let op = Operation::GetSessionAndUser;
        let key = self.keys.session(session_token);
        match self.confirmed(op, &key, session_token, &SESSIONS).await? {
            Some((read, user)) => Ok(Some((
                read.record,
                decoded(op, &user, records::decode_user)?,
            ))),
            None => Ok(None),
        }
    }

    async fn change_session(
        &self,
        update: &SessionUpdate,
        now: DateTime<Utc>,
    ) -> AdapterResult<Option<Session>> {
        let op = Operation::UpdateSession;
        let token = &update.session_token;
        let key = &self.keys.session(token);
        let missing_owner = &|| AdapterError::not_found(op, "no user with the new user id");
        self.db
            .retrying(op, || async move {
                let current = self.confirmed(op, key, token, &SESSIONS).await?;
                let Some((read, _)) = current.filter(|(r, _)| r.record.expires > now) else {
                    // Missing or expired: nothing changes. As the reference store, a missing
                    // new owner is reported first.
                    if let Some(user_id) = &update.user_id {
                        if !self.user_exists(op, user_id).await? {
                            return Err(missing_owner());
                        }
                    }
                    return Ok(Attempt::Done(None));
                };
                let old = read.record.clone();
                let merged = update.apply_to(read.record)?;
                let old_expires = records::expires_ms(old.expires);
                let new_expires = records::expires_ms(merged.expires);
                let old_index = self.keys.user_sessions(&old.user_id);
                let new_index = self.keys.user_sessions(&merged.user_id);
                let moved = old.user_id != merged.user_id;
                // The index entry first, never below the record's expiry (its score is
                // what drops it).
                let score = if moved {
                    new_expires
                } else {
                    new_expires.max(old_expires)
                }
                .to_string();
                let new_user = self.keys.user(&merged.user_id);
                match self
                    .run(
                        op,
                        &scripts::CLUSTER_INDEX_ADD,
                        &[&new_user, &new_index],
                        &[token.as_bytes(), score.as_bytes()],
                    )
                    .await?
                {
                    Reply::Ok => {}
                    // The owner was deleted meanwhile, and the session with it.
                    Reply::NotFound if !moved => return Ok(Attempt::Done(None)),
                    Reply::NotFound => return Err(missing_owner()),
                    other => return Err(unexpected_outcome(op, &other)),
                }
                let encoded = records::encode_session(&merged);
                let swapped = self
                    .swap(op, key, &read.raw, encoded.as_bytes(), Some(new_expires))
                    .await?;
                if swapped != Some(true) {
                    return Ok(match swapped {
                        None => Attempt::Done(None),
                        _ => Attempt::Retry,
                    });
                }
                if moved {
                    let _: i64 = self
                        .write(
                            op,
                            &old_index,
                            redis::cmd("ZREM").arg(&old_index).arg(token),
                        )
                        .await?;
                } else if new_expires < old_expires {
                    let _: i64 = self
                        .write(
                            op,
                            &new_index,
                            redis::cmd("ZADD")
                                .arg(&new_index)
                                .arg("XX")
                                .arg(new_expires)
                                .arg(token),
                        )
                        .await?;
                }
                Ok(Attempt::Done(Some(merged)))
            })
            .await
    }

    async fn remove_session(&self, session_token: &str) -> AdapterResult<Option<Session>> {
        let key = self.keys.session(session_token);
        self.remove_owned(Operation::DeleteSession, &key, session_token, &SESSIONS)
            .await
    }

    async fn find_sessions(
        &self,
        user_id: &str,
        now: DateTime<Utc>,
    ) -> AdapterResult<Vec<Session>> {
        let op = Operation::ListSessions;
        let tokens: Vec<String> = self
            .db
            .query(
                op,
                redis::cmd("ZRANGE")
                    .arg(self.keys.user_sessions(user_id))
                    .arg(format!("({}", records::expires_ms(now)))
                    .arg("+inf")
                    .arg("BYSCORE"),
            )
            .await?;
        let mut sessions = self.list_owned(op, user_id, tokens, &SESSIONS).await?;
        sessions.retain(|s| s.expires > now);
        Ok(sessions)
    }

    async fn remove_sessions(&self, user_id: &str, now: DateTime<Utc>) -> AdapterResult<u64> {
        let op = Operation::DeleteSessions;
        let index = self.keys.user_sessions(user_id);
        let tokens = match self
            .run(op, &scripts::CLUSTER_TAKE_INDEX, &[&index], &[])
            .await?
        {
            Reply::Records(tokens) => tokens,
            other => return Err(unexpected_outcome(op, &other)),
        };
        let record_keys: Vec<String> = tokens
            .iter()
            .map(|t| self.keys.session(&String::from_utf8_lossy(t)))
            .collect();
        let removed = try_join_all(
            record_keys
                .iter()
                .map(|key| self.delete_if(op, key, "owner", user_id.as_bytes())),
        )
        .await?;
        let mut live = 0;
        for raw in removed.into_iter().flatten() {
            let session = decoded(op, &raw, records::decode_session)?;
            live += u64::from(session.expires > now);
        }
        Ok(live)
    }

    async fn insert_verification_token(&self, token: &VerificationToken) -> AdapterResult<()> {
        let op = Operation::CreateVerificationToken;
        let key = self
            .keys
            .verification_token(&token.identifier, &token.token);
        let stored: Option<String> = self
            .write(
                op,
                &key,
                redis::cmd("SET")
                    .arg(&key)
                    .arg(records::encode_token(token))
                    .arg("NX")
                    .arg("PXAT")
                    .arg(records::expires_ms(token.expires)),
            )
            .await?;
        match stored {
            Some(_) => Ok(()),
            None => Err(AdapterError::conflict(op, "this verification token exists")),
        }
    }

    async fn take_verification_token(
        &self,
        identifier: &str,
        token: &str,
    ) -> AdapterResult<Option<VerificationToken>> {
        let op = Operation::UseVerificationToken;
        let key = self.keys.verification_token(identifier, token);
        let raw: Option<Vec<u8>> = self.write(op, &key, redis::cmd("GETDEL").arg(&key)).await?;
        raw.map(|raw| decoded(op, &raw, records::decode_token))
            .transpose()
    }

    async fn insert_authenticator(&self, authenticator: &Authenticator) -> AdapterResult<()> {
        let key = self.keys.authenticator(&authenticator.credential_id);
        let raw = with_write_id(records::encode_authenticator(authenticator));
        self.insert_owned(
            Operation::CreateAuthenticator,
            &key,
            &authenticator.credential_id,
            authenticator,
            &raw,
            &AUTHENTICATORS,
        )
        .await
    }

    async fn find_authenticator(
        &self,
        credential_id: &str,
    ) -> AdapterResult<Option<Authenticator>> {
        let key = self.keys.authenticator(credential_id);
        Ok(self
            .confirmed(
                Operation::GetAuthenticator,
                &key,
                credential_id,
                &AUTHENTICATORS,
            )
            .await?
            .map(|(read, _)| read.record))
    }

    async fn find_authenticators(&self, user_id: &str) -> AdapterResult<Vec<Authenticator>> {
        self.list_set(Operation::ListAuthenticators, user_id, &AUTHENTICATORS)
            .await
    }

    async fn set_authenticator_counter(
        &self,
        credential_id: &str,
        counter: i64,
    ) -> AdapterResult<Option<Authenticator>> {
        let op = Operation::UpdateAuthenticatorCounter;
        let key = &self.keys.authenticator(credential_id);
        self.db
            .retrying(op, || async move {
                let Some((read, _)) = self
                    .confirmed(op, key, credential_id, &AUTHENTICATORS)
                    .await?
                else {
                    return Ok(Attempt::Done(None));
                };
                let updated = Authenticator {
                    counter,
                    ..read.record
                };
                let encoded = records::encode_authenticator(&updated);
                match self
                    .swap(op, key, &read.raw, encoded.as_bytes(), None)
                    .await?
                {
                    Some(true) => Ok(Attempt::Done(Some(updated))),
                    Some(false) => Ok(Attempt::Retry),
                    None => Ok(Attempt::Done(None)),
                }
            })
            .await
    }

    async fn remove_authenticator(
        &self,
        credential_id: &str,
    ) -> AdapterResult<Option<Authenticator>> {
        let key = self.keys.authenticator(credential_id);
        self.remove_owned(
            Operation::DeleteAuthenticator,
            &key,
            credential_id,
            &AUTHENTICATORS,
        )
        .await
    }

    async fn remove_expired(&self, _now: DateTime<Utc>) -> AdapterResult<ExpiredCounts> {
        // Every session and verification token key carries `PXAT` its expiry: the server
        // has removed them already, and the cluster mode keeps no expiry index to sweep.
        Ok(ExpiredCounts::default())
    }
}
