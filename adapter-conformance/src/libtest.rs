//! A small stand-in for `libtest-mimic`, on std alone: libtest's command line, its
//! filtering, its output and its exit code for a `harness = false` test binary, so that
//! `cargo test` and `cargo nextest` drive the conformance suite as they drive any test
//! binary, without clap in this crate's dependency tree.
//!
//! The API is the part of libtest-mimic that [`crate::trials`] uses: [`Arguments`]
//! (parsed from the command line), [`Trial`] (a named test, maybe marked ignored),
//! [`Failed`], [`run`] and its [`Conclusion`].
//!
//! What libtest does that this does not:
//!
//! - capture a test's output (`--nocapture`, `--no-capture` and `--show-output` are accepted
//!   and change nothing: output always goes straight to the terminal, as with libtest-mimic);
//! - `--format json` and `--format junit` (libtest takes them on nightly only): refused;
//! - benchmarks: there are none, so `--bench` runs nothing (every trial counts as filtered
//!   out; libtest would report each test as ignored);
//! - `--logfile`, `--report-time`, `--ensure-time`, `--shuffle`, `--shuffle-seed`,
//!   `--force-run-in-process`, `--exclude-should-panic` and `-Z unstable-options` are accepted
//!   and ignored;
//! - an option given twice is taken (the last value wins) where libtest's getopts refuses it.

use std::any::Any;
use std::fmt;
use std::io::{self, IsTerminal, Write};
use std::num::NonZeroUsize;
use std::panic::{self, AssertUnwindSafe};
use std::process::ExitCode;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

/// The exit code of a run with a failed test, and of a command line libtest refuses.
const ERROR_EXIT_CODE: u8 = 101;

/// After how long a running test is reported as slow (libtest's `TEST_WARN_TIMEOUT_S`).
const WARN_AFTER: Duration = Duration::from_secs(60);

/// How many one-character results the terse format puts on a line before a progress count.
const TERSE_COLUMNS: usize = 88;

/// The `--color` setting.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ColorSetting {
    /// Color when stdout is a terminal and output is not `--nocapture` (libtest's rule).
    #[default]
    Auto,
    /// Always color.
    Always,
    /// Never color.
    Never,
}

/// The command line of a test binary, as libtest reads it.
///
/// [`Arguments::from_args`] reads the process's own; [`Arguments::from_iter`] any list
/// (its first element is the program, as in `argv`).
#[derive(Debug, Default, Clone)]
pub(crate) struct Arguments {
    /// `--list`: print the selected trials' names instead of running them.
    pub list: bool,
    /// `--ignored`: select only the trials marked ignored, and run them.
    pub ignored: bool,
    /// `--include-ignored`: run the trials marked ignored as well as the others.
    pub include_ignored: bool,
    /// `--exact`: a filter or `--skip` pattern must equal the whole name, not be part of it.
    pub exact: bool,
    /// The first positional argument: only trials whose name contains it (or, with
    /// `--exact`, equals it) are selected.
    pub filter: Option<String>,
    /// Any further positional arguments (libtest takes several): a trial is selected when
    /// it matches `filter` or any of these.
    pub extra_filters: Vec<String>,
    /// `--skip PATTERN`, repeatable: trials whose name contains (with `--exact`: equals)
    /// any of these are left out.
    pub skip: Vec<String>,
    /// `--nocapture` or `--no-capture`. Output is never captured; it only turns off
    /// `--color auto`, as in libtest.
    pub nocapture: bool,
    /// `--show-output`: accepted, changes nothing (output is never captured).
    pub show_output: bool,
    /// `--test-threads N`: how many trials run at once. `None`: `RUST_TEST_THREADS`, else
    /// the machine's available parallelism.
    pub test_threads: Option<usize>,
    /// `-q` / `--quiet` was given (already folded into `format_terse`).
    pub quiet: bool,
    /// One character per trial instead of one line (`--format terse`, or `-q` without a
    /// `--format`). [`run`] prints the terse format exactly when this is set.
    pub format_terse: bool,
    /// `--color auto|always|never`.
    pub color: ColorSetting,
    /// `--logfile PATH`: accepted and ignored.
    pub logfile: Option<String>,
    /// `--report-time`: accepted and ignored (the summary line always has the time).
    pub report_time: bool,
    /// `--bench`: run benchmarks; there are none, so nothing runs (unless `--test` too).
    pub bench: bool,
    /// `--test`: run tests (the default).
    pub test: bool,
    /// `-h` / `--help`: [`Arguments::from_args`] prints the usage and exits.
    pub help: bool,
}

impl Arguments {
    /// Parses the process's command line. On an argument libtest would refuse, prints
    /// `error: …` to stderr and exits with code 101, as libtest does; on `-h`/`--help`
    /// prints the usage and exits with code 0.
    pub fn from_args() -> Self {
        let mut args = Vec::new();
        for arg in std::env::args_os() {
            match arg.into_string() {
                Ok(arg) => args.push(arg),
                Err(arg) => refuse(&format!("argument {arg:?} is not valid Unicode")),
            }
        }
        let program = args.first().cloned().unwrap_or_default();
        match Self::from_iter(args) {
            Ok(parsed) if parsed.help => {
                let _ = io::stdout().write_all(usage(&program).as_bytes());
                std::process::exit(0)
            }
            Ok(parsed) => parsed,
            Err(message) => refuse(&message),
        }
    }

