//! [`SqlxAdapterBuilder`]: where the connections come from (a URL, or an application's
//! pool), pool size, call timeout, table prefix and layout, all checked by `connect` before
//! anything reaches the database.

use std::time::Duration;

use auth_core::{AdapterError, Operation};
use auth_sql::PoolOptions;

use crate::adapter::SqlxAdapter;
use crate::layout::Layout;
use crate::pool::SqlxPool;

/// The table prefix used when none is set: tables are `auth_users`, `auth_accounts`, …
pub const DEFAULT_TABLE_PREFIX: &str = "auth_";

/// The longest table prefix accepted, so every derived name (tables, indexes, constraints)
/// stays within PostgreSQL's 63-byte identifier limit.
pub const MAX_TABLE_PREFIX_LEN: usize = 30;

pub use auth_sql::{DEFAULT_CALL_TIMEOUT, DEFAULT_MAX_CONNECTIONS};

/// Where the adapter's connections come from.
pub(crate) type Target = auth_sql::Target<SqlxPool>;

/// Options for [`SqlxAdapter`], from [`SqlxAdapter::builder`] (a URL) or
/// [`SqlxAdapter::from_pool`] (a pool the application already has). Setters never fail:
/// [`connect`](Self::connect) reports what is wrong, as `InvalidInput` before anything is
/// sent.
///
/// ```no_run
/// use std::time::Duration;
/// use adapter_sqlx::SqlxAdapter;
///
/// # async fn run() -> Result<(), auth_core::AdapterError> {
/// let adapter = SqlxAdapter::builder("postgres://postgres@127.0.0.1:5432/app")
///     .max_connections(20)
///     .call_timeout(Duration::from_secs(2))
///     .table_prefix("authn_")
///     .connect()
///     .await?;
/// adapter.migrate().await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct SqlxAdapterBuilder {
    /// Where the connections come from, the pool's size (`None` unless set: the default
    /// applies to an own pool, and setting it with an adopted pool is refused) and the call
    /// timeout.
    pub(crate) pool: PoolOptions<SqlxPool>,
    /// `None` unless set: the default applies to the native layout, and setting it with an
    /// Auth.js layout is refused.
    pub(crate) table_prefix: Option<String>,
    pub(crate) layout: Layout,
    /// The read replicas' URLs, in the order given.
    pub(crate) replicas: Vec<String>,
    /// How stale a replica read may be; `None` unless set (replicas are refused without).
    pub(crate) max_replica_lag: Option<Duration>,
}

impl SqlxAdapterBuilder {
    /// Options for `url` with the defaults: 10 connections, a 5 s call timeout, prefix
    /// `auth_`, the native layout. The same as [`SqlxAdapter::builder`].
    ///
    /// ```
    /// let options = adapter_sqlx::SqlxAdapterBuilder::new("sqlite::memory:");
    /// assert!(format!("{options:?}").contains("sqlite::memory:"));
    /// ```
    pub fn new(url: impl Into<String>) -> Self {
        Self::with_target(Target::Url(url.into()))
    }

    /// Options for a pool the application already has ([`SqlxAdapter::from_pool`]).
    pub(crate) fn adopting(pool: SqlxPool) -> Self {
        Self::with_target(Target::Pool(pool))
    }

    fn with_target(target: Target) -> Self {
        Self {
            pool: PoolOptions::new(target),
            table_prefix: None,
            layout: Layout::Native,
            replicas: Vec::new(),
            max_replica_lag: None,
        }
    }

    auth_sql::pool_setters!("adapter_sqlx::SqlxAdapter");

