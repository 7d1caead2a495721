//! [`SeaOrmAdapterBuilder`]: where the connections come from (a URL, or an application's
//! SeaORM connection), pool size and call timeout, then `connect`.

use std::fmt;

use auth_core::AdapterError;
use auth_sql::PoolOptions;
use sea_orm::DatabaseConnection;

use crate::adapter::SeaOrmAdapter;

pub use auth_sql::{DEFAULT_CALL_TIMEOUT, DEFAULT_MAX_CONNECTIONS};

/// Where the adapter's connections come from.
pub(crate) type Target = auth_sql::Target<DatabaseConnection>;

/// Options for [`SeaOrmAdapter`], from [`SeaOrmAdapter::builder`] (a URL) or
/// [`SeaOrmAdapter::from_pool`] (a SeaORM connection the application already has). Setters
/// never fail; [`connect`](Self::connect) reports what is wrong (`InvalidInput` before any
/// I/O for options that cannot work, ADAPTER_CONNECTION_ERROR for a server that does not
/// answer).
///
/// ```no_run
/// use std::time::Duration;
/// use adapter_seaorm::SeaOrmAdapter;
///
/// # async fn run() -> Result<(), auth_core::AdapterError> {
/// let adapter = SeaOrmAdapter::builder("postgres://postgres@127.0.0.1:5432/app")
///     .max_connections(20)
///     .call_timeout(Duration::from_secs(2))
///     .connect()
///     .await?;
/// adapter.migrate().await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct SeaOrmAdapterBuilder {
    /// Where the connections come from, the pool's size (`None` unless set: the default
    /// applies to an own pool, and setting it with an adopted pool is refused) and the call
    /// timeout.
    pub(crate) pool: PoolOptions<DatabaseConnection>,
}

/// Shows the URL without its password (or the database of an adopted connection).
impl fmt::Debug for SeaOrmAdapterBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("SeaOrmAdapterBuilder");
        self.pool
            .debug_fields(&mut d, |db| Box::new(db.get_database_backend()));
        d.finish()
    }
}

impl SeaOrmAdapterBuilder {
    /// Options for `url` with the defaults: 10 connections, a 5 s call timeout. The same as
    /// [`SeaOrmAdapter::builder`].
    ///
    /// ```
    /// let b = adapter_seaorm::SeaOrmAdapterBuilder::new("postgres://app:secret@db/auth");
    /// assert!(!format!("{b:?}").contains("secret"));
    /// ```
    pub fn new(url: impl Into<String>) -> Self {
        Self::with_target(Target::Url(url.into()))
    }

    /// Options for a SeaORM connection the application already has
    /// ([`SeaOrmAdapter::from_pool`]).
    pub(crate) fn adopting(db: DatabaseConnection) -> Self {
        Self::with_target(Target::Pool(db))
    }

    fn with_target(target: Target) -> Self {
        Self {
            pool: PoolOptions::new(target),
        }
    }

    auth_sql::pool_setters!("adapter_seaorm::SeaOrmAdapter");

    /// Checks the options before any I/O (the URL is read by sqlx's own parser), then
    /// checks, with one direct connection bounded by the call timeout, that the database
    /// answers (so a refused connection is reported as such, not as a pool timeout), opens
    /// the pool and detects the server; or takes the application's connection as it is
    /// (asking a MySQL-family server for its version).
    ///
    /// Errors: `InvalidInput` (code ADAPTER_CONNECTION_ERROR, the code of `connect`) for a
    /// URL sqlx cannot read (its message is the [`source`](std::error::Error::source)), a
    /// scheme this build does not serve (naming the cargo feature that would), or
    /// `max_connections`/`min_connections` with an adopted connection;
    /// ADAPTER_CONNECTION_ERROR (kind `Connection`) when the database does not answer.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let refused = adapter_seaorm::SeaOrmAdapter::connect("sqlite:file:auth.db?mode=bogus").await;
    /// assert_eq!(refused.unwrap_err().kind(), auth_core::ErrorKind::InvalidInput);
    /// # });
    /// ```
    pub async fn connect(self) -> Result<SeaOrmAdapter, AdapterError> {
        SeaOrmAdapter::connect_with(self).await
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
        let b = SeaOrmAdapterBuilder::new("mysql://root:pw@h/db")
            .max_connections(0)
            .min_connections(3)
            .call_timeout(Duration::from_millis(1500));
        assert_eq!(b.pool.max_connections, Some(1));
        assert_eq!(b.pool.min_connections, Some(3));
        assert_eq!(b.pool.call_timeout, Duration::from_millis(1500));
        assert!(b.check().is_ok());
        assert!(!format!("{b:?}").contains("pw"));
        assert_eq!(SeaOrmAdapterBuilder::new("sqlite::memory:").pool.max(), 10);
    }
}
