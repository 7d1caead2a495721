//! The Auth.js unstorage layout ([`Layout::AuthJsUnstorage`](crate::Layout)): the keys and
//! JSON values of `@auth/unstorage-adapter` on unstorage's Redis driver, read and written
//! as Node reads and writes them, with the connection handling and error mapping the
//! native layout has too ([`Db`]).
//!
//! Every change that touches more than one key is one compare-and-set script
//! (`unstorage_cas.lua`): Rust reads the keys, decides (conflict, not found), and the
//! script writes only if every key it was told about still holds what Rust read; otherwise
//! Rust reads again ([`Db::retrying`]). So the changes are atomic on exactly the
//! keys Node uses, and nothing else is written: no index set, no expiry set.
//!
//! What the layout cannot give, and why (the README's table lists it):
//! - one `by-user-id` pointer per user for accounts and for sessions (the last one
//!   written): `list_sessions`, `delete_sessions`, `list_accounts` and the cascade of
//!   `delete_user` reach only that one. Records the pointer no longer names are never
//!   returned for a deleted user (every read checks the user), but they stay stored.
//!   The session pointer holds the session token, so it is written with the session's
//!   expiry (`PEXPIREAT`, on create and on update) and goes with it; Node reads a missing
//!   pointer as no session.
//! - emails are keyed as given (`user:email:Ada@Example.com`), not case-folded: a lookup
//!   finds the key of its normalized form (lowercase, trimmed) only, and two users whose
//!   emails differ in case both get in.
//! - nothing to sweep: sessions and tokens expire in Redis itself (`PEXPIREAT`), so
//!   `delete_expired` removes nothing and counts 0.
//! - different tuples can share a key (provider `a:b` with account `c`, provider `a` with
//!   account `b:c`; anything after a `?`): every read checks that the record is the one
//!   asked for, and a create on a taken key is a `Conflict`.

pub(crate) mod keys;
pub(crate) mod records;

use async_trait::async_trait;
use auth_core::chrono::{DateTime, Utc};
use auth_core::{
    normalize_email, Account, AdapterError, AdapterResult, Authenticator, ExpiredCounts, Operation,
    Session, SessionUpdate, Store, User, UserUpdate, VerificationToken,
};

use crate::connection::{Attempt, Db};
use crate::error::{self, decoded, unexpected_outcome};
use crate::scripts::{self, Reply};
use keys::{decode_pointer, encode_pointer, Keys};
use records::Object;

/// A write of a compare-and-set: set (with an optional expiry, epoch ms) or delete.
enum Write {
    Set(String, Option<i64>),
    Del,
}

/// One compare-and-set: the keys as Rust read them, and what to write.
#[derive(Default)]
struct Cas {
    checks: Vec<(String, Option<Vec<u8>>)>,
    writes: Vec<(String, Write)>,
}

impl Cas {
    /// `key` must still hold `value` (or still be absent).
    fn expect(&mut self, key: &str, value: Option<&[u8]>) -> &mut Self {
        self.checks
            .push((key.to_owned(), value.map(<[u8]>::to_vec)));
        self
    }

    fn set(&mut self, key: &str, value: String) -> &mut Self {
        self.writes.push((key.to_owned(), Write::Set(value, None)));
        self
    }

    /// Sets `key` to expire at `at_ms` (epoch milliseconds), as Auth.js tolerates.
    fn set_until(&mut self, key: &str, value: String, at: DateTime<Utc>) -> &mut Self {
        let at_ms = at.timestamp_millis();
        self.writes
            .push((key.to_owned(), Write::Set(value, Some(at_ms))));
        self
    }

    fn del(&mut self, key: &str) -> &mut Self {
        self.writes.push((key.to_owned(), Write::Del));
        self
    }
}

/// Who holds an email key: what the key held, and the user it names as read.
struct Claim {
    key: String,
    value: Option<Vec<u8>>,
    holder: Option<(String, Option<Vec<u8>>)>,
}

impl Claim {
    /// The id of the user who holds this email for real: the key names a user that
    /// exists and whose email is the same address (case aside). Keys Node left behind
    /// (an old email after an update, a deleted user) hold nothing.
    fn live_holder(&self, email: &str) -> Option<&str> {
        let (id, raw) = self.holder.as_ref()?;
        let user = records::decode_user(raw.as_deref()?).ok()?;
        let same = user
            .email
            .is_some_and(|e| normalize_email(&e) == normalize_email(email));
        same.then_some(id.as_str())
    }

