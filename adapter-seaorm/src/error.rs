//! The one place where SeaORM (and sqlx) errors become [`AdapterError`]s.
//!
//! The classification reads sqlx's own [`DatabaseError::kind`](sqlx::error::DatabaseError::kind)
//! (the same on all three drivers) and, for what it leaves as `Other`, the SQLSTATE or
//! MySQL error number, never the message text.

use auth_core::{AdapterError, ErrorKind, Operation};
use sea_orm::sqlx;
use sea_orm::sqlx::error::{DatabaseError, ErrorKind as DbErrorKind};
use sea_orm::{DbErr, RuntimeErr};

/// Wraps a SeaORM error for `operation`, keeping it as the
/// [`source`](std::error::Error::source).
pub(crate) fn map(operation: Operation, err: DbErr) -> AdapterError {
    let kind = kind_of(&err);
    AdapterError::from_driver(operation, kind, err)
}

/// Wraps a sqlx error (from the connect probe) for `operation`.
#[cfg_attr(
    not(any(feature = "postgres", feature = "mysql", feature = "sqlite")),
    allow(dead_code)
)]
pub(crate) fn map_sqlx(operation: Operation, err: sqlx::Error) -> AdapterError {
    let kind = kind_of_sqlx(&err);
    AdapterError::from_driver(operation, kind, err)
}

/// `.for_op(op)`: maps a SeaORM result's error for the method `op`.
pub(crate) trait ResultExt<T> {
    /// The value, or the error mapped with [`map`].
    fn for_op(self, operation: Operation) -> Result<T, AdapterError>;
}

impl<T> ResultExt<T> for Result<T, DbErr> {
    fn for_op(self, operation: Operation) -> Result<T, AdapterError> {
        self.map_err(|err| map(operation, err))
    }
}

/// What kind of failure a SeaORM error is.
pub(crate) fn kind_of(err: &DbErr) -> ErrorKind {
    match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => ErrorKind::Connection,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            kind_of_sqlx(e)
        }
        _ => ErrorKind::Backend,
    }
}

/// What kind of failure a sqlx error is.
pub(crate) fn kind_of_sqlx(err: &sqlx::Error) -> ErrorKind {
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
    #[cfg(feature = "sqlite")]
    if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
        return db
            .code()
            .and_then(|code| code.parse::<i32>().ok())
            .map_or(ErrorKind::Backend, kind_of_sqlite_code);
    }
    #[cfg(feature = "mysql")]
    if let Some(mysql) = db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>() {
        if let Some(kind) = kind_of_mysql_number(mysql.number()) {
            return kind;
        }
    }
    db.code()
        .map_or(ErrorKind::Backend, |code| kind_of_sqlstate(&code))
}

/// An extended SQLite result code; the primary code is its low byte.
#[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
fn kind_of_sqlite_code(code: i32) -> ErrorKind {
    match code & 0xff {
        // SQLITE_CANTOPEN, SQLITE_NOTADB: the database file cannot be used.
        14 | 26 => ErrorKind::Connection,
        // SQLITE_TOOBIG: a string or blob over the limit.
        18 => ErrorKind::InvalidInput,
        _ => ErrorKind::Backend,
    }
}

/// MySQL/MariaDB error numbers whose SQLSTATE is too vague (`HY000`).
#[cfg_attr(not(feature = "mysql"), allow(dead_code))]
fn kind_of_mysql_number(number: u16) -> Option<ErrorKind> {
    match number {
        // ER_TRUNCATED_WRONG_VALUE_FOR_FIELD, ER_DATA_TOO_LONG.
        1366 | 1406 => Some(ErrorKind::InvalidInput),
        // ER_CONNECTION_KILLED (MariaDB), ER_SERVER_SHUTDOWN.
        1927 | 1053 => Some(ErrorKind::Connection),
        _ => None,
    }
}

/// A SQLSTATE (PostgreSQL, MySQL/MariaDB).
fn kind_of_sqlstate(code: &str) -> ErrorKind {
    match code {
        // Class 08: connection exception; admin shutdown, crash shutdown, cannot connect now.
        c if c.starts_with("08") => ErrorKind::Connection,
        "57P01" | "57P02" | "57P03" => ErrorKind::Connection,
        // String data right truncation, invalid byte sequence, untranslatable character,
        // program limit exceeded.
        "22001" | "22021" | "22P05" | "54000" => ErrorKind::InvalidInput,
        _ => ErrorKind::Backend,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::ConnAcquireErr;

    #[test]
    fn connection_failures_are_connection_errors() {
        for err in [
            DbErr::ConnectionAcquire(ConnAcquireErr::Timeout),
            DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed),
            DbErr::Conn(RuntimeErr::Internal("refused".into())),
            DbErr::Query(RuntimeErr::SqlxError(std::sync::Arc::new(sqlx::Error::Io(
                std::io::Error::from(std::io::ErrorKind::ConnectionRefused),
            )))),
        ] {
            let mapped = map(Operation::GetSessionAndUser, err);
            assert_eq!(mapped.kind(), ErrorKind::Connection);
            assert_eq!(mapped.code(), auth_core::ErrorCode::AdapterConnectionError);
            assert!(std::error::Error::source(&mapped).is_some());
        }
        assert_eq!(
            kind_of(&DbErr::RecordNotFound("x".into())),
            ErrorKind::Backend
        );
    }

    #[test]
    fn codes_are_classified() {
        assert_eq!(kind_of_sqlstate("08006"), ErrorKind::Connection);
        assert_eq!(kind_of_sqlstate("22001"), ErrorKind::InvalidInput);
        assert_eq!(kind_of_sqlstate("42P01"), ErrorKind::Backend);
        assert_eq!(kind_of_sqlite_code(526), ErrorKind::Connection);
        assert_eq!(kind_of_sqlite_code(5), ErrorKind::Backend);
        assert_eq!(kind_of_mysql_number(1406), Some(ErrorKind::InvalidInput));
        assert_eq!(kind_of_mysql_number(1064), None);
    }
}
