#![cfg(unix)]
#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report
//! The sign-in flow end to end in a real headless Chromium driven over WebDriver: request a
//! link → open it from the dev outbox → confirm → signed in → a second browser signs in too →
//! "your sessions" lists 2 → sign out everywhere → both are signed out → a reused link is
//! refused → sign in again and delete the account (after its confirm page). Once per backend:
//! SQLite, PostgreSQL, Redis. Then, on SQLite, what only a browser can show: another site
//! (`localhost` is another site than `127.0.0.1`) that sends the browser to an attacker's
//! link, posts the confirm form itself or frames the app signs nobody in and shows nothing,
//! and Back after "Sign out everywhere" does not show the sessions page again.
//!
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (Debian's `chromium` and
//! `chromium-driver`; `.ci/run` installs them), `AUTH_TEST_POSTGRES_URL` and
//! `AUTH_TEST_REDIS_URL` for the server backends. What is missing skips the test with a
//! printed reason, or fails it when `AUTH_CONFORMANCE_REQUIRE` is set (CI sets it to `all`).

use std::path::Path;
use std::time::Duration;

use axum_app::{App, Settings, CSRF_COOKIE, SESSION_COOKIE};
use browser_support::{click, skip, text, unique, wait_for};
use fantoccini::{Client, Locator};
use serde_json::json;

/// chromedriver with this app's log lines in the test output.
async fn driver() -> Option<browser_support::Driver> {
    browser_support::Driver::start("axum_app=info").await
}

/// Asks for a link on the home page and returns it as the dev outbox shows it.
async fn request_link(browser: &Client, base: &str, email: &str) -> String {
    browser.goto(base).await.unwrap();
    let form = wait_for(browser, "form#signin").await;
    form.find(Locator::Css("input[name=email]"))
        .await
        .unwrap()
        .send_keys(email)
        .await
        .unwrap();
    form.find(Locator::Css("button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(browser, "#check-mail").await;
    browser.goto(&format!("{base}/dev/outbox")).await.unwrap();
    // Newest first: the link just requested.
    let selector = format!("a.link[data-to=\"{email}\"]");
    wait_for(browser, &selector)
        .await
        .attr("href")
        .await
        .unwrap()
        .expect("the outbox link has an href")
}

/// Opens a link and confirms it; the browser that asked for it sees no warning.
async fn follow(browser: &Client, link: &str) {
    browser.goto(link).await.unwrap();
    wait_for(browser, "#confirm").await;
    assert!(
        browser.find(Locator::Id("other-browser")).await.is_err(),
        "the browser that asked is warned"
    );
    click(browser, "button.confirm").await;
}

async fn sign_in(browser: &Client, base: &str, email: &str) -> String {
    let link = request_link(browser, base, email).await;
    follow(browser, &link).await;
    wait_for(browser, "#signed-in").await;
    let home = text(browser).await;
    assert!(
        home.contains(&format!("Signed in as {email}")),
        "after the link: {home}"
    );
    link
}

async fn assert_signed_out(browser: &Client, base: &str) {
    browser.goto(base).await.unwrap();
    wait_for(browser, "main").await;
    let home = text(browser).await;
    assert!(
        home.contains("Not signed in"),
        "expected signed out: {home}"
    );
    browser.find(Locator::Css("form#signin")).await.unwrap();
}

/// The whole flow against the app on `settings`; `shot` names the screenshot it saves.
async fn flow(mut settings: Settings, shot: &str) {
    let Some(driver) = driver().await else {
        return;
    };
    settings.dev_outbox = true;
    // One address signs in four times here; the limit has its own test (tests/hardening.rs).
    settings.sign_in_limits.per_address.burst = 10;
    let app = App::connect(settings).await.expect("the app connects");
    let adapter = app.adapter();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.serve(listener, async {
        let _ = stopped.await;
    }));
    let email = format!("{}@example.com", unique("ada"));

    let a = driver.browser("a").await;
    let first_link = sign_in(&a, &base, &email).await;

    // The cookies as the browser stored them: Chromium keeps `Secure` cookies set over
    // plain HTTP on 127.0.0.1 (a secure context), so the flags can stay on in development.
    let session = a.get_named_cookie(SESSION_COOKIE).await.unwrap();
    assert_eq!(session.secure(), Some(true));
    assert_eq!(session.http_only(), Some(true));
    assert_eq!(format!("{:?}", session.same_site()), "Some(Lax)");
    let csrf = a.get_named_cookie(CSRF_COOKIE).await.unwrap();
    assert_eq!(csrf.secure(), Some(true));
    let png = a.screenshot().await.unwrap();
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("signed-in-{shot}.png"));
    std::fs::write(&path, png).unwrap();
    eprintln!("screenshot: {}", path.display());

    // The page's CSP lets no script talk to anything (WebDriver's own script runs anyway,
    // but its fetch is blocked) ...
    let fetched = a
        .execute_async(
            "const done = arguments[arguments.length - 1];
             fetch('/signout', {method: 'POST', body: new URLSearchParams({csrf: 'forged'})})
               .then(r => done(r.status), e => done(String(e)));",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(fetched, json!("TypeError: Failed to fetch"));
    // ... and a form posted without the page's CSRF token is refused and signs nobody out.
    a.execute(
        "const form = document.createElement('form');
         form.method = 'post';
         form.action = '/signout';
         form.innerHTML = '<input name=csrf value=forged>';
         document.body.append(form);
         form.submit();",
        vec![],
    )
    .await
    .unwrap();
    wait_for(&a, "#refused").await;
    a.goto(&base).await.unwrap();
    wait_for(&a, "#signed-in").await;

    let b = driver.browser("b").await;
    sign_in(&b, &base, &email).await;

    a.goto(&format!("{base}/sessions")).await.unwrap();
    let listed = a.find_all(Locator::Css("li.session")).await.unwrap();
    assert_eq!(listed.len(), 2, "sessions page: {}", text(&a).await);
    let user = adapter
        .get_user_by_email(&email)
        .await
        .unwrap()
        .expect("the user exists");
    assert_eq!(adapter.list_sessions(&user.id).await.unwrap().len(), 2);

    click(&a, "button.sign-out-everywhere").await;
    wait_for(&a, "form#signin").await;
    assert_signed_out(&a, &base).await;
    assert_signed_out(&b, &base).await;
    assert!(adapter.list_sessions(&user.id).await.unwrap().is_empty());

    b.goto(&first_link).await.unwrap();
    wait_for(&b, "#confirm").await;
    click(&b, "button.confirm").await;
    wait_for(&b, "#link-refused").await;
    assert_signed_out(&b, &base).await;

    // Sign in again, sign out here, then in again and delete the account.
    sign_in(&b, &base, &email).await;
    click(&b, "button.sign-out").await;
    wait_for(&b, "form#signin").await;
    assert_signed_out(&b, &base).await;
    sign_in(&b, &base, &email).await;
    click(&b, "#delete-account").await;
    wait_for(&b, "#confirm-delete").await;
    click(&b, "button.danger").await;
    wait_for(&b, "#deleted").await;
    assert_signed_out(&b, &base).await;
    assert!(adapter.get_user_by_email(&email).await.unwrap().is_none());
    assert!(adapter.list_sessions(&user.id).await.unwrap().is_empty());

    a.close().await.unwrap();
    b.close().await.unwrap();
    let _ = stop.send(());
    server.await.unwrap().unwrap();
    drop(driver);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_flow_on_sqlite() {
    let dir = std::env::temp_dir().join(unique("axum-app-sqlite"));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.join("app.db").display());
    flow(Settings::new(url), "sqlite").await;
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_flow_on_postgres() {
    let Some(database) = browser_support::FreshPostgres::create("axum_app").await else {
        return;
    };
    flow(Settings::new(database.url.clone()), "postgres").await;
    database.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_flow_on_redis() {
    let Ok(url) = std::env::var("AUTH_TEST_REDIS_URL") else {
        skip("AUTH_TEST_REDIS_URL is not set");
        return;
    };
    let mut settings = Settings::new(url);
    settings.redis_prefix = Some(format!("{}:", unique("axum-app")));
    flow(settings, "redis").await;
}

/// A page of another site: `localhost` is not the same site as `127.0.0.1`.
async fn attacker_site(
    pages: Vec<(&'static str, String)>,
) -> (String, tokio::task::JoinHandle<()>) {
    let mut router = axum::Router::new();
    for (path, html) in pages {
        router = router.route(
            path,
            axum::routing::get(move || async move { axum::response::Html(html) }),
        );
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let serving = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (format!("http://localhost:{port}"), serving)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_site_cannot_sign_the_browser_in_frame_the_app_or_show_it_after_sign_out() {
    let Some(driver) = driver().await else {
        return;
    };
    let dir = std::env::temp_dir().join(unique("axum-app-cross-site"));
    std::fs::create_dir_all(&dir).unwrap();
    let mut settings = Settings::new(format!(
        "sqlite://{}?mode=rwc",
        dir.join("app.db").display()
    ));
    settings.dev_outbox = true;
    let app = App::connect(settings).await.expect("the app connects");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.serve(listener, async {
        let _ = stopped.await;
    }));

    // The attacker asks for a link to their own account in their own browser.
    let attacker = driver.browser("attacker").await;
    let link = request_link(&attacker, &base, "attacker@evil.example").await;
    let token = link.split("token=").nth(1).unwrap().to_owned();
    let (site, site_server) = attacker_site(vec![
        ("/navigate", format!(r#"<meta http-equiv="refresh" content="0;url={link}">"#)),
        (
            "/post",
            format!(
                r#"<form method="post" action="{base}/callback/email"><input name="email" value="attacker@evil.example"><input name="token" value="{token}"><input name="csrf" value="forged"></form><script>document.forms[0].submit()</script>"#
            ),
        ),
        ("/frame", format!(r#"<p id="framing">framing</p><iframe id="app" src="{base}/"></iframe>"#)),
    ])
    .await;

    let victim = driver.browser("victim").await;
    // 1. Sent to the attacker's link: a confirm page with a warning, nobody signed in.
    victim.goto(&format!("{site}/navigate")).await.unwrap();
    wait_for(&victim, "#confirm").await;
    wait_for(&victim, "#other-browser").await;
    assert_signed_out(&victim, &base).await;
    // 2. The confirm form posted by the other site: refused.
    victim.goto(&format!("{site}/post")).await.unwrap();
    wait_for(&victim, "#refused").await;
    assert_signed_out(&victim, &base).await;
    // 3. Framed: the browser shows nothing of the app in the frame.
    victim.goto(&format!("{site}/frame")).await.unwrap();
    wait_for(&victim, "#framing").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    victim.enter_frame(0).await.unwrap();
    assert!(
        victim.find(Locator::Css("form#signin")).await.is_err(),
        "the app rendered inside another site's frame"
    );
    victim.enter_parent_frame().await.unwrap();

    // Neither the visits nor the forged post used the link: it still signs the attacker in.
    follow(&attacker, &link).await;
    wait_for(&attacker, "#signed-in").await;

    // 4. Back after "Sign out everywhere" asks the server again: no sessions page.
    sign_in(&victim, &base, "victim@example.com").await;
    victim.goto(&format!("{base}/sessions")).await.unwrap();
    wait_for(&victim, "li.session").await;
    click(&victim, "button.sign-out-everywhere").await;
    wait_for(&victim, "form#signin").await;
    victim.back().await.unwrap();
    wait_for(&victim, "main").await;
    let shown = text(&victim).await;
    assert!(!shown.contains("signed-in session"), "Back showed: {shown}");

    attacker.close().await.unwrap();
    victim.close().await.unwrap();
    let _ = stop.send(());
    server.await.unwrap().unwrap();
    site_server.abort();
    drop(driver);
    std::fs::remove_dir_all(&dir).unwrap();
}
