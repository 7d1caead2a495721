//! What a backend gives the suite: a fresh, isolated adapter per scenario ([`Fixture`]) and
//! a raw view of its storage ([`Inspector`]).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use auth_core::{Account, Adapter, AdapterError, Authenticator, Session, User, VerificationToken};

/// Any error of a raw read or of setting a backend up.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// One scenario's world: an adapter on its own database (schema, key prefix, collection
/// set, file) and the inspector that reads that storage directly.
pub struct Fixture {
    /// The adapter under test, as an app would hold it.
    pub adapter: Arc<dyn Adapter>,
    /// Raw reads of what the adapter stored, bypassing the adapter.
    pub inspector: Box<dyn Inspector>,
}

impl fmt::Debug for Fixture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fixture")
            .field("adapter", &self.adapter)
            .finish_non_exhaustive()
    }
}

/// An adapter pointed at a server that refuses connections, for the outage scenario.
#[derive(Debug)]
pub struct Unreachable {
    /// The connect or acquire timeout the adapter was configured with: calls must fail
    /// within it (plus a little slack).
    pub timeout: Duration,
    /// The adapter, or the error its `connect` gave (which must then be
    /// ADAPTER_CONNECTION_ERROR too).
    pub adapter: Result<Arc<dyn Adapter>, AdapterError>,
}

/// Reads a backend's storage directly, as Auth.js's suite reads `db.*`, so a scenario can
/// check what was really stored rather than what the adapter says it stored.
///
/// Every read returns the record as the storage holds it (`None` when absent), decoding
/// the backend's own format, never calling the adapter's read methods.
#[async_trait]
pub trait Inspector: Send + Sync {
    /// The stored user row/document/key with this id.
    async fn stored_user(&self, id: &str) -> Result<Option<User>, BoxError>;
    /// The stored account with this key.
    async fn stored_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> Result<Option<Account>, BoxError>;
    /// The stored session with this token, expired or not (unless the store itself
    /// expires it, as Redis and TTL indexes do).
    async fn stored_session(&self, session_token: &str) -> Result<Option<Session>, BoxError>;
    /// The stored verification token with this key.
    async fn stored_verification_token(
        &self,
        identifier: &str,
        token: &str,
    ) -> Result<Option<VerificationToken>, BoxError>;
    /// The stored authenticator with this credential id.
    async fn stored_authenticator(
        &self,
        credential_id: &str,
    ) -> Result<Option<Authenticator>, BoxError>;
    /// Every stored record that names `user_id` as its owner (sessions expired or not), found
    /// by scanning the storage itself rather than through the user's own indexes, so an
    /// orphan left behind by a broken or racing delete shows up.
    async fn records_of_user(&self, user_id: &str) -> Result<UserRecords, BoxError>;
    /// Everything the fixture's storage holds, as text: every key, column value, field and
    /// member, undecoded, for checks that must see what a stolen copy would (no clear
    /// token anywhere, say). The default says the backend cannot list its storage.
    async fn dump(&self) -> Result<Vec<String>, BoxError> {
        Err("this backend's inspector cannot dump its storage".into())
    }
    /// Runs the backend's `migrate()` again on the fixture's storage.
    async fn migrate(&self) -> Result<(), AdapterError>;
    /// Builds an adapter of this backend whose server refuses connections.
    async fn unreachable(&self) -> Unreachable;
    /// Drops the fixture's database, schema, prefix or file. Called after every scenario,
    /// passed or failed.
    async fn teardown(&self) -> Result<(), BoxError>;
    /// Where the fixture's data lives, for tools that reach the storage without the adapter
    /// (a benchmark's raw-driver floor, say); `None` (the default) when the backend does not
    /// say.
    fn location(&self) -> Option<StorageLocation> {
        None
    }
}

/// Where a fixture's data lives (see [`Inspector::location`]): enough for a tool to open
/// the same storage with the bare driver.
///
/// ```
/// use adapter_conformance::StorageLocation;
/// let here = StorageLocation {
///     url: "redis://127.0.0.1:6379".to_owned(),
///     namespace: "auth-test-1:".to_owned(),
///     connections: 1,
/// };
/// assert!(here.url.starts_with("redis:"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageLocation {
    /// The server or file URL (`postgres:`, `mysql:`, `sqlite:`, `redis:`, …); for a
    /// cluster, the URLs of its seed nodes joined by commas.
    pub url: String,
    /// What separates the fixture from others on that server: a table prefix, a key prefix,
    /// a database name.
    pub namespace: String,
    /// How many connections the fixture's adapter holds.
    pub connections: usize,
}

/// What [`Inspector::records_of_user`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserRecords {
    /// Accounts whose `user_id` is the user.
    pub accounts: Vec<Account>,
    /// Sessions whose `user_id` is the user, expired or not.
    pub sessions: Vec<Session>,
    /// Authenticators whose `user_id` is the user.
    pub authenticators: Vec<Authenticator>,
}

impl UserRecords {
    /// Whether nothing names the user.
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty() && self.sessions.is_empty() && self.authenticators.is_empty()
    }
}

/// A source of fresh fixtures for one backend (one server, one embedded mode).
#[async_trait]
pub trait Backend: Send + Sync + fmt::Debug {
    /// A new isolated adapter with its schema migrated, and its inspector.
    async fn fixture(&self) -> Result<Fixture, BoxError>;

    /// The scenarios this backend fails by design, each with the reason (a storage layout
    /// shared with another program that cannot hold a guarantee, say). The default: none.
    ///
    /// A gap is not a skip: the scenario still runs, and must *fail* — then it is reported as
    /// a documented gap, with its reason and the failure, and counts as passed. Should it
    /// pass, the trial fails, because the list (and the documentation quoting it) is wrong.
    fn gaps(&self) -> &'static [Gap] {
        &[]
    }

    /// What the model check (scenario 44) leaves out on this backend. The default: what its
    /// [`gaps`](Backend::gaps) imply ([`Rules::from_gaps`](crate::model::Rules::from_gaps));
    /// a layout with a limit no scenario names (a key format it shares with another
    /// program, say) adds it here, and documents it.
    fn model_rules(&self) -> crate::model::Rules {
        crate::model::Rules::from_gaps(self.gaps())
    }
}

/// A scenario a backend fails by design, and why (see [`Backend::gaps`]).
///
/// ```
/// use adapter_conformance::Gap;
/// const GAPS: &[Gap] = &[Gap {
///     scenario: "s17_duplicates_conflict",
///     reason: "the database assigns user ids, so a repeated id is a new user",
/// }];
/// assert!(adapter_conformance::scenario(GAPS[0].scenario).is_some());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gap {
    /// The scenario's function name, e.g. `s17_duplicates_conflict`.
    pub scenario: &'static str,
    /// Why the backend cannot hold it, in one sentence.
    pub reason: &'static str,
}
