//! A removal the server rolled back is never reported as done: the check behind the
//! `rolled_back_writes` tests of adapter-sqlx, adapter-diesel and adapter-seaorm, which
//! share these tables.
//!
//! Two `delete_session` calls wait on a session row another transaction holds, while a
//! `delete_user` (whose cascade reaches that row) waits too; when the holder commits,
//! MariaDB picks waiters as deadlock victims. A `DELETE … RETURNING` victim may have sent
//! its row before the error: read only up to that row, the call reported a removal that was
//! rolled back, and one session was "removed" twice (found by scenario 45 on the Drizzle
//! layout). However the server orders the waiters, at most one call may say it removed the
//! session, and none may fail for the deadlock (a deadlocked call is run again).

use std::time::Duration;

use adapter_conformance::harness::{self, BackendSpec, Resolved};
use auth_core::chrono::{self, Utc};
use auth_core::{Session, User};

use crate::sqlx::{self, Connection};

/// A raw connection beside the adapter's pool, holding the session row in a transaction.
enum Holder {
    Postgres(sqlx::PgConnection),
    MariaDb(sqlx::MySqlConnection),
}

impl Holder {
    async fn connect(url: &str) -> Self {
        if url.starts_with("postgres") {
            Self::Postgres(
                sqlx::PgConnection::connect(url)
                    .await
                    .expect("raw connection"),
            )
        } else {
            Self::MariaDb(
                sqlx::MySqlConnection::connect(url)
                    .await
                    .expect("raw connection"),
            )
        }
    }

    async fn run(&mut self, sql: String) {
        let sql = sqlx::raw_sql(sqlx::AssertSqlSafe(sql));
        match self {
            Self::Postgres(conn) => sql.execute(&mut *conn).await.map(drop),
            Self::MariaDb(conn) => sql.execute(&mut *conn).await.map(drop),
        }
        .expect("the holder's statement");
    }

    /// `BEGIN`, then `UPDATE … SET expires = expires` on the session row: the row is held
    /// until [`Holder::commit`]. (`token` is this module's own, `victim-session-<n>`: no
    /// quoting needed.)
    async fn hold(&mut self, prefix: &str, token: &str) {
        self.run("BEGIN".to_owned()).await;
        self.run(format!(
            "UPDATE {prefix}sessions SET expires = expires WHERE session_token = '{token}'"
        ))
        .await;
    }

    async fn commit(&mut self) {
        self.run("COMMIT".to_owned()).await;
    }
}

/// Runs `rounds` rounds of the race on a fixture of `spec` (a server backend on
/// adapter-sqlx's tables) and panics if a round reports one session removed twice or a
/// call fails. A backend that cannot run here is skipped (a failure where it is required).
///
/// ```no_run
/// # async fn run() {
/// adapter_sqlx::conformance::contention::removal_races_report_one_winner(
///     adapter_sqlx::conformance::mariadb_spec(),
///     20,
/// )
/// .await;
/// # }
/// ```
pub async fn removal_races_report_one_winner(spec: BackendSpec, rounds: usize) {
    let backend = match harness::resolve(&spec).await.expect("backend opens") {
        Resolved::Ready(backend) => backend,
        Resolved::Skipped(why) => {
            assert!(!harness::is_required(spec.name), "{why}");
            eprintln!("{why}");
            return;
        }
    };
    let fx = backend.fixture().await.expect("fixture");
    let place = fx
        .inspector
        .location()
        .expect("a SQL fixture has a location");
    let prefix = &place.namespace;
    let mut holder = Holder::connect(&place.url).await;
    let mut reported_twice = 0;
    for round in 0..rounds {
        let user_id = format!("victim-{round}");
        let token = format!("victim-session-{round}");
        fx.adapter
            .create_user(User::with_id(user_id.as_str()))
            .await
            .expect("user");
        fx.adapter
            .create_session(Session::with_token(
                token.as_str(),
                user_id.as_str(),
                Utc::now() + chrono::Duration::days(1),
            ))
            .await
            .expect("session");

        holder.hold(prefix, &token).await;
        let release = async {
            // Long enough for the three calls to be waiting on the row.
            tokio::time::sleep(Duration::from_millis(150)).await;
            holder.commit().await;
        };
        let (a, b, cascade, ()) = futures::join!(
            fx.adapter.delete_session(&token),
            fx.adapter.delete_session(&token),
            fx.adapter.delete_user(&user_id),
            release
        );
        let (a, b) = (a.expect("delete_session"), b.expect("delete_session"));
        cascade.expect("delete_user");
        if a.is_some() && b.is_some() {
            reported_twice += 1;
        }
        assert_eq!(
            fx.adapter.get_session_and_user(&token).await.expect("read"),
            None
        );
    }
    fx.inspector.teardown().await.expect("teardown");
    assert_eq!(
        reported_twice, 0,
        "{reported_twice} of {rounds} rounds reported one session removed twice"
    );
}
