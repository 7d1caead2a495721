//! adapter-seaorm and adapter-sqlx share one schema: an application can switch crates with
//! no data migration. On PostgreSQL, MariaDB and SQLite, each crate reads what the other
//! wrote (users, accounts, sessions, tokens, credentials), takes the other's token and
//! deletes the other's user with everything it owns; each crate's `migrate()` is harmless
//! on a database the other created; and the two migrations produce the same catalog
//! (columns and types, nullability, collations, indexes, keys, `ON DELETE CASCADE`).

mod common;

use std::sync::Arc;

use adapter_seaorm::SeaOrmAdapter;
use adapter_sqlx::SqlxAdapter;
use auth_core::chrono::{DateTime, Duration, TimeZone, Utc};
use auth_core::serde_json::{json, Value};
use auth_core::{
    truncate_to_millis, Account, AccountType, Adapter, Authenticator, Extra, Session, User,
    VerificationToken,
};
use common::{server, sqlite_url, ServerDb};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};

/// The object of `value` (an object literal).
fn extra(value: Value) -> Extra {
    match value {
        Value::Object(object) => object,
        other => panic!("not an object: {other}"),
    }
}

struct Records {
    user: User,
    account: Account,
    session: Session,
    token: VerificationToken,
    authenticator: Authenticator,
}

fn records(tag: &str) -> Records {
    let ms = |t: DateTime<Utc>| truncate_to_millis(t);
    let far_past = Utc
        .with_ymd_and_hms(1901, 2, 3, 4, 5, 6)
        .single()
        .expect("date")
        + Duration::milliseconds(789);
    let user = User {
        extra: extra(json!({"role": "admin", "score": 0.5, "tags": ["a", {"n": i64::MIN}]})),
        id: format!("user-{tag}"),
        email: Some(format!("Ada.{tag}@Example.com")),
        email_verified: Some(far_past),
        name: Some(format!("Ada {tag} 'quoted' %_ 🦀")),
        image: None,
    };
    Records {
        account: Account {
            extra: extra(json!({"expires_in": 3599, "raw": {"ratio": 0.1, "max": f64::MAX}})),
            user_id: user.id.clone(),
            account_type: AccountType::Oidc,
            provider: "github".into(),
            provider_account_id: format!("gh-{tag}"),
            refresh_token: Some("refresh".into()),
            access_token: Some("access".into()),
            expires_at: Some(1_900_000_000),
            token_type: Some("bearer".into()),
            scope: Some("openid email".into()),
            id_token: Some("x".repeat(4096)),
            session_state: None,
        },
        session: Session {
            extra: extra(json!({"csrf": "c5rf ✓", "tiny": 5e-324})),
            ..Session::with_token(
                format!("session-{tag}"),
                &user.id,
                ms(Utc::now() + Duration::days(30)),
            )
        },
        token: VerificationToken {
            identifier: format!("ada.{tag}@example.com"),
            token: format!("token-{tag}"),
            expires: ms(Utc::now() + Duration::hours(1)),
        },
        authenticator: Authenticator {
            credential_id: format!("cred-{tag}"),
            user_id: user.id.clone(),
            provider_account_id: format!("gh-{tag}"),
            credential_public_key: "pk".into(),
            counter: 7,
            credential_device_type: "multiDevice".into(),
            credential_backed_up: true,
            transports: Some("usb,nfc".into()),
        },
        user,
    }
}

async fn write(db: &dyn Adapter, r: &Records) {
    db.create_user(r.user.clone()).await.expect("create_user");
    db.link_account(r.account.clone())
        .await
        .expect("link_account");
    db.create_session(r.session.clone())
        .await
        .expect("create_session");
    db.create_verification_token(r.token.clone())
        .await
        .expect("create_verification_token");
    db.create_authenticator(r.authenticator.clone())
        .await
        .expect("create_authenticator");
}

