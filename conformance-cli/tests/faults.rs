//! The fault drill of `adapter_conformance::faults` on every server backend: pause under 32
//! callers, resume, kill and restart mid-load. Each server is the test's own (a container
//! of the backend's image, or an nx-27017 process for Mongo); skipped with the reason when
//! it cannot be had here, a failure when `AUTH_CONFORMANCE_REQUIRE` names the backend.

use conformance_cli::faults;

fn drill(name: &str) {
    let target = faults::target(name).unwrap_or_else(|| panic!("no fault target {name}"));
    on_runtime(async {
        faults::run_target(&target).await;
    });
}

/// Runs a drill on a runtime of its own, with the workers its 32 callers need.
fn on_runtime(drill: impl std::future::Future<Output = ()>) {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("a tokio runtime")
        .block_on(drill);
}

macro_rules! drills {
    ($($(#[$attr:meta])* $test:ident => $name:literal,)*) => {$(
        #[test]
        $(#[$attr])*
        fn $test() {
            drill($name);
        }
    )*};
}

drills! {
    postgres => "postgres",
    mariadb => "mariadb",
    diesel_postgres => "diesel-postgres",
    diesel_mariadb => "diesel-mariadb",
    seaorm_postgres => "seaorm-postgres",
    seaorm_mariadb => "seaorm-mariadb",
    redis => "redis",
    mongo => "mongo",
}

/// The cluster drills (`conformance_cli::cluster_faults`): a reshard, two failovers and a
/// whole-cluster restart under 32 callers, on a six-node Redis Cluster of the test's own.
#[test]
fn redis_cluster() {
    on_runtime(async {
        conformance_cli::cluster_faults::run().await;
    });
}
