//! [`SqlxAdapter`]'s [`Store`] implementation (auth-core's policy layer makes it an
//! [`Adapter`](auth_core::Adapter)), written once for every database and every
//! [`Layout`](crate::Layout): each method binds values to the layout's statement text
//! rendered at connect time ([`Statements`](crate::dialect::Statements)) and decodes the
//! rows; `with_pool!` compiles the body for each enabled database.

use async_trait::async_trait;
use auth_core::{
    Account, AdapterError, AdapterResult, Authenticator, ErrorCode, ExpiredCounts, ExtraChange,
    Operation, Session, SessionUpdate, Store, User, UserUpdate, VerificationToken,
};
use chrono::{DateTime, Utc};

use crate::adapter::SqlxAdapter;
use crate::authjs::ColumnBind;
use crate::dialect::ExtraStorage;
use crate::error::ResultExt;
use crate::layout::Ids;
use crate::lease::with_conn;
use crate::pool::{stamp, Timestamps};
use crate::replicas::{RecordKey, WriteGuard};
use crate::rows::{
    extra_text, AccountRow, AuthenticatorRow, SessionRow, SessionUserRow, TokenRow, UserRow,
    WithExtra,
};

// The records that can carry extra fields read with the app-added columns beside them.
type UserOf<D> = WithExtra<UserRow<<D as Timestamps>::Stamp>>;
type SessionOf<D> = WithExtra<SessionRow<<D as Timestamps>::Stamp>>;
type SessionUserOf<D> = WithExtra<SessionUserRow<<D as Timestamps>::Stamp>>;
type AccountOf = WithExtra<AccountRow>;
type TokenOf<D> = TokenRow<<D as Timestamps>::Stamp>;

/// Runs a [`Take`](crate::dialect::Take) statement of `$sql`: removes the row with the key
/// binds and returns it (`DELETE … RETURNING`, or a locking read then the delete in one
/// write transaction).
macro_rules! take {
    ($conn:expr, $sql:expr, $stmt:ident, $row:ty, [$($key:expr),+ $(,)?]) => {
        async {
            match &$sql.$stmt {
                $crate::dialect::Take::Returning(text) => {
                    ::sqlx::query_as::<_, $row>(text.clone())
                        $(.bind($key))+
                        .fetch_all(&mut *$conn)
                        .await
                        .map(only_row)
                }
                $crate::dialect::Take::LockThenDelete { select, delete } => {
                    let mut tx =
                        ::sqlx::Connection::begin_with(&mut *$conn, $sql.begin_write.clone()).await?;
                    let taken = async {
                        let row = ::sqlx::query_as::<_, $row>(select.clone())
                            $(.bind($key))+
                            .fetch_all(&mut *tx)
                            .await
                            .map(only_row)?;
                        if row.is_some() {
                            ::sqlx::query(delete.clone())
                                $(.bind($key))+
                                .execute(&mut *tx)
                                .await?;
                        }
                        Ok::<_, ::sqlx::Error>(row)
                    }
                    .await;
                    $crate::store::finish!(tx, $sql, taken)
                }
            }
        }
        .await
    };
}

/// Runs a [`Change`](crate::dialect::Change) statement of `$sql`: binds the `set` values then
/// the `key` values and returns the changed row (`UPDATE … RETURNING`, or the update then a
/// read of the row in one write transaction). The set values are a list, or
/// `set(query) => expr` where `expr` binds them to `query` (binds that depend on the layout).
/// With a leading `tx:`, `$conn` is already in a write transaction (a merge of extra fields
/// that read the row locked) and the statements run in it.
macro_rules! change {
    (
        $conn:expr, $sql:expr, $stmt:ident, $row:ty,
        set [$($set:expr),+ $(,)?], key [$($key:expr),+ $(,)?]
    ) => {
        change!($conn, $sql, $stmt, $row,
            set(query) => query$(.bind($set))+, key [$($key),+])
    };
    (
        tx: $conn:expr, $sql:expr, $stmt:ident, $row:ty,
        set($query:ident) => $set:expr, key [$($key:expr),+ $(,)?]
    ) => {
        async {
            match &$sql.$stmt {
                $crate::dialect::Change::Returning(text) => {
                    let $query = ::sqlx::query_as::<_, $row>(text.clone());
                    $set
                        $(.bind($key))+
                        .fetch_all(&mut *$conn)
                        .await
                        .map(only_row)
                }
                $crate::dialect::Change::UpdateThenSelect { update, select } => {
                    let $query = ::sqlx::query(update.clone());
                    $set
                        $(.bind($key))+
                        .execute(&mut *$conn)
                        .await?;
                    ::sqlx::query_as::<_, $row>(select.clone())
                        $(.bind($key))+
                        .fetch_all(&mut *$conn)
                        .await
                        .map(only_row)
                }
            }
        }
        .await
    };
    (
        $conn:expr, $sql:expr, $stmt:ident, $row:ty,
        set($query:ident) => $set:expr, key [$($key:expr),+ $(,)?]
    ) => {
        async {
            match &$sql.$stmt {
                $crate::dialect::Change::Returning(_) => {
                    change!(tx: $conn, $sql, $stmt, $row, set($query) => $set, key [$($key),+])
                }
                $crate::dialect::Change::UpdateThenSelect { .. } => {
                    let mut tx =
                        ::sqlx::Connection::begin_with(&mut *$conn, $sql.begin_write.clone()).await?;
                    let changed = change!(tx: tx, $sql, $stmt, $row,
                        set($query) => $set, key [$($key),+]);
                    $crate::store::finish!(tx, $sql, changed)
                }
            }
        }
        .await
    };
}

