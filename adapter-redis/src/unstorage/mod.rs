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

mod cas;
mod emails;
pub(crate) mod keys;
pub(crate) mod records;

use std::future::Future;

use async_trait::async_trait;
use auth_core::chrono::{DateTime, Utc};
use auth_core::{
    normalize_email, Account, AdapterError, AdapterResult, Authenticator, ExpiredCounts, Operation,
    Session, SessionUpdate, Store, User, UserUpdate, VerificationToken,
};

use crate::connection::{Attempt, Db};
use crate::error::{self, decoded, unexpected_outcome};
use crate::scripts::{self, Reply};
use cas::Cas;
use emails::{email_keys, pointer_target, release_claim, Claim};
use keys::{encode_pointer, Keys};
use records::Object;

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
        let key = self.keys.redis(&pointer_target(pointer));
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
        let same = same_account(&account, provider, provider_account_id);
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
    /// Stores a record of the user at `user_key` under the free key `key` by
    /// compare-and-set, with the writes `write` adds: `NotFound` when there is no such
    /// user, `Conflict` (saying `taken`) when the key is taken.
    async fn insert_owned(
        &self,
        op: Operation,
        user_key: &str,
        key: &str,
        taken: &'static str,
        write: impl Fn(&mut Cas),
    ) -> AdapterResult<()> {
        let write = &write;
        self.db
            .retrying(op, || async move {
                let (user, is_taken) = self.user_and(op, user_key, key).await?;
                let Some(user) = user else {
                    return Err(AdapterError::not_found(op, "no user with this id"));
                };
                if is_taken {
                    return Err(AdapterError::conflict(op, taken));
                }
                let mut cas = Cas::default();
                cas.expect(user_key, Some(&user)).expect(key, None);
                write(&mut cas);
                cas.attempt(&self.db, op, ()).await
            })
            .await
    }

    /// Deletes the record `read` finds (its key, the record and its value as stored) by
    /// compare-and-set, and gives the record back; `None` when `read` finds none.
    async fn remove_read<T, Fut>(
        &self,
        op: Operation,
        read: impl Fn() -> Fut,
    ) -> AdapterResult<Option<T>>
    where
        Fut: Future<Output = AdapterResult<Option<(String, T, Vec<u8>)>>>,
    {
        let read = &read;
        self.db
            .retrying(op, || async move {
                let Some((key, record, raw)) = read().await? else {
                    return Ok(Attempt::Done(None));
                };
                let mut cas = Cas::default();
                cas.expect(&key, Some(&raw)).del(&key);
                cas.attempt(&self.db, op, Some(record)).await
            })
            .await
    }

    /// Rewrites the record at `key` by compare-and-set: `change` turns the value stored
    /// into the object to store and the record it holds, or gives `None` when the value
    /// is not the record asked for (another one sharing its key).
    async fn rewrite<T>(
        &self,
        op: Operation,
        key: &str,
        change: impl Fn(&[u8]) -> AdapterResult<Option<(Object, T)>>,
    ) -> AdapterResult<Option<T>> {
        let change = &change;
        self.db
            .retrying(op, || async move {
                let Some(raw) = self.get(op, key).await? else {
                    return Ok(Attempt::Done(None));
                };
                let Some((stored, updated)) = change(&raw)? else {
                    return Ok(Attempt::Done(None));
                };
                let mut cas = Cas::default();
                cas.expect(key, Some(&raw))
                    .set(key, records::encode(&stored));
                cas.attempt(&self.db, op, Some(updated)).await
            })
            .await
    }
}

