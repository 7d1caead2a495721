//! [`AdapterBackend`]: an axum-login `AuthnBackend` over any adapter.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use auth_core::chrono::Utc;
use auth_core::{Adapter, AdapterError, AdapterResult, ErrorKind, User, UserUpdate};
use axum_login::{AuthUser, AuthnBackend};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The user extra field whose value [`AdapterBackend::sign_out_everywhere`] rotates: it goes
/// into every session's auth hash, so a new value ends every session axum-login holds of
/// the user, in any store.
pub const SESSION_EPOCH_FIELD: &str = "session_epoch";

/// A signed-in user: our [`User`] (through `Deref`) and the hash axum-login keeps in the
/// session to tell whether the session still stands.
#[derive(Clone)]
pub struct SignedInUser {
    user: User,
    auth_hash: [u8; 32],
}

impl fmt::Debug for SignedInUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedInUser")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

impl SignedInUser {
    /// The user, with its auth hash: SHA-256 over the user id and the value of its
    /// [`SESSION_EPOCH_FIELD`] (none until the first sign-out everywhere).
    ///
    /// ```
    /// use auth_core::User;
    /// use auth_tower_sessions::SignedInUser;
    /// use axum_login::AuthUser;
    ///
    /// let before = SignedInUser::new(User::with_id("u1"));
    /// let mut rotated = User::with_id("u1");
    /// rotated.extra.insert("session_epoch".into(), "2".into());
    /// assert_ne!(before.session_auth_hash(), SignedInUser::new(rotated).session_auth_hash());
    /// assert_eq!(before.id, "u1");
    /// ```
    pub fn new(user: User) -> Self {
        let epoch = match user.extra.get(SESSION_EPOCH_FIELD) {
            Some(Value::String(epoch)) => epoch.clone(),
            Some(other) => other.to_string(),
            None => String::new(),
        };
        let mut hash = Sha256::new();
        hash.update(b"auth-tower-sessions/session-auth-hash/v1\0");
        hash.update(user.id.as_bytes());
        hash.update(b"\0");
        hash.update(epoch.as_bytes());
        Self {
            user,
            auth_hash: hash.finalize().into(),
        }
    }

    /// The user.
    pub fn into_user(self) -> User {
        self.user
    }
}

impl Deref for SignedInUser {
    type Target = User;
    fn deref(&self) -> &User {
        &self.user
    }
}

impl AuthUser for SignedInUser {
    type Id = String;

    fn id(&self) -> String {
        self.user.id.clone()
    }

    fn session_auth_hash(&self) -> &[u8] {
        &self.auth_hash
    }
}

/// What a user signs in with: the two flows an adapter decides alone.
#[derive(Clone)]
pub enum Credentials {
    /// An email link's token (`create_verification_token` made it; the app mailed it). Used
    /// once; the user with that email is signed in, created (email verified) if there is
    /// none, as Auth.js's email provider does.
    EmailToken {
        /// The address the link was sent to (the token's identifier).
        email: String,
        /// The token from the link.
        token: String,
    },
    /// A provider account the app has verified (an OAuth/OpenID Connect code exchange it
    /// made) and that is already linked ([`AdapterBackend::link_account`]).
    LinkedAccount {
        /// The provider's id, e.g. `github`.
        provider: String,
        /// The user's id at the provider.
        provider_account_id: String,
    },
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EmailToken { email, .. } => f
                .debug_struct("EmailToken")
                .field("email", email)
                .finish_non_exhaustive(),
            Self::LinkedAccount {
                provider,
                provider_account_id,
            } => f
                .debug_struct("LinkedAccount")
                .field("provider", provider)
                .field("provider_account_id", provider_account_id)
                .finish(),
        }
    }
}

/// An axum-login [`AuthnBackend`] over any [`Adapter`]: `User` is [`SignedInUser`] (our
/// user), `get_user` the adapter's, credentials the [`Credentials`] an adapter can decide.
///
/// ```
/// use std::sync::Arc;
/// use auth_core::{memory::MemoryAdapter, Adapter};
/// use auth_tower_sessions::{AdapterBackend, AdapterSessionStore};
///
/// let adapter: Arc<dyn Adapter> = Arc::new(MemoryAdapter::new());
/// let store = AdapterSessionStore::new(adapter.clone());
/// let backend = AdapterBackend::new(adapter);
/// // let sessions = tower_sessions::SessionManagerLayer::new(store);
/// // let auth = axum_login::AuthManagerLayerBuilder::new(backend, sessions).build();
/// # let _ = (store, backend);
/// ```
#[derive(Clone)]
pub struct AdapterBackend {
    adapter: Arc<dyn Adapter>,
}

