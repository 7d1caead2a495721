//! Backends that need no adapter crate: the in-memory reference adapter ([`memory`]), and
//! [`assigned_ids`], which wraps any backend whose storage assigns user ids.
//!
//! Every other backend lives with its adapter crate (its `conformance` feature), so this
//! crate depends on no adapter: a backend crate describes its backends with
//! [`BackendSpec`](crate::BackendSpec)s and hands them to [`test_main`](crate::test_main)
//! from its own `tests/conformance.rs`.

pub mod assigned_ids;
pub mod memory;
