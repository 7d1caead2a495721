//! The whole suite against the in-memory reference adapter.

use adapter_conformance::backends::memory;

fn main() -> std::process::ExitCode {
    adapter_conformance::test_main(&[memory::spec])
}
