//! # axum-app
//!
//! Email magic-link sign-in on [axum] over any adapter of this workspace, driven the way
//! Auth.js's core drives an adapter, and hardened the way the code users copy must be:
//!
//! - `POST /signin` turns the typed address into one identity
//!   ([`auth_core::email_identity`]: NFC, folded, exactly one address, no look-alike
//!   letters), stores a one-time token for it with
//!   [`create_verification_token`](auth_core::Adapter::create_verification_token) and mails
//!   the link to that identity through a [`Mailer`] (the dev outbox at `/dev/outbox` with
//!   `--dev-outbox`, loopback only). It is rate-limited per address and per client.
//! - `GET /callback/email` only shows a confirm page (a warning on it when the link was
//!   asked for in another browser); its form, `POST /callback/email`, takes the token with
//!   [`use_verification_token`](auth_core::Adapter::use_verification_token), burns the
//!   address's other pending links, finds or creates the user (a concurrent first sign-in's
//!   `Conflict` is answered by a second lookup), ends the browser's previous session and
//!   opens a new one ([`create_session`](auth_core::Adapter::create_session)) with the
//!   cookie `__Host-auth_session; HttpOnly; Secure; SameSite=Lax`.
//! - On every request the [`MaybeSignedIn`] / [`SignedIn`] extractors resolve the cookie with
//!   [`get_session_and_user`](auth_core::Adapter::get_session_and_user) (two session cookies
//!   in one request sign it out), and the session slides forward with
//!   [`update_session`](auth_core::Adapter::update_session) at most once per
//!   [`Settings::session_refresh`].
//! - `/sessions` lists the user's sessions, `POST /sessions/delete-all` signs out everywhere,
//!   `POST /signout` signs out here, `/account/delete` asks, then deletes the user.
//! - Every `POST` carries a CSRF token bound to the session (an HMAC under the app's
//!   secret); `Origin` must be the public origin and `Sec-Fetch-Site` same-origin.
//! - Every response carries a strict Content-Security-Policy, `X-Frame-Options: DENY`,
//!   `Referrer-Policy: no-referrer`, `nosniff` and `Cache-Control: no-store`; requests and
//!   bodies have timeouts.
//! - Tokens are stored hashed ([`auth_core::at_rest::HashedTokens`]) in the app's own
//!   layout, and OAuth tokens sealed when a key is configured
//!   ([`auth_core::at_rest::EncryptedAccountTokens`]).
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

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use auth_core::at_rest::{EncryptedAccountTokens, HashedTokens, KeyRing};
use auth_core::chrono::Utc;
use auth_core::{Adapter, AdapterError, ErrorKind, Session, SweeperHandle};
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};

mod account;
mod admin;
mod cookies;
mod pages;
mod security;
mod signin;

pub use account::{due_for_refresh, MaybeSignedIn, SignedIn};
pub use security::{AppSecret, CONTENT_SECURITY_POLICY_VALUE, CSRF_COOKIE};
pub use signin::{Mailer, Rate, SignInLimits, SignInMail, LINK_COOKIE};

pub use admin::{is_admin, AppFields, ADMIN_ROLE};
use pages::page;
use signin::{DevOutbox, Limiters, NoMailer, PendingLinks};

/// The workspace README's Rust blocks (its quick start included), compiled as doc tests here,
/// where every adapter crate is a dependency.
#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