/// Whether `account` is the one of this pair (not another pair sharing its key).
fn same_account(account: &Account, provider: &str, provider_account_id: &str) -> bool {
    account.provider == provider && account.provider_account_id == provider_account_id
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
        // Not used: this layout keys emails as Node does (see `emails`).
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
                    for key in email_keys(&self.keys, email) {
                        let claim = Claim::read(&self.db, &self.keys, op, key).await?;
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
                cas.attempt(&self.db, op, user.id.clone()).await
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
        let id = pointer_target(&raw);
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
        // Not used: this layout keys emails as Node does (see `emails`).
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
                let current = decoded(op, &raw, records::decode_user)?;
                if current.id != id {
                    return Ok(Attempt::Done(None));
                }
                let merged = update.apply_to(current.clone())?;
                let mut cas = Cas::default();
                cas.expect(user_key, Some(&raw));
                if merged.email != current.email {
                    let new_keys = merged
                        .email
                        .as_deref()
                        .map(|e| email_keys(&self.keys, e))
                        .unwrap_or_default();
                    if let Some(email) = &merged.email {
                        for key in &new_keys {
                            let claim = Claim::read(&self.db, &self.keys, op, key.clone()).await?;
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
                        .map(|e| email_keys(&self.keys, e))
                        .unwrap_or_default();
                    for old_key in old_keys.iter().filter(|k| !new_keys.contains(k)) {
                        release_claim(&self.db, op, &mut cas, old_key, id).await?;
                    }
                }
                // Every field Node stored is either the user's own or an extra field, so the
                // merged user is the whole record (its extra fields merged in Rust above, so the
                // cap holds for what is stored).
                cas.set(user_key, records::encode(&records::user_object(&merged)));
                cas.attempt(&self.db, op, Some(merged)).await
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
                    for key in email_keys(&self.keys, email) {
                        release_claim(&self.db, op, &mut cas, &key, id).await?;
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
                cas.attempt(&self.db, op, Some(user)).await
            })
            .await
    }

    async fn insert_account(&self, account: &Account) -> AdapterResult<()> {
        let op = Operation::LinkAccount;
        let storage_key = self
            .keys
            .account_storage(&account.provider, &account.provider_account_id);
        let key = self.keys.redis(&storage_key);
        let pointer = self.keys.account_by_user(&account.user_id);
        let user_key = self.keys.user(&account.user_id);
        let taken = "this provider account is linked already";
        self.insert_owned(op, &user_key, &key, taken, |cas| {
            cas.set(&key, records::encode(&records::account_object(account)))
                .set(&pointer, encode_pointer(&storage_key));
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
        // The by-user-id pointer stays, as Node's unlinkAccount leaves it: Node's
        // deleteUser fails on a missing pointer.
        self.remove_read(op, || async move {
            let found = self.account(op, provider, provider_account_id).await?;
            Ok(found.map(|(account, raw)| (key.clone(), account, raw)))
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
        let (provider, provider_account_id) = (&account.provider, &account.provider_account_id);
        let key = self.keys.account(provider, provider_account_id);
        self.rewrite(op, &key, |raw| {
            let found = decoded(op, raw, records::decode_account)?;
            if !same_account(&found, provider, provider_account_id) {
                return Ok(None);
            }
            // The token fields and the extra fields (the rest of the token response) are
            // replaced together; the owner and the type stay.
            let updated = Account {
                user_id: found.user_id,
                account_type: found.account_type,
                ..account.clone()
            };
            Ok(Some((records::account_object(&updated), updated)))
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
        let storage_key = self.keys.session_storage(&session.session_token);
        let key = self.keys.redis(&storage_key);
        let pointer = self.keys.session_by_user(&session.user_id);
        let user_key = self.keys.user(&session.user_id);
        let taken = "this session token exists";
        self.insert_owned(op, &user_key, &key, taken, |cas| {
            let record = records::encode(&records::session_object(session));
            cas.set_until(&key, record, session.expires)
                // The pointer holds the token: it goes with the session.
                .set_until(&pointer, encode_pointer(&storage_key), session.expires);
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
                let merged = update.apply_to(current)?;
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
                        .is_some_and(|v| pointer_target(v) == *storage_key)
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
                cas.attempt(&self.db, op, Some(merged)).await
            })
            .await
    }

    async fn remove_session(&self, session_token: &str) -> AdapterResult<Option<Session>> {
        let op = Operation::DeleteSession;
        let key = &self.keys.session(session_token);
        // The by-user-id pointer stays, as Node's deleteSession leaves it.
        self.remove_read(op, || async move {
            let found = self.session(op, key, session_token).await?;
            Ok(found.map(|(session, raw)| (key.clone(), session, raw)))
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
        let removed = self
            .remove_read(op, || self.pointed_session(op, user_id))
            .await?;
        Ok(removed.map_or(0, |session| u64::from(session.expires > now)))
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
        if cas.run(&self.db, op).await? {
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
        // GET and DEL in one script: of concurrent callers, one deletes it, the others find
        // it changed, read again, and find nothing.
        self.remove_read(op, || async move {
            let Some(raw) = self.get(op, key).await? else {
                return Ok(None);
            };
            let found = decoded(op, &raw, records::decode_token)?;
            let same = found.identifier == identifier && found.token == token;
            Ok(same.then(|| (key.clone(), found, raw)))
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
                cas.attempt(&self.db, op, ()).await
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
        let key = self.keys.authenticator(credential_id);
        self.rewrite(op, &key, |raw| {
            let mut stored =
                records::object("authenticator", raw).map_err(|e| error::corrupt(op, e))?;
            stored.insert("counter".into(), counter.into());
            let updated =
                records::authenticator_from(&stored).map_err(|e| error::corrupt(op, e))?;
            Ok((updated.credential_id == credential_id).then_some((stored, updated)))
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
                cas.attempt(&self.db, op, Some(found)).await
            })
            .await
    }

    /// Sessions and tokens expire in Redis itself (`PEXPIREAT`), and the layout has no
    /// expiry index to sweep: nothing is left for this to remove.
    async fn remove_expired(&self, _now: DateTime<Utc>) -> AdapterResult<ExpiredCounts> {
        Ok(ExpiredCounts::default())
    }
}
