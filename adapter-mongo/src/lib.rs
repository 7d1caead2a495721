//! # adapter-mongo
//!
//! The auth [`Adapter`](auth_core::Adapter) on MongoDB, with the official driver
//! (rustls). `migrate()` creates every index the queries need (unique email, account,
//! session, token and credential keys, one on every `user_id`, TTL indexes on expiry);
//! `get_session_and_user` is one aggregation (`$match` + `$lookup`); token use is one
//! `find_one_and_delete`; `delete_user` removes the user first, so no read ever sees what a
//! half-done delete leaves behind. Nothing relies on a multi-document transaction.
//!
//! ```no_run
//! use std::sync::Arc;
//! use auth_core::Adapter;
//!
//! # async fn demo() -> Result<(), auth_core::AdapterError> {
//! // The database comes from the URL path (default `auth`).
//! let adapter = adapter_mongo::MongoAdapter::connect("mongodb://127.0.0.1:27017/myapp").await?;
//! adapter.migrate().await?;
//! let db: Arc<dyn Adapter> = Arc::new(adapter);
//! let _ = db.get_session_and_user("cookie-value").await?;
//! # Ok(()) }
//! ```
//!
//! Dates are BSON dates: exact to the millisecond, digits below it are dropped.

mod adapter;
mod documents;
mod error;
mod options;

pub use adapter::{Collections, MongoAdapter};
pub use error::{kind_of, map_error, DUPLICATE_KEY};
pub use options::{
    supports_transactions, validate_collection_prefix, validate_database_name, MongoAdapterBuilder,
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_DATABASE, DEFAULT_SERVER_SELECTION_TIMEOUT,
};

/// The driver, re-exported so an app names the same version.
pub use mongodb;
