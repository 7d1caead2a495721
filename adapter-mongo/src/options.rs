//! [`MongoAdapterBuilder`]: the adapter's options.

use std::fmt;
use std::time::Duration;

use auth_core::{AdapterError, Operation};
use mongodb::options::ClientOptions;

use crate::adapter::MongoAdapter;
use crate::authjs::Layout;
use crate::error::ForOp;

/// The database used when the URL names none.
pub const DEFAULT_DATABASE: &str = "auth";
/// How long a call waits for a usable server before ADAPTER_CONNECTION_ERROR. Short enough
/// that a connect to a closed port fails within 5 s; raise it where failovers must be
/// ridden out (a replica set election takes up to about 12 s).
pub const DEFAULT_SERVER_SELECTION_TIMEOUT: Duration = Duration::from_secs(3);
/// How long opening one connection may take.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// How often the driver checks the server when the URL sets no `heartbeatFrequencyMS`: once a
/// second (the driver's own default is 10 s), so the adapter serves again within about a
/// second after the server comes back from a pause or restart.
///
/// ```
/// assert_eq!(adapter_mongo::DEFAULT_HEARTBEAT_FREQUENCY.as_secs(), 1);
/// ```
pub const DEFAULT_HEARTBEAT_FREQUENCY: Duration = Duration::from_secs(1);

/// Options for [`MongoAdapter`], from [`MongoAdapter::builder`]. The setters only record
/// values; [`connect`](Self::connect) checks them (a bad database name or collection prefix
/// is an `InvalidInput` error from there).
///
/// ```no_run
/// use std::time::Duration;
/// use adapter_mongo::MongoAdapter;
///
/// # async fn demo() -> Result<(), auth_core::AdapterError> {
/// let adapter = MongoAdapter::builder("mongodb://127.0.0.1:27017/myapp")
///     .collection_prefix("auth_")
///     .server_selection_timeout(Duration::from_secs(3))
///     .connect()
///     .await?;
/// adapter.migrate().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct MongoAdapterBuilder {
    url: String,
    database: Option<String>,
    collection_prefix: String,
    server_selection_timeout: Duration,
    connect_timeout: Duration,
    max_pool_size: Option<u32>,
    layout: Layout,
}

/// Shows the URL without its password.
///
/// ```
/// let builder = adapter_mongo::MongoAdapter::builder("mongodb://app:hunter2@db:27017/auth");
/// let shown = format!("{builder:?}");
/// assert!(shown.contains("db:27017") && !shown.contains("hunter2"), "{shown}");
/// ```
impl fmt::Debug for MongoAdapterBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MongoAdapterBuilder")
            .field("url", &auth_core::redact_url(&self.url))
            .field("database", &self.database)
            .field("collection_prefix", &self.collection_prefix)
            .field("server_selection_timeout", &self.server_selection_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("max_pool_size", &self.max_pool_size)
            .field("layout", &self.layout)
            .finish()
    }
}

