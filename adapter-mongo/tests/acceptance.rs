//! The issue's acceptance checks beyond the shared suite: the indexes `migrate()` creates,
//! and operator-looking strings stored and matched as plain data. They need a server
//! (AUTH_TEST_MONGO_URL); without one they say so and pass, unless
//! AUTH_CONFORMANCE_REQUIRE names `mongo`.

#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

use adapter_conformance::backends::mongo::{fresh_database, ENV_VAR};
use adapter_conformance::harness::{env_url, is_required};
use adapter_mongo::mongodb::bson::Document;
use adapter_mongo::MongoAdapter;
use auth_core::chrono::{Duration, Utc};
use auth_core::{Adapter, Session, User, VerificationToken};
use futures::TryStreamExt;

async fn adapter() -> Option<MongoAdapter> {
    let Some(url) = env_url(ENV_VAR) else {
        assert!(
            !is_required("mongo"),
            "{ENV_VAR} is not set but mongo is required"
        );
        eprintln!("SKIPPED: {ENV_VAR} is not set");
        return None;
    };
    let adapter = MongoAdapter::builder(url)
        .database(fresh_database())
        .unwrap()
        .connect()
        .await
        .unwrap();
    adapter.migrate().await.unwrap();
    Some(adapter)
}

/// The key patterns of a collection's indexes, as `field:1,field:1 [unique]`.
async fn index_keys(adapter: &MongoAdapter, collection: &str) -> Vec<String> {
    let indexes: Vec<_> = adapter
        .database()
        .collection::<Document>(collection)
        .list_indexes()
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    indexes
        .into_iter()
        .map(|index| {
            let keys: Vec<String> = index.keys.iter().map(|(k, v)| format!("{k}:{v}")).collect();
            let unique = index.options.and_then(|o| o.unique).unwrap_or(false);
            format!("{}{}", keys.join(","), if unique { " unique" } else { "" })
        })
        .collect()
}

#[tokio::test]
async fn migrate_creates_every_index_and_is_idempotent() {
    let Some(adapter) = adapter().await else {
        return;
    };
    adapter
        .migrate()
        .await
        .expect("a second migrate is harmless");
    let names = adapter.collections().clone();
    let expect: [(&str, &[&str]); 5] = [
        (&names.users, &["email_normalized:1 unique"]),
        (
            &names.accounts,
            &["provider:1,provider_account_id:1 unique", "user_id:1"],
        ),
        (
            &names.sessions,
            &["session_token:1 unique", "user_id:1", "expires:1"],
        ),
        (
            &names.verification_tokens,
            &["identifier:1,token:1 unique", "expires:1"],
        ),
        (
            &names.authenticators,
            &["credential_id:1 unique", "user_id:1"],
        ),
    ];
    for (collection, wanted) in expect {
        let found = index_keys(&adapter, collection).await;
        for index in wanted {
            assert!(
                found.iter().any(|f| f == index),
                "{collection}: no index {index} in {found:?}"
            );
        }
    }
    adapter.database().drop().await.unwrap();
}

#[tokio::test]
async fn operator_strings_are_plain_data() {
    let Some(adapter) = adapter().await else {
        return;
    };
    let hostile = r#"{"$gt": ""}"#;
    let user = adapter
        .create_user(User::with_id(hostile).with_email(hostile))
        .await
        .unwrap();
    let other = adapter
        .create_user(User::with_id("plain").with_email("plain@example.com"))
        .await
        .unwrap();
    assert_eq!(
        adapter.get_user_by_email(hostile).await.unwrap(),
        Some(user.clone())
    );
    assert_eq!(adapter.get_user(hostile).await.unwrap(), Some(user.clone()));
    for probe in [
        "$where",
        "{\"$ne\": null}",
        "{\"$regex\": \".*\"}",
        "this.email",
    ] {
        assert_eq!(
            adapter.get_user_by_email(probe).await.unwrap(),
            None,
            "{probe}"
        );
        assert_eq!(adapter.get_user(probe).await.unwrap(), None, "{probe}");
    }
    let expires = Utc::now() + Duration::days(1);
    adapter
        .create_session(Session::new("$where", &other.id, expires))
        .await
        .unwrap();
    assert_eq!(
        adapter
            .get_session_and_user("{\"$ne\": null}")
            .await
            .unwrap(),
        None
    );
    let found = adapter.get_session_and_user("$where").await.unwrap();
    assert_eq!(found.map(|(_, u)| u.id), Some(other.id));
    adapter
        .create_verification_token(VerificationToken::new(hostile, "$where", expires))
        .await
        .unwrap();
    assert_eq!(
        adapter
            .use_verification_token(hostile, "{\"$ne\": null}")
            .await
            .unwrap(),
        None
    );
    assert!(adapter
        .use_verification_token(hostile, "$where")
        .await
        .unwrap()
        .is_some());
    adapter.database().drop().await.unwrap();
}
