//! The extra fields on PostgreSQL, MariaDB and SQLite beyond what the conformance scenarios
//! check: a float comes back a float even where PostgreSQL's `jsonb` prints it without an
//! exponent; concurrent merges into one user or session lose no field (each merge reads
//! and writes inside a write transaction that holds the row); a stored value that is not a
//! JSON object is an error of the call, never a panic.

mod common;

use adapter_seaorm::SeaOrmAdapter;
use auth_core::chrono::Duration;
use auth_core::serde_json::{json, Value};
use auth_core::{
    Account, AccountType, Adapter, ErrorKind, Extra, Session, SessionUpdate, User, UserUpdate,
};
use common::{server, sqlite_url, ServerDb};
use sea_orm::ConnectionTrait;

fn object(value: Value) -> Extra {
    match value {
        Value::Object(object) => object,
        other => panic!("not an object: {other}"),
    }
}

/// Floats at the places where a float and an integer print alike once the exponent is
/// gone, and integers that must stay integers.
fn numbers() -> Extra {
    object(json!({
        "big": 1e16,
        "bigger": 1.5e18,
        "huge": 1e300,
        "negative": -1e17,
        "max": f64::MAX,
        "tiny": f64::from_bits(1),
        "third": 1.0 / 3.0,
        "whole": 3.0,
        "int": 10_000_000_000_000_000_i64,
        "min": i64::MIN,
        "nested": {"list": [1e16, 1, -0.5, null, {"deep": 2e20}]},
    }))
}

async fn floats_keep_their_kind(db: &dyn Adapter) {
    let user = User::with_id("u-numbers")
        .with_email("numbers@example.com")
        .with_extra(&numbers())
        .expect("extra");
    db.create_user(user).await.expect("create_user");
    let read = db.get_user("u-numbers").await.expect("get_user");
    // `Value`'s equality tells a float from an integer of the same value.
    assert_eq!(read.map(|u| u.extra), Some(numbers()), "get_user");

    let mut account = Account::new("u-numbers", AccountType::OAuth, "github", "gh-numbers");
    account.extra = numbers();
    db.link_account(account).await.expect("link_account");
    let read = db.get_account("github", "gh-numbers").await.expect("get");
    assert_eq!(read.map(|a| a.extra), Some(numbers()), "get_account");

    let mut session = Session::new("u-numbers", Duration::days(1));
    session.extra = numbers();
    let token = db
        .create_session(session)
        .await
        .expect("create_session")
        .session_token;
    let (session, user) = db
        .get_session_and_user(&token)
        .await
        .expect("get_session_and_user")
        .expect("live");
    assert_eq!(session.extra, numbers(), "the session");
    assert_eq!(user.extra, numbers(), "the user beside it");
}

async fn concurrent_merges_lose_nothing(db: &std::sync::Arc<dyn Adapter>) {
    const WRITERS: usize = 12;
    let user = User::with_id("u-merges")
        .with_extra(&json!({"kept": true}))
        .expect("extra");
    db.create_user(user).await.expect("create_user");
    let session = Session::new("u-merges", Duration::days(1))
        .with_extra(&json!({"kept": true}))
        .expect("extra");
    let token = db
        .create_session(session)
        .await
        .expect("create_session")
        .session_token;

    let mut tasks = Vec::new();
    for i in 0..WRITERS {
        let (db, token) = (db.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            let field = json!({ format!("f{i}"): i });
            let update = UserUpdate::new("u-merges")
                .merge_extra(&field)
                .expect("patch");
            db.update_user(update).await.expect("update_user");
            let update = SessionUpdate::new(token)
                .merge_extra(&field)
                .expect("patch");
            db.update_session(update)
                .await
                .expect("update_session")
                .expect("live");
        }));
    }
    for task in tasks {
        task.await.expect("writer");
    }
    let mut expected = object(json!({"kept": true}));
    for i in 0..WRITERS {
        expected.insert(format!("f{i}"), json!(i));
    }
    let (session, user) = db
        .get_session_and_user(&token)
        .await
        .expect("read")
        .expect("live");
    assert_eq!(user.extra, expected, "every merge into the user");
    assert_eq!(session.extra, expected, "every merge into the session");
}

async fn a_stored_non_object_is_an_error(adapter: &SeaOrmAdapter, db: &dyn Adapter) {
    let user = User::with_id("u-bad").with_email("bad@example.com");
    db.create_user(user).await.expect("create_user");
    db.link_account(Account::new(
        "u-bad",
        AccountType::OAuth,
        "github",
        "gh-bad",
    ))
    .await
    .expect("link_account");
    let token = db
        .create_session(Session::new("u-bad", Duration::days(1)))
        .await
        .expect("create_session")
        .session_token;
    let conn = adapter.connection();
    // Valid JSON but no object where the column checks it (`jsonb`, MariaDB's JSON_VALID);
    // not JSON at all on SQLite's TEXT.
    let (not_an_object, array) = match conn.get_database_backend() {
        sea_orm::DbBackend::Sqlite => ("'{\"cut\": '", "'[1, 2'"),
        _ => ("'\"a string\"'", "'[1, 2]'"),
    };
    for sql in [
        format!("UPDATE auth_users SET extra = {not_an_object} WHERE id = 'u-bad'"),
        format!("UPDATE auth_accounts SET extra = {array} WHERE user_id = 'u-bad'"),
        format!("UPDATE auth_sessions SET extra = {array} WHERE user_id = 'u-bad'"),
    ] {
        conn.execute_unprepared(&sql).await.expect("corrupt a row");
    }
    let backend = |result: Result<(), auth_core::AdapterError>, what: &str| {
        let err = result.expect_err(what);
        assert_eq!(err.kind(), ErrorKind::Backend, "{what}: {err}");
    };
    backend(db.get_user("u-bad").await.map(drop), "get_user");
    backend(
        db.get_user_by_email("bad@example.com").await.map(drop),
        "get_user_by_email",
    );
    backend(
        db.get_account("github", "gh-bad").await.map(drop),
        "get_account",
    );
    backend(db.list_accounts("u-bad").await.map(drop), "list_accounts");
    backend(
        db.get_session_and_user(&token).await.map(drop),
        "get_session_and_user",
    );
    backend(db.list_sessions("u-bad").await.map(drop), "list_sessions");
    let merge = UserUpdate::new("u-bad")
        .merge_extra(&json!({"role": "x"}))
        .expect("patch");
    backend(db.update_user(merge).await.map(drop), "a merge into it");
}

async fn checks(url: &str) {
    let adapter = SeaOrmAdapter::connect(url).await.expect("connect");
    adapter.migrate().await.expect("migrate");
    let db: std::sync::Arc<dyn Adapter> = std::sync::Arc::new(adapter.clone());
    floats_keep_their_kind(db.as_ref()).await;
    concurrent_merges_lose_nothing(&db).await;
    a_stored_non_object_is_an_error(&adapter, db.as_ref()).await;
    adapter.close().await;
}

async fn on_server(var: &str, backend: &str) {
    let Some(server_url) = server(var, backend) else {
        return;
    };
    let data = ServerDb::create(&server_url).await;
    checks(&data.url).await;
    data.drop_now().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_extra_fields() {
    on_server("AUTH_TEST_POSTGRES_URL", "seaorm-postgres").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mariadb_extra_fields() {
    on_server("AUTH_TEST_MARIADB_URL", "seaorm-mariadb").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_extra_fields() {
    let (url, dir) = sqlite_url("extra");
    checks(&url).await;
    std::fs::remove_dir_all(dir).expect("remove temp dir");
}
