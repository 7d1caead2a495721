//! [`MongoAdapter`]: the [`Adapter`] implementation on the official MongoDB driver.

use async_trait::async_trait;
use auth_core::chrono::{DateTime, Utc};
use auth_core::{
    normalize_email, validate, Account, Adapter, AdapterError, AdapterResult, Authenticator,
    ErrorCode, ExpiredCounts, Operation, Session, SessionUpdate, User, UserUpdate,
    VerificationToken,
};
use futures::TryStreamExt;
use mongodb::bson::{doc, Bson, Document};
use mongodb::options::{IndexOptions, ReturnDocument};
use mongodb::{Collection, Database, IndexModel};

use crate::documents::{
    to_bson, AccountDoc, AuthenticatorDoc, SessionDoc, SessionWithUser, TokenDoc, UserDoc,
};
use crate::error::ForOp;
use crate::options::MongoAdapterBuilder;

/// The names of the five collections, with the configured prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collections {
    /// Users, `_id` = user id.
    pub users: String,
    /// Provider accounts.
    pub accounts: String,
    /// Database sessions.
    pub sessions: String,
    /// Email sign-in tokens.
    pub verification_tokens: String,
    /// WebAuthn credentials.
    pub authenticators: String,
}

impl Collections {
    /// The names with `prefix` in front (validated by the builder).
    ///
    /// ```
    /// let names = adapter_mongo::Collections::new("auth_");
    /// assert_eq!(names.sessions, "auth_sessions");
    /// ```
    pub fn new(prefix: &str) -> Self {
        Self {
            users: format!("{prefix}users"),
            accounts: format!("{prefix}accounts"),
            sessions: format!("{prefix}sessions"),
            verification_tokens: format!("{prefix}verification_tokens"),
            authenticators: format!("{prefix}authenticators"),
        }
    }
}

/// An auth adapter on a MongoDB database. Cheap to clone (the driver's client is shared).
///
/// ```no_run
/// use std::sync::Arc;
/// use auth_core::Adapter;
///
/// # async fn demo() -> Result<(), auth_core::AdapterError> {
/// let adapter = adapter_mongo::MongoAdapter::connect("mongodb://127.0.0.1:27017/myapp").await?;
/// adapter.migrate().await?; // creates every index; idempotent
/// let db: Arc<dyn Adapter> = Arc::new(adapter);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct MongoAdapter {
    client: mongodb::Client,
    db: Database,
    names: Collections,
    users: Collection<UserDoc>,
    accounts: Collection<AccountDoc>,
    sessions: Collection<SessionDoc>,
    tokens: Collection<TokenDoc>,
    authenticators: Collection<AuthenticatorDoc>,
}

fn index(keys: Document, unique: bool) -> IndexModel {
    IndexModel::builder()
        .keys(keys)
        .options(IndexOptions::builder().unique(unique).build())
        .build()
}

fn ttl_index(field: &str) -> IndexModel {
    IndexModel::builder()
        .keys(doc! { field: 1 })
        .options(
            IndexOptions::builder()
                .expire_after(std::time::Duration::ZERO)
                .build(),
        )
        .build()
}

/// How often a compare-and-swap update re-reads a document that changed under it.
const MAX_SWAP_ATTEMPTS: usize = 16;

fn swap_contended(op: Operation) -> AdapterError {
    AdapterError::backend(
        op,
        "the document kept changing during the update; try again",
    )
}

/// Whether a session or token is still valid. Expiry is checked here, on the documents a
/// query by key returned, rather than in the query: the TTL monitor only runs once a
/// minute, and a key lookup returns at most a few documents, so this costs nothing and
/// reads the same on every server (the nx-27017 stand-in compares dates inside a
/// `$lookup` pipeline wrongly).
fn is_live(expires: &DateTime<Utc>) -> bool {
    *expires > Utc::now()
}

impl MongoAdapter {
    /// Connects to `url` with default options; the database is the URL's path, else `auth`.
    pub async fn connect(url: &str) -> AdapterResult<Self> {
        Self::builder(url).connect().await
    }

    /// Options for the deployment at `url`.
    pub fn builder(url: impl Into<String>) -> MongoAdapterBuilder {
        MongoAdapterBuilder::new(url)
    }

    pub(crate) fn from_parts(client: mongodb::Client, db: Database, names: Collections) -> Self {
        Self {
            users: db.collection(&names.users),
            accounts: db.collection(&names.accounts),
            sessions: db.collection(&names.sessions),
            tokens: db.collection(&names.verification_tokens),
            authenticators: db.collection(&names.authenticators),
            client,
            db,
            names,
        }
    }

