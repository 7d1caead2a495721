//! The error catalogue (every NextAuth.js error code plus the per-method codes this
//! contract adds) and [`AdapterError`], the one error type every adapter returns.

use std::error::Error as StdError;
use std::fmt;
use std::str::FromStr;

/// Where an [`ErrorCode`] belongs on the NextAuth.js errors page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorSection {
    /// Raised by the browser or universal client.
    Client,
    /// OAuth provider round trips.
    OAuth,
    /// Sign-in and callback handling.
    SignIn,
    /// Session handling (JWT or database).
    Session,
    /// Signing out.
    SignOut,
    /// The database adapter.
    Database,
    /// Everything else.
    Other,
}

macro_rules! error_codes {
    ($( $(#[$doc:meta])* $variant:ident = $text:literal, $section:ident, $hint:literal; )*) => {
        /// Every error code of the NextAuth.js errors page, plus the per-method codes that
        /// the adapter contract adds (`UPDATE_USER_ERROR`, `MIGRATION_ERROR`, …).
        ///
        /// ```
        /// use auth_core::{ErrorCode, ErrorSection};
        ///
        /// let code: ErrorCode = "GET_SESSION_ERROR".parse().unwrap();
        /// assert_eq!(code, ErrorCode::GetSessionError);
        /// assert_eq!(code.as_str(), "GET_SESSION_ERROR");
        /// assert_eq!(code.section(), ErrorSection::Database);
        /// assert!(!code.hint().is_empty());
        /// ```
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $( $(#[$doc])* $variant, )*
        }

        impl ErrorCode {
            /// The whole catalogue, in the order of the errors page.
            pub const ALL: &'static [ErrorCode] = &[$( ErrorCode::$variant, )*];

            /// The code as NextAuth.js prints it, e.g. `GET_SESSION_ERROR`.
            pub fn as_str(self) -> &'static str {
                match self { $( ErrorCode::$variant => $text, )* }
            }

            /// The section of the errors page the code belongs to.
            pub fn section(self) -> ErrorSection {
                match self { $( ErrorCode::$variant => ErrorSection::$section, )* }
            }

            /// One line on what usually causes this error.
            pub fn hint(self) -> &'static str {
                match self { $( ErrorCode::$variant => $hint, )* }
            }
        }
    };
}

error_codes! {
    /// `useSession()` could not fetch the session.
    ClientUseSessionError = "CLIENT_USE_SESSION_ERROR", Client,
        "The client hook failed to fetch session data; check the auth API route.";
    /// The client could not reach the auth API.
    ClientFetchError = "CLIENT_FETCH_ERROR", Client,
        "The client could not reach the auth API; check the configured base URL.";
    /// Exchanging the OAuth code for an access token failed.
    OauthGetAccessTokenError = "OAUTH_GET_ACCESS_TOKEN_ERROR", OAuth,
        "The provider refused the code exchange; check client id, secret and callback URL.";
    /// OAuth 1 token exchange failed.
    OauthV1GetAccessTokenError = "OAUTH_V1_GET_ACCESS_TOKEN_ERROR", OAuth,
        "The OAuth 1 provider refused the token exchange; check the consumer key and secret.";
    /// Fetching the user's profile failed.
    OauthGetProfileError = "OAUTH_GET_PROFILE_ERROR", OAuth,
        "The provider's profile endpoint failed; check scopes and the access token.";
    /// The provider's profile could not be parsed.
    OauthParseProfileError = "OAUTH_PARSE_PROFILE_ERROR", OAuth,
        "The profile the provider returned did not have the expected shape.";
    /// The OAuth callback handler failed.
    OauthCallbackHandlerError = "OAUTH_CALLBACK_HANDLER_ERROR", OAuth,
        "Handling the provider's callback failed; the request may be forged or stale.";
    /// Building the provider's authorization URL failed.
    GetAuthorizationUrlError = "GET_AUTHORIZATION_URL_ERROR", SignIn,
        "The authorization URL could not be built; check the provider's configuration.";
    /// Starting an OAuth sign-in failed.
    SigninOauthError = "SIGNIN_OAUTH_ERROR", SignIn,
        "Starting the OAuth sign-in failed; check the provider's configuration.";
    /// The OAuth callback failed.
    CallbackOauthError = "CALLBACK_OAUTH_ERROR", SignIn,
        "Completing the OAuth sign-in failed; the state or code may be invalid.";
    /// Starting an email sign-in failed.
    SigninEmailError = "SIGNIN_EMAIL_ERROR", SignIn,
        "Starting the email sign-in failed; check the email provider and the adapter.";
    /// The email callback failed.
    CallbackEmailError = "CALLBACK_EMAIL_ERROR", SignIn,
        "Completing the email sign-in failed; the link may be used up or expired.";
    /// An email provider was configured without an adapter.
    EmailRequiresAdapterError = "EMAIL_REQUIRES_ADAPTER_ERROR", SignIn,
        "Email sign-in stores one-time tokens, so it needs a database adapter.";
    /// A credentials provider was configured with database sessions.
    CallbackCredentialsJwtError = "CALLBACK_CREDENTIALS_JWT_ERROR", SignIn,
        "The credentials provider works only with JWT sessions; set the session strategy to JWT.";
    /// The credentials `authorize` handler failed.
    CallbackCredentialsHandlerError = "CALLBACK_CREDENTIALS_HANDLER_ERROR", SignIn,
        "The credentials authorize handler threw or returned something unexpected.";
    /// PKCE verification failed.
    PkceError = "PKCE_ERROR", SignIn,
        "The PKCE code verifier was missing or wrong; check the PKCE cookie settings.";
    /// A JWT session could not be decoded or verified.
    JwtSessionError = "JWT_SESSION_ERROR", Session,
        "The session JWT could not be verified; check the secret and signing algorithms.";
    /// Reading the session failed.
    SessionError = "SESSION_ERROR", Session,
        "Reading the session failed; see the cause for the adapter or JWT error.";
    /// Signing out failed.
    SignoutError = "SIGNOUT_ERROR", SignOut,
        "Signing out failed; the session could not be removed.";
    /// The database could not be reached within the configured timeout.
    AdapterConnectionError = "ADAPTER_CONNECTION_ERROR", Database,
        "The database did not answer in time; check that it runs and the URL is right.";
    /// `create_user` failed.
    CreateUserError = "CREATE_USER_ERROR", Database,
        "The user could not be created; the id or email may be taken.";
    /// `get_user` failed.
    GetUserByIdError = "GET_USER_BY_ID_ERROR", Database,
        "Looking up a user by id failed in the database.";
    /// `get_user_by_email` failed.
    GetUserByEmailError = "GET_USER_BY_EMAIL_ERROR", Database,
        "Looking up a user by email failed in the database.";
    /// `get_user_by_account` failed.
    GetUserByProviderAccountIdError = "GET_USER_BY_PROVIDER_ACCOUNT_ID_ERROR", Database,
        "Looking up a user by provider account failed in the database.";
    /// `link_account` failed.
    LinkAccountError = "LINK_ACCOUNT_ERROR", Database,
        "The account could not be linked; the user may be missing or the account linked already.";
    /// `create_session` failed.
    CreateSessionError = "CREATE_SESSION_ERROR", Database,
        "The session could not be created; the user may be missing or the token taken.";
    /// Reading sessions failed.
    GetSessionError = "GET_SESSION_ERROR", Database,
        "Reading the session failed in the database.";
    /// `update_session` failed.
    UpdateSessionError = "UPDATE_SESSION_ERROR", Database,
        "The session could not be updated in the database.";
    /// Deleting sessions failed.
    DeleteSessionError = "DELETE_SESSION_ERROR", Database,
        "The session could not be deleted from the database.";
    /// `create_verification_token` failed.
    CreateVerificationRequestError = "CREATE_VERIFICATION_REQUEST_ERROR", Database,
        "The verification token could not be stored; the pair may exist already.";
    /// `use_verification_token` failed.
    GetVerificationRequestError = "GET_VERIFICATION_REQUEST_ERROR", Database,
        "The verification token could not be taken from the database.";
    /// Deleting verification tokens failed.
    DeleteVerificationRequestError = "DELETE_VERIFICATION_REQUEST_ERROR", Database,
        "Expired verification tokens could not be removed.";
    /// `update_user` failed.
    UpdateUserError = "UPDATE_USER_ERROR", Database,
        "The user could not be updated; it may be missing or the new email taken.";
    /// `delete_user` failed.
    DeleteUserError = "DELETE_USER_ERROR", Database,
        "The user and its data could not be deleted; nothing was removed.";
    /// `unlink_account` failed.
    UnlinkAccountError = "UNLINK_ACCOUNT_ERROR", Database,
        "The account could not be unlinked in the database.";
    /// `get_account` failed.
    GetAccountError = "GET_ACCOUNT_ERROR", Database,
        "Looking up an account failed in the database.";
    /// `update_account` failed.
    UpdateAccountError = "UPDATE_ACCOUNT_ERROR", Database,
        "The account's tokens could not be updated in the database.";
    /// `create_authenticator` failed.
    CreateAuthenticatorError = "CREATE_AUTHENTICATOR_ERROR", Database,
        "The authenticator could not be stored; the user may be missing or the credential known.";
    /// `get_authenticator` failed.
    GetAuthenticatorError = "GET_AUTHENTICATOR_ERROR", Database,
        "Looking up an authenticator failed in the database.";
    /// `list_authenticators` failed.
    ListAuthenticatorsError = "LIST_AUTHENTICATORS_ERROR", Database,
        "Listing a user's authenticators failed in the database.";
    /// `update_authenticator_counter` failed.
    UpdateAuthenticatorCounterError = "UPDATE_AUTHENTICATOR_COUNTER_ERROR", Database,
        "The authenticator's counter could not be updated; the credential may be unknown.";
    /// `migrate` failed.
    MigrationError = "MIGRATION_ERROR", Database,
        "Creating tables, indexes or constraints failed; check the database user's rights.";
    /// The verification email could not be sent.
    SendVerificationEmailError = "SEND_VERIFICATION_EMAIL_ERROR", Other,
        "The email provider could not send the sign-in email; check the mail server.";
    /// The auth API route is missing.
    MissingNextauthApiRouteError = "MISSING_NEXTAUTH_API_ROUTE_ERROR", Other,
        "The auth API route was not found; check where the handler is mounted.";
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text is not a code of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown error code {0:?}")]
pub struct UnknownErrorCode(pub String);

impl FromStr for ErrorCode {
    type Err = UnknownErrorCode;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ErrorCode::ALL
            .iter()
            .copied()
            .find(|code| code.as_str() == s)
            .ok_or_else(|| UnknownErrorCode(s.to_owned()))
    }
}

/// What went wrong, independent of the method: what a caller branches on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The database could not be reached, or no connection was free, within the timeout.
    Connection,
    /// A unique key is taken (id, email, token, account pair, credential id).
    Conflict,
    /// Something the call needs does not exist (the user of a new session, say).
    NotFound,
    /// The input cannot be stored as given (empty key, NUL byte, over-long value).
    InvalidInput,
    /// Any other failure of the database or driver.
    Backend,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Connection => "connection",
            Self::Conflict => "conflict",
            Self::NotFound => "not found",
            Self::InvalidInput => "invalid input",
            Self::Backend => "backend",
        })
    }
}

