//! [`SeaOrmAdapter`]: how it connects, and its [`Store`] implementation, written once for
//! every database with the SeaORM query builder over the [`entities`](crate::entities).
//! What differs between databases is written once too: [`Dialect`] says which statements
//! can return rows, [`crate::stamp`] how a timestamp is stored.

use std::time::Duration;

use async_trait::async_trait;
use auth_core::{
    Account, AdapterError, AdapterResult, Authenticator, ErrorCode, ExpiredCounts, Operation,
    Session, SessionUpdate, Store, User, UserUpdate, VerificationToken,
};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{
    Asterisk, Condition, Expr, ExprTrait, IntoCondition, LockType, Order, Query, SelectStatement,
};
use sea_orm::{
    ColumnTrait, ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr,
    EntityTrait, FromQueryResult, Iterable, QueryResult, Statement, TransactionTrait,
};

use crate::entities::{accounts, authenticators, sessions, users, verification_tokens};
use crate::error::{self, ResultExt};
use crate::options::{SeaOrmAdapterBuilder, Target};
use crate::stamp;
use crate::Dialect;

/// How long a pooled connection may sit idle before it is pinged on checkout.
const IDLE_BEFORE_PING: Duration = Duration::from_secs(30);

/// The auth adapter on PostgreSQL, MySQL/MariaDB or SQLite through SeaORM, on the schema
/// adapter-sqlx creates with its default prefix `auth_` (an app can switch between the two
/// crates without a data migration). Cheap to clone: clones share the connection pool.
///
/// ```no_run
/// use std::sync::Arc;
/// use adapter_seaorm::SeaOrmAdapter;
/// use auth_core::Adapter;
///
/// # async fn run() -> Result<(), auth_core::AdapterError> {
/// let adapter = SeaOrmAdapter::connect("sqlite://auth.db?mode=rwc").await?;
/// adapter.migrate().await?;
/// let db: Arc<dyn Adapter> = Arc::new(adapter);
/// assert_eq!(db.get_user("nobody").await?, None);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct SeaOrmAdapter {
    db: DatabaseConnection,
    dialect: Dialect,
    /// The bound of every call on a server (see [`SeaOrmAdapter::bounded`]).
    call_timeout: Duration,
}

/// Shows the database kind only: no URL, no data.
impl std::fmt::Debug for SeaOrmAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeaOrmAdapter")
            .field("dialect", &self.dialect)
            .finish_non_exhaustive()
    }
}

/// The URL scheme, which picks the database (`mariadb:` is read as `mysql:`).
fn scheme(url: &str) -> &str {
    url.split_once(':').map_or("", |(scheme, _)| scheme)
}

/// Whether a SQLite URL names an in-memory database, which lives only while a connection
/// to it is open.
#[cfg(feature = "sqlite")]
fn is_sqlite_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}

fn unsupported(scheme: &str) -> AdapterError {
    let feature = match scheme {
        "postgres" | "postgresql" => Some("postgres"),
        "mysql" | "mariadb" => Some("mysql"),
        "sqlite" => Some("sqlite"),
        _ => None,
    };
    AdapterError::invalid_input(
        Operation::Connect,
        match feature {
            Some(feature) => format!(
                "{scheme}: URLs need the `{feature}` cargo feature of adapter-seaorm, which is off \
                 in this build"
            ),
            None => format!(
                "unsupported URL scheme {scheme:?}: adapter-seaorm serves postgres://, mysql:// \
                 or mariadb://, and sqlite: URLs"
            ),
        },
    )
}

/// Opens one connection directly, bounded by `timeout`, and closes it: a pool retries a
/// refused connection until its timeout and then reports only "pool timed out"; this keeps
/// the real cause.
async fn probe(url: &str, timeout: Duration) -> Result<(), AdapterError> {
    let op = Operation::Connect;
    let attempt = async {
        match scheme(url) {
            #[cfg(feature = "postgres")]
            "postgres" | "postgresql" => {
                use sea_orm::sqlx::{ConnectOptions as _, Connection as _};
                use std::str::FromStr;
                let options = sea_orm::sqlx::postgres::PgConnectOptions::from_str(url)?;
                options.connect().await?.close().await
            }
            #[cfg(feature = "mysql")]
            "mysql" => {
                use sea_orm::sqlx::{ConnectOptions as _, Connection as _};
                use std::str::FromStr;
                let options = sea_orm::sqlx::mysql::MySqlConnectOptions::from_str(url)?;
                options.connect().await?.close().await
            }
            // SQLite reports a file it cannot open at once, with its own error.
            _ => Ok(()),
        }
    };
    auth_core::bound::within(op, timeout, async {
        attempt.await.map_err(|err| error::map_sqlx(op, err))
    })
    .await
}

/// The name of a scheme's database, for messages.
fn database_of(scheme: &str) -> &'static str {
    match scheme {
        "postgres" | "postgresql" => "PostgreSQL",
        "mysql" | "mariadb" => "MySQL/MariaDB",
        _ => "SQLite",
    }
}

