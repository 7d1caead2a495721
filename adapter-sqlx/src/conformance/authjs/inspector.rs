//! One inspector for both Auth.js layouts (the @auth/pg-adapter and the Drizzle default
//! schema): the same camelCase columns under other table names, read with plain SQL,
//! timestamps converted to epoch milliseconds by the database, and the extra fields from
//! the columns the fixture added ([`extra_columns`](super::extra_columns)).

use crate::sqlx::{self, MySqlPool, PgPool};
use crate::{Layout, SqlxAdapter};
use async_trait::async_trait;
use auth_core::extra::Model;
use auth_core::{Account, AdapterError, Authenticator, Extra, Session, User, VerificationToken};

use super::super::decode::{
    account_from, authenticator_from, session_from, user_from, user_records_from,
    verification_token_from, AccountTuple, AuthenticatorTuple, SessionTuple, UserTuple,
    VerificationTokenTuple,
};
use super::super::{
    dead_server_url, missing_sqlite_url, numbered_placeholders, on_raw, unreachable_from, RawPool,
    Server, UNREACHABLE_TIMEOUT,
};
use super::extra_columns::{columns_of, extra_from_row, select_list};
use super::schema::drop_schema;
use adapter_conformance::scenarios::ExtraKind;
use adapter_conformance::{BoxError, Inspector, Unreachable, UserRecords};

/// How an Auth.js layout names its tables, types its user ids and is dumped.
#[derive(Debug)]
pub(super) struct AuthJsTables {
    /// The layout, for scenario 28's adapter.
    pub layout: Layout,
    pub user: &'static str,
    pub account: &'static str,
    pub session: &'static str,
    pub verification_token: &'static str,
    pub authenticator: &'static str,
    /// The user ids are a `SERIAL` the database assigns (@auth/pg-adapter), read and
    /// compared as their decimal text; else the text the adapter was given (Drizzle).
    pub serial_ids: bool,
    /// The text columns of each table for `dump`; `None`: every column of every row, as
    /// text (PostgreSQL's `to_jsonb`).
    pub text_columns: Option<[(&'static str, &'static str); 5]>,
}

/// The @auth/pg-adapter tables.
pub(super) const PG_ADAPTER_TABLES: AuthJsTables = AuthJsTables {
    layout: Layout::AuthJsPg,
    user: "users",
    account: "accounts",
    session: "sessions",
    verification_token: "verification_token",
    authenticator: "authenticators",
    serial_ids: true,
    text_columns: None,
};

/// The tables of the @auth/drizzle-adapter default schema.
pub(super) const DRIZZLE_TABLES: AuthJsTables = AuthJsTables {
    layout: Layout::AuthJsDrizzle,
    user: "user",
    account: "account",
    session: "session",
    verification_token: "verificationToken",
    authenticator: "authenticator",
    serial_ids: false,
    text_columns: Some([
        ("user", r#""id", "email", "name", "image""#),
        (
            "account",
            r#""userId", "type", "provider", "providerAccountId", "refresh_token",
               "access_token", "token_type", "scope", "id_token", "session_state""#,
        ),
        ("session", r#""sessionToken", "userId""#),
        ("verificationToken", r#""identifier", "token""#),
        (
            "authenticator",
            r#""credentialID", "userId", "providerAccountId", "credentialPublicKey",
               "credentialDeviceType", "transports""#,
        ),
    ]),
};

/// Where a fixture's data lives, removed at teardown.
#[derive(Debug)]
pub(super) enum Place {
    Schema { admin: PgPool, name: String },
    Database { admin: MySqlPool, name: String },
    Directory(std::path::PathBuf),
}

impl Place {
    pub(super) async fn remove(&self) -> Result<(), BoxError> {
        match self {
            Place::Schema { admin, name } => drop_schema(admin, name).await,
            Place::Database { admin, name } => {
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name}"
                )))
                .execute(admin)
                .await?;
                Ok(())
            }
            Place::Directory(dir) => Ok(std::fs::remove_dir_all(dir)?),
        }
    }
}

