//! The [`Store`] implementation: every method once, in diesel's DSL, compiled per database
//! by [`with_conn!`](crate::pool::with_conn). Where PostgreSQL and SQLite have a
//! `RETURNING` clause (`DELETE … RETURNING`, `UPDATE … RETURNING`) the method is one
//! statement; on MariaDB/MySQL it is one transaction (`SELECT … FOR UPDATE`, then the
//! change).
//!
//! Extra fields: written as the `extra` column's JSON text ([`ExtraText`]) with the rest of
//! the row. A merge ([`ExtraChange::Merge`]) reads the stored object first, so it is a
//! transaction with the row locked ([`locked_merge`]); no extra change, or a replacement,
//! keeps the one statement.

use async_trait::async_trait;
use auth_core::{
    Account, AdapterError, AdapterResult, Authenticator, ErrorCode, ExpiredCounts, ExtraChange,
    Operation, Session, SessionUpdate, Store, User, UserUpdate, VerificationToken,
};
use chrono::{DateTime, Utc};
use diesel::result::Error as DieselError;
use diesel::{ExpressionMethods, OptionalExtension, QueryDsl};
#[allow(unused_imports)]
use diesel_async::{AsyncConnection, RunQueryDsl};

use crate::adapter::DieselAdapter;
use crate::extra::ExtraText;
use crate::pool::with_conn;
use crate::rows::{self, stamp, AccountRow, AuthenticatorRow, SessionRow, TokenRow, UserRow};

/// Removes the rows `$source` selects and returns the one removed: `DELETE … RETURNING`.
#[allow(unused_macros)] // a build with only `mysql` has no RETURNING dialect
macro_rules! delete_returning {
    ($conn:ident, $source:expr, $Row:ty) => {
        diesel::delete($source)
            .get_result::<$Row>($conn)
            .await
            .optional()
    };
}

/// The same on MariaDB/MySQL: in one transaction, lock the row (`SELECT … FOR UPDATE`),
/// then delete it. Of concurrent callers exactly one finds it.
#[allow(unused_macros)]
macro_rules! lock_then_delete {
    ($conn:ident, $source:expr, $Row:ty) => {
        $conn
            .transaction(async |conn| {
                let row = $source.for_update().first::<$Row>(conn).await.optional()?;
                if row.is_some() {
                    diesel::delete($source).execute(conn).await?;
                    $crate::store::still_open(conn).await?;
                }
                Ok::<_, ::diesel::result::Error>(row)
            })
            .await
    };
}

/// Applies `$changes` to the rows `$target` selects and returns the changed row:
/// `UPDATE … RETURNING`.
#[allow(unused_macros)] // a build with only `mysql` has no RETURNING dialect
macro_rules! update_returning {
    ($conn:ident, $target:expr, $changes:expr, $Row:ty) => {
        diesel::update($target)
            .set($changes)
            .get_result::<$Row>($conn)
            .await
            .optional()
    };
}

/// The same on MariaDB/MySQL: in one transaction, the `UPDATE`, then a read of the row by
/// `$key` (`None`, with no read, when the update matched nothing).
#[allow(unused_macros)]
macro_rules! update_then_read {
    ($conn:ident, $target:expr, $changes:expr, $key:expr, $Row:ty) => {
        $conn
            .transaction(async |conn| {
                let matched = diesel::update($target).set($changes).execute(conn).await?;
                if matched == 0 {
                    return Ok(None);
                }
                let row = $key.first::<$Row>(conn).await.optional()?;
                $crate::store::still_open(conn).await?;
                Ok::<_, ::diesel::result::Error>(row)
            })
            .await
    };
}

#[cfg(feature = "mysql")]
tokio::task_local! {
    /// Whether the call's MariaDB/MySQL server is a Galera node (set by `with_conn!` for
    /// the call's body, from [`DieselAdapter::galera_node`]).
    pub(crate) static GALERA_NODE: bool;
}

