#![allow(clippy::unwrap_used)] // test code: a panic is the failure report
//! The app's defences at the HTTP level, through its router (`oneshot`, no socket): one
//! identity per address (look-alikes and NFD refused or folded), links used only by a
//! `POST`, the hardening headers on every route, no 500 when first sign-ins race, rate
//! limits, the opt-in dev outbox, the one-session-cookie rule, CSRF tokens bound to the
//! session, pending links burnt, tokens hashed at rest.
//!
//! The identity and race tests run on SQLite, PostgreSQL (`AUTH_TEST_POSTGRES_URL`) and Redis
//! (`AUTH_TEST_REDIS_URL`); without a server they print a SKIPPED line, or fail when
//! `AUTH_CONFORMANCE_REQUIRE` is set (CI sets it).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use auth_core::at_rest::{token_hash, KeyRing};
use auth_core::{Account, AccountType, Adapter, ErrorCode};
use axum::body::Body;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, COOKIE, LOCATION, ORIGIN, SET_COOKIE};
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::Router;
use axum_app::{
    App, Rate, Settings, SignInLimits, CONTENT_SECURITY_POLICY_VALUE, CSRF_COOKIE, LINK_COOKIE,
    SESSION_COOKIE,
};
use sqlx::Connection;
use tower::ServiceExt as _;

const ORIGIN_URL: &str = "http://127.0.0.1:3000";

fn unique(label: &str) -> String {
    format!("{label}_{}", uuid::Uuid::now_v7().simple())
}

fn skip(reason: &str) {
    if std::env::var("AUTH_CONFORMANCE_REQUIRE").is_ok_and(|v| !v.trim().is_empty()) {
        panic!("required by AUTH_CONFORMANCE_REQUIRE but cannot run: {reason}");
    }
    eprintln!("SKIPPED: {reason}");
}

/// Limits high enough for tests that are not about them.
fn generous() -> SignInLimits {
    let rate = Rate {
        burst: 1000,
        every: Duration::from_millis(1),
    };
    SignInLimits {
        per_address: rate,
        per_client: rate,
    }
}

/// Where a test runs: the settings, and what to drop afterwards.
struct Backend {
    name: &'static str,
    settings: Settings,
    cleanup: Option<(String, String)>,
    /// The SQLite file's directory, removed when the backend drops.
    dir: Option<std::path::PathBuf>,
}

impl Drop for Backend {
    fn drop(&mut self) {
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

impl Backend {
    fn sqlite() -> Backend {
        let dir = std::env::temp_dir().join(unique("axum-app-hardening"));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.join("app.db").display());
        Backend {
            name: "sqlite",
            settings: Settings::new(url),
            cleanup: None,
            dir: Some(dir),
        }
    }

    async fn postgres() -> Option<Backend> {
        let Ok(server) = std::env::var("AUTH_TEST_POSTGRES_URL") else {
            skip("postgres: AUTH_TEST_POSTGRES_URL is not set");
            return None;
        };
        let mut admin = sqlx::PgConnection::connect(&server).await.unwrap();
        let database = unique("axum_hardening");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {database}")))
            .execute(&mut admin)
            .await
            .unwrap();
        let (root, _) = server.rsplit_once('/').unwrap();
        Some(Backend {
            name: "postgres",
            settings: Settings::new(format!("{root}/{database}")),
            cleanup: Some((server, database)),
            dir: None,
        })
    }

    fn redis() -> Option<Backend> {
        let Ok(url) = std::env::var("AUTH_TEST_REDIS_URL") else {
            skip("redis: AUTH_TEST_REDIS_URL is not set");
            return None;
        };
        let mut settings = Settings::new(url);
        settings.redis_prefix = Some(format!("{}:", unique("axum-hardening")));
        Some(Backend {
            name: "redis",
            settings,
            cleanup: None,
            dir: None,
        })
    }

    async fn all() -> Vec<Backend> {
        let mut all = vec![Backend::sqlite()];
        all.extend(Backend::postgres().await);
        all.extend(Backend::redis());
        all
    }

    async fn drop_database(mut self) {
        if let Some((server, database)) = self.cleanup.take() {
            let mut admin = sqlx::PgConnection::connect(&server).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE {database} WITH (FORCE)"
            )))
            .execute(&mut admin)
            .await
            .unwrap();
        }
    }
}

