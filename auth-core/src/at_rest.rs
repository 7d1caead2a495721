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

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use tracing::Instrument;
use zeroize::Zeroize;
/// Re-exported: [`KeyRing::generate_key`] and [`KeyRing::decode_key`] return keys in it.
pub use zeroize::Zeroizing;

use crate::adapter::{Adapter, AdapterResult};
use crate::error::{AdapterError, ErrorCode, Operation};
use crate::models::{
    Account, Authenticator, ExpiredCounts, Session, SessionUpdate, User, UserUpdate,
    VerificationToken,
};
use crate::validate::Field;

// ------------------------------------------------------------------ hashing

/// What [`HashedTokens`] stores for a session or verification token: the lowercase hex
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
fn stored_key(token: &str) -> Cow<'_, str> {
    if Field::Key.admits(token) {
        Cow::Owned(token_hash(token))
    } else {
        Cow::Borrowed(token)
    }
}

/// Session and verification tokens stored as their SHA-256 over any [`Adapter`].
///
/// Every method that takes a token hashes it ([`token_hash`]) before the inner adapter sees
/// it, and what it returns carries the token the caller supplied; one inner call per
/// method, so `get_session_and_user` stays one round trip. [`Adapter::list_sessions`] gives
/// the stored hashes (see the [module docs](self)). Everything else goes through unchanged.
///
/// ```
/// # #[cfg(feature = "memory")] {
/// use std::sync::Arc;
/// use auth_core::at_rest::HashedTokens;
/// use auth_core::memory::MemoryAdapter;
/// use auth_core::Adapter;
///
/// // Over a concrete adapter, or over the `Arc<dyn Adapter>` an app already holds.
/// let db: Arc<dyn Adapter> = Arc::new(HashedTokens::new(MemoryAdapter::new()));
/// let db: Arc<dyn Adapter> = Arc::new(HashedTokens::from_arc(db));
/// # let _ = db;
/// # }
/// ```
pub struct HashedTokens<A: ?Sized> {
    inner: Arc<A>,
}

impl<A: Adapter> HashedTokens<A> {
    /// Wraps `inner`.
    pub fn new(inner: A) -> Self {
        Self::from_arc(Arc::new(inner))
    }
}

impl<A: Adapter + ?Sized> HashedTokens<A> {
    /// Wraps an adapter already shared, e.g. an `Arc<dyn Adapter>`.
    pub fn from_arc(inner: Arc<A>) -> Self {
        Self { inner }
    }

    /// The wrapped adapter (e.g. to reach [`EncryptedAccountTokens::rotate_user`]).
    pub fn inner(&self) -> &A {
        &self.inner
    }
}

impl<A: ?Sized> Clone for HashedTokens<A> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<A: fmt::Debug + ?Sized> fmt::Debug for HashedTokens<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("HashedTokens").field(&self.inner).finish()
    }
}

fn with_token(mut session: Session, token: &str) -> Session {
    token.clone_into(&mut session.session_token);
    session
}

#[async_trait]
impl<A: Adapter + ?Sized> Adapter for HashedTokens<A> {
    async fn create_user(&self, user: User) -> AdapterResult<User> {
        self.inner.create_user(user).await
    }

    async fn get_user(&self, id: &str) -> AdapterResult<Option<User>> {
        self.inner.get_user(id).await
    }

    async fn get_user_by_email(&self, email: &str) -> AdapterResult<Option<User>> {
        self.inner.get_user_by_email(email).await
    }

    async fn get_user_by_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<User>> {
        self.inner
            .get_user_by_account(provider, provider_account_id)
            .await
    }

    async fn update_user(&self, update: UserUpdate) -> AdapterResult<User> {
        self.inner.update_user(update).await
    }

    async fn delete_user(&self, id: &str) -> AdapterResult<Option<User>> {
        self.inner.delete_user(id).await
    }

    async fn link_account(&self, account: Account) -> AdapterResult<Account> {
        self.inner.link_account(account).await
    }

    async fn unlink_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<Account>> {
        self.inner
            .unlink_account(provider, provider_account_id)
            .await
    }

    async fn get_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<Account>> {
        self.inner.get_account(provider, provider_account_id).await
    }

    async fn update_account(&self, account: Account) -> AdapterResult<Option<Account>> {
        self.inner.update_account(account).await
    }

    async fn list_accounts(&self, user_id: &str) -> AdapterResult<Vec<Account>> {
        self.inner.list_accounts(user_id).await
    }

    async fn create_session(&self, session: Session) -> AdapterResult<Session> {
        let token = session.session_token.clone();
        let stored = Session {
            session_token: stored_key(&token).into_owned(),
            ..session
        };
        let created = self.inner.create_session(stored).await?;
        Ok(with_token(created, &token))
    }

    async fn get_session_and_user(
        &self,
        session_token: &str,
    ) -> AdapterResult<Option<(Session, User)>> {
        let found = self
            .inner
            .get_session_and_user(&stored_key(session_token))
            .await?;
        Ok(found.map(|(session, user)| (with_token(session, session_token), user)))
    }

    async fn update_session(&self, update: SessionUpdate) -> AdapterResult<Option<Session>> {
        let token = update.session_token.clone();
        let stored = SessionUpdate {
            session_token: stored_key(&token).into_owned(),
            ..update
        };
        let changed = self.inner.update_session(stored).await?;
        Ok(changed.map(|session| with_token(session, &token)))
    }

    async fn delete_session(&self, session_token: &str) -> AdapterResult<Option<Session>> {
        let removed = self
            .inner
            .delete_session(&stored_key(session_token))
            .await?;
        Ok(removed.map(|session| with_token(session, session_token)))
    }

