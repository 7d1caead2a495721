//! What kind of failure a database's own error code means: SQLSTATE (PostgreSQL,
//! MySQL/MariaDB), MySQL/MariaDB error numbers, SQLite result codes. Drivers classify
//! unique and foreign-key violations themselves; these cover what they leave unclassified.

use auth_core::ErrorKind;

/// The kind of a SQLSTATE (PostgreSQL, MySQL/MariaDB).
///
/// ```
/// use auth_core::ErrorKind;
/// use auth_sql::errors::kind_of_sqlstate;
/// assert_eq!(kind_of_sqlstate("08006"), ErrorKind::Connection);
/// assert_eq!(kind_of_sqlstate("22001"), ErrorKind::InvalidInput);
/// assert_eq!(kind_of_sqlstate("42P01"), ErrorKind::Backend);
/// ```
pub fn kind_of_sqlstate(code: &str) -> ErrorKind {
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

/// Whether a SQLSTATE says the transaction lost a race and was rolled back, so running the
/// same call again can succeed: a serialization failure (`40001`, which MySQL and MariaDB
/// also give a deadlock, error 1213) or PostgreSQL's `deadlock_detected` (`40P01`).
///
/// ```
/// use auth_sql::errors::is_transient_sqlstate;
/// assert!(is_transient_sqlstate("40001"));
/// assert!(is_transient_sqlstate("40P01"));
/// assert!(!is_transient_sqlstate("23505"));
/// ```
pub fn is_transient_sqlstate(code: &str) -> bool {
    matches!(code, "40001" | "40P01")
}

/// Asks a MySQL-family server whether it is a Galera node: one row, `galera` = 1 when it
/// is (MySQL itself has no `@@wsrep_on` and answers with an error, which means no).
pub const GALERA_NODE_QUERY: &str = "SELECT CAST(@@wsrep_on AS SIGNED) AS galera";

/// What a write transaction on a Galera node reads just before it commits: one row,
/// `still_open` = 1 while the transaction is open, 0 once the node has rolled it back.
///
/// MariaDB 10.11 can roll back a transaction that lost a certification race to another
/// node's write while the client sits between two prepared statements, without reporting
/// the deadlock to any later statement: those run outside any transaction and `COMMIT`
/// succeeds with nothing to commit, so a call would report a write that was lost. All
/// three SQL crates read this on a Galera node (one round trip per write transaction) and
/// treat 0 as a lost race ([`TRANSACTION_GONE`]), which the policy layer runs again.
pub const TRANSACTION_CHECK: &str = "SELECT CAST(@@in_transaction AS SIGNED) AS still_open";

/// The message of a write transaction found rolled back by [`TRANSACTION_CHECK`].
pub const TRANSACTION_GONE: &str = "the database rolled the transaction back without saying \
    so (a Galera node that lost a certification race); nothing of it was committed";

/// The kind of a MySQL/MariaDB error number whose SQLSTATE is too vague (`HY000`), or
/// `None` to read the SQLSTATE.
///
/// ```
/// use auth_core::ErrorKind;
/// use auth_sql::errors::kind_of_mysql_number;
/// assert_eq!(kind_of_mysql_number(1406), Some(ErrorKind::InvalidInput));
/// assert_eq!(kind_of_mysql_number(1064), None);
/// ```
pub fn kind_of_mysql_number(number: u16) -> Option<ErrorKind> {
    match number {
        // ER_TRUNCATED_WRONG_VALUE_FOR_FIELD (an invalid string), ER_DATA_TOO_LONG.
        1366 | 1406 => Some(ErrorKind::InvalidInput),
        // ER_CONNECTION_KILLED (MariaDB), ER_SERVER_SHUTDOWN.
        1927 | 1053 => Some(ErrorKind::Connection),
        _ => None,
    }
}

/// The kind of an extended SQLite result code (the primary code is its low byte).
///
/// ```
/// use auth_core::ErrorKind;
/// use auth_sql::errors::kind_of_sqlite_code;
/// // SQLITE_CANTOPEN_ISDIR (14 | 2 << 8), SQLITE_TOOBIG, SQLITE_BUSY.
/// assert_eq!(kind_of_sqlite_code(526), ErrorKind::Connection);
/// assert_eq!(kind_of_sqlite_code(18), ErrorKind::InvalidInput);
/// assert_eq!(kind_of_sqlite_code(5), ErrorKind::Backend);
/// ```
pub fn kind_of_sqlite_code(code: i32) -> ErrorKind {
    match code & 0xff {
        // SQLITE_CANTOPEN, SQLITE_NOTADB: the database file cannot be used.
        14 | 26 => ErrorKind::Connection,
        // SQLITE_TOOBIG: a string or blob over the limit.
        18 => ErrorKind::InvalidInput,
        _ => ErrorKind::Backend,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_classified() {
        for code in ["08006", "08P01", "57P01", "57P02", "57P03"] {
            assert_eq!(kind_of_sqlstate(code), ErrorKind::Connection, "{code}");
        }
        assert_eq!(
            kind_of_sqlstate("57014"),
            ErrorKind::Backend,
            "query canceled"
        );
        assert_eq!(kind_of_sqlstate("22021"), ErrorKind::InvalidInput);
        assert_eq!(kind_of_mysql_number(1927), Some(ErrorKind::Connection));
        assert_eq!(kind_of_sqlite_code(26), ErrorKind::Connection);
    }
}