async fn read_back(db: &dyn Adapter, r: &Records, who: &str) {
    let email = r.user.email.as_deref().expect("email");
    assert_eq!(
        db.get_user(&r.user.id).await.expect("get_user"),
        Some(r.user.clone()),
        "{who}"
    );
    assert_eq!(
        db.get_user_by_email(&email.to_uppercase())
            .await
            .expect("by email"),
        Some(r.user.clone()),
        "{who}: the other crate's email key"
    );
    assert_eq!(
        db.get_account("github", &r.account.provider_account_id)
            .await
            .expect("get_account"),
        Some(r.account.clone()),
        "{who}"
    );
    assert_eq!(
        db.get_session_and_user(&r.session.session_token)
            .await
            .expect("session"),
        Some((r.session.clone(), r.user.clone())),
        "{who}"
    );
    assert_eq!(
        db.list_authenticators(&r.user.id).await.expect("list"),
        vec![r.authenticator.clone()],
        "{who}"
    );
    assert_eq!(
        db.use_verification_token(&r.token.identifier, &r.token.token)
            .await
            .expect("use token"),
        Some(r.token.clone()),
        "{who}: takes the other crate's token"
    );
}

/// Each crate writes, the other reads; then each deletes a user the other wrote.
async fn both_ways(url: &str) {
    let sea = SeaOrmAdapter::connect(url).await.expect("seaorm connects");
    sea.migrate().await.expect("seaorm migrates");
    let sqlx = SqlxAdapter::connect(url).await.expect("sqlx connects");
    sqlx.migrate()
        .await
        .expect("sqlx migrates a database seaorm created");
    sea.migrate().await.expect("and seaorm again: harmless");
    let (sea_db, sqlx_db): (Arc<dyn Adapter>, Arc<dyn Adapter>) =
        (Arc::new(sea.clone()), Arc::new(sqlx.clone()));

    let a = records("a");
    write(sea_db.as_ref(), &a).await;
    read_back(sqlx_db.as_ref(), &a, "sqlx reads seaorm").await;

    let b = records("b");
    write(sqlx_db.as_ref(), &b).await;
    read_back(sea_db.as_ref(), &b, "seaorm reads sqlx").await;

    assert_eq!(
        sqlx_db.delete_user(&a.user.id).await.expect("delete a"),
        Some(a.user.clone())
    );
    assert_eq!(
        sea_db.delete_user(&b.user.id).await.expect("delete b"),
        Some(b.user.clone())
    );
    for (db, r) in [(&sea_db, &a), (&sqlx_db, &b), (&sea_db, &b), (&sqlx_db, &a)] {
        assert_eq!(
            db.get_account("github", &r.account.provider_account_id)
                .await
                .ok(),
            Some(None)
        );
        assert_eq!(
            db.get_session_and_user(&r.session.session_token).await.ok(),
            Some(None)
        );
        assert_eq!(
            db.get_authenticator(&r.authenticator.credential_id)
                .await
                .ok(),
            Some(None)
        );
    }
    sea.close().await;
    sqlx.close().await;
}

/// Every row of a catalog query, as text.
async fn rows(db: &DatabaseConnection, sql: &str) -> Vec<String> {
    let backend = db.get_database_backend();
    db.query_all_raw(Statement::from_string(backend, sql))
        .await
        .expect("catalog query")
        .iter()
        .map(|row| row.try_get_by_index::<String>(0).expect("text"))
        .collect()
}