    async fn list_sessions(&self, user_id: &str) -> AdapterResult<Vec<Session>> {
        self.inner.list_sessions(user_id).await
    }

    async fn delete_sessions(&self, user_id: &str) -> AdapterResult<u64> {
        self.inner.delete_sessions(user_id).await
    }

    async fn create_verification_token(
        &self,
        token: VerificationToken,
    ) -> AdapterResult<VerificationToken> {
        let clear = token.token.clone();
        let stored = VerificationToken {
            token: stored_key(&clear).into_owned(),
            ..token
        };
        let created = self.inner.create_verification_token(stored).await?;
        Ok(VerificationToken {
            token: clear,
            ..created
        })
    }

    async fn use_verification_token(
        &self,
        identifier: &str,
        token: &str,
    ) -> AdapterResult<Option<VerificationToken>> {
        let taken = self
            .inner
            .use_verification_token(identifier, &stored_key(token))
            .await?;
        Ok(taken.map(|taken| VerificationToken {
            token: token.to_owned(),
            ..taken
        }))
    }

    async fn create_authenticator(
        &self,
        authenticator: Authenticator,
    ) -> AdapterResult<Authenticator> {
        self.inner.create_authenticator(authenticator).await
    }

    async fn get_authenticator(&self, credential_id: &str) -> AdapterResult<Option<Authenticator>> {
        self.inner.get_authenticator(credential_id).await
    }

    async fn list_authenticators(&self, user_id: &str) -> AdapterResult<Vec<Authenticator>> {
        self.inner.list_authenticators(user_id).await
    }

    async fn update_authenticator_counter(
        &self,
        credential_id: &str,
        counter: i64,
    ) -> AdapterResult<Authenticator> {
        self.inner
            .update_authenticator_counter(credential_id, counter)
            .await
    }

    async fn delete_authenticator(
        &self,
        credential_id: &str,
    ) -> AdapterResult<Option<Authenticator>> {
        self.inner.delete_authenticator(credential_id).await
    }

    async fn delete_expired(&self, now: DateTime<Utc>) -> AdapterResult<ExpiredCounts> {
        self.inner.delete_expired(now).await
    }
}

// ------------------------------------------------------------------ key ring

/// The prefix of every sealed value; the version names the format below.
const SEALED_PREFIX: &str = "enc:v1:";
const NONCE_BYTES: usize = 24;
const TAG_BYTES: usize = 16;
const MAX_KEY_ID_BYTES: usize = 32;

/// What opening does with a stored value that has no `enc:v1:` prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClearValues {
    /// Returned as stored: a value written before encryption was turned on.
    Read,
    /// ACCOUNT_TOKEN_DECRYPTION_ERROR: after the migration, a clear value is an injected one.
    Refuse,
}

/// A [`KeyRing`] that cannot be built as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyRingError {
    /// A key id must be 1 to 32 characters of `A-Z a-z 0-9 - _` (it is stored in clear
    /// in every sealed value).
    #[error("key id {0:?} is not 1-32 characters of A-Z, a-z, 0-9, '-' or '_'")]
    BadKeyId(String),
    /// Two keys with one id.
    #[error("key id {0:?} is in the ring twice")]
    DuplicateKeyId(String),
    /// A key given as text was not 32 bytes of base64url.
    #[error("a key must be 32 bytes as unpadded base64url (43 characters)")]
    BadKey,
}

/// The keys of [`EncryptedAccountTokens`]: one current key that seals every new write and
/// any number of older keys that still open what they sealed. Each key has an id, stored in
/// clear in each sealed value, so a value finds its key.
///
/// Keys are 256-bit; they are zeroized when the ring drops, and `Debug` shows the key ids
/// only.
///
/// ```
/// use auth_core::at_rest::KeyRing;
///
/// let old = KeyRing::generate_key();
/// let new = KeyRing::generate_key();
/// // Rotation: the new key seals, the old one still opens.
/// let ring = KeyRing::new("k2", *new)?.with_old_key("k1", *old)?;
/// assert_eq!(ring.current_key_id(), "k2");
/// assert_eq!(format!("{ring:?}"), r#"KeyRing { current: "k2", key_ids: ["k2", "k1"] }"#);
///
/// // From configuration: 43 characters of base64url.
/// let text = KeyRing::encode_key(&new);
/// let ring = KeyRing::new("k2", *KeyRing::decode_key(&text)?)?;
/// # let _ = ring;
/// # Ok::<(), auth_core::at_rest::KeyRingError>(())
/// ```
pub struct KeyRing {
    current: (String, XChaCha20Poly1305),
    old: Vec<(String, XChaCha20Poly1305)>,
}

impl KeyRing {
    /// A ring whose current key is `key`, named `id`. The array passed in is a copy, which
    /// the ring wipes after use; wipe the caller's own copies (or keep them in
    /// [`Zeroizing`]).
    pub fn new(id: &str, key: [u8; 32]) -> Result<Self, KeyRingError> {
        Ok(Self {
            current: entry(id, key)?,
            old: Vec::new(),
        })
    }

    /// Adds an older key: it opens values sealed under `id`, never seals new ones.
    pub fn with_old_key(mut self, id: &str, key: [u8; 32]) -> Result<Self, KeyRingError> {
        let entry = entry(id, key)?;
        if self.ids().any(|known| known == id) {
            return Err(KeyRingError::DuplicateKeyId(id.to_owned()));
        }
        self.old.push(entry);
        Ok(self)
    }

    /// The id new writes are sealed under.
    pub fn current_key_id(&self) -> &str {
        &self.current.0
    }

