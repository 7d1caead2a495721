//! The Auth.js layouts keep extra fields only in columns the app added to its tables (the
//! conformance fixtures add one per field the scenarios write): a write of a field with no
//! column, or of a value of another kind than its column's, is `InvalidInput` with the
//! method's code and stores nothing (never a silent drop or a conversion); a merge that
//! only removes fields writes nothing and succeeds.

use std::sync::Arc;

use adapter_conformance::harness::{BackendSpec, Source};
use adapter_sqlx::conformance::authjs::{
    mariadb_drizzle_spec, postgres_authjs_spec, postgres_drizzle_spec, sqlite_drizzle_spec,
};
use auth_core::serde_json::{json, Value};
use auth_core::{
    Account, AccountType, Adapter, AdapterError, ErrorCode, ErrorKind, Extra, ExtraChange, Session,
    User, UserUpdate,
};

fn fields(value: Value) -> Extra {
    value.as_object().cloned().unwrap_or_default()
}

fn refused(result: Result<impl std::fmt::Debug, AdapterError>, code: ErrorCode, what: &str) {
    let err = result.expect_err(what);
    assert_eq!(
        (err.kind(), err.code()),
        (ErrorKind::InvalidInput, code),
        "{what}: {err}"
    );
}

async fn refuses_extra_fields(spec: BackendSpec) {
    let name = spec.name;
    let url = match spec.source {
        Source::Server { env_var, .. } => match std::env::var(env_var) {
            Ok(url) => Some(url),
            Err(_) if std::env::var_os("AUTH_CONFORMANCE_REQUIRE").is_some() => {
                panic!("{name}: {env_var} is not set")
            }
            Err(_) => return eprintln!("{name}: skipped, {env_var} is not set"),
        },
        _ => None,
    };
    let backend = (spec.open)(url).await.expect("backend");
    let fixture = backend.fixture().await.expect("fixture");
    let adapter: Arc<dyn Adapter> = fixture.adapter.clone();

    let role = fields(json!({"no_such_column": "admin"}));
    let mut user = User::new().with_email("extra-refused@example.org");
    user.extra = role.clone();
    refused(
        adapter.create_user(user).await,
        ErrorCode::CreateUserError,
        name,
    );
    let none = adapter
        .get_user_by_email("extra-refused@example.org")
        .await
        .expect("read");
    assert!(none.is_none(), "{name}: a refused user was stored");

    let user = adapter
        .create_user(User::new().with_email("extra-owner@example.org"))
        .await
        .expect("create");
    let mut account = Account::new(&user.id, AccountType::OAuth, "x", "x-extra");
    account.extra = fields(json!({"no_such_column": 3600}));
    refused(
        adapter.link_account(account).await,
        ErrorCode::LinkAccountError,
        name,
    );
    assert!(
        adapter
            .get_account("x", "x-extra")
            .await
            .expect("read")
            .is_none(),
        "{name}: a refused account was stored"
    );

    let mut session = Session::new(&user.id, auth_core::chrono::Duration::days(1));
    session.extra = fields(json!({"no_such_column": "c"}));
    let token = session.session_token.clone();
    refused(
        adapter.create_session(session).await,
        ErrorCode::CreateSessionError,
        name,
    );
    assert!(
        adapter
            .get_session_and_user(&token)
            .await
            .expect("read")
            .is_none(),
        "{name}: a refused session was stored"
    );

    // The fixture's `level` column is a 64-bit integer, `score` a double: a string or an
    // integer there would not read back as written.
    for wrong in [
        json!({"level": "seven"}),
        json!({"score": 1}),
        json!({"verified_human": 1}),
    ] {
        let mut update = UserUpdate::new(&user.id);
        update.extra = Some(ExtraChange::Merge(fields(wrong.clone())));
        refused(
            adapter.update_user(update).await,
            ErrorCode::UpdateUserError,
            &format!("{name}: {wrong}"),
        );
    }

    let mut update = UserUpdate::new(&user.id);
    update.name = Some(Some("changed".into()));
    update.extra = Some(ExtraChange::Merge(role));
    refused(
        adapter.update_user(update).await,
        ErrorCode::UpdateUserError,
        name,
    );
    let stored = adapter.get_user(&user.id).await.expect("read");
    assert_eq!(stored.and_then(|u| u.name), None, "{name}: half an update");

    // Removing a field that cannot exist writes nothing, and is no error.
    let mut update = UserUpdate::new(&user.id);
    update.extra = Some(ExtraChange::Merge(fields(json!({"no_such_column": null}))));
    let kept = adapter.update_user(update).await.expect("a removal only");
    assert!(kept.extra.is_empty(), "{name}");

    fixture.inspector.teardown().await.expect("teardown");
}

#[tokio::test]
async fn pg_adapter_layout_refuses_extra_fields() {
    refuses_extra_fields(postgres_authjs_spec()).await;
}

#[tokio::test]
async fn drizzle_on_postgres_refuses_extra_fields() {
    refuses_extra_fields(postgres_drizzle_spec()).await;
}

#[tokio::test]
async fn drizzle_on_sqlite_refuses_extra_fields() {
    refuses_extra_fields(sqlite_drizzle_spec()).await;
}

#[tokio::test]
async fn drizzle_on_mariadb_refuses_extra_fields() {
    refuses_extra_fields(mariadb_drizzle_spec()).await;
}
