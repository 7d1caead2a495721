//! [`SqlxAdapter`], the public adapter: the native layout (`crate::adapter`) or an Auth.js
//! one (`crate::authjs`), picked by [`SqlxAdapterBuilder::layout`]. Each is its own
//! [`Store`]; this type only forwards to the one it holds, so the native hot path is the
//! native code unchanged.

use async_trait::async_trait;
use auth_core::{
    Account, AdapterError, AdapterResult, Authenticator, ExpiredCounts, Session, SessionUpdate,
    Store, User, UserUpdate, VerificationToken,
};
use chrono::{DateTime, Utc};

use crate::adapter::SqlxAdapter as Native;
use crate::authjs::AuthJsAdapter;
use crate::dialect::Dialect;
use crate::layout::Layout;
use crate::options::SqlxAdapterBuilder;

/// The auth adapter on PostgreSQL, MySQL/MariaDB or SQLite, one type for all three: the
/// database is picked from the URL when it connects, the tables from the
/// [`Layout`] (this crate's own by default, or an Auth.js app's). Cheap to clone (clones
/// share the pool).
///
/// ```no_run
/// use std::sync::Arc;
/// use adapter_sqlx::SqlxAdapter;
/// use auth_core::Adapter;
///
/// # async fn run() -> Result<(), auth_core::AdapterError> {
/// let adapter = SqlxAdapter::connect("sqlite://auth.db?mode=rwc").await?;
/// adapter.migrate().await?;
/// let db: Arc<dyn Adapter> = Arc::new(adapter);
/// assert_eq!(db.get_user("nobody").await?, None);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct SqlxAdapter(Inner);

#[derive(Clone)]
enum Inner {
    Native(Native),
    AuthJs(AuthJsAdapter),
}

/// Forwards a call to the layout's store.
macro_rules! forward {
    ($self:ident, |$store:ident| $call:expr) => {
        match &$self.0 {
            Inner::Native($store) => $call,
            Inner::AuthJs($store) => $call,
        }
    };
}

