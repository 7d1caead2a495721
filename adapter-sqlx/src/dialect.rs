//! The statement text of every method on each database: which statements can return rows
//! (`RETURNING`), how a write transaction begins, and which values a column can hold. The
//! [`Dialect`] itself and the schema are auth-sql's, shared with adapter-diesel and
//! adapter-seaorm.
//!
//! The adapter gets its [`Statements`] set once, when it connects (the native one from the
//! [`Dialect`] here, an Auth.js one from `crate::authjs`); the hot path then only binds
//! values to ready statement text.

use std::sync::Arc;

use auth_core::{AdapterError, Extra, ExtraChange, Operation};

use sqlx::{AssertSqlSafe, SqlSafeStr, SqlStr};

use crate::layout::Ids;

pub use auth_sql::Dialect;

/// A statement text of this crate (its constants, with a validated table prefix): no input
/// reaches the text, values are bound.
pub(crate) fn sql(text: impl Into<Arc<str>>) -> SqlStr {
    AssertSqlSafe(text.into()).into_sql_str()
}

/// A statement that removes a row and hands it back.
#[derive(Debug, Clone)]
pub(crate) enum Take {
    /// `DELETE … RETURNING`: one statement.
    Returning(SqlStr),
    /// In one write transaction: a locking `SELECT`, then the `DELETE` (MySQL 8). Both take
    /// the same key binds.
    LockThenDelete {
        /// `SELECT … FOR UPDATE`.
        select: SqlStr,
        /// The `DELETE`.
        delete: SqlStr,
    },
}

impl Take {
    /// Removes the rows of `table_and_key` (`<table> WHERE <key>`) handing back `columns`,
    /// as `dialect` can; `sql` renders a template into the layout's statement text.
    pub(crate) fn new(
        dialect: Dialect,
        sql: impl Fn(&str) -> SqlStr,
        table_and_key: &str,
        columns: &str,
    ) -> Self {
        if dialect.delete_returning() {
            Take::Returning(sql(&format!(
                "DELETE FROM {table_and_key} RETURNING {columns}"
            )))
        } else {
            let lock = dialect.lock_rows();
            Take::LockThenDelete {
                select: sql(&format!("SELECT {columns} FROM {table_and_key}{lock}")),
                delete: sql(&format!("DELETE FROM {table_and_key}")),
            }
        }
    }
}

/// A statement that changes a row and hands back the result.
#[derive(Debug, Clone)]
pub(crate) enum Change {
    /// `UPDATE … RETURNING`: one statement.
    Returning(SqlStr),
    /// In one write transaction: the `UPDATE`, then a `SELECT` of the row by its key
    /// (MySQL/MariaDB, which have no `UPDATE … RETURNING`).
    UpdateThenSelect {
        /// The `UPDATE` (set binds, then key binds).
        update: SqlStr,
        /// The `SELECT` (key binds).
        select: SqlStr,
    },
}

impl Change {
    /// Sets `set` on the rows of `table` matching `key`, handing back `columns`, as
    /// `dialect` can; `sql` renders a template into the layout's statement text.
    pub(crate) fn new(
        dialect: Dialect,
        sql: impl Fn(&str) -> SqlStr,
        table: &str,
        set: &str,
        key: &str,
        columns: &str,
    ) -> Self {
        if dialect.update_returning() {
            Change::Returning(sql(&format!(
                "UPDATE {table} SET {set} WHERE {key} RETURNING {columns}"
            )))
        } else {
            Change::UpdateThenSelect {
                update: sql(&format!("UPDATE {table} SET {set} WHERE {key}")),
                select: sql(&format!("SELECT {columns} FROM {table} WHERE {key}")),
            }
        }
    }
}

/// How a statement reads the extra column `column` (text on every database: PostgreSQL's
/// `jsonb` is cast, so serde_json parses the text and no driver re-encodes a number) under
/// the row name `alias`.
pub(crate) fn read_extra(dialect: Dialect, column: &str, alias: &str) -> String {
    if dialect == Dialect::Postgres {
        format!("{column}::text AS {alias}")
    } else if column == alias {
        column.to_owned()
    } else {
        format!("{column} AS {alias}")
    }
}

