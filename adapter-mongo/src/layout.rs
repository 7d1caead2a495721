//! Where the adapter keeps its data: the [`Layout`] an app chooses, the collection names in
//! use, and the field names that differ between the layouts ([`Fields`]), which the index
//! plan and the conformance inspector read.

use auth_core::{AdapterError, AdapterResult, Operation};

/// How the adapter lays out its data: its own collections (the default), or those of
/// another program that shares the database. Set with
/// [`MongoAdapterBuilder::layout`](crate::MongoAdapterBuilder::layout).
///
/// ```
/// use adapter_mongo::{AuthJsCollections, Layout};
/// assert_eq!(Layout::default(), Layout::Native);
/// let shared = Layout::AuthJs(AuthJsCollections::default().users("app_users"));
/// # let _ = shared;
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Layout {
    /// This crate's collections and documents (the crate README's "Storage"): every
    /// guarantee of the contract.
    #[default]
    Native,
    /// The collections and documents of `@auth/mongodb-adapter` (the README's "Sharing a
    /// database with Auth.js"), under these names: ObjectId ids, emails as given.
    AuthJs(AuthJsCollections),
}

/// The names of the five collections in use: the native ones with the configured prefix,
/// or those of the Auth.js layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collections {
    /// Users, `_id` = user id.
    pub users: String,
    /// Provider accounts.
    pub accounts: String,
    /// Database sessions.
    pub sessions: String,
    /// Email sign-in tokens.
    pub verification_tokens: String,
    /// WebAuthn credentials.
    pub authenticators: String,
}

impl Collections {
    /// The names with `prefix` in front (validated by the builder).
    ///
    /// ```
    /// let names = adapter_mongo::Collections::new("auth_");
    /// assert_eq!(names.sessions, "auth_sessions");
    /// ```
    pub fn new(prefix: &str) -> Self {
        Self {
            users: format!("{prefix}users"),
            accounts: format!("{prefix}accounts"),
            sessions: format!("{prefix}sessions"),
            verification_tokens: format!("{prefix}verification_tokens"),
            authenticators: format!("{prefix}authenticators"),
        }
    }
}

/// The collection names of the Auth.js layout; the defaults are `@auth/mongodb-adapter`'s
/// (its `collections` option names the first four `Users`, `Accounts`, `Sessions` and
/// `VerificationTokens`).
///
/// ```
/// let names = adapter_mongo::AuthJsCollections::default().sessions("app_sessions");
/// assert_eq!(names.users, "users");
/// assert_eq!(names.sessions, "app_sessions");
/// assert_eq!(names.verification_tokens, "verification_tokens");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuthJsCollections {
    /// Auth.js's `Users` (default `users`).
    pub users: String,
    /// Auth.js's `Accounts` (default `accounts`).
    pub accounts: String,
    /// Auth.js's `Sessions` (default `sessions`).
    pub sessions: String,
    /// Auth.js's `VerificationTokens` (default `verification_tokens`).
    pub verification_tokens: String,
    /// WebAuthn credentials, which `@auth/mongodb-adapter` does not store (default
    /// `authenticators`).
    pub authenticators: String,
}

impl Default for AuthJsCollections {
    fn default() -> Self {
        Self {
            users: "users".to_owned(),
            accounts: "accounts".to_owned(),
            sessions: "sessions".to_owned(),
            verification_tokens: "verification_tokens".to_owned(),
            authenticators: "authenticators".to_owned(),
        }
    }
}

impl AuthJsCollections {
    /// Names the users collection (Auth.js's `collections.Users`).
    ///
    /// ```
    /// let names = adapter_mongo::AuthJsCollections::default().users("people");
    /// assert_eq!(names.users, "people");
    /// ```
    pub fn users(mut self, name: impl Into<String>) -> Self {
        self.users = name.into();
        self
    }

    /// Names the accounts collection (Auth.js's `collections.Accounts`).
    ///
    /// ```
    /// let names = adapter_mongo::AuthJsCollections::default().accounts("logins");
    /// assert_eq!(names.accounts, "logins");
    /// ```
    pub fn accounts(mut self, name: impl Into<String>) -> Self {
        self.accounts = name.into();
        self
    }

    /// Names the sessions collection (Auth.js's `collections.Sessions`).
    ///
    /// ```
    /// let names = adapter_mongo::AuthJsCollections::default().sessions("web_sessions");
    /// assert_eq!(names.sessions, "web_sessions");
    /// ```
    pub fn sessions(mut self, name: impl Into<String>) -> Self {
        self.sessions = name.into();
        self
    }

    /// Names the verification tokens collection (Auth.js's `collections.VerificationTokens`).
    ///
    /// ```
    /// let names = adapter_mongo::AuthJsCollections::default().verification_tokens("magic_links");
    /// assert_eq!(names.verification_tokens, "magic_links");
    /// ```
    pub fn verification_tokens(mut self, name: impl Into<String>) -> Self {
        self.verification_tokens = name.into();
        self
    }

