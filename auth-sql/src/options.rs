//! [`PoolOptions`]: what the three SQL crates' builders share — where the connections come
//! from, the pool's size and the call timeout — and the checks on them.

use std::fmt;
use std::time::Duration;

use auth_core::{AdapterError, Operation};

/// The pool size used when none is configured.
///
/// ```
/// assert_eq!(auth_sql::DEFAULT_MAX_CONNECTIONS, 10);
/// ```
pub const DEFAULT_MAX_CONNECTIONS: u32 = 10;

/// The call timeout used when none is configured.
///
/// ```
/// assert_eq!(auth_sql::DEFAULT_CALL_TIMEOUT, std::time::Duration::from_secs(5));
/// ```
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// Where an adapter's connections come from.
///
/// ```
/// let target: auth_sql::Target<()> = auth_sql::Target::Url("sqlite::memory:".into());
/// assert!(matches!(target, auth_sql::Target::Url(_)));
/// ```
#[derive(Clone)]
pub enum Target<P> {
    /// A URL: the adapter opens its own pool.
    Url(String),
    /// A pool (or connection) the application already has, of the crate's driver.
    Pool(P),
}

/// The options every SQL builder has. Setters never fail; [`check`](Self::check) refuses
/// what cannot work, before any I/O.
///
/// ```
/// use auth_sql::{PoolOptions, Target};
///
/// let mut options: PoolOptions<()> = PoolOptions::new(Target::Url("sqlite::memory:".into()));
/// options.set_max_connections(0);
/// assert_eq!(options.max(), 1);
/// assert!(options.check().is_ok());
///
/// let mut adopted: PoolOptions<()> = PoolOptions::new(Target::Pool(()));
/// adopted.min_connections = Some(2);
/// assert!(adopted.check().is_err());
/// ```
#[derive(Clone)]
pub struct PoolOptions<P> {
    /// Where the connections come from.
    pub target: Target<P>,
    /// The most connections an own pool opens (`None`: [`DEFAULT_MAX_CONNECTIONS`]).
    pub max_connections: Option<u32>,
    /// Connections an own pool opens up front or keeps idle (`None`: the crate's default).
    pub min_connections: Option<u32>,
    /// The bound of one adapter call.
    pub call_timeout: Duration,
}

impl<P> PoolOptions<P> {
    /// The defaults for `target`: no pool size given, [`DEFAULT_CALL_TIMEOUT`].
    ///
    /// ```
    /// let options: auth_sql::PoolOptions<()> =
    ///     auth_sql::PoolOptions::new(auth_sql::Target::Url("postgres://db/app".into()));
    /// assert_eq!(options.call_timeout, auth_sql::DEFAULT_CALL_TIMEOUT);
    /// ```
    pub fn new(target: Target<P>) -> Self {
        Self {
            target,
            max_connections: None,
            min_connections: None,
            call_timeout: DEFAULT_CALL_TIMEOUT,
        }
    }

    /// Sets the pool size, at least 1.
    ///
    /// ```
    /// let mut options: auth_sql::PoolOptions<()> =
    ///     auth_sql::PoolOptions::new(auth_sql::Target::Url(String::new()));
    /// options.set_max_connections(0);
    /// assert_eq!(options.max_connections, Some(1));
    /// ```
    pub fn set_max_connections(&mut self, max: u32) {
        self.max_connections = Some(max.max(1));
    }

    /// The pool size in effect for an own pool.
    ///
    /// ```
    /// let options: auth_sql::PoolOptions<()> =
    ///     auth_sql::PoolOptions::new(auth_sql::Target::Url(String::new()));
    /// assert_eq!(options.max(), auth_sql::DEFAULT_MAX_CONNECTIONS);
    /// ```
    pub fn max(&self) -> u32 {
        self.max_connections.unwrap_or(DEFAULT_MAX_CONNECTIONS)
    }