/// The session cookie: the session token. `__Host-`: only this origin, over HTTPS (or
/// loopback), at `/`, can set it, so a sibling subdomain cannot plant one.
pub const SESSION_COOKIE: &str = "__Host-auth_session";
/// The session cookie of an Auth.js app (over HTTPS Auth.js names it
/// `__Secure-authjs.session-token`: set [`Settings::session_cookie`] to that): the cookie this
/// app reads and writes when it shares the database of an Auth.js app ([`Settings::authjs`]).
pub const AUTHJS_SESSION_COOKIE: &str = "authjs.session-token";

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
    /// The origin browsers reach the app at (`https://app.example`): links point there and
    /// a `POST`'s `Origin` must equal it. `None`: `http://` and the listening address.
    pub public_origin: Option<String>,
    /// The dev outbox at `/dev/outbox` (it shows every link: development only). The app
    /// refuses to serve it on an address other than loopback.
    pub dev_outbox: bool,
    /// What sends sign-in mails when the dev outbox is off (`None`: nothing, with a warning
    /// in the log for each link).
    pub mailer: Option<Arc<dyn Mailer>>,
    /// The secret of CSRF tokens and link binding (`None`: a random one per start).
    pub secret: Option<AppSecret>,
    /// Seals the OAuth tokens of accounts with [`EncryptedAccountTokens`] (`None`: stored as
    /// given). Session and link tokens are hashed in the app's own layout either way.
    pub account_keys: Option<Arc<KeyRing>>,
    /// Refuses OAuth tokens stored in clear ([`EncryptedAccountTokens::strict`]); for once
    /// every account is sealed.
    pub strict_account_tokens: bool,
    /// The limits on asking for sign-in links.
    pub sign_in_limits: SignInLimits,
    /// The longest a request may take, adapter calls included (then 503).
    pub request_timeout: Duration,
    /// The longest a request body may take to arrive.
    pub body_timeout: Duration,
    /// Identities ([`auth_core::email_identity`]) that get the admin role (`extra.role`,
    /// see [`AppFields`]) when they sign in.
    pub admin_emails: Vec<String>,
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
            public_origin: None,
            dev_outbox: false,
            mailer: None,
            secret: None,
            account_keys: None,
            strict_account_tokens: false,
            sign_in_limits: SignInLimits::default(),
            request_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(10),
            admin_emails: Vec::new(),
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
    /// A setting that cannot work (what, and why).
    #[error("invalid setting: {0}")]
    Setting(String),
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

/// The connected app: the adapter (wrapped for at-rest protection), the sweeper (when the
/// store needs one), the mailer and the in-process sign-in state.
#[derive(Debug)]
pub struct App {
    shared: Arc<Shared>,
    sweeper: Option<SweeperHandle>,
    outbox: Option<Arc<DevOutbox>>,
}

impl App {
    /// Connects the adapter of `settings.database_url`, migrates it, wraps it (hashed
    /// session and link tokens in the app's own layout; sealed OAuth tokens with
    /// [`Settings::account_keys`]) and starts the sweeper if the store does not expire
    /// records by itself. Must be called inside a tokio runtime.
    ///
    /// Auth.js layouts keep tokens as Auth.js reads them: hashing them would sign every
    /// user of the shared database out of the Auth.js app.
    pub async fn connect(settings: Settings) -> Result<Self, StartError> {
        let limits = Limiters::new(settings.sign_in_limits).ok_or_else(|| {
            StartError::Setting("a sign-in rate needs a burst and a period above zero".into())
        })?;
        if let Some(origin) = &settings.public_origin {
            let uri = origin.parse::<axum::http::Uri>().ok();
            let valid = uri.is_some_and(|uri| {
                matches!(uri.scheme_str(), Some("http" | "https"))
                    && uri.authority().is_some()
                    && matches!(uri.path(), "" | "/")
                    && uri.query().is_none()
            });
            if !valid {
                return Err(StartError::Setting(format!(
                    "the public origin {origin:?} is not scheme://host[:port]"
                )));
            }
        }
        let (raw, expires_by_itself) = connect(
            &settings.database_url,
            settings.orm,
            settings.redis_prefix.as_deref(),
            settings.authjs,
        )
        .await?;
        let mut adapter = raw;
        if let Some(keys) = &settings.account_keys {
            let sealed = EncryptedAccountTokens::from_arc(adapter, keys.clone());
            adapter = Arc::new(if settings.strict_account_tokens {
                sealed.strict()
            } else {
                sealed
            });
        }
        if settings.authjs.is_none() {
            adapter = Arc::new(HashedTokens::from_arc(adapter));
        }
        let sweeper = (!expires_by_itself)
            .then(|| auth_core::spawn_sweeper(adapter.clone(), settings.sweep_every));
        let outbox = settings.dev_outbox.then(|| Arc::new(DevOutbox::default()));
        let mailer: Arc<dyn Mailer> = match (&outbox, &settings.mailer) {
            (Some(outbox), _) => outbox.clone(),
            (None, Some(mailer)) => mailer.clone(),
            (None, None) => Arc::new(NoMailer),
        };
        let secret = settings.secret.clone().unwrap_or_else(AppSecret::generate);
        tracing::info!(
            database = %auth_core::redact_url(&settings.database_url),
            sweeper = sweeper.is_some(),
            hashed_tokens = settings.authjs.is_none(),
            sealed_account_tokens = settings.account_keys.is_some(),
            dev_outbox = settings.dev_outbox,
            "adapter ready"
        );
        Ok(Self {
            shared: Arc::new(Shared {
                adapter,
                settings,
                secret,
                mailer,
                pending: PendingLinks::default(),
                limits,
            }),
            sweeper,
            outbox,
        })
    }

