//! axum-login protecting an axum app, its sessions kept by tower-sessions in an auth
//! adapter (`auth-tower-sessions`): sign in with an email link, a page only a signed-in
//! user sees, sign out, and sign out everywhere. Links go to a development outbox page
//! (`/dev/outbox`) instead of a mail server.
//!
//! ```no_run
//! # async fn run() -> Result<(), auth_core::AdapterError> {
//! let adapter = adapter_sqlx::SqlxAdapter::connect("sqlite::memory:").await?;
//! adapter.migrate().await?;
//! let app = axum_login_app::router(std::sync::Arc::new(adapter), axum_login_app::Outbox::default());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3001").await.expect("bind");
//! axum::serve(listener, app).await.expect("serve");
//! # Ok(())
//! # }
//! ```

use std::sync::{Arc, Mutex};

use auth_core::{chrono, Adapter, VerificationToken};
use auth_tower_sessions::axum_login::{login_required, AuthManagerLayerBuilder, AuthSession};
use auth_tower_sessions::{AdapterBackend, AdapterSessionStore, Credentials};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use tower_sessions_014::{Expiry, SessionManagerLayer};

/// How long an email link stays valid.
pub const LINK_TTL_MINUTES: i64 = 10;

type Auth = AuthSession<AdapterBackend>;

/// The links the app would have mailed, newest first (development only: `/dev/outbox`).
#[derive(Debug, Clone, Default)]
pub struct Outbox(Arc<Mutex<Vec<(String, String)>>>);

impl Outbox {
    /// The (address, link) pairs sent so far, newest first.
    ///
    /// ```
    /// assert!(axum_login_app::Outbox::default().sent().is_empty());
    /// ```
    pub fn sent(&self) -> Vec<(String, String)> {
        self.0.lock().map(|sent| sent.clone()).unwrap_or_default()
    }

    fn send(&self, to: &str, link: String) {
        if let Ok(mut sent) = self.0.lock() {
            sent.insert(0, (to.to_owned(), link));
        }
    }
}

#[derive(Clone)]
struct AppState {
    adapter: Arc<dyn Adapter>,
    outbox: Outbox,
}

/// The app over `adapter` (migrated), its links sent to `outbox`.
pub fn router(adapter: Arc<dyn Adapter>, outbox: Outbox) -> Router {
    let sessions = SessionManagerLayer::new(AdapterSessionStore::new(Arc::clone(&adapter)))
        .with_expiry(Expiry::OnInactivity(time::Duration::days(30)));
    let auth =
        AuthManagerLayerBuilder::new(AdapterBackend::new(Arc::clone(&adapter)), sessions).build();
    Router::new()
        .route("/account", get(account))
        .route("/logout/everywhere", post(sign_out_everywhere))
        .route_layer(login_required!(AdapterBackend, login_url = "/"))
        .route("/", get(home))
        .route("/login", post(request_link))
        .route("/login/confirm", get(confirm_page).post(confirm))
        .route("/logout", post(sign_out))
        .route("/dev/outbox", get(dev_outbox))
        .layer(auth)
        .with_state(AppState { adapter, outbox })
}

/// A page: `body` inside `main`, the title in `h1`.
fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\"><title>{title}</title></head>\
         <body><main><h1>{title}</h1>{body}</main></body></html>"
    ))
}

/// `text` with the characters HTML gives meaning to escaped.
fn escape(text: &str) -> String {
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

/// `text` for a URL's query.
fn query_value(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(byte))
            }
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

fn failed(err: impl std::fmt::Display) -> Response {
    tracing::error!("{err}");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        page("Something failed", "<p>Try again later.</p>"),
    )
        .into_response()
}

async fn home(auth: Auth) -> Html<String> {
    match auth.user {
        Some(user) => page(
            "Home",
            &format!(
                "<p id=\"signed-in\">Signed in as {}</p><p><a href=\"/account\">Your account</a></p>",
                escape(user.email.as_deref().unwrap_or(&user.id))
            ),
        ),
        None => page(
            "Home",
            "<p>Not signed in.</p>\
             <form id=\"signin\" method=\"post\" action=\"/login\">\
             <label for=\"email\">Email</label> \
             <input id=\"email\" name=\"email\" type=\"email\" required autocomplete=\"email\"> \
             <button type=\"submit\">Email me a sign-in link</button></form>",
        ),
    }
}

