//! Where a call gets its connection: the adapter's own pool, whose checkout never touches
//! the network, or a pool the application shared with [`SqlxAdapter::from_pool`](crate::SqlxAdapter::from_pool).
//!
//! sqlx's pool pings a connection when it hands it out (`test_before_acquire`) and again
//! when it takes it back (always, in sqlx 0.9): three round trips for one statement. The
//! adapter's own pool ([deadpool](https://docs.rs/deadpool) over sqlx connections) instead
//! keeps connections healthy locally: a connection is marked busy while a call uses it, and
//! unmarked when the call ends without a connection-level error. A connection that comes
//! back still marked (its call was cancelled mid-statement, or the socket broke) is
//! discarded, never reused. A reused connection that turns out broken (the server restarted
//! while it sat idle) is retried once on a fresh one, so a restart costs no failed calls.

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use auth_core::{AdapterError, AdapterResult, ErrorKind, Operation};
use deadpool::managed::{self, Metrics, Object, PoolError, RecycleError, RecycleResult, Timeouts};
use futures::future::BoxFuture;
use sqlx::{ConnectOptions, Connection, Database};

use crate::error;

/// Runs once on every new connection (MySQL's strict mode).
pub(crate) type Setup<DB> =
    for<'c> fn(&'c mut <DB as Database>::Connection) -> BoxFuture<'c, Result<(), sqlx::Error>>;

/// A connection of the adapter's own pool.
pub(crate) struct Conn<DB: Database> {
    raw: DB::Connection,
    /// Set while a call uses the connection; still set when it comes back means the call
    /// did not finish cleanly, and the connection is discarded.
    busy: bool,
}

/// Opens and vets the connections of the adapter's own pool.
pub(crate) struct Manager<DB: Database> {
    options: <DB::Connection as Connection>::Options,
    setup: Option<Setup<DB>>,
}

impl<DB: Database> Manager<DB> {
    pub(crate) fn new(
        options: <DB::Connection as Connection>::Options,
        setup: Option<Setup<DB>>,
    ) -> Self {
        Self { options, setup }
    }
}

impl<DB: Database> Manager<DB> {
    /// Opens and sets up one connection.
    async fn open(&self) -> Result<Conn<DB>, sqlx::Error> {
        let mut raw = self.options.connect().await?;
        if let Some(setup) = self.setup {
            setup(&mut raw).await?;
        }
        Ok(Conn { raw, busy: false })
    }
}

impl<DB: Database> managed::Manager for Manager<DB> {
    type Type = Conn<DB>;
    type Error = sqlx::Error;

    async fn create(&self) -> Result<Conn<DB>, sqlx::Error> {
        // Boxed: connecting is rare and its future is large (the TLS and authentication
        // exchanges). Inline, it would be part of the future of every call, which is built
        // and moved on every call: 18 KB copied per call before this box, most of the
        // adapter's own CPU time on the hot path.
        Box::pin(self.open()).await
    }

    async fn recycle(&self, conn: &mut Conn<DB>, _: &Metrics) -> RecycleResult<sqlx::Error> {
        // Local only: no ping. A connection whose last call did not end cleanly goes.
        if conn.busy {
            Err(RecycleError::message(
                "the connection's last call did not finish cleanly",
            ))
        } else {
            Ok(())
        }
    }
}

/// The adapter's own pool.
pub(crate) type OwnPool<DB> = managed::Pool<Manager<DB>>;

/// The timeouts of [`Source::lease_in_call`]: none, as the call's own timeout bounds the
/// wait, the connecting and the statement together.
const IN_CALL: Timeouts = Timeouts {
    wait: None,
    create: None,
    recycle: None,
};

/// Builds the adapter's own pool: `max` connections, `timeout` to get one (waiting and
/// connecting included).
pub(crate) fn own_pool<DB: Database>(
    manager: Manager<DB>,
    max: u32,
    timeout: Duration,
) -> Result<OwnPool<DB>, AdapterError> {
    managed::Pool::builder(manager)
        .max_size(usize::try_from(max).unwrap_or(usize::MAX).max(1))
        .wait_timeout(Some(timeout))
        .create_timeout(Some(timeout))
        .runtime(deadpool::Runtime::Tokio1)
        // The connection that came back last goes out first: with few callers the same
        // connection (and the same server process, its caches warm) serves call after call,
        // instead of the calls rotating over every connection of the pool.
        .queue_mode(managed::QueueMode::Lifo)
        .build()
        .map_err(|e| AdapterError::backend(Operation::Connect, e.to_string()))
}

/// Where an adapter's calls get their connections.
pub(crate) enum Source<DB: Database> {
    /// The adapter's own pool; `keep_alive` holds what must live as long as the adapter (the
    /// connection that keeps an in-memory SQLite database alive).
    Own {
        pool: OwnPool<DB>,
        keep_alive: Option<Arc<dyn Any + Send + Sync>>,
    },
    /// A pool the application shared, used as it is configured.
    Shared(sqlx::Pool<DB>),
}

impl<DB: Database> Clone for Source<DB> {
    fn clone(&self) -> Self {
        match self {
            Self::Own { pool, keep_alive } => Self::Own {
                pool: pool.clone(),
                keep_alive: keep_alive.clone(),
            },
            Self::Shared(pool) => Self::Shared(pool.clone()),
        }
    }
}

