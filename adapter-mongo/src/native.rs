//! The store of the native layout ([`Layout::Native`](crate::Layout::Native)): this
//! crate's collections and typed documents (`crate::documents`), every guarantee of the
//! contract.

use std::ops::ControlFlow;

use auth_core::chrono::{DateTime, Utc};
use auth_core::{
    Account, AdapterError, AdapterResult, Authenticator, ErrorCode, ErrorKind, ExpiredCounts,
    Operation, Session, SessionUpdate, User, UserUpdate, VerificationToken,
};
use futures::TryStreamExt;
use mongodb::bson::{doc, Bson, Document};
use mongodb::options::ReturnDocument;
use mongodb::Collection;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::documents::{AccountDoc, SessionDoc, TokenDoc, UserDoc, WithUser};
use crate::error::ForOp;
use crate::extra::{changed_sub_document, reads_stored, sub_document};
use crate::layout::Fields;
use crate::shared::{
    self, carried_user_fields, no_user, unchanged, until_unchanged, with_owner, LayoutCollections,
};

/// `now` as the int64 milliseconds of the `expires_ms` fields.
///
/// Every expiry comparison in a query is on `expires_ms`, never on the BSON date
/// `expires` (which serves the TTL indexes): on MongoDB both are exact, but the nx-27017
/// stand-in compares dates only to the second, in `$gt`, `$lte` and even equality, so a
/// filter on the date could remove a session that is live for another 900 ms, or revive
/// one that expired 100 ms ago. Integers compare exactly everywhere.
fn millis(now: DateTime<Utc>) -> i64 {
    now.timestamp_millis()
}

fn to_document<T: Serialize>(op: Operation, value: &T) -> AdapterResult<Document> {
    mongodb::bson::to_document(value)
        .map_err(|e| AdapterError::from_driver(op, ErrorKind::InvalidInput, e))
}

/// The store of the native layout; [`MongoAdapter`](crate::MongoAdapter) hands every call
/// to it when the layout is [`Layout::Native`](crate::Layout::Native) (within the
/// adapter's call bound). Its collections hold this crate's typed documents.
pub(crate) type NativeStore =
    LayoutCollections<UserDoc, AccountDoc, SessionDoc, TokenDoc, Authenticator>;

impl NativeStore {
    async fn user_exists(&self, op: Operation, id: &str) -> AdapterResult<bool> {
        let found = self
            .users
            .count_documents(doc! { "_id": id })
            .limit(1)
            .await
            .for_op(op)?;
        Ok(found > 0)
    }

    /// Inserts `record` owned by `user_id` with no orphan left behind (see
    /// [`shared::insert_owned`]).
    async fn insert_owned<T>(
        &self,
        op: Operation,
        collection: &Collection<T>,
        record: &T,
        user_id: &str,
    ) -> AdapterResult<()>
    where
        T: Serialize + Send + Sync,
    {
        shared::insert_owned(op, collection, record, || self.user_exists(op, user_id)).await
    }

    /// The one document of `collection` matching `filter` (a unique key) together with its
    /// user, in one round trip: `$match`, `$lookup` of the user by `_id`, `$unwind`. A
    /// document whose user is gone yields nothing, so what a half-done `delete_user` left
    /// behind is never returned.
    async fn find_with_user<T>(
        &self,
        op: Operation,
        collection: &Collection<T>,
        filter: Document,
    ) -> AdapterResult<Option<WithUser<T>>>
    where
        T: DeserializeOwned + Send + Sync + Unpin,
    {
        let mut cursor = collection
            .aggregate(with_owner(filter, &self.names.users, "user_id"))
            .with_type::<WithUser<T>>()
            .await
            .for_op(op)?;
        cursor.try_next().await.for_op(op)
    }

    /// Every document of `collection` owned by `user_id`, if that user exists (so nothing
    /// a half-done `delete_user` left behind is listed).
    async fn find_owned<T>(
        &self,
        op: Operation,
        collection: &Collection<T>,
        user_id: &str,
        filter: Document,
    ) -> AdapterResult<Vec<T>>
    where
        T: DeserializeOwned + Send + Sync,
    {
        if !self.user_exists(op, user_id).await? {
            return Ok(Vec::new());
        }
        shared::find_all(op, collection, filter).await
    }

    pub(crate) async fn insert_user(
        &self,
        user: &User,
        email_key: Option<&str>,
    ) -> AdapterResult<String> {
        let op = Operation::CreateUser;
        self.users
            .insert_one(UserDoc::from_model(op, user, email_key)?)
            .await
            .for_op(op)?;
        Ok(user.id.clone())
    }

    pub(crate) async fn find_user(&self, id: &str) -> AdapterResult<Option<User>> {
        let op = Operation::GetUser;
        let found = self.users.find_one(doc! { "_id": id }).await.for_op(op)?;
        found.map(|doc| doc.into_model(op)).transpose()
    }

