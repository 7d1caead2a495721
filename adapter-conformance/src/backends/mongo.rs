//! The adapter-mongo backends (in progress).
pub(crate) fn specs() -> Vec<crate::harness::BackendSpec> {
    Vec::new()
}
