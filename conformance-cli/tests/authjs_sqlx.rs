//! The Auth.js layouts against the real Auth.js adapters (Node, `compat/authjs`), on the
//! same database: records written by one side are read, used and deleted by the other.
//!
//! Layouts: @auth/pg-adapter and @auth/drizzle-adapter on PostgreSQL (a schema per test),
//! @auth/drizzle-adapter on SQLite (a file per test). Needs the Node packages (`npm ci` in
//! `compat/authjs`) and, for PostgreSQL, `AUTH_TEST_POSTGRES_URL`.
//! Without them each test prints a `SKIPPED` line saying why and passes, unless
//! `AUTH_CONFORMANCE_REQUIRE` is set (to anything): then it fails.

use adapter_sqlx::sqlx::{self, MySqlPool, PgPool, Pool, SqlitePool};
use adapter_sqlx::SqlxAdapter;
use auth_core::chrono::{Duration, Utc};
use auth_core::{Account, AccountType, Adapter, Session, User, VerificationToken};
use conformance_cli::authjs::{server_or_skip, skip_or_fail, AuthJs};
use conformance_cli::backends::authjs_sqlx::{
    fresh_schema_name, fresh_sqlite_file, open_drizzle, open_pg_authjs, search_path_url,
};
use conformance_cli::backends::sqlx::database_url;
use futures::future::BoxFuture;
use serde_json::json;

/// Tables of a layout and the column naming the user in each.
type Tables = &'static [(&'static str, &'static str)];

const PG_TABLES: Tables = &[
    ("users", "id"),
    ("accounts", "userId"),
    ("sessions", "userId"),
    ("authenticators", "userId"),
];
const DRIZZLE_TABLES: Tables = &[
    ("user", "id"),
    ("account", "userId"),
    ("session", "userId"),
    ("authenticator", "userId"),
];

/// Rows naming `user_id` in `tables`, each table counted by the query `count_sql(table,
/// column)` in the database's own quoting, with `user_id` as its one parameter.
async fn count_rows<DB>(
    raw: &Pool<DB>,
    tables: Tables,
    user_id: &str,
    count_sql: impl Fn(&str, &str) -> String,
) -> i64
where
    DB: sqlx::Database,
    for<'c> &'c Pool<DB>: sqlx::Executor<'c, Database = DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
    (i64,): for<'r> sqlx::FromRow<'r, DB::Row>,
{
    let mut total = 0;
    for (table, column) in tables {
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(count_sql(table, column)))
            .bind(user_id.to_owned())
            .fetch_one(raw)
            .await
            .expect("count rows");
        total += n;
    }
    total
}

/// Rows naming `user_id` in `tables` of a MariaDB database.
async fn count_mysql_rows(raw: &MySqlPool, tables: Tables, user_id: &str) -> i64 {
    count_rows(raw, tables, user_id, |table, column| {
        format!("SELECT count(*) FROM `{table}` WHERE `{column}` = ?")
    })
    .await
}

/// Rows naming `user_id` in `tables` of a SQLite file.
async fn count_sqlite_rows(raw: &SqlitePool, tables: Tables, user_id: &str) -> i64 {
    count_rows(raw, tables, user_id, |table, column| {
        format!(r#"SELECT count(*) FROM "{table}" WHERE "{column}" = ?"#)
    })
    .await
}

/// One fixture schema on the server, dropped at the end.
struct Schema {
    admin: PgPool,
    name: String,
}

impl Schema {
    async fn create(server: &str) -> Self {
        let admin = PgPool::connect(server).await.expect("admin connection");
        let name = fresh_schema_name();
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {name}")))
            .execute(&admin)
            .await
            .expect("create schema");
        Self { admin, name }
    }

    /// Counts the rows naming a user in `tables` of this schema.
    fn counter(&self, tables: Tables) -> impl Fn(String) -> BoxFuture<'static, i64> + Sync {
        let admin = self.admin.clone();
        let schema = self.name.clone();
        move |user_id: String| {
            let (admin, schema) = (admin.clone(), schema.clone());
            Box::pin(async move {
                count_rows(&admin, tables, &user_id, |table, column| {
                    format!(
                        r#"SELECT count(*) FROM {schema}."{table}" WHERE "{column}"::text = $1"#
                    )
                })
                .await
            })
        }
    }

    async fn drop(self) {
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP SCHEMA IF EXISTS {} CASCADE",
            self.name
        )))
        .execute(&self.admin)
        .await
        .expect("drop schema");
        self.admin.close().await;
    }
}

