//! The Auth.js layouts ([`Layout::AuthJsPg`], [`Layout::AuthJsDrizzle`]): a [`Store`] on the tables of a running
//! Auth.js app, written once for every layout like the native one, over the same pool,
//! lease, error mapping, timestamp handling and row types. What differs per layout is data:
//! the statement texts (aliased to the native row names), the schema, and whether the
//! database assigns user ids ([`Ids`]).

mod drizzle;
mod pg;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use auth_core::{
    Account, AdapterError, AdapterResult, Authenticator, ErrorCode, ExpiredCounts, Operation,
    Session, SessionUpdate, Store, User, UserUpdate, VerificationToken,
};
use chrono::{DateTime, Utc};
use sqlx::{AssertSqlSafe, SqlSafeStr, SqlStr};

use crate::adapter::{change, take};
use crate::dialect::{Change, Dialect, Take};
use crate::error::{self, ResultExt};
use crate::layout::Layout;
use crate::lease::with_conn;
use crate::options::SqlxAdapterBuilder;
use crate::pool::{self, stamp, with_pool, Pools, Timestamps};
use crate::rows::{AccountRow, AuthenticatorRow, SessionRow, SessionUserRow, TokenRow, UserRow};

type UserOf<D> = UserRow<<D as Timestamps>::Stamp>;
type SessionOf<D> = SessionRow<<D as Timestamps>::Stamp>;
type SessionUserOf<D> = SessionUserRow<<D as Timestamps>::Stamp>;
type TokenOf<D> = TokenRow<<D as Timestamps>::Stamp>;

/// Who gives a user its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ids {
    /// A `SERIAL` column: the database assigns it; ids are decimal `i32`s, and any other
    /// string names no user.
    Serial,
    /// Text given by the application (Drizzle's `crypto.randomUUID()`): kept as given.
    Given,
}

impl Ids {
    /// The id as the statements bind it, or `None` when no user can have it (then reads
    /// find nothing and writes that need the user are `NotFound`, without a round trip).
    fn key(self, id: &str) -> Option<&str> {
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

/// A statement text of a layout (constants of this module's files; values are bound).
fn sql(text: impl Into<Arc<str>>) -> SqlStr {
    AssertSqlSafe(text.into()).into_sql_str()
}

/// Every statement of one Auth.js layout. Texts return the native row names.
#[derive(Debug)]
pub(crate) struct Statements {
    ids: Ids,
    begin_write: SqlStr,
    /// Binds the id (when given, [`Ids::Given`]), email, emailVerified, name, image;
    /// returns the assigned id as text ([`Ids::Serial`]).
    create_user: SqlStr,
    get_user: SqlStr,
    get_user_by_email: SqlStr,
    get_user_by_account: SqlStr,
    update_user: Change,
    delete_user: Take,
    link_account: SqlStr,
    get_account: SqlStr,
    unlink_account: Take,
    update_account: Change,
    list_accounts: SqlStr,
    create_session: SqlStr,
    get_session_and_user: SqlStr,
    update_session: Change,
    delete_session: Take,
    list_sessions: SqlStr,
    delete_sessions: SqlStr,
    create_verification_token: SqlStr,
    use_verification_token: Take,
    create_authenticator: SqlStr,
    get_authenticator: SqlStr,
    list_authenticators: SqlStr,
    update_authenticator_counter: Change,
    delete_authenticator: Take,
    delete_expired_sessions: SqlStr,
    delete_expired_tokens: SqlStr,
}

/// An adapter on an Auth.js layout (the public [`SqlxAdapter`](crate::SqlxAdapter) holds it).
#[derive(Clone)]
pub(crate) struct AuthJsAdapter {
    pools: Pools,
    /// How long one call may take, getting its connection included.
    call_timeout: Duration,
    sql: Arc<Statements>,
    schema: &'static str,
    layout: Layout,
    dialect: Dialect,
}

impl AuthJsAdapter {
    /// Connects for `options.layout` (an Auth.js layout), refusing a database the layout
    /// does not exist on.
    pub(crate) async fn connect(options: &SqlxAdapterBuilder) -> Result<Self, AdapterError> {
        let layout = options.layout;
        let (pools, dialect) = pool::open(options).await?;
        let layout_sql = match layout {
            Layout::AuthJsPg if dialect == Dialect::Postgres => {
                Some((pg::statements(), pg::SCHEMA))
            }
            Layout::AuthJsDrizzle => {
                drizzle::schema(dialect).map(|schema| (drizzle::statements(dialect), schema))
            }
            _ => None,
        };
        let Some((sql, schema)) = layout_sql else {
            with_pool!(&pools, |source: Db| source.close().await);
            return Err(AdapterError::invalid_input(
                Operation::Connect,
                format!(
                    "the {} layout does not exist on {}",
                    layout.name(),
                    dialect.name()
                ),
            ));
        };
        Ok(Self {
            pools,
            call_timeout: options.acquire_timeout,
            sql: Arc::new(sql),
            schema,
            layout,
            dialect,
        })
    }

    /// Creates the layout's tables as Auth.js ships them (when missing) and our indexes and
    /// keys; idempotent, data is kept. Not bounded by the call timeout.
    pub(crate) async fn migrate(&self) -> Result<(), AdapterError> {
        let schema = self.schema;
        with_pool!(&self.pools, |source: Db| {
            let mut lease = source.lease(Operation::Migrate).await?;
            // One multi-statement text: PostgreSQL runs it as one implicit transaction.
            let result = sqlx::raw_sql(AssertSqlSafe(schema))
                .execute(&mut *lease.conn())
                .await
                .map(drop)
                .map_err(|e| error::map(Operation::Migrate, e));
            lease.settle(&result);
            result
        })
    }

    pub(crate) fn layout(&self) -> Layout {
        self.layout
    }

    pub(crate) fn dialect(&self) -> Dialect {
        self.dialect
    }

    pub(crate) async fn close(&self) {
        with_pool!(&self.pools, |source: Db| source.close().await)
    }

    pub(crate) fn sizes(&self) -> (usize, usize) {
        with_pool!(&self.pools, |source: Db| source.sizes())
    }
}

impl std::fmt::Debug for AuthJsAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (size, idle) = self.sizes();
        f.debug_struct("AuthJsAdapter")
            .field("layout", &self.layout)
            .field("dialect", &self.dialect)
            .field("connections", &size)
            .field("idle", &idle)
            .finish()
    }
}

