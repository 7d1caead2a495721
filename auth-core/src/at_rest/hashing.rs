//! The stored form of a session or verification token: its SHA-256, in hex.

use std::borrow::Cow;

use sha2::{Digest, Sha256};

use crate::validate::Field;

/// What [`HashedTokens`](super::HashedTokens) stores for a session or verification token: the lowercase hex
/// SHA-256 of its bytes.
///
/// A test or a migration script reads raw storage with it.
///
/// ```
/// assert_eq!(
///     auth_core::at_rest::token_hash("abc"),
///     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
/// );
/// ```
pub fn token_hash(token: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(token.as_bytes());
    let mut out = String::with_capacity(64);
    for byte in digest.iter() {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 15)]));
    }
    out
}

/// The key the inner adapter sees for a token. A token no backend could store (empty, with
/// NUL, over the key cap) goes through unchanged so the inner policy layer answers exactly
/// as it would without the wrapper (`InvalidInput` on a write, "absent" on a read).
pub(super) fn stored_key(token: &str) -> Cow<'_, str> {
    if Field::Key.admits(token) {
        Cow::Owned(token_hash(token))
    } else {
        Cow::Borrowed(token)
    }
}
