//! Sign-in by email link: asking for a link, the mailer, the confirm page and the `POST`
//! that uses the link.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use auth_core::chrono::{self, DateTime, Utc};
use auth_core::{email_identity, Adapter, ErrorKind, Session, User, VerificationToken};
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{ConnectInfo, Query, State};
use axum::http::header::{RETRY_AFTER, SET_COOKIE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, NotUntil, Quota, RateLimiter};
use serde::Deserialize;

use crate::cookies::{clear_cookie, cookie, set_cookie};
use crate::pages::{esc, page, post_form, url_encode};
use crate::security::{rotate_csrf_seed, CsrfToken};
use crate::{session_cookie, AppError, AppState, Result};

/// The cookie that binds a link to the browser that asked for it: an HMAC of the identity
/// and the link's token under the app's secret. The confirm page warns when it is missing.
pub const LINK_COOKIE: &str = "__Host-auth_link";
/// How many mails the dev outbox keeps.
const OUTBOX_LEN: usize = 50;
/// How many pending links the app remembers per address (the rate limit keeps it lower).
const PENDING_PER_ADDRESS: usize = 32;

// ---------------------------------------------------------------- mail

/// A sign-in mail: the link is a credential, so `Debug` leaves it out.
#[derive(Clone)]
pub struct SignInMail {
    /// The recipient: the identity ([`auth_core::email_identity`]) the link signs in.
    pub to: String,
    /// The link to the confirm page, token included.
    pub link: String,
}

impl fmt::Debug for SignInMail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignInMail")
            .field("to", &self.to)
            .field("link", &"<redacted>")
            .finish()
    }
}

/// What sends sign-in mails. The app ships none for production (that is the deployer's:
/// SMTP, an API): plug one in with [`Settings::mailer`](crate::Settings::mailer).
///
/// ```
/// use axum_app::{Mailer, SignInMail};
///
/// #[derive(Debug)]
/// struct Smtp;
///
/// #[auth_core::async_trait]
/// impl Mailer for Smtp {
///     async fn send(&self, mail: SignInMail) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
///         // Hand `mail.to` and `mail.link` to the mail service here.
///         let _ = mail;
///         Ok(())
///     }
/// }
/// ```
#[auth_core::async_trait]
pub trait Mailer: Send + Sync + fmt::Debug {
    /// Sends one mail; an error is shown to the user as "could not send".
    async fn send(&self, mail: SignInMail) -> Result<(), Box<dyn std::error::Error + Send + Sync>>;
}

/// Without a mailer and without the dev outbox, links go nowhere (and say so in the log).
#[derive(Debug)]
pub(crate) struct NoMailer;

#[auth_core::async_trait]
impl Mailer for NoMailer {
    async fn send(&self, _: SignInMail) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        tracing::warn!(
            "no mailer configured: a sign-in link was not sent (--dev-outbox for development)"
        );
        Ok(())
    }
}

#[derive(Debug, Clone)]
struct OutboxMail {
    to: String,
    link: String,
    at: DateTime<Utc>,
}

/// The development stand-in for a mailer: the last mails, shown at `/dev/outbox`. Opt-in
/// (`--dev-outbox`), and only on a loopback address: anyone who reads it can sign in as
/// anyone.
#[derive(Debug, Default)]
pub(crate) struct DevOutbox(Mutex<VecDeque<OutboxMail>>);

#[auth_core::async_trait]
impl Mailer for DevOutbox {
    async fn send(&self, mail: SignInMail) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let mut outbox = self
            .0
            .lock()
            .map_err(|_| "the dev outbox lock is poisoned")?;
        outbox.push_front(OutboxMail {
            to: mail.to,
            link: mail.link,
            at: Utc::now(),
        });
        outbox.truncate(OUTBOX_LEN);
        Ok(())
    }
}

pub(crate) async fn outbox_page(Extension(outbox): Extension<Arc<DevOutbox>>) -> Response {
    let mails = outbox.0.lock().map(|o| o.clone()).unwrap_or_default();
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
    page("Dev outbox", &body).into_response()
}