impl<DB: Database> Source<DB> {
    /// A connection, waiting for one at most the pool's timeout.
    pub(crate) async fn lease(&self, op: Operation) -> AdapterResult<Lease<DB>> {
        self.lease_with(op, None).await
    }

    /// A connection for a call that bounds its whole run itself ([`with_conn!`]): the wait
    /// for a free connection gets no timer of its own, one timer per call instead of two.
    pub(crate) async fn lease_in_call(&self, op: Operation) -> AdapterResult<Lease<DB>> {
        self.lease_with(op, Some(&IN_CALL)).await
    }

    async fn lease_with(
        &self,
        op: Operation,
        timeouts: Option<&Timeouts>,
    ) -> AdapterResult<Lease<DB>> {
        match self {
            Self::Own { pool, .. } => match timeouts {
                Some(timeouts) => pool.timeout_get(timeouts).await,
                None => pool.get().await,
            }
            .map(Lease::Own)
            .map_err(|e| pool_error(op, e)),
            // Boxed for the same reason as `Manager::create`: sqlx's acquire future holds
            // its connect future.
            Self::Shared(pool) => Box::pin(pool.acquire())
                .await
                .map(Lease::Shared)
                .map_err(|e| error::map_connect(op, e)),
        }
    }

    /// Connections open, and of those idle.
    pub(crate) fn sizes(&self) -> (usize, usize) {
        match self {
            Self::Own { pool, .. } => {
                let status = pool.status();
                (status.size, status.available)
            }
            Self::Shared(pool) => (pool.size() as usize, pool.num_idle()),
        }
    }

    /// Closes the pool: calls afterwards fail with ADAPTER_CONNECTION_ERROR.
    pub(crate) async fn close(&self) {
        match self {
            Self::Own { pool, .. } => pool.close(),
            Self::Shared(pool) => pool.close().await,
        }
    }
}

fn pool_error(op: Operation, err: PoolError<sqlx::Error>) -> AdapterError {
    match err {
        PoolError::Backend(e) => error::map_connect(op, e),
        PoolError::Timeout(_) => AdapterError::connection(
            op,
            std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "no connection to the database within the call timeout",
            ),
        ),
        PoolError::Closed => AdapterError::connection(
            op,
            std::io::Error::new(std::io::ErrorKind::NotConnected, "the adapter was closed"),
        ),
        other => AdapterError::new(op, ErrorKind::Backend, other.to_string()),
    }
}

/// One call's connection.
pub(crate) enum Lease<DB: Database> {
    /// From the adapter's own pool.
    Own(Object<Manager<DB>>),
    /// From the application's sqlx pool.
    Shared(sqlx::pool::PoolConnection<DB>),
}

impl<DB: Database> Lease<DB> {
    /// The connection, marked busy until [`settle`](Self::settle).
    pub(crate) fn conn(&mut self) -> &mut DB::Connection {
        match self {
            Self::Own(conn) => {
                conn.busy = true;
                &mut conn.raw
            }
            Self::Shared(conn) => conn,
        }
    }

    /// Whether the connection served a call before: a broken one may be worth a retry.
    pub(crate) fn reused(&self) -> bool {
        match self {
            Self::Own(conn) => Object::metrics(conn).recycle_count > 0,
            Self::Shared(_) => false,
        }
    }

    /// Ends the call: a connection whose call failed at the connection level stays marked
    /// and will be discarded.
    pub(crate) fn settle<T>(&mut self, result: &AdapterResult<T>) {
        if let Self::Own(conn) = self {
            conn.busy = matches!(result, Err(e) if e.kind() == ErrorKind::Connection);
        }
    }
}

/// Whether a call that failed this way on a reused connection may run again on a new one:
/// the connection broke (most likely while it sat idle, as when the server restarted).
pub(crate) fn worth_retry<T>(result: &AdapterResult<T>, reused: bool) -> bool {
    reused && matches!(result, Err(e) if e.kind() == ErrorKind::Connection)
}

/// Runs `$body` with `$conn: &mut <DB as Database>::Connection` bound to one connection of
/// the adapter and `$db` naming the database; the body evaluates to an `AdapterResult`.
/// The call (getting the connection and running the body, and the one retry of a broken
/// reused connection on a new one) is bounded by the adapter's call timeout, as a whole.
macro_rules! with_conn {
    ($adapter:expr, $op:expr, |$conn:ident: $db:ident| $body:expr) => {
        $crate::pool::with_pool!(&$adapter.pools, |source: $db| {
            // One deadline for the call, the retry on a new connection included.
            let deadline = ::tokio::time::Instant::now() + $adapter.call_timeout;
            let mut retried = false;
            loop {
                let attempt = async {
                    let mut lease = source.lease_in_call($op).await?;
                    let reused = lease.reused();
                    let result: ::auth_core::AdapterResult<_> = async {
                        let $conn = lease.conn();
                        $body
                    }
                    .await;
                    lease.settle(&result);
                    Ok::<_, ::auth_core::AdapterError>((result, reused))
                };
                let bounded =
                    ::auth_core::bound::until($op, deadline, $adapter.call_timeout, attempt);
                let (result, reused) = match bounded.await {
                    Ok(done) => done,
                    Err(err) => (Err(err), false),
                };
                if !retried && $crate::lease::worth_retry(&result, reused) {
                    retried = true;
                    continue;
                }
                break result;
            }
        })
    };
}
pub(crate) use with_conn;