/// The schema as the database's catalog describes it, without the migration records.
async fn catalog(url: &str) -> Vec<String> {
    let db = Database::connect(url).await.expect("catalog connection");
    let queries: &[&str] = match db.get_database_backend() {
        DbBackend::Postgres => &[
            "SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable \
             || ' #' || ordinal_position FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name LIKE 'auth\\_%' \
             AND table_name NOT LIKE '%migrations' ORDER BY 1",
            "SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' \
             AND tablename LIKE 'auth\\_%' AND tablename NOT LIKE '%migrations' ORDER BY 1",
            "SELECT tc.table_name || ' ' || tc.constraint_name || ' ' || tc.constraint_type \
             || ' ' || COALESCE(rc.delete_rule, '-') FROM information_schema.table_constraints tc \
             LEFT JOIN information_schema.referential_constraints rc \
             ON rc.constraint_schema = tc.constraint_schema \
             AND rc.constraint_name = tc.constraint_name \
             WHERE tc.table_schema = 'public' AND tc.table_name LIKE 'auth\\_%' \
             AND tc.table_name NOT LIKE '%migrations' AND tc.constraint_type <> 'CHECK' \
             ORDER BY 1",
        ],
        DbBackend::Sqlite => &[
            "SELECT type || ' ' || name || ' ' || COALESCE(sql, '-') FROM sqlite_master \
             WHERE tbl_name LIKE 'auth\\_%' ESCAPE '\\' AND tbl_name NOT LIKE '%migrations' \
             ORDER BY 1",
        ],
        _ => &[
            "SELECT CONCAT_WS(' ', TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, \
             IFNULL(COLLATION_NAME, '-'), ORDINAL_POSITION) FROM information_schema.COLUMNS \
             WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME LIKE 'auth\\_%' \
             AND TABLE_NAME NOT LIKE '%migrations' ORDER BY 1",
            "SELECT CONCAT_WS(' ', TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX, COLUMN_NAME, NON_UNIQUE) \
             FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() \
             AND TABLE_NAME LIKE 'auth\\_%' AND TABLE_NAME NOT LIKE '%migrations' ORDER BY 1",
            "SELECT CONCAT_WS(' ', TABLE_NAME, CONSTRAINT_NAME, REFERENCED_TABLE_NAME, DELETE_RULE) \
             FROM information_schema.REFERENTIAL_CONSTRAINTS \
             WHERE CONSTRAINT_SCHEMA = DATABASE() ORDER BY 1",
            "SELECT CONCAT_WS(' ', TABLE_NAME, ENGINE, TABLE_COLLATION) \
             FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() \
             AND TABLE_NAME LIKE 'auth\\_%' AND TABLE_NAME NOT LIKE '%migrations' ORDER BY 1",
        ],
    };
    let mut all = Vec::new();
    for sql in queries {
        all.extend(rows(&db, sql).await);
    }
    db.close().await.expect("close");
    all
}

/// Database A migrated by adapter-seaorm, database B by adapter-sqlx: the same catalog;
/// then each crate migrates the other's database: nothing changes.
async fn same_schema(url_a: &str, url_b: &str) {
    let sea = SeaOrmAdapter::connect(url_a)
        .await
        .expect("seaorm connects");
    sea.migrate().await.expect("seaorm migrates A");
    let sqlx = SqlxAdapter::connect(url_b).await.expect("sqlx connects");
    sqlx.migrate().await.expect("sqlx migrates B");
    let (a, b) = (catalog(url_a).await, catalog(url_b).await);
    assert!(a.len() >= 10, "the catalog lists the schema: {a:#?}");
    assert_eq!(a, b, "adapter-seaorm's schema is adapter-sqlx's");

    let sea_on_b = SeaOrmAdapter::connect(url_b).await.expect("seaorm on B");
    sea_on_b.migrate().await.expect("seaorm migrates B");
    let sqlx_on_a = SqlxAdapter::connect(url_a).await.expect("sqlx on A");
    sqlx_on_a.migrate().await.expect("sqlx migrates A");
    assert_eq!(catalog(url_a).await, a, "sqlx's migrate left A as it was");
    assert_eq!(catalog(url_b).await, b, "seaorm's migrate left B as it was");
    for adapter in [sea, sea_on_b] {
        adapter.close().await;
    }
    for adapter in [sqlx, sqlx_on_a] {
        adapter.close().await;
    }
}

async fn on_server(var: &str, backend: &str) {
    let Some(server_url) = server(var, backend) else {
        return;
    };
    let data = ServerDb::create(&server_url).await;
    both_ways(&data.url).await;
    data.drop_now().await;
    let (a, b) = (
        ServerDb::create(&server_url).await,
        ServerDb::create(&server_url).await,
    );
    same_schema(&a.url, &b.url).await;
    a.drop_now().await;
    b.drop_now().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_either_crate_reads_and_migrates_the_others_data() {
    on_server("AUTH_TEST_POSTGRES_URL", "seaorm-postgres").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_either_crate_reads_and_migrates_the_others_data() {
    on_server("AUTH_TEST_MARIADB_URL", "seaorm-mariadb").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_either_crate_reads_and_migrates_the_others_data() {
    let (url, dir) = sqlite_url("data");
    both_ways(&url).await;
    let (a, dir_a) = sqlite_url("a");
    let (b, dir_b) = sqlite_url("b");
    same_schema(&a, &b).await;
    for dir in [dir, dir_a, dir_b] {
        std::fs::remove_dir_all(dir).expect("remove temp dir");
    }
}
