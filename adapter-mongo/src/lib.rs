//! # adapter-mongo
//!
//! The auth [`Adapter`](auth_core::Adapter) on MongoDB, with the official driver
//! (rustls).
//!
//! ```no_run
//! use std::sync::Arc;
//! use auth_core::Adapter;
//!
//! # async fn demo() -> Result<(), auth_core::AdapterError> {
//! // The database comes from the URL path (default `auth`).
//! let adapter = adapter_mongo::MongoAdapter::connect("mongodb://127.0.0.1:27017/myapp").await?;
//! adapter.migrate().await?; // every index; idempotent
//! let db: Arc<dyn Adapter> = Arc::new(adapter);
//! let _ = db.get_session_and_user("cookie-value").await?;
//! # Ok(()) }
//! ```
//!
//! - `migrate()` creates every index the queries need: unique email (partial, so users
//!   without one coexist), account, session, token and credential keys, one on every
//!   `user_id`, and TTL indexes on expiry.
//! - Reads of a session, account or credential join its user with `$lookup` in one round
//!   trip, so nothing whose user is gone is ever returned; expiry is checked on every read
//!   (`expires > now`), since the TTL monitor runs only once a minute.
//! - Token use is one `find_one_and_delete`: of concurrent callers exactly one wins.
//! - `update_user` / `update_session` replace the document under a filter on the fields
//!   the update leaves alone: atomic, a concurrent change is never overwritten, and a taken
//!   email is a `Conflict` that changes nothing.
//! - `delete_user` removes the user first, then what it owns; on a replica set or sharded
//!   cluster it does so in one transaction. Nothing relies on the transaction for
//!   correctness.
//!
//! Dates are BSON dates: exact to the millisecond, digits below it are dropped. Ids are
//! stored as given (`_id` of a user is its id). Every value comes from a typed field, so
//! `{"$gt": ""}` as an email or token is a plain string. The crate's README describes the
//! storage layout and which server our CI tests against.

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
