//! # axum-app
//!
//! Email magic-link sign-in on [axum] over any adapter of this workspace, driven the way
//! Auth.js's core drives an adapter:
//!
//! - `POST /signin` stores a one-time token with
//!   [`create_verification_token`](auth_core::Adapter::create_verification_token) and "mails"
//!   the link: it goes to the server log and to the dev outbox page `/dev/outbox`;
//! - `GET /callback/email` takes the token with
//!   [`use_verification_token`](auth_core::Adapter::use_verification_token), finds or creates
//!   the user ([`get_user_by_email`](auth_core::Adapter::get_user_by_email) /
//!   [`create_user`](auth_core::Adapter::create_user)), opens a session
//!   ([`create_session`](auth_core::Adapter::create_session) with [`Session::new`]) and sets
//!   the session cookie `HttpOnly; Secure; SameSite=Lax`;
//! - on every request the [`MaybeSignedIn`] / [`SignedIn`] extractors resolve the cookie with
//!   [`get_session_and_user`](auth_core::Adapter::get_session_and_user), and the session
//!   slides forward with [`update_session`](auth_core::Adapter::update_session) at most once
//!   per [`Settings::session_refresh`];
//! - `/sessions` lists the user's sessions, `POST /sessions/delete-all` signs out everywhere,
//!   `POST /signout` signs out here, `POST /account/delete` deletes the user;
//! - every `POST` carries a CSRF token (double-submit cookie) and a foreign `Origin` is refused;
//! - [`auth_core::spawn_sweeper`] runs for stores that do not expire records by themselves.
//!
//! ```no_run
//! use axum_app::{App, Settings};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let app = App::connect(Settings::new("sqlite://axum-app.db?mode=rwc")).await?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! app.serve(listener, async { tokio::signal::ctrl_c().await.ok(); }).await?;
//! # Ok(())
//! # }
//! ```

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use auth_core::chrono::{self, DateTime, Utc};
use auth_core::{
    Adapter, AdapterError, ErrorKind, Session, SessionUpdate, SweeperHandle, User,
    VerificationToken,
};
use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, Query, Request, State};
use axum::http::header::{CONTENT_TYPE, COOKIE, HOST, ORIGIN, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

/// The workspace README's Rust blocks (its quick start included), compiled as doc tests here,
/// where every adapter crate is a dependency.
#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

/// The session cookie: the adapter's session token.
pub const SESSION_COOKIE: &str = "auth_session";
/// The session cookie of an Auth.js app (over HTTPS Auth.js names it
/// `__Secure-authjs.session-token`: set [`Settings::session_cookie`] to that): the cookie this
/// app reads and writes when it shares the database of an Auth.js app ([`Settings::authjs`]).
pub const AUTHJS_SESSION_COOKIE: &str = "authjs.session-token";
/// The CSRF cookie: a random value every `POST` form must repeat in its `csrf` field.
pub const CSRF_COOKIE: &str = "auth_csrf";
/// How many mails the dev outbox keeps.
const OUTBOX_LEN: usize = 50;
/// The largest form body the CSRF check reads.
const FORM_LIMIT: usize = 16 * 1024;

/// Which library talks to a SQL database (`--orm`); Redis and MongoDB have one adapter each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Orm {
    /// `adapter-sqlx`.
    #[default]
    Sqlx,
    /// `adapter-diesel`.
    Diesel,
    /// `adapter-seaorm`.
    Seaorm,
}

/// Which Auth.js adapter's layout the database has (`--authjs`), when the app shares it with
/// a running Auth.js app: then both sign in the same users, and a browser signed in to one is
/// signed in to the other (the session cookie is the same token in the same table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AuthJs {
    /// `@auth/pg-adapter` on PostgreSQL (adapter-sqlx, `Layout::AuthJsPg`).
    Pg,
    /// `@auth/drizzle-adapter`'s default schema on PostgreSQL, SQLite or MariaDB
    /// (adapter-sqlx, `Layout::AuthJsDrizzle`).
    Drizzle,
    /// `@auth/mongodb-adapter` (adapter-mongo, `Layout::AuthJs`).
    Mongodb,
    /// `@auth/unstorage-adapter` on Redis (adapter-redis, `Layout::AuthJsUnstorage`; the
    /// Redis prefix is its `baseKeyPrefix`).
    Unstorage,
}

