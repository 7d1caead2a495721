//! The conformance suite on every adapter-diesel backend: PostgreSQL and MariaDB (from
//! `AUTH_TEST_POSTGRES_URL` / `AUTH_TEST_MARIADB_URL`, else a container, else skipped), and
//! SQLite in a file and in memory (always).

adapter_conformance::conformance_tests!(
    diesel_postgres,
    adapter_conformance::backends::diesel::postgres_spec
);
adapter_conformance::conformance_tests!(
    diesel_mariadb,
    adapter_conformance::backends::diesel::mariadb_spec
);
adapter_conformance::conformance_tests!(
    diesel_sqlite_file,
    adapter_conformance::backends::diesel::sqlite_file_spec
);
adapter_conformance::conformance_tests!(
    diesel_sqlite_memory,
    adapter_conformance::backends::diesel::sqlite_memory_spec
);