impl MongoAdapterBuilder {
    /// Options for the deployment at `url` (`mongodb://` or `mongodb+srv://`); the
    /// database is the URL's path, else `auth`.
    ///
    /// ```
    /// let builder = adapter_mongo::MongoAdapterBuilder::new("mongodb://127.0.0.1:27017/app");
    /// # let _ = builder;
    /// ```
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            database: None,
            collection_prefix: String::new(),
            server_selection_timeout: DEFAULT_SERVER_SELECTION_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            max_pool_size: None,
            layout: Layout::Native,
        }
    }

    /// Uses this database instead of the URL's (checked by [`connect`](Self::connect):
    /// 1–63 bytes, none of `/\. "$*<>:|?`).
    ///
    /// ```
    /// let builder = adapter_mongo::MongoAdapter::builder("mongodb://127.0.0.1:27017").database("myapp");
    /// # let _ = builder;
    /// ```
    pub fn database(mut self, name: impl Into<String>) -> Self {
        self.database = Some(name.into());
        self
    }

    /// Prefixes every collection name (`users` becomes `<prefix>users`). ASCII letters,
    /// digits and `_`, at most 32 bytes (checked by [`connect`](Self::connect)).
    ///
    /// ```
    /// let builder = adapter_mongo::MongoAdapter::builder("mongodb://127.0.0.1:27017").collection_prefix("auth_");
    /// # let _ = builder;
    /// ```
    pub fn collection_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.collection_prefix = prefix.into();
        self
    }

    /// How long a call waits for a usable server; past it, ADAPTER_CONNECTION_ERROR.
    /// Default [`DEFAULT_SERVER_SELECTION_TIMEOUT`]. It also bounds each whole call: a
    /// call the server does not answer within it (a paused or unreachable server) fails
    /// with ADAPTER_CONNECTION_ERROR, and the driver closes its connection.
    ///
    /// ```
    /// use std::time::Duration;
    /// let builder = adapter_mongo::MongoAdapter::builder("mongodb://127.0.0.1:27017")
    ///     .server_selection_timeout(Duration::from_secs(10));
    /// # let _ = builder;
    /// ```
    pub fn server_selection_timeout(mut self, timeout: Duration) -> Self {
        self.server_selection_timeout = timeout;
        self
    }

    /// How long opening one connection may take. Default [`DEFAULT_CONNECT_TIMEOUT`].
    ///
    /// ```
    /// use std::time::Duration;
    /// let builder = adapter_mongo::MongoAdapter::builder("mongodb://127.0.0.1:27017")
    ///     .connect_timeout(Duration::from_secs(1));
    /// # let _ = builder;
    /// ```
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The most connections the driver's pool opens (the driver's default otherwise, 10).
    ///
    /// ```
    /// let builder = adapter_mongo::MongoAdapter::builder("mongodb://127.0.0.1:27017").max_pool_size(32);
    /// # let _ = builder;
    /// ```
    pub fn max_pool_size(mut self, size: u32) -> Self {
        self.max_pool_size = Some(size);
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

    /// Checks the options, connects, and checks that a server answers `ping` within the
    /// server selection timeout (else ADAPTER_CONNECTION_ERROR, with the driver's account
    /// of each server, e.g. "Connection refused", as the `source()`).
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
        validate_collection_prefix(&self.collection_prefix)?;
        if let Some(name) = &self.database {
            validate_database_name(name)?;
        }
        // Parsing resolves `mongodb+srv` names over DNS: bound it like a connection.
        let parse = ClientOptions::parse(self.url.as_str());
        let mut options = tokio::time::timeout(self.server_selection_timeout, parse)
            .await
            .map_err(|_| {
                AdapterError::new(
                    op,
                    auth_core::ErrorKind::Connection,
                    "resolving the MongoDB URL took longer than the server selection timeout",
                )
            })?
            .map_err(|e| {
                let kind = match crate::error::kind_of(&e) {
                    auth_core::ErrorKind::Connection => auth_core::ErrorKind::Connection,
                    _ => auth_core::ErrorKind::InvalidInput,
                };
                AdapterError::from_driver(op, kind, e)
            })?;
        options.server_selection_timeout = Some(self.server_selection_timeout);
        options.connect_timeout = Some(self.connect_timeout);
        // The driver's default (10 s) left the adapter failing for ~23 s after a server came
        // back from a pause (the fault drill); a URL's `heartbeatFrequencyMS` still wins.
        options.heartbeat_freq = options.heartbeat_freq.or(Some(DEFAULT_HEARTBEAT_FREQUENCY));
        if self.max_pool_size.is_some() {
            options.max_pool_size = self.max_pool_size;
        }
        options
            .app_name
            .get_or_insert_with(|| "auth-adapters".to_owned());
        let database = match self.database.or_else(|| options.default_database.clone()) {
            Some(name) => name,
            None => DEFAULT_DATABASE.to_owned(),
        };
        let client = mongodb::Client::with_options(options).for_op(op)?;
        let adapter = MongoAdapter::with_prefix(client, &database, &self.collection_prefix)?
            .with_call_timeout(self.server_selection_timeout)
            .with_layout(self.layout)?;
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
///
/// ```
/// assert!(adapter_mongo::validate_collection_prefix("auth_").is_ok());
/// assert!(adapter_mongo::validate_collection_prefix("$bad").is_err());
/// ```
pub fn validate_collection_prefix(prefix: &str) -> Result<(), AdapterError> {
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
///
/// ```
/// assert!(adapter_mongo::validate_database_name("auth").is_ok());
/// assert!(adapter_mongo::validate_database_name("a.b").is_err());
/// ```
pub fn validate_database_name(name: &str) -> Result<(), AdapterError> {
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
        assert!(validate_collection_prefix("a.b").is_err());
        assert!(validate_collection_prefix(&"a".repeat(33)).is_err());
        assert!(validate_database_name(&"d".repeat(63)).is_ok());
        assert!(validate_database_name(&"d".repeat(64)).is_err());
        assert!(validate_database_name("").is_err());
        assert!(validate_database_name("a$b").is_err());
    }
}
