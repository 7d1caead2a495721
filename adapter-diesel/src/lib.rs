#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]

mod adapter;
#[cfg(feature = "conformance")]
pub mod conformance;
mod connect;
mod dialect;
mod error;
mod extra;
mod migrate;
mod options;
mod pool;
mod rows;
pub mod schema;
mod store;

pub use adapter::DieselAdapter;
/// Where a database stands against the shared schema ([`DieselAdapter::schema_status`]).
pub use auth_sql::schema::SchemaStatus;
pub use dialect::Dialect;
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
