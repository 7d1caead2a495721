//! # auth-core
//!
//! The contract of the auth adapter workspace: the records ([`User`], [`Account`],
//! [`Session`], [`VerificationToken`], [`Authenticator`]), the object-safe async
//! [`Adapter`] trait every backend implements, the [`ErrorCode`] catalogue of NextAuth.js
//! with [`AdapterError`], the shared email rule [`normalize_email`], and the set-up checks
//! in [`config`]. Backends implement [`Store`]; the policy layer here makes every `Store`
//! an [`Adapter`] that keeps the whole contract (validation and size caps, expiry, the
//! email key, millisecond timestamps, secrets kept out of errors and logs). With the
//! `memory` feature, [`memory::MemoryAdapter`] is a complete in-process reference adapter
//! for unit tests; [`spawn_sweeper`] (feature `sweeper`, on by default) removes expired
//! records on a schedule; [`Session::new`] draws a 256-bit token from the OS. With the
//! `at-rest` feature, [`at_rest`] wraps any adapter so session and email tokens are stored
//! hashed and OAuth tokens sealed.
//!
//! ```
//! use std::sync::Arc;
//! use auth_core::{Adapter, AdapterResult, User};
//!
//! // An app depends on the trait object and never names the backend.
//! async fn sign_up(db: Arc<dyn Adapter>, email: &str) -> AdapterResult<User> {
//!     if let Some(existing) = db.get_user_by_email(email).await? {
//!         return Ok(existing);
//!     }
//!     db.create_user(User::new().with_email(email)).await
//! }
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

mod adapter;
#[cfg(feature = "at-rest")]
#[cfg_attr(docsrs, doc(cfg(feature = "at-rest")))]
pub mod at_rest;
pub mod config;
mod email;
pub mod error;
#[cfg(feature = "memory")]
#[cfg_attr(docsrs, doc(cfg(feature = "memory")))]
pub mod memory;
mod models;
mod secret;
mod store;
#[cfg(feature = "sweeper")]
#[cfg_attr(docsrs, doc(cfg(feature = "sweeper")))]
mod sweeper;

pub use adapter::{Adapter, AdapterResult};
pub use email::normalize_email;
pub use error::{validate, AdapterError, Cause, ErrorCode, ErrorKind, ErrorSection, Operation};
pub use models::{
    truncate_to_millis, Account, AccountType, Authenticator, ExpiredCounts, Session, SessionUpdate,
    UnknownAccountType, User, UserUpdate, VerificationToken,
};
pub use secret::{generate_token, redact_url, Redacted};
pub use store::Store;
#[cfg(feature = "sweeper")]
pub use sweeper::{spawn_sweeper, SweeperHandle};

// Re-exported so adapters and users name one version of each.
pub use async_trait::async_trait;
pub use chrono;