    /// The prefix of every table name of the native layout (default `auth_`). It must be
    /// empty or start with a lowercase ASCII letter or `_`, hold only lowercase ASCII
    /// letters, digits and `_`, and be at most [`MAX_TABLE_PREFIX_LEN`] bytes; anything
    /// else makes [`connect`](Self::connect) fail with `InvalidInput` before anything is
    /// sent, so a prefix can never smuggle SQL into the statements. The Auth.js layouts
    /// have fixed table names: a prefix given with one of them is refused the same way.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use adapter_sqlx::SqlxAdapter;
    /// let refused = SqlxAdapter::builder("sqlite::memory:")
    ///     .table_prefix("x; DROP TABLE y")
    ///     .connect()
    ///     .await;
    /// assert_eq!(refused.unwrap_err().kind(), auth_core::ErrorKind::InvalidInput);
    /// # });
    /// ```
    pub fn table_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.table_prefix = Some(prefix.into());
        self
    }

    /// Whose tables to read and write (default [`Layout::Native`]): an Auth.js layout
    /// shares the database of a running Auth.js app. The Auth.js layouts' table names are
    /// fixed, so [`table_prefix`](Self::table_prefix) may not be given with them
    /// ([`connect`](Self::connect) refuses it); to keep one apart, give it its own
    /// PostgreSQL schema (`?options=-c%20search_path%3Dmyschema` in the URL), MySQL
    /// database or SQLite file.
    ///
    /// ```no_run
    /// use adapter_sqlx::{Layout, SqlxAdapter};
    /// # async fn run() -> Result<(), auth_core::AdapterError> {
    /// let adapter = SqlxAdapter::builder("postgres://app@db/app")
    ///     .layout(Layout::AuthJsPg)
    ///     .connect()
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn layout(mut self, layout: Layout) -> Self {
        self.layout = layout;
        self
    }

    /// Adds a PostgreSQL streaming replica (a hot standby) that may answer reads: the
    /// session read, users, accounts, sessions and authenticators. Writes, and the
    /// verification-token use, always go to the primary (the builder's URL). Repeat for
    /// more replicas; reads rotate over those fresh enough. Needs
    /// [`max_replica_lag`](Self::max_replica_lag): without it [`connect`](Self::connect)
    /// refuses replicas, as it does on MySQL/MariaDB and SQLite.
    ///
    /// What a read on a replica may miss, and what it never misses:
    /// - **read-your-writes**: a read after this adapter's own write (a session it
    ///   created, a user it updated) never misses it: the records this adapter wrote are
    ///   read on the primary until the replica has replayed past them, and a replica that
    ///   finds nothing is asked again on the primary (so a session another process created
    ///   a moment ago is found too);
    /// - **revocation is bounded**: a session deleted, or shortened, through any process is
    ///   not served once `max_replica_lag` has passed since;
    /// - a replica that is down, unreachable, not a replica, or lagging past the bound is
    ///   skipped: reads go to the primary without an error, and it is used again once it
    ///   catches up. A read spends at most a third of the call timeout on a replica.
    ///
    /// Freshness is known from WAL positions, not clocks: every `max_replica_lag / 4`
    /// (10 ms to 1 s), one query to the primary (`pg_current_wal_insert_lsn()`) and one to each
    /// replica (`pg_last_wal_replay_lsn()`). The replica's own pool is as large as the
    /// primary's, and opened lazily: a replica that is down does not fail `connect`.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use adapter_sqlx::SqlxAdapter;
    /// # async fn run() -> Result<(), auth_core::AdapterError> {
    /// let adapter = SqlxAdapter::builder("postgres://app@primary/auth")
    ///     .read_replica("postgres://app@replica-1/auth")
    ///     .read_replica("postgres://app@replica-2/auth")
    ///     .max_replica_lag(Duration::from_secs(1))
    ///     .connect()
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn read_replica(mut self, url: impl Into<String>) -> Self {
        self.replicas.push(url.into());
        self
    }

    /// How stale a read from a [replica](Self::read_replica) may be: the longest a session
    /// revoked through another process may still be served. No default: an application
    /// opts in to staleness by choosing it (without it, `connect` refuses replicas).
    /// At most one hour.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use adapter_sqlx::SqlxAdapter;
    /// let refused = SqlxAdapter::builder("postgres://app@primary/auth")
    ///     .read_replica("postgres://app@replica/auth")
    ///     .connect()
    ///     .await;
    /// assert!(refused.unwrap_err().to_string().contains("max_replica_lag"));
    /// # });
    /// ```
    pub fn max_replica_lag(mut self, bound: Duration) -> Self {
        self.max_replica_lag = Some(bound);
        self
    }

    /// Checks the options (prefix, layout, URL, and that no pool option is given with an
    /// adopted pool) before any I/O, then opens the pool (or takes the application's),
    /// checks that the database answers (within the call timeout) and detects the server
    /// (PostgreSQL, MariaDB and its version, MySQL, SQLite).
    ///
    /// Errors: `InvalidInput` (code ADAPTER_CONNECTION_ERROR, the code of `connect`) for
    /// options that cannot work: a URL the driver cannot parse (its message is the
    /// [`source`](std::error::Error::source)), an unknown scheme or one whose cargo
    /// feature is off, a bad prefix, a prefix with an Auth.js layout, a layout the
    /// database does not have, `max_connections`/`min_connections` with an adopted pool.
    /// ADAPTER_CONNECTION_ERROR (kind `Connection`) when the database does not answer,
    /// with the driver's cause ("Connection refused").
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use adapter_sqlx::{sqlx::SqlitePool, SqlxAdapter};
    /// let pool = SqlitePool::connect_lazy("sqlite::memory:").unwrap();
    /// let refused = SqlxAdapter::from_pool(pool).max_connections(4).connect().await;
    /// assert_eq!(refused.unwrap_err().kind(), auth_core::ErrorKind::InvalidInput);
    /// # });
    /// ```
    pub async fn connect(self) -> Result<SqlxAdapter, AdapterError> {
        SqlxAdapter::connect_with(self).await
    }

    /// The table prefix in effect: the one given, else [`DEFAULT_TABLE_PREFIX`].
    pub(crate) fn prefix(&self) -> &str {
        self.table_prefix.as_deref().unwrap_or(DEFAULT_TABLE_PREFIX)
    }

    /// Refuses combinations of options that cannot work, before any I/O.
    pub(crate) fn check(&self) -> Result<(), AdapterError> {
        let op = Operation::Connect;
        self.pool.check()?;
        self.check_replicas()?;
        match (&self.table_prefix, self.layout) {
            (Some(prefix), Layout::Native) => validate_table_prefix(prefix),
            (Some(_), layout) => Err(AdapterError::invalid_input(
                op,
                format!(
                    "the {} layout has fixed table names and takes no table prefix: drop \
                     table_prefix, or give it its own schema, database or file",
                    layout.name()
                ),
            )),
            (None, _) => Ok(()),
        }
    }
}

