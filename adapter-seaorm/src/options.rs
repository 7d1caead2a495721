//! [`SeaOrmAdapterBuilder`]: where the connections come from (a URL, or an application's
//! SeaORM connection), pool size and call timeout, then `connect`.

use std::fmt;
use std::time::Duration;

use auth_core::{AdapterError, Operation};
use sea_orm::DatabaseConnection;

use crate::adapter::SeaOrmAdapter;

/// Pool size used when none is set (for a pool the adapter opens itself).
///
/// ```
/// assert_eq!(adapter_seaorm::DEFAULT_MAX_CONNECTIONS, 10);
/// ```
pub const DEFAULT_MAX_CONNECTIONS: u32 = 10;

/// The bound of one adapter call used when none is set (see
/// [`SeaOrmAdapterBuilder::call_timeout`]).
///
/// ```
/// assert_eq!(adapter_seaorm::DEFAULT_CALL_TIMEOUT, std::time::Duration::from_secs(5));
/// ```
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// Where the adapter's connections come from.
#[derive(Clone)]
pub(crate) enum Target {
    /// A URL: the adapter opens its own pool.
    Url(String),
    /// A SeaORM connection the application already has ([`SeaOrmAdapter::from_pool`]).
    Pool(DatabaseConnection),
}

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
    pub(crate) target: Target,
    /// `None` unless set: the default applies to an own pool, and setting it with an
    /// adopted connection is refused.
    pub(crate) max_connections: Option<u32>,
    pub(crate) min_connections: Option<u32>,
    pub(crate) call_timeout: Duration,
}

/// Shows the URL without its password (or the database of an adopted connection).
impl fmt::Debug for SeaOrmAdapterBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("SeaOrmAdapterBuilder");
        match &self.target {
            Target::Url(url) => d.field("url", &auth_core::redact_url(url)),
            Target::Pool(db) => d.field("pool", &db.get_database_backend()),
        };
        d.field("max_connections", &self.max_connections)
            .field("min_connections", &self.min_connections)
            .field("call_timeout", &self.call_timeout)
            .finish()
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
            target,
            max_connections: None,
            min_connections: None,
            call_timeout: DEFAULT_CALL_TIMEOUT,
        }
    }

    /// The most connections the pool opens (at least 1; default
    /// [`DEFAULT_MAX_CONNECTIONS`]). Only for a pool the adapter opens itself: with
    /// [`SeaOrmAdapter::from_pool`], [`connect`](Self::connect) refuses it
    /// (`InvalidInput`); configure the connection you pass instead.
    ///
    /// ```
    /// let b = adapter_seaorm::SeaOrmAdapter::builder("sqlite::memory:").max_connections(4);
    /// assert!(format!("{b:?}").contains("max_connections: Some(4)"));
    /// ```
    pub fn max_connections(mut self, max: u32) -> Self {
        self.max_connections = Some(max.max(1));
        self
    }

    /// Connections the pool keeps open even when idle. In-memory SQLite databases always
    /// keep at least one, since the database lives only as long as a connection to it.
    /// Only for a pool the adapter opens itself, like
    /// [`max_connections`](Self::max_connections).
    ///
    /// ```
    /// let b = adapter_seaorm::SeaOrmAdapter::builder("sqlite::memory:").min_connections(2);
    /// assert!(format!("{b:?}").contains("min_connections: Some(2)"));
    /// ```
    pub fn min_connections(mut self, min: u32) -> Self {
        self.min_connections = Some(min);
        self
    }

    /// The bound of one adapter call (default [`DEFAULT_CALL_TIMEOUT`]): waiting for a
    /// pooled connection, connecting, and the call's statements together, on every
    /// database. A call that does not finish within it (the database cannot be reached, no
    /// connection is free, the server stopped answering, a SQLite lock is held too long)
    /// fails with ADAPTER_CONNECTION_ERROR (kind `Connection`, a timed-out cause); a server
    /// connection cut off mid-statement is closed, not reused. It is also the acquire and
    /// connect timeout of the pool the adapter opens (so [`connect`](Self::connect)'s check
    /// that the database answers is bounded by it) and SQLite's busy timeout. `migrate` is
    /// not bounded by it.
    ///
    /// ```
    /// use std::time::Duration;
    /// let b = adapter_seaorm::SeaOrmAdapter::builder("sqlite::memory:")
    ///     .call_timeout(Duration::from_secs(1));
    /// assert!(format!("{b:?}").contains("call_timeout: 1s"));
    /// ```
    pub fn call_timeout(mut self, timeout: Duration) -> Self {
        self.call_timeout = timeout;
        self
    }

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

    /// The pool size in effect for an own pool.
    pub(crate) fn max(&self) -> u32 {
        self.max_connections.unwrap_or(DEFAULT_MAX_CONNECTIONS)
    }

    /// Refuses pool options given with an adopted connection, before any I/O.
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
        let b = SeaOrmAdapterBuilder::new("mysql://root:pw@h/db")
            .max_connections(0)
            .min_connections(3)
            .call_timeout(Duration::from_millis(1500));
        assert_eq!(b.max_connections, Some(1));
        assert_eq!(b.min_connections, Some(3));
        assert_eq!(b.call_timeout, Duration::from_millis(1500));
        assert!(b.check().is_ok());
        assert!(!format!("{b:?}").contains("pw"));
        assert_eq!(SeaOrmAdapterBuilder::new("sqlite::memory:").max(), 10);
    }
}
