//! Keys compare byte for byte on every backend: no case folding, no trailing-space padding
//! (MariaDB's default PAD SPACE collations would make `'a'` equal `'a '`), and an over-long
//! MariaDB key is refused before it is sent rather than truncated.

use adapter_conformance::harness::{self, BackendSpec, Resolved};
use adapter_sqlx::conformance::{
    mariadb_spec, postgres_spec, sqlite_file_spec, sqlite_memory_spec,
};
use auth_core::chrono::{Duration, Utc};
use auth_core::{ErrorKind, Session, User};

async fn check(spec: BackendSpec) {
    let backend = match harness::resolve(&spec).await.expect("backend opens") {
        Resolved::Ready(backend) => backend,
        Resolved::Skipped(why) => {
            assert!(!harness::is_required(spec.name), "{why}");
            eprintln!("{why}");
            return;
        }
    };
    let fx = backend.fixture().await.expect("fixture");
    let db = &fx.adapter;
    let ids = ["a", "a ", "A", "A ", " a"];
    for id in ids {
        db.create_user(User::with_id(id))
            .await
            .expect("distinct ids");
        db.create_session(Session::with_token(id, id, Utc::now() + Duration::days(1)))
            .await
            .expect("distinct session tokens");
    }
    for id in ids {
        let (session, user) = db
            .get_session_and_user(id)
            .await
            .expect("read")
            .expect("live session");
        assert_eq!((session.session_token.as_str(), user.id.as_str()), (id, id));
    }
    let long = "k".repeat(256);
    match db.create_user(User::with_id(long.as_str())).await {
        Ok(user) => assert_eq!(db.get_user(&long).await.expect("read"), Some(user)),
        Err(err) => assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}"),
    }
    assert_eq!(db.get_user(&"k".repeat(255)).await.expect("read"), None);
    fx.inspector.teardown().await.expect("teardown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_keys_are_exact() {
    check(postgres_spec()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_keys_are_exact() {
    check(mariadb_spec()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_file_keys_are_exact() {
    check(sqlite_file_spec()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_memory_keys_are_exact() {
    check(sqlite_memory_spec()).await;
}
