//! [`MongoAdapterBuilder`]: the adapter's options, for a client opened from a URL or a
//! `mongodb::Client` the app passes in.

use std::fmt;
use std::time::Duration;

use auth_core::{AdapterError, ErrorKind, Operation};
use mongodb::options::{ClientOptions, ConnectionString};

use crate::adapter::MongoAdapter;
use crate::error::{self, ForOp};
use crate::layout::Layout;

/// The database used when neither the builder nor the URL (or the client passed to
/// [`MongoAdapter::from_pool`]) names one.
///
/// ```
/// assert_eq!(adapter_mongo::DEFAULT_DATABASE, "auth");
/// ```
pub const DEFAULT_DATABASE: &str = "auth";

/// Default bound of one adapter call ([`MongoAdapterBuilder::call_timeout`]).
///
/// ```
/// assert_eq!(adapter_mongo::DEFAULT_CALL_TIMEOUT.as_secs(), 5);
/// ```
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// Default size of the driver's connection pool when neither the builder nor the URL's
/// `maxPoolSize` sets one (the driver's own default).
///
/// ```
/// assert_eq!(adapter_mongo::DEFAULT_MAX_CONNECTIONS, 10);
/// ```
pub const DEFAULT_MAX_CONNECTIONS: u32 = 10;

/// How often the driver checks the server when the URL sets no `heartbeatFrequencyMS`: once a
/// second (the driver's own default is 10 s), so the adapter serves again within about a
/// second after the server comes back from a pause or restart.
///
/// ```
/// assert_eq!(adapter_mongo::DEFAULT_HEARTBEAT_FREQUENCY.as_secs(), 1);
/// ```
pub const DEFAULT_HEARTBEAT_FREQUENCY: Duration = Duration::from_secs(1);

/// The driver's server selection timeout for a call timeout: four fifths of it, so that
/// when no server can be used the driver gives up first and its account of each server
/// ("Connection refused", …) reaches the caller, rather than the adapter's bare
/// "did not answer within".
pub(crate) fn server_selection_timeout(call_timeout: Duration) -> Duration {
    call_timeout * 4 / 5
}

/// The driver's connect timeout (one connection: TCP, TLS, handshake; also the monitors'
/// socket timeout) for a call timeout: half the server selection timeout, so that a
/// monitor whose attempt timed out tries again before server selection gives up.
pub(crate) fn connect_timeout(call_timeout: Duration) -> Duration {
    server_selection_timeout(call_timeout) / 2
}

/// Where the adapter's client comes from.
#[derive(Clone)]
enum Source {
    /// `connect` parses this URL and opens a client with the builder's options.
    Url(String),
    /// The app's own client, from [`MongoAdapter::from_pool`]: shared, configured by the app.
    Adopted(mongodb::Client),
}

/// Options for [`MongoAdapter`], from [`MongoAdapter::builder`] (a URL) or
/// [`MongoAdapter::from_pool`] (a `mongodb::Client` the app already has). The setters only
/// record values; [`connect`](Self::connect) checks them, before any I/O: a bad URL,
/// database name or collection prefix, a prefix together with the Auth.js layout, or a
/// pool option for a client passed in is an `InvalidInput` error from there.
///
/// ```no_run
/// use std::time::Duration;
/// use adapter_mongo::MongoAdapter;
///
/// # async fn demo() -> Result<(), auth_core::AdapterError> {
/// let adapter = MongoAdapter::builder("mongodb://127.0.0.1:27017/myapp")
///     .collection_prefix("auth_")
///     .call_timeout(Duration::from_secs(3))
///     .max_connections(32)
///     .connect()
///     .await?;
/// adapter.migrate().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct MongoAdapterBuilder {
    source: Source,
    database: Option<String>,
    /// `None`: not set (no prefix).
    collection_prefix: Option<String>,
    call_timeout: Duration,
    /// `None`: not set (the URL's `maxPoolSize`, else the default; nothing for a client
    /// passed in).
    max_connections: Option<u32>,
    layout: Layout,
}

/// Shows the URL without its password (and nothing of a client passed in: its options
/// hold the credentials).
///
/// ```
/// let builder = adapter_mongo::MongoAdapter::builder("mongodb://app:hunter2@db:27017/auth");
/// let shown = format!("{builder:?}");
/// assert!(shown.contains("db:27017") && !shown.contains("hunter2"), "{shown}");
/// ```
impl fmt::Debug for MongoAdapterBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("MongoAdapterBuilder");
        match &self.source {
            Source::Url(url) => s.field("url", &auth_core::redact_url(url)),
            Source::Adopted(_) => s.field("client", &"mongodb::Client (from_pool)"),
        };
        s.field("database", &self.database)
            .field("collection_prefix", &self.collection_prefix)
            .field("call_timeout", &self.call_timeout)
            .field("max_connections", &self.max_connections)
            .field("layout", &self.layout)
            .finish()
    }
}

