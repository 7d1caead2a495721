//! One migration history for the three SQL crates (auth-sql's `auth_schema_migrations`):
//! a database migrated by any one of adapter-sqlx, adapter-diesel and adapter-seaorm is
//! reported current by the other two, and their `migrate()` changes nothing, on
//! PostgreSQL, MariaDB and SQLite. And a database made before the shared history (the
//! tables of migration 1, no history) is recorded and upgraded, its data kept: the old row
//! gets extra fields through adapter-diesel.

mod common;

use std::time::Duration;

use adapter_diesel::DieselAdapter;
use adapter_seaorm::SeaOrmAdapter;
use adapter_sqlx::sqlx::{self, AssertSqlSafe, Connection as _};
use adapter_sqlx::SqlxAdapter;
use auth_core::serde_json::json;
use auth_core::{Adapter, AdapterError, Extra, User, UserUpdate};
use auth_sql::schema::{self, SchemaStatus};
use common::{Db, Fresh, ALL};

/// The three crates on one database.
struct Crates {
    sqlx: SqlxAdapter,
    diesel: DieselAdapter,
    seaorm: SeaOrmAdapter,
}

#[derive(Debug, Clone, Copy)]
enum Crate {
    Sqlx,
    Diesel,
    SeaOrm,
}

const CRATES: [Crate; 3] = [Crate::Sqlx, Crate::Diesel, Crate::SeaOrm];

impl Crates {
    async fn connect(fresh: &Fresh) -> Self {
        let timeout = Duration::from_secs(10);
        Crates {
            sqlx: SqlxAdapter::builder(fresh.sqlx_url.as_str())
                .max_connections(2)
                .call_timeout(timeout)
                .connect()
                .await
                .expect("adapter-sqlx connects"),
            diesel: DieselAdapter::builder(fresh.url.as_str())
                .max_connections(2)
                .call_timeout(timeout)
                .connect()
                .await
                .expect("adapter-diesel connects"),
            seaorm: SeaOrmAdapter::builder(fresh.sqlx_url.as_str())
                .max_connections(2)
                .call_timeout(timeout)
                .connect()
                .await
                .expect("adapter-seaorm connects"),
        }
    }

    async fn migrate(&self, which: Crate) -> Result<(), AdapterError> {
        match which {
            Crate::Sqlx => self.sqlx.migrate().await,
            Crate::Diesel => self.diesel.migrate().await,
            Crate::SeaOrm => self.seaorm.migrate().await,
        }
    }

    async fn status(&self, which: Crate) -> SchemaStatus {
        match which {
            Crate::Sqlx => self.sqlx.schema_status().await,
            Crate::Diesel => self.diesel.schema_status().await,
            Crate::SeaOrm => self.seaorm.schema_status().await,
        }
        .unwrap_or_else(|e| panic!("{which:?} reads the schema status: {e}"))
    }

    fn adapter(&self, which: Crate) -> &dyn Adapter {
        match which {
            Crate::Sqlx => &self.sqlx,
            Crate::Diesel => &self.diesel,
            Crate::SeaOrm => &self.seaorm,
        }
    }

    async fn close(self) {
        self.sqlx.close().await;
        self.diesel.close().await;
        self.seaorm.close().await;
    }
}

fn every_version() -> Vec<i64> {
    schema::MIGRATIONS.iter().map(|m| m.version()).collect()
}

/// The history rows as text (version, description, applied_at), read with sqlx directly.
async fn history(fresh: &Fresh) -> Vec<String> {
    let sql = match fresh.db {
        Db::Postgres => {
            "SELECT concat_ws('|', version, description, applied_at::text) \
                         FROM auth_schema_migrations ORDER BY version"
        }
        Db::MariaDb => {
            "SELECT CONCAT_WS('|', version, description, applied_at) \
                        FROM auth_schema_migrations ORDER BY version"
        }
        Db::Sqlite => {
            "SELECT version || '|' || description || '|' || applied_at \
                       FROM auth_schema_migrations ORDER BY version"
        }
    };
    let url = fresh.sqlx_url.as_str();
    match fresh.db {
        Db::Postgres => {
            let mut conn = sqlx::PgConnection::connect(url).await.expect("connect");
            sqlx::query_scalar(sql).fetch_all(&mut conn).await
        }
        Db::MariaDb => {
            let mut conn = sqlx::MySqlConnection::connect(url).await.expect("connect");
            sqlx::query_scalar(sql).fetch_all(&mut conn).await
        }
        Db::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(url).await.expect("connect");
            sqlx::query_scalar(sql).fetch_all(&mut conn).await
        }
    }
    .expect("read the history")
}

