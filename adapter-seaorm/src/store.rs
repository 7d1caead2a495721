//! [`SeaOrmAdapter`]'s [`Store`] implementation, written once for every database with the
//! SeaORM query builder over the [`entities`](crate::entities). What differs between
//! databases is written once too: [`Dialect`](crate::Dialect) says which statements can
//! return rows, [`crate::stamp`] how a timestamp is stored.

use async_trait::async_trait;
use auth_core::{
    Account, AdapterResult, Authenticator, ErrorCode, ExpiredCounts, Extra, ExtraChange, Operation,
    Session, SessionUpdate, Store, User, UserUpdate, VerificationToken,
};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{
    Condition, Expr, ExprTrait, IntoCondition, LockType, Order, Query, ReturningClause,
    SelectStatement,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, EntityTrait,
    FromQueryResult, IdenStatic, Iterable, QueryResult, SqliteTransactionMode, Statement,
    TransactionOptions, TransactionTrait,
};

use crate::adapter::SeaOrmAdapter;
use crate::entities::{accounts, authenticators, sessions, users, verification_tokens};
use crate::error::{self, ResultExt};
use crate::extra;
use crate::stamp;
use crate::Dialect;

/// A value of one column computed from the row as it is, inside the transaction that
/// holds it locked (the extra fields after a merge).
type Derive<'a, C> = Box<dyn FnOnce(&QueryResult) -> AdapterResult<(C, Expr)> + Send + 'a>;

impl SeaOrmAdapter {
    /// Commits `tx`. On a Galera node, first reads whether the transaction is still open: a
    /// node can roll back a transaction that lost a certification race while the client
    /// sits between two prepared statements without reporting it, and the statements after
    /// it then run outside any transaction (see adapter-sqlx's `Statements::on_galera`). A
    /// transaction gone is a lost race: the call runs again.
    async fn commit(&self, tx: DatabaseTransaction, op: Operation) -> AdapterResult<()> {
        if self.galera {
            let check = Statement::from_string(
                self.db.get_database_backend(),
                auth_sql::errors::TRANSACTION_CHECK,
            );
            let open = tx
                .query_one_raw(check)
                .await
                .for_op(op)?
                .map(|row| row.try_get::<i64>("", "still_open"))
                .transpose()
                .for_op(op)?;
            if open != Some(1) {
                let _ = tx.rollback().await;
                return Err(adapter_sqlx::errors::map(
                    op,
                    adapter_sqlx::errors::transaction_gone(),
                ));
            }
        }
        tx.commit().await.for_op(op)
    }

    fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    /// Runs one Store call (waiting for a pooled connection, connecting, the statements)
    /// within the adapter's call timeout, on every database: a statement on an open
    /// connection to a server that stopped answering would otherwise wait forever (sqlx
    /// has no read timeout), and a SQLite call waits for a lock up to the busy timeout on
    /// top of its wait for a connection. Past the timeout the call is dropped, and with it
    /// its connection (sqlx closes a server connection dropped mid-statement instead of
    /// returning it to the pool; a SQLite statement finishes on its worker thread first),
    /// and the call fails with ADAPTER_CONNECTION_ERROR.
    async fn bounded<T>(
        &self,
        op: Operation,
        call: impl AsyncFnOnce() -> AdapterResult<T>,
    ) -> AdapterResult<T> {
        auth_core::bound::within(op, self.call_timeout, call()).await
    }

    fn stamp(&self, at: DateTime<Utc>) -> sea_orm::Value {
        stamp::value(self.backend(), Some(at))
    }

    /// The value to write for the extra fields (see [`crate::extra`]).
    fn extra(&self, op: Operation, object: &Extra) -> AdapterResult<Expr> {
        extra::value(self.backend(), op, object)
    }

    /// Every column of `E` as this adapter reads it, each with its name: a JSON column as
    /// text. In a join (`qualified`) each column is named with its table.
    fn columns<E: EntityTrait + Default>(&self, qualified: bool) -> Vec<(Expr, String)> {
        E::Column::iter()
            .map(|column| {
                let expr = if qualified {
                    Expr::col((E::default(), column))
                } else {
                    Expr::col(column)
                };
                let name = column.as_str().to_owned();
                (extra::readable(self.backend(), column, expr), name)
            })
            .collect()
    }

