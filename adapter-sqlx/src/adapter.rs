//! [`SqlxAdapter`] and its [`Adapter`] implementation, written once for every database:
//! each method checks its input against the [`Dialect`], binds values to the statement
//! text rendered at connect time, and decodes the rows; [`with_pool!`] compiles the body
//! for each enabled database.

use std::sync::Arc;

use async_trait::async_trait;
use auth_core::{
    normalize_email, truncate_to_millis, validate, Account, Adapter, AdapterError, AdapterResult,
    Authenticator, ErrorCode, ExpiredCounts, Operation, Session, SessionUpdate, User, UserUpdate,
    VerificationToken,
};
use chrono::{DateTime, Utc};

use crate::dialect::{Col, Dialect, Statements};
use crate::error::ResultExt;
use crate::options::SqlxAdapterBuilder;
use crate::pool::{self, stamp, with_pool, Pools, Timestamps};
use crate::rows::{AccountRow, AuthenticatorRow, SessionRow, SessionUserRow, TokenRow, UserRow};
use crate::{error, migrate};

type UserOf<D> = UserRow<<D as Timestamps>::Stamp>;
type SessionOf<D> = SessionRow<<D as Timestamps>::Stamp>;
type SessionUserOf<D> = SessionUserRow<<D as Timestamps>::Stamp>;
type TokenOf<D> = TokenRow<<D as Timestamps>::Stamp>;

/// Runs a [`Take`](crate::dialect::Take) statement of `$sql`: removes the row with the key
/// binds and returns it (`DELETE … RETURNING`, or a locking read then the delete in one
/// write transaction).
macro_rules! take {
    ($pool:expr, $sql:expr, $stmt:ident, $row:ty, [$($key:expr),+ $(,)?]) => {
        async {
            match &$sql.$stmt {
                $crate::dialect::Take::Returning(text) => {
                    ::sqlx::query_as::<_, $row>(text.clone())
                        $(.bind($key))+
                        .fetch_optional($pool)
                        .await
                }
                $crate::dialect::Take::LockThenDelete { select, delete } => {
                    let mut tx = $pool.begin_with($sql.begin_write.clone()).await?;
                    let row = ::sqlx::query_as::<_, $row>(select.clone())
                        $(.bind($key))+
                        .fetch_optional(&mut *tx)
                        .await?;
                    if row.is_some() {
                        ::sqlx::query(delete.clone())
                            $(.bind($key))+
                            .execute(&mut *tx)
                            .await?;
                    }
                    tx.commit().await?;
                    Ok::<_, ::sqlx::Error>(row)
                }
            }
        }
        .await
    };
}

/// Runs a [`Change`](crate::dialect::Change) statement of `$sql`: binds the `set` values then
/// the `key` values and returns the changed row (`UPDATE … RETURNING`, or the update then a
/// read of the row in one write transaction).
macro_rules! change {
    (
        $pool:expr, $sql:expr, $stmt:ident, $row:ty,
        set [$($set:expr),+ $(,)?], key [$($key:expr),+ $(,)?]
    ) => {
        async {
            match &$sql.$stmt {
                $crate::dialect::Change::Returning(text) => {
                    ::sqlx::query_as::<_, $row>(text.clone())
                        $(.bind($set))+
                        $(.bind($key))+
                        .fetch_optional($pool)
                        .await
                }
                $crate::dialect::Change::UpdateThenSelect { update, select } => {
                    let mut tx = $pool.begin_with($sql.begin_write.clone()).await?;
                    ::sqlx::query(update.clone())
                        $(.bind($set))+
                        $(.bind($key))+
                        .execute(&mut *tx)
                        .await?;
                    let row = ::sqlx::query_as::<_, $row>(select.clone())
                        $(.bind($key))+
                        .fetch_optional(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    Ok::<_, ::sqlx::Error>(row)
                }
            }
        }
        .await
    };
}

/// The auth adapter on PostgreSQL, MySQL/MariaDB or SQLite, one type for all three: the
/// database is picked from the URL when it connects. Cheap to clone (clones share the pool).
///
/// ```no_run
/// use std::sync::Arc;
/// use adapter_sqlx::SqlxAdapter;
/// use auth_core::Adapter;
///
/// # async fn run() -> Result<(), auth_core::AdapterError> {
/// let adapter = SqlxAdapter::connect("sqlite://auth.db?mode=rwc").await?;
/// adapter.migrate().await?;
/// let db: Arc<dyn Adapter> = Arc::new(adapter);
/// assert_eq!(db.get_user("nobody").await?, None);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct SqlxAdapter {
    pools: Pools,
    sql: Arc<Statements>,
    dialect: Dialect,
    prefix: Arc<str>,
}

