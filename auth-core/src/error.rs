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
    /// `list_accounts` failed.
    ListAccountsError = "LIST_ACCOUNTS_ERROR", Database,
        "Listing a user's accounts failed in the database.";
    /// `delete_authenticator` failed.
    DeleteAuthenticatorError = "DELETE_AUTHENTICATOR_ERROR", Database,
        "The authenticator could not be deleted from the database.";
    /// `migrate` failed.
    MigrationError = "MIGRATION_ERROR", Database,
        "Creating tables, indexes or constraints failed; check the database user's rights.";
    /// A sealed OAuth token of an account did not open (feature `at-rest`).
    AccountTokenDecryptionError = "ACCOUNT_TOKEN_DECRYPTION_ERROR", Database,
        "A sealed account token failed authentication (tampered, truncated or moved) or names a key id missing from the key ring.";
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
    ListAccounts,
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
    DeleteAuthenticator,
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
            Self::ListAccounts => "list_accounts",
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
            Self::DeleteAuthenticator => "delete_authenticator",
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
            Self::ListAccounts => C::ListAccountsError,
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
            Self::DeleteAuthenticator => C::DeleteAuthenticatorError,
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error every adapter method returns.
///
/// Displayed as `[CODE] operation: what went wrong`, in our own words; the driver's error
/// is the [`source`](StdError::source) chain, so a report that walks the chain (anyhow,
/// eyre, `Box<dyn Error>` in `main`) prints each cause once. Branch on
/// [`kind`](Self::kind); log the [`code`](Self::code).
///
/// No part of it carries a secret: a driver message that reports a duplicate key (and so
/// quotes the key) is withheld, the values of the failed call that are secrets (tokens,
/// keys) are replaced by `<redacted>` wherever they appear, and the chain keeps only the
/// text of each cause, never a driver's `Debug` (which can hold the key and the server's
/// source line).
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
/// // The cause is the source, not repeated in the message.
/// assert_eq!(err.to_string(), "[ADAPTER_CONNECTION_ERROR] get_session_and_user: the database could not be reached");
/// assert_eq!(std::error::Error::source(&err).unwrap().to_string(), "connection refused");
/// ```
pub struct AdapterError {
    code: ErrorCode,
    kind: ErrorKind,
    operation: Operation,
    message: String,
    cause: Option<Box<Cause>>,
}

/// One cause in an [`AdapterError`]'s [`source`](StdError::source) chain: the text of the
/// driver's error at that depth, with secrets removed. Its own `source()` is the next cause.
///
/// ```
/// use auth_core::{AdapterError, ErrorKind, Operation};
///
/// let io = std::io::Error::other("tls handshake failed");
/// let err = AdapterError::from_driver(Operation::Connect, ErrorKind::Connection, io);
/// let cause = err.cause().unwrap();
/// assert_eq!(cause.to_string(), "tls handshake failed");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Cause {
    text: String,
    next: Option<Box<Cause>>,
}

impl Cause {
    /// The cause chain of `err` as text: `err` itself, then each of its sources.
    fn chain_of(err: &(dyn StdError + 'static)) -> Self {
        let mut texts = Vec::new();
        let mut next: Option<&(dyn StdError + 'static)> = Some(err);
        while let Some(e) = next {
            let text = e.to_string();
            // Many drivers print their cause in their own `Display` *and* return it from
            // `source()`: a level the level above already shows would repeat the message.
            if !texts
                .last()
                .is_some_and(|above: &String| above.contains(&text))
            {
                texts.push(text);
            }
            next = e.source();
        }
        Self::from_texts(texts).unwrap_or_else(|| Self {
            text: String::new(),
            next: None,
        })
    }

    fn from_texts(texts: Vec<String>) -> Option<Self> {
        texts.into_iter().rev().fold(None, |next, text| {
            Some(Self {
                text,
                next: next.map(Box::new),
            })
        })
    }

    fn texts(&self) -> impl Iterator<Item = &str> {
        std::iter::successors(Some(self), |c| c.next.as_deref()).map(|c| c.text.as_str())
    }

    fn redact(&mut self, secrets: &[&str]) {
        self.text = redact_text(&self.text, secrets);
        if let Some(next) = &mut self.next {
            next.redact(secrets);
        }
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.text, f)
    }
}

impl StdError for Cause {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.next.as_deref().map(|c| c as &(dyn StdError + 'static))
    }
}

/// What a driver's duplicate-key message is replaced with: it quotes the key, and the key
/// may be a session token.
const WITHHELD_DUPLICATE: &str =
    "duplicate key (the database's message is withheld: it quotes the key)";

/// The shortest value [`AdapterError::redact`] replaces: shorter ones are no secret and
/// would mangle ordinary words.
pub const MIN_REDACTED_LEN: usize = 4;

fn redact_text(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_owned();
    // Longest first, so a secret that contains another is replaced whole.
    let mut secrets: Vec<&str> = secrets
        .iter()
        .copied()
        .filter(|s| s.len() >= MIN_REDACTED_LEN)
        .collect();
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    for secret in secrets {
        if out.contains(secret) {
            out = out.replace(secret, "<redacted>");
        }
    }
    out
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
            cause: None,
        }
    }

