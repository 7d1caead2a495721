//! The one place where diesel errors become [`AdapterError`]s: from diesel's
//! [`DatabaseErrorKind`], never from message text.

use auth_core::{AdapterError, ErrorKind, Operation};
use diesel::result::{ConnectionError, DatabaseErrorKind, Error as DieselError};

/// Wraps a diesel error for `operation`, keeping it as the source; a transaction the
/// database rolled back because it lost a race is marked [transient](AdapterError::is_transient).
pub(crate) fn map(operation: Operation, err: DieselError) -> AdapterError {
    let kind = kind_of(&err);
    let transient = is_transient(&err);
    let mapped = AdapterError::from_driver(operation, kind, err);
    if transient {
        mapped.transient()
    } else {
        mapped
    }
}

/// Whether the database rolled the transaction back because it lost a race: diesel's
/// `SerializationFailure` (PostgreSQL's 40001), or a deadlock. diesel-async keeps no error
/// number for MySQL/MariaDB nor PostgreSQL's 40P01 (both arrive as `Unknown`), so for
/// those alone the server's fixed message is read: MariaDB's ER_LOCK_DEADLOCK (1213) and
/// PostgreSQL's `deadlock_detected`.
pub(crate) fn is_transient(err: &DieselError) -> bool {
    match err {
        DieselError::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => true,
        DieselError::DatabaseError(DatabaseErrorKind::Unknown, info) => {
            let message = info.message();
            message.starts_with("Deadlock found when trying to get lock")
                || message.starts_with("deadlock detected")
        }
        _ => false,
    }
}

/// What kind of failure a diesel error is.
///
/// ```text
/// UniqueViolation                       → Conflict
/// ForeignKeyViolation                   → NotFound (the owning user is missing)
/// NotNullViolation, CheckViolation      → InvalidInput
/// UnableToSendCommand, ClosedConnection → Connection
/// anything else                         → Backend
/// ```
pub(crate) fn kind_of(err: &DieselError) -> ErrorKind {
    match err {
        DieselError::DatabaseError(kind, _) => match kind {
            DatabaseErrorKind::UniqueViolation => ErrorKind::Conflict,
            DatabaseErrorKind::ForeignKeyViolation => ErrorKind::NotFound,
            DatabaseErrorKind::NotNullViolation | DatabaseErrorKind::CheckViolation => {
                ErrorKind::InvalidInput
            }
            DatabaseErrorKind::UnableToSendCommand | DatabaseErrorKind::ClosedConnection => {
                ErrorKind::Connection
            }
            _ => ErrorKind::Backend,
        },
        DieselError::BrokenTransactionManager => ErrorKind::Connection,
        _ => ErrorKind::Backend,
    }
}

/// Whether the driver left the error unclassified (`DatabaseErrorKind::Unknown`): the
/// mysql_async backend reports I/O failures that way, and the tokio-postgres backend a
/// server shutting down. The pool then checks whether the server still answers.
pub(crate) fn is_unclassified(err: &DieselError) -> bool {
    matches!(
        err,
        DieselError::DatabaseError(DatabaseErrorKind::Unknown, _)
    )
}

/// A connection that could not be made is a connection failure, whatever the cause.
#[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
pub(crate) fn connection(operation: Operation, err: ConnectionError) -> AdapterError {
    AdapterError::from_driver(operation, ErrorKind::Connection, err)
}

/// A URL the driver cannot read: the configuration is wrong, so `InvalidInput` (with the
/// code of `connect`), with the driver's message as the cause, once.
pub(crate) fn invalid_url(
    url: &str,
    database: &str,
    err: &(dyn std::error::Error + 'static),
) -> AdapterError {
    AdapterError::invalid_input(
        Operation::Connect,
        format!(
            "{} is not a {database} URL the driver can read",
            auth_core::redact_url(url)
        ),
    )
    .with_source_ref(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db(kind: DatabaseErrorKind) -> DieselError {
        DieselError::DatabaseError(kind, Box::new("driver text".to_owned()))
    }

    #[test]
    fn deadlocks_and_serialization_failures_are_transient() {
        let said = |text: &str| {
            DieselError::DatabaseError(DatabaseErrorKind::Unknown, Box::new(text.to_owned()))
        };
        let deadlock = said("Deadlock found when trying to get lock; try restarting transaction");
        assert!(map(Operation::CreateSession, deadlock).is_transient());
        assert!(is_transient(&said("deadlock detected")));
        assert!(is_transient(&db(DatabaseErrorKind::SerializationFailure)));
        assert!(!is_transient(&db(DatabaseErrorKind::UniqueViolation)));
        assert!(!is_transient(&said("Table 'x' doesn't exist")));
    }

    #[test]
    fn kinds_come_from_diesels_error_kind() {
        assert_eq!(
            kind_of(&db(DatabaseErrorKind::UniqueViolation)),
            ErrorKind::Conflict
        );
        assert_eq!(
            kind_of(&db(DatabaseErrorKind::ForeignKeyViolation)),
            ErrorKind::NotFound
        );
        assert_eq!(
            kind_of(&db(DatabaseErrorKind::NotNullViolation)),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            kind_of(&db(DatabaseErrorKind::ClosedConnection)),
            ErrorKind::Connection
        );
        assert_eq!(
            kind_of(&db(DatabaseErrorKind::UnableToSendCommand)),
            ErrorKind::Connection
        );
        assert_eq!(kind_of(&db(DatabaseErrorKind::Unknown)), ErrorKind::Backend);
        assert!(is_unclassified(&db(DatabaseErrorKind::Unknown)));
        assert!(!is_unclassified(&db(DatabaseErrorKind::UniqueViolation)));
        assert_eq!(kind_of(&DieselError::NotFound), ErrorKind::Backend);
    }

    #[test]
    fn a_conflict_withholds_the_driver_text() {
        let err = map(
            Operation::CreateSession,
            DieselError::DatabaseError(
                DatabaseErrorKind::UniqueViolation,
                Box::new("duplicate key value (session_token)=(secret-token)".to_owned()),
            ),
        );
        assert_eq!(err.kind(), ErrorKind::Conflict);
        assert_eq!(err.code(), auth_core::ErrorCode::CreateSessionError);
        let shown = format!("{err} {err:?} {:?}", std::error::Error::source(&err));
        assert!(!shown.contains("secret-token"), "{shown}");
    }

    #[test]
    fn an_unreadable_url_is_invalid_input_with_its_cause_once() {
        #[derive(Debug)]
        struct Outer(std::io::Error);
        impl std::fmt::Display for Outer {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "URL parse error: {}", self.0)
            }
        }
        impl std::error::Error for Outer {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let err = invalid_url(
            "mysql://root:pw@db:99999/app",
            "MariaDB/MySQL",
            &Outer(std::io::Error::other("invalid port number")),
        );
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert_eq!(err.code(), auth_core::ErrorCode::AdapterConnectionError);
        let cause = std::error::Error::source(&err).expect("the driver's message");
        assert_eq!(cause.to_string(), "URL parse error: invalid port number");
        assert!(cause.source().is_none());
        assert!(!format!("{err:?}").contains("pw"));
    }

    #[test]
    fn a_refused_connection_keeps_its_cause() {
        let err = connection(
            Operation::Connect,
            ConnectionError::BadConnection("Connection refused (os error 111)".into()),
        );
        assert_eq!(err.code(), auth_core::ErrorCode::AdapterConnectionError);
        let source = std::error::Error::source(&err).map(ToString::to_string);
        assert!(source.unwrap_or_default().contains("Connection refused"));
    }
}
