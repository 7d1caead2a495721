//! The conformance wiring of adapter-sqlx (feature `conformance`): its backends as
//! `BackendSpec`s for the shared suite, each fixture on
//! a fresh database, file or in-memory database, and an inspector that reads the tables
//! with its own SQL. `tests/conformance.rs` runs them; the workspace CLI aggregates them.
//! adapter-diesel and adapter-seaorm reuse the set-up and the inspector: the tables are the
//! same.
//!
//! The adapter-sqlx backends: `postgres` and `mariadb` on servers (a fresh database per
//! scenario, dropped afterwards), and the embedded `sqlite-file` (a fresh temporary file)
//! and `sqlite-memory` (a fresh, uniquely named shared-cache in-memory database).
//!
//! The inspector reads the tables with its own pool and its own SQL, converting every
//! timestamp to epoch milliseconds in the database, so it checks what the adapter stored
//! independently of how the adapter decodes it.

pub mod authjs;
mod connect_checks;
pub mod contention;
mod decode;
pub mod replicated;
mod specs;
pub mod upgrade;

use std::marker::PhantomData;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use self::decode::{
    account_from, authenticator_from, session_from, user_from, user_records_from,
    verification_token_from, AccountTuple, AuthenticatorTuple, NativeUserTuple, SessionTuple,
    VerificationTokenTuple,
};
use crate::sqlx::{self, MySqlPool, PgPool, SqlitePool};
use crate::{Dialect, Layout, SqlxAdapter};
use async_trait::async_trait;
use auth_core::{
    normalize_email, Account, Adapter, AdapterError, Authenticator, Session, User,
    VerificationToken,
};

use adapter_conformance::harness::ContainerPlan;

pub use self::connect_checks::{
    adopted_pool_options_are_refused, causes, innermost, recovers_after_an_outage,
    refused_as_invalid, refused_at_once, TablesAdapterOptions,
};
pub use self::specs::{
    assert_table_specs, mariadb_spec, postgres_serializable_spec, postgres_spec, serializable_url,
    server_spec, specs, sqlite_file_spec, sqlite_memory_spec, sqlite_spec, BackendNames,
};
use adapter_conformance::{
    Backend, BoxError, Fixture, Inspector, StorageLocation, Unreachable, UserRecords,
};

/// The variable holding the PostgreSQL server URL (any database; the suite creates its own).
pub const POSTGRES_ENV: &str = "AUTH_TEST_POSTGRES_URL";
/// The variable holding the MariaDB (or MySQL) server URL.
pub const MARIADB_ENV: &str = "AUTH_TEST_MARIADB_URL";

/// The PostgreSQL server in a container (the registry's `postgres:16-alpine`, or the local
/// image `AUTH_TEST_POSTGRES_IMAGE` names, e.g. `auth-adapters/postgres:17`), with
/// password `postgres` (a local image may use trust authentication instead).
pub const POSTGRES_CONTAINER: ContainerPlan = ContainerPlan {
    image: "postgres",
    tag: "16-alpine",
    image_var: Some("AUTH_TEST_POSTGRES_IMAGE"),
    port: 5432,
    ready: "database system is ready to accept connections",
    // The image prints it once for its initialisation server, then for the real one; a
    // local image (no initialisation server) prints it once, after the same wait.
    ready_times: 1,
    env: &[("POSTGRES_PASSWORD", "postgres")],
    cmd: &[],
    init: &[],
    url: postgres_container_url,
};

/// The MariaDB server in a container (the registry's `mariadb:11`, or the local image
/// `AUTH_TEST_MARIADB_IMAGE` names): root without a password, database `test`.
pub const MARIADB_CONTAINER: ContainerPlan = ContainerPlan {
    image: "mariadb",
    tag: "11",
    image_var: Some("AUTH_TEST_MARIADB_IMAGE"),
    port: 3306,
    ready: "ready for connections",
    ready_times: 1,
    env: &[
        ("MARIADB_DATABASE", "test"),
        ("MARIADB_ALLOW_EMPTY_ROOT_PASSWORD", "1"),
    ],
    cmd: &[],
    init: &[],
    url: mariadb_container_url,
};

