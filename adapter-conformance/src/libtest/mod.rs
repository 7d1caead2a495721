//! A small stand-in for `libtest-mimic`, on std alone: libtest's command line, its
//! filtering, its output and its exit code for a `harness = false` test binary, so that
//! `cargo test` and `cargo nextest` drive the conformance suite as they drive any test
//! binary, without clap in this crate's dependency tree.
//!
//! The API is the part of libtest-mimic that [`crate::trials`] uses: [`Arguments`]
//! (parsed from the command line), [`Trial`] (a named test, maybe marked ignored),
//! [`Failed`], [`run`] and its [`Conclusion`](trial::Conclusion).
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

mod args;
mod print;
mod runner;
mod trial;

pub(crate) use args::Arguments;
pub(crate) use runner::run;
pub(crate) use trial::{Failed, Trial};
