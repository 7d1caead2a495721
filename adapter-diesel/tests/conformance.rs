//! The conformance suite on every adapter-diesel backend: PostgreSQL and MariaDB (from
//! `AUTH_TEST_POSTGRES_URL` / `AUTH_TEST_MARIADB_URL`, else a container, else skipped), and
//! SQLite in a file and in memory (always).

use adapter_diesel::conformance as diesel;

fn main() -> std::process::ExitCode {
    adapter_conformance::test_main(&[
        diesel::postgres_spec,
        diesel::mariadb_spec,
        diesel::sqlite_file_spec,
        diesel::sqlite_memory_spec,
    ])
}