impl SqlxAdapter {
    /// Connects with the default options (see [`SqlxAdapterBuilder`]): `postgres://…`,
    /// `mysql://…` / `mariadb://…` or `sqlite:…` (e.g. `sqlite://auth.db?mode=rwc`,
    /// `sqlite::memory:`).
    ///
    /// Errors: ADAPTER_CONNECTION_ERROR when the database does not answer within the acquire
    /// timeout or the URL is not usable.
    pub async fn connect(url: &str) -> Result<Self, AdapterError> {
        Self::builder(url).connect().await
    }

    /// Options: pool size, acquire timeout, table prefix.
    pub fn builder(url: impl Into<String>) -> SqlxAdapterBuilder {
        SqlxAdapterBuilder::new(url)
    }

    #[tracing::instrument(name = "connect", skip_all, fields(prefix = %options.table_prefix))]
    pub(crate) async fn connect_with(options: SqlxAdapterBuilder) -> Result<Self, AdapterError> {
        crate::options::validate_table_prefix(&options.table_prefix)?;
        let (pools, dialect) = pool::open(&options).await?;
        tracing::debug!(dialect = dialect.name(), "connected");
        Ok(Self {
            pools,
            sql: Arc::new(Statements::new(dialect, &options.table_prefix)),
            dialect,
            prefix: options.table_prefix.into(),
        })
    }

    /// Creates the tables, keys and indexes, with sqlx's migrator and the migrations
    /// embedded in this crate (recorded in `<prefix>sqlx_migrations`). Idempotent: applied
    /// migrations are skipped and data is kept.
    ///
    /// Errors: MIGRATION_ERROR (or ADAPTER_CONNECTION_ERROR).
    #[tracing::instrument(skip_all, fields(dialect = self.dialect.name()))]
    pub async fn migrate(&self) -> Result<(), AdapterError> {
        let migrator = migrate::migrator(self.dialect, &self.prefix);
        with_pool!(&self.pools, |pool: Db| migrator
            .run(pool)
            .await
            .map_err(error::map_migrate))
    }

    /// The database this adapter talks to.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The prefix of every table name, e.g. `auth_` for `auth_users`.
    pub fn table_prefix(&self) -> &str {
        &self.prefix
    }

    /// Closes the pool: waits for connections in use to come back and closes them all.
    /// Calls afterwards fail with ADAPTER_CONNECTION_ERROR.
    pub async fn close(&self) {
        with_pool!(&self.pools, |pool: Db| pool.close().await)
    }
}

/// Now, at the millisecond every backend keeps.
fn now() -> DateTime<Utc> {
    truncate_to_millis(Utc::now())
}

#[async_trait]
impl Adapter for SqlxAdapter {
    #[tracing::instrument(skip_all, fields(user_id = %user.id))]
    async fn create_user(&self, user: User) -> AdapterResult<User> {
        let op = Operation::CreateUser;
        let d = self.dialect;
        validate::non_empty(op, "id", &user.id)?;
        let user = User {
            email_verified: user.email_verified.map(truncate_to_millis),
            ..user
        };
        let normalized = user.email.as_deref().map(normalize_email);
        d.check(op, "id", Col::Key, &user.id)?;
        d.check_opt(op, "email", Col::Text, user.email.as_deref())?;
        d.check_opt(op, "email", Col::Email, normalized.as_deref())?;
        d.check_opt(op, "name", Col::Text, user.name.as_deref())?;
        d.check_opt(op, "image", Col::Text, user.image.as_deref())?;
        with_pool!(&self.pools, |pool: Db| {
            sqlx::query(self.sql.create_user.clone())
                .bind(user.id.as_str())
                .bind(user.email.as_deref())
                .bind(normalized.as_deref())
                .bind(user.email_verified.map(stamp::<Db>))
                .bind(user.name.as_deref())
                .bind(user.image.as_deref())
                .execute(pool)
                .await
                .for_op(op)?;
        });
        Ok(user)
    }