/// Runs `$body` (an `AdapterResult`) in a write transaction on `$conn`, bound to `$tx`:
/// committed when it succeeded, rolled back when it failed (a refused merge writes nothing).
macro_rules! in_write_tx {
    ($conn:expr, $sql:expr, $op:expr, |$tx:ident| $body:expr) => {{
        let mut $tx = ::sqlx::Connection::begin_with(&mut *$conn, $sql.begin_write.clone())
            .await
            .for_op($op)?;
        let result: AdapterResult<_> = async { $body }.await;
        match result {
            Ok(value) => {
                $crate::store::commit!($tx, $sql).await.for_op($op)?;
                Ok(value)
            }
            Err(err) => {
                $tx.rollback().await.for_op($op)?;
                Err(err)
            }
        }
    }};
}

/// Sets the app-added columns of one row (Auth.js layouts) on `$conn`: the statement and
/// values of [`ExtraStorage::column_binds`], then the row's key binds.
macro_rules! set_columns {
    ($conn:expr, $op:expr, $set:expr, [$($key:expr),+ $(,)?]) => {{
        let (text, binds) = $set;
        let mut query = ::sqlx::query($crate::dialect::sql(text.as_str()));
        for bind in binds.iter().cloned() {
            query = match bind {
                ColumnBind::Text(v) => query.bind(v),
                ColumnBind::Integer(v) => query.bind(v),
                ColumnBind::Float(v) => query.bind(v),
                ColumnBind::Bool(v) => query.bind(v),
            };
        }
        query$(.bind($key))+.execute(&mut *$conn).await.for_op($op)?;
    }};
}

/// The row of a statement that changes or locks at most one row.
///
/// Such statements are read to their end (`fetch_all`), never stopped at their first row
/// (`fetch_optional`): MariaDB may send the row of a `DELETE … RETURNING` and only then
/// fail the statement as a deadlock victim, and that error, left unread behind the row,
/// would be discarded with the rest of the reply: a change that was rolled back reported as
/// done (`tests/rolled_back_writes.rs`). PostgreSQL runs a `RETURNING` statement to its end
/// before it sends a row; the rule holds for every dialect all the same.
pub(crate) fn only_row<T>(rows: Vec<T>) -> Option<T> {
    rows.into_iter().next()
}

/// Commits the transaction `$tx` when its statements' `$result` is `Ok`, else rolls it
/// back, so the connection goes back to the pool outside any transaction; evaluates to
/// `$result` (or the commit's error).
macro_rules! finish {
    ($tx:ident, $sql:expr, $result:expr) => {
        match $result {
            Ok(value) => $crate::store::commit!($tx, $sql).await.map(|()| value),
            Err(err) => {
                $tx.rollback().await?;
                Err(err)
            }
        }
    };
}
pub(crate) use finish;

/// A future that commits the transaction `$tx`: on a Galera node
/// ([`Statements::on_galera`](crate::dialect::Statements::on_galera)) only after a read
/// shows the transaction still open, else the call's race is lost
/// ([`transaction_gone`](crate::error::transaction_gone)) and it runs again.
macro_rules! commit {
    ($tx:ident, $sql:expr) => {
        async {
            if let Some(check) = &$sql.transaction_check {
                let open: i64 = ::sqlx::query_scalar(check.clone())
                    .fetch_one(&mut *$tx)
                    .await?;
                if open == 0 {
                    return Err($crate::error::transaction_gone());
                }
            }
            $tx.commit().await
        }
    };
}
pub(crate) use commit;

/// The `CASE WHEN ? THEN ?` binds of an update's extra column when the change needs no read
/// of the stored object: none, or a replacement. `None` for a merge (read under a lock).
fn extra_binds_without_read(change: Option<&ExtraChange>) -> Option<(bool, Option<String>)> {
    match change {
        None => Some((false, None)),
        Some(ExtraChange::Replace(fields)) => Some((true, extra_text(fields))),
        Some(ExtraChange::Merge(_)) => None,
    }
}

