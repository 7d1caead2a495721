//! libtest's command line: parsing it (as libtest would, refusing what it refuses), the
//! `--help` text, and which trials a parsed command line selects.

use std::io::{self, Write};

use super::trial::{Trial, ERROR_EXIT_CODE};

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
    /// `--format`). [`run`](super::run()) prints the terse format exactly when this is set.
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
    pub(super) fn selects(&self, trial: &Trial) -> bool {
        let mut filters = self.filter.iter().chain(&self.extra_filters).peekable();
        let filtered_in =
            filters.peek().is_none() || filters.any(|filter| self.matches(&trial.name, filter));
        filtered_in
            && !self.skip.iter().any(|skip| self.matches(&trial.name, skip))
            && (!self.ignored || trial.ignored)
    }

    /// Whether the trials marked ignored run (`--ignored` or `--include-ignored`).
    pub(super) fn runs_ignored(&self) -> bool {
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

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    const S15: &str = "postgres::s15_concurrent_token_use_has_one_winner";

    fn parse(args: &[&str]) -> Result<Arguments, String> {
        Arguments::from_iter(
            std::iter::once("conformance-0123abcd")
                .chain(args.iter().copied())
                .map(str::to_owned),
        )
    }

    pub(in crate::libtest) fn ok(args: &[&str]) -> Arguments {
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

    #[test]
    fn help_names_the_options() {
        assert!(usage("bin").contains("--test-threads"));
    }
}
