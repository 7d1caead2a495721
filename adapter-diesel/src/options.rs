//! [`DieselAdapterBuilder`]: where the connections come from (a URL, or an application's
//! pool), pool size and call timeout, then `connect`.

use std::time::Duration;

use auth_core::{AdapterError, Operation};

use crate::adapter::DieselAdapter;
use crate::pool::DieselPool;

/// Pool size used when none is set (for a pool the adapter opens itself).
///
/// ```
/// assert_eq!(adapter_diesel::DEFAULT_MAX_CONNECTIONS, 10);
/// ```
pub const DEFAULT_MAX_CONNECTIONS: u32 = 10;

/// The bound of one adapter call used when none is set (see
/// [`DieselAdapterBuilder::call_timeout`]).
///
/// ```
/// assert_eq!(adapter_diesel::DEFAULT_CALL_TIMEOUT, std::time::Duration::from_secs(5));
/// ```
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// Where the adapter's connections come from.
#[derive(Clone)]
pub(crate) enum Target {
    /// A URL: the adapter builds its own pool.
    Url(String),
    /// A pool the application already has ([`DieselAdapter::from_pool`]).
    Pool(DieselPool),
}

/// Options for [`DieselAdapter`], from [`DieselAdapter::builder`] (a URL) or
/// [`DieselAdapter::from_pool`] (a pool the application already has). Setters never fail;
/// [`connect`](Self::connect) reports what is wrong (`InvalidInput` before any I/O for
/// options that cannot work, ADAPTER_CONNECTION_ERROR for a server that does not answer).
///
/// ```no_run
/// use std::time::Duration;
/// use adapter_diesel::DieselAdapter;
///
/// # async fn run() -> Result<(), auth_core::AdapterError> {
/// let adapter = DieselAdapter::builder("sqlite://auth.db")
///     .max_connections(4)
///     .call_timeout(Duration::from_secs(2))
///     .connect()
///     .await?;
/// adapter.migrate().await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct DieselAdapterBuilder {
    pub(crate) target: Target,
    /// `None` unless set: the default applies to an own pool, and setting it with an
    /// adopted pool is refused.
    pub(crate) max_connections: Option<u32>,
    pub(crate) min_connections: Option<u32>,
    pub(crate) call_timeout: Duration,
}

/// Shows the options, with the URL's password hidden.
impl std::fmt::Debug for DieselAdapterBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("DieselAdapterBuilder");
        match &self.target {
            Target::Url(url) => d.field("url", &auth_core::redact_url(url)),
            Target::Pool(pool) => d.field("pool", pool),
        };
        d.field("max_connections", &self.max_connections)
            .field("min_connections", &self.min_connections)
            .field("call_timeout", &self.call_timeout)
            .finish()
    }
}

impl DieselAdapterBuilder {
    /// Options for `url` with the defaults: 10 connections, a 5 s call timeout. The same as
    /// [`DieselAdapter::builder`].
    ///
    /// ```
    /// let builder = adapter_diesel::DieselAdapterBuilder::new("sqlite::memory:");
    /// assert!(format!("{builder:?}").contains("call_timeout: 5s"));
    /// ```
    pub fn new(url: impl Into<String>) -> Self {
        Self::with_target(Target::Url(url.into()))
    }

    /// Options for a pool the application already has ([`DieselAdapter::from_pool`]).
    pub(crate) fn adopting(pool: DieselPool) -> Self {
        Self::with_target(Target::Pool(pool))
    }

    fn with_target(target: Target) -> Self {
        Self {
            target,
            max_connections: None,
            min_connections: None,
            call_timeout: DEFAULT_CALL_TIMEOUT,
        }
    }

    /// The most connections the pool opens (at least 1; default
    /// [`DEFAULT_MAX_CONNECTIONS`]). An in-memory SQLite database always uses one
    /// connection (its shared cache would otherwise answer "table is locked" to concurrent
    /// writers). Only for a pool the adapter builds itself: with
    /// [`DieselAdapter::from_pool`], [`connect`](Self::connect) refuses it
    /// (`InvalidInput`); size the pool you pass instead.
    ///
    /// ```
    /// let builder = adapter_diesel::DieselAdapter::builder("sqlite::memory:").max_connections(0);
    /// assert!(format!("{builder:?}").contains("max_connections: Some(1)"));
    /// ```
    pub fn max_connections(mut self, max: u32) -> Self {
        self.max_connections = Some(max.max(1));
        self
    }

