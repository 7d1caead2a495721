//! Every backend of the workspace, in report order: the suite's own memory backend, each
//! adapter crate's backends (its `conformance` feature), and the at-rest wrappers over a
//! few of them ([`wrapped`]).

use adapter_conformance::BackendSpec;

pub use adapter_conformance::backends::memory;
pub use adapter_diesel::conformance as diesel;
pub use adapter_mongo::conformance as mongo;
pub use adapter_redis::conformance as redis;
pub use adapter_seaorm::conformance as seaorm;
pub use adapter_sqlx::conformance as sqlx;
pub use adapter_sqlx::conformance::authjs as authjs_sqlx;

#[path = "wrapped.rs"]
pub mod wrapped;

/// Every backend, in report order.
pub fn all() -> Vec<BackendSpec> {
    let mut specs = vec![memory::spec()];
    specs.extend(sqlx::specs());
    specs.push(sqlx::postgres_serializable_spec());
    specs.push(sqlx::replicated::postgres_replica_spec());
    specs.push(sqlx::replicated::galera_spec());
    specs.push(diesel::galera_spec());
    specs.push(seaorm::galera_spec());
    specs.extend(authjs_sqlx::specs());
    specs.extend(diesel::specs());
    specs.extend(redis::specs());
    specs.extend(mongo::specs());
    specs.extend(seaorm::specs());
    // Last: the at-rest wrappers over memory, sqlite-file, postgres and redis.
    specs.extend(wrapped::specs());
    specs
}

/// The backend with this name.
///
/// ```
/// assert!(conformance_cli::backends::by_name("memory").is_some());
/// assert!(conformance_cli::backends::by_name("nosuch").is_none());
/// ```
pub fn by_name(name: &str) -> Option<BackendSpec> {
    all().into_iter().find(|spec| spec.name == name)
}
