//! The whole suite on auth-core's at-rest wrappers (`HashedTokens` over
//! `EncryptedAccountTokens`, and the other order) over memory, SQLite, PostgreSQL and Redis.

use conformance_cli::backends::wrapped;

fn main() -> std::process::ExitCode {
    adapter_conformance::test_main(&[
        wrapped::memory_spec,
        wrapped::sqlite_file_spec,
        wrapped::postgres_spec,
        wrapped::redis_spec,
    ])
}
