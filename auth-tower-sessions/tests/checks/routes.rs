//! tower-sessions' route tests (its repository's `tests/common`, the `route_tests!` every
//! store there runs), written here from what they check, over `AdapterSessionStore`: one
//! axum router whose handlers insert, read, remove, cycle and flush session data, driven
//! request by request with the session cookie carried by hand.

use adapter_conformance::check::{Failure, Outcome};
use adapter_conformance::{ensure_eq, Fixture};
use axum::body::Body;
use axum::routing::get;
use axum::Router;
use http_body_util::BodyExt;
use time::{Duration, OffsetDateTime};
use tower::ServiceExt;
use tower_sessions_014::cookie::{Cookie, SameSite};
use tower_sessions_014::{Expiry, Session, SessionManagerLayer};

use super::store_of;

fn routes() -> Router {
    Router::new()
        .route("/", get(|_: Session| async move { "Hello, world!" }))
        .route(
            "/insert",
            get(
                |session: Session| async move { session.insert("foo", 42).await.map_err(internal) },
            ),
        )
        .route(
            "/get",
            get(|session: Session| async move {
                let value = session.get::<usize>("foo").await.map_err(internal)?;
                Ok::<_, (axum::http::StatusCode, String)>(format!("{}", value.unwrap_or_default()))
            }),
        )
        .route(
            "/get_value",
            get(|session: Session| async move {
                Ok::<_, (axum::http::StatusCode, String)>(format!(
                    "{:?}",
                    session.get_value("foo").await.map_err(internal)?
                ))
            }),
        )
        .route(
            "/remove_value",
            get(|session: Session| async move {
                session
                    .remove_value("foo")
                    .await
                    .map(drop)
                    .map_err(internal)
            }),
        )
        .route(
            "/cycle_id",
            get(|session: Session| async move { session.cycle_id().await.map_err(internal) }),
        )
        .route(
            "/flush",
            get(|session: Session| async move { session.flush().await.map_err(internal) }),
        )
        .route(
            "/set_expiry",
            get(|session: Session| async move {
                let expiry = Expiry::AtDateTime(OffsetDateTime::now_utc() + Duration::days(1));
                session.set_expiry(Some(expiry));
            }),
        )
        .route(
            "/remove_expiry",
            get(|session: Session| async move {
                session.set_expiry(Some(Expiry::OnSessionEnd));
            }),
        )
}

fn internal(err: impl std::fmt::Display) -> (axum::http::StatusCode, String) {
    (
        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        err.to_string(),
    )
}

/// The app of the route tests over the fixture's adapter.
fn app(fx: &Fixture, max_age: Option<Duration>, domain: Option<&str>) -> Router {
    let mut layer = SessionManagerLayer::new(store_of(fx)).with_secure(true);
    if let Some(max_age) = max_age {
        layer = layer.with_expiry(Expiry::OnInactivity(max_age));
    }
    if let Some(domain) = domain {
        layer = layer.with_domain(domain.to_owned());
    }
    routes().layer(layer)
}

/// The response to GET `uri` with `cookie`: (status, set-cookie, body).
pub async fn send(
    app: &Router,
    uri: &str,
    cookie: Option<&Cookie<'_>>,
) -> Result<(axum::http::StatusCode, Option<Cookie<'static>>, String), Failure> {
    let mut request = axum::http::Request::builder().uri(uri);
    if let Some(cookie) = cookie {
        request = request.header(axum::http::header::COOKIE, cookie.encoded().to_string());
    }
    let request = request
        .body(Body::empty())
        .map_err(|e| Failure::new(e.to_string()))?;
    let response = app
        .clone()
        .oneshot(request)
        .await
        .map_err(|e| Failure::new(format!("GET {uri}: {e}")))?;
    let status = response.status();
    let set_cookie = response
        .headers()
        .get_all(axum::http::header::SET_COOKIE)
        .iter()
        .flat_map(|value| value.to_str())
        .next()
        .map(|text| Cookie::parse_encoded(text.to_owned()))
        .transpose()
        .map_err(|e| Failure::new(format!("GET {uri}: a set-cookie that does not parse: {e}")))?;
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| Failure::new(e.to_string()))?
        .to_bytes();
    Ok((
        status,
        set_cookie,
        String::from_utf8_lossy(&body).into_owned(),
    ))
}

