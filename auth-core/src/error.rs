//! The error catalogue (every NextAuth.js error code plus the per-method codes this
//! contract adds) and [`AdapterError`], the one error type every adapter returns.

use std::error::Error as StdError;
use std::fmt;

mod code;
pub mod validate;

pub use code::{ErrorCode, ErrorSection, UnknownErrorCode};

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
    /// The database rolled the call's transaction back because it lost a race.
    transient: bool,
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
            transient: false,
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

    /// Marks the error as a transaction the database rolled back because it lost a race (a
    /// deadlock, a serialization failure: SQLSTATE 40001 or 40P01): running the same call
    /// again may succeed. The policy layer runs such a store call again itself, up to
    /// [`TRANSIENT_RETRIES`](crate::TRANSIENT_RETRIES) times; one that still fails
    /// reaches the caller marked.
    ///
    /// ```
    /// use auth_core::{AdapterError, Operation};
    /// let err = AdapterError::backend(Operation::CreateSession, "deadlock").transient();
    /// assert!(err.is_transient());
    /// assert!(!AdapterError::backend(Operation::CreateSession, "disk full").is_transient());
    /// ```
    pub fn transient(mut self) -> Self {
        self.transient = true;
        self
    }

    /// Whether the database rolled the call back because it lost a race (see
    /// [`transient`](Self::transient)).
    pub fn is_transient(&self) -> bool {
        self.transient
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