/// In a write transaction on a Galera node, just before it commits: the transaction must
/// still be open. MariaDB 10.11 can roll back a transaction that lost a certification race
/// while the client sits between two prepared statements without reporting it; the
/// statements after it then run outside any transaction and the commit succeeds with
/// nothing to commit. A transaction gone is a lost race (a serialization failure, run
/// again by the policy layer). Elsewhere: nothing, no round trip.
#[cfg(feature = "mysql")]
pub(crate) async fn still_open(conn: &mut crate::pool::MysqlConnection) -> Result<(), DieselError> {
    #[derive(diesel::QueryableByName)]
    struct StillOpen {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        still_open: i64,
    }
    if !GALERA_NODE.try_with(|on| *on).unwrap_or(false) {
        return Ok(());
    }
    let open = diesel::sql_query(auth_sql::errors::TRANSACTION_CHECK)
        .get_result::<StillOpen>(conn)
        .await?;
    if open.still_open == 1 {
        return Ok(());
    }
    Err(DieselError::DatabaseError(
        diesel::result::DatabaseErrorKind::SerializationFailure,
        Box::new(auth_sql::errors::TRANSACTION_GONE.to_owned()),
    ))
}

/// Why a read-modify-write transaction ([`locked_merge`]) ended without committing: the
/// database failed, or the merged record was refused (over the cap), and then nothing is
/// written.
enum Abort {
    Database(DieselError),
    Refused(AdapterError),
}

impl From<DieselError> for Abort {
    fn from(err: DieselError) -> Self {
        Abort::Database(err)
    }
}

/// A transaction's outcome as a database result (which [`with_conn`] maps and settles the
/// connection with) holding the refusal, if any.
fn aborted<T>(outcome: Result<T, Abort>) -> Result<AdapterResult<T>, DieselError> {
    match outcome {
        Ok(value) => Ok(Ok(value)),
        Err(Abort::Refused(err)) => Ok(Err(err)),
        Err(Abort::Database(err)) => Err(err),
    }
}

/// A merge of stored extra fields: in one transaction, lock the row `$target` selects and
/// read it (`None` when there is none, with nothing changed), compute the record after the
/// update in Rust (`|$current| $apply`, an `AdapterResult`: a merged object over the cap is
/// refused and the transaction rolled back), write `|$merged| $changes` and return the row
/// as stored. `$kind` says how the row is locked: `SELECT … FOR UPDATE` on PostgreSQL and
/// MariaDB/MySQL; SQLite has no row locks, so the transaction starts as a write
/// (`BEGIN IMMEDIATE`), which excludes every other writer from its first read. MariaDB
/// reads the row back by `$read` (no `RETURNING`).
///
/// Gives `Result<AdapterResult<Option<Model>>, DieselError>` (see [`aborted`]).
macro_rules! locked_merge {
    (
        $kind:ident, $conn:ident, $target:expr, $read:expr, $Row:ty, $decode:path,
        |$current:ident| $apply:expr, |$merged:ident| $changes:expr
    ) => {
        $crate::store::aborted(
            locked_merge!(@begin $kind, $conn, async |conn| {
                let Some(row) = locked_merge!(@lock $kind, conn, $target, $Row) else {
                    return Ok(None);
                };
                let $current = $decode(row)?;
                let $merged = $apply.map_err($crate::store::Abort::Refused)?;
                let changes = $changes;
                Ok(locked_merge!(@write $kind, conn, $target, changes, $read, $Row)
                    .map($decode)
                    .transpose()?)
            })
            .await,
        )
    };
    (@begin sqlite, $conn:ident, $body:expr) => {
        $conn.immediate_transaction::<_, $crate::store::Abort, _>($body)
    };
    (@begin $kind:ident, $conn:ident, $body:expr) => {
        $conn.transaction::<_, $crate::store::Abort, _>($body)
    };
    (@lock sqlite, $conn:ident, $target:expr, $Row:ty) => {
        $target.first::<$Row>($conn).await.optional()?
    };
    (@lock $kind:ident, $conn:ident, $target:expr, $Row:ty) => {
        $target.for_update().first::<$Row>($conn).await.optional()?
    };
    (@write mysql, $conn:ident, $target:expr, $changes:expr, $read:expr, $Row:ty) => {{
        diesel::update($target).set($changes).execute($conn).await?;
        let row = $read.first::<$Row>($conn).await.optional()?;
        $crate::store::still_open($conn).await?;
        row
    }};
    (@write $kind:ident, $conn:ident, $target:expr, $changes:expr, $read:expr, $Row:ty) => {
        diesel::update($target)
            .set($changes)
            .get_result::<$Row>($conn)
            .await
            .optional()?
    };
}

