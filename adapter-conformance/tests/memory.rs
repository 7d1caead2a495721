//! The whole suite against the in-memory reference adapter.
adapter_conformance::conformance_tests!(memory, adapter_conformance::backends::memory::spec);
