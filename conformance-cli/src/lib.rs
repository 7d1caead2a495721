//! The workspace's conformance tool: every in-tree backend in one place ([`backends`]), and
//! what only this workspace needs around the suite: the benchmark ([`bench`](mod@bench)) with its
//! raw-driver floors ([`floor`]) and round-trip relay ([`relay`]), the fault drills
//! ([`faults`]), the Auth.js bridge ([`authjs`]) and the report ([`report`]).
//!
//! The suite itself, with no adapter in it, is the `adapter-conformance` crate; each adapter
//! crate describes its own backends behind its `conformance` feature. This crate is not
//! published: it depends on every adapter.

pub mod authjs;
pub mod backends;
pub mod bench;
pub mod cluster_faults;
pub mod faults;
pub mod floor;
pub mod node_reads;
pub mod relay;
pub mod report;