/// What a change of the extra fields writes when it needs no read: a replacement's object
/// (`Some`), or nothing (`None`); a merge goes through [`locked_merge`] instead.
fn replacement(change: Option<&ExtraChange>) -> Option<&auth_core::Extra> {
    match change {
        Some(ExtraChange::Replace(object)) => Some(object),
        Some(ExtraChange::Merge(_)) | None => None,
    }
}

/// Whether the change merges into the stored object (and so must read it first).
fn merges(change: Option<&ExtraChange>) -> bool {
    matches!(change, Some(ExtraChange::Merge(_)))
}

#[async_trait]
impl Store for DieselAdapter {
    fn backend(&self) -> &'static str {
        match self.dialect() {
            crate::Dialect::Postgres => "diesel-postgres",
            crate::Dialect::MySql => "diesel-mysql",
            crate::Dialect::Sqlite => "diesel-sqlite",
        }
    }

    async fn insert_user(&self, user: &User, email_key: Option<&str>) -> AdapterResult<String> {
        let op = Operation::CreateUser;
        with_conn!(self, op, |conn, s, Stamp| {
            let extra = ExtraText::of(&user.extra);
            diesel::insert_into(s::users::table)
                .values((
                    s::users::id.eq(&user.id),
                    s::users::email.eq(user.email.as_deref()),
                    s::users::email_normalized.eq(email_key),
                    s::users::email_verified.eq(user.email_verified.map(stamp::<Stamp>)),
                    s::users::name.eq(user.name.as_deref()),
                    s::users::image.eq(user.image.as_deref()),
                    s::users::extra.eq(extra),
                ))
                .execute(conn)
                .await
                .map(|_| user.id.clone())
        })
    }

    async fn find_user(&self, id: &str) -> AdapterResult<Option<User>> {
        let op = Operation::GetUser;
        with_conn!(self, op, |conn, s, Stamp| {
            s::users::table
                .filter(s::users::id.eq(id))
                .first::<UserRow<Stamp>>(conn)
                .await
                .optional()?
                .map(rows::user)
                .transpose()
        })
    }

    async fn find_user_by_email(&self, email_key: &str) -> AdapterResult<Option<User>> {
        let op = Operation::GetUserByEmail;
        with_conn!(self, op, |conn, s, Stamp| {
            s::users::table
                .filter(s::users::email_normalized.eq(email_key))
                .first::<UserRow<Stamp>>(conn)
                .await
                .optional()?
                .map(rows::user)
                .transpose()
        })
    }

    async fn find_user_by_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<User>> {
        let op = Operation::GetUserByAccount;
        with_conn!(self, op, |conn, s, Stamp| {
            s::accounts::table
                .inner_join(s::users::table)
                .filter(s::accounts::provider.eq(provider))
                .filter(s::accounts::provider_account_id.eq(provider_account_id))
                .select(s::users::all_columns)
                .first::<UserRow<Stamp>>(conn)
                .await
                .optional()?
                .map(rows::user)
                .transpose()
        })
    }

    async fn merge_user(
        &self,
        update: &UserUpdate,
        email_key: Option<Option<&str>>,
    ) -> AdapterResult<Option<User>> {
        let op = Operation::UpdateUser;
        let unchanged = update.email.is_none()
            && update.email_verified.is_none()
            && update.name.is_none()
            && update.image.is_none()
            && update.extra.is_none();
        if unchanged {
            return self
                .find_user(&update.id)
                .await
                .map_err(|e| e.with_code(ErrorCode::UpdateUserError));
        }
        macro_rules! key {
            ($s:ident) => {
                $s::users::table.filter($s::users::id.eq(&update.id))
            };
        }
        // The fields the update sets, `$extra` the extra column's new text (`Some(None)`
        // is NULL); `None` leaves a column out of the `SET` list.
        macro_rules! changes {
            ($s:ident, $Stamp:ident, $extra:expr) => {
                (
                    update
                        .email
                        .as_ref()
                        .map(|e| $s::users::email.eq(e.as_deref())),
                    email_key.map(|k| $s::users::email_normalized.eq(k)),
                    update
                        .email_verified
                        .map(|v| $s::users::email_verified.eq(v.map(stamp::<$Stamp>))),
                    update
                        .name
                        .as_ref()
                        .map(|n| $s::users::name.eq(n.as_deref())),
                    update
                        .image
                        .as_ref()
                        .map(|i| $s::users::image.eq(i.as_deref())),
                    $extra.map(|text| $s::users::extra.eq(text)),
                )
            };
        }
        if merges(update.extra.as_ref()) {
            macro_rules! merge {
                ($kind:ident, $conn:ident, $s:ident, $Stamp:ident) => {
                    locked_merge!(
                        $kind,
                        $conn,
                        key!($s),
                        key!($s),
                        UserRow<$Stamp>,
                        rows::user,
                        |current| update.apply_to(current),
                        |merged| changes!($s, $Stamp, Some(ExtraText::of(&merged.extra)))
                    )
                };
            }
            return with_conn!(self, op, |conn, s, Stamp|
                postgres: merge!(postgres, conn, s, Stamp),
                mysql: merge!(mysql, conn, s, Stamp),
                sqlite: merge!(sqlite, conn, s, Stamp)
            )
            .and_then(std::convert::identity);
        }
        let replaced = replacement(update.extra.as_ref());
        with_conn!(self, op, |conn, s, Stamp|
            returning: {
                let extra = replaced.map(ExtraText::of);
                update_returning!(conn, key!(s), changes!(s, Stamp, extra), UserRow<Stamp>)?
                    .map(rows::user)
                    .transpose()
            },
            mysql: {
                let extra = replaced.map(ExtraText::of);
                update_then_read!(
                    conn,
                    key!(s),
                    changes!(s, Stamp, extra),
                    key!(s),
                    UserRow<Stamp>
                )?
                .map(rows::user)
                .transpose()
            }
        )
    }

    async fn remove_user(&self, id: &str) -> AdapterResult<Option<User>> {
        // One cascading DELETE: the foreign keys remove accounts, sessions and
        // authenticators in the same statement.
        let op = Operation::DeleteUser;
        with_conn!(self, op, |conn, s, Stamp|
            returning: delete_returning!(conn, s::users::table.filter(s::users::id.eq(id)), UserRow<Stamp>)?
                .map(rows::user)
                .transpose(),
            mysql: lock_then_delete!(conn, s::users::table.filter(s::users::id.eq(id)), UserRow<Stamp>)?
                .map(rows::user)
                .transpose()
        )
    }

    async fn insert_account(&self, account: &Account) -> AdapterResult<()> {
        let op = Operation::LinkAccount;
        let a = account;
        with_conn!(self, op, |conn, s, Stamp| {
            let extra = ExtraText::of(&a.extra);
            diesel::insert_into(s::accounts::table)
                .values((
                    s::accounts::provider.eq(&a.provider),
                    s::accounts::provider_account_id.eq(&a.provider_account_id),
                    s::accounts::user_id.eq(&a.user_id),
                    s::accounts::account_type.eq(a.account_type.as_str()),
                    s::accounts::refresh_token.eq(a.refresh_token.as_deref()),
                    s::accounts::access_token.eq(a.access_token.as_deref()),
                    s::accounts::expires_at.eq(a.expires_at),
                    s::accounts::token_type.eq(a.token_type.as_deref()),
                    s::accounts::scope.eq(a.scope.as_deref()),
                    s::accounts::id_token.eq(a.id_token.as_deref()),
                    s::accounts::session_state.eq(a.session_state.as_deref()),
                    s::accounts::extra.eq(extra),
                ))
                .execute(conn)
                .await
                .map(drop)
        })
    }

    async fn remove_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<Account>> {
        let op = Operation::UnlinkAccount;
        with_conn!(self, op, |conn, s, Stamp|
            returning: delete_returning!(
                conn,
                s::accounts::table
                    .filter(s::accounts::provider.eq(provider))
                    .filter(s::accounts::provider_account_id.eq(provider_account_id)),
                AccountRow
            )?
            .map(rows::account)
            .transpose(),
            mysql: lock_then_delete!(
                conn,
                s::accounts::table
                    .filter(s::accounts::provider.eq(provider))
                    .filter(s::accounts::provider_account_id.eq(provider_account_id)),
                AccountRow
            )?
            .map(rows::account)
            .transpose()
        )
    }

    async fn find_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<Account>> {
        let op = Operation::GetAccount;
        with_conn!(self, op, |conn, s, Stamp| {
            s::accounts::table
                .filter(s::accounts::provider.eq(provider))
                .filter(s::accounts::provider_account_id.eq(provider_account_id))
                .first::<AccountRow>(conn)
                .await
                .optional()?
                .map(rows::account)
                .transpose()
        })
    }

    async fn replace_account_tokens(&self, account: &Account) -> AdapterResult<Option<Account>> {
        let op = Operation::UpdateAccount;
        let a = account;
        macro_rules! key {
            ($s:ident) => {
                $s::accounts::table
                    .filter($s::accounts::provider.eq(&a.provider))
                    .filter($s::accounts::provider_account_id.eq(&a.provider_account_id))
            };
        }
        // The token fields and the extra fields (the rest of the token response).
        macro_rules! tokens {
            ($s:ident, $extra:expr) => {
                (
                    $s::accounts::refresh_token.eq(a.refresh_token.as_deref()),
                    $s::accounts::access_token.eq(a.access_token.as_deref()),
                    $s::accounts::expires_at.eq(a.expires_at),
                    $s::accounts::token_type.eq(a.token_type.as_deref()),
                    $s::accounts::scope.eq(a.scope.as_deref()),
                    $s::accounts::id_token.eq(a.id_token.as_deref()),
                    $s::accounts::session_state.eq(a.session_state.as_deref()),
                    $s::accounts::extra.eq($extra),
                )
            };
        }
        with_conn!(self, op, |conn, s, Stamp|
            returning: {
                let extra = ExtraText::of(&a.extra);
                update_returning!(conn, key!(s), tokens!(s, extra), AccountRow)?
                    .map(rows::account)
                    .transpose()
            },
            mysql: {
                let extra = ExtraText::of(&a.extra);
                update_then_read!(conn, key!(s), tokens!(s, extra), key!(s), AccountRow)?
                    .map(rows::account)
                    .transpose()
            }
        )
    }

    async fn find_accounts(&self, user_id: &str) -> AdapterResult<Vec<Account>> {
        let op = Operation::ListAccounts;
        with_conn!(self, op, |conn, s, Stamp| {
            s::accounts::table
                .filter(s::accounts::user_id.eq(user_id))
                .order((s::accounts::provider, s::accounts::provider_account_id))
                .load::<AccountRow>(conn)
                .await?
                .into_iter()
                .map(rows::account)
                .collect()
        })
    }

    async fn insert_session(&self, session: &Session) -> AdapterResult<()> {
        let op = Operation::CreateSession;
        with_conn!(self, op, |conn, s, Stamp| {
            let extra = ExtraText::of(&session.extra);
            diesel::insert_into(s::sessions::table)
                .values((
                    s::sessions::session_token.eq(&session.session_token),
                    s::sessions::user_id.eq(&session.user_id),
                    s::sessions::expires.eq(stamp::<Stamp>(session.expires)),
                    s::sessions::extra.eq(extra),
                ))
                .execute(conn)
                .await
                .map(drop)
        })
    }

    async fn find_session_and_user(
        &self,
        session_token: &str,
        now: DateTime<Utc>,
    ) -> AdapterResult<Option<(Session, User)>> {
        // The hot path: one statement (the session joined with its user, live ones only,
        // both rows' extra fields included), one round trip (the pool's checkout runs no
        // query).
        let op = Operation::GetSessionAndUser;
        with_conn!(self, op, |conn, s, Stamp| {
            s::sessions::table
                .inner_join(s::users::table)
                .filter(s::sessions::session_token.eq(session_token))
                .filter(s::sessions::expires.gt(stamp::<Stamp>(now)))
                .first::<(SessionRow<Stamp>, UserRow<Stamp>)>(conn)
                .await
                .optional()?
                .map(|(session, user)| Ok((rows::session(session)?, rows::user(user)?)))
                .transpose()
        })
    }

    async fn change_session(
        &self,
        update: &SessionUpdate,
        now: DateTime<Utc>,
    ) -> AdapterResult<Option<Session>> {
        let op = Operation::UpdateSession;
        if update.expires.is_none() && update.user_id.is_none() && update.extra.is_none() {
            return with_conn!(self, op, |conn, s, Stamp| {
                s::sessions::table
                    .filter(s::sessions::session_token.eq(&update.session_token))
                    .filter(s::sessions::expires.gt(stamp::<Stamp>(now)))
                    .first::<SessionRow<Stamp>>(conn)
                    .await
                    .optional()?
                    .map(rows::session)
                    .transpose()
            });
        }
        // Only a live session changes; a new user that does not exist is a foreign key
        // violation (NotFound).
        macro_rules! live {
            ($s:ident, $Stamp:ident) => {
                $s::sessions::table
                    .filter($s::sessions::session_token.eq(&update.session_token))
                    .filter($s::sessions::expires.gt(stamp::<$Stamp>(now)))
            };
        }
        // MariaDB/MySQL reads the changed session back by its token alone.
        #[allow(unused_macros)] // a build without `mysql`
        macro_rules! key {
            ($s:ident) => {
                $s::sessions::table.filter($s::sessions::session_token.eq(&update.session_token))
            };
        }
        // `$extra` as in `merge_user`.
        macro_rules! changes {
            ($s:ident, $Stamp:ident, $extra:expr) => {
                (
                    update
                        .expires
                        .map(|at| $s::sessions::expires.eq(stamp::<$Stamp>(at))),
                    update.user_id.as_ref().map(|u| $s::sessions::user_id.eq(u)),
                    $extra.map(|text| $s::sessions::extra.eq(text)),
                )
            };
        }
        if merges(update.extra.as_ref()) {
            macro_rules! merge {
                ($kind:ident, $conn:ident, $s:ident, $Stamp:ident) => {
                    locked_merge!(
                        $kind,
                        $conn,
                        live!($s, $Stamp),
                        key!($s),
                        SessionRow<$Stamp>,
                        rows::session,
                        |current| update.apply_to(current),
                        |merged| changes!($s, $Stamp, Some(ExtraText::of(&merged.extra)))
                    )
                };
            }
            return with_conn!(self, op, |conn, s, Stamp|
                postgres: merge!(postgres, conn, s, Stamp),
                mysql: merge!(mysql, conn, s, Stamp),
                sqlite: merge!(sqlite, conn, s, Stamp)
            )
            .and_then(std::convert::identity);
        }
        let replaced = replacement(update.extra.as_ref());
        with_conn!(self, op, |conn, s, Stamp|
            returning: {
                let extra = replaced.map(ExtraText::of);
                update_returning!(
                    conn,
                    live!(s, Stamp),
                    changes!(s, Stamp, extra),
                    SessionRow<Stamp>
                )?
                .map(rows::session)
                .transpose()
            },
            mysql: {
                let extra = replaced.map(ExtraText::of);
                update_then_read!(
                    conn,
                    live!(s, Stamp),
                    changes!(s, Stamp, extra),
                    key!(s),
                    SessionRow<Stamp>
                )?
                .map(rows::session)
                .transpose()
            }
        )
    }

    async fn remove_session(&self, session_token: &str) -> AdapterResult<Option<Session>> {
        let op = Operation::DeleteSession;
        with_conn!(self, op, |conn, s, Stamp|
            returning: delete_returning!(
                conn,
                s::sessions::table.filter(s::sessions::session_token.eq(session_token)),
                SessionRow<Stamp>
            )?
            .map(rows::session)
            .transpose(),
            mysql: lock_then_delete!(
                conn,
                s::sessions::table.filter(s::sessions::session_token.eq(session_token)),
                SessionRow<Stamp>
            )?
            .map(rows::session)
            .transpose()
        )
    }

    async fn find_sessions(
        &self,
        user_id: &str,
        now: DateTime<Utc>,
    ) -> AdapterResult<Vec<Session>> {
        let op = Operation::ListSessions;
        with_conn!(self, op, |conn, s, Stamp| {
            s::sessions::table
                .filter(s::sessions::user_id.eq(user_id))
                .filter(s::sessions::expires.gt(stamp::<Stamp>(now)))
                .order(s::sessions::session_token)
                .load::<SessionRow<Stamp>>(conn)
                .await?
                .into_iter()
                .map(rows::session)
                .collect()
        })
    }

    async fn remove_sessions(&self, user_id: &str, now: DateTime<Utc>) -> AdapterResult<u64> {
        // Only the live ones: the count is exactly the live sessions removed.
        let op = Operation::DeleteSessions;
        with_conn!(self, op, |conn, s, Stamp| {
            diesel::delete(
                s::sessions::table
                    .filter(s::sessions::user_id.eq(user_id))
                    .filter(s::sessions::expires.gt(stamp::<Stamp>(now))),
            )
            .execute(conn)
            .await
            .map(|n| n as u64)
        })
    }

    async fn insert_verification_token(&self, token: &VerificationToken) -> AdapterResult<()> {
        let op = Operation::CreateVerificationToken;
        with_conn!(self, op, |conn, s, Stamp| {
            diesel::insert_into(s::verification_tokens::table)
                .values((
                    s::verification_tokens::identifier.eq(&token.identifier),
                    s::verification_tokens::token.eq(&token.token),
                    s::verification_tokens::expires.eq(stamp::<Stamp>(token.expires)),
                ))
                .execute(conn)
                .await
                .map(drop)
        })
    }

    async fn take_verification_token(
        &self,
        identifier: &str,
        token: &str,
    ) -> AdapterResult<Option<VerificationToken>> {
        // Atomic: `DELETE … RETURNING` (PostgreSQL, SQLite), or a locking read and the
        // delete in one transaction (MariaDB/MySQL).
        let op = Operation::UseVerificationToken;
        with_conn!(self, op, |conn, s, Stamp|
            returning: delete_returning!(
                conn,
                s::verification_tokens::table
                    .filter(s::verification_tokens::identifier.eq(identifier))
                    .filter(s::verification_tokens::token.eq(token)),
                TokenRow<Stamp>
            )?
            .map(rows::token)
            .transpose(),
            mysql: lock_then_delete!(
                conn,
                s::verification_tokens::table
                    .filter(s::verification_tokens::identifier.eq(identifier))
                    .filter(s::verification_tokens::token.eq(token)),
                TokenRow<Stamp>
            )?
            .map(rows::token)
            .transpose()
        )
    }

    async fn insert_authenticator(&self, authenticator: &Authenticator) -> AdapterResult<()> {
        let op = Operation::CreateAuthenticator;
        let a = authenticator;
        with_conn!(self, op, |conn, s, Stamp| {
            diesel::insert_into(s::authenticators::table)
                .values((
                    s::authenticators::credential_id.eq(&a.credential_id),
                    s::authenticators::user_id.eq(&a.user_id),
                    s::authenticators::provider_account_id.eq(&a.provider_account_id),
                    s::authenticators::credential_public_key.eq(&a.credential_public_key),
                    s::authenticators::counter.eq(a.counter),
                    s::authenticators::credential_device_type.eq(&a.credential_device_type),
                    s::authenticators::credential_backed_up.eq(a.credential_backed_up),
                    s::authenticators::transports.eq(a.transports.as_deref()),
                ))
                .execute(conn)
                .await
                .map(drop)
        })
    }

    async fn find_authenticator(
        &self,
        credential_id: &str,
    ) -> AdapterResult<Option<Authenticator>> {
        let op = Operation::GetAuthenticator;
        with_conn!(self, op, |conn, s, Stamp| {
            s::authenticators::table
                .filter(s::authenticators::credential_id.eq(credential_id))
                .first::<AuthenticatorRow>(conn)
                .await
                .optional()
                .map(|row| row.map(rows::authenticator))
        })
    }

    async fn find_authenticators(&self, user_id: &str) -> AdapterResult<Vec<Authenticator>> {
        let op = Operation::ListAuthenticators;
        with_conn!(self, op, |conn, s, Stamp| {
            s::authenticators::table
                .filter(s::authenticators::user_id.eq(user_id))
                .order(s::authenticators::credential_id)
                .load::<AuthenticatorRow>(conn)
                .await
                .map(|rows| rows.into_iter().map(rows::authenticator).collect())
        })
    }

    async fn set_authenticator_counter(
        &self,
        credential_id: &str,
        counter: i64,
    ) -> AdapterResult<Option<Authenticator>> {
        let op = Operation::UpdateAuthenticatorCounter;
        macro_rules! key {
            ($s:ident) => {
                $s::authenticators::table
                    .filter($s::authenticators::credential_id.eq(credential_id))
            };
        }
        with_conn!(self, op, |conn, s, Stamp|
            returning: update_returning!(
                conn,
                key!(s),
                s::authenticators::counter.eq(counter),
                AuthenticatorRow
            )
            .map(|row| row.map(rows::authenticator)),
            mysql: update_then_read!(
                conn,
                key!(s),
                s::authenticators::counter.eq(counter),
                key!(s),
                AuthenticatorRow
            )
            .map(|row| row.map(rows::authenticator))
        )
    }

    async fn remove_authenticator(
        &self,
        credential_id: &str,
    ) -> AdapterResult<Option<Authenticator>> {
        let op = Operation::DeleteAuthenticator;
        with_conn!(self, op, |conn, s, Stamp|
            returning: delete_returning!(
                conn,
                s::authenticators::table
                    .filter(s::authenticators::credential_id.eq(credential_id)),
                AuthenticatorRow
            )
            .map(|row| row.map(rows::authenticator)),
            mysql: lock_then_delete!(
                conn,
                s::authenticators::table
                    .filter(s::authenticators::credential_id.eq(credential_id)),
                AuthenticatorRow
            )
            .map(|row| row.map(rows::authenticator))
        )
    }

    async fn remove_expired(&self, now: DateTime<Utc>) -> AdapterResult<ExpiredCounts> {
        let op = Operation::DeleteExpired;
        // Two statements on two checkouts: the call timeout bounds them together, as it
        // bounds every other call.
        crate::pool::bounded(self.call_timeout, op, async {
            let sessions = with_conn!(self, op, |conn, s, Stamp| {
                diesel::delete(
                    s::sessions::table.filter(s::sessions::expires.le(stamp::<Stamp>(now))),
                )
                .execute(conn)
                .await
            })?;
            let tokens: AdapterResult<usize> = async {
                with_conn!(self, op, |conn, s, Stamp| {
                    diesel::delete(
                        s::verification_tokens::table
                            .filter(s::verification_tokens::expires.le(stamp::<Stamp>(now))),
                    )
                    .execute(conn)
                    .await
                })
            }
            .await;
            let verification_tokens =
                tokens.map_err(|e| e.with_code(ErrorCode::DeleteVerificationRequestError))?;
            Ok(ExpiredCounts {
                sessions: sessions as u64,
                verification_tokens: verification_tokens as u64,
            })
        })
        .await
    }
}