/// The call timeout of the adapters pointed at a dead server (scenario 28).
pub const UNREACHABLE_TIMEOUT: Duration = Duration::from_secs(2);
/// The call timeout of the fixtures' adapters.
pub const FIXTURE_TIMEOUT: Duration = Duration::from_secs(20);
/// The pool size of the fixtures' adapters (and of `bench`'s raw floor, like for like).
pub const FIXTURE_CONNECTIONS: u32 = 8;

/// An adapter on the adapter-sqlx tables (prefix `auth_`): adapter-sqlx itself, or
/// adapter-diesel, which shares the schema. The set-up code and the inspector of this
/// module serve every such adapter.
#[async_trait]
pub trait TablesAdapter: Adapter + Clone + Sized + 'static {
    /// Connects to `url` with the fixtures' options and migrates.
    async fn open_migrated(url: &str) -> Result<Self, BoxError>;
    /// Connects to a `url` that refuses, with [`UNREACHABLE_TIMEOUT`].
    async fn open_unreachable(url: String) -> Result<Self, AdapterError>;
    /// The database, for the inspector's SQL.
    fn dialect(&self) -> Dialect;
    /// The table prefix.
    fn table_prefix(&self) -> &str;
    /// The adapter's own `migrate()`.
    async fn migrate(&self) -> Result<(), AdapterError>;
    /// Closes the adapter's pool.
    async fn close(&self);
}

#[async_trait]
impl TablesAdapter for SqlxAdapter {
    async fn open_migrated(url: &str) -> Result<Self, BoxError> {
        open_migrated_on(Layout::Native, url).await
    }
    async fn open_unreachable(url: String) -> Result<Self, AdapterError> {
        SqlxAdapter::builder(url)
            .call_timeout(UNREACHABLE_TIMEOUT)
            .connect()
            .await
    }
    fn dialect(&self) -> Dialect {
        SqlxAdapter::dialect(self)
    }
    fn table_prefix(&self) -> &str {
        SqlxAdapter::table_prefix(self)
    }
    async fn migrate(&self) -> Result<(), AdapterError> {
        SqlxAdapter::migrate(self).await
    }
    async fn close(&self) {
        SqlxAdapter::close(self).await
    }
}

// ---------------------------------------------------------------- containers

/// The URL of the server in a `postgres` container started by testcontainers-modules
/// (user, password and database `postgres`).
///
/// ```
/// use adapter_sqlx::conformance::postgres_container_url;
/// assert_eq!(
///     postgres_container_url("localhost", 49153),
///     "postgres://postgres:postgres@localhost:49153/postgres"
/// );
/// ```
pub fn postgres_container_url(host: &str, port: u16) -> String {
    format!("postgres://postgres:postgres@{host}:{port}/postgres")
}

/// The URL of the server in a `mariadb` container started by testcontainers-modules
/// (root without password, database `test`).
///
/// ```
/// use adapter_sqlx::conformance::mariadb_container_url;
/// assert_eq!(mariadb_container_url("localhost", 49154), "mysql://root@localhost:49154/test");
/// ```
pub fn mariadb_container_url(host: &str, port: u16) -> String {
    format!("mysql://root@{host}:{port}/test")
}

// ---------------------------------------------------------------- server backends

/// Which server a [`ServerBackend`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Server {
    /// PostgreSQL.
    Postgres,
    /// MariaDB or MySQL.
    MariaDb,
}

