//! Conformance tests for adapter-sqlx.