    /// Adds every column of `E` to `select` as this adapter reads it, under its own name
    /// (see [`columns`](Self::columns)).
    fn select_columns<E: EntityTrait + Default>(
        &self,
        select: &mut SelectStatement,
        qualified: bool,
    ) {
        for (expr, name) in self.columns::<E>(qualified) {
            select.expr_as(expr, name);
        }
    }

    /// `SELECT <every column of E> FROM <E> WHERE <cond>`.
    fn select_where<E: EntityTrait + Default>(&self, cond: impl IntoCondition) -> SelectStatement {
        let mut select = Query::select();
        self.select_columns::<E>(&mut select, false);
        select.from(E::default()).cond_where(cond).to_owned()
    }

    /// How an update writes its extra change into `column`: a replacement as one more value
    /// of `set`, needing no read; a merge as a [`Derive`] that computes the stored object
    /// with `merged` from the row read in the writing transaction (`merged` is the update's
    /// `apply_to`, which also refuses a result over the cap, and then nothing is written).
    fn extra_change<'a, C: Send + 'a>(
        &'a self,
        op: Operation,
        change: Option<&ExtraChange>,
        column: C,
        set: &mut Vec<(C, Expr)>,
        merged: impl FnOnce(&QueryResult) -> AdapterResult<Extra> + Send + 'a,
    ) -> AdapterResult<Option<Derive<'a, C>>> {
        match change {
            None => Ok(None),
            Some(replace @ ExtraChange::Replace(_)) => {
                set.push((column, self.extra(op, &replace.applied_to(Extra::new()))?));
                Ok(None)
            }
            Some(ExtraChange::Merge(_)) => Ok(Some(Box::new(move |row: &QueryResult| {
                Ok((column, self.extra(op, &merged(row)?)?))
            }))),
        }
    }

    /// `RETURNING <every column of E>` as the adapter reads them. Without an alias (SeaQuery
    /// writes none here): on PostgreSQL, the one database that reads a cast column here, a
    /// `CAST(extra AS TEXT)` is named `extra` by the server.
    fn returning<E: EntityTrait + Default>(&self) -> ReturningClause {
        Query::returning().exprs(self.columns::<E>(false).into_iter().map(|(expr, _)| expr))
    }

    // ------------------------------------------------------------ rows to models

    fn user(&self, row: &QueryResult) -> Result<User, DbErr> {
        Ok(User {
            extra: extra::get(row, "extra")?,
            id: row.try_get("", "id")?,
            email: row.try_get("", "email")?,
            email_verified: stamp::get(self.backend(), row, "email_verified")?,
            name: row.try_get("", "name")?,
            image: row.try_get("", "image")?,
        })
    }

    fn session(&self, row: &QueryResult) -> Result<Session, DbErr> {
        self.session_with(row, "extra")
    }

    /// A session whose extra fields are in column `extra` (named apart from its user's in
    /// the join of `find_session_and_user`).
    fn session_with(&self, row: &QueryResult, extra: &str) -> Result<Session, DbErr> {
        Ok(Session {
            extra: extra::get(row, extra)?,
            session_token: row.try_get("", "session_token")?,
            user_id: row.try_get("", "user_id")?,
            expires: stamp::get_required(self.backend(), row, "expires")?,
        })
    }

    fn token(&self, row: &QueryResult) -> Result<VerificationToken, DbErr> {
        Ok(VerificationToken {
            identifier: row.try_get("", "identifier")?,
            token: row.try_get("", "token")?,
            expires: stamp::get_required(self.backend(), row, "expires")?,
        })
    }

    /// Decodes rows with `decode`, mapping both layers of error for `op`.
    fn rows<T>(
        &self,
        op: Operation,
        rows: Vec<QueryResult>,
        decode: impl Fn(&Self, &QueryResult) -> Result<T, DbErr>,
    ) -> AdapterResult<Vec<T>> {
        rows.iter()
            .map(|row| decode(self, row).for_op(op))
            .collect()
    }

    fn row<T>(
        &self,
        op: Operation,
        row: Option<QueryResult>,
        decode: impl Fn(&Self, &QueryResult) -> Result<T, DbErr>,
    ) -> AdapterResult<Option<T>> {
        row.map(|row| decode(self, &row).for_op(op)).transpose()
    }

    // ------------------------------------------------------------ statements

    async fn one(
        &self,
        op: Operation,
        select: &SelectStatement,
    ) -> AdapterResult<Option<QueryResult>> {
        self.db.query_one(select).await.for_op(op)
    }

    async fn all(
        &self,
        op: Operation,
        select: &SelectStatement,
    ) -> AdapterResult<Vec<QueryResult>> {
        self.db.query_all(select).await.for_op(op)
    }

    /// Removes the row of `E` matching `key` and returns it: one `DELETE … RETURNING` where
    /// the database has it, else a locking read and the delete in one transaction.
    async fn take<E: EntityTrait + Default>(
        &self,
        op: Operation,
        key: Condition,
    ) -> AdapterResult<Option<QueryResult>> {
        let mut delete = Query::delete();
        delete.from_table(E::default()).cond_where(key.clone());
        match self.dialect {
            Dialect::Postgres | Dialect::Sqlite => {
                delete.returning(self.returning::<E>());
                self.db.query_one(&delete).await.for_op(op)
            }
            dialect if dialect.delete_returning() => {
                // MariaDB: SeaQuery's MySQL writer has no RETURNING, the server has. Its
                // JSON column is LONGTEXT: read as it is. Read to the end of the reply, not
                // to its first row: a deadlock victim may send the row, then the error
                // that rolled the delete back.
                let mut stmt = DbBackend::MySql.build(&delete);
                stmt.sql.push_str(" RETURNING *");
                let rows = self.db.query_all_raw(stmt).await.for_op(op)?;
                Ok(rows.into_iter().next())
            }
            _ => {
                let tx = self.db.begin().await.for_op(op)?;
                let select = self
                    .select_where::<E>(key)
                    .lock(LockType::Update)
                    .to_owned();
                let row = tx.query_one(&select).await.for_op(op)?;
                if row.is_some() {
                    tx.execute(&delete).await.for_op(op)?;
                }
                self.commit(tx, op).await?;
                Ok(row)
            }
        }
    }

    /// Sets `set` on the row of `E` matching `key` and `guard` and returns the row as
    /// stored: one `UPDATE … RETURNING` where the database has it, else a locking read, the
    /// update and a read in one transaction. `None` when no row matches (nothing changes).
    ///
    /// With `derive`, one more column is set to a value computed from the row as it is (a
    /// merge of extra fields): the row is read first, in a write transaction that holds it
    /// (`SELECT … FOR UPDATE`; on SQLite `BEGIN IMMEDIATE`, the database's write lock), so
    /// no concurrent change is lost; an error of `derive` rolls back and changes nothing.
    async fn change<E: EntityTrait + Default>(
        &self,
        op: Operation,
        mut set: Vec<(E::Column, Expr)>,
        key: Condition,
        guard: Option<Expr>,
        derive: Option<Derive<'_, E::Column>>,
    ) -> AdapterResult<Option<QueryResult>> {
        let matching = match guard.clone() {
            Some(guard) => key.clone().add(guard),
            None => key.clone(),
        };
        if set.is_empty() && derive.is_none() {
            return self.one(op, &self.select_where::<E>(matching)).await;
        }
        let mut update = Query::update();
        update.table(E::default());
        if derive.is_none() && self.dialect.update_returning() {
            update
                .values(set)
                .cond_where(matching)
                .returning(self.returning::<E>());
            return self.db.query_one(&update).await.for_op(op);
        }
        let write = TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        };
        let tx = self.db.begin_with_options(write).await.for_op(op)?;
        let body = async {
            let current = tx
                .query_one(
                    &self
                        .select_where::<E>(matching)
                        .lock(LockType::Update)
                        .to_owned(),
                )
                .await
                .for_op(op)?;
            let Some(current) = current else {
                return Ok(None);
            };
            if let Some(derive) = derive {
                set.push(derive(&current)?);
            }
            update.values(set).cond_where(key.clone());
            if self.dialect.update_returning() {
                update.returning(self.returning::<E>());
                tx.query_one(&update).await.for_op(op)
            } else {
                tx.execute(&update).await.for_op(op)?;
                tx.query_one(&self.select_where::<E>(key)).await.for_op(op)
            }
        };
        match body.await {
            Ok(row) => {
                self.commit(tx, op).await?;
                Ok(row)
            }
            Err(err) => {
                // Rolled back here, at once, rather than when the connection is next used:
                // after a deadlock MariaDB has already ended the transaction, and a
                // connection still counted as inside one would turn the next call's BEGIN
                // into a SAVEPOINT outside any transaction. The caller's error is the one to
                // report.
                let _ = tx.rollback().await;
                Err(err)
            }
        }
    }
}