/// [`send`], which must succeed: (set-cookie, body).
async fn get_with(
    app: &Router,
    uri: &str,
    cookie: Option<&Cookie<'_>>,
) -> Result<(Option<Cookie<'static>>, String), Failure> {
    let (status, set_cookie, body) = send(app, uri, cookie).await?;
    if !status.is_success() {
        return Err(Failure::new(format!("GET {uri}: {status}: {body}")));
    }
    Ok((set_cookie, body))
}

fn cookie_of(set: Option<Cookie<'static>>, uri: &str) -> Result<Cookie<'static>, Failure> {
    set.ok_or_else(|| Failure::new(format!("GET {uri} set no cookie")))
}

/// Every route test in turn; the first failure names its test.
pub async fn all(fx: &Fixture) -> Outcome {
    macro_rules! run {
        ($($name:ident),+ $(,)?) => {$(
            $name(fx).await.map_err(|failure| {
                Failure::new(format!("{}: {failure}", stringify!($name)))
            })?;
        )+};
    }
    run!(
        no_session_set,
        bogus_session_cookie,
        malformed_session_cookie,
        insert_session,
        session_max_age,
        get_session,
        get_no_value,
        remove_last_value,
        cycle_session_id,
        flush_session,
        flush_with_domain,
        set_expiry,
        change_expiry_type,
    );
    Ok(())
}

fn within_a_second(actual: Option<Duration>, expected: Duration) -> Outcome {
    let actual = actual.ok_or_else(|| Failure::new("no max-age"))?;
    if (actual - expected).abs() > Duration::seconds(1) {
        return Err(Failure::new(format!(
            "max-age {actual}, expected {expected} ± 1 s"
        )));
    }
    Ok(())
}

async fn no_session_set(fx: &Fixture) -> Outcome {
    let (set, _) = get_with(&app(fx, Some(Duration::hours(1)), None), "/", None).await?;
    ensure_eq!(
        set.map(|c| c.to_string()),
        None,
        "a cookie for a request that stored nothing"
    );
    Ok(())
}

async fn bogus_session_cookie(fx: &Fixture) -> Outcome {
    let bogus = Cookie::new("id", "AAAAAAAAAAAAAAAAAAAAAA");
    let (set, _) = get_with(
        &app(fx, Some(Duration::hours(1)), None),
        "/insert",
        Some(&bogus),
    )
    .await?;
    let set = cookie_of(set, "/insert")?;
    if set.value() == bogus.value() {
        return Err(Failure::new(
            "a record was stored under the id of an unknown cookie",
        ));
    }
    Ok(())
}

async fn malformed_session_cookie(fx: &Fixture) -> Outcome {
    let malformed = Cookie::new("id", "malformed");
    let (set, _) = get_with(
        &app(fx, Some(Duration::hours(1)), None),
        "/",
        Some(&malformed),
    )
    .await?;
    let set = cookie_of(set, "/")?;
    if set.value() == "malformed" {
        return Err(Failure::new("the malformed id was kept"));
    }
    Ok(())
}

async fn insert_session(fx: &Fixture) -> Outcome {
    let (set, _) = get_with(&app(fx, Some(Duration::hours(1)), None), "/insert", None).await?;
    let cookie = cookie_of(set, "/insert")?;
    ensure_eq!(cookie.name(), "id", "name");
    ensure_eq!(cookie.http_only(), Some(true), "HttpOnly");
    ensure_eq!(cookie.same_site(), Some(SameSite::Strict), "SameSite");
    ensure_eq!(cookie.secure(), Some(true), "Secure");
    ensure_eq!(cookie.path(), Some("/"), "Path");
    within_a_second(cookie.max_age(), Duration::hours(1))
}

async fn session_max_age(fx: &Fixture) -> Outcome {
    let (set, _) = get_with(&app(fx, None, None), "/insert", None).await?;
    let cookie = cookie_of(set, "/insert")?;
    ensure_eq!(cookie.max_age(), None, "max-age of a session-end cookie");
    ensure_eq!(cookie.http_only(), Some(true), "HttpOnly");
    Ok(())
}

async fn get_session(fx: &Fixture) -> Outcome {
    let app = app(fx, Some(Duration::hours(1)), None);
    let cookie = cookie_of(get_with(&app, "/insert", None).await?.0, "/insert")?;
    let (_, body) = get_with(&app, "/get", Some(&cookie)).await?;
    ensure_eq!(body, "42", "the value read back");
    Ok(())
}

async fn get_no_value(fx: &Fixture) -> Outcome {
    let (_, body) = get_with(&app(fx, Some(Duration::hours(1)), None), "/get_value", None).await?;
    ensure_eq!(body, "None", "a value never set");
    Ok(())
}

async fn remove_last_value(fx: &Fixture) -> Outcome {
    let app = app(fx, Some(Duration::hours(1)), None);
    let cookie = cookie_of(get_with(&app, "/insert", None).await?.0, "/insert")?;
    get_with(&app, "/remove_value", Some(&cookie)).await?;
    let (_, body) = get_with(&app, "/get_value", Some(&cookie)).await?;
    ensure_eq!(body, "None", "the value after its removal");
    Ok(())
}

async fn cycle_session_id(fx: &Fixture) -> Outcome {
    let app = app(fx, Some(Duration::hours(1)), None);
    let first = cookie_of(get_with(&app, "/insert", None).await?.0, "/insert")?;
    let second = cookie_of(
        get_with(&app, "/cycle_id", Some(&first)).await?.0,
        "/cycle_id",
    )?;
    if first.value() == second.value() {
        return Err(Failure::new("the id did not change"));
    }
    let (_, body) = get_with(&app, "/get", Some(&second)).await?;
    ensure_eq!(body, "42", "the value under the new id");
    // The old id is gone from the store: it reads nothing.
    let (_, body) = get_with(&app, "/get_value", Some(&first)).await?;
    ensure_eq!(body, "None", "the value under the old id");
    Ok(())
}

async fn flush_session(fx: &Fixture) -> Outcome {
    let app = app(fx, Some(Duration::hours(1)), None);
    let cookie = cookie_of(get_with(&app, "/insert", None).await?.0, "/insert")?;
    let cleared = cookie_of(get_with(&app, "/flush", Some(&cookie)).await?.0, "/flush")?;
    ensure_eq!(cleared.value(), "", "value");
    ensure_eq!(cleared.max_age(), Some(Duration::ZERO), "max-age");
    ensure_eq!(cleared.path(), Some("/"), "path");
    let (_, body) = get_with(&app, "/get_value", Some(&cookie)).await?;
    ensure_eq!(
        body,
        "None",
        "the value after the flush, under the old cookie"
    );
    Ok(())
}

async fn flush_with_domain(fx: &Fixture) -> Outcome {
    let app = app(fx, Some(Duration::hours(1)), Some("localhost"));
    let cookie = cookie_of(get_with(&app, "/insert", None).await?.0, "/insert")?;
    let cleared = cookie_of(get_with(&app, "/flush", Some(&cookie)).await?.0, "/flush")?;
    ensure_eq!(cleared.value(), "", "value");
    ensure_eq!(cleared.max_age(), Some(Duration::ZERO), "max-age");
    ensure_eq!(cleared.domain(), Some("localhost"), "domain");
    ensure_eq!(cleared.path(), Some("/"), "path");
    Ok(())
}

async fn set_expiry(fx: &Fixture) -> Outcome {
    let app = app(fx, Some(Duration::hours(1)), Some("localhost"));
    let cookie = cookie_of(get_with(&app, "/insert", None).await?.0, "/insert")?;
    within_a_second(cookie.max_age(), Duration::hours(1))?;
    let changed = cookie_of(
        get_with(&app, "/set_expiry", Some(&cookie)).await?.0,
        "/set_expiry",
    )?;
    within_a_second(changed.max_age(), Duration::days(1))?;
    // The store keeps the new expiry: the record still loads.
    let (_, body) = get_with(&app, "/get", Some(&changed)).await?;
    ensure_eq!(body, "42", "the value after set_expiry");
    Ok(())
}

async fn change_expiry_type(fx: &Fixture) -> Outcome {
    let app_session_end = app(fx, None, Some("localhost"));
    let cookie = cookie_of(
        get_with(&app_session_end, "/insert", None).await?.0,
        "/insert",
    )?;
    ensure_eq!(cookie.max_age(), None, "max-age at session end");
    let changed = cookie_of(
        get_with(&app_session_end, "/set_expiry", Some(&cookie))
            .await?
            .0,
        "/set_expiry",
    )?;
    within_a_second(changed.max_age(), Duration::days(1))?;

    let app_inactivity = app(fx, Some(Duration::hours(1)), Some("localhost"));
    let cookie = cookie_of(
        get_with(&app_inactivity, "/insert", None).await?.0,
        "/insert",
    )?;
    within_a_second(cookie.max_age(), Duration::hours(1))?;
    let changed = cookie_of(
        get_with(&app_inactivity, "/remove_expiry", Some(&cookie))
            .await?
            .0,
        "/remove_expiry",
    )?;
    ensure_eq!(changed.max_age(), None, "max-age after remove_expiry");
    Ok(())
}
