//! [`MongoAdapter`]: the [`Store`] implementation on the official MongoDB driver. The
//! policy layer of auth-core turns it into an [`Adapter`](auth_core::Adapter): validation,
//! the email key, millisecond timestamps, the clock and expiry filtering of results happen
//! there, before and after the methods here. Each call goes, within the call bound, to the
//! store of the layout chosen at connect (`crate::native`, `crate::authjs`).

use std::fmt;

use async_trait::async_trait;
use auth_core::chrono::{DateTime, Utc};
use auth_core::{
    Account, AdapterError, AdapterResult, Authenticator, ExpiredCounts, Operation, Session,
    SessionUpdate, Store, User, UserUpdate, VerificationToken,
};
use mongodb::Database;

use crate::authjs::AuthJsStore;
use crate::indexes;
use crate::layout::{Collections, Fields, Layout};
use crate::native::NativeStore;
use crate::options::{validate_collection_prefix, validate_database_name, MongoAdapterBuilder};

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
    /// The bound of every call (see [`MongoAdapter::bounded`]).
    call_timeout: std::time::Duration,
    /// The store of the layout, which takes every call.
    store: LayoutStore,
}

/// The store of each layout. An enum rather than a `Box<dyn …>`: the stores' methods are
/// plain `async fn`s, so a call costs one `match` and no further allocation or indirection.
#[derive(Debug, Clone)]
enum LayoutStore {
    Native(NativeStore),
    AuthJs(AuthJsStore),
}

impl LayoutStore {
    /// The names of the store's collections.
    fn names(&self) -> &Collections {
        match self {
            Self::Native(store) => store.names(),
            Self::AuthJs(store) => store.names(),
        }
    }

    /// The field names of the store's documents.
    fn fields(&self) -> &'static Fields {
        match self {
            Self::Native(_) => &Fields::NATIVE,
            Self::AuthJs(_) => &Fields::AUTHJS,
        }
    }

    /// The backend's name in reports ([`Store::backend`]).
    fn backend(&self) -> &'static str {
        match self {
            Self::Native(_) => "mongo",
            Self::AuthJs(_) => "mongo-authjs",
        }
    }
}

