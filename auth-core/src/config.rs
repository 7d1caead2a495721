//! Checks of an auth set-up that NextAuth.js reports at start-up, done before the first
//! request: which providers need an adapter, and which session strategy they allow.

use crate::error::ErrorCode;

/// The kinds of sign-in provider, as far as storage is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProviderKind {
    /// OAuth 2 or OpenID Connect.
    OAuth,
    /// Email magic links: needs stored verification tokens.
    Email,
    /// Username and password checked by the app: needs JWT sessions.
    Credentials,
    /// WebAuthn passkeys.
    WebAuthn,
}

/// Where sessions live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionStrategy {
    /// Signed cookies; nothing stored.
    Jwt,
    /// Rows in the adapter's database.
    Database,
}

/// An auth set-up to check.
///
/// ```
/// use auth_core::config::{AuthConfig, ProviderKind, SessionStrategy};
/// use auth_core::ErrorCode;
///
/// // Email sign-in stores tokens, so it needs an adapter.
/// let config = AuthConfig::new().provider(ProviderKind::Email);
/// assert_eq!(config.check().unwrap_err().code(), ErrorCode::EmailRequiresAdapterError);
///
/// // With an adapter, sessions default to the database, which credentials cannot use.
/// let config = AuthConfig::new().with_adapter().provider(ProviderKind::Credentials);
/// assert_eq!(config.check().unwrap_err().code(), ErrorCode::CallbackCredentialsJwtError);
///
/// // Asking for JWT sessions explicitly fixes it.
/// let config = config.session_strategy(SessionStrategy::Jwt);
/// assert!(config.check().is_ok());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthConfig {
    /// The configured providers.
    pub providers: Vec<ProviderKind>,
    /// Whether a database adapter is configured.
    pub has_adapter: bool,
    /// The explicit session strategy, if any.
    pub session_strategy: Option<SessionStrategy>,
}

impl AuthConfig {
    /// A set-up with no provider, no adapter and the default session strategy.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a provider.
    pub fn provider(mut self, kind: ProviderKind) -> Self {
        self.providers.push(kind);
        self
    }

    /// Declares that a database adapter is configured.
    pub fn with_adapter(mut self) -> Self {
        self.has_adapter = true;
        self
    }

    /// Sets the session strategy explicitly.
    pub fn session_strategy(mut self, strategy: SessionStrategy) -> Self {
        self.session_strategy = Some(strategy);
        self
    }

    /// The strategy in force: the explicit one, else database with an adapter and JWT
    /// without.
    pub fn effective_session_strategy(&self) -> SessionStrategy {
        self.session_strategy.unwrap_or(if self.has_adapter {
            SessionStrategy::Database
        } else {
            SessionStrategy::Jwt
        })
    }

    /// The first problem of the set-up, if any.
    pub fn check(&self) -> Result<(), ConfigError> {
        if self.providers.contains(&ProviderKind::Email) && !self.has_adapter {
            return Err(ConfigError(ErrorCode::EmailRequiresAdapterError));
        }
        if self.providers.contains(&ProviderKind::Credentials)
            && self.effective_session_strategy() == SessionStrategy::Database
        {
            return Err(ConfigError(ErrorCode::CallbackCredentialsJwtError));
        }
        Ok(())
    }
}

/// A set-up problem, with its NextAuth.js code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("[{}] {}", .0.as_str(), .0.hint())]
pub struct ConfigError(ErrorCode);

impl ConfigError {
    /// The code: EMAIL_REQUIRES_ADAPTER_ERROR or CALLBACK_CREDENTIALS_JWT_ERROR.
    pub fn code(&self) -> ErrorCode {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fine_set_ups_pass() {
        assert!(AuthConfig::new()
            .provider(ProviderKind::OAuth)
            .check()
            .is_ok());
        assert!(AuthConfig::new()
            .provider(ProviderKind::Credentials)
            .check()
            .is_ok());
        assert!(AuthConfig::new()
            .with_adapter()
            .provider(ProviderKind::Email)
            .provider(ProviderKind::OAuth)
            .check()
            .is_ok());
    }

    #[test]
    fn credentials_with_explicit_database_sessions_fail_even_without_adapter() {
        let err = AuthConfig::new()
            .provider(ProviderKind::Credentials)
            .session_strategy(SessionStrategy::Database)
            .check()
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::CallbackCredentialsJwtError);
        assert!(err
            .to_string()
            .starts_with("[CALLBACK_CREDENTIALS_JWT_ERROR] "));
    }
}