    /// Every key id, the current one first.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        std::iter::once(&self.current)
            .chain(&self.old)
            .map(|(id, _)| id.as_str())
    }

    /// A fresh random key from the operating system's CSPRNG.
    ///
    /// # Panics
    /// When the operating system has no random source, as
    /// [`generate_token`](crate::generate_token) does.
    pub fn generate_key() -> Zeroizing<[u8; 32]> {
        let mut key = Zeroizing::new([0u8; 32]);
        fill_random(key.as_mut_slice());
        key
    }

    /// A key as 43 characters of unpadded base64url, for configuration.
    pub fn encode_key(key: &[u8; 32]) -> Zeroizing<String> {
        Zeroizing::new(URL_SAFE_NO_PAD.encode(key))
    }

    /// A key from [`encode_key`](Self::encode_key)'s text (surrounding whitespace ignored).
    pub fn decode_key(text: &str) -> Result<Zeroizing<[u8; 32]>, KeyRingError> {
        let bytes = Zeroizing::new(
            URL_SAFE_NO_PAD
                .decode(text.trim())
                .map_err(|_| KeyRingError::BadKey)?,
        );
        let mut key = Zeroizing::new([0u8; 32]);
        if bytes.len() != key.len() {
            return Err(KeyRingError::BadKey);
        }
        key.copy_from_slice(&bytes);
        Ok(key)
    }

    /// An account as read raw from storage, with its token fields opened (a clear legacy
    /// value as stored): for inspectors, exports and migration scripts that read the
    /// database directly. A value that does not open is ACCOUNT_TOKEN_DECRYPTION_ERROR.
    pub fn open_account(&self, account: Account) -> AdapterResult<Account> {
        self.open_account_for(Operation::GetAccount, account, ClearValues::Read)
    }

    fn open_account_for(
        &self,
        op: Operation,
        mut account: Account,
        clear: ClearValues,
    ) -> AdapterResult<Account> {
        for (field, get) in SEALED_FIELDS {
            let stored = get(&mut account).take();
            let opened = match stored {
                Some(value) => Some(self.open(field, &account, &value, clear).map_err(|why| {
                    AdapterError::backend(
                        op,
                        format!("the stored {field} of the account does not open: {why}"),
                    )
                    .with_code(ErrorCode::AccountTokenDecryptionError)
                })?),
                None => None,
            };
            *get(&mut account) = opened;
        }
        Ok(account)
    }

    fn cipher(&self, id: &str) -> Option<&XChaCha20Poly1305> {
        std::iter::once(&self.current)
            .chain(&self.old)
            .find(|(known, _)| known == id)
            .map(|(_, cipher)| cipher)
    }

    /// The key id a stored value was sealed under; `None` for a clear (legacy) value.
    fn sealed_key_id(value: &str) -> Option<&str> {
        let rest = value.strip_prefix(SEALED_PREFIX)?;
        Some(rest.split_once(':').map_or(rest, |(id, _)| id))
    }

    /// The sealed form of a value; `None` only for a value too long for the cipher
    /// (256 GiB), which the text cap keeps far away.
    fn seal(&self, field: &str, account: &Account, clear: &str) -> Option<String> {
        let mut nonce = [0u8; NONCE_BYTES];
        fill_random(&mut nonce);
        let (id, cipher) = &self.current;
        let aad = associated_data(field, account, id);
        let sealed = cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: clear.as_bytes(),
                    aad: &aad,
                },
            )
            .ok()?;
        let mut blob = Vec::with_capacity(NONCE_BYTES + sealed.len());
        blob.extend_from_slice(&nonce);
        blob.extend_from_slice(&sealed);
        Some(format!(
            "{SEALED_PREFIX}{id}:{}",
            URL_SAFE_NO_PAD.encode(blob)
        ))
    }

    /// The clear value of a stored one: a clear (legacy) value as stored, a sealed one
    /// opened, or why it does not open.
    fn open(
        &self,
        field: &str,
        account: &Account,
        stored: &str,
        clear: ClearValues,
    ) -> Result<String, &'static str> {
        let Some(rest) = stored.strip_prefix(SEALED_PREFIX) else {
            return match clear {
                ClearValues::Read => Ok(stored.to_owned()),
                ClearValues::Refuse => Err(
                    "it is stored in clear, and this wrapper is strict (it refuses clear values)",
                ),
            };
        };
        let (id, data) = rest.split_once(':').ok_or("it is cut short")?;
        let cipher = self.cipher(id).ok_or("its key id is not in the key ring")?;
        let blob = URL_SAFE_NO_PAD
            .decode(data)
            .map_err(|_| "it is not valid base64url")?;
        if blob.len() < NONCE_BYTES + TAG_BYTES {
            return Err("it is cut short");
        }
        let (nonce, sealed) = blob.split_at(NONCE_BYTES);
        let nonce = XNonce::try_from(nonce).map_err(|_| "it is cut short")?;
        let aad = associated_data(field, account, id);
        let clear = cipher
            .decrypt(
                &nonce,
                Payload {
                    msg: sealed,
                    aad: &aad,
                },
            )
            .map_err(|_| {
                "it failed authentication (tampered, or moved from another account or field)"
            })?;
        String::from_utf8(clear).map_err(|_| "it is not UTF-8")
    }
}

/// A ring entry: the id checked, the key moved into the cipher (which wipes it on drop,
/// feature `zeroize`) and every other copy wiped.
fn entry(id: &str, mut key: [u8; 32]) -> Result<(String, XChaCha20Poly1305), KeyRingError> {
    let valid_id = !id.is_empty()
        && id.len() <= MAX_KEY_ID_BYTES
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    let result = if valid_id {
        let mut material = Key::from(key);
        let cipher = XChaCha20Poly1305::new(&material);
        material[..].zeroize();
        Ok((id.to_owned(), cipher))
    } else {
        Err(KeyRingError::BadKeyId(id.to_owned()))
    };
    key.zeroize();
    result
}

