//! The one place where sqlx errors become [`AdapterError`]s.
//!
//! The classification reads sqlx's own [`DatabaseError::kind`](sqlx::error::DatabaseError::kind)
//! (the same on all three drivers) and, for what it leaves as `Other`, the SQLSTATE or
//! SQLite result code, never the message text.

use auth_core::{AdapterError, ErrorKind, Operation};
use auth_sql::errors::kind_of_sqlstate;
use auth_sql::schema::MigrateError;
use sqlx::error::{DatabaseError, ErrorKind as DbErrorKind};

/// Wraps a sqlx error for `operation`; its text becomes the
/// [`source`](std::error::Error::source) chain (a database error as what the server said,
/// with its code).
///
/// ```
/// use auth_core::{ErrorKind, Operation};
/// let err = adapter_sqlx::errors::map(Operation::GetUser, adapter_sqlx::sqlx::Error::PoolTimedOut);
/// assert_eq!(err.kind(), ErrorKind::Connection);
/// ```
pub fn map(operation: Operation, err: sqlx::Error) -> AdapterError {
    let kind = kind_of(&err);
    let transient = is_transient(&err);
    let mapped = match &err {
        sqlx::Error::Database(db) => {
            AdapterError::from_driver(operation, kind, DatabaseMessage::of(db.as_ref()))
        }
        _ => AdapterError::from_driver(operation, kind, err),
    };
    if transient {
        mapped.transient()
    } else {
        mapped
    }
}

/// Whether the database rolled the statement's transaction back because it lost a race
/// (SQLSTATE 40001, which MySQL and MariaDB also give a deadlock, or 40P01): the same call
/// may succeed when run again ([`AdapterError::is_transient`]).
///
/// ```
/// assert!(!adapter_sqlx::errors::is_transient(&adapter_sqlx::sqlx::Error::PoolTimedOut));
/// ```
pub fn is_transient(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|code| auth_sql::errors::is_transient_sqlstate(&code)),
        _ => false,
    }
}

/// Wraps an error of opening a connection for `operation`: whatever the cause, the
/// database could not be reached, so the kind is `Connection` (ADAPTER_CONNECTION_ERROR).
/// A server that is restarting answers a new connection in ways [`kind_of`] alone
/// would call a backend failure: a proxy in front of it (docker's, a load balancer) may
/// accept the connection and answer the TLS request with garbage (sqlx's `Protocol`
/// error), and PostgreSQL itself says 57P03 "the database system is starting up".
///
/// ```
/// use auth_core::{ErrorKind, Operation};
/// let garbage = adapter_sqlx::sqlx::Error::Protocol("unexpected response from SSLRequest: 0x00".into());
/// assert_eq!(adapter_sqlx::errors::kind_of(&garbage), ErrorKind::Backend);
/// let err = adapter_sqlx::errors::map_connect(Operation::GetSessionAndUser, garbage);
/// assert_eq!(err.kind(), ErrorKind::Connection);
/// ```
pub fn map_connect(operation: Operation, err: sqlx::Error) -> AdapterError {
    match &err {
        sqlx::Error::Database(db) => AdapterError::from_driver(
            operation,
            ErrorKind::Connection,
            DatabaseMessage::of(db.as_ref()),
        ),
        _ => AdapterError::from_driver(operation, ErrorKind::Connection, err),
    }
}

/// Wraps an error of reading the options (a URL the driver cannot parse, an option value it
/// does not know) for `operation`: the configuration is wrong, so the kind is
/// `InvalidInput`, whatever the driver calls it. `message` says what was being read, in our
/// words; the driver's own message is the [`source`](std::error::Error::source), once
/// (sqlx's `Configuration` error prints its cause in its own text and returns it from
/// `source()` as well).
///
/// ```
/// use std::str::FromStr;
/// use auth_core::{ErrorKind, Operation};
/// use adapter_sqlx::sqlx::sqlite::SqliteConnectOptions;
///
/// let parse = SqliteConnectOptions::from_str("sqlite:file:x?mode=bogus").unwrap_err();
/// let err = adapter_sqlx::errors::invalid_config(Operation::Connect, "not a SQLite URL", parse);
/// assert_eq!(err.kind(), ErrorKind::InvalidInput);
/// let cause = std::error::Error::source(&err).unwrap();
/// assert_eq!(cause.to_string(), "unknown value \"bogus\" for `mode`");
/// assert!(cause.source().is_none());
/// ```
pub fn invalid_config(
    operation: Operation,
    message: impl Into<String>,
    err: sqlx::Error,
) -> AdapterError {
    let error = AdapterError::invalid_input(operation, message);
    match &err {
        sqlx::Error::Configuration(inner) => error.with_source_ref(inner.as_ref()),
        other => error.with_source_ref(other),
    }
}

