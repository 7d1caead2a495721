//! Serves the app: `DATABASE_URL` (default `sqlite://axum-login-app.db?mode=rwc`; any
//! adapter-sqlx URL), on `ADDR` (default `127.0.0.1:3001`). Sign-in links appear at
//! `/dev/outbox` and in the log.

use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(std::env::var("RUST_LOG").unwrap_or_else(|_| "axum_login_app=info".into()))
        .init();
    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "sqlite://axum-login-app.db?mode=rwc".to_owned());
    let addr = std::env::var("ADDR").unwrap_or_else(|_| "127.0.0.1:3001".to_owned());
    let adapter = adapter_sqlx::SqlxAdapter::connect(&url).await?;
    adapter.migrate().await?;
    let adapter: Arc<dyn auth_core::Adapter> = Arc::new(adapter);
    let sweeper = auth_core::spawn_sweeper(adapter.clone(), std::time::Duration::from_secs(300));
    let app = axum_login_app::router(adapter, axum_login_app::Outbox::default());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    tracing::info!("listening on http://{addr}");
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    sweeper.stop().await;
    Ok(())
}
