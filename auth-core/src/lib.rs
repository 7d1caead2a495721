#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod adapter;
#[cfg(feature = "at-rest")]
#[cfg_attr(docsrs, doc(cfg(feature = "at-rest")))]
pub mod at_rest;
#[cfg(feature = "call-bound")]
#[cfg_attr(docsrs, doc(cfg(feature = "call-bound")))]
pub mod bound;
pub mod config;
mod email;
pub mod error;
pub mod extra;
pub mod forward;
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
#[cfg(feature = "email-identity")]
#[cfg_attr(docsrs, doc(cfg(feature = "email-identity")))]
pub use email::{email_identity, InvalidEmail, MAX_IDENTITY_BYTES};
pub use error::{validate, AdapterError, Cause, ErrorCode, ErrorKind, ErrorSection, Operation};
pub use extra::{Extra, ExtraChange};
pub use models::{
    truncate_to_millis, Account, AccountType, Authenticator, ExpiredCounts, Session, SessionUpdate,
    UnknownAccountType, User, UserUpdate, VerificationToken,
};
pub use secret::{generate_token, redact_url, Redacted};
pub use store::{retry_pause, Store, TRANSIENT_RETRIES};
#[cfg(feature = "sweeper")]
pub use sweeper::{spawn_sweeper, SweeperHandle};

// Re-exported so adapters and users name one version of each.
pub use async_trait::async_trait;
pub use chrono;
pub use serde_json;
