//! [`DieselAdapterBuilder`]: pool size and timeout, then `connect`.

use std::time::Duration;

use auth_core::AdapterError;

use crate::adapter::DieselAdapter;

/// Pool size used when none is set.
pub const DEFAULT_MAX_CONNECTIONS: usize = 10;

/// Pool timeout used when none is set: the longest a call waits for a connection,
/// connecting included.
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// Options for [`DieselAdapter`], from [`DieselAdapter::builder`]. Setters never fail;
/// [`connect`](Self::connect) reports what is wrong (an unknown scheme, a feature that is
/// off, a server that does not answer).
///
/// ```no_run
/// use std::time::Duration;
/// use adapter_diesel::DieselAdapter;
///
/// # async fn run() -> Result<(), auth_core::AdapterError> {
/// let adapter = DieselAdapter::builder("sqlite://auth.db")
///     .max_connections(4)
///     .acquire_timeout(Duration::from_secs(2))
///     .connect()
///     .await?;
/// adapter.migrate().await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct DieselAdapterBuilder {
    pub(crate) url: String,
    pub(crate) max_connections: usize,
    pub(crate) acquire_timeout: Duration,
}

impl std::fmt::Debug for DieselAdapterBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DieselAdapterBuilder")
            .field("url", &auth_core::redact_url(&self.url))
            .field("max_connections", &self.max_connections)
            .field("acquire_timeout", &self.acquire_timeout)
            .finish()
    }
}

impl DieselAdapterBuilder {
    /// Options with the defaults: 10 connections, a 5 s pool timeout.
    ///
    /// ```
    /// let builder = adapter_diesel::DieselAdapterBuilder::new("sqlite::memory:");
    /// assert!(format!("{builder:?}").contains("max_connections: 10"));
    /// ```
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            acquire_timeout: DEFAULT_ACQUIRE_TIMEOUT,
        }
    }

    /// The most connections the pool opens (at least 1). An in-memory SQLite database
    /// always uses one connection (its shared cache would otherwise answer "table is
    /// locked" to concurrent writers).
    ///
    /// ```
    /// let builder = adapter_diesel::DieselAdapter::builder("sqlite::memory:").max_connections(0);
    /// assert!(format!("{builder:?}").contains("max_connections: 1"));
    /// ```
    pub fn max_connections(mut self, max: usize) -> Self {
        self.max_connections = max.max(1);
        self
    }

    /// How long a call may wait for a connection, connecting included; past it the call
    /// fails with ADAPTER_CONNECTION_ERROR. On PostgreSQL and MariaDB/MySQL it also bounds
    /// the whole call, statements included: a call the server does not answer within it
    /// (a paused or unreachable server) fails with ADAPTER_CONNECTION_ERROR, and its
    /// connection is closed rather than reused. On SQLite it is also the busy timeout.
    ///
    /// ```
    /// use std::time::Duration;
    /// let builder = adapter_diesel::DieselAdapter::builder("sqlite::memory:")
    ///     .acquire_timeout(Duration::from_millis(1500));
    /// assert!(format!("{builder:?}").contains("1.5s"));
    /// ```
    pub fn acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = timeout;
        self
    }

    /// Builds the pool and checks, within the pool timeout, that the database answers.
    ///
    /// Errors: ADAPTER_CONNECTION_ERROR (the driver's cause, e.g. "Connection refused", is
    /// the source); `InvalidInput` for a URL whose scheme is unknown or whose feature is off.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), auth_core::AdapterError> {
    /// let adapter = adapter_diesel::DieselAdapter::builder("postgres://postgres@127.0.0.1/app")
    ///     .connect()
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn connect(self) -> Result<DieselAdapter, AdapterError> {
        DieselAdapter::connect_with(self).await
    }
}
