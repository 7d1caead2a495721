//! The sealed form of an account token: `enc:v1:<key id>:<base64url of nonce, ciphertext and
//! tag>`, bound to its field, its account and its key id.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::XNonce;

use super::key_ring::{fill_random, KeyRing};
use crate::adapter::AdapterResult;
use crate::error::{AdapterError, ErrorCode, Operation};
use crate::models::Account;

/// The prefix of every sealed value; the version names the format below.
pub(super) const SEALED_PREFIX: &str = "enc:v1:";
const NONCE_BYTES: usize = 24;
const TAG_BYTES: usize = 16;

/// What opening does with a stored value that has no `enc:v1:` prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ClearValues {
    /// Returned as stored: a value written before encryption was turned on.
    Read,
    /// ACCOUNT_TOKEN_DECRYPTION_ERROR: after the migration, a clear value is an injected one.
    Refuse,
}

/// The sealed token fields of an account: (name, accessor).
pub(super) type TokenField = (&'static str, fn(&mut Account) -> &mut Option<String>);

pub(super) const SEALED_FIELDS: [TokenField; 3] = [
    ("access_token", |a| &mut a.access_token),
    ("refresh_token", |a| &mut a.refresh_token),
    ("id_token", |a| &mut a.id_token),
];

/// Whether an extra field of an account is sealed: a top-level string whose name ends in
/// `token` or `secret` (ASCII case-insensitive), such as OAuth 1's `oauth_token` and
/// `oauth_token_secret` in a token response. Everything else in `extra` stays in clear
/// (`expires_in` and the like are not credentials).
///
/// ```
/// use auth_core::at_rest::is_sealed_extra;
/// assert!(is_sealed_extra("oauth_token_secret"));
/// assert!(is_sealed_extra("Personal_Access_Token"));
/// assert!(!is_sealed_extra("refresh_token_expires_in"));
/// ```
pub fn is_sealed_extra(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with("token") || lower.ends_with("secret")
}

/// The names of the account's extra fields that are sealed (string values only).
pub(super) fn sealed_extra_names(account: &Account) -> Vec<String> {
    account
        .extra
        .iter()
        .filter(|(name, value)| is_sealed_extra(name) && value.is_string())
        .map(|(name, _)| name.clone())
        .collect()
}

/// The associated-data name of a sealed extra field.
pub(super) fn extra_field(name: &str) -> String {
    format!("extra.{name}")
}

impl KeyRing {
    /// An account as read raw from storage, with its token fields opened (a clear legacy
    /// value as stored): for inspectors, exports and migration scripts that read the
    /// database directly. A value that does not open is ACCOUNT_TOKEN_DECRYPTION_ERROR.
    pub fn open_account(&self, account: Account) -> AdapterResult<Account> {
        self.open_account_for(Operation::GetAccount, account, ClearValues::Read)
    }

    pub(super) fn open_account_for(
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
        for name in sealed_extra_names(&account) {
            let field = extra_field(&name);
            let stored = account
                .extra
                .get(&name)
                .and_then(|v| v.as_str())
                .unwrap_or_default();
            let opened = self.open(&field, &account, stored, clear).map_err(|why| {
                AdapterError::backend(
                    op,
                    format!("the stored {field} of the account does not open: {why}"),
                )
                .with_code(ErrorCode::AccountTokenDecryptionError)
            })?;
            account.extra.insert(name, opened.into());
        }
        Ok(account)
    }

    /// The key id a stored value was sealed under; `None` for a clear (legacy) value.
    pub(super) fn sealed_key_id(value: &str) -> Option<&str> {
        let rest = value.strip_prefix(SEALED_PREFIX)?;
        Some(rest.split_once(':').map_or(rest, |(id, _)| id))
    }

    /// The sealed form of a value; `None` only for a value too long for the cipher
    /// (256 GiB), which the text cap keeps far away.
    pub(super) fn seal(&self, field: &str, account: &Account, clear: &str) -> Option<String> {
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
