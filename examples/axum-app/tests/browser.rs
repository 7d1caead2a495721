#![cfg(unix)]
#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report
//! The sign-in flow end to end in a real headless Chromium driven over WebDriver: request a
//! link → open it from the dev outbox → signed in → a second browser signs in too → "your
//! sessions" lists 2 → sign out everywhere → both are signed out → a reused link is refused →
//! sign in again and delete the account. Once per backend: SQLite, PostgreSQL, Redis.
//!
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (Debian's `chromium` and
//! `chromium-driver`; `.ci/run` installs them), `AUTH_TEST_POSTGRES_URL` and
//! `AUTH_TEST_REDIS_URL` for the server backends. What is missing skips the test with a
//! printed reason, or fails it when `AUTH_CONFORMANCE_REQUIRE` is set (CI sets it to `all`).

use std::net::TcpListener as StdListener;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use axum_app::{App, Settings, CSRF_COOKIE, SESSION_COOKIE};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use sqlx::Connection;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Skips with a reason, or fails when the environment requires every backend.
fn skip(reason: &str) {
    if std::env::var("AUTH_CONFORMANCE_REQUIRE").is_ok_and(|v| !v.trim().is_empty()) {
        panic!("required by AUTH_CONFORMANCE_REQUIRE but cannot run: {reason}");
    }
    eprintln!("skipped: {reason}");
}

fn unique(label: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{label}_{}_{nanos}", std::process::id())
}

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A chromedriver on a free port with a scratch directory for the browsers' profiles; both
/// are gone when it drops (chromedriver ends the browsers of the sessions still open).
struct Driver {
    child: Child,
    url: String,
    scratch: PathBuf,
}

impl Driver {
    async fn start() -> Option<Driver> {
        for path in [CHROMIUM, CHROMEDRIVER] {
            if !Path::new(path).exists() {
                skip(&format!(
                    "{path} is missing (apt-get install chromium chromium-driver)"
                ));
                return None;
            }
        }
        let scratch = std::env::temp_dir().join(unique("axum-app-browser"));
        std::fs::create_dir_all(&scratch).unwrap();
        let port = free_port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            // Its own process group, which the browsers join: a failed test that never
            // closes its sessions still leaves no browser behind.
            .process_group(0)
            // Chromium keeps its own temporary directories (org.chromium.Chromium.*) under
            // TMPDIR: in the scratch directory they go with it.
            .env("TMPDIR", &scratch)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let driver = Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
            scratch,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not listen");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Some(driver)
    }

    /// A browser with its own profile: its own cookie jar, like a second device.
    async fn browser(&self, name: &str) -> Client {
        let profile = self.scratch.join(name);
        let mut caps = fantoccini::wd::Capabilities::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--window-size=900,600",
                    format!("--user-data-dir={}", profile.display()),
                ],
            }),
        );
        ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&self.url)
            .await
            .expect("a Chromium session")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.scratch);
    }
}

async fn text(browser: &Client) -> String {
    browser
        .find(Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Asks for a link on the home page and returns it as the dev outbox shows it.
async fn request_link(browser: &Client, base: &str, email: &str) -> String {
    browser.goto(base).await.unwrap();
    let form = browser.find(Locator::Css("form#signin")).await.unwrap();
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
    if browser.find(Locator::Id("check-mail")).await.is_err() {
        let cookies = browser.get_all_cookies().await.unwrap();
        panic!(
            "no link was sent; the page says {:?}; cookies: {cookies:?}",
            text(browser).await
        );
    }
    browser.goto(&format!("{base}/dev/outbox")).await.unwrap();
    // Newest first: the link just requested.
    let selector = format!("a.link[data-to=\"{email}\"]");
    browser
        .find(Locator::Css(&selector))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .expect("the outbox link has an href")
}

async fn sign_in(browser: &Client, base: &str, email: &str) -> String {
    let link = request_link(browser, base, email).await;
    browser.goto(&link).await.unwrap();
    let home = text(browser).await;
    assert!(
        home.contains(&format!("Signed in as {email}")),
        "after the link: {home}"
    );
    link
}

async fn assert_signed_out(browser: &Client, base: &str) {
    browser.goto(base).await.unwrap();
    let home = text(browser).await;
    assert!(
        home.contains("Not signed in"),
        "expected signed out: {home}"
    );
    browser.find(Locator::Css("form#signin")).await.unwrap();
}

async fn click(browser: &Client, selector: &str) {
    browser
        .find(Locator::Css(selector))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// The whole flow against the app on `settings`; `shot` names the screenshot it saves.
async fn flow(settings: Settings, shot: &str) {
    let Some(driver) = Driver::start().await else {
        return;
    };
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
    assert_eq!(format!("{:?}", csrf.same_site()), "Some(Strict)");
    let png = a.screenshot().await.unwrap();
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("signed-in-{shot}.png"));
    std::fs::write(&path, png).unwrap();
    eprintln!("screenshot: {}", path.display());

    // A POST without the form's CSRF token is refused and signs nobody out.
    let status = a
        .execute_async(
            "const done = arguments[arguments.length - 1];
             fetch('/signout', {method: 'POST', body: new URLSearchParams({csrf: 'forged'})})
               .then(r => done(r.status), e => done(String(e)));",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(status, json!(403));

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
    assert_signed_out(&a, &base).await;
    assert_signed_out(&b, &base).await;
    assert!(adapter.list_sessions(&user.id).await.unwrap().is_empty());

    b.goto(&first_link).await.unwrap();
    b.find(Locator::Id("link-refused")).await.unwrap();
    assert_signed_out(&b, &base).await;

    // Sign in again, sign out here, then in again and delete the account.
    sign_in(&b, &base, &email).await;
    click(&b, "button.sign-out").await;
    assert_signed_out(&b, &base).await;
    sign_in(&b, &base, &email).await;
    click(&b, "button.danger").await;
    b.find(Locator::Id("deleted")).await.unwrap();
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
    let Ok(server) = std::env::var("AUTH_TEST_POSTGRES_URL") else {
        skip("AUTH_TEST_POSTGRES_URL is not set");
        return;
    };
    let mut admin = sqlx::PgConnection::connect(&server)
        .await
        .expect("PostgreSQL answers");
    let database = unique("axum_app");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {database}")))
        .execute(&mut admin)
        .await
        .unwrap();
    let (root, _) = server.rsplit_once('/').expect("a URL with a database path");
    flow(Settings::new(format!("{root}/{database}")), "postgres").await;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE {database} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await
    .unwrap();
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