    /// Wraps a driver error in one call: the adapter classifies it into a kind
    /// (unique violation → `Conflict`, refused or timed out → `Connection`, …); the message
    /// says what went wrong in our words and the driver error's text becomes the
    /// [`source`](StdError::source) chain. For `Conflict` the driver's text is withheld,
    /// since a duplicate-key message quotes the key.
    ///
    /// ```
    /// use auth_core::{AdapterError, ErrorKind, Operation};
    ///
    /// let io = std::io::Error::from(std::io::ErrorKind::TimedOut);
    /// let kind = auth_core::error::kind_of_io_error(&io);
    /// let err = AdapterError::from_driver(Operation::GetUser, kind, io);
    /// assert_eq!(err.kind(), ErrorKind::Connection);
    /// assert!(std::error::Error::source(&err).is_some());
    ///
    /// let dup = std::io::Error::other("Duplicate entry 'secret-token' for key 'PRIMARY'");
    /// let err = AdapterError::from_driver(Operation::CreateSession, ErrorKind::Conflict, dup);
    /// assert!(!format!("{err} {err:?}").contains("secret-token"));
    /// ```
    pub fn from_driver<E>(operation: Operation, kind: ErrorKind, err: E) -> Self
    where
        E: StdError + Send + Sync + 'static,
    {
        Self::new(operation, kind, default_message(kind)).with_source(err)
    }

    /// The database could not be reached within the timeout.
    pub fn connection<E>(operation: Operation, err: E) -> Self
    where
        E: StdError + Send + Sync + 'static,
    {
        Self::from_driver(operation, ErrorKind::Connection, err)
    }

    /// The server did not answer within `limit`: a connection error, so a paused or
    /// unreachable server reads the same on every adapter that bounds its calls.
    ///
    /// ```
    /// use auth_core::{AdapterError, ErrorCode, Operation};
    /// let err = AdapterError::timed_out(Operation::GetSessionAndUser, std::time::Duration::from_secs(2));
    /// assert_eq!(err.code(), ErrorCode::AdapterConnectionError);
    /// ```
    pub fn timed_out(operation: Operation, limit: std::time::Duration) -> Self {
        Self::connection(
            operation,
            std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("the database did not answer within {limit:?}"),
            ),
        )
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
    /// DELETE_VERIFICATION_REQUEST_ERROR when the token sweep fails). A connection failure
    /// keeps ADAPTER_CONNECTION_ERROR.
    pub fn with_code(mut self, code: ErrorCode) -> Self {
        if self.kind != ErrorKind::Connection {
            self.code = code;
        }
        self
    }

    /// Attaches the underlying error as the cause chain (its text; withheld for a
    /// `Conflict`, whose driver text quotes the key).
    pub fn with_source<E>(self, err: E) -> Self
    where
        E: StdError + Send + Sync + 'static,
    {
        self.with_source_ref(&err)
    }

