//! [`SqlxAdapter`] and its [`Store`] implementation (auth-core's policy layer makes it an
//! [`Adapter`](auth_core::Adapter)), written once for every database and every [`Layout`]:
//! each method binds values to the layout's statement text rendered at connect time
//! ([`Statements`]) and decodes the rows; [`with_pool!`] compiles the body for each enabled
//! database. What differs between layouts beyond their text is small and read from the
//! statements ([`Ids`], [`Statements::binds_email_key`]) or the adapter ([`Schema`]).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use auth_core::{
    Account, AdapterError, AdapterResult, Authenticator, ErrorCode, ExpiredCounts, Operation,
    Session, SessionUpdate, Store, User, UserUpdate, VerificationToken,
};
use chrono::{DateTime, Utc};

use sqlx::AssertSqlSafe;

use crate::dialect::{Dialect, Statements};
use crate::error::ResultExt;
use crate::layout::{Ids, Layout};
use crate::lease::with_conn;
use crate::options::{SqlxAdapterBuilder, Target};
use crate::pool::{self, stamp, with_pool, Pools, SqlxPool, Timestamps};
use crate::rows::{AccountRow, AuthenticatorRow, SessionRow, SessionUserRow, TokenRow, UserRow};
use crate::{authjs, error, migrate};

type UserOf<D> = UserRow<<D as Timestamps>::Stamp>;
type SessionOf<D> = SessionRow<<D as Timestamps>::Stamp>;
type SessionUserOf<D> = SessionUserRow<<D as Timestamps>::Stamp>;
type TokenOf<D> = TokenRow<<D as Timestamps>::Stamp>;

/// Runs a [`Take`](crate::dialect::Take) statement of `$sql`: removes the row with the key
/// binds and returns it (`DELETE … RETURNING`, or a locking read then the delete in one
/// write transaction).
macro_rules! take {
    ($conn:expr, $sql:expr, $stmt:ident, $row:ty, [$($key:expr),+ $(,)?]) => {
        async {
            match &$sql.$stmt {
                $crate::dialect::Take::Returning(text) => {
                    ::sqlx::query_as::<_, $row>(text.clone())
                        $(.bind($key))+
                        .fetch_optional(&mut *$conn)
                        .await
                }
                $crate::dialect::Take::LockThenDelete { select, delete } => {
                    let mut tx =
                        ::sqlx::Connection::begin_with(&mut *$conn, $sql.begin_write.clone()).await?;
                    let taken = async {
                        let row = ::sqlx::query_as::<_, $row>(select.clone())
                            $(.bind($key))+
                            .fetch_optional(&mut *tx)
                            .await?;
                        if row.is_some() {
                            ::sqlx::query(delete.clone())
                                $(.bind($key))+
                                .execute(&mut *tx)
                                .await?;
                        }
                        Ok::<_, ::sqlx::Error>(row)
                    }
                    .await;
                    $crate::adapter::finish(tx, taken).await
                }
            }
        }
        .await
    };
}

/// Runs a [`Change`](crate::dialect::Change) statement of `$sql`: binds the `set` values then
/// the `key` values and returns the changed row (`UPDATE … RETURNING`, or the update then a
/// read of the row in one write transaction). The set values are a list, or
/// `set(query) => expr` where `expr` binds them to `query` (binds that depend on the layout).
macro_rules! change {
    (
        $conn:expr, $sql:expr, $stmt:ident, $row:ty,
        set [$($set:expr),+ $(,)?], key [$($key:expr),+ $(,)?]
    ) => {
        change!($conn, $sql, $stmt, $row,
            set(query) => query$(.bind($set))+, key [$($key),+])
    };
    (
        $conn:expr, $sql:expr, $stmt:ident, $row:ty,
        set($query:ident) => $set:expr, key [$($key:expr),+ $(,)?]
    ) => {
        async {
            match &$sql.$stmt {
                $crate::dialect::Change::Returning(text) => {
                    let $query = ::sqlx::query_as::<_, $row>(text.clone());
                    $set
                        $(.bind($key))+
                        .fetch_optional(&mut *$conn)
                        .await
                }
                $crate::dialect::Change::UpdateThenSelect { update, select } => {
                    let mut tx =
                        ::sqlx::Connection::begin_with(&mut *$conn, $sql.begin_write.clone()).await?;
                    let changed = async {
                        let $query = ::sqlx::query(update.clone());
                        $set
                            $(.bind($key))+
                            .execute(&mut *tx)
                            .await?;
                        ::sqlx::query_as::<_, $row>(select.clone())
                            $(.bind($key))+
                            .fetch_optional(&mut *tx)
                            .await
                    }
                    .await;
                    $crate::adapter::finish(tx, changed).await
                }
            }
        }
        .await
    };
}

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
pub struct SqlxAdapter {
    pools: Pools,
    /// How long one call may take, getting its connection included.
    call_timeout: Duration,
    sql: Arc<Statements>,
    dialect: Dialect,
    layout: Layout,
    /// The name of the backend in errors and spans: the dialect's natively, else the layout's.
    backend: &'static str,
    /// The table prefix; empty for the Auth.js layouts, whose table names are fixed.
    prefix: Arc<str>,
    schema: Schema,
}

