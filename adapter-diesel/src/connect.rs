//! How each database's connections are made and set up, for the pool's manager.

#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
use diesel::result::ConnectionError;

// ---------------------------------------------------------------- PostgreSQL

/// Reads a PostgreSQL URL with tokio-postgres's own parser, the one the pool's connections
/// are made with (see [`postgres_setup`]): a URL it cannot read is `InvalidInput`, with its
/// message as the cause, before any I/O.
#[cfg(feature = "postgres")]
pub(crate) fn check_postgres_url(url: &str) -> Result<&str, auth_core::AdapterError> {
    url.parse::<tokio_postgres::Config>()
        .map(|_| url)
        .map_err(|e| crate::error::invalid_url(url, "PostgreSQL", &e))
}

/// tokio-postgres connections: plain TCP for `sslmode=disable` / `prefer` (the default),
/// rustls with the webpki roots for `sslmode=require`. The connect timeout is the pool
/// timeout.
#[cfg(feature = "postgres")]
pub(crate) fn postgres_setup(
    timeout: std::time::Duration,
) -> diesel_async::pooled_connection::SetupCallback<crate::pool::PgConnection> {
    use diesel_async::AsyncPgConnection;
    use tokio_postgres::config::SslMode;

    Box::new(move |url| {
        let url = url.to_owned();
        Box::pin(async move {
            let mut config: tokio_postgres::Config =
                url.parse().map_err(|e: tokio_postgres::Error| {
                    ConnectionError::InvalidConnectionUrl(e.to_string())
                })?;
            config.connect_timeout(timeout);
            let bad = |e: tokio_postgres::Error| ConnectionError::BadConnection(with_causes(&e));
            match config.get_ssl_mode() {
                SslMode::Disable | SslMode::Prefer => {
                    let (client, connection) =
                        config.connect(tokio_postgres::NoTls).await.map_err(bad)?;
                    AsyncPgConnection::try_from_client_and_connection(client, connection).await
                }
                _ => {
                    let tls = tokio_postgres_rustls::MakeRustlsConnect::new(rustls_config()?);
                    let (client, connection) = config.connect(tls).await.map_err(bad)?;
                    AsyncPgConnection::try_from_client_and_connection(client, connection).await
                }
            }
        })
    })
}

/// An error's text followed by its causes (tokio-postgres says only "error connecting to
/// server" and keeps "Connection refused" in `source()`), for diesel's text-only
/// `ConnectionError::BadConnection`.
#[cfg(feature = "postgres")]
fn with_causes(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut next = err.source();
    while let Some(cause) = next {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        next = cause.source();
    }
    text
}

