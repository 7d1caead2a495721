//! The embedded migrations (`migrations/<dialect>/*.sql`, templated with the table prefix)
//! as a sqlx [`Migrator`] with its own, prefixed bookkeeping table, so the adapter's
//! migrations never mix with an application's `_sqlx_migrations`.

use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{AssertSqlSafe, SqlSafeStr};

use crate::dialect::Dialect;

/// The table in which sqlx records the applied migrations: `<prefix>sqlx_migrations`.
pub(crate) fn migrations_table(prefix: &str) -> String {
    format!("{prefix}sqlx_migrations")
}

/// The migrator for `dialect` and the (validated) table `prefix`.
pub(crate) fn migrator(dialect: Dialect, prefix: &str) -> Migrator {
    let schema = dialect.schema(prefix);
    let mut migrator = Migrator::with_migrations(vec![Migration::new(
        1,
        "initial schema".into(),
        MigrationType::Simple,
        // The template is embedded in the crate and the prefix is a validated identifier.
        AssertSqlSafe(schema).into_sql_str(),
        false,
    )]);
    migrator.dangerous_set_table_name(migrations_table(prefix));
    migrator
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_stable_and_prefixed() {
        let a = migrator(Dialect::Sqlite, "auth_");
        let b = migrator(Dialect::Sqlite, "auth_");
        let (a, b) = (a.iter().next(), b.iter().next());
        assert_eq!(
            a.map(|m| &m.checksum),
            b.map(|m| &m.checksum),
            "same text, same checksum"
        );
        assert!(a.is_some_and(|m| m.sql.as_str().contains("auth_sessions")));
        assert_eq!(
            migrator(Dialect::Postgres, "x_").table_name,
            "x_sqlx_migrations"
        );
    }
}
