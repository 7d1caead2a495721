//! [`Layout`]: whose tables an adapter reads and writes.

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
