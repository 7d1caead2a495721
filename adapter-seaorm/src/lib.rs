#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod adapter;
#[cfg(feature = "conformance")]
pub mod conformance;
mod connect;
pub mod entities;
mod error;
mod extra;
mod options;
mod stamp;
mod store;

pub use adapter::SeaOrmAdapter;
/// The database an adapter talks to: auth-sql's type, as in adapter-sqlx, whose schema and
/// rules for which statements can return rows this crate shares.
pub use adapter_sqlx::Dialect;
/// Where a database stands against the shared schema ([`SeaOrmAdapter::schema_status`]).
pub use auth_sql::schema::SchemaStatus;
pub use options::{SeaOrmAdapterBuilder, DEFAULT_CALL_TIMEOUT, DEFAULT_MAX_CONNECTIONS};

/// The SeaORM this crate is built on, so an application names the same version.
pub use sea_orm;

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