    pub(crate) async fn find_user_by_email(&self, email_key: &str) -> AdapterResult<Option<User>> {
        let op = Operation::GetUserByEmail;
        let found = self
            .users
            .find_one(doc! { "email_normalized": email_key })
            .await
            .for_op(op)?;
        found.map(|doc| doc.into_model(op)).transpose()
    }

    pub(crate) async fn find_user_by_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<User>> {
        let op = Operation::GetUserByAccount;
        let filter = doc! { "provider": provider, "provider_account_id": provider_account_id };
        let found = self.find_with_user(op, &self.accounts, filter).await?;
        found.map(|joined| joined.user.into_model(op)).transpose()
    }

    pub(crate) async fn merge_user(
        &self,
        update: &UserUpdate,
        email_key: Option<Option<&str>>,
    ) -> AdapterResult<Option<User>> {
        let op = Operation::UpdateUser;
        // The fields this update leaves as they are: the replacement below must not
        // overwrite a concurrent change to one of them. The extra fields are among them
        // unless replaced whole: a merge starts from them as read.
        let mut carried = carried_user_fields(update, &Fields::NATIVE);
        if reads_stored(update.extra.as_ref()) {
            carried.push("extra");
        }
        let carried = &carried;
        until_unchanged(op, move || async move {
            let key = doc! { "_id": update.id.as_str() };
            let Some(current) = self.users.find_one(key.clone()).await.for_op(op)? else {
                return Ok(ControlFlow::Break(None));
            };
            let filter = unchanged(key, &to_document(op, &current)?, carried);
            let key_now = email_key.unwrap_or(current.email_normalized.as_deref());
            // `apply_to` also refuses a merged object over the cap, before any write.
            let merged = update.apply_to(current.clone().into_model(op)?)?;
            let mut new = UserDoc::from_model(op, &merged, key_now)?;
            // The sub-document as stored with the change applied, rather than the merged
            // JSON: a field the change does not name keeps its BSON type.
            new.extra = changed_sub_document(op, current.extra.as_ref(), update.extra.as_ref())?;
            // A taken email fails here with a duplicate key (Conflict), changing nothing.
            if shared::replace(op, &self.users, filter, &new).await? {
                return Ok(ControlFlow::Break(Some(merged)));
            }
            Ok(ControlFlow::Continue(()))
        })
        .await
    }

    pub(crate) async fn remove_user(&self, id: &str) -> AdapterResult<Option<User>> {
        let op = Operation::DeleteUser;
        // The user goes first (D), then what names it (C): see `insert_owned` for why no
        // concurrent insert leaves an orphan. Every read of an account, session or
        // credential checks its user, so whatever a failure between the two leaves behind
        // is invisible; and the cascade runs even when the user is already gone, so a
        // second call finishes a delete that failed half-way.
        let user = self
            .users
            .find_one_and_delete(doc! { "_id": id })
            .await
            .for_op(op)?;
        let owned = doc! { "user_id": id };
        self.accounts.delete_many(owned.clone()).await.for_op(op)?;
        self.sessions.delete_many(owned.clone()).await.for_op(op)?;
        self.authenticators.delete_many(owned).await.for_op(op)?;
        user.map(|doc| doc.into_model(op)).transpose()
    }

    pub(crate) async fn insert_account(&self, account: &Account) -> AdapterResult<()> {
        let op = Operation::LinkAccount;
        let doc = AccountDoc::from_model(op, account)?;
        self.insert_owned(op, &self.accounts, &doc, &account.user_id)
            .await
    }

    pub(crate) async fn remove_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<Account>> {
        let op = Operation::UnlinkAccount;
        let filter = doc! { "provider": provider, "provider_account_id": provider_account_id };
        self.accounts
            .find_one_and_delete(filter)
            .await
            .for_op(op)?
            .map(|doc| doc.into_model(op))
            .transpose()
    }

    pub(crate) async fn find_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<Account>> {
        let op = Operation::GetAccount;
        let filter = doc! { "provider": provider, "provider_account_id": provider_account_id };
        let found = self.find_with_user(op, &self.accounts, filter).await?;
        found.map(|joined| joined.doc.into_model(op)).transpose()
    }

