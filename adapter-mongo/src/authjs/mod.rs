//! The Auth.js layout ([`Layout::AuthJs`](crate::Layout::AuthJs)): the collections and
//! documents of `@auth/mongodb-adapter`, so a Rust service shares the database of a running
//! Auth.js app.
//!
//! What Auth.js writes, and so what this module reads and writes:
//!
//! | collection | document |
//! |---|---|
//! | `users` | `_id` (ObjectId), `name`, `email` (as given), `emailVerified` (date), `image` |
//! | `accounts` | `_id`, `userId` (ObjectId), `type`, `provider`, `providerAccountId`, the snake_case token fields, `expires_at` (number) |
//! | `sessions` | `_id`, `sessionToken`, `userId` (ObjectId), `expires` (date) |
//! | `verification_tokens` | `_id`, `identifier`, `token`, `expires` (date) |
//!
//! Ids follow Auth.js's `_id(hex)`: a user id of 24 hex digits is kept as that ObjectId,
//! any other id gets a new one, and ids are exposed as lowercase hex. A lookup by an id that
//! is not 24 hex digits finds nothing (Auth.js looks up a fresh ObjectId). Auth.js has no
//! authenticators collection; this layout keeps WebAuthn credentials in `authenticators`
//! with the field names of Auth.js's `AdapterAuthenticator` (`credentialID`, `userId`, …),
//! which the Node adapter never reads.
//!
//! Documents are handled untyped. Every top-level field of a user, account or session that
//! is not in the table is one of the record's extra fields (`crate::extra`), as
//! `@auth/mongodb-adapter` keeps the whole object it is given: an app's `role`, the rest of
//! a token response, session data. The extra fields are written at top level too, and an
//! update sets and removes only the ones it names.

use std::ops::ControlFlow;

use auth_core::chrono::{DateTime, Utc};
use auth_core::{
    Account, AdapterError, AdapterResult, Authenticator, ErrorCode, ExpiredCounts, ExtraChange,
    Operation, Session, SessionUpdate, User, UserUpdate, VerificationToken,
};
use futures::TryStreamExt;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{doc, Bson, Document};
use mongodb::options::ReturnDocument;
use mongodb::Collection;

use crate::error::ForOp;
use crate::extra::{apply_change, reads_stored};
use crate::layout::Fields;
use crate::shared::{
    self, carried_user_fields, no_user, to_bson, unchanged, until_unchanged, with_owner,
    LayoutCollections,
};

mod documents;

use documents::{
    account_of, account_tokens, add_extra, authenticator_of, is_own, optional, required_date,
    session_of, set_user_fields, token_of, user_of,
};
pub(crate) use documents::{ACCOUNT_FIELDS, SESSION_FIELDS, USER_FIELDS};

/// Adds to `filter` every extra field of `current` (its top-level fields not in `own`) as
/// read, so a replacement under it lands only if none of them changed meanwhile: the guard
/// a read-modify-write of the extra fields needs. A name MongoDB would read as a path or an
/// operator (another program may have stored `a.b` or `$x`) cannot be matched literally
/// and is left out of the guard.
fn guard_extras(filter: &mut Document, current: &Document, own: &'static [&'static str]) {
    for (name, value) in current {
        if own.contains(&name.as_str()) || name.starts_with('$') || name.contains('.') {
            continue;
        }
        shared::match_equal(filter, name, value.clone());
    }
}

/// Auth.js's `_id(hex)` for lookups: the ObjectId of 24 hex digits, else none (Auth.js
/// would look up a fresh ObjectId, which finds nothing).
pub(crate) fn authjs_object_id(id: &str) -> Option<ObjectId> {
    if id.len() == 24 {
        ObjectId::parse_str(id).ok()
    } else {
        None
    }
}

