//! # adapter-seaorm
//!
//! The [`auth_core::Adapter`] for PostgreSQL, MySQL 8 / MariaDB and SQLite on
//! [SeaORM](https://www.sea-ql.org/SeaORM/) 2 (over sqlx 0.9, tokio, rustls): one type,
//! [`SeaOrmAdapter`], that picks the database from the URL. SQLite (bundled) is the default
//! feature; `postgres` and `mysql` add the servers.
//!
//! ```no_run
//! use std::sync::Arc;
//! use std::time::Duration;
//!
//! use adapter_seaorm::SeaOrmAdapter;
//! use auth_core::{Adapter, Session, User};
//! use chrono::Duration as Span;
//!
//! # async fn run() -> Result<(), auth_core::AdapterError> {
//! // `sqlite://auth.db?mode=rwc`, `postgres://…` or `mysql://…` alike.
//! let adapter = SeaOrmAdapter::builder("sqlite://auth.db?mode=rwc")
//!     .max_connections(8)
//!     .call_timeout(Duration::from_secs(3))
//!     .connect()
//!     .await?;
//! adapter.migrate().await?; // idempotent: run it at every start
//!
//! // The app's auth layer holds the trait object and never names the backend.
//! let db: Arc<dyn Adapter> = Arc::new(adapter);
//! let user = db.create_user(User::new().with_email("ada@example.com")).await?;
//! let session = db.create_session(Session::new(&user.id, Span::days(30))).await?;
//! let (_, signed_in) = db.get_session_and_user(&session.session_token).await?.expect("live");
//! assert_eq!(signed_in.id, user.id);
//! # Ok(())
//! # }
//! ```
//!
//! An application that already has a SeaORM connection hands it over with
//! [`SeaOrmAdapter::from_pool`] (the same builder; the call timeout applies) and shares its
//! pool.
//!
//! ## What it stores and how
//!
//! Exactly the schema of adapter-sqlx with its default prefix: five tables, `auth_users`,
//! `auth_accounts`, `auth_sessions`, `auth_verification_tokens` and `auth_authenticators`
//! ([`entities`]), created by [`SeaOrmAdapter::migrate`] through the `sea-orm-migration`
//! [`Migrator`] with `CREATE … IF NOT EXISTS`. Either crate can open, migrate and serve a
//! database the other wrote: switching between them needs no data migration. Ids and tokens
//! are the text primary keys given by the caller; emails are unique through
//! `email_normalized` ([`auth_core::normalize_email`], computed by the policy layer); every
//! `user_id` has an index and a foreign key with `ON DELETE CASCADE`. Timestamps are
//! `TIMESTAMPTZ` (PostgreSQL), `DATETIME(3)` in UTC (MySQL/MariaDB) or integer milliseconds
//! (SQLite).
//!
//! `get_session_and_user` is one joined `SELECT` (`expires > now`); `use_verification_token`
//! one `DELETE … RETURNING` (PostgreSQL, SQLite, MariaDB ≥ 10.5; a `SELECT … FOR UPDATE`
//! transaction on MySQL 8), so of concurrent callers exactly one wins; `delete_user` one
//! cascading `DELETE`; changes are one `UPDATE … RETURNING` (a locking transaction on
//! MySQL/MariaDB).
//!
//! The adapter implements [`auth_core::Store`]: the policy layer of auth-core validates
//! every input, computes the email key, cuts timestamps to the millisecond, supplies the
//! clock, filters expired records and keeps secrets out of errors. Errors are mapped in one
//! place from sqlx's error kinds and SQLSTATEs: a unique key taken is `Conflict`, a missing
//! user behind a foreign key `NotFound`, a call the database does not finish within the call
//! timeout ([`SeaOrmAdapterBuilder::call_timeout`]) ADAPTER_CONNECTION_ERROR (with the real
//! cause, e.g. "Connection refused"), and options that cannot work (a URL sqlx cannot read,
//! an unknown scheme) `InvalidInput` from [`SeaOrmAdapterBuilder::connect`] before anything
//! is sent. Expired
//! rows are removed by `delete_expired`; [`auth_core::spawn_sweeper`] calls it on a schedule.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod adapter;
#[cfg(feature = "conformance")]
pub mod conformance;
mod dialect;
pub mod entities;
mod error;
pub mod migration;
mod options;
mod stamp;

pub use adapter::SeaOrmAdapter;
pub use dialect::Dialect;
pub use migration::Migrator;
pub use options::{SeaOrmAdapterBuilder, DEFAULT_CALL_TIMEOUT, DEFAULT_MAX_CONNECTIONS};

/// The SeaORM this crate is built on, so an application names the same version.
pub use sea_orm;
/// The migration crate of [`Migrator`].
pub use sea_orm_migration;

/// Connects with the default options; the same as [`SeaOrmAdapter::connect`].
///
/// ```no_run
/// # async fn run() -> Result<(), auth_core::AdapterError> {
/// let adapter = adapter_seaorm::connect("sqlite::memory:").await?;
/// adapter.migrate().await?;
/// # Ok(())
/// # }
/// ```
pub async fn connect(url: &str) -> Result<SeaOrmAdapter, auth_core::AdapterError> {
    SeaOrmAdapter::connect(url).await
}