// ---------------------------------------------------------------- pending links

/// The links the app mailed and nobody used yet, per identity, so they can be burnt when
/// one of them is used, on "sign out everywhere" and on account deletion (the adapter
/// contract has no "delete every token of an identifier"). Kept in this process: links
/// mailed by another instance, or before a restart, only expire (after
/// [`Settings::link_ttl`](crate::Settings::link_ttl)).
#[derive(Default)]
pub(crate) struct PendingLinks(Mutex<HashMap<String, Vec<PendingLink>>>);

/// A mailed link's token and expiry.
type PendingLink = (String, DateTime<Utc>);

impl fmt::Debug for PendingLinks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let addresses = self.0.lock().map(|m| m.len()).unwrap_or_default();
        f.debug_struct("PendingLinks")
            .field("addresses", &addresses)
            .finish()
    }
}

impl PendingLinks {
    fn add(&self, identity: &str, token: &str, expires: DateTime<Utc>) {
        let Ok(mut pending) = self.0.lock() else {
            return;
        };
        let now = Utc::now();
        pending.retain(|_, links| {
            links.retain(|(_, expires)| *expires > now);
            !links.is_empty()
        });
        let links = pending.entry(identity.to_owned()).or_default();
        if links.len() >= PENDING_PER_ADDRESS {
            links.remove(0);
        }
        links.push((token.to_owned(), expires));
    }

    /// Uses up every pending link of `identity`.
    pub(crate) async fn burn(&self, adapter: &dyn Adapter, identity: &str) {
        let tokens = self
            .0
            .lock()
            .ok()
            .and_then(|mut pending| pending.remove(identity))
            .unwrap_or_default();
        for (token, _) in tokens {
            if let Err(err) = adapter.use_verification_token(identity, &token).await {
                tracing::warn!(code = %err.code(), "a pending sign-in link could not be burnt");
            }
        }
    }
}

// ---------------------------------------------------------------- rate limits

/// A rate: up to `burst` at once, then one more each `every`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// How many requests may come at once.
    pub burst: u32,
    /// How often one more is allowed.
    pub every: Duration,
}

impl Rate {
    fn quota(self) -> Option<Quota> {
        Some(Quota::with_period(self.every)?.allow_burst(NonZeroU32::new(self.burst)?))
    }
}

/// The limits on `POST /signin` (each a keyed [`governor`] limiter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignInLimits {
    /// Per address: how often one mailbox can be sent links (mail bombing, token
    /// guessing across many pending links).
    pub per_address: Rate,
    /// Per client IP address: how often one client can ask at all. Behind a reverse proxy
    /// every client has the proxy's address: raise it there, or key on the proxy's header.
    pub per_client: Rate,
}

impl Default for SignInLimits {
    fn default() -> Self {
        Self {
            per_address: Rate {
                burst: 3,
                every: Duration::from_secs(120),
            },
            per_client: Rate {
                burst: 10,
                every: Duration::from_secs(30),
            },
        }
    }
}

pub(crate) struct Limiters {
    address: DefaultKeyedRateLimiter<String>,
    client: DefaultKeyedRateLimiter<IpAddr>,
}

impl fmt::Debug for Limiters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Limiters")
            .field("addresses", &self.address.len())
            .field("clients", &self.client.len())
            .finish()
    }
}

impl Limiters {
    /// `None` when a rate has a zero burst or period.
    pub(crate) fn new(limits: SignInLimits) -> Option<Self> {
        Some(Self {
            address: RateLimiter::keyed(limits.per_address.quota()?),
            client: RateLimiter::keyed(limits.per_client.quota()?),
        })
    }

    /// Forgets keys whose limit has fully recovered, so the maps stay small.
    fn shrink(&self) {
        if self.address.len() > 10_000 {
            self.address.retain_recent();
        }
        if self.client.len() > 10_000 {
            self.client.retain_recent();
        }
    }
}