/// How [`SqlxAdapter::migrate`] creates a layout's tables.
#[derive(Debug, Clone, Copy)]
enum Schema {
    /// The shared migrations of auth-sql, recorded in `<prefix>schema_migrations`, the
    /// history adapter-diesel and adapter-seaorm keep too (native).
    Migrations,
    /// One multi-statement text, idempotent by itself (`IF NOT EXISTS`), with no bookkeeping
    /// table (the Auth.js layouts: their tables as Auth.js ships them, and our additions).
    Script(&'static str),
}

impl SqlxAdapter {
    /// Connects with the default options (see [`SqlxAdapterBuilder`]): `postgres://…`,
    /// `mysql://…` / `mariadb://…` or `sqlite:…` (e.g. `sqlite://auth.db?mode=rwc`,
    /// `sqlite::memory:`).
    ///
    /// Errors: `InvalidInput` for a URL that cannot work (see
    /// [`SqlxAdapterBuilder::connect`]); ADAPTER_CONNECTION_ERROR when the database does not
    /// answer within the call timeout.
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

    /// Options for an adapter that opens its own pool on `url`: pool size, call timeout,
    /// table prefix, layout; then [`connect`](SqlxAdapterBuilder::connect).
    ///
    /// ```
    /// let options = adapter_sqlx::SqlxAdapter::builder("sqlite::memory:").max_connections(4);
    /// ```
    pub fn builder(url: impl Into<String>) -> SqlxAdapterBuilder {
        SqlxAdapterBuilder::new(url)
    }

    /// Options for an adapter on a pool the application already has: a `PgPool`,
    /// `MySqlPool` or `SqlitePool`. The same builder as [`builder`](Self::builder): table
    /// prefix, layout and call timeout apply; `max_connections` and `min_connections` do
    /// not (the pool keeps its own options, and [`connect`](SqlxAdapterBuilder::connect)
    /// refuses them with `InvalidInput`: configure the pool you pass instead).
    /// `connect` asks MySQL/MariaDB for its version (to pick the dialect); nothing else is
    /// sent.
    ///
    /// sqlx pools ping a connection before handing it out (`test_before_acquire`, on by
    /// default), which costs one round trip per call; turn it off on the pool if the hot
    /// path matters.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), auth_core::AdapterError> {
    /// use adapter_sqlx::{sqlx::SqlitePool, SqlxAdapter};
    /// let pool = SqlitePool::connect("sqlite::memory:").await.expect("pool");
    /// let adapter = SqlxAdapter::from_pool(pool)
    ///     .table_prefix("tenant_7_")
    ///     .connect()
    ///     .await?;
    /// adapter.migrate().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn from_pool(pool: impl Into<SqlxPool>) -> SqlxAdapterBuilder {
        SqlxAdapterBuilder::adopting(pool.into())
    }