fn fill_random(buf: &mut [u8]) {
    if let Err(err) = getrandom::fill(buf) {
        panic!("the operating system's random source failed: {err}");
    }
}

/// Binds a sealed value to its field, its account and its key id.
fn associated_data(field: &str, account: &Account, key_id: &str) -> Vec<u8> {
    [
        "auth-core/at-rest/v1",
        field,
        &account.provider,
        &account.provider_account_id,
        key_id,
    ]
    .join("\0")
    .into_bytes()
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids: Vec<&str> = self.ids().collect();
        f.debug_struct("KeyRing")
            .field("current", &self.current.0)
            .field("key_ids", &ids)
            .finish()
    }
}

// ------------------------------------------------------------------ encryption

/// The sealed token fields of an account: (name, accessor).
type TokenField = (&'static str, fn(&mut Account) -> &mut Option<String>);

const SEALED_FIELDS: [TokenField; 3] = [
    ("access_token", |a| &mut a.access_token),
    ("refresh_token", |a| &mut a.refresh_token),
    ("id_token", |a| &mut a.id_token),
];

/// OAuth access, refresh and id tokens sealed with XChaCha20-Poly1305 over any
/// [`Adapter`].
///
/// Each stored value reads `enc:v1:<key id>:<base64url of nonce, ciphertext and tag>`.
/// Writes seal under the [`KeyRing`]'s current key; reads open under whichever key id the
/// value names, and a clear value (stored before encryption was turned on) is returned as
/// stored, unless the wrapper is [`strict`](EncryptedAccountTokens::strict). A value that
/// does not open is an [`AdapterError`] of the method with code
/// [`ErrorCode::AccountTokenDecryptionError`] and kind `Backend`. Token type, scope,
/// expiry and session state stay in clear (they are not credentials), and so does
/// everything outside accounts.
///
/// ```
/// # #[cfg(feature = "memory")] {
/// use auth_core::at_rest::{EncryptedAccountTokens, KeyRing};
/// use auth_core::memory::MemoryAdapter;
/// use auth_core::{Account, AccountType, Adapter, User};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let raw = MemoryAdapter::new();
/// let db = EncryptedAccountTokens::new(raw.clone(), KeyRing::new("k1", [7; 32]).unwrap());
/// db.create_user(User::with_id("u1")).await?;
/// let mut account = Account::new("u1", AccountType::OAuth, "github", "42");
/// account.access_token = Some("gho_secret".into());
/// db.link_account(account.clone()).await?;
///
/// assert_eq!(db.get_account("github", "42").await?, Some(account));
/// let stored = raw.get_account("github", "42").await?.unwrap();
/// assert!(stored.access_token.unwrap().starts_with("enc:v1:k1:"));
/// # Ok::<(), auth_core::AdapterError>(())
/// # }).unwrap();
/// # }
/// ```
pub struct EncryptedAccountTokens<A: ?Sized> {
    keys: Arc<KeyRing>,
    inner: Arc<A>,
    clear_values: ClearValues,
}

impl<A: Adapter> EncryptedAccountTokens<A> {
    /// Wraps `inner`, sealing under `keys` (a [`KeyRing`], or an `Arc` of one shared with
    /// other wrappers or tools).
    pub fn new(inner: A, keys: impl Into<Arc<KeyRing>>) -> Self {
        Self::from_arc(Arc::new(inner), keys)
    }
}

impl<A: Adapter + ?Sized> EncryptedAccountTokens<A> {
    /// Wraps an adapter already shared, e.g. an `Arc<dyn Adapter>`.
    pub fn from_arc(inner: Arc<A>, keys: impl Into<Arc<KeyRing>>) -> Self {
        Self {
            keys: keys.into(),
            inner,
            clear_values: ClearValues::Read,
        }
    }

    /// Strict mode: a stored token in clear (no `enc:v1:` prefix) is refused with
    /// ACCOUNT_TOKEN_DECRYPTION_ERROR instead of returned as stored.
    ///
    /// Turn it on once every account is sealed ([`rotate_users`](Self::rotate_users) over
    /// all users): from then on a clear value can only have been written around the wrapper
    /// (by a script, another app, or someone with write access to the database who wants
    /// the app to use a token of their choosing), and it is an error, not a token.
    /// [`rotate_user`](Self::rotate_user) still reads clear values, since sealing them is
    /// its job.
    ///
    /// ```
    /// # #[cfg(feature = "memory")] {
    /// use auth_core::at_rest::{EncryptedAccountTokens, KeyRing};
    /// use auth_core::memory::MemoryAdapter;
    /// use auth_core::{Account, AccountType, Adapter, ErrorCode, User};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let raw = MemoryAdapter::new();
    /// raw.create_user(User::with_id("u1")).await?;
    /// let mut account = Account::new("u1", AccountType::OAuth, "github", "42");
    /// account.access_token = Some("planted in clear".into());
    /// raw.link_account(account).await?;
    ///
    /// let db = EncryptedAccountTokens::new(raw.clone(), KeyRing::new("k1", [7; 32]).unwrap()).strict();
    /// let err = db.get_account("github", "42").await.unwrap_err();
    /// assert_eq!(err.code(), ErrorCode::AccountTokenDecryptionError);
    /// # Ok::<(), auth_core::AdapterError>(())
    /// # }).unwrap();
    /// # }
    /// ```
    #[must_use]
    pub fn strict(mut self) -> Self {
        self.clear_values = ClearValues::Refuse;
        self
    }

    /// Whether [`strict`](Self::strict) mode is on.
    pub fn is_strict(&self) -> bool {
        self.clear_values == ClearValues::Refuse
    }

    /// The wrapped adapter.
    pub fn inner(&self) -> &A {
        &self.inner
    }

    /// The key ring.
    pub fn keys(&self) -> &KeyRing {
        &self.keys
    }

    /// Re-seals every account of the user whose stored tokens are in clear or under a key
    /// id other than the current one, and returns how many it rewrote.
    ///
    /// The contract has no "every account" read, so rotation goes user by user through
    /// [`Adapter::list_accounts`] and [`Adapter::update_account`] (see
    /// [`rotate_users`](Self::rotate_users)). An account whose tokens the app refreshes
    /// between the two calls can get its older tokens back: rotate when the user is idle
    /// (a sign-in job, or at night), since the contract has no compare-and-set. A value
    /// that does not open stops the rotation with ACCOUNT_TOKEN_DECRYPTION_ERROR, after the
    /// accounts before it were rewritten.
    ///
    /// ```
    /// # #[cfg(feature = "memory")] {
    /// use auth_core::at_rest::{EncryptedAccountTokens, KeyRing};
    /// use auth_core::memory::MemoryAdapter;
    /// use auth_core::{Account, AccountType, Adapter, User};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let raw = MemoryAdapter::new();
    /// let old = EncryptedAccountTokens::new(raw.clone(), KeyRing::new("k1", [1; 32]).unwrap());
    /// old.create_user(User::with_id("u1")).await?;
    /// let mut account = Account::new("u1", AccountType::OAuth, "github", "42");
    /// account.refresh_token = Some("ghr_secret".into());
    /// old.link_account(account.clone()).await?;
    ///
    /// // Deploy the new key as current, the old one as old, then rotate.
    /// let ring = KeyRing::new("k2", [2; 32]).unwrap().with_old_key("k1", [1; 32]).unwrap();
    /// let db = EncryptedAccountTokens::new(raw.clone(), ring);
    /// assert_eq!(db.rotate_user("u1").await?, 1);
    /// assert_eq!(db.rotate_user("u1").await?, 0);
    /// let stored = raw.get_account("github", "42").await?.unwrap();
    /// assert!(stored.refresh_token.unwrap().starts_with("enc:v1:k2:"));
    /// assert_eq!(db.get_account("github", "42").await?, Some(account));
    /// # Ok::<(), auth_core::AdapterError>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub async fn rotate_user(&self, user_id: &str) -> AdapterResult<u64> {
        let current = self.keys.current_key_id();
        let span = tracing::debug_span!("rotate_user", key_id = current);
        async move {
            let mut rewritten = 0;
            for stored in self.inner.list_accounts(user_id).await? {
                let stale = [
                    &stored.access_token,
                    &stored.refresh_token,
                    &stored.id_token,
                ]
                .into_iter()
                .flatten()
                .any(|value| KeyRing::sealed_key_id(value) != Some(current));
                if !stale {
                    continue;
                }
                let clear = self.keys.open_account_for(
                    Operation::UpdateAccount,
                    stored,
                    ClearValues::Read,
                )?;
                let resealed = self.seal_account(Operation::UpdateAccount, &clear)?;
                if self.inner.update_account(resealed).await?.is_some() {
                    rewritten += 1;
                }
            }
            tracing::debug!(rewritten, "rotated");
            Ok(rewritten)
        }
        .instrument(span)
        .await
    }

    /// [`rotate_user`](Self::rotate_user) for each id, in order; the total rewritten.
    pub async fn rotate_users<I, S>(&self, user_ids: I) -> AdapterResult<u64>
    where
        I: IntoIterator<Item = S> + Send,
        I::IntoIter: Send,
        S: AsRef<str> + Send,
    {
        let mut total = 0;
        for id in user_ids {
            total += self.rotate_user(id.as_ref()).await?;
        }
        Ok(total)
    }

    /// The account as the inner adapter stores it: each token field sealed, unless it is
    /// over the text cap (then it goes through in clear and the inner policy layer refuses
    /// it before any I/O, as it would without the wrapper).
    fn seal_account(&self, op: Operation, account: &Account) -> AdapterResult<Account> {
        let mut sealed = account.clone();
        for (field, get) in SEALED_FIELDS {
            let slot = get(&mut sealed);
            if let Some(clear) = slot.as_deref() {
                if Field::Text.admits(clear) {
                    let value = self.keys.seal(field, account, clear).ok_or_else(|| {
                        AdapterError::invalid_input(op, format!("{field} is too long to seal"))
                    })?;
                    *slot = Some(value);
                }
            }
        }
        Ok(sealed)
    }

    /// What a write returns: the stored account with the caller's clear tokens.
    fn with_clear_tokens(mut stored: Account, clear: &Account) -> Account {
        stored.access_token.clone_from(&clear.access_token);
        stored.refresh_token.clone_from(&clear.refresh_token);
        stored.id_token.clone_from(&clear.id_token);
        stored
    }
}

