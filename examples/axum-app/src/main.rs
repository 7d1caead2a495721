//! `cargo run -p axum-app`: email magic-link sign-in on 127.0.0.1:3000 over an embedded
//! SQLite file, or over the database `--database-url` names.

use std::net::SocketAddr;
use std::time::Duration;

use std::sync::Arc;

use auth_core::at_rest::KeyRing;
use axum_app::{App, AppSecret, AuthJs, Orm, Settings};
use clap::Parser;
use tracing_subscriber::EnvFilter;

/// Email magic-link sign-in on axum over any adapter of the workspace.
#[derive(Debug, Parser)]
struct Cli {
    /// `sqlite://…`, `postgres://…`, `mysql://…`, `redis://…` or `mongodb://…`.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://axum-app.db?mode=rwc"
    )]
    database_url: String,
    /// The library for SQL databases.
    #[arg(long, value_enum, default_value_t = Orm::Sqlx)]
    orm: Orm,
    /// The key prefix on Redis (with `--authjs unstorage`: the Auth.js `baseKeyPrefix`).
    #[arg(long)]
    redis_prefix: Option<String>,
    /// Share the database of an Auth.js app: its adapter's tables, collections or keys, and
    /// its session cookie (`authjs.session-token`).
    #[arg(long, value_enum)]
    authjs: Option<AuthJs>,
    /// The session cookie's name (default: `auth_session`, or `authjs.session-token` with
    /// `--authjs`; an Auth.js app over HTTPS uses `__Secure-authjs.session-token`).
    #[arg(long)]
    session_cookie: Option<String>,
    /// Where to listen (loopback: the session cookie is `Secure`, which browsers accept
    /// over plain HTTP only on localhost; elsewhere put TLS in front and set
    /// `--public-origin`).
    #[arg(long, default_value = "127.0.0.1:3000")]
    listen: SocketAddr,
    /// The origin browsers reach the app at, e.g. `https://app.example` (default:
    /// `http://` and the listening address).
    #[arg(long)]
    public_origin: Option<String>,
    /// Show every mailed sign-in link at `/dev/outbox` (development only; refused with a
    /// `--listen` address other than loopback).
    #[arg(long)]
    dev_outbox: bool,
    /// The secret of CSRF tokens and link binding: 32 bytes as 43 characters of base64url
    /// (default: a random one per start).
    #[arg(long, env = "AXUM_APP_SECRET", hide_env_values = true)]
    secret: Option<String>,
    /// Seal OAuth tokens at rest under this key: `ID:KEY`, KEY 32 bytes as 43 characters
    /// of base64url.
    #[arg(long, env = "AXUM_APP_ACCOUNT_KEY", hide_env_values = true)]
    account_key: Option<String>,
    /// Refuse OAuth tokens stored in clear (once every account is sealed).
    #[arg(long, requires = "account_key")]
    strict_account_tokens: bool,
    /// Give the admin role (the user's `extra.role`, which opens `/admin`) to this address
    /// when it signs in; repeat the flag, or separate addresses with commas.
    #[arg(
        long = "admin-email",
        env = "AXUM_APP_ADMIN_EMAILS",
        value_delimiter = ','
    )]
    admin_emails: Vec<String>,
    /// Push a session's expiry forward at most this often, in seconds.
    #[arg(long, default_value_t = 24 * 3600)]
    session_refresh_secs: u64,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let cli = Cli::parse();
    let mut settings = Settings::new(cli.database_url);
    settings.orm = cli.orm;
    settings.redis_prefix = cli.redis_prefix;
    if let Some(layout) = cli.authjs {
        settings = settings.with_authjs(layout);
    }
    if let Some(name) = cli.session_cookie {
        settings.session_cookie = name;
    }
    settings.session_refresh = Duration::from_secs(cli.session_refresh_secs);
    if cli.dev_outbox && !cli.listen.ip().is_loopback() {
        return Err(format!(
            "--dev-outbox shows every sign-in link: it is refused with --listen {} (not loopback)",
            cli.listen
        )
        .into());
    }
    settings.dev_outbox = cli.dev_outbox;
    settings.admin_emails = cli
        .admin_emails
        .iter()
        .map(|typed| {
            auth_core::email_identity(typed)
                .map_err(|err| format!("--admin-email {typed:?}: {err}"))
        })
        .collect::<Result<_, _>>()?;
    settings.public_origin = cli.public_origin;
    if let Some(text) = cli.secret {
        settings.secret =
            Some(AppSecret::from_base64url(&text).map_err(|err| format!("--secret: {err}"))?);
    }
    if let Some(text) = cli.account_key {
        let (id, key) = text
            .split_once(':')
            .ok_or("--account-key: expected ID:KEY")?;
        let key = KeyRing::decode_key(key).map_err(|err| format!("--account-key: {err}"))?;
        let ring = KeyRing::new(id, *key).map_err(|err| format!("--account-key: {err}"))?;
        settings.account_keys = Some(Arc::new(ring));
        settings.strict_account_tokens = cli.strict_account_tokens;
    }
    let app = App::connect(settings).await?;
    let listener = tokio::net::TcpListener::bind(cli.listen).await?;
    app.serve(listener, shutdown_signal()).await?;
    Ok(())
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::warn!(%err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::warn!(%err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutting down: finishing the requests under way");
}