/// The server URL with its database replaced by `database` (query string kept).
///
/// ```
/// use adapter_sqlx::conformance::database_url;
/// assert_eq!(
///     database_url("postgres://postgres@127.0.0.1:5432/postgres", "auth_test_1").unwrap(),
///     "postgres://postgres@127.0.0.1:5432/auth_test_1"
/// );
/// assert_eq!(
///     database_url("mysql://root:pw@db:3306?ssl-mode=disabled", "t").unwrap(),
///     "mysql://root:pw@db:3306/t?ssl-mode=disabled"
/// );
/// assert!(database_url("no scheme", "t").is_err());
/// ```
pub fn database_url(server_url: &str, database: &str) -> Result<String, BoxError> {
    let (scheme, rest) = server_url
        .split_once("://")
        .ok_or_else(|| format!("{server_url:?} is not a URL with a scheme"))?;
    let (path, query) = match rest.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (rest, None),
    };
    let authority = path.split('/').next().unwrap_or_default();
    if authority.is_empty() {
        return Err(format!("{server_url:?} has no host").into());
    }
    Ok(match query {
        Some(query) => format!("{scheme}://{authority}/{database}?{query}"),
        None => format!("{scheme}://{authority}/{database}"),
    })
}

/// A fresh database name: `auth_test_` and 32 hex digits.
pub fn fresh_database_name() -> String {
    format!("auth_test_{}", uuid::Uuid::now_v7().simple())
}

/// A raw pool on one database, for the inspector and the admin connection.
#[derive(Debug, Clone)]
pub enum RawPool {
    /// A PostgreSQL pool.
    Postgres(PgPool),
    /// A MariaDB or MySQL pool.
    MySql(MySqlPool),
    /// A SQLite pool.
    Sqlite(SqlitePool),
}

/// Runs `$body` with `$pool` bound to the concrete pool of a [`RawPool`].
macro_rules! on_raw {
    ($raw:expr, |$pool:ident| $body:expr) => {
        match $raw {
            RawPool::Postgres($pool) => $body,
            RawPool::MySql($pool) => $body,
            RawPool::Sqlite($pool) => $body,
        }
    };
}
pub(crate) use on_raw;

impl RawPool {
    /// A small pool (two connections) on `url`.
    pub async fn connect(server: Server, url: &str) -> Result<Self, BoxError> {
        let (max, timeout) = (2, FIXTURE_TIMEOUT);
        Ok(match server {
            Server::Postgres => RawPool::Postgres(
                sqlx::postgres::PgPoolOptions::new()
                    .max_connections(max)
                    .acquire_timeout(timeout)
                    .connect(url)
                    .await?,
            ),
            Server::MariaDb => RawPool::MySql(
                sqlx::mysql::MySqlPoolOptions::new()
                    .max_connections(max)
                    .acquire_timeout(timeout)
                    .connect(url)
                    .await?,
            ),
        })
    }

    /// Closes the pool.
    pub async fn close(&self) {
        on_raw!(self, |pool| pool.close().await)
    }

    /// Every value of the one text column `sql` selects, as stored.
    pub(crate) async fn column_values(
        &self,
        sql: sqlx::AssertSqlSafe<String>,
    ) -> Result<Vec<String>, BoxError> {
        Ok(on_raw!(self, |pool| sqlx::query_scalar(sql)
            .fetch_all(pool)
            .await?))
    }

    /// Runs `sql` (one or more statements, no result rows).
    pub async fn execute(&self, sql: String) -> Result<(), BoxError> {
        on_raw!(self, |pool| {
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                .execute(pool)
                .await?;
        });
        Ok(())
    }
}

/// What opens a fixture's adapter on a fresh database's URL.
pub type OpenFuture<A> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<A, BoxError>> + Send>>;

/// The usual opener: [`TablesAdapter::open_migrated`].
fn open_migrated<A: TablesAdapter>(url: String) -> OpenFuture<A> {
    Box::pin(async move { A::open_migrated(&url).await })
}

/// What opens each fixture's adapter on its fresh database's URL.
pub type Opener<A> = Arc<dyn Fn(String) -> OpenFuture<A> + Send + Sync>;

