//! [`EncryptedAccountTokens`]: OAuth tokens of accounts sealed under a [`KeyRing`].

use std::fmt;
use std::sync::Arc;

use tracing::Instrument;

use super::key_ring::KeyRing;
use super::sealing::{extra_field, sealed_extra_names, ClearValues, SEALED_FIELDS};
use crate::adapter::{Adapter, AdapterResult};
use crate::error::{AdapterError, Operation};
use crate::models::Account;
use crate::validate::Field;

/// OAuth access, refresh and id tokens sealed with XChaCha20-Poly1305 over any
/// [`Adapter`].
///
/// Each stored value reads `enc:v1:<key id>:<base64url of nonce, ciphertext and tag>`.
/// Writes seal under the [`KeyRing`]'s current key; reads open under whichever key id the
/// value names, and a clear value (stored before encryption was turned on) is returned as
/// stored, unless the wrapper is [`strict`](EncryptedAccountTokens::strict). A value that
/// does not open is an [`AdapterError`] of the method with code
/// [`ErrorCode::AccountTokenDecryptionError`](crate::ErrorCode::AccountTokenDecryptionError) and kind `Backend`. Token type, scope,
/// expiry and session state stay in clear (they are not credentials), and so does
/// everything outside accounts. Of the account's extra fields (the rest of the token
/// response), the top-level strings whose name ends in `token` or `secret` are sealed the
/// same way ([`is_sealed_extra`](super::is_sealed_extra): OAuth 1's `oauth_token_secret`,
/// say); a sealed value is about 4/3 of its length plus 60 bytes, which counts against the
/// extra fields' cap.
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
                let extras = sealed_extra_names(&stored);
                let stale = [
                    &stored.access_token,
                    &stored.refresh_token,
                    &stored.id_token,
                ]
                .into_iter()
                .flatten()
                .map(String::as_str)
                .chain(
                    extras
                        .iter()
                        .filter_map(|name| stored.extra.get(name)?.as_str()),
                )
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
        for name in sealed_extra_names(account) {
            let field = extra_field(&name);
            let clear = account
                .extra
                .get(&name)
                .and_then(|v| v.as_str())
                .unwrap_or_default();
            let value = self.keys.seal(&field, account, clear).ok_or_else(|| {
                AdapterError::invalid_input(op, format!("{field} is too long to seal"))
            })?;
            sealed.extra.insert(name, value.into());
        }
        Ok(sealed)
    }

    /// What a write returns: the stored account with the caller's clear tokens.
    fn with_clear_tokens(mut stored: Account, clear: &Account) -> Account {
        stored.access_token.clone_from(&clear.access_token);
        stored.refresh_token.clone_from(&clear.refresh_token);
        stored.id_token.clone_from(&clear.id_token);
        for name in sealed_extra_names(clear) {
            if let (Some(slot), Some(value)) = (stored.extra.get_mut(&name), clear.extra.get(&name))
            {
                slot.clone_from(value);
            }
        }
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

pass_through! {
    impl [A: Adapter + ?Sized] Adapter for EncryptedAccountTokens<A>;
    pass_through: [
        create_user, get_user, get_user_by_email, get_user_by_account, update_user, delete_user,
        create_session, get_session_and_user, update_session, delete_session,
        list_sessions, delete_sessions,
        create_verification_token, use_verification_token,
        create_authenticator, get_authenticator, list_authenticators,
        update_authenticator_counter, delete_authenticator,
        delete_expired,
    ];

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
}
