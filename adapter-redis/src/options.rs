//! [`RedisAdapterBuilder`]: the key prefix, the timeouts and the reconnect behaviour.

use std::time::Duration;

use auth_core::{AdapterResult, Operation};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::adapter::RedisAdapter;
use crate::error;
use crate::keys::KeyLayout;

/// Default time to open a connection.
pub const DEFAULT_CONNECTION_TIMEOUT: Duration = Duration::from_secs(5);
/// Default time to wait for a reply.
pub const DEFAULT_RESPONSE_TIMEOUT: Duration = Duration::from_secs(5);
/// Default number of reconnect attempts after a connection is lost, before calls fail.
pub const DEFAULT_RECONNECT_RETRIES: usize = 2;
/// Default longest pause between reconnect attempts.
pub const DEFAULT_RECONNECT_MAX_DELAY: Duration = Duration::from_secs(1);

/// Options of a [`RedisAdapter`], and the way to connect one.
///
/// Time is bounded everywhere: [`connect`](Self::connect) gives up after the connection
/// timeout, and every round trip of every adapter method after the connection timeout plus
/// the response timeout (the connection may have to be re-opened first), failing with
/// ADAPTER_CONNECTION_ERROR.
///
/// ```no_run
/// use std::time::Duration;
/// use adapter_redis::RedisAdapter;
///
/// # async fn run() -> Result<(), auth_core::AdapterError> {
/// let adapter = RedisAdapter::builder()
///     .key_prefix("myapp:auth:")?
///     .connection_timeout(Duration::from_secs(2))
///     .response_timeout(Duration::from_secs(1))
///     .reconnect_retries(3)
///     .connect("redis://127.0.0.1:6379")
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct RedisAdapterBuilder {
    keys: KeyLayout,
    connection_timeout: Duration,
    response_timeout: Duration,
    reconnect_retries: usize,
    reconnect_max_delay: Duration,
}

impl Default for RedisAdapterBuilder {
    fn default() -> Self {
        Self {
            keys: KeyLayout::default(),
            connection_timeout: DEFAULT_CONNECTION_TIMEOUT,
            response_timeout: DEFAULT_RESPONSE_TIMEOUT,
            reconnect_retries: DEFAULT_RECONNECT_RETRIES,
            reconnect_max_delay: DEFAULT_RECONNECT_MAX_DELAY,
        }
    }
}

impl RedisAdapterBuilder {
    /// The defaults: prefix `auth:`, 5 s to connect, 5 s per reply, 2 reconnect retries at
    /// most 1 s apart.
    pub fn new() -> Self {
        Self::default()
    }

    /// The prefix of every key (default `auth:`): 1 to 128 ASCII letters, digits and
    /// `:_-./{}`. Anything else is refused with `InvalidInput`, so a prefix can never act
    /// as a glob pattern.
    ///
    /// ```
    /// use adapter_redis::RedisAdapter;
    /// assert!(RedisAdapter::builder().key_prefix("tenant-1:auth:").is_ok());
    /// let err = RedisAdapter::builder().key_prefix("auth:*").unwrap_err();
    /// assert_eq!(err.kind(), auth_core::ErrorKind::InvalidInput);
    /// ```
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> AdapterResult<Self> {
        self.keys = KeyLayout::new(prefix).map_err(error::invalid_prefix)?;
        Ok(self)
    }

    /// How long opening a connection may take (default 5 s). It bounds `connect` as a
    /// whole, and each reconnect attempt.
    pub fn connection_timeout(mut self, timeout: Duration) -> Self {
        self.connection_timeout = timeout;
        self
    }

    /// How long a reply may take once the request is sent (default 5 s).
    pub fn response_timeout(mut self, timeout: Duration) -> Self {
        self.response_timeout = timeout;
        self
    }

    /// How many times to retry opening a lost connection, with exponential back-off
    /// starting at 100 ms, before the waiting calls fail (default 2). The next call after
    /// such a failure starts reconnecting again, so the adapter recovers by itself once
    /// Redis is back.
    pub fn reconnect_retries(mut self, retries: usize) -> Self {
        self.reconnect_retries = retries;
        self
    }

    /// The longest pause between two reconnect attempts (default 1 s).
    pub fn reconnect_max_delay(mut self, delay: Duration) -> Self {
        self.reconnect_max_delay = delay;
        self
    }

    /// The key layout these options give.
    pub fn keys(&self) -> &KeyLayout {
        &self.keys
    }

    /// The [`ConnectionManagerConfig`] these options give.
    pub fn manager_config(&self) -> ConnectionManagerConfig {
        ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.connection_timeout))
            .set_response_timeout(Some(self.response_timeout))
            .set_number_of_retries(self.reconnect_retries)
            .set_min_delay(Duration::from_millis(100))
            .set_max_delay(self.reconnect_max_delay)
    }

    /// The most one round trip may take: opening the connection, then the reply.
    pub fn call_timeout(&self) -> Duration {
        self.connection_timeout + self.response_timeout
    }

    /// Connects to the server at `url` (`redis://[user:password@]host:port[/db]`, or
    /// `rediss://` for TLS).
    ///
    /// Errors: ADAPTER_CONNECTION_ERROR (kind `Connection`) when the server cannot be
    /// reached within the connection timeout; kind `InvalidInput` for a malformed URL.
    pub async fn connect(self, url: &str) -> AdapterResult<RedisAdapter> {
        let client =
            redis::Client::open(url).map_err(|e| error::from_redis(Operation::Connect, e))?;
        self.connect_client(client).await
    }

    /// Connects with a [`redis::Client`] built by the caller (custom TLS or credentials).
    pub async fn connect_client(self, client: redis::Client) -> AdapterResult<RedisAdapter> {
        let op = Operation::Connect;
        let config = self.manager_config();
        let manager = tokio::time::timeout(
            self.connection_timeout,
            ConnectionManager::new_with_config(client, config),
        )
        .await
        .map_err(|_| error::timed_out(op, self.connection_timeout))?
        .map_err(|e| error::from_redis(op, e))?;
        let call_timeout = self.call_timeout();
        Ok(RedisAdapter::from_parts(manager, self.keys, call_timeout))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::DEFAULT_PREFIX;

    #[test]
    fn defaults() {
        let b = RedisAdapterBuilder::new();
        assert_eq!(b.keys().prefix(), DEFAULT_PREFIX);
        assert_eq!(b.call_timeout(), Duration::from_secs(10));
        let config = b.manager_config();
        assert_eq!(
            config.connection_timeout(),
            Some(DEFAULT_CONNECTION_TIMEOUT)
        );
        assert_eq!(config.response_timeout(), Some(DEFAULT_RESPONSE_TIMEOUT));
        assert_eq!(config.number_of_retries(), DEFAULT_RECONNECT_RETRIES);
    }

    #[test]
    fn prefix_is_validated() {
        let err = RedisAdapterBuilder::new().key_prefix("").unwrap_err();
        assert_eq!(err.kind(), auth_core::ErrorKind::InvalidInput);
        assert!(RedisAdapterBuilder::new().key_prefix("a b").is_err());
        let ok = RedisAdapterBuilder::new().key_prefix("x:").unwrap();
        assert_eq!(ok.keys().prefix(), "x:");
    }

    #[tokio::test]
    async fn a_malformed_url_is_invalid_input() {
        let err = RedisAdapterBuilder::new()
            .connect("not a url")
            .await
            .unwrap_err();
        assert_eq!(err.kind(), auth_core::ErrorKind::InvalidInput);
        assert_eq!(err.operation(), Operation::Connect);
    }
}