/// Hands out a fresh database per scenario on one server, through one admin pool.
pub struct ServerBackend<A> {
    server: Server,
    url: String,
    admin: RawPool,
    open: Opener<A>,
    adapter: PhantomData<fn() -> A>,
}

/// Shows the server and its admin pool; not the URL (it may hold a password).
impl<A> std::fmt::Debug for ServerBackend<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerBackend")
            .field("server", &self.server)
            .field("admin", &self.admin)
            .finish_non_exhaustive()
    }
}

impl<A: TablesAdapter> ServerBackend<A> {
    /// The backend on the server at `url`, with its admin pool open.
    pub async fn open(server: Server, url: Option<String>) -> Result<Arc<dyn Backend>, BoxError> {
        Self::open_with(server, url, open_migrated::<A>).await
    }

    /// [`open`](Self::open), each fixture's adapter opened by `open` on its fresh database
    /// (the upgrade backends build an older schema first; the replicated backends add the
    /// other servers' URLs).
    pub async fn open_with(
        server: Server,
        url: Option<String>,
        open: impl Fn(String) -> OpenFuture<A> + Send + Sync + 'static,
    ) -> Result<Arc<dyn Backend>, BoxError> {
        let url = url.ok_or("a server backend needs a URL")?;
        let admin = RawPool::connect(server, &url).await?;
        Ok(Arc::new(Self {
            server,
            url,
            admin,
            open: Arc::new(open),
            adapter: PhantomData,
        }))
    }

    /// Drops the fixture database `name` (forcing its connections off on PostgreSQL).
    pub async fn drop_database(
        admin: &RawPool,
        server: Server,
        name: &str,
    ) -> Result<(), BoxError> {
        // The name is `auth_test_` and hex digits: nothing to quote.
        admin
            .execute(match server {
                Server::Postgres => format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                Server::MariaDb => format!("DROP DATABASE IF EXISTS {name}"),
            })
            .await
    }

    async fn set_up(&self, name: &str) -> Result<Fixture, BoxError> {
        let url = database_url(&self.url, name)?;
        let adapter = (self.open)(url.clone()).await?;
        let raw = RawPool::connect(self.server, &url).await?;
        Ok(fixture(
            adapter,
            raw,
            Namespace::Database {
                admin: self.admin.clone(),
                server: self.server,
                name: name.to_owned(),
            },
            url,
        ))
    }
}

#[async_trait]
impl<A: TablesAdapter> Backend for ServerBackend<A> {
    async fn fixture(&self) -> Result<Fixture, BoxError> {
        let name = fresh_database_name();
        self.admin
            .execute(format!("CREATE DATABASE {name}"))
            .await?;
        match self.set_up(&name).await {
            Ok(fixture) => Ok(fixture),
            Err(err) => {
                if let Err(drop_err) = Self::drop_database(&self.admin, self.server, &name).await {
                    tracing::warn!(%name, "could not drop a half-made fixture database: {drop_err}");
                }
                Err(err)
            }
        }
    }
}

// ---------------------------------------------------------------- SQLite backends

/// Hands out a fresh SQLite database per scenario: a file in a fresh temporary
/// directory, or a uniquely named shared-cache in-memory database.
#[derive(Debug, Clone, Copy)]
pub struct SqliteBackend<A> {
    memory: bool,
    open: fn(String) -> OpenFuture<A>,
    adapter: PhantomData<fn() -> A>,
}

impl<A: TablesAdapter> SqliteBackend<A> {
    /// A file backend, or an in-memory one.
    pub fn open(memory: bool) -> Arc<dyn Backend> {
        Self::open_with(memory, open_migrated::<A>)
    }

    /// [`open`](Self::open), each fixture's adapter opened by `open` on its fresh database.
    pub fn open_with(memory: bool, open: fn(String) -> OpenFuture<A>) -> Arc<dyn Backend> {
        Arc::new(Self {
            memory,
            open,
            adapter: PhantomData,
        })
    }
}

