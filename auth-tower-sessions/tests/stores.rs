//! `AdapterSessionStore` and `AdapterBackend` on every backend of the workspace whose
//! layout can hold a tower-sessions app's sessions (the conformance CLI's one list, less
//! [`UNFIT`]): tower-sessions' store contract, its own route tests, and axum-login flows.
//! One trial per backend and check, `<backend>::<check>`; a backend that cannot run here is
//! reported skipped, with why.

mod checks;

/// The layouts a tower-sessions app cannot keep its sessions in as they are (README, "Using
/// it with tower-sessions and axum-login"): the Auth.js SQL layouts keep a session's data
/// only in columns the app adds to its `sessions` table (without a `tower_sessions`
/// column they refuse it), and Auth.js's unstorage layout names one session per user, so
/// a user signed in on two devices cannot be signed out of both.
const UNFIT: &[&str] = &[
    "postgres-authjs",
    "postgres-drizzle",
    "sqlite-drizzle",
    "mariadb-drizzle",
    "redis-authjs",
    "redis-cluster-authjs",
];

fn main() -> std::process::ExitCode {
    let specs = conformance_cli::backends::all()
        .into_iter()
        .filter(|spec| !UNFIT.contains(&spec.name))
        .collect();
    adapter_conformance::trials::test_main_with(specs, checks::CHECKS)
}
