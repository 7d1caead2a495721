//! A database made by the previous release (migration 1 only) with rows in every table,
//! upgraded by `migrate()`: every row reads back equal through the adapter with no extra
//! fields, the history is at the latest version, and the upgraded tables take extra fields.
//! (The `*-upgraded` backends of `tests/conformance.rs` then run the whole suite on such
//! databases.)

use adapter_conformance::harness::{BackendSpec, Source};
use adapter_sqlx::conformance::upgrade::{
    mariadb_upgraded_spec, postgres_upgraded_spec, sqlite_upgraded_spec, Seed,
};
use auth_core::UserUpdate;

/// Opens a fixture of `spec` (which seeds, upgrades and checks every seeded row), then
/// checks the seeded user takes extra fields, and tears down.
async fn upgrades(spec: BackendSpec) {
    let url = match spec.source {
        Source::Server { env_var, .. } => match std::env::var(env_var) {
            Ok(url) => Some(url),
            Err(_) if std::env::var_os("AUTH_CONFORMANCE_REQUIRE").is_some() => {
                panic!("{}: {env_var} is not set", spec.name)
            }
            Err(_) => return eprintln!("{}: skipped, {env_var} is not set", spec.name),
        },
        _ => None,
    };
    let backend = (spec.open)(url).await.expect("backend");
    let fixture = backend
        .fixture()
        .await
        .expect("the seeded rows survive the upgrade");
    let seed = Seed::new();
    let id = seed.full_user.id.as_str();
    let stored = fixture.inspector.stored_user(id).await.expect("inspector");
    assert_eq!(
        stored.map(|u| u.extra.is_empty()),
        Some(true),
        "{}",
        spec.name
    );
    let mut update = UserUpdate::new(id);
    update.extra = Some(auth_core::ExtraChange::Merge(
        serde_json::json!({"role": "admin"})
            .as_object()
            .cloned()
            .unwrap_or_default(),
    ));
    let user = fixture.adapter.update_user(update).await.expect("merge");
    assert_eq!(user.extra["role"], "admin", "{}", spec.name);
    assert_eq!(user.email, seed.full_user.email, "{}", spec.name);
    fixture.inspector.teardown().await.expect("teardown");
}

#[tokio::test]
async fn postgres_keeps_every_row() {
    upgrades(postgres_upgraded_spec()).await;
}

#[tokio::test]
async fn mariadb_keeps_every_row() {
    upgrades(mariadb_upgraded_spec()).await;
}

#[tokio::test]
async fn sqlite_keeps_every_row() {
    upgrades(sqlite_upgraded_spec()).await;
}