/// The URL of a fresh shared-cache in-memory database, kept alive by the adapter's pool.
///
/// ```
/// use adapter_sqlx::conformance::sqlite_memory_url;
/// let url = sqlite_memory_url("x1");
/// assert_eq!(url, "sqlite:file:auth-x1?mode=memory&cache=shared");
/// ```
pub fn sqlite_memory_url(unique: &str) -> String {
    format!("sqlite:file:auth-{unique}?mode=memory&cache=shared")
}

/// A pool on the SQLite database at `url`, with foreign keys on and a busy timeout.
pub async fn sqlite_pool(url: &str) -> Result<SqlitePool, BoxError> {
    use std::str::FromStr;
    let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)?
        .busy_timeout(FIXTURE_TIMEOUT)
        .foreign_keys(true);
    Ok(sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(2)
        .acquire_timeout(FIXTURE_TIMEOUT)
        .connect_with(options)
        .await?)
}

#[async_trait]
impl<A: TablesAdapter> Backend for SqliteBackend<A> {
    async fn fixture(&self) -> Result<Fixture, BoxError> {
        let unique = uuid::Uuid::now_v7().simple().to_string();
        let (url, namespace) = if self.memory {
            (sqlite_memory_url(&unique), Namespace::Memory)
        } else {
            let dir = std::env::temp_dir().join(format!("auth-sqlx-{unique}"));
            std::fs::create_dir_all(&dir)?;
            let path = dir.join("auth.db");
            (
                format!("sqlite://{}?mode=rwc", path.display()),
                Namespace::Directory(dir),
            )
        };
        let set_up = async {
            let adapter = (self.open)(url.clone()).await?;
            let raw = RawPool::Sqlite(sqlite_pool(&url).await?);
            Ok::<_, BoxError>((adapter, raw))
        };
        match set_up.await {
            Ok((adapter, raw)) => Ok(fixture(adapter, raw, namespace, url)),
            Err(err) => {
                if let Namespace::Directory(dir) = &namespace {
                    let _ = std::fs::remove_dir_all(dir);
                }
                Err(err)
            }
        }
    }
}

// ---------------------------------------------------------------- the inspectors

