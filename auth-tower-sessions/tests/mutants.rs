//! The store checks catch broken stores: each mutant below breaks one rule of
//! tower-sessions' store contract, and the check for that rule fails on it (while the real
//! store passes). Over auth-core's memory adapter: the mutants are the stores, not the
//! database.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod checks;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use auth_core::memory::MemoryAdapter;
use auth_tower_sessions::AdapterSessionStore;
use tower_sessions_core_014::session::{Id, Record};
use tower_sessions_core_014::session_store::{Result, SessionStore};

fn real_store() -> AdapterSessionStore {
    AdapterSessionStore::new(Arc::new(MemoryAdapter::new()))
}

/// `create` as tower-sessions' default does it: a `save`, which overwrites a taken id.
#[derive(Debug, Clone)]
struct OverwritingCreate(AdapterSessionStore);

#[async_trait::async_trait]
impl SessionStore for OverwritingCreate {
    async fn create(&self, record: &mut Record) -> Result<()> {
        self.0.save(record).await
    }
    async fn save(&self, record: &Record) -> Result<()> {
        self.0.save(record).await
    }
    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        self.0.load(id).await
    }
    async fn delete(&self, id: &Id) -> Result<()> {
        self.0.delete(id).await
    }
}

/// A read-through cache in front of the store that forgets to check the expiry.
#[derive(Debug, Clone)]
struct LoadsExpired {
    store: AdapterSessionStore,
    cache: Arc<Mutex<HashMap<Id, Record>>>,
}

#[async_trait::async_trait]
impl SessionStore for LoadsExpired {
    async fn create(&self, record: &mut Record) -> Result<()> {
        self.store.create(record).await?;
        self.cache.lock().unwrap().insert(record.id, record.clone());
        Ok(())
    }
    async fn save(&self, record: &Record) -> Result<()> {
        self.store.save(record).await?;
        self.cache.lock().unwrap().insert(record.id, record.clone());
        Ok(())
    }
    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        if let Some(cached) = self.cache.lock().unwrap().get(id) {
            return Ok(Some(cached.clone()));
        }
        self.store.load(id).await
    }
    async fn delete(&self, id: &Id) -> Result<()> {
        self.cache.lock().unwrap().remove(id);
        self.store.delete(id).await
    }
}

/// A `save` that stores a record it does not find (as an upsert would): it brings back a
/// session ended while a request held it.
#[derive(Debug, Clone)]
struct RevivingSave(AdapterSessionStore);

#[async_trait::async_trait]
impl SessionStore for RevivingSave {
    async fn create(&self, record: &mut Record) -> Result<()> {
        self.0.create(record).await
    }
    async fn save(&self, record: &Record) -> Result<()> {
        if self.0.load(&record.id).await?.is_none() {
            return self.0.create(&mut record.clone()).await;
        }
        self.0.save(record).await
    }
    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        self.0.load(id).await
    }
    async fn delete(&self, id: &Id) -> Result<()> {
        self.0.delete(id).await
    }
}

#[tokio::test]
async fn the_real_store_passes_the_checks_the_mutants_fail() {
    checks::create_never_overwrites_with(&real_store())
        .await
        .unwrap();
    checks::expired_never_loads_with(&real_store())
        .await
        .unwrap();
    checks::save_replaces_and_never_revives_with(&real_store())
        .await
        .unwrap();
}

#[tokio::test]
async fn a_save_that_revives_an_ended_record_is_caught() {
    let failure = checks::save_replaces_and_never_revives_with(&RevivingSave(real_store()))
        .await
        .expect_err("the reviving save must fail the check");
    assert!(failure.to_string().contains("deleted record"), "{failure}");
}

#[tokio::test]
async fn a_create_that_overwrites_a_taken_id_is_caught() {
    let failure = checks::create_never_overwrites_with(&OverwritingCreate(real_store()))
        .await
        .expect_err("the overwriting create must fail the check");
    assert!(failure.to_string().contains("taken id"), "{failure}");
}

#[tokio::test]
async fn a_load_that_returns_an_expired_record_is_caught() {
    let mutant = LoadsExpired {
        store: real_store(),
        cache: Arc::default(),
    };
    let failure = checks::expired_never_loads_with(&mutant)
        .await
        .expect_err("the expired-loading store must fail the check");
    assert!(failure.to_string().contains("expired"), "{failure}");
}
