//! What a run prints, in libtest's pretty or terse format: the listing, the progress
//! lines, the failures and the summary.

use std::fmt;
use std::io::Write;
use std::time::Duration;

use super::trial::{Conclusion, Outcome, Trial};

/// How many one-character results the terse format puts on a line before a progress count.
const TERSE_COLUMNS: usize = 88;

/// An ANSI color of libtest's output.
#[derive(Debug, Clone, Copy)]
enum Paint {
    /// `ok`, `.`
    Green,
    /// `FAILED`, `F`
    Red,
    /// `ignored`, `i`
    Yellow,
}

/// Everything the run prints, in libtest's pretty or terse format. Each piece is written
/// in one call (one line is not split by a test's own output) and flushed; a write error
/// (a closed stdout) is ignored, as there is nowhere else to say it.
pub(super) struct Printer<'a> {
    /// Where it goes: stdout, or a buffer in tests.
    out: &'a mut dyn Write,
    /// ANSI colors on `ok`, `FAILED`, `ignored`.
    color: bool,
    /// One character per trial instead of one line.
    terse: bool,
    /// One trial at a time: `test NAME ... ` is printed when it starts, as libtest does.
    pub(super) sequential: bool,
    /// The trial whose `test NAME ... ` is printed and waits for its outcome.
    open: Option<usize>,
    /// How many trials the run has, for the terse progress count.
    total: usize,
    /// How many outcomes are printed so far.
    done: usize,
}

impl fmt::Debug for Printer<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Printer")
            .field("color", &self.color)
            .field("terse", &self.terse)
            .field("sequential", &self.sequential)
            .finish_non_exhaustive()
    }
}

impl<'a> Printer<'a> {
    /// A printer to `out`.
    pub(super) fn new(out: &'a mut dyn Write, color: bool, terse: bool) -> Self {
        Self {
            out,
            color,
            terse,
            sequential: false,
            open: None,
            total: 0,
            done: 0,
        }
    }

    /// Writes `text` at once, then flushes.
    fn put(&mut self, text: &str) {
        let _ = self.out.write_all(text.as_bytes());
        let _ = self.out.flush();
    }

    /// `word` in `paint`, when coloring.
    fn paint(&self, word: &str, paint: Paint) -> String {
        if !self.color {
            return word.to_owned();
        }
        let code = match paint {
            Paint::Green => 32,
            Paint::Red => 31,
            Paint::Yellow => 33,
        };
        format!("\x1b[{code}m{word}\x1b[0m")
    }

    /// `--list`: `NAME: test` per trial; the pretty format adds the count.
    pub(super) fn list(&mut self, trials: &[Trial]) {
        let mut text: String = trials
            .iter()
            .map(|t| format!("{}: test\n", t.name))
            .collect();
        if !self.terse {
            if !trials.is_empty() {
                text.push('\n');
            }
            text.push_str(&format!("{}, 0 benchmarks\n", plural(trials.len(), "test")));
        }
        self.put(&text);
    }

    /// `running N tests`.
    pub(super) fn start(&mut self, total: usize) {
        self.total = total;
        self.put(&format!("\nrunning {}\n", plural(total, "test")));
    }

    /// A trial started: one at a time, its `test NAME ... ` now.
    pub(super) fn started(&mut self, index: usize, name: &str) {
        if self.sequential && !self.terse {
            self.open = Some(index);
            self.put(&format!("test {name} ... "));
        }
    }

    /// A trial still running after `after`.
    pub(super) fn slow(&mut self, name: &str, after: Duration) {
        self.put(&format!(
            "test {name} has been running for over {} seconds\n",
            after.as_secs()
        ));
    }

    /// A trial's outcome: `test NAME ... ok` (the name unless already printed), or one
    /// character in the terse format.
    pub(super) fn finished(&mut self, index: usize, name: &str, outcome: &Outcome) {
        let text = if self.terse {
            let mut text = match outcome {
                Outcome::Passed => self.paint(".", Paint::Green),
                Outcome::Failed(_) => self.paint("F", Paint::Red),
                Outcome::Ignored => self.paint("i", Paint::Yellow),
            };
            if self.done % TERSE_COLUMNS == TERSE_COLUMNS - 1 {
                text.push_str(&format!(" {}/{}\n", self.done + 1, self.total));
            }
            text
        } else {
            let word = match outcome {
                Outcome::Passed => self.paint("ok", Paint::Green),
                Outcome::Failed(_) => self.paint("FAILED", Paint::Red),
                Outcome::Ignored => self.paint("ignored", Paint::Yellow),
            };
            if self.open.take() == Some(index) {
                format!("{word}\n")
            } else {
                format!("test {name} ... {word}\n")
            }
        };
        self.done += 1;
        self.put(&text);
    }

    /// The `failures:` section: each message under `---- NAME stdout ----` (in the order
    /// the trials failed), then the sorted names.
    pub(super) fn failures(&mut self, names: &[String], failures: &[(usize, Option<String>)]) {
        let mut text = String::from("\nfailures:\n");
        let mut messages = String::new();
        for (index, message) in failures {
            let Some(message) = message.as_deref().filter(|m| !m.is_empty()) else {
                continue;
            };
            messages.push_str(&format!("---- {} stdout ----\n{message}", names[*index]));
            if !message.ends_with('\n') {
                messages.push('\n');
            }
            messages.push('\n');
        }
        if !messages.is_empty() {
            text.push('\n');
            text.push_str(&messages);
        }
        text.push_str("\nfailures:\n");
        let mut failed: Vec<&str> = failures.iter().map(|(i, _)| names[*i].as_str()).collect();
        failed.sort_unstable();
        for name in failed {
            text.push_str(&format!("    {name}\n"));
        }
        self.put(&text);
    }

    /// `test result: ok. P passed; F failed; I ignored; 0 measured; X filtered out; finished
    /// in 1.23s`.
    pub(super) fn summary(&mut self, conclusion: &Conclusion, elapsed: Duration) {
        let result = if conclusion.has_failed() {
            self.paint("FAILED", Paint::Red)
        } else {
            self.paint("ok", Paint::Green)
        };
        self.put(&format!(
            "\ntest result: {result}. {} passed; {} failed; {} ignored; 0 measured; \
             {} filtered out; finished in {:.2}s\n\n",
            conclusion.num_passed,
            conclusion.num_failed,
            conclusion.num_ignored,
            conclusion.num_filtered_out,
            elapsed.as_secs_f64()
        ));
    }
}

/// `1 test`, `2 tests`.
fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}