/// Runs a [`Store`] call on the layout's store, within the adapter's call bound: the one
/// place a call is dispatched to a layout (both stores' methods share the `Store` method's
/// name and arguments).
macro_rules! dispatch {
    ($self:ident, $op:expr, $store:ident => $call:expr) => {
        $self
            .bounded($op, async || match &$self.store {
                LayoutStore::Native($store) => $call.await,
                LayoutStore::AuthJs($store) => $call.await,
            })
            .await
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
                &match self.store {
                    LayoutStore::Native(_) => "native",
                    LayoutStore::AuthJs(_) => "authjs",
                },
            )
            .field("collections", self.collections())
            .finish_non_exhaustive()
    }
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
        let store = match layout {
            Layout::Native => LayoutStore::Native(NativeStore::new(&db, Collections::new(prefix))),
            Layout::AuthJs(_) if !prefix.is_empty() => {
                return Err(AdapterError::invalid_input(
                    Operation::Connect,
                    "a collection prefix does not apply to the Auth.js layout: name its collections in AuthJsCollections",
                ));
            }
            Layout::AuthJs(names) => LayoutStore::AuthJs(AuthJsStore::new(&db, names.validate()?)),
        };
        Ok(Self {
            client,
            db,
            call_timeout,
            store,
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
        self.store.names()
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
    /// With [`Layout::AuthJs`](crate::Layout::AuthJs), the same indexes on the fields of that
    /// layout (`email`, `providerAccountId`, `sessionToken`, `credentialID`, `userId`; no
    /// `expires_ms`), which Auth.js tolerates: it never reads index options, and writes
    /// nothing they refuse unless two records would share a key (the README's "Sharing a
    /// database with Auth.js").
    ///
    /// Unlike the adapter's other calls it is not bounded by the
    /// [call timeout](MongoAdapterBuilder::call_timeout): building an index on a populated
    /// collection (an Auth.js app's, say) may legitimately take longer. Its wait for a
    /// usable server is still bounded (ADAPTER_CONNECTION_ERROR past the driver's server
    /// selection timeout).
    #[tracing::instrument(skip_all, fields(db.system = "mongodb"))]
    pub async fn migrate(&self) -> AdapterResult<()> {
        indexes::create(&self.db, self.store.names(), self.store.fields()).await
    }
}

#[async_trait]
impl Store for MongoAdapter {
    fn backend(&self) -> &'static str {
        self.store.backend()
    }

    async fn insert_user(&self, user: &User, email_key: Option<&str>) -> AdapterResult<String> {
        dispatch!(self, Operation::CreateUser, store => store.insert_user(user, email_key))
    }

    async fn find_user(&self, id: &str) -> AdapterResult<Option<User>> {
        dispatch!(self, Operation::GetUser, store => store.find_user(id))
    }

    async fn find_user_by_email(&self, email_key: &str) -> AdapterResult<Option<User>> {
        dispatch!(self, Operation::GetUserByEmail, store => store.find_user_by_email(email_key))
    }

    async fn find_user_by_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<User>> {
        dispatch!(self, Operation::GetUserByAccount, store => store.find_user_by_account(provider, provider_account_id))
    }

    async fn merge_user(
        &self,
        update: &UserUpdate,
        email_key: Option<Option<&str>>,
    ) -> AdapterResult<Option<User>> {
        dispatch!(self, Operation::UpdateUser, store => store.merge_user(update, email_key))
    }

    async fn remove_user(&self, id: &str) -> AdapterResult<Option<User>> {
        dispatch!(self, Operation::DeleteUser, store => store.remove_user(id))
    }

    async fn insert_account(&self, account: &Account) -> AdapterResult<()> {
        dispatch!(self, Operation::LinkAccount, store => store.insert_account(account))
    }

    async fn remove_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<Account>> {
        dispatch!(self, Operation::UnlinkAccount, store => store.remove_account(provider, provider_account_id))
    }

    async fn find_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<Account>> {
        dispatch!(self, Operation::GetAccount, store => store.find_account(provider, provider_account_id))
    }

    async fn replace_account_tokens(&self, account: &Account) -> AdapterResult<Option<Account>> {
        dispatch!(self, Operation::UpdateAccount, store => store.replace_account_tokens(account))
    }

    async fn find_accounts(&self, user_id: &str) -> AdapterResult<Vec<Account>> {
        dispatch!(self, Operation::ListAccounts, store => store.find_accounts(user_id))
    }

    async fn insert_session(&self, session: &Session) -> AdapterResult<()> {
        dispatch!(self, Operation::CreateSession, store => store.insert_session(session))
    }

    async fn find_session_and_user(
        &self,
        session_token: &str,
        now: DateTime<Utc>,
    ) -> AdapterResult<Option<(Session, User)>> {
        dispatch!(self, Operation::GetSessionAndUser, store => store.find_session_and_user(session_token, now))
    }

    async fn change_session(
        &self,
        update: &SessionUpdate,
        now: DateTime<Utc>,
    ) -> AdapterResult<Option<Session>> {
        dispatch!(self, Operation::UpdateSession, store => store.change_session(update, now))
    }

    async fn remove_session(&self, session_token: &str) -> AdapterResult<Option<Session>> {
        dispatch!(self, Operation::DeleteSession, store => store.remove_session(session_token))
    }

    async fn find_sessions(
        &self,
        user_id: &str,
        now: DateTime<Utc>,
    ) -> AdapterResult<Vec<Session>> {
        dispatch!(self, Operation::ListSessions, store => store.find_sessions(user_id, now))
    }

    async fn remove_sessions(&self, user_id: &str, now: DateTime<Utc>) -> AdapterResult<u64> {
        dispatch!(self, Operation::DeleteSessions, store => store.remove_sessions(user_id, now))
    }

    async fn insert_verification_token(&self, token: &VerificationToken) -> AdapterResult<()> {
        dispatch!(self, Operation::CreateVerificationToken, store => store.insert_verification_token(token))
    }

    async fn take_verification_token(
        &self,
        identifier: &str,
        token: &str,
    ) -> AdapterResult<Option<VerificationToken>> {
        dispatch!(self, Operation::UseVerificationToken, store => store.take_verification_token(identifier, token))
    }

    async fn insert_authenticator(&self, authenticator: &Authenticator) -> AdapterResult<()> {
        dispatch!(self, Operation::CreateAuthenticator, store => store.insert_authenticator(authenticator))
    }

    async fn find_authenticator(
        &self,
        credential_id: &str,
    ) -> AdapterResult<Option<Authenticator>> {
        dispatch!(self, Operation::GetAuthenticator, store => store.find_authenticator(credential_id))
    }

    async fn find_authenticators(&self, user_id: &str) -> AdapterResult<Vec<Authenticator>> {
        dispatch!(self, Operation::ListAuthenticators, store => store.find_authenticators(user_id))
    }

    async fn set_authenticator_counter(
        &self,
        credential_id: &str,
        counter: i64,
    ) -> AdapterResult<Option<Authenticator>> {
        dispatch!(self, Operation::UpdateAuthenticatorCounter, store => store.set_authenticator_counter(credential_id, counter))
    }

    async fn remove_authenticator(
        &self,
        credential_id: &str,
    ) -> AdapterResult<Option<Authenticator>> {
        dispatch!(self, Operation::DeleteAuthenticator, store => store.remove_authenticator(credential_id))
    }

    async fn remove_expired(&self, now: DateTime<Utc>) -> AdapterResult<ExpiredCounts> {
        dispatch!(self, Operation::DeleteExpired, store => store.remove_expired(now))
    }
}
