//! [`RedisAdapterBuilder`]: the key prefix, the timeouts and the reconnect behaviour.

use std::fmt;
use std::time::Duration;

use auth_core::{AdapterResult, Operation};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::adapter::RedisAdapter;
use crate::error;
use crate::keys::{KeyLayout, DEFAULT_PREFIX};
use crate::layout::Layout;

/// Default time to open a connection.
///
/// ```
/// assert!(adapter_redis::DEFAULT_CONNECTION_TIMEOUT.as_secs() >= 1);
/// ```
pub const DEFAULT_CONNECTION_TIMEOUT: Duration = Duration::from_secs(5);
/// Default time to wait for a reply.
///
/// ```
/// assert!(adapter_redis::DEFAULT_RESPONSE_TIMEOUT.as_secs() >= 1);
/// ```
pub const DEFAULT_RESPONSE_TIMEOUT: Duration = Duration::from_secs(5);
/// Default number of reconnect attempts after a connection is lost, before calls fail.
///
/// ```
/// assert_eq!(adapter_redis::DEFAULT_RECONNECT_RETRIES, 2);
/// ```
pub const DEFAULT_RECONNECT_RETRIES: usize = 2;
/// Default longest pause between reconnect attempts.
///
/// ```
/// assert!(adapter_redis::DEFAULT_RECONNECT_MAX_DELAY.as_secs() >= 1);
/// ```
pub const DEFAULT_RECONNECT_MAX_DELAY: Duration = Duration::from_secs(1);

/// Options of a [`RedisAdapter`], and the way to connect one: made by
/// [`RedisAdapter::builder`], finished by [`connect`](Self::connect).
///
/// Setters never fail: a value that cannot work (an invalid key prefix) is reported by
/// `connect`, before any connection is opened. Time is bounded everywhere: `connect` gives
/// up after the connection timeout, and every round trip of every adapter method after the
/// connection timeout plus the response timeout (the connection may have to be re-opened
/// first), failing with ADAPTER_CONNECTION_ERROR.
///
/// ```no_run
/// use std::time::Duration;
/// use adapter_redis::RedisAdapter;
///
/// # async fn run() -> Result<(), auth_core::AdapterError> {
/// let adapter = RedisAdapter::builder("redis://127.0.0.1:6379")
///     .key_prefix("myapp:auth:")
///     .connection_timeout(Duration::from_secs(2))
///     .response_timeout(Duration::from_secs(1))
///     .reconnect_retries(3)
///     .connect()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisAdapterBuilder {
    url: String,
    prefix: String,
    connection_timeout: Duration,
    response_timeout: Duration,
    reconnect_retries: usize,
    reconnect_max_delay: Duration,
    layout: Layout,
}

/// Shows the URL without its password, and the options.
impl fmt::Debug for RedisAdapterBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisAdapterBuilder")
            .field("url", &auth_core::redact_url(&self.url))
            .field("key_prefix", &self.prefix)
            .field("connection_timeout", &self.connection_timeout)
            .field("response_timeout", &self.response_timeout)
            .field("reconnect_retries", &self.reconnect_retries)
            .field("reconnect_max_delay", &self.reconnect_max_delay)
            .field("layout", &self.layout)
            .finish()
    }
}