/// A rustls client configuration (ring, the webpki roots).
#[cfg(feature = "postgres")]
fn rustls_config() -> Result<rustls::ClientConfig, ConnectionError> {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    Ok(
        rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| ConnectionError::BadConnection(format!("TLS set-up: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth(),
    )
}

// ---------------------------------------------------------------- MariaDB / MySQL

/// `mariadb://` is spelled `mysql://` for mysql_async, and the connection stays on the
/// address the URL names: `prefer_socket=false` unless the URL sets `prefer_socket` or
/// `socket` itself.
///
/// mysql_async otherwise reconnects a TCP connection to `127.0.0.1` through the Unix
/// socket path the server reports (`@@socket`). That path is the server's, not this
/// machine's: with the server in a container, behind a port forward or an SSH tunnel, the
/// same path on this machine can belong to another server, and the adapter would silently
/// work on another database.
///
/// ```text
/// mariadb://root@db/app          → mysql://root@db/app?prefer_socket=false
/// mysql://root@db/app?ssl=1      → mysql://root@db/app?ssl=1&prefer_socket=false
/// mysql://root@db/app?socket=/s  → unchanged
/// ```
#[cfg(feature = "mysql")]
pub(crate) fn mysql_url(url: &str) -> String {
    let mut url = match url.strip_prefix("mariadb:") {
        Some(rest) => format!("mysql:{rest}"),
        None => url.to_owned(),
    };
    let query = url.split_once('?').map_or("", |(_, query)| query);
    let chooses = query.split('&').any(|pair| {
        let key = pair.split_once('=').map_or(pair, |(key, _)| key);
        key == "prefer_socket" || key == "socket"
    });
    if !chooses {
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str("prefer_socket=false");
    }
    url
}

/// Reads a MariaDB/MySQL URL (as [`mysql_url`] spells it) with mysql_async's own parser, the
/// one diesel-async connects with: a URL it cannot read is `InvalidInput`, with its message
/// as the cause, before any I/O. `given` is the URL as the application wrote it, for the
/// message.
#[cfg(feature = "mysql")]
pub(crate) fn check_mysql_url(given: &str, url: &str) -> Result<(), auth_core::AdapterError> {
    mysql_async::Opts::from_url(url)
        .map(drop)
        .map_err(|e| crate::error::invalid_url(given, "MariaDB/MySQL", &e))
}

/// mysql_async connections (diesel-async sets UTC and utf8mb4), in strict mode: an
/// over-long or invalid value is an error, never silently cut. TLS (rustls) when the URL
/// asks for it (`?require_ssl=true`).
#[cfg(feature = "mysql")]
pub(crate) fn mysql_setup(
) -> diesel_async::pooled_connection::SetupCallback<crate::pool::MysqlConnection> {
    use diesel_async::{AsyncConnection, AsyncMysqlConnection, SimpleAsyncConnection};

    Box::new(|url| {
        let url = url.to_owned();
        Box::pin(async move {
            let mut conn = AsyncMysqlConnection::establish(&url).await?;
            conn.batch_execute(
                "SET SESSION sql_mode = CONCAT(@@SESSION.sql_mode, ',STRICT_ALL_TABLES')",
            )
            .await
            .map_err(ConnectionError::CouldntSetupConfiguration)?;
            Ok(conn)
        })
    })
}

// ---------------------------------------------------------------- SQLite

/// Where a `sqlite:` URL points, as a URI diesel (and SQLite) open.
#[cfg(feature = "sqlite")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SqliteTarget {
    /// A `file:` URI.
    pub(crate) url: String,
    /// Whether it is an in-memory database (shared cache, named).
    pub(crate) memory: bool,
}

/// Translates a `sqlite:` URL: `sqlite://path` and `sqlite:path` become `file:path`;
/// `sqlite::memory:` becomes a uniquely named shared-cache in-memory database (so every
/// connection of the pool sees the same one); `file:` URIs pass as they are.
#[cfg(feature = "sqlite")]
pub(crate) fn sqlite_target(url: &str) -> SqliteTarget {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let url = if rest == ":memory:" || rest.is_empty() {
        format!(
            "file:adapter-diesel-{}?mode=memory&cache=shared",
            uuid::Uuid::now_v7().simple()
        )
    } else if rest.starts_with("file:") {
        rest.to_owned()
    } else {
        format!("file:{rest}")
    };
    let memory = url.contains("mode=memory") || url.starts_with("file::memory:");
    SqliteTarget { url, memory }
}

/// Checks a SQLite `file:` URI as SQLite itself reads it when it opens the database (a NUL
/// byte, the authority, the `mode` and `cache` parameters), before anything is opened: a URI
/// SQLite would refuse is `InvalidInput`, with SQLite's own wording as the cause. diesel
/// reports a failed open with the result code's generic text only ("bad parameter or
/// other API misuse"), which would lose SQLite's message. `given` is the URL as the
/// application wrote it, for the message.
#[cfg(feature = "sqlite")]
pub(crate) fn check_sqlite_uri(given: &str, uri: &str) -> Result<(), auth_core::AdapterError> {
    let refuse = |err: ConnectionError| crate::error::invalid_url(given, "SQLite", &err);
    if let Err(nul) = std::ffi::CString::new(uri) {
        return Err(refuse(ConnectionError::InvalidCString(nul)));
    }
    let (head, query) = uri.split_once('?').unwrap_or((uri, ""));
    if let Some(rest) = head.strip_prefix("file://") {
        let authority = rest.split('/').next().unwrap_or_default();
        if !authority.is_empty() && authority != "localhost" {
            return Err(refuse(ConnectionError::InvalidConnectionUrl(format!(
                "invalid uri authority: {authority}"
            ))));
        }
    }
    let query = query.split_once('#').map_or(query, |(query, _)| query);
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let (key, value) = (percent_decoded(key), percent_decoded(value));
        let (kind, allowed): (&str, &[&str]) = match key.as_str() {
            "mode" => ("access", &["ro", "rw", "rwc", "memory"]),
            "cache" => ("cache", &["shared", "private"]),
            _ => continue,
        };
        if !allowed.contains(&value.as_str()) {
            return Err(refuse(ConnectionError::InvalidConnectionUrl(format!(
                "no such {kind} mode: {value}"
            ))));
        }
    }
    Ok(())
}

