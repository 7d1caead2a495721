//! The signed-in side: the extractors, the home page, sessions, sign-out and deletion.

use std::sync::Arc;
use std::time::Duration;

use auth_core::at_rest::token_hash;
use auth_core::chrono::{self, DateTime, Utc};
use auth_core::{Session, SessionUpdate, User};
use axum::extract::rejection::FormRejection;
use axum::extract::{FromRequestParts, State};
use axum::http::header::SET_COOKIE;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use std::fmt::Write as _;

use crate::cookies::{clear_cookie, cookie};
use crate::pages::{esc, page, post_form};
use crate::security::{rotate_csrf_seed, CsrfToken};
use crate::signin::identity_of;
use crate::{session_cookie, AppError, AppState, Result};

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

/// The signed-in session and user, if the request carries exactly one session cookie and it
/// names a live session.
///
/// Resolving costs one `get_session_and_user`; a session due for refresh (see
/// [`due_for_refresh`]) also costs one `update_session`, and the response renews the cookie.
#[derive(Debug, Clone)]
pub struct MaybeSignedIn(pub Option<SignedIn>);

/// A signed-in request; without a live session the extractor redirects to `/`.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The live session (with its new expiry when this request extended it); its
    /// `session_token` is the cookie's token.
    pub session: Session,
    /// Its user.
    pub user: User,
    /// Whether this request pushed the expiry forward (the response sets the cookie again).
    pub refreshed: bool,
    /// The name of the session cookie it came in ([`Settings::session_cookie`](crate::Settings::session_cookie)).
    pub cookie_name: Arc<str>,
}

impl FromRequestParts<AppState> for MaybeSignedIn {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        if let Some(resolved) = parts.extensions.get::<MaybeSignedIn>() {
            return Ok(resolved.clone());
        }
        let cookie_name = state.settings.session_cookie.as_str();
        let Some(token) = cookie(&parts.headers, cookie_name) else {
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

fn with_cookie(mut response: Response, value: HeaderValue) -> Response {
    response.headers_mut().append(SET_COOKIE, value);
    response
}

/// Renews the cookie when the extractor pushed the session's expiry forward.
pub(crate) fn renewing(signed_in: &SignedIn, response: Response) -> Response {
    if signed_in.refreshed {
        with_cookie(
            response,
            session_cookie(&signed_in.cookie_name, &signed_in.session),
        )
    } else {
        response
    }
}

/// A signed-out response: the session cookie cleared and a fresh CSRF seed.
fn signing_out(response: Response, cookie_name: &str) -> Response {
    let response = with_cookie(response, clear_cookie(cookie_name));
    with_cookie(response, rotate_csrf_seed())
}

pub(crate) async fn home(MaybeSignedIn(signed_in): MaybeSignedIn, csrf: CsrfToken) -> Response {
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
<p><a href="/sessions">Your sessions</a>{admin} · <a id="delete-account" href="/account/delete">Delete account…</a></p>
{sign_out}"#,
        who = esc(who),
        admin = if crate::is_admin(user) {
            r#" · <a id="admin-link" href="/admin">Admin</a>"#
        } else {
            ""
        },
        expires = signed_in.session.expires.format("%Y-%m-%d %H:%M UTC"),
        sign_out = post_form("/signout", "Sign out", &csrf.0, "sign-out", &[]),
    );
    renewing(&signed_in, page("Home", &body).into_response())
}

pub(crate) async fn sessions(
    State(state): State<AppState>,
    signed_in: SignedIn,
    csrf: CsrfToken,
) -> Result<Response> {
    let mut sessions = state.adapter.list_sessions(&signed_in.user.id).await?;
    sessions.sort_by_key(|s| std::cmp::Reverse(s.expires));
    // Under `HashedTokens` the store lists SHA-256 hashes; on an Auth.js layout, tokens.
    let this_token = &signed_in.session.session_token;
    let this_hash = token_hash(this_token);
    let mut body = format!(
        "<p>{} signed-in session(s):</p><ul id=\"sessions\">",
        sessions.len()
    );
    for session in &sessions {
        let this = if session.session_token == this_hash || session.session_token == *this_token {
            r#" <em class="this-browser">(this browser)</em>"#
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
    body.push_str(&post_form(
        "/sessions/delete-all",
        "Sign out everywhere",
        &csrf.0,
        "sign-out-everywhere",
        &[],
    ));
    Ok(renewing(
        &signed_in,
        page("Your sessions", &body).into_response(),
    ))
}

/// Ends every session of the user and burns the address's pending links: "sign out
/// everywhere" is what a user does who fears someone else got in.
pub(crate) async fn sign_out_everywhere(
    State(state): State<AppState>,
    signed_in: SignedIn,
) -> Result<Response> {
    if let Some(identity) = identity_of(&signed_in.user) {
        state.pending.burn(state.adapter.as_ref(), &identity).await;
    }
    let removed = state.adapter.delete_sessions(&signed_in.user.id).await?;
    tracing::info!(user = %signed_in.user.id, removed, "signed out everywhere");
    Ok(signing_out(
        Redirect::to("/").into_response(),
        &signed_in.cookie_name,
    ))
}

pub(crate) async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response> {
    let name = state.settings.session_cookie.as_str();
    if let Some(token) = cookie(&headers, name) {
        state.adapter.delete_session(token).await?;
    }
    Ok(signing_out(Redirect::to("/").into_response(), name))
}

pub(crate) async fn confirm_delete(signed_in: SignedIn, csrf: CsrfToken) -> Response {
    let who = signed_in
        .user
        .email
        .as_deref()
        .unwrap_or(&signed_in.user.id);
    let body = format!(
        r#"<p id="confirm-delete">Delete the account <strong>{who}</strong>, with all its sessions? This cannot be undone.</p>
{delete} <a href="/">Keep it</a>"#,
        who = esc(who),
        delete = post_form(
            "/account/delete",
            "Delete my account",
            &csrf.0,
            "danger",
            &[("confirm", "delete")],
        ),
    );
    renewing(&signed_in, page("Delete account", &body).into_response())
}

#[derive(Deserialize)]
pub(crate) struct DeleteForm {
    confirm: String,
}

/// Deletes the user (its sessions and accounts go with it) and burns its pending links, so
/// a link asked for before the deletion cannot create the account again.
pub(crate) async fn delete_account(
    State(state): State<AppState>,
    signed_in: SignedIn,
    form: std::result::Result<Form<DeleteForm>, FormRejection>,
) -> Result<Response> {
    if !matches!(&form, Ok(Form(f)) if f.confirm == "delete") {
        return Ok(Redirect::to("/account/delete").into_response());
    }
    if let Some(identity) = identity_of(&signed_in.user) {
        state.pending.burn(state.adapter.as_ref(), &identity).await;
    }
    state.adapter.delete_user(&signed_in.user.id).await?;
    tracing::info!(user = %signed_in.user.id, "account deleted");
    let response = (
        StatusCode::OK,
        page(
            "Account deleted",
            r#"<p id="deleted">Your account and all its sessions are gone. <a href="/">Home</a></p>"#,
        ),
    )
        .into_response();
    Ok(signing_out(response, &signed_in.cookie_name))
}

#[cfg(test)]
mod tests {
    use super::*;

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