    /// Connects for `options.layout`, refusing options that cannot work (before any I/O)
    /// and a database the layout does not exist on.
    #[tracing::instrument(
        name = "connect",
        skip_all,
        fields(layout = options.layout.name(), prefix = %options.prefix())
    )]
    pub(crate) async fn connect_with(options: SqlxAdapterBuilder) -> Result<Self, AdapterError> {
        options.check()?;
        let layout = options.layout;
        let (pools, dialect) = match &options.target {
            Target::Url(url) => pool::open(url, &options).await?,
            Target::Pool(pool) => pool::adopt(pool.0.clone(), options.call_timeout).await?,
        };
        tracing::debug!(dialect = dialect.name(), "connected");
        let (sql, schema, prefix) = if layout == Layout::Native {
            let sql = Statements::new(dialect, options.prefix());
            (sql, Schema::Migrations, options.prefix())
        } else {
            let Some((sql, script)) = authjs::layout(layout, dialect) else {
                if let Target::Url(_) = options.target {
                    // Our own pool: nobody else will close it.
                    with_pool!(&pools, |source: Db| source.close().await);
                }
                return Err(AdapterError::invalid_input(
                    Operation::Connect,
                    format!(
                        "the {} layout does not exist on {}",
                        layout.name(),
                        dialect.name()
                    ),
                ));
            };
            (sql, Schema::Script(script), "")
        };
        Ok(Self {
            pools,
            call_timeout: options.call_timeout,
            sql: Arc::new(sql),
            dialect,
            layout,
            backend: if layout == Layout::Native {
                dialect.name()
            } else {
                layout.name()
            },
            prefix: prefix.into(),
            schema,
        })
    }

    /// Creates the tables, keys and indexes of the layout. Idempotent: data is kept.
    /// Native: the pending migrations of the schema shared with adapter-diesel and
    /// adapter-seaorm (the `auth-sql` crate), recorded in `<prefix>schema_migrations`, so a
    /// database one of the three crates migrated is current for the others. Auth.js
    /// layouts: the tables as Auth.js ships them, when missing, and the indexes and foreign
    /// keys listed in the README (no bookkeeping table).
    /// Not bounded by the call timeout: creating tables may take longer than a query.
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
    #[tracing::instrument(skip_all, fields(dialect = self.dialect.name(), layout = self.layout.name()))]
    pub async fn migrate(&self) -> Result<(), AdapterError> {
        let op = Operation::Migrate;
        with_pool!(&self.pools, |source: Db| {
            let mut lease = source.lease(op).await?;
            let conn = lease.conn();
            let result = match self.schema {
                Schema::Migrations => auth_sql::schema::migrate(
                    &mut migrate::SqlxMigration(&mut *conn),
                    self.dialect,
                    &self.prefix,
                )
                .await
                .map(drop)
                .map_err(error::map_migrate),
                // One multi-statement text: PostgreSQL runs it as one implicit transaction.
                Schema::Script(script) => sqlx::raw_sql(AssertSqlSafe(script))
                    .execute(&mut *conn)
                    .await
                    .map(drop)
                    .map_err(|e| error::map(op, e)),
            };
            lease.settle(&result);
            result
        })
    }

    /// Where the database stands against the shared schema (native layout): the versions
    /// its history records and those [`migrate`](Self::migrate) would apply. Creates
    /// nothing. The Auth.js layouts keep no history: always current.
    ///
    /// Errors: MIGRATION_ERROR when the database was migrated by a newer version of the
    /// adapters; ADAPTER_CONNECTION_ERROR.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), auth_core::AdapterError> {
    /// let adapter = adapter_sqlx::SqlxAdapter::connect("sqlite::memory:").await?;
    /// assert!(!adapter.schema_status().await?.is_current());
    /// adapter.migrate().await?;
    /// assert!(adapter.schema_status().await?.is_current());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn schema_status(&self) -> Result<auth_sql::schema::SchemaStatus, AdapterError> {
        let op = Operation::Migrate;
        if let Schema::Script(_) = self.schema {
            return Ok(auth_sql::schema::SchemaStatus {
                applied: Vec::new(),
                pending: Vec::new(),
            });
        }
        with_pool!(&self.pools, |source: Db| {
            let mut lease = source.lease(op).await?;
            let result = auth_sql::schema::status(
                &mut migrate::SqlxMigration(&mut *lease.conn()),
                self.dialect,
                &self.prefix,
            )
            .await
            .map_err(error::map_migrate);
            lease.settle(&result);
            result
        })
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
        self.dialect
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
        self.layout
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
        &self.prefix
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
        with_pool!(&self.pools, |source: Db| source.close().await)
    }
}