/// 429, with `Retry-After` the limiter's own wait (rounded up to whole seconds).
fn too_many(not_until: &NotUntil<<DefaultClock as Clock>::Instant>) -> Response {
    let wait = not_until.wait_time_from(DefaultClock::default().now());
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let body = r#"<p id="rate-limited">Too many sign-in links asked for. Wait a few minutes, then <a href="/">try again</a>.</p>"#;
    (
        StatusCode::TOO_MANY_REQUESTS,
        [(RETRY_AFTER, seconds.to_string())],
        page("Slow down", body),
    )
        .into_response()
}

// ---------------------------------------------------------------- handlers

#[derive(Deserialize)]
pub(crate) struct SignInForm {
    email: String,
}

/// `POST /signin`: a link for the address's identity, mailed to that identity.
pub(crate) async fn request_link(
    State(state): State<AppState>,
    client: Option<Extension<ConnectInfo<SocketAddr>>>,
    form: std::result::Result<Form<SignInForm>, FormRejection>,
) -> Result<Response> {
    let ip = client.map_or(
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        |Extension(ConnectInfo(addr))| addr.ip(),
    );
    state.limits.shrink();
    if let Err(not_until) = state.limits.client.check_key(&ip) {
        tracing::warn!(%ip, "sign-in rate limit (client)");
        return Ok(too_many(&not_until));
    }
    let typed = form.map(|Form(f)| f.email).unwrap_or_default();
    let identity = match email_identity(&typed) {
        Ok(identity) => identity,
        Err(why) => {
            let body = format!(
                r#"<p id="bad-address">That address cannot be used: {}. <a href="/">Try again</a>.</p>"#,
                esc(&why.to_string())
            );
            return Ok((StatusCode::BAD_REQUEST, page("Sign in", &body)).into_response());
        }
    };
    if let Err(not_until) = state.limits.address.check_key(&identity) {
        tracing::warn!("sign-in rate limit (address)");
        return Ok(too_many(&not_until));
    }
    let token = auth_core::generate_token();
    let ttl = chrono::Duration::from_std(state.settings.link_ttl)
        .unwrap_or(chrono::Duration::minutes(10));
    let expires = Utc::now() + ttl;
    state
        .adapter
        .create_verification_token(VerificationToken::new(&identity, &token, expires))
        .await?;
    state.pending.add(&identity, &token, expires);
    let link = format!(
        "{}/callback/email?email={}&token={}",
        state.origin,
        url_encode(&identity),
        token
    );
    let mail = SignInMail {
        to: identity.clone(),
        link,
    };
    if let Err(err) = state.mailer.send(mail).await {
        tracing::error!(%err, "the sign-in mail could not be sent");
        return Err(AppError::Mail);
    }
    let body = format!(
        r#"<p id="check-mail">A sign-in link for <strong>{}</strong> is on its way. It works for {} minutes, once.</p>"#,
        esc(&identity),
        state.settings.link_ttl.as_secs() / 60
    );
    let binding = state.secret.mac("link", &[&identity, &token]);
    let mut response = page("Check your email", &body).into_response();
    response.headers_mut().append(
        SET_COOKIE,
        set_cookie(LINK_COOKIE, &binding, state.settings.link_ttl, "Lax"),
    );
    Ok(response)
}

#[derive(Deserialize)]
pub(crate) struct LinkParams {
    email: String,
    token: String,
}

fn link_refused() -> Response {
    let body = r#"<p id="link-refused">This sign-in link is invalid, expired or was already used. <a href="/">Ask for a new one</a>.</p>"#;
    (StatusCode::BAD_REQUEST, page("Link refused", body)).into_response()
}

