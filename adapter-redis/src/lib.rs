//! adapter-redis (in progress).