/// Reads `url` (`mariadb:` already spelled `mysql:`) with sqlx's own parser, the one
/// SeaORM opens its pool with: a URL it cannot read is `InvalidInput`, with sqlx's message
/// as the cause, before any I/O. `given` is the URL as the application wrote it.
fn read_url(given: &str, url: &str) -> Result<(), AdapterError> {
    use std::str::FromStr;
    let read: Result<(), sea_orm::sqlx::Error> = match scheme(url) {
        #[cfg(feature = "postgres")]
        "postgres" | "postgresql" => {
            sea_orm::sqlx::postgres::PgConnectOptions::from_str(url).map(drop)
        }
        #[cfg(feature = "mysql")]
        "mysql" => sea_orm::sqlx::mysql::MySqlConnectOptions::from_str(url).map(drop),
        #[cfg(feature = "sqlite")]
        "sqlite" => sea_orm::sqlx::sqlite::SqliteConnectOptions::from_str(url).map(drop),
        _ => Ok(()),
    };
    read.map_err(|err| {
        adapter_sqlx::errors::invalid_config(
            Operation::Connect,
            format!(
                "{} is not a {} URL sqlx can read",
                auth_core::redact_url(given),
                database_of(scheme(url))
            ),
            err,
        )
    })
}

/// Checks the URL (before any I/O), probes the server and opens the adapter's own pool.
async fn open(
    given: &str,
    options: &SeaOrmAdapterBuilder,
) -> Result<DatabaseConnection, AdapterError> {
    let url = match given.strip_prefix("mariadb:") {
        Some(rest) => format!("mysql:{rest}"),
        None => given.to_owned(),
    };
    // Each arm depends on a cargo feature, so with every feature on they look alike.
    #[allow(clippy::match_like_matches_macro)]
    let served = match scheme(&url) {
        "postgres" | "postgresql" => cfg!(feature = "postgres"),
        "mysql" => cfg!(feature = "mysql"),
        "sqlite" => cfg!(feature = "sqlite"),
        _ => false,
    };
    if !served {
        return Err(unsupported(scheme(given)));
    }
    read_url(given, &url)?;
    let timeout = options.call_timeout;
    probe(&url, timeout).await?;
    let max = options.max();
    let min = options.min_connections.unwrap_or(0);
    let mut connect = ConnectOptions::new(url.clone());
    connect
        .max_connections(max)
        .min_connections(Ord::min(min, max))
        .acquire_timeout(timeout)
        .connect_timeout(timeout)
        // sqlx pings every connection it hands out (one more round trip per call);
        // ping only one that sat idle long enough to have been dropped on the way.
        .test_before_acquire_if_idle_for(IDLE_BEFORE_PING)
        .sqlx_logging(false);
    #[cfg(feature = "sqlite")]
    if scheme(&url) == "sqlite" {
        use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
        let memory = is_sqlite_memory(&url);
        connect.map_sqlx_sqlite_opts(move |o| {
            let o = o.foreign_keys(true).busy_timeout(timeout);
            if memory {
                o
            } else {
                o.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
            }
        });
        if memory {
            // The database lives as long as one connection to it: keep one open and
            // never reap it.
            connect
                .min_connections(min.clamp(1, max))
                .idle_timeout(None::<Duration>)
                .max_lifetime(None::<Duration>);
        }
    }
    #[cfg(feature = "mysql")]
    if scheme(&url) == "mysql" {
        connect.map_sqlx_mysql_opts(|o| o.charset("utf8mb4").timezone(Some("+00:00".to_owned())));
    }
    Database::connect(connect).await.for_op(Operation::Connect)
}

/// The database behind a SeaORM connection: a MySQL-family server is asked for its
/// version.
async fn detect(db: &DatabaseConnection) -> Result<Dialect, AdapterError> {
    Ok(match db.get_database_backend() {
        DbBackend::Postgres => Dialect::Postgres,
        DbBackend::Sqlite => Dialect::Sqlite,
        backend => {
            let version = db
                .query_one_raw(Statement::from_string(
                    backend,
                    "SELECT VERSION() AS version",
                ))
                .await
                .for_op(Operation::Connect)?
                .map(|row| row.try_get::<String>("", "version"))
                .transpose()
                .for_op(Operation::Connect)?
                .unwrap_or_default();
            Dialect::from_mysql_version(&version)
        }
    })
}

/// The table prefix of the entities (adapter-sqlx's default).
const TABLE_PREFIX: &str = "auth_";

/// Runs `$body` with `$conn` bound to one sqlx connection of the adapter's pool (the
/// migrator needs one connection: it takes a lock and, on PostgreSQL and SQLite, a
/// transaction). A connection whose run failed is closed, not handed back.
macro_rules! with_sqlx_connection {
    ($adapter:expr, |$conn:ident| $body:expr) => {{
        let op = Operation::Migrate;
        match $adapter.db.get_database_backend() {
            #[cfg(feature = "postgres")]
            DbBackend::Postgres => {
                with_sqlx_connection!(@on $adapter.db.get_postgres_connection_pool(), op, |$conn| $body)
            }
            #[cfg(feature = "mysql")]
            DbBackend::MySql => {
                with_sqlx_connection!(@on $adapter.db.get_mysql_connection_pool(), op, |$conn| $body)
            }
            #[cfg(feature = "sqlite")]
            DbBackend::Sqlite => {
                with_sqlx_connection!(@on $adapter.db.get_sqlite_connection_pool(), op, |$conn| $body)
            }
            #[allow(unreachable_patterns)]
            other => Err(AdapterError::invalid_input(
                op,
                format!("{other:?} is not compiled into this build of adapter-seaorm"),
            )),
        }
    }};
    (@on $pool:expr, $op:expr, |$conn:ident| $body:expr) => {{
        let mut pooled = $pool.acquire().await.map_err(|e| error::map_sqlx($op, e))?;
        let result = {
            let $conn = &mut *pooled;
            $body
        };
        match result {
            Ok(value) => Ok(value),
            Err(err) => {
                drop(pooled.detach());
                Err(adapter_sqlx::errors::map_migrate(err))
            }
        }
    }};
}

