//! One browser, two apps: a session that Auth.js (the real `@auth/pg-adapter`, in Node)
//! created is a signed-in visit of this app when it runs with `--authjs pg`, through the
//! cookie Auth.js sets (`authjs.session-token`); signing out here ends it for Auth.js too.
//!
//! Needs `AUTH_TEST_POSTGRES_URL` and the Node packages (`npm ci` in `compat/authjs`). Without
//! them it prints a SKIPPED line and passes, unless `AUTH_CONFORMANCE_REQUIRE` is set.

use std::time::Duration;

use auth_core::chrono::Utc;
use auth_core::Session;
use axum_app::{App, AuthJs, Settings, AUTHJS_SESSION_COOKIE, CSRF_COOKIE, SESSION_COOKIE};
use conformance_cli::authjs::AuthJs as Node;
use serde_json::json;
use sqlx::Connection;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The server, or `None` after a SKIPPED line (a panic when the suite is required).
fn server_url() -> Option<String> {
    conformance_cli::authjs::server_or_skip("axum-app authjs test", "AUTH_TEST_POSTGRES_URL")
}

/// One HTTP/1.1 exchange with the app; the whole response as text.
async fn http(addr: std::net::SocketAddr, request: String) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .expect("the app listens");
    stream
        .write_all(request.as_bytes())
        .await
        .expect("the request is sent");
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut response))
        .await
        .expect("the app answers in time")
        .expect("the response is read");
    String::from_utf8_lossy(&response).into_owned()
}

fn get_home(addr: std::net::SocketAddr, cookies: &str) -> String {
    format!("GET / HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookies}\r\nConnection: close\r\n\r\n")
}

/// The value of the cookie `name` a response sets.
fn set_cookie<'a>(response: &'a str, name: &str) -> Option<&'a str> {
    response.lines().find_map(|line| {
        let value = line.strip_prefix("set-cookie: ")?.strip_prefix(name)?;
        value.strip_prefix('=')?.split(';').next()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_signed_in_by_authjs_is_signed_in_here_and_signs_out_of_both() {
    let Some(server) = server_url() else { return };
    let schema = format!("axum_authjs_{}", uuid::Uuid::now_v7().simple());
    let mut admin = sqlx::PgConnection::connect(&server).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&mut admin)
        .await
        .unwrap();
    let separator = if server.contains('?') { '&' } else { '?' };
    let url = format!("{server}{separator}options=-c%20search_path%3D{schema}");

    // The Rust app on the Auth.js tables (its migrate() creates them in the schema).
    let app = App::connect(Settings::new(&url).with_authjs(AuthJs::Pg))
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(app.serve(listener, async {
        let _ = stopped.await;
    }));

    // Auth.js signs a user in: a user and a database session, whose token is its cookie.
    let mut node = Node::open(json!({"layout": "pg", "url": server, "schema": schema}))
        .await
        .unwrap();
    let user = node.create_user("both@example.com").await.unwrap();
    let token = format!("authjs-{}", uuid::Uuid::now_v7().simple());
    let expires = Utc::now() + auth_core::chrono::Duration::days(30);
    node.create_session(&Session {
        extra: Default::default(),
        session_token: token.clone(),
        user_id: user.id.clone(),
        expires,
    })
    .await
    .unwrap();

    let cookie = format!("{AUTHJS_SESSION_COOKIE}={token}");
    let home = http(addr, get_home(addr, &cookie)).await;
    assert!(
        home.contains("Signed in as <strong>both@example.com</strong>"),
        "{home}"
    );
    let anonymous = http(addr, get_home(addr, "auth_session=nothing")).await;
    assert!(anonymous.contains("Not signed in."), "{anonymous}");
    // This app's own cookie name does not sign anyone in on the Auth.js layout.
    let own_name = http(addr, get_home(addr, &format!("{SESSION_COOKIE}={token}"))).await;
    assert!(own_name.contains("Not signed in."), "{own_name}");

    // Sign out here (with the CSRF seed cookie and the form token the home page handed out) ...
    let seed = set_cookie(&home, CSRF_COOKIE)
        .expect("a CSRF cookie")
        .to_owned();
    let marker = r#"name="csrf" value=""#;
    let start = home.find(marker).expect("a form with a CSRF token") + marker.len();
    let csrf = &home[start..start + home[start..].find('"').expect("a closing quote")];
    let body = format!("csrf={csrf}");
    let sign_out = format!(
        "POST /signout HTTP/1.1\r\nHost: {addr}\r\nOrigin: http://{addr}\r\n\
         Cookie: {cookie}; {CSRF_COOKIE}={seed}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    let signed_out = http(addr, sign_out).await;
    assert!(signed_out.starts_with("HTTP/1.1 303"), "{signed_out}");
    assert_eq!(
        set_cookie(&signed_out, AUTHJS_SESSION_COOKIE),
        Some(""),
        "{signed_out}"
    );
    // ... and Auth.js no longer finds the session either.
    assert_eq!(node.get_session_and_user(&token).await.unwrap(), None);

    node.close().await.unwrap();
    let _ = stop.send(());
    serving.await.unwrap().unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
        .execute(&mut admin)
        .await
        .unwrap();
}
