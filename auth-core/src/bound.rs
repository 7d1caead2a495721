//! The call bound: the most one adapter call may take, written once for every adapter.
//!
//! Past its limit a call's future is dropped (and with it whatever connection it held:
//! each adapter discards a connection cut off mid-call) and the call fails with
//! ADAPTER_CONNECTION_ERROR ([`AdapterError::timed_out`]), whatever the server does.
//!
//! ```
//! use std::time::Duration;
//! use auth_core::{bound, ErrorCode, Operation};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let quick = bound::within(Operation::GetUser, Duration::from_secs(1), async { Ok(7) }).await;
//! assert_eq!(quick.ok(), Some(7));
//!
//! let stuck = bound::within(Operation::GetUser, Duration::from_millis(10), async {
//!     std::future::pending::<auth_core::AdapterResult<()>>().await
//! })
//! .await;
//! assert_eq!(stuck.map_err(|e| e.code()), Err(ErrorCode::AdapterConnectionError));
//! # }
//! ```

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use crate::{AdapterError, AdapterResult, Operation};

/// Runs `call` for `op` within `limit`; past it, fails with ADAPTER_CONNECTION_ERROR.
///
/// ```
/// use std::time::Duration;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let done = auth_core::bound::within(auth_core::Operation::Connect, Duration::from_secs(1), async {
///     Ok("connected")
/// })
/// .await;
/// assert_eq!(done.ok(), Some("connected"));
/// # }
/// ```
pub async fn within<T>(
    op: Operation,
    limit: Duration,
    call: impl Future<Output = AdapterResult<T>>,
) -> AdapterResult<T> {
    until(op, Instant::now() + limit, limit, call).await
}

/// Runs `call` for `op` until `deadline`, for a call made of several attempts that share
/// one bound (`limit` is the whole bound, for the error message).
///
/// ```
/// use std::time::Duration;
/// use auth_core::{bound, Operation};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let limit = Duration::from_secs(1);
/// let deadline = tokio::time::Instant::now() + limit;
/// let first = bound::until(Operation::GetUser, deadline, limit, async { Ok(1) }).await;
/// let retry = bound::until(Operation::GetUser, deadline, limit, async { Ok(2) }).await;
/// assert_eq!((first.ok(), retry.ok()), (Some(1), Some(2)));
/// # }
/// ```
pub async fn until<T>(
    op: Operation,
    deadline: Instant,
    limit: Duration,
    call: impl Future<Output = AdapterResult<T>>,
) -> AdapterResult<T> {
    match tokio::time::timeout_at(deadline, call).await {
        Ok(result) => result,
        Err(_) => Err(AdapterError::timed_out(op, limit)),
    }
}
