//! What every request passes through: response headers, the one-session-cookie rule, the
//! Origin and `Sec-Fetch-Site` checks and the CSRF token bound to the session.

use std::fmt;
use std::time::Duration;

use auth_core::at_rest::{KeyRing, KeyRingError, Zeroizing};
use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, COOKIE, ORIGIN, REFERRER_POLICY,
    SET_COOKIE, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Form;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use serde::Deserialize;
use sha2::Sha256;

use crate::cookies::{clear_cookie_everywhere, cookie, cookies, set_cookie};
use crate::pages::page;
use crate::AppState;

/// The CSRF cookie: a random seed; the token a form carries is an HMAC of it and the
/// session cookie under the app's secret, so a planted cookie proves nothing.
pub const CSRF_COOKIE: &str = "__Host-auth_csrf";
/// The largest form body the CSRF check reads.
const FORM_LIMIT: usize = 16 * 1024;
/// How long the CSRF seed cookie lives when nothing rotates it.
const CSRF_SEED_AGE: Duration = Duration::from_secs(30 * 86_400);

/// The Content-Security-Policy of every response: nothing but this origin's stylesheet, no
/// script at all, forms post only here, and no page frames this app.
pub const CONTENT_SECURITY_POLICY_VALUE: &str = "default-src 'none'; style-src 'self'; \
     img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The server secret behind CSRF tokens and the binding of sign-in links to the browser
/// that asked for them: 32 random bytes, wiped on drop; `Debug` shows nothing of it.
///
/// Without one configured ([`Settings::secret`](crate::Settings::secret)) the app draws a
/// fresh one at start: forms open across a restart must then be reloaded.
///
/// ```
/// use axum_app::AppSecret;
/// let text = "qmZ1VK0PWNRVx_5Mf1Ma9UQeq2_BLLdBgXy2NGaaKHE";
/// let secret = AppSecret::from_base64url(text).unwrap();
/// assert_eq!(format!("{secret:?}"), "AppSecret(..)");
/// assert!(AppSecret::from_base64url("short").is_err());
/// ```
#[derive(Clone)]
pub struct AppSecret(Zeroizing<[u8; 32]>);

impl AppSecret {
    /// A fresh random secret.
    pub fn generate() -> Self {
        Self(KeyRing::generate_key())
    }

    /// A secret from 43 characters of unpadded base64url (32 bytes).
    pub fn from_base64url(text: &str) -> Result<Self, KeyRingError> {
        KeyRing::decode_key(text).map(Self)
    }

    /// The base64url HMAC-SHA256 of `parts`, separated, under this secret, for `purpose`.
    pub(crate) fn mac(&self, purpose: &str, parts: &[&str]) -> String {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.0[..]) else {
            return String::new();
        };
        mac.update(purpose.as_bytes());
        for part in parts {
            mac.update(b"\0");
            mac.update(part.as_bytes());
        }
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// Whether `candidate` is [`mac`](Self::mac) of the same input, in constant time.
    pub(crate) fn verify(&self, purpose: &str, parts: &[&str], candidate: &str) -> bool {
        let expected = self.mac(purpose, parts);
        !expected.is_empty() && constant_time_eq(expected.as_bytes(), candidate.as_bytes())
    }
}

impl fmt::Debug for AppSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AppSecret(..)")
    }
}

pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

// ---------------------------------------------------------------- response headers