impl RedisAdapterBuilder {
    /// The defaults for the server at `url` (`redis://[user:password@]host:port[/db]`, or
    /// `rediss://` for TLS): prefix `auth:`, 5 s to connect, 5 s per reply, 2 reconnect
    /// retries at most 1 s apart. Same as [`RedisAdapter::builder`].
    ///
    /// ```
    /// use adapter_redis::RedisAdapterBuilder;
    /// let builder = RedisAdapterBuilder::new("redis://:secret@127.0.0.1:6379");
    /// assert!(!format!("{builder:?}").contains("secret"));
    /// ```
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            prefix: DEFAULT_PREFIX.to_owned(),
            connection_timeout: DEFAULT_CONNECTION_TIMEOUT,
            response_timeout: DEFAULT_RESPONSE_TIMEOUT,
            reconnect_retries: DEFAULT_RECONNECT_RETRIES,
            reconnect_max_delay: DEFAULT_RECONNECT_MAX_DELAY,
            layout: Layout::Native,
        }
    }

    /// Which keys and values the adapter reads and writes (default [`Layout::Native`]).
    /// [`Layout::AuthJsUnstorage`] shares the Redis of an Auth.js app that uses
    /// `@auth/unstorage-adapter` on unstorage's Redis driver; the key prefix is then not
    /// used (the layout's own `baseKeyPrefix` and driver `base` place the keys).
    ///
    /// ```no_run
    /// use adapter_redis::{Layout, RedisAdapter, UnstorageLayout};
    ///
    /// # async fn run() -> Result<(), auth_core::AdapterError> {
    /// // UnstorageAdapter(createStorage({ driver: redisDriver({ url }) }), { baseKeyPrefix: "app:" })
    /// let adapter = RedisAdapter::builder("redis://127.0.0.1:6379")
    ///     .layout(Layout::AuthJsUnstorage(UnstorageLayout::new().base_key_prefix("app:")))
    ///     .connect()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn layout(mut self, layout: Layout) -> Self {
        self.layout = layout;
        self
    }

    /// The prefix of every key (default `auth:`): 1 to 128 ASCII letters, digits and
    /// `:_-./{}`, so that it can never act as a glob pattern. Anything else makes
    /// [`connect`](Self::connect) fail with `InvalidInput`.
    ///
    /// ```
    /// use adapter_redis::RedisAdapter;
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let err = RedisAdapter::builder("redis://127.0.0.1:6379")
    ///     .key_prefix("auth:*")
    ///     .connect()
    ///     .await
    ///     .unwrap_err();
    /// assert_eq!(err.kind(), auth_core::ErrorKind::InvalidInput);
    /// # });
    /// ```
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// How long opening a connection may take (default 5 s). It bounds `connect` as a
    /// whole, and each reconnect attempt.
    ///
    /// ```
    /// # use std::time::Duration;
    /// let builder = adapter_redis::RedisAdapter::builder("redis://127.0.0.1")
    ///     .connection_timeout(Duration::from_secs(1));
    /// assert_eq!(builder.call_timeout(), Duration::from_secs(6));
    /// ```
    pub fn connection_timeout(mut self, timeout: Duration) -> Self {
        self.connection_timeout = timeout;
        self
    }

    /// How long a reply may take once the request is sent (default 5 s).
    ///
    /// ```
    /// # use std::time::Duration;
    /// let builder = adapter_redis::RedisAdapter::builder("redis://127.0.0.1")
    ///     .response_timeout(Duration::from_secs(1));
    /// assert_eq!(builder.call_timeout(), Duration::from_secs(6));
    /// ```
    pub fn response_timeout(mut self, timeout: Duration) -> Self {
        self.response_timeout = timeout;
        self
    }

    /// How many times to retry opening a lost connection, with exponential back-off
    /// starting at 100 ms, before the waiting calls fail (default 2). The next call after
    /// such a failure starts reconnecting again, so the adapter recovers by itself once
    /// Redis is back.
    ///
    /// ```
    /// let builder = adapter_redis::RedisAdapter::builder("redis://127.0.0.1").reconnect_retries(5);
    /// assert_eq!(builder.manager_config().number_of_retries(), 5);
    /// ```
    pub fn reconnect_retries(mut self, retries: usize) -> Self {
        self.reconnect_retries = retries;
        self
    }

    /// The longest pause between two reconnect attempts (default 1 s).
    ///
    /// ```
    /// # use std::time::Duration;
    /// let builder = adapter_redis::RedisAdapter::builder("redis://127.0.0.1")
    ///     .reconnect_max_delay(Duration::from_millis(500));
    /// # let _ = builder;
    /// ```
    pub fn reconnect_max_delay(mut self, delay: Duration) -> Self {
        self.reconnect_max_delay = delay;
        self
    }

    /// The [`ConnectionManagerConfig`] these options give, to build a manager of your own
    /// with the same behaviour (see [`RedisAdapter::from_connection_manager`]).
    ///
    /// ```
    /// let config = adapter_redis::RedisAdapter::builder("redis://127.0.0.1").manager_config();
    /// assert_eq!(config.number_of_retries(), adapter_redis::DEFAULT_RECONNECT_RETRIES);
    /// ```
    pub fn manager_config(&self) -> ConnectionManagerConfig {
        ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.connection_timeout))
            .set_response_timeout(Some(self.response_timeout))
            .set_number_of_retries(self.reconnect_retries)
            .set_min_delay(Duration::from_millis(100))
            .set_max_delay(self.reconnect_max_delay)
    }

    /// The most one round trip may take: opening the connection, then the reply.
    ///
    /// ```
    /// # use std::time::Duration;
    /// let builder = adapter_redis::RedisAdapter::builder("redis://127.0.0.1");
    /// assert_eq!(builder.call_timeout(), Duration::from_secs(10));
    /// ```
    pub fn call_timeout(&self) -> Duration {
        self.connection_timeout + self.response_timeout
    }

    /// Checks the options and connects.
    ///
    /// Errors (operation `connect`): `InvalidInput` for an invalid key prefix or a
    /// malformed URL, before any I/O; ADAPTER_CONNECTION_ERROR
    /// (kind `Connection`) when the server cannot be reached within the connection timeout,
    /// with the cause (e.g. "Connection refused") in the error's `source()`.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), auth_core::AdapterError> {
    /// let adapter = adapter_redis::RedisAdapter::builder("redis://127.0.0.1:6379")
    ///     .connect()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn connect(self) -> AdapterResult<RedisAdapter> {
        let op = Operation::Connect;
        let keys = KeyLayout::new(self.prefix.as_str()).map_err(error::invalid_prefix)?;
        let client =
            redis::Client::open(self.url.as_str()).map_err(|e| error::from_redis(op, e))?;
        let manager = tokio::time::timeout(
            self.connection_timeout,
            ConnectionManager::new_with_config(client, self.manager_config()),
        )
        .await
        .map_err(|_| error::timed_out(op, self.connection_timeout))?
        .map_err(|e| error::from_redis(op, e))?;
        Ok(RedisAdapter::from_parts(manager, keys, self.call_timeout()).with_layout(self.layout))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let b = RedisAdapterBuilder::new("redis://127.0.0.1");
        assert_eq!(b.prefix, DEFAULT_PREFIX);
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
    fn debug_hides_the_password() {
        let b = RedisAdapterBuilder::new("redis://user:hunter2@db:6379/0").key_prefix("p:");
        let shown = format!("{b:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("db:6379") && shown.contains("p:"), "{shown}");
    }

    #[tokio::test]
    async fn an_invalid_prefix_is_reported_by_connect_before_any_io() {
        for bad in ["", "a b", "a*", "x".repeat(200).as_str()] {
            // Port 9 (discard) is never dialled: the prefix is checked first.
            let err = RedisAdapterBuilder::new("redis://127.0.0.1:9")
                .key_prefix(bad)
                .connect()
                .await
                .unwrap_err();
            assert_eq!(err.kind(), auth_core::ErrorKind::InvalidInput, "{bad:?}");
            assert_eq!(err.operation(), Operation::Connect);
        }
    }

    #[tokio::test]
    async fn a_malformed_url_is_invalid_input() {
        let err = RedisAdapterBuilder::new("not a url")
            .connect()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), auth_core::ErrorKind::InvalidInput);
        assert_eq!(err.operation(), Operation::Connect);
    }
}
