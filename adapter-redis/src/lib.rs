#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]

mod adapter;
mod cluster;
#[cfg(feature = "conformance")]
pub mod conformance;
mod connection;
mod error;
// Not part of the API: the key builder is public only because the workspace's conformance
// CLI (its raw-read floor) and tests read and write the native layout's keys directly.
#[doc(hidden)]
pub mod keys;
mod layout;
mod native;
mod options;
mod records;
mod scripts;
mod unstorage;

pub use adapter::RedisAdapter;
pub use cluster::CLUSTER_SCHEMA_VERSION;
pub use connection::MAX_ATTEMPTS;
pub use layout::{Layout, UnstorageLayout};
pub use native::SCHEMA_VERSION;
pub use options::{
    RedisAdapterBuilder, DEFAULT_CALL_TIMEOUT, DEFAULT_RECONNECT_MAX_DELAY,
    DEFAULT_RECONNECT_RETRIES,
};

/// The redis-rs version this crate is built on, so users name the same one.
pub use redis;

/// Sources of the hot-path scripts, for benchmarks that run them raw (the floor the
/// adapter is compared with by `conformance-cli bench`). The adapter itself calls them
/// by SHA1 through [`redis::Script`].
// Not part of the API: public only for the workspace's conformance CLI, whose raw floor
// runs the same script the adapter runs.
#[doc(hidden)]
pub mod bench_scripts {
    /// `get_session_and_user.lua`: `KEYS[1]` the session key, `ARGV[1]` the key prefix;
    /// replies `{session record, user record}` or nil.
    ///
    /// ```
    /// assert!(adapter_redis::bench_scripts::GET_SESSION_AND_USER.contains("redis.call('GET'"));
    /// ```
    pub const GET_SESSION_AND_USER: &str = include_str!("scripts/get_session_and_user.lua");

    /// The cluster mode's `cluster/owner_read.lua`: `KEYS[1]` the owner's user key,
    /// `KEYS[2]` the owner's index, `ARGV[1]` the member; replies the user record when the
    /// index lists the member, else nil. The second step of a cluster session read (the
    /// first is `GET` and `PEXPIRETIME` of the session key).
    ///
    /// ```
    /// assert!(adapter_redis::bench_scripts::CLUSTER_OWNER_READ.contains("ZSCORE"));
    /// ```
    pub const CLUSTER_OWNER_READ: &str = include_str!("scripts/cluster/owner_read.lua");
}