impl SeaOrmAdapter {
    /// Connects with the default options (see [`SeaOrmAdapterBuilder`]): `postgres://…`,
    /// `mysql://…` / `mariadb://…` or `sqlite:…` (e.g. `sqlite://auth.db?mode=rwc`,
    /// `sqlite::memory:`).
    ///
    /// Errors: `InvalidInput` for a URL that cannot work (see
    /// [`SeaOrmAdapterBuilder::connect`]); ADAPTER_CONNECTION_ERROR when the database does
    /// not answer within the call timeout.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), auth_core::AdapterError> {
    /// let adapter = adapter_seaorm::SeaOrmAdapter::connect("sqlite::memory:").await?;
    /// adapter.migrate().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn connect(url: &str) -> Result<Self, AdapterError> {
        Self::builder(url).connect().await
    }

    /// Options for an adapter that opens its own pool on `url`: pool size and call
    /// timeout; then [`connect`](SeaOrmAdapterBuilder::connect).
    ///
    /// ```
    /// let builder = adapter_seaorm::SeaOrmAdapter::builder("sqlite::memory:").max_connections(4);
    /// # let _ = builder;
    /// ```
    pub fn builder(url: impl Into<String>) -> SeaOrmAdapterBuilder {
        SeaOrmAdapterBuilder::new(url)
    }

    /// Options for an adapter on a SeaORM connection the application already has (its
    /// pool is shared; the application keeps configuring it). The same builder as
    /// [`builder`](Self::builder): the call timeout applies (every call is bounded by it);
    /// `max_connections` and `min_connections` do not ([`connect`](SeaOrmAdapterBuilder::connect)
    /// refuses them with `InvalidInput`: configure the pool you pass instead). `connect`
    /// asks a MySQL-family server for its version; nothing else is sent.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let db = sea_orm::Database::connect("sqlite::memory:").await?;
    /// let adapter = adapter_seaorm::SeaOrmAdapter::from_pool(db)
    ///     .call_timeout(std::time::Duration::from_secs(2))
    ///     .connect()
    ///     .await?;
    /// adapter.migrate().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn from_pool(db: DatabaseConnection) -> SeaOrmAdapterBuilder {
        SeaOrmAdapterBuilder::adopting(db)
    }

    #[tracing::instrument(name = "connect", skip_all)]
    pub(crate) async fn connect_with(options: SeaOrmAdapterBuilder) -> Result<Self, AdapterError> {
        options.check()?;
        let timeout = options.call_timeout;
        let db = match &options.target {
            Target::Url(url) => open(url, &options).await?,
            Target::Pool(db) => db.clone(),
        };
        let ask = detect(&db);
        let dialect = auth_core::bound::within(Operation::Connect, timeout, ask).await?;
        tracing::debug!(dialect = dialect.name(), "connected");
        Ok(Self {
            db,
            dialect,
            call_timeout: timeout,
        })
    }

    /// Creates the tables, keys and indexes: the pending migrations of the schema shared
    /// with adapter-sqlx and adapter-diesel (the `auth-sql` crate), recorded in the shared
    /// history `auth_schema_migrations`, so a database one of the three crates migrated is
    /// current for the others. Runs on one connection of the pool, through the sqlx
    /// SeaORM is built on. Idempotent: data is kept.
    ///
    /// Errors: MIGRATION_ERROR (or ADAPTER_CONNECTION_ERROR).
    ///
    /// ```no_run
    /// # async fn run(adapter: adapter_seaorm::SeaOrmAdapter) -> Result<(), auth_core::AdapterError> {
    /// adapter.migrate().await?;
    /// adapter.migrate().await?; // harmless
    /// # Ok(())
    /// # }
    /// ```
    #[tracing::instrument(skip_all, fields(dialect = self.dialect.name()))]
    pub async fn migrate(&self) -> Result<(), AdapterError> {
        with_sqlx_connection!(self, |conn| auth_sql::schema::migrate(
            &mut adapter_sqlx::migrate::SqlxMigration(conn),
            self.dialect,
            TABLE_PREFIX,
        )
        .await
        .map(drop))
    }

    /// Where the database stands against the shared schema: the versions its history
    /// records and those [`migrate`](Self::migrate) would apply. Creates nothing.
    ///
    /// Errors: MIGRATION_ERROR when a newer version of the adapters migrated the database;
    /// ADAPTER_CONNECTION_ERROR.
    ///
    /// ```no_run
    /// # async fn run(adapter: adapter_seaorm::SeaOrmAdapter) -> Result<(), auth_core::AdapterError> {
    /// adapter.migrate().await?;
    /// assert!(adapter.schema_status().await?.is_current());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn schema_status(&self) -> Result<crate::SchemaStatus, AdapterError> {
        with_sqlx_connection!(self, |conn| auth_sql::schema::status(
            &mut adapter_sqlx::migrate::SqlxMigration(conn),
            self.dialect,
            TABLE_PREFIX,
        )
        .await)
    }

    /// The database this adapter talks to.
    ///
    /// ```no_run
    /// # async fn run(adapter: adapter_seaorm::SeaOrmAdapter) {
    /// println!("{}", adapter.dialect().name());
    /// # }
    /// ```
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The SeaORM connection, to share its pool with the rest of the application.
    ///
    /// ```no_run
    /// # async fn run(adapter: adapter_seaorm::SeaOrmAdapter) {
    /// let db: &sea_orm::DatabaseConnection = adapter.connection();
    /// # let _ = db;
    /// # }
    /// ```
    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Closes the pool (shared by every clone); calls afterwards fail with
    /// ADAPTER_CONNECTION_ERROR.
    ///
    /// ```no_run
    /// # async fn run(adapter: adapter_seaorm::SeaOrmAdapter) {
    /// adapter.close().await;
    /// # }
    /// ```
    pub async fn close(&self) {
        if let Err(err) = self.db.clone().close().await {
            tracing::debug!(error = %err, "closing the pool failed");
        }
    }

    fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    /// Runs one Store call (waiting for a pooled connection, connecting, the statements)
    /// within the adapter's call timeout, on every database: a statement on an open
    /// connection to a server that stopped answering would otherwise wait forever (sqlx
    /// has no read timeout), and a SQLite call waits for a lock up to the busy timeout on
    /// top of its wait for a connection. Past the timeout the call is dropped, and with it
    /// its connection (sqlx closes a server connection dropped mid-statement instead of
    /// returning it to the pool; a SQLite statement finishes on its worker thread first),
    /// and the call fails with ADAPTER_CONNECTION_ERROR.
    async fn bounded<T>(
        &self,
        op: Operation,
        call: impl AsyncFnOnce() -> AdapterResult<T>,
    ) -> AdapterResult<T> {
        auth_core::bound::within(op, self.call_timeout, call()).await
    }

    fn stamp(&self, at: DateTime<Utc>) -> sea_orm::Value {
        stamp::value(self.backend(), Some(at))
    }

    // ------------------------------------------------------------ rows to models

    fn user(&self, row: &QueryResult) -> Result<User, DbErr> {
        Ok(User {
            id: row.try_get("", "id")?,
            email: row.try_get("", "email")?,
            email_verified: stamp::get(self.backend(), row, "email_verified")?,
            name: row.try_get("", "name")?,
            image: row.try_get("", "image")?,
        })
    }

    fn session(&self, row: &QueryResult) -> Result<Session, DbErr> {
        Ok(Session {
            session_token: row.try_get("", "session_token")?,
            user_id: row.try_get("", "user_id")?,
            expires: stamp::get_required(self.backend(), row, "expires")?,
        })
    }

    fn token(&self, row: &QueryResult) -> Result<VerificationToken, DbErr> {
        Ok(VerificationToken {
            identifier: row.try_get("", "identifier")?,
            token: row.try_get("", "token")?,
            expires: stamp::get_required(self.backend(), row, "expires")?,
        })
    }

    /// Decodes rows with `decode`, mapping both layers of error for `op`.
    fn rows<T>(
        &self,
        op: Operation,
        rows: Vec<QueryResult>,
        decode: impl Fn(&Self, &QueryResult) -> Result<T, DbErr>,
    ) -> AdapterResult<Vec<T>> {
        rows.iter()
            .map(|row| decode(self, row).for_op(op))
            .collect()
    }

    fn row<T>(
        &self,
        op: Operation,
        row: Option<QueryResult>,
        decode: impl Fn(&Self, &QueryResult) -> Result<T, DbErr>,
    ) -> AdapterResult<Option<T>> {
        row.map(|row| decode(self, &row).for_op(op)).transpose()
    }

    // ------------------------------------------------------------ statements

    async fn one(
        &self,
        op: Operation,
        select: &SelectStatement,
    ) -> AdapterResult<Option<QueryResult>> {
        self.db.query_one(select).await.for_op(op)
    }

    async fn all(
        &self,
        op: Operation,
        select: &SelectStatement,
    ) -> AdapterResult<Vec<QueryResult>> {
        self.db.query_all(select).await.for_op(op)
    }

    /// Removes the row of `E` matching `key` and returns it: one `DELETE … RETURNING` where
    /// the database has it, else a locking read and the delete in one transaction.
    async fn take<E: EntityTrait + Default>(
        &self,
        op: Operation,
        key: Condition,
    ) -> AdapterResult<Option<QueryResult>> {
        let mut delete = Query::delete();
        delete.from_table(E::default()).cond_where(key.clone());
        match self.dialect {
            Dialect::Postgres | Dialect::Sqlite => {
                delete.returning_all();
                self.db.query_one(&delete).await.for_op(op)
            }
            dialect if dialect.delete_returning() => {
                // MariaDB: SeaQuery's MySQL writer has no RETURNING, the server has.
                let mut stmt = DbBackend::MySql.build(&delete);
                stmt.sql.push_str(" RETURNING *");
                self.db.query_one_raw(stmt).await.for_op(op)
            }
            _ => {
                let tx = self.db.begin().await.for_op(op)?;
                let select = Query::select()
                    .column(Asterisk)
                    .from(E::default())
                    .cond_where(key)
                    .lock(LockType::Update)
                    .to_owned();
                let row = tx.query_one(&select).await.for_op(op)?;
                if row.is_some() {
                    tx.execute(&delete).await.for_op(op)?;
                }
                tx.commit().await.for_op(op)?;
                Ok(row)
            }
        }
    }

    /// Sets `set` on the row of `E` matching `key` and `guard` and returns the row as
    /// stored: one `UPDATE … RETURNING` where the database has it, else a locking read, the
    /// update and a read in one transaction. `None` when no row matches (nothing changes).
    async fn change<E: EntityTrait + Default>(
        &self,
        op: Operation,
        set: Vec<(E::Column, Expr)>,
        key: Condition,
        guard: Option<Expr>,
    ) -> AdapterResult<Option<QueryResult>> {
        let matching = match guard.clone() {
            Some(guard) => key.clone().add(guard),
            None => key.clone(),
        };
        let select = |cond: Condition| {
            Query::select()
                .column(Asterisk)
                .from(E::default())
                .cond_where(cond)
                .to_owned()
        };
        if set.is_empty() {
            return self.one(op, &select(matching)).await;
        }
        if self.dialect.update_returning() {
            let mut update = Query::update();
            update
                .table(E::default())
                .values(set)
                .cond_where(matching)
                .returning_all();
            return self.db.query_one(&update).await.for_op(op);
        }
        let tx = self.db.begin().await.for_op(op)?;
        let current = tx
            .query_one(&select(matching).lock(LockType::Update).to_owned())
            .await
            .for_op(op)?;
        if current.is_none() {
            tx.commit().await.for_op(op)?;
            return Ok(None);
        }
        let mut update = Query::update();
        update
            .table(E::default())
            .values(set)
            .cond_where(key.clone());
        tx.execute(&update).await.for_op(op)?;
        let row = tx.query_one(&select(key)).await.for_op(op)?;
        tx.commit().await.for_op(op)?;
        Ok(row)
    }
}