fn account(user_id: &str, provider: &str, provider_account_id: &str) -> Account {
    Account {
        extra: Default::default(),
        user_id: user_id.to_owned(),
        account_type: AccountType::OAuth,
        provider: provider.to_owned(),
        provider_account_id: provider_account_id.to_owned(),
        refresh_token: Some("refresh".to_owned()),
        access_token: Some("access".to_owned()),
        expires_at: Some(1_900_000_000),
        token_type: Some("bearer".to_owned()),
        scope: Some("openid email".to_owned()),
        id_token: None,
        session_state: None,
    }
}

/// How a test counts the rows that still name a user, in every table of its layout.
type RowCounter<'a> = &'a (dyn Fn(String) -> BoxFuture<'static, i64> + Sync);

/// The exchange every layout must pass: Node writes and Rust reads, Rust writes and Node
/// reads, verification tokens used once across both, and `delete_user` by either side
/// leaving nothing the other can read.
async fn round_trip(
    rust: &SqlxAdapter,
    node: &mut AuthJs,
    serial_ids: bool,
    expiry_in_seconds: bool,
    rows_of_user: RowCounter<'_>,
) {
    // What the layout keeps of an expiry: milliseconds, or whole seconds (Drizzle on MySQL).
    let kept = |at: auth_core::chrono::DateTime<Utc>| {
        if expiry_in_seconds {
            at.timestamp() * 1000
        } else {
            at.timestamp_millis()
        }
    };
    let later = Utc::now() + Duration::days(30);
    let id_shape = |id: &str| {
        if serial_ids {
            assert!(id.parse::<i32>().is_ok(), "a SERIAL id: {id}");
        } else {
            assert!(!id.is_empty(), "a text id");
        }
    };
    // Node writes, Rust reads.
    let ada = node
        .create_user("Ada.Node@Example.com")
        .await
        .expect("node createUser");
    id_shape(&ada.id);
    node.link_account(&account(&ada.id, "github", "gh-ada"))
        .await
        .expect("node linkAccount");
    node.create_session(&Session::with_token("node-cookie", &ada.id, later))
        .await
        .expect("node createSession");
    let (session, user) = rust
        .get_session_and_user("node-cookie")
        .await
        .expect("rust get_session_and_user")
        .expect("the Node session is live for Rust");
    assert_eq!(user, ada, "the user Node created, as Rust reads it");
    assert_eq!(session.user_id, ada.id);
    assert_eq!(
        session.expires.timestamp_millis(),
        kept(later),
        "expiry to the millisecond"
    );
    assert_eq!(
        rust.get_user_by_account("github", "gh-ada")
            .await
            .expect("by account"),
        Some(ada.clone())
    );
    assert_eq!(
        rust.get_user_by_email("ada.node@example.com")
            .await
            .expect("by email"),
        Some(ada.clone()),
        "Rust finds the Node user case-insensitively"
    );
    let linked = rust
        .get_account("github", "gh-ada")
        .await
        .expect("get_account")
        .expect("the Node account");
    assert_eq!(linked, account(&ada.id, "github", "gh-ada"));

    // Rust writes, Node reads.
    let bob = rust
        .create_user(User::with_id("bob-from-rust").with_email("bob.rust@example.com"))
        .await
        .expect("rust create_user");
    id_shape(&bob.id);
    assert_ne!(bob.id, ada.id);
    if !serial_ids {
        assert_eq!(
            bob.id, "bob-from-rust",
            "a layout with text ids keeps the id given"
        );
    }
    rust.link_account(account(&bob.id, "google", "g-bob"))
        .await
        .expect("rust link_account");
    rust.create_session(Session::with_token("rust-cookie", &bob.id, later))
        .await
        .expect("rust create_session");
    let (session, user) = node
        .get_session_and_user("rust-cookie")
        .await
        .expect("node getSessionAndUser")
        .expect("the Rust session for Node");
    assert_eq!(user, bob, "the user Rust created, as Node reads it");
    assert_eq!(session.session_token, "rust-cookie");
    assert_eq!(session.user_id, bob.id);
    assert_eq!(session.expires.timestamp_millis(), kept(later));
    assert_eq!(
        node.get_user_by_account("google", "g-bob")
            .await
            .expect("node by account"),
        Some(bob.clone())
    );
    assert_eq!(
        node.get_user_by_email("bob.rust@example.com")
            .await
            .expect("node by email"),
        Some(bob.clone())
    );
    assert_eq!(
        node.get_user(&bob.id).await.expect("node getUser"),
        Some(bob.clone())
    );

    // A verification token is used exactly once, whoever created it.
    let from_node = VerificationToken {
        identifier: "ada.node@example.com".to_owned(),
        token: "token-from-node".to_owned(),
        expires: later,
    };
    node.create_verification_token(&from_node)
        .await
        .expect("node createVerificationToken");
    let used = rust
        .use_verification_token(&from_node.identifier, &from_node.token)
        .await
        .expect("rust use")
        .expect("the Node token, for Rust");
    assert_eq!(used.expires.timestamp_millis(), kept(later));
    assert_eq!(
        rust.use_verification_token(&from_node.identifier, &from_node.token)
            .await
            .expect("rust second use"),
        None
    );
    assert_eq!(
        node.use_verification_token(&from_node.identifier, &from_node.token)
            .await
            .expect("node second use"),
        None
    );
    let from_rust = VerificationToken {
        identifier: "bob.rust@example.com".to_owned(),
        token: "token-from-rust".to_owned(),
        expires: later,
    };
    rust.create_verification_token(from_rust.clone())
        .await
        .expect("rust create_verification_token");
    let used = node
        .use_verification_token(&from_rust.identifier, &from_rust.token)
        .await
        .expect("node use")
        .expect("the Rust token, for Node");
    assert_eq!(
        (used.identifier.as_str(), used.token.as_str()),
        ("bob.rust@example.com", "token-from-rust")
    );
    assert_eq!(
        node.use_verification_token(&from_rust.identifier, &from_rust.token)
            .await
            .expect("node second use"),
        None
    );
    assert_eq!(
        rust.use_verification_token(&from_rust.identifier, &from_rust.token)
            .await
            .expect("rust second use"),
        None
    );

    // Node deletes the user Rust created: Rust finds nothing of it.
    node.delete_user(&bob.id).await.expect("node deleteUser");
    assert_eq!(rust.get_user(&bob.id).await.expect("get_user"), None);
    assert_eq!(
        rust.get_session_and_user("rust-cookie")
            .await
            .expect("session"),
        None
    );
    assert_eq!(
        rust.get_user_by_account("google", "g-bob")
            .await
            .expect("account"),
        None
    );
    assert_eq!(
        rust.get_user_by_email("bob.rust@example.com")
            .await
            .expect("email"),
        None
    );
    assert_eq!(
        rows_of_user(bob.id.clone()).await,
        0,
        "rows left of the user Node deleted"
    );

    // Rust deletes the user Node created: Node finds nothing of it.
    rust.delete_user(&ada.id).await.expect("rust delete_user");
    assert_eq!(node.get_user(&ada.id).await.expect("node getUser"), None);
    assert_eq!(
        node.get_session_and_user("node-cookie")
            .await
            .expect("node session"),
        None
    );
    assert_eq!(
        node.get_user_by_account("github", "gh-ada")
            .await
            .expect("node account"),
        None
    );
    assert_eq!(
        node.get_user_by_email("Ada.Node@Example.com")
            .await
            .expect("node email"),
        None
    );
    assert_eq!(
        rows_of_user(ada.id.clone()).await,
        0,
        "rows left of the user Rust deleted"
    );
}

#[tokio::test]
async fn pg_layout_shares_users_accounts_sessions_and_tokens_with_authjs() {
    let test = "pg_layout_shares_users_accounts_sessions_and_tokens_with_authjs";
    let Some(server) = server_or_skip(test, "AUTH_TEST_POSTGRES_URL") else {
        return;
    };
    let schema = Schema::create(&server).await;
    let rust: SqlxAdapter = open_pg_authjs(&search_path_url(&server, &schema.name))
        .await
        .expect("rust adapter on the pg layout");
    let mut node = AuthJs::open(json!({"layout": "pg", "url": server, "schema": schema.name}))
        .await
        .expect("node driver");
    let counter = schema.counter(PG_TABLES);
    round_trip(&rust, &mut node, true, false, &counter).await;
    node.close().await.expect("node exits cleanly");
    rust.close().await;
    schema.drop().await;
}

#[tokio::test]
async fn drizzle_pg_layout_shares_users_accounts_sessions_and_tokens_with_authjs() {
    let test = "drizzle_pg_layout_shares_users_accounts_sessions_and_tokens_with_authjs";
    let Some(server) = server_or_skip(test, "AUTH_TEST_POSTGRES_URL") else {
        return;
    };
    let schema = Schema::create(&server).await;
    let rust = open_drizzle(&search_path_url(&server, &schema.name))
        .await
        .expect("rust adapter on the drizzle layout");
    let mut node =
        AuthJs::open(json!({"layout": "drizzle-pg", "url": server, "schema": schema.name}))
            .await
            .expect("node driver");
    let counter = schema.counter(DRIZZLE_TABLES);
    round_trip(&rust, &mut node, false, false, &counter).await;
    node.close().await.expect("node exits cleanly");
    rust.close().await;
    schema.drop().await;
}

#[tokio::test]
async fn drizzle_sqlite_layout_shares_users_accounts_sessions_and_tokens_with_authjs() {
    let test = "drizzle_sqlite_layout_shares_users_accounts_sessions_and_tokens_with_authjs";
    if let Err(why) = AuthJs::available() {
        skip_or_fail(test, &why);
        return;
    }
    let (dir, sqlx_url, libsql_url) = fresh_sqlite_file();
    std::fs::create_dir_all(&dir).expect("fixture directory");
    let rust = open_drizzle(&sqlx_url)
        .await
        .expect("rust adapter on the drizzle layout");
    let mut node = AuthJs::open(json!({"layout": "drizzle-sqlite", "url": libsql_url}))
        .await
        .expect("node driver");
    let raw = SqlitePool::connect(&sqlx_url).await.expect("raw pool");
    let counter = move |user_id: String| -> BoxFuture<'static, i64> {
        let raw = raw.clone();
        Box::pin(async move { count_sqlite_rows(&raw, DRIZZLE_TABLES, &user_id).await })
    };
    round_trip(&rust, &mut node, false, false, &counter).await;
    node.close().await.expect("node exits cleanly");
    rust.close().await;
    std::fs::remove_dir_all(&dir).expect("remove the fixture file");
}