/// The placeholder of an extra object bound as JSON text (`NULL` for an empty one).
pub(crate) fn extra_param(dialect: Dialect) -> &'static str {
    if dialect == Dialect::Postgres {
        "CAST(? AS jsonb)"
    } else {
        "?"
    }
}

/// Every statement of a layout, rendered once for a dialect (and, natively, a table
/// prefix), with the ways layouts differ beyond their text. Every text returns the
/// native row names, so the rows decode with the same row types on every layout.
#[derive(Debug)]
pub(crate) struct Statements {
    /// Who gives a user its id, and which id strings can name a user.
    pub ids: Ids,
    /// Whether `create_user` and `update_user` bind the email key computed in Rust (the
    /// native `email_normalized` column) after the email; the Auth.js layouts have the
    /// database compute it in a unique expression index instead.
    pub binds_email_key: bool,
    /// Where the extra fields of users, accounts and sessions are kept.
    pub extra: ExtraStorage,
    pub begin_write: SqlStr,
    /// On a Galera node: a statement, run before each write transaction commits, that
    /// reads whether the transaction is still open (see
    /// [`Statements::on_galera`]). `None` elsewhere.
    pub transaction_check: Option<SqlStr>,
    /// Binds the id (when given, [`Ids::Given`]), email, the email key (when
    /// [`binds_email_key`](Self::binds_email_key)), email_verified, name, image; returns the
    /// assigned id as text ([`Ids::Serial`]).
    pub create_user: SqlStr,
    pub get_user: SqlStr,
    pub get_user_by_email: SqlStr,
    pub get_user_by_account: SqlStr,
    /// The user row by id, locked until the write transaction ends (a merge of extra
    /// fields reads the stored object under it).
    pub lock_user: SqlStr,
    pub update_user: Change,
    pub delete_user: Take,
    pub link_account: SqlStr,
    pub get_account: SqlStr,
    pub unlink_account: Take,
    pub update_account: Change,
    pub list_accounts: SqlStr,
    pub create_session: SqlStr,
    pub get_session_and_user: SqlStr,
    /// The live session row by token (and now), locked until the write transaction ends.
    pub lock_session: SqlStr,
    pub update_session: Change,
    pub delete_session: Take,
    pub list_sessions: SqlStr,
    pub delete_sessions: SqlStr,
    pub create_verification_token: SqlStr,
    pub use_verification_token: Take,
    pub create_authenticator: SqlStr,
    pub get_authenticator: SqlStr,
    pub list_authenticators: SqlStr,
    pub update_authenticator_counter: Change,
    pub delete_authenticator: Take,
    pub delete_expired_sessions: SqlStr,
    pub delete_expired_tokens: SqlStr,
}

/// Where a layout keeps the extra fields of users, accounts and sessions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ExtraStorage {
    /// One JSON column `extra` per table (native): every statement reads it as text (the
    /// session read names the session's `session_extra`), `create_user`, `link_account` and
    /// `create_session` bind it last, and `update_user`, `update_account` and
    /// `update_session` bind it as their last set values (`update_user` and
    /// `update_session` as a `CASE WHEN ? THEN ?` pair, `update_account` always).
    Column,
    /// The Auth.js layouts: the columns the app added to its tables (discovered from the
    /// catalog), one extra field per column. The statements select the native `extra` as a
    /// typed `NULL` and each app-added column under an alias that says its kind
    /// ([`WithExtra`](crate::rows::WithExtra) decodes them); a write of any extra field is
    /// refused before anything is written.
    Columns(crate::authjs::ExtraColumns),
}

impl ExtraStorage {
    /// Refuses (`InvalidInput`, with `op`'s code, before any I/O) a write of the extra
    /// fields `written` where they cannot be kept: a non-null field naming no app-added
    /// column, or of another kind than its column's.
    pub(crate) fn check_writable(
        &self,
        op: Operation,
        written: &Extra,
    ) -> Result<(), AdapterError> {
        match self {
            ExtraStorage::Column => Ok(()),
            ExtraStorage::Columns(columns) => columns.check(op, written),
        }
    }