/// `text` with its `?` placeholders numbered `$1`, `$2`, … as PostgreSQL wants them.
pub(crate) fn numbered_placeholders(text: &str) -> String {
    let mut n = 0;
    text.chars()
        .map(|c| {
            if c == '?' {
                n += 1;
                format!("${n}")
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Connects a fixture's adapter on `layout` to `url`, with the fixtures' options, and
/// migrates.
pub(crate) async fn open_migrated_on(layout: Layout, url: &str) -> Result<SqlxAdapter, BoxError> {
    let adapter = SqlxAdapter::builder(url)
        .layout(layout)
        .max_connections(FIXTURE_CONNECTIONS)
        .call_timeout(FIXTURE_TIMEOUT)
        .connect()
        .await?;
    adapter.migrate().await?;
    Ok(adapter)
}

/// A SQLite URL of a file in a directory that does not exist: it cannot be opened.
pub(crate) fn missing_sqlite_url() -> String {
    let dir = std::env::temp_dir().join(format!(
        "auth-sqlx-missing-{}",
        uuid::Uuid::now_v7().simple()
    ));
    format!("sqlite://{}?mode=rwc", dir.join("auth.db").display())
}

/// A URL of `server`'s kind on a port where nothing listens.
pub(crate) fn dead_server_url(server: Server) -> String {
    let port = adapter_conformance::harness::dead_port();
    match server {
        Server::Postgres => format!("postgres://postgres@127.0.0.1:{port}/postgres"),
        Server::MariaDb => format!("mysql://root@127.0.0.1:{port}/test"),
    }
}

/// What an inspector hands scenario 28: the adapter pointed at a dead server, or why it
/// could not even be built.
pub(crate) fn unreachable_from<A: Adapter + 'static>(
    adapter: Result<A, AdapterError>,
) -> Unreachable {
    Unreachable {
        timeout: UNREACHABLE_TIMEOUT,
        adapter: adapter.map(|adapter| Arc::new(adapter) as Arc<dyn Adapter>),
    }
}

/// What a fixture's teardown removes.
#[derive(Debug)]
pub enum Namespace {
    /// A database on a server, dropped through the admin pool.
    Database {
        /// The pool on the server's admin database.
        admin: RawPool,
        /// Which server.
        server: Server,
        /// The fixture database's name.
        name: String,
    },
    /// A temporary directory holding the SQLite file (and its WAL).
    Directory(PathBuf),
    /// A shared-cache in-memory database: gone when its last connection closes.
    Memory,
}

fn fixture<A: TablesAdapter>(
    adapter: A,
    raw: RawPool,
    namespace: Namespace,
    url: String,
) -> Fixture {
    Fixture {
        adapter: Arc::new(adapter.clone()),
        inspector: Box::new(SqlxInspector {
            adapter,
            raw,
            namespace,
            url,
        }),
    }
}

/// Reads an adapter-sqlx database with plain SQL.
#[derive(Debug)]
pub struct SqlxInspector<A> {
    /// The adapter under test (for its dialect, prefix and `migrate`).
    pub adapter: A,
    /// The inspector's own pool on the fixture's database.
    pub raw: RawPool,
    /// What teardown removes.
    pub namespace: Namespace,
    /// The fixture database's URL, for `bench`'s raw floor.
    pub url: String,
}

/// The extra column as JSON text (PostgreSQL's `jsonb` cast; the others store text).
fn extra_text(dialect: Dialect) -> &'static str {
    if dialect == Dialect::Postgres {
        "extra::text"
    } else {
        "extra"
    }
}

/// An instant as epoch milliseconds, computed by the database itself.
fn millis(dialect: Dialect, column: &str) -> String {
    match dialect {
        Dialect::Postgres => format!("(EXTRACT(EPOCH FROM {column}) * 1000)::BIGINT"),
        Dialect::Sqlite => column.to_owned(),
        _ => format!(
            "CAST(TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', {column}) DIV 1000 AS SIGNED)"
        ),
    }
}

const ACCOUNT_COLUMNS: &str = "user_id, account_type, provider, provider_account_id, \
     refresh_token, access_token, expires_at, token_type, scope, id_token, session_state, \
     {extra}";
/// The text columns of the accounts table, for [`Inspector::dump`].
const ACCOUNT_TEXT_COLUMNS: &str = "user_id, account_type, provider, provider_account_id, \
     refresh_token, access_token, token_type, scope, id_token, session_state";
const AUTHENTICATOR_COLUMNS: &str = "credential_id, user_id, provider_account_id, \
     credential_public_key, counter, credential_device_type, credential_backed_up, transports";

impl<A: TablesAdapter> SqlxInspector<A> {
    /// Prefix applied, `?` numbered on PostgreSQL.
    fn sql(&self, template: &str) -> String {
        let dialect = self.adapter.dialect();
        let text = template
            .replace("{p}", self.adapter.table_prefix())
            .replace("{expires}", &millis(dialect, "expires"))
            .replace("{email_verified}", &millis(dialect, "email_verified"))
            .replace("{extra}", extra_text(dialect));
        if dialect != Dialect::Postgres {
            return text;
        }
        numbered_placeholders(&text)
    }
}

#[async_trait]
impl<A: TablesAdapter> Inspector for SqlxInspector<A> {
    async fn stored_user(&self, id: &str) -> Result<Option<User>, BoxError> {
        let sql = sqlx::AssertSqlSafe(self.sql(
            "SELECT id, email, email_normalized, {email_verified}, name, image, {extra} \
             FROM {p}users WHERE id = ?",
        ));
        let row: Option<NativeUserTuple> = on_raw!(&self.raw, |pool| {
            sqlx::query_as(sql).bind(id).fetch_optional(pool).await?
        });
        let Some((id, email, normalized, verified, name, image, extra)) = row else {
            return Ok(None);
        };
        let expected = email.as_deref().map(normalize_email);
        if normalized != expected {
            return Err(format!(
                "user {id:?}: email_normalized is {normalized:?}, not {expected:?}"
            )
            .into());
        }
        user_from((id, email, verified, name, image, extra)).map(Some)
    }

    async fn stored_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> Result<Option<Account>, BoxError> {
        let sql = sqlx::AssertSqlSafe(self.sql(&format!(
            "SELECT {ACCOUNT_COLUMNS} FROM {{p}}accounts \
             WHERE provider = ? AND provider_account_id = ?"
        )));
        let row: Option<AccountTuple<String>> = on_raw!(&self.raw, |pool| {
            sqlx::query_as(sql)
                .bind(provider)
                .bind(provider_account_id)
                .fetch_optional(pool)
                .await?
        });
        row.map(account_from).transpose()
    }

    async fn stored_session(&self, session_token: &str) -> Result<Option<Session>, BoxError> {
        let sql = sqlx::AssertSqlSafe(self.sql(
            "SELECT session_token, user_id, {expires}, {extra} FROM {p}sessions \
             WHERE session_token = ?",
        ));
        let row: Option<SessionTuple<String>> = on_raw!(&self.raw, |pool| {
            sqlx::query_as(sql)
                .bind(session_token)
                .fetch_optional(pool)
                .await?
        });
        row.map(session_from).transpose()
    }

    async fn stored_verification_token(
        &self,
        identifier: &str,
        token: &str,
    ) -> Result<Option<VerificationToken>, BoxError> {
        let sql = sqlx::AssertSqlSafe(self.sql(
            "SELECT identifier, token, {expires} FROM {p}verification_tokens \
             WHERE identifier = ? AND token = ?",
        ));
        let row: Option<VerificationTokenTuple> = on_raw!(&self.raw, |pool| {
            sqlx::query_as(sql)
                .bind(identifier)
                .bind(token)
                .fetch_optional(pool)
                .await?
        });
        row.map(verification_token_from).transpose()
    }

    async fn stored_authenticator(
        &self,
        credential_id: &str,
    ) -> Result<Option<Authenticator>, BoxError> {
        let sql = sqlx::AssertSqlSafe(self.sql(&format!(
            "SELECT {AUTHENTICATOR_COLUMNS} FROM {{p}}authenticators WHERE credential_id = ?"
        )));
        let row: Option<AuthenticatorTuple<String>> = on_raw!(&self.raw, |pool| {
            sqlx::query_as(sql)
                .bind(credential_id)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(authenticator_from))
    }

    async fn records_of_user(&self, user_id: &str) -> Result<UserRecords, BoxError> {
        let accounts_sql = sqlx::AssertSqlSafe(self.sql(&format!(
            "SELECT {ACCOUNT_COLUMNS} FROM {{p}}accounts WHERE user_id = ?"
        )));
        let accounts: Vec<AccountTuple<String>> = on_raw!(&self.raw, |pool| {
            sqlx::query_as(accounts_sql)
                .bind(user_id)
                .fetch_all(pool)
                .await?
        });
        let sessions_sql = sqlx::AssertSqlSafe(self.sql(
            "SELECT session_token, user_id, {expires}, {extra} FROM {p}sessions \
                 WHERE user_id = ?",
        ));
        let sessions: Vec<SessionTuple<String>> = on_raw!(&self.raw, |pool| {
            sqlx::query_as(sessions_sql)
                .bind(user_id)
                .fetch_all(pool)
                .await?
        });
        let authenticators_sql = sqlx::AssertSqlSafe(self.sql(&format!(
            "SELECT {AUTHENTICATOR_COLUMNS} FROM {{p}}authenticators WHERE user_id = ?"
        )));
        let authenticators: Vec<AuthenticatorTuple<String>> = on_raw!(&self.raw, |pool| {
            sqlx::query_as(authenticators_sql)
                .bind(user_id)
                .fetch_all(pool)
                .await?
        });
        user_records_from(accounts, sessions, authenticators)
    }

    async fn dump(&self) -> Result<Vec<String>, BoxError> {
        // Every text column of every table, read as stored.
        const TABLES: [(&str, &str); 5] = [
            ("users", "id, email, email_normalized, name, image"),
            ("accounts", ACCOUNT_TEXT_COLUMNS),
            ("sessions", "session_token, user_id"),
            ("verification_tokens", "identifier, token"),
            (
                "authenticators",
                "credential_id, user_id, provider_account_id, credential_public_key, \
                 credential_device_type, transports",
            ),
        ];
        let mut out = Vec::new();
        for (table, columns) in TABLES {
            for column in columns.split(", ") {
                let sql = sqlx::AssertSqlSafe(self.sql(&format!(
                    "SELECT {column} FROM {{p}}{table} WHERE {column} IS NOT NULL"
                )));
                out.extend(self.raw.column_values(sql).await?);
            }
        }
        Ok(out)
    }

    async fn migrate(&self) -> Result<(), AdapterError> {
        self.adapter.migrate().await
    }

    async fn unreachable(&self) -> Unreachable {
        let url = match self.adapter.dialect() {
            Dialect::Postgres => dead_server_url(Server::Postgres),
            Dialect::Sqlite => missing_sqlite_url(),
            _ => dead_server_url(Server::MariaDb),
        };
        unreachable_from(A::open_unreachable(url).await)
    }

    async fn teardown(&self) -> Result<(), BoxError> {
        self.adapter.close().await;
        self.raw.close().await;
        match &self.namespace {
            Namespace::Database {
                admin,
                server,
                name,
            } => ServerBackend::<A>::drop_database(admin, *server, name).await,
            Namespace::Directory(dir) => Ok(std::fs::remove_dir_all(dir)?),
            Namespace::Memory => Ok(()),
        }
    }

    fn location(&self) -> Option<StorageLocation> {
        Some(StorageLocation {
            url: self.url.clone(),
            namespace: self.adapter.table_prefix().to_owned(),
            connections: FIXTURE_CONNECTIONS as usize,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_urls_point_at_the_mapped_port() {
        assert_eq!(
            postgres_container_url("127.0.0.1", 32768),
            "postgres://postgres:postgres@127.0.0.1:32768/postgres"
        );
        assert_eq!(
            mariadb_container_url("docker.local", 32769),
            "mysql://root@docker.local:32769/test"
        );
        assert_eq!(
            (POSTGRES_CONTAINER.image, POSTGRES_CONTAINER.tag),
            ("postgres", "16-alpine")
        );
        assert_eq!(
            (MARIADB_CONTAINER.image, MARIADB_CONTAINER.tag),
            ("mariadb", "11")
        );
    }

    #[test]
    fn fixture_databases_get_fresh_names_on_the_same_server() {
        let a = fresh_database_name();
        let b = fresh_database_name();
        assert_ne!(a, b);
        assert!(a.len() <= 63 && a.starts_with("auth_test_"));
        assert!(a
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'));
        assert_eq!(
            database_url("postgres://postgres@127.0.0.1:5432/postgres", &a).ok(),
            Some(format!("postgres://postgres@127.0.0.1:5432/{a}"))
        );
        assert_eq!(
            database_url("mysql://root@127.0.0.1:3306", "x")
                .ok()
                .as_deref(),
            Some("mysql://root@127.0.0.1:3306/x")
        );
        assert!(database_url("mysql:///x", "y").is_err());
    }

    #[test]
    fn specs_are_named_as_documented() {
        assert_table_specs(
            ["postgres", "mariadb", "sqlite-file", "sqlite-memory"],
            &specs(),
        );
    }
}