    fn expect_in(&self, cas: &mut Cas, keys: &Keys) {
        cas.expect(&self.key, self.value.as_deref());
        if let Some((id, raw)) = &self.holder {
            cas.expect(&keys.user(id), raw.as_deref());
        }
    }
}

fn text(raw: &[u8]) -> String {
    String::from_utf8_lossy(raw).into_owned()
}

/// The [`Store`] of the Auth.js unstorage layout.
#[derive(Debug, Clone)]
pub(crate) struct UnstorageStore {
    pub(crate) db: Db,
    pub(crate) keys: Keys,
}

impl UnstorageStore {
    async fn get(&self, op: Operation, key: &str) -> AdapterResult<Option<Vec<u8>>> {
        self.db.get(op, key).await
    }

    /// Runs a compare-and-set: `true` when written, `false` when a key changed since it
    /// was read (read again).
    async fn cas(&self, op: Operation, cas: &Cas) -> AdapterResult<bool> {
        let mut invocation = scripts::UNSTORAGE_CAS.prepare_invoke();
        for (key, _) in &cas.checks {
            invocation.key(key);
        }
        for (key, _) in &cas.writes {
            invocation.key(key);
        }
        invocation.arg(cas.checks.len()).arg(cas.writes.len());
        for (_, value) in &cas.checks {
            match value {
                Some(v) => invocation.arg("=").arg(v.as_slice()),
                None => invocation.arg("-").arg(""),
            };
        }
        for (_, write) in &cas.writes {
            match write {
                Write::Set(value, None) => invocation.arg("SET").arg(value).arg(""),
                Write::Set(value, Some(at)) => invocation.arg("SET").arg(value).arg(*at),
                Write::Del => invocation.arg("DEL").arg("").arg(""),
            };
        }
        match self.db.invoke(op, &invocation).await? {
            Reply::Ok => Ok(true),
            Reply::Retry => Ok(false),
            other => Err(unexpected_outcome(op, &other)),
        }
    }

    fn done<T>(written: bool, value: T) -> Attempt<T> {
        if written {
            Attempt::Done(value)
        } else {
            Attempt::Retry
        }
    }

    /// The email keys of an address: the one Node writes and reads (as given), and, when
    /// it differs, the one of its normalized form, which this layout adds so that lookups
    /// and uniqueness ignore case as the contract says (Node reads it only when asked for
    /// that form, and then finds the same user).
    fn email_keys(&self, email: &str) -> Vec<String> {
        let as_given = self.keys.email(email);
        let normalized = self.keys.email(&normalize_email(email));
        if normalized == as_given {
            vec![as_given]
        } else {
            vec![as_given, normalized]
        }
    }

    /// Deletes the email key `key` in `cas` if it names user `id` (another user's stays).
    async fn release_claim(
        &self,
        op: Operation,
        cas: &mut Cas,
        key: &str,
        id: &str,
    ) -> AdapterResult<()> {
        let value = self.get(op, key).await?;
        if value
            .as_deref()
            .is_some_and(|v| decode_pointer(&text(v)) == id)
        {
            cas.expect(key, value.as_deref()).del(key);
        }
        Ok(())
    }

    async fn read_claim(&self, op: Operation, key: String) -> AdapterResult<Claim> {
        let value = self.get(op, &key).await?;
        let holder = match &value {
            Some(raw) => {
                let id = decode_pointer(&text(raw));
                let user = self.get(op, &self.keys.user(&id)).await?;
                Some((id, user))
            }
            None => None,
        };
        Ok(Claim { key, value, holder })
    }

    /// The user record at `user_key` and whether `key` is taken, in one round trip.
    async fn user_and(
        &self,
        op: Operation,
        user_key: &str,
        key: &str,
    ) -> AdapterResult<(Option<Vec<u8>>, bool)> {
        let mut both = self
            .db
            .mget(op, &[user_key.to_owned(), key.to_owned()])
            .await?
            .into_iter();
        let user = both.next().flatten();
        Ok((user, both.next().flatten().is_some()))
    }