/// Reads the Auth.js tables of one fixture with plain SQL.
#[derive(Debug)]
pub(super) struct AuthJsInspector {
    pub adapter: SqlxAdapter,
    pub raw: RawPool,
    pub place: Place,
    pub tables: &'static AuthJsTables,
}

const ACCOUNT: &str = r#"{id:"userId"}, "type", "provider", "providerAccountId",
    "refresh_token", "access_token", {int:"expires_at"}, "token_type", "scope",
    "id_token", "session_state", {extra}"#;
const AUTHENTICATOR: &str = r#""credentialID", {id:"userId"}, "providerAccountId",
    "credentialPublicKey", {int:"counter"}, "credentialDeviceType",
    "credentialBackedUp", "transports""#;

/// Whether `id` can name a row of a `SERIAL` column (else the inspector finds nothing,
/// as the adapter does).
fn serial(id: &str) -> Option<i32> {
    id.parse::<i32>().ok().filter(|n| n.to_string() == id)
}

impl AuthJsInspector {
    /// `template` for this fixture's database: `{ms:<column>}` becomes the column as epoch
    /// milliseconds, `{int:<column>}` as a 64-bit integer (computed by the database) and
    /// `{id:<column>}` a user id as text; `?` become `$n` on PostgreSQL and `"` backticks
    /// on MariaDB.
    fn sql(&self, template: &str) -> sqlx::AssertSqlSafe<String> {
        let pg = matches!(self.raw, RawPool::Postgres(_));
        let mysql = matches!(self.raw, RawPool::MySql(_));
        let mut text = template.to_owned();
        for token in ["{ms:", "{int:", "{id:"] {
            while let Some(start) = text.find(token) {
                let Some(len) = text[start..].find('}') else {
                    break;
                };
                let column = text[start + token.len()..start + len].to_owned();
                let expression = match (token, pg, mysql) {
                    ("{ms:", true, _) => {
                        format!("CAST(EXTRACT(EPOCH FROM {column}) * 1000 AS BIGINT)")
                    }
                    ("{ms:", _, true) => format!("CAST(UNIX_TIMESTAMP({column}) * 1000 AS SIGNED)"),
                    ("{int:", true, _) => format!("CAST({column} AS BIGINT)"),
                    ("{int:", _, true) => format!("CAST({column} AS SIGNED)"),
                    ("{id:", _, _) if self.tables.serial_ids => format!("CAST({column} AS TEXT)"),
                    _ => column,
                };
                text.replace_range(start..start + len + 1, &expression);
            }
        }
        // The tuples' extra object: none here; the added columns are read afterwards.
        let extra = if pg { "CAST(NULL AS TEXT)" } else { "NULL" };
        text = text.replace("{extra}", extra);
        if mysql {
            text = text.replace('"', "`");
        }
        if pg {
            text = numbered_placeholders(&text);
        }
        sqlx::AssertSqlSafe(text)
    }

    /// Every value `dump` reports: the text columns, or every column of every row.
    async fn stored_texts(&self) -> Result<Vec<String>, BoxError> {
        let t = self.tables;
        let mut out = Vec::new();
        let Some(text_columns) = t.text_columns else {
            for table in [
                t.user,
                t.account,
                t.session,
                t.verification_token,
                t.authenticator,
            ] {
                let sql = format!(
                    "SELECT v FROM {table} t, LATERAL jsonb_each_text(to_jsonb(t)) AS e(k, v) \
                     WHERE v IS NOT NULL"
                );
                out.extend(self.raw.column_values(sqlx::AssertSqlSafe(sql)).await?);
            }
            return Ok(out);
        };
        let mut columns: Vec<(&str, String)> = Vec::new();
        for (table, list) in text_columns {
            columns.extend(list.split(',').map(|c| (table, c.trim().to_owned())));
        }
        for (table, model) in [
            (t.user, Model::User),
            (t.account, Model::Account),
            (t.session, Model::Session),
        ] {
            for (name, kind) in columns_of(model) {
                if kind == ExtraKind::String {
                    columns.push((table, format!("\"{name}\"")));
                }
            }
        }
        for (table, column) in columns {
            let sql = self.sql(&format!(
                r#"SELECT {column} FROM "{table}" WHERE {column} IS NOT NULL"#
            ));
            out.extend(self.raw.column_values(sql).await?);
        }
        Ok(out)
    }

