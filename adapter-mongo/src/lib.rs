//! adapter-mongo (in progress).
