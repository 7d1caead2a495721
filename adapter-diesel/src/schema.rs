//! `diesel::table!` definitions, one module per dialect: the five tables are the same on
//! every database (and the same as adapter-sqlx's with its default prefix `auth_`); only
//! the timestamp type differs (`Timestamptz`, `Datetime`, or `BigInt` epoch milliseconds).

#[cfg(feature = "mysql")]
#[path = "schema/mysql.rs"]
pub mod mysql;
#[cfg(feature = "postgres")]
#[path = "schema/postgres.rs"]
pub mod postgres;
#[cfg(feature = "sqlite")]
#[path = "schema/sqlite.rs"]
pub mod sqlite;
