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
use mongodb::error::{
    Error as MongoError, TRANSIENT_TRANSACTION_ERROR, UNKNOWN_TRANSACTION_COMMIT_RESULT,
};
use mongodb::options::{IndexOptions, ReturnDocument};
use mongodb::{ClientSession, Collection, Database, IndexModel};
use serde::de::DeserializeOwned;

use crate::documents::{
    to_bson, AccountDoc, AuthenticatorDoc, SessionDoc, TokenDoc, UserDoc, WithUser,
};
use crate::error::{kind_of, ForOp};
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
    transactions: bool,
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

/// How often an update re-reads a document that changed under it before giving up.
const MAX_UPDATE_ATTEMPTS: usize = 16;

/// How often `delete_user` retries a transaction the server calls transient.
const MAX_TRANSACTION_ATTEMPTS: usize = 3;

fn update_contended(op: Operation) -> AdapterError {
    AdapterError::backend(
        op,
        "the document kept changing during the update; try again",
    )
}

/// Whether a session or token is still valid (`expires > now`).
///
/// Expiry is checked here, on what a lookup by key returned, and not in the query: the
/// nx-27017 stand-in compares dates to the second in `find` filters (a session with 300 ms
/// left reads as expired) and ignores date comparisons in aggregation `$match` stages.
/// On MongoDB the result is the same as a query filter, and a key lookup returns at most
/// one session or the few of one user, so nothing is saved by filtering on the server.
fn is_live(expires: &DateTime<Utc>) -> bool {
    *expires > Utc::now()
}

/// A filter matching `key` and, of `current`, the fields named in `carried`, which an
/// update leaves as they are (a field the document lacks matches as `null`).
///
/// Replacing a document under this filter is what a server-side `$set` of the other
/// fields does: atomic, and a concurrent change to a carried field is not overwritten
/// (the filter then matches nothing and the caller reads again).
fn unchanged(key: Document, current: &Document, carried: &[&str]) -> Document {
    let mut filter = key;
    for field in carried {
        filter.insert(*field, current.get(*field).cloned().unwrap_or(Bson::Null));
    }
    filter
}