    /// Parses `args`, whose first element is the program (skipped), as libtest would; the
    /// error is the message libtest prints after `error: `.
    pub fn from_iter<I: IntoIterator<Item = String>>(args: I) -> Result<Self, String> {
        let mut parsed = Self::default();
        let mut format_terse = None;
        let mut free = Vec::new();
        let mut args = args.into_iter().skip(1);
        while let Some(arg) = args.next() {
            if arg == "--" {
                free.extend(args.by_ref());
                break;
            }
            if let Some(long) = arg.strip_prefix("--") {
                let (name, inline) = match long.split_once('=') {
                    Some((name, value)) => (name, Some(value.to_owned())),
                    None => (long, None),
                };
                parsed.long_option(name, inline, &mut args, &mut format_terse)?;
            } else if let Some(short) = arg.strip_prefix('-').filter(|rest| !rest.is_empty()) {
                parsed.short_options(short, &mut args)?;
            } else {
                free.push(arg);
            }
        }
        if parsed.ignored && parsed.include_ignored {
            return Err(
                "the options --include-ignored and --ignored are mutually exclusive".into(),
            );
        }
        parsed.format_terse = format_terse.unwrap_or(parsed.quiet);
        let mut free = free.into_iter();
        parsed.filter = free.next();
        parsed.extra_filters = free.collect();
        Ok(parsed)
    }

    /// One `--name` or `--name=value`; `rest` supplies a value given as the next argument.
    fn long_option(
        &mut self,
        name: &str,
        inline: Option<String>,
        rest: &mut impl Iterator<Item = String>,
        format_terse: &mut Option<bool>,
    ) -> Result<(), String> {
        const FLAGS: &[&str] = &[
            "include-ignored",
            "ignored",
            "test",
            "bench",
            "list",
            "nocapture",
            "no-capture",
            "show-output",
            "exact",
            "quiet",
            "help",
            "report-time",
            "ensure-time",
            "shuffle",
            "force-run-in-process",
            "exclude-should-panic",
        ];
        const OPTIONS: &[&str] = &[
            "logfile",
            "test-threads",
            "skip",
            "color",
            "format",
            "shuffle-seed",
        ];
        if FLAGS.contains(&name) {
            if inline.is_some() {
                return Err(format!("Option '{name}' does not take an argument"));
            }
            match name {
                "include-ignored" => self.include_ignored = true,
                "ignored" => self.ignored = true,
                "test" => self.test = true,
                "bench" => self.bench = true,
                "list" => self.list = true,
                "nocapture" | "no-capture" => self.nocapture = true,
                "show-output" => self.show_output = true,
                "exact" => self.exact = true,
                "quiet" => self.quiet = true,
                "help" => self.help = true,
                "report-time" => self.report_time = true,
                // Accepted for libtest's sake, with nothing to do here.
                _ => {}
            }
            return Ok(());
        }
        if !OPTIONS.contains(&name) {
            return Err(format!("Unrecognized option: '{name}'"));
        }
        let Some(value) = inline.or_else(|| rest.next()) else {
            return Err(format!("Argument to option '{name}' missing"));
        };
        match name {
            "logfile" => self.logfile = Some(value),
            "skip" => self.skip.push(value),
            "test-threads" => self.test_threads = Some(parse_threads(&value)?),
            "color" => {
                self.color = match value.as_str() {
                    "auto" => ColorSetting::Auto,
                    "always" => ColorSetting::Always,
                    "never" => ColorSetting::Never,
                    _ => {
                        return Err(format!(
                            "argument for --color must be auto, always, or never (was {value})"
                        ))
                    }
                }
            }
            "format" => {
                *format_terse = Some(match value.as_str() {
                    "pretty" => false,
                    "terse" => true,
                    "json" | "junit" => {
                        return Err(format!(
                            "the \"{value}\" format is not supported by this test binary \
                             (libtest has it on the nightly compiler only); use pretty or terse"
                        ))
                    }
                    _ => {
                        return Err(format!(
                            "argument for --format must be pretty, terse, json or junit \
                             (was {value})"
                        ))
                    }
                })
            }
            // --shuffle-seed: checked like libtest, then ignored.
            _ => {
                if let Err(e) = value.parse::<u64>() {
                    return Err(format!(
                        "argument for --{name} must be a number (error: {e})"
                    ));
                }
            }
        }
        Ok(())
    }

    /// The letters after one `-`: `q`, `h`, and `Z` with its value (the rest of the
    /// argument, or the next one).
    fn short_options(
        &mut self,
        letters: &str,
        rest: &mut impl Iterator<Item = String>,
    ) -> Result<(), String> {
        for (at, letter) in letters.char_indices() {
            match letter {
                'q' => self.quiet = true,
                'h' => self.help = true,
                'Z' => {
                    let attached = &letters[at + letter.len_utf8()..];
                    let value = if attached.is_empty() {
                        rest.next()
                            .ok_or_else(|| "Argument to option 'Z' missing".to_owned())?
                    } else {
                        attached.to_owned()
                    };
                    if value != "unstable-options" {
                        return Err(format!("Unrecognized option to `Z`: '{value}'"));
                    }
                    return Ok(());
                }
                other => return Err(format!("Unrecognized option: '{other}'")),
            }
        }
        Ok(())
    }

    /// Whether `name` matches `pattern`: contains it, or with `--exact` equals it.
    fn matches(&self, name: &str, pattern: &str) -> bool {
        if self.exact {
            name == pattern
        } else {
            name.contains(pattern)
        }
    }

    /// Whether `trial` is selected: it matches a filter (when there is one), no `--skip`
    /// pattern, and is marked ignored when `--ignored` asks for those only.
    fn selects(&self, trial: &Trial) -> bool {
        let mut filters = self.filter.iter().chain(&self.extra_filters).peekable();
        let filtered_in =
            filters.peek().is_none() || filters.any(|filter| self.matches(&trial.name, filter));
        filtered_in
            && !self.skip.iter().any(|skip| self.matches(&trial.name, skip))
            && (!self.ignored || trial.ignored)
    }

