//! The conformance suite on every adapter-seaorm backend: PostgreSQL and MariaDB (from
//! `AUTH_TEST_POSTGRES_URL` / `AUTH_TEST_MARIADB_URL`, else a container, else skipped), and
//! SQLite in a file and in memory (always), and a 3-node Galera cluster
//! (`AUTH_TEST_GALERA_URLS`, each scenario's calls spread over the nodes).

use adapter_seaorm::conformance as seaorm;

fn main() -> std::process::ExitCode {
    adapter_conformance::test_main(&[
        seaorm::postgres_spec,
        seaorm::mariadb_spec,
        seaorm::galera_spec,
        seaorm::sqlite_file_spec,
        seaorm::sqlite_memory_spec,
    ])
}
