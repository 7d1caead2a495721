#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

mod adapter;
mod authjs;
#[cfg(feature = "conformance")]
pub mod conformance;
mod documents;
mod error;
mod extra;
mod indexes;
mod layout;
mod native;
mod options;
mod shared;

pub use adapter::MongoAdapter;
pub use layout::{AuthJsCollections, Collections, Layout};
pub use options::{
    MongoAdapterBuilder, DEFAULT_CALL_TIMEOUT, DEFAULT_DATABASE, DEFAULT_HEARTBEAT_FREQUENCY,
    DEFAULT_MAX_CONNECTIONS,
};

/// The driver, re-exported so an app names the same version.
pub use mongodb;
