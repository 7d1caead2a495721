//! The one place where driver errors become [`AdapterError`]s.

use std::error::Error as StdError;
use std::fmt;

use auth_core::{AdapterError, ErrorKind, Operation};
use mongodb::error::{Error, ErrorKind as MongoKind, WriteFailure};

/// MongoDB's code for a unique index violation (`E11000 duplicate key error`).
pub(crate) const DUPLICATE_KEY: i32 = 11000;

/// Whether the error is a duplicate key, wherever the driver reports it: a write error
/// (`insert_one`, `replace_one`), a command error (`findAndModify`), or one of the write
/// errors of a batch.
fn is_duplicate_key(err: &Error) -> bool {
    match err.kind.as_ref() {
        MongoKind::Write(WriteFailure::WriteError(e)) => e.code == DUPLICATE_KEY,
        MongoKind::Command(e) => e.code == DUPLICATE_KEY,
        MongoKind::InsertMany(e) => e
            .write_errors
            .iter()
            .flatten()
            .any(|w| w.code == DUPLICATE_KEY),
        MongoKind::BulkWrite(e) => e.write_errors.values().any(|w| w.code == DUPLICATE_KEY),
        _ => false,
    }
}

/// What kind of failure a driver error is: a duplicate key is [`ErrorKind::Conflict`];
/// no server within the server selection timeout, an I/O failure, a cleared pool, a
/// failed DNS lookup or a client shut down by `close()` is [`ErrorKind::Connection`]; a
/// value the driver cannot encode or an invalid argument is [`ErrorKind::InvalidInput`];
/// anything else [`ErrorKind::Backend`].
pub(crate) fn kind_of(err: &Error) -> ErrorKind {
    if is_duplicate_key(err) {
        return ErrorKind::Conflict;
    }
    match err.kind.as_ref() {
        MongoKind::ServerSelection { .. }
        | MongoKind::Io(_)
        | MongoKind::ConnectionPoolCleared { .. }
        | MongoKind::DnsResolve { .. }
        | MongoKind::Shutdown => ErrorKind::Connection,
        MongoKind::BsonSerialization(_) | MongoKind::InvalidArgument { .. } => {
            ErrorKind::InvalidInput
        }
        _ => ErrorKind::Backend,
    }
}

/// Maps a driver error for one operation: [`kind_of`] classifies it, the message is ours,
/// and the driver's text becomes the `source()` chain ([`Causes`]).
///
/// A duplicate key is a `Conflict` whose driver text is withheld (by
/// [`AdapterError::from_driver`]): the server's message quotes the key
/// (`dup key: { session_token: "…" }`), which may be a session token, a verification token
/// or an email, and messages end up in logs.
pub(crate) fn map_error(op: Operation, err: Error) -> AdapterError {
    AdapterError::from_driver(op, kind_of(&err), Causes::of(&err))
}

/// A connection URL (or client option) the driver refused, reported by `connect`.
pub(crate) fn invalid_url(err: Error) -> AdapterError {
    AdapterError::invalid_input(Operation::Connect, "the MongoDB URL is not valid")
        .with_source(Causes::of(&err))
}

/// The text of a driver error and of each of its causes. For the driver's own errors it is
/// the text of their kind: their `Display` also prints the labels and the `Debug` of the
/// source error and of the server's reply (`Kind: …, labels: {}, source: None, server
/// response: None`), which would repeat the next cause and show raw documents.
#[derive(Debug)]
pub(crate) struct Causes {
    text: String,
    next: Option<Box<Causes>>,
}

impl Causes {
    pub(crate) fn of(err: &(dyn StdError + 'static)) -> Self {
        let text = match err.downcast_ref::<Error>() {
            Some(e) => e.kind.to_string(),
            None => err.to_string(),
        };
        let mut next = err.source().map(|source| Box::new(Self::of(source)));
        // A cause that only repeats this text adds nothing.
        if let Some(repeat) = next.take_if(|n| n.text == text) {
            next = repeat.next;
        }
        Self { text, next }
    }
}

impl fmt::Display for Causes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl StdError for Causes {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.next.as_deref().map(|c| c as &(dyn StdError + 'static))
    }
}

/// Maps a driver result into the adapter's error for one operation.
pub trait ForOp<T> {
    /// The result with its error classified and tagged with the operation.
    fn for_op(self, op: Operation) -> Result<T, AdapterError>;
}

impl<T> ForOp<T> for Result<T, Error> {
    fn for_op(self, op: Operation) -> Result<T, AdapterError> {
        self.map_err(|err| map_error(op, err))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use auth_core::ErrorCode;
    use mongodb::bson::{doc, from_document};
    use mongodb::error::{CommandError, WriteError};

    fn write_error(code: i32) -> Error {
        let e: WriteError = from_document(doc! {
            "code": code,
            "errmsg": "E11000 duplicate key error collection: db.sessions index: session_token_1 dup key: { session_token: \"secret\" }",
        })
        .unwrap();
        Error::from(MongoKind::Write(WriteFailure::WriteError(e)))
    }

    #[test]
    fn duplicate_keys_are_conflicts_without_the_key_in_the_message() {
        let mapped = map_error(Operation::CreateSession, write_error(DUPLICATE_KEY));
        assert_eq!(mapped.kind(), ErrorKind::Conflict);
        assert_eq!(mapped.code(), ErrorCode::CreateSessionError);
        let source = std::error::Error::source(&mapped).unwrap().to_string();
        for text in [mapped.to_string(), format!("{mapped:?}"), source] {
            assert!(!text.contains("secret"), "{text}");
        }

        let command: CommandError = from_document(doc! {
            "code": DUPLICATE_KEY, "codeName": "DuplicateKey", "errmsg": "E11000",
        })
        .unwrap();
        let err = Error::from(MongoKind::Command(command));
        assert_eq!(kind_of(&err), ErrorKind::Conflict);
    }

    #[test]
    fn other_write_errors_are_backend_errors() {
        assert_eq!(kind_of(&write_error(121)), ErrorKind::Backend);
    }

    #[test]
    fn io_errors_are_connection_errors() {
        let io = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let mapped = Err::<(), _>(Error::from(io))
            .for_op(Operation::GetUser)
            .unwrap_err();
        assert_eq!(mapped.kind(), ErrorKind::Connection);
        assert_eq!(mapped.code(), ErrorCode::AdapterConnectionError);
        assert_eq!(mapped.operation(), Operation::GetUser);
        let closed = Error::from(MongoKind::Shutdown);
        assert_eq!(kind_of(&closed), ErrorKind::Connection);
    }

    #[test]
    fn each_cause_is_printed_once_without_the_labels() {
        let io = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let mapped = map_error(Operation::GetUser, Error::from(io));
        let mut texts = Vec::new();
        let mut next = std::error::Error::source(&mapped);
        while let Some(cause) = next {
            texts.push(cause.to_string());
            next = cause.source();
        }
        assert_eq!(texts.len(), 1, "{texts:?}");
        assert!(texts[0].contains("refused"), "{texts:?}");
        assert!(!texts[0].contains("labels"), "{texts:?}");
    }
}