    /// The database the adapter works in.
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// The driver's client.
    pub fn client(&self) -> &mongodb::Client {
        &self.client
    }

    /// The collection names in use.
    pub fn collections(&self) -> &Collections {
        &self.names
    }

    /// Creates every index (idempotent): unique user email (partial, so users without an
    /// email are not indexed), unique `(provider, provider_account_id)`, unique session
    /// token, unique `(identifier, token)`, unique credential id, one on every `user_id`,
    /// and TTL indexes on session and token `expires`.
    #[tracing::instrument(skip_all, fields(db.system = "mongodb"))]
    pub async fn migrate(&self) -> AdapterResult<()> {
        let op = Operation::Migrate;
        let email = IndexModel::builder()
            .keys(doc! { "email_normalized": 1 })
            .options(
                IndexOptions::builder()
                    .unique(true)
                    .partial_filter_expression(doc! { "email_normalized": { "$type": "string" } })
                    .build(),
            )
            .build();
        self.users.create_index(email).await.for_op(op)?;
        self.accounts
            .create_indexes([
                index(doc! { "provider": 1, "provider_account_id": 1 }, true),
                index(doc! { "user_id": 1 }, false),
            ])
            .await
            .for_op(op)?;
        self.sessions
            .create_indexes([
                index(doc! { "session_token": 1 }, true),
                index(doc! { "user_id": 1 }, false),
                ttl_index("expires"),
            ])
            .await
            .for_op(op)?;
        self.tokens
            .create_indexes([
                index(doc! { "identifier": 1, "token": 1 }, true),
                ttl_index("expires"),
            ])
            .await
            .for_op(op)?;
        self.authenticators
            .create_indexes([
                index(doc! { "credential_id": 1 }, true),
                index(doc! { "user_id": 1 }, false),
            ])
            .await
            .for_op(op)?;
        Ok(())
    }

    async fn user_exists(&self, op: Operation, id: &str) -> AdapterResult<bool> {
        Ok(self
            .users
            .count_documents(doc! { "_id": id })
            .limit(1)
            .await
            .for_op(op)?
            > 0)
    }

    async fn require_user(&self, op: Operation, id: &str) -> AdapterResult<()> {
        if self.user_exists(op, id).await? {
            Ok(())
        } else {
            Err(AdapterError::not_found(op, "no user with this id"))
        }
    }

    /// Replaces `current` with `new` if the stored document still equals `current`
    /// (compare and swap), returning what is stored then; `None` when it changed meanwhile.
    ///
    /// A whole-document replace, not `$set`: it is as atomic, and it keeps BSON dates dates
    /// on servers that store a `$set` date as text (the nx-27017 stand-in does).
    async fn swap<T>(
        &self,
        op: Operation,
        collection: &Collection<T>,
        current: &T,
        new: &T,
    ) -> AdapterResult<Option<T>>
    where
        T: serde::Serialize + serde::de::DeserializeOwned + Send + Sync,
    {
        let mut expected = mongodb::bson::to_document(current)
            .map_err(|e| AdapterError::from_driver(op, auth_core::ErrorKind::InvalidInput, e))?;
        // A field the stored document lacks must stay lacking: `null` matches only that.
        if expected.get("email_normalized").is_none() && collection.name() == self.names.users {
            expected.insert("email_normalized", Bson::Null);
        }
        collection
            .find_one_and_replace(expected, new)
            .return_document(ReturnDocument::After)
            .await
            .for_op(op)
    }

    async fn find_user(&self, op: Operation, filter: Document) -> AdapterResult<Option<User>> {
        self.users
            .find_one(filter)
            .await
            .for_op(op)?
            .map(|doc| doc.into_model(op))
            .transpose()
    }
}

#[async_trait]
impl Adapter for MongoAdapter {
    #[tracing::instrument(skip_all, fields(db.system = "mongodb", user_id = %user.id))]
    async fn create_user(&self, user: User) -> AdapterResult<User> {
        let op = Operation::CreateUser;
        validate::non_empty(op, "id", &user.id)?;
        self.users
            .insert_one(UserDoc::from_model(&user))
            .await
            .for_op(op)?;
        Ok(user)
    }

    #[tracing::instrument(skip_all, fields(db.system = "mongodb", user_id = %id))]
    async fn get_user(&self, id: &str) -> AdapterResult<Option<User>> {
        self.find_user(Operation::GetUser, doc! { "_id": id }).await
    }