fn account_model(account: accounts::Model) -> Result<Account, DbErr> {
    let account_type = account
        .account_type
        .parse()
        .map_err(|e| DbErr::Type(format!("the stored account type is unknown: {e}")))?;
    Ok(Account {
        user_id: account.user_id,
        account_type,
        provider: account.provider,
        provider_account_id: account.provider_account_id,
        refresh_token: account.refresh_token,
        access_token: account.access_token,
        expires_at: account.expires_at,
        token_type: account.token_type,
        scope: account.scope,
        id_token: account.id_token,
        session_state: account.session_state,
    })
}

fn authenticator_model(a: authenticators::Model) -> Authenticator {
    Authenticator {
        credential_id: a.credential_id,
        user_id: a.user_id,
        provider_account_id: a.provider_account_id,
        credential_public_key: a.credential_public_key,
        counter: a.counter,
        credential_device_type: a.credential_device_type,
        credential_backed_up: a.credential_backed_up,
        transports: a.transports,
    }
}

fn account_row(_: &SeaOrmAdapter, row: &QueryResult) -> Result<Account, DbErr> {
    account_model(accounts::Model::from_query_result(row, "")?)
}

fn authenticator_row(_: &SeaOrmAdapter, row: &QueryResult) -> Result<Authenticator, DbErr> {
    Ok(authenticator_model(
        authenticators::Model::from_query_result(row, "")?,
    ))
}

