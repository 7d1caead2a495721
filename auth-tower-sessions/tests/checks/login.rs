//! axum-login over `AdapterBackend` and `AdapterSessionStore`: an app with an email-link
//! sign-in, a linked-account sign-in, a page behind `login_required!` and a sign-out,
//! driven request by request.

use adapter_conformance::check::{Failure, Outcome};
use adapter_conformance::{ensure_eq, Fixture};
use auth_core::{chrono, Account, AccountType, VerificationToken};
use auth_tower_sessions::axum_login::{login_required, AuthManagerLayerBuilder, AuthSession};
use auth_tower_sessions::{AdapterBackend, Credentials};
use axum::extract::Query;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use std::collections::HashMap;
use std::sync::Arc;
use tower_sessions_014::cookie::Cookie;
use tower_sessions_014::SessionManagerLayer;

use super::routes::send;
use super::store_of;

type Auth = AuthSession<AdapterBackend>;

fn app(fx: &Fixture) -> Router {
    let sessions = SessionManagerLayer::new(store_of(fx)).with_secure(false);
    let backend = AdapterBackend::new(Arc::clone(&fx.adapter));
    let auth = AuthManagerLayerBuilder::new(backend, sessions).build();
    Router::new()
        .route(
            "/protected",
            get(|auth: Auth| async move {
                auth.user
                    .and_then(|user| user.email.clone())
                    .unwrap_or_default()
            }),
        )
        .route_layer(login_required!(AdapterBackend))
        .route("/login/email", get(sign_in_by_email))
        .route("/login/account", get(sign_in_by_account))
        .route(
            "/logout",
            get(|mut auth: Auth| async move {
                auth.logout()
                    .await
                    .map(drop)
                    .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
            }),
        )
        .layer(auth)
}

async fn sign_in(mut auth: Auth, credentials: Credentials) -> (StatusCode, String) {
    match auth.authenticate(credentials).await {
        Ok(Some(user)) => match auth.login(&user).await {
            Ok(()) => (StatusCode::OK, user.id.clone()),
            Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        },
        Ok(None) => (StatusCode::UNAUTHORIZED, "refused".into()),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

async fn sign_in_by_email(
    auth: Auth,
    Query(q): Query<HashMap<String, String>>,
) -> (StatusCode, String) {
    let credentials = Credentials::EmailToken {
        email: q.get("email").cloned().unwrap_or_default(),
        token: q.get("token").cloned().unwrap_or_default(),
    };
    sign_in(auth, credentials).await
}

async fn sign_in_by_account(
    auth: Auth,
    Query(q): Query<HashMap<String, String>>,
) -> (StatusCode, String) {
    let credentials = Credentials::LinkedAccount {
        provider: q.get("provider").cloned().unwrap_or_default(),
        provider_account_id: q.get("id").cloned().unwrap_or_default(),
    };
    sign_in(auth, credentials).await
}

/// GET `uri` with `cookie`, expecting `status`; the cookie set, if any.
async fn expect(
    app: &Router,
    uri: &str,
    cookie: Option<&Cookie<'_>>,
    status: StatusCode,
) -> Result<(Option<Cookie<'static>>, String), Failure> {
    let (got, set, body) = send(app, uri, cookie).await?;
    if got != status {
        return Err(Failure::new(format!(
            "GET {uri}: {got} ({body}), expected {status}"
        )));
    }
    Ok((set, body))
}

pub async fn flow(fx: &Fixture) -> Outcome {
    let app = app(fx);
    let email = "ada@example.com";
    fx.adapter
        .create_verification_token(VerificationToken::new(
            email,
            "link-1",
            chrono::Utc::now() + chrono::Duration::hours(1),
        ))
        .await?;
    expect(&app, "/protected", None, StatusCode::UNAUTHORIZED).await?;
    // The link signs in (creating the user, email verified) and the page opens.
    let link = format!("/login/email?email={email}&token=link-1");
    let (set, user_id) = expect(&app, &link, None, StatusCode::OK).await?;
    let first = set.ok_or_else(|| Failure::new("sign-in set no cookie"))?;
    let (_, page) = expect(&app, "/protected", Some(&first), StatusCode::OK).await?;
    ensure_eq!(page, email, "the protected page's user");
    let user = fx
        .adapter
        .get_user(&user_id)
        .await?
        .ok_or_else(|| Failure::new("no user created"))?;
    ensure_eq!(
        user.email_verified.is_some(),
        true,
        "email verified by the link"
    );
    // A used link is refused; a signed-out cookie is refused the page.
    expect(&app, &link, None, StatusCode::UNAUTHORIZED).await?;
    expect(&app, "/logout", Some(&first), StatusCode::OK).await?;
    expect(&app, "/protected", Some(&first), StatusCode::UNAUTHORIZED).await?;
    // A linked provider account signs the same user in.
    let backend = AdapterBackend::new(Arc::clone(&fx.adapter));
    backend
        .link_account(Account::new(&user_id, AccountType::OAuth, "github", "gh-1"))
        .await?;
    expect(
        &app,
        "/login/account?provider=github&id=gh-2",
        None,
        StatusCode::UNAUTHORIZED,
    )
    .await?;
    let (set, same) = expect(
        &app,
        "/login/account?provider=github&id=gh-1",
        None,
        StatusCode::OK,
    )
    .await?;
    ensure_eq!(same, user_id, "the linked account's user");
    let second = set.ok_or_else(|| Failure::new("sign-in set no cookie"))?;
    // Another device signed in too; sign out everywhere ends both.
    fx.adapter
        .create_verification_token(VerificationToken::new(
            email,
            "link-2",
            chrono::Utc::now() + chrono::Duration::hours(1),
        ))
        .await?;
    let (set, _) = expect(
        &app,
        &format!("/login/email?email={email}&token=link-2"),
        None,
        StatusCode::OK,
    )
    .await?;
    let third = set.ok_or_else(|| Failure::new("sign-in set no cookie"))?;
    expect(&app, "/protected", Some(&second), StatusCode::OK).await?;
    expect(&app, "/protected", Some(&third), StatusCode::OK).await?;
    ensure_eq!(
        backend.sign_out_everywhere(&user_id).await?,
        2,
        "sessions ended"
    );
    expect(&app, "/protected", Some(&second), StatusCode::UNAUTHORIZED).await?;
    expect(&app, "/protected", Some(&third), StatusCode::UNAUTHORIZED).await?;
    Ok(())
}
