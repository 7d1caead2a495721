//! What a run is made of and what it concludes: the named [`Trial`], its [`Failed`]
//! message, the [`Outcome`] of one trial and the [`Conclusion`] of a run.

use std::fmt;
use std::process::ExitCode;

/// The exit code of a run with a failed test, and of a command line libtest refuses.
pub(super) const ERROR_EXIT_CODE: u8 = 101;

/// Why a trial failed: an optional message, printed under the trial's name after the run.
#[derive(Debug, Clone)]
pub(crate) struct Failed {
    /// What went wrong, when the trial said.
    pub(super) message: Option<String>,
}

impl Failed {
    /// A failure with nothing to say.
    #[cfg(test)]
    pub fn without_message() -> Self {
        Self { message: None }
    }

    /// The failure's message, if it has one.
    #[cfg(test)]
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }
}

/// Any displayable value is a failure's message (`Err("…".into())`, `Err(e.into())`).
impl<M: fmt::Display> From<M> for Failed {
    fn from(message: M) -> Self {
        Self {
            message: Some(message.to_string()),
        }
    }
}

/// What a trial runs.
pub(super) type Runner = Box<dyn FnOnce() -> Result<(), Failed> + Send>;

/// One named test: run unless it is marked ignored (and the command line does not ask
/// for ignored tests), or filtered out.
pub(crate) struct Trial {
    /// The name printed, listed and matched against filters.
    pub(super) name: String,
    /// Marked ignored: not run unless `--ignored` or `--include-ignored`.
    pub(super) ignored: bool,
    /// The test itself: `Ok` passes, `Err` or a panic fails.
    pub(super) runner: Runner,
}

impl Trial {
    /// A test called `name` that runs `run`: `Ok(())` passes; an `Err` or a panic fails.
    pub fn test(
        name: impl Into<String>,
        run: impl FnOnce() -> Result<(), Failed> + Send + 'static,
    ) -> Self {
        Self {
            name: name.into(),
            ignored: false,
            runner: Box::new(run),
        }
    }

    /// Marks the trial ignored (or not).
    pub fn with_ignored_flag(self, ignored: bool) -> Self {
        Self { ignored, ..self }
    }

    /// The trial's name.
    #[cfg(test)]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the trial is marked ignored.
    #[cfg(test)]
    pub fn has_ignored_flag(&self) -> bool {
        self.ignored
    }
}

impl fmt::Debug for Trial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Trial")
            .field("name", &self.name)
            .field("ignored", &self.ignored)
            .field("runner", &format_args!("<runner>"))
            .finish()
    }
}

/// The counts of a run (all 0 after `--list`).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
#[must_use = "the exit code says whether a test failed"]
pub(crate) struct Conclusion {
    /// Trials left out by a filter, a `--skip`, `--ignored` (the ones not marked ignored)
    /// or `--bench`.
    pub num_filtered_out: u64,
    /// Trials that passed.
    pub num_passed: u64,
    /// Trials that failed (an `Err` or a panic).
    pub num_failed: u64,
    /// Trials marked ignored and not run.
    pub num_ignored: u64,
}

impl Conclusion {
    /// 0 when no trial failed, 101 otherwise, as libtest.
    pub fn exit_code(&self) -> ExitCode {
        if self.has_failed() {
            ExitCode::from(ERROR_EXIT_CODE)
        } else {
            ExitCode::SUCCESS
        }
    }

    /// Whether a trial failed.
    pub fn has_failed(&self) -> bool {
        self.num_failed > 0
    }
}

/// How a trial ended.
#[derive(Debug)]
pub(super) enum Outcome {
    /// It returned `Ok`.
    Passed,
    /// It returned `Err` or panicked.
    Failed(Option<String>),
    /// It is marked ignored and was not run.
    Ignored,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_takes_any_message_and_trial_debugs() {
        assert_eq!(Failed::from("a").message(), Some("a"));
        assert_eq!(Failed::from(String::from("b")).message(), Some("b"));
        assert_eq!(Failed::from(42).message(), Some("42"));
        assert_eq!(Failed::without_message().message(), None);
        let trial = Trial::test("x::y", || Ok(())).with_ignored_flag(true);
        assert_eq!(trial.name(), "x::y");
        assert!(trial.has_ignored_flag());
        let debug = format!("{trial:?}");
        assert!(
            debug.contains("x::y") && debug.contains("<runner>"),
            "{debug}"
        );
    }
}
