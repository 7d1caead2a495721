//! One schema for both SQL crates: a database migrated by adapter-sqlx (default prefix
//! `auth_`) is migrated again, read and written by adapter-diesel, and the other way round,
//! on PostgreSQL, MariaDB and SQLite. Users, sessions, accounts and verification tokens
//! written by one crate are read by the other, both ways, extra fields included (one
//! encoding of the `extra` columns), and a merge by one crate is read by the other.

mod common;

use std::time::Duration;

use adapter_diesel::DieselAdapter;
use adapter_sqlx::SqlxAdapter;
use auth_core::chrono::{Duration as Span, TimeZone, Utc};
use auth_core::serde_json::{json, Value};
use auth_core::{Account, AccountType, Adapter, Extra, Session, User, VerificationToken};
use common::{Db, Fresh, ALL};

fn object(value: Value) -> Extra {
    match value {
        Value::Object(object) => object,
        _ => Extra::new(),
    }
}

async fn both(fresh: &Fresh) -> (SqlxAdapter, DieselAdapter) {
    let sqlx = SqlxAdapter::builder(fresh.sqlx_url.as_str())
        .max_connections(2)
        .call_timeout(Duration::from_secs(10))
        .connect()
        .await
        .expect("adapter-sqlx connects");
    let diesel = DieselAdapter::builder(fresh.url.as_str())
        .max_connections(2)
        .call_timeout(Duration::from_secs(10))
        .connect()
        .await
        .expect("adapter-diesel connects");
    (sqlx, diesel)
}

/// Writes a user with a session, an account and a verification token through `writer`
/// and reads every one of them through `reader`.
async fn written_by_read_by(writer: &dyn Adapter, reader: &dyn Adapter, tag: &str) {
    let verified = Utc
        .timestamp_millis_opt(1_700_000_000_123)
        .single()
        .expect("instant");
    let mut user = User::with_id(format!("user-{tag}"))
        .with_email(format!("Ada.{tag}@Example.com"))
        .with_name("Ada");
    user.extra = object(json!({
        "role": "admin ✓",
        "level": i64::MIN,
        "ratio": 0.1,
        "prefs": {"theme": "dark", "limits": [1, -1.5, null, {"k": false}]},
    }));
    let user = writer.create_user(user).await.expect("create_user");
    let user = writer
        .update_user(auth_core::UserUpdate::new(user.id.clone()).email_verified(Some(verified)))
        .await
        .expect("update_user");
    let mut session = Session::with_token(
        format!("session-{tag}"),
        &user.id,
        Utc::now() + Span::days(30),
    );
    session.extra = object(json!({"csrf": "c5rf", "remember": true}));
    let session = writer
        .create_session(session)
        .await
        .expect("create_session");
    let mut account = Account::new(&user.id, AccountType::OAuth, "github", format!("gh-{tag}"));
    account.access_token = Some("access".into());
    account.expires_at = Some(1_900_000_000);
    account.extra = object(json!({"expires_in": 3599, "raw": {"ids": [1, i64::MAX]}}));
    let account = writer.link_account(account).await.expect("link_account");
    let token = writer
        .create_verification_token(VerificationToken::new(
            format!("ada.{tag}@example.com"),
            format!("vt-{tag}"),
            Utc::now() + Span::hours(1),
        ))
        .await
        .expect("create_verification_token");

    assert_eq!(
        reader
            .get_session_and_user(&session.session_token)
            .await
            .expect("get_session_and_user"),
        Some((session.clone(), user.clone())),
        "{tag}: the session and its user"
    );
    assert_eq!(
        reader
            .get_user_by_email(&format!("ada.{tag}@example.COM"))
            .await
            .expect("get_user_by_email"),
        Some(user.clone()),
        "{tag}: the email key written by one crate is found by the other"
    );
    assert_eq!(
        reader
            .get_account("github", &account.provider_account_id)
            .await
            .expect("get_account"),
        Some(account.clone())
    );
    assert_eq!(
        reader
            .get_user_by_account("github", &account.provider_account_id)
            .await
            .expect("get_user_by_account"),
        Some(user.clone())
    );
    assert_eq!(
        reader
            .use_verification_token(&token.identifier, &token.token)
            .await
            .expect("use_verification_token"),
        Some(token)
    );
    assert_eq!(
        reader.list_sessions(&user.id).await.expect("list_sessions"),
        vec![session.clone()]
    );
    // A merge by the reader (into what the writer stored) reads back through the writer.
    let merged = reader
        .update_user(
            auth_core::UserUpdate::new(user.id.clone())
                .merge_extra(&json!({"role": null, "plan": "pro"}))
                .expect("a merge patch"),
        )
        .await
        .expect("update_user merges");
    let mut expected = user.extra.clone();
    expected.remove("role");
    expected.insert("plan".into(), "pro".into());
    assert_eq!(merged.extra, expected, "{tag}: the merge's return value");
    let user = writer
        .get_user(&user.id)
        .await
        .expect("get_user")
        .expect("the user");
    assert_eq!(user.extra, expected, "{tag}: the merge, read by the writer");
    // The reader deletes; the cascade is the same schema's.
    assert_eq!(
        reader.delete_user(&user.id).await.expect("delete_user"),
        Some(user.clone())
    );
    assert_eq!(
        writer
            .get_session_and_user(&session.session_token)
            .await
            .expect("read"),
        None
    );
    assert_eq!(
        writer
            .get_account("github", &account.provider_account_id)
            .await
            .expect("read"),
        None
    );
}

async fn check(db: Db, diesel_first: bool) {
    let Some(fresh) = Fresh::new(db).await else {
        return;
    };
    let (sqlx, diesel) = both(&fresh).await;
    if diesel_first {
        diesel
            .migrate()
            .await
            .expect("adapter-diesel migrates a fresh database");
        sqlx.migrate()
            .await
            .expect("adapter-sqlx migrates a database adapter-diesel made");
    } else {
        sqlx.migrate()
            .await
            .expect("adapter-sqlx migrates a fresh database");
        diesel
            .migrate()
            .await
            .expect("adapter-diesel migrates a database adapter-sqlx made");
    }
    // Both again: idempotent on the shared tables.
    diesel
        .migrate()
        .await
        .expect("adapter-diesel migrates again");
    sqlx.migrate().await.expect("adapter-sqlx migrates again");

    let order = if diesel_first {
        "diesel-first"
    } else {
        "sqlx-first"
    };
    written_by_read_by(&sqlx, &diesel, &format!("{order}-sqlx-to-diesel")).await;
    written_by_read_by(&diesel, &sqlx, &format!("{order}-diesel-to-sqlx")).await;

    sqlx.close().await;
    diesel.close().await;
    fresh.remove().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_migrated_by_adapter_sqlx_serves_adapter_diesel() {
    for db in ALL {
        check(db, false).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_migrated_by_adapter_diesel_serves_adapter_sqlx() {
    for db in ALL {
        check(db, true).await;
    }
}
