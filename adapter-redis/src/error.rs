//! The one place where Redis errors, timeouts and unreadable replies become
//! [`AdapterError`]s.
//!
//! | cause | kind |
//! |---|---|
//! | I/O error: refused, reset, broken pipe, dropped connection, EOF | `Connection` |
//! | no connection or reply within the call timeout | `Connection` |
//! | authentication refused, server loading its data set, cluster down / no node | `Connection` |
//! | cluster in transition: `MOVED`, `ASK`, `TRYAGAIN` still answered after the driver's retries, `READONLY` (a demoted primary) | `Connection` |
//! | a malformed connection URL or client configuration, an invalid key prefix | `InvalidInput` |
//! | script outcomes `NOT_FOUND` / `CONFLICT` | `NotFound` / `Conflict` (in each layout's store) |
//! | anything else the server refuses, an unreadable record or reply | `Backend` |
//!
//! A `Connection` error carries the code ADAPTER_CONNECTION_ERROR whatever the method;
//! every other error carries the method's code.

use auth_core::{AdapterError, AdapterResult, ErrorKind, Operation};
use redis::{ErrorKind as RedisKind, RedisError, ServerErrorKind};

use crate::keys::InvalidPrefix;
use crate::records::CorruptRecord;
use crate::scripts::Reply;

/// A script that kept seeing its inputs change.
#[derive(Debug, thiserror::Error)]
#[error("the records kept changing under concurrent writes; gave up after {0} attempts")]
pub(crate) struct Contention(pub(crate) usize);

/// A write the durability option asked to be on more replicas than acknowledged it.
#[derive(Debug, thiserror::Error)]
#[error(
    "the write reached {0} replica(s) in time; {1} were required (it may not survive a failover)"
)]
pub(crate) struct NotReplicated(pub(crate) i64, pub(crate) usize);

/// A call on an adapter that was closed.
#[derive(Debug, thiserror::Error)]
#[error("the adapter was closed")]
pub(crate) struct Closed;

/// A reply of a shape the adapter never asks for.
#[derive(Debug, thiserror::Error)]
#[error("unexpected reply from Redis: {0}")]
pub(crate) struct UnexpectedReply(pub(crate) String);

/// The kind of a Redis error (see the module table).
pub(crate) fn kind_of(err: &RedisError) -> ErrorKind {
    if err.is_io_error()
        || err.is_timeout()
        || err.is_connection_refusal()
        || err.is_connection_dropped()
    {
        return ErrorKind::Connection;
    }
    match err.kind() {
        RedisKind::Io
        | RedisKind::AuthenticationFailed
        | RedisKind::ClusterConnectionNotFound
        | RedisKind::Server(
            ServerErrorKind::BusyLoading
            | ServerErrorKind::ClusterDown
            | ServerErrorKind::MasterDown
            // A cluster in transition (failover, reshard) whose redirections outlasted the
            // driver's retries; a write sent to a primary just demoted.
            | ServerErrorKind::Moved
            | ServerErrorKind::Ask
            | ServerErrorKind::TryAgain
            | ServerErrorKind::ReadOnly,
        ) => ErrorKind::Connection,
        RedisKind::InvalidClientConfig => ErrorKind::InvalidInput,
        _ => ErrorKind::Backend,
    }
}

/// A Redis error of `operation`.
pub(crate) fn from_redis(operation: Operation, err: RedisError) -> AdapterError {
    let kind = kind_of(&err);
    AdapterError::from_driver(operation, kind, err)
}

/// A connection URL redis-rs refused (`redis::Client::open` only parses it).
pub(crate) fn invalid_url(err: RedisError) -> AdapterError {
    AdapterError::invalid_input(Operation::Connect, "the Redis URL is not valid").with_source(err)
}

/// A stored record that does not decode.
pub(crate) fn corrupt(operation: Operation, err: CorruptRecord) -> AdapterError {
    AdapterError::from_driver(operation, ErrorKind::Backend, err)
}

/// Reads a stored record, or fails the operation with a `Backend` error.
pub(crate) fn decoded<T>(
    operation: Operation,
    raw: &[u8],
    decode: fn(&[u8]) -> Result<T, CorruptRecord>,
) -> AdapterResult<T> {
    decode(raw).map_err(|e| corrupt(operation, e))
}