    /// The statement and values setting the app-added columns of a row of `op`'s table to
    /// `extra` (the whole set of its extra fields), checked first; `None` where there is
    /// nothing to set (the native column, or no app-added column).
    pub(crate) fn column_binds(
        &self,
        op: Operation,
        extra: &Extra,
    ) -> Result<Option<(String, Vec<crate::authjs::ColumnBind>)>, AdapterError> {
        match self {
            ExtraStorage::Column => Ok(None),
            ExtraStorage::Columns(columns) => columns.binds(op, extra),
        }
    }

    /// Whether a write of `op` sets app-added columns (an Auth.js table that has some).
    pub(crate) fn sets_columns(&self, op: Operation) -> bool {
        matches!(self, ExtraStorage::Columns(c) if c.table_of(op).1.is_some())
    }

    /// [`check_writable`](Self::check_writable) for an [`ExtraChange`].
    pub(crate) fn check_change(
        &self,
        op: Operation,
        change: Option<&ExtraChange>,
    ) -> Result<(), AdapterError> {
        match change {
            None => Ok(()),
            Some(ExtraChange::Merge(fields) | ExtraChange::Replace(fields)) => {
                self.check_writable(op, fields)
            }
        }
    }
}

const USER: &str = "id, email, email_verified, name, image";
const ACCOUNT: &str = "user_id, account_type, provider, provider_account_id, refresh_token, \
     access_token, expires_at, token_type, scope, id_token, session_state";
const SESSION: &str = "session_token, user_id, expires";
const TOKEN: &str = "identifier, token, expires";
const AUTHENTICATOR: &str = "credential_id, user_id, provider_account_id, \
     credential_public_key, counter, credential_device_type, credential_backed_up, transports";

impl Statements {
    /// These statements for a Galera node (`on`): each write transaction then reads
    /// `@@in_transaction` before its `COMMIT`, and a transaction the node no longer has is
    /// run again. MariaDB 10.11 can roll back a transaction that lost a certification race
    /// to another node's write while the client sits between two prepared statements,
    /// without reporting the deadlock to any later statement: those then run outside any
    /// transaction and `COMMIT` succeeds with nothing to commit, so the write would be lost
    /// while the call reports success. One more round trip per write transaction, on
    /// Galera only.
    pub(crate) fn on_galera(mut self, on: bool) -> Self {
        self.transaction_check = on.then(|| sql(crate::error::TRANSACTION_CHECK));
        self
    }

