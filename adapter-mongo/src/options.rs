//! [`MongoAdapterBuilder`]: the adapter's options.

use std::time::Duration;

use auth_core::{AdapterError, Operation};
use mongodb::bson::{Bson, Document};
use mongodb::options::ClientOptions;

use crate::adapter::{Collections, MongoAdapter};
use crate::error::ForOp;

/// The database used when the URL names none.
pub const DEFAULT_DATABASE: &str = "auth";
/// How long a call waits for a usable server before ADAPTER_CONNECTION_ERROR.
pub const DEFAULT_SERVER_SELECTION_TIMEOUT: Duration = Duration::from_secs(10);
/// How long opening one connection may take.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Options for [`MongoAdapter`].
///
/// ```no_run
/// use std::time::Duration;
/// use adapter_mongo::MongoAdapter;
///
/// # async fn demo() -> Result<(), auth_core::AdapterError> {
/// let adapter = MongoAdapter::builder("mongodb://127.0.0.1:27017/myapp")
///     .collection_prefix("auth_")?
///     .server_selection_timeout(Duration::from_secs(3))
///     .connect()
///     .await?;
/// adapter.migrate().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct MongoAdapterBuilder {
    url: String,
    database: Option<String>,
    collection_prefix: String,
    server_selection_timeout: Duration,
    connect_timeout: Duration,
    max_pool_size: Option<u32>,
    transactions: bool,
}

impl MongoAdapterBuilder {
    /// Options for the deployment at `url` (`mongodb://` or `mongodb+srv://`); the
    /// database is the URL's path, else `auth`.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            database: None,
            collection_prefix: String::new(),
            server_selection_timeout: DEFAULT_SERVER_SELECTION_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            max_pool_size: None,
            transactions: true,
        }
    }

    /// Uses this database instead of the URL's.
    pub fn database(mut self, name: impl Into<String>) -> Result<Self, AdapterError> {
        let name = name.into();
        validate_database_name(&name)?;
        self.database = Some(name);
        Ok(self)
    }

    /// Prefixes every collection name (`users` becomes `<prefix>users`). ASCII letters,
    /// digits and `_`, at most 32 bytes.
    pub fn collection_prefix(mut self, prefix: impl Into<String>) -> Result<Self, AdapterError> {
        let prefix = prefix.into();
        validate_collection_prefix(&prefix)?;
        self.collection_prefix = prefix;
        Ok(self)
    }

    /// How long a call waits for a usable server; past it, ADAPTER_CONNECTION_ERROR.
    pub fn server_selection_timeout(mut self, timeout: Duration) -> Self {
        self.server_selection_timeout = timeout;
        self
    }

    /// How long opening one connection may take.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The most connections the driver's pool opens.
    pub fn max_pool_size(mut self, size: u32) -> Self {
        self.max_pool_size = Some(size);
        self
    }

    /// Whether `delete_user` may run in a multi-document transaction where the deployment
    /// supports one (a replica set or a sharded cluster, seen in its `hello` reply).
    /// Default `true`; `false` always uses the ordered writes, which are correct on their
    /// own (see the crate's README).
    pub fn transactions(mut self, enabled: bool) -> Self {
        self.transactions = enabled;
        self
    }

    /// Connects, checks that a server answers `hello` within the server selection timeout
    /// (else ADAPTER_CONNECTION_ERROR) and reads from its reply whether the deployment
    /// supports transactions.
    pub async fn connect(self) -> Result<MongoAdapter, AdapterError> {
        let op = Operation::Connect;
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
                AdapterError::invalid_input(op, format!("bad MongoDB URL: {e}")).with_source(e)
            })?;
        options.server_selection_timeout = Some(self.server_selection_timeout);
        options.connect_timeout = Some(self.connect_timeout);
        if self.max_pool_size.is_some() {
            options.max_pool_size = self.max_pool_size;
        }
        options
            .app_name
            .get_or_insert_with(|| "auth-adapters".to_owned());
        let database = match self.database.or_else(|| options.default_database.clone()) {
            Some(name) => {
                validate_database_name(&name)?;
                name
            }
            None => DEFAULT_DATABASE.to_owned(),
        };
        let client = mongodb::Client::with_options(options).for_op(op)?;
        let db = client.database(&database);
        let hello = match db.run_command(mongodb::bson::doc! { "hello": 1 }).await {
            Ok(reply) => reply,
            // A server too old for `hello` answers the legacy command with the same fields.
            Err(e) if matches!(*e.kind, mongodb::error::ErrorKind::Command(_)) => db
                .run_command(mongodb::bson::doc! { "isMaster": 1 })
                .await
                .for_op(op)?,
            Err(e) => return Err(crate::error::map_error(op, e)),
        };
        let transactions = self.transactions && supports_transactions(&hello);
        tracing::debug!(database, transactions, "connected to MongoDB");
        Ok(MongoAdapter::from_parts(
            client,
            db,
            Collections::new(&self.collection_prefix),
            transactions,
        ))
    }
}

/// Whether a deployment supports multi-document transactions, from its `hello` reply:
/// a replica set member (`setName`) or a mongos router (`msg: "isdbgrid"`) that supports
/// sessions (`logicalSessionTimeoutMinutes`). A standalone server does not.
///
/// ```
/// use adapter_mongo::{mongodb::bson::doc, supports_transactions};
/// let replica_set = doc! { "isWritablePrimary": true, "setName": "rs", "logicalSessionTimeoutMinutes": 30 };
/// assert!(supports_transactions(&replica_set));
/// let standalone = doc! { "isWritablePrimary": true, "logicalSessionTimeoutMinutes": 30 };
/// assert!(!supports_transactions(&standalone));
/// ```
pub fn supports_transactions(hello: &Document) -> bool {
    let sessions = hello.contains_key("logicalSessionTimeoutMinutes");
    let replica_set = matches!(hello.get("setName"), Some(Bson::String(name)) if !name.is_empty());
    let mongos = matches!(hello.get("msg"), Some(Bson::String(msg)) if msg == "isdbgrid");
    sessions && (replica_set || mongos)
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
    use mongodb::bson::doc;

    #[test]
    fn transactions_follow_the_topology() {
        let mongos = doc! { "msg": "isdbgrid", "logicalSessionTimeoutMinutes": 30 };
        assert!(supports_transactions(&mongos));
        // The nx-27017 stand-in's reply: a standalone server.
        let stand_in = doc! {
            "ok": 1, "isWritablePrimary": true, "maxWireVersion": 25,
            "logicalSessionTimeoutMinutes": 30, "connectionId": 1,
        };
        assert!(!supports_transactions(&stand_in));
        let no_sessions = doc! { "setName": "rs" };
        assert!(!supports_transactions(&no_sessions));
    }

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
