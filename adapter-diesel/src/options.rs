//! [`DieselAdapterBuilder`]: where the connections come from (a URL, or an application's
//! pool), pool size and call timeout, then `connect`.

use auth_core::AdapterError;
use auth_sql::PoolOptions;

use crate::adapter::DieselAdapter;
use crate::pool::DieselPool;

pub use auth_sql::{DEFAULT_CALL_TIMEOUT, DEFAULT_MAX_CONNECTIONS};

/// Where the adapter's connections come from.
pub(crate) type Target = auth_sql::Target<DieselPool>;

/// Options for [`DieselAdapter`], from [`DieselAdapter::builder`] (a URL) or
/// [`DieselAdapter::from_pool`] (a pool the application already has). Setters never fail;
/// [`connect`](Self::connect) reports what is wrong (`InvalidInput` before any I/O for
/// options that cannot work, ADAPTER_CONNECTION_ERROR for a server that does not answer).
/// An in-memory SQLite database always uses one connection, whatever `max_connections`
/// says (its shared cache would otherwise answer "table is locked" to concurrent writers).
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
    /// Where the connections come from, the pool's size (`None` unless set: the default
    /// applies to an own pool, and setting it with an adopted pool is refused) and the call
    /// timeout.
    pub(crate) pool: PoolOptions<DieselPool>,
}

/// Shows the options, with the URL's password hidden.
impl std::fmt::Debug for DieselAdapterBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("DieselAdapterBuilder");
        self.pool.debug_fields(&mut d, |pool| Box::new(pool));
        d.finish()
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
            pool: PoolOptions::new(target),
        }
    }

    auth_sql::pool_setters!("adapter_diesel::DieselAdapter");

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

    /// Refuses pool options given with an adopted pool, before any I/O.
    pub(crate) fn check(&self) -> Result<(), AdapterError> {
        self.pool.check()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn builder_keeps_what_it_is_given() {
        let b = DieselAdapterBuilder::new("postgres://app:pw@db/app")
            .max_connections(0)
            .min_connections(3)
            .call_timeout(Duration::from_millis(1500));
        assert_eq!(b.pool.max_connections, Some(1));
        assert_eq!(b.pool.min_connections, Some(3));
        assert_eq!(b.pool.call_timeout, Duration::from_millis(1500));
        assert!(b.check().is_ok());
        assert!(!format!("{b:?}").contains("pw"));
        assert_eq!(DieselAdapterBuilder::new("sqlite::memory:").pool.max(), 10);
    }
}