/// The error of a write naming a user id no user of the layout can have.
fn no_such_user(op: Operation) -> AdapterError {
    AdapterError::not_found(op, "no user has this id")
}

/// On an adapter with read replicas, routes the read (`replicas.rs`: a fresh replica, else
/// the primary) and returns its answer; `$call` runs the read on the adapter `$a`, which
/// has no replicas of its own.
macro_rules! routed {
    ($self:ident, $op:expr, [$($key:expr),*], |$a:ident| $call:expr) => {
        if let Some(replicas) = &$self.replicas {
            return replicas.read($op, &[$($key),*], |$a: &SqlxAdapter| $call).await;
        }
    };
}

#[async_trait]
impl Store for SqlxAdapter {
    fn backend(&self) -> &'static str {
        self.backend
    }

    async fn insert_user(&self, user: &User, email_key: Option<&str>) -> AdapterResult<String> {
        let op = Operation::CreateUser;
        let written = WriteGuard::new(
            self.replicas.as_deref(),
            &[
                RecordKey::User(&user.id),
                RecordKey::Email(email_key.unwrap_or_default()),
            ],
        );
        let ids = self.sql().ids;
        self.sql().extra.check_writable(op, &user.extra)?;
        let column = self.sql().extra == ExtraStorage::Column;
        // Auth.js layouts: the app-added columns, set after the insert in its transaction.
        let set = match user.extra.is_empty() {
            true => None,
            false => self.sql().extra.column_binds(op, &user.extra)?,
        };
        macro_rules! insert {
            ($conn:expr) => {{
                let conn = &mut *$conn;
                let insert = sqlx::query(self.sql().create_user.clone());
                let insert = match ids {
                    Ids::Serial => insert,
                    Ids::Given => insert.bind(user.id.as_str()),
                };
                let insert = insert.bind(user.email.as_deref());
                let insert = if self.sql().binds_email_key {
                    insert.bind(email_key)
                } else {
                    insert
                };
                let insert = insert
                    .bind(user.email_verified.map(stamp::<Db>))
                    .bind(user.name.as_deref())
                    .bind(user.image.as_deref());
                let insert = if column {
                    insert.bind(extra_text(&user.extra))
                } else {
                    insert
                };
                match ids {
                    Ids::Serial => {
                        let row = insert.fetch_one(&mut *conn).await.for_op(op)?;
                        sqlx::Row::try_get::<String, _>(&row, 0).for_op(op)
                    }
                    Ids::Given => {
                        insert.execute(&mut *conn).await.for_op(op)?;
                        Ok::<_, AdapterError>(user.id.clone())
                    }
                }
            }};
        }
        written.done(with_conn!(self, op, |conn: Db| {
            match &set {
                None => insert!(conn),
                Some(set) => in_write_tx!(conn, self.sql(), op, |tx| {
                    let id = insert!(tx)?;
                    set_columns!(tx, op, set, [id.as_str()]);
                    Ok(id)
                }),
            }
        }))
    }

    async fn find_user(&self, id: &str) -> AdapterResult<Option<User>> {
        let op = Operation::GetUser;
        routed!(self, op, [RecordKey::User(id)], |a| a.find_user(id));
        let Some(id) = self.sql().ids.key(id) else {
            return Ok(None);
        };
        with_conn!(self, op, |conn: Db| {
            sqlx::query_as::<_, UserOf<Db>>(self.sql().get_user.clone())
                .bind(id)
                .fetch_optional(&mut *conn)
                .await
                .for_op(op)?
                .map(|row| row.into_model(op))
                .transpose()
        })
    }

    async fn find_user_by_email(&self, email_key: &str) -> AdapterResult<Option<User>> {
        let op = Operation::GetUserByEmail;
        routed!(self, op, [RecordKey::Email(email_key)], |a| a
            .find_user_by_email(email_key));
        with_conn!(self, op, |conn: Db| {
            sqlx::query_as::<_, UserOf<Db>>(self.sql().get_user_by_email.clone())
                .bind(email_key)
                .fetch_optional(&mut *conn)
                .await
                .for_op(op)?
                .map(|row| row.into_model(op))
                .transpose()
        })
    }

    async fn find_user_by_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<User>> {
        let op = Operation::GetUserByAccount;
        routed!(
            self,
            op,
            [RecordKey::Account(provider, provider_account_id)],
            |a| a.find_user_by_account(provider, provider_account_id)
        );
        with_conn!(self, op, |conn: Db| {
            sqlx::query_as::<_, UserOf<Db>>(self.sql().get_user_by_account.clone())
                .bind(provider)
                .bind(provider_account_id)
                .fetch_optional(&mut *conn)
                .await
                .for_op(op)?
                .map(|row| row.into_model(op))
                .transpose()
        })
    }

    async fn merge_user(
        &self,
        update: &UserUpdate,
        email_key: Option<Option<&str>>,
    ) -> AdapterResult<Option<User>> {
        let op = Operation::UpdateUser;
        let written = WriteGuard::new(
            self.replicas.as_deref(),
            &[
                RecordKey::User(&update.id),
                RecordKey::Email(email_key.flatten().unwrap_or_default()),
            ],
        );
        let Some(id) = self.sql().ids.key(&update.id) else {
            return Ok(None);
        };
        self.sql().extra.check_change(op, update.extra.as_ref())?;
        let column = self.sql().extra == ExtraStorage::Column;
        let email = update.email.as_ref().map(Option::as_deref);
        let verified = update.email_verified;
        let name = update.name.as_ref().map(Option::as_deref);
        let image = update.image.as_ref().map(Option::as_deref);
        // The update of every column but the extra one, then the extra binds (where the
        // layout has the column), on `$conn` (`tx:` inside a write transaction).
        macro_rules! update {
            (@[$($mode:tt)*] $conn:expr, $extra:expr) => {{
                let (set_extra, extra) = $extra;
                change!($($mode)* $conn, self.sql(), update_user, UserOf<Db>,
                    set(query) => {
                        let query = query.bind(email.is_some()).bind(email.flatten());
                        let query = if self.sql().binds_email_key {
                            query.bind(email_key.is_some()).bind(email_key.flatten())
                        } else {
                            query
                        };
                        let query = query
                            .bind(verified.is_some())
                            .bind(verified.flatten().map(stamp::<Db>))
                            .bind(name.is_some())
                            .bind(name.flatten())
                            .bind(image.is_some())
                            .bind(image.flatten());
                        if column {
                            query.bind(set_extra).bind(extra)
                        } else {
                            query
                        }
                    },
                    key [id])
                .for_op(op)?
                .map(|row| row.into_model(op))
                .transpose()
            }};
        }
        let columns = update.extra.is_some() && self.sql().extra.sets_columns(op);
        written.done(with_conn!(self, op, |conn: Db| {
            match extra_binds_without_read(update.extra.as_ref()) {
                // Auth.js layouts: the row read locked, the change applied in Rust, the
                // app-added columns set to the result, then the update, in one transaction.
                _ if columns => in_write_tx!(conn, self.sql(), op, |tx| {
                    let current = sqlx::query_as::<_, UserOf<Db>>(self.sql().lock_user.clone())
                        .bind(id)
                        .fetch_all(&mut *tx)
                        .await
                        .map(only_row)
                        .for_op(op)?;
                    let Some(current) = current else {
                        return Ok(None);
                    };
                    let merged = update.apply_to(current.into_model(op)?)?;
                    if let Some(set) = self.sql().extra.column_binds(op, &merged.extra)? {
                        set_columns!(tx, op, set, [id]);
                    }
                    update!(@[tx:] tx, (false, None::<String>))
                }),
                // One statement (or one transaction on MySQL/MariaDB): the unique email key
                // refuses a taken email (`Conflict`) and then nothing changes.
                Some(binds) => update!(@[] conn, binds),
                None if !column => update!(@[] conn, (false, None::<String>)),
                // A merge: the stored object is read with the row locked, merged in Rust
                // (`apply_to` refuses a result over the cap) and written in the same
                // transaction, so concurrent merges each see the other's fields.
                None => in_write_tx!(conn, self.sql(), op, |tx| {
                    let current = sqlx::query_as::<_, UserOf<Db>>(self.sql().lock_user.clone())
                        .bind(id)
                        .fetch_all(&mut *tx)
                        .await
                        .map(only_row)
                        .for_op(op)?;
                    let Some(current) = current else {
                        return Ok(None);
                    };
                    let merged = update.apply_to(current.into_model(op)?)?;
                    update!(@[tx:] tx, (true, extra_text(&merged.extra)))
                }),
            }
        }))
    }

    async fn remove_user(&self, id: &str) -> AdapterResult<Option<User>> {
        let op = Operation::DeleteUser;
        let written = WriteGuard::new(self.replicas.as_deref(), &[RecordKey::User(id)]);
        let Some(id) = self.sql().ids.key(id) else {
            return Ok(None);
        };
        // One statement (or one transaction on MySQL 8): the foreign keys cascade to the
        // user's accounts, sessions and authenticators, all or nothing.
        written.done(with_conn!(self, op, |conn: Db| {
            take!(conn, self.sql(), delete_user, UserOf<Db>, [id])
                .for_op(op)?
                .map(|row| row.into_model(op))
                .transpose()
        }))
    }

    async fn insert_account(&self, account: &Account) -> AdapterResult<()> {
        let op = Operation::LinkAccount;
        let written = WriteGuard::new(
            self.replicas.as_deref(),
            &[
                RecordKey::User(&account.user_id),
                RecordKey::Account(&account.provider, &account.provider_account_id),
            ],
        );
        let Some(user_id) = self.sql().ids.key(&account.user_id) else {
            return Err(no_such_user(op));
        };
        self.sql().extra.check_writable(op, &account.extra)?;
        let column = self.sql().extra == ExtraStorage::Column;
        let set = match account.extra.is_empty() {
            true => None,
            false => self.sql().extra.column_binds(op, &account.extra)?,
        };
        // The foreign key refuses an account of a missing user (NotFound), also when the user
        // is deleted concurrently: no orphan can exist.
        written.done(with_conn!(self, op, |conn: Db| {
            let insert = sqlx::query(self.sql().link_account.clone())
                .bind(user_id)
                .bind(account.account_type.as_str())
                .bind(account.provider.as_str())
                .bind(account.provider_account_id.as_str())
                .bind(account.refresh_token.as_deref())
                .bind(account.access_token.as_deref())
                .bind(account.expires_at)
                .bind(account.token_type.as_deref())
                .bind(account.scope.as_deref())
                .bind(account.id_token.as_deref())
                .bind(account.session_state.as_deref());
            let insert = if column {
                insert.bind(extra_text(&account.extra))
            } else {
                insert
            };
            match &set {
                None => {
                    insert.execute(&mut *conn).await.for_op(op)?;
                    Ok(())
                }
                // The app-added columns, set after the insert in its transaction.
                Some(set) => in_write_tx!(conn, self.sql(), op, |tx| {
                    insert.execute(&mut *tx).await.for_op(op)?;
                    set_columns!(
                        tx,
                        op,
                        set,
                        [
                            account.provider.as_str(),
                            account.provider_account_id.as_str()
                        ]
                    );
                    Ok(())
                }),
            }
        }))
    }

    async fn remove_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<Account>> {
        let op = Operation::UnlinkAccount;
        let written = WriteGuard::new(
            self.replicas.as_deref(),
            &[RecordKey::Account(provider, provider_account_id)],
        );
        written.done(with_conn!(self, op, |conn: Db| {
            take!(
                conn,
                self.sql(),
                unlink_account,
                AccountOf,
                [provider, provider_account_id]
            )
            .for_op(op)?
            .map(|row| row.into_model(op))
            .transpose()
        }))
    }

    async fn find_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<Account>> {
        let op = Operation::GetAccount;
        routed!(
            self,
            op,
            [RecordKey::Account(provider, provider_account_id)],
            |a| a.find_account(provider, provider_account_id)
        );
        with_conn!(self, op, |conn: Db| {
            sqlx::query_as::<_, AccountOf>(self.sql().get_account.clone())
                .bind(provider)
                .bind(provider_account_id)
                .fetch_optional(&mut *conn)
                .await
                .for_op(op)?
                .map(|row| row.into_model(op))
                .transpose()
        })
    }

    async fn replace_account_tokens(&self, account: &Account) -> AdapterResult<Option<Account>> {
        let op = Operation::UpdateAccount;
        let written = WriteGuard::new(
            self.replicas.as_deref(),
            &[RecordKey::Account(
                &account.provider,
                &account.provider_account_id,
            )],
        );
        let a = account;
        // The token response replaces the extra fields too: they are the rest of it.
        self.sql().extra.check_writable(op, &a.extra)?;
        let column = self.sql().extra == ExtraStorage::Column;
        // Auth.js layouts: the app-added columns take the new set of fields (absent: NULL).
        let set = self.sql().extra.column_binds(op, &a.extra)?;
        let key = [a.provider.as_str(), a.provider_account_id.as_str()];
        macro_rules! update { (@[$($mode:tt)*] $conn:expr) => {
            change!($($mode)* $conn, self.sql(), update_account, AccountOf,
                set(query) => {
                    let query = query
                        .bind(a.refresh_token.as_deref())
                        .bind(a.access_token.as_deref())
                        .bind(a.expires_at)
                        .bind(a.token_type.as_deref())
                        .bind(a.scope.as_deref())
                        .bind(a.id_token.as_deref())
                        .bind(a.session_state.as_deref());
                    if column {
                        query.bind(extra_text(&a.extra))
                    } else {
                        query
                    }
                },
                key [key[0], key[1]])
            .for_op(op)?
            .map(|row| row.into_model(op))
            .transpose()
        }}
        written.done(with_conn!(self, op, |conn: Db| {
            match &set {
                None => update!(@[] conn),
                Some(set) => in_write_tx!(conn, self.sql(), op, |tx| {
                    set_columns!(tx, op, set, [key[0], key[1]]);
                    update!(@[tx:] tx)
                }),
            }
        }))
    }

    async fn find_accounts(&self, user_id: &str) -> AdapterResult<Vec<Account>> {
        let op = Operation::ListAccounts;
        routed!(self, op, [RecordKey::User(user_id)], |a| a
            .find_accounts(user_id));
        let Some(user_id) = self.sql().ids.key(user_id) else {
            return Ok(Vec::new());
        };
        with_conn!(self, op, |conn: Db| {
            sqlx::query_as::<_, AccountOf>(self.sql().list_accounts.clone())
                .bind(user_id)
                .fetch_all(&mut *conn)
                .await
                .for_op(op)?
                .into_iter()
                .map(|row| row.into_model(op))
                .collect()
        })
    }

    async fn insert_session(&self, session: &Session) -> AdapterResult<()> {
        let op = Operation::CreateSession;
        let written = WriteGuard::new(
            self.replicas.as_deref(),
            &[
                RecordKey::Session(&session.session_token),
                RecordKey::User(&session.user_id),
            ],
        );
        let Some(user_id) = self.sql().ids.key(&session.user_id) else {
            return Err(no_such_user(op));
        };
        self.sql().extra.check_writable(op, &session.extra)?;
        let column = self.sql().extra == ExtraStorage::Column;
        let set = match session.extra.is_empty() {
            true => None,
            false => self.sql().extra.column_binds(op, &session.extra)?,
        };
        written.done(with_conn!(self, op, |conn: Db| {
            let insert = sqlx::query(self.sql().create_session.clone())
                .bind(session.session_token.as_str())
                .bind(user_id)
                .bind(stamp::<Db>(session.expires));
            let insert = if column {
                insert.bind(extra_text(&session.extra))
            } else {
                insert
            };
            match &set {
                None => {
                    insert.execute(&mut *conn).await.for_op(op)?;
                    Ok(())
                }
                // The app-added columns, set after the insert in its transaction.
                Some(set) => in_write_tx!(conn, self.sql(), op, |tx| {
                    insert.execute(&mut *tx).await.for_op(op)?;
                    set_columns!(tx, op, set, [session.session_token.as_str()]);
                    Ok(())
                }),
            }
        }))
    }

    async fn find_session_and_user(
        &self,
        session_token: &str,
        now: DateTime<Utc>,
    ) -> AdapterResult<Option<(Session, User)>> {
        let op = Operation::GetSessionAndUser;
        routed!(self, op, [RecordKey::Session(session_token)], |a| a
            .find_session_and_user(session_token, now));
        // One statement: the join with the user, filtered on `expires > now`.
        with_conn!(self, op, |conn: Db| {
            sqlx::query_as::<_, SessionUserOf<Db>>(self.sql().get_session_and_user.clone())
                .bind(session_token)
                .bind(stamp::<Db>(now))
                .fetch_optional(&mut *conn)
                .await
                .for_op(op)?
                .map(|row| row.into_model(op))
                .transpose()
        })
    }

    async fn change_session(
        &self,
        update: &SessionUpdate,
        now: DateTime<Utc>,
    ) -> AdapterResult<Option<Session>> {
        let op = Operation::UpdateSession;
        let written = WriteGuard::new(
            self.replicas.as_deref(),
            &[
                RecordKey::Session(&update.session_token),
                RecordKey::User(update.user_id.as_deref().unwrap_or_default()),
            ],
        );
        let user_id = match update.user_id.as_deref() {
            Some(id) => Some(self.sql().ids.key(id).ok_or_else(|| no_such_user(op))?),
            None => None,
        };
        self.sql().extra.check_change(op, update.extra.as_ref())?;
        let column = self.sql().extra == ExtraStorage::Column;
        let token = update.session_token.as_str();
        // The update, then the extra binds where the layout has the column, on `$conn`
        // (`tx:` inside a write transaction).
        macro_rules! update {
            (@[$($mode:tt)*] $conn:expr, $extra:expr) => {{
                let (set_extra, extra) = $extra;
                change!($($mode)* $conn, self.sql(), update_session, SessionOf<Db>,
                    set(query) => {
                        let query = query.bind(update.expires.map(stamp::<Db>)).bind(user_id);
                        if column {
                            query.bind(set_extra).bind(extra)
                        } else {
                            query
                        }
                    },
                    key [token, stamp::<Db>(now)])
                .for_op(op)?
                .map(|row| row.into_model(op))
                .transpose()
            }};
        }
        let columns = update.extra.is_some() && self.sql().extra.sets_columns(op);
        written.done(with_conn!(self, op, |conn: Db| {
            match extra_binds_without_read(update.extra.as_ref()) {
                // Auth.js layouts: as `merge_user`, the live session read locked.
                _ if columns => in_write_tx!(conn, self.sql(), op, |tx| {
                    let current =
                        sqlx::query_as::<_, SessionOf<Db>>(self.sql().lock_session.clone())
                            .bind(token)
                            .bind(stamp::<Db>(now))
                            .fetch_all(&mut *tx)
                            .await
                            .map(only_row)
                            .for_op(op)?;
                    let Some(current) = current else {
                        return Ok(None);
                    };
                    let merged = update.apply_to(current.into_model(op)?)?;
                    if let Some(set) = self.sql().extra.column_binds(op, &merged.extra)? {
                        set_columns!(tx, op, set, [token]);
                    }
                    update!(@[tx:] tx, (false, None::<String>))
                }),
                Some(binds) => update!(@[] conn, binds),
                None if !column => update!(@[] conn, (false, None::<String>)),
                // A merge of session data: read locked, merged in Rust, written in the same
                // transaction (as `merge_user`).
                None => in_write_tx!(conn, self.sql(), op, |tx| {
                    let current =
                        sqlx::query_as::<_, SessionOf<Db>>(self.sql().lock_session.clone())
                            .bind(token)
                            .bind(stamp::<Db>(now))
                            .fetch_all(&mut *tx)
                            .await
                            .map(only_row)
                            .for_op(op)?;
                    let Some(current) = current else {
                        return Ok(None);
                    };
                    let merged = update.apply_to(current.into_model(op)?)?;
                    update!(@[tx:] tx, (true, extra_text(&merged.extra)))
                }),
            }
        }))
    }

    async fn remove_session(&self, session_token: &str) -> AdapterResult<Option<Session>> {
        let op = Operation::DeleteSession;
        let written = WriteGuard::new(
            self.replicas.as_deref(),
            &[RecordKey::Session(session_token)],
        );
        written.done(with_conn!(self, op, |conn: Db| {
            take!(
                conn,
                self.sql(),
                delete_session,
                SessionOf<Db>,
                [session_token]
            )
            .for_op(op)?
            .map(|row| row.into_model(op))
            .transpose()
        }))
    }

    async fn find_sessions(
        &self,
        user_id: &str,
        now: DateTime<Utc>,
    ) -> AdapterResult<Vec<Session>> {
        let op = Operation::ListSessions;
        routed!(self, op, [RecordKey::User(user_id)], |a| a
            .find_sessions(user_id, now));
        let Some(user_id) = self.sql().ids.key(user_id) else {
            return Ok(Vec::new());
        };
        with_conn!(self, op, |conn: Db| {
            sqlx::query_as::<_, SessionOf<Db>>(self.sql().list_sessions.clone())
                .bind(user_id)
                .bind(stamp::<Db>(now))
                .fetch_all(&mut *conn)
                .await
                .for_op(op)?
                .into_iter()
                .map(|row| row.into_model(op))
                .collect()
        })
    }

    async fn remove_sessions(&self, user_id: &str, now: DateTime<Utc>) -> AdapterResult<u64> {
        let op = Operation::DeleteSessions;
        let written = WriteGuard::new(self.replicas.as_deref(), &[RecordKey::User(user_id)]);
        let Some(user_id) = self.sql().ids.key(user_id) else {
            return Ok(0);
        };
        written.done(with_conn!(self, op, |conn: Db| {
            Ok(sqlx::query(self.sql().delete_sessions.clone())
                .bind(user_id)
                .bind(stamp::<Db>(now))
                .execute(&mut *conn)
                .await
                .for_op(op)?
                .rows_affected())
        }))
    }

    async fn insert_verification_token(&self, token: &VerificationToken) -> AdapterResult<()> {
        let op = Operation::CreateVerificationToken;
        with_conn!(self, op, |conn: Db| {
            sqlx::query(self.sql().create_verification_token.clone())
                .bind(token.identifier.as_str())
                .bind(token.token.as_str())
                .bind(stamp::<Db>(token.expires))
                .execute(&mut *conn)
                .await
                .for_op(op)?;
            Ok(())
        })
    }

    async fn take_verification_token(
        &self,
        identifier: &str,
        token: &str,
    ) -> AdapterResult<Option<VerificationToken>> {
        let op = Operation::UseVerificationToken;
        // Atomic take: of concurrent callers (Rust or Node) exactly one gets the row; an
        // expired token goes too (the policy layer answers None for it).
        with_conn!(self, op, |conn: Db| {
            take!(
                conn,
                self.sql(),
                use_verification_token,
                TokenOf<Db>,
                [identifier, token]
            )
            .for_op(op)?
            .map(|row| row.into_model(op))
            .transpose()
        })
    }

    async fn insert_authenticator(&self, a: &Authenticator) -> AdapterResult<()> {
        let op = Operation::CreateAuthenticator;
        let written = WriteGuard::new(
            self.replicas.as_deref(),
            &[
                RecordKey::Authenticator(&a.credential_id),
                RecordKey::User(&a.user_id),
            ],
        );
        let Some(user_id) = self.sql().ids.key(&a.user_id) else {
            return Err(no_such_user(op));
        };
        written.done(with_conn!(self, op, |conn: Db| {
            sqlx::query(self.sql().create_authenticator.clone())
                .bind(a.credential_id.as_str())
                .bind(user_id)
                .bind(a.provider_account_id.as_str())
                .bind(a.credential_public_key.as_str())
                .bind(a.counter)
                .bind(a.credential_device_type.as_str())
                .bind(a.credential_backed_up)
                .bind(a.transports.as_deref())
                .execute(&mut *conn)
                .await
                .for_op(op)?;
            Ok(())
        }))
    }

    async fn find_authenticator(
        &self,
        credential_id: &str,
    ) -> AdapterResult<Option<Authenticator>> {
        let op = Operation::GetAuthenticator;
        routed!(self, op, [RecordKey::Authenticator(credential_id)], |a| a
            .find_authenticator(credential_id));
        with_conn!(self, op, |conn: Db| {
            Ok(
                sqlx::query_as::<_, AuthenticatorRow>(self.sql().get_authenticator.clone())
                    .bind(credential_id)
                    .fetch_optional(&mut *conn)
                    .await
                    .for_op(op)?
                    .map(AuthenticatorRow::into_model),
            )
        })
    }

    async fn find_authenticators(&self, user_id: &str) -> AdapterResult<Vec<Authenticator>> {
        let op = Operation::ListAuthenticators;
        routed!(self, op, [RecordKey::User(user_id)], |a| a
            .find_authenticators(user_id));
        let Some(user_id) = self.sql().ids.key(user_id) else {
            return Ok(Vec::new());
        };
        with_conn!(self, op, |conn: Db| {
            Ok(
                sqlx::query_as::<_, AuthenticatorRow>(self.sql().list_authenticators.clone())
                    .bind(user_id)
                    .fetch_all(&mut *conn)
                    .await
                    .for_op(op)?
                    .into_iter()
                    .map(AuthenticatorRow::into_model)
                    .collect(),
            )
        })
    }

    async fn set_authenticator_counter(
        &self,
        credential_id: &str,
        counter: i64,
    ) -> AdapterResult<Option<Authenticator>> {
        let op = Operation::UpdateAuthenticatorCounter;
        let written = WriteGuard::new(
            self.replicas.as_deref(),
            &[RecordKey::Authenticator(credential_id)],
        );
        let row = with_conn!(self, op, |conn: Db| {
            change!(
                conn,
                self.sql(),
                update_authenticator_counter,
                AuthenticatorRow,
                set[counter],
                key[credential_id]
            )
            .for_op(op)
        })?;
        written.done(Ok(row.map(AuthenticatorRow::into_model)))
    }

    async fn remove_authenticator(
        &self,
        credential_id: &str,
    ) -> AdapterResult<Option<Authenticator>> {
        let op = Operation::DeleteAuthenticator;
        let written = WriteGuard::new(
            self.replicas.as_deref(),
            &[RecordKey::Authenticator(credential_id)],
        );
        let row = with_conn!(self, op, |conn: Db| {
            take!(
                conn,
                self.sql(),
                delete_authenticator,
                AuthenticatorRow,
                [credential_id]
            )
            .for_op(op)
        })?;
        written.done(Ok(row.map(AuthenticatorRow::into_model)))
    }

    async fn remove_expired(&self, now: DateTime<Utc>) -> AdapterResult<ExpiredCounts> {
        let op = Operation::DeleteExpired;
        with_conn!(self, op, |conn: Db| {
            let sessions = sqlx::query(self.sql().delete_expired_sessions.clone())
                .bind(stamp::<Db>(now))
                .execute(&mut *conn)
                .await
                .for_op(op)?
                .rows_affected();
            let verification_tokens = sqlx::query(self.sql().delete_expired_tokens.clone())
                .bind(stamp::<Db>(now))
                .execute(&mut *conn)
                .await
                .for_op(op)
                .map_err(|e| e.with_code(ErrorCode::DeleteVerificationRequestError))?
                .rows_affected();
            Ok(ExpiredCounts {
                sessions,
                verification_tokens,
            })
        })
    }
}