impl SqlxAdapter {
    /// Connects with the default options (see [`SqlxAdapterBuilder`]): `postgres://…`,
    /// `mysql://…` / `mariadb://…` or `sqlite:…` (e.g. `sqlite://auth.db?mode=rwc`,
    /// `sqlite::memory:`).
    ///
    /// Errors: ADAPTER_CONNECTION_ERROR when the database does not answer within the acquire
    /// timeout or the URL is not usable.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), auth_core::AdapterError> {
    /// let adapter = adapter_sqlx::SqlxAdapter::connect("sqlite::memory:").await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn connect(url: &str) -> Result<Self, AdapterError> {
        Self::builder(url).connect().await
    }

    /// Options: pool size, acquire timeout, table prefix, layout.
    ///
    /// ```
    /// let options = adapter_sqlx::SqlxAdapter::builder("sqlite::memory:").max_connections(4);
    /// ```
    pub fn builder(url: impl Into<String>) -> SqlxAdapterBuilder {
        SqlxAdapterBuilder::new(url)
    }

    pub(crate) async fn connect_with(options: SqlxAdapterBuilder) -> Result<Self, AdapterError> {
        Ok(Self(match options.layout {
            Layout::Native => Inner::Native(Native::connect_with(options).await?),
            _ => Inner::AuthJs(AuthJsAdapter::connect(&options).await?),
        }))
    }

    /// An adapter on a pool the application already has, with the native layout and the
    /// default table prefix (`auth_`): a `PgPool`, `MySqlPool` or `SqlitePool`. Asks
    /// MySQL/MariaDB for its version (to pick the dialect); nothing else is sent.
    ///
    /// The pool keeps its own options: sqlx pools ping a connection before handing it out
    /// (`test_before_acquire`, on by default), which costs one round trip per call; turn it
    /// off on the pool if the hot path matters.
    ///
    /// Errors: ADAPTER_CONNECTION_ERROR when MySQL/MariaDB does not answer.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), auth_core::AdapterError> {
    /// use adapter_sqlx::{sqlx::SqlitePool, SqlxAdapter};
    /// let pool = SqlitePool::connect("sqlite::memory:").await.expect("pool");
    /// let adapter = SqlxAdapter::from_pool(pool).await?;
    /// adapter.migrate().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn from_pool(pool: impl Into<crate::pool::SqlxPool>) -> Result<Self, AdapterError> {
        Ok(Self(Inner::Native(Native::from_pool(pool).await?)))
    }

    /// Creates the tables, keys and indexes of the layout. Idempotent: data is kept.
    /// Native: sqlx's migrator with the migrations embedded in this crate (recorded in
    /// `<prefix>sqlx_migrations`). Auth.js layouts: the tables as Auth.js ships them, when
    /// missing, and the indexes and foreign keys listed in the README (no bookkeeping table).
    ///
    /// Errors: MIGRATION_ERROR (or ADAPTER_CONNECTION_ERROR).
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), auth_core::AdapterError> {
    /// let adapter = adapter_sqlx::SqlxAdapter::connect("sqlite::memory:").await?;
    /// adapter.migrate().await?; // at every start
    /// # Ok(())
    /// # }
    /// ```
    pub async fn migrate(&self) -> Result<(), AdapterError> {
        forward!(self, |store| store.migrate().await)
    }

    /// The database this adapter talks to.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), auth_core::AdapterError> {
    /// let adapter = adapter_sqlx::SqlxAdapter::connect("sqlite::memory:").await?;
    /// assert_eq!(adapter.dialect(), adapter_sqlx::Dialect::Sqlite);
    /// # Ok(())
    /// # }
    /// ```
    pub fn dialect(&self) -> Dialect {
        forward!(self, |store| store.dialect())
    }

    /// Whose tables this adapter reads and writes.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), auth_core::AdapterError> {
    /// let adapter = adapter_sqlx::SqlxAdapter::connect("sqlite::memory:").await?;
    /// assert_eq!(adapter.layout(), adapter_sqlx::Layout::Native);
    /// # Ok(())
    /// # }
    /// ```
    pub fn layout(&self) -> Layout {
        match &self.0 {
            Inner::Native(_) => Layout::Native,
            Inner::AuthJs(store) => store.layout(),
        }
    }

    /// The prefix of every table name, e.g. `auth_` for `auth_users`; empty for the Auth.js
    /// layouts, whose table names are fixed.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), auth_core::AdapterError> {
    /// let adapter = adapter_sqlx::SqlxAdapter::connect("sqlite::memory:").await?;
    /// assert_eq!(adapter.table_prefix(), "auth_");
    /// # Ok(())
    /// # }
    /// ```
    pub fn table_prefix(&self) -> &str {
        match &self.0 {
            Inner::Native(store) => store.table_prefix(),
            Inner::AuthJs(_) => "",
        }
    }

    /// Closes the pool: waits for connections in use to come back and closes them all.
    /// Calls afterwards fail with ADAPTER_CONNECTION_ERROR.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), auth_core::AdapterError> {
    /// let adapter = adapter_sqlx::SqlxAdapter::connect("sqlite::memory:").await?;
    /// adapter.close().await;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn close(&self) {
        forward!(self, |store| store.close().await)
    }
}

/// Shows the layout, the database and the pool's size, never the URL (it may hold a
/// password).
impl std::fmt::Debug for SqlxAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        forward!(self, |store| store.fmt(f))
    }
}

