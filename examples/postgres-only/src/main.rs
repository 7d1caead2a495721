//! Signs a user in against PostgreSQL with adapter-sqlx built for PostgreSQL alone:
//! `cargo run -p postgres-only -- postgres://postgres@127.0.0.1:5432/postgres`.

use adapter_sqlx::SqlxAdapter;
use auth_core::chrono::Duration;
use auth_core::{Adapter, Session, User};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("DATABASE_URL").ok())
        .ok_or("usage: postgres-only <postgres://… URL> (or DATABASE_URL)")?;
    let adapter = SqlxAdapter::connect(&url).await?;
    adapter.migrate().await?;

    let user = adapter
        .create_user(User::new().with_email("ada@example.com"))
        .await?;
    let session = adapter
        .create_session(Session::new(user.id.clone(), Duration::days(30)))
        .await?;
    let found = adapter.get_session_and_user(&session.session_token).await?;
    println!("signed in: {}", found.is_some());
    adapter.delete_user(&user.id).await?;
    Ok(())
}
