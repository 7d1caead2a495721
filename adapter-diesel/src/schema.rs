//! `diesel::table!` definitions, one module per dialect: the five tables are the same on
//! every database (and the same as the other SQL crates', with the prefix `auth_`), written
//! once in `schema/tables.rs`; only the timestamp type (`Stamp`) differs.
//!
//! `tests/schema.rs` migrates a fresh database per dialect and checks these tables against
//! what the migration created: the same tables, columns, types, nullability and primary
//! keys. Each table's Rust name is shorter than its SQL name (`users` for `auth_users`).

/// The tables on MariaDB/MySQL.
#[cfg(feature = "mysql")]
#[allow(missing_docs)]
pub mod mysql {
    /// `DATETIME(3)` holding UTC.
    pub type Stamp = diesel::sql_types::Datetime;
    include!("schema/tables.rs");
}

/// The tables on PostgreSQL.
#[cfg(feature = "postgres")]
#[allow(missing_docs)]
pub mod postgres {
    /// `TIMESTAMPTZ`.
    pub type Stamp = diesel::sql_types::Timestamptz;
    include!("schema/tables.rs");
}

/// The tables on SQLite.
#[cfg(feature = "sqlite")]
#[allow(missing_docs)]
pub mod sqlite {
    /// `INTEGER` milliseconds since the Unix epoch.
    pub type Stamp = diesel::sql_types::BigInt;
    include!("schema/tables.rs");
}
