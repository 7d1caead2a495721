//! The CLI's report: a table per backend and a summary for people, JSON or JUnit XML for
//! machines.

use serde::Serialize;

use adapter_conformance::Scenario;
use adapter_conformance::ScenarioResult;
use adapter_conformance::SCENARIOS;

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

    /// Scenarios counted as passed because they failed as documented gaps of the backend.
    pub fn gaps(&self) -> usize {
        self.results.iter().filter(|r| r.gap.is_some()).count()
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
                    out.push_str(&format!(
                        "{:<4} {:<52} {:<8} {:>6}ms\n",
                        r.number,
                        r.scenario,
                        r.verdict(),
                        r.millis
                    ));
                    if let Some(error) = r.error.as_ref().or(r.gap.as_ref()) {
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
    for report in reports {
        let line = match report.status {
            BackendStatus::Ran if report.gaps() > 0 => format!(
                "{} passed ({} of them documented gaps), {} failed",
                report.passed(),
                report.gaps(),
                report.failed()
            ),
            BackendStatus::Ran => format!("{} passed, {} failed", report.passed(), report.failed()),
            BackendStatus::Skipped => "skipped".to_owned(),
            BackendStatus::Error => "ERROR (required, not run)".to_owned(),
        };
        out.push_str(&format!("  {:<20} {line}\n", report.backend));
    }
    let summary = Summary::of(reports);
    out.push_str(&format!(
        "conformance: {} passed, {} failed, {} skipped\n",
        summary.passed,
        summary.failed,
        summary.skipped.len() + summary.errors.len()
    ));
    out
}

/// The totals of a run, as `check --json` prints them beside the backends' reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Whether the run succeeds (the CLI's exit status is 0).
    pub ok: bool,
    /// Scenario runs that passed, over every backend.
    pub passed: usize,
    /// Scenario runs that failed, over every backend.
    pub failed: usize,
    /// Of the passed runs, those that are documented gaps of their backend (they failed
    /// as documented).
    pub gaps: usize,
    /// Backends that ran.
    pub ran: Vec<String>,
    /// Backends skipped because they are not available here (and not required).
    pub skipped: Vec<String>,
    /// Backends required but missing, or that could not be opened.
    pub errors: Vec<String>,
}

impl Summary {
    /// Totals of these reports.
    ///
    /// ```
    /// use conformance_cli::report::{BackendReport, BackendStatus, Summary};
    /// let skipped = BackendReport {
    ///     backend: "redis".into(),
    ///     status: BackendStatus::Skipped,
    ///     reason: Some("no server".into()),
    ///     results: vec![],
    /// };
    /// let summary = Summary::of(&[skipped]);
    /// assert!(summary.ok);
    /// assert_eq!(summary.skipped, ["redis"]);
    /// ```
    pub fn of(reports: &[BackendReport]) -> Self {
        let names = |status: BackendStatus| -> Vec<String> {
            reports
                .iter()
                .filter(|r| r.status == status)
                .map(|r| r.backend.clone())
                .collect()
        };
        Self {
            ok: !reports.iter().any(BackendReport::is_failure),
            passed: reports.iter().map(BackendReport::passed).sum(),
            failed: reports.iter().map(BackendReport::failed).sum(),
            gaps: reports.iter().map(BackendReport::gaps).sum(),
            ran: names(BackendStatus::Ran),
            skipped: names(BackendStatus::Skipped),
            errors: names(BackendStatus::Error),
        }
    }
}

/// What `check --json` prints: every backend's report, then the totals.
#[derive(Debug, Clone, Serialize)]
pub struct JsonReport<'a> {
    /// One report per backend, in run order.
    pub backends: &'a [BackendReport],
    /// The totals.
    pub summary: Summary,
}

impl<'a> JsonReport<'a> {
    /// The report of these backends.
    pub fn new(backends: &'a [BackendReport]) -> Self {
        Self {
            backends,
            summary: Summary::of(backends),
        }
    }
}