/// A script outcome the calling method never expects of that script.
pub(crate) fn unexpected_outcome(operation: Operation, reply: &Reply) -> AdapterError {
    unexpected(
        operation,
        format!("unexpected script outcome {}", reply.describe()),
    )
}

/// A script reply of the wrong shape.
pub(crate) fn unexpected(operation: Operation, what: impl Into<String>) -> AdapterError {
    AdapterError::from_driver(operation, ErrorKind::Backend, UnexpectedReply(what.into()))
}

/// Compare-and-set retries exhausted.
pub(crate) fn contention(operation: Operation, attempts: usize) -> AdapterError {
    AdapterError::from_driver(operation, ErrorKind::Backend, Contention(attempts))
}

/// A call after `close()`.
pub(crate) fn closed(operation: Operation) -> AdapterError {
    AdapterError::connection(operation, Closed)
}

/// A write not acknowledged by enough replicas in time.
pub(crate) fn not_replicated(
    operation: Operation,
    acknowledged: i64,
    wanted: usize,
) -> AdapterError {
    AdapterError::connection(operation, NotReplicated(acknowledged, wanted))
}

/// A key prefix the builder refused.
pub(crate) fn invalid_prefix(err: InvalidPrefix) -> AdapterError {
    AdapterError::invalid_input(Operation::Connect, "the key prefix is not valid").with_source(err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use auth_core::ErrorCode;
    use std::io;

    fn io_error(kind: io::ErrorKind) -> RedisError {
        RedisError::from(io::Error::from(kind))
    }

    #[test]
    fn io_failures_are_connection_errors() {
        for kind in [
            io::ErrorKind::ConnectionRefused,
            io::ErrorKind::ConnectionReset,
            io::ErrorKind::BrokenPipe,
            io::ErrorKind::TimedOut,
            io::ErrorKind::UnexpectedEof,
            io::ErrorKind::NotConnected,
        ] {
            let err = from_redis(Operation::GetSessionAndUser, io_error(kind));
            assert_eq!(err.kind(), ErrorKind::Connection, "{kind:?}");
            assert_eq!(err.code(), ErrorCode::AdapterConnectionError);
            assert_eq!(err.operation(), Operation::GetSessionAndUser);
            assert!(std::error::Error::source(&err).is_some());
        }
    }

    #[test]
    fn a_cause_is_printed_once() {
        let err = from_redis(
            Operation::GetUser,
            io_error(io::ErrorKind::ConnectionRefused),
        );
        let mut texts = Vec::new();
        let mut next = std::error::Error::source(&err);
        while let Some(cause) = next {
            texts.push(cause.to_string());
            next = cause.source();
        }
        assert_eq!(texts.len(), 1, "{texts:?}");
        assert!(!err.to_string().contains(&texts[0]), "{err}");
    }

    #[test]
    fn server_refusals_are_backend_errors() {
        let err = RedisError::from((RedisKind::Client, "refused"));
        assert_eq!(kind_of(&err), ErrorKind::Backend);
        let err = RedisError::from((RedisKind::AuthenticationFailed, "bad password"));
        assert_eq!(kind_of(&err), ErrorKind::Connection);
        let err = RedisError::from((RedisKind::InvalidClientConfig, "bad url"));
        assert_eq!(kind_of(&err), ErrorKind::InvalidInput);
        let err = contention(Operation::UpdateUser, 8);
        assert_eq!(err.code(), ErrorCode::UpdateUserError);
        assert_eq!(err.kind(), ErrorKind::Backend);
    }

    #[test]
    fn a_cluster_in_transition_is_a_connection_error_and_crossslot_a_bug() {
        for kind in [
            ServerErrorKind::Moved,
            ServerErrorKind::Ask,
            ServerErrorKind::TryAgain,
            ServerErrorKind::ClusterDown,
            ServerErrorKind::ReadOnly,
        ] {
            let err = RedisError::from((RedisKind::Server(kind), "in transition"));
            assert_eq!(kind_of(&err), ErrorKind::Connection, "{kind:?}");
        }
        let crossslot = RedisError::from((RedisKind::Server(ServerErrorKind::CrossSlot), "x"));
        assert_eq!(kind_of(&crossslot), ErrorKind::Backend);
    }
}
