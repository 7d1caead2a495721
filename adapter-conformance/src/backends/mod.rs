//! The backends the suite knows, each a [`BackendSpec`]: the embedded ones always, the
//! server ones behind the cargo feature of their adapter crate.
//!
//! Adding a backend: write `backends/<name>.rs` with a `spec()` (or several) and an
//! [`Inspector`](crate::Inspector), gate it with a feature that pulls in the adapter crate,
//! list it in [`all`], and hand its spec to [`test_main`](crate::test_main) from the
//! adapter crate's `tests/conformance.rs`.

use crate::harness::BackendSpec;

pub mod assigned_ids;
#[cfg(feature = "sqlx")]
pub mod authjs_sqlx;
#[cfg(feature = "diesel")]
pub mod diesel;
pub mod memory;
#[cfg(feature = "mongo")]
pub mod mongo;
#[cfg(feature = "redis")]
pub mod redis;
#[cfg(feature = "seaorm")]
pub mod seaorm;
#[cfg(feature = "sqlx")]
pub mod sqlx;
pub mod wrapped;

/// Every backend compiled into this build, in report order.
pub fn all() -> Vec<BackendSpec> {
    #[allow(unused_mut)]
    let mut specs = vec![memory::spec()];
    #[cfg(feature = "sqlx")]
    specs.extend(sqlx::specs());
    #[cfg(feature = "sqlx")]
    specs.extend(authjs_sqlx::specs());
    #[cfg(feature = "diesel")]
    specs.extend(diesel::specs());
    #[cfg(feature = "redis")]
    specs.extend(redis::specs());
    #[cfg(feature = "mongo")]
    specs.extend(mongo::specs());
    #[cfg(feature = "seaorm")]
    specs.extend(seaorm::specs());
    // Last: the at-rest wrappers over memory, sqlite-file, postgres and redis.
    specs.extend(wrapped::specs());
    specs
}

/// The backend with this name, if compiled in.
///
/// ```
/// assert!(adapter_conformance::backends::by_name("memory").is_some());
/// assert!(adapter_conformance::backends::by_name("nosuch").is_none());
/// ```
pub fn by_name(name: &str) -> Option<BackendSpec> {
    all().into_iter().find(|spec| spec.name == name)
}
