//! The one place where SeaORM (and sqlx) errors become [`AdapterError`]s.
//!
//! SeaORM reaches the database through sqlx, so a sqlx error is classified by
//! adapter-sqlx's one classification (`adapter_sqlx::errors`); only SeaORM's own wrapping
//! is handled here.

use auth_core::{AdapterError, ErrorKind, Operation};
use sea_orm::sqlx;
use sea_orm::{DbErr, RuntimeErr};

/// Wraps a SeaORM error for `operation`, keeping it as the
/// [`source`](std::error::Error::source).
pub(crate) fn map(operation: Operation, err: DbErr) -> AdapterError {
    let kind = kind_of(&err);
    let transient = match &err {
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            adapter_sqlx::errors::is_transient(e)
        }
        _ => false,
    };
    let mapped = AdapterError::from_driver(operation, kind, err);
    if transient {
        mapped.transient()
    } else {
        mapped
    }
}

/// Wraps a sqlx error (from the connect probe) for `operation`.
#[cfg_attr(
    not(any(feature = "postgres", feature = "mysql", feature = "sqlite")),
    allow(dead_code)
)]
pub(crate) fn map_sqlx(operation: Operation, err: sqlx::Error) -> AdapterError {
    adapter_sqlx::errors::map(operation, err)
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

/// What kind of failure a sqlx error is: adapter-sqlx's classification, shared.
pub(crate) fn kind_of_sqlx(err: &sqlx::Error) -> ErrorKind {
    adapter_sqlx::errors::kind_of(err)
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
}