    /// [`with_source`](Self::with_source) for an error the caller only borrows (a driver's
    /// boxed inner error, say): its text and its causes', each level left out whose text the
    /// level above already shows.
    ///
    /// ```
    /// use auth_core::{AdapterError, Operation};
    ///
    /// let inner: Box<dyn std::error::Error + Send + Sync> = "unknown value for `mode`".into();
    /// let err = AdapterError::invalid_input(Operation::Connect, "not a SQLite URL")
    ///     .with_source_ref(inner.as_ref());
    /// let cause = std::error::Error::source(&err).unwrap();
    /// assert_eq!(cause.to_string(), "unknown value for `mode`");
    /// ```
    pub fn with_source_ref(mut self, err: &(dyn StdError + 'static)) -> Self {
        self.cause = Some(Box::new(if self.kind == ErrorKind::Conflict {
            Cause {
                text: WITHHELD_DUPLICATE.to_owned(),
                next: None,
            }
        } else {
            Cause::chain_of(err)
        }));
        self
    }

    /// Replaces every occurrence of each value (of at least [`MIN_REDACTED_LEN`] bytes) in
    /// the message and the cause chain with `<redacted>`. The policy layer calls it with
    /// the keys and tokens of the failed call, so whatever a driver quoted stays out of
    /// logs.
    ///
    /// ```
    /// use auth_core::{AdapterError, ErrorKind, Operation};
    ///
    /// let io = std::io::Error::other("no row for token abc123xyz");
    /// let err = AdapterError::from_driver(Operation::DeleteSession, ErrorKind::Backend, io)
    ///     .redact(&["abc123xyz"]);
    /// assert_eq!(err.cause().unwrap().to_string(), "no row for token <redacted>");
    /// ```
    pub fn redact(mut self, secrets: &[&str]) -> Self {
        self.message = redact_text(&self.message, secrets);
        if let Some(cause) = &mut self.cause {
            cause.redact(secrets);
        }
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

    /// What went wrong, in our words (the driver's text is in [`cause`](Self::cause)).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The first cause: the driver's error as text, if there was one.
    pub fn cause(&self) -> Option<&Cause> {
        self.cause.as_deref()
    }
}

/// The message of a driver error of this kind.
fn default_message(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Connection => "the database could not be reached",
        ErrorKind::Conflict => "a unique key is taken",
        ErrorKind::NotFound => "a record the call needs does not exist",
        ErrorKind::InvalidInput => "the database refused the value",
        ErrorKind::Backend => "the database failed",
    }
}

impl fmt::Display for AdapterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}: {}", self.code, self.operation, self.message)
    }
}

/// One line: what `fn main() -> Result<(), Box<dyn Error>>` prints.
impl fmt::Debug for AdapterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")?;
        if let Some(cause) = &self.cause {
            f.write_str(" (caused by: ")?;
            for (i, text) in cause.texts().enumerate() {
                if i > 0 {
                    f.write_str(": ")?;
                }
                f.write_str(text)?;
            }
            f.write_str(")")?;
        }
        Ok(())
    }
}

impl StdError for AdapterError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.cause
            .as_deref()
            .map(|c| c as &(dyn StdError + 'static))
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

/// The input rules of the contract, applied by the policy layer before any I/O, so every
/// backend accepts and refuses exactly the same values.
///
/// | field | cap | also |
/// |---|---|---|
/// | ids, tokens, `provider`, `provider_account_id`, `identifier`, `user_id` ([`MAX_KEY_BYTES`](self::validate::MAX_KEY_BYTES)) | 255 bytes | not empty |
/// | `email` ([`MAX_EMAIL_BYTES`](self::validate::MAX_EMAIL_BYTES), the address and its [`normalize_email`](crate::normalize_email) key) | 320 bytes | not blank |
/// | `credential_id` ([`MAX_CREDENTIAL_ID_BYTES`](self::validate::MAX_CREDENTIAL_ID_BYTES)) | 512 bytes | not empty |
/// | every other text: name, image, OAuth tokens, scope, public key, … ([`MAX_TEXT_BYTES`](self::validate::MAX_TEXT_BYTES)) | 65,535 bytes | |
///
/// No string may hold a NUL byte (PostgreSQL text cannot store one, so no backend does).
/// A write with a value over its cap is `InvalidInput`; a read of a key that could never
/// have been stored answers "absent" without asking the database.
pub mod validate {
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
        pub fn check(
            self,
            operation: Operation,
            field: &str,
            value: &str,
        ) -> Result<(), AdapterError> {
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

    #[test]
    fn a_cause_that_the_level_above_shows_is_left_out() {
        #[derive(Debug)]
        struct Outer(std::io::Error);
        impl fmt::Display for Outer {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "outer: {}", self.0)
            }
        }
        impl StdError for Outer {
            fn source(&self) -> Option<&(dyn StdError + 'static)> {
                Some(&self.0)
            }
        }
        let err = AdapterError::invalid_input(Operation::Connect, "bad")
            .with_source(Outer(std::io::Error::other("inner")));
        let cause = StdError::source(&err).expect("a cause");
        assert_eq!(cause.to_string(), "outer: inner");
        assert!(cause.source().is_none());
        let plain = AdapterError::invalid_input(Operation::Connect, "bad")
            .with_source(std::io::Error::other("alone"));
        assert_eq!(
            StdError::source(&plain).expect("a cause").to_string(),
            "alone"
        );
    }
}