fn to_document<T: serde::Serialize>(op: Operation, value: &T) -> AdapterResult<Document> {
    mongodb::bson::to_document(value)
        .map_err(|e| AdapterError::from_driver(op, auth_core::ErrorKind::InvalidInput, e))
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

    pub(crate) fn from_parts(
        client: mongodb::Client,
        db: Database,
        names: Collections,
        transactions: bool,
    ) -> Self {
        Self {
            users: db.collection(&names.users),
            accounts: db.collection(&names.accounts),
            sessions: db.collection(&names.sessions),
            tokens: db.collection(&names.verification_tokens),
            authenticators: db.collection(&names.authenticators),
            client,
            db,
            names,
            transactions,
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

    /// Whether `delete_user` runs in a transaction: the deployment supports them (a replica
    /// set or a sharded cluster, from its `hello` reply at connect time) and the builder
    /// did not turn them off.
    pub fn uses_transactions(&self) -> bool {
        self.transactions
    }

    /// Creates every index (idempotent: MongoDB accepts an index that exists with the same
    /// keys and options). Unique user email (partial on `{$type: "string"}`, so users
    /// without an email, who have no `email_normalized` field, are not indexed), unique
    /// `(provider, provider_account_id)`, unique session token, unique
    /// `(identifier, token)`, unique credential id, one on every `user_id`, and TTL
    /// indexes (`expireAfterSeconds: 0`) on session and token `expires`.
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
        let found = self
            .users
            .count_documents(doc! { "_id": id })
            .limit(1)
            .await
            .for_op(op)?;
        Ok(found > 0)
    }

    async fn require_user(&self, op: Operation, id: &str) -> AdapterResult<()> {
        if self.user_exists(op, id).await? {
            Ok(())
        } else {
            Err(AdapterError::not_found(op, "no user with this id"))
        }
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
        let pipeline = [
            doc! { "$match": filter },
            doc! { "$limit": 1 },
            doc! { "$lookup": {
                "from": self.names.users.as_str(),
                "localField": "user_id",
                "foreignField": "_id",
                "as": "user",
            } },
            doc! { "$unwind": "$user" },
        ];
        let mut cursor = collection
            .aggregate(pipeline)
            .with_type::<WithUser<T>>()
            .await
            .for_op(op)?;
        cursor.try_next().await.for_op(op)
    }

    /// Replaces the document under `filter` with `new`; `false` when nothing matched.
    async fn replace<T>(
        &self,
        op: Operation,
        collection: &Collection<T>,
        filter: Document,
        new: &T,
    ) -> AdapterResult<bool>
    where
        T: serde::Serialize + Send + Sync,
    {
        let result = collection.replace_one(filter, new).await.for_op(op)?;
        Ok(result.matched_count > 0)
    }

    /// Removes the user's accounts, sessions and authenticators, inside `session`'s
    /// transaction when there is one.
    async fn delete_owned(
        &self,
        id: &str,
        mut session: Option<&mut ClientSession>,
    ) -> Result<(), MongoError> {
        let owned = doc! { "user_id": id };
        macro_rules! run {
            ($action:expr) => {
                match session.as_deref_mut() {
                    Some(s) => $action.session(s).await,
                    None => $action.await,
                }
            };
        }
        run!(self.accounts.delete_many(owned.clone()))?;
        run!(self.sessions.delete_many(owned.clone()))?;
        run!(self.authenticators.delete_many(owned))?;
        Ok(())
    }

    /// `delete_user` in one multi-document transaction, retried (a few times, never on a
    /// connection failure) when the server labels an error transient.
    async fn delete_user_in_transaction(&self, id: &str) -> Result<Option<UserDoc>, MongoError> {
        let retry = |e: &MongoError, label: &str, attempt: usize| {
            attempt < MAX_TRANSACTION_ATTEMPTS
                && e.contains_label(label)
                && kind_of(e) != auth_core::ErrorKind::Connection
        };
        let mut session = self.client.start_session().await?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            session.start_transaction().await?;
            let writes = async {
                let user = self
                    .users
                    .find_one_and_delete(doc! { "_id": id })
                    .session(&mut session)
                    .await?;
                self.delete_owned(id, Some(&mut session)).await?;
                Ok::<_, MongoError>(user)
            }
            .await;
            let outcome = match writes {
                Ok(user) => {
                    let mut commit_attempt = 0;
                    loop {
                        commit_attempt += 1;
                        match session.commit_transaction().await {
                            Ok(()) => break Ok(user),
                            Err(e)
                                if retry(&e, UNKNOWN_TRANSACTION_COMMIT_RESULT, commit_attempt) => {
                            }
                            Err(e) => break Err(e),
                        }
                    }
                }
                Err(e) => {
                    // The server aborts a failed transaction itself; this only tidies up
                    // the session for a retry. Not after a connection failure: that would
                    // wait for a server again, and dropping the session aborts anyway.
                    if kind_of(&e) != auth_core::ErrorKind::Connection {
                        let _ = session.abort_transaction().await;
                    }
                    Err(e)
                }
            };
            match outcome {
                Err(e) if retry(&e, TRANSIENT_TRANSACTION_ERROR, attempt) => continue,
                outcome => return outcome,
            }
        }
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
        let op = Operation::GetUser;
        let found = self.users.find_one(doc! { "_id": id }).await.for_op(op)?;
        found.map(|doc| doc.into_model(op)).transpose()
    }

    #[tracing::instrument(skip_all, fields(db.system = "mongodb"))]
    async fn get_user_by_email(&self, email: &str) -> AdapterResult<Option<User>> {
        let op = Operation::GetUserByEmail;
        let key = normalize_email(email);
        if key.is_empty() {
            return Ok(None);
        }
        let found = self
            .users
            .find_one(doc! { "email_normalized": key })
            .await
            .for_op(op)?;
        found.map(|doc| doc.into_model(op)).transpose()
    }

    #[tracing::instrument(skip_all, fields(db.system = "mongodb", provider = %provider))]
    async fn get_user_by_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<User>> {
        let op = Operation::GetUserByAccount;
        let filter = doc! { "provider": provider, "provider_account_id": provider_account_id };
        let found = self.find_with_user(op, &self.accounts, filter).await?;
        found.map(|joined| joined.user.into_model(op)).transpose()
    }

    #[tracing::instrument(skip_all, fields(db.system = "mongodb", user_id = %update.id))]
    async fn update_user(&self, update: UserUpdate) -> AdapterResult<User> {
        let op = Operation::UpdateUser;
        // The fields this update leaves as they are: the replacement below must not
        // overwrite a concurrent change to one of them.
        let mut carried = Vec::new();
        if update.email.is_none() {
            carried.extend(["email", "email_normalized"]);
        }
        if update.email_verified.is_none() {
            carried.push("email_verified");
        }
        if update.name.is_none() {
            carried.push("name");
        }
        if update.image.is_none() {
            carried.push("image");
        }
        for _ in 0..MAX_UPDATE_ATTEMPTS {
            let key = doc! { "_id": update.id.as_str() };
            let Some(current) = self.users.find_one(key.clone()).await.for_op(op)? else {
                return Err(AdapterError::not_found(op, "no user with this id"));
            };
            let filter = unchanged(key, &to_document(op, &current)?, &carried);
            let new = UserDoc::from_model(&update.apply_to(current.into_model(op)?));
            // A taken email fails here with a duplicate key (Conflict), changing nothing.
            if self.replace(op, &self.users, filter, &new).await? {
                return new.into_model(op);
            }
        }
        Err(update_contended(op))
    }

    #[tracing::instrument(skip_all, fields(db.system = "mongodb", user_id = %id))]
    async fn delete_user(&self, id: &str) -> AdapterResult<Option<User>> {
        let op = Operation::DeleteUser;
        let user = if self.transactions {
            self.delete_user_in_transaction(id).await.for_op(op)?
        } else {
            // The user goes first: every read of an account, session or credential checks
            // its user, so whatever a failure after this leaves behind is invisible. The
            // rest is removed even when the user is already gone, so calling delete_user
            // again finishes a delete that failed half-way.
            let user = self
                .users
                .find_one_and_delete(doc! { "_id": id })
                .await
                .for_op(op)?;
            self.delete_owned(id, None).await.for_op(op)?;
            user
        };
        user.map(|doc| doc.into_model(op)).transpose()
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
        let found = self.find_with_user(op, &self.accounts, filter).await?;
        found.map(|joined| joined.doc.into_model(op)).transpose()
    }

    #[tracing::instrument(skip_all, fields(db.system = "mongodb", provider = %account.provider))]
    async fn update_account(&self, account: Account) -> AdapterResult<Option<Account>> {
        let op = Operation::UpdateAccount;
        let filter = doc! {
            "provider": account.provider.as_str(),
            "provider_account_id": account.provider_account_id.as_str(),
        };
        let text = |v: &Option<String>| v.clone().map_or(Bson::Null, Bson::String);
        // No dates among these fields, so a `$set` stores them as given on every server.
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
        let filter = doc! { "session_token": session_token };
        let Some(found) = self.find_with_user(op, &self.sessions, filter).await? else {
            return Ok(None);
        };
        let session = found.doc.into_model(op)?;
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
        let mut carried = Vec::new();
        if update.user_id.is_none() {
            carried.push("user_id");
        }
        if update.expires.is_none() {
            carried.push("expires");
        }
        for _ in 0..MAX_UPDATE_ATTEMPTS {
            let key = doc! { "session_token": update.session_token.as_str() };
            let Some(current) = self.sessions.find_one(key.clone()).await.for_op(op)? else {
                return Ok(None);
            };
            let filter = unchanged(key, &to_document(op, &current)?, &carried);
            let new = SessionDoc::from_model(&update.apply_to(current.into_model(op)?));
            if self.replace(op, &self.sessions, filter, &new).await? {
                return new.into_model(op).map(Some);
            }
        }
        Err(update_contended(op))
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
        let mut live = Vec::with_capacity(docs.len());
        for doc in docs {
            let session = doc.into_model(op)?;
            if is_live(&session.expires) {
                live.push(session);
            }
        }
        Ok(live)
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
        let found = self
            .find_with_user(op, &self.authenticators, filter)
            .await?;
        Ok(found.map(|joined| joined.doc.into_model()))
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
        // The TTL indexes remove expired documents within about a minute anyway; this is
        // the exact sweep.
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
            .map_err(|e| match e.kind() {
                auth_core::ErrorKind::Connection => e,
                _ => e.with_code(ErrorCode::DeleteVerificationRequestError),
            })?
            .deleted_count;
        Ok(ExpiredCounts {
            sessions,
            verification_tokens,
        })
    }
}