    /// The adapter as the app uses it (wrapped), for tests and tools next to the app.
    pub fn adapter(&self) -> Arc<dyn Adapter> {
        self.shared.adapter.clone()
    }

    /// The routes. Links point at [`Settings::public_origin`], or at `base_url` (e.g.
    /// `http://127.0.0.1:3000`) without one; that origin is also the only `Origin` a `POST`
    /// may carry. Routers of one app share its pending links and rate limits.
    pub fn router(&self, base_url: &str) -> Router {
        let origin = self
            .shared
            .settings
            .public_origin
            .as_deref()
            .unwrap_or(base_url)
            .trim_end_matches('/');
        let state = AppState {
            shared: self.shared.clone(),
            origin: Arc::from(origin),
        };
        let mut router = Router::new()
            .route("/", get(account::home))
            .route("/style.css", get(pages::stylesheet))
            .route("/signin", axum::routing::post(signin::request_link))
            .route(
                "/callback/email",
                get(signin::confirm_link).post(signin::use_link),
            )
            .route("/sessions", get(account::sessions))
            .route(
                "/sessions/delete-all",
                axum::routing::post(account::sign_out_everywhere),
            )
            .route("/signout", axum::routing::post(account::sign_out))
            .route("/admin", get(admin::admin))
            .route("/admin/grant", axum::routing::post(admin::grant))
            .route(
                "/account/delete",
                get(account::confirm_delete).post(account::delete_account),
            );
        if let Some(outbox) = &self.outbox {
            router = router.route(
                "/dev/outbox",
                get(signin::outbox_page).layer(Extension(outbox.clone())),
            );
        }
        router
            .fallback(not_found)
            .layer(middleware::from_fn_with_state(
                state.clone(),
                security::csrf,
            ))
            .layer(middleware::from_fn_with_state(
                state.clone(),
                security::one_session_cookie,
            ))
            .layer(RequestBodyTimeoutLayer::new(
                self.shared.settings.body_timeout,
            ))
            .layer(TimeoutLayer::with_status_code(
                StatusCode::SERVICE_UNAVAILABLE,
                self.shared.settings.request_timeout,
            ))
            .layer(middleware::from_fn(security::security_headers))
            .layer(middleware::from_fn(trace_request))
            .with_state(state)
    }

    /// Serves on `listener` until `shutdown` completes, then lets the requests under way
    /// finish and stops the sweeper. With the dev outbox on, the listener must be on a
    /// loopback address (an `InvalidInput` error otherwise).
    pub async fn serve(
        mut self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let addr: SocketAddr = listener.local_addr()?;
        if self.shared.settings.dev_outbox && !addr.ip().is_loopback() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("the dev outbox shows every sign-in link: it is served on loopback only, not on {addr}"),
            ));
        }
        let base_url = format!("http://{addr}");
        tracing::info!(%base_url, "listening");
        let router = self.router(&base_url);
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await?;
        if let Some(sweeper) = self.sweeper.take() {
            sweeper.stop().await;
        }
        tracing::info!("stopped");
        Ok(())
    }
}