/// `GET` (and `HEAD`) `/callback/email`: a page asking to confirm, whose form uses the
/// link. Following a link signs nobody in by itself, so a page on another site cannot sign
/// a browser in to the attacker's account by sending it to the attacker's link, and a mail
/// scanner that fetches links does not burn them.
pub(crate) async fn confirm_link(
    State(state): State<AppState>,
    headers: HeaderMap,
    csrf: CsrfToken,
    query: std::result::Result<Query<LinkParams>, QueryRejection>,
) -> Response {
    let Ok(Query(params)) = query else {
        return link_refused();
    };
    let Ok(identity) = email_identity(&params.email) else {
        return link_refused();
    };
    let same_browser = cookie(&headers, LINK_COOKIE).is_some_and(|binding| {
        state
            .secret
            .verify("link", &[&identity, &params.token], binding)
    });
    let warning = if same_browser {
        ""
    } else {
        r#"<p class="warning" id="other-browser">This link was not asked for in this browser. Continue only if you asked for it yourself, on another device or in another browser: a link that someone else sends you signs you in to <em>their</em> account.</p>"#
    };
    let body = format!(
        r#"<p id="confirm">Sign in as <strong>{who}</strong>?</p>
{warning}
{form}"#,
        who = esc(&identity),
        form = post_form(
            "/callback/email",
            "Sign in",
            &csrf.0,
            "confirm",
            &[("email", &identity), ("token", &params.token)],
        ),
    );
    page("Confirm sign-in", &body).into_response()
}

/// `POST /callback/email`: uses the link, burns the address's other pending links, finds
/// or creates the user, ends this browser's previous session and opens a new one.
pub(crate) async fn use_link(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: std::result::Result<Form<LinkParams>, FormRejection>,
) -> Result<Response> {
    let Ok(Form(params)) = form else {
        return Ok(link_refused());
    };
    let Ok(identity) = email_identity(&params.email) else {
        return Ok(link_refused());
    };
    let adapter = state.adapter.as_ref();
    let Some(_used) = adapter
        .use_verification_token(&identity, &params.token)
        .await?
    else {
        return Ok(link_refused());
    };
    state.pending.burn(adapter, &identity).await;
    let mut user = find_or_create(adapter, &identity).await?;
    if state.settings.admin_emails.contains(&identity) {
        user = crate::admin::make_admin(adapter, user).await?;
    }
    let cookie_name = state.settings.session_cookie.as_str();
    if let Some(previous) = cookie(&headers, cookie_name) {
        adapter.delete_session(previous).await?;
    }
    let ttl = chrono::Duration::from_std(state.settings.session_ttl)
        .unwrap_or(chrono::Duration::days(30));
    let session = adapter.create_session(Session::new(&user.id, ttl)).await?;
    tracing::info!(user = %user.id, "signed in");
    let mut response = Redirect::to("/").into_response();
    let headers = response.headers_mut();
    headers.append(SET_COOKIE, session_cookie(cookie_name, &session));
    headers.append(SET_COOKIE, rotate_csrf_seed());
    headers.append(SET_COOKIE, clear_cookie(LINK_COOKIE));
    Ok(response)
}

/// The user of `identity`, created (email verified now) when there is none. Two links of
/// one new address used at once both try to create it: the loser's `Conflict` is answered
/// by the winner's user.
async fn find_or_create(adapter: &dyn Adapter, identity: &str) -> Result<User> {
    if let Some(user) = adapter.get_user_by_email(identity).await? {
        return Ok(user);
    }
    let mut user = User::new().with_email(identity);
    user.email_verified = Some(Utc::now());
    match adapter.create_user(user).await {
        Ok(user) => Ok(user),
        Err(err) if err.kind() == ErrorKind::Conflict => {
            match adapter.get_user_by_email(identity).await? {
                Some(user) => Ok(user),
                None => Err(err.into()),
            }
        }
        Err(err) => Err(err.into()),
    }
}

/// The identity a stored user signs in with (the app stores identities; a user written by
/// another app may be spelled otherwise).
pub(crate) fn identity_of(user: &User) -> Option<String> {
    let email = user.email.as_deref()?;
    Some(email_identity(email).unwrap_or_else(|_| auth_core::normalize_email(email)))
}