impl MongoAdapterBuilder {
    /// Options for the deployment at `url` (`mongodb://` or `mongodb+srv://`); the
    /// database is the URL's path, else `auth`. Same as [`MongoAdapter::builder`].
    ///
    /// ```
    /// let builder = adapter_mongo::MongoAdapterBuilder::new("mongodb://127.0.0.1:27017/app");
    /// # let _ = builder;
    /// ```
    pub fn new(url: impl Into<String>) -> Self {
        Self::with_source(Source::Url(url.into()))
    }

    /// The defaults on a client the app passed to [`MongoAdapter::from_pool`].
    pub(crate) fn adopting(client: mongodb::Client) -> Self {
        Self::with_source(Source::Adopted(client))
    }

    fn with_source(source: Source) -> Self {
        Self {
            source,
            database: None,
            collection_prefix: None,
            call_timeout: DEFAULT_CALL_TIMEOUT,
            max_connections: None,
            layout: Layout::Native,
        }
    }

    /// Uses this database instead of the URL's (or the client's default database, for a
    /// client passed to [`MongoAdapter::from_pool`]). Checked by
    /// [`connect`](Self::connect): 1–63 bytes, none of `/\. "$*<>:|?`.
    ///
    /// ```
    /// let builder = adapter_mongo::MongoAdapter::builder("mongodb://127.0.0.1:27017").database("myapp");
    /// # let _ = builder;
    /// ```
    pub fn database(mut self, name: impl Into<String>) -> Self {
        self.database = Some(name.into());
        self
    }

