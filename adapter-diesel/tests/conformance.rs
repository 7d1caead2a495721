//! The conformance suite on every adapter-diesel backend: PostgreSQL and MariaDB (from
//! `AUTH_TEST_POSTGRES_URL` / `AUTH_TEST_MARIADB_URL`, else a container, else skipped), and
//! SQLite in a file and in memory (always), and a 3-node Galera cluster
//! (`AUTH_TEST_GALERA_URLS`, each scenario's calls spread over the nodes).

use adapter_diesel::conformance as diesel;

fn main() -> std::process::ExitCode {
    adapter_conformance::test_main(&[
        diesel::postgres_spec,
        diesel::mariadb_spec,
        diesel::galera_spec,
        diesel::sqlite_file_spec,
        diesel::sqlite_memory_spec,
    ])
}