    pub(crate) async fn replace_account_tokens(
        &self,
        account: &Account,
    ) -> AdapterResult<Option<Account>> {
        let op = Operation::UpdateAccount;
        let filter = doc! {
            "provider": account.provider.as_str(),
            "provider_account_id": account.provider_account_id.as_str(),
        };
        let text = |v: &Option<String>| v.clone().map_or(Bson::Null, Bson::String);
        // No dates among these fields, so a `$set` stores them as given on every server.
        let mut tokens = doc! {
            "refresh_token": text(&account.refresh_token),
            "access_token": text(&account.access_token),
            "expires_at": account.expires_at.map_or(Bson::Null, Bson::Int64),
            "token_type": text(&account.token_type),
            "scope": text(&account.scope),
            "id_token": text(&account.id_token),
            "session_state": text(&account.session_state),
        };
        // The rest of the token response is replaced with the tokens, in the same update.
        let update = match sub_document(op, &account.extra)? {
            Some(extra) => {
                tokens.insert("extra", extra);
                doc! { "$set": tokens }
            }
            None => doc! { "$set": tokens, "$unset": { "extra": "" } },
        };
        self.accounts
            .find_one_and_update(filter, update)
            .return_document(ReturnDocument::After)
            .await
            .for_op(op)?
            .map(|doc| doc.into_model(op))
            .transpose()
    }

    pub(crate) async fn find_accounts(&self, user_id: &str) -> AdapterResult<Vec<Account>> {
        let op = Operation::ListAccounts;
        let filter = doc! { "user_id": user_id };
        let docs = self.find_owned(op, &self.accounts, user_id, filter).await?;
        docs.into_iter().map(|doc| doc.into_model(op)).collect()
    }

    pub(crate) async fn insert_session(&self, session: &Session) -> AdapterResult<()> {
        let op = Operation::CreateSession;
        let doc = SessionDoc::from_model(op, session)?;
        self.insert_owned(op, &self.sessions, &doc, &session.user_id)
            .await
    }

    pub(crate) async fn find_session_and_user(
        &self,
        session_token: &str,
        now: DateTime<Utc>,
    ) -> AdapterResult<Option<(Session, User)>> {
        let op = Operation::GetSessionAndUser;
        // Expiry is checked on what the lookup by key returned: the stand-in ignores
        // comparisons in an aggregation's `$match`, and a key matches one session anyway.
        let filter = doc! { "session_token": session_token };
        let Some(found) = self.find_with_user(op, &self.sessions, filter).await? else {
            return Ok(None);
        };
        if found.doc.expires_ms <= millis(now) {
            return Ok(None);
        }
        Ok(Some((
            found.doc.into_model(op)?,
            found.user.into_model(op)?,
        )))
    }

    pub(crate) async fn change_session(
        &self,
        update: &SessionUpdate,
        now: DateTime<Utc>,
    ) -> AdapterResult<Option<Session>> {
        let op = Operation::UpdateSession;
        let moved_to = update.user_id.as_deref();
        if let Some(user_id) = moved_to {
            if !self.user_exists(op, user_id).await? {
                return Err(no_user(op));
            }
        }
        let key = doc! { "session_token": update.session_token.as_str() };
        let key = &key;
        let changed = until_unchanged(op, move || async move {
            let Some(current) = self.sessions.find_one(key.clone()).await.for_op(op)? else {
                return Ok(ControlFlow::Break(None));
            };
            // Live at `now`, checked exactly here; the replacement below is made under a
            // filter on the whole session as read (its `expires_ms` an integer, compared
            // exactly on every server), so it lands only on this live state of the session:
            // an expired session is never revived, and a concurrent change is never
            // overwritten (the filter misses and the session is read again).
            if current.expires_ms <= millis(now) {
                return Ok(ControlFlow::Break(None));
            }
            // The session's data is part of the state as read (a merge starts from it, and
            // an update that does not change it must not write back an old copy); a
            // missing `extra` matches `null`.
            let mut filter = doc! {
                "session_token": current.session_token.as_str(),
                "user_id": current.user_id.as_str(),
                "expires_ms": current.expires_ms,
            };
            shared::match_equal(
                &mut filter,
                "extra",
                current.extra.clone().map_or(Bson::Null, Bson::Document),
            );
            let stored_extra = current.extra.clone();
            // `apply_to` also refuses merged data over the cap, before any write.
            let mut new = SessionDoc::from_model(op, &update.apply_to(current.into_model(op)?)?)?;
            new.extra = changed_sub_document(op, stored_extra.as_ref(), update.extra.as_ref())?;
            if shared::replace(op, &self.sessions, filter, &new).await? {
                return Ok(ControlFlow::Break(Some(new)));
            }
            Ok(ControlFlow::Continue(()))
        })
        .await?;
        let Some(changed) = changed else {
            return Ok(None);
        };
        // A session moved to a user that was deleted meanwhile: as with an insert (see
        // `insert_owned`), check the user after the write and remove what would be an orphan.
        if let Some(user_id) = moved_to {
            if !self.user_exists(op, user_id).await? {
                self.sessions
                    .delete_one(doc! { "session_token": changed.session_token.as_str(), "user_id": user_id })
                    .await
                    .for_op(op)?;
                return Err(no_user(op));
            }
        }
        changed.into_model(op).map(Some)
    }