impl<A: ?Sized> Clone for EncryptedAccountTokens<A> {
    fn clone(&self) -> Self {
        Self {
            keys: Arc::clone(&self.keys),
            inner: Arc::clone(&self.inner),
            clear_values: self.clear_values,
        }
    }
}

impl<A: fmt::Debug + ?Sized> fmt::Debug for EncryptedAccountTokens<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EncryptedAccountTokens")
            .field("keys", &self.keys)
            .field("strict", &(self.clear_values == ClearValues::Refuse))
            .field("inner", &self.inner)
            .finish()
    }
}

#[async_trait]
impl<A: Adapter + ?Sized> Adapter for EncryptedAccountTokens<A> {
    async fn create_user(&self, user: User) -> AdapterResult<User> {
        self.inner.create_user(user).await
    }

    async fn get_user(&self, id: &str) -> AdapterResult<Option<User>> {
        self.inner.get_user(id).await
    }

    async fn get_user_by_email(&self, email: &str) -> AdapterResult<Option<User>> {
        self.inner.get_user_by_email(email).await
    }

    async fn get_user_by_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<User>> {
        self.inner
            .get_user_by_account(provider, provider_account_id)
            .await
    }

    async fn update_user(&self, update: UserUpdate) -> AdapterResult<User> {
        self.inner.update_user(update).await
    }

