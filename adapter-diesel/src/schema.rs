//! `diesel::table!` definitions, one module per dialect: the five tables are the same on
//! every database (and the same as the other SQL crates', with the prefix `auth_`), written
//! once in `schema/tables.rs`; only the timestamp type (`Stamp`) and the type of the `extra`
//! columns (`Json`) differ.
//!
//! `tests/schema.rs` migrates a fresh database per dialect and checks these tables against
//! what the migration created: the same tables, columns, types, nullability and primary
//! keys. Each table's Rust name is shorter than its SQL name (`users` for `auth_users`).
//!
//! The `extra` column of `users`, `accounts` and `sessions` holds the app's extra fields
//! ([`auth_core::Extra`]) as one JSON object, `NULL` when there are none; in a query of your
//! own it reads as JSON text (`Option<String>`) on every database.

/// The tables on MariaDB/MySQL.
#[cfg(feature = "mysql")]
#[allow(missing_docs)]
pub mod mysql {
    /// `DATETIME(3)` holding UTC.
    pub type Stamp = diesel::sql_types::Datetime;
    /// `JSON`: on MariaDB a `LONGTEXT` checked by `JSON_VALID`, kept as written.
    pub type Json = diesel::sql_types::Text;
    include!("schema/tables.rs");
}

/// The tables on PostgreSQL.
#[cfg(feature = "postgres")]
#[allow(missing_docs)]
pub mod postgres {
    /// `TIMESTAMPTZ`.
    pub type Stamp = diesel::sql_types::Timestamptz;
    /// `jsonb`.
    pub type Json = Jsonb;

    /// PostgreSQL's `jsonb`, read as JSON text (`String`). diesel's own
    /// `Jsonb` exchanges `serde_json::Value` only with its `serde_json` feature, which this
    /// crate does not turn on; the text is what the adapter parses anyway.
    ///
    /// PostgreSQL keeps a `jsonb` number as a `numeric` and prints it without an exponent:
    /// the adapter writes floats that way too (`1e16` as `10000000000000000.0`), so a float
    /// still reads back as a float.
    #[derive(
        Debug, Clone, Copy, Default, diesel::sql_types::SqlType, diesel::query_builder::QueryId,
    )]
    #[diesel(postgres_type(oid = 3802, array_oid = 3807))]
    pub struct Jsonb;

    include!("schema/tables.rs");
}

/// The tables on SQLite.
#[cfg(feature = "sqlite")]
#[allow(missing_docs)]
pub mod sqlite {
    /// `INTEGER` milliseconds since the Unix epoch.
    pub type Stamp = diesel::sql_types::BigInt;
    /// `TEXT`, kept as written.
    pub type Json = diesel::sql_types::Text;
    include!("schema/tables.rs");
}
