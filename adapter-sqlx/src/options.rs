//! [`SqlxAdapterBuilder`]: pool size, acquire timeout and table prefix, validated before
//! anything reaches the database.

use std::time::Duration;

use auth_core::{AdapterError, Operation};

use crate::adapter::SqlxAdapter;
use crate::layout::Layout;

/// The table prefix used when none is set: tables are `auth_users`, `auth_accounts`, …
pub const DEFAULT_TABLE_PREFIX: &str = "auth_";

/// The longest table prefix accepted, so every derived name (tables, indexes, constraints)
/// stays within PostgreSQL's 63-byte identifier limit.
pub const MAX_TABLE_PREFIX_LEN: usize = 30;

/// Pool size used when none is set.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 10;

/// Acquire timeout used when none is set.
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// Options for [`SqlxAdapter`], from [`SqlxAdapter::builder`].
///
/// ```no_run
/// use std::time::Duration;
/// use adapter_sqlx::SqlxAdapter;
///
/// # async fn run() -> Result<(), auth_core::AdapterError> {
/// let adapter = SqlxAdapter::builder("postgres://postgres@127.0.0.1:5432/app")
///     .max_connections(20)
///     .acquire_timeout(Duration::from_secs(2))
///     .table_prefix("authn_")
///     .connect()
///     .await?;
/// adapter.migrate().await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct SqlxAdapterBuilder {
    pub(crate) url: String,
    pub(crate) max_connections: u32,
    pub(crate) min_connections: u32,
    pub(crate) acquire_timeout: Duration,
    pub(crate) table_prefix: String,
    pub(crate) layout: Layout,
}

impl SqlxAdapterBuilder {
    /// Options with the defaults: 10 connections, a 5 s acquire timeout, prefix `auth_`.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            min_connections: 0,
            acquire_timeout: DEFAULT_ACQUIRE_TIMEOUT,
            table_prefix: DEFAULT_TABLE_PREFIX.to_owned(),
            layout: Layout::Native,
        }
    }

    /// The most connections the pool opens (at least 1).
    pub fn max_connections(mut self, max: u32) -> Self {
        self.max_connections = max.max(1);
        self
    }

    /// Connections opened by [`connect`](Self::connect) so the first calls do not pay for
    /// connecting (at most `max_connections`). The pool never closes an idle connection by
    /// itself; an in-memory SQLite database keeps one more, outside the pool, since the
    /// database lives only as long as a connection to it.
    pub fn min_connections(mut self, min: u32) -> Self {
        self.min_connections = min;
        self
    }

    /// How long a call may take, getting a connection (waiting and connecting) included:
    /// when the database cannot be reached or does not answer within it, calls (and
    /// [`connect`](Self::connect)) fail with ADAPTER_CONNECTION_ERROR. On SQLite it is also
    /// the busy timeout. `migrate` is not bounded by it.
    pub fn acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = timeout;
        self
    }

    /// The prefix of every table name (default `auth_`). It must be empty or start with a
    /// lowercase ASCII letter or `_`, hold only lowercase ASCII letters, digits and `_`, and
    /// be at most [`MAX_TABLE_PREFIX_LEN`] bytes; anything else makes
    /// [`connect`](Self::connect) fail with `InvalidInput` before anything is sent, so a
    /// prefix can never smuggle SQL into the statements.
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
        self.table_prefix = prefix.into();
        self
    }

    /// Whose tables to read and write (default [`Layout::Native`]): an Auth.js layout
    /// shares the database of a running Auth.js app. The table prefix does not apply to
    /// the Auth.js layouts (their table names are fixed); to keep one apart, give it its
    /// own PostgreSQL schema (`?options=-c%20search_path%3Dmyschema` in the URL), MySQL
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

    /// Opens the pool, checks that the database answers (within the acquire timeout) and
    /// detects the server (PostgreSQL, MariaDB and its version, MySQL, SQLite).
    ///
    /// Errors: ADAPTER_CONNECTION_ERROR.
    pub async fn connect(self) -> Result<SqlxAdapter, AdapterError> {
        SqlxAdapter::connect_with(self).await
    }
}

/// Shows the options, with the URL's password hidden.
impl std::fmt::Debug for SqlxAdapterBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlxAdapterBuilder")
            .field("url", &auth_core::redact_url(&self.url))
            .field("max_connections", &self.max_connections)
            .field("min_connections", &self.min_connections)
            .field("acquire_timeout", &self.acquire_timeout)
            .field("table_prefix", &self.table_prefix)
            .field("layout", &self.layout)
            .finish()
    }
}

/// Checks a table prefix: empty, or `[a-z_][a-z0-9_]*` of at most [`MAX_TABLE_PREFIX_LEN`]
/// bytes.
///
/// ```
/// use adapter_sqlx::validate_table_prefix;
/// assert!(validate_table_prefix("").is_ok());
/// assert!(validate_table_prefix("auth_").is_ok());
/// assert!(validate_table_prefix("Auth").is_err());
/// assert!(validate_table_prefix("1st_").is_err());
/// assert!(validate_table_prefix("a\"b").is_err());
/// ```
pub fn validate_table_prefix(prefix: &str) -> Result<(), AdapterError> {
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
            .acquire_timeout(Duration::from_millis(1500));
        assert_eq!(b.max_connections, 1);
        assert_eq!(b.acquire_timeout, Duration::from_millis(1500));
        assert_eq!(b.table_prefix, DEFAULT_TABLE_PREFIX);
        let b = b.table_prefix("x y");
        assert!(validate_table_prefix(&b.table_prefix).is_err());
    }

    #[test]
    fn debug_hides_the_password() {
        let b = SqlxAdapterBuilder::new("postgres://app:hunter22@db/auth");
        let printed = format!("{b:?}");
        assert!(!printed.contains("hunter22"), "{printed}");
        assert!(printed.contains("app:***@db"), "{printed}");
    }
}
