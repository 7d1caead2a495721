//! # adapter-sqlx
//!
//! The [`auth_core::Adapter`] for PostgreSQL, MySQL 8 / MariaDB and SQLite, on
//! [sqlx](https://docs.rs/sqlx) 0.9: one type, [`SqlxAdapter`], that picks the database
//! from the URL. SQLite (bundled) is the default feature; `postgres` and `mysql` add the
//! servers. TLS is rustls.
//!
//! ```no_run
//! use std::sync::Arc;
//! use std::time::Duration;
//!
//! use adapter_sqlx::SqlxAdapter;
//! use auth_core::{Adapter, Session, User};
//! use chrono::{Duration as Span, Utc};
//!
//! # async fn run() -> Result<(), auth_core::AdapterError> {
//! // `sqlite://auth.db?mode=rwc`, `postgres://…` or `mysql://…` alike.
//! let adapter = SqlxAdapter::builder("sqlite://auth.db?mode=rwc")
//!     .max_connections(8)
//!     .call_timeout(Duration::from_secs(3))
//!     .connect()
//!     .await?;
//! adapter.migrate().await?; // idempotent: run it at every start
//!
//! // The app's auth layer holds the trait object and never names the backend.
//! let db: Arc<dyn Adapter> = Arc::new(adapter);
//! let user = db.create_user(User::new().with_email("ada@example.com")).await?;
//! db.create_session(Session::with_token("cookie-token", &user.id, Utc::now() + Span::days(30)))
//!     .await?;
//! let (_session, signed_in) = db.get_session_and_user("cookie-token").await?.expect("live");
//! assert_eq!(signed_in.id, user.id);
//! # Ok(())
//! # }
//! ```
//!
//! ## Sharing a database with Auth.js
//!
//! [`SqlxAdapterBuilder::layout`] picks whose tables the adapter uses: this crate's own
//! ([`Layout::Native`], the default, described below) or those of a running Auth.js app
//! ([`Layout::AuthJsPg`]: @auth/pg-adapter on PostgreSQL; [`Layout::AuthJsDrizzle`]: the
//! @auth/drizzle-adapter default schema on PostgreSQL, SQLite or MariaDB), so a Rust service
//! reads and writes the same users, accounts and sessions as the Node app. The crate README
//! lists, per layout, what `migrate` adds and which guarantees hold.
//!
//! ## What it stores and how
//!
//! Five tables, `<prefix>users`, `accounts`, `sessions`, `verification_tokens` and
//! `authenticators` (prefix `auth_` by default, see [`SqlxAdapterBuilder::table_prefix`]),
//! created by [`SqlxAdapter::migrate`] from the migrations embedded per [`Dialect`]. Ids and
//! tokens are the text primary keys given by the caller; emails are unique through a
//! `email_normalized` column filled with [`auth_core::normalize_email`] in Rust (NULL for
//! users without email); every `user_id` has an index and a foreign key with
//! `ON DELETE CASCADE`. Timestamps are `TIMESTAMPTZ` (PostgreSQL), `DATETIME(3)` in UTC
//! (MySQL/MariaDB) or integer milliseconds (SQLite); digits below the millisecond are
//! dropped on write.
//!
//! Every statement is rendered once, at connect time, and prepared and cached per
//! connection by sqlx. Connections come from the adapter's own pool (deadpool over sqlx
//! connections), whose checkout never touches the network: a call costs the round trips of
//! its statements and nothing more (sqlx's own pool pings before and after every use). A
//! connection whose call was cancelled or broke is discarded, a reused connection found
//! broken (a server restart) is retried once on a new one, and every call, connecting
//! included, is bounded by the call timeout ([`SqlxAdapterBuilder::call_timeout`]). `get_session_and_user` is one joined `SELECT`;
//! `use_verification_token` one `DELETE … RETURNING` (a locking transaction on MySQL 8);
//! `update_user` one `UPDATE … RETURNING` (an update-then-read transaction on
//! MySQL/MariaDB); `delete_user` one cascading `DELETE`.
//!
//! [`SqlxAdapter`] implements [`auth_core::Store`]; auth-core's policy layer turns it into
//! an [`auth_core::Adapter`] that validates every input before anything is sent (the size
//! caps of [`auth_core::validate`] fit every column of every dialect, and no NUL byte is
//! accepted anywhere), cuts timestamps to the millisecond and keeps secrets out of errors.
//! Errors are [`auth_core::AdapterError`]s: a unique key taken is `Conflict`, a missing
//! user behind a foreign key `NotFound` (also when the user is deleted concurrently: the
//! foreign key leaves no orphan), and a database that does not answer within the call
//! timeout ADAPTER_CONNECTION_ERROR; the same adapter works again when it is back. A
//! database that refuses connections fails [`SqlxAdapterBuilder::connect`] at once with the
//! real cause; options that cannot work (a URL the driver cannot read, an unknown scheme, a
//! bad table prefix) fail it with `InvalidInput` before anything is sent.
//!
//! An application that already has an sqlx pool hands it over with
//! [`SqlxAdapter::from_pool`], which returns the same builder (prefix, layout and call
//! timeout apply).
#![cfg_attr(docsrs, feature(doc_cfg))]

mod adapter;
mod authjs;
#[cfg(feature = "conformance")]
pub mod conformance;
mod dialect;
mod error;
mod layout;
mod lease;
mod migrate;
mod options;
mod pool;
mod rows;

pub use adapter::SqlxAdapter;
pub use dialect::Dialect;
pub use layout::Layout;
pub use options::{
    SqlxAdapterBuilder, DEFAULT_CALL_TIMEOUT, DEFAULT_MAX_CONNECTIONS, DEFAULT_TABLE_PREFIX,
    MAX_TABLE_PREFIX_LEN,
};
pub use pool::SqlxPool;

/// The sqlx this crate is built on, so an application names the same version.
pub use sqlx;

/// How sqlx errors map onto the contract's [`auth_core::ErrorKind`]s, for crates that reach
/// a database through sqlx another way (adapter-seaorm): the classification is written
/// once, here.
//
// Public only because adapter-seaorm (a separate crate) reaches its databases through sqlx
// too and must classify sqlx errors exactly as this crate does; it is no part of this
// crate's API for applications, hence hidden from the docs and free to change.
#[doc(hidden)]
pub mod errors {
    pub use crate::error::{invalid_config, kind_of, map, map_connect};
}

/// Connects with the default options; the same as [`SqlxAdapter::connect`].
///
/// ```no_run
/// # async fn run() -> Result<(), auth_core::AdapterError> {
/// let adapter = adapter_sqlx::connect("sqlite::memory:").await?;
/// adapter.migrate().await?;
/// # Ok(())
/// # }
/// ```
pub async fn connect(url: &str) -> Result<SqlxAdapter, auth_core::AdapterError> {
    SqlxAdapter::connect(url).await
}
