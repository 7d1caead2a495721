//! Latency benchmarks of the hot paths, run by the CLI's `bench` on a release build.
//!
//! Each operation runs `iterations` times one after another on one fixture; the report
//! gives the median, p95 and p99 of single calls and calls per second at the median.

use std::time::{Duration, Instant};

use auth_core::chrono::{Duration as Span, Utc};
use auth_core::{Session, User, VerificationToken};
use serde::Serialize;

use crate::fixture::{Backend, BoxError};
use crate::relay::Relay;

/// Latency of one operation.
#[derive(Debug, Clone, Serialize)]
pub struct BenchResult {
    /// Operation name.
    pub operation: &'static str,
    /// Calls measured.
    pub iterations: usize,
    /// Median latency in microseconds.
    pub median_us: f64,
    /// 95th percentile in microseconds.
    pub p95_us: f64,
    /// 99th percentile in microseconds.
    pub p99_us: f64,
    /// Round trips to the server per call, counted by a [`Relay`] on
    /// the way (`bench --round-trips`); `None` when not counted.
    pub round_trips: Option<f64>,
}

fn summarize(operation: &'static str, mut samples: Vec<Duration>) -> BenchResult {
    samples.sort();
    let at = |q: f64| -> f64 {
        let index = ((samples.len() as f64 - 1.0) * q).round() as usize;
        samples.get(index).map_or(0.0, |d| d.as_secs_f64() * 1e6)
    };
    BenchResult {
        operation,
        iterations: samples.len(),
        median_us: at(0.5),
        p95_us: at(0.95),
        p99_us: at(0.99),
        round_trips: None,
    }
}

/// Measures `get_session_and_user` (hit and miss), `create_session` and
/// `use_verification_token` on a fresh fixture of the backend.
///
/// With a `relay` between the adapter and its server, each operation's round trips per call
/// are counted too.
pub async fn run(
    backend: &dyn Backend,
    iterations: usize,
    relay: Option<&Relay>,
) -> Result<Vec<BenchResult>, BoxError> {
    let fixture = backend.fixture().await?;
    let outcome = measure(&fixture, iterations.max(1), relay).await;
    fixture.inspector.teardown().await?;
    outcome
}

/// Times `call` `iterations` times; with a relay, the round trips of the calls too.
async fn timed<F, Fut>(
    operation: &'static str,
    iterations: usize,
    relay: Option<&Relay>,
    mut call: F,
) -> Result<BenchResult, BoxError>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = Result<(), BoxError>>,
{
    let mut samples = Vec::with_capacity(iterations);
    if let Some(relay) = relay {
        relay.reset();
    }
    for i in 0..iterations {
        let started = Instant::now();
        call(i).await?;
        samples.push(started.elapsed());
    }
    let mut result = summarize(operation, samples);
    result.round_trips = relay.map(|r| r.round_trips() as f64 / iterations as f64);
    Ok(result)
}

async fn measure(
    fixture: &crate::Fixture,
    iterations: usize,
    relay: Option<&Relay>,
) -> Result<Vec<BenchResult>, BoxError> {
    let db = &fixture.adapter;
    let user = db
        .create_user(User::with_id("bench-user").with_email("bench@example.com"))
        .await?;
    let expires = Utc::now() + Span::days(1);
    db.create_session(Session::with_token("bench-session", &user.id, expires))
        .await?;
    // Warm up pools and statement caches before measuring.
    for _ in 0..iterations.min(50) {
        db.get_session_and_user("bench-session").await?;
    }

    let mut results = Vec::new();
    results.push(
        timed("get_session_and_user (hit)", iterations, relay, |_| async {
            match db.get_session_and_user("bench-session").await? {
                Some(_) => Ok(()),
                None => Err("the benchmark session vanished".into()),
            }
        })
        .await?,
    );
    results.push(
        timed(
            "get_session_and_user (miss)",
            iterations,
            relay,
            |_| async {
                db.get_session_and_user("no-such-session").await?;
                Ok(())
            },
        )
        .await?,
    );
    let user_id = user.id.as_str();
    results.push(
        timed("create_session", iterations, relay, |i| async move {
            let session = Session::with_token(format!("bench-new-{i}"), user_id, expires);
            db.create_session(session).await?;
            Ok(())
        })
        .await?,
    );
    for i in 0..iterations {
        db.create_verification_token(VerificationToken::new(
            "bench@example.com",
            format!("t{i}"),
            expires,
        ))
        .await?;
    }
    results.push(
        timed(
            "use_verification_token",
            iterations,
            relay,
            |i| async move {
                match db
                    .use_verification_token("bench@example.com", &format!("t{i}"))
                    .await?
                {
                    Some(_) => Ok(()),
                    None => Err("a benchmark token was not found".into()),
                }
            },
        )
        .await?,
    );
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_pick_the_right_samples() {
        let samples = (1..=100).map(Duration::from_micros).collect();
        let r = summarize("x", samples);
        assert_eq!(
            (r.median_us.round(), r.p95_us.round(), r.p99_us.round()),
            (51.0, 95.0, 99.0)
        );
    }
}
