//! # adapter-mongo
//!
//! The auth store on MongoDB, with the official driver (rustls). [`MongoAdapter`]
//! implements [`auth_core::Store`]; auth-core's policy layer makes it an
//! [`Adapter`](auth_core::Adapter) (validation, the email key, millisecond timestamps,
//! expiry filtering and secret redaction happen there, once for every backend).
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
//!   trip, so nothing whose user is gone is ever returned.
//! - Token use is one `find_one_and_delete`: of concurrent callers exactly one wins.
//! - `update_user` / `update_session` replace the document under a filter on the fields
//!   the update leaves alone: atomic, a concurrent change is never overwritten, a taken
//!   email is a `Conflict` that changes nothing, and an expired session is never revived.
//! - No transactions: `delete_user` removes the user first, then what it owns, and
//!   `link_account` / `create_session` / `create_authenticator` insert, then check the user
//!   and undo the insert if it is gone, so no interleaving of the two leaves an orphan.
//! - Every call is bounded by the [call timeout](MongoAdapterBuilder::call_timeout)
//!   (default [`DEFAULT_CALL_TIMEOUT`]): past it, or with no usable server, it fails with
//!   ADAPTER_CONNECTION_ERROR; the driver's own timeouts derive from it. Bad configuration
//!   (a URL the driver refuses, a bad database name or prefix, …) is `InvalidInput` from
//!   [`connect`](MongoAdapterBuilder::connect), before any I/O. An app's own
//!   `mongodb::Client` is shared with [`MongoAdapter::from_pool`], the same builder.
//!
//! With [`Layout::AuthJs`] (builder [`layout`](MongoAdapterBuilder::layout)) the adapter
//! reads and writes the collections of `@auth/mongodb-adapter` instead, to share the
//! database of a running Auth.js app; the README's "Sharing a database with Auth.js" says
//! what that layout guarantees and what it cannot.
//!
//! Dates are BSON dates: exact to the millisecond (the policy layer drops the digits
//! below). Ids are stored as given (`_id` of a user is its id). Every value comes from a
//! typed field, so `{"$gt": ""}` as an email or token is a plain string. The crate's
//! README describes the storage layout and which server our CI tests against.
#![deny(missing_docs)]

mod adapter;
mod authjs;
#[cfg(feature = "conformance")]
pub mod conformance;
mod documents;
mod error;
mod options;

pub use adapter::{Collections, MongoAdapter};
pub use authjs::{AuthJsCollections, Layout};
pub use options::{
    MongoAdapterBuilder, DEFAULT_CALL_TIMEOUT, DEFAULT_DATABASE, DEFAULT_HEARTBEAT_FREQUENCY,
    DEFAULT_MAX_CONNECTIONS,
};

/// The driver, re-exported so an app names the same version.
pub use mongodb;
