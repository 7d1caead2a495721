//! The conformance suite on every adapter-seaorm backend: PostgreSQL and MariaDB (from
//! `AUTH_TEST_POSTGRES_URL` / `AUTH_TEST_MARIADB_URL`, else a container, else skipped), and
//! SQLite in a file and in memory (always).

adapter_conformance::conformance_tests!(
    seaorm_postgres,
    adapter_conformance::backends::seaorm::postgres_spec
);
adapter_conformance::conformance_tests!(
    seaorm_mariadb,
    adapter_conformance::backends::seaorm::mariadb_spec
);
adapter_conformance::conformance_tests!(
    seaorm_sqlite_file,
    adapter_conformance::backends::seaorm::sqlite_file_spec
);
adapter_conformance::conformance_tests!(
    seaorm_sqlite_memory,
    adapter_conformance::backends::seaorm::sqlite_memory_spec
);
