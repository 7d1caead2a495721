//! [`KeyRing`]: the keys that seal and open account tokens, each under an id.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chacha20poly1305::aead::KeyInit;
use chacha20poly1305::{Key, XChaCha20Poly1305};
use zeroize::{Zeroize, Zeroizing};

const MAX_KEY_ID_BYTES: usize = 32;

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

/// The keys of [`EncryptedAccountTokens`](super::EncryptedAccountTokens): one current key that seals every new write and
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
    pub(super) current: (String, XChaCha20Poly1305),
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

    pub(super) fn cipher(&self, id: &str) -> Option<&XChaCha20Poly1305> {
        std::iter::once(&self.current)
            .chain(&self.old)
            .find(|(known, _)| known == id)
            .map(|(_, cipher)| cipher)
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

pub(super) fn fill_random(buf: &mut [u8]) {
    if let Err(err) = getrandom::fill(buf) {
        panic!("the operating system's random source failed: {err}");
    }
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