    /// Whether the trials marked ignored run (`--ignored` or `--include-ignored`).
    fn runs_ignored(&self) -> bool {
        self.ignored || self.include_ignored
    }
}

/// Parses a `--test-threads` value: a number above 0.
fn parse_threads(value: &str) -> Result<usize, String> {
    match value.parse::<usize>() {
        Ok(0) => Err("argument for --test-threads must not be 0".into()),
        Ok(threads) => Ok(threads),
        Err(e) => Err(format!(
            "argument for --test-threads must be a number > 0 (error: {e})"
        )),
    }
}

/// Prints `error: message` to stderr and exits with libtest's error code.
fn refuse(message: &str) -> ! {
    let _ = writeln!(io::stderr(), "error: {message}");
    std::process::exit(ERROR_EXIT_CODE.into())
}

/// The text `-h` / `--help` prints.
fn usage(program: &str) -> String {
    format!(
        "Usage: {program} [OPTIONS] [FILTERS...]

Runs the tests whose names contain a FILTER (all of them without one).

Options:
        --include-ignored   Run ignored and not ignored tests
        --ignored           Run only ignored tests
        --test              Run tests and not benchmarks
        --bench             Run benchmarks instead of tests (there are none)
        --list              List all tests and benchmarks
        --exact             Exactly match filters rather than by substring
        --skip FILTER       Skip tests whose names contain FILTER (repeatable)
        --test-threads n_threads
                            Number of threads used for running tests in parallel
                            (default: RUST_TEST_THREADS, else the available
                            parallelism)
    -q, --quiet             Display one character per test instead of one line;
                            alias of --format=terse
        --format pretty|terse
                            Configure formatting of output
        --color auto|always|never
                            Configure coloring of output
        --nocapture, --no-capture, --show-output
                            Accepted; output is never captured
        --logfile PATH, --report-time, -Z unstable-options
                            Accepted and ignored
    -h, --help              Display this message
"
    )
}