#[tokio::test]
async fn pg_layout_migrate_leaves_an_authjs_schema_authjs_can_use() {
    let test = "pg_layout_migrate_leaves_an_authjs_schema_authjs_can_use";
    let Some(server) = server_or_skip(test, "AUTH_TEST_POSTGRES_URL") else {
        return;
    };
    // The schema exactly as Auth.js ships it, created first (an existing Auth.js app), with
    // a row already there: `migrate` adds to it and keeps the data.
    let schema = Schema::create(&server).await;
    let mut node = AuthJs::open(json!({"layout": "pg", "url": server, "schema": schema.name}))
        .await
        .expect("node driver");
    let shipped = include_str!("authjs_pg_schema.sql");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "SET LOCAL search_path TO {}; {shipped}",
        schema.name
    )))
    .execute(&schema.admin)
    .await
    .expect("the shipped schema");
    let before = node
        .create_user("early@example.com")
        .await
        .expect("node createUser");
    let rust = open_pg_authjs(&search_path_url(&server, &schema.name))
        .await
        .expect("migrate on an existing Auth.js schema");
    rust.migrate().await.expect("migrate again");
    assert_eq!(
        rust.get_user(&before.id).await.expect("get_user"),
        Some(before.clone())
    );
    // Node keeps working on the migrated schema, account and session included.
    let after = node
        .create_user("late@example.com")
        .await
        .expect("node createUser");
    node.link_account(&account(&after.id, "github", "gh-late"))
        .await
        .expect("node linkAccount");
    node.create_session(&Session::with_token(
        "late-cookie",
        &after.id,
        Utc::now() + Duration::days(1),
    ))
    .await
    .expect("node createSession");
    node.delete_session("late-cookie")
        .await
        .expect("node deleteSession");
    node.unlink_account("github", "gh-late")
        .await
        .expect("node unlinkAccount");
    node.delete_user(&after.id).await.expect("node deleteUser");
    assert_eq!(rust.get_user(&after.id).await.expect("get_user"), None);
    node.close().await.expect("node exits cleanly");
    rust.close().await;
    schema.drop().await;
}

