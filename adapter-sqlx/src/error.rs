//! The one place where sqlx errors become [`AdapterError`]s.
//!
//! The classification reads sqlx's own [`DatabaseError::kind`](sqlx::error::DatabaseError::kind)
//! (the same on all three drivers) and, for what it leaves as `Other`, the SQLSTATE or
//! SQLite result code, never the message text.

use auth_core::{AdapterError, ErrorCode, ErrorKind, Operation};
use sqlx::error::{DatabaseError, ErrorKind as DbErrorKind};
use sqlx::migrate::MigrateError;

/// Wraps a sqlx error for `operation`, keeping it as the [`source`](std::error::Error::source).
pub(crate) fn map(operation: Operation, err: sqlx::Error) -> AdapterError {
    let kind = kind_of(&err);
    AdapterError::from_driver(operation, kind, err)
}

/// Replaces the method's code (for the few methods with two), keeping
/// ADAPTER_CONNECTION_ERROR on connection failures.
pub(crate) fn with_code(err: AdapterError, code: ErrorCode) -> AdapterError {
    if err.kind() == ErrorKind::Connection {
        err
    } else {
        err.with_code(code)
    }
}

/// `.for_op(op)`: maps a sqlx result's error for the method `op`.
pub(crate) trait ResultExt<T> {
    /// The value, or the error mapped with [`map`].
    fn for_op(self, operation: Operation) -> Result<T, AdapterError>;
}

impl<T> ResultExt<T> for Result<T, sqlx::Error> {
    fn for_op(self, operation: Operation) -> Result<T, AdapterError> {
        self.map_err(|err| map(operation, err))
    }
}

/// Wraps a migration error: the statement's own error when there is one.
pub(crate) fn map_migrate(err: MigrateError) -> AdapterError {
    match err {
        MigrateError::Execute(inner) => map(Operation::Migrate, inner),
        MigrateError::ExecuteMigration(inner, _) => map(Operation::Migrate, inner),
        other => AdapterError::from_driver(Operation::Migrate, ErrorKind::Backend, other),
    }
}

/// What kind of failure a sqlx error is.
pub(crate) fn kind_of(err: &sqlx::Error) -> ErrorKind {
    match err {
        sqlx::Error::Database(db) => kind_of_database_error(db.as_ref()),
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => ErrorKind::Connection,
        _ => ErrorKind::Backend,
    }
}

fn kind_of_database_error(db: &dyn DatabaseError) -> ErrorKind {
    match db.kind() {
        DbErrorKind::UniqueViolation => return ErrorKind::Conflict,
        DbErrorKind::ForeignKeyViolation => return ErrorKind::NotFound,
        DbErrorKind::NotNullViolation | DbErrorKind::CheckViolation => {
            return ErrorKind::InvalidInput
        }
        _ => {}
    }
    let Some(code) = db.code() else {
        return ErrorKind::Backend;
    };
    kind_of_code(&code)
}

/// A SQLSTATE (PostgreSQL, MySQL/MariaDB) or an extended SQLite result code (digits).
fn kind_of_code(code: &str) -> ErrorKind {
    if let Ok(sqlite) = code.parse::<i32>() {
        // SQLite: the primary result code is the low byte of the extended one.
        return match sqlite & 0xff {
            // SQLITE_CANTOPEN, SQLITE_NOTADB: the database file cannot be used.
            14 | 26 => ErrorKind::Connection,
            // SQLITE_TOOBIG: a string or blob over the limit.
            18 => ErrorKind::InvalidInput,
            _ => ErrorKind::Backend,
        };
    }
    match code {
        // Class 08: connection exception; admin shutdown, crash shutdown, cannot connect now.
        c if c.starts_with("08") => ErrorKind::Connection,
        "57P01" | "57P02" | "57P03" => ErrorKind::Connection,
        // String data right truncation (over-long value), invalid byte sequence (a NUL in
        // PostgreSQL text), untranslatable character, program limit exceeded (an index row
        // too large for a btree page).
        "22001" | "22021" | "22P05" | "54000" => ErrorKind::InvalidInput,
        _ => ErrorKind::Backend,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_failures_are_connection_errors() {
        for err in [
            sqlx::Error::PoolTimedOut,
            sqlx::Error::PoolClosed,
            sqlx::Error::WorkerCrashed,
            sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionRefused)),
        ] {
            let mapped = map(Operation::GetSessionAndUser, err);
            assert_eq!(mapped.kind(), ErrorKind::Connection);
            assert_eq!(mapped.code(), auth_core::ErrorCode::AdapterConnectionError);
            assert!(std::error::Error::source(&mapped).is_some());
        }
        assert_eq!(
            kind_of(&sqlx::Error::RowNotFound),
            ErrorKind::Backend,
            "anything else is a backend error"
        );
    }

    #[test]
    fn codes_are_classified() {
        assert_eq!(kind_of_code("08006"), ErrorKind::Connection);
        assert_eq!(kind_of_code("57P01"), ErrorKind::Connection);
        assert_eq!(kind_of_code("22001"), ErrorKind::InvalidInput);
        assert_eq!(kind_of_code("22021"), ErrorKind::InvalidInput);
        assert_eq!(kind_of_code("42P01"), ErrorKind::Backend);
        // SQLITE_CANTOPEN_ISDIR (14 | 2 << 8) and SQLITE_TOOBIG.
        assert_eq!(kind_of_code("526"), ErrorKind::Connection);
        assert_eq!(kind_of_code("18"), ErrorKind::InvalidInput);
        assert_eq!(kind_of_code("5"), ErrorKind::Backend);
    }
}
