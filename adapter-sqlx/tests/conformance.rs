//! The conformance suite on every adapter-sqlx backend: PostgreSQL and MariaDB (from
//! `AUTH_TEST_POSTGRES_URL` / `AUTH_TEST_MARIADB_URL`, else a container, else skipped), and
//! SQLite in a file and in memory (always).

adapter_conformance::conformance_tests!(
    postgres,
    adapter_conformance::backends::sqlx::postgres_spec
);
adapter_conformance::conformance_tests!(mariadb, adapter_conformance::backends::sqlx::mariadb_spec);
adapter_conformance::conformance_tests!(
    sqlite_file,
    adapter_conformance::backends::sqlx::sqlite_file_spec
);
adapter_conformance::conformance_tests!(
    sqlite_memory,
    adapter_conformance::backends::sqlx::sqlite_memory_spec
);
