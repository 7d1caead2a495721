//! The conformance suite on every adapter-sqlx backend: PostgreSQL and MariaDB (from
//! `AUTH_TEST_POSTGRES_URL` / `AUTH_TEST_MARIADB_URL`, else a container, else skipped), and
//! SQLite in a file and in memory (always), PostgreSQL with every transaction
//! `SERIALIZABLE` (`postgres-serializable`), a primary with a delayed streaming replica
//! (`postgres-replica`) and a 3-node Galera cluster (`galera`) from
//! `AUTH_TEST_POSTGRES_REPLICA_URLS` / `AUTH_TEST_GALERA_URLS` (`ci/replicated.sh`), the same three databases upgraded from the
//! previous release's schema with rows present (`adapter_sqlx::conformance::upgrade`), and
//! the Auth.js layouts.

use adapter_sqlx::conformance::{self as sqlx, authjs as authjs_sqlx, upgrade};

fn main() -> std::process::ExitCode {
    adapter_conformance::test_main(&[
        sqlx::postgres_spec,
        sqlx::mariadb_spec,
        sqlx::sqlite_file_spec,
        sqlx::sqlite_memory_spec,
        sqlx::postgres_serializable_spec,
        sqlx::replicated::postgres_replica_spec,
        sqlx::replicated::galera_spec,
        upgrade::postgres_upgraded_spec,
        upgrade::mariadb_upgraded_spec,
        upgrade::sqlite_upgraded_spec,
        authjs_sqlx::postgres_authjs_spec,
        authjs_sqlx::postgres_drizzle_spec,
        authjs_sqlx::sqlite_drizzle_spec,
        authjs_sqlx::mariadb_drizzle_spec,
    ])
}