#[tokio::test]
async fn drizzle_mariadb_layout_shares_users_accounts_sessions_and_tokens_with_authjs() {
    let test = "drizzle_mariadb_layout_shares_users_accounts_sessions_and_tokens_with_authjs";
    let Some(server) = server_or_skip(test, "AUTH_TEST_MARIADB_URL") else {
        return;
    };
    let admin = MySqlPool::connect(&server).await.expect("admin connection");
    let name = format!("auth_interop_{}", uuid_like());
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin)
        .await
        .expect("create database");
    let url = database_url(&server, &name).expect("database URL");
    let rust = open_drizzle(&url)
        .await
        .expect("rust adapter on the drizzle layout");
    let mut node = AuthJs::open(json!({"layout": "drizzle-mysql", "url": url}))
        .await
        .expect("node driver");
    let raw = MySqlPool::connect(&url).await.expect("raw pool");
    let counter = move |user_id: String| -> BoxFuture<'static, i64> {
        let raw = raw.clone();
        Box::pin(async move { count_mysql_rows(&raw, DRIZZLE_TABLES, &user_id).await })
    };
    // Drizzle's MySQL schema keeps session and token expiry to the second.
    round_trip(&rust, &mut node, false, true, &counter).await;
    node.close().await.expect("node exits cleanly");
    rust.close().await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE {name}")))
        .execute(&admin)
        .await
        .expect("drop database");
    admin.close().await;
}

/// 32 hex digits from the clock and the process, unique enough for a database name.
fn uuid_like() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{:024x}{:08x}", nanos, std::process::id())
}
