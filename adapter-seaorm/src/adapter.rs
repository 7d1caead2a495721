//! [`SeaOrmAdapter`]: the type, its constructors and accessors. How it connects and
//! migrates is in `connect.rs`, its [`Store`](auth_core::Store) implementation in
//! `store.rs`.

use std::time::Duration;

use auth_core::AdapterError;
use sea_orm::DatabaseConnection;

use crate::options::SeaOrmAdapterBuilder;
use crate::Dialect;

/// The auth adapter on PostgreSQL, MySQL/MariaDB or SQLite through SeaORM, on the schema
/// and migration history the SQL crates share, with the prefix `auth_` (an app can switch
/// between the crates without a data migration). Cheap to clone: clones share the connection pool.
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
    pub(crate) db: DatabaseConnection,
    pub(crate) dialect: Dialect,
    /// Whether the server is a Galera node: write transactions then check that they are
    /// still open before they commit ([`SeaOrmAdapter::commit`]).
    pub(crate) galera: bool,
    /// The bound of every call on a server (see `SeaOrmAdapter::bounded`).
    pub(crate) call_timeout: Duration,
}

/// Shows the database kind only: no URL, no data.
impl std::fmt::Debug for SeaOrmAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeaOrmAdapter")
            .field("dialect", &self.dialect)
            .finish_non_exhaustive()
    }
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
    /// ADAPTER_CONNECTION_ERROR. Waits for the connections in use to come back, at most
    /// the call timeout: the pool is closed at once either way, and a connection still
    /// held past the wait closes when it is released. (Unbounded, one connection that was
    /// never handed back made this wait forever: seen on MariaDB 11.8 in 1 run of 3–6 of
    /// scenario 45, whose fixture teardown then hung.)
    ///
    /// ```no_run
    /// # async fn run(adapter: adapter_seaorm::SeaOrmAdapter) {
    /// adapter.close().await;
    /// # }
    /// ```
    pub async fn close(&self) {
        let closing = self.db.clone().close();
        match tokio::time::timeout(self.call_timeout, closing).await {
            Ok(Ok(())) => {}
            Ok(Err(err)) => tracing::debug!(error = %err, "closing the pool failed"),
            Err(_) => tracing::warn!(
                waited = ?self.call_timeout,
                "closing the pool: connections still in use after the wait; they close when released"
            ),
        }
    }
}
