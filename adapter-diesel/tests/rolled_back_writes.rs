//! adapter-diesel: a removal the server rolled back is never reported as done (see
//! `adapter_sqlx::conformance::contention`).

use adapter_diesel::conformance::{mariadb_spec, postgres_spec};
use adapter_sqlx::conformance::contention::removal_races_report_one_winner;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_never_reports_a_rolled_back_removal() {
    removal_races_report_one_winner(mariadb_spec(), 20).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_never_reports_a_rolled_back_removal() {
    removal_races_report_one_winner(postgres_spec(), 20).await;
}
