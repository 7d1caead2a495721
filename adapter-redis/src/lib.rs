//! # adapter-redis
//!
//! The auth adapter on Redis ([redis-rs](redis) with tokio and a
//! [`ConnectionManager`](redis::aio::ConnectionManager) that reconnects by itself):
//! atomic, indexed and self-expiring.
//!
//! ```no_run
//! use std::sync::Arc;
//! use std::time::Duration;
//! use adapter_redis::RedisAdapter;
//! use auth_core::{Adapter, User};
//!
//! # async fn run() -> Result<(), auth_core::AdapterError> {
//! // Connect (the prefix defaults to `auth:`), prepare the server, hand it to the app.
//! let adapter = RedisAdapter::builder()
//!     .key_prefix("myapp:auth:")?
//!     .response_timeout(Duration::from_secs(2))
//!     .connect("redis://127.0.0.1:6379")
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
//! (`<bytes>:<part>`), so no two tuples share a key ([`keys`] builds every key). Records
//! are JSON strings with timestamps as epoch milliseconds.
//!
//! | key | type | holds |
//! |---|---|---|
//! | `user:<id>` | string | the user |
//! | `email:<normalized email>` | string | the user id claiming the email |
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
//! `create_session` and `create_authenticator` check the user inside the script,
//! `use_verification_token` takes the token in one step (exactly one winner). Scripts
//! that need keys named by a stored record get them from Rust with the record as read, and
//! refuse (`RETRY`) when it changed meanwhile. `get_session_and_user` is one read-only
//! script: one round trip.
//!
//! ## Expiry
//!
//! Sessions and verification tokens expire in Redis itself (`PEXPIREAT` from `expires`;
//! one already expired is accepted and not stored). Index entries of expired sessions are
//! dropped lazily by `list_sessions` / `delete_sessions`, and by `delete_expired`, which
//! sweeps the expiry sorted sets: call it now and then (e.g. hourly) to keep them small.
//!
//! ## Errors
//!
//! Refused, dropped or timed-out connections are ADAPTER_CONNECTION_ERROR within the
//! configured timeouts ([`RedisAdapterBuilder`]); script outcomes map to `Conflict` and
//! `NotFound`. Timestamps keep millisecond precision (digits below are dropped).

#![cfg_attr(docsrs, feature(doc_cfg))]

mod adapter;
mod error;
pub mod keys;
mod options;
mod records;
mod scripts;

pub use adapter::{RedisAdapter, MAX_ATTEMPTS, SCHEMA_VERSION};
pub use options::{
    RedisAdapterBuilder, DEFAULT_CONNECTION_TIMEOUT, DEFAULT_RECONNECT_MAX_DELAY,
    DEFAULT_RECONNECT_RETRIES, DEFAULT_RESPONSE_TIMEOUT,
};

/// The redis-rs version this crate is built on, so users name the same one.
pub use redis;