/// What the app needs to start: where the data lives and the session policy.
///
/// ```
/// use std::time::Duration;
/// let settings = axum_app::Settings::new("sqlite://axum-app.db?mode=rwc");
/// assert_eq!(settings.session_ttl, Duration::from_secs(30 * 24 * 3600));
/// assert_eq!(settings.session_refresh, Duration::from_secs(24 * 3600));
/// ```
#[derive(Debug, Clone)]
pub struct Settings {
    /// `sqlite://…`, `postgres://…`, `mysql://…`, `redis://…` or `mongodb://…`.
    pub database_url: String,
    /// The library for SQL URLs.
    pub orm: Orm,
    /// The key prefix on Redis (`None`: the adapter's default).
    pub redis_prefix: Option<String>,
    /// The Auth.js layout to share (`None`: this workspace's own schema).
    pub authjs: Option<AuthJs>,
    /// The session cookie's name: [`SESSION_COOKIE`], or [`AUTHJS_SESSION_COOKIE`] when
    /// [`Settings::authjs`] is set (use [`Settings::with_authjs`] to get both right).
    pub session_cookie: String,
    /// How long a session lives without activity (Auth.js `maxAge`, 30 days).
    pub session_ttl: Duration,
    /// At most how often a request pushes the session's expiry forward (Auth.js `updateAge`, 24 h).
    pub session_refresh: Duration,
    /// How long a sign-in link works (Auth.js: 24 h; 10 minutes here).
    pub link_ttl: Duration,
    /// How often the sweeper removes expired records, on stores that need it.
    pub sweep_every: Duration,
}

impl Settings {
    /// The defaults for a database URL.
    pub fn new(database_url: impl Into<String>) -> Self {
        Self {
            database_url: database_url.into(),
            orm: Orm::Sqlx,
            redis_prefix: None,
            authjs: None,
            session_cookie: SESSION_COOKIE.to_owned(),
            session_ttl: Duration::from_secs(30 * 24 * 3600),
            session_refresh: Duration::from_secs(24 * 3600),
            link_ttl: Duration::from_secs(10 * 60),
            sweep_every: Duration::from_secs(5 * 60),
        }
    }
}

impl Settings {
    /// Shares the database of an Auth.js app on `layout`, reading and writing its session
    /// cookie ([`AUTHJS_SESSION_COOKIE`]).
    ///
    /// ```
    /// use axum_app::{AuthJs, Settings, AUTHJS_SESSION_COOKIE};
    /// let settings = Settings::new("postgres://127.0.0.1/app").with_authjs(AuthJs::Pg);
    /// assert_eq!(settings.session_cookie, AUTHJS_SESSION_COOKIE);
    /// ```
    pub fn with_authjs(mut self, layout: AuthJs) -> Self {
        self.authjs = Some(layout);
        self.session_cookie = AUTHJS_SESSION_COOKIE.to_owned();
        self
    }
}

/// The app failed to start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The URL's scheme names no backend.
    #[error("unsupported database URL scheme {0:?} (expected sqlite, postgres, mysql, redis or mongodb)")]
    UnsupportedUrl(String),
    /// The Auth.js layout does not exist for this database and library.
    #[error(
        "the Auth.js layout {layout:?} is not available on {scheme} with --orm {orm:?} ({hint})"
    )]
    UnsupportedLayout {
        /// The layout asked for.
        layout: AuthJs,
        /// The URL's scheme.
        scheme: String,
        /// The SQL library asked for.
        orm: Orm,
        /// What would work.
        hint: &'static str,
    },
    /// The adapter could not connect or migrate.
    #[error(transparent)]
    Adapter(#[from] AdapterError),
}

