//! The admin-only page: an app's own field on its users (`role`, kept in
//! [`User::extra`](auth_core::User::extra)) deciding who may see a page.
//!
//! A user is an admin when `extra.role == "admin"`. The addresses of
//! [`Settings::admin_emails`](crate::Settings::admin_emails) get that role when they sign
//! in; an admin grants it to another user at `/admin`.

use auth_core::serde_json::json;
use auth_core::{email_identity, Adapter, User, UserUpdate};
use axum::extract::rejection::FormRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Form;
use serde::{Deserialize, Serialize};

use crate::account::{renewing, SignedIn};
use crate::pages::{esc, page, post_form};
use crate::security::CsrfToken;
use crate::{AppState, Result};

/// The role that opens `/admin`.
pub const ADMIN_ROLE: &str = "admin";

/// The app's own fields on a user, as this app reads [`User::extra`]: fields it does not
/// know are ignored, so another app sharing the table may keep its own.
///
/// ```
/// use auth_core::User;
/// use axum_app::AppFields;
///
/// let user = User::new().with_extra(&AppFields { role: Some("admin".into()) }).unwrap();
/// assert!(axum_app::is_admin(&user));
/// assert!(!axum_app::is_admin(&User::new()));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppFields {
    /// `admin`, or absent for everyone else.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

/// Whether the user may open `/admin`. Extra fields that do not read as [`AppFields`]
/// (written by something else) make nobody an admin.
pub fn is_admin(user: &User) -> bool {
    user.extra_as::<AppFields>()
        .is_ok_and(|fields| fields.role.as_deref() == Some(ADMIN_ROLE))
}

/// Gives the user the admin role (one merge: the user's other extra fields stay) and returns
/// the user as stored.
pub(crate) async fn make_admin(adapter: &dyn Adapter, user: User) -> Result<User> {
    if is_admin(&user) {
        return Ok(user);
    }
    let update = UserUpdate::new(&user.id)
        .merge_extra(&json!({ "role": ADMIN_ROLE }))
        .map_err(|_| {
            auth_core::AdapterError::invalid_input(
                auth_core::Operation::UpdateUser,
                "the role does not serialize",
            )
        })?;
    Ok(adapter.update_user(update).await?)
}

fn forbidden(signed_in: &SignedIn) -> Response {
    let body = r#"<p id="forbidden">This page is for admins. <a href="/">Home</a></p>"#;
    renewing(
        signed_in,
        (StatusCode::FORBIDDEN, page("Admins only", body)).into_response(),
    )
}

fn admin_page(signed_in: &SignedIn, csrf: &str, notice: &str) -> Response {
    let body = format!(
        r#"{notice}<p id="admin">You are an admin: your user's <code>extra.role</code> is <code>admin</code>.</p>
<form id="grant" method="post" action="/admin/grant">
<input type="hidden" name="csrf" value="{csrf}">
<label>Make admin <input type="email" name="email" required></label>
<button type="submit">Grant</button></form>
{back}"#,
        csrf = esc(csrf),
        back = post_form("/signout", "Sign out", csrf, "sign-out", &[]),
    );
    renewing(signed_in, page("Admin", &body).into_response())
}

/// `GET /admin`: the page for admins, 403 for everyone else.
pub(crate) async fn admin(signed_in: SignedIn, csrf: CsrfToken) -> Response {
    if !is_admin(&signed_in.user) {
        return forbidden(&signed_in);
    }
    admin_page(&signed_in, &csrf.0, "")
}

#[derive(Deserialize)]
pub(crate) struct GrantForm {
    email: String,
}

/// `POST /admin/grant`: an admin gives the role to the user of an address.
pub(crate) async fn grant(
    State(state): State<AppState>,
    signed_in: SignedIn,
    csrf: CsrfToken,
    form: std::result::Result<Form<GrantForm>, FormRejection>,
) -> Result<Response> {
    if !is_admin(&signed_in.user) {
        return Ok(forbidden(&signed_in));
    }
    let identity = form.ok().and_then(|Form(f)| email_identity(&f.email).ok());
    let found = match &identity {
        Some(identity) => state.adapter.get_user_by_email(identity).await?,
        None => None,
    };
    let notice = match found {
        Some(user) => {
            let user = make_admin(state.adapter.as_ref(), user).await?;
            tracing::info!(admin = %signed_in.user.id, user = %user.id, "granted the admin role");
            format!(
                r#"<p id="granted">{} is an admin now.</p>"#,
                esc(user.email.as_deref().unwrap_or(&user.id))
            )
        }
        None => r#"<p id="no-such-user">No user has that address.</p>"#.to_owned(),
    };
    Ok(admin_page(&signed_in, &csrf.0, &notice))
}