/// The adapter call that failed; each has its own [`ErrorCode`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[allow(missing_docs)] // one variant per `Adapter` method, named after it
pub enum Operation {
    Connect,
    Migrate,
    CreateUser,
    GetUser,
    GetUserByEmail,
    GetUserByAccount,
    UpdateUser,
    DeleteUser,
    LinkAccount,
    UnlinkAccount,
    GetAccount,
    UpdateAccount,
    CreateSession,
    GetSessionAndUser,
    UpdateSession,
    DeleteSession,
    ListSessions,
    DeleteSessions,
    CreateVerificationToken,
    UseVerificationToken,
    CreateAuthenticator,
    GetAuthenticator,
    ListAuthenticators,
    UpdateAuthenticatorCounter,
    DeleteExpired,
}

impl Operation {
    /// The method's name, e.g. `get_session_and_user`.
    ///
    /// ```
    /// assert_eq!(auth_core::Operation::UseVerificationToken.as_str(), "use_verification_token");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Connect => "connect",
            Self::Migrate => "migrate",
            Self::CreateUser => "create_user",
            Self::GetUser => "get_user",
            Self::GetUserByEmail => "get_user_by_email",
            Self::GetUserByAccount => "get_user_by_account",
            Self::UpdateUser => "update_user",
            Self::DeleteUser => "delete_user",
            Self::LinkAccount => "link_account",
            Self::UnlinkAccount => "unlink_account",
            Self::GetAccount => "get_account",
            Self::UpdateAccount => "update_account",
            Self::CreateSession => "create_session",
            Self::GetSessionAndUser => "get_session_and_user",
            Self::UpdateSession => "update_session",
            Self::DeleteSession => "delete_session",
            Self::ListSessions => "list_sessions",
            Self::DeleteSessions => "delete_sessions",
            Self::CreateVerificationToken => "create_verification_token",
            Self::UseVerificationToken => "use_verification_token",
            Self::CreateAuthenticator => "create_authenticator",
            Self::GetAuthenticator => "get_authenticator",
            Self::ListAuthenticators => "list_authenticators",
            Self::UpdateAuthenticatorCounter => "update_authenticator_counter",
            Self::DeleteExpired => "delete_expired",
        }
    }

    /// The code an error of this method carries (unless it is a connection failure).
    ///
    /// ```
    /// use auth_core::{ErrorCode, Operation};
    /// assert_eq!(Operation::GetUser.code(), ErrorCode::GetUserByIdError);
    /// ```
    pub fn code(self) -> ErrorCode {
        use ErrorCode as C;
        match self {
            Self::Connect => C::AdapterConnectionError,
            Self::Migrate => C::MigrationError,
            Self::CreateUser => C::CreateUserError,
            Self::GetUser => C::GetUserByIdError,
            Self::GetUserByEmail => C::GetUserByEmailError,
            Self::GetUserByAccount => C::GetUserByProviderAccountIdError,
            Self::UpdateUser => C::UpdateUserError,
            Self::DeleteUser => C::DeleteUserError,
            Self::LinkAccount => C::LinkAccountError,
            Self::UnlinkAccount => C::UnlinkAccountError,
            Self::GetAccount => C::GetAccountError,
            Self::UpdateAccount => C::UpdateAccountError,
            Self::CreateSession => C::CreateSessionError,
            Self::GetSessionAndUser | Self::ListSessions => C::GetSessionError,
            Self::UpdateSession => C::UpdateSessionError,
            Self::DeleteSession | Self::DeleteSessions | Self::DeleteExpired => {
                C::DeleteSessionError
            }
            Self::CreateVerificationToken => C::CreateVerificationRequestError,
            Self::UseVerificationToken => C::GetVerificationRequestError,
            Self::CreateAuthenticator => C::CreateAuthenticatorError,
            Self::GetAuthenticator => C::GetAuthenticatorError,
            Self::ListAuthenticators => C::ListAuthenticatorsError,
            Self::UpdateAuthenticatorCounter => C::UpdateAuthenticatorCounterError,
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// The error every adapter method returns.
///
/// Displayed as `[CODE] operation: cause`. Branch on [`kind`](Self::kind); log the
/// [`code`](Self::code); the driver's own error is the [`source`](StdError::source).
///
/// ```
/// use auth_core::{AdapterError, ErrorCode, ErrorKind, Operation};
///
/// let err = AdapterError::conflict(Operation::CreateUser, "email is taken");
/// assert_eq!(err.code(), ErrorCode::CreateUserError);
/// assert_eq!(err.kind(), ErrorKind::Conflict);
/// assert_eq!(err.to_string(), "[CREATE_USER_ERROR] create_user: email is taken");
///
/// // A connection failure carries ADAPTER_CONNECTION_ERROR whatever the method.
/// let io = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
/// let err = AdapterError::connection(Operation::GetSessionAndUser, io);
/// assert_eq!(err.code(), ErrorCode::AdapterConnectionError);
/// assert_eq!(err.operation(), Operation::GetSessionAndUser);
/// ```
#[derive(Debug)]
pub struct AdapterError {
    code: ErrorCode,
    kind: ErrorKind,
    operation: Operation,
    message: String,
    source: Option<BoxError>,
}

impl AdapterError {
    /// An error of the given kind with a message. The code follows from the operation,
    /// or is ADAPTER_CONNECTION_ERROR for [`ErrorKind::Connection`].
    pub fn new(operation: Operation, kind: ErrorKind, message: impl Into<String>) -> Self {
        let code = match kind {
            ErrorKind::Connection => ErrorCode::AdapterConnectionError,
            _ => operation.code(),
        };
        Self {
            code,
            kind,
            operation,
            message: message.into(),
            source: None,
        }
    }

    /// Wraps a driver error in one call: the adapter classifies it into a kind
    /// (unique violation → `Conflict`, refused or timed out → `Connection`, …) and the
    /// driver error becomes the [`source`](StdError::source).
    ///
    /// ```
    /// use auth_core::{AdapterError, ErrorKind, Operation};
    ///
    /// let io = std::io::Error::from(std::io::ErrorKind::TimedOut);
    /// let kind = auth_core::error::kind_of_io_error(&io);
    /// let err = AdapterError::from_driver(Operation::GetUser, kind, io);
    /// assert_eq!(err.kind(), ErrorKind::Connection);
    /// assert!(std::error::Error::source(&err).is_some());
    /// ```
    pub fn from_driver<E>(operation: Operation, kind: ErrorKind, err: E) -> Self
    where
        E: StdError + Send + Sync + 'static,
    {
        let mut this = Self::new(operation, kind, err.to_string());
        this.source = Some(Box::new(err));
        this
    }

    /// The database could not be reached within the timeout.
    pub fn connection<E>(operation: Operation, err: E) -> Self
    where
        E: StdError + Send + Sync + 'static,
    {
        Self::from_driver(operation, ErrorKind::Connection, err)
    }

    /// A unique key is taken.
    pub fn conflict(operation: Operation, message: impl Into<String>) -> Self {
        Self::new(operation, ErrorKind::Conflict, message)
    }

    /// Something the call needs does not exist.
    pub fn not_found(operation: Operation, message: impl Into<String>) -> Self {
        Self::new(operation, ErrorKind::NotFound, message)
    }

    /// The input cannot be stored as given.
    pub fn invalid_input(operation: Operation, message: impl Into<String>) -> Self {
        Self::new(operation, ErrorKind::InvalidInput, message)
    }

    /// Any other failure of the backend.
    pub fn backend(operation: Operation, message: impl Into<String>) -> Self {
        Self::new(operation, ErrorKind::Backend, message)
    }

    /// Replaces the code, for the few methods with two (`delete_expired` reports
    /// DELETE_VERIFICATION_REQUEST_ERROR when the token sweep fails).
    pub fn with_code(mut self, code: ErrorCode) -> Self {
        self.code = code;
        self
    }

    /// Attaches the underlying error.
    pub fn with_source<E>(mut self, err: E) -> Self
    where
        E: StdError + Send + Sync + 'static,
    {
        self.source = Some(Box::new(err));
        self
    }

    /// The catalogue code, e.g. CREATE_USER_ERROR.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// What went wrong, for branching.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The method that failed.
    pub fn operation(&self) -> Operation {
        self.operation
    }

    /// The cause as text (the driver error's message when there is one).
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for AdapterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}: {}", self.code, self.operation, self.message)
    }
}