/// A write transaction a Galera node rolled back without reporting it
/// ([`TRANSACTION_GONE`]), as SQLSTATE 40001 so that [`is_transient`] says so and the call
/// runs again.
///
/// ```
/// use adapter_sqlx::errors::{is_transient, transaction_gone};
/// assert!(is_transient(&transaction_gone()));
/// ```
pub fn transaction_gone() -> sqlx::Error {
    sqlx::Error::Database(Box::new(TransactionGone))
}

pub use auth_sql::errors::{TRANSACTION_CHECK, TRANSACTION_GONE};

#[derive(Debug)]
struct TransactionGone;

impl std::fmt::Display for TransactionGone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(TRANSACTION_GONE)
    }
}

impl std::error::Error for TransactionGone {}

impl DatabaseError for TransactionGone {
    fn message(&self) -> &str {
        TRANSACTION_GONE
    }
    fn code(&self) -> Option<std::borrow::Cow<'_, str>> {
        Some("40001".into())
    }
    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }
    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }
    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }
    fn kind(&self) -> DbErrorKind {
        DbErrorKind::Other
    }
}

/// What the database said, without the driver's decoration: PostgreSQL's error `Display`
/// appends the line of the server's C source (" at line 768"), which tells a user nothing.
#[derive(Debug)]
struct DatabaseMessage(String);

impl DatabaseMessage {
    fn of(db: &dyn DatabaseError) -> Self {
        Self(match db.code() {
            Some(code) => format!("the database said: {} (code {code})", db.message()),
            None => format!("the database said: {}", db.message()),
        })
    }
}

impl std::fmt::Display for DatabaseMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DatabaseMessage {}

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

/// Wraps an error of the shared migrator (auth-sql): the statement's own error when there
/// is one.
///
/// ```
/// use auth_core::ErrorKind;
/// use auth_sql::schema::MigrateError;
/// let err = adapter_sqlx::errors::map_migrate(MigrateError::Newer { found: 9, known: 1 });
/// assert_eq!(err.kind(), ErrorKind::Backend);
/// ```
pub fn map_migrate(err: MigrateError<sqlx::Error>) -> AdapterError {
    match err {
        MigrateError::Database(inner) => map(Operation::Migrate, inner),
        other => AdapterError::from_driver(Operation::Migrate, ErrorKind::Backend, other),
    }
}

/// What kind of failure a sqlx error is: sqlx's own `DatabaseError::kind`, then the
/// SQLSTATE, MySQL error number or SQLite result code; never the message text.
///
/// ```
/// use auth_core::ErrorKind;
/// let kind = adapter_sqlx::errors::kind_of(&adapter_sqlx::sqlx::Error::RowNotFound);
/// assert_eq!(kind, ErrorKind::Backend);
/// ```
pub fn kind_of(err: &sqlx::Error) -> ErrorKind {
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
            .map_or(ErrorKind::Backend, auth_sql::errors::kind_of_sqlite_code);
    }
    #[cfg(feature = "mysql")]
    if let Some(mysql) = db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>() {
        if let Some(kind) = auth_sql::errors::kind_of_mysql_number(mysql.number()) {
            return kind;
        }
    }
    db.code()
        .map_or(ErrorKind::Backend, |code| kind_of_sqlstate(&code))
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
    fn a_failed_connect_is_a_connection_error() {
        // What docker's port proxy answers for a PostgreSQL container that is restarting.
        let garbage = sqlx::Error::Protocol("unexpected response from SSLRequest: 0x00".to_owned());
        assert_eq!(kind_of(&garbage), ErrorKind::Backend);
        let mapped = map_connect(Operation::GetSessionAndUser, garbage);
        assert_eq!(mapped.kind(), ErrorKind::Connection);
        assert_eq!(mapped.code(), auth_core::ErrorCode::AdapterConnectionError);
        let source = std::error::Error::source(&mapped).map(ToString::to_string);
        assert!(source.unwrap_or_default().contains("SSLRequest"));
        let mapped = map_connect(
            Operation::GetUser,
            sqlx::Error::Configuration("bad option".into()),
        );
        assert_eq!(mapped.kind(), ErrorKind::Connection);
    }

    #[test]
    fn a_configuration_error_is_invalid_input_with_its_cause_once() {
        use std::str::FromStr;
        let parse = sqlx::sqlite::SqliteConnectOptions::from_str("sqlite:x?mode=bogus")
            .expect_err("unknown mode");
        assert!(parse.to_string().contains("bogus") && std::error::Error::source(&parse).is_some());
        let err = invalid_config(Operation::Connect, "not a SQLite URL", parse);
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert_eq!(err.code(), auth_core::ErrorCode::AdapterConnectionError);
        let mut text = err.to_string();
        let mut next = std::error::Error::source(&err);
        while let Some(cause) = next {
            text.push_str(&format!(" / {cause}"));
            next = cause.source();
        }
        assert_eq!(text.matches("bogus").count(), 1, "{text}");
    }
}