    async fn user_exists(&self, op: Operation, id: &str) -> AdapterResult<bool> {
        let n: i64 = self
            .db
            .query(op, redis::cmd("EXISTS").arg(self.keys.user(id)))
            .await?;
        Ok(n > 0)
    }

    /// The record a by-user-id pointer names: its Redis key and value, if any.
    async fn pointed(
        &self,
        op: Operation,
        pointer: Option<&[u8]>,
    ) -> AdapterResult<Option<(String, Vec<u8>)>> {
        let Some(pointer) = pointer else {
            return Ok(None);
        };
        let key = self.keys.redis(&decode_pointer(&text(pointer)));
        Ok(self.get(op, &key).await?.map(|raw| (key, raw)))
    }

    /// The user stored for this id (not another id sharing its key).
    async fn user(&self, op: Operation, id: &str) -> AdapterResult<Option<User>> {
        let user = self
            .db
            .record(op, &self.keys.user(id), records::decode_user)
            .await?;
        Ok(user.filter(|u| u.id == id))
    }

    // ------------------------------------------------------------ accounts

    /// The account stored for this pair (not another pair sharing its key), with its raw
    /// value.
    async fn account(
        &self,
        op: Operation,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<(Account, Vec<u8>)>> {
        let key = self.keys.account(provider, provider_account_id);
        let Some(raw) = self.get(op, &key).await? else {
            return Ok(None);
        };
        let account = decoded(op, &raw, records::decode_account)?;
        let same =
            account.provider == provider && account.provider_account_id == provider_account_id;
        Ok(same.then_some((account, raw)))
    }

    /// The session stored for this token, with its raw value.
    async fn session(
        &self,
        op: Operation,
        key: &str,
        token: &str,
    ) -> AdapterResult<Option<(Session, Vec<u8>)>> {
        let Some(raw) = self.get(op, key).await? else {
            return Ok(None);
        };
        let session = decoded(op, &raw, records::decode_session)?;
        Ok((session.session_token == token).then_some((session, raw)))
    }

    /// The session the user's by-user-id pointer names, if it is the user's.
    async fn pointed_session(
        &self,
        op: Operation,
        user_id: &str,
    ) -> AdapterResult<Option<(String, Session, Vec<u8>)>> {
        let pointer = self.get(op, &self.keys.session_by_user(user_id)).await?;
        let Some((key, raw)) = self.pointed(op, pointer.as_deref()).await? else {
            return Ok(None);
        };
        let session = decoded(op, &raw, records::decode_session)?;
        Ok((session.user_id == user_id).then_some((key, session, raw)))
    }
}

#[async_trait]
impl Store for UnstorageStore {
    fn backend(&self) -> &'static str {
        "redis"
    }

    // ------------------------------------------------------------ users

    async fn insert_user(
        &self,
        user: &User,
        // Not used: this layout keys emails as Node does (see `email_keys`).
        _email_key: Option<&str>,
    ) -> AdapterResult<String> {
        let op = Operation::CreateUser;
        let user_key = &self.keys.user(&user.id);
        self.db
            .retrying(op, || async move {
                let mut cas = Cas::default();
                if self.get(op, user_key).await?.is_some() {
                    return Err(AdapterError::conflict(op, "a user with this id exists"));
                }
                cas.expect(user_key, None);
                if let Some(email) = &user.email {
                    for key in self.email_keys(email) {
                        let claim = self.read_claim(op, key).await?;
                        if claim.live_holder(email).is_some() {
                            return Err(AdapterError::conflict(
                                op,
                                "a user with this email exists",
                            ));
                        }
                        claim.expect_in(&mut cas, &self.keys);
                        cas.set(&claim.key, encode_pointer(&user.id));
                    }
                }
                cas.set(user_key, records::encode(&records::user_object(user)));
                Ok(Self::done(self.cas(op, &cas).await?, user.id.clone()))
            })
            .await
    }

    async fn find_user(&self, id: &str) -> AdapterResult<Option<User>> {
        self.user(Operation::GetUser, id).await
    }