/// Commits the transaction when its statements succeeded, else rolls it back, so the
/// connection goes back to the pool outside any transaction.
pub(crate) async fn finish<DB: sqlx::Database, T>(
    tx: sqlx::Transaction<'_, DB>,
    result: Result<T, sqlx::Error>,
) -> Result<T, sqlx::Error> {
    match result {
        Ok(value) => {
            tx.commit().await?;
            Ok(value)
        }
        Err(err) => {
            tx.rollback().await?;
            Err(err)
        }
    }
}

/// Shows the layout, the database and the pool's size, never the URL (it may hold a
/// password).
impl std::fmt::Debug for SqlxAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (size, idle) = with_pool!(&self.pools, |source: Db| source.sizes());
        f.debug_struct("SqlxAdapter")
            .field("layout", &self.layout)
            .field("dialect", &self.dialect)
            .field("table_prefix", &self.prefix)
            .field("connections", &size)
            .field("idle", &idle)
            .finish()
    }
}

/// The error of a write naming a user id no user of the layout can have.
fn no_such_user(op: Operation) -> AdapterError {
    AdapterError::not_found(op, "no user has this id")
}

#[async_trait]
impl Store for SqlxAdapter {
    fn backend(&self) -> &'static str {
        self.backend
    }

    async fn insert_user(&self, user: &User, email_key: Option<&str>) -> AdapterResult<String> {
        let op = Operation::CreateUser;
        let ids = self.sql.ids;
        with_conn!(self, op, |conn: Db| {
            let insert = sqlx::query(self.sql.create_user.clone());
            let insert = match ids {
                Ids::Serial => insert,
                Ids::Given => insert.bind(user.id.as_str()),
            };
            let insert = insert.bind(user.email.as_deref());
            let insert = if self.sql.binds_email_key {
                insert.bind(email_key)
            } else {
                insert
            };
            let insert = insert
                .bind(user.email_verified.map(stamp::<Db>))
                .bind(user.name.as_deref())
                .bind(user.image.as_deref());
            match ids {
                Ids::Serial => {
                    let row = insert.fetch_one(&mut *conn).await.for_op(op)?;
                    sqlx::Row::try_get::<String, _>(&row, 0).for_op(op)
                }
                Ids::Given => {
                    insert.execute(&mut *conn).await.for_op(op)?;
                    Ok(user.id.clone())
                }
            }
        })
    }

    async fn find_user(&self, id: &str) -> AdapterResult<Option<User>> {
        let op = Operation::GetUser;
        let Some(id) = self.sql.ids.key(id) else {
            return Ok(None);
        };
        with_conn!(self, op, |conn: Db| {
            sqlx::query_as::<_, UserOf<Db>>(self.sql.get_user.clone())
                .bind(id)
                .fetch_optional(&mut *conn)
                .await
                .for_op(op)?
                .map(|row| row.into_model(op))
                .transpose()
        })
    }

    async fn find_user_by_email(&self, email_key: &str) -> AdapterResult<Option<User>> {
        let op = Operation::GetUserByEmail;
        with_conn!(self, op, |conn: Db| {
            sqlx::query_as::<_, UserOf<Db>>(self.sql.get_user_by_email.clone())
                .bind(email_key)
                .fetch_optional(&mut *conn)
                .await
                .for_op(op)?
                .map(|row| row.into_model(op))
                .transpose()
        })
    }

    async fn find_user_by_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<User>> {
        let op = Operation::GetUserByAccount;
        with_conn!(self, op, |conn: Db| {
            sqlx::query_as::<_, UserOf<Db>>(self.sql.get_user_by_account.clone())
                .bind(provider)
                .bind(provider_account_id)
                .fetch_optional(&mut *conn)
                .await
                .for_op(op)?
                .map(|row| row.into_model(op))
                .transpose()
        })
    }

    async fn merge_user(
        &self,
        update: &UserUpdate,
        email_key: Option<Option<&str>>,
    ) -> AdapterResult<Option<User>> {
        let op = Operation::UpdateUser;
        let Some(id) = self.sql.ids.key(&update.id) else {
            return Ok(None);
        };
        let email = update.email.as_ref().map(Option::as_deref);
        let verified = update.email_verified;
        let name = update.name.as_ref().map(Option::as_deref);
        let image = update.image.as_ref().map(Option::as_deref);
        // One statement (or one transaction on MySQL/MariaDB): the unique email key refuses a
        // taken email (`Conflict`) and then nothing changes.
        with_conn!(self, op, |conn: Db| {
            change!(conn, self.sql, update_user, UserOf<Db>,
                set(query) => {
                    let query = query.bind(email.is_some()).bind(email.flatten());
                    let query = if self.sql.binds_email_key {
                        query.bind(email_key.is_some()).bind(email_key.flatten())
                    } else {
                        query
                    };
                    query
                        .bind(verified.is_some())
                        .bind(verified.flatten().map(stamp::<Db>))
                        .bind(name.is_some())
                        .bind(name.flatten())
                        .bind(image.is_some())
                        .bind(image.flatten())
                },
                key [id])
            .for_op(op)?
            .map(|row| row.into_model(op))
            .transpose()
        })
    }

    async fn remove_user(&self, id: &str) -> AdapterResult<Option<User>> {
        let op = Operation::DeleteUser;
        let Some(id) = self.sql.ids.key(id) else {
            return Ok(None);
        };
        // One statement (or one transaction on MySQL 8): the foreign keys cascade to the
        // user's accounts, sessions and authenticators, all or nothing.
        with_conn!(self, op, |conn: Db| {
            take!(conn, self.sql, delete_user, UserOf<Db>, [id])
                .for_op(op)?
                .map(|row| row.into_model(op))
                .transpose()
        })
    }

    async fn insert_account(&self, account: &Account) -> AdapterResult<()> {
        let op = Operation::LinkAccount;
        let Some(user_id) = self.sql.ids.key(&account.user_id) else {
            return Err(no_such_user(op));
        };
        // The foreign key refuses an account of a missing user (NotFound), also when the user
        // is deleted concurrently: no orphan can exist.
        with_conn!(self, op, |conn: Db| {
            sqlx::query(self.sql.link_account.clone())
                .bind(user_id)
                .bind(account.account_type.as_str())
                .bind(account.provider.as_str())
                .bind(account.provider_account_id.as_str())
                .bind(account.refresh_token.as_deref())
                .bind(account.access_token.as_deref())
                .bind(account.expires_at)
                .bind(account.token_type.as_deref())
                .bind(account.scope.as_deref())
                .bind(account.id_token.as_deref())
                .bind(account.session_state.as_deref())
                .execute(&mut *conn)
                .await
                .for_op(op)?;
            Ok(())
        })
    }

    async fn remove_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<Account>> {
        let op = Operation::UnlinkAccount;
        with_conn!(self, op, |conn: Db| {
            take!(
                conn,
                self.sql,
                unlink_account,
                AccountRow,
                [provider, provider_account_id]
            )
            .for_op(op)?
            .map(|row| row.into_model(op))
            .transpose()
        })
    }

    async fn find_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<Account>> {
        let op = Operation::GetAccount;
        with_conn!(self, op, |conn: Db| {
            sqlx::query_as::<_, AccountRow>(self.sql.get_account.clone())
                .bind(provider)
                .bind(provider_account_id)
                .fetch_optional(&mut *conn)
                .await
                .for_op(op)?
                .map(|row| row.into_model(op))
                .transpose()
        })
    }

    async fn replace_account_tokens(&self, account: &Account) -> AdapterResult<Option<Account>> {
        let op = Operation::UpdateAccount;
        let a = account;
        with_conn!(self, op, |conn: Db| {
            change!(conn, self.sql, update_account, AccountRow,
                set [
                    a.refresh_token.as_deref(),
                    a.access_token.as_deref(),
                    a.expires_at,
                    a.token_type.as_deref(),
                    a.scope.as_deref(),
                    a.id_token.as_deref(),
                    a.session_state.as_deref(),
                ],
                key [a.provider.as_str(), a.provider_account_id.as_str()])
            .for_op(op)?
            .map(|row| row.into_model(op))
            .transpose()
        })
    }

    async fn find_accounts(&self, user_id: &str) -> AdapterResult<Vec<Account>> {
        let op = Operation::ListAccounts;
        let Some(user_id) = self.sql.ids.key(user_id) else {
            return Ok(Vec::new());
        };
        with_conn!(self, op, |conn: Db| {
            sqlx::query_as::<_, AccountRow>(self.sql.list_accounts.clone())
                .bind(user_id)
                .fetch_all(&mut *conn)
                .await
                .for_op(op)?
                .into_iter()
                .map(|row| row.into_model(op))
                .collect()
        })
    }

    async fn insert_session(&self, session: &Session) -> AdapterResult<()> {
        let op = Operation::CreateSession;
        let Some(user_id) = self.sql.ids.key(&session.user_id) else {
            return Err(no_such_user(op));
        };
        with_conn!(self, op, |conn: Db| {
            sqlx::query(self.sql.create_session.clone())
                .bind(session.session_token.as_str())
                .bind(user_id)
                .bind(stamp::<Db>(session.expires))
                .execute(&mut *conn)
                .await
                .for_op(op)?;
            Ok(())
        })
    }

    async fn find_session_and_user(
        &self,
        session_token: &str,
        now: DateTime<Utc>,
    ) -> AdapterResult<Option<(Session, User)>> {
        let op = Operation::GetSessionAndUser;
        // One statement: the join with the user, filtered on `expires > now`.
        with_conn!(self, op, |conn: Db| {
            sqlx::query_as::<_, SessionUserOf<Db>>(self.sql.get_session_and_user.clone())
                .bind(session_token)
                .bind(stamp::<Db>(now))
                .fetch_optional(&mut *conn)
                .await
                .for_op(op)?
                .map(|row| row.into_model(op))
                .transpose()
        })
    }

    async fn change_session(
        &self,
        update: &SessionUpdate,
        now: DateTime<Utc>,
    ) -> AdapterResult<Option<Session>> {
        let op = Operation::UpdateSession;
        let user_id = match update.user_id.as_deref() {
            Some(id) => Some(self.sql.ids.key(id).ok_or_else(|| no_such_user(op))?),
            None => None,
        };
        with_conn!(self, op, |conn: Db| {
            change!(conn, self.sql, update_session, SessionOf<Db>,
                set [update.expires.map(stamp::<Db>), user_id],
                key [update.session_token.as_str(), stamp::<Db>(now)])
            .for_op(op)?
            .map(|row| row.into_model(op))
            .transpose()
        })
    }

    async fn remove_session(&self, session_token: &str) -> AdapterResult<Option<Session>> {
        let op = Operation::DeleteSession;
        with_conn!(self, op, |conn: Db| {
            take!(
                conn,
                self.sql,
                delete_session,
                SessionOf<Db>,
                [session_token]
            )
            .for_op(op)?
            .map(|row| row.into_model(op))
            .transpose()
        })
    }

    async fn find_sessions(
        &self,
        user_id: &str,
        now: DateTime<Utc>,
    ) -> AdapterResult<Vec<Session>> {
        let op = Operation::ListSessions;
        let Some(user_id) = self.sql.ids.key(user_id) else {
            return Ok(Vec::new());
        };
        with_conn!(self, op, |conn: Db| {
            sqlx::query_as::<_, SessionOf<Db>>(self.sql.list_sessions.clone())
                .bind(user_id)
                .bind(stamp::<Db>(now))
                .fetch_all(&mut *conn)
                .await
                .for_op(op)?
                .into_iter()
                .map(|row| row.into_model(op))
                .collect()
        })
    }

    async fn remove_sessions(&self, user_id: &str, now: DateTime<Utc>) -> AdapterResult<u64> {
        let op = Operation::DeleteSessions;
        let Some(user_id) = self.sql.ids.key(user_id) else {
            return Ok(0);
        };
        with_conn!(self, op, |conn: Db| {
            Ok(sqlx::query(self.sql.delete_sessions.clone())
                .bind(user_id)
                .bind(stamp::<Db>(now))
                .execute(&mut *conn)
                .await
                .for_op(op)?
                .rows_affected())
        })
    }

    async fn insert_verification_token(&self, token: &VerificationToken) -> AdapterResult<()> {
        let op = Operation::CreateVerificationToken;
        with_conn!(self, op, |conn: Db| {
            sqlx::query(self.sql.create_verification_token.clone())
                .bind(token.identifier.as_str())
                .bind(token.token.as_str())
                .bind(stamp::<Db>(token.expires))
                .execute(&mut *conn)
                .await
                .for_op(op)?;
            Ok(())
        })
    }

    async fn take_verification_token(
        &self,
        identifier: &str,
        token: &str,
    ) -> AdapterResult<Option<VerificationToken>> {
        let op = Operation::UseVerificationToken;
        // Atomic take: of concurrent callers (Rust or Node) exactly one gets the row; an
        // expired token goes too (the policy layer answers None for it).
        with_conn!(self, op, |conn: Db| {
            take!(
                conn,
                self.sql,
                use_verification_token,
                TokenOf<Db>,
                [identifier, token]
            )
            .for_op(op)?
            .map(|row| row.into_model(op))
            .transpose()
        })
    }

    async fn insert_authenticator(&self, a: &Authenticator) -> AdapterResult<()> {
        let op = Operation::CreateAuthenticator;
        let Some(user_id) = self.sql.ids.key(&a.user_id) else {
            return Err(no_such_user(op));
        };
        with_conn!(self, op, |conn: Db| {
            sqlx::query(self.sql.create_authenticator.clone())
                .bind(a.credential_id.as_str())
                .bind(user_id)
                .bind(a.provider_account_id.as_str())
                .bind(a.credential_public_key.as_str())
                .bind(a.counter)
                .bind(a.credential_device_type.as_str())
                .bind(a.credential_backed_up)
                .bind(a.transports.as_deref())
                .execute(&mut *conn)
                .await
                .for_op(op)?;
            Ok(())
        })
    }

    async fn find_authenticator(
        &self,
        credential_id: &str,
    ) -> AdapterResult<Option<Authenticator>> {
        let op = Operation::GetAuthenticator;
        with_conn!(self, op, |conn: Db| {
            Ok(
                sqlx::query_as::<_, AuthenticatorRow>(self.sql.get_authenticator.clone())
                    .bind(credential_id)
                    .fetch_optional(&mut *conn)
                    .await
                    .for_op(op)?
                    .map(AuthenticatorRow::into_model),
            )
        })
    }

    async fn find_authenticators(&self, user_id: &str) -> AdapterResult<Vec<Authenticator>> {
        let op = Operation::ListAuthenticators;
        let Some(user_id) = self.sql.ids.key(user_id) else {
            return Ok(Vec::new());
        };
        with_conn!(self, op, |conn: Db| {
            Ok(
                sqlx::query_as::<_, AuthenticatorRow>(self.sql.list_authenticators.clone())
                    .bind(user_id)
                    .fetch_all(&mut *conn)
                    .await
                    .for_op(op)?
                    .into_iter()
                    .map(AuthenticatorRow::into_model)
                    .collect(),
            )
        })
    }

    async fn set_authenticator_counter(
        &self,
        credential_id: &str,
        counter: i64,
    ) -> AdapterResult<Option<Authenticator>> {
        let op = Operation::UpdateAuthenticatorCounter;
        let row = with_conn!(self, op, |conn: Db| {
            change!(
                conn,
                self.sql,
                update_authenticator_counter,
                AuthenticatorRow,
                set[counter],
                key[credential_id]
            )
            .for_op(op)
        })?;
        Ok(row.map(AuthenticatorRow::into_model))
    }

    async fn remove_authenticator(
        &self,
        credential_id: &str,
    ) -> AdapterResult<Option<Authenticator>> {
        let op = Operation::DeleteAuthenticator;
        let row = with_conn!(self, op, |conn: Db| {
            take!(
                conn,
                self.sql,
                delete_authenticator,
                AuthenticatorRow,
                [credential_id]
            )
            .for_op(op)
        })?;
        Ok(row.map(AuthenticatorRow::into_model))
    }

    async fn remove_expired(&self, now: DateTime<Utc>) -> AdapterResult<ExpiredCounts> {
        let op = Operation::DeleteExpired;
        with_conn!(self, op, |conn: Db| {
            let sessions = sqlx::query(self.sql.delete_expired_sessions.clone())
                .bind(stamp::<Db>(now))
                .execute(&mut *conn)
                .await
                .for_op(op)?
                .rows_affected();
            let verification_tokens = sqlx::query(self.sql.delete_expired_tokens.clone())
                .bind(stamp::<Db>(now))
                .execute(&mut *conn)
                .await
                .for_op(op)
                .map_err(|e| e.with_code(ErrorCode::DeleteVerificationRequestError))?
                .rows_affected();
            Ok(ExpiredCounts {
                sessions,
                verification_tokens,
            })
        })
    }
}