#[async_trait]
impl Store for SqlxAdapter {
    fn backend(&self) -> &'static str {
        forward!(self, |s| s.backend())
    }
    async fn insert_user(&self, user: &User, email_key: Option<&str>) -> AdapterResult<String> {
        forward!(self, |s| s.insert_user(user, email_key).await)
    }
    async fn find_user(&self, id: &str) -> AdapterResult<Option<User>> {
        forward!(self, |s| s.find_user(id).await)
    }
    async fn find_user_by_email(&self, email_key: &str) -> AdapterResult<Option<User>> {
        forward!(self, |s| s.find_user_by_email(email_key).await)
    }
    async fn find_user_by_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<User>> {
        forward!(self, |s| s
            .find_user_by_account(provider, provider_account_id)
            .await)
    }
    async fn merge_user(
        &self,
        update: &UserUpdate,
        email_key: Option<Option<&str>>,
    ) -> AdapterResult<Option<User>> {
        forward!(self, |s| s.merge_user(update, email_key).await)
    }
    async fn remove_user(&self, id: &str) -> AdapterResult<Option<User>> {
        forward!(self, |s| s.remove_user(id).await)
    }
    async fn insert_account(&self, account: &Account) -> AdapterResult<()> {
        forward!(self, |s| s.insert_account(account).await)
    }
    async fn remove_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<Account>> {
        forward!(self, |s| s
            .remove_account(provider, provider_account_id)
            .await)
    }
    async fn find_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<Account>> {
        forward!(self, |s| s
            .find_account(provider, provider_account_id)
            .await)
    }
    async fn replace_account_tokens(&self, account: &Account) -> AdapterResult<Option<Account>> {
        forward!(self, |s| s.replace_account_tokens(account).await)
    }
    async fn find_accounts(&self, user_id: &str) -> AdapterResult<Vec<Account>> {
        forward!(self, |s| s.find_accounts(user_id).await)
    }
    async fn insert_session(&self, session: &Session) -> AdapterResult<()> {
        forward!(self, |s| s.insert_session(session).await)
    }
    async fn find_session_and_user(
        &self,
        session_token: &str,
        now: DateTime<Utc>,
    ) -> AdapterResult<Option<(Session, User)>> {
        forward!(self, |s| s.find_session_and_user(session_token, now).await)
    }
    async fn change_session(
        &self,
        update: &SessionUpdate,
        now: DateTime<Utc>,
    ) -> AdapterResult<Option<Session>> {
        forward!(self, |s| s.change_session(update, now).await)
    }
    async fn remove_session(&self, session_token: &str) -> AdapterResult<Option<Session>> {
        forward!(self, |s| s.remove_session(session_token).await)
    }
    async fn find_sessions(
        &self,
        user_id: &str,
        now: DateTime<Utc>,
    ) -> AdapterResult<Vec<Session>> {
        forward!(self, |s| s.find_sessions(user_id, now).await)
    }
    async fn remove_sessions(&self, user_id: &str, now: DateTime<Utc>) -> AdapterResult<u64> {
        forward!(self, |s| s.remove_sessions(user_id, now).await)
    }
    async fn insert_verification_token(&self, token: &VerificationToken) -> AdapterResult<()> {
        forward!(self, |s| s.insert_verification_token(token).await)
    }
    async fn take_verification_token(
        &self,
        identifier: &str,
        token: &str,
    ) -> AdapterResult<Option<VerificationToken>> {
        forward!(self, |s| s.take_verification_token(identifier, token).await)
    }
    async fn insert_authenticator(&self, authenticator: &Authenticator) -> AdapterResult<()> {
        forward!(self, |s| s.insert_authenticator(authenticator).await)
    }
    async fn find_authenticator(
        &self,
        credential_id: &str,
    ) -> AdapterResult<Option<Authenticator>> {
        forward!(self, |s| s.find_authenticator(credential_id).await)
    }
    async fn find_authenticators(&self, user_id: &str) -> AdapterResult<Vec<Authenticator>> {
        forward!(self, |s| s.find_authenticators(user_id).await)
    }
    async fn set_authenticator_counter(
        &self,
        credential_id: &str,
        counter: i64,
    ) -> AdapterResult<Option<Authenticator>> {
        forward!(self, |s| s
            .set_authenticator_counter(credential_id, counter)
            .await)
    }
    async fn remove_authenticator(
        &self,
        credential_id: &str,
    ) -> AdapterResult<Option<Authenticator>> {
        forward!(self, |s| s.remove_authenticator(credential_id).await)
    }
    async fn remove_expired(&self, now: DateTime<Utc>) -> AdapterResult<ExpiredCounts> {
        forward!(self, |s| s.remove_expired(now).await)
    }
}
