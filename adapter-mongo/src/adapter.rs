//! [`MongoAdapter`]: the [`Store`] implementation on the official MongoDB driver. The
//! policy layer of auth-core turns it into an [`Adapter`](auth_core::Adapter): validation,
//! the email key, millisecond timestamps, the clock and expiry filtering of results happen
//! there, before and after the methods here.

use std::fmt;

use async_trait::async_trait;
use auth_core::chrono::{DateTime, Utc};
use auth_core::{
    Account, AdapterError, AdapterResult, Authenticator, ErrorCode, ErrorKind, ExpiredCounts,
    Operation, Session, SessionUpdate, Store, User, UserUpdate, VerificationToken,
};
use futures::TryStreamExt;
use mongodb::bson::{doc, Bson, Document};
use mongodb::options::{IndexOptions, ReturnDocument};
use mongodb::{Collection, Database, IndexModel};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::authjs::{AuthJsStore, Layout};
use crate::documents::{AccountDoc, AuthenticatorDoc, SessionDoc, TokenDoc, UserDoc, WithUser};
use crate::error::{map_error, ForOp};
use crate::options::{validate_collection_prefix, validate_database_name, MongoAdapterBuilder};

/// The names of the five collections in use: the native ones with the configured prefix,
/// or those of the Auth.js layout.
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

/// An auth store on a MongoDB database; an [`Adapter`](auth_core::Adapter) through
/// auth-core's policy layer. Cheap to clone (the driver's client is shared).
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
#[derive(Clone)]
pub struct MongoAdapter {
    client: mongodb::Client,
    db: Database,
    names: Collections,
    users: Collection<UserDoc>,
    accounts: Collection<AccountDoc>,
    sessions: Collection<SessionDoc>,
    tokens: Collection<TokenDoc>,
    authenticators: Collection<AuthenticatorDoc>,
    /// The bound of every call (see [`MongoAdapter::bounded`]).
    call_timeout: std::time::Duration,
    /// The Auth.js layout's store, which then takes every call (`crate::authjs`).
    authjs: Option<AuthJsStore>,
}

/// Hands a [`Store`] call to the Auth.js layout's store when that is the layout, within
/// the same call bound; the native code below it then does not run.
macro_rules! authjs {
    ($self:ident, $op:expr, $js:ident => $call:expr) => {
        if let Some($js) = &$self.authjs {
            return $self.bounded($op, async || $call.await).await;
        }
    };
}

/// Names the database and the collections; never the client's options (they hold the
/// credentials) nor anything stored.
///
/// ```no_run
/// # async fn demo() -> Result<(), auth_core::AdapterError> {
/// let adapter = adapter_mongo::MongoAdapter::connect("mongodb://app:pw@127.0.0.1:27017/myapp").await?;
/// assert!(!format!("{adapter:?}").contains("pw"));
/// # Ok(()) }
/// ```
impl fmt::Debug for MongoAdapter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MongoAdapter")
            .field("database", &self.db.name())
            .field(
                "layout",
                &if self.authjs.is_some() {
                    "authjs"
                } else {
                    "native"
                },
            )
            .field("collections", self.collections())
            .finish_non_exhaustive()
    }
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
pub(crate) const MAX_UPDATE_ATTEMPTS: usize = 16;

/// The aggregation of both layouts' joined reads: the one document matching `filter`, its
/// owner (the user whose `_id` is its `owner_field`) joined in as `user`; nothing when that
/// user is gone.
pub(crate) fn with_owner(filter: Document, users: &str, owner_field: &str) -> [Document; 4] {
    [
        doc! { "$match": filter },
        doc! { "$limit": 1 },
        doc! { "$lookup": {
            "from": users,
            "localField": owner_field,
            "foreignField": "_id",
            "as": "user",
        } },
        doc! { "$unwind": "$user" },
    ]
}

pub(crate) fn update_contended(op: Operation) -> AdapterError {
    AdapterError::backend(
        op,
        "the document kept changing during the update; try again",
    )
}

pub(crate) fn no_user(op: Operation) -> AdapterError {
    AdapterError::not_found(op, "no user with this id")
}

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