#[derive(Deserialize)]
struct EmailForm {
    email: String,
}

async fn request_link(State(state): State<AppState>, Form(form): Form<EmailForm>) -> Response {
    let email = form.email.trim().to_owned();
    if email.is_empty() || !email.contains('@') {
        return (
            StatusCode::BAD_REQUEST,
            page(
                "Sign in",
                "<p id=\"bad-email\">That is not an email address.</p>",
            ),
        )
            .into_response();
    }
    let token = auth_core::generate_token();
    let expires = chrono::Utc::now() + chrono::Duration::minutes(LINK_TTL_MINUTES);
    if let Err(err) = state
        .adapter
        .create_verification_token(VerificationToken::new(
            email.as_str(),
            token.as_str(),
            expires,
        ))
        .await
    {
        return failed(err);
    }
    let link = format!(
        "/login/confirm?email={}&token={}",
        query_value(&email),
        query_value(&token)
    );
    state.outbox.send(&email, link);
    page(
        "Check your email",
        &format!(
            "<p id=\"check-mail\">A sign-in link is on its way to {}. It works once, for {LINK_TTL_MINUTES} minutes.</p>",
            escape(&email)
        ),
    )
    .into_response()
}

#[derive(Deserialize)]
struct LinkForm {
    email: String,
    token: String,
}

/// A link opened: a button signs in, so that a mail scanner opening the link signs nobody
/// in and uses nothing up.
async fn confirm_page(Query(link): Query<LinkForm>) -> Html<String> {
    page(
        "Sign in",
        &format!(
            "<form id=\"confirm\" method=\"post\" action=\"/login/confirm\">\
             <input type=\"hidden\" name=\"email\" value=\"{}\">\
             <input type=\"hidden\" name=\"token\" value=\"{}\">\
             <button class=\"confirm\" type=\"submit\">Sign in as {}</button></form>",
            escape(&link.email),
            escape(&link.token),
            escape(&link.email)
        ),
    )
}

async fn confirm(mut auth: Auth, Form(link): Form<LinkForm>) -> Response {
    let credentials = Credentials::EmailToken {
        email: link.email,
        token: link.token,
    };
    match auth.authenticate(credentials).await {
        Ok(Some(user)) => match auth.login(&user).await {
            Ok(()) => Redirect::to("/account").into_response(),
            Err(err) => failed(err),
        },
        Ok(None) => (
            StatusCode::BAD_REQUEST,
            page("Sign in", "<p id=\"link-refused\">This link was used already or has expired. <a href=\"/\">Ask for another</a>.</p>"),
        )
            .into_response(),
        Err(err) => failed(err),
    }
}

async fn account(auth: Auth) -> Response {
    let Some(user) = auth.user else {
        return Redirect::to("/").into_response();
    };
    page(
        "Your account",
        &format!(
            "<p id=\"account\">Signed in as {}</p>\
             <form method=\"post\" action=\"/logout\"><button class=\"sign-out\" type=\"submit\">Sign out</button></form>\
             <form method=\"post\" action=\"/logout/everywhere\"><button class=\"sign-out-everywhere\" type=\"submit\">Sign out everywhere</button></form>",
            escape(user.email.as_deref().unwrap_or(&user.id))
        ),
    )
    .into_response()
}

async fn sign_out(mut auth: Auth) -> Response {
    match auth.logout().await {
        Ok(_) => Redirect::to("/").into_response(),
        Err(err) => failed(err),
    }
}

async fn sign_out_everywhere(mut auth: Auth) -> Response {
    let Some(user) = auth.user.clone() else {
        return Redirect::to("/").into_response();
    };
    if let Err(err) = auth.backend.sign_out_everywhere(&user.id).await {
        return failed(err);
    }
    match auth.logout().await {
        Ok(_) => Redirect::to("/").into_response(),
        Err(err) => failed(err),
    }
}

async fn dev_outbox(State(state): State<AppState>) -> Html<String> {
    let items: String = state
        .outbox
        .sent()
        .iter()
        .map(|(to, link)| {
            format!(
                "<li><a class=\"link\" data-to=\"{}\" href=\"{}\">Sign-in link for {}</a></li>",
                escape(to),
                escape(link),
                escape(to)
            )
        })
        .collect();
    page("Development outbox", &format!("<ul>{items}</ul>"))
}