/// The instant as the start of its second and of the next one.
///
/// The stand-in server CI uses compares dates in filters only to the second; a filter
/// whose bound is a whole second compares exactly there as on MongoDB (`d < s` for a
/// whole second `s` holds exactly when the second of `d` is before `s`). So expiry
/// filters here use whole-second bounds, and the last partial second is checked in Rust.
fn seconds_around(now: DateTime<Utc>) -> (mongodb::bson::DateTime, mongodb::bson::DateTime) {
    let floor = now.timestamp().saturating_mul(1000);
    (
        mongodb::bson::DateTime::from_millis(floor),
        mongodb::bson::DateTime::from_millis(floor.saturating_add(1000)),
    )
}

/// The filter on the `userId` of the documents `user` owns, written `{$in: [id]}`: the same
/// match as `{userId: id}` on MongoDB, and the form the stand-in CI uses matches (it
/// finds nothing on an ObjectId compared for equality outside `_id`).
fn owned_by(user: ObjectId) -> Document {
    doc! { "userId": { "$in": [user] } }
}

/// An anchored, case-insensitive `$regex` filter value matching `text` in any case, with
/// any blanks around it; `None` when `text` holds a NUL (a regex cannot).
fn any_case(text: &str) -> Option<Document> {
    if text.contains('\0') {
        return None;
    }
    let mut pattern = String::with_capacity(text.len() + 8);
    // Stored emails may carry the blanks the key was trimmed of.
    pattern.push_str("^\\s*");
    for c in text.chars() {
        if "\\^$.|?*+()[]{}-#/ ".contains(c) {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push_str("\\s*$");
    Some(doc! { "$regex": pattern, "$options": "i" })
}

/// The store of the Auth.js layout; [`MongoAdapter`](crate::MongoAdapter) hands every
/// call to it when the layout is [`Layout::AuthJs`](crate::Layout::AuthJs) (within the
/// adapter's call bound). Its collections hold untyped documents.
pub(crate) type AuthJsStore = LayoutCollections<Document, Document, Document, Document, Document>;

impl AuthJsStore {
    async fn user_exists(&self, op: Operation, id: ObjectId) -> AdapterResult<bool> {
        // `find_one`, not `count_documents`: the stand-in's count (an aggregation) does not
        // match an ObjectId `_id`.
        let found = self
            .users
            .find_one(doc! { "_id": id })
            .projection(doc! { "_id": 1 })
            .await
            .for_op(op)?;
        Ok(found.is_some())
    }

    async fn user_by_oid(&self, op: Operation, id: ObjectId) -> AdapterResult<Option<User>> {
        let found = self.users.find_one(doc! { "_id": id }).await.for_op(op)?;
        found.map(|doc| user_of(op, &doc)).transpose()
    }

    /// The owner of `doc` (its `userId`), if that user exists.
    async fn owner(&self, op: Operation, doc: &Document) -> AdapterResult<Option<User>> {
        match doc.get("userId") {
            Some(Bson::ObjectId(id)) => self.user_by_oid(op, *id).await,
            _ => Ok(None),
        }
    }

    /// Inserts `record` owned by `user` with no orphan left behind (see
    /// [`shared::insert_owned`]).
    async fn insert_owned(
        &self,
        op: Operation,
        collection: &Collection<Document>,
        record: Document,
        user: ObjectId,
    ) -> AdapterResult<()> {
        shared::insert_owned(op, collection, record, || self.user_exists(op, user)).await
    }

    /// Every document of `collection` whose `userId` is `user_id`, if that user exists.
    async fn owned(
        &self,
        op: Operation,
        collection: &Collection<Document>,
        user_id: &str,
    ) -> AdapterResult<Vec<Document>> {
        let Some(id) = authjs_object_id(user_id) else {
            return Ok(Vec::new());
        };
        if !self.user_exists(op, id).await? {
            return Ok(Vec::new());
        }
        shared::find_all(op, collection, owned_by(id)).await
    }

    /// Deletes the documents of `collection` matching `filter` whose `expires` is after
    /// `now` (`live`) or at or before it (not `live`), and counts them exactly: the whole
    /// seconds by a filter, the second of `now` in Rust (see [`seconds_around`]).
    async fn delete_by_expiry(
        &self,
        op: Operation,
        collection: &Collection<Document>,
        filter: Document,
        now: DateTime<Utc>,
        live: bool,
    ) -> AdapterResult<u64> {
        let (floor, ceiling) = seconds_around(now);
        let (whole, partial) = if live {
            (
                doc! { "$gte": ceiling },
                doc! { "$gte": floor, "$lt": ceiling },
            )
        } else {
            (
                doc! { "$lt": floor },
                doc! { "$gte": floor, "$lt": ceiling },
            )
        };
        let mut sure = filter.clone();
        sure.insert("expires", whole);
        let mut count = collection.delete_many(sure).await.for_op(op)?.deleted_count;
        let mut near = filter;
        near.insert("expires", partial);
        let candidates = shared::find_all(op, collection, near).await?;
        let mut ids = Vec::new();
        for doc in candidates {
            let expires = required_date(op, &doc, "expires")?;
            if (expires > now) == live {
                if let Some(id) = doc.get("_id") {
                    ids.push(id.clone());
                }
            }
        }
        if !ids.is_empty() {
            count += collection
                .delete_many(doc! { "_id": { "$in": ids } })
                .await
                .for_op(op)?
                .deleted_count;
        }
        Ok(count)
    }

    pub(crate) async fn insert_user(
        &self,
        user: &User,
        _email_key: Option<&str>,
    ) -> AdapterResult<String> {
        let op = Operation::CreateUser;
        // Auth.js's `_id(hex)`: 24 hex digits are kept, anything else gets a new ObjectId
        // (`ObjectId::default()` is `ObjectId::new()`).
        let id = authjs_object_id(&user.id).unwrap_or_default();
        let mut doc = doc! { "_id": id };
        set_user_fields(&mut doc, user);
        add_extra(op, &mut doc, &user.extra)?;
        self.users.insert_one(doc).await.for_op(op)?;
        Ok(id.to_hex())
    }

    pub(crate) async fn find_user(&self, id: &str) -> AdapterResult<Option<User>> {
        match authjs_object_id(id) {
            Some(id) => self.user_by_oid(Operation::GetUser, id).await,
            None => Ok(None),
        }
    }

    pub(crate) async fn find_user_by_email(&self, email_key: &str) -> AdapterResult<Option<User>> {
        let op = Operation::GetUserByEmail;
        // Auth.js stores the email as given and matches it exactly; the key is the
        // normalized (lowercase) email. The exact match uses the email index and finds what
        // Auth.js's email sign-in stores (it lowercases); an email stored with capitals is
        // found by a case-insensitive match, oldest user first (README: several spellings
        // of one address can coexist in this layout, and that match scans the index).
        let exact = self
            .users
            .find_one(doc! { "email": email_key })
            .await
            .for_op(op)?;
        if let Some(doc) = exact {
            return user_of(op, &doc).map(Some);
        }
        let Some(pattern) = any_case(email_key) else {
            return Ok(None);
        };
        let mut candidates = self
            .users
            .find(doc! { "email": pattern })
            .sort(doc! { "_id": 1 })
            .await
            .for_op(op)?;
        // The regex's idea of case (and its `$`, which also matches before a final newline)
        // is not ours: the key decides.
        while let Some(doc) = candidates.try_next().await.for_op(op)? {
            let user = user_of(op, &doc)?;
            if user
                .email
                .as_deref()
                .map(auth_core::normalize_email)
                .as_deref()
                == Some(email_key)
            {
                return Ok(Some(user));
            }
        }
        Ok(None)
    }

    async fn account_doc(
        &self,
        op: Operation,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<Document>> {
        let filter = doc! { "provider": provider, "providerAccountId": provider_account_id };
        self.accounts.find_one(filter).await.for_op(op)
    }

    pub(crate) async fn find_user_by_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<User>> {
        let op = Operation::GetUserByAccount;
        match self.account_doc(op, provider, provider_account_id).await? {
            Some(account) => self.owner(op, &account).await,
            None => Ok(None),
        }
    }

    pub(crate) async fn merge_user(
        &self,
        update: &UserUpdate,
        _email_key: Option<Option<&str>>,
    ) -> AdapterResult<Option<User>> {
        let op = Operation::UpdateUser;
        let Some(id) = authjs_object_id(&update.id) else {
            return Ok(None);
        };
        // The fields this update leaves alone: the replacement must not overwrite a
        // concurrent change to one of them (as in the native layout).
        let carried = &carried_user_fields(update, &Fields::AUTHJS);
        until_unchanged(op, move || async move {
            let key = doc! { "_id": id };
            let Some(current) = self.users.find_one(key.clone()).await.for_op(op)? else {
                return Ok(ControlFlow::Break(None));
            };
            let mut filter = unchanged(key, &current, carried);
            // The extra fields are top-level fields here: a merge starts from them as read.
            if reads_stored(update.extra.as_ref()) {
                guard_extras(&mut filter, &current, USER_FIELDS);
            }
            // `apply_to` also refuses a merged object over the cap, before any write.
            let merged = update.apply_to(user_of(op, &current)?)?;
            let mut new = current;
            set_user_fields(&mut new, &merged);
            // Sets and removes the top-level fields the change names (all extra fields for
            // a replacement); the others stay as stored, their BSON types included.
            if let Some(change) = &update.extra {
                apply_change(op, &mut new, change, is_own(USER_FIELDS))?;
            }
            // A taken email fails with a duplicate key (Conflict), changing nothing.
            if shared::replace(op, &self.users, filter, new).await? {
                return Ok(ControlFlow::Break(Some(merged)));
            }
            Ok(ControlFlow::Continue(()))
        })
        .await
    }

    pub(crate) async fn remove_user(&self, id: &str) -> AdapterResult<Option<User>> {
        let op = Operation::DeleteUser;
        let Some(id) = authjs_object_id(id) else {
            return Ok(None);
        };
        // The user first, then what names it, as in the native layout.
        let user = self
            .users
            .find_one_and_delete(doc! { "_id": id })
            .await
            .for_op(op)?;
        let owned = owned_by(id);
        self.accounts.delete_many(owned.clone()).await.for_op(op)?;
        self.sessions.delete_many(owned.clone()).await.for_op(op)?;
        self.authenticators.delete_many(owned).await.for_op(op)?;
        user.map(|doc| user_of(op, &doc)).transpose()
    }

    pub(crate) async fn insert_account(&self, account: &Account) -> AdapterResult<()> {
        let op = Operation::LinkAccount;
        let Some(user) = authjs_object_id(&account.user_id) else {
            return Err(no_user(op));
        };
        let mut doc = doc! {
            "_id": ObjectId::new(),
            "userId": user,
            "type": account.account_type.as_str(),
            "provider": account.provider.as_str(),
            "providerAccountId": account.provider_account_id.as_str(),
        };
        doc.extend(account_tokens(account));
        add_extra(op, &mut doc, &account.extra)?;
        self.insert_owned(op, &self.accounts, doc, user).await
    }

    pub(crate) async fn remove_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<Account>> {
        let op = Operation::UnlinkAccount;
        let filter = doc! { "provider": provider, "providerAccountId": provider_account_id };
        self.accounts
            .find_one_and_delete(filter)
            .await
            .for_op(op)?
            .map(|doc| account_of(op, &doc))
            .transpose()
    }

    pub(crate) async fn find_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<Account>> {
        let op = Operation::GetAccount;
        let Some(doc) = self.account_doc(op, provider, provider_account_id).await? else {
            return Ok(None);
        };
        if self.owner(op, &doc).await?.is_none() {
            return Ok(None);
        }
        account_of(op, &doc).map(Some)
    }

    pub(crate) async fn replace_account_tokens(
        &self,
        account: &Account,
    ) -> AdapterResult<Option<Account>> {
        let op = Operation::UpdateAccount;
        let Some(current) = self
            .account_doc(op, &account.provider, &account.provider_account_id)
            .await?
        else {
            return Ok(None);
        };
        // The tokens and the rest of the token response (the extra fields, top-level here)
        // are replaced whole, so the extra fields stored now must go: the document is
        // rebuilt from what was read and replaced by its `_id`, keeping the owner and type.
        // A concurrent update of the same account is a race for the last word either way;
        // if the account was unlinked meanwhile, nothing matches and the answer is `None`.
        let Some(id) = current.get("_id").cloned() else {
            return Err(AdapterError::backend(op, "a stored account has no _id"));
        };
        let mut new = current;
        new.extend(account_tokens(account));
        apply_change(
            op,
            &mut new,
            &ExtraChange::Replace(account.extra.clone()),
            is_own(ACCOUNT_FIELDS),
        )?;
        if shared::replace(op, &self.accounts, doc! { "_id": id }, &new).await? {
            account_of(op, &new).map(Some)
        } else {
            Ok(None)
        }
    }

    pub(crate) async fn find_accounts(&self, user_id: &str) -> AdapterResult<Vec<Account>> {
        let op = Operation::ListAccounts;
        let docs = self.owned(op, &self.accounts, user_id).await?;
        docs.iter().map(|doc| account_of(op, doc)).collect()
    }

    pub(crate) async fn insert_session(&self, session: &Session) -> AdapterResult<()> {
        let op = Operation::CreateSession;
        let Some(user) = authjs_object_id(&session.user_id) else {
            return Err(no_user(op));
        };
        let mut doc = doc! {
            "_id": ObjectId::new(),
            "sessionToken": session.session_token.as_str(),
            "userId": user,
            "expires": to_bson(session.expires),
        };
        add_extra(op, &mut doc, &session.extra)?;
        self.insert_owned(op, &self.sessions, doc, user).await
    }

    pub(crate) async fn find_session_and_user(
        &self,
        session_token: &str,
        now: DateTime<Utc>,
    ) -> AdapterResult<Option<(Session, User)>> {
        let op = Operation::GetSessionAndUser;
        // One round trip (Auth.js takes two): the session joined with its user, so a
        // session whose user is gone is not returned. Expiry is checked here, exactly, on
        // the one session the key matches (the stand-in server ignores comparisons in an
        // aggregation's `$match`).
        let pipeline = with_owner(
            doc! { "sessionToken": session_token },
            &self.names.users,
            "userId",
        );
        let mut cursor = self.sessions.aggregate(pipeline).await.for_op(op)?;
        let Some(mut found) = cursor.try_next().await.for_op(op)? else {
            return Ok(None);
        };
        // The joined user goes before the session is read: every other top-level field
        // of the session is its data.
        let user = match found.remove("user") {
            Some(Bson::Document(user)) => user,
            _ => {
                return Err(AdapterError::backend(
                    op,
                    "a joined session has no user document",
                ))
            }
        };
        let session = session_of(op, &found)?;
        if session.expires <= now {
            return Ok(None);
        }
        Ok(Some((session, user_of(op, &user)?)))
    }

    pub(crate) async fn change_session(
        &self,
        update: &SessionUpdate,
        now: DateTime<Utc>,
    ) -> AdapterResult<Option<Session>> {
        let op = Operation::UpdateSession;
        let moved_to = match update.user_id.as_deref() {
            Some(user_id) => match authjs_object_id(user_id) {
                Some(id) if self.user_exists(op, id).await? => Some(id),
                _ => return Err(no_user(op)),
            },
            None => None,
        };
        let key = doc! { "sessionToken": update.session_token.as_str() };
        let key = &key;
        let changed = until_unchanged(op, move || async move {
            let Some(current) = self.sessions.find_one(key.clone()).await.for_op(op)? else {
                return Ok(ControlFlow::Break(None));
            };
            let session = session_of(op, &current)?;
            // Live at `now`, checked exactly here; the replacement lands only on the session
            // as read (never reviving one that expired, never overwriting a change).
            if session.expires <= now {
                return Ok(ControlFlow::Break(None));
            }
            let mut filter = unchanged(key.clone(), &current, &["_id", "expires"]);
            filter.extend(match current.get("userId") {
                Some(Bson::ObjectId(owner)) => owned_by(*owner),
                _ => {
                    return Err(AdapterError::backend(
                        op,
                        "a stored session has no ObjectId userId",
                    ))
                }
            });
            // The session's data (its extra fields) as read is part of the state the
            // replacement must find: a merge starts from it, and an update that does not
            // change it must not write back an old copy.
            guard_extras(&mut filter, &current, SESSION_FIELDS);
            // `apply_to` also refuses merged data over the cap, before any write.
            let new_session = update.apply_to(session)?;
            let mut new = current;
            new.insert("expires", to_bson(new_session.expires));
            if let Some(id) = moved_to {
                new.insert("userId", id);
            }
            if let Some(change) = &update.extra {
                apply_change(op, &mut new, change, is_own(SESSION_FIELDS))?;
            }
            if shared::replace(op, &self.sessions, filter, new).await? {
                return Ok(ControlFlow::Break(Some(new_session)));
            }
            Ok(ControlFlow::Continue(()))
        })
        .await?;
        let Some(changed) = changed else {
            return Ok(None);
        };
        // Moved to a user deleted meanwhile: remove what would be an orphan (as an insert).
        if let Some(id) = moved_to {
            if !self.user_exists(op, id).await? {
                self.sessions
                    .delete_one(doc! { "sessionToken": changed.session_token.as_str(), "userId": { "$in": [id] } })
                    .await
                    .for_op(op)?;
                return Err(no_user(op));
            }
        }
        Ok(Some(changed))
    }

    pub(crate) async fn remove_session(
        &self,
        session_token: &str,
    ) -> AdapterResult<Option<Session>> {
        let op = Operation::DeleteSession;
        self.sessions
            .find_one_and_delete(doc! { "sessionToken": session_token })
            .await
            .for_op(op)?
            .map(|doc| session_of(op, &doc))
            .transpose()
    }

    pub(crate) async fn find_sessions(
        &self,
        user_id: &str,
        now: DateTime<Utc>,
    ) -> AdapterResult<Vec<Session>> {
        let op = Operation::ListSessions;
        let mut live = Vec::new();
        for doc in self.owned(op, &self.sessions, user_id).await? {
            let session = session_of(op, &doc)?;
            if session.expires > now {
                live.push(session);
            }
        }
        Ok(live)
    }

    pub(crate) async fn remove_sessions(
        &self,
        user_id: &str,
        now: DateTime<Utc>,
    ) -> AdapterResult<u64> {
        let op = Operation::DeleteSessions;
        let Some(id) = authjs_object_id(user_id) else {
            return Ok(0);
        };
        self.delete_by_expiry(op, &self.sessions, owned_by(id), now, true)
            .await
    }

    pub(crate) async fn insert_verification_token(
        &self,
        token: &VerificationToken,
    ) -> AdapterResult<()> {
        let op = Operation::CreateVerificationToken;
        let doc = doc! {
            "_id": ObjectId::new(),
            "identifier": token.identifier.as_str(),
            "token": token.token.as_str(),
            "expires": to_bson(token.expires),
        };
        self.tokens.insert_one(doc).await.for_op(op)?;
        Ok(())
    }

    pub(crate) async fn take_verification_token(
        &self,
        identifier: &str,
        token: &str,
    ) -> AdapterResult<Option<VerificationToken>> {
        let op = Operation::UseVerificationToken;
        // One find_one_and_delete, as Auth.js: of concurrent callers (Rust or Node) one wins.
        self.tokens
            .find_one_and_delete(doc! { "identifier": identifier, "token": token })
            .await
            .for_op(op)?
            .map(|doc| token_of(op, &doc))
            .transpose()
    }

    pub(crate) async fn insert_authenticator(
        &self,
        authenticator: &Authenticator,
    ) -> AdapterResult<()> {
        let op = Operation::CreateAuthenticator;
        let Some(user) = authjs_object_id(&authenticator.user_id) else {
            return Err(no_user(op));
        };
        let doc = doc! {
            "_id": ObjectId::new(),
            "credentialID": authenticator.credential_id.as_str(),
            "userId": user,
            "providerAccountId": authenticator.provider_account_id.as_str(),
            "credentialPublicKey": authenticator.credential_public_key.as_str(),
            "counter": authenticator.counter,
            "credentialDeviceType": authenticator.credential_device_type.as_str(),
            "credentialBackedUp": authenticator.credential_backed_up,
            "transports": optional(&authenticator.transports),
        };
        self.insert_owned(op, &self.authenticators, doc, user).await
    }

    pub(crate) async fn find_authenticator(
        &self,
        credential_id: &str,
    ) -> AdapterResult<Option<Authenticator>> {
        let op = Operation::GetAuthenticator;
        let found = self
            .authenticators
            .find_one(doc! { "credentialID": credential_id })
            .await
            .for_op(op)?;
        let Some(doc) = found else {
            return Ok(None);
        };
        if self.owner(op, &doc).await?.is_none() {
            return Ok(None);
        }
        authenticator_of(op, &doc).map(Some)
    }

    pub(crate) async fn find_authenticators(
        &self,
        user_id: &str,
    ) -> AdapterResult<Vec<Authenticator>> {
        let op = Operation::ListAuthenticators;
        let docs = self.owned(op, &self.authenticators, user_id).await?;
        docs.iter().map(|doc| authenticator_of(op, doc)).collect()
    }

    pub(crate) async fn set_authenticator_counter(
        &self,
        credential_id: &str,
        counter: i64,
    ) -> AdapterResult<Option<Authenticator>> {
        let op = Operation::UpdateAuthenticatorCounter;
        self.authenticators
            .find_one_and_update(
                doc! { "credentialID": credential_id },
                doc! { "$set": { "counter": counter } },
            )
            .return_document(ReturnDocument::After)
            .await
            .for_op(op)?
            .map(|doc| authenticator_of(op, &doc))
            .transpose()
    }

    pub(crate) async fn remove_authenticator(
        &self,
        credential_id: &str,
    ) -> AdapterResult<Option<Authenticator>> {
        let op = Operation::DeleteAuthenticator;
        self.authenticators
            .find_one_and_delete(doc! { "credentialID": credential_id })
            .await
            .for_op(op)?
            .map(|doc| authenticator_of(op, &doc))
            .transpose()
    }

    pub(crate) async fn remove_expired(&self, now: DateTime<Utc>) -> AdapterResult<ExpiredCounts> {
        let op = Operation::DeleteExpired;
        let sessions = self
            .delete_by_expiry(op, &self.sessions, Document::new(), now, false)
            .await?;
        let verification_tokens = self
            .delete_by_expiry(op, &self.tokens, Document::new(), now, false)
            .await
            .map_err(|e| e.with_code(ErrorCode::DeleteVerificationRequestError))?;
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
    fn ids_follow_auth_js() {
        assert!(authjs_object_id("0123456789abcdef01234567").is_some());
        assert!(authjs_object_id("0123456789ABCDEF01234567").is_some());
        assert!(authjs_object_id("0123456789abcdef0123456z").is_none());
        assert!(authjs_object_id("0123456789abcdef012345").is_none());
        assert!(authjs_object_id("").is_none());
    }

    #[test]
    fn the_email_pattern_is_literal() {
        let pattern =
            any_case("a.b+c@x.com").and_then(|d| d.get_str("$regex").ok().map(str::to_owned));
        assert_eq!(pattern.as_deref(), Some(r"^\s*a\.b\+c@x\.com\s*$"));
        assert!(any_case("nul\0byte").is_none());
    }

    #[test]
    fn whole_second_bounds() {
        let now = DateTime::from_timestamp_millis(1_700_000_000_123).unwrap_or_default();
        let (floor, ceiling) = seconds_around(now);
        assert_eq!(floor.timestamp_millis(), 1_700_000_000_000);
        assert_eq!(ceiling.timestamp_millis(), 1_700_000_001_000);
    }
}