/// Why a trial failed: an optional message, printed under the trial's name after the run.
#[derive(Debug, Clone)]
pub(crate) struct Failed {
    /// What went wrong, when the trial said.
    message: Option<String>,
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
type Runner = Box<dyn FnOnce() -> Result<(), Failed> + Send>;

/// One named test: run unless it is marked ignored (and the command line does not ask
/// for ignored tests), or filtered out.
pub(crate) struct Trial {
    /// The name printed, listed and matched against filters.
    name: String,
    /// Marked ignored: not run unless `--ignored` or `--include-ignored`.
    ignored: bool,
    /// The test itself: `Ok` passes, `Err` or a panic fails.
    runner: Runner,
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

/// Lists (`--list`) or runs the trials `args` selects, printing to stdout as libtest does,
/// on up to `--test-threads` threads (else `RUST_TEST_THREADS`, else the available
/// parallelism), each trial on a thread of its own named after it.
pub(crate) fn run(args: &Arguments, trials: Vec<Trial>) -> Conclusion {
    let color = match args.color {
        ColorSetting::Always => true,
        ColorSetting::Never => false,
        ColorSetting::Auto => !args.nocapture && io::stdout().is_terminal(),
    };
    let threads = args
        .test_threads
        .or_else(threads_from_env)
        .or_else(|| thread::available_parallelism().ok().map(NonZeroUsize::get))
        .unwrap_or(1);
    let mut stdout = io::stdout();
    let mut printer = Printer::new(&mut stdout, color, args.format_terse);
    run_on(args, trials, &mut printer, threads, WARN_AFTER)
}

/// `RUST_TEST_THREADS`, when it is set to a number above 0 (libtest panics on anything
/// else; this says so and goes on without it).
fn threads_from_env() -> Option<usize> {
    let value = std::env::var("RUST_TEST_THREADS").ok()?;
    match value.trim().parse::<usize>() {
        Ok(threads) if threads > 0 => Some(threads),
        _ => {
            let _ = writeln!(
                io::stderr(),
                "warning: RUST_TEST_THREADS is `{value}`, should be a positive integer; \
                 ignoring it"
            );
            None
        }
    }
}

/// How a trial ended.
#[derive(Debug)]
enum Outcome {
    /// It returned `Ok`.
    Passed,
    /// It returned `Err` or panicked.
    Failed(Option<String>),
    /// It is marked ignored and was not run.
    Ignored,
}

/// What a worker tells the printing thread.
#[derive(Debug)]
enum Event {
    /// The trial at this index started.
    Started(usize),
    /// The trial at this index ended.
    Finished(usize, Outcome),
}

/// One selected trial, queued for a worker.
struct Job {
    /// Its index among the selected trials (and in the printer's names).
    index: usize,
    /// Its name, for its thread.
    name: String,
    /// Not run: reported as ignored.
    skip: bool,
    /// The test.
    runner: Runner,
}

/// [`run`] on a given printer, thread count and slow-test warning delay.
fn run_on(
    args: &Arguments,
    trials: Vec<Trial>,
    printer: &mut Printer<'_>,
    threads: usize,
    warn_after: Duration,
) -> Conclusion {
    let started = Instant::now();
    let total = trials.len();
    let mut selected: Vec<Trial> = trials.into_iter().filter(|t| args.selects(t)).collect();
    if args.list {
        printer.list(&selected);
        return Conclusion::default();
    }
    if args.bench && !args.test {
        // No trial is a benchmark.
        selected.clear();
    }
    let mut conclusion = Conclusion {
        num_filtered_out: (total - selected.len()) as u64,
        ..Conclusion::default()
    };
    let names: Vec<String> = selected.iter().map(|t| t.name.clone()).collect();
    let runs_ignored = args.runs_ignored();
    let jobs: Vec<Job> = selected
        .into_iter()
        .enumerate()
        .map(|(index, trial)| Job {
            index,
            skip: trial.ignored && !runs_ignored,
            name: trial.name,
            runner: trial.runner,
        })
        .collect();

    printer.start(names.len());
    let threads = threads.max(1);
    printer.sequential = threads == 1;
    let workers = threads.min(jobs.len());
    let queue = Mutex::new(jobs.into_iter());
    let (events, received) = mpsc::channel();
    let mut failures: Vec<(usize, Option<String>)> = Vec::new();
    thread::scope(|scope| {
        let mut spawned = 0;
        for _ in 0..workers {
            let events = events.clone();
            let queue = &queue;
            let worker = thread::Builder::new().spawn_scoped(scope, move || work(queue, &events));
            if worker.is_ok() {
                spawned += 1;
            }
        }
        if spawned == 0 {
            // No thread to be had: run the trials here, then print.
            work(&queue, &events);
        }
        drop(events);

        // Trials running, with when they started, until they end or are reported slow.
        let mut running: Vec<(usize, Instant)> = Vec::new();
        loop {
            let deadline = running
                .iter()
                .filter_map(|&(_, since)| since.checked_add(warn_after))
                .min();
            let event = match deadline {
                None => match received.recv() {
                    Ok(event) => event,
                    Err(_) => break,
                },
                Some(deadline) => {
                    match received.recv_timeout(deadline.saturating_duration_since(Instant::now()))
                    {
                        Ok(event) => event,
                        Err(RecvTimeoutError::Timeout) => {
                            let now = Instant::now();
                            running.retain(|&(index, since)| {
                                let slow = now.duration_since(since) >= warn_after;
                                if slow {
                                    printer.slow(&names[index], warn_after);
                                }
                                !slow
                            });
                            continue;
                        }
                        Err(RecvTimeoutError::Disconnected) => break,
                    }
                }
            };
            match event {
                Event::Started(index) => {
                    running.push((index, Instant::now()));
                    printer.started(index, &names[index]);
                }
                Event::Finished(index, outcome) => {
                    running.retain(|&(other, _)| other != index);
                    printer.finished(index, &names[index], &outcome);
                    match outcome {
                        Outcome::Passed => conclusion.num_passed += 1,
                        Outcome::Ignored => conclusion.num_ignored += 1,
                        Outcome::Failed(message) => {
                            conclusion.num_failed += 1;
                            failures.push((index, message));
                        }
                    }
                }
            }
        }
    });

    if !failures.is_empty() {
        printer.failures(&names, &failures);
    }
    printer.summary(&conclusion, started.elapsed());
    conclusion
}

/// A worker: takes the next job until there is none, runs it (unless it is to be skipped)
/// and reports to the printing thread.
fn work(queue: &Mutex<std::vec::IntoIter<Job>>, events: &Sender<Event>) {
    loop {
        let job = queue.lock().unwrap_or_else(PoisonError::into_inner).next();
        let Some(job) = job else {
            return;
        };
        // A send fails only once the printing thread is gone; there is no one to tell.
        if job.skip {
            let _ = events.send(Event::Finished(job.index, Outcome::Ignored));
            continue;
        }
        let _ = events.send(Event::Started(job.index));
        let outcome = run_trial(&job.name, job.runner);
        let _ = events.send(Event::Finished(job.index, outcome));
    }
}

/// Runs one trial on a thread named after it (so that a panic message names the test, as
/// under libtest), or on this thread if no thread can be had; a panic is a failure.
fn run_trial(name: &str, runner: Runner) -> Outcome {
    let mut slot = Some(runner);
    let spawned = thread::scope(|scope| {
        let slot = &mut slot;
        thread::Builder::new()
            .name(name.replace('\0', ""))
            .spawn_scoped(scope, move || guarded(slot.take()))
            .map(|handle| handle.join())
    });
    match spawned {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(payload)) => Outcome::Failed(Some(panic_message(payload.as_ref()))),
        Err(_) => guarded(slot.take()),
    }
}

/// Runs `runner`, a panic caught and made a failure.
fn guarded(runner: Option<Runner>) -> Outcome {
    let Some(runner) = runner else {
        return Outcome::Failed(Some("the trial was already run".to_owned()));
    };
    match panic::catch_unwind(AssertUnwindSafe(runner)) {
        Ok(Ok(())) => Outcome::Passed,
        Ok(Err(failed)) => Outcome::Failed(failed.message),
        Err(payload) => Outcome::Failed(Some(panic_message(payload.as_ref()))),
    }
}

/// `test panicked: <message>` from a panic's payload (a `&str` or a `String` for
/// `panic!`).
fn panic_message(payload: &(dyn Any + Send)) -> String {
    let message = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str));
    match message {
        Some(message) => format!("test panicked: {message}"),
        None => "test panicked".to_owned(),
    }
}

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
struct Printer<'a> {
    /// Where it goes: stdout, or a buffer in tests.
    out: &'a mut dyn Write,
    /// ANSI colors on `ok`, `FAILED`, `ignored`.
    color: bool,
    /// One character per trial instead of one line.
    terse: bool,
    /// One trial at a time: `test NAME ... ` is printed when it starts, as libtest does.
    sequential: bool,
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
    fn new(out: &'a mut dyn Write, color: bool, terse: bool) -> Self {
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
    fn list(&mut self, trials: &[Trial]) {
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
    fn start(&mut self, total: usize) {
        self.total = total;
        self.put(&format!("\nrunning {}\n", plural(total, "test")));
    }

    /// A trial started: one at a time, its `test NAME ... ` now.
    fn started(&mut self, index: usize, name: &str) {
        if self.sequential && !self.terse {
            self.open = Some(index);
            self.put(&format!("test {name} ... "));
        }
    }

    /// A trial still running after `after`.
    fn slow(&mut self, name: &str, after: Duration) {
        self.put(&format!(
            "test {name} has been running for over {} seconds\n",
            after.as_secs()
        ));
    }

    /// A trial's outcome: `test NAME ... ok` (the name unless already printed), or one
    /// character in the terse format.
    fn finished(&mut self, index: usize, name: &str, outcome: &Outcome) {
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
    fn failures(&mut self, names: &[String], failures: &[(usize, Option<String>)]) {
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
    fn summary(&mut self, conclusion: &Conclusion, elapsed: Duration) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    const S15: &str = "postgres::s15_concurrent_token_use_has_one_winner";

    fn parse(args: &[&str]) -> Result<Arguments, String> {
        Arguments::from_iter(
            std::iter::once("conformance-0123abcd")
                .chain(args.iter().copied())
                .map(str::to_owned),
        )
    }

    fn ok(args: &[&str]) -> Arguments {
        match parse(args) {
            Ok(parsed) => parsed,
            Err(e) => panic!("{args:?} refused: {e}"),
        }
    }

    fn refused(args: &[&str]) -> String {
        match parse(args) {
            Ok(parsed) => panic!("{args:?} accepted: {parsed:?}"),
            Err(e) => e,
        }
    }

    // ---- the command line ----

    #[test]
    fn nextest_lists_with_terse_format_then_the_ignored_ones() {
        let all = ok(&["--list", "--format", "terse"]);
        assert!(all.list && all.format_terse && !all.ignored && !all.exact);
        assert_eq!(all.filter, None);
        let ignored = ok(&["--list", "--format", "terse", "--ignored"]);
        assert!(ignored.list && ignored.format_terse && ignored.ignored);
        assert!(!ignored.include_ignored);
    }

    #[test]
    fn nextest_runs_one_test_exactly_without_capture() {
        // nextest's order (`--exact NAME --nocapture`) and the name-first one.
        for args in [
            &["--exact", S15, "--nocapture"][..],
            &[S15, "--exact", "--nocapture"][..],
        ] {
            let parsed = ok(args);
            assert!(parsed.exact && parsed.nocapture && !parsed.list && !parsed.ignored);
            assert_eq!(parsed.filter.as_deref(), Some(S15));
            assert!(parsed.extra_filters.is_empty());
        }
        let ignored_one = ok(&["--exact", S15, "--nocapture", "--ignored"]);
        assert!(ignored_one.exact && ignored_one.ignored);
        assert_eq!(ignored_one.filter.as_deref(), Some(S15));
    }

    #[test]
    fn cargo_test_invocations() {
        let plain = ok(&[]);
        assert!(!plain.list && !plain.format_terse && plain.filter.is_none());
        assert_eq!(plain.test_threads, None);
        assert_eq!(plain.color, ColorSetting::Auto);

        assert_eq!(ok(&["memory::s15"]).filter.as_deref(), Some("memory::s15"));
        let two = ok(&["memory::s01", "memory::s02"]);
        assert_eq!(two.filter.as_deref(), Some("memory::s01"));
        assert_eq!(two.extra_filters, ["memory::s02"]);

        let serial = ok(&["--test-threads=1", "--nocapture"]);
        assert_eq!(serial.test_threads, Some(1));
        assert!(serial.nocapture);
        assert_eq!(ok(&["--test-threads", "4"]).test_threads, Some(4));

        let quiet = ok(&["-q"]);
        assert!(quiet.quiet && quiet.format_terse);
        assert!(ok(&["--quiet"]).format_terse);
        assert!(ok(&["--format=terse"]).format_terse);
        assert!(!ok(&["--format", "pretty"]).format_terse);
        // An explicit --format wins over -q, as in libtest.
        assert!(!ok(&["-q", "--format=pretty"]).format_terse);

        let everything = ok(&[
            "--skip",
            "redis",
            "--skip=mongo",
            "--include-ignored",
            "--color",
            "never",
            "--show-output",
            "-Z",
            "unstable-options",
            "-Zunstable-options",
            "--report-time",
            "--logfile",
            "run.log",
            "--no-capture",
            "--test",
            "--exact",
            "sqlite",
        ]);
        assert_eq!(everything.skip, ["redis", "mongo"]);
        assert!(everything.include_ignored && !everything.ignored);
        assert_eq!(everything.color, ColorSetting::Never);
        assert!(everything.show_output && everything.report_time && everything.nocapture);
        assert_eq!(everything.logfile.as_deref(), Some("run.log"));
        assert!(everything.test && everything.exact);
        assert_eq!(everything.filter.as_deref(), Some("sqlite"));

        assert_eq!(ok(&["--color=always"]).color, ColorSetting::Always);
        assert!(ok(&["--bench"]).bench);
        assert!(ok(&["-h"]).help && ok(&["--help"]).help);
        // After `--`, everything is a filter.
        let after = ok(&["--", "--list", "-q"]);
        assert!(!after.list && !after.quiet);
        assert_eq!(after.filter.as_deref(), Some("--list"));
        assert_eq!(after.extra_filters, ["-q"]);
        // A lone `-` is a filter, as in getopts.
        assert_eq!(ok(&["-"]).filter.as_deref(), Some("-"));
    }

    #[test]
    fn what_libtest_refuses_is_refused() {
        assert!(refused(&["--frobnicate"]).contains("Unrecognized option: 'frobnicate'"));
        assert!(refused(&["--frobnicate=1"]).contains("'frobnicate'"));
        assert!(refused(&["-x"]).contains("Unrecognized option: 'x'"));
        assert!(refused(&["-qx"]).contains("'x'"));
        assert!(refused(&["--test-threads"]).contains("missing"));
        assert!(refused(&["--skip"]).contains("missing"));
        assert!(refused(&["--test-threads=0"]).contains("must not be 0"));
        assert!(refused(&["--test-threads", "many"]).contains("must be a number"));
        assert!(refused(&["--test-threads=-1"]).contains("must be a number"));
        assert!(refused(&["--format", "json"]).contains("json"));
        assert!(refused(&["-Z", "unstable-options", "--format=json"]).contains("nightly"));
        assert!(refused(&["--format=junit"]).contains("junit"));
        assert!(refused(&["--format=xml"]).contains("must be pretty, terse"));
        assert!(refused(&["--color=sometimes"]).contains("auto, always, or never"));
        assert!(refused(&["--list=yes"]).contains("does not take an argument"));
        assert!(refused(&["-Z", "nonsense"]).contains("`Z`"));
        assert!(refused(&["-Z"]).contains("missing"));
        assert!(refused(&["--shuffle-seed=x"]).contains("must be a number"));
        assert!(refused(&["--ignored", "--include-ignored"]).contains("mutually exclusive"));
        // The program name is never parsed, whatever it looks like.
        assert!(Arguments::from_iter(["--frobnicate".to_owned()]).is_ok());
        assert!(Arguments::from_iter(Vec::new()).is_ok());
    }

    // ---- running ----

    /// What a run printed and concluded.
    struct Ran {
        conclusion: Conclusion,
        output: String,
    }

    fn run_with(args: &Arguments, trials: Vec<Trial>, threads: usize) -> Ran {
        let mut buffer = Vec::new();
        let mut printer = Printer::new(&mut buffer, false, args.format_terse);
        let conclusion = run_on(args, trials, &mut printer, threads, WARN_AFTER);
        Ran {
            conclusion,
            output: String::from_utf8(buffer).unwrap(),
        }
    }

    /// Trials named `names` that pass and count their runs in `runs`.
    fn counted(names: &[&str], runs: &Arc<AtomicUsize>) -> Vec<Trial> {
        names
            .iter()
            .map(|&name| {
                let runs = Arc::clone(runs);
                Trial::test(name, move || {
                    runs.fetch_add(1, Ordering::SeqCst);
                    Ok(())
                })
            })
            .collect()
    }

    fn conclusion(passed: u64, failed: u64, ignored: u64, filtered_out: u64) -> Conclusion {
        Conclusion {
            num_filtered_out: filtered_out,
            num_passed: passed,
            num_failed: failed,
            num_ignored: ignored,
        }
    }

    const NAMES: &[&str] = &["memory::s01_one", "memory::s02_two", "redis::s01_one"];

    #[test]
    fn filters_select_by_substring_or_exactly_and_skip_removes() {
        let cases: &[(&[&str], Conclusion)] = &[
            (&[], conclusion(3, 0, 0, 0)),
            (&["s01"], conclusion(2, 0, 0, 1)),
            (&["memory::"], conclusion(2, 0, 0, 1)),
            (&["s01", "s02"], conclusion(3, 0, 0, 0)),
            (&["nothing"], conclusion(0, 0, 0, 3)),
            (&["--exact", "memory::s01_one"], conclusion(1, 0, 0, 2)),
            (&["--exact", "s01"], conclusion(0, 0, 0, 3)),
            (&["--skip", "redis"], conclusion(2, 0, 0, 1)),
            (&["--skip", "s01", "--skip=s02"], conclusion(0, 0, 0, 3)),
            (&["memory", "--skip", "s02"], conclusion(1, 0, 0, 2)),
            (&["--exact", "--skip", "s01"], conclusion(3, 0, 0, 0)),
            (
                &["--exact", "--skip", "redis::s01_one"],
                conclusion(2, 0, 0, 1),
            ),
        ];
        for (args, expected) in cases {
            let runs = Arc::new(AtomicUsize::new(0));
            let ran = run_with(&ok(args), counted(NAMES, &runs), 2);
            assert_eq!(ran.conclusion, *expected, "{args:?}:\n{}", ran.output);
            assert_eq!(
                runs.load(Ordering::SeqCst) as u64,
                expected.num_passed,
                "{args:?}"
            );
            assert!(!ran.conclusion.has_failed());
        }
    }

    /// Two trials, `plain` and `marked` (ignored), each counting its runs.
    fn plain_and_marked(plain: &Arc<AtomicUsize>, marked: &Arc<AtomicUsize>) -> Vec<Trial> {
        let mut trials = counted(&["plain"], plain);
        trials.extend(
            counted(&["marked"], marked)
                .into_iter()
                .map(|t| t.with_ignored_flag(true)),
        );
        trials
    }

    #[test]
    fn ignored_trials_run_only_when_asked() {
        let cases: &[(&[&str], Conclusion, usize, usize)] = &[
            (&[], conclusion(1, 0, 1, 0), 1, 0),
            (&["--ignored"], conclusion(1, 0, 0, 1), 0, 1),
            (&["--include-ignored"], conclusion(2, 0, 0, 0), 1, 1),
            (&["--exact", "marked"], conclusion(0, 0, 1, 1), 0, 0),
            // nextest's run of an ignored test it was told to run.
            (
                &["--exact", "marked", "--nocapture", "--ignored"],
                conclusion(1, 0, 0, 1),
                0,
                1,
            ),
            (&["--ignored", "plain"], conclusion(0, 0, 0, 2), 0, 0),
        ];
        for &(args, expected, plain_runs, marked_runs) in cases {
            for threads in [1, 2] {
                let (plain, marked) =
                    (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
                let ran = run_with(&ok(args), plain_and_marked(&plain, &marked), threads);
                assert_eq!(ran.conclusion, expected, "{args:?}:\n{}", ran.output);
                assert_eq!(plain.load(Ordering::SeqCst), plain_runs, "{args:?}");
                assert_eq!(marked.load(Ordering::SeqCst), marked_runs, "{args:?}");
            }
        }
        let (plain, marked) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let ran = run_with(&ok(&[]), plain_and_marked(&plain, &marked), 2);
        assert!(
            ran.output.contains("test marked ... ignored\n"),
            "{}",
            ran.output
        );
    }

    /// A passing, a failing, a panicking, an ignored and a filtered-out trial.
    fn mixed() -> Vec<Trial> {
        vec![
            Trial::test("suite::passes", || Ok(())),
            Trial::test("suite::fails", || Err("it went wrong".into())),
            Trial::test("suite::panics", || panic!("boom")),
            Trial::test("suite::fails_quietly", || Err(Failed::without_message())),
            Trial::test("suite::ignored", || panic!("an ignored trial ran"))
                .with_ignored_flag(true),
            Trial::test("other::filtered_out", || panic!("a filtered-out trial ran")),
        ]
    }

    #[test]
    fn run_counts_passed_failed_ignored_and_filtered_out() {
        for threads in [1, 2, 8] {
            let ran = run_with(&ok(&["suite::"]), mixed(), threads);
            assert_eq!(ran.conclusion, conclusion(1, 3, 1, 1), "{}", ran.output);
            assert!(ran.conclusion.has_failed());
            assert_eq!(ran.conclusion.exit_code(), ExitCode::from(101));
            let out = &ran.output;
            assert!(out.starts_with("\nrunning 5 tests\n"), "{out}");
            for line in [
                "test suite::passes ... ok\n",
                "test suite::fails ... FAILED\n",
                "test suite::panics ... FAILED\n",
                "test suite::ignored ... ignored\n",
            ] {
                assert!(out.contains(line), "{line:?} missing from:\n{out}");
            }
            assert!(
                out.contains("---- suite::fails stdout ----\nit went wrong\n\n"),
                "{out}"
            );
            assert!(
                out.contains("---- suite::panics stdout ----\ntest panicked: boom\n\n"),
                "{out}"
            );
            // No message, no block; but listed.
            assert!(!out.contains("---- suite::fails_quietly"), "{out}");
            assert!(out.contains(
                "\n\nfailures:\n    suite::fails\n    suite::fails_quietly\n    suite::panics\n\n"
            ));
            assert!(out.contains(
                "\ntest result: FAILED. 1 passed; 3 failed; 1 ignored; 0 measured; \
                 1 filtered out; finished in "
            ));
            assert!(out.ends_with("s\n\n"), "{out}");
        }
    }

    #[test]
    fn a_sequential_run_prints_as_libtest() {
        let ran = run_with(&ok(&["--test-threads=1"]), mixed(), 1);
        let (head, tail) = ran.output.split_once("finished in ").unwrap();
        assert_eq!(
            head,
            "\nrunning 6 tests\n\
             test suite::passes ... ok\n\
             test suite::fails ... FAILED\n\
             test suite::panics ... FAILED\n\
             test suite::fails_quietly ... FAILED\n\
             test suite::ignored ... ignored\n\
             test other::filtered_out ... FAILED\n\
             \n\
             failures:\n\
             \n\
             ---- suite::fails stdout ----\n\
             it went wrong\n\
             \n\
             ---- suite::panics stdout ----\n\
             test panicked: boom\n\
             \n\
             ---- other::filtered_out stdout ----\n\
             test panicked: a filtered-out trial ran\n\
             \n\
             \n\
             failures:\n    \
             other::filtered_out\n    \
             suite::fails\n    \
             suite::fails_quietly\n    \
             suite::panics\n\
             \n\
             test result: FAILED. 1 passed; 4 failed; 1 ignored; 0 measured; 0 filtered out; "
        );
        let seconds = tail.strip_suffix("s\n\n").unwrap();
        assert!(seconds.parse::<f64>().is_ok(), "{tail:?}");
        assert_eq!(seconds.split_once('.').unwrap().1.len(), 2, "{tail:?}");
    }

    #[test]
    fn a_passing_run_exits_0_and_an_empty_one_too() {
        let runs = Arc::new(AtomicUsize::new(0));
        let ran = run_with(&ok(&[]), counted(NAMES, &runs), 3);
        assert_eq!(ran.conclusion, conclusion(3, 0, 0, 0));
        assert_eq!(ran.conclusion.exit_code(), ExitCode::SUCCESS);
        assert!(ran
            .output
            .contains("\ntest result: ok. 3 passed; 0 failed; "));

        let empty = run_with(&ok(&[]), Vec::new(), 4);
        assert_eq!(empty.conclusion, Conclusion::default());
        assert!(empty.output.starts_with(
            "\nrunning 0 tests\n\ntest result: ok. 0 passed; 0 failed; 0 ignored; \
             0 measured; 0 filtered out; finished in "
        ));
        let one = run_with(
            &ok(&["--exact", "memory::s01_one"]),
            counted(NAMES, &runs),
            4,
        );
        assert!(
            one.output.starts_with("\nrunning 1 test\n"),
            "{}",
            one.output
        );
    }

    #[test]
    fn quiet_prints_one_character_per_trial() {
        let ran = run_with(&ok(&["-q", "--test-threads=1"]), mixed(), 1);
        assert!(
            ran.output
                .starts_with("\nrunning 6 tests\n.FFFiF\nfailures:\n"),
            "{}",
            ran.output
        );
        // A progress count after each 88 results.
        let runs = Arc::new(AtomicUsize::new(0));
        let names: Vec<String> = (0..100).map(|i| format!("t{i:03}")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let ran = run_with(&ok(&["--format=terse"]), counted(&names, &runs), 4);
        let dots = ".".repeat(88);
        assert!(
            ran.output.contains(&format!("{dots} 88/100\n")),
            "{}",
            ran.output
        );
        assert_eq!(ran.conclusion, conclusion(100, 0, 0, 0));
        assert_eq!(runs.load(Ordering::SeqCst), 100);
    }

    #[test]
    fn listing_prints_names_and_runs_nothing() {
        let never = || panic!("a listing ran a trial");
        let trials = || {
            vec![
                Trial::test("memory::s01_one", never),
                Trial::test("memory::s02_two", never).with_ignored_flag(true),
                Trial::test("redis::s01_one", never).with_ignored_flag(true),
            ]
        };
        let terse = run_with(&ok(&["--list", "--format", "terse"]), trials(), 2);
        assert_eq!(
            terse.output,
            "memory::s01_one: test\nmemory::s02_two: test\nredis::s01_one: test\n"
        );
        assert_eq!(terse.conclusion, Conclusion::default());
        let ignored = run_with(
            &ok(&["--list", "--format", "terse", "--ignored"]),
            trials(),
            2,
        );
        assert_eq!(
            ignored.output,
            "memory::s02_two: test\nredis::s01_one: test\n"
        );
        let pretty = run_with(&ok(&["--list", "s01"]), trials(), 2);
        assert_eq!(
            pretty.output,
            "memory::s01_one: test\nredis::s01_one: test\n\n2 tests, 0 benchmarks\n"
        );
        let none = run_with(&ok(&["--list", "nothing"]), trials(), 2);
        assert_eq!(none.output, "0 tests, 0 benchmarks\n");
        let quiet = run_with(
            &ok(&["--list", "-q", "--exact", "redis::s01_one"]),
            trials(),
            2,
        );
        assert_eq!(quiet.output, "redis::s01_one: test\n");
    }

    #[test]
    fn bench_runs_nothing() {
        let runs = Arc::new(AtomicUsize::new(0));
        let ran = run_with(&ok(&["--bench"]), counted(NAMES, &runs), 2);
        assert_eq!(ran.conclusion, conclusion(0, 0, 0, 3));
        assert_eq!(runs.load(Ordering::SeqCst), 0);
        let ran = run_with(&ok(&["--bench", "--test"]), counted(NAMES, &runs), 2);
        assert_eq!(ran.conclusion, conclusion(3, 0, 0, 0));
    }

    #[test]
    fn trials_run_on_threads_named_after_them_in_parallel() {
        // Two trials that each wait for the other: they pass only when they run at once.
        let (to_b, from_a) = mpsc::channel::<()>();
        let (to_a, from_b) = mpsc::channel::<()>();
        let meet = |send: Sender<()>, receive: mpsc::Receiver<()>| {
            move || {
                let _ = send.send(());
                receive
                    .recv_timeout(Duration::from_secs(10))
                    .map_err(|_| Failed::from("the other trial did not run alongside"))?;
                match thread::current().name() {
                    Some(name) if name.starts_with("pair::") => Ok(()),
                    other => Err(format!("thread named {other:?}").into()),
                }
            }
        };
        let trials = vec![
            Trial::test("pair::a", meet(to_b, from_b)),
            Trial::test("pair::b", meet(to_a, from_a)),
        ];
        let ran = run_with(&ok(&[]), trials, 2);
        assert_eq!(ran.conclusion, conclusion(2, 0, 0, 0), "{}", ran.output);
    }

    /// A writer that tells `slow` when a slow-test warning is written.
    struct Watch {
        written: Vec<u8>,
        slow: Sender<()>,
    }

    impl Write for Watch {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            if String::from_utf8_lossy(bytes).contains("has been running for over") {
                let _ = self.slow.send(());
            }
            self.written.extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_slow_trial_is_reported_once_while_it_runs() {
        for threads in [1, 2] {
            let (slow, warned) = mpsc::channel();
            let mut watch = Watch {
                written: Vec::new(),
                slow,
            };
            // The trial ends once the warning about it is printed.
            let trial = Trial::test("slow::one", move || {
                warned
                    .recv_timeout(Duration::from_secs(10))
                    .map_err(|_| Failed::from("no warning"))
            });
            let mut printer = Printer::new(&mut watch, false, false);
            let concluded = run_on(&ok(&[]), vec![trial], &mut printer, threads, Duration::ZERO);
            let out = String::from_utf8(watch.written).unwrap();
            assert_eq!(concluded, conclusion(1, 0, 0, 0), "{out}");
            assert_eq!(
                out.matches("test slow::one has been running for over 0 seconds\n")
                    .count(),
                1,
                "{out}"
            );
        }
    }

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
        assert!(usage("bin").contains("--test-threads"));
    }
}