    async fn delete_user(&self, id: &str) -> AdapterResult<Option<User>> {
        self.inner.delete_user(id).await
    }

    async fn link_account(&self, account: Account) -> AdapterResult<Account> {
        let sealed = self.seal_account(Operation::LinkAccount, &account)?;
        let stored = self.inner.link_account(sealed).await?;
        Ok(Self::with_clear_tokens(stored, &account))
    }

    async fn unlink_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<Account>> {
        let removed = self
            .inner
            .unlink_account(provider, provider_account_id)
            .await?;
        removed
            .map(|a| {
                self.keys
                    .open_account_for(Operation::UnlinkAccount, a, self.clear_values)
            })
            .transpose()
    }

    async fn get_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<Account>> {
        let found = self
            .inner
            .get_account(provider, provider_account_id)
            .await?;
        found
            .map(|a| {
                self.keys
                    .open_account_for(Operation::GetAccount, a, self.clear_values)
            })
            .transpose()
    }

    async fn update_account(&self, account: Account) -> AdapterResult<Option<Account>> {
        let sealed = self.seal_account(Operation::UpdateAccount, &account)?;
        let stored = self.inner.update_account(sealed).await?;
        Ok(stored.map(|stored| Self::with_clear_tokens(stored, &account)))
    }

    async fn list_accounts(&self, user_id: &str) -> AdapterResult<Vec<Account>> {
        self.inner
            .list_accounts(user_id)
            .await?
            .into_iter()
            .map(|a| {
                self.keys
                    .open_account_for(Operation::ListAccounts, a, self.clear_values)
            })
            .collect()
    }

    async fn create_session(&self, session: Session) -> AdapterResult<Session> {
        self.inner.create_session(session).await
    }

    async fn get_session_and_user(
        &self,
        session_token: &str,
    ) -> AdapterResult<Option<(Session, User)>> {
        self.inner.get_session_and_user(session_token).await
    }

    async fn update_session(&self, update: SessionUpdate) -> AdapterResult<Option<Session>> {
        self.inner.update_session(update).await
    }

    async fn delete_session(&self, session_token: &str) -> AdapterResult<Option<Session>> {
        self.inner.delete_session(session_token).await
    }

    async fn list_sessions(&self, user_id: &str) -> AdapterResult<Vec<Session>> {
        self.inner.list_sessions(user_id).await
    }

    async fn delete_sessions(&self, user_id: &str) -> AdapterResult<u64> {
        self.inner.delete_sessions(user_id).await
    }

    async fn create_verification_token(
        &self,
        token: VerificationToken,
    ) -> AdapterResult<VerificationToken> {
        self.inner.create_verification_token(token).await
    }

    async fn use_verification_token(
        &self,
        identifier: &str,
        token: &str,
    ) -> AdapterResult<Option<VerificationToken>> {
        self.inner.use_verification_token(identifier, token).await
    }

    async fn create_authenticator(
        &self,
        authenticator: Authenticator,
    ) -> AdapterResult<Authenticator> {
        self.inner.create_authenticator(authenticator).await
    }

    async fn get_authenticator(&self, credential_id: &str) -> AdapterResult<Option<Authenticator>> {
        self.inner.get_authenticator(credential_id).await
    }

    async fn list_authenticators(&self, user_id: &str) -> AdapterResult<Vec<Authenticator>> {
        self.inner.list_authenticators(user_id).await
    }

    async fn update_authenticator_counter(
        &self,
        credential_id: &str,
        counter: i64,
    ) -> AdapterResult<Authenticator> {
        self.inner
            .update_authenticator_counter(credential_id, counter)
            .await
    }

    async fn delete_authenticator(
        &self,
        credential_id: &str,
    ) -> AdapterResult<Option<Authenticator>> {
        self.inner.delete_authenticator(credential_id).await
    }

    async fn delete_expired(&self, now: DateTime<Utc>) -> AdapterResult<ExpiredCounts> {
        self.inner.delete_expired(now).await
    }
}

