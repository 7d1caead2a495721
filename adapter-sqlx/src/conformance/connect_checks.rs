//! The `connect` checks that adapter-sqlx, adapter-diesel and adapter-seaorm each run in
//! their own tests: a refused port fails at once with its cause, options that cannot work
//! are refused before any I/O, an adopted pool keeps its own size, and the adapter comes
//! back after a server outage. The crate-specific part, the adapter's options, comes in
//! through [`TablesAdapterOptions`].

use std::error::Error;
use std::fmt::Debug;
use std::future::Future;
use std::time::{Duration, Instant};

use adapter_conformance::throwaway::{outage_drill, PgCluster};
use auth_core::{AdapterError, ErrorCode, ErrorKind, Operation};

use super::TablesAdapter;
use crate::{SqlxAdapter, SqlxAdapterBuilder};

/// The options (builder) of an adapter on the adapter-sqlx tables, as the shared checks
/// drive them: each SQL crate forwards to its builder's own methods of the same names.
///
/// ```
/// use std::time::Duration;
/// use adapter_sqlx::conformance::TablesAdapterOptions;
/// use adapter_sqlx::SqlxAdapter;
///
/// fn small<O: TablesAdapterOptions>(options: O) -> O {
///     options.max_connections(1).call_timeout(Duration::from_secs(1))
/// }
/// let _ = small(SqlxAdapter::builder("sqlite::memory:"));
/// ```
pub trait TablesAdapterOptions: Sized {
    /// The adapter these options open.
    type Adapter: TablesAdapter + Debug;
    /// The most connections the adapter's pool opens.
    fn max_connections(self, max: u32) -> Self;
    /// The connections the adapter's pool keeps open.
    fn min_connections(self, min: u32) -> Self;
    /// How long one call may take.
    fn call_timeout(self, timeout: Duration) -> Self;
    /// Opens the adapter.
    fn connect(self) -> impl Future<Output = Result<Self::Adapter, AdapterError>>;
}

impl TablesAdapterOptions for SqlxAdapterBuilder {
    type Adapter = SqlxAdapter;
    fn max_connections(self, max: u32) -> Self {
        SqlxAdapterBuilder::max_connections(self, max)
    }
    fn min_connections(self, min: u32) -> Self {
        SqlxAdapterBuilder::min_connections(self, min)
    }
    fn call_timeout(self, timeout: Duration) -> Self {
        SqlxAdapterBuilder::call_timeout(self, timeout)
    }
    fn connect(self) -> impl Future<Output = Result<SqlxAdapter, AdapterError>> {
        SqlxAdapterBuilder::connect(self)
    }
}

/// Every cause of `err` (not `err` itself), outermost first, each followed by ` / `.
///
/// ```
/// use adapter_sqlx::conformance::causes;
/// use auth_core::{AdapterError, Operation};
///
/// let io = std::io::Error::other("connection refused");
/// let err = AdapterError::connection(Operation::Connect, io);
/// assert!(causes(&err).ends_with("connection refused / "));
/// ```
pub fn causes(err: &dyn Error) -> String {
    let mut out = String::new();
    let mut next = err.source();
    while let Some(cause) = next {
        out.push_str(&format!("{cause} / "));
        next = cause.source();
    }
    out
}

/// The driver's own message: the innermost cause of its error (the error itself when it
/// has no cause).
///
/// ```
/// use adapter_sqlx::conformance::innermost;
///
/// let err = std::io::Error::other("port out of range");
/// assert_eq!(innermost(&err), "port out of range");
/// ```
pub fn innermost(err: &(dyn Error + 'static)) -> String {
    let mut last = err;
    while let Some(next) = last.source() {
        last = next;
    }
    last.to_string()
}

/// Opens the adapter of `options`, the future boxed: some drivers' connect futures are
/// large, and the checks nest them in a test's own future.
async fn connect<O: TablesAdapterOptions>(options: O) -> Result<O::Adapter, AdapterError> {
    Box::pin(options.connect()).await
}

/// Checks that `connect` refuses `options` (options that cannot work) as `InvalidInput`
/// with connect's code, at once (no I/O), and that the driver's message, when there is
/// one, is in the error's chain exactly once. `what` names the case in a failure.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use adapter_sqlx::conformance::refused_as_invalid;
/// use adapter_sqlx::SqlxAdapter;
///
/// let bad_prefix = SqlxAdapter::builder("sqlite::memory:").table_prefix("x; DROP TABLE y");
/// refused_as_invalid("a bad prefix", bad_prefix, None).await;
/// # });
/// ```
pub async fn refused_as_invalid(
    what: &str,
    options: impl TablesAdapterOptions,
    driver: Option<String>,
) {
    let started = Instant::now();
    let err = connect(options).await.expect_err(what);
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_millis(500),
        "{what}: took {elapsed:?}"
    );
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{what}: {err:?}");
    assert_eq!(err.code(), Operation::Connect.code(), "{what}: {err:?}");
    if let Some(message) = driver {
        let chain = format!("{err} / {}", causes(&err));
        assert_eq!(
            chain.matches(&message).count(),
            1,
            "{what}: {message:?} in {chain}"
        );
    }
}

