//! The schema as a `sea-orm-migration` migrator: one migration, `m0001_initial`, that
//! creates exactly the tables, keys, indexes and foreign keys adapter-sqlx creates with its
//! default prefix `auth_` (the SQL files beside this module are those of
//! `adapter-sqlx/migrations/*/0001_initial.sql` with the prefix applied), with
//! `CREATE … IF NOT EXISTS` throughout, so either crate can migrate a database the other
//! created. Applied migrations are recorded in `auth_seaql_migrations`; adapter-sqlx keeps
//! its own record in `auth_sqlx_migrations`.

use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};
use sea_orm_migration::sea_query::{Alias, DynIden, IntoIden};
use sea_orm_migration::{async_trait, MigrationName, MigrationTrait, MigratorTrait, SchemaManager};

/// The table that records which migrations ran.
pub const MIGRATIONS_TABLE: &str = "auth_seaql_migrations";

/// The migrator of this crate's schema.
///
/// ```no_run
/// use adapter_seaorm::Migrator;
/// use sea_orm_migration::MigratorTrait;
///
/// # async fn run(db: &sea_orm::DatabaseConnection) -> Result<(), sea_orm::DbErr> {
/// Migrator::up(db, None).await?; // what SeaOrmAdapter::migrate does
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(Initial)]
    }

    fn migration_table_name() -> DynIden {
        Alias::new(MIGRATIONS_TABLE).into_iden()
    }
}

/// `m0001_initial`: the five tables.
#[derive(Debug, Clone, Copy)]
struct Initial;

impl MigrationName for Initial {
    fn name(&self) -> &str {
        "m0001_initial"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Initial {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let sql = match db.get_database_backend() {
            DbBackend::Postgres => include_str!("migration/postgres.sql").to_owned(),
            DbBackend::Sqlite => include_str!("migration/sqlite.sql").to_owned(),
            _ => {
                let version = db
                    .query_one_raw(Statement::from_string(
                        DbBackend::MySql,
                        "SELECT VERSION() AS version",
                    ))
                    .await?
                    .map(|row| row.try_get::<String>("", "version"))
                    .transpose()?
                    .unwrap_or_default();
                include_str!("migration/mysql.sql")
                    .replace("{collation}", mysql_collation(&version))
            }
        };
        db.execute_unprepared(&sql).await?;
        Ok(())
    }
}

/// The binary, no-pad collation of a MySQL-family server, from its `VERSION()`.
///
/// ```
/// use adapter_seaorm::migration::mysql_collation;
/// assert_eq!(mysql_collation("10.11.6-MariaDB-0+deb12u1"), "utf8mb4_nopad_bin");
/// assert_eq!(mysql_collation("8.0.36"), "utf8mb4_0900_bin");
/// ```
pub fn mysql_collation(version: &str) -> &'static str {
    if version.to_ascii_lowercase().contains("mariadb") {
        "utf8mb4_nopad_bin"
    } else {
        "utf8mb4_0900_bin"
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_dialect_creates_the_five_prefixed_tables_if_missing() {
        for sql in [
            include_str!("migration/postgres.sql"),
            include_str!("migration/mysql.sql"),
            include_str!("migration/sqlite.sql"),
        ] {
            for table in [
                "users",
                "accounts",
                "sessions",
                "verification_tokens",
                "authenticators",
            ] {
                assert!(sql.contains(&format!("CREATE TABLE IF NOT EXISTS auth_{table} (")));
            }
            assert_eq!(sql.matches("ON DELETE CASCADE").count(), 3);
            assert!(!sql.contains("{p}"));
        }
    }
}
