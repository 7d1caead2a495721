//! The upgrade backends (`postgres-upgraded`, `mariadb-upgraded`, `sqlite-upgraded`): each
//! fixture is a database made by the previous release, then upgraded in place, and the whole
//! suite runs on it.
//!
//! [`open_upgraded`] builds the schema of migration 1 only (`auth_sql::schema::migrate_to(…,
//! 1)` through [`SqlxMigration`]), writes rows in every table with the previous release's
//! columns ([`seed`]: a user with every field, one without an email, an account, a session,
//! a verification token, an authenticator), then runs the adapter's own `migrate()`. Before
//! the fixture is handed to a scenario, [`check_seed`] reads every seeded row back through
//! the adapter (equal, extra fields empty) and checks the history is at the latest version;
//! a difference fails the fixture, so every scenario of these backends checks the upgrade
//! again, with the seeded rows still in the tables beside the scenario's own.

use auth_core::chrono::{DateTime, Duration, DurationRound, Utc};
use auth_core::{
    Account, AccountType, Adapter, AdapterError, Authenticator, Operation, Session, User,
    VerificationToken,
};
use sqlx::AssertSqlSafe;

use adapter_conformance::harness::{BackendSpec, Source};
use adapter_conformance::BoxError;

use super::{
    Server, ServerBackend, SqliteBackend, FIXTURE_CONNECTIONS, FIXTURE_TIMEOUT, MARIADB_CONTAINER,
    MARIADB_ENV, POSTGRES_CONTAINER, POSTGRES_ENV,
};
use crate::migrate::SqlxMigration;
use crate::pool::{stamp, with_pool};
use crate::{Layout, SqlxAdapter};

/// The rows [`seed`] writes, as the adapter must read them back.
#[derive(Debug, Clone, PartialEq)]
pub struct Seed {
    /// A user with every field set.
    pub full_user: User,
    /// A user with no email (and nothing else but its id).
    pub bare_user: User,
    /// An OAuth account of `full_user` with every token field set.
    pub account: Account,
    /// A live session of `full_user`.
    pub session: Session,
    /// A verification token that has not expired.
    pub verification_token: VerificationToken,
    /// An authenticator of `full_user`.
    pub authenticator: Authenticator,
}

impl Seed {
    /// The seeded records, with instants a whole number of milliseconds from now (what
    /// every database keeps exactly) and names no scenario uses.
    pub fn new() -> Self {
        let later = |days| {
            (Utc::now() + Duration::days(days))
                .duration_trunc(Duration::milliseconds(1))
                .unwrap_or(DateTime::UNIX_EPOCH)
        };
        let full_user = User {
            email: Some("upgrade-seed@example.org".into()),
            email_verified: Some(later(-3)),
            name: Some("Ada (before the upgrade)".into()),
            image: Some("https://example.org/upgrade-seed.png".into()),
            ..User::with_id("upgrade-seed-user-1")
        };
        let bare_user = User::with_id("upgrade-seed-user-2");
        let account = Account {
            refresh_token: Some("upgrade-seed-refresh".into()),
            access_token: Some("upgrade-seed-access".into()),
            expires_at: Some(1_900_000_000),
            token_type: Some("bearer".into()),
            scope: Some("openid email".into()),
            id_token: Some("upgrade-seed-id-token".into()),
            session_state: Some("upgrade-seed-state".into()),
            ..Account::new(
                &full_user.id,
                AccountType::OAuth,
                "upgrade-seed-provider",
                "upgrade-seed-account",
            )
        };
        let session = Session {
            session_token: "upgrade-seed-session".into(),
            user_id: full_user.id.clone(),
            expires: later(30),
            extra: Default::default(),
        };
        let verification_token = VerificationToken {
            identifier: "upgrade-seed@example.org".into(),
            token: "upgrade-seed-token".into(),
            expires: later(1),
        };
        let authenticator = Authenticator {
            credential_id: "upgrade-seed-credential".into(),
            user_id: full_user.id.clone(),
            provider_account_id: "upgrade-seed-account".into(),
            credential_public_key: "upgrade-seed-key".into(),
            counter: 7,
            credential_device_type: "multiDevice".into(),
            credential_backed_up: true,
            transports: Some("usb,nfc".into()),
        };
        Seed {
            full_user,
            bare_user,
            account,
            session,
            verification_token,
            authenticator,
        }
    }
}

impl Default for Seed {
    fn default() -> Self {
        Self::new()
    }
}

