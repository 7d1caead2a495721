//! adapter-sqlx (in progress).
