//! Acceptance of contract v2: a run that provokes every duplicate-key path (scenario 30),
//! every refused input (38), races (32) and hostile strings (24), with every log at TRACE
//! level captured, leaves no token value in the logs. Runs on every backend the harness
//! finds (the embedded ones always; servers from their environment variables).

use std::io::Write;
use std::sync::{Arc, Mutex};

use adapter_conformance::harness::{self, Resolved};
use adapter_conformance::scenarios::S30_SECRETS;
use adapter_conformance::{run_scenario, scenario};
use conformance_cli::backends;

/// Every log line, in one buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn no_token_reaches_the_logs_at_trace_level() {
    let captured = Captured::default();
    let sink = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || sink.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let mut ran = Vec::new();
    runtime.block_on(async {
        for spec in backends::all() {
            let backend = match harness::resolve(&spec).await {
                Ok(Resolved::Ready(backend)) => backend,
                Ok(Resolved::Skipped(why)) if !harness::is_required(spec.name) => {
                    eprintln!("{why}");
                    continue;
                }
                Ok(Resolved::Skipped(why)) => panic!("{why}"),
                Err(e) => panic!("{}: {e}", spec.name),
            };
            for name in [
                "s30_secrets_never_printed",
                "s38_over_cap_inputs_are_refused_before_io",
                "s17_duplicates_conflict",
                "s24_hostile_strings_are_plain_data",
            ] {
                let s = scenario(name).expect("a scenario");
                let result = run_scenario(backend.as_ref(), s).await;
                assert!(result.passed(), "{}: {name}: {:?}", spec.name, result.error);
            }
            ran.push(spec.name);
        }
    });
    let logs =
        String::from_utf8_lossy(&captured.0.lock().unwrap_or_else(|p| p.into_inner())).into_owned();
    assert!(
        logs.contains("adapter") && logs.contains("failed"),
        "the run logged its failed calls: {} bytes of logs",
        logs.len()
    );
    for secret in S30_SECRETS {
        if let Some(at) = logs.find(secret) {
            let start = logs[..at].rfind('\n').map_or(0, |i| i + 1);
            let end = logs[at..].find('\n').map_or(logs.len(), |i| at + i);
            panic!("the logs carry {secret:?}: {}", &logs[start..end]);
        }
    }
    println!(
        "{} bytes of TRACE logs from {ran:?}: no token found",
        logs.len()
    );
}