/// Checks that the pool options of an adopted pool are refused: the application sizes the
/// pool it passed. `adopted()` is the options on the application's pool; with
/// `max_connections(4)` they are refused as by [`refused_as_invalid`], with
/// `min_connections(1)` with a pointer to the pool passed.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use adapter_sqlx::conformance::adopted_pool_options_are_refused;
/// use adapter_sqlx::{sqlx::SqlitePool, SqlxAdapter};
///
/// let pool = SqlitePool::connect_lazy("sqlite::memory:").unwrap();
/// adopted_pool_options_are_refused(|| SqlxAdapter::from_pool(pool.clone())).await;
/// # });
/// ```
pub async fn adopted_pool_options_are_refused<O: TablesAdapterOptions>(adopted: impl Fn() -> O) {
    refused_as_invalid(
        "max_connections with an adopted pool",
        adopted().max_connections(4),
        None,
    )
    .await;
    let err = connect(adopted().min_connections(1))
        .await
        .expect_err("min_connections with an adopted pool");
    assert!(
        err.to_string().contains("configure the pool you passed"),
        "{err}"
    );
}

/// Checks that `options` on `url`, where nothing listens, fail to connect `within` the
/// given time with ADAPTER_CONNECTION_ERROR, kind `Connection`, and the driver's "refused"
/// among the causes; returns the error for the caller's own checks.
///
/// ```no_run
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use std::time::Duration;
/// use adapter_sqlx::conformance::refused_at_once;
/// use adapter_sqlx::SqlxAdapter;
///
/// let url = "postgres://postgres@127.0.0.1:9/postgres";
/// let err = refused_at_once(url, Duration::from_secs(2), SqlxAdapter::builder(url)).await;
/// assert!(!err.to_string().contains("refused"));
/// # });
/// ```
pub async fn refused_at_once(
    url: &str,
    within: Duration,
    options: impl TablesAdapterOptions,
) -> AdapterError {
    let started = Instant::now();
    let err = connect(options).await.expect_err("nothing listens there");
    let elapsed = started.elapsed();
    assert!(elapsed < within, "{url}: took {elapsed:?}");
    assert_eq!(
        err.code(),
        ErrorCode::AdapterConnectionError,
        "{url}: {err:?}"
    );
    assert_eq!(err.kind(), ErrorKind::Connection, "{url}: {err:?}");
    let chain = causes(&err).to_lowercase();
    assert!(
        chain.contains("refused"),
        "{url}: the cause is kept: {chain}"
    );
    err
}

/// The call timeout of the adapter in [`recovers_after_an_outage`].
const OUTAGE_CALL_TIMEOUT: Duration = Duration::from_secs(2);

/// Runs the shared [`outage_drill`] on a throwaway PostgreSQL cluster: with the server
/// stopped, calls fail with ADAPTER_CONNECTION_ERROR within the call timeout, and the same
/// adapter works again once the server is back. `options(url)` are the adapter's options on
/// the cluster; the check opens it with four connections and a two-second call timeout,
/// migrates, and closes it after. Without the PostgreSQL binaries the drill is skipped
/// with a loud line naming `test`, or fails when `AUTH_CONFORMANCE_REQUIRE` is set.
///
/// ```no_run
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use adapter_sqlx::conformance::recovers_after_an_outage;
/// use adapter_sqlx::SqlxAdapter;
///
/// recovers_after_an_outage("adapter-sqlx recovery test", SqlxAdapter::builder).await;
/// # });
/// ```
pub async fn recovers_after_an_outage<O: TablesAdapterOptions>(
    test: &str,
    options: impl FnOnce(String) -> O,
) {
    let Some(cluster) = PgCluster::start_for(test) else {
        return;
    };
    let options = options(cluster.url())
        .max_connections(4)
        .call_timeout(OUTAGE_CALL_TIMEOUT);
    let adapter = connect(options)
        .await
        .expect("connect to the fresh cluster");
    adapter.migrate().await.expect("migrate");
    outage_drill(&adapter, &cluster, OUTAGE_CALL_TIMEOUT).await;
    adapter.close().await;
}