/// What every request shares: one per [`App`], behind every router it makes.
#[derive(Debug)]
struct Shared {
    adapter: Arc<dyn Adapter>,
    settings: Settings,
    secret: AppSecret,
    mailer: Arc<dyn Mailer>,
    pending: PendingLinks,
    limits: Limiters,
}

/// A router's state: the app's [`Shared`] and the public origin of that router.
#[derive(Debug, Clone)]
struct AppState {
    shared: Arc<Shared>,
    /// The public origin, without a trailing slash.
    origin: Arc<str>,
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.shared
    }
}

/// An error page. The user sees what kind of failure it was and a reference; the code and
/// the error's text go to the log under that reference, never to the page.
#[derive(Debug)]
enum AppError {
    Adapter(AdapterError),
    Mail,
}

impl From<AdapterError> for AppError {
    fn from(err: AdapterError) -> Self {
        Self::Adapter(err)
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let reference = &auth_core::generate_token()[..8];
        let (status, what) = match &self {
            Self::Adapter(err) => {
                tracing::error!(reference, code = %err.code(), error = %err, "request failed");
                match err.kind() {
                    ErrorKind::Connection => (
                        StatusCode::SERVICE_UNAVAILABLE,
                        "The service is unavailable for a moment.",
                    ),
                    ErrorKind::InvalidInput => {
                        (StatusCode::BAD_REQUEST, "That request could not be used.")
                    }
                    _ => (
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "Something went wrong on our side.",
                    ),
                }
            }
            Self::Mail => {
                tracing::error!(reference, "request failed: the mail was not sent");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "The sign-in mail could not be sent.",
                )
            }
        };
        let body = format!(
            r#"<p id="error">{what} Try again in a moment. (Reference <code>{reference}</code>.)</p>"#
        );
        (status, page("Error", &body)).into_response()
    }
}

type Result<T, E = AppError> = std::result::Result<T, E>;

/// The `Set-Cookie` of a session: its token until it expires, `SameSite=Lax` so a link
/// followed from a mail arrives signed in.
fn session_cookie(name: &str, session: &Session) -> HeaderValue {
    let left = (session.expires - Utc::now()).to_std().unwrap_or_default();
    cookies::set_cookie(name, &session.session_token, left, "Lax")
}

async fn not_found() -> Response {
    let body = r#"<p id="not-found">There is no such page. <a href="/">Home</a></p>"#;
    (StatusCode::NOT_FOUND, page("Not found", body)).into_response()
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

#[cfg(test)]
mod tests {
    use super::*;
    use auth_core::Operation;

    async fn body_of(response: Response) -> String {
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    #[tokio::test]
    async fn error_pages_show_a_reference_never_the_error_text() {
        let internal = "relation \"users\" does not exist at 10.1.2.3";
        let cases = [
            (
                AdapterError::backend(Operation::CreateUser, internal),
                StatusCode::INTERNAL_SERVER_ERROR,
            ),
            (
                AdapterError::connection(Operation::CreateUser, std::io::Error::other(internal)),
                StatusCode::SERVICE_UNAVAILABLE,
            ),
            (
                AdapterError::invalid_input(Operation::CreateUser, internal),
                StatusCode::BAD_REQUEST,
            ),
        ];
        for (err, status) in cases {
            let response = AppError::from(err).into_response();
            assert_eq!(response.status(), status);
            let body = body_of(response).await;
            assert!(body.contains("Reference <code>"), "{body}");
            assert!(
                !body.contains("users") && !body.contains("10.1.2.3"),
                "{body}"
            );
            assert!(!body.contains("CREATE_USER"), "{body}");
        }
    }
}
