//! The whole shared suite on `WrappedStore`, one test per scenario
//! (`wrapped_memory::s01_create_user_stores_every_field`, …).

mod support;

// A path that resolves from inside the generated module: `crate::…`, not a bare name.
adapter_conformance::conformance_tests!(wrapped_memory, crate::support::spec);
