//! # adapter-redis
//!
//! The auth adapter on Redis ([redis-rs](redis) with tokio and a
//! [`ConnectionManager`](redis::aio::ConnectionManager) that reconnects by itself):
//! atomic, indexed and self-expiring. [`RedisAdapter`] implements [`auth_core::Store`]; the
//! policy layer of auth-core (input validation and size caps, the email key, millisecond
//! timestamps, the clock, expiry filtering, secrets kept out of errors, a tracing span per
//! call) makes it an [`auth_core::Adapter`]. This crate holds only what Redis needs: the key
//! layout, one Lua script per multi-key change, and expiry by `PEXPIREAT`.
//!
//! ```no_run
//! use std::sync::Arc;
//! use std::time::Duration;
//! use adapter_redis::RedisAdapter;
//! use auth_core::{Adapter, User};
//!
//! # async fn run() -> Result<(), auth_core::AdapterError> {
//! // Connect (the prefix defaults to `auth:`), prepare the server, hand it to the app.
//! let adapter = RedisAdapter::builder("redis://127.0.0.1:6379")
//!     .key_prefix("myapp:auth:")
//!     .call_timeout(Duration::from_secs(2))
//!     .connect()
//!     .await?;
//! adapter.migrate().await?;
//! let db: Arc<dyn Adapter> = Arc::new(adapter);
//!
//! let user = db.create_user(User::new().with_email("ada@example.com")).await?;
//! assert_eq!(db.get_user_by_email("ADA@example.com").await?, Some(user));
//! # Ok(()) }
//! ```
//!
//! ## Storage
//!
//! Every key starts with the prefix; each variable part is length-prefixed
//! (`<bytes>:<part>`), so no two tuples share a key (`src/keys.rs` builds every key). Records
//! are JSON strings with timestamps as epoch milliseconds; a user record with an email also
//! keeps the email key it claims (`email_key`).
//!
//! | key | type | holds |
//! |---|---|---|
//! | `user:<id>` | string | the user |
//! | `email:<email key>` | string | the user id claiming the email key |
//! | `account:<provider>:<provider_account_id>` | string | the account |
//! | `session:<token>` | string, `PEXPIREAT expires` | the session |
//! | `vtoken:<identifier>:<token>` | string, `PEXPIREAT expires` | the verification token |
//! | `authenticator:<credential id>` | string | the authenticator |
//! | `user-sessions:<id>`, `user-accounts:<id>`, `user-authenticators:<id>` | set | a user's index |
//! | `session-expiries`, `vtoken-expiries` | sorted set (score: expiry ms) | what `delete_expired` sweeps |
//! | `schema-version` | string | the layout version written by `migrate()` |
//!
//! ## Atomicity
//!
//! Every change that touches more than one key is one Lua script (called by SHA1 with
//! `EVALSHA`, loaded on demand): `create_user` claims the id and the email together,
//! `update_user` moves the email claim, `delete_user` removes the user with its email
//! claim, accounts, sessions, authenticators and index sets, `link_account`,
//! `create_session` and `create_authenticator` check the user and insert in the same
//! script (so a concurrent `delete_user` leaves no orphan: it either sees the new entry in
//! the user's index or makes the insert answer `NotFound`), `unlink_account`,
//! `delete_session` and `delete_authenticator` remove the record with its index entries,
//! `use_verification_token` takes the token in one step (exactly one winner). Scripts that
//! need keys named by a stored record get them from Rust with the record as read, and
//! refuse (`RETRY`) when it changed meanwhile; one helper retries (at most
//! [`MAX_ATTEMPTS`] times). `get_session_and_user` is one read-only script: one round trip.
//!
//! ## Expiry
//!
//! Sessions and verification tokens expire in Redis itself (`PEXPIREAT` from `expires`;
//! one already expired is accepted and not stored). The session read leaves expiry to Redis
//! (an expired key is gone) and to the policy layer, which compares `expires` with its `now`
//! on the way out, so its script is two `GET`s and no clock; changes compare `expires` with
//! the policy layer's `now`: `update_session` applies only to a live session and never
//! revives an expired one. Index entries that point at nothing (an expired session) are
//! dropped by `list_sessions`, `list_accounts`, `list_authenticators` and `delete_sessions`,
//! and by `delete_expired`, which sweeps the expiry sorted sets: call it now and then (e.g.
//! hourly, with `auth_core::spawn_sweeper`) to keep them small.
//!
//! Counts are exact: `delete_sessions` returns the number of live sessions it removed;
//! `delete_expired(now)` the number of records it removed itself. A record that Redis has
//! already expired on its own is gone before the sweep, so it is not counted (its index
//! entries are still cleaned up).
//!
//! ## The Auth.js layout
//!
//! With [`Layout::AuthJsUnstorage`] (set by [`RedisAdapterBuilder::layout`]) the adapter
//! reads and writes the keys and JSON values of `@auth/unstorage-adapter` on unstorage's
//! Redis driver instead (`user:{id}`, `user:email:{email}`, `user:session:{token}`, …), so a
//! Rust service shares the Redis of a running Auth.js app. Changes stay atomic (one
//! compare-and-set script on exactly those keys) and sessions and tokens still expire in
//! Redis; what that layout cannot hold (one by-user-id pointer per user, keys that can
//! collide) is in the README's per-layout table.
//!
//! ## Errors
//!
//! Every call (`connect`, `migrate()` and each adapter method, all of its round trips
//! included) fails with ADAPTER_CONNECTION_ERROR once the
//! [call timeout](RedisAdapterBuilder::call_timeout) has passed, whatever the server does;
//! refused or dropped connections fail with the cause (e.g. "Connection refused") in
//! `source()`, a refused connect at once. Bad configuration (a malformed URL, an invalid
//! key prefix, a prefix with the Auth.js layout, a reconnect option for an adopted
//! manager) is `InvalidInput` from `connect`, before any I/O. An app's own
//! `ConnectionManager` is shared with [`RedisAdapter::from_pool`], the same builder. Script
//! outcomes map to `Conflict` and `NotFound`; no script error or message quotes a key.
//! Timestamps keep millisecond precision (the policy layer drops the digits below).

#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]

mod adapter;
#[cfg(feature = "conformance")]
pub mod conformance;
mod error;
// Not part of the API: the key builder is public only because the workspace's conformance
// CLI (its raw-read floor) and tests read and write the native layout's keys directly.
#[doc(hidden)]
pub mod keys;
mod layout;
mod options;
mod records;
mod scripts;
mod unstorage;

pub use adapter::{RedisAdapter, MAX_ATTEMPTS, SCHEMA_VERSION};
pub use layout::{Layout, UnstorageLayout};
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
}
