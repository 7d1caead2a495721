//! The one place where driver errors become [`AdapterError`]s.

use auth_core::{AdapterError, ErrorKind, Operation};
use mongodb::error::{Error, ErrorKind as MongoKind, WriteFailure};

/// MongoDB's code for a unique index violation.
pub const DUPLICATE_KEY: i32 = 11000;

/// What kind of failure a driver error is.
pub fn kind_of(err: &Error) -> ErrorKind {
    match err.kind.as_ref() {
        MongoKind::Write(WriteFailure::WriteError(e)) if e.code == DUPLICATE_KEY => {
            ErrorKind::Conflict
        }
        MongoKind::Command(e) if e.code == DUPLICATE_KEY => ErrorKind::Conflict,
        MongoKind::InsertMany(e)
            if e.write_errors
                .iter()
                .flatten()
                .any(|w| w.code == DUPLICATE_KEY) =>
        {
            ErrorKind::Conflict
        }
        MongoKind::ServerSelection { .. }
        | MongoKind::Io(_)
        | MongoKind::ConnectionPoolCleared { .. }
        | MongoKind::DnsResolve { .. } => ErrorKind::Connection,
        MongoKind::BsonSerialization(_) | MongoKind::InvalidArgument { .. } => {
            ErrorKind::InvalidInput
        }
        _ => ErrorKind::Backend,
    }
}

/// Maps a driver result into the adapter's error for one operation.
pub trait ForOp<T> {
    /// The result with its error classified and tagged with the operation.
    fn for_op(self, op: Operation) -> Result<T, AdapterError>;
}

impl<T> ForOp<T> for Result<T, Error> {
    fn for_op(self, op: Operation) -> Result<T, AdapterError> {
        self.map_err(|err| AdapterError::from_driver(op, kind_of(&err), err))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_are_connection_errors() {
        let io = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let err = Error::from(io);
        assert_eq!(kind_of(&err), ErrorKind::Connection);
        let mapped = Err::<(), _>(err).for_op(Operation::GetUser).unwrap_err();
        assert_eq!(mapped.code(), auth_core::ErrorCode::AdapterConnectionError);
    }
}