    async fn find_user_by_email(&self, email_key: &str) -> AdapterResult<Option<User>> {
        let op = Operation::GetUserByEmail;
        let Some(raw) = self.get(op, &self.keys.email(email_key)).await? else {
            return Ok(None);
        };
        let id = decode_pointer(&text(&raw));
        let user = self.user(op, &id).await?;
        // A key Node left behind names a user whose email is another one now.
        Ok(user.filter(|u| {
            u.email
                .as_deref()
                .is_some_and(|e| normalize_email(e) == email_key)
        }))
    }

    async fn find_user_by_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<User>> {
        let op = Operation::GetUserByAccount;
        match self.account(op, provider, provider_account_id).await? {
            Some((account, _)) => self.user(op, &account.user_id).await,
            None => Ok(None),
        }
    }

    async fn merge_user(
        &self,
        update: &UserUpdate,
        // Not used: this layout keys emails as Node does (see `email_keys`).
        _email_key: Option<Option<&str>>,
    ) -> AdapterResult<Option<User>> {
        let op = Operation::UpdateUser;
        let id = update.id.as_str();
        let user_key = &self.keys.user(id);
        self.db
            .retrying(op, || async move {
                let Some(raw) = self.get(op, user_key).await? else {
                    return Ok(Attempt::Done(None));
                };
                let mut stored =
                    records::object("user", &raw).map_err(|e| error::corrupt(op, e))?;
                let current = records::user_from(&stored).map_err(|e| error::corrupt(op, e))?;
                if current.id != id {
                    return Ok(Attempt::Done(None));
                }
                let merged = update.apply_to(current.clone());
                let mut cas = Cas::default();
                cas.expect(user_key, Some(&raw));
                if merged.email != current.email {
                    let new_keys = merged
                        .email
                        .as_deref()
                        .map(|e| self.email_keys(e))
                        .unwrap_or_default();
                    if let Some(email) = &merged.email {
                        for key in &new_keys {
                            let claim = self.read_claim(op, key.clone()).await?;
                            if claim.live_holder(email).is_some_and(|holder| holder != id) {
                                return Err(AdapterError::conflict(
                                    op,
                                    "the new email belongs to another user",
                                ));
                            }
                            claim.expect_in(&mut cas, &self.keys);
                            cas.set(&claim.key, encode_pointer(id));
                        }
                    }
                    // Release the old keys if they are ours (Node leaves them behind).
                    let old_keys = current
                        .email
                        .as_deref()
                        .map(|e| self.email_keys(e))
                        .unwrap_or_default();
                    for old_key in old_keys.iter().filter(|k| !new_keys.contains(k)) {
                        self.release_claim(op, &mut cas, old_key, id).await?;
                    }
                }
                stored.extend(records::user_object(&merged));
                cas.set(user_key, records::encode(&stored));
                Ok(Self::done(self.cas(op, &cas).await?, Some(merged)))
            })
            .await
    }

    async fn remove_user(&self, id: &str) -> AdapterResult<Option<User>> {
        let op = Operation::DeleteUser;
        let user_key = &self.keys.user(id);
        let account_ptr = &self.keys.account_by_user(id);
        let session_ptr = &self.keys.session_by_user(id);
        let list_key = &self.keys.authenticators_by_user(id);
        self.db
            .retrying(op, || async move {
                let mut read = redis::pipe();
                for key in [user_key, account_ptr, session_ptr, list_key] {
                    read.cmd("GET").arg(key);
                }
                type Four = (
                    Option<Vec<u8>>,
                    Option<Vec<u8>>,
                    Option<Vec<u8>>,
                    Option<Vec<u8>>,
                );
                let (raw, account_at, session_at, list): Four =
                    self.db.query_pipe(op, &read).await?;
                let Some(raw) = raw else {
                    return Ok(Attempt::Done(None));
                };
                let user = decoded(op, &raw, records::decode_user)?;
                if user.id != id {
                    return Ok(Attempt::Done(None));
                }
                let mut cas = Cas::default();
                cas.expect(user_key, Some(&raw)).del(user_key);
                if let Some(email) = &user.email {
                    for key in self.email_keys(email) {
                        self.release_claim(op, &mut cas, &key, id).await?;
                    }
                }
                cas.expect(account_ptr, account_at.as_deref())
                    .del(account_ptr);
                if let Some((key, raw)) = self.pointed(op, account_at.as_deref()).await? {
                    if records::decode_account(&raw).is_ok_and(|a| a.user_id == id) {
                        cas.expect(&key, Some(&raw)).del(&key);
                    }
                }
                cas.expect(session_ptr, session_at.as_deref())
                    .del(session_ptr);
                if let Some((key, raw)) = self.pointed(op, session_at.as_deref()).await? {
                    if records::decode_session(&raw).is_ok_and(|s| s.user_id == id) {
                        cas.expect(&key, Some(&raw)).del(&key);
                    }
                }
                cas.expect(list_key, list.as_deref()).del(list_key);
                if let Some(list) = &list {
                    let ids = decoded(op, list, records::decode_credential_ids)?;
                    for credential_id in ids {
                        let key = self.keys.authenticator(&credential_id);
                        let value = self.get(op, &key).await?;
                        if let Some(raw) = value {
                            if records::decode_authenticator(&raw).is_ok_and(|a| a.user_id == id) {
                                cas.expect(&key, Some(&raw)).del(&key);
                            }
                        }
                    }
                }
                Ok(Self::done(self.cas(op, &cas).await?, Some(user)))
            })
            .await
    }

