//! What the integration tests share: a server URL or a skip, a fresh database on a server,
//! a fresh SQLite file.

use adapter_conformance::harness;
use adapter_sqlx::conformance::database_url;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend};

/// A server URL from `var`, or `None` (with a line saying so) when the backend may be
/// skipped; a failure when `AUTH_CONFORMANCE_REQUIRE` names it.
pub fn server(var: &str, backend: &str) -> Option<String> {
    let url = harness::env_url(var);
    if url.is_none() {
        assert!(
            !harness::is_required(backend),
            "{backend} is required but {var} is not set"
        );
        eprintln!("SKIPPED {backend}: set {var} to run it");
    }
    url
}

/// A fresh database on the server, dropped when the guard's `drop_now` runs.
pub struct ServerDb {
    admin: DatabaseConnection,
    name: String,
    /// The fresh database's URL.
    pub url: String,
}

impl ServerDb {
    /// Creates a fresh database on the server at `server_url`.
    pub async fn create(server_url: &str) -> Self {
        let admin = Database::connect(server_url)
            .await
            .expect("admin connection");
        let name = format!("auth_compat_{}", uuid::Uuid::now_v7().simple());
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create database");
        let url = database_url(server_url, &name).expect("database url");
        Self { admin, name, url }
    }

    /// Drops the database.
    pub async fn drop_now(self) {
        let force = if self.admin.get_database_backend() == DbBackend::Postgres {
            " WITH (FORCE)"
        } else {
            ""
        };
        self.admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {}{force}", self.name))
            .await
            .expect("drop database");
    }
}

/// A SQLite file URL in a fresh temporary directory (removed by the caller).
pub fn sqlite_url(tag: &str) -> (String, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!(
        "auth-compat-{tag}-{}",
        uuid::Uuid::now_v7().simple()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let url = format!("sqlite://{}?mode=rwc", dir.join("auth.db").display());
    (url, dir)
}