    /// The native layout's statements for `dialect` with the (validated) table `prefix`.
    pub(crate) fn new(dialect: Dialect, prefix: &str) -> Self {
        // The templates are constants of this module and the prefix passed
        // `validate_table_prefix`.
        let sql = |template: &str| self::sql(dialect.render(prefix, template));
        let take =
            |table_and_key: &str, columns: &str| Take::new(dialect, sql, table_and_key, columns);
        let change = |table: &str, set: &str, key: &str, columns: &str| {
            Change::new(dialect, sql, table, set, key, columns)
        };
        let x = extra_param(dialect);
        let user = format!("{USER}, {}", read_extra(dialect, "extra", "extra"));
        let account = format!("{ACCOUNT}, {}", read_extra(dialect, "extra", "extra"));
        let session = format!("{SESSION}, {}", read_extra(dialect, "extra", "extra"));
        let lock = dialect.lock_rows();
        Statements {
            // Text ids given by the caller, kept as given.
            ids: Ids::Given,
            binds_email_key: true,
            extra: ExtraStorage::Column,
            begin_write: sql(dialect.begin_write()),
            transaction_check: None,
            create_user: sql(&format!(
                "INSERT INTO {{p}}users \
                 (id, email, email_normalized, email_verified, name, image, extra) \
                 VALUES (?, ?, ?, ?, ?, ?, {x})"
            )),
            get_user: sql(&format!("SELECT {user} FROM {{p}}users WHERE id = ?")),
            get_user_by_email: sql(&format!(
                "SELECT {user} FROM {{p}}users WHERE email_normalized = ?"
            )),
            get_user_by_account: sql(&format!(
                "SELECT u.id, u.email, u.email_verified, u.name, u.image, {} \
                 FROM {{p}}accounts a JOIN {{p}}users u ON u.id = a.user_id \
                 WHERE a.provider = ? AND a.provider_account_id = ?",
                read_extra(dialect, "u.extra", "extra")
            )),
            lock_user: sql(&format!("SELECT {user} FROM {{p}}users WHERE id = ?{lock}")),
            update_user: change(
                "{p}users",
                &format!(
                    "email = CASE WHEN ? THEN ? ELSE email END, \
                     email_normalized = CASE WHEN ? THEN ? ELSE email_normalized END, \
                     email_verified = CASE WHEN ? THEN ? ELSE email_verified END, \
                     name = CASE WHEN ? THEN ? ELSE name END, \
                     image = CASE WHEN ? THEN ? ELSE image END, \
                     extra = CASE WHEN ? THEN {x} ELSE extra END"
                ),
                "id = ?",
                &user,
            ),
            delete_user: take("{p}users WHERE id = ?", &user),
            link_account: sql(&format!(
                "INSERT INTO {{p}}accounts ({ACCOUNT}, extra) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, {x})"
            )),
            get_account: sql(&format!(
                "SELECT {account} FROM {{p}}accounts WHERE provider = ? AND provider_account_id = ?"
            )),
            unlink_account: take(
                "{p}accounts WHERE provider = ? AND provider_account_id = ?",
                &account,
            ),
            update_account: change(
                "{p}accounts",
                &format!(
                    "refresh_token = ?, access_token = ?, expires_at = ?, token_type = ?, \
                     scope = ?, id_token = ?, session_state = ?, extra = {x}"
                ),
                "provider = ? AND provider_account_id = ?",
                &account,
            ),
            list_accounts: sql(&format!(
                "SELECT {account} FROM {{p}}accounts WHERE user_id = ? ORDER BY provider"
            )),
            create_session: sql(&format!(
                "INSERT INTO {{p}}sessions ({SESSION}, extra) VALUES (?, ?, ?, {x})"
            )),
            get_session_and_user: sql(&format!(
                "SELECT u.id, u.email, u.email_verified, u.name, u.image, {}, \
                 s.session_token, s.expires, {} \
                 FROM {{p}}sessions s JOIN {{p}}users u ON u.id = s.user_id \
                 WHERE s.session_token = ? AND s.expires > ?",
                read_extra(dialect, "u.extra", "extra"),
                read_extra(dialect, "s.extra", "session_extra")
            )),
            lock_session: sql(&format!(
                "SELECT {session} FROM {{p}}sessions \
                 WHERE session_token = ? AND expires > ?{lock}"
            )),
            update_session: change(
                "{p}sessions",
                &format!(
                    "expires = COALESCE(?, expires), user_id = COALESCE(?, user_id), \
                     extra = CASE WHEN ? THEN {x} ELSE extra END"
                ),
                // Only a live session changes: an expired one is never revived.
                "session_token = ? AND expires > ?",
                &session,
            ),
            delete_session: take("{p}sessions WHERE session_token = ?", &session),
            list_sessions: sql(&format!(
                "SELECT {session} FROM {{p}}sessions WHERE user_id = ? AND expires > ?"
            )),
            // Live sessions only, so the count is exact; expired ones are left to the sweep.
            delete_sessions: sql("DELETE FROM {p}sessions WHERE user_id = ? AND expires > ?"),
            create_verification_token: sql(&format!(
                "INSERT INTO {{p}}verification_tokens ({TOKEN}) VALUES (?, ?, ?)"
            )),
            use_verification_token: take(
                "{p}verification_tokens WHERE identifier = ? AND token = ?",
                TOKEN,
            ),
            create_authenticator: sql(&format!(
                "INSERT INTO {{p}}authenticators ({AUTHENTICATOR}) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            )),
            get_authenticator: sql(&format!(
                "SELECT {AUTHENTICATOR} FROM {{p}}authenticators WHERE credential_id = ?"
            )),
            list_authenticators: sql(&format!(
                "SELECT {AUTHENTICATOR} FROM {{p}}authenticators WHERE user_id = ? \
                 ORDER BY credential_id"
            )),
            update_authenticator_counter: change(
                "{p}authenticators",
                "counter = ?",
                "credential_id = ?",
                AUTHENTICATOR,
            ),
            delete_authenticator: take("{p}authenticators WHERE credential_id = ?", AUTHENTICATOR),
            delete_expired_sessions: sql("DELETE FROM {p}sessions WHERE expires <= ?"),
            delete_expired_tokens: sql("DELETE FROM {p}verification_tokens WHERE expires <= ?"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MARIADB: Dialect = Dialect::MariaDb {
        major: 10,
        minor: 11,
    };
    const MYSQL: Dialect = Dialect::MySql { major: 8, minor: 0 };

    #[test]
    fn postgres_placeholders_are_numbered() {
        let s = Statements::new(Dialect::Postgres, "auth_");
        assert_eq!(
            s.get_session_and_user.as_str(),
            "SELECT u.id, u.email, u.email_verified, u.name, u.image, \
             u.extra::text AS extra, s.session_token, s.expires, \
             s.extra::text AS session_extra FROM auth_sessions s \
             JOIN auth_users u ON u.id = s.user_id \
             WHERE s.session_token = $1 AND s.expires > $2"
        );
        assert_eq!(
            s.create_user.as_str(),
            "INSERT INTO auth_users \
             (id, email, email_normalized, email_verified, name, image, extra) \
             VALUES ($1, $2, $3, $4, $5, $6, CAST($7 AS jsonb))"
        );
        let Change::Returning(update) = &s.update_user else {
            panic!("postgres updates with RETURNING");
        };
        assert!(update
            .as_str()
            .contains("WHERE id = $13 RETURNING id, email"));
    }

    #[test]
    fn other_dialects_keep_question_marks() {
        for dialect in [MARIADB, MYSQL, Dialect::Sqlite] {
            let s = Statements::new(dialect, "p_");
            assert_eq!(
                s.get_user.as_str(),
                "SELECT id, email, email_verified, name, image, extra FROM p_users WHERE id = ?"
            );
            assert!(!s.get_user.as_str().contains('$'));
        }
    }

    #[test]
    fn token_use_is_one_delete_returning_where_the_dialect_has_it() {
        for dialect in [Dialect::Postgres, MARIADB, Dialect::Sqlite] {
            match Statements::new(dialect, "auth_").use_verification_token {
                Take::Returning(sql) => {
                    assert!(sql
                        .as_str()
                        .starts_with("DELETE FROM auth_verification_tokens WHERE identifier = "));
                    assert!(sql
                        .as_str()
                        .ends_with("RETURNING identifier, token, expires"));
                }
                other => panic!("{dialect:?}: {other:?}"),
            }
        }
        match Statements::new(MYSQL, "auth_").use_verification_token {
            Take::LockThenDelete { select, delete } => {
                assert_eq!(
                    select.as_str(),
                    "SELECT identifier, token, expires FROM auth_verification_tokens \
                     WHERE identifier = ? AND token = ? FOR UPDATE"
                );
                assert_eq!(
                    delete.as_str(),
                    "DELETE FROM auth_verification_tokens WHERE identifier = ? AND token = ?"
                );
            }
            other => panic!("mysql 8: {other:?}"),
        }
        let old_mariadb = Dialect::MariaDb {
            major: 10,
            minor: 4,
        };
        assert!(matches!(
            Statements::new(old_mariadb, "").use_verification_token,
            Take::LockThenDelete { .. }
        ));
    }

    #[test]
    fn mysql_family_updates_then_selects_in_a_transaction() {
        for dialect in [MARIADB, MYSQL] {
            let s = Statements::new(dialect, "auth_");
            assert_eq!(s.begin_write.as_str(), "BEGIN");
            match s.update_session {
                Change::UpdateThenSelect { update, select } => {
                    assert_eq!(
                        update.as_str(),
                        "UPDATE auth_sessions SET expires = COALESCE(?, expires), \
                         user_id = COALESCE(?, user_id), \
                         extra = CASE WHEN ? THEN ? ELSE extra END \
                         WHERE session_token = ? AND expires > ?"
                    );
                    assert_eq!(
                        select.as_str(),
                        "SELECT session_token, user_id, expires, extra FROM auth_sessions \
                         WHERE session_token = ? AND expires > ?"
                    );
                }
                other => panic!("{dialect:?}: {other:?}"),
            }
        }
        assert_eq!(
            Statements::new(Dialect::Sqlite, "").begin_write.as_str(),
            "BEGIN IMMEDIATE"
        );
    }
}