impl StdError for AdapterError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static))
    }
}

/// The kind of an I/O error from a driver: refused, reset, timed out and the like are
/// [`ErrorKind::Connection`], anything else [`ErrorKind::Backend`].
///
/// ```
/// use auth_core::ErrorKind;
/// let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
/// assert_eq!(auth_core::error::kind_of_io_error(&refused), ErrorKind::Connection);
/// ```
pub fn kind_of_io_error(err: &std::io::Error) -> ErrorKind {
    use std::io::ErrorKind as Io;
    match err.kind() {
        Io::ConnectionRefused
        | Io::ConnectionReset
        | Io::ConnectionAborted
        | Io::NotConnected
        | Io::BrokenPipe
        | Io::TimedOut
        | Io::AddrNotAvailable
        | Io::UnexpectedEof
        | Io::HostUnreachable
        | Io::NetworkUnreachable
        | Io::NetworkDown => ErrorKind::Connection,
        _ => ErrorKind::Backend,
    }
}

/// Input checks every adapter shares, so each rejects bad input the same way.
pub mod validate {
    use super::{AdapterError, Operation};

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

    /// A NUL byte, for backends that cannot store one (PostgreSQL text, C strings).
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
                format!("{field} contains a NUL byte, which this backend cannot store"),
            ))
        } else {
            Ok(())
        }
    }

    /// A value longer (in bytes) than the backend's column or key allows.
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
                    "{field} is {} bytes long; this backend stores at most {max_bytes}",
                    value.len()
                ),
            ))
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The copy of the NextAuth.js errors page kept in the crate.
    const ERRORS_PAGE: &str = include_str!("nextauth-errors.md");

    fn codes_on_page() -> Vec<&'static str> {
        ERRORS_PAGE
            .lines()
            .filter_map(|line| line.strip_prefix("#### "))
            .map(str::trim)
            .collect()
    }

    #[test]
    fn every_code_of_the_errors_page_is_in_the_catalogue() {
        let page = codes_on_page();
        assert!(page.len() >= 34, "the page copy lost its codes: {page:?}");
        let missing: Vec<_> = page
            .iter()
            .filter(|code| code.parse::<ErrorCode>().is_err())
            .collect();
        assert!(
            missing.is_empty(),
            "codes missing from ErrorCode: {missing:?}"
        );
    }

    #[test]
    fn codes_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for &code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()), "duplicate {code}");
            assert_eq!(code.as_str().parse::<ErrorCode>(), Ok(code));
            assert!(!code.hint().is_empty());
        }
        assert!("NOT_A_CODE".parse::<ErrorCode>().is_err());
    }

    #[test]
    fn page_sections_match() {
        use ErrorSection as S;
        let expect = [
            ("CLIENT_FETCH_ERROR", S::Client),
            ("OAUTH_GET_PROFILE_ERROR", S::OAuth),
            ("PKCE_ERROR", S::SignIn),
            ("JWT_SESSION_ERROR", S::Session),
            ("SIGNOUT_ERROR", S::SignOut),
            ("ADAPTER_CONNECTION_ERROR", S::Database),
            ("MISSING_NEXTAUTH_API_ROUTE_ERROR", S::Other),
        ];
        for (text, section) in expect {
            let code: ErrorCode = text.parse().expect("known code");
            assert_eq!(code.section(), section, "{text}");
        }
    }

    #[test]
    fn every_operation_code_is_a_database_code() {
        use Operation as O;
        for op in [
            O::Connect,
            O::Migrate,
            O::CreateUser,
            O::DeleteExpired,
            O::UpdateAuthenticatorCounter,
        ] {
            assert_eq!(op.code().section(), ErrorSection::Database);
        }
    }

    #[test]
    fn display_and_source() {
        let io = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let err =
            AdapterError::from_driver(Operation::GetSessionAndUser, kind_of_io_error(&io), io);
        assert_eq!(err.code(), ErrorCode::AdapterConnectionError);
        assert!(err
            .to_string()
            .starts_with("[ADAPTER_CONNECTION_ERROR] get_session_and_user: "));
        assert!(StdError::source(&err).is_some());
    }
}