/// Runs `sql` on the fresh database (what a database made before the history holds).
async fn execute(fresh: &Fresh, sql: String) {
    let url = fresh.sqlx_url.as_str();
    let sql = AssertSqlSafe(sql);
    match fresh.db {
        Db::Postgres => {
            let mut conn = sqlx::PgConnection::connect(url).await.expect("connect");
            sqlx::raw_sql(sql).execute(&mut conn).await.map(drop)
        }
        Db::MariaDb => {
            let mut conn = sqlx::MySqlConnection::connect(url).await.expect("connect");
            sqlx::raw_sql(sql).execute(&mut conn).await.map(drop)
        }
        Db::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(url).await.expect("connect");
            sqlx::raw_sql(sql).execute(&mut conn).await.map(drop)
        }
    }
    .expect("execute");
}

async fn migrated_by_one_is_current_for_all(db: Db, first: Crate) {
    let Some(fresh) = Fresh::new(db).await else {
        return;
    };
    let crates = Crates::connect(&fresh).await;
    for which in CRATES {
        let status = crates.status(which).await;
        assert_eq!(
            status.pending,
            every_version(),
            "{db:?} {which:?}: all pending"
        );
        assert!(status.applied.is_empty());
    }
    crates
        .migrate(first)
        .await
        .unwrap_or_else(|e| panic!("{db:?}: {first:?} migrates a fresh database: {e}"));
    let recorded = history(&fresh).await;
    assert_eq!(recorded.len(), every_version().len(), "{recorded:?}");
    for which in CRATES {
        let status = crates.status(which).await;
        assert!(
            status.is_current(),
            "{db:?}: after {first:?}, {which:?} sees {status:?}"
        );
        assert_eq!(status.applied, every_version());
        crates
            .migrate(which)
            .await
            .unwrap_or_else(|e| panic!("{db:?}: {which:?} after {first:?}: {e}"));
        assert_eq!(
            history(&fresh).await,
            recorded,
            "{db:?}: {which:?} changed the history {first:?} wrote"
        );
    }
    // And the tables are the same tables: one crate writes, another reads.
    let user = crates
        .adapter(first)
        .create_user(User::with_id("u1").with_email("ada@example.com"))
        .await
        .expect("create_user");
    for which in CRATES {
        assert_eq!(
            crates
                .adapter(which)
                .get_user("u1")
                .await
                .expect("get_user"),
            Some(user.clone()),
            "{db:?} {which:?}"
        );
    }
    crates.close().await;
    fresh.remove().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_migrated_by_any_sql_crate_is_current_for_the_others() {
    for db in ALL {
        for first in CRATES {
            migrated_by_one_is_current_for_all(db, first).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_made_before_the_history_is_recorded_and_keeps_its_data() {
    for db in ALL {
        for which in CRATES {
            let Some(fresh) = Fresh::new(db).await else {
                return;
            };
            let dialect = match db {
                Db::Postgres => auth_sql::Dialect::Postgres,
                Db::MariaDb => auth_sql::Dialect::MariaDb {
                    major: 10,
                    minor: 11,
                },
                Db::Sqlite => auth_sql::Dialect::Sqlite,
            };
            // The tables as the crates' own migrators made them, with a row, and no history.
            execute(&fresh, schema::MIGRATIONS[0].sql(dialect, "auth_")).await;
            execute(
                &fresh,
                "INSERT INTO auth_users (id, email, email_normalized) \
                 VALUES ('old', 'old@example.com', 'old@example.com')"
                    .to_owned(),
            )
            .await;
            let crates = Crates::connect(&fresh).await;
            assert_eq!(crates.status(which).await.pending, every_version());
            crates
                .migrate(which)
                .await
                .unwrap_or_else(|e| panic!("{db:?}: {which:?} on an old database: {e}"));
            assert_eq!(history(&fresh).await.len(), every_version().len());
            for reader in CRATES {
                assert!(crates.status(reader).await.is_current());
                let old = crates
                    .adapter(reader)
                    .get_user("old")
                    .await
                    .expect("get_user");
                assert_eq!(
                    old.and_then(|u| u.email).as_deref(),
                    Some("old@example.com"),
                    "{db:?}: {which:?} kept the row"
                );
            }
            // Migration 2 added the extra column to the old row: adapter-diesel reads it as
            // empty and merges into it.
            let old = crates.diesel.get_user("old").await.expect("get_user");
            assert_eq!(
                old.map(|u| u.extra),
                Some(Extra::new()),
                "{db:?}: {which:?}"
            );
            let merged = crates
                .diesel
                .update_user(
                    UserUpdate::new("old")
                        .merge_extra(&json!({"role": "admin"}))
                        .expect("a merge patch"),
                )
                .await
                .unwrap_or_else(|e| panic!("{db:?}: {which:?}: a merge into an old row: {e}"));
            assert_eq!(merged.extra.get("role"), Some(&json!("admin")));
            assert_eq!(
                crates.diesel.get_user("old").await.expect("get_user"),
                Some(merged),
                "{db:?}: {which:?}"
            );
            crates.close().await;
            fresh.remove().await;
        }
    }
}