    /// Connections opened by [`connect`](Self::connect) so the first calls do not pay for
    /// connecting (at most `max_connections`; the pool does not close idle connections by
    /// itself). Only for a pool the adapter builds itself, like
    /// [`max_connections`](Self::max_connections).
    ///
    /// ```
    /// let builder = adapter_diesel::DieselAdapter::builder("sqlite::memory:").min_connections(2);
    /// assert!(format!("{builder:?}").contains("min_connections: Some(2)"));
    /// ```
    pub fn min_connections(mut self, min: u32) -> Self {
        self.min_connections = Some(min);
        self
    }

    /// The bound of one adapter call (default [`DEFAULT_CALL_TIMEOUT`]): waiting for a
    /// pooled connection, connecting, and the call's statements together, on every
    /// database. A call that does not finish within it (the database cannot be reached, no
    /// connection is free, the server stopped answering, a SQLite lock is held too long)
    /// fails with ADAPTER_CONNECTION_ERROR (kind `Connection`, a timed-out cause), and its
    /// connection is closed rather than reused. It is also the wait and connect timeout of
    /// the pool the adapter builds (so [`connect`](Self::connect)'s check that the database
    /// answers is bounded by it) and SQLite's busy timeout. `migrate` is not bounded by it.
    ///
    /// ```
    /// use std::time::Duration;
    /// let builder = adapter_diesel::DieselAdapter::builder("sqlite::memory:")
    ///     .call_timeout(Duration::from_millis(1500));
    /// assert!(format!("{builder:?}").contains("1.5s"));
    /// ```
    pub fn call_timeout(mut self, timeout: Duration) -> Self {
        self.call_timeout = timeout;
        self
    }

    /// Checks the options before any I/O (the URL is read by the driver's own parser), then
    /// builds the pool and checks, within the call timeout, that the database answers; or
    /// takes the application's pool as it is (nothing is sent).
    ///
    /// Errors: `InvalidInput` (code ADAPTER_CONNECTION_ERROR, the code of `connect`) for a
    /// URL the driver cannot read (its message is the
    /// [`source`](std::error::Error::source)), a scheme that is unknown or whose feature is
    /// off, or `max_connections`/`min_connections` with an adopted pool;
    /// ADAPTER_CONNECTION_ERROR (kind `Connection`) when the database does not answer, with
    /// the driver's cause (e.g. "Connection refused").
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let refused = adapter_diesel::DieselAdapter::connect("sqlite:file:auth.db?mode=bogus").await;
    /// assert_eq!(refused.unwrap_err().kind(), auth_core::ErrorKind::InvalidInput);
    /// # });
    /// ```
    pub async fn connect(self) -> Result<DieselAdapter, AdapterError> {
        DieselAdapter::connect_with(self).await
    }

    /// The pool size in effect for an own pool.
    pub(crate) fn max(&self) -> u32 {
        self.max_connections.unwrap_or(DEFAULT_MAX_CONNECTIONS)
    }

    /// Refuses pool options given with an adopted pool, before any I/O.
    pub(crate) fn check(&self) -> Result<(), AdapterError> {
        if let Target::Pool(_) = self.target {
            let given: Vec<&str> = [
                self.max_connections.map(|_| "`max_connections`"),
                self.min_connections.map(|_| "`min_connections`"),
            ]
            .into_iter()
            .flatten()
            .collect();
            if !given.is_empty() {
                return Err(AdapterError::invalid_input(
                    Operation::Connect,
                    format!(
                        "{} cannot be used with from_pool (the adapter sizes only a pool \
                         it opens itself): configure the pool you passed instead",
                        given.join(" and ")
                    ),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_keeps_what_it_is_given() {
        let b = DieselAdapterBuilder::new("postgres://app:pw@db/app")
            .max_connections(0)
            .min_connections(3)
            .call_timeout(Duration::from_millis(1500));
        assert_eq!(b.max_connections, Some(1));
        assert_eq!(b.min_connections, Some(3));
        assert_eq!(b.call_timeout, Duration::from_millis(1500));
        assert!(b.check().is_ok());
        assert!(!format!("{b:?}").contains("pw"));
        assert_eq!(DieselAdapterBuilder::new("sqlite::memory:").max(), 10);
    }
}