#[async_trait]
impl Store for AuthJsAdapter {
    fn backend(&self) -> &'static str {
        self.layout.name()
    }

    async fn insert_user(&self, user: &User, _email_key: Option<&str>) -> AdapterResult<String> {
        let op = Operation::CreateUser;
        // The email key is the unique expression index's, computed by the database.
        let ids = self.sql.ids;
        with_conn!(self, op, |conn: Db| {
            let insert = sqlx::query(self.sql.create_user.clone());
            let insert = match ids {
                Ids::Serial => insert,
                Ids::Given => insert.bind(user.id.as_str()),
            };
            let insert = insert
                .bind(user.email.as_deref())
                .bind(user.email_verified.map(stamp::<Db>))
                .bind(user.name.as_deref())
                .bind(user.image.as_deref());
            match ids {
                Ids::Serial => {
                    let row = insert.fetch_one(&mut *conn).await.for_op(op)?;
                    sqlx::Row::try_get::<String, _>(&row, 0).for_op(op)
                }
                Ids::Given => {
                    insert.execute(&mut *conn).await.for_op(op)?;
                    Ok(user.id.clone())
                }
            }
        })
    }

    async fn find_user(&self, id: &str) -> AdapterResult<Option<User>> {
        let op = Operation::GetUser;
        let Some(id) = self.sql.ids.key(id) else {
            return Ok(None);
        };
        with_conn!(self, op, |conn: Db| {
            sqlx::query_as::<_, UserOf<Db>>(self.sql.get_user.clone())
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
        with_conn!(self, op, |conn: Db| {
            sqlx::query_as::<_, UserOf<Db>>(self.sql.get_user_by_email.clone())
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
        with_conn!(self, op, |conn: Db| {
            sqlx::query_as::<_, UserOf<Db>>(self.sql.get_user_by_account.clone())
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
        _email_key: Option<Option<&str>>,
    ) -> AdapterResult<Option<User>> {
        let op = Operation::UpdateUser;
        let Some(id) = self.sql.ids.key(&update.id) else {
            return Ok(None);
        };
        let email = update.email.as_ref().map(Option::as_deref);
        let verified = update.email_verified;
        let name = update.name.as_ref().map(Option::as_deref);
        let image = update.image.as_ref().map(Option::as_deref);
        // One statement: the unique email index refuses a taken email (`Conflict`) and then
        // nothing changes.
        with_conn!(self, op, |conn: Db| {
            change!(conn, self.sql, update_user, UserOf<Db>,
                set [
                    email.is_some(), email.flatten(),
                    verified.is_some(), verified.flatten().map(stamp::<Db>),
                    name.is_some(), name.flatten(),
                    image.is_some(), image.flatten(),
                ],
                key [id])
            .for_op(op)?
            .map(|row| row.into_model(op))
            .transpose()
        })
    }

    async fn remove_user(&self, id: &str) -> AdapterResult<Option<User>> {
        let op = Operation::DeleteUser;
        let Some(id) = self.sql.ids.key(id) else {
            return Ok(None);
        };
        // One statement: the foreign keys (added by `migrate`) cascade to the user's
        // accounts and sessions.
        with_conn!(self, op, |conn: Db| {
            take!(conn, self.sql, delete_user, UserOf<Db>, [id])
                .for_op(op)?
                .map(|row| row.into_model(op))
                .transpose()
        })
    }

    async fn insert_account(&self, account: &Account) -> AdapterResult<()> {
        let op = Operation::LinkAccount;
        let Some(user_id) = self.sql.ids.key(&account.user_id) else {
            return Err(no_such_user(op));
        };
        // The foreign key refuses an account of a missing user (NotFound), also when the user
        // is deleted concurrently.
        with_conn!(self, op, |conn: Db| {
            sqlx::query(self.sql.link_account.clone())
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
                .bind(account.session_state.as_deref())
                .execute(&mut *conn)
                .await
                .for_op(op)?;
            Ok(())
        })
    }

    async fn remove_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<Account>> {
        let op = Operation::UnlinkAccount;
        with_conn!(self, op, |conn: Db| {
            take!(
                conn,
                self.sql,
                unlink_account,
                AccountRow,
                [provider, provider_account_id]
            )
            .for_op(op)?
            .map(|row| row.into_model(op))
            .transpose()
        })
    }

    async fn find_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<Account>> {
        let op = Operation::GetAccount;
        with_conn!(self, op, |conn: Db| {
            sqlx::query_as::<_, AccountRow>(self.sql.get_account.clone())
                .bind(provider)
                .bind(provider_account_id)
                .fetch_optional(&mut *conn)
                .await
                .for_op(op)?
                .map(|row| row.into_model(op))
                .transpose()
        })
    }

    async fn replace_account_tokens(&self, a: &Account) -> AdapterResult<Option<Account>> {
        let op = Operation::UpdateAccount;
        with_conn!(self, op, |conn: Db| {
            change!(conn, self.sql, update_account, AccountRow,
                set [
                    a.refresh_token.as_deref(),
                    a.access_token.as_deref(),
                    a.expires_at,
                    a.token_type.as_deref(),
                    a.scope.as_deref(),
                    a.id_token.as_deref(),
                    a.session_state.as_deref(),
                ],
                key [a.provider.as_str(), a.provider_account_id.as_str()])
            .for_op(op)?
            .map(|row| row.into_model(op))
            .transpose()
        })
    }

    async fn find_accounts(&self, user_id: &str) -> AdapterResult<Vec<Account>> {
        let op = Operation::ListAccounts;
        let Some(user_id) = self.sql.ids.key(user_id) else {
            return Ok(Vec::new());
        };
        with_conn!(self, op, |conn: Db| {
            sqlx::query_as::<_, AccountRow>(self.sql.list_accounts.clone())
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
        let Some(user_id) = self.sql.ids.key(&session.user_id) else {
            return Err(no_such_user(op));
        };
        with_conn!(self, op, |conn: Db| {
            sqlx::query(self.sql.create_session.clone())
                .bind(session.session_token.as_str())
                .bind(user_id)
                .bind(stamp::<Db>(session.expires))
                .execute(&mut *conn)
                .await
                .for_op(op)?;
            Ok(())
        })
    }

    async fn find_session_and_user(
        &self,
        session_token: &str,
        now: DateTime<Utc>,
    ) -> AdapterResult<Option<(Session, User)>> {
        let op = Operation::GetSessionAndUser;
        with_conn!(self, op, |conn: Db| {
            sqlx::query_as::<_, SessionUserOf<Db>>(self.sql.get_session_and_user.clone())
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
        let user_id = match update.user_id.as_deref() {
            Some(id) => Some(self.sql.ids.key(id).ok_or_else(|| no_such_user(op))?),
            None => None,
        };
        with_conn!(self, op, |conn: Db| {
            change!(conn, self.sql, update_session, SessionOf<Db>,
                set [update.expires.map(stamp::<Db>), user_id],
                key [update.session_token.as_str(), stamp::<Db>(now)])
            .for_op(op)?
            .map(|row| row.into_model(op))
            .transpose()
        })
    }

    async fn remove_session(&self, session_token: &str) -> AdapterResult<Option<Session>> {
        let op = Operation::DeleteSession;
        with_conn!(self, op, |conn: Db| {
            take!(
                conn,
                self.sql,
                delete_session,
                SessionOf<Db>,
                [session_token]
            )
            .for_op(op)?
            .map(|row| row.into_model(op))
            .transpose()
        })
    }

    async fn find_sessions(
        &self,
        user_id: &str,
        now: DateTime<Utc>,
    ) -> AdapterResult<Vec<Session>> {
        let op = Operation::ListSessions;
        let Some(user_id) = self.sql.ids.key(user_id) else {
            return Ok(Vec::new());
        };
        with_conn!(self, op, |conn: Db| {
            sqlx::query_as::<_, SessionOf<Db>>(self.sql.list_sessions.clone())
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
        let Some(user_id) = self.sql.ids.key(user_id) else {
            return Ok(0);
        };
        with_conn!(self, op, |conn: Db| {
            Ok(sqlx::query(self.sql.delete_sessions.clone())
                .bind(user_id)
                .bind(stamp::<Db>(now))
                .execute(&mut *conn)
                .await
                .for_op(op)?
                .rows_affected())
        })
    }

    async fn insert_verification_token(&self, token: &VerificationToken) -> AdapterResult<()> {
        let op = Operation::CreateVerificationToken;
        with_conn!(self, op, |conn: Db| {
            sqlx::query(self.sql.create_verification_token.clone())
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
        // `DELETE … RETURNING`: of concurrent callers (Rust or Node) exactly one gets the row.
        with_conn!(self, op, |conn: Db| {
            take!(
                conn,
                self.sql,
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
        let Some(user_id) = self.sql.ids.key(&a.user_id) else {
            return Err(no_such_user(op));
        };
        with_conn!(self, op, |conn: Db| {
            sqlx::query(self.sql.create_authenticator.clone())
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
        })
    }

    async fn find_authenticator(
        &self,
        credential_id: &str,
    ) -> AdapterResult<Option<Authenticator>> {
        let op = Operation::GetAuthenticator;
        let row = with_conn!(self, op, |conn: Db| {
            sqlx::query_as::<_, AuthenticatorRow>(self.sql.get_authenticator.clone())
                .bind(credential_id)
                .fetch_optional(&mut *conn)
                .await
                .for_op(op)
        })?;
        Ok(row.map(AuthenticatorRow::into_model))
    }

    async fn find_authenticators(&self, user_id: &str) -> AdapterResult<Vec<Authenticator>> {
        let op = Operation::ListAuthenticators;
        let Some(user_id) = self.sql.ids.key(user_id) else {
            return Ok(Vec::new());
        };
        let rows = with_conn!(self, op, |conn: Db| {
            sqlx::query_as::<_, AuthenticatorRow>(self.sql.list_authenticators.clone())
                .bind(user_id)
                .fetch_all(&mut *conn)
                .await
                .for_op(op)
        })?;
        Ok(rows.into_iter().map(AuthenticatorRow::into_model).collect())
    }

    async fn set_authenticator_counter(
        &self,
        credential_id: &str,
        counter: i64,
    ) -> AdapterResult<Option<Authenticator>> {
        let op = Operation::UpdateAuthenticatorCounter;
        let row = with_conn!(self, op, |conn: Db| {
            change!(
                conn,
                self.sql,
                update_authenticator_counter,
                AuthenticatorRow,
                set[counter],
                key[credential_id]
            )
            .for_op(op)
        })?;
        Ok(row.map(AuthenticatorRow::into_model))
    }

    async fn remove_authenticator(
        &self,
        credential_id: &str,
    ) -> AdapterResult<Option<Authenticator>> {
        let op = Operation::DeleteAuthenticator;
        let row = with_conn!(self, op, |conn: Db| {
            take!(
                conn,
                self.sql,
                delete_authenticator,
                AuthenticatorRow,
                [credential_id]
            )
            .for_op(op)
        })?;
        Ok(row.map(AuthenticatorRow::into_model))
    }

    async fn remove_expired(&self, now: DateTime<Utc>) -> AdapterResult<ExpiredCounts> {
        let op = Operation::DeleteExpired;
        with_conn!(self, op, |conn: Db| {
            let sessions = sqlx::query(self.sql.delete_expired_sessions.clone())
                .bind(stamp::<Db>(now))
                .execute(&mut *conn)
                .await
                .for_op(op)?
                .rows_affected();
            let verification_tokens = sqlx::query(self.sql.delete_expired_tokens.clone())
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

/// The error of a write naming a user id no user of the layout can have.
fn no_such_user(op: Operation) -> AdapterError {
    AdapterError::not_found(op, "no user has this id")
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
