#![cfg(unix)]
#![allow(clippy::unwrap_used)] // test support: a panic is the failure report
//! What the example apps' browser tests share: a chromedriver on a free loopback port, with
//! headless Chromium browsers of their own profiles (each its own cookie jar, like another
//! device), and the waits and reads every flow needs.
//!
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (Debian's `chromium` and
//! `chromium-driver`; `.ci/run` installs them). What is missing skips the test with a
//! printed reason, or fails it when `AUTH_CONFORMANCE_REQUIRE` is set (CI sets it to `all`).
//!
//! ```no_run
//! # async fn test() {
//! let Some(driver) = browser_support::Driver::start("my_app=info").await else {
//!     return; // skipped, and said why
//! };
//! let browser = driver.browser("a").await;
//! browser.goto("http://127.0.0.1:3000/").await.unwrap();
//! let page = browser_support::text(&browser).await;
//! # let _ = page;
//! # }
//! ```

use std::net::TcpListener as StdListener;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use sqlx::Connection;

/// Debian's Chromium.
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// Debian's chromedriver.
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Skips with a reason, or fails when the environment requires every backend.
///
/// ```no_run
/// browser_support::skip("no PostgreSQL: AUTH_TEST_POSTGRES_URL is not set");
/// ```
pub fn skip(reason: &str) {
    if std::env::var("AUTH_CONFORMANCE_REQUIRE").is_ok_and(|v| !v.trim().is_empty()) {
        panic!("required by AUTH_CONFORMANCE_REQUIRE but cannot run: {reason}");
    }
    eprintln!("skipped: {reason}");
}

/// A name no other run uses: `label`, the process id and the time in nanoseconds.
///
/// ```
/// assert_ne!(browser_support::unique("db"), browser_support::unique("db"));
/// ```
pub fn unique(label: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{label}_{}_{nanos}", std::process::id())
}

/// A loopback port free right now.
///
/// ```
/// assert!(browser_support::free_port() > 0);
/// ```
pub fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A database of its own on the PostgreSQL server of `AUTH_TEST_POSTGRES_URL`, for one
/// test; [`drop_database`](Self::drop_database) removes it.
#[derive(Debug)]
pub struct FreshPostgres {
    admin: sqlx::PgConnection,
    name: String,
    /// The new database's URL.
    pub url: String,
}

impl FreshPostgres {
    /// Creates a database named after `label`; `None`, after [`skip`], when
    /// `AUTH_TEST_POSTGRES_URL` is not set.
    pub async fn create(label: &str) -> Option<FreshPostgres> {
        let Ok(server) = std::env::var("AUTH_TEST_POSTGRES_URL") else {
            skip("AUTH_TEST_POSTGRES_URL is not set");
            return None;
        };
        let mut admin = sqlx::PgConnection::connect(&server)
            .await
            .expect("PostgreSQL answers");
        let name = unique(label);
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .unwrap();
        let (root, _) = server.rsplit_once('/').expect("a URL with a database path");
        let url = format!("{root}/{name}");
        Some(FreshPostgres { admin, name, url })
    }

    /// Drops the database, whoever is still connected to it.
    pub async fn drop_database(mut self) {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE {} WITH (FORCE)",
            self.name
        )))
        .execute(&mut self.admin)
        .await
        .unwrap();
    }
}

/// A chromedriver on a free port with a scratch directory for the browsers' profiles; both
/// are gone when it drops (chromedriver ends the browsers of the sessions still open).
#[derive(Debug)]
pub struct Driver {
    child: Child,
    url: String,
    scratch: PathBuf,
}

impl Driver {
    /// Starts chromedriver, after a tracing subscriber for the test's output with
    /// `log_filter` (an `EnvFilter` directive); `None`, after [`skip`], when Chromium or
    /// chromedriver is missing.
    pub async fn start(log_filter: &str) -> Option<Driver> {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(log_filter)
            .with_test_writer()
            .try_init();
        for path in [CHROMIUM, CHROMEDRIVER] {
            if !Path::new(path).exists() {
                skip(&format!(
                    "{path} is missing (apt-get install chromium chromium-driver)"
                ));
                return None;
            }
        }
        let scratch = std::env::temp_dir().join(unique("browser"));
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
    pub async fn browser(&self, name: &str) -> Client {
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

/// The text of the page's `main`.
pub async fn text(browser: &Client) -> String {
    browser
        .find(Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Waits for an element of the page a click or a navigation leads to (a click returns
/// before the next page is loaded); panics with the page, its URL and cookie names when it
/// does not come within 20 s.
pub async fn wait_for(browser: &Client, css: &str) -> fantoccini::elements::Element {
    match browser
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(css))
        .await
    {
        Ok(element) => element,
        Err(err) => {
            let url = browser
                .current_url()
                .await
                .map(|u| u.to_string())
                .unwrap_or_default();
            let page = browser.source().await.unwrap_or_default();
            let cookies = browser.get_all_cookies().await.unwrap_or_default();
            let names: Vec<String> = cookies.iter().map(|c| c.name().to_owned()).collect();
            panic!("no {css} at {url} ({err}; cookies {names:?}): {page}");
        }
    }
}

/// Clicks the element `selector` finds.
pub async fn click(browser: &Client, selector: &str) {
    browser
        .find(Locator::Css(selector))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}