/// JUnit XML for CI systems (`check --junit FILE`): a `<testsuite>` per backend, a
/// `<testcase>` per scenario; a backend that did not run lists each of `scenarios` as
/// `<skipped>` (or, when it was required, as an `<error>`) with the reason.
///
/// ```
/// use conformance_cli::report::{render_junit, BackendReport, BackendStatus};
/// let skipped = BackendReport {
///     backend: "redis".into(),
///     status: BackendStatus::Skipped,
///     reason: Some("no <server>".into()),
///     results: vec![],
/// };
/// let xml = render_junit(&[skipped], &adapter_conformance::SCENARIOS[..1]);
/// assert!(xml.contains(r#"<skipped message="no &lt;server&gt;"/>"#));
/// ```
pub fn render_junit(reports: &[BackendReport], scenarios: &[Scenario]) -> String {
    let summary = Summary::of(reports);
    let not_run: usize = reports
        .iter()
        .filter(|r| r.status != BackendStatus::Ran)
        .count()
        * scenarios.len();
    let errors = summary.errors.len() * scenarios.len();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<testsuites name=\"adapter-conformance\" tests=\"{}\" failures=\"{}\" errors=\"{errors}\" skipped=\"{}\">\n",
        summary.passed + summary.failed + not_run,
        summary.failed,
        not_run - errors,
    ));
    for report in reports {
        let seconds = |millis: u128| format!("{:.3}", millis as f64 / 1000.0);
        let suite_time: u128 = report.results.iter().map(|r| r.millis).sum();
        let (cases, failures, skipped, errors) = match report.status {
            BackendStatus::Ran => (report.results.len(), report.failed(), 0, 0),
            BackendStatus::Skipped => (scenarios.len(), 0, scenarios.len(), 0),
            BackendStatus::Error => (scenarios.len(), 0, 0, scenarios.len()),
        };
        out.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{cases}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\" time=\"{}\">\n",
            xml_escape(&report.backend),
            seconds(suite_time),
        ));
        let case = |name: &str, time: &str| {
            format!(
                "    <testcase classname=\"{}\" name=\"{}\" time=\"{time}\"",
                xml_escape(&report.backend),
                xml_escape(name)
            )
        };
        match report.status {
            BackendStatus::Ran => {
                for r in &report.results {
                    out.push_str(&case(r.scenario, &seconds(r.millis)));
                    match &r.error {
                        None if r.gap.is_some() => out.push_str(&format!(
                            ">\n      <system-out>documented gap: {}</system-out>\n    </testcase>\n",
                            xml_escape(r.gap.as_deref().unwrap_or_default())
                        )),
                        None => out.push_str("/>\n"),
                        Some(error) => out.push_str(&format!(
                            ">\n      <failure message=\"{}\">{}</failure>\n    </testcase>\n",
                            xml_escape(error.lines().next().unwrap_or_default()),
                            xml_escape(error)
                        )),
                    }
                }
            }
            BackendStatus::Skipped | BackendStatus::Error => {
                let reason = xml_escape(report.reason.as_deref().unwrap_or("not run"));
                let element = if report.status == BackendStatus::Skipped {
                    "skipped"
                } else {
                    "error"
                };
                for scenario in scenarios {
                    out.push_str(&case(scenario.name, "0.000"));
                    out.push_str(&format!(
                        ">\n      <{element} message=\"{reason}\"/>\n    </testcase>\n"
                    ));
                }
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// Text made safe for an XML attribute or element; characters XML 1.0 cannot hold at all
/// become U+FFFD.
fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\t' | '\r' => out.push(c),
            c if (c as u32) < 0x20 => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_escape_leaves_no_markup_and_no_control_characters() {
        assert_eq!(
            xml_escape("a<b>&\"c\" 'd'\u{0}"),
            "a&lt;b&gt;&amp;&quot;c&quot; &apos;d&apos;\u{FFFD}"
        );
    }
}