    pub(crate) async fn remove_session(
        &self,
        session_token: &str,
    ) -> AdapterResult<Option<Session>> {
        let op = Operation::DeleteSession;
        self.sessions
            .find_one_and_delete(doc! { "session_token": session_token })
            .await
            .for_op(op)?
            .map(|doc| doc.into_model(op))
            .transpose()
    }

    pub(crate) async fn find_sessions(
        &self,
        user_id: &str,
        now: DateTime<Utc>,
    ) -> AdapterResult<Vec<Session>> {
        let op = Operation::ListSessions;
        let filter = doc! { "user_id": user_id, "expires_ms": { "$gt": millis(now) } };
        let docs = self.find_owned(op, &self.sessions, user_id, filter).await?;
        docs.into_iter().map(|doc| doc.into_model(op)).collect()
    }

    pub(crate) async fn remove_sessions(
        &self,
        user_id: &str,
        now: DateTime<Utc>,
    ) -> AdapterResult<u64> {
        let op = Operation::DeleteSessions;
        // Only the live ones, so the count is exactly the live sessions removed; expired
        // ones are left to the TTL index and `delete_expired`.
        let live = doc! { "user_id": user_id, "expires_ms": { "$gt": millis(now) } };
        let result = self.sessions.delete_many(live).await.for_op(op)?;
        Ok(result.deleted_count)
    }

    pub(crate) async fn insert_verification_token(
        &self,
        token: &VerificationToken,
    ) -> AdapterResult<()> {
        let op = Operation::CreateVerificationToken;
        self.tokens
            .insert_one(TokenDoc::from_model(token))
            .await
            .for_op(op)?;
        Ok(())
    }

    pub(crate) async fn take_verification_token(
        &self,
        identifier: &str,
        token: &str,
    ) -> AdapterResult<Option<VerificationToken>> {
        let op = Operation::UseVerificationToken;
        // find_one_and_delete is the atomic take: of concurrent callers one gets the
        // document. An expired one is removed all the same (the policy answers None).
        self.tokens
            .find_one_and_delete(doc! { "identifier": identifier, "token": token })
            .await
            .for_op(op)?
            .map(|doc| doc.into_model(op))
            .transpose()
    }

    pub(crate) async fn insert_authenticator(
        &self,
        authenticator: &Authenticator,
    ) -> AdapterResult<()> {
        let op = Operation::CreateAuthenticator;
        self.insert_owned(
            op,
            &self.authenticators,
            authenticator,
            &authenticator.user_id,
        )
        .await
    }

    pub(crate) async fn find_authenticator(
        &self,
        credential_id: &str,
    ) -> AdapterResult<Option<Authenticator>> {
        let op = Operation::GetAuthenticator;
        let filter = doc! { "credential_id": credential_id };
        let found = self
            .find_with_user(op, &self.authenticators, filter)
            .await?;
        Ok(found.map(|joined| joined.doc))
    }

    pub(crate) async fn find_authenticators(
        &self,
        user_id: &str,
    ) -> AdapterResult<Vec<Authenticator>> {
        let op = Operation::ListAuthenticators;
        let filter = doc! { "user_id": user_id };
        self.find_owned(op, &self.authenticators, user_id, filter)
            .await
    }

    pub(crate) async fn set_authenticator_counter(
        &self,
        credential_id: &str,
        counter: i64,
    ) -> AdapterResult<Option<Authenticator>> {
        let op = Operation::UpdateAuthenticatorCounter;
        self.authenticators
            .find_one_and_update(
                doc! { "credential_id": credential_id },
                doc! { "$set": { "counter": counter } },
            )
            .return_document(ReturnDocument::After)
            .await
            .for_op(op)
    }

    pub(crate) async fn remove_authenticator(
        &self,
        credential_id: &str,
    ) -> AdapterResult<Option<Authenticator>> {
        let op = Operation::DeleteAuthenticator;
        self.authenticators
            .find_one_and_delete(doc! { "credential_id": credential_id })
            .await
            .for_op(op)
    }

    pub(crate) async fn remove_expired(&self, now: DateTime<Utc>) -> AdapterResult<ExpiredCounts> {
        let op = Operation::DeleteExpired;
        // The TTL indexes remove expired documents within about a minute anyway; this is
        // the exact sweep, and `deleted_count` is exactly what it removed (not what the
        // TTL monitor removed meanwhile).
        let expired = doc! { "expires_ms": { "$lte": millis(now) } };
        let sessions = self
            .sessions
            .delete_many(expired.clone())
            .await
            .for_op(op)?
            .deleted_count;
        let verification_tokens = self
            .tokens
            .delete_many(expired)
            .await
            .for_op(op)
            .map_err(|e| e.with_code(ErrorCode::DeleteVerificationRequestError))?
            .deleted_count;
        Ok(ExpiredCounts {
            sessions,
            verification_tokens,
        })
    }
}
