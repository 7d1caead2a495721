//! The store's checks, each on a fresh fixture of one backend: tower-sessions' store
//! contract (the mutant-relevant ones generic over any `SessionStore`, so that
//! `tests/mutants.rs` can show each catches its mutant), tower-sessions' own route tests
//! brought over from its repository's `tests/common`, and axum-login flows.

#![allow(dead_code)] // each test binary uses part of it

use std::collections::HashMap;
use std::sync::Arc;

use adapter_conformance::check::{Failure, Outcome};
use adapter_conformance::{ensure_eq, Fixture, Scenario};
use auth_core::at_rest::HashedTokens;
use auth_core::Adapter;
use auth_tower_sessions::{
    AdapterSessionStore, ANONYMOUS_OWNER_EMAIL, AXUM_LOGIN_DATA_KEY, DATA_FIELD,
};
use serde_json::{json, Value};
use time::{Duration, OffsetDateTime};
use tower_sessions_core_014::session::{Id, Record};
use tower_sessions_core_014::session_store::{ExpiredDeletion, SessionStore};

pub mod login;
pub mod routes;

/// Every check, in report order: trial names are `<backend>::<name>`.
pub static CHECKS: &[Scenario] = &[
    check(1, "store_round_trip", "a record reads back as it was created, on both tower-sessions lines", |fx| Box::pin(store_round_trip(fx))),
    check(2, "create_never_overwrites", "create under a taken id keeps the stored record and takes a fresh id", |fx| Box::pin(create_never_overwrites(fx))),
    check(3, "save_replaces_and_never_revives", "save replaces a stored record's data and never brings back an ended one", |fx| Box::pin(save_replaces_and_never_revives(fx))),
    check(4, "expired_never_loads", "an expired record never loads, and delete_expired removes it", |fx| Box::pin(expired_never_loads(fx))),
    check(5, "delete_removes", "delete removes the record; deleting a missing one is fine", |fx| Box::pin(delete_removes(fx))),
    check(6, "records_belong_to_their_user", "a signed-in record belongs to its user, others to the anonymous owner", |fx| Box::pin(records_belong_to_their_user(fx))),
    check(7, "ids_hashed_at_rest", "through HashedTokens the database never holds the cookie's id", |fx| Box::pin(ids_hashed_at_rest(fx))),
    check(8, "route_tests", "tower-sessions' own route tests over this store", |fx| Box::pin(routes::all(fx))),
    check(9, "axum_login_flow", "axum-login: email link sign-in, protected page, sign-out, linked account, sign-out everywhere", |fx| Box::pin(login::flow(fx))),
];

const fn check(
    number: u32,
    name: &'static str,
    title: &'static str,
    run: adapter_conformance::ScenarioFn,
) -> Scenario {
    Scenario {
        number,
        name,
        title,
        detail: title,
        run,
    }
}

/// The store over the fixture's adapter.
pub fn store_of(fx: &Fixture) -> AdapterSessionStore {
    AdapterSessionStore::new(Arc::clone(&fx.adapter))
}

/// A record with `data`, expiring `ttl` from now (to the millisecond, as stores keep it).
pub fn record(data: Value, ttl: Duration) -> Record {
    let expiry = OffsetDateTime::now_utc() + ttl;
    let expiry = expiry
        .replace_millisecond(expiry.millisecond())
        .expect("a millisecond");
    Record {
        id: Id::default(),
        data: data
            .as_object()
            .expect("an object")
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        expiry_date: expiry,
    }
}

fn fail(what: impl std::fmt::Display) -> Failure {
    Failure::new(what.to_string())
}

fn loaded(
    result: Result<Option<Record>, tower_sessions_core_014::session_store::Error>,
    what: &str,
) -> Result<Option<Record>, Failure> {
    result.map_err(|e| fail(format!("{what}: {e}")))
}

async fn store_round_trip(fx: &Fixture) -> Outcome {
    let store = store_of(fx);
    // Names no extra field may have (a `.`, a leading `$`) and nested values.
    let data = json!({"foo": 42, "axum-login.x": {"nested": [1, "two", null]}, "$odd": "ok"});
    let mut created = record(data.clone(), Duration::hours(1));
    store.create(&mut created).await.map_err(fail)?;
    let back = loaded(store.load(&created.id).await, "load")?
        .ok_or_else(|| fail("the record does not load"))?;
    ensure_eq!(back.data, created.data, "data");
    ensure_eq!(back.expiry_date, created.expiry_date, "expiry");
    ensure_eq!(back.id, created.id, "id");
    // In the adapter: a session under the id, its data in one field, owned by the
    // anonymous owner.
    let (session, owner) = fx
        .adapter
        .get_session_and_user(&created.id.to_string())
        .await?
        .ok_or_else(|| fail("no session under the record's id"))?;
    ensure_eq!(
        owner.email.as_deref(),
        Some(ANONYMOUS_OWNER_EMAIL),
        "owner's email"
    );
    ensure_eq!(
        session.extra.keys().collect::<Vec<_>>(),
        vec![DATA_FIELD],
        "extra fields"
    );
    // The 0.15 line's trait on the same store and the same records.
    use tower_sessions_core_015::session::{Id as Id15, Record as Record15};
    type Store15 = dyn tower_sessions_core_015::SessionStore;
    let mut newer = Record15 {
        id: Id15::default(),
        data: created.data.clone(),
        expiry_date: created.expiry_date,
    };
    Store15::create(&store as &Store15, &mut newer)
        .await
        .map_err(fail)?;
    let back = Store15::load(&store as &Store15, &newer.id)
        .await
        .map_err(fail)?
        .ok_or_else(|| fail("a 0.15 record does not load"))?;
    ensure_eq!(back.data, created.data, "0.15 data");
    let old_through_new = Store15::load(&store as &Store15, &Id15(created.id.0))
        .await
        .map_err(fail)?;
    ensure_eq!(
        old_through_new.map(|r| r.data),
        Some(created.data),
        "a 0.14 record through 0.15"
    );
    Ok(())
}

