//! The one definition of email equality that every backend shares.

/// The lookup key of an email address: trimmed, then Unicode lowercase.
///
/// Every adapter computes this in Rust and indexes on it, so `Ada@Example.COM` and
/// `ada@example.com` are one user on every backend; the stored `email` keeps the
/// caller's spelling.
///
/// ```
/// assert_eq!(auth_core::normalize_email("  Ada@Example.COM "), "ada@example.com");
/// assert_eq!(auth_core::normalize_email("ÉLODIE@exemple.fr"), "élodie@exemple.fr");
/// ```
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}