    /// Names the collection of WebAuthn credentials (not an Auth.js collection).
    ///
    /// ```
    /// let names = adapter_mongo::AuthJsCollections::default().authenticators("passkeys");
    /// assert_eq!(names.authenticators, "passkeys");
    /// ```
    pub fn authenticators(mut self, name: impl Into<String>) -> Self {
        self.authenticators = name.into();
        self
    }

    /// Checks every name: 1–120 bytes, no `$` or NUL, not starting with `system.`, and no
    /// two alike.
    pub(crate) fn validate(&self) -> AdapterResult<Collections> {
        let names = Collections {
            users: self.users.clone(),
            accounts: self.accounts.clone(),
            sessions: self.sessions.clone(),
            verification_tokens: self.verification_tokens.clone(),
            authenticators: self.authenticators.clone(),
        };
        let all = [
            &names.users,
            &names.accounts,
            &names.sessions,
            &names.verification_tokens,
            &names.authenticators,
        ];
        for (i, name) in all.iter().enumerate() {
            let bad = name.is_empty()
                || name.len() > 120
                || name.contains(['$', '\0'])
                || name.starts_with("system.")
                || all[..i].contains(name);
            if bad {
                return Err(AdapterError::invalid_input(
                    Operation::Connect,
                    format!("{name:?} is not a usable collection name here (1-120 bytes, no $ or NUL, not system.*, each name once)"),
                ));
            }
        }
        Ok(names)
    }
}

/// The field names of one layout where the layouts differ (the other fields, such as
/// `provider`, `identifier`, `token` and `expires`, are named alike in both).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fields {
    /// The field the unique email index is on, and lookups by email match.
    pub(crate) email: &'static str,
    /// When the user's email was verified.
    pub(crate) email_verified: &'static str,
    /// The owner of an account, a session or an authenticator.
    pub(crate) user_id: &'static str,
    /// The user's id at the provider, of an account and of an authenticator.
    pub(crate) provider_account_id: &'static str,
    /// A session's token.
    pub(crate) session_token: &'static str,
    /// An authenticator's credential id.
    pub(crate) credential_id: &'static str,
    /// An authenticator's public key.
    pub(crate) credential_public_key: &'static str,
    /// An authenticator's device type.
    pub(crate) credential_device_type: &'static str,
    /// Whether an authenticator is backed up.
    pub(crate) credential_backed_up: &'static str,
    /// The int64 milliseconds beside `expires` that expiry queries compare (the native
    /// layout's; Auth.js writes only the date).
    pub(crate) expires_ms: Option<&'static str>,
}

impl Fields {
    /// This crate's documents (`crate::documents`).
    pub(crate) const NATIVE: Self = Self {
        email: "email_normalized",
        email_verified: "email_verified",
        user_id: "user_id",
        provider_account_id: "provider_account_id",
        session_token: "session_token",
        credential_id: "credential_id",
        credential_public_key: "credential_public_key",
        credential_device_type: "credential_device_type",
        credential_backed_up: "credential_backed_up",
        expires_ms: Some("expires_ms"),
    };

    /// `@auth/mongodb-adapter`'s documents (`crate::authjs`).
    pub(crate) const AUTHJS: Self = Self {
        email: "email",
        email_verified: "emailVerified",
        user_id: "userId",
        provider_account_id: "providerAccountId",
        session_token: "sessionToken",
        credential_id: "credentialID",
        credential_public_key: "credentialPublicKey",
        credential_device_type: "credentialDeviceType",
        credential_backed_up: "credentialBackedUp",
        expires_ms: None,
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collection_names_are_checked() {
        assert!(AuthJsCollections::default().validate().is_ok());
        assert!(AuthJsCollections::default().users("").validate().is_err());
        assert!(AuthJsCollections::default()
            .users("a$b")
            .validate()
            .is_err());
        assert!(AuthJsCollections::default()
            .sessions("system.x")
            .validate()
            .is_err());
        assert!(AuthJsCollections::default()
            .accounts("users")
            .validate()
            .is_err());
    }

    #[tokio::test]
    async fn the_builder_checks_the_layout_before_any_io() {
        // Port 9 (discard) is never contacted: the options fail first.
        let prefixed = crate::MongoAdapter::builder("mongodb://127.0.0.1:9")
            .collection_prefix("auth_")
            .layout(Layout::AuthJs(AuthJsCollections::default()))
            .connect()
            .await;
        assert!(
            prefixed.is_err_and(|e| e.kind() == auth_core::ErrorKind::InvalidInput),
            "a prefix with the Auth.js layout"
        );
        let clashing = crate::MongoAdapter::builder("mongodb://127.0.0.1:9")
            .layout(Layout::AuthJs(
                AuthJsCollections::default().sessions("users"),
            ))
            .connect()
            .await;
        assert!(
            clashing.is_err_and(|e| e.kind() == auth_core::ErrorKind::InvalidInput),
            "two collections under one name"
        );
    }
}