async fn create_never_overwrites(fx: &Fixture) -> Outcome {
    create_never_overwrites_with(&store_of(fx)).await
}

/// Two records created under one id: the first stays as it was, the second gets another.
pub async fn create_never_overwrites_with(store: &impl SessionStore) -> Outcome {
    let mut first = record(json!({"who": "first"}), Duration::hours(1));
    store.create(&mut first).await.map_err(fail)?;
    let mut second = record(json!({"who": "second"}), Duration::hours(1));
    second.id = first.id;
    store.create(&mut second).await.map_err(fail)?;
    if second.id == first.id {
        return Err(fail("create kept a taken id"));
    }
    let stored_first = loaded(store.load(&first.id).await, "load first")?;
    ensure_eq!(
        stored_first.map(|r| r.data),
        Some(first.data),
        "the first record"
    );
    let stored_second = loaded(store.load(&second.id).await, "load second")?;
    ensure_eq!(
        stored_second.map(|r| r.data),
        Some(second.data),
        "the second record, under its new id"
    );
    Ok(())
}

async fn save_replaces_and_never_revives(fx: &Fixture) -> Outcome {
    save_replaces_and_never_revives_with(&store_of(fx)).await
}

/// A save replaces the stored data and expiry exactly; a save of a record that was never
/// created, or was deleted, stores nothing.
pub async fn save_replaces_and_never_revives_with(store: &impl SessionStore) -> Outcome {
    let mut record = record(json!({"a": 1, "b": 2}), Duration::hours(1));
    store.create(&mut record).await.map_err(fail)?;
    record.data.remove("a");
    record.data.insert("b".into(), json!("changed"));
    record.expiry_date += Duration::minutes(5);
    store.save(&record).await.map_err(fail)?;
    let back = loaded(store.load(&record.id).await, "load")?.ok_or_else(|| fail("gone"))?;
    ensure_eq!(back.data, record.data, "data after the save");
    ensure_eq!(
        back.expiry_date,
        record.expiry_date,
        "expiry after the save"
    );
    // Ended (signed out elsewhere) while a request held it: its save does not revive it.
    store.delete(&record.id).await.map_err(fail)?;
    store.save(&record).await.map_err(fail)?;
    ensure_eq!(
        loaded(store.load(&record.id).await, "load")?.map(|r| r.data),
        None,
        "a deleted record after a save"
    );
    let never_created = self::record(json!({"x": 1}), Duration::hours(1));
    store.save(&never_created).await.map_err(fail)?;
    ensure_eq!(
        loaded(store.load(&never_created.id).await, "load")?.map(|r| r.data),
        None,
        "a record saved, never created"
    );
    Ok(())
}

async fn expired_never_loads(fx: &Fixture) -> Outcome {
    let store = store_of(fx);
    expired_never_loads_with(&store).await?;
    // delete_expired removes what expired and keeps what did not.
    let mut expired = record(json!({"old": true}), Duration::seconds(-5));
    store.create(&mut expired).await.map_err(fail)?;
    let mut live = record(json!({"live": true}), Duration::hours(1));
    store.create(&mut live).await.map_err(fail)?;
    store.delete_expired().await.map_err(fail)?;
    let raw = fx.inspector.stored_session(&expired.id.to_string()).await?;
    ensure_eq!(
        raw.map(|s| s.session_token),
        None,
        "the expired record after delete_expired"
    );
    let back = loaded(store.load(&live.id).await, "load live")?;
    ensure_eq!(
        back.map(|r| r.data),
        Some(live.data),
        "the live record after delete_expired"
    );
    Ok(())
}