    #[tracing::instrument(skip_all, fields(db.system = "mongodb"))]
    async fn get_user_by_email(&self, email: &str) -> AdapterResult<Option<User>> {
        let key = normalize_email(email);
        if key.is_empty() {
            return Ok(None);
        }
        self.find_user(Operation::GetUserByEmail, doc! { "email_normalized": key })
            .await
    }

    #[tracing::instrument(skip_all, fields(db.system = "mongodb", provider = %provider))]
    async fn get_user_by_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<User>> {
        let op = Operation::GetUserByAccount;
        let filter = doc! { "provider": provider, "provider_account_id": provider_account_id };
        let Some(account) = self.accounts.find_one(filter).await.for_op(op)? else {
            return Ok(None);
        };
        // The user check makes an account orphaned by a half-done delete_user invisible.
        self.find_user(op, doc! { "_id": account.user_id }).await
    }

    #[tracing::instrument(skip_all, fields(db.system = "mongodb", user_id = %update.id))]
    async fn update_user(&self, update: UserUpdate) -> AdapterResult<User> {
        let op = Operation::UpdateUser;
        for _ in 0..MAX_SWAP_ATTEMPTS {
            let Some(current) = self
                .users
                .find_one(doc! { "_id": update.id.as_str() })
                .await
                .for_op(op)?
            else {
                return Err(AdapterError::not_found(op, "no user with this id"));
            };
            let merged = update.apply_to(current.clone().into_model(op)?);
            let new_key = merged.email.as_deref().map(normalize_email);
            if new_key.is_some() && new_key != current.email_normalized {
                let taken = doc! { "email_normalized": new_key.as_deref(), "_id": { "$ne": merged.id.as_str() } };
                if self
                    .users
                    .count_documents(taken)
                    .limit(1)
                    .await
                    .for_op(op)?
                    > 0
                {
                    return Err(AdapterError::conflict(
                        op,
                        "the new email belongs to another user",
                    ));
                }
            }
            // The unique email index still decides a race between two updates.
            if let Some(stored) = self
                .swap(op, &self.users, &current, &UserDoc::from_model(&merged))
                .await?
            {
                return stored.into_model(op);
            }
        }
        Err(swap_contended(op))
    }

    #[tracing::instrument(skip_all, fields(db.system = "mongodb", user_id = %id))]
    async fn delete_user(&self, id: &str) -> AdapterResult<Option<User>> {
        let op = Operation::DeleteUser;
        // The user goes first: every read of an account, session or credential checks its
        // user, so whatever a failure here leaves behind is invisible, and the next
        // delete_user of the id (or the TTL index, for sessions) removes it.
        let Some(user) = self
            .users
            .find_one_and_delete(doc! { "_id": id })
            .await
            .for_op(op)?
        else {
            return Ok(None);
        };
        let owned = doc! { "user_id": id };
        self.sessions.delete_many(owned.clone()).await.for_op(op)?;
        self.accounts.delete_many(owned.clone()).await.for_op(op)?;
        self.authenticators.delete_many(owned).await.for_op(op)?;
        user.into_model(op).map(Some)
    }

    #[tracing::instrument(skip_all, fields(db.system = "mongodb", user_id = %account.user_id, provider = %account.provider))]
    async fn link_account(&self, account: Account) -> AdapterResult<Account> {
        let op = Operation::LinkAccount;
        validate::non_empty(op, "provider", &account.provider)?;
        validate::non_empty(op, "provider_account_id", &account.provider_account_id)?;
        self.require_user(op, &account.user_id).await?;
        self.accounts
            .insert_one(AccountDoc::from_model(&account))
            .await
            .for_op(op)?;
        Ok(account)
    }

