//! [`Layout`]: whose tables an adapter reads and writes; [`Ids`]: who gives a user its id.

/// Whose tables the adapter reads and writes, set with
/// [`SqlxAdapterBuilder::layout`](crate::SqlxAdapterBuilder::layout).
///
/// [`Native`](Layout::Native) is this crate's own schema (prefixed tables, text ids, an
/// `email_normalized` column). The Auth.js layouts read and write the tables of a running
/// Auth.js app exactly as its adapter does, so a Rust service and the Node app share users,
/// accounts and sessions: the session cookie Auth.js sets (`authjs.session-token`) is the
/// `sessionToken` of its sessions table, and `get_session_and_user(cookie)` finds it.
/// [`SqlxAdapter::migrate`](crate::SqlxAdapter::migrate) creates the Auth.js tables as
/// Auth.js ships them (when missing) plus only indexes and foreign keys its adapter
/// tolerates; the crate README lists, per layout, which guarantees hold.
///
/// Extra fields ([`User::extra`](auth_core::User::extra) and the others) are kept in the
/// native schema's `extra` JSON column. The Auth.js layouts keep them in the columns the
/// app added to its users, accounts and sessions tables (one field per column, discovered
/// at connect and by `migrate`): a write of a field with no column, or of a value of
/// another kind than its column's, is `InvalidInput` (nothing written, never a silent drop).
///
/// ```no_run
/// use adapter_sqlx::{Layout, SqlxAdapter};
///
/// # async fn run() -> Result<(), auth_core::AdapterError> {
/// let adapter = SqlxAdapter::builder("postgres://app@db/app")
///     .layout(Layout::AuthJsPg)
///     .connect()
///     .await?;
/// adapter.migrate().await?;
/// assert_eq!(adapter.layout(), Layout::AuthJsPg);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Layout {
    /// This crate's own schema (the default).
    #[default]
    Native,
    /// The schema of @auth/pg-adapter on PostgreSQL: `users`, `accounts`, `sessions`,
    /// `verification_token`, quoted camelCase columns, `SERIAL` user ids that the database
    /// assigns (the id given to `create_user` is ignored; the user returned carries the
    /// assigned one, as a decimal string). An id that is not a decimal integer finds nothing.
    /// WebAuthn authenticators, which @auth/pg-adapter does not store, go to a table of
    /// their own (`authenticators`) that `migrate` adds.
    AuthJsPg,
    /// The default schema of @auth/drizzle-adapter, on PostgreSQL, SQLite or MariaDB (not
    /// MySQL 8): `user`, `account`, `session`, `verificationToken`, `authenticator`,
    /// camelCase columns, text user ids given by the application (kept as given).
    AuthJsDrizzle,
}

impl Layout {
    /// A short name for reports and spans: `native`, `authjs-pg`, `authjs-drizzle`.
    ///
    /// ```
    /// assert_eq!(adapter_sqlx::Layout::AuthJsPg.name(), "authjs-pg");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Layout::Native => "native",
            Layout::AuthJsPg => "authjs-pg",
            Layout::AuthJsDrizzle => "authjs-drizzle",
        }
    }
}

/// Who gives a user its id, in a layout's [`Statements`](crate::dialect::Statements).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ids {
    /// A `SERIAL` column ([`Layout::AuthJsPg`]): the database assigns it and `create_user`
    /// returns it; ids are decimal `i32`s, and any other string names no user.
    Serial,
    /// Text given by the application (native; Drizzle's `crypto.randomUUID()`): kept as
    /// given.
    Given,
}

impl Ids {
    /// The id as the statements bind it, or `None` when no user can have it (then reads
    /// find nothing and writes that need the user are `NotFound`, without a round trip).
    pub(crate) fn key(self, id: &str) -> Option<&str> {
        match self {
            // Canonical decimal only ("7", not "07" or "+7"), so one user has one id string.
            Ids::Serial => id
                .parse::<i32>()
                .ok()
                .filter(|n| n.to_string() == id)
                .map(|_| id),
            Ids::Given => Some(id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_ids_are_canonical_decimal_i32s() {
        for ok in ["1", "42", "2147483647", "0", "-3"] {
            assert_eq!(Ids::Serial.key(ok), Some(ok), "{ok}");
        }
        for bad in ["", "07", "+7", "1.0", "2147483648", "user-1", " 1", "１"] {
            assert_eq!(Ids::Serial.key(bad), None, "{bad}");
        }
    }
}
