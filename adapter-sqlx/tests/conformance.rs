//! The conformance suite on every adapter-sqlx backend: PostgreSQL and MariaDB (from
//! `AUTH_TEST_POSTGRES_URL` / `AUTH_TEST_MARIADB_URL`, else a container, else skipped), and
//! SQLite in a file and in memory (always), and PostgreSQL on the Auth.js layouts.

use adapter_sqlx::conformance::{self as sqlx, authjs as authjs_sqlx};

fn main() -> std::process::ExitCode {
    adapter_conformance::test_main(&[
        sqlx::postgres_spec,
        sqlx::mariadb_spec,
        sqlx::sqlite_file_spec,
        sqlx::sqlite_memory_spec,
        authjs_sqlx::postgres_authjs_spec,
        authjs_sqlx::postgres_drizzle_spec,
        authjs_sqlx::sqlite_drizzle_spec,
        authjs_sqlx::mariadb_drizzle_spec,
    ])
}