    /// Prefixes every collection name of the native layout (`users` becomes
    /// `<prefix>users`). ASCII letters, digits and `_`, at most 32 bytes (checked by
    /// [`connect`](Self::connect)); any prefix together with [`Layout::AuthJs`] makes
    /// `connect` fail with `InvalidInput` (name the Auth.js collections instead).
    ///
    /// ```
    /// let builder = adapter_mongo::MongoAdapter::builder("mongodb://127.0.0.1:27017").collection_prefix("auth_");
    /// # let _ = builder;
    /// ```
    pub fn collection_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.collection_prefix = Some(prefix.into());
        self
    }

    /// The bound of one adapter call (default [`DEFAULT_CALL_TIMEOUT`]): `connect` and
    /// every method of the adapter (all of its round trips included) fail with
    /// ADAPTER_CONNECTION_ERROR (kind `Connection`) once it has passed, whatever the server
    /// does (down, unreachable, paused); the driver closes the connection of a call it
    /// abandons. It applies to a client passed to [`MongoAdapter::from_pool`] too.
    /// `migrate()` is the exception: an index build on a populated collection may take
    /// longer, so only its wait for a server is bounded.
    ///
    /// For a client the adapter opens itself, the driver's timeouts derive from it: the
    /// server selection timeout is four fifths of it (so that with no usable server the
    /// driver's account of why, e.g. "Connection refused", comes back within the bound)
    /// and the connect timeout half of that; a URL's `serverSelectionTimeoutMS` or
    /// `connectTimeoutMS` may only lower them. Zero makes `connect` fail with
    /// `InvalidInput`. Raise it where replica set failovers must be ridden out (an
    /// election takes up to about 12 s).
    ///
    /// ```
    /// use std::time::Duration;
    /// let builder = adapter_mongo::MongoAdapter::builder("mongodb://127.0.0.1:27017")
    ///     .call_timeout(Duration::from_secs(15));
    /// # let _ = builder;
    /// ```
    pub fn call_timeout(mut self, timeout: Duration) -> Self {
        self.call_timeout = timeout;
        self
    }

    /// The most connections the driver's pool opens (default: the URL's `maxPoolSize`,
    /// else [`DEFAULT_MAX_CONNECTIONS`]). At least 1.
    ///
    /// Only for a client the adapter opens: with a client passed to
    /// [`MongoAdapter::from_pool`], `connect` fails with `InvalidInput` (set
    /// `max_pool_size` in that client's options instead).
    ///
    /// ```
    /// let builder = adapter_mongo::MongoAdapter::builder("mongodb://127.0.0.1:27017").max_connections(32);
    /// # let _ = builder;
    /// ```
    pub fn max_connections(mut self, size: u32) -> Self {
        self.max_connections = Some(size);
        self
    }

    /// Which collections and documents the adapter uses: [`Layout::Native`] (the default),
    /// or [`Layout::AuthJs`] to share the database of an Auth.js app that uses
    /// `@auth/mongodb-adapter` (checked by [`connect`](Self::connect): the names must be
    /// usable, and a collection prefix does not combine with it, name each collection
    /// instead).
    ///
    /// ```no_run
    /// use adapter_mongo::{AuthJsCollections, Layout, MongoAdapter};
    ///
    /// # async fn demo() -> Result<(), auth_core::AdapterError> {
    /// let adapter = MongoAdapter::builder("mongodb://127.0.0.1:27017/myapp")
    ///     .layout(Layout::AuthJs(AuthJsCollections::default()))
    ///     .connect()
    ///     .await?;
    /// adapter.migrate().await?; // the indexes Auth.js tolerates
    /// # Ok(()) }
    /// ```
    pub fn layout(mut self, layout: Layout) -> Self {
        self.layout = layout;
        self
    }

    /// Checks the options, then connects: for a URL, opens a client and checks that a
    /// server answers `ping` within the call timeout; for a client passed to
    /// [`MongoAdapter::from_pool`], takes it without any I/O (a server that is down shows
    /// on the first call).
    ///
    /// Errors (operation `connect`, code ADAPTER_CONNECTION_ERROR):
    /// - kind `InvalidInput`, before any I/O: a URL the driver does not accept (a port out
    ///   of range, an unknown option value, …; its message is the error's `source()`), an
    ///   invalid database name or collection prefix, a prefix together with
    ///   [`Layout::AuthJs`], unusable Auth.js collection names, a zero call timeout or
    ///   pool size, or `max_connections` given with a client passed to `from_pool`;
    /// - kind `Connection`: no server answered within the call timeout (with the driver's
    ///   account of each server, e.g. "Connection refused", as the `source()`), or the
    ///   DNS lookup of a `mongodb+srv://` URL failed.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), auth_core::AdapterError> {
    /// let adapter = adapter_mongo::MongoAdapter::builder("mongodb://127.0.0.1:27017/myapp")
    ///     .connect()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn connect(self) -> Result<MongoAdapter, AdapterError> {
        let op = Operation::Connect;
        if self.call_timeout.is_zero() {
            return Err(AdapterError::invalid_input(
                op,
                "the call timeout must be longer than zero",
            ));
        }
        if self.max_connections == Some(0) {
            return Err(AdapterError::invalid_input(
                op,
                "max_connections must be at least 1",
            ));
        }
        let prefix = self.collection_prefix.as_deref().unwrap_or_default();
        validate_collection_prefix(prefix)?;
        if self.collection_prefix.is_some() && matches!(self.layout, Layout::AuthJs(_)) {
            return Err(AdapterError::invalid_input(
                op,
                "a collection prefix does not apply to the Auth.js layout: name its \
                 collections in AuthJsCollections instead",
            ));
        }
        if let Layout::AuthJs(names) = &self.layout {
            names.validate()?;
        }
        if let Some(name) = &self.database {
            validate_database_name(name)?;
        }
        match &self.source {
            Source::Adopted(client) => {
                if self.max_connections.is_some() {
                    return Err(AdapterError::invalid_input(
                        op,
                        "max_connections applies to a client the adapter opens itself, not to \
                         a mongodb::Client passed to from_pool: set max_pool_size in the \
                         options of the client you passed instead",
                    ));
                }
                let database = match &self.database {
                    Some(name) => name.clone(),
                    None => client
                        .default_database()
                        .map_or_else(|| DEFAULT_DATABASE.to_owned(), |db| db.name().to_owned()),
                };
                MongoAdapter::assemble(
                    client.clone(),
                    &database,
                    prefix,
                    &self.layout,
                    self.call_timeout,
                )
            }
            Source::Url(url) => {
                // Parsing the string does no I/O (a `mongodb+srv` name is resolved below).
                let parsed = ConnectionString::parse(url.as_str()).map_err(error::invalid_url)?;
                let database = match (&self.database, &parsed.default_database) {
                    (Some(name), _) | (None, Some(name)) => name.clone(),
                    (None, None) => DEFAULT_DATABASE.to_owned(),
                };
                validate_database_name(&database)?;
                auth_core::bound::within(
                    op,
                    self.call_timeout,
                    self.open(parsed, &database, prefix),
                )
                .await
            }
        }
    }

    /// Resolves the parsed URL (DNS for `mongodb+srv` only), opens the client with the
    /// options, and pings.
    async fn open(
        &self,
        parsed: ConnectionString,
        database: &str,
        prefix: &str,
    ) -> Result<MongoAdapter, AdapterError> {
        let op = Operation::Connect;
        let mut options = ClientOptions::parse(parsed).await.map_err(|e| {
            // A failed SRV lookup is a connection failure; anything else the driver
            // refuses here (e.g. `socketTimeoutMS`) is the URL's fault.
            match error::kind_of(&e) {
                ErrorKind::Connection => error::map_error(op, e),
                _ => error::invalid_url(e),
            }
        })?;
        let selection = server_selection_timeout(self.call_timeout);
        let connect = connect_timeout(self.call_timeout);
        options.server_selection_timeout = Some(
            options
                .server_selection_timeout
                .map_or(selection, |t| t.min(selection)),
        );
        options.connect_timeout = Some(options.connect_timeout.map_or(connect, |t| t.min(connect)));
        // The driver's default (10 s) left the adapter failing for ~23 s after a server came
        // back from a pause (the fault drill); a URL's `heartbeatFrequencyMS` still wins.
        options.heartbeat_freq = options.heartbeat_freq.or(Some(DEFAULT_HEARTBEAT_FREQUENCY));
        options.max_pool_size = self
            .max_connections
            .or(options.max_pool_size)
            .or(Some(DEFAULT_MAX_CONNECTIONS));
        options
            .app_name
            .get_or_insert_with(|| "auth-adapters".to_owned());
        let client =
            mongodb::Client::with_options(options).map_err(|e| match error::kind_of(&e) {
                ErrorKind::InvalidInput => error::invalid_url(e),
                _ => error::map_error(op, e),
            })?;
        let adapter =
            MongoAdapter::assemble(client, database, prefix, &self.layout, self.call_timeout)?;
        adapter
            .database()
            .run_command(mongodb::bson::doc! { "ping": 1 })
            .await
            .for_op(op)?;
        tracing::debug!(database, "connected to MongoDB");
        Ok(adapter)
    }
}