/// Connects the adapter a URL names and prepares its schema; the flag says whether the store
/// expires records by itself (Redis key expiry, MongoDB TTL indexes) or needs the sweeper.
///
/// ```no_run
/// # async fn run() -> Result<(), axum_app::StartError> {
/// let (adapter, expires_by_itself) =
///     axum_app::connect("redis://127.0.0.1:6379", axum_app::Orm::Sqlx, Some("myapp:"), None)
///         .await?;
/// assert!(expires_by_itself);
/// # Ok(())
/// # }
/// ```
pub async fn connect(
    url: &str,
    orm: Orm,
    redis_prefix: Option<&str>,
    authjs: Option<AuthJs>,
) -> Result<(Arc<dyn Adapter>, bool), StartError> {
    let scheme = url.split_once(':').map_or("", |(scheme, _)| scheme);
    let unsupported = |layout: AuthJs, hint: &'static str| StartError::UnsupportedLayout {
        layout,
        scheme: scheme.to_owned(),
        orm,
        hint,
    };
    match (scheme, orm, authjs) {
        (_, _, None)
        | ("postgres" | "postgresql", Orm::Sqlx, Some(AuthJs::Pg))
        | (
            "sqlite" | "postgres" | "postgresql" | "mysql" | "mariadb",
            Orm::Sqlx,
            Some(AuthJs::Drizzle),
        )
        | ("redis" | "rediss", _, Some(AuthJs::Unstorage))
        | ("mongodb" | "mongodb+srv", _, Some(AuthJs::Mongodb)) => {}
        (_, _, Some(layout @ (AuthJs::Pg | AuthJs::Drizzle))) => {
            return Err(unsupported(
                layout,
                "pg: a postgres URL; drizzle: postgres, sqlite or mysql; both with --orm sqlx",
            ))
        }
        (_, _, Some(layout @ AuthJs::Unstorage)) => return Err(unsupported(layout, "a redis URL")),
        (_, _, Some(layout @ AuthJs::Mongodb)) => return Err(unsupported(layout, "a mongodb URL")),
    }
    let adapter: Arc<dyn Adapter> = match (scheme, orm) {
        ("sqlite" | "postgres" | "postgresql" | "mysql" | "mariadb", Orm::Sqlx) => {
            let layout = match authjs {
                Some(AuthJs::Pg) => adapter_sqlx::Layout::AuthJsPg,
                Some(AuthJs::Drizzle) => adapter_sqlx::Layout::AuthJsDrizzle,
                _ => adapter_sqlx::Layout::Native,
            };
            let adapter = adapter_sqlx::SqlxAdapter::builder(url)
                .layout(layout)
                .connect()
                .await?;
            adapter.migrate().await?;
            Arc::new(adapter)
        }
        ("sqlite" | "postgres" | "postgresql" | "mysql" | "mariadb", Orm::Diesel) => {
            let adapter = adapter_diesel::DieselAdapter::connect(url).await?;
            adapter.migrate().await?;
            Arc::new(adapter)
        }
        ("sqlite" | "postgres" | "postgresql" | "mysql" | "mariadb", Orm::Seaorm) => {
            let adapter = adapter_seaorm::SeaOrmAdapter::connect(url).await?;
            adapter.migrate().await?;
            Arc::new(adapter)
        }
        ("redis" | "rediss", _) => {
            let mut builder = adapter_redis::RedisAdapter::builder(url);
            if authjs.is_some() {
                let layout = adapter_redis::UnstorageLayout::new()
                    .base_key_prefix(redis_prefix.unwrap_or_default());
                builder = builder.layout(adapter_redis::Layout::AuthJsUnstorage(layout));
            } else if let Some(prefix) = redis_prefix {
                builder = builder.key_prefix(prefix);
            }
            let adapter = builder.connect().await?;
            adapter.migrate().await?;
            return Ok((Arc::new(adapter), true));
        }
        ("mongodb" | "mongodb+srv", _) => {
            let mut builder = adapter_mongo::MongoAdapter::builder(url);
            if authjs.is_some() {
                builder = builder.layout(adapter_mongo::Layout::AuthJs(
                    adapter_mongo::AuthJsCollections::default(),
                ));
            }
            let adapter = builder.connect().await?;
            adapter.migrate().await?;
            return Ok((Arc::new(adapter), true));
        }
        _ => return Err(StartError::UnsupportedUrl(scheme.to_owned())),
    };
    Ok((adapter, false))
}

/// A mail the app would have sent.
#[derive(Debug, Clone)]
struct Mail {
    to: String,
    link: String,
    at: DateTime<Utc>,
}

/// The connected app: the adapter, the sweeper (when the store needs one) and the dev outbox.
#[derive(Debug)]
pub struct App {
    adapter: Arc<dyn Adapter>,
    sweeper: Option<SweeperHandle>,
    settings: Settings,
}

