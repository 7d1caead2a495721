//! The hot path costs one statement: `get_session_and_user` sends exactly one query on a
//! warm pool (the joined `SELECT`), with no `SELECT 1` on checkout and none on return,
//! on every dialect. Counted with diesel's instrumentation, which sees every query a
//! connection sends (the process-wide default applies to the pool's connections).

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use adapter_diesel::diesel::connection::{
    set_default_instrumentation, Instrumentation, InstrumentationEvent,
};
use auth_core::chrono::{Duration as Span, Utc};
use auth_core::{Adapter, Session, User};
use common::{Fresh, ALL};

static RECORDING: AtomicBool = AtomicBool::new(false);
static QUERIES: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn recorder() -> Option<Box<dyn Instrumentation>> {
    Some(Box::new(|event: InstrumentationEvent<'_>| {
        if let InstrumentationEvent::StartQuery { query, .. } = event {
            if RECORDING.load(Ordering::SeqCst) {
                if let Ok(mut queries) = QUERIES.lock() {
                    queries.push(query.to_string());
                }
            }
        }
    }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_session_and_user_sends_one_query() {
    set_default_instrumentation(recorder).expect("instrumentation");
    for db in ALL {
        let Some(fresh) = Fresh::new(db).await else {
            continue;
        };
        let adapter = fresh.single_connection_adapter().await;
        let user = adapter
            .create_user(User::with_id("u1"))
            .await
            .expect("user");
        let session = adapter
            .create_session(Session::with_token("t1", "u1", Utc::now() + Span::days(1)))
            .await
            .expect("session");

        QUERIES.lock().expect("lock").clear();
        RECORDING.store(true, Ordering::SeqCst);
        for _ in 0..3 {
            assert_eq!(
                adapter.get_session_and_user("t1").await.expect("read"),
                Some((session.clone(), user.clone()))
            );
        }
        RECORDING.store(false, Ordering::SeqCst);
        let queries = std::mem::take(&mut *QUERIES.lock().expect("lock"));
        assert_eq!(
            queries.len(),
            3,
            "{db:?}: one query per call, got {queries:#?}"
        );
        for query in &queries {
            assert!(
                query.contains("INNER JOIN") && query.contains("auth_users"),
                "{db:?}: the joined SELECT, got {query}"
            );
        }
        adapter.close().await;
        fresh.remove().await;
    }
}