/// Checks a collection prefix: ASCII letters, digits and `_`, at most 32 bytes.
pub(crate) fn validate_collection_prefix(prefix: &str) -> Result<(), AdapterError> {
    if prefix.len() <= 32
        && prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        Ok(())
    } else {
        Err(AdapterError::invalid_input(
            Operation::Connect,
            format!("collection prefix {prefix:?} must be at most 32 ASCII letters, digits or _"),
        ))
    }
}

/// Checks a database name against MongoDB's rules (1–63 bytes, none of `/\. "$*<>:|?`).
pub(crate) fn validate_database_name(name: &str) -> Result<(), AdapterError> {
    let bad = |c: char| "/\\. \"$*<>:|?\0".contains(c);
    if !name.is_empty() && name.len() < 64 && !name.contains(bad) {
        Ok(())
    } else {
        Err(AdapterError::invalid_input(
            Operation::Connect,
            format!("{name:?} is not a valid MongoDB database name"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_and_database_names_are_checked() {
        assert!(validate_collection_prefix("").is_ok());
        assert!(validate_collection_prefix("auth_").is_ok());
        assert!(validate_collection_prefix("a.b").is_err());
        assert!(validate_collection_prefix("$bad").is_err());
        assert!(validate_collection_prefix(&"a".repeat(33)).is_err());
        assert!(validate_database_name("auth").is_ok());
        assert!(validate_database_name(&"d".repeat(63)).is_ok());
        assert!(validate_database_name(&"d".repeat(64)).is_err());
        assert!(validate_database_name("").is_err());
        assert!(validate_database_name("a$b").is_err());
        assert!(validate_database_name("a.b").is_err());
    }

    #[test]
    fn the_driver_timeouts_derive_from_the_call_timeout() {
        let call = DEFAULT_CALL_TIMEOUT;
        assert_eq!(server_selection_timeout(call), Duration::from_secs(4));
        assert_eq!(connect_timeout(call), Duration::from_secs(2));
        let call = Duration::from_secs(2);
        assert!(server_selection_timeout(call) < call);
        assert!(connect_timeout(call) < server_selection_timeout(call));
    }
}