    #[tracing::instrument(skip_all, fields(user_id = %id))]
    async fn get_user(&self, id: &str) -> AdapterResult<Option<User>> {
        let op = Operation::GetUser;
        if !self.dialect.can_hold(Col::Key, id) {
            return Ok(None);
        }
        with_pool!(&self.pools, |pool: Db| {
            sqlx::query_as::<_, UserOf<Db>>(self.sql.get_user.clone())
                .bind(id)
                .fetch_optional(pool)
                .await
                .for_op(op)?
                .map(|row| row.into_model(op))
                .transpose()
        })
    }

    #[tracing::instrument(skip_all)]
    async fn get_user_by_email(&self, email: &str) -> AdapterResult<Option<User>> {
        let op = Operation::GetUserByEmail;
        let normalized = normalize_email(email);
        if !self.dialect.can_hold(Col::Email, &normalized) {
            return Ok(None);
        }
        with_pool!(&self.pools, |pool: Db| {
            sqlx::query_as::<_, UserOf<Db>>(self.sql.get_user_by_email.clone())
                .bind(normalized.as_str())
                .fetch_optional(pool)
                .await
                .for_op(op)?
                .map(|row| row.into_model(op))
                .transpose()
        })
    }

    #[tracing::instrument(skip_all, fields(provider = %provider))]
    async fn get_user_by_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<User>> {
        let op = Operation::GetUserByAccount;
        if !self.can_hold_keys(&[provider, provider_account_id]) {
            return Ok(None);
        }
        with_pool!(&self.pools, |pool: Db| {
            sqlx::query_as::<_, UserOf<Db>>(self.sql.get_user_by_account.clone())
                .bind(provider)
                .bind(provider_account_id)
                .fetch_optional(pool)
                .await
                .for_op(op)?
                .map(|row| row.into_model(op))
                .transpose()
        })
    }

    #[tracing::instrument(skip_all, fields(user_id = %update.id))]
    async fn update_user(&self, update: UserUpdate) -> AdapterResult<User> {
        let op = Operation::UpdateUser;
        let d = self.dialect;
        let missing = || AdapterError::not_found(op, "no user with this id");
        if !d.can_hold(Col::Key, &update.id) {
            return Err(missing());
        }
        let email = update.email.as_ref().map(Option::as_deref);
        let normalized = update
            .email
            .as_ref()
            .map(|email| email.as_deref().map(normalize_email));
        let verified = update.email_verified.map(|at| at.map(truncate_to_millis));
        let name = update.name.as_ref().map(Option::as_deref);
        let image = update.image.as_ref().map(Option::as_deref);
        d.check_opt(op, "email", Col::Text, email.flatten())?;
        d.check_opt(
            op,
            "email",
            Col::Email,
            normalized.clone().flatten().as_deref(),
        )?;
        d.check_opt(op, "name", Col::Text, name.flatten())?;
        d.check_opt(op, "image", Col::Text, image.flatten())?;
        let normalized = normalized.as_ref().map(Option::as_deref);
        let row = with_pool!(&self.pools, |pool: Db| {
            change!(pool, self.sql, update_user, UserOf<Db>,
                set [
                    email.is_some(), email.flatten(),
                    normalized.is_some(), normalized.flatten(),
                    verified.is_some(), verified.flatten().map(stamp::<Db>),
                    name.is_some(), name.flatten(),
                    image.is_some(), image.flatten(),
                ],
                key [update.id.as_str()])
            .for_op(op)?
            .map(|row| row.into_model(op))
            .transpose()?
        });
        row.ok_or_else(missing)
    }

    #[tracing::instrument(skip_all, fields(user_id = %id))]
    async fn delete_user(&self, id: &str) -> AdapterResult<Option<User>> {
        let op = Operation::DeleteUser;
        if !self.dialect.can_hold(Col::Key, id) {
            return Ok(None);
        }
        // One statement (or one transaction on MySQL 8): the foreign keys cascade to the
        // user's accounts, sessions and authenticators, all or nothing.
        with_pool!(&self.pools, |pool: Db| {
            take!(pool, self.sql, delete_user, UserOf<Db>, [id])
                .for_op(op)?
                .map(|row| row.into_model(op))
                .transpose()
        })
    }