/// Sets the hardening headers on every response, error pages and 404s included: the
/// [`CONTENT_SECURITY_POLICY_VALUE`], `X-Frame-Options: DENY` (for browsers without
/// `frame-ancestors`), `Referrer-Policy: no-referrer` (a sign-in link's token never leaves in
/// a `Referer`), `nosniff`, a same-origin opener policy, and `Cache-Control: no-store` unless
/// the handler chose a policy (only the stylesheet does): after "Sign out everywhere", Back
/// must ask the server again, not show the sessions page from the cache.
pub(crate) async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY_VALUE),
    );
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    if !headers.contains_key(CACHE_CONTROL) {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

// ---------------------------------------------------------------- one session cookie

/// A request with more than one session cookie is signed out: the cookies are dropped from
/// the request and cleared at every path they could have been set at.
///
/// Two cookies of one name reach the server when another origin of the same site (another
/// port of the host, or for a name without the `__Host-` prefix a sibling subdomain) planted
/// one, e.g. at `/sessions`: the browser sends the more specific path first, so "first one
/// wins" would act on the planter's session.
pub(crate) async fn one_session_cookie(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let name = state.settings.session_cookie.as_str();
    if cookies(request.headers(), name).count() <= 1 {
        return next.run(request).await;
    }
    tracing::warn!("more than one session cookie: signed out, all of them cleared");
    let kept: Vec<String> = request
        .headers()
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .map(str::trim)
        .filter(|pair| pair.split_once('=').is_none_or(|(key, _)| key != name))
        .map(str::to_owned)
        .collect();
    let headers = request.headers_mut();
    headers.remove(COOKIE);
    if let Ok(value) = HeaderValue::from_str(&kept.join("; ")) {
        if !kept.is_empty() {
            headers.insert(COOKIE, value);
        }
    }
    let path = request.uri().path().to_owned();
    let mut response = next.run(request).await;
    for clear in clear_cookie_everywhere(name, &path) {
        response.headers_mut().append(SET_COOKIE, clear);
    }
    response
}

// ---------------------------------------------------------------- CSRF

/// The CSRF token the request's forms carry: [`AppSecret::mac`] of the CSRF seed cookie and
/// the session cookie.
#[derive(Debug, Clone)]
pub(crate) struct CsrfToken(pub(crate) String);

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

/// The token for a seed and the request's session cookie (empty when signed out).
pub(crate) fn csrf_token(secret: &AppSecret, seed: &str, session: &str) -> String {
    secret.mac("csrf", &[seed, session])
}

/// A fresh CSRF seed and the `Set-Cookie` that gives it to the browser: at sign-in and at
/// sign-out, so a token seen before either proves nothing after it.
pub(crate) fn rotate_csrf_seed() -> HeaderValue {
    set_cookie(
        CSRF_COOKIE,
        &auth_core::generate_token(),
        CSRF_SEED_AGE,
        "Lax",
    )
}

#[derive(Deserialize)]
struct CsrfField {
    csrf: String,
}

/// Every `POST` must:
///
/// - not be cross-site by the browser's own account: `Sec-Fetch-Site`, when sent, is
///   `same-origin` or `none`;
/// - come from this app: `Origin`, when sent, is exactly the configured public origin
///   (scheme, host and port), or `null` (what `Referrer-Policy: no-referrer` makes
///   browsers send for their own forms) together with `Sec-Fetch-Site: same-origin`;
/// - carry the CSRF token of its seed cookie and session cookie in its `csrf` field.
///
/// Other requests get a seed cookie if they lack one, so every page's forms carry a token.
pub(crate) async fn csrf(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let session = cookie(request.headers(), &state.settings.session_cookie)
        .unwrap_or_default()
        .to_owned();
    let seed = cookie(request.headers(), CSRF_COOKIE).map(str::to_owned);
    if request.method() == Method::POST {
        if let Some(site) = request.headers().get("sec-fetch-site") {
            if !matches!(site.as_bytes(), b"same-origin" | b"none") {
                return refuse("cross-site request (Sec-Fetch-Site)");
            }
        }
        if let Some(origin) = request.headers().get(ORIGIN) {
            // `Referrer-Policy: no-referrer` makes browsers send `Origin: null` even on
            // this app's own forms; then only the browser's `Sec-Fetch-Site` can vouch.
            let vouched = origin.as_bytes() == b"null"
                && request
                    .headers()
                    .get("sec-fetch-site")
                    .is_some_and(|site| site.as_bytes() == b"same-origin");
            if origin.as_bytes() != state.origin.as_bytes() && !vouched {
                return refuse("foreign Origin");
            }
        }
        let Some(seed) = seed else {
            return refuse("no CSRF cookie");
        };
        let (parts, body) = request.into_parts();
        let Ok(bytes) = axum::body::to_bytes(body, FORM_LIMIT).await else {
            return refuse("form too large or too slow");
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
        let valid = matches!(&field, Ok(Form(f)) if state.secret.verify("csrf", &[&seed, &session], &f.csrf));
        if !valid {
            return refuse("CSRF token missing or wrong");
        }
        let mut request = Request::from_parts(parts, Body::from(bytes));
        request
            .extensions_mut()
            .insert(CsrfToken(csrf_token(&state.secret, &seed, &session)));
        return next.run(request).await;
    }
    let (seed, fresh) = match seed {
        Some(seed) => (seed, false),
        None => (auth_core::generate_token(), true),
    };
    let mut request = request;
    request
        .extensions_mut()
        .insert(CsrfToken(csrf_token(&state.secret, &seed, &session)));
    let mut response = next.run(request).await;
    if fresh {
        let cookie = set_cookie(CSRF_COOKIE, &seed, CSRF_SEED_AGE, "Lax");
        response.headers_mut().append(SET_COOKIE, cookie);
    }
    response
}

fn refuse(why: &'static str) -> Response {
    tracing::warn!(why, "POST refused");
    let body = r#"<p id="refused">This form expired or did not come from this site. Go back, reload the page and try again.</p>"#;
    (StatusCode::FORBIDDEN, page("Refused", body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_eq_compares_whole_values() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }

    #[test]
    fn a_mac_is_bound_to_its_purpose_its_parts_and_the_secret() {
        let secret = AppSecret::generate();
        let token = csrf_token(&secret, "seed", "session");
        assert_eq!(token.len(), 43);
        assert!(secret.verify("csrf", &["seed", "session"], &token));
        assert!(!secret.verify("csrf", &["seed", ""], &token));
        assert!(!secret.verify("link", &["seed", "session"], &token));
        // Separators keep ("ab", "") and ("a", "b") apart.
        assert_ne!(
            secret.mac("csrf", &["ab", ""]),
            secret.mac("csrf", &["a", "b"])
        );
        assert!(!AppSecret::generate().verify("csrf", &["seed", "session"], &token));
    }
}