#[cfg(all(test, feature = "memory"))]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::memory::MemoryAdapter;
    use crate::{AccountType, ErrorKind};

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f)
    }

    fn ring(id: &str, byte: u8) -> KeyRing {
        KeyRing::new(id, [byte; 32]).unwrap()
    }

    fn account(pai: &str) -> Account {
        let mut a = Account::new("u1", AccountType::Oidc, "github", pai);
        a.access_token = Some(format!("access-{pai}"));
        a.refresh_token = Some(format!("refresh-{pai}"));
        a.id_token = Some(format!("id-{pai}"));
        a
    }

    /// A memory adapter with user u1 and two sealed accounts, `a` and `b`.
    async fn sealed_pair() -> (MemoryAdapter, EncryptedAccountTokens<MemoryAdapter>) {
        let raw = MemoryAdapter::new();
        let db = EncryptedAccountTokens::new(raw.clone(), ring("k1", 1));
        db.create_user(User::with_id("u1")).await.unwrap();
        db.link_account(account("a")).await.unwrap();
        db.link_account(account("b")).await.unwrap();
        (raw, db)
    }

    async fn overwrite(raw: &MemoryAdapter, pai: &str, edit: impl FnOnce(&mut Account)) {
        let mut stored = raw.get_account("github", pai).await.unwrap().unwrap();
        edit(&mut stored);
        raw.update_account(stored).await.unwrap();
    }

    fn assert_does_not_open(result: AdapterResult<Option<Account>>) {
        let err = result.unwrap_err();
        assert_eq!(err.code(), ErrorCode::AccountTokenDecryptionError, "{err}");
        assert_eq!(err.kind(), ErrorKind::Backend);
        assert_eq!(err.operation(), Operation::GetAccount);
    }

    #[test]
    fn a_tampered_value_is_an_error_never_garbage() {
        block_on(async {
            let (raw, db) = sealed_pair().await;
            overwrite(&raw, "a", |a| {
                let value = a.access_token.as_mut().unwrap();
                // Flip one character of the ciphertext, keeping it valid base64url.
                let last = value.pop().unwrap();
                value.push(if last == 'A' { 'B' } else { 'A' });
            })
            .await;
            assert_does_not_open(db.get_account("github", "a").await);
            let err = db.list_accounts("u1").await.unwrap_err();
            assert_eq!(err.code(), ErrorCode::AccountTokenDecryptionError);
        });
    }

    #[test]
    fn a_cut_or_garbled_value_is_an_error() {
        block_on(async {
            let (raw, db) = sealed_pair().await;
            overwrite(&raw, "a", |a| {
                a.refresh_token = Some("enc:v1:k1:AAAA".into())
            })
            .await;
            assert_does_not_open(db.get_account("github", "a").await);
            overwrite(&raw, "a", |a| a.refresh_token = Some("enc:v1:k1:**".into())).await;
            assert_does_not_open(db.get_account("github", "a").await);
            overwrite(&raw, "a", |a| a.refresh_token = Some("enc:v1:k1".into())).await;
            assert_does_not_open(db.get_account("github", "a").await);
        });
    }

    #[test]
    fn a_value_moved_to_another_account_or_field_does_not_open() {
        block_on(async {
            let (raw, db) = sealed_pair().await;
            let b = raw.get_account("github", "b").await.unwrap().unwrap();
            overwrite(&raw, "a", |a| a.access_token.clone_from(&b.access_token)).await;
            assert_does_not_open(db.get_account("github", "a").await);
            overwrite(&raw, "b", |x| x.access_token.clone_from(&b.refresh_token)).await;
            assert_does_not_open(db.get_account("github", "b").await);
        });
    }

    #[test]
    fn strict_mode_refuses_a_clear_value_that_the_default_reads() {
        block_on(async {
            let (raw, db) = sealed_pair().await;
            overwrite(&raw, "a", |a| a.access_token = Some("planted".into())).await;
            let read = db.get_account("github", "a").await.unwrap().unwrap();
            assert_eq!(read.access_token.as_deref(), Some("planted"));

            let strict = db.clone().strict();
            assert!(strict.is_strict() && !db.is_strict());
            assert_does_not_open(strict.get_account("github", "a").await);
            let err = strict.list_accounts("u1").await.unwrap_err();
            assert_eq!(err.code(), ErrorCode::AccountTokenDecryptionError);
            // The untouched account still opens, and rotation seals the clear value.
            assert!(strict.get_account("github", "b").await.unwrap().is_some());
            assert_eq!(strict.rotate_user("u1").await.unwrap(), 1);
            let read = strict.get_account("github", "a").await.unwrap().unwrap();
            assert_eq!(read.access_token.as_deref(), Some("planted"));
        });
    }

    #[test]
    fn a_key_id_missing_from_the_ring_is_an_error() {
        block_on(async {
            let (raw, _) = sealed_pair().await;
            let other = EncryptedAccountTokens::new(raw.clone(), ring("k9", 9));
            let err = other.get_account("github", "a").await.unwrap_err();
            assert_eq!(err.code(), ErrorCode::AccountTokenDecryptionError);
            assert!(err.to_string().contains("key id"), "{err}");
            // Same id, wrong key: authentication fails.
            let wrong = EncryptedAccountTokens::new(raw, ring("k1", 2));
            assert_does_not_open(wrong.get_account("github", "a").await);
        });
    }

    #[test]
    fn old_keys_open_new_writes_use_the_current_key() {
        block_on(async {
            let (raw, _) = sealed_pair().await;
            let keys = ring("k2", 2).with_old_key("k1", [1; 32]).unwrap();
            let db = EncryptedAccountTokens::new(raw.clone(), keys);
            assert_eq!(
                db.get_account("github", "a").await.unwrap(),
                Some(account("a"))
            );
            let mut c = account("c");
            c.user_id = "u1".into();
            db.link_account(c.clone()).await.unwrap();
            let stored = raw.get_account("github", "c").await.unwrap().unwrap();
            assert!(stored.id_token.unwrap().starts_with("enc:v1:k2:"));
            assert_eq!(db.rotate_users(["u1", "nobody"]).await.unwrap(), 2);
            assert_eq!(db.rotate_user("u1").await.unwrap(), 0);
            let mut listed = db.list_accounts("u1").await.unwrap();
            listed.sort_by(|x, y| x.provider_account_id.cmp(&y.provider_account_id));
            assert_eq!(listed, vec![account("a"), account("b"), c]);
        });
    }

    #[test]
    fn key_ring_rules_and_redaction() {
        assert_eq!(
            KeyRing::new("", [0; 32]).unwrap_err(),
            KeyRingError::BadKeyId(String::new())
        );
        assert!(KeyRing::new("a:b", [0; 32]).is_err());
        assert!(KeyRing::new(&"k".repeat(33), [0; 32]).is_err());
        assert_eq!(
            ring("k1", 1).with_old_key("k1", [2; 32]).unwrap_err(),
            KeyRingError::DuplicateKeyId("k1".into())
        );
        assert_eq!(
            KeyRing::decode_key("short").unwrap_err(),
            KeyRingError::BadKey
        );
        let key = KeyRing::generate_key();
        assert_eq!(
            *KeyRing::decode_key(&KeyRing::encode_key(&key)).unwrap(),
            *key
        );
        assert_ne!(*key, *KeyRing::generate_key());

        let db = HashedTokens::new(EncryptedAccountTokens::new(
            MemoryAdapter::new(),
            ring("k1", 0xAB),
        ));
        let printed = format!("{db:?} {db:#?}");
        assert!(printed.contains("k1"), "{printed}");
        assert!(
            !printed.contains("171") && !printed.to_lowercase().contains("abab"),
            "{printed}"
        );
    }

    #[test]
    fn hashed_tokens_answer_bad_input_as_the_plain_adapter_does() {
        block_on(async {
            let plain = MemoryAdapter::new();
            let db = HashedTokens::new(plain.clone());
            for (i, target) in [&db as &dyn Adapter, &plain as &dyn Adapter]
                .into_iter()
                .enumerate()
            {
                let user = User::with_id(format!("u-{i}"));
                target.create_user(user.clone()).await.unwrap();
                let far = Utc::now() + chrono::Duration::days(1);
                for bad in ["", "a\0b", &"x".repeat(256)] {
                    let err = target
                        .create_session(Session::with_token(bad, &user.id, far))
                        .await
                        .unwrap_err();
                    assert_eq!(err.kind(), ErrorKind::InvalidInput);
                    assert_eq!(err.code(), ErrorCode::CreateSessionError);
                    assert_eq!(target.get_session_and_user(bad).await.unwrap(), None);
                    let err = target
                        .create_verification_token(VerificationToken::new("a@b", bad, far))
                        .await
                        .unwrap_err();
                    assert_eq!(err.kind(), ErrorKind::InvalidInput);
                }
                // A 255-byte token is at the cap: stored, found.
                let at_cap = "t".repeat(255);
                target
                    .create_session(Session::with_token(&at_cap, &user.id, far))
                    .await
                    .unwrap();
                assert!(target
                    .get_session_and_user(&at_cap)
                    .await
                    .unwrap()
                    .is_some());
            }
        });
    }

    #[test]
    fn both_orders_round_trip_and_store_no_clear_token() {
        block_on(async {
            let raw_a = MemoryAdapter::new();
            let raw_b = MemoryAdapter::new();
            let a: Arc<dyn Adapter> = Arc::new(HashedTokens::new(EncryptedAccountTokens::new(
                raw_a.clone(),
                ring("k1", 1),
            )));
            let b: Arc<dyn Adapter> = Arc::new(EncryptedAccountTokens::new(
                HashedTokens::new(raw_b.clone()),
                ring("k1", 1),
            ));
            for (db, raw) in [(a, raw_a), (b, raw_b)] {
                db.create_user(User::with_id("u1")).await.unwrap();
                let session = Session::new("u1", chrono::Duration::days(1));
                assert_eq!(db.create_session(session.clone()).await.unwrap(), session);
                let (found, _) = db
                    .get_session_and_user(&session.session_token)
                    .await
                    .unwrap()
                    .unwrap();
                assert_eq!(found, session);
                let later = session.expires + chrono::Duration::hours(1);
                let update = SessionUpdate::new(&session.session_token).expires(later);
                let updated = db.update_session(update).await.unwrap().unwrap();
                assert_eq!(updated.session_token, session.session_token);
                let listed = db.list_sessions("u1").await.unwrap();
                assert_eq!(listed[0].session_token, token_hash(&session.session_token));
                assert_eq!(
                    db.get_session_and_user(&listed[0].session_token)
                        .await
                        .unwrap(),
                    None
                );

                let far = Utc::now() + chrono::Duration::hours(1);
                let vt = VerificationToken::new("a@example.com", "email-secret", far);
                assert_eq!(
                    db.create_verification_token(vt.clone())
                        .await
                        .unwrap()
                        .token,
                    vt.token
                );
                db.link_account(account("x")).await.unwrap();

                let snapshot = raw.snapshot();
                assert!(snapshot
                    .sessions
                    .contains_key(&token_hash(&session.session_token)));
                let stored = format!(
                    "{} {}",
                    serde_json::to_string(&snapshot.sessions.values().collect::<Vec<_>>()).unwrap(),
                    serde_json::to_string(&snapshot.accounts.values().collect::<Vec<_>>()).unwrap()
                ) + &serde_json::to_string(
                    &snapshot.verification_tokens.values().collect::<Vec<_>>(),
                )
                .unwrap();
                for secret in [
                    session.session_token.as_str(),
                    "email-secret",
                    "access-x",
                    "refresh-x",
                    "id-x",
                ] {
                    assert!(!stored.contains(secret), "{secret} stored in clear");
                }

                let used = db
                    .use_verification_token("a@example.com", "email-secret")
                    .await
                    .unwrap()
                    .unwrap();
                assert_eq!(used.token, "email-secret");
                let removed = db
                    .delete_session(&session.session_token)
                    .await
                    .unwrap()
                    .unwrap();
                assert_eq!(removed.session_token, session.session_token);
                assert_eq!(
                    db.unlink_account("github", "x").await.unwrap(),
                    Some(account("x"))
                );
            }
        });
    }
}