    async fn insert_account(&self, account: &Account) -> AdapterResult<()> {
        let op = Operation::LinkAccount;
        let user_key = &self.keys.user(&account.user_id);
        let storage_key = self
            .keys
            .account_storage(&account.provider, &account.provider_account_id);
        let key = &self.keys.redis(&storage_key);
        let pointer = &self.keys.account_by_user(&account.user_id);
        let storage_key = &storage_key;
        self.db
            .retrying(op, || async move {
                let (user, taken) = self.user_and(op, user_key, key).await?;
                let Some(user) = user else {
                    return Err(AdapterError::not_found(op, "no user with this id"));
                };
                if taken {
                    return Err(AdapterError::conflict(
                        op,
                        "this provider account is linked already",
                    ));
                }
                let mut cas = Cas::default();
                cas.expect(user_key, Some(&user))
                    .expect(key, None)
                    .set(key, records::encode(&records::account_object(account)))
                    .set(pointer, encode_pointer(storage_key));
                Ok(Self::done(self.cas(op, &cas).await?, ()))
            })
            .await
    }

    async fn remove_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<Account>> {
        let op = Operation::UnlinkAccount;
        let key = &self.keys.account(provider, provider_account_id);
        self.db
            .retrying(op, || async move {
                let Some((account, raw)) = self.account(op, provider, provider_account_id).await?
                else {
                    return Ok(Attempt::Done(None));
                };
                // The by-user-id pointer stays, as Node's unlinkAccount leaves it: Node's
                // deleteUser fails on a missing pointer.
                let mut cas = Cas::default();
                cas.expect(key, Some(&raw)).del(key);
                Ok(Self::done(self.cas(op, &cas).await?, Some(account)))
            })
            .await
    }

    async fn find_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<Account>> {
        let op = Operation::GetAccount;
        match self.account(op, provider, provider_account_id).await? {
            // Node's deleteUser leaves accounts its pointer no longer names.
            Some((account, _)) if self.user_exists(op, &account.user_id).await? => {
                Ok(Some(account))
            }
            _ => Ok(None),
        }
    }

    async fn replace_account_tokens(&self, account: &Account) -> AdapterResult<Option<Account>> {
        let op = Operation::UpdateAccount;
        let key = &self
            .keys
            .account(&account.provider, &account.provider_account_id);
        self.db
            .retrying(op, || async move {
                let found = self
                    .account(op, &account.provider, &account.provider_account_id)
                    .await?;
                let Some((_, raw)) = found else {
                    return Ok(Attempt::Done(None));
                };
                let mut stored: Object =
                    records::object("account", &raw).map_err(|e| error::corrupt(op, e))?;
                records::set_account_tokens(&mut stored, account);
                let updated = records::account_from(&stored).map_err(|e| error::corrupt(op, e))?;
                let mut cas = Cas::default();
                cas.expect(key, Some(&raw))
                    .set(key, records::encode(&stored));
                Ok(Self::done(self.cas(op, &cas).await?, Some(updated)))
            })
            .await
    }

