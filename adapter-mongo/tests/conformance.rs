//! Conformance tests for adapter-mongo.
