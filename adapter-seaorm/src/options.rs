//! [`SeaOrmAdapterBuilder`]: pool size and acquire timeout.

use std::fmt;
use std::time::Duration;

use auth_core::AdapterError;

use crate::adapter::SeaOrmAdapter;

/// Pool size used when none is set.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 10;

/// Acquire timeout used when none is set: a dead server fails calls (and `connect`) within
/// it.
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// Options for [`SeaOrmAdapter`], from [`SeaOrmAdapter::builder`]. Setters never fail; a
/// URL that cannot be used is reported by [`connect`](Self::connect).
///
/// ```no_run
/// use std::time::Duration;
/// use adapter_seaorm::SeaOrmAdapter;
///
/// # async fn run() -> Result<(), auth_core::AdapterError> {
/// let adapter = SeaOrmAdapter::builder("postgres://postgres@127.0.0.1:5432/app")
///     .max_connections(20)
///     .acquire_timeout(Duration::from_secs(2))
///     .connect()
///     .await?;
/// adapter.migrate().await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct SeaOrmAdapterBuilder {
    pub(crate) url: String,
    pub(crate) max_connections: u32,
    pub(crate) min_connections: u32,
    pub(crate) acquire_timeout: Duration,
}

/// Shows the URL without its password.
impl fmt::Debug for SeaOrmAdapterBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SeaOrmAdapterBuilder")
            .field("url", &auth_core::redact_url(&self.url))
            .field("max_connections", &self.max_connections)
            .field("min_connections", &self.min_connections)
            .field("acquire_timeout", &self.acquire_timeout)
            .finish()
    }
}

impl SeaOrmAdapterBuilder {
    /// Options with the defaults: 10 connections, a 5 s acquire timeout.
    ///
    /// ```
    /// let b = adapter_seaorm::SeaOrmAdapterBuilder::new("postgres://app:secret@db/auth");
    /// assert!(!format!("{b:?}").contains("secret"));
    /// ```
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            min_connections: 0,
            acquire_timeout: DEFAULT_ACQUIRE_TIMEOUT,
        }
    }

    /// The most connections the pool opens (at least 1).
    ///
    /// ```
    /// let b = adapter_seaorm::SeaOrmAdapter::builder("sqlite::memory:").max_connections(4);
    /// # let _ = b;
    /// ```
    pub fn max_connections(mut self, max: u32) -> Self {
        self.max_connections = max.max(1);
        self
    }

    /// Connections the pool keeps open even when idle. In-memory SQLite databases always
    /// keep at least one, since the database lives only as long as a connection to it.
    ///
    /// ```
    /// let b = adapter_seaorm::SeaOrmAdapter::builder("sqlite::memory:").min_connections(2);
    /// # let _ = b;
    /// ```
    pub fn min_connections(mut self, min: u32) -> Self {
        self.min_connections = min;
        self
    }

    /// How long a call may wait for a connection, connecting included. When the database
    /// cannot be reached within it, calls (and [`connect`](Self::connect)) fail with
    /// ADAPTER_CONNECTION_ERROR. On PostgreSQL and MySQL/MariaDB it also bounds each
    /// whole call, statements included: a call the server does not answer within it (a
    /// paused or unreachable server) fails with ADAPTER_CONNECTION_ERROR and its connection
    /// is closed, not reused. On SQLite it is also the busy timeout.
    ///
    /// ```
    /// use std::time::Duration;
    /// let b = adapter_seaorm::SeaOrmAdapter::builder("sqlite::memory:")
    ///     .acquire_timeout(Duration::from_secs(1));
    /// # let _ = b;
    /// ```
    pub fn acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = timeout;
        self
    }

    /// Opens the pool after checking, with one direct connection bounded by the acquire
    /// timeout, that the database answers (so a refused connection is reported as such,
    /// not as a pool timeout), and detects the server.
    ///
    /// Errors: ADAPTER_CONNECTION_ERROR; `InvalidInput` for a URL scheme this build does
    /// not serve (naming the cargo feature that would).
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), auth_core::AdapterError> {
    /// let adapter = adapter_seaorm::SeaOrmAdapter::builder("sqlite::memory:").connect().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn connect(self) -> Result<SeaOrmAdapter, AdapterError> {
        SeaOrmAdapter::connect_with(self).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_keeps_what_it_is_given() {
        let b = SeaOrmAdapterBuilder::new("mysql://root:pw@h/db")
            .max_connections(0)
            .min_connections(3)
            .acquire_timeout(Duration::from_millis(1500));
        assert_eq!(b.max_connections, 1);
        assert_eq!(b.min_connections, 3);
        assert_eq!(b.acquire_timeout, Duration::from_millis(1500));
        assert!(!format!("{b:?}").contains("pw"));
    }
}
