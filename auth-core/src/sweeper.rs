//! [`spawn_sweeper`]: removes expired sessions and verification tokens on a schedule, for
//! stores that do not expire records by themselves (SQL, the in-memory adapter).

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use crate::adapter::Adapter;

/// The running sweeper task; [`stop`](Self::stop) it, or drop the handle to stop it too.
#[derive(Debug)]
pub struct SweeperHandle {
    task: tokio::task::JoinHandle<()>,
}

impl SweeperHandle {
    /// Stops the sweeper and waits until it has stopped (a sweep under way is cancelled;
    /// each sweep is one `delete_expired` call, all or nothing per table).
    pub async fn stop(mut self) {
        self.task.abort();
        let _ = (&mut self.task).await;
    }

    /// Whether the task has ended (it only ends when stopped or when its runtime shuts down).
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }
}

impl Drop for SweeperHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Calls [`Adapter::delete_expired`] every `every` (the first sweep right away) on a tokio
/// task, like tower-sessions' `continuously_delete_expired`. A failed sweep is logged at
/// `warn` and retried at the next tick; the task never ends by itself.
///
/// Must be called inside a tokio runtime.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use auth_core::{memory::MemoryAdapter, spawn_sweeper, Adapter};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let db: Arc<dyn Adapter> = Arc::new(MemoryAdapter::new());
/// let sweeper = spawn_sweeper(db.clone(), Duration::from_secs(300));
/// // … serve requests …
/// sweeper.stop().await;
/// # });
/// ```
pub fn spawn_sweeper(adapter: Arc<dyn Adapter>, every: Duration) -> SweeperHandle {
    let every = every.max(Duration::from_millis(1));
    let task = tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match adapter.delete_expired(Utc::now()).await {
                Ok(counts) => tracing::debug!(
                    sessions = counts.sessions,
                    verification_tokens = counts.verification_tokens,
                    "swept expired records"
                ),
                Err(err) => tracing::warn!(error = %err, "sweeping expired records failed"),
            }
        }
    });
    SweeperHandle { task }
}

#[cfg(all(test, feature = "memory"))]
mod tests {
    use super::*;
    use crate::memory::MemoryAdapter;
    use crate::{Session, User};

    #[tokio::test(start_paused = true)]
    async fn sweeps_on_every_tick_until_stopped() {
        let memory = MemoryAdapter::new();
        let db: Arc<dyn Adapter> = Arc::new(memory.clone());
        db.create_user(User::with_id("u")).await.unwrap();
        let expired =
            Session::with_token("expired-1", "u", Utc::now() - chrono::Duration::seconds(1));
        db.create_session(expired).await.unwrap();
        let sweeper = spawn_sweeper(db.clone(), Duration::from_secs(60));
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert!(
            memory.snapshot().sessions.is_empty(),
            "first sweep runs at once"
        );
        let later =
            Session::with_token("expired-2", "u", Utc::now() - chrono::Duration::seconds(1));
        db.create_session(later).await.unwrap();
        tokio::time::sleep(Duration::from_secs(61)).await;
        assert!(
            memory.snapshot().sessions.is_empty(),
            "swept at the next tick"
        );
        sweeper.stop().await;
    }
}