fn account_model(account: accounts::Model) -> Result<Account, DbErr> {
    let account_type = account
        .account_type
        .parse()
        .map_err(|e| DbErr::Type(format!("the stored account type is unknown: {e}")))?;
    Ok(Account {
        extra: extra::parse_stored("extra", account.extra.as_deref())?,
        user_id: account.user_id,
        account_type,
        provider: account.provider,
        provider_account_id: account.provider_account_id,
        refresh_token: account.refresh_token,
        access_token: account.access_token,
        expires_at: account.expires_at,
        token_type: account.token_type,
        scope: account.scope,
        id_token: account.id_token,
        session_state: account.session_state,
    })
}

fn authenticator_model(a: authenticators::Model) -> Authenticator {
    Authenticator {
        credential_id: a.credential_id,
        user_id: a.user_id,
        provider_account_id: a.provider_account_id,
        credential_public_key: a.credential_public_key,
        counter: a.counter,
        credential_device_type: a.credential_device_type,
        credential_backed_up: a.credential_backed_up,
        transports: a.transports,
    }
}

fn account_row(_: &SeaOrmAdapter, row: &QueryResult) -> Result<Account, DbErr> {
    account_model(accounts::Model::from_query_result(row, "")?)
}

fn authenticator_row(_: &SeaOrmAdapter, row: &QueryResult) -> Result<Authenticator, DbErr> {
    Ok(authenticator_model(
        authenticators::Model::from_query_result(row, "")?,
    ))
}

