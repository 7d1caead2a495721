//! Fresh, isolated databases for the crate's own tests: a new database on the PostgreSQL
//! or MariaDB server of `AUTH_TEST_POSTGRES_URL` / `AUTH_TEST_MARIADB_URL` (dropped when the
//! guard goes), or a new SQLite file in a new temporary directory.
#![allow(dead_code)]

use adapter_diesel::DieselAdapter;
use adapter_sqlx::conformance::{database_url, MARIADB_ENV, POSTGRES_ENV};
use adapter_sqlx::sqlx::{self, AssertSqlSafe};

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(clippy::enum_variant_names)] // MariaDb is the server's name
pub enum Db {
    Postgres,
    MariaDb,
    Sqlite,
}

pub const ALL: [Db; 3] = [Db::Postgres, Db::MariaDb, Db::Sqlite];

/// A fresh database: its URL for adapter-diesel and for adapter-sqlx (the same but for
/// SQLite's `?mode=rwc`), removed on drop.
pub struct Fresh {
    pub db: Db,
    pub url: String,
    pub sqlx_url: String,
    server: Option<(String, String)>,
    dir: Option<std::path::PathBuf>,
}

/// The server URL of `db`, or `None` (with a loud line) when its variable is unset and
/// `AUTH_CONFORMANCE_REQUIRE` is not set; panics when it is.
pub fn server_url(db: Db) -> Option<String> {
    let var = match db {
        Db::Postgres => POSTGRES_ENV,
        Db::MariaDb => MARIADB_ENV,
        Db::Sqlite => return Some(String::new()),
    };
    match std::env::var(var) {
        Ok(url) => Some(url),
        Err(_) if std::env::var_os("AUTH_CONFORMANCE_REQUIRE").is_none() => {
            eprintln!("SKIPPED {db:?}: set {var} to run this test on it");
            None
        }
        Err(_) => panic!("{var} is unset and AUTH_CONFORMANCE_REQUIRE is set"),
    }
}

async fn admin(db: Db, server: &str, sql: String) {
    match db {
        Db::Postgres => {
            let pool = sqlx::PgPool::connect(server).await.expect("admin connect");
            sqlx::raw_sql(AssertSqlSafe(sql))
                .execute(&pool)
                .await
                .expect("admin");
            pool.close().await;
        }
        Db::MariaDb => {
            let pool = sqlx::MySqlPool::connect(server)
                .await
                .expect("admin connect");
            sqlx::raw_sql(AssertSqlSafe(sql))
                .execute(&pool)
                .await
                .expect("admin");
            pool.close().await;
        }
        Db::Sqlite => {}
    }
}

impl Fresh {
    /// A new empty database, or `None` when the server is not configured (see
    /// [`server_url`]).
    pub async fn new(db: Db) -> Option<Self> {
        let unique = uuid_like();
        if db == Db::Sqlite {
            let dir = std::env::temp_dir().join(format!("adapter-diesel-test-{unique}"));
            std::fs::create_dir_all(&dir).expect("temp dir");
            let path = dir.join("auth.db");
            return Some(Fresh {
                db,
                url: format!("sqlite://{}", path.display()),
                sqlx_url: format!("sqlite://{}?mode=rwc", path.display()),
                server: None,
                dir: Some(dir),
            });
        }
        let server = server_url(db)?;
        let name = format!("diesel_test_{unique}");
        admin(db, &server, format!("CREATE DATABASE {name}")).await;
        let url = database_url(&server, &name).expect("database url");
        Some(Fresh {
            db,
            url: url.clone(),
            sqlx_url: url,
            server: Some((server, name)),
            dir: None,
        })
    }

    /// adapter-diesel on this database, migrated, with a pool of one connection: every
    /// call goes through the same connection.
    pub async fn single_connection_adapter(&self) -> DieselAdapter {
        let adapter = DieselAdapter::builder(self.url.as_str())
            .max_connections(1)
            .connect()
            .await
            .expect("connect");
        adapter.migrate().await.expect("migrate");
        adapter
    }

    /// Drops the database (call at the end of the test; a panic leaves it, harmlessly).
    pub async fn remove(self) {
        if let Some((server, name)) = &self.server {
            let sql = match self.db {
                Db::Postgres => format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                _ => format!("DROP DATABASE IF EXISTS {name}"),
            };
            admin(self.db, server, sql).await;
        }
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn uuid_like() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{:x}_{:x}", std::process::id(), nanos)
}
