//! The Auth.js layouts read the columns an app added to its users, accounts and sessions
//! tables as extra fields (discovered at connect and again by `migrate`), and refuse a
//! write of a field that has no column, storing nothing.

use adapter_sqlx::sqlx::{self, SqlitePool};
use adapter_sqlx::{Layout, SqlxAdapter};
use auth_core::serde_json::json;
use auth_core::{
    Adapter, ErrorCode, ErrorKind, ExtraChange, Session, SessionUpdate, User, UserUpdate,
};

#[tokio::test]
async fn drizzle_on_sqlite_reads_the_columns_the_app_added() {
    let dir = std::env::temp_dir().join(format!("authjs-cols-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&dir);
    let url = format!("sqlite://{}?mode=rwc", dir.display());
    let pool = SqlitePool::connect(&url).await.expect("pool");
    let adapter = SqlxAdapter::from_pool(pool.clone())
        .layout(Layout::AuthJsDrizzle)
        .connect()
        .await
        .expect("connect");
    adapter.migrate().await.expect("migrate");
    // The app adds its columns; the next migrate (every start) discovers them.
    sqlx::raw_sql(
        "ALTER TABLE `user` ADD COLUMN role TEXT;
         ALTER TABLE `user` ADD COLUMN age INTEGER;
         ALTER TABLE `user` ADD COLUMN vip BOOLEAN;
         ALTER TABLE `session` ADD COLUMN prefs JSON;
         ALTER TABLE `session` ADD COLUMN score REAL;",
    )
    .execute(&pool)
    .await
    .expect("alter");
    adapter.migrate().await.expect("migrate again");

    let user = adapter
        .create_user(User::new().with_email("cols@example.org"))
        .await
        .expect("create");
    assert!(user.extra.is_empty(), "NULL columns are absent fields");
    let session = adapter
        .create_session(Session::new(&user.id, auth_core::chrono::Duration::days(1)))
        .await
        .expect("session");
    sqlx::query("UPDATE `user` SET role = 'admin', age = -7, vip = 1 WHERE id = ?")
        .bind(&user.id)
        .execute(&pool)
        .await
        .expect("set user columns");
    sqlx::query("UPDATE `session` SET prefs = '{\"n\":[1,0.1,null]}', score = 0.5")
        .execute(&pool)
        .await
        .expect("set session columns");

    let read = adapter
        .get_user(&user.id)
        .await
        .expect("read")
        .expect("user");
    assert_eq!(
        serde_json::Value::Object(read.extra),
        json!({"role": "admin", "age": -7, "vip": true})
    );
    let (s, u) = adapter
        .get_session_and_user(&session.session_token)
        .await
        .expect("read")
        .expect("session");
    assert_eq!(
        serde_json::Value::Object(s.extra),
        json!({"prefs": {"n": [1, 0.1, null]}, "score": 0.5})
    );
    assert_eq!(u.extra.get("role"), Some(&json!("admin")));

    // A field with no column is refused, and nothing is stored.
    let mut other = User::new().with_email("nocol@example.org");
    other.extra.insert("nickname".into(), json!("x"));
    let err = adapter.create_user(other).await.expect_err("no column");
    assert_eq!(
        (err.kind(), err.code()),
        (ErrorKind::InvalidInput, ErrorCode::CreateUserError)
    );
    assert!(adapter
        .get_user_by_email("nocol@example.org")
        .await
        .expect("read")
        .is_none());

    // Fields that name columns are written, in kind, with the record.
    let mut vip = User::new().with_email("vip@example.org");
    vip.extra = json!({"role": "owner", "age": i64::MIN, "vip": false})
        .as_object()
        .cloned()
        .unwrap_or_default();
    let vip = adapter.create_user(vip).await.expect("create with columns");
    let read = adapter
        .get_user(&vip.id)
        .await
        .expect("read")
        .expect("user");
    assert_eq!(read.extra, vip.extra);
    // A value of another kind than its column's is refused, nothing changed.
    let mut update = UserUpdate::new(&vip.id);
    update.name = Some(Some("changed".into()));
    update.extra = Some(ExtraChange::Merge(
        json!({"age": "old"})
            .as_object()
            .cloned()
            .unwrap_or_default(),
    ));
    let err = adapter.update_user(update).await.expect_err("wrong kind");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    // A merge sets and removes columns, the rest kept.
    let mut update = UserUpdate::new(&vip.id);
    update.extra = Some(ExtraChange::Merge(
        json!({"age": 3, "vip": null})
            .as_object()
            .cloned()
            .unwrap_or_default(),
    ));
    let merged = adapter.update_user(update).await.expect("merge");
    assert_eq!(
        serde_json::Value::Object(merged.extra),
        json!({"role": "owner", "age": 3})
    );
    assert_eq!(
        adapter
            .get_user(&vip.id)
            .await
            .expect("read")
            .and_then(|u| u.name),
        None
    );
    // Session data in the JSON and float columns, merged by update_session.
    let mut s2 = Session::new(&vip.id, auth_core::chrono::Duration::days(1));
    s2.extra = json!({"prefs": {"f": 1e16}, "score": 0.1})
        .as_object()
        .cloned()
        .unwrap_or_default();
    let s2 = adapter
        .create_session(s2)
        .await
        .expect("session with columns");
    let mut change = SessionUpdate::new(&s2.session_token);
    change.extra = Some(ExtraChange::Merge(
        json!({"score": 2.5})
            .as_object()
            .cloned()
            .unwrap_or_default(),
    ));
    adapter
        .update_session(change)
        .await
        .expect("update session");
    let (s, _) = adapter
        .get_session_and_user(&s2.session_token)
        .await
        .expect("read")
        .expect("session");
    assert_eq!(
        serde_json::Value::Object(s.extra),
        json!({"prefs": {"f": 1e16}, "score": 2.5})
    );
    pool.close().await;
    let _ = std::fs::remove_file(&dir);
}

#[tokio::test]
async fn pg_adapter_layout_reads_the_columns_the_app_added() {
    use adapter_sqlx::conformance::authjs::{fresh_schema_name, search_path_url};
    let Ok(base) = std::env::var("AUTH_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var_os("AUTH_CONFORMANCE_REQUIRE").is_none(),
            "AUTH_TEST_POSTGRES_URL is not set"
        );
        return eprintln!("skipped: AUTH_TEST_POSTGRES_URL is not set");
    };
    let schema = fresh_schema_name();
    let admin = sqlx::PgPool::connect(&base).await.expect("admin pool");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&admin)
        .await
        .expect("schema");
    let pool = sqlx::PgPool::connect(&search_path_url(&base, &schema))
        .await
        .expect("pool");
    let adapter = SqlxAdapter::from_pool(pool.clone())
        .layout(Layout::AuthJsPg)
        .connect()
        .await
        .expect("connect");
    adapter.migrate().await.expect("migrate");
    sqlx::raw_sql(
        r#"ALTER TABLE users ADD COLUMN role text, ADD COLUMN "loginCount" bigint,
             ADD COLUMN vip boolean, ADD COLUMN big numeric;
           ALTER TABLE sessions ADD COLUMN prefs jsonb, ADD COLUMN score double precision;
           ALTER TABLE accounts ADD COLUMN expires_in integer;"#,
    )
    .execute(&pool)
    .await
    .expect("alter");
    adapter.migrate().await.expect("migrate again");

    let user = adapter
        .create_user(User::new().with_email("cols@example.org"))
        .await
        .expect("create");
    let session = adapter
        .create_session(Session::new(&user.id, auth_core::chrono::Duration::days(1)))
        .await
        .expect("session");
    sqlx::raw_sql(
        r#"UPDATE users SET role = 'admin', "loginCount" = 9223372036854775807, vip = true,
             big = 1.50;
           UPDATE sessions SET prefs = '{"f": 1e16, "t": 0.1}', score = 5e-324;"#,
    )
    .execute(&pool)
    .await
    .expect("set columns");

    let read = adapter
        .get_user(&user.id)
        .await
        .expect("read")
        .expect("user");
    assert_eq!(
        serde_json::Value::Object(read.extra),
        json!({"role": "admin", "loginCount": i64::MAX, "vip": true, "big": "1.50"})
    );
    let (s, _) = adapter
        .get_session_and_user(&session.session_token)
        .await
        .expect("read")
        .expect("session");
    assert_eq!(s.extra.get("score"), Some(&json!(5e-324)));
    assert!(s.extra.contains_key("prefs"));

    let mut other = User::new().with_email("nocol@example.org");
    other.extra.insert("nickname".into(), json!("x"));
    let err = adapter.create_user(other).await.expect_err("no column");
    assert_eq!(
        (err.kind(), err.code()),
        (ErrorKind::InvalidInput, ErrorCode::CreateUserError)
    );
    pool.close().await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
        .execute(&admin)
        .await
        .expect("drop");
}