impl SqlxAdapterBuilder {
    /// Replicas need a lag bound, of at most an hour.
    fn check_replicas(&self) -> Result<(), AdapterError> {
        if self.replicas.is_empty() {
            return Ok(());
        }
        let refuse = |why: &str| Err(AdapterError::invalid_input(Operation::Connect, why));
        match self.max_replica_lag {
            None => refuse(
                "read replicas need max_replica_lag: how long a session revoked through \
                 another process may still be served from a replica",
            ),
            Some(bound) if bound > MAX_REPLICA_LAG => {
                refuse("max_replica_lag may be at most one hour")
            }
            Some(_) => Ok(()),
        }
    }
}

/// The longest [`SqlxAdapterBuilder::max_replica_lag`] accepted.
const MAX_REPLICA_LAG: Duration = Duration::from_secs(3600);

/// Shows the options, with the URL's password hidden.
impl std::fmt::Debug for SqlxAdapterBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("SqlxAdapterBuilder");
        self.pool.debug_fields(&mut d, |pool| Box::new(pool));
        let replicas: Vec<String> = self
            .replicas
            .iter()
            .map(|u| auth_core::redact_url(u))
            .collect();
        d.field("table_prefix", &self.table_prefix)
            .field("layout", &self.layout)
            .field("replicas", &replicas)
            .field("max_replica_lag", &self.max_replica_lag)
            .finish()
    }
}

/// Checks a table prefix: empty, or `[a-z_][a-z0-9_]*` of at most [`MAX_TABLE_PREFIX_LEN`]
/// bytes.
pub(crate) fn validate_table_prefix(prefix: &str) -> Result<(), AdapterError> {
    let invalid = |why: &str| {
        Err(AdapterError::invalid_input(
            Operation::Connect,
            format!("table prefix {prefix:?} {why}"),
        ))
    };
    if prefix.len() > MAX_TABLE_PREFIX_LEN {
        return invalid(&format!("is longer than {MAX_TABLE_PREFIX_LEN} bytes"));
    }
    let mut chars = prefix.chars();
    if let Some(first) = chars.next() {
        if !(first.is_ascii_lowercase() || first == '_') {
            return invalid("must start with a lowercase ASCII letter or '_'");
        }
    }
    if !chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
        return invalid("may hold only lowercase ASCII letters, digits and '_'");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use auth_core::ErrorKind;
    use std::time::Duration;

    #[test]
    fn prefixes_are_identifiers_or_refused() {
        for ok in [
            "",
            "_",
            "auth_",
            "a",
            "tenant_42_",
            &"p".repeat(MAX_TABLE_PREFIX_LEN),
        ] {
            assert!(validate_table_prefix(ok).is_ok(), "{ok:?}");
        }
        for bad in [
            "Auth_",
            "9a",
            "a-b",
            "a b",
            "a;drop",
            "a\"",
            "a`",
            "é_",
            "a\0",
            &"p".repeat(MAX_TABLE_PREFIX_LEN + 1),
        ] {
            let err = validate_table_prefix(bad).expect_err(bad);
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad:?}");
        }
    }

    #[test]
    fn builder_keeps_what_it_is_given() {
        let b = SqlxAdapterBuilder::new("sqlite::memory:")
            .max_connections(0)
            .call_timeout(Duration::from_millis(1500));
        assert_eq!(b.pool.max_connections, Some(1));
        assert_eq!(b.pool.call_timeout, Duration::from_millis(1500));
        assert_eq!(b.prefix(), DEFAULT_TABLE_PREFIX);
        assert!(b.check().is_ok());
        let b = b.table_prefix("x y");
        assert_eq!(
            b.check().map_err(|e| e.kind()),
            Err(ErrorKind::InvalidInput)
        );
    }

    #[test]
    fn a_prefix_with_an_authjs_layout_is_refused() {
        let b = SqlxAdapterBuilder::new("sqlite::memory:").layout(Layout::AuthJsDrizzle);
        assert!(b.check().is_ok());
        let err = b.table_prefix("auth_").check().expect_err("fixed names");
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.to_string().contains("authjs-drizzle"), "{err}");
    }

    #[test]
    fn debug_hides_the_password() {
        let b = SqlxAdapterBuilder::new("postgres://app:hunter22@db/auth");
        let printed = format!("{b:?}");
        assert!(!printed.contains("hunter22"), "{printed}");
        assert!(printed.contains("app:***@db"), "{printed}");
    }
}
