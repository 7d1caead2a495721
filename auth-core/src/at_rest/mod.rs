//! At-rest protection over any [`Adapter`]: a stolen database or backup signs nobody in
//! and reads no OAuth token.
//!
//! Two wrappers, each an [`Adapter`] over any `Adapter`, composable in either order and
//! invisible to callers (what a caller gets back carries the token the caller supplied):
//!
//! - [`HashedTokens`] stores session tokens and email (verification) tokens as the
//!   lowercase hex SHA-256 of the value, as Lucia's and The Copenhagen Book's session
//!   guides recommend. Every method that takes a token hashes it first, so
//!   `get_session_and_user` is still one call to the inner adapter (one round trip).
//! - [`EncryptedAccountTokens`] seals the access, refresh and id tokens of every account
//!   with XChaCha20-Poly1305 under a [`KeyRing`]: new writes use the ring's current key id,
//!   older ids still open, and [`EncryptedAccountTokens::rotate_user`] re-seals a user's
//!   accounts under the current key. A sealed value that does not open (tampered, cut,
//!   moved to another account or field, or under a key id the ring lacks) is an
//!   [`AdapterError`] with code ACCOUNT_TOKEN_DECRYPTION_ERROR, never garbage.
//!
//! ```
//! # #[cfg(feature = "memory")] {
//! use auth_core::at_rest::{EncryptedAccountTokens, HashedTokens, KeyRing};
//! use auth_core::memory::MemoryAdapter;
//! use auth_core::{Adapter, Session, User};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let keys = KeyRing::new("2026-01", *KeyRing::generate_key()).unwrap();
//! let raw = MemoryAdapter::new();
//! let db = HashedTokens::new(EncryptedAccountTokens::new(raw.clone(), keys));
//!
//! let user = db.create_user(User::with_id("u1")).await?;
//! let session = db.create_session(Session::new(&user.id, chrono::Duration::days(30))).await?;
//! // The caller reads its session back by the token it holds ...
//! let (found, _) = db.get_session_and_user(&session.session_token).await?.unwrap();
//! assert_eq!(found.session_token, session.session_token);
//! // ... while the database holds only its SHA-256.
//! assert!(raw.get_session_and_user(&session.session_token).await?.is_none());
//! # Ok::<(), auth_core::AdapterError>(())
//! # }).unwrap();
//! # }
//! ```
//!
//! # Why these choices
//!
//! - **Plain SHA-256, not a keyed hash.** Session tokens from
//!   [`generate_token`](crate::generate_token) carry 256 random bits, so a preimage search is
//!   hopeless without a key; a key would only add something to lose (losing it ends every
//!   session) and to rotate. Hex keeps the stored value readable by other tools (64
//!   characters, within every backend's 255-byte key column). Verification tokens get the
//!   same treatment: Auth.js already hands adapters a hash of the emailed token, so ours is
//!   a second layer that costs nothing.
//! - **XChaCha20-Poly1305, not AES-256-GCM.** Its 192-bit nonces can be drawn at random
//!   (from the OS, as session tokens are) for any number of writes under one key; AES-GCM's
//!   96-bit random nonces cap a key at about 2³² seals. It is constant time without AES
//!   hardware too.
//! - **Associated data binds each sealed value** to its field, its account
//!   `(provider, provider_account_id)` and its key id, so a value copied into another
//!   account or field does not open.
//!
//! # What changes for callers
//!
//! - [`Adapter::list_sessions`] returns the sessions as stored: their `session_token` is
//!   the SHA-256 hex, not the token (the clear token exists only in the browser's cookie).
//!   It is not a credential: passing it to `get_session_and_user` finds nothing. To end
//!   one of the listed sessions, sign the user out everywhere with
//!   [`Adapter::delete_sessions`], or keep the cookie's token to call `delete_session`.
//! - A sealed value is longer than the token: about 4/3 of it plus 80 bytes. A token over
//!   about 49,000 bytes no longer fits the 65,535-byte text cap and is `InvalidInput`.
//!
//! # Turning it on for an existing database
//!
//! **Hashing: old sessions end.** Once [`HashedTokens`] wraps an adapter, a token is
//! looked up by its hash only, so the sessions and email links stored in clear before read
//! as absent: users sign in again, and a token copied from an old backup no longer works
//! (re-hashing on first use would keep exactly those stolen tokens valid, and cost a second
//! round trip on every unknown cookie). The clear rows stay until they expire;
//! [`Adapter::delete_expired`] (or the sweeper) removes them then, and
//! [`Adapter::delete_sessions`] removes a user's at once.
//!
//! **Encryption: old tokens are read, then re-sealed.** A stored value without the
//! `enc:v1:` prefix is returned as stored, so accounts linked before encryption keep
//! working; [`EncryptedAccountTokens::rotate_user`] seals them (and re-seals values under
//! older keys) user by user. Once every user is rotated, [`EncryptedAccountTokens::strict`]
//! turns a clear value into an error: after the migration one can only have been written
//! around the wrapper. The contract has no "every account" read, so the application
//! passes the user ids it knows (its own user table, or [`EncryptedAccountTokens::rotate_users`]
//! over a list it exports); any account written or updated through the wrapper is sealed
//! under the current key anyway.
//!
//! [`Adapter`]: crate::Adapter
//! [`AdapterError`]: crate::AdapterError
//! [`Adapter::list_sessions`]: crate::Adapter::list_sessions
//! [`Adapter::delete_sessions`]: crate::Adapter::delete_sessions
//! [`Adapter::delete_expired`]: crate::Adapter::delete_expired

#[macro_use]
mod pass_through;

mod encrypted_account_tokens;
mod hashed_tokens;
mod hashing;
mod key_ring;
mod sealing;
#[cfg(all(test, feature = "memory"))]
mod tests;

pub use encrypted_account_tokens::EncryptedAccountTokens;
pub use hashed_tokens::HashedTokens;
pub use hashing::token_hash;
pub use key_ring::{KeyRing, KeyRingError};
pub use sealing::is_sealed_extra;
/// Re-exported: [`KeyRing::generate_key`] and [`KeyRing::decode_key`] return keys in it.
pub use zeroize::Zeroizing;