/// The name under which `find_session_and_user` reads the session's extra fields.
const SESSION_EXTRA: &str = "session_extra";

fn account_key(provider: &str, provider_account_id: &str) -> Condition {
    Condition::all()
        .add(accounts::Column::Provider.eq(provider))
        .add(accounts::Column::ProviderAccountId.eq(provider_account_id))
}

fn token_key(identifier: &str, token: &str) -> Condition {
    Condition::all()
        .add(verification_tokens::Column::Identifier.eq(identifier))
        .add(verification_tokens::Column::Token.eq(token))
}

fn text(value: Option<&str>) -> Expr {
    Expr::val(value.map(str::to_owned))
}

#[async_trait]
impl Store for SeaOrmAdapter {
    fn backend(&self) -> &'static str {
        self.dialect.name()
    }

    async fn insert_user(&self, user: &User, email_key: Option<&str>) -> AdapterResult<String> {
        self.bounded(Operation::CreateUser, async || {
            use users::Column as C;
            let insert = Query::insert()
                .into_table(users::Entity)
                .columns([
                    C::Id,
                    C::Email,
                    C::EmailNormalized,
                    C::EmailVerified,
                    C::Name,
                    C::Image,
                    C::Extra,
                ])
                .values_panic([
                    Expr::val(user.id.as_str()),
                    text(user.email.as_deref()),
                    text(email_key),
                    Expr::val(stamp::value(self.backend(), user.email_verified)),
                    text(user.name.as_deref()),
                    text(user.image.as_deref()),
                    self.extra(Operation::CreateUser, &user.extra)?,
                ])
                .to_owned();
            self.db
                .execute(&insert)
                .await
                .for_op(Operation::CreateUser)?;
            Ok(user.id.clone())
        })
        .await
    }

    async fn find_user(&self, id: &str) -> AdapterResult<Option<User>> {
        self.bounded(Operation::GetUser, async || {
            let op = Operation::GetUser;
            let row = self
                .one(
                    op,
                    &self.select_where::<users::Entity>(users::Column::Id.eq(id)),
                )
                .await?;
            self.row(op, row, Self::user)
        })
        .await
    }

    async fn find_user_by_email(&self, email_key: &str) -> AdapterResult<Option<User>> {
        self.bounded(Operation::GetUserByEmail, async || {
            let op = Operation::GetUserByEmail;
            let select =
                self.select_where::<users::Entity>(users::Column::EmailNormalized.eq(email_key));
            let row = self.one(op, &select).await?;
            self.row(op, row, Self::user)
        })
        .await
    }

    async fn find_user_by_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<User>> {
        self.bounded(Operation::GetUserByAccount, async || {
            let op = Operation::GetUserByAccount;
            let mut select = Query::select();
            self.select_columns::<users::Entity>(&mut select, true);
            let select = select
                .from(accounts::Entity)
                .inner_join(
                    users::Entity,
                    Expr::col((users::Entity, users::Column::Id))
                        .equals((accounts::Entity, accounts::Column::UserId)),
                )
                .cond_where(account_key(provider, provider_account_id))
                .to_owned();
            let row = self.one(op, &select).await?;
            self.row(op, row, Self::user)
        })
        .await
    }

    async fn merge_user(
        &self,
        update: &UserUpdate,
        email_key: Option<Option<&str>>,
    ) -> AdapterResult<Option<User>> {
        self.bounded(Operation::UpdateUser, async || {
            use users::Column as C;
            let op = Operation::UpdateUser;
            let mut set = Vec::new();
            if let Some(email) = &update.email {
                set.push((C::Email, text(email.as_deref())));
            }
            if let Some(key) = email_key {
                set.push((C::EmailNormalized, text(key)));
            }
            if let Some(verified) = update.email_verified {
                set.push((
                    C::EmailVerified,
                    Expr::val(stamp::value(self.backend(), verified)),
                ));
            }
            if let Some(name) = &update.name {
                set.push((C::Name, text(name.as_deref())));
            }
            if let Some(image) = &update.image {
                set.push((C::Image, text(image.as_deref())));
            }
            let derive =
                self.extra_change(op, update.extra.as_ref(), C::Extra, &mut set, |row| {
                    Ok(update.apply_to(self.user(row).for_op(op)?)?.extra)
                })?;
            let key = Condition::all().add(C::Id.eq(update.id.as_str()));
            let row = self
                .change::<users::Entity>(op, set, key, None, derive)
                .await?;
            self.row(op, row, Self::user)
        })
        .await
    }

    async fn remove_user(&self, id: &str) -> AdapterResult<Option<User>> {
        self.bounded(Operation::DeleteUser, async || {
            // One statement (a transaction on MySQL 8): the foreign keys cascade to the user's
            // accounts, sessions and authenticators, all or nothing.
            let op = Operation::DeleteUser;
            let key = Condition::all().add(users::Column::Id.eq(id));
            let row = self.take::<users::Entity>(op, key).await?;
            self.row(op, row, Self::user)
        })
        .await
    }

    async fn insert_account(&self, account: &Account) -> AdapterResult<()> {
        self.bounded(Operation::LinkAccount, async || {
            // The foreign key refuses an account of a missing (or concurrently deleted) user:
            // NotFound, and nothing stored.
            use accounts::Column as C;
            let a = account;
            let insert = Query::insert()
                .into_table(accounts::Entity)
                .columns([
                    C::UserId,
                    C::AccountType,
                    C::Provider,
                    C::ProviderAccountId,
                    C::RefreshToken,
                    C::AccessToken,
                    C::ExpiresAt,
                    C::TokenType,
                    C::Scope,
                    C::IdToken,
                    C::SessionState,
                    C::Extra,
                ])
                .values_panic([
                    Expr::val(a.user_id.as_str()),
                    Expr::val(a.account_type.as_str()),
                    Expr::val(a.provider.as_str()),
                    Expr::val(a.provider_account_id.as_str()),
                    text(a.refresh_token.as_deref()),
                    text(a.access_token.as_deref()),
                    Expr::val(a.expires_at),
                    text(a.token_type.as_deref()),
                    text(a.scope.as_deref()),
                    text(a.id_token.as_deref()),
                    text(a.session_state.as_deref()),
                    self.extra(Operation::LinkAccount, &a.extra)?,
                ])
                .to_owned();
            self.db
                .execute(&insert)
                .await
                .for_op(Operation::LinkAccount)?;
            Ok(())
        })
        .await
    }

    async fn remove_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<Account>> {
        self.bounded(Operation::UnlinkAccount, async || {
            let op = Operation::UnlinkAccount;
            let key = account_key(provider, provider_account_id);
            let row = self.take::<accounts::Entity>(op, key).await?;
            self.row(op, row, account_row)
        })
        .await
    }

    async fn find_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<Account>> {
        self.bounded(Operation::GetAccount, async || {
            let op = Operation::GetAccount;
            let select =
                self.select_where::<accounts::Entity>(account_key(provider, provider_account_id));
            let row = self.one(op, &select).await?;
            self.row(op, row, account_row)
        })
        .await
    }

    async fn replace_account_tokens(&self, account: &Account) -> AdapterResult<Option<Account>> {
        self.bounded(Operation::UpdateAccount, async || {
            use accounts::Column as C;
            let op = Operation::UpdateAccount;
            let a = account;
            let set = vec![
                (C::RefreshToken, text(a.refresh_token.as_deref())),
                (C::AccessToken, text(a.access_token.as_deref())),
                (C::ExpiresAt, Expr::val(a.expires_at)),
                (C::TokenType, text(a.token_type.as_deref())),
                (C::Scope, text(a.scope.as_deref())),
                (C::IdToken, text(a.id_token.as_deref())),
                (C::SessionState, text(a.session_state.as_deref())),
                // The rest of the token response is replaced with the tokens.
                (C::Extra, self.extra(op, &a.extra)?),
            ];
            let key = account_key(&a.provider, &a.provider_account_id);
            let row = self
                .change::<accounts::Entity>(op, set, key, None, None)
                .await?;
            self.row(op, row, account_row)
        })
        .await
    }

    async fn find_accounts(&self, user_id: &str) -> AdapterResult<Vec<Account>> {
        self.bounded(Operation::ListAccounts, async || {
            let op = Operation::ListAccounts;
            let select =
                self.select_where::<accounts::Entity>(accounts::Column::UserId.eq(user_id));
            let rows = self.all(op, &select).await?;
            self.rows(op, rows, account_row)
        })
        .await
    }

    async fn insert_session(&self, session: &Session) -> AdapterResult<()> {
        self.bounded(Operation::CreateSession, async || {
            use sessions::Column as C;
            let insert = Query::insert()
                .into_table(sessions::Entity)
                .columns([C::SessionToken, C::UserId, C::Expires, C::Extra])
                .values_panic([
                    Expr::val(session.session_token.as_str()),
                    Expr::val(session.user_id.as_str()),
                    Expr::val(self.stamp(session.expires)),
                    self.extra(Operation::CreateSession, &session.extra)?,
                ])
                .to_owned();
            self.db
                .execute(&insert)
                .await
                .for_op(Operation::CreateSession)?;
            Ok(())
        })
        .await
    }

    async fn find_session_and_user(
        &self,
        session_token: &str,
        now: DateTime<Utc>,
    ) -> AdapterResult<Option<(Session, User)>> {
        self.bounded(Operation::GetSessionAndUser, async || {
            // The hot path: one statement, the session joined with its user, live only.
            let op = Operation::GetSessionAndUser;
            // Both tables have an `extra` column: the session's is read as `session_extra`.
            let mut select = Query::select();
            self.select_columns::<users::Entity>(&mut select, true);
            let session_extra = Expr::col((sessions::Entity, sessions::Column::Extra));
            let select = select
                .columns([
                    (sessions::Entity, sessions::Column::SessionToken),
                    (sessions::Entity, sessions::Column::UserId),
                    (sessions::Entity, sessions::Column::Expires),
                ])
                .expr_as(
                    extra::readable(self.backend(), sessions::Column::Extra, session_extra),
                    SESSION_EXTRA,
                )
                .from(sessions::Entity)
                .inner_join(
                    users::Entity,
                    Expr::col((users::Entity, users::Column::Id))
                        .equals((sessions::Entity, sessions::Column::UserId)),
                )
                .and_where(
                    Expr::col((sessions::Entity, sessions::Column::SessionToken)).eq(session_token),
                )
                .and_where(
                    Expr::col((sessions::Entity, sessions::Column::Expires)).gt(self.stamp(now)),
                )
                .to_owned();
            let row = self.one(op, &select).await?;
            self.row(op, row, |this, row| {
                Ok((this.session_with(row, SESSION_EXTRA)?, this.user(row)?))
            })
        })
        .await
    }

    async fn change_session(
        &self,
        update: &SessionUpdate,
        now: DateTime<Utc>,
    ) -> AdapterResult<Option<Session>> {
        self.bounded(Operation::UpdateSession, async || {
            use sessions::Column as C;
            let op = Operation::UpdateSession;
            let mut set = Vec::new();
            if let Some(expires) = update.expires {
                set.push((C::Expires, Expr::val(self.stamp(expires))));
            }
            if let Some(user_id) = &update.user_id {
                set.push((C::UserId, Expr::val(user_id.as_str())));
            }
            let derive =
                self.extra_change(op, update.extra.as_ref(), C::Extra, &mut set, |row| {
                    Ok(update.apply_to(self.session(row).for_op(op)?)?.extra)
                })?;
            let key = Condition::all().add(C::SessionToken.eq(update.session_token.as_str()));
            // Only a live session changes: an expired one is not revived.
            let live = Expr::col(C::Expires).gt(self.stamp(now));
            let row = self
                .change::<sessions::Entity>(op, set, key, Some(live), derive)
                .await?;
            self.row(op, row, Self::session)
        })
        .await
    }

    async fn remove_session(&self, session_token: &str) -> AdapterResult<Option<Session>> {
        self.bounded(Operation::DeleteSession, async || {
            let op = Operation::DeleteSession;
            let key = Condition::all().add(sessions::Column::SessionToken.eq(session_token));
            let row = self.take::<sessions::Entity>(op, key).await?;
            self.row(op, row, Self::session)
        })
        .await
    }

    async fn find_sessions(
        &self,
        user_id: &str,
        now: DateTime<Utc>,
    ) -> AdapterResult<Vec<Session>> {
        self.bounded(Operation::ListSessions, async || {
            let op = Operation::ListSessions;
            let select = self.select_where::<sessions::Entity>(
                Condition::all()
                    .add(sessions::Column::UserId.eq(user_id))
                    .add(Expr::col(sessions::Column::Expires).gt(self.stamp(now))),
            );
            let rows = self.all(op, &select).await?;
            self.rows(op, rows, Self::session)
        })
        .await
    }

    async fn remove_sessions(&self, user_id: &str, now: DateTime<Utc>) -> AdapterResult<u64> {
        self.bounded(Operation::DeleteSessions, async || {
            // Only the live ones, so the count is exact; expired ones are left to the sweep.
            let delete = Query::delete()
                .from_table(sessions::Entity)
                .cond_where(
                    Condition::all()
                        .add(sessions::Column::UserId.eq(user_id))
                        .add(Expr::col(sessions::Column::Expires).gt(self.stamp(now))),
                )
                .to_owned();
            Ok(self
                .db
                .execute(&delete)
                .await
                .for_op(Operation::DeleteSessions)?
                .rows_affected())
        })
        .await
    }

    async fn insert_verification_token(&self, token: &VerificationToken) -> AdapterResult<()> {
        self.bounded(Operation::CreateVerificationToken, async || {
            use verification_tokens::Column as C;
            let insert = Query::insert()
                .into_table(verification_tokens::Entity)
                .columns([C::Identifier, C::Token, C::Expires])
                .values_panic([
                    Expr::val(token.identifier.as_str()),
                    Expr::val(token.token.as_str()),
                    Expr::val(self.stamp(token.expires)),
                ])
                .to_owned();
            self.db
                .execute(&insert)
                .await
                .for_op(Operation::CreateVerificationToken)?;
            Ok(())
        })
        .await
    }

    async fn take_verification_token(
        &self,
        identifier: &str,
        token: &str,
    ) -> AdapterResult<Option<VerificationToken>> {
        self.bounded(Operation::UseVerificationToken, async || {
            // Atomic take: of concurrent callers exactly one gets the row.
            let op = Operation::UseVerificationToken;
            let row = self
                .take::<verification_tokens::Entity>(op, token_key(identifier, token))
                .await?;
            self.row(op, row, Self::token)
        })
        .await
    }

    async fn insert_authenticator(&self, authenticator: &Authenticator) -> AdapterResult<()> {
        self.bounded(Operation::CreateAuthenticator, async || {
            use authenticators::Column as C;
            let a = authenticator;
            let insert = Query::insert()
                .into_table(authenticators::Entity)
                .columns([
                    C::CredentialId,
                    C::UserId,
                    C::ProviderAccountId,
                    C::CredentialPublicKey,
                    C::Counter,
                    C::CredentialDeviceType,
                    C::CredentialBackedUp,
                    C::Transports,
                ])
                .values_panic([
                    Expr::val(a.credential_id.as_str()),
                    Expr::val(a.user_id.as_str()),
                    Expr::val(a.provider_account_id.as_str()),
                    Expr::val(a.credential_public_key.as_str()),
                    Expr::val(a.counter),
                    Expr::val(a.credential_device_type.as_str()),
                    Expr::val(a.credential_backed_up),
                    text(a.transports.as_deref()),
                ])
                .to_owned();
            self.db
                .execute(&insert)
                .await
                .for_op(Operation::CreateAuthenticator)?;
            Ok(())
        })
        .await
    }

    async fn find_authenticator(
        &self,
        credential_id: &str,
    ) -> AdapterResult<Option<Authenticator>> {
        self.bounded(Operation::GetAuthenticator, async || {
            let op = Operation::GetAuthenticator;
            let select = self.select_where::<authenticators::Entity>(
                authenticators::Column::CredentialId.eq(credential_id),
            );
            let row = self.one(op, &select).await?;
            self.row(op, row, authenticator_row)
        })
        .await
    }

    async fn find_authenticators(&self, user_id: &str) -> AdapterResult<Vec<Authenticator>> {
        self.bounded(Operation::ListAuthenticators, async || {
            let op = Operation::ListAuthenticators;
            let select = self
                .select_where::<authenticators::Entity>(authenticators::Column::UserId.eq(user_id))
                .order_by(authenticators::Column::CredentialId, Order::Asc)
                .to_owned();
            let rows = self.all(op, &select).await?;
            self.rows(op, rows, authenticator_row)
        })
        .await
    }

    async fn set_authenticator_counter(
        &self,
        credential_id: &str,
        counter: i64,
    ) -> AdapterResult<Option<Authenticator>> {
        self.bounded(Operation::UpdateAuthenticatorCounter, async || {
            let op = Operation::UpdateAuthenticatorCounter;
            let set = vec![(authenticators::Column::Counter, Expr::val(counter))];
            let key = Condition::all().add(authenticators::Column::CredentialId.eq(credential_id));
            let row = self
                .change::<authenticators::Entity>(op, set, key, None, None)
                .await?;
            self.row(op, row, authenticator_row)
        })
        .await
    }

    async fn remove_authenticator(
        &self,
        credential_id: &str,
    ) -> AdapterResult<Option<Authenticator>> {
        self.bounded(Operation::DeleteAuthenticator, async || {
            let op = Operation::DeleteAuthenticator;
            let key = Condition::all().add(authenticators::Column::CredentialId.eq(credential_id));
            let row = self.take::<authenticators::Entity>(op, key).await?;
            self.row(op, row, authenticator_row)
        })
        .await
    }

    async fn remove_expired(&self, now: DateTime<Utc>) -> AdapterResult<ExpiredCounts> {
        self.bounded(Operation::DeleteExpired, async || {
            let op = Operation::DeleteExpired;
            let sessions = Query::delete()
                .from_table(sessions::Entity)
                .and_where(Expr::col(sessions::Column::Expires).lte(self.stamp(now)))
                .to_owned();
            let sessions = self.db.execute(&sessions).await.for_op(op)?.rows_affected();
            let tokens = Query::delete()
                .from_table(verification_tokens::Entity)
                .and_where(Expr::col(verification_tokens::Column::Expires).lte(self.stamp(now)))
                .to_owned();
            let verification_tokens = self
                .db
                .execute(&tokens)
                .await
                .map_err(|e| {
                    error::map(op, e).with_code(ErrorCode::DeleteVerificationRequestError)
                })?
                .rows_affected();
            Ok(ExpiredCounts {
                sessions,
                verification_tokens,
            })
        })
        .await
    }
}
