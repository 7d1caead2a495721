//! Running the selected trials: a pool of worker threads, each trial on a thread named
//! after it with a panic made a failure, and the printing thread that reports as they end.

use std::any::Any;
use std::io::{self, IsTerminal, Write};
use std::num::NonZeroUsize;
use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use super::args::{Arguments, ColorSetting};
use super::print::Printer;
use super::trial::{Conclusion, Outcome, Runner, Trial};

/// After how long a running test is reported as slow (libtest's `TEST_WARN_TIMEOUT_S`).
const WARN_AFTER: Duration = Duration::from_secs(60);

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::libtest::args::tests::ok;
    use crate::libtest::trial::Failed;
    use std::process::ExitCode;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

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
}
