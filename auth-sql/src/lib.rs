//! What the three SQL auth adapters (adapter-sqlx, adapter-diesel, adapter-seaorm) share,
//! written once: the schema of the native layout and its one migration history
//! ([`schema`]), the [`Dialect`] of a database (MySQL and MariaDB apart), the form each
//! database stores an instant in ([`Stamp`]), what a database's own error codes mean
//! ([`errors`]), and the options every SQL builder has ([`PoolOptions`]).
//!
//! Apps do not need this crate: each adapter's `migrate()` runs [`schema::migrate`]. It is
//! for the adapter crates, and for a new SQL backend that wants the same tables and
//! history, so that a database migrated by one crate is current for every other.
//!
//! ```
//! use auth_sql::{schema, Dialect};
//!
//! let dialect = Dialect::from_mysql_version("11.8.2-MariaDB");
//! let first = schema::MIGRATIONS[0].sql(dialect, "auth_");
//! assert!(first.contains("CREATE TABLE IF NOT EXISTS auth_users ("));
//! ```

mod dialect;
pub mod errors;
pub mod extra_column;
mod options;
pub mod schema;
mod stamp;

pub use dialect::{dialect_of_url, Dialect};
pub use options::{PoolOptions, Target, DEFAULT_CALL_TIMEOUT, DEFAULT_MAX_CONNECTIONS};
pub use stamp::Stamp;
