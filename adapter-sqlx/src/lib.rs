#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod adapter;
mod authjs;
#[cfg(feature = "conformance")]
pub mod conformance;
mod connect;
mod dialect;
mod error;
mod layout;
mod lease;
pub mod migrate;
mod options;
mod pool;
mod replicas;
mod rows;
mod store;

pub use adapter::SqlxAdapter;
pub use dialect::Dialect;
pub use layout::Layout;
pub use options::{
    SqlxAdapterBuilder, DEFAULT_CALL_TIMEOUT, DEFAULT_MAX_CONNECTIONS, DEFAULT_TABLE_PREFIX,
    MAX_TABLE_PREFIX_LEN,
};
pub use pool::SqlxPool;
pub use replicas::ReplicaStatus;

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
    pub use crate::error::{
        invalid_config, is_transient, kind_of, map, map_connect, map_migrate, transaction_gone,
        TRANSACTION_CHECK, TRANSACTION_GONE,
    };
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