/// Builds migration 1's schema only on the adapter's (native, not yet migrated) database and
/// writes `seed` with the columns that release had (no `extra`), in one connection.
pub async fn seed(adapter: &SqlxAdapter, seed: &Seed) -> Result<(), AdapterError> {
    let op = Operation::Migrate;
    let (dialect, prefix) = (adapter.dialect, adapter.prefix.clone());
    let sql = |template: &str| AssertSqlSafe(dialect.render(&prefix, template));
    with_pool!(&adapter.pools, |source: Db| {
        let mut lease = source.lease(op).await?;
        let result = async {
            let conn = lease.conn();
            auth_sql::schema::migrate_to(&mut SqlxMigration(&mut *conn), dialect, &prefix, 1)
                .await
                .map_err(crate::error::map_migrate)?;
            let written = async {
                for user in [&seed.full_user, &seed.bare_user] {
                    sqlx::query(sql("INSERT INTO {p}users \
                         (id, email, email_normalized, email_verified, name, image) \
                         VALUES (?, ?, ?, ?, ?, ?)"))
                    .bind(user.id.as_str())
                    .bind(user.email.as_deref())
                    .bind(user.email.as_deref().map(auth_core::normalize_email))
                    .bind(user.email_verified.map(stamp::<Db>))
                    .bind(user.name.as_deref())
                    .bind(user.image.as_deref())
                    .execute(&mut *conn)
                    .await?;
                }
                let a = &seed.account;
                sqlx::query(sql(
                    "INSERT INTO {p}accounts (user_id, account_type, provider, \
                     provider_account_id, refresh_token, access_token, expires_at, token_type, \
                     scope, id_token, session_state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                ))
                .bind(a.user_id.as_str())
                .bind(a.account_type.as_str())
                .bind(a.provider.as_str())
                .bind(a.provider_account_id.as_str())
                .bind(a.refresh_token.as_deref())
                .bind(a.access_token.as_deref())
                .bind(a.expires_at)
                .bind(a.token_type.as_deref())
                .bind(a.scope.as_deref())
                .bind(a.id_token.as_deref())
                .bind(a.session_state.as_deref())
                .execute(&mut *conn)
                .await?;
                let s = &seed.session;
                sqlx::query(sql(
                    "INSERT INTO {p}sessions (session_token, user_id, expires) VALUES (?, ?, ?)",
                ))
                .bind(s.session_token.as_str())
                .bind(s.user_id.as_str())
                .bind(stamp::<Db>(s.expires))
                .execute(&mut *conn)
                .await?;
                let t = &seed.verification_token;
                sqlx::query(sql(
                    "INSERT INTO {p}verification_tokens (identifier, token, expires) \
                     VALUES (?, ?, ?)",
                ))
                .bind(t.identifier.as_str())
                .bind(t.token.as_str())
                .bind(stamp::<Db>(t.expires))
                .execute(&mut *conn)
                .await?;
                let au = &seed.authenticator;
                sqlx::query(sql(
                    "INSERT INTO {p}authenticators (credential_id, user_id, provider_account_id, \
                     credential_public_key, counter, credential_device_type, \
                     credential_backed_up, transports) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                ))
                .bind(au.credential_id.as_str())
                .bind(au.user_id.as_str())
                .bind(au.provider_account_id.as_str())
                .bind(au.credential_public_key.as_str())
                .bind(au.counter)
                .bind(au.credential_device_type.as_str())
                .bind(au.credential_backed_up)
                .bind(au.transports.as_deref())
                .execute(&mut *conn)
                .await?;
                Ok::<_, sqlx::Error>(())
            }
            .await;
            written.map_err(|e| crate::error::map(op, e))
        }
        .await;
        lease.settle(&result);
        result
    })
}

/// Reads every row of `seed` back through the (upgraded) adapter: each equal to what was
/// written, with no extra fields, and the history at the latest version. The verification
/// token is taken to be read and then written again, so the tables keep every seeded row.
pub async fn check_seed(adapter: &SqlxAdapter, seed: &Seed) -> Result<(), BoxError> {
    fn same<T: PartialEq + std::fmt::Debug>(what: &str, got: T, want: T) -> Result<(), BoxError> {
        if got == want {
            Ok(())
        } else {
            Err(format!("after the upgrade, {what} reads {got:?}, not {want:?}").into())
        }
    }
    let status = adapter.schema_status().await?;
    let latest = auth_sql::schema::latest_version();
    same(
        "the history",
        (status.applied.last().copied(), status.pending.is_empty()),
        (Some(latest), true),
    )?;
    for user in [&seed.full_user, &seed.bare_user] {
        same(
            "a seeded user",
            adapter.get_user(&user.id).await?.as_ref(),
            Some(user),
        )?;
    }
    let by_email = adapter
        .get_user_by_email("UPGRADE-SEED@example.org")
        .await?;
    same(
        "the user by email",
        by_email.as_ref(),
        Some(&seed.full_user),
    )?;
    let a = &seed.account;
    let account = adapter
        .get_account(&a.provider, &a.provider_account_id)
        .await?;
    same("the seeded account", account.as_ref(), Some(a))?;
    let session = adapter
        .get_session_and_user(&seed.session.session_token)
        .await?;
    same(
        "the seeded session",
        session.as_ref(),
        Some(&(seed.session.clone(), seed.full_user.clone())),
    )?;
    let au = &seed.authenticator;
    let authenticator = adapter.get_authenticator(&au.credential_id).await?;
    same("the seeded authenticator", authenticator.as_ref(), Some(au))?;
    let t = &seed.verification_token;
    let token = adapter
        .use_verification_token(&t.identifier, &t.token)
        .await?;
    same("the seeded verification token", token.as_ref(), Some(t))?;
    adapter.create_verification_token(t.clone()).await?;
    Ok(())
}

/// The fixture adapter of the upgrade backends: connected to the fresh database `url`,
/// seeded on migration 1's schema ([`seed`]), upgraded by its own `migrate()`, and checked
/// ([`check_seed`]).
pub async fn open_upgraded(url: String) -> Result<SqlxAdapter, BoxError> {
    let adapter = SqlxAdapter::builder(url.as_str())
        .layout(Layout::Native)
        .max_connections(FIXTURE_CONNECTIONS)
        .call_timeout(FIXTURE_TIMEOUT)
        .connect()
        .await?;
    let rows = Seed::new();
    seed(&adapter, &rows).await?;
    adapter.migrate().await?;
    check_seed(&adapter, &rows).await?;
    Ok(adapter)
}

/// [`open_upgraded`] as a fixture's opener.
fn opener(url: String) -> super::OpenFuture<SqlxAdapter> {
    Box::pin(open_upgraded(url))
}

/// PostgreSQL, each fixture a database made by migration 1 with rows, then upgraded.
pub fn postgres_upgraded_spec() -> BackendSpec {
    BackendSpec {
        name: "postgres-upgraded",
        source: Source::Server {
            env_var: POSTGRES_ENV,
            example_url: "postgres://postgres@127.0.0.1:5432/postgres",
            container: Some(POSTGRES_CONTAINER),
        },
        open: |url| Box::pin(ServerBackend::open_with(Server::Postgres, url, opener)),
    }
}

/// MariaDB (or MySQL 8), each fixture a database made by migration 1 with rows, then
/// upgraded.
pub fn mariadb_upgraded_spec() -> BackendSpec {
    BackendSpec {
        name: "mariadb-upgraded",
        source: Source::Server {
            env_var: MARIADB_ENV,
            example_url: "mysql://root@127.0.0.1:3306/test",
            container: Some(MARIADB_CONTAINER),
        },
        open: |url| Box::pin(ServerBackend::open_with(Server::MariaDb, url, opener)),
    }
}

/// SQLite, each fixture a fresh file made by migration 1 with rows, then upgraded.
pub fn sqlite_upgraded_spec() -> BackendSpec {
    BackendSpec {
        name: "sqlite-upgraded",
        source: Source::Embedded,
        open: |_| Box::pin(async { Ok(SqliteBackend::open_with(false, opener)) }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_instants_are_whole_milliseconds_and_live() {
        let seed = Seed::new();
        for at in [seed.session.expires, seed.verification_token.expires] {
            assert!(at > Utc::now());
            assert_eq!(at.timestamp_subsec_micros() % 1000, 0);
        }
        assert!(seed.bare_user.email.is_none());
        assert!(seed.full_user.extra.is_empty());
    }

    #[test]
    fn upgrade_specs_are_named_as_documented() {
        let names: Vec<_> = [
            postgres_upgraded_spec(),
            mariadb_upgraded_spec(),
            sqlite_upgraded_spec(),
        ]
        .iter()
        .map(|s| s.name)
        .collect();
        assert_eq!(
            names,
            ["postgres-upgraded", "mariadb-upgraded", "sqlite-upgraded"]
        );
    }
}