    #[tracing::instrument(skip_all, fields(db.system = "mongodb", provider = %provider))]
    async fn unlink_account(
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

    #[tracing::instrument(skip_all, fields(db.system = "mongodb", provider = %provider))]
    async fn get_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<Account>> {
        let op = Operation::GetAccount;
        let filter = doc! { "provider": provider, "provider_account_id": provider_account_id };
        let Some(account) = self.accounts.find_one(filter).await.for_op(op)? else {
            return Ok(None);
        };
        if !self.user_exists(op, &account.user_id).await? {
            return Ok(None); // orphaned by a half-done delete_user
        }
        account.into_model(op).map(Some)
    }

    #[tracing::instrument(skip_all, fields(db.system = "mongodb", provider = %account.provider))]
    async fn update_account(&self, account: Account) -> AdapterResult<Option<Account>> {
        let op = Operation::UpdateAccount;
        let filter = doc! {
            "provider": account.provider.as_str(),
            "provider_account_id": account.provider_account_id.as_str(),
        };
        let text = |v: &Option<String>| v.clone().map_or(Bson::Null, Bson::String);
        let tokens = doc! {
            "refresh_token": text(&account.refresh_token),
            "access_token": text(&account.access_token),
            "expires_at": account.expires_at.map_or(Bson::Null, Bson::Int64),
            "token_type": text(&account.token_type),
            "scope": text(&account.scope),
            "id_token": text(&account.id_token),
            "session_state": text(&account.session_state),
        };
        self.accounts
            .find_one_and_update(filter, doc! { "$set": tokens })
            .return_document(ReturnDocument::After)
            .await
            .for_op(op)?
            .map(|doc| doc.into_model(op))
            .transpose()
    }

    #[tracing::instrument(skip_all, fields(db.system = "mongodb", user_id = %session.user_id))]
    async fn create_session(&self, session: Session) -> AdapterResult<Session> {
        let op = Operation::CreateSession;
        validate::non_empty(op, "session_token", &session.session_token)?;
        self.require_user(op, &session.user_id).await?;
        self.sessions
            .insert_one(SessionDoc::from_model(&session))
            .await
            .for_op(op)?;
        Ok(session)
    }

    #[tracing::instrument(skip_all, fields(db.system = "mongodb"))]
    async fn get_session_and_user(
        &self,
        session_token: &str,
    ) -> AdapterResult<Option<(Session, User)>> {
        let op = Operation::GetSessionAndUser;
        // One round trip: the live session and its user by `$lookup` on the users' `_id`.
        let pipeline = [
            doc! { "$match": { "session_token": session_token } },
            doc! { "$limit": 1 },
            doc! { "$lookup": {
                "from": self.names.users.as_str(),
                "localField": "user_id",
                "foreignField": "_id",
                "as": "user",
            } },
            // Drops a session whose user is gone, and makes `user` one document.
            doc! { "$unwind": "$user" },
        ];
        let mut cursor = self
            .sessions
            .aggregate(pipeline)
            .with_type::<SessionWithUser>()
            .await
            .for_op(op)?;
        let Some(found) = cursor.try_next().await.for_op(op)? else {
            return Ok(None);
        };
        let session = found.session.into_model(op)?;
        if !is_live(&session.expires) {
            return Ok(None);
        }
        Ok(Some((session, found.user.into_model(op)?)))
    }

    #[tracing::instrument(skip_all, fields(db.system = "mongodb"))]
    async fn update_session(&self, update: SessionUpdate) -> AdapterResult<Option<Session>> {
        let op = Operation::UpdateSession;
        if let Some(user_id) = &update.user_id {
            self.require_user(op, user_id).await?;
        }
        for _ in 0..MAX_SWAP_ATTEMPTS {
            let filter = doc! { "session_token": update.session_token.as_str() };
            let Some(current) = self.sessions.find_one(filter).await.for_op(op)? else {
                return Ok(None);
            };
            let merged = update.apply_to(current.clone().into_model(op)?);
            if let Some(stored) = self
                .swap(
                    op,
                    &self.sessions,
                    &current,
                    &SessionDoc::from_model(&merged),
                )
                .await?
            {
                return stored.into_model(op).map(Some);
            }
        }
        Err(swap_contended(op))
    }

    #[tracing::instrument(skip_all, fields(db.system = "mongodb"))]
    async fn delete_session(&self, session_token: &str) -> AdapterResult<Option<Session>> {
        let op = Operation::DeleteSession;
        self.sessions
            .find_one_and_delete(doc! { "session_token": session_token })
            .await
            .for_op(op)?
            .map(|doc| doc.into_model(op))
            .transpose()
    }

    #[tracing::instrument(skip_all, fields(db.system = "mongodb", user_id = %user_id))]
    async fn list_sessions(&self, user_id: &str) -> AdapterResult<Vec<Session>> {
        let op = Operation::ListSessions;
        if !self.user_exists(op, user_id).await? {
            return Ok(Vec::new());
        }
        let docs: Vec<SessionDoc> = self
            .sessions
            .find(doc! { "user_id": user_id })
            .await
            .for_op(op)?
            .try_collect()
            .await
            .for_op(op)?;
        let sessions: Vec<Session> = docs
            .into_iter()
            .map(|doc| doc.into_model(op))
            .collect::<AdapterResult<_>>()?;
        Ok(sessions
            .into_iter()
            .filter(|s| is_live(&s.expires))
            .collect())
    }

    #[tracing::instrument(skip_all, fields(db.system = "mongodb", user_id = %user_id))]
    async fn delete_sessions(&self, user_id: &str) -> AdapterResult<u64> {
        let op = Operation::DeleteSessions;
        let result = self
            .sessions
            .delete_many(doc! { "user_id": user_id })
            .await
            .for_op(op)?;
        Ok(result.deleted_count)
    }

    #[tracing::instrument(skip_all, fields(db.system = "mongodb"))]
    async fn create_verification_token(
        &self,
        token: VerificationToken,
    ) -> AdapterResult<VerificationToken> {
        let op = Operation::CreateVerificationToken;
        validate::non_empty(op, "identifier", &token.identifier)?;
        validate::non_empty(op, "token", &token.token)?;
        self.tokens
            .insert_one(TokenDoc::from_model(&token))
            .await
            .for_op(op)?;
        Ok(token)
    }

    #[tracing::instrument(skip_all, fields(db.system = "mongodb"))]
    async fn use_verification_token(
        &self,
        identifier: &str,
        token: &str,
    ) -> AdapterResult<Option<VerificationToken>> {
        let op = Operation::UseVerificationToken;
        // find_one_and_delete is the atomic take: of concurrent callers one gets the
        // document. An expired one is removed all the same and reads as absent.
        let taken = self
            .tokens
            .find_one_and_delete(doc! { "identifier": identifier, "token": token })
            .await
            .for_op(op)?;
        Ok(taken
            .map(|doc| doc.into_model(op))
            .transpose()?
            .filter(|t| is_live(&t.expires)))
    }

    #[tracing::instrument(skip_all, fields(db.system = "mongodb", user_id = %authenticator.user_id))]
    async fn create_authenticator(
        &self,
        authenticator: Authenticator,
    ) -> AdapterResult<Authenticator> {
        let op = Operation::CreateAuthenticator;
        validate::non_empty(op, "credential_id", &authenticator.credential_id)?;
        self.require_user(op, &authenticator.user_id).await?;
        self.authenticators
            .insert_one(AuthenticatorDoc::from_model(&authenticator))
            .await
            .for_op(op)?;
        Ok(authenticator)
    }

    #[tracing::instrument(skip_all, fields(db.system = "mongodb"))]
    async fn get_authenticator(&self, credential_id: &str) -> AdapterResult<Option<Authenticator>> {
        let op = Operation::GetAuthenticator;
        let filter = doc! { "credential_id": credential_id };
        let Some(found) = self.authenticators.find_one(filter).await.for_op(op)? else {
            return Ok(None);
        };
        if !self.user_exists(op, &found.user_id).await? {
            return Ok(None); // orphaned by a half-done delete_user
        }
        Ok(Some(found.into_model()))
    }

    #[tracing::instrument(skip_all, fields(db.system = "mongodb", user_id = %user_id))]
    async fn list_authenticators(&self, user_id: &str) -> AdapterResult<Vec<Authenticator>> {
        let op = Operation::ListAuthenticators;
        if !self.user_exists(op, user_id).await? {
            return Ok(Vec::new());
        }
        let docs: Vec<AuthenticatorDoc> = self
            .authenticators
            .find(doc! { "user_id": user_id })
            .await
            .for_op(op)?
            .try_collect()
            .await
            .for_op(op)?;
        Ok(docs.into_iter().map(AuthenticatorDoc::into_model).collect())
    }

    #[tracing::instrument(skip_all, fields(db.system = "mongodb", counter))]
    async fn update_authenticator_counter(
        &self,
        credential_id: &str,
        counter: i64,
    ) -> AdapterResult<Authenticator> {
        let op = Operation::UpdateAuthenticatorCounter;
        tracing::Span::current().record("counter", counter);
        self.authenticators
            .find_one_and_update(
                doc! { "credential_id": credential_id },
                doc! { "$set": { "counter": counter } },
            )
            .return_document(ReturnDocument::After)
            .await
            .for_op(op)?
            .map(AuthenticatorDoc::into_model)
            .ok_or_else(|| AdapterError::not_found(op, "no authenticator with this credential id"))
    }

    #[tracing::instrument(skip_all, fields(db.system = "mongodb"))]
    async fn delete_expired(&self, now: DateTime<Utc>) -> AdapterResult<ExpiredCounts> {
        let op = Operation::DeleteExpired;
        let expired = doc! { "expires": { "$lte": to_bson(now) } };
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