/// The app with the dev outbox on, behind a router whose links point at [`ORIGIN_URL`].
async fn app(mut settings: Settings) -> (App, Router) {
    settings.dev_outbox = true;
    let app = App::connect(settings).await.expect("the app connects");
    let router = app.router(ORIGIN_URL);
    (app, router)
}

#[derive(Debug)]
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Reply {
    /// The value of the hidden `csrf` field of the page's first form.
    fn csrf(&self) -> String {
        field(&self.body, "csrf").unwrap_or_else(|| panic!("no csrf field in {}", self.body))
    }

    fn location(&self) -> &str {
        self.headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    fn set_cookies(&self) -> Vec<&str> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect()
    }
}

/// The `value` of the hidden input `name` in a page.
fn field(body: &str, name: &str) -> Option<String> {
    let marker = format!(r#"name="{name}" value=""#);
    let start = body.find(&marker)? + marker.len();
    let value = &body[start..start + body[start..].find('"')?];
    Some(value.replace("&amp;", "&").replace("&#39;", "'"))
}

/// A browser: a cookie jar in front of the router, sending what a same-origin form sends.
#[derive(Clone)]
struct Browser {
    router: Router,
    jar: BTreeMap<String, String>,
}

impl Browser {
    fn new(router: &Router) -> Browser {
        Browser {
            router: router.clone(),
            jar: BTreeMap::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.jar
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn send(&mut self, mut request: Request<Body>) -> Reply {
        if !self.jar.is_empty() && !request.headers().contains_key(COOKIE) {
            let jar = self.cookie_header();
            request.headers_mut().insert(COOKIE, jar.parse().unwrap());
        }
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        for value in headers.get_all(SET_COOKIE) {
            let text = value.to_str().unwrap();
            let (pair, attributes) = text.split_once(';').unwrap_or((text, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if attributes.contains("Max-Age=0") {
                self.jar.remove(name);
            } else {
                self.jar.insert(name.to_owned(), value.to_owned());
            }
        }
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    async fn get(&mut self, path: &str) -> Reply {
        self.send(Request::get(path).body(Body::empty()).unwrap())
            .await
    }

    /// A form `POST` as a same-origin page sends it, `csrf` included.
    async fn post(&mut self, path: &str, csrf: &str, fields: &[(&str, &str)]) -> Reply {
        let request = form_request(path)
            .header(ORIGIN, ORIGIN_URL)
            .header("sec-fetch-site", "same-origin")
            .body(Body::from(form_body(csrf, fields)))
            .unwrap();
        self.send(request).await
    }

    /// Asks for a link on the home page; the link as the dev outbox shows it (or the reply
    /// that refused it).
    async fn request_link(&mut self, typed: &str) -> Result<String, Reply> {
        let home = self.get("/").await;
        let reply = self
            .post("/signin", &home.csrf(), &[("email", typed)])
            .await;
        if reply.status != StatusCode::OK {
            return Err(reply);
        }
        assert!(reply.body.contains(r#"id="check-mail""#), "{}", reply.body);
        let outbox = self.get("/dev/outbox").await;
        let href = outbox
            .body
            .split(r#"class="link""#)
            .nth(1)
            .and_then(|rest| rest.split(r#"href=""#).nth(1))
            .and_then(|rest| rest.split('"').next())
            .expect("a link in the outbox");
        Ok(href.replace("&amp;", "&"))
    }

    /// Opens a link's confirm page and posts its form; the reply to the `POST`.
    async fn use_link(&mut self, link: &str) -> Reply {
        let confirm = self.get(link.trim_start_matches(ORIGIN_URL)).await;
        assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.body);
        let email = field(&confirm.body, "email").expect("an email field");
        let token = field(&confirm.body, "token").expect("a token field");
        self.post(
            "/callback/email",
            &confirm.csrf(),
            &[("email", &email), ("token", &token)],
        )
        .await
    }

    async fn sign_in(&mut self, typed: &str) -> String {
        let link = self
            .request_link(typed)
            .await
            .unwrap_or_else(|r| panic!("no link for {typed:?}: {} {}", r.status, r.body));
        let reply = self.use_link(&link).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
        self.jar
            .get(SESSION_COOKIE)
            .cloned()
            .expect("a session cookie")
    }

    async fn home(&mut self) -> String {
        self.get("/").await.body
    }
}

fn form_body(csrf: &str, fields: &[(&str, &str)]) -> String {
    let mut pairs = vec![format!("csrf={}", encode(csrf))];
    pairs.extend(fields.iter().map(|(k, v)| format!("{k}={}", encode(v))));
    pairs.join("&")
}

fn form_request(path: &str) -> axum::http::request::Builder {
    Request::post(path).header(CONTENT_TYPE, "application/x-www-form-urlencoded")
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The mails in the outbox, newest first: (recipient, link).
async fn outbox(browser: &mut Browser) -> Vec<String> {
    let page = browser.get("/dev/outbox").await.body;
    page.split(r#"data-to=""#)
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(|to| to.replace("&amp;", "&"))
        .collect()
}

/// Whether a session token names a live session.
async fn is_live(app: &App, token: &str) -> bool {
    app.adapter()
        .get_session_and_user(token)
        .await
        .unwrap()
        .is_some()
}

// ---------------------------------------------------------------- one identity

async fn identity_on(backend: Backend) {
    let name = backend.name;
    let mut settings = backend.settings.clone();
    settings.sign_in_limits = generous();
    let (app, router) = app(settings).await;
    let adapter = app.adapter();
    let domain = format!("{}.example", unique("x").to_lowercase());
    let kate = format!("kate@{domain}");

    let mut owner = Browser::new(&router);
    owner.sign_in(&kate).await;
    let owner_user = adapter.get_user_by_email(&kate).await.unwrap().unwrap();

    // The Kelvin sign looks like K and folds to k: refused, and nothing is mailed.
    let mut attacker = Browser::new(&router);
    let before = outbox(&mut attacker).await.len();
    let kelvin = format!("\u{212a}ate@{domain}");
    let refused = attacker.request_link(&kelvin).await.unwrap_err();
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{name}");
    assert!(
        refused.body.contains("look-alike"),
        "{name}: {}",
        refused.body
    );
    assert_eq!(outbox(&mut attacker).await.len(), before, "{name}");

    // Another spelling of the same address: the link goes to the account's address.
    attacker
        .request_link(&format!("  KATE@{}  ", domain.to_uppercase()))
        .await
        .unwrap();
    assert_eq!(outbox(&mut attacker).await[0], kate, "{name}");

    // NFD and NFC spellings of café are one account, stored composed.
    let nfd = format!("cafe\u{301}@{domain}");
    let nfc = format!("caf\u{e9}@{domain}");
    let mut first = Browser::new(&router);
    first.sign_in(&nfd).await;
    assert_eq!(outbox(&mut first).await[0], nfc, "{name}: mailed composed");
    let mut second = Browser::new(&router);
    second.sign_in(&nfc).await;
    let user = adapter.get_user_by_email(&nfc).await.unwrap().unwrap();
    assert_eq!(user.email.as_deref(), Some(nfc.as_str()), "{name}");
    assert!(first.home().await.contains(&nfc) && second.home().await.contains(&nfc));
    assert_eq!(
        adapter.list_sessions(&user.id).await.unwrap().len(),
        2,
        "{name}"
    );
    assert_ne!(user.id, owner_user.id);

    // Lists, header injection, empty parts: refused before any token is stored.
    for typed in [
        "@".to_owned(),
        format!("a@{domain},evil@evil.example"),
        format!("a@{domain}\r\nBcc: evil@evil.example"),
        format!("Ada <ada@{domain}>"),
        format!("a..b@{domain}"),
    ] {
        let reply = attacker.request_link(&typed).await.unwrap_err();
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{name}: {typed:?}");
    }
    // The owner is still the only one signed in to kate's account.
    assert_eq!(
        adapter.list_sessions(&owner_user.id).await.unwrap().len(),
        1,
        "{name}"
    );
    assert!(attacker.home().await.contains("Not signed in"));
    drop(app);
    backend.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn look_alike_and_decomposed_addresses_reach_no_other_account() {
    for backend in Backend::all().await {
        identity_on(backend).await;
    }
}

// ---------------------------------------------------------------- racing first sign-ins

async fn race_on(backend: Backend) {
    let name = backend.name;
    let mut settings = backend.settings.clone();
    settings.sign_in_limits = generous();
    let (app, router) = app(settings).await;
    let adapter = app.adapter();
    for round in 0..5 {
        let email = format!("{}@race.example", unique("new").to_lowercase());
        let mut asker = Browser::new(&router);
        let mut links = Vec::new();
        for _ in 0..6 {
            links.push(asker.request_link(&email).await.unwrap());
        }
        // Six browsers, each on its confirm page, post at once.
        let mut posts = Vec::new();
        for link in links {
            let mut browser = asker.clone();
            browser.jar.remove(SESSION_COOKIE);
            let confirm = browser.get(link.trim_start_matches(ORIGIN_URL)).await;
            let email = field(&confirm.body, "email").unwrap();
            let token = field(&confirm.body, "token").unwrap();
            let csrf = confirm.csrf();
            posts.push(tokio::spawn(async move {
                browser
                    .post(
                        "/callback/email",
                        &csrf,
                        &[("email", &email), ("token", &token)],
                    )
                    .await
            }));
        }
        let mut signed_in = 0;
        for post in posts {
            let reply = post.await.unwrap();
            assert!(
                reply.status == StatusCode::SEE_OTHER || reply.status == StatusCode::BAD_REQUEST,
                "{name} round {round}: {} {}",
                reply.status,
                reply.body
            );
            if reply.status == StatusCode::SEE_OTHER {
                signed_in += 1;
            } else {
                assert!(
                    reply.body.contains("link-refused"),
                    "{name}: {}",
                    reply.body
                );
            }
        }
        assert!(signed_in >= 1, "{name} round {round}: nobody signed in");
        let user = adapter.get_user_by_email(&email).await.unwrap().unwrap();
        assert_eq!(
            adapter.list_sessions(&user.id).await.unwrap().len(),
            signed_in,
            "{name} round {round}"
        );
    }
    drop(app);
    backend.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn six_parallel_first_sign_ins_never_fail_five_rounds() {
    for backend in Backend::all().await {
        race_on(backend).await;
    }
}

// ---------------------------------------------------------------- links and POST

#[tokio::test]
async fn following_a_link_signs_nobody_in_and_leaves_it_usable() {
    let backend = Backend::sqlite();
    let (_app, router) = app(backend.settings.clone()).await;
    let mut asker = Browser::new(&router);
    let link = asker.request_link("ada@example.com").await.unwrap();
    let path = link.trim_start_matches(ORIGIN_URL).to_owned();

    // A scanner (no cookies) fetches it with HEAD and GET; another site's navigation too.
    let mut scanner = Browser::new(&router);
    let head = scanner
        .send(Request::head(&path).body(Body::empty()).unwrap())
        .await;
    assert_eq!(head.status, StatusCode::OK);
    let page = scanner.get(&path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains(r#"id="confirm""#),
        "{path}: {}",
        page.body
    );
    assert!(
        page.body.contains(r#"id="other-browser""#),
        "a warning: not asked here"
    );
    assert!(!scanner.jar.contains_key(SESSION_COOKIE));
    assert!(scanner.home().await.contains("Not signed in"));

    // The browser that asked sees no warning, and the link still works.
    let page = asker.get(&path).await;
    assert!(!page.body.contains("other-browser"), "{}", page.body);
    assert!(asker.jar.contains_key(LINK_COOKIE));
    let used = asker.use_link(&link).await;
    assert_eq!(used.status, StatusCode::SEE_OTHER);
    assert!(
        !asker.jar.contains_key(LINK_COOKIE),
        "the binding is cleared"
    );
    assert!(asker
        .home()
        .await
        .contains("Signed in as <strong>ada@example.com"));
    // Used once: a second POST is refused, without a 500.
    let again = scanner.use_link(&link).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);

    // A POST with another site's form (no valid csrf) uses nothing.
    let link = asker.request_link("bob@example.com").await.unwrap();
    let mut victim = Browser::new(&router);
    victim.get("/").await;
    let forged = victim
        .post(
            "/callback/email",
            "forged",
            &[("email", "bob@example.com"), ("token", "x")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(asker.use_link(&link).await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_new_sign_in_ends_the_browsers_previous_session() {
    let backend = Backend::sqlite();
    let (app, router) = app(backend.settings.clone()).await;
    let mut browser = Browser::new(&router);
    let first = browser.sign_in("ada@example.com").await;
    let second = browser.sign_in("bob@example.com").await;
    assert_ne!(first, second);
    assert!(!is_live(&app, &first).await);
    assert!(is_live(&app, &second).await);
}

// ---------------------------------------------------------------- headers

fn assert_hardened(what: &str, reply: &Reply) {
    let header = |name: &str| {
        reply
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(
        header("content-security-policy"),
        CONTENT_SECURITY_POLICY_VALUE,
        "{what}"
    );
    assert_eq!(header("x-frame-options"), "DENY", "{what}");
    assert_eq!(header("referrer-policy"), "no-referrer", "{what}");
    assert_eq!(header("x-content-type-options"), "nosniff", "{what}");
    let html = header("content-type").starts_with("text/html");
    if html || what.starts_with("POST") || reply.status.is_redirection() {
        assert_eq!(header(CACHE_CONTROL.as_str()), "no-store", "{what}");
    }
}

#[tokio::test]
async fn every_route_answers_with_the_hardening_headers() {
    let backend = Backend::sqlite();
    let (_app, router) = app(backend.settings.clone()).await;
    let mut anonymous = Browser::new(&router);
    let mut browser = Browser::new(&router);
    let link = browser.request_link("ada@example.com").await.unwrap();
    let link_path = link.trim_start_matches(ORIGIN_URL).to_owned();
    for path in [
        "/",
        "/style.css",
        "/signin",
        "/callback/email",
        link_path.as_str(),
        "/sessions",
        "/account/delete",
        "/dev/outbox",
        "/no/such/page",
    ] {
        let reply = anonymous.get(path).await;
        assert_hardened(&format!("GET {path} signed out ({})", reply.status), &reply);
    }
    let style = anonymous.get("/style.css").await;
    assert_eq!(style.status, StatusCode::OK);
    assert!(style.headers[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/css"));

    let used = browser.use_link(&link).await;
    assert_hardened("POST /callback/email", &used);
    for path in ["/", "/sessions", "/account/delete", "/dev/outbox"] {
        let reply = browser.get(path).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        assert_hardened(&format!("GET {path} signed in"), &reply);
    }
    let csrf = browser.get("/").await.csrf();
    for path in [
        "/signin",
        "/signout",
        "/sessions/delete-all",
        "/account/delete",
        "/callback/email",
    ] {
        let forged = anonymous.post(path, "forged", &[]).await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN, "{path}");
        assert_hardened(&format!("POST {path} forged"), &forged);
    }
    let reply = browser.post("/signout", &csrf, &[]).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_hardened("POST /signout", &reply);
}

// ---------------------------------------------------------------- limits and the outbox

#[tokio::test]
async fn asking_for_links_is_rate_limited_per_address_and_per_client() {
    let backend = Backend::sqlite();
    let mut settings = backend.settings.clone();
    settings.sign_in_limits = SignInLimits {
        per_address: Rate {
            burst: 3,
            every: Duration::from_secs(3600),
        },
        per_client: Rate {
            burst: 6,
            every: Duration::from_secs(3600),
        },
    };
    let (_app, router) = app(settings).await;
    let mut browser = Browser::new(&router);
    for _ in 0..3 {
        browser.request_link("ada@example.com").await.unwrap();
    }
    // Another spelling of one address is the same address.
    let limited = browser.request_link("ADA@example.com").await.unwrap_err();
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    // Retry-After is the limiter's wait: about an hour here, not a fixed guess.
    let retry: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((3500..=3600).contains(&retry), "{retry}");
    // Six attempts per client in all: two more addresses, then none.
    browser.request_link("bob@example.com").await.unwrap();
    browser.request_link("cyd@example.com").await.unwrap();
    let limited = browser.request_link("dee@example.com").await.unwrap_err();
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn the_dev_outbox_is_opt_in_and_loopback_only() {
    let dir = std::env::temp_dir().join(unique("axum-app-outbox"));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.join("app.db").display());
    let app = App::connect(Settings::new(&url)).await.unwrap();
    let mut browser = Browser::new(&app.router(ORIGIN_URL));
    assert_eq!(
        browser.get("/dev/outbox").await.status,
        StatusCode::NOT_FOUND
    );
    // Without a mailer the link goes nowhere, and the page says only what it always says.
    let home = browser.get("/").await;
    let reply = browser
        .post("/signin", &home.csrf(), &[("email", "ada@example.com")])
        .await;
    assert_eq!(reply.status, StatusCode::OK);

    let mut settings = Settings::new(&url);
    settings.dev_outbox = true;
    let app = App::connect(settings).await.unwrap();
    let listener = tokio::net::TcpListener::bind("0.0.0.0:0").await.unwrap();
    let err = app.serve(listener, async {}).await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---------------------------------------------------------------- cookies and CSRF

#[tokio::test]
async fn two_session_cookies_sign_the_request_out_and_are_cleared() {
    let backend = Backend::sqlite();
    let (app, router) = app(backend.settings.clone()).await;
    let mut victim = Browser::new(&router);
    let token = victim.sign_in("victim@example.com").await;
    let mut attacker = Browser::new(&router);
    let planted = attacker.sign_in("attacker@example.com").await;

    // The browser sends the cookie planted at /sessions first, then its own.
    let cookies = format!("{SESSION_COOKIE}={planted}; {SESSION_COOKIE}={token}");
    let reply = victim
        .send(
            Request::get("/sessions")
                .header(COOKIE, cookies)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "signed out: to /");
    assert_eq!(reply.location(), "/");
    let cleared: Vec<&str> = reply
        .set_cookies()
        .into_iter()
        .filter(|c| c.starts_with(&format!("{SESSION_COOKIE}=;")))
        .collect();
    assert!(cleared.iter().any(|c| c.contains("Path=/;")), "{cleared:?}");
    assert!(
        cleared.iter().any(|c| c.contains("Path=/sessions;")),
        "{cleared:?}"
    );
    // Neither session was touched.
    assert!(is_live(&app, &token).await);
    assert!(is_live(&app, &planted).await);
}

#[tokio::test]
async fn csrf_tokens_are_bound_to_the_session_and_rotate() {
    let backend = Backend::sqlite();
    let (_app, router) = app(backend.settings.clone()).await;
    let mut browser = Browser::new(&router);
    let signed_out_token = browser.get("/").await.csrf();
    let seed_before = browser.jar[CSRF_COOKIE].clone();
    browser.sign_in("ada@example.com").await;
    assert_ne!(browser.jar[CSRF_COOKIE], seed_before, "rotated at sign-in");

    // The old double-submit trick: a field equal to the cookie.
    let seed = browser.jar[CSRF_COOKIE].clone();
    assert_eq!(
        browser.post("/signout", &seed, &[]).await.status,
        StatusCode::FORBIDDEN
    );
    // A token from before sign-in proves nothing after it.
    let reply = browser.post("/signout", &signed_out_token, &[]).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);

    let token = browser.get("/").await.csrf();
    let post = |origin: Option<&'static str>, site: Option<&'static str>| {
        let mut request = form_request("/signout");
        if let Some(origin) = origin {
            request = request.header(ORIGIN, origin);
        }
        if let Some(site) = site {
            request = request.header("sec-fetch-site", site);
        }
        request.body(Body::from(form_body(&token, &[]))).unwrap()
    };
    for (origin, site) in [
        (Some("https://127.0.0.1:3000"), Some("same-origin")), // another scheme
        (Some("http://127.0.0.1:3001"), Some("same-origin")),  // another port
        (Some("http://localhost:3000"), None),                 // another host
        (Some(ORIGIN_URL), Some("same-site")), // a sibling origin, by the browser's account
        (Some(ORIGIN_URL), Some("cross-site")),
        (Some("null"), Some("cross-site")),
        (Some("null"), None), // a sandboxed frame of an old browser
    ] {
        let reply = browser.send(post(origin, site)).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{origin:?} {site:?}");
    }
    assert!(browser.home().await.contains("Signed in as"));
    // What Chromium sends for the app's own form under `Referrer-Policy: no-referrer`.
    let reply = browser.send(post(Some("null"), Some("same-origin"))).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_ne!(browser.jar[CSRF_COOKIE], seed, "rotated at sign-out");
    assert!(browser.home().await.contains("Not signed in"));
}

// ---------------------------------------------------------------- pending links, deletion

#[tokio::test]
async fn pending_links_die_when_one_is_used_on_sign_out_everywhere_and_on_deletion() {
    let backend = Backend::sqlite();
    let mut settings = backend.settings.clone();
    settings.sign_in_limits = generous();
    let (app, router) = app(settings).await;
    let adapter = app.adapter();
    let mut browser = Browser::new(&router);
    let first = browser.request_link("ada@example.com").await.unwrap();
    let second = browser.request_link("ada@example.com").await.unwrap();
    assert_eq!(browser.use_link(&first).await.status, StatusCode::SEE_OTHER);
    assert_eq!(
        browser.use_link(&second).await.status,
        StatusCode::BAD_REQUEST
    );

    let pending = browser.request_link("ada@example.com").await.unwrap();
    let csrf = browser.get("/sessions").await.csrf();
    let reply = browser.post("/sessions/delete-all", &csrf, &[]).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(
        browser.use_link(&pending).await.status,
        StatusCode::BAD_REQUEST
    );

    browser.sign_in("ada@example.com").await;
    let pending = browser.request_link("ada@example.com").await.unwrap();
    // Deleting asks first: a POST without the confirmation deletes nothing.
    let csrf = browser.get("/").await.csrf();
    let reply = browser.post("/account/delete", &csrf, &[]).await;
    assert_eq!(reply.location(), "/account/delete");
    assert!(adapter
        .get_user_by_email("ada@example.com")
        .await
        .unwrap()
        .is_some());
    let confirm = browser.get("/account/delete").await;
    assert!(confirm.body.contains("confirm-delete"));
    let reply = browser
        .post("/account/delete", &confirm.csrf(), &[("confirm", "delete")])
        .await;
    assert!(reply.body.contains(r#"id="deleted""#), "{}", reply.body);
    assert!(adapter
        .get_user_by_email("ada@example.com")
        .await
        .unwrap()
        .is_none());
    // The link asked for before the deletion does not create the account again.
    assert_eq!(
        browser.use_link(&pending).await.status,
        StatusCode::BAD_REQUEST
    );
    assert!(adapter
        .get_user_by_email("ada@example.com")
        .await
        .unwrap()
        .is_none());
}

// ---------------------------------------------------------------- at rest

#[tokio::test]
async fn tokens_are_hashed_at_rest_and_account_tokens_sealed() {
    let backend = Backend::sqlite();
    let url = backend.settings.database_url.clone();
    let mut settings = backend.settings.clone();
    settings.account_keys = Some(Arc::new(KeyRing::new("k1", [9; 32]).unwrap()));
    let (app, router) = app(settings).await;
    let mut browser = Browser::new(&router);
    let token = browser.sign_in("ada@example.com").await;
    let sessions = browser.get("/sessions").await.body;
    assert!(sessions.contains("this-browser"), "{sessions}");

    let raw = adapter_sqlx::SqlxAdapter::connect(&url).await.unwrap();
    assert!(raw.get_session_and_user(&token).await.unwrap().is_none());
    let (_, user) = raw
        .get_session_and_user(&token_hash(&token))
        .await
        .unwrap()
        .expect("stored under its hash");

    let mut account = Account::new(&user.id, AccountType::OAuth, "github", "42");
    account.access_token = Some("gho_secret".into());
    app.adapter().link_account(account).await.unwrap();
    let stored = raw.get_account("github", "42").await.unwrap().unwrap();
    assert!(stored.access_token.unwrap().starts_with("enc:v1:k1:"));

    // Strict: a token planted in clear around the app is an error, not a token.
    let mut planted = Account::new(&user.id, AccountType::OAuth, "gitlab", "7");
    planted.access_token = Some("planted".into());
    raw.link_account(planted).await.unwrap();
    let mut settings = Settings::new(&url);
    settings.account_keys = Some(Arc::new(KeyRing::new("k1", [9; 32]).unwrap()));
    settings.strict_account_tokens = true;
    let strict = App::connect(settings).await.unwrap();
    let err = strict
        .adapter()
        .get_account("gitlab", "7")
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::AccountTokenDecryptionError);
}

#[tokio::test]
async fn a_bad_public_origin_or_rate_is_refused_at_start() {
    for origin in ["127.0.0.1:3000", "https://app.example/path", "ftp://x"] {
        let mut settings = Settings::new("sqlite::memory:");
        settings.public_origin = Some(origin.to_owned());
        assert!(
            matches!(
                App::connect(settings).await,
                Err(axum_app::StartError::Setting(_))
            ),
            "{origin}"
        );
    }
    let mut settings = Settings::new("sqlite::memory:");
    settings.sign_in_limits.per_client.burst = 0;
    assert!(matches!(
        App::connect(settings).await,
        Err(axum_app::StartError::Setting(_))
    ));
}

#[tokio::test]
async fn methods_other_than_the_routes_are_refused_with_headers() {
    let backend = Backend::sqlite();
    let (_app, router) = app(backend.settings.clone()).await;
    let mut browser = Browser::new(&router);
    let reply = browser
        .send(
            Request::builder()
                .method(Method::DELETE)
                .uri("/")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_hardened("DELETE /", &reply);
}

// ---------------------------------------------------------------- the app's own fields

#[tokio::test]
async fn only_admins_open_the_admin_page_and_the_role_lives_in_extra() {
    let backend = Backend::sqlite();
    let mut settings = backend.settings.clone();
    settings.admin_emails = vec!["root@example.com".to_owned()];
    let (app, router) = app(settings).await;

    let mut admin = Browser::new(&router);
    admin.sign_in("Root@Example.com").await;
    let page = admin.get("/admin").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains(r#"id="admin""#), "{}", page.body);
    assert!(admin.home().await.contains(r#"id="admin-link""#));

    let mut member = Browser::new(&router);
    member.sign_in("member@example.com").await;
    assert!(!member.home().await.contains(r#"id="admin-link""#));
    assert_eq!(member.get("/admin").await.status, StatusCode::FORBIDDEN);
    let csrf = member.get("/").await.csrf();
    let refused = member
        .post("/admin/grant", &csrf, &[("email", "member@example.com")])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);

    let granted = admin
        .post(
            "/admin/grant",
            &page.csrf(),
            &[("email", "Member@example.com")],
        )
        .await;
    assert_eq!(granted.status, StatusCode::OK, "{}", granted.body);
    assert!(granted.body.contains(r#"id="granted""#), "{}", granted.body);
    assert_eq!(member.get("/admin").await.status, StatusCode::OK);

    let stored = app
        .adapter()
        .get_user_by_email("member@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.extra["role"], "admin");
    assert!(axum_app::is_admin(&stored));
}