    #[tracing::instrument(skip_all, fields(user_id = %account.user_id, provider = %account.provider))]
    async fn link_account(&self, account: Account) -> AdapterResult<Account> {
        let op = Operation::LinkAccount;
        let d = self.dialect;
        validate::non_empty(op, "provider", &account.provider)?;
        validate::non_empty(op, "provider_account_id", &account.provider_account_id)?;
        d.check(op, "user_id", Col::Key, &account.user_id)?;
        d.check(op, "provider", Col::Key, &account.provider)?;
        d.check(
            op,
            "provider_account_id",
            Col::Key,
            &account.provider_account_id,
        )?;
        self.check_tokens(op, &account)?;
        with_pool!(&self.pools, |pool: Db| {
            sqlx::query(self.sql.link_account.clone())
                .bind(account.user_id.as_str())
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
                .execute(pool)
                .await
                .for_op(op)?;
        });
        Ok(account)
    }

    #[tracing::instrument(skip_all, fields(provider = %provider))]
    async fn unlink_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<Account>> {
        let op = Operation::UnlinkAccount;
        if !self.can_hold_keys(&[provider, provider_account_id]) {
            return Ok(None);
        }
        with_pool!(&self.pools, |pool: Db| {
            take!(
                pool,
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

    #[tracing::instrument(skip_all, fields(provider = %provider))]
    async fn get_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<Account>> {
        let op = Operation::GetAccount;
        if !self.can_hold_keys(&[provider, provider_account_id]) {
            return Ok(None);
        }
        with_pool!(&self.pools, |pool: Db| {
            sqlx::query_as::<_, AccountRow>(self.sql.get_account.clone())
                .bind(provider)
                .bind(provider_account_id)
                .fetch_optional(pool)
                .await
                .for_op(op)?
                .map(|row| row.into_model(op))
                .transpose()
        })
    }

    #[tracing::instrument(skip_all, fields(provider = %account.provider))]
    async fn update_account(&self, account: Account) -> AdapterResult<Option<Account>> {
        let op = Operation::UpdateAccount;
        if !self.can_hold_keys(&[&account.provider, &account.provider_account_id]) {
            return Ok(None);
        }
        self.check_tokens(op, &account)?;
        let a = &account;
        with_pool!(&self.pools, |pool: Db| {
            change!(pool, self.sql, update_account, AccountRow,
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

    #[tracing::instrument(skip_all, fields(user_id = %session.user_id))]
    async fn create_session(&self, session: Session) -> AdapterResult<Session> {
        let op = Operation::CreateSession;
        let d = self.dialect;
        validate::non_empty(op, "session_token", &session.session_token)?;
        d.check(op, "session_token", Col::Key, &session.session_token)?;
        d.check(op, "user_id", Col::Key, &session.user_id)?;
        let session = Session {
            expires: truncate_to_millis(session.expires),
            ..session
        };
        with_pool!(&self.pools, |pool: Db| {
            sqlx::query(self.sql.create_session.clone())
                .bind(session.session_token.as_str())
                .bind(session.user_id.as_str())
                .bind(stamp::<Db>(session.expires))
                .execute(pool)
                .await
                .for_op(op)?;
        });
        Ok(session)
    }

    #[tracing::instrument(skip_all)]
    async fn get_session_and_user(
        &self,
        session_token: &str,
    ) -> AdapterResult<Option<(Session, User)>> {
        let op = Operation::GetSessionAndUser;
        if !self.dialect.can_hold(Col::Key, session_token) {
            return Ok(None);
        }
        // One statement: the join with the user, filtered on `expires > now`.
        with_pool!(&self.pools, |pool: Db| {
            sqlx::query_as::<_, SessionUserOf<Db>>(self.sql.get_session_and_user.clone())
                .bind(session_token)
                .bind(stamp::<Db>(now()))
                .fetch_optional(pool)
                .await
                .for_op(op)?
                .map(|row| row.into_model(op))
                .transpose()
        })
    }

    #[tracing::instrument(skip_all, fields(new_user_id = update.user_id.as_deref()))]
    async fn update_session(&self, update: SessionUpdate) -> AdapterResult<Option<Session>> {
        let op = Operation::UpdateSession;
        if !self.dialect.can_hold(Col::Key, &update.session_token) {
            return Ok(None);
        }
        self.dialect
            .check_opt(op, "user_id", Col::Key, update.user_id.as_deref())?;
        let expires = update.expires.map(truncate_to_millis);
        let user_id = update.user_id.as_deref();
        with_pool!(&self.pools, |pool: Db| {
            change!(pool, self.sql, update_session, SessionOf<Db>,
                set [expires.map(stamp::<Db>), user_id],
                key [update.session_token.as_str()])
            .for_op(op)?
            .map(|row| row.into_model(op))
            .transpose()
        })
    }

    #[tracing::instrument(skip_all)]
    async fn delete_session(&self, session_token: &str) -> AdapterResult<Option<Session>> {
        let op = Operation::DeleteSession;
        if !self.dialect.can_hold(Col::Key, session_token) {
            return Ok(None);
        }
        with_pool!(&self.pools, |pool: Db| {
            take!(
                pool,
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

    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    async fn list_sessions(&self, user_id: &str) -> AdapterResult<Vec<Session>> {
        let op = Operation::ListSessions;
        if !self.dialect.can_hold(Col::Key, user_id) {
            return Ok(Vec::new());
        }
        with_pool!(&self.pools, |pool: Db| {
            sqlx::query_as::<_, SessionOf<Db>>(self.sql.list_sessions.clone())
                .bind(user_id)
                .bind(stamp::<Db>(now()))
                .fetch_all(pool)
                .await
                .for_op(op)?
                .into_iter()
                .map(|row| row.into_model(op))
                .collect()
        })
    }

    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    async fn delete_sessions(&self, user_id: &str) -> AdapterResult<u64> {
        let op = Operation::DeleteSessions;
        if !self.dialect.can_hold(Col::Key, user_id) {
            return Ok(0);
        }
        with_pool!(&self.pools, |pool: Db| {
            Ok(sqlx::query(self.sql.delete_sessions.clone())
                .bind(user_id)
                .execute(pool)
                .await
                .for_op(op)?
                .rows_affected())
        })
    }

    #[tracing::instrument(skip_all)]
    async fn create_verification_token(
        &self,
        token: VerificationToken,
    ) -> AdapterResult<VerificationToken> {
        let op = Operation::CreateVerificationToken;
        let d = self.dialect;
        validate::non_empty(op, "identifier", &token.identifier)?;
        validate::non_empty(op, "token", &token.token)?;
        d.check(op, "identifier", Col::Key, &token.identifier)?;
        d.check(op, "token", Col::Key, &token.token)?;
        let token = VerificationToken {
            expires: truncate_to_millis(token.expires),
            ..token
        };
        with_pool!(&self.pools, |pool: Db| {
            sqlx::query(self.sql.create_verification_token.clone())
                .bind(token.identifier.as_str())
                .bind(token.token.as_str())
                .bind(stamp::<Db>(token.expires))
                .execute(pool)
                .await
                .for_op(op)?;
        });
        Ok(token)
    }

    #[tracing::instrument(skip_all)]
    async fn use_verification_token(
        &self,
        identifier: &str,
        token: &str,
    ) -> AdapterResult<Option<VerificationToken>> {
        let op = Operation::UseVerificationToken;
        if !self.can_hold_keys(&[identifier, token]) {
            return Ok(None);
        }
        // Atomic take: of concurrent callers exactly one gets the row. An expired token is
        // removed too, and reads as absent.
        let taken = with_pool!(&self.pools, |pool: Db| {
            take!(
                pool,
                self.sql,
                use_verification_token,
                TokenOf<Db>,
                [identifier, token]
            )
            .for_op(op)?
            .map(|row| row.into_model(op))
            .transpose()?
        });
        Ok(taken.filter(|t| t.expires > Utc::now()))
    }

    #[tracing::instrument(skip_all, fields(user_id = %authenticator.user_id))]
    async fn create_authenticator(
        &self,
        authenticator: Authenticator,
    ) -> AdapterResult<Authenticator> {
        let op = Operation::CreateAuthenticator;
        let d = self.dialect;
        let a = &authenticator;
        validate::non_empty(op, "credential_id", &a.credential_id)?;
        d.check(op, "credential_id", Col::Credential, &a.credential_id)?;
        d.check(op, "user_id", Col::Key, &a.user_id)?;
        d.check(op, "provider_account_id", Col::Text, &a.provider_account_id)?;
        d.check(
            op,
            "credential_public_key",
            Col::Text,
            &a.credential_public_key,
        )?;
        d.check(
            op,
            "credential_device_type",
            Col::Text,
            &a.credential_device_type,
        )?;
        d.check_opt(op, "transports", Col::Text, a.transports.as_deref())?;
        with_pool!(&self.pools, |pool: Db| {
            sqlx::query(self.sql.create_authenticator.clone())
                .bind(a.credential_id.as_str())
                .bind(a.user_id.as_str())
                .bind(a.provider_account_id.as_str())
                .bind(a.credential_public_key.as_str())
                .bind(a.counter)
                .bind(a.credential_device_type.as_str())
                .bind(a.credential_backed_up)
                .bind(a.transports.as_deref())
                .execute(pool)
                .await
                .for_op(op)?;
        });
        Ok(authenticator)
    }

    #[tracing::instrument(skip_all)]
    async fn get_authenticator(&self, credential_id: &str) -> AdapterResult<Option<Authenticator>> {
        let op = Operation::GetAuthenticator;
        if !self.dialect.can_hold(Col::Credential, credential_id) {
            return Ok(None);
        }
        with_pool!(&self.pools, |pool: Db| {
            Ok(
                sqlx::query_as::<_, AuthenticatorRow>(self.sql.get_authenticator.clone())
                    .bind(credential_id)
                    .fetch_optional(pool)
                    .await
                    .for_op(op)?
                    .map(AuthenticatorRow::into_model),
            )
        })
    }

    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    async fn list_authenticators(&self, user_id: &str) -> AdapterResult<Vec<Authenticator>> {
        let op = Operation::ListAuthenticators;
        if !self.dialect.can_hold(Col::Key, user_id) {
            return Ok(Vec::new());
        }
        with_pool!(&self.pools, |pool: Db| {
            Ok(
                sqlx::query_as::<_, AuthenticatorRow>(self.sql.list_authenticators.clone())
                    .bind(user_id)
                    .fetch_all(pool)
                    .await
                    .for_op(op)?
                    .into_iter()
                    .map(AuthenticatorRow::into_model)
                    .collect(),
            )
        })
    }

    #[tracing::instrument(skip_all, fields(counter = counter))]
    async fn update_authenticator_counter(
        &self,
        credential_id: &str,
        counter: i64,
    ) -> AdapterResult<Authenticator> {
        let op = Operation::UpdateAuthenticatorCounter;
        let missing = || AdapterError::not_found(op, "no authenticator with this credential id");
        if !self.dialect.can_hold(Col::Credential, credential_id) {
            return Err(missing());
        }
        let row = with_pool!(&self.pools, |pool: Db| {
            change!(
                pool,
                self.sql,
                update_authenticator_counter,
                AuthenticatorRow,
                set[counter],
                key[credential_id]
            )
            .for_op(op)?
        });
        row.map(AuthenticatorRow::into_model).ok_or_else(missing)
    }

    #[tracing::instrument(skip_all)]
    async fn delete_expired(&self, now: DateTime<Utc>) -> AdapterResult<ExpiredCounts> {
        let op = Operation::DeleteExpired;
        let now = truncate_to_millis(now);
        with_pool!(&self.pools, |pool: Db| {
            let sessions = sqlx::query(self.sql.delete_expired_sessions.clone())
                .bind(stamp::<Db>(now))
                .execute(pool)
                .await
                .for_op(op)?
                .rows_affected();
            let verification_tokens = sqlx::query(self.sql.delete_expired_tokens.clone())
                .bind(stamp::<Db>(now))
                .execute(pool)
                .await
                .map_err(|e| {
                    error::with_code(error::map(op, e), ErrorCode::DeleteVerificationRequestError)
                })?
                .rows_affected();
            Ok(ExpiredCounts {
                sessions,
                verification_tokens,
            })
        })
    }
}

impl SqlxAdapter {
    /// Whether every key can be stored, and so found (see [`Dialect`]).
    fn can_hold_keys(&self, keys: &[&str]) -> bool {
        keys.iter().all(|key| self.dialect.can_hold(Col::Key, key))
    }

    /// The token fields of an account fit their columns.
    fn check_tokens(&self, op: Operation, account: &Account) -> AdapterResult<()> {
        let d = self.dialect;
        for (field, value) in [
            ("refresh_token", &account.refresh_token),
            ("access_token", &account.access_token),
            ("token_type", &account.token_type),
            ("scope", &account.scope),
            ("id_token", &account.id_token),
            ("session_state", &account.session_state),
        ] {
            d.check_opt(op, field, Col::Text, value.as_deref())?;
        }
        Ok(())
    }
}
