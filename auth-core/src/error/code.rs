//! The catalogue of error codes: every code of the NextAuth.js errors page plus the
//! per-method codes this contract adds, each with its section and a hint.

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