impl App {
    /// Connects the adapter of `settings.database_url`, migrates it and starts the sweeper
    /// if the store does not expire records by itself. Must be called inside a tokio runtime.
    pub async fn connect(settings: Settings) -> Result<Self, StartError> {
        let (adapter, expires_by_itself) = connect(
            &settings.database_url,
            settings.orm,
            settings.redis_prefix.as_deref(),
            settings.authjs,
        )
        .await?;
        let sweeper = (!expires_by_itself)
            .then(|| auth_core::spawn_sweeper(adapter.clone(), settings.sweep_every));
        tracing::info!(
            database = %auth_core::redact_url(&settings.database_url),
            sweeper = sweeper.is_some(),
            "adapter ready"
        );
        Ok(Self {
            adapter,
            sweeper,
            settings,
        })
    }

    /// The adapter, for tests and tools next to the app.
    pub fn adapter(&self) -> Arc<dyn Adapter> {
        self.adapter.clone()
    }

    /// The routes, with links pointing at `base_url` (e.g. `http://127.0.0.1:3000`).
    pub fn router(&self, base_url: &str) -> Router {
        let state = AppState {
            adapter: self.adapter.clone(),
            settings: Arc::new(self.settings.clone()),
            outbox: Arc::new(Mutex::new(VecDeque::new())),
            base_url: Arc::from(base_url.trim_end_matches('/')),
        };
        Router::new()
            .route("/", get(home))
            .route("/signin", post(request_link))
            .route("/callback/email", get(callback))
            .route("/sessions", get(sessions))
            .route("/sessions/delete-all", post(sign_out_everywhere))
            .route("/signout", post(sign_out))
            .route("/account/delete", post(delete_account))
            .route("/dev/outbox", get(outbox))
            .layer(middleware::from_fn(csrf))
            .layer(middleware::from_fn(trace_request))
            .with_state(state)
    }

    /// Serves on `listener` until `shutdown` completes, then lets the requests under way
    /// finish and stops the sweeper.
    pub async fn serve(
        mut self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let addr: SocketAddr = listener.local_addr()?;
        let base_url = format!("http://{addr}");
        tracing::info!(%base_url, "listening");
        axum::serve(listener, self.router(&base_url))
            .with_graceful_shutdown(shutdown)
            .await?;
        if let Some(sweeper) = self.sweeper.take() {
            sweeper.stop().await;
        }
        tracing::info!("stopped");
        Ok(())
    }
}

#[derive(Debug, Clone)]
struct AppState {
    adapter: Arc<dyn Adapter>,
    settings: Arc<Settings>,
    outbox: Arc<Mutex<VecDeque<Mail>>>,
    base_url: Arc<str>,
}

/// An error page; adapter errors keep their code in the log and on the page.
#[derive(Debug)]
struct AppError(AdapterError);