    /// The extra fields in the added columns of `model`'s table on the row `key` (a
    /// condition with `?`, bound to `binds`) finds; none when no row matches.
    async fn stored_extra(
        &self,
        model: Model,
        key: &str,
        binds: &[&str],
    ) -> Result<Extra, BoxError> {
        let table = match model {
            Model::User => self.tables.user,
            Model::Account => self.tables.account,
            Model::Session => self.tables.session,
        };
        let columns = select_list(&self.raw, model);
        let sql = self.sql(&format!(r#"SELECT {columns} FROM "{table}" WHERE {key}"#));
        on_raw!(&self.raw, |pool| {
            let mut query = sqlx::query(sql);
            for bind in binds {
                query = query.bind(*bind);
            }
            match query.fetch_optional(pool).await? {
                Some(row) => extra_from_row(&row, model),
                None => Ok(Extra::new()),
            }
        })
    }
}

impl AuthJsInspector {
    async fn stored_account_extra(&self, account: &Account) -> Result<Extra, BoxError> {
        self.stored_extra(
            Model::Account,
            r#""provider" = ? AND "providerAccountId" = ?"#,
            &[&account.provider, &account.provider_account_id],
        )
        .await
    }

    async fn stored_session_extra(&self, session: &Session) -> Result<Extra, BoxError> {
        self.stored_extra(
            Model::Session,
            r#""sessionToken" = ?"#,
            &[&session.session_token],
        )
        .await
    }
}

/// Scenario 28's adapter on `layout`, pointed at `url`, where nothing answers.
async fn unreachable_on(layout: Layout, url: String) -> Unreachable {
    unreachable_from(
        SqlxAdapter::builder(url)
            .layout(layout)
            .call_timeout(UNREACHABLE_TIMEOUT)
            .connect()
            .await,
    )
}

#[async_trait]
impl Inspector for AuthJsInspector {
    async fn stored_user(&self, id: &str) -> Result<Option<User>, BoxError> {
        if self.tables.serial_ids && serial(id).is_none() {
            return Ok(None);
        }
        let sql = self.sql(&format!(
            r#"SELECT {{id:"id"}}, "email", {{ms:"emailVerified"}}, "name", "image", {{extra}}
               FROM "{}" WHERE {{id:"id"}} = ?"#,
            self.tables.user
        ));
        let row: Option<UserTuple<String>> = on_raw!(&self.raw, |pool| sqlx::query_as(sql)
            .bind(id)
            .fetch_optional(pool)
            .await?);
        let Some(mut user) = row.map(user_from).transpose()? else {
            return Ok(None);
        };
        user.extra = self
            .stored_extra(Model::User, r#"{id:"id"} = ?"#, &[id])
            .await?;
        Ok(Some(user))
    }

    async fn stored_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> Result<Option<Account>, BoxError> {
        let sql = self.sql(&format!(
            r#"SELECT {ACCOUNT} FROM "{}" WHERE "provider" = ? AND "providerAccountId" = ?"#,
            self.tables.account
        ));
        let row: Option<AccountTuple<String>> = on_raw!(&self.raw, |pool| sqlx::query_as(sql)
            .bind(provider)
            .bind(provider_account_id)
            .fetch_optional(pool)
            .await?);
        let Some(mut account) = row.map(account_from).transpose()? else {
            return Ok(None);
        };
        account.extra = self.stored_account_extra(&account).await?;
        Ok(Some(account))
    }

    async fn stored_session(&self, session_token: &str) -> Result<Option<Session>, BoxError> {
        let sql = self.sql(&format!(
            r#"SELECT "sessionToken", {{id:"userId"}}, {{ms:"expires"}}, {{extra}} FROM "{}"
               WHERE "sessionToken" = ?"#,
            self.tables.session
        ));
        let row: Option<SessionTuple<String>> = on_raw!(&self.raw, |pool| sqlx::query_as(sql)
            .bind(session_token)
            .fetch_optional(pool)
            .await?);
        let Some(mut session) = row.map(session_from).transpose()? else {
            return Ok(None);
        };
        session.extra = self.stored_session_extra(&session).await?;
        Ok(Some(session))
    }

    async fn stored_verification_token(
        &self,
        identifier: &str,
        token: &str,
    ) -> Result<Option<VerificationToken>, BoxError> {
        let sql = self.sql(&format!(
            r#"SELECT "identifier", "token", {{ms:"expires"}} FROM "{}"
               WHERE "identifier" = ? AND "token" = ?"#,
            self.tables.verification_token
        ));
        let row: Option<VerificationTokenTuple> = on_raw!(&self.raw, |pool| sqlx::query_as(sql)
            .bind(identifier)
            .bind(token)
            .fetch_optional(pool)
            .await?);
        row.map(verification_token_from).transpose()
    }

    async fn stored_authenticator(
        &self,
        credential_id: &str,
    ) -> Result<Option<Authenticator>, BoxError> {
        let sql = self.sql(&format!(
            r#"SELECT {AUTHENTICATOR} FROM "{}" WHERE "credentialID" = ?"#,
            self.tables.authenticator
        ));
        let row: Option<AuthenticatorTuple<String>> =
            on_raw!(&self.raw, |pool| sqlx::query_as(sql)
                .bind(credential_id)
                .fetch_optional(pool)
                .await?);
        Ok(row.map(authenticator_from))
    }

    async fn records_of_user(&self, user_id: &str) -> Result<UserRecords, BoxError> {
        // Compared as text on SERIAL ids, so no id (not even a malformed one) is left
        // unchecked.
        let t = self.tables;
        let sql = self.sql(&format!(
            r#"SELECT {ACCOUNT} FROM "{}" WHERE {{id:"userId"}} = ?"#,
            t.account
        ));
        let accounts: Vec<AccountTuple<String>> = on_raw!(&self.raw, |pool| sqlx::query_as(sql)
            .bind(user_id)
            .fetch_all(pool)
            .await?);
        let sql = self.sql(&format!(
            r#"SELECT "sessionToken", {{id:"userId"}}, {{ms:"expires"}}, {{extra}} FROM "{}"
               WHERE {{id:"userId"}} = ?"#,
            t.session
        ));
        let sessions: Vec<SessionTuple<String>> = on_raw!(&self.raw, |pool| sqlx::query_as(sql)
            .bind(user_id)
            .fetch_all(pool)
            .await?);
        let sql = self.sql(&format!(
            r#"SELECT {AUTHENTICATOR} FROM "{}" WHERE {{id:"userId"}} = ?"#,
            t.authenticator
        ));
        let authenticators: Vec<AuthenticatorTuple<String>> =
            on_raw!(&self.raw, |pool| sqlx::query_as(sql)
                .bind(user_id)
                .fetch_all(pool)
                .await?);
        let mut records = user_records_from(accounts, sessions, authenticators)?;
        for account in &mut records.accounts {
            account.extra = self.stored_account_extra(account).await?;
        }
        for session in &mut records.sessions {
            session.extra = self.stored_session_extra(session).await?;
        }
        Ok(records)
    }

    async fn dump(&self) -> Result<Vec<String>, BoxError> {
        self.stored_texts().await
    }

    async fn migrate(&self) -> Result<(), AdapterError> {
        self.adapter.migrate().await
    }

    async fn unreachable(&self) -> Unreachable {
        let url = match self.raw {
            RawPool::Postgres(_) => dead_server_url(Server::Postgres),
            RawPool::MySql(_) => dead_server_url(Server::MariaDb),
            RawPool::Sqlite(_) => missing_sqlite_url(),
        };
        unreachable_on(self.tables.layout, url).await
    }

    async fn teardown(&self) -> Result<(), BoxError> {
        self.adapter.close().await;
        self.raw.close().await;
        self.place.remove().await
    }
}