    /// Refuses pool options given with an adopted pool (the adapter sizes only a pool it
    /// opens itself): `InvalidInput`, code ADAPTER_CONNECTION_ERROR (the code of `connect`).
    ///
    /// ```
    /// let mut options: auth_sql::PoolOptions<()> =
    ///     auth_sql::PoolOptions::new(auth_sql::Target::Pool(()));
    /// options.set_max_connections(4);
    /// let err = options.check().unwrap_err();
    /// assert!(err.to_string().contains("`max_connections`"));
    /// ```
    pub fn check(&self) -> Result<(), AdapterError> {
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

    /// Writes the options into a builder's `Debug` output, the URL's password hidden and an
    /// adopted pool shown by `show_pool`.
    ///
    /// ```
    /// use std::fmt;
    /// use auth_sql::{PoolOptions, Target};
    ///
    /// struct Builder(PoolOptions<()>);
    /// impl fmt::Debug for Builder {
    ///     fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    ///         let mut d = f.debug_struct("Builder");
    ///         self.0.debug_fields(&mut d, |_| Box::new("a pool"));
    ///         d.finish()
    ///     }
    /// }
    /// let b = Builder(PoolOptions::new(Target::Url("postgres://app:secret@db/auth".into())));
    /// assert!(!format!("{b:?}").contains("secret"));
    /// ```
    pub fn debug_fields<'a>(
        &'a self,
        d: &mut fmt::DebugStruct<'_, '_>,
        show_pool: impl FnOnce(&'a P) -> Box<dyn fmt::Debug + 'a>,
    ) {
        match &self.target {
            Target::Url(url) => d.field("url", &auth_core::redact_url(url)),
            Target::Pool(pool) => d.field("pool", &show_pool(pool)),
        };
        d.field("max_connections", &self.max_connections)
            .field("min_connections", &self.min_connections)
            .field("call_timeout", &self.call_timeout);
    }
}

/// Shows the URL without its password.
impl<P: fmt::Debug> fmt::Debug for Target<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Url(url) => f
                .debug_tuple("Url")
                .field(&auth_core::redact_url(url))
                .finish(),
            Target::Pool(pool) => f.debug_tuple("Pool").field(pool).finish(),
        }
    }
}

/// Shows the options, the URL's password hidden.
impl<P: fmt::Debug> fmt::Debug for PoolOptions<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("PoolOptions");
        self.debug_fields(&mut d, |pool| Box::new(pool));
        d.finish()
    }
}

/// Writes the pool setters every SQL builder has (`max_connections`, `min_connections`,
/// `call_timeout`) into the builder's `impl` block, over its `pool:`
/// [`PoolOptions`] field, with their documentation. `$adapter` is the path of the crate's
/// adapter type, for the examples.
///
/// ```
/// use auth_sql::{PoolOptions, Target};
///
/// /// A builder of some SQL adapter.
/// #[derive(Debug)]
/// pub struct Builder {
///     pool: PoolOptions<()>,
/// }
///
/// impl Builder {
///     auth_sql::pool_setters!("my_adapter::MyAdapter");
/// }
///
/// let b = Builder { pool: PoolOptions::new(Target::Url("sqlite::memory:".into())) }
///     .max_connections(0)
///     .call_timeout(std::time::Duration::from_secs(2));
/// assert_eq!(b.pool.max_connections, Some(1));
/// ```
#[macro_export]
macro_rules! pool_setters {
    ($adapter:literal) => {
        /// The most connections the pool opens (at least 1; default
        /// [`DEFAULT_MAX_CONNECTIONS`](auth_sql::DEFAULT_MAX_CONNECTIONS)). Only for a pool
        /// the adapter opens itself: with `from_pool`, [`connect`](Self::connect) refuses it
        /// (`InvalidInput`); size the pool you pass instead.
        ///
        /// ```
        #[doc = concat!("let b = ", $adapter, "::builder(\"sqlite::memory:\").max_connections(0);")]
        /// assert!(format!("{b:?}").contains("max_connections: Some(1)"));
        /// ```
        pub fn max_connections(mut self, max: u32) -> Self {
            self.pool.set_max_connections(max);
            self
        }

        /// Connections the pool opens up front and keeps when idle (at most
        /// `max_connections`), so the first calls do not pay for connecting. An in-memory
        /// SQLite database keeps at least one, since it lives only as long as a connection to
        /// it. Only for a pool the adapter opens itself, like
        /// [`max_connections`](Self::max_connections).
        ///
        /// ```
        #[doc = concat!("let b = ", $adapter, "::builder(\"sqlite::memory:\").min_connections(2);")]
        /// assert!(format!("{b:?}").contains("min_connections: Some(2)"));
        /// ```
        pub fn min_connections(mut self, min: u32) -> Self {
            self.pool.min_connections = Some(min);
            self
        }

        /// The bound of one adapter call (default
        /// [`DEFAULT_CALL_TIMEOUT`](auth_sql::DEFAULT_CALL_TIMEOUT)): waiting for a pooled
        /// connection, connecting, and the call's statements together, on every database. A
        /// call that does not finish within it (the database cannot be reached, no
        /// connection is free, the server stopped answering, a SQLite lock is held too long)
        /// fails with ADAPTER_CONNECTION_ERROR (kind `Connection`, a timed-out cause), and
        /// its connection is closed rather than reused. It also bounds
        /// [`connect`](Self::connect)'s check that the database answers, and is SQLite's
        /// busy timeout. `migrate` is not bounded by it.
        ///
        /// ```
        #[doc = concat!("let b = ", $adapter, "::builder(\"sqlite::memory:\")")]
        ///     .call_timeout(std::time::Duration::from_millis(1500));
        /// assert!(format!("{b:?}").contains("1.5s"));
        /// ```
        pub fn call_timeout(mut self, timeout: std::time::Duration) -> Self {
            self.pool.call_timeout = timeout;
            self
        }
    };
}