impl From<AdapterError> for AppError {
    fn from(err: AdapterError) -> Self {
        Self(err)
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = match self.0.kind() {
            ErrorKind::Connection => StatusCode::SERVICE_UNAVAILABLE,
            ErrorKind::InvalidInput => StatusCode::BAD_REQUEST,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        tracing::error!(code = %self.0.code(), error = %self.0, "request failed");
        let body = format!(
            "<p>Something went wrong: <code>{}</code></p>",
            esc(&self.0.to_string())
        );
        (status, page("Error", &body)).into_response()
    }
}

type Result<T, E = AppError> = std::result::Result<T, E>;

// ---------------------------------------------------------------- cookies and extractors

/// The value of cookie `name` in the request's `Cookie` headers.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

fn set_cookie(name: &str, value: &str, max_age: Duration, same_site: &str) -> HeaderValue {
    // Tokens are base64url: nothing in them needs quoting, and a HeaderValue cannot fail.
    let text = format!(
        "{name}={value}; Path=/; Max-Age={}; HttpOnly; Secure; SameSite={same_site}",
        max_age.as_secs()
    );
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn session_cookie(name: &str, session: &Session) -> HeaderValue {
    let left = (session.expires - Utc::now()).to_std().unwrap_or_default();
    set_cookie(name, &session.session_token, left, "Lax")
}

fn clear_session_cookie(name: &str) -> HeaderValue {
    set_cookie(name, "", Duration::ZERO, "Lax")
}

/// Whether a session is due to slide forward: Auth.js updates it once `refresh` has passed
/// since it was last given a full `ttl` (`expires - ttl + refresh <= now`).
///
/// ```
/// use auth_core::chrono::{Duration, Utc};
/// use std::time::Duration as Std;
///
/// let now = Utc::now();
/// let day = Std::from_secs(86_400);
/// let month = Std::from_secs(30 * 86_400);
/// // Extended an hour ago: not yet.
/// assert!(!axum_app::due_for_refresh(now + Duration::days(30) - Duration::hours(1), now, month, day));
/// // Extended two days ago: yes.
/// assert!(axum_app::due_for_refresh(now + Duration::days(28), now, month, day));
/// ```
pub fn due_for_refresh(
    expires: DateTime<Utc>,
    now: DateTime<Utc>,
    ttl: Duration,
    refresh: Duration,
) -> bool {
    let ttl = chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::MAX);
    let refresh = chrono::Duration::from_std(refresh).unwrap_or(chrono::Duration::MAX);
    expires
        .checked_sub_signed(ttl)
        .and_then(|start| start.checked_add_signed(refresh))
        .is_none_or(|due| due <= now)
}

/// The signed-in session and user, if the session cookie names a live session.
///
/// Resolving costs one `get_session_and_user`; a session due for refresh (see
/// [`due_for_refresh`]) also costs one `update_session`, and the response renews the cookie.
#[derive(Debug, Clone)]
pub struct MaybeSignedIn(pub Option<SignedIn>);

/// A signed-in request; without a live session the extractor redirects to `/`.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The live session (with its new expiry when this request extended it).
    pub session: Session,
    /// Its user.
    pub user: User,
    /// Whether this request pushed the expiry forward (the response sets the cookie again).
    pub refreshed: bool,
    /// The name of the session cookie it came in ([`Settings::session_cookie`]).
    pub cookie_name: Arc<str>,
}

impl FromRequestParts<AppState> for MaybeSignedIn {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        if let Some(resolved) = parts.extensions.get::<MaybeSignedIn>() {
            return Ok(resolved.clone());
        }
        let cookie_name = state.settings.session_cookie.as_str();
        let Some(token) = cookie(&parts.headers, cookie_name).filter(|t| !t.is_empty()) else {
            return Ok(Self(None));
        };
        let Some((mut session, user)) = state.adapter.get_session_and_user(token).await? else {
            return Ok(Self(None));
        };
        let settings = &state.settings;
        let now = Utc::now();
        let mut refreshed = false;
        if due_for_refresh(
            session.expires,
            now,
            settings.session_ttl,
            settings.session_refresh,
        ) {
            let ttl = chrono::Duration::from_std(settings.session_ttl)
                .unwrap_or(chrono::Duration::days(30));
            let update = SessionUpdate::new(token).expires(now + ttl);
            match state.adapter.update_session(update).await? {
                Some(updated) => {
                    session = updated;
                    refreshed = true;
                }
                // Signed out (or expired) between the two calls.
                None => return Ok(Self(None)),
            }
        }
        let resolved = Self(Some(SignedIn {
            session,
            user,
            refreshed,
            cookie_name: Arc::from(cookie_name),
        }));
        parts.extensions.insert(resolved.clone());
        Ok(resolved)
    }
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match MaybeSignedIn::from_request_parts(parts, state).await {
            Ok(MaybeSignedIn(Some(signed_in))) => Ok(signed_in),
            Ok(MaybeSignedIn(None)) => Err(Redirect::to("/").into_response()),
            Err(err) => Err(err.into_response()),
        }
    }
}

/// The request's CSRF token (from its cookie, or a fresh one the response sets).
#[derive(Debug, Clone)]
struct CsrfToken(String);

