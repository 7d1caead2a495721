#![doc = include_str!("../README.md")]

mod store;
pub use store::{AdapterSessionStore, ANONYMOUS_OWNER_EMAIL, AXUM_LOGIN_DATA_KEY, DATA_FIELD};

#[cfg(feature = "axum-login")]
mod login;
#[cfg(feature = "axum-login")]
pub use login::{AdapterBackend, Credentials, SignedInUser, SESSION_EPOCH_FIELD};

#[cfg(feature = "axum-login")]
pub use axum_login;
#[cfg(feature = "tower-sessions-0-14")]
pub use tower_sessions_core_014 as tower_sessions_core;