impl fmt::Debug for AdapterBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdapterBackend").finish_non_exhaustive()
    }
}

impl AdapterBackend {
    /// A backend over `adapter`.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// let backend = auth_tower_sessions::AdapterBackend::new(Arc::new(
    ///     auth_core::memory::MemoryAdapter::new(),
    /// ));
    /// # let _ = backend;
    /// ```
    pub fn new(adapter: Arc<dyn Adapter>) -> Self {
        Self { adapter }
    }

    /// The adapter.
    pub fn adapter(&self) -> &Arc<dyn Adapter> {
        &self.adapter
    }

    /// Links a provider account the app has verified to a user, so that
    /// [`Credentials::LinkedAccount`] signs that user in.
    ///
    /// # Errors
    /// The adapter's: `Conflict` when the account is linked already, `NotFound` for an
    /// unknown user.
    pub async fn link_account(
        &self,
        account: auth_core::Account,
    ) -> AdapterResult<auth_core::Account> {
        self.adapter.link_account(account).await
    }

    /// Signs the user out everywhere: a new [`SESSION_EPOCH_FIELD`] value (every session
    /// axum-login holds of the user stops matching, in any store) and every session of the
    /// user deleted (the records an [`AdapterSessionStore`](crate::AdapterSessionStore)
    /// keeps for them). Returns the number of sessions deleted.
    ///
    /// # Errors
    /// The adapter's; `NotFound` for an unknown user. On an Auth.js SQL layout the user's
    /// table needs a `session_epoch` text column for the new value.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// use auth_core::{Adapter, Session, User};
    /// use auth_tower_sessions::{AdapterBackend, SignedInUser};
    /// use axum_login::{AuthUser, AuthnBackend};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), auth_core::AdapterError> {
    /// let adapter: Arc<dyn Adapter> = Arc::new(auth_core::memory::MemoryAdapter::new());
    /// let user = adapter.create_user(User::new().with_email("ada@example.com")).await?;
    /// adapter.create_session(Session::new(&user.id, auth_core::chrono::Duration::days(1))).await?;
    /// let backend = AdapterBackend::new(adapter);
    /// let before = SignedInUser::new(user.clone());
    /// assert_eq!(backend.sign_out_everywhere(&user.id).await?, 1);
    /// let after = backend.get_user(&user.id).await?.expect("the user");
    /// assert_ne!(after.session_auth_hash(), before.session_auth_hash());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn sign_out_everywhere(&self, user_id: &str) -> AdapterResult<u64> {
        let epoch = auth_core::generate_token();
        let update = UserUpdate::new(user_id)
            .merge_extra(&serde_json::json!({ SESSION_EPOCH_FIELD: epoch }))
            .map_err(|e| {
                AdapterError::invalid_input(auth_core::Operation::UpdateUser, e.to_string())
            })?;
        self.adapter.update_user(update).await?;
        self.adapter.delete_sessions(user_id).await
    }

    async fn sign_in_by_email(&self, email: &str, token: &str) -> AdapterResult<Option<User>> {
        if self
            .adapter
            .use_verification_token(email, token)
            .await?
            .is_none()
        {
            return Ok(None);
        }
        let now = Utc::now();
        match self.adapter.get_user_by_email(email).await? {
            Some(user) if user.email_verified.is_some() => Ok(Some(user)),
            Some(user) => self
                .adapter
                .update_user(UserUpdate::new(user.id).email_verified(Some(now)))
                .await
                .map(Some),
            None => {
                let user = User {
                    email_verified: Some(now),
                    ..User::new().with_email(email)
                };
                match self.adapter.create_user(user).await {
                    Ok(user) => Ok(Some(user)),
                    // Two links of one address used at once: the other created the user.
                    Err(err) if err.kind() == ErrorKind::Conflict => {
                        self.adapter.get_user_by_email(email).await
                    }
                    Err(err) => Err(err),
                }
            }
        }
    }
}

impl AuthnBackend for AdapterBackend {
    type User = SignedInUser;
    type Credentials = Credentials;
    type Error = AdapterError;

    async fn authenticate(&self, credentials: Credentials) -> AdapterResult<Option<SignedInUser>> {
        let user = match credentials {
            Credentials::EmailToken { email, token } => {
                self.sign_in_by_email(&email, &token).await?
            }
            Credentials::LinkedAccount {
                provider,
                provider_account_id,
            } => {
                self.adapter
                    .get_user_by_account(&provider, &provider_account_id)
                    .await?
            }
        };
        Ok(user.map(SignedInUser::new))
    }

    async fn get_user(&self, user_id: &String) -> AdapterResult<Option<SignedInUser>> {
        Ok(self.adapter.get_user(user_id).await?.map(SignedInUser::new))
    }
}