/// `SELECT * FROM <E> WHERE <cond>`.
fn select_where<E: EntityTrait + Default>(cond: impl IntoCondition) -> SelectStatement {
    Query::select()
        .column(Asterisk)
        .from(E::default())
        .cond_where(cond)
        .to_owned()
}

fn account_key(provider: &str, provider_account_id: &str) -> Condition {
    Condition::all()
        .add(accounts::Column::Provider.eq(provider))
        .add(accounts::Column::ProviderAccountId.eq(provider_account_id))
}

fn token_key(identifier: &str, token: &str) -> Condition {
    Condition::all()
        .add(verification_tokens::Column::Identifier.eq(identifier))
        .add(verification_tokens::Column::Token.eq(token))
}

fn text(value: Option<&str>) -> Expr {
    Expr::val(value.map(str::to_owned))
}

#[async_trait]
impl Store for SeaOrmAdapter {
    fn backend(&self) -> &'static str {
        self.dialect.name()
    }

    async fn insert_user(&self, user: &User, email_key: Option<&str>) -> AdapterResult<String> {
        self.bounded(Operation::CreateUser, async || {
            use users::Column as C;
            let insert = Query::insert()
                .into_table(users::Entity)
                .columns([
                    C::Id,
                    C::Email,
                    C::EmailNormalized,
                    C::EmailVerified,
                    C::Name,
                    C::Image,
                ])
                .values_panic([
                    Expr::val(user.id.as_str()),
                    text(user.email.as_deref()),
                    text(email_key),
                    Expr::val(stamp::value(self.backend(), user.email_verified)),
                    text(user.name.as_deref()),
                    text(user.image.as_deref()),
                ])
                .to_owned();
            self.db
                .execute(&insert)
                .await
                .for_op(Operation::CreateUser)?;
            Ok(user.id.clone())
        })
        .await
    }

    async fn find_user(&self, id: &str) -> AdapterResult<Option<User>> {
        self.bounded(Operation::GetUser, async || {
            let op = Operation::GetUser;
            let row = self
                .one(op, &select_where::<users::Entity>(users::Column::Id.eq(id)))
                .await?;
            self.row(op, row, Self::user)
        })
        .await
    }

    async fn find_user_by_email(&self, email_key: &str) -> AdapterResult<Option<User>> {
        self.bounded(Operation::GetUserByEmail, async || {
            let op = Operation::GetUserByEmail;
            let select =
                select_where::<users::Entity>(users::Column::EmailNormalized.eq(email_key));
            let row = self.one(op, &select).await?;
            self.row(op, row, Self::user)
        })
        .await
    }

    async fn find_user_by_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<User>> {
        self.bounded(Operation::GetUserByAccount, async || {
            let op = Operation::GetUserByAccount;
            let select = Query::select()
                .columns(users::Column::iter().map(|c| (users::Entity, c)))
                .from(accounts::Entity)
                .inner_join(
                    users::Entity,
                    Expr::col((users::Entity, users::Column::Id))
                        .equals((accounts::Entity, accounts::Column::UserId)),
                )
                .cond_where(account_key(provider, provider_account_id))
                .to_owned();
            let row = self.one(op, &select).await?;
            self.row(op, row, Self::user)
        })
        .await
    }

    async fn merge_user(
        &self,
        update: &UserUpdate,
        email_key: Option<Option<&str>>,
    ) -> AdapterResult<Option<User>> {
        self.bounded(Operation::UpdateUser, async || {
            use users::Column as C;
            let op = Operation::UpdateUser;
            let mut set = Vec::new();
            if let Some(email) = &update.email {
                set.push((C::Email, text(email.as_deref())));
            }
            if let Some(key) = email_key {
                set.push((C::EmailNormalized, text(key)));
            }
            if let Some(verified) = update.email_verified {
                set.push((
                    C::EmailVerified,
                    Expr::val(stamp::value(self.backend(), verified)),
                ));
            }
            if let Some(name) = &update.name {
                set.push((C::Name, text(name.as_deref())));
            }
            if let Some(image) = &update.image {
                set.push((C::Image, text(image.as_deref())));
            }
            let key = Condition::all().add(C::Id.eq(update.id.as_str()));
            let row = self.change::<users::Entity>(op, set, key, None).await?;
            self.row(op, row, Self::user)
        })
        .await
    }

    async fn remove_user(&self, id: &str) -> AdapterResult<Option<User>> {
        self.bounded(Operation::DeleteUser, async || {
            // One statement (a transaction on MySQL 8): the foreign keys cascade to the user's
            // accounts, sessions and authenticators, all or nothing.
            let op = Operation::DeleteUser;
            let key = Condition::all().add(users::Column::Id.eq(id));
            let row = self.take::<users::Entity>(op, key).await?;
            self.row(op, row, Self::user)
        })
        .await
    }

    async fn insert_account(&self, account: &Account) -> AdapterResult<()> {
        self.bounded(Operation::LinkAccount, async || {
            // The foreign key refuses an account of a missing (or concurrently deleted) user:
            // NotFound, and nothing stored.
            use accounts::Column as C;
            let a = account;
            let insert = Query::insert()
                .into_table(accounts::Entity)
                .columns([
                    C::UserId,
                    C::AccountType,
                    C::Provider,
                    C::ProviderAccountId,
                    C::RefreshToken,
                    C::AccessToken,
                    C::ExpiresAt,
                    C::TokenType,
                    C::Scope,
                    C::IdToken,
                    C::SessionState,
                ])
                .values_panic([
                    Expr::val(a.user_id.as_str()),
                    Expr::val(a.account_type.as_str()),
                    Expr::val(a.provider.as_str()),
                    Expr::val(a.provider_account_id.as_str()),
                    text(a.refresh_token.as_deref()),
                    text(a.access_token.as_deref()),
                    Expr::val(a.expires_at),
                    text(a.token_type.as_deref()),
                    text(a.scope.as_deref()),
                    text(a.id_token.as_deref()),
                    text(a.session_state.as_deref()),
                ])
                .to_owned();
            self.db
                .execute(&insert)
                .await
                .for_op(Operation::LinkAccount)?;
            Ok(())
        })
        .await
    }

    async fn remove_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<Account>> {
        self.bounded(Operation::UnlinkAccount, async || {
            let op = Operation::UnlinkAccount;
            let key = account_key(provider, provider_account_id);
            let row = self.take::<accounts::Entity>(op, key).await?;
            self.row(op, row, account_row)
        })
        .await
    }

    async fn find_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<Account>> {
        self.bounded(Operation::GetAccount, async || {
            let op = Operation::GetAccount;
            let select =
                select_where::<accounts::Entity>(account_key(provider, provider_account_id));
            let row = self.one(op, &select).await?;
            self.row(op, row, account_row)
        })
        .await
    }

    async fn replace_account_tokens(&self, account: &Account) -> AdapterResult<Option<Account>> {
        self.bounded(Operation::UpdateAccount, async || {
            use accounts::Column as C;
            let op = Operation::UpdateAccount;
            let a = account;
            let set = vec![
                (C::RefreshToken, text(a.refresh_token.as_deref())),
                (C::AccessToken, text(a.access_token.as_deref())),
                (C::ExpiresAt, Expr::val(a.expires_at)),
                (C::TokenType, text(a.token_type.as_deref())),
                (C::Scope, text(a.scope.as_deref())),
                (C::IdToken, text(a.id_token.as_deref())),
                (C::SessionState, text(a.session_state.as_deref())),
            ];
            let key = account_key(&a.provider, &a.provider_account_id);
            let row = self.change::<accounts::Entity>(op, set, key, None).await?;
            self.row(op, row, account_row)
        })
        .await
    }

    async fn find_accounts(&self, user_id: &str) -> AdapterResult<Vec<Account>> {
        self.bounded(Operation::ListAccounts, async || {
            let op = Operation::ListAccounts;
            let select = select_where::<accounts::Entity>(accounts::Column::UserId.eq(user_id));
            let rows = self.all(op, &select).await?;
            self.rows(op, rows, account_row)
        })
        .await
    }

    async fn insert_session(&self, session: &Session) -> AdapterResult<()> {
        self.bounded(Operation::CreateSession, async || {
            use sessions::Column as C;
            let insert = Query::insert()
                .into_table(sessions::Entity)
                .columns([C::SessionToken, C::UserId, C::Expires])
                .values_panic([
                    Expr::val(session.session_token.as_str()),
                    Expr::val(session.user_id.as_str()),
                    Expr::val(self.stamp(session.expires)),
                ])
                .to_owned();
            self.db
                .execute(&insert)
                .await
                .for_op(Operation::CreateSession)?;
            Ok(())
        })
        .await
    }

    async fn find_session_and_user(
        &self,
        session_token: &str,
        now: DateTime<Utc>,
    ) -> AdapterResult<Option<(Session, User)>> {
        self.bounded(Operation::GetSessionAndUser, async || {
            // The hot path: one statement, the session joined with its user, live only.
            let op = Operation::GetSessionAndUser;
            let select = Query::select()
                .columns(users::Column::iter().map(|c| (users::Entity, c)))
                .columns([
                    (sessions::Entity, sessions::Column::SessionToken),
                    (sessions::Entity, sessions::Column::UserId),
                    (sessions::Entity, sessions::Column::Expires),
                ])
                .from(sessions::Entity)
                .inner_join(
                    users::Entity,
                    Expr::col((users::Entity, users::Column::Id))
                        .equals((sessions::Entity, sessions::Column::UserId)),
                )
                .and_where(
                    Expr::col((sessions::Entity, sessions::Column::SessionToken)).eq(session_token),
                )
                .and_where(
                    Expr::col((sessions::Entity, sessions::Column::Expires)).gt(self.stamp(now)),
                )
                .to_owned();
            let row = self.one(op, &select).await?;
            self.row(op, row, |this, row| {
                Ok((this.session(row)?, this.user(row)?))
            })
        })
        .await
    }

    async fn change_session(
        &self,
        update: &SessionUpdate,
        now: DateTime<Utc>,
    ) -> AdapterResult<Option<Session>> {
        self.bounded(Operation::UpdateSession, async || {
            use sessions::Column as C;
            let op = Operation::UpdateSession;
            let mut set = Vec::new();
            if let Some(expires) = update.expires {
                set.push((C::Expires, Expr::val(self.stamp(expires))));
            }
            if let Some(user_id) = &update.user_id {
                set.push((C::UserId, Expr::val(user_id.as_str())));
            }
            let key = Condition::all().add(C::SessionToken.eq(update.session_token.as_str()));
            // Only a live session changes: an expired one is not revived.
            let live = Expr::col(C::Expires).gt(self.stamp(now));
            let row = self
                .change::<sessions::Entity>(op, set, key, Some(live))
                .await?;
            self.row(op, row, Self::session)
        })
        .await
    }

    async fn remove_session(&self, session_token: &str) -> AdapterResult<Option<Session>> {
        self.bounded(Operation::DeleteSession, async || {
            let op = Operation::DeleteSession;
            let key = Condition::all().add(sessions::Column::SessionToken.eq(session_token));
            let row = self.take::<sessions::Entity>(op, key).await?;
            self.row(op, row, Self::session)
        })
        .await
    }

    async fn find_sessions(
        &self,
        user_id: &str,
        now: DateTime<Utc>,
    ) -> AdapterResult<Vec<Session>> {
        self.bounded(Operation::ListSessions, async || {
            let op = Operation::ListSessions;
            let select = select_where::<sessions::Entity>(
                Condition::all()
                    .add(sessions::Column::UserId.eq(user_id))
                    .add(Expr::col(sessions::Column::Expires).gt(self.stamp(now))),
            );
            let rows = self.all(op, &select).await?;
            self.rows(op, rows, Self::session)
        })
        .await
    }

    async fn remove_sessions(&self, user_id: &str, now: DateTime<Utc>) -> AdapterResult<u64> {
        self.bounded(Operation::DeleteSessions, async || {
            // Only the live ones, so the count is exact; expired ones are left to the sweep.
            let delete = Query::delete()
                .from_table(sessions::Entity)
                .cond_where(
                    Condition::all()
                        .add(sessions::Column::UserId.eq(user_id))
                        .add(Expr::col(sessions::Column::Expires).gt(self.stamp(now))),
                )
                .to_owned();
            Ok(self
                .db
                .execute(&delete)
                .await
                .for_op(Operation::DeleteSessions)?
                .rows_affected())
        })
        .await
    }

    async fn insert_verification_token(&self, token: &VerificationToken) -> AdapterResult<()> {
        self.bounded(Operation::CreateVerificationToken, async || {
            use verification_tokens::Column as C;
            let insert = Query::insert()
                .into_table(verification_tokens::Entity)
                .columns([C::Identifier, C::Token, C::Expires])
                .values_panic([
                    Expr::val(token.identifier.as_str()),
                    Expr::val(token.token.as_str()),
                    Expr::val(self.stamp(token.expires)),
                ])
                .to_owned();
            self.db
                .execute(&insert)
                .await
                .for_op(Operation::CreateVerificationToken)?;
            Ok(())
        })
        .await
    }

    async fn take_verification_token(
        &self,
        identifier: &str,
        token: &str,
    ) -> AdapterResult<Option<VerificationToken>> {
        self.bounded(Operation::UseVerificationToken, async || {
            // Atomic take: of concurrent callers exactly one gets the row.
            let op = Operation::UseVerificationToken;
            let row = self
                .take::<verification_tokens::Entity>(op, token_key(identifier, token))
                .await?;
            self.row(op, row, Self::token)
        })
        .await
    }

    async fn insert_authenticator(&self, authenticator: &Authenticator) -> AdapterResult<()> {
        self.bounded(Operation::CreateAuthenticator, async || {
            use authenticators::Column as C;
            let a = authenticator;
            let insert = Query::insert()
                .into_table(authenticators::Entity)
                .columns([
                    C::CredentialId,
                    C::UserId,
                    C::ProviderAccountId,
                    C::CredentialPublicKey,
                    C::Counter,
                    C::CredentialDeviceType,
                    C::CredentialBackedUp,
                    C::Transports,
                ])
                .values_panic([
                    Expr::val(a.credential_id.as_str()),
                    Expr::val(a.user_id.as_str()),
                    Expr::val(a.provider_account_id.as_str()),
                    Expr::val(a.credential_public_key.as_str()),
                    Expr::val(a.counter),
                    Expr::val(a.credential_device_type.as_str()),
                    Expr::val(a.credential_backed_up),
                    text(a.transports.as_deref()),
                ])
                .to_owned();
            self.db
                .execute(&insert)
                .await
                .for_op(Operation::CreateAuthenticator)?;
            Ok(())
        })
        .await
    }

    async fn find_authenticator(
        &self,
        credential_id: &str,
    ) -> AdapterResult<Option<Authenticator>> {
        self.bounded(Operation::GetAuthenticator, async || {
            let op = Operation::GetAuthenticator;
            let select = select_where::<authenticators::Entity>(
                authenticators::Column::CredentialId.eq(credential_id),
            );
            let row = self.one(op, &select).await?;
            self.row(op, row, authenticator_row)
        })
        .await
    }

    async fn find_authenticators(&self, user_id: &str) -> AdapterResult<Vec<Authenticator>> {
        self.bounded(Operation::ListAuthenticators, async || {
            let op = Operation::ListAuthenticators;
            let select =
                select_where::<authenticators::Entity>(authenticators::Column::UserId.eq(user_id))
                    .order_by(authenticators::Column::CredentialId, Order::Asc)
                    .to_owned();
            let rows = self.all(op, &select).await?;
            self.rows(op, rows, authenticator_row)
        })
        .await
    }

    async fn set_authenticator_counter(
        &self,
        credential_id: &str,
        counter: i64,
    ) -> AdapterResult<Option<Authenticator>> {
        self.bounded(Operation::UpdateAuthenticatorCounter, async || {
            let op = Operation::UpdateAuthenticatorCounter;
            let set = vec![(authenticators::Column::Counter, Expr::val(counter))];
            let key = Condition::all().add(authenticators::Column::CredentialId.eq(credential_id));
            let row = self
                .change::<authenticators::Entity>(op, set, key, None)
                .await?;
            self.row(op, row, authenticator_row)
        })
        .await
    }

    async fn remove_authenticator(
        &self,
        credential_id: &str,
    ) -> AdapterResult<Option<Authenticator>> {
        self.bounded(Operation::DeleteAuthenticator, async || {
            let op = Operation::DeleteAuthenticator;
            let key = Condition::all().add(authenticators::Column::CredentialId.eq(credential_id));
            let row = self.take::<authenticators::Entity>(op, key).await?;
            self.row(op, row, authenticator_row)
        })
        .await
    }

    async fn remove_expired(&self, now: DateTime<Utc>) -> AdapterResult<ExpiredCounts> {
        self.bounded(Operation::DeleteExpired, async || {
            let op = Operation::DeleteExpired;
            let sessions = Query::delete()
                .from_table(sessions::Entity)
                .and_where(Expr::col(sessions::Column::Expires).lte(self.stamp(now)))
                .to_owned();
            let sessions = self.db.execute(&sessions).await.for_op(op)?.rows_affected();
            let tokens = Query::delete()
                .from_table(verification_tokens::Entity)
                .and_where(Expr::col(verification_tokens::Column::Expires).lte(self.stamp(now)))
                .to_owned();
            let verification_tokens = self
                .db
                .execute(&tokens)
                .await
                .map_err(|e| {
                    error::map(op, e).with_code(ErrorCode::DeleteVerificationRequestError)
                })?
                .rows_affected();
            Ok(ExpiredCounts {
                sessions,
                verification_tokens,
            })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scheme_whose_feature_is_off_names_the_feature() {
        let err = unsupported("postgresql");
        assert_eq!(err.kind(), auth_core::ErrorKind::InvalidInput);
        assert!(
            err.to_string().contains("`postgres` cargo feature"),
            "{err}"
        );
        assert!(unsupported("mariadb").to_string().contains("`mysql`"));
        assert!(unsupported("ftp")
            .to_string()
            .contains("unsupported URL scheme"));
    }

    #[test]
    fn schemes_and_memory_urls() {
        assert_eq!(scheme("postgres://u@h/db"), "postgres");
        assert_eq!(scheme("sqlite::memory:"), "sqlite");
        assert!(is_sqlite_memory(
            "sqlite:file:auth-1?mode=memory&cache=shared"
        ));
        assert!(!is_sqlite_memory("sqlite:///var/lib/app/auth.db?mode=rwc"));
    }
}