/// A record created already expired, and one saved past its expiry, never load.
pub async fn expired_never_loads_with(store: &impl SessionStore) -> Outcome {
    let mut expired = record(json!({"old": true}), Duration::seconds(-5));
    store.create(&mut expired).await.map_err(fail)?;
    let back = loaded(store.load(&expired.id).await, "load")?;
    ensure_eq!(back.map(|r| r.data), None, "a record created expired");
    let mut live = record(json!({"n": 1}), Duration::hours(1));
    store.create(&mut live).await.map_err(fail)?;
    ensure_eq!(
        loaded(store.load(&live.id).await, "load")?.is_some(),
        true,
        "a live record"
    );
    live.expiry_date = OffsetDateTime::now_utc() - Duration::seconds(1);
    store.save(&live).await.map_err(fail)?;
    let back = loaded(store.load(&live.id).await, "load")?;
    ensure_eq!(
        back.map(|r| r.data),
        None,
        "a record saved with a past expiry"
    );
    Ok(())
}

async fn delete_removes(fx: &Fixture) -> Outcome {
    let store = store_of(fx);
    let mut record = record(json!({"x": 1}), Duration::hours(1));
    store.create(&mut record).await.map_err(fail)?;
    store.delete(&record.id).await.map_err(fail)?;
    ensure_eq!(
        loaded(store.load(&record.id).await, "load")?.map(|r| r.data),
        None,
        "after delete"
    );
    store.delete(&record.id).await.map_err(fail)?;
    store.delete(&Id::default()).await.map_err(fail)?;
    Ok(())
}

async fn records_belong_to_their_user(fx: &Fixture) -> Outcome {
    let store = store_of(fx);
    let user = fx
        .adapter
        .create_user(auth_core::User::new().with_email("ada@example.com"))
        .await?;
    let login = json!({AXUM_LOGIN_DATA_KEY: {"user_id": user.id, "auth_hash": [1, 2, 3]}});
    // Created signed in (axum-login cycles the id at sign-in, so its record is created).
    let mut signed_in = record(login.clone(), Duration::hours(1));
    store.create(&mut signed_in).await.map_err(fail)?;
    // Created anonymous, then saved signed in: it moves to the user.
    let mut moved = record(json!({"cart": [1]}), Duration::hours(1));
    store.create(&mut moved).await.map_err(fail)?;
    let anonymous = store.anonymous_owner().await?;
    let owner_of = |token: String| {
        let adapter = Arc::clone(&fx.adapter);
        async move {
            adapter
                .get_session_and_user(&token)
                .await
                .map(|found| found.map(|(session, _)| session.user_id))
        }
    };
    ensure_eq!(
        owner_of(moved.id.to_string()).await?,
        Some(anonymous.clone()),
        "an anonymous record's owner"
    );
    moved.data.insert(
        AXUM_LOGIN_DATA_KEY.into(),
        login[AXUM_LOGIN_DATA_KEY].clone(),
    );
    store.save(&moved).await.map_err(fail)?;
    ensure_eq!(
        owner_of(moved.id.to_string()).await?,
        Some(user.id.clone()),
        "after the sign-in's save"
    );
    ensure_eq!(
        owner_of(signed_in.id.to_string()).await?,
        Some(user.id.clone()),
        "a record created signed in"
    );
    ensure_eq!(
        fx.adapter.list_sessions(&user.id).await?.len(),
        2,
        "the user's sessions"
    );
    // Sign out everywhere: the adapter's delete_sessions ends both records.
    ensure_eq!(
        fx.adapter.delete_sessions(&user.id).await?,
        2,
        "sessions deleted"
    );
    ensure_eq!(
        loaded(store.load(&signed_in.id).await, "load")?.map(|r| r.data),
        None,
        "a signed-out record"
    );
    ensure_eq!(
        loaded(store.load(&moved.id).await, "load")?.map(|r| r.data),
        None,
        "the other signed-out record"
    );
    // A record naming a user that no longer exists goes to the anonymous owner.
    fx.adapter.delete_user(&user.id).await?;
    let mut orphan = record(login, Duration::hours(1));
    store.create(&mut orphan).await.map_err(fail)?;
    ensure_eq!(
        owner_of(orphan.id.to_string()).await?,
        Some(anonymous),
        "a record of a deleted user"
    );
    Ok(())
}

async fn ids_hashed_at_rest(fx: &Fixture) -> Outcome {
    let hashed: Arc<dyn Adapter> = Arc::new(HashedTokens::from_arc(Arc::clone(&fx.adapter)));
    let store = AdapterSessionStore::new(hashed);
    let mut record = record(json!({"secret": "data"}), Duration::hours(1));
    store.create(&mut record).await.map_err(fail)?;
    let raw = fx.inspector.stored_session(&record.id.to_string()).await?;
    ensure_eq!(
        raw.map(|s| s.session_token),
        None,
        "a stored session under the cookie's id"
    );
    let back = loaded(store.load(&record.id).await, "load")?;
    ensure_eq!(
        back.map(|r| r.data),
        Some(record.data.clone()),
        "the record through the hashing store"
    );
    // The plain adapter, handed the cookie's id, finds nothing either.
    ensure_eq!(
        fx.adapter
            .get_session_and_user(&record.id.to_string())
            .await?
            .map(|(s, _)| s.session_token),
        None,
        "the cookie's id on the unwrapped adapter"
    );
    Ok(())
}

/// The data of records as the test sees them.
pub type Data = HashMap<String, Value>;
