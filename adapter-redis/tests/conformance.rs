//! Conformance tests for adapter-redis.
