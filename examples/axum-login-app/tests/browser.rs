#![cfg(unix)]
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report
//! The app in a real headless Chromium, on SQLite and on PostgreSQL: refused the protected
//! page → ask for a link → open it from the dev outbox → confirm → the protected page → a
//! second browser signs in too → sign out: refused the page again, the second browser still
//! in → sign out everywhere from the second: refused too → the used link is refused.
//!
//! Needs Chromium and chromedriver (`browser_support`), and `AUTH_TEST_POSTGRES_URL` for
//! PostgreSQL; what is missing skips with a reason, or fails under
//! `AUTH_CONFORMANCE_REQUIRE`.

use std::sync::Arc;

use browser_support::{click, text, unique, wait_for};
use fantoccini::Client;

/// Asks for a link on the home page and returns it as the dev outbox shows it.
async fn request_link(browser: &Client, base: &str, email: &str) -> String {
    browser.goto(base).await.unwrap();
    let field = wait_for(browser, "form#signin input[name=email]").await;
    field.send_keys(email).await.unwrap();
    click(browser, "form#signin button").await;
    wait_for(browser, "#check-mail").await;
    browser.goto(&format!("{base}/dev/outbox")).await.unwrap();
    let link = wait_for(browser, &format!("a.link[data-to=\"{email}\"]"))
        .await
        .attr("href")
        .await
        .unwrap()
        .expect("the outbox link has an href");
    format!("{base}{link}")
}

/// Signs `browser` in with a fresh link; returns the link.
async fn sign_in(browser: &Client, base: &str, email: &str) -> String {
    let link = request_link(browser, base, email).await;
    browser.goto(&link).await.unwrap();
    wait_for(browser, "form#confirm").await;
    click(browser, "button.confirm").await;
    wait_for(browser, "#account").await;
    let page = text(browser).await;
    assert!(
        page.contains(&format!("Signed in as {email}")),
        "after the link: {page}"
    );
    link
}

/// `browser` is refused the protected page: sent to the home page's sign-in form.
async fn refused_the_account_page(browser: &Client, base: &str) {
    browser.goto(&format!("{base}/account")).await.unwrap();
    wait_for(browser, "form#signin").await;
    let url = browser.current_url().await.unwrap();
    assert_eq!(url.path(), "/", "refused to {url}");
}

async fn flow(database_url: &str, shot: &str) {
    let Some(driver) =
        browser_support::Driver::start("axum_login_app=info,auth_tower_sessions=info").await
    else {
        return;
    };
    let adapter = adapter_sqlx::SqlxAdapter::connect(database_url)
        .await
        .expect("connects");
    adapter.migrate().await.expect("migrates");
    let adapter: Arc<dyn auth_core::Adapter> = Arc::new(adapter);
    let app = axum_login_app::router(Arc::clone(&adapter), axum_login_app::Outbox::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let email = format!("{}@example.com", unique("ada"));

    let a = driver.browser("a").await;
    refused_the_account_page(&a, &base).await;
    let first_link = sign_in(&a, &base, &email).await;
    let png = a.screenshot().await.unwrap();
    let path =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("axum-login-{shot}.png"));
    std::fs::write(&path, png).unwrap();
    eprintln!("screenshot: {}", path.display());
    // The session is a session of the adapter, owned by the user who signed in.
    let user = adapter
        .get_user_by_email(&email)
        .await
        .unwrap()
        .expect("the user");
    assert_eq!(adapter.list_sessions(&user.id).await.unwrap().len(), 1);

    let b = driver.browser("b").await;
    sign_in(&b, &base, &email).await;
    assert_eq!(adapter.list_sessions(&user.id).await.unwrap().len(), 2);

    click(&a, "button.sign-out").await;
    wait_for(&a, "form#signin").await;
    refused_the_account_page(&a, &base).await;
    b.goto(&format!("{base}/account")).await.unwrap();
    wait_for(&b, "#account").await;

    click(&b, "button.sign-out-everywhere").await;
    wait_for(&b, "form#signin").await;
    refused_the_account_page(&b, &base).await;
    assert!(adapter.list_sessions(&user.id).await.unwrap().is_empty());

    a.goto(&first_link).await.unwrap();
    wait_for(&a, "form#confirm").await;
    click(&a, "button.confirm").await;
    wait_for(&a, "#link-refused").await;

    a.close().await.unwrap();
    b.close().await.unwrap();
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_protected_page_sign_out_on_sqlite() {
    let dir = std::env::temp_dir().join(unique("axum-login-app"));
    std::fs::create_dir_all(&dir).unwrap();
    flow(
        &format!("sqlite://{}?mode=rwc", dir.join("app.db").display()),
        "sqlite",
    )
    .await;
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_protected_page_sign_out_on_postgres() {
    let Some(database) = browser_support::FreshPostgres::create("axum_login_app").await else {
        return;
    };
    flow(&database.url, "postgres").await;
    database.drop_database().await;
}
