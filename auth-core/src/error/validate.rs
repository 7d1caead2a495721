//! The input rules of the contract, applied by the policy layer before any I/O, so every
//! backend accepts and refuses exactly the same values.
//!
//! | field | cap | also |
//! |---|---|---|
//! | ids, tokens, `provider`, `provider_account_id`, `identifier`, `user_id` ([`MAX_KEY_BYTES`]) | 255 bytes | not empty |
//! | `email` ([`MAX_EMAIL_BYTES`], the address and its [`normalize_email`](crate::normalize_email) key) | 320 bytes | not blank |
//! | `credential_id` ([`MAX_CREDENTIAL_ID_BYTES`]) | 512 bytes | not empty |
//! | every other text: name, image, OAuth tokens, scope, public key, … ([`MAX_TEXT_BYTES`]) | 65,535 bytes | |
//!
//! No string may hold a NUL byte (PostgreSQL text cannot store one, so no backend does).
//! A write with a value over its cap is `InvalidInput`; a read of a key that could never
//! have been stored answers "absent" without asking the database.

use super::{AdapterError, Operation};

/// The longest id, token or key part, in bytes (MySQL/MariaDB key columns hold 255).
pub const MAX_KEY_BYTES: usize = 255;
/// The longest email address (and its normalized key), in bytes.
pub const MAX_EMAIL_BYTES: usize = 320;
/// The longest WebAuthn credential id, in bytes.
pub const MAX_CREDENTIAL_ID_BYTES: usize = 512;
/// The longest other text (MySQL/MariaDB `TEXT`), in bytes.
pub const MAX_TEXT_BYTES: usize = 65_535;

/// What kind of value a field holds, which sets its cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// An id, token or key part: not empty, at most [`MAX_KEY_BYTES`].
    Key,
    /// A WebAuthn credential id: not empty, at most [`MAX_CREDENTIAL_ID_BYTES`].
    CredentialId,
    /// An email address: not blank, at most [`MAX_EMAIL_BYTES`].
    Email,
    /// Any other text: at most [`MAX_TEXT_BYTES`], may be empty.
    Text,
}

impl Field {
    /// The cap of this kind of field, in bytes.
    ///
    /// ```
    /// use auth_core::validate::{Field, MAX_KEY_BYTES};
    /// assert_eq!(Field::Key.max_bytes(), MAX_KEY_BYTES);
    /// ```
    pub fn max_bytes(self) -> usize {
        match self {
            Field::Key => MAX_KEY_BYTES,
            Field::CredentialId => MAX_CREDENTIAL_ID_BYTES,
            Field::Email => MAX_EMAIL_BYTES,
            Field::Text => MAX_TEXT_BYTES,
        }
    }

    /// Whether a value of this field could have been stored (and so can be found).
    ///
    /// ```
    /// use auth_core::validate::Field;
    /// assert!(Field::Key.admits("session-1"));
    /// assert!(!Field::Key.admits(""));
    /// assert!(!Field::Key.admits("a\0b"));
    /// assert!(!Field::Key.admits(&"x".repeat(256)));
    /// assert!(Field::Text.admits(""));
    /// ```
    pub fn admits(self, value: &str) -> bool {
        self.check(Operation::GetUser, "value", value).is_ok()
    }

    /// `InvalidInput` for `operation` unless the value fits this field.
    ///
    /// ```
    /// use auth_core::validate::Field;
    /// use auth_core::{ErrorKind, ErrorCode, Operation};
    /// let err = Field::Key.check(Operation::CreateSession, "session_token", "").unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::InvalidInput);
    /// assert_eq!(err.code(), ErrorCode::CreateSessionError);
    /// ```
    pub fn check(self, operation: Operation, field: &str, value: &str) -> Result<(), AdapterError> {
        match self {
            Field::Key | Field::CredentialId => non_empty(operation, field, value)?,
            Field::Email if value.trim().is_empty() => {
                return Err(AdapterError::invalid_input(
                    operation,
                    format!("{field} must not be blank (use None for no email)"),
                ))
            }
            Field::Email | Field::Text => {}
        }
        max_len(operation, field, value, self.max_bytes())?;
        no_nul(operation, field, value)
    }

    /// [`check`](Self::check) for an optional value (`None` passes).
    pub fn check_opt(
        self,
        operation: Operation,
        field: &str,
        value: Option<&str>,
    ) -> Result<(), AdapterError> {
        value.map_or(Ok(()), |v| self.check(operation, field, v))
    }
}

/// An empty id, token or key part is [`InvalidInput`](super::ErrorKind::InvalidInput).
///
/// ```
/// use auth_core::{validate, ErrorKind, Operation};
/// assert!(validate::non_empty(Operation::GetUser, "id", "u1").is_ok());
/// let err = validate::non_empty(Operation::CreateSession, "session_token", "").unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::InvalidInput);
/// ```
pub fn non_empty(operation: Operation, field: &str, value: &str) -> Result<(), AdapterError> {
    if value.is_empty() {
        Err(AdapterError::invalid_input(
            operation,
            format!("{field} must not be empty"),
        ))
    } else {
        Ok(())
    }
}

/// A NUL byte, which no backend stores.
///
/// ```
/// use auth_core::{validate, ErrorKind, Operation};
/// let err = validate::no_nul(Operation::CreateUser, "name", "a\0b").unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::InvalidInput);
/// ```
pub fn no_nul(operation: Operation, field: &str, value: &str) -> Result<(), AdapterError> {
    if value.contains('\0') {
        Err(AdapterError::invalid_input(
            operation,
            format!("{field} contains a NUL byte, which no backend stores"),
        ))
    } else {
        Ok(())
    }
}

/// A value longer (in bytes) than its cap.
///
/// ```
/// use auth_core::{validate, Operation};
/// assert!(validate::max_len(Operation::CreateUser, "id", "abc", 2).is_err());
/// assert!(validate::max_len(Operation::CreateUser, "id", "ab", 2).is_ok());
/// ```
pub fn max_len(
    operation: Operation,
    field: &str,
    value: &str,
    max_bytes: usize,
) -> Result<(), AdapterError> {
    if value.len() > max_bytes {
        Err(AdapterError::invalid_input(
            operation,
            format!(
                "{field} is {} bytes long; the contract caps it at {max_bytes}",
                value.len()
            ),
        ))
    } else {
        Ok(())
    }
}
