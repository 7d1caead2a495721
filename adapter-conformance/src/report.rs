//! The CLI's report: a table per backend, a summary, or JSON for machines.

use serde::Serialize;

use crate::runner::ScenarioResult;
use crate::SCENARIOS;

/// What happened on one backend.
#[derive(Debug, Clone, Serialize)]
pub struct BackendReport {
    /// Backend name.
    pub backend: String,
    /// `ran`, `skipped` or `error`.
    pub status: BackendStatus,
    /// Why it was skipped or could not run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// One entry per scenario that ran.
    pub results: Vec<ScenarioResult>,
}

/// Whether the backend ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendStatus {
    /// The scenarios ran.
    Ran,
    /// Not available here and not required.
    Skipped,
    /// Required but missing, or could not be opened.
    Error,
}

impl BackendReport {
    /// Scenarios that passed.
    pub fn passed(&self) -> usize {
        self.results.iter().filter(|r| r.passed()).count()
    }

    /// Scenarios that failed.
    pub fn failed(&self) -> usize {
        self.results.len() - self.passed()
    }

    /// Whether this backend makes the run fail.
    pub fn is_failure(&self) -> bool {
        self.status == BackendStatus::Error || self.failed() > 0
    }
}

fn title_of(name: &str) -> &'static str {
    SCENARIOS
        .iter()
        .find(|s| s.name == name)
        .map_or("", |s| s.title)
}

/// The human report: a table per backend, then a summary line per backend and a total.
pub fn render_text(reports: &[BackendReport]) -> String {
    let mut out = String::new();
    for report in reports {
        out.push_str(&format!("\n== {} ==\n", report.backend));
        match report.status {
            BackendStatus::Ran => {
                out.push_str(&format!(
                    "{:<4} {:<52} {:<8} {:>8}\n",
                    "#", "scenario", "result", "time"
                ));
                for r in &report.results {
                    let verdict = if r.passed() { "ok" } else { "FAILED" };
                    out.push_str(&format!(
                        "{:<4} {:<52} {:<8} {:>6}ms\n",
                        r.number, r.scenario, verdict, r.millis
                    ));
                    if let Some(error) = &r.error {
                        out.push_str(&format!(
                            "       {} — {}\n",
                            title_of(r.scenario),
                            error.replace('\n', "\n       ")
                        ));
                    }
                }
            }
            BackendStatus::Skipped | BackendStatus::Error => {
                out.push_str(report.reason.as_deref().unwrap_or("not run"));
                out.push('\n');
            }
        }
    }
    out.push_str("\nsummary:\n");
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    for report in reports {
        let line = match report.status {
            BackendStatus::Ran => format!("{} passed, {} failed", report.passed(), report.failed()),
            BackendStatus::Skipped => "skipped".to_owned(),
            BackendStatus::Error => "ERROR (required, not run)".to_owned(),
        };
        out.push_str(&format!("  {:<20} {line}\n", report.backend));
        passed += report.passed();
        failed += report.failed();
        if report.status != BackendStatus::Ran {
            skipped += 1;
        }
    }
    out.push_str(&format!(
        "conformance: {passed} passed, {failed} failed, {skipped} skipped\n"
    ));
    out
}
