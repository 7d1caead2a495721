//! # adapter-diesel
//!
//! The [`auth_core::Adapter`] for PostgreSQL, MariaDB/MySQL and SQLite on
//! [diesel](https://diesel.rs) 2.3 and [diesel-async](https://docs.rs/diesel-async) 0.9,
//! every query written in diesel's typed DSL against the `diesel::table!` definitions in
//! [`schema`]. One type, [`DieselAdapter`], picks the database from the URL. SQLite
//! (bundled) is the default feature; `postgres` and `mysql` add the servers through
//! diesel-async's own drivers (tokio-postgres, mysql_async): no libpq, no libmysqlclient.
//! TLS is rustls.
//!
//! ```no_run
//! use std::sync::Arc;
//! use std::time::Duration;
//!
//! use adapter_diesel::DieselAdapter;
//! use auth_core::{Adapter, Session, User};
//! use chrono::{Duration as Span, Utc};
//!
//! # async fn run() -> Result<(), auth_core::AdapterError> {
//! // `sqlite://auth.db`, `postgres://…` or `mysql://…` alike.
//! let adapter = DieselAdapter::builder("sqlite://auth.db")
//!     .max_connections(8)
//!     .call_timeout(Duration::from_secs(3))
//!     .connect()
//!     .await?;
//! adapter.migrate().await?; // idempotent: run it at every start
//!
//! let db: Arc<dyn Adapter> = Arc::new(adapter);
//! let user = db.create_user(User::new().with_email("ada@example.com")).await?;
//! let session = db.create_session(Session::new(&user.id, Span::days(30))).await?;
//! let (_, signed_in) = db.get_session_and_user(&session.session_token).await?.expect("live");
//! assert_eq!(signed_in.id, user.id);
//! # Ok(())
//! # }
//! ```
//!
//! ## One schema with adapter-sqlx
//!
//! The tables are exactly those adapter-sqlx creates with its default prefix `auth_`
//! (`auth_users`, `auth_accounts`, `auth_sessions`, `auth_verification_tokens`,
//! `auth_authenticators`: same columns, types, keys, indexes and `ON DELETE CASCADE`), and
//! every migration statement is `CREATE … IF NOT EXISTS`, so an app moves from one crate to
//! the other with no data migration. Timestamps are `TIMESTAMPTZ` (PostgreSQL),
//! `DATETIME(3)` holding UTC (MariaDB), or integer epoch milliseconds (SQLite); digits below
//! the millisecond are dropped on write. MariaDB tables use the `utf8mb4_nopad_bin`
//! collation (MariaDB 10.2 or later).
//!
//! ## Queries
//!
//! `get_session_and_user` is one joined `SELECT` with `expires > now`, and its checkout
//! runs no query (the pool recycles with `RecyclingMethod::Fast`; broken connections are
//! discarded, see [`DieselPool`]), so it costs one round trip. `use_verification_token`,
//! `delete_session`, `unlink_account` and `delete_user` are one `DELETE … RETURNING` on
//! PostgreSQL and SQLite (and `delete_user` cascades to accounts, sessions and
//! authenticators), one `SELECT … FOR UPDATE` + `DELETE` transaction on MariaDB;
//! `update_user`, `update_session`, `update_account` are one `UPDATE … RETURNING`, or an
//! update-then-read transaction on MariaDB.
//!
//! Errors are [`auth_core::AdapterError`]s, classified from diesel's
//! `DatabaseErrorKind`: a unique key taken is `Conflict`, a missing user behind a foreign
//! key `NotFound`, and a call the database does not finish within the call timeout
//! ([`DieselAdapterBuilder::call_timeout`], checkout included) ADAPTER_CONNECTION_ERROR;
//! the same adapter works again when it is back. Options that cannot work (a URL the
//! driver cannot read, an unknown scheme) fail [`DieselAdapterBuilder::connect`] with
//! `InvalidInput` before anything is sent.
//!
//! An application that already has a diesel-async pool hands it over with
//! [`DieselAdapter::from_pool`], which returns the same builder (the call timeout
//! applies).
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]

mod adapter;
#[cfg(feature = "conformance")]
pub mod conformance;
mod connect;
mod dialect;
mod error;
mod migrate;
mod options;
mod pool;
mod rows;
pub mod schema;
mod store;

pub use adapter::DieselAdapter;
pub use dialect::Dialect;
#[cfg(feature = "mysql")]
pub use migrate::MYSQL_MIGRATIONS;
#[cfg(feature = "postgres")]
pub use migrate::POSTGRES_MIGRATIONS;
#[cfg(feature = "sqlite")]
pub use migrate::SQLITE_MIGRATIONS;
pub use options::{DieselAdapterBuilder, DEFAULT_CALL_TIMEOUT, DEFAULT_MAX_CONNECTIONS};
#[cfg(feature = "mysql")]
pub use pool::MysqlConnection;
#[cfg(feature = "postgres")]
pub use pool::PgConnection;
#[cfg(feature = "sqlite")]
pub use pool::SqliteConnection;
pub use pool::{DeadPool, DieselPool};

/// The diesel this crate is built on, so an application names the same version.
pub use diesel;
/// The diesel-async this crate is built on (its pool types build a [`DieselPool`]).
pub use diesel_async;

/// Connects with the default options; the same as [`DieselAdapter::connect`].
///
/// ```no_run
/// # async fn run() -> Result<(), auth_core::AdapterError> {
/// let adapter = adapter_diesel::connect("sqlite::memory:").await?;
/// adapter.migrate().await?;
/// # Ok(())
/// # }
/// ```
pub async fn connect(url: &str) -> Result<DieselAdapter, auth_core::AdapterError> {
    DieselAdapter::connect(url).await
}