/// `%HH` escapes decoded, as SQLite decodes a URI's parameters.
#[cfg(feature = "sqlite")]
fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |at: usize| bytes.get(at).and_then(|b| (*b as char).to_digit(16));
        match (bytes[i], hex(i + 1), hex(i + 2)) {
            (b'%', Some(high), Some(low)) => {
                out.push((high * 16 + low) as u8);
                i += 3;
            }
            (byte, _, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The pragmas every SQLite connection runs: foreign keys on (the cascades and the
/// `NotFound` of a missing user depend on them), the busy timeout, and WAL for files.
#[cfg(feature = "sqlite")]
fn sqlite_pragmas(timeout: std::time::Duration, file: bool) -> String {
    let mut pragmas = format!(
        "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = {};",
        timeout.as_millis()
    );
    if file {
        pragmas.push_str(" PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
    }
    pragmas
}

/// Opens one (blocking) SQLite connection with the pragmas.
#[cfg(feature = "sqlite")]
pub(crate) fn sqlite_establish(
    url: &str,
    timeout: std::time::Duration,
    file: bool,
) -> Result<diesel::SqliteConnection, ConnectionError> {
    use diesel::connection::SimpleConnection;
    use diesel::Connection;
    let mut conn = diesel::SqliteConnection::establish(url)?;
    conn.batch_execute(&sqlite_pragmas(timeout, file))
        .map_err(ConnectionError::CouldntSetupConfiguration)?;
    Ok(conn)
}

/// SQLite connections, opened on a blocking thread.
#[cfg(feature = "sqlite")]
pub(crate) fn sqlite_setup(
    timeout: std::time::Duration,
    file: bool,
) -> diesel_async::pooled_connection::SetupCallback<crate::pool::SqliteConnection> {
    Box::new(move |url| {
        let url = url.to_owned();
        Box::pin(async move {
            let conn = tokio::task::spawn_blocking(move || sqlite_establish(&url, timeout, file))
                .await
                .map_err(|e| ConnectionError::BadConnection(e.to_string()))??;
            Ok(crate::pool::SqliteConnection::new(conn))
        })
    })
}

#[cfg(all(test, feature = "sqlite"))]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_become_file_uris() {
        assert_eq!(
            sqlite_target("sqlite:///var/lib/app/auth.db").url,
            "file:/var/lib/app/auth.db"
        );
        assert_eq!(sqlite_target("sqlite://auth.db").url, "file:auth.db");
        assert_eq!(
            sqlite_target("sqlite:auth.db?mode=rwc").url,
            "file:auth.db?mode=rwc"
        );
        let shared = sqlite_target("sqlite:file:auth-1?mode=memory&cache=shared");
        assert_eq!(shared.url, "file:auth-1?mode=memory&cache=shared");
        assert!(shared.memory);
        let a = sqlite_target("sqlite::memory:");
        let b = sqlite_target("sqlite::memory:");
        assert!(a.memory && a.url.contains("cache=shared"));
        assert_ne!(a.url, b.url, "each :memory: adapter gets its own database");
        assert!(!sqlite_target("sqlite://auth.db").memory);
        assert!(
            sqlite_pragmas(std::time::Duration::from_secs(2), true).contains("busy_timeout = 2000")
        );
    }

    #[test]
    fn sqlite_uris_are_checked_as_sqlite_reads_them() {
        for ok in [
            "file:auth.db",
            "file:auth.db?mode=rwc",
            "file:x?mode=memory&cache=shared",
            "file:x?mode=r%77c&vfs=unix&other=thing",
            "file:///var/lib/auth.db",
            "file://localhost/var/lib/auth.db",
        ] {
            assert!(check_sqlite_uri(ok, ok).is_ok(), "{ok}");
        }
        for (bad, says) in [
            ("file:x?mode=bogus", "no such access mode: bogus"),
            ("file:x?cache=open", "no such cache mode: open"),
            ("file://db.example/x", "invalid uri authority: db.example"),
            ("file:a\0b", "nul byte found"),
        ] {
            let err = check_sqlite_uri(bad, bad).expect_err(bad);
            assert_eq!(err.kind(), auth_core::ErrorKind::InvalidInput, "{bad}");
            let cause = std::error::Error::source(&err).map(ToString::to_string);
            assert!(cause.unwrap_or_default().contains(says), "{bad}: {err:?}");
        }
        assert_eq!(percent_decoded("r%77c%2"), "rwc%2");
    }
}

#[cfg(all(test, feature = "mysql"))]
mod mysql_tests {
    use super::*;

    #[test]
    fn mysql_urls_are_read_by_mysql_async() {
        assert!(check_mysql_url("mysql://root@db/app", &mysql_url("mysql://root@db/app")).is_ok());
        let given = "mysql://root:pw@127.0.0.1:99999/test";
        let err = check_mysql_url(given, &mysql_url(given)).expect_err("port out of range");
        assert_eq!(err.kind(), auth_core::ErrorKind::InvalidInput);
        assert!(!format!("{err:?}").contains("pw"), "{err:?}");
        assert!(!err.to_string().contains("prefer_socket"), "{err}");
    }

    #[test]
    fn mysql_urls_keep_to_the_named_address() {
        assert_eq!(
            mysql_url("mariadb://root@127.0.0.1:3306/test"),
            "mysql://root@127.0.0.1:3306/test?prefer_socket=false"
        );
        assert_eq!(
            mysql_url("mysql://root@db/app?require_ssl=true"),
            "mysql://root@db/app?require_ssl=true&prefer_socket=false"
        );
        assert_eq!(
            mysql_url("mysql://root@db/app?prefer_socket=true"),
            "mysql://root@db/app?prefer_socket=true"
        );
        assert_eq!(
            mysql_url("mysql://root@localhost/app?socket=/run/mysqld/mysqld.sock"),
            "mysql://root@localhost/app?socket=/run/mysqld/mysqld.sock"
        );
    }
}