impl<S: Send + Sync> FromRequestParts<S> for CsrfToken {
    type Rejection = StatusCode;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, StatusCode> {
        parts
            .extensions
            .get::<CsrfToken>()
            .cloned()
            .ok_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

#[derive(Deserialize)]
struct CsrfField {
    csrf: String,
}

/// Double-submit CSRF check on every `POST`: the form's `csrf` field must equal the
/// `SameSite=Strict` CSRF cookie, and an `Origin` header, when the browser sends one, must
/// be this host. Other requests get the cookie if they lack it, so every form can carry it.
async fn csrf(request: Request, next: Next) -> Response {
    let existing = cookie(request.headers(), CSRF_COOKIE)
        .filter(|t| !t.is_empty())
        .map(str::to_owned);
    if request.method() == Method::POST {
        let Some(expected) = existing else {
            return refuse("no CSRF cookie");
        };
        if let Some(origin) = request.headers().get(ORIGIN) {
            let host = request.headers().get(HOST).and_then(|h| h.to_str().ok());
            let origin_host = origin
                .to_str()
                .ok()
                .and_then(|o| o.split_once("://"))
                .map(|(_, host)| host);
            if host.is_none() || origin_host != host {
                return refuse("foreign Origin");
            }
        }
        let (parts, body) = request.into_parts();
        let Ok(bytes) = axum::body::to_bytes(body, FORM_LIMIT).await else {
            return refuse("form too large");
        };
        let mut probe = Request::new(Body::from(bytes.clone()));
        // `Form` reads the query string of a GET, the body of anything else.
        *probe.method_mut() = Method::POST;
        if let Some(content_type) = parts.headers.get(CONTENT_TYPE) {
            probe
                .headers_mut()
                .insert(CONTENT_TYPE, content_type.clone());
        }
        let field = Form::<CsrfField>::from_request(probe, &()).await;
        if !matches!(&field, Ok(Form(f)) if constant_time_eq(f.csrf.as_bytes(), expected.as_bytes()))
        {
            return refuse("CSRF token missing or wrong");
        }
        let mut request = Request::from_parts(parts, Body::from(bytes));
        request.extensions_mut().insert(CsrfToken(expected));
        return next.run(request).await;
    }
    let (token, fresh) = match existing {
        Some(token) => (token, false),
        None => (auth_core::generate_token(), true),
    };
    let mut request = request;
    request.extensions_mut().insert(CsrfToken(token.clone()));
    let mut response = next.run(request).await;
    if fresh {
        let cookie = set_cookie(
            CSRF_COOKIE,
            &token,
            Duration::from_secs(365 * 86_400),
            "Strict",
        );
        response.headers_mut().append(SET_COOKIE, cookie);
    }
    response
}

fn refuse(why: &'static str) -> Response {
    tracing::warn!(why, "POST refused");
    let body = "<p>This form expired or did not come from this site. Go back, reload the page and try again.</p>";
    (StatusCode::FORBIDDEN, page("Refused", body)).into_response()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// One span per request, with method and path (never the query: sign-in links carry a token).
async fn trace_request(request: Request, next: Next) -> Response {
    let span = tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path()
    );
    let started = std::time::Instant::now();
    let response = tracing::Instrument::instrument(next.run(request), span.clone()).await;
    span.in_scope(|| {
        tracing::info!(
            status = response.status().as_u16(),
            micros = started.elapsed().as_micros() as u64,
            "done"
        );
    });
    response
}

// ---------------------------------------------------------------- pages

fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} · axum-app</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem; color: #1f2328; }}
header {{ display: flex; justify-content: space-between; border-bottom: 1px solid #d0d7de; margin-bottom: 1.5rem; }}
form {{ display: inline-block; margin: .25rem .5rem .25rem 0; }}
button {{ font: inherit; padding: .3rem .9rem; border-radius: 6px; border: 1px solid #d0d7de; background: #f6f8fa; cursor: pointer; }}
button.danger {{ color: #cf222e; }}
input[type=email] {{ font: inherit; padding: .3rem .5rem; width: 18rem; }}
code {{ word-break: break-all; }}
</style></head>
<body><header><strong><a href="/">axum-app</a></strong><nav><a href="/dev/outbox">dev outbox</a></nav></header>
<main><h1>{title}</h1>
{body}
</main></body></html>"#,
        title = esc(title)
    ))
}

fn post_button(action: &str, label: &str, csrf: &CsrfToken, class: &str) -> String {
    format!(
        r#"<form method="post" action="{action}"><input type="hidden" name="csrf" value="{csrf}"><button type="submit" class="{class}">{label}</button></form>"#,
        csrf = esc(&csrf.0)
    )
}

fn with_cookie(mut response: Response, value: HeaderValue) -> Response {
    response.headers_mut().append(SET_COOKIE, value);
    response
}

/// Renews the cookie when the extractor pushed the session's expiry forward.
fn renewing(signed_in: &SignedIn, response: Response) -> Response {
    if signed_in.refreshed {
        with_cookie(
            response,
            session_cookie(&signed_in.cookie_name, &signed_in.session),
        )
    } else {
        response
    }
}

async fn home(MaybeSignedIn(signed_in): MaybeSignedIn, csrf: CsrfToken) -> Response {
    let Some(signed_in) = signed_in else {
        let body = format!(
            r#"<p>Not signed in.</p>
<form id="signin" method="post" action="/signin">
<input type="hidden" name="csrf" value="{csrf}">
<label>Email <input type="email" name="email" required autocomplete="email"></label>
<button type="submit">Send me a sign-in link</button></form>"#,
            csrf = esc(&csrf.0)
        );
        return page("Sign in", &body).into_response();
    };
    let user = &signed_in.user;
    let who = user.email.as_deref().unwrap_or(&user.id);
    let body = format!(
        r#"<p id="signed-in">Signed in as <strong>{who}</strong>.</p>
<p>This session ends {expires} unless you come back before then: visits push it forward.</p>
<p><a href="/sessions">Your sessions</a></p>
{sign_out}{delete}"#,
        who = esc(who),
        expires = signed_in.session.expires.format("%Y-%m-%d %H:%M UTC"),
        sign_out = post_button("/signout", "Sign out", &csrf, "sign-out"),
        delete = post_button("/account/delete", "Delete account", &csrf, "danger"),
    );
    renewing(&signed_in, page("Home", &body).into_response())
}

#[derive(Deserialize)]
struct SignInForm {
    email: String,
}

async fn request_link(
    State(state): State<AppState>,
    Form(form): Form<SignInForm>,
) -> Result<Response> {
    let email = form.email.trim();
    if email.is_empty() || !email.contains('@') {
        let body = r#"<p>That is not an email address. <a href="/">Try again</a>.</p>"#;
        return Ok((StatusCode::BAD_REQUEST, page("Sign in", body)).into_response());
    }
    let token = auth_core::generate_token();
    let ttl = chrono::Duration::from_std(state.settings.link_ttl)
        .unwrap_or(chrono::Duration::minutes(10));
    state
        .adapter
        .create_verification_token(VerificationToken::new(email, &token, Utc::now() + ttl))
        .await?;
    let link = format!(
        "{}/callback/email?email={}&token={}",
        state.base_url,
        url_encode(email),
        token
    );
    // Development stand-in for a mailer: the link is a credential, so never do this in production.
    tracing::info!(to = email, %link, "sign-in link (dev mail)");
    if let Ok(mut outbox) = state.outbox.lock() {
        outbox.push_front(Mail {
            to: email.to_owned(),
            link,
            at: Utc::now(),
        });
        outbox.truncate(OUTBOX_LEN);
    }
    let body = format!(
        r#"<p id="check-mail">A sign-in link for <strong>{}</strong> is on its way. In development it is in the server log and in the <a href="/dev/outbox">dev outbox</a>.</p>"#,
        esc(email)
    );
    Ok(page("Check your email", &body).into_response())
}

fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

async fn outbox(State(state): State<AppState>) -> Html<String> {
    let mails = state.outbox.lock().map(|o| o.clone()).unwrap_or_default();
    let mut body = String::from(
        "<p>What the app would have mailed (newest first). Development only.</p><ul id=\"outbox\">",
    );
    for mail in &mails {
        let _ = write!(
            body,
            r#"<li>{at} to <strong>{to}</strong>: <a class="link" data-to="{to}" href="{link}">sign in</a></li>"#,
            at = mail.at.format("%H:%M:%S"),
            to = esc(&mail.to),
            link = esc(&mail.link),
        );
    }
    if mails.is_empty() {
        body.push_str("<li>No mail yet.</li>");
    }
    body.push_str("</ul>");
    page("Dev outbox", &body)
}

#[derive(Deserialize)]
struct Callback {
    email: String,
    token: String,
}

async fn callback(
    State(state): State<AppState>,
    query: Result<Query<Callback>, axum::extract::rejection::QueryRejection>,
) -> Result<Response> {
    let refused = || {
        let body = r#"<p id="link-refused">This sign-in link is invalid, expired or was already used. <a href="/">Ask for a new one</a>.</p>"#;
        (StatusCode::BAD_REQUEST, page("Link refused", body)).into_response()
    };
    let Ok(Query(callback)) = query else {
        return Ok(refused());
    };
    let adapter = &state.adapter;
    let Some(used) = adapter
        .use_verification_token(&callback.email, &callback.token)
        .await?
    else {
        return Ok(refused());
    };
    let user = match adapter.get_user_by_email(&used.identifier).await? {
        Some(user) => user,
        None => {
            let mut user = User::new().with_email(&used.identifier);
            user.email_verified = Some(Utc::now());
            adapter.create_user(user).await?
        }
    };
    let ttl = chrono::Duration::from_std(state.settings.session_ttl)
        .unwrap_or(chrono::Duration::days(30));
    let session = adapter.create_session(Session::new(&user.id, ttl)).await?;
    tracing::info!(user = %user.id, "signed in");
    Ok(with_cookie(
        Redirect::to("/").into_response(),
        session_cookie(&state.settings.session_cookie, &session),
    ))
}

async fn sessions(
    State(state): State<AppState>,
    signed_in: SignedIn,
    csrf: CsrfToken,
) -> Result<Response> {
    let mut sessions = state.adapter.list_sessions(&signed_in.user.id).await?;
    sessions.sort_by_key(|s| std::cmp::Reverse(s.expires));
    let mut body = format!(
        "<p>{} signed-in session(s):</p><ul id=\"sessions\">",
        sessions.len()
    );
    for session in &sessions {
        let this = if session.session_token == signed_in.session.session_token {
            " <em>(this browser)</em>"
        } else {
            ""
        };
        let _ = write!(
            body,
            r#"<li class="session">ends {}{this}</li>"#,
            session.expires.format("%Y-%m-%d %H:%M:%S UTC")
        );
    }
    body.push_str("</ul>");
    body.push_str(&post_button(
        "/sessions/delete-all",
        "Sign out everywhere",
        &csrf,
        "sign-out-everywhere",
    ));
    Ok(renewing(
        &signed_in,
        page("Your sessions", &body).into_response(),
    ))
}

async fn sign_out_everywhere(
    State(state): State<AppState>,
    signed_in: SignedIn,
) -> Result<Response> {
    let removed = state.adapter.delete_sessions(&signed_in.user.id).await?;
    tracing::info!(user = %signed_in.user.id, removed, "signed out everywhere");
    Ok(with_cookie(
        Redirect::to("/").into_response(),
        clear_session_cookie(&signed_in.cookie_name),
    ))
}

async fn sign_out(State(state): State<AppState>, headers: HeaderMap) -> Result<Response> {
    let name = state.settings.session_cookie.as_str();
    if let Some(token) = cookie(&headers, name).filter(|t| !t.is_empty()) {
        state.adapter.delete_session(token).await?;
    }
    Ok(with_cookie(
        Redirect::to("/").into_response(),
        clear_session_cookie(name),
    ))
}

async fn delete_account(State(state): State<AppState>, signed_in: SignedIn) -> Result<Response> {
    state.adapter.delete_user(&signed_in.user.id).await?;
    tracing::info!(user = %signed_in.user.id, "account deleted");
    let mut response = page(
        "Account deleted",
        r#"<p id="deleted">Your account and all its sessions are gone. <a href="/">Home</a></p>"#,
    )
    .into_response();
    response
        .headers_mut()
        .append(SET_COOKIE, clear_session_cookie(&signed_in.cookie_name));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_finds_the_named_pair_across_headers() {
        let mut headers = HeaderMap::new();
        headers.append(COOKIE, HeaderValue::from_static("a=1; auth_session=tok"));
        headers.append(COOKIE, HeaderValue::from_static("auth_csrf=c"));
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("tok"));
        assert_eq!(cookie(&headers, CSRF_COOKIE), Some("c"));
        assert_eq!(cookie(&headers, "auth"), None);
    }

    #[test]
    fn url_encode_escapes_what_a_query_cannot_hold() {
        assert_eq!(url_encode("a+b@x.io"), "a%2Bb%40x.io");
    }

    #[test]
    fn esc_escapes_markup() {
        assert_eq!(
            esc(r#"<a href="x">'&'"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;"
        );
    }

    #[test]
    fn constant_time_eq_compares_whole_values() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }

    #[test]
    fn a_refresh_interval_of_zero_refreshes_every_time() {
        let now = Utc::now();
        let ttl = Duration::from_secs(3600);
        assert!(due_for_refresh(
            now + chrono::Duration::hours(1),
            now,
            ttl,
            Duration::ZERO
        ));
    }
}