/// A filter matching `key` and, of `current`, the fields named in `carried`, which an
/// update leaves as they are (a field the document lacks matches as `null`).
///
/// Replacing a document under this filter is what a server-side `$set` of the other
/// fields does: atomic, and a concurrent change to a carried field is not overwritten
/// (the filter then matches nothing and the caller reads again).
pub(crate) fn unchanged(key: Document, current: &Document, carried: &[&str]) -> Document {
    let mut filter = key;
    for field in carried {
        filter.insert(*field, current.get(*field).cloned().unwrap_or(Bson::Null));
    }
    filter
}

fn to_document<T: Serialize>(op: Operation, value: &T) -> AdapterResult<Document> {
    mongodb::bson::to_document(value)
        .map_err(|e| AdapterError::from_driver(op, ErrorKind::InvalidInput, e))
}

impl MongoAdapter {
    /// Connects to `url` with default options; the database is the URL's path, else `auth`.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), auth_core::AdapterError> {
    /// let adapter = adapter_mongo::MongoAdapter::connect("mongodb://127.0.0.1:27017/myapp").await?;
    /// # Ok(()) }
    /// ```
    pub async fn connect(url: &str) -> AdapterResult<Self> {
        Self::builder(url).connect().await
    }

    /// Options for the deployment at `url`, ending in
    /// [`connect`](MongoAdapterBuilder::connect).
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), auth_core::AdapterError> {
    /// let adapter = adapter_mongo::MongoAdapter::builder("mongodb://127.0.0.1:27017")
    ///     .database("myapp")
    ///     .collection_prefix("auth_")
    ///     .connect()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn builder(url: impl Into<String>) -> MongoAdapterBuilder {
        MongoAdapterBuilder::new(url)
    }

    /// Options for an adapter on a client the app already has (its pool, options and
    /// credentials are shared), finished by [`MongoAdapterBuilder::connect`], which does no
    /// I/O: a server that is down shows up as ADAPTER_CONNECTION_ERROR on the first call.
    /// Every builder option applies to it (database, collection prefix, layout, call
    /// timeout) except [`max_connections`](MongoAdapterBuilder::max_connections), which
    /// makes `connect` fail with `InvalidInput` (set the pool size in the client's options).
    /// The database is the builder's, else the client's default database (its URL path),
    /// else `auth`.
    ///
    /// ```no_run
    /// use adapter_mongo::{mongodb, MongoAdapter};
    ///
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// let client = mongodb::Client::with_uri_str("mongodb://127.0.0.1:27017").await?;
    /// let adapter = MongoAdapter::from_pool(client.clone())
    ///     .database("myapp")
    ///     .call_timeout(std::time::Duration::from_secs(3))
    ///     .connect()
    ///     .await?;
    /// adapter.migrate().await?;
    /// // The app keeps using `client` for its own collections.
    /// # Ok(()) }
    /// ```
    pub fn from_pool(client: mongodb::Client) -> MongoAdapterBuilder {
        MongoAdapterBuilder::adopting(client)
    }

    /// The adapter on `client` (no I/O): the collections of `layout` in `database_name`,
    /// every call bounded by `call_timeout`. Checks the names again (the builder already
    /// did, before any I/O).
    pub(crate) fn assemble(
        client: mongodb::Client,
        database_name: &str,
        prefix: &str,
        layout: &Layout,
        call_timeout: std::time::Duration,
    ) -> AdapterResult<Self> {
        validate_database_name(database_name)?;
        validate_collection_prefix(prefix)?;
        let db = client.database(database_name);
        let names = Collections::new(prefix);
        let authjs = match layout {
            Layout::Native => None,
            Layout::AuthJs(_) if !prefix.is_empty() => {
                return Err(AdapterError::invalid_input(
                    Operation::Connect,
                    "a collection prefix does not apply to the Auth.js layout: name its collections in AuthJsCollections",
                ));
            }
            Layout::AuthJs(names) => Some(AuthJsStore::new(&db, names.validate()?)),
        };
        Ok(Self {
            users: db.collection(&names.users),
            accounts: db.collection(&names.accounts),
            sessions: db.collection(&names.sessions),
            tokens: db.collection(&names.verification_tokens),
            authenticators: db.collection(&names.authenticators),
            client,
            db,
            names,
            call_timeout,
            authjs,
        })
    }

    /// Runs one Store call within the adapter's timeout: an operation sent on an open
    /// connection to a server that stopped answering would otherwise wait for as long as
    /// the socket lives (the driver has no per-operation timeout by default). Past the
    /// timeout the call is dropped, and with it its connection (the driver closes a
    /// connection whose operation was dropped mid-flight, it never goes back to the pool),
    /// and the call fails with ADAPTER_CONNECTION_ERROR.
    async fn bounded<T>(
        &self,
        op: Operation,
        call: impl AsyncFnOnce() -> AdapterResult<T>,
    ) -> AdapterResult<T> {
        auth_core::bound::within(op, self.call_timeout, call()).await
    }

    /// The most one call may take before it fails with ADAPTER_CONNECTION_ERROR (see
    /// [`MongoAdapterBuilder::call_timeout`]).
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), auth_core::AdapterError> {
    /// let adapter = adapter_mongo::MongoAdapter::connect("mongodb://127.0.0.1:27017/myapp").await?;
    /// assert_eq!(adapter.call_timeout(), adapter_mongo::DEFAULT_CALL_TIMEOUT);
    /// # Ok(()) }
    /// ```
    pub fn call_timeout(&self) -> std::time::Duration {
        self.call_timeout
    }

    /// The database the adapter works in.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), auth_core::AdapterError> {
    /// let adapter = adapter_mongo::MongoAdapter::connect("mongodb://127.0.0.1:27017/myapp").await?;
    /// assert_eq!(adapter.database().name(), "myapp");
    /// # Ok(()) }
    /// ```
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// The driver's client.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), auth_core::AdapterError> {
    /// let adapter = adapter_mongo::MongoAdapter::connect("mongodb://127.0.0.1:27017/myapp").await?;
    /// let other = adapter.client().database("elsewhere");
    /// # let _ = other; Ok(()) }
    /// ```
    pub fn client(&self) -> &mongodb::Client {
        &self.client
    }

    /// The collection names in use (those of the layout: with
    /// [`Layout::AuthJs`](crate::Layout::AuthJs), the Auth.js names).
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), auth_core::AdapterError> {
    /// let adapter = adapter_mongo::MongoAdapter::connect("mongodb://127.0.0.1:27017/myapp").await?;
    /// assert_eq!(adapter.collections().users, "users");
    /// # Ok(()) }
    /// ```
    pub fn collections(&self) -> &Collections {
        match &self.authjs {
            Some(js) => &js.names,
            None => &self.names,
        }
    }

    /// Shuts the driver down: ends its server sessions, stops its monitors and closes its
    /// connections (every clone of the adapter, and of a client given to
    /// [`from_pool`](Self::from_pool), shares them). Calls afterwards fail at once with
    /// ADAPTER_CONNECTION_ERROR.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), auth_core::AdapterError> {
    /// let adapter = adapter_mongo::MongoAdapter::connect("mongodb://127.0.0.1:27017/myapp").await?;
    /// adapter.close().await;
    /// # Ok(()) }
    /// ```
    pub async fn close(&self) {
        self.client.clone().shutdown().await;
    }

    /// Creates every index (idempotent: MongoDB accepts an index that exists with the same
    /// keys and options). Unique user email (partial on `{$type: "string"}`, so users
    /// without an email, who have no `email_normalized` field, are not indexed), unique
    /// `(provider, provider_account_id)`, unique session token, unique
    /// `(identifier, token)`, unique credential id, one on every `user_id`, one on
    /// `expires_ms` of sessions and tokens (for `delete_expired`), and TTL indexes
    /// (`expireAfterSeconds: 0`) on their `expires`.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), auth_core::AdapterError> {
    /// let adapter = adapter_mongo::MongoAdapter::connect("mongodb://127.0.0.1:27017/myapp").await?;
    /// adapter.migrate().await?;
    /// adapter.migrate().await?; // harmless
    /// # Ok(()) }
    /// ```
    ///
    /// With [`Layout::AuthJs`](crate::Layout::AuthJs), the indexes of that layout instead
    /// (the README's "Sharing a database with Auth.js").
    ///
    /// Unlike the adapter's other calls it is not bounded by the
    /// [call timeout](MongoAdapterBuilder::call_timeout): building an index on a populated
    /// collection (an Auth.js app's, say) may legitimately take longer. Its wait for a
    /// usable server is still bounded (ADAPTER_CONNECTION_ERROR past the driver's server
    /// selection timeout).
    #[tracing::instrument(skip_all, fields(db.system = "mongodb"))]
    pub async fn migrate(&self) -> AdapterResult<()> {
        if let Some(js) = &self.authjs {
            return js.migrate().await;
        }
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
                index(doc! { "expires_ms": 1 }, false),
                ttl_index("expires"),
            ])
            .await
            .for_op(op)?;
        self.tokens
            .create_indexes([
                index(doc! { "identifier": 1, "token": 1 }, true),
                index(doc! { "expires_ms": 1 }, false),
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

    /// Inserts `record`, owned by `user_id`, so that no orphan survives a concurrent
    /// `delete_user` of that user, without a transaction: insert, then check that the user
    /// exists, and if not, delete what was inserted and answer `NotFound`.
    ///
    /// Why no interleaving leaves an orphan: `remove_user` deletes the user document (D),
    /// and only once that is acknowledged deletes every record naming the user (C). Here the
    /// insert (I) is acknowledged before the check (R) is sent. Single-document operations
    /// on one primary are applied in one order, and each sees all that was acknowledged
    /// before it was sent.
    /// - R finds the user: R ran before D, so I < R < D < C, and C removes the record.
    /// - R finds no user: D ran before R, and the record is deleted here (U).
    ///
    /// Either way the record is gone once both calls return, and the unique key it took
    /// (a provider account, a credential id) is free again. While I..U lasts, the record
    /// is invisible: every read that returns an owned record joins or checks its user.
    /// A transaction would not do this better: the cascade (C) in a transaction reads a
    /// snapshot, so it would miss a record inserted after the snapshot but checked before
    /// the commit. (If U itself fails, e.g. the connection drops, the error is returned and
    /// the invisible record stays until a `delete_user` of the same id.)
    ///
    /// A duplicate key is `Conflict`, or `NotFound` when the user does not exist either
    /// (the user is checked first in the contract's order).
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
        let inserted = match collection.insert_one(record).await {
            Ok(result) => result.inserted_id,
            Err(e) => {
                let err = map_error(op, e);
                if err.kind() == ErrorKind::Conflict && !self.user_exists(op, user_id).await? {
                    return Err(no_user(op));
                }
                return Err(err);
            }
        };
        if self.user_exists(op, user_id).await? {
            return Ok(());
        }
        collection
            .delete_one(doc! { "_id": inserted })
            .await
            .for_op(op)?;
        Err(no_user(op))
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
        collection
            .find(filter)
            .await
            .for_op(op)?
            .try_collect()
            .await
            .for_op(op)
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
        T: Serialize + Send + Sync,
    {
        let result = collection.replace_one(filter, new).await.for_op(op)?;
        Ok(result.matched_count > 0)
    }
}

#[async_trait]
impl Store for MongoAdapter {
    fn backend(&self) -> &'static str {
        if self.authjs.is_some() {
            "mongo-authjs"
        } else {
            "mongo"
        }
    }

    async fn insert_user(&self, user: &User, email_key: Option<&str>) -> AdapterResult<String> {
        authjs!(self, Operation::CreateUser, js => js.insert_user(user));
        self.bounded(Operation::CreateUser, async || {
            let op = Operation::CreateUser;
            self.users
                .insert_one(UserDoc::from_model(user, email_key))
                .await
                .for_op(op)?;
            Ok(user.id.clone())
        })
        .await
    }

    async fn find_user(&self, id: &str) -> AdapterResult<Option<User>> {
        authjs!(self, Operation::GetUser, js => js.find_user(id));
        self.bounded(Operation::GetUser, async || {
            let op = Operation::GetUser;
            let found = self.users.find_one(doc! { "_id": id }).await.for_op(op)?;
            found.map(|doc| doc.into_model(op)).transpose()
        })
        .await
    }

    async fn find_user_by_email(&self, email_key: &str) -> AdapterResult<Option<User>> {
        authjs!(self, Operation::GetUserByEmail, js => js.find_user_by_email(email_key));
        self.bounded(Operation::GetUserByEmail, async || {
            let op = Operation::GetUserByEmail;
            let found = self
                .users
                .find_one(doc! { "email_normalized": email_key })
                .await
                .for_op(op)?;
            found.map(|doc| doc.into_model(op)).transpose()
        })
        .await
    }

    async fn find_user_by_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<User>> {
        authjs!(self, Operation::GetUserByAccount, js => js.find_user_by_account(provider, provider_account_id));
        self.bounded(Operation::GetUserByAccount, async || {
            let op = Operation::GetUserByAccount;
            let filter = doc! { "provider": provider, "provider_account_id": provider_account_id };
            let found = self.find_with_user(op, &self.accounts, filter).await?;
            found.map(|joined| joined.user.into_model(op)).transpose()
        })
        .await
    }

    async fn merge_user(
        &self,
        update: &UserUpdate,
        email_key: Option<Option<&str>>,
    ) -> AdapterResult<Option<User>> {
        authjs!(self, Operation::UpdateUser, js => js.merge_user(update));
        self.bounded(Operation::UpdateUser, async || {
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
                    return Ok(None);
                };
                let filter = unchanged(key, &to_document(op, &current)?, &carried);
                let key_now = email_key.unwrap_or(current.email_normalized.as_deref());
                let merged = update.apply_to(current.clone().into_model(op)?);
                let new = UserDoc::from_model(&merged, key_now);
                // A taken email fails here with a duplicate key (Conflict), changing nothing.
                if self.replace(op, &self.users, filter, &new).await? {
                    return Ok(Some(merged));
                }
            }
            Err(update_contended(op))
        })
        .await
    }

    async fn remove_user(&self, id: &str) -> AdapterResult<Option<User>> {
        authjs!(self, Operation::DeleteUser, js => js.remove_user(id));
        self.bounded(Operation::DeleteUser, async || {
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
        })
        .await
    }

    async fn insert_account(&self, account: &Account) -> AdapterResult<()> {
        authjs!(self, Operation::LinkAccount, js => js.insert_account(account));
        self.bounded(Operation::LinkAccount, async || {
            let op = Operation::LinkAccount;
            let doc = AccountDoc::from_model(account);
            self.insert_owned(op, &self.accounts, &doc, &account.user_id)
                .await
        })
        .await
    }

    async fn remove_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<Account>> {
        authjs!(self, Operation::UnlinkAccount, js => js.remove_account(provider, provider_account_id));
        self.bounded(Operation::UnlinkAccount, async || {
            let op = Operation::UnlinkAccount;
            let filter = doc! { "provider": provider, "provider_account_id": provider_account_id };
            self.accounts
                .find_one_and_delete(filter)
                .await
                .for_op(op)?
                .map(|doc| doc.into_model(op))
                .transpose()
        })
        .await
    }

    async fn find_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<Account>> {
        authjs!(self, Operation::GetAccount, js => js.find_account(provider, provider_account_id));
        self.bounded(Operation::GetAccount, async || {
            let op = Operation::GetAccount;
            let filter = doc! { "provider": provider, "provider_account_id": provider_account_id };
            let found = self.find_with_user(op, &self.accounts, filter).await?;
            found.map(|joined| joined.doc.into_model(op)).transpose()
        })
        .await
    }

    async fn replace_account_tokens(&self, account: &Account) -> AdapterResult<Option<Account>> {
        authjs!(self, Operation::UpdateAccount, js => js.replace_account_tokens(account));
        self.bounded(Operation::UpdateAccount, async || {
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
        })
        .await
    }

    async fn find_accounts(&self, user_id: &str) -> AdapterResult<Vec<Account>> {
        authjs!(self, Operation::ListAccounts, js => js.find_accounts(user_id));
        self.bounded(Operation::ListAccounts, async || {
            let op = Operation::ListAccounts;
            let filter = doc! { "user_id": user_id };
            let docs = self.find_owned(op, &self.accounts, user_id, filter).await?;
            docs.into_iter().map(|doc| doc.into_model(op)).collect()
        })
        .await
    }

    async fn insert_session(&self, session: &Session) -> AdapterResult<()> {
        authjs!(self, Operation::CreateSession, js => js.insert_session(session));
        self.bounded(Operation::CreateSession, async || {
            let op = Operation::CreateSession;
            let doc = SessionDoc::from_model(session);
            self.insert_owned(op, &self.sessions, &doc, &session.user_id)
                .await
        })
        .await
    }

    async fn find_session_and_user(
        &self,
        session_token: &str,
        now: DateTime<Utc>,
    ) -> AdapterResult<Option<(Session, User)>> {
        authjs!(self, Operation::GetSessionAndUser, js => js.find_session_and_user(session_token, now));
        self.bounded(Operation::GetSessionAndUser, async || {
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
        })
        .await
    }

    async fn change_session(
        &self,
        update: &SessionUpdate,
        now: DateTime<Utc>,
    ) -> AdapterResult<Option<Session>> {
        authjs!(self, Operation::UpdateSession, js => js.change_session(update, now));
        self.bounded(Operation::UpdateSession, async || {
            let op = Operation::UpdateSession;
            let moved_to = update.user_id.as_deref();
            if let Some(user_id) = moved_to {
                if !self.user_exists(op, user_id).await? {
                    return Err(no_user(op));
                }
            }
            let key = doc! { "session_token": update.session_token.as_str() };
            let mut attempts = 0;
            let changed = loop {
                attempts += 1;
                if attempts > MAX_UPDATE_ATTEMPTS {
                    return Err(update_contended(op));
                }
                let Some(current) = self.sessions.find_one(key.clone()).await.for_op(op)? else {
                    return Ok(None);
                };
                // Live at `now`, checked exactly here; the replacement below is made under a
                // filter on the whole session as read (its `expires_ms` an integer, compared
                // exactly on every server), so it lands only on this live state of the session:
                // an expired session is never revived, and a concurrent change is never
                // overwritten (the filter misses and the session is read again).
                if current.expires_ms <= millis(now) {
                    return Ok(None);
                }
                let filter = doc! {
                    "session_token": current.session_token.as_str(),
                    "user_id": current.user_id.as_str(),
                    "expires_ms": current.expires_ms,
                };
                let new = SessionDoc::from_model(&update.apply_to(current.into_model(op)?));
                if self.replace(op, &self.sessions, filter, &new).await? {
                    break new;
                }
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
        })
        .await
    }

    async fn remove_session(&self, session_token: &str) -> AdapterResult<Option<Session>> {
        authjs!(self, Operation::DeleteSession, js => js.remove_session(session_token));
        self.bounded(Operation::DeleteSession, async || {
            let op = Operation::DeleteSession;
            self.sessions
                .find_one_and_delete(doc! { "session_token": session_token })
                .await
                .for_op(op)?
                .map(|doc| doc.into_model(op))
                .transpose()
        })
        .await
    }

    async fn find_sessions(
        &self,
        user_id: &str,
        now: DateTime<Utc>,
    ) -> AdapterResult<Vec<Session>> {
        authjs!(self, Operation::ListSessions, js => js.find_sessions(user_id, now));
        self.bounded(Operation::ListSessions, async || {
            let op = Operation::ListSessions;
            let filter = doc! { "user_id": user_id, "expires_ms": { "$gt": millis(now) } };
            let docs = self.find_owned(op, &self.sessions, user_id, filter).await?;
            docs.into_iter().map(|doc| doc.into_model(op)).collect()
        })
        .await
    }

    async fn remove_sessions(&self, user_id: &str, now: DateTime<Utc>) -> AdapterResult<u64> {
        authjs!(self, Operation::DeleteSessions, js => js.remove_sessions(user_id, now));
        self.bounded(Operation::DeleteSessions, async || {
            let op = Operation::DeleteSessions;
            // Only the live ones, so the count is exactly the live sessions removed; expired
            // ones are left to the TTL index and `delete_expired`.
            let live = doc! { "user_id": user_id, "expires_ms": { "$gt": millis(now) } };
            let result = self.sessions.delete_many(live).await.for_op(op)?;
            Ok(result.deleted_count)
        })
        .await
    }

    async fn insert_verification_token(&self, token: &VerificationToken) -> AdapterResult<()> {
        authjs!(self, Operation::CreateVerificationToken, js => js.insert_verification_token(token));
        self.bounded(Operation::CreateVerificationToken, async || {
            let op = Operation::CreateVerificationToken;
            self.tokens
                .insert_one(TokenDoc::from_model(token))
                .await
                .for_op(op)?;
            Ok(())
        })
        .await
    }

    async fn take_verification_token(
        &self,
        identifier: &str,
        token: &str,
    ) -> AdapterResult<Option<VerificationToken>> {
        authjs!(self, Operation::UseVerificationToken, js => js.take_verification_token(identifier, token));
        self.bounded(Operation::UseVerificationToken, async || {
            let op = Operation::UseVerificationToken;
            // find_one_and_delete is the atomic take: of concurrent callers one gets the
            // document. An expired one is removed all the same (the policy answers None).
            self.tokens
                .find_one_and_delete(doc! { "identifier": identifier, "token": token })
                .await
                .for_op(op)?
                .map(|doc| doc.into_model(op))
                .transpose()
        })
        .await
    }

    async fn insert_authenticator(&self, authenticator: &Authenticator) -> AdapterResult<()> {
        authjs!(self, Operation::CreateAuthenticator, js => js.insert_authenticator(authenticator));
        self.bounded(Operation::CreateAuthenticator, async || {
            let op = Operation::CreateAuthenticator;
            let doc = AuthenticatorDoc::from_model(authenticator);
            self.insert_owned(op, &self.authenticators, &doc, &authenticator.user_id)
                .await
        })
        .await
    }

    async fn find_authenticator(
        &self,
        credential_id: &str,
    ) -> AdapterResult<Option<Authenticator>> {
        authjs!(self, Operation::GetAuthenticator, js => js.find_authenticator(credential_id));
        self.bounded(Operation::GetAuthenticator, async || {
            let op = Operation::GetAuthenticator;
            let filter = doc! { "credential_id": credential_id };
            let found = self
                .find_with_user(op, &self.authenticators, filter)
                .await?;
            Ok(found.map(|joined| joined.doc.into_model()))
        })
        .await
    }

    async fn find_authenticators(&self, user_id: &str) -> AdapterResult<Vec<Authenticator>> {
        authjs!(self, Operation::ListAuthenticators, js => js.find_authenticators(user_id));
        self.bounded(Operation::ListAuthenticators, async || {
            let op = Operation::ListAuthenticators;
            let filter = doc! { "user_id": user_id };
            let docs = self
                .find_owned(op, &self.authenticators, user_id, filter)
                .await?;
            Ok(docs.into_iter().map(AuthenticatorDoc::into_model).collect())
        })
        .await
    }

    async fn set_authenticator_counter(
        &self,
        credential_id: &str,
        counter: i64,
    ) -> AdapterResult<Option<Authenticator>> {
        authjs!(self, Operation::UpdateAuthenticatorCounter, js => js.set_authenticator_counter(credential_id, counter));
        self.bounded(Operation::UpdateAuthenticatorCounter, async || {
            let op = Operation::UpdateAuthenticatorCounter;
            Ok(self
                .authenticators
                .find_one_and_update(
                    doc! { "credential_id": credential_id },
                    doc! { "$set": { "counter": counter } },
                )
                .return_document(ReturnDocument::After)
                .await
                .for_op(op)?
                .map(AuthenticatorDoc::into_model))
        })
        .await
    }

    async fn remove_authenticator(
        &self,
        credential_id: &str,
    ) -> AdapterResult<Option<Authenticator>> {
        authjs!(self, Operation::DeleteAuthenticator, js => js.remove_authenticator(credential_id));
        self.bounded(Operation::DeleteAuthenticator, async || {
            let op = Operation::DeleteAuthenticator;
            Ok(self
                .authenticators
                .find_one_and_delete(doc! { "credential_id": credential_id })
                .await
                .for_op(op)?
                .map(AuthenticatorDoc::into_model))
        })
        .await
    }

    async fn remove_expired(&self, now: DateTime<Utc>) -> AdapterResult<ExpiredCounts> {
        authjs!(self, Operation::DeleteExpired, js => js.remove_expired(now));
        self.bounded(Operation::DeleteExpired, async || {
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
        })
        .await
    }
}