    async fn find_accounts(&self, user_id: &str) -> AdapterResult<Vec<Account>> {
        let op = Operation::ListAccounts;
        let pointer = self.get(op, &self.keys.account_by_user(user_id)).await?;
        let Some((_, raw)) = self.pointed(op, pointer.as_deref()).await? else {
            return Ok(Vec::new());
        };
        let account = decoded(op, &raw, records::decode_account)?;
        Ok(if account.user_id == user_id {
            vec![account]
        } else {
            Vec::new()
        })
    }

    // ------------------------------------------------------------ sessions

    async fn insert_session(&self, session: &Session) -> AdapterResult<()> {
        let op = Operation::CreateSession;
        let user_key = &self.keys.user(&session.user_id);
        let storage_key = &self.keys.session_storage(&session.session_token);
        let key = &self.keys.redis(storage_key);
        let pointer = &self.keys.session_by_user(&session.user_id);
        self.db
            .retrying(op, || async move {
                let (user, taken) = self.user_and(op, user_key, key).await?;
                let Some(user) = user else {
                    return Err(AdapterError::not_found(op, "no user with this id"));
                };
                if taken {
                    return Err(AdapterError::conflict(op, "this session token exists"));
                }
                let mut cas = Cas::default();
                cas.expect(user_key, Some(&user))
                    .expect(key, None)
                    .set_until(
                        key,
                        records::encode(&records::session_object(session)),
                        session.expires,
                    )
                    // The pointer holds the token: it goes with the session.
                    .set_until(pointer, encode_pointer(storage_key), session.expires);
                Ok(Self::done(self.cas(op, &cas).await?, ()))
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
        let op = Operation::GetSessionAndUser;
        let mut invocation = scripts::UNSTORAGE_SESSION_AND_USER.prepare_invoke();
        invocation
            .key(self.keys.session(session_token))
            .arg(self.keys.driver_prefix())
            .arg(self.keys.storage(keys::USER, ""));
        match self.db.invoke(op, &invocation).await? {
            Reply::Absent => Ok(None),
            Reply::Records(pair) => match pair.as_slice() {
                [session, user] => {
                    let session = decoded(op, session, records::decode_session)?;
                    let user = decoded(op, user, records::decode_user)?;
                    // A token sharing its key with another (after a `?`) is not this one.
                    Ok(
                        (session.session_token == session_token && user.id == session.user_id)
                            .then_some((session, user)),
                    )
                }
                [session] => decoded(op, session, records::decode_session).map(|_| None),
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
        let token = update.session_token.as_str();
        let key = &self.keys.session(token);
        let storage_key = &self.keys.session_storage(token);
        let missing_owner = || AdapterError::not_found(op, "no user with the new user id");
        self.db
            .retrying(op, || async move {
                let current = self.session(op, key, token).await?;
                let Some((current, raw)) = current.filter(|(s, _)| s.expires > now) else {
                    if let Some(user_id) = &update.user_id {
                        if !self.user_exists(op, user_id).await? {
                            return Err(missing_owner());
                        }
                    }
                    return Ok(Attempt::Done(None));
                };
                let merged = update.apply_to(current);
                let mut cas = Cas::default();
                cas.expect(key, Some(&raw));
                // The owner's pointer holds the token, so it expires with the session: a
                // new owner's pointer is written with the new expiry, and the owner's
                // pointer is moved with the session while it names it.
                if let Some(user_id) = &update.user_id {
                    let user_key = self.keys.user(user_id);
                    let Some(user) = self.get(op, &user_key).await? else {
                        return Err(missing_owner());
                    };
                    cas.expect(&user_key, Some(&user)).set_until(
                        &self.keys.session_by_user(user_id),
                        encode_pointer(storage_key),
                        merged.expires,
                    );
                } else {
                    let pointer = self.keys.session_by_user(&merged.user_id);
                    let at = self.get(op, &pointer).await?;
                    if at
                        .as_deref()
                        .is_some_and(|v| decode_pointer(&text(v)) == *storage_key)
                    {
                        cas.expect(&pointer, at.as_deref()).set_until(
                            &pointer,
                            encode_pointer(storage_key),
                            merged.expires,
                        );
                    }
                }
                cas.set_until(
                    key,
                    records::encode(&records::session_object(&merged)),
                    merged.expires,
                );
                Ok(Self::done(self.cas(op, &cas).await?, Some(merged)))
            })
            .await
    }

    async fn remove_session(&self, session_token: &str) -> AdapterResult<Option<Session>> {
        let op = Operation::DeleteSession;
        let key = &self.keys.session(session_token);
        self.db
            .retrying(op, || async move {
                let Some((session, raw)) = self.session(op, key, session_token).await? else {
                    return Ok(Attempt::Done(None));
                };
                // The by-user-id pointer stays, as Node's deleteSession leaves it.
                let mut cas = Cas::default();
                cas.expect(key, Some(&raw)).del(key);
                Ok(Self::done(self.cas(op, &cas).await?, Some(session)))
            })
            .await
    }

    async fn find_sessions(
        &self,
        user_id: &str,
        now: DateTime<Utc>,
    ) -> AdapterResult<Vec<Session>> {
        let op = Operation::ListSessions;
        Ok(self
            .pointed_session(op, user_id)
            .await?
            .map(|(_, session, _)| session)
            .filter(|s| s.expires > now)
            .into_iter()
            .collect())
    }

    async fn remove_sessions(&self, user_id: &str, now: DateTime<Utc>) -> AdapterResult<u64> {
        let op = Operation::DeleteSessions;
        self.db
            .retrying(op, || async move {
                let Some((key, session, raw)) = self.pointed_session(op, user_id).await? else {
                    return Ok(Attempt::Done(0));
                };
                let mut cas = Cas::default();
                cas.expect(&key, Some(&raw)).del(&key);
                let live = u64::from(session.expires > now);
                Ok(Self::done(self.cas(op, &cas).await?, live))
            })
            .await
    }

    // ------------------------------------------------------------ verification tokens

    async fn insert_verification_token(&self, token: &VerificationToken) -> AdapterResult<()> {
        let op = Operation::CreateVerificationToken;
        let key = self.keys.token(&token.identifier, &token.token);
        let mut cas = Cas::default();
        cas.expect(&key, None).set_until(
            &key,
            records::encode(&records::token_object(token)),
            token.expires,
        );
        if self.cas(op, &cas).await? {
            Ok(())
        } else {
            Err(AdapterError::conflict(op, "this verification token exists"))
        }
    }

    async fn take_verification_token(
        &self,
        identifier: &str,
        token: &str,
    ) -> AdapterResult<Option<VerificationToken>> {
        let op = Operation::UseVerificationToken;
        let key = &self.keys.token(identifier, token);
        self.db
            .retrying(op, || async move {
                let Some(raw) = self.get(op, key).await? else {
                    return Ok(Attempt::Done(None));
                };
                let found = decoded(op, &raw, records::decode_token)?;
                if found.identifier != identifier || found.token != token {
                    return Ok(Attempt::Done(None));
                }
                // GET and DEL in one script: of concurrent callers, one deletes it, the
                // others find it changed, read again, and find nothing.
                let mut cas = Cas::default();
                cas.expect(key, Some(&raw)).del(key);
                Ok(Self::done(self.cas(op, &cas).await?, Some(found)))
            })
            .await
    }

    // ------------------------------------------------------------ authenticators

    async fn insert_authenticator(&self, authenticator: &Authenticator) -> AdapterResult<()> {
        let op = Operation::CreateAuthenticator;
        let user_key = &self.keys.user(&authenticator.user_id);
        let key = &self.keys.authenticator(&authenticator.credential_id);
        let list_key = &self.keys.authenticators_by_user(&authenticator.user_id);
        self.db
            .retrying(op, || async move {
                let Some(user) = self.get(op, user_key).await? else {
                    return Err(AdapterError::not_found(op, "no user with this id"));
                };
                if self.get(op, key).await?.is_some() {
                    return Err(AdapterError::conflict(op, "this credential id exists"));
                }
                let list = self.get(op, list_key).await?;
                // Newest first, as Node's setAuthenticator writes it.
                let mut ids = vec![authenticator.credential_id.clone()];
                if let Some(list) = &list {
                    ids.extend(
                        decoded(op, list, records::decode_credential_ids)?
                            .into_iter()
                            .filter(|id| *id != authenticator.credential_id),
                    );
                }
                let mut cas = Cas::default();
                cas.expect(user_key, Some(&user))
                    .expect(key, None)
                    .expect(list_key, list.as_deref())
                    .set(
                        key,
                        records::encode(&records::authenticator_object(authenticator)),
                    )
                    .set(list_key, records::encode_credential_ids(&ids));
                Ok(Self::done(self.cas(op, &cas).await?, ()))
            })
            .await
    }

    async fn find_authenticator(
        &self,
        credential_id: &str,
    ) -> AdapterResult<Option<Authenticator>> {
        let op = Operation::GetAuthenticator;
        let key = self.keys.authenticator(credential_id);
        let found = self
            .db
            .record(op, &key, records::decode_authenticator)
            .await?;
        match found {
            // Node's deleteUser leaves authenticators behind.
            Some(a)
                if a.credential_id == credential_id && self.user_exists(op, &a.user_id).await? =>
            {
                Ok(Some(a))
            }
            _ => Ok(None),
        }
    }

    async fn find_authenticators(&self, user_id: &str) -> AdapterResult<Vec<Authenticator>> {
        let op = Operation::ListAuthenticators;
        let Some(list) = self
            .get(op, &self.keys.authenticators_by_user(user_id))
            .await?
        else {
            return Ok(Vec::new());
        };
        let ids = decoded(op, &list, records::decode_credential_ids)?;
        let keys: Vec<String> = ids.iter().map(|id| self.keys.authenticator(id)).collect();
        let raws = self.db.mget(op, &keys).await?;
        let mut found = Vec::with_capacity(ids.len());
        for raw in raws.into_iter().flatten() {
            let a = decoded(op, &raw, records::decode_authenticator)?;
            if a.user_id == user_id && ids.contains(&a.credential_id) {
                found.push(a);
            }
        }
        Ok(found)
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
                let Some(raw) = self.get(op, key).await? else {
                    return Ok(Attempt::Done(None));
                };
                let mut stored =
                    records::object("authenticator", &raw).map_err(|e| error::corrupt(op, e))?;
                stored.insert("counter".into(), counter.into());
                let updated =
                    records::authenticator_from(&stored).map_err(|e| error::corrupt(op, e))?;
                if updated.credential_id != credential_id {
                    return Ok(Attempt::Done(None));
                }
                let mut cas = Cas::default();
                cas.expect(key, Some(&raw))
                    .set(key, records::encode(&stored));
                Ok(Self::done(self.cas(op, &cas).await?, Some(updated)))
            })
            .await
    }

    async fn remove_authenticator(
        &self,
        credential_id: &str,
    ) -> AdapterResult<Option<Authenticator>> {
        let op = Operation::DeleteAuthenticator;
        let key = &self.keys.authenticator(credential_id);
        self.db
            .retrying(op, || async move {
                let Some(raw) = self.get(op, key).await? else {
                    return Ok(Attempt::Done(None));
                };
                let found = decoded(op, &raw, records::decode_authenticator)?;
                if found.credential_id != credential_id {
                    return Ok(Attempt::Done(None));
                }
                let list_key = self.keys.authenticators_by_user(&found.user_id);
                let list = self.get(op, &list_key).await?;
                let mut cas = Cas::default();
                cas.expect(key, Some(&raw)).del(key);
                if let Some(list) = &list {
                    let ids: Vec<String> = decoded(op, list, records::decode_credential_ids)?
                        .into_iter()
                        .filter(|id| id != credential_id)
                        .collect();
                    cas.expect(&list_key, Some(list));
                    if ids.is_empty() {
                        cas.del(&list_key);
                    } else {
                        cas.set(&list_key, records::encode_credential_ids(&ids));
                    }
                }
                Ok(Self::done(self.cas(op, &cas).await?, Some(found)))
            })
            .await
    }

    /// Sessions and tokens expire in Redis itself (`PEXPIREAT`), and the layout has no
    /// expiry index to sweep: nothing is left for this to remove.
    async fn remove_expired(&self, _now: DateTime<Utc>) -> AdapterResult<ExpiredCounts> {
        Ok(ExpiredCounts::default())
    }
}
