//! The MongoDB backends of adapter-mongo: one fresh database per scenario
//! (`authtest_<uuid>`), dropped afterwards. `mongo` is the native layout; `mongo-authjs`
//! the Auth.js layout (`@auth/mongodb-adapter`'s collections, ObjectId ids), whose
//! scenarios run through [`AssignedIds`] and whose gaps are [`AUTHJS_GAPS`].
//!
//! The inspector reads the collections with plain `find_one` calls on untyped documents
//! and decodes them itself, never through the adapter or its document types: one
//! inspector for both layouts, over the layout's field names and id form. Extra fields are
//! read with the bson crate's own relaxed Extended JSON, so a number stored with the wrong
//! BSON type (an integer as a double) reads back as a different JSON number, and a stored
//! top-level `null` or empty `extra` shows up.

use std::sync::Arc;
use std::time::Duration;

use crate::layout::{Fields, Layout};
use crate::mongodb::bson::{doc, Bson, Document};
use crate::mongodb::{self, Database};
use crate::MongoAdapter;
use async_trait::async_trait;
use auth_core::chrono::{DateTime, Utc};
use auth_core::{
    Account, AccountType, AdapterError, Authenticator, Extra, Session, User, VerificationToken,
};

use adapter_conformance::backends::assigned_ids::AssignedIds;
use adapter_conformance::harness::{BackendSpec, ContainerPlan, Source};
use adapter_conformance::{Backend, BoxError, Fixture, Gap, Inspector, Unreachable, UserRecords};

/// The environment variable with the MongoDB URL.
pub const ENV_VAR: &str = "AUTH_TEST_MONGO_URL";
/// An example value of [`ENV_VAR`].
pub const EXAMPLE_URL: &str = "mongodb://127.0.0.1:27017";
/// MongoDB in a container: the registry's `mongo:7`, started as a one-node replica set (the
/// adapter's multi-document writes use transactions where the deployment has them).
pub const CONTAINER: ContainerPlan = ContainerPlan {
    image: "mongo",
    tag: "7",
    image_var: Some("AUTH_TEST_MONGO_IMAGE"),
    port: 27017,
    ready: "Waiting for connections",
    ready_times: 1,
    env: &[],
    cmd: &["--replSet", "rs"],
    init: &["mongosh", "--quiet", "--eval", "rs.initiate()"],
    url: container_url,
};
/// The call timeout of the adapter pointed at a dead port.
pub const UNREACHABLE_TIMEOUT: Duration = Duration::from_secs(2);

/// The backends of this module.
pub fn specs() -> Vec<BackendSpec> {
    vec![mongo_spec(), mongo_authjs_spec()]
}

/// The `mongo` backend: a MongoDB deployment from [`ENV_VAR`], else a `mongo:7` container
/// started as a one-node replica set.
pub fn mongo_spec() -> BackendSpec {
    BackendSpec {
        name: "mongo",
        source: Source::Server {
            env_var: ENV_VAR,
            example_url: EXAMPLE_URL,
            container: Some(CONTAINER),
        },
        open: |url| Box::pin(open(url)),
    }
}

/// The `mongo-authjs` backend: the Auth.js layout ([`crate::Layout::AuthJs`]) on
/// the same server as [`mongo_spec`].
///
/// ```
/// let spec = adapter_mongo::conformance::mongo_authjs_spec();
/// assert_eq!(spec.name, "mongo-authjs");
/// assert!(adapter_mongo::conformance::specs().iter().any(|s| s.name == "mongo-authjs"));
/// ```
pub fn mongo_authjs_spec() -> BackendSpec {
    BackendSpec {
        name: "mongo-authjs",
        open: |url| Box::pin(open_authjs(url)),
        ..mongo_spec()
    }
}

/// The scenarios the Auth.js layout fails by design (the crate README's per-layout table
/// quotes them).
///
/// ```
/// for gap in adapter_mongo::conformance::AUTHJS_GAPS {
///     assert!(adapter_conformance::scenario(gap.scenario).is_some(), "{}", gap.scenario);
/// }
/// ```
pub const AUTHJS_GAPS: &[Gap] = &[
    Gap {
        scenario: "s16_concurrent_same_email_has_one_winner",
        reason: "Auth.js stores the email as given and the unique index is on that spelling, so sign-ups of one address in different case all succeed",
    },
    Gap {
        scenario: "s17_duplicates_conflict",
        reason: "user ids are ObjectIds the layout assigns (Auth.js's _id(hex)), so a repeated non-hex id is a new user; and an email in other case is another email",
    },
    Gap {
        scenario: "s20_update_user_moves_email",
        reason: "the unique email index is on the spelling Auth.js stores, so moving to a taken email in other case succeeds",
    },
    Gap {
        scenario: "s29_migrate_is_idempotent",
        reason: "after the migrations it checks that an email in other case is a Conflict; the unique email index is on the spelling Auth.js stores",
    },
];

/// The URL of a one-node replica set published on `host:port` (a direct connection, since
/// the member's own address is the container's).
///
/// ```
/// use adapter_mongo::conformance::container_url;
/// assert_eq!(container_url("localhost", 32768), "mongodb://localhost:32768/?directConnection=true");
/// ```
pub fn container_url(host: &str, port: u16) -> String {
    format!("mongodb://{host}:{port}/?directConnection=true")
}

/// A fresh database name for one fixture, well under MongoDB's 64-byte limit.
///
/// ```
/// let name = adapter_mongo::conformance::fresh_database();
/// assert!(name.starts_with("authtest_") && name.len() < 64);
/// ```
pub fn fresh_database() -> String {
    format!("authtest_{}", uuid::Uuid::now_v7().simple())
}

async fn open(url: Option<String>) -> Result<Arc<dyn Backend>, BoxError> {
    let url = url.ok_or("the mongo backend needs a server URL")?;
    let client = ping(&url).await?;
    Ok(Arc::new(MongoBackend { url, client }))
}

/// A client of the deployment at `url`, which answered `ping`.
async fn ping(url: &str) -> Result<mongodb::Client, BoxError> {
    let mut options = mongodb::options::ClientOptions::parse(url).await?;
    options.server_selection_timeout = Some(Duration::from_secs(10));
    let client = mongodb::Client::with_options(options)?;
    client
        .database("admin")
        .run_command(doc! { "ping": 1 })
        .await
        .map_err(|e| format!("MongoDB at {url} did not answer: {e}"))?;
    Ok(client)
}

async fn open_authjs(url: Option<String>) -> Result<Arc<dyn Backend>, BoxError> {
    let url = url.ok_or("the mongo-authjs backend needs a server URL")?;
    let client = ping(&url).await?;
    Ok(Arc::new(MongoAuthJsBackend { url, client }))
}

/// Hands out adapters in the Auth.js layout on fresh databases of one deployment, with
/// the scenarios' user ids renamed to the ObjectIds the layout assigns.
#[derive(Debug, Clone)]
pub struct MongoAuthJsBackend {
    url: String,
    client: mongodb::Client,
}

/// An adapter in the Auth.js layout (default collection names) on `database` at `url`.
async fn authjs_adapter(url: &str, database: &str) -> Result<MongoAdapter, AdapterError> {
    MongoAdapter::builder(url)
        .database(database)
        .layout(crate::Layout::AuthJs(crate::AuthJsCollections::default()))
        .connect()
        .await
}

#[async_trait]
impl Backend for MongoAuthJsBackend {
    async fn fixture(&self) -> Result<Fixture, BoxError> {
        let name = fresh_database();
        let adapter = authjs_adapter(&self.url, &name).await?;
        adapter.migrate().await?;
        let inspector = MongoInspector {
            db: self.client.database(&name),
            adapter: adapter.clone(),
            layout: Inspected::AuthJs,
        };
        Ok(AssignedIds::fixture(Arc::new(adapter), Box::new(inspector)))
    }

    fn gaps(&self) -> &'static [Gap] {
        AUTHJS_GAPS
    }

    /// Besides the gaps: owned records are written without a transaction (see
    /// [`UNSYNCHRONIZED_OWNERS`]).
    fn model_rules(&self) -> adapter_conformance::model::Rules {
        adapter_conformance::model::Rules {
            unsynchronized_owners: true,
            ..adapter_conformance::model::Rules::from_gaps(AUTHJS_GAPS)
        }
    }
}

/// What the concurrent histories (scenario 45) found, and why their users are kept on both
/// layouts: accounts, sessions and authenticators are inserted without a transaction
/// (insert, check the owner, undo if it is gone), so while a create for a missing user, or
/// a create racing its owner's `delete_user`, is under way, a concurrent `delete_session`,
/// `update_session`, `unlink_account` or create of the same key can see the record that is
/// about to be undone: those answers are not linearizable. Reads never return such a record.
pub const UNSYNCHRONIZED_OWNERS: &str = "owned records are written without a transaction:      a create racing its owner's delete (or made for a missing user) can be seen half-done by      a concurrent delete, update or create of the same key";

/// Auth.js's `_id(hex)`, as the Auth.js layout applies it to lookups: the ObjectId of 24 hex
/// digits, else none (Auth.js would look up a fresh ObjectId, which finds nothing). For
/// tests that read the Auth.js collections raw (the conformance CLI's Auth.js bridge).
///
/// ```
/// use adapter_mongo::conformance::authjs_object_id;
/// assert!(authjs_object_id("65a1f0c2e4b0a1b2c3d4e5f6").is_some());
/// assert!(authjs_object_id("user-1").is_none());
/// ```
pub fn authjs_object_id(id: &str) -> Option<mongodb::bson::oid::ObjectId> {
    crate::authjs::authjs_object_id(id)
}

/// An ObjectId field as hex, as Auth.js's `format.from` shows ids.
fn oid_hex(doc: &Document, key: &str) -> Result<String, BoxError> {
    match doc.get(key) {
        Some(Bson::ObjectId(id)) => Ok(id.to_hex()),
        other => Err(format!("field {key} is {other:?}, not an ObjectId").into()),
    }
}

/// The filter on an id the scenarios name in hex; `None` when it is not an ObjectId (then
/// nothing can be stored under it).
/// Written `{$in: [id]}`: nx-27017 finds nothing on an ObjectId compared for equality
/// outside `_id`, and MongoDB reads both forms alike.
fn by_oid(key: &str, id: &str) -> Option<Document> {
    authjs_object_id(id).map(|oid| doc! { key: { "$in": [oid] } })
}

/// Hands out adapters on fresh databases of one deployment.
#[derive(Debug, Clone)]
pub struct MongoBackend {
    url: String,
    client: mongodb::Client,
}

#[async_trait]
impl Backend for MongoBackend {
    async fn fixture(&self) -> Result<Fixture, BoxError> {
        let name = fresh_database();
        let adapter = MongoAdapter::builder(self.url.as_str())
            .database(name.as_str())
            .connect()
            .await?;
        adapter.migrate().await?;
        let inspector = MongoInspector {
            db: self.client.database(&name),
            adapter: adapter.clone(),
            layout: Inspected::Native,
        };
        Ok(Fixture {
            adapter: Arc::new(adapter),
            inspector: Box::new(inspector),
        })
    }

    /// Owned records are written without a transaction (see [`UNSYNCHRONIZED_OWNERS`]).
    fn model_rules(&self) -> adapter_conformance::model::Rules {
        adapter_conformance::model::Rules {
            unsynchronized_owners: true,
            ..adapter_conformance::model::Rules::default()
        }
    }
}

/// Raw reads of one fixture's database, in either layout: the documents as the layout
/// writes them (the native ones with string ids; Auth.js's with camelCase keys and
/// ObjectId `_id` and `userId`, shown as hex), decoded here and never through the adapter.
#[derive(Debug, Clone)]
pub struct MongoInspector {
    db: Database,
    adapter: MongoAdapter,
    layout: Inspected,
}

/// The layout a [`MongoInspector`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Inspected {
    Native,
    AuthJs,
}

impl Inspected {
    fn fields(self) -> &'static Fields {
        match self {
            Self::Native => &Fields::NATIVE,
            Self::AuthJs => &Fields::AUTHJS,
        }
    }

    fn layout(self) -> Layout {
        match self {
            Self::Native => Layout::Native,
            Self::AuthJs => Layout::AuthJs(crate::AuthJsCollections::default()),
        }
    }

    /// The filter on the id field `key` that the scenarios name `id`; `None` when nothing
    /// can be stored under that id.
    fn by_id(self, key: &str, id: &str) -> Option<Document> {
        match self {
            Self::Native => Some(doc! { key: id }),
            Self::AuthJs => by_oid(key, id),
        }
    }

    /// The id field `key` as the scenarios name it.
    fn id(self, doc: &Document, key: &str) -> Result<String, BoxError> {
        match self {
            Self::Native => required(doc, key),
            Self::AuthJs => oid_hex(doc, key),
        }
    }

    /// What the layout owes of a stored user beyond its fields: the native layout's
    /// `email_normalized` is the email's key; Auth.js's documents have none of the native
    /// fields.
    fn check_user(self, doc: &Document) -> Result<(), BoxError> {
        match self {
            Self::Native => {
                let email = text(doc, "email")?;
                let normalized = text(doc, "email_normalized")?;
                if normalized != email.as_deref().map(auth_core::normalize_email) {
                    return Err(format!(
                        "email_normalized {normalized:?} does not match email {email:?}"
                    )
                    .into());
                }
            }
            Self::AuthJs => {
                for field in ["email_normalized", "email_verified", "id"] {
                    if doc.contains_key(field) {
                        return Err(format!(
                            "a user document has {field}, which Auth.js never writes"
                        )
                        .into());
                    }
                }
            }
        }
        Ok(())
    }

    /// The extra fields of `doc` exactly as stored: the native `extra` sub-document
    /// (absent, never empty), or Auth.js's top-level fields that are not in `own`.
    fn extra(self, doc: &Document, own: &[&str]) -> Result<Extra, BoxError> {
        let fields: Vec<(&String, &Bson)> = match self {
            Self::Native => match doc.get("extra") {
                None => Vec::new(),
                Some(Bson::Document(extra)) if !extra.is_empty() => extra.iter().collect(),
                Some(other) => {
                    return Err(format!("extra is {other:?}, not a non-empty document").into())
                }
            },
            Self::AuthJs => doc
                .iter()
                .filter(|(name, _)| !own.contains(&name.as_str()))
                .collect(),
        };
        Ok(fields
            .into_iter()
            .map(|(name, value)| (name.clone(), value.clone().into_relaxed_extjson()))
            .collect())
    }

    fn account_of(self, doc: &Document) -> Result<Account, BoxError> {
        let f = self.fields();
        let expires_at = match doc.get("expires_at") {
            None | Some(Bson::Null) => None,
            Some(Bson::Int64(n)) => Some(*n),
            Some(Bson::Int32(n)) => Some(i64::from(*n)),
            Some(other) => return Err(format!("expires_at is {other:?}, not an integer").into()),
        };
        Ok(Account {
            extra: self.extra(doc, crate::authjs::ACCOUNT_FIELDS)?,
            user_id: self.id(doc, f.user_id)?,
            account_type: required(doc, "type")?.parse::<AccountType>()?,
            provider: required(doc, "provider")?,
            provider_account_id: required(doc, f.provider_account_id)?,
            refresh_token: text(doc, "refresh_token")?,
            access_token: text(doc, "access_token")?,
            expires_at,
            token_type: text(doc, "token_type")?,
            scope: text(doc, "scope")?,
            id_token: text(doc, "id_token")?,
            session_state: text(doc, "session_state")?,
        })
    }

    fn session_of(self, doc: &Document) -> Result<Session, BoxError> {
        let f = self.fields();
        Ok(Session {
            extra: self.extra(doc, crate::authjs::SESSION_FIELDS)?,
            session_token: required(doc, f.session_token)?,
            user_id: self.id(doc, f.user_id)?,
            expires: required_date(doc, "expires")?,
        })
    }

    fn authenticator_of(self, doc: &Document) -> Result<Authenticator, BoxError> {
        let f = self.fields();
        Ok(Authenticator {
            credential_id: required(doc, f.credential_id)?,
            user_id: self.id(doc, f.user_id)?,
            provider_account_id: required(doc, f.provider_account_id)?,
            credential_public_key: required(doc, f.credential_public_key)?,
            counter: match doc.get("counter") {
                Some(Bson::Int64(n)) => *n,
                Some(Bson::Int32(n)) => i64::from(*n),
                other => return Err(format!("counter is {other:?}, not an integer").into()),
            },
            credential_device_type: required(doc, f.credential_device_type)?,
            credential_backed_up: doc.get_bool(f.credential_backed_up)?,
            transports: text(doc, "transports")?,
        })
    }
}

fn text(doc: &Document, key: &str) -> Result<Option<String>, BoxError> {
    match doc.get(key) {
        None | Some(Bson::Null) => Ok(None),
        Some(Bson::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(format!("field {key} is {other:?}, not a string").into()),
    }
}

fn required(doc: &Document, key: &str) -> Result<String, BoxError> {
    text(doc, key)?.ok_or_else(|| format!("field {key} is missing").into())
}

fn date(doc: &Document, key: &str) -> Result<Option<DateTime<Utc>>, BoxError> {
    match doc.get(key) {
        None | Some(Bson::Null) => Ok(None),
        Some(Bson::DateTime(t)) => Ok(Some(
            DateTime::from_timestamp_millis(t.timestamp_millis()).ok_or("date out of range")?,
        )),
        Some(other) => Err(format!("field {key} is {other:?}, not a BSON date").into()),
    }
}

fn required_date(doc: &Document, key: &str) -> Result<DateTime<Utc>, BoxError> {
    date(doc, key)?.ok_or_else(|| format!("field {key} is missing").into())
}

impl MongoInspector {
    async fn one(&self, collection: &str, filter: Document) -> Result<Option<Document>, BoxError> {
        Ok(self
            .db
            .collection::<Document>(collection)
            .find_one(filter)
            .await?)
    }

    async fn all(&self, collection: &str, filter: Document) -> Result<Vec<Document>, BoxError> {
        use futures::TryStreamExt;
        Ok(self
            .db
            .collection::<Document>(collection)
            .find(filter)
            .await?
            .try_collect()
            .await?)
    }
}

#[async_trait]
impl Inspector for MongoInspector {
    async fn stored_user(&self, id: &str) -> Result<Option<User>, BoxError> {
        let Some(filter) = self.layout.by_id("_id", id) else {
            return Ok(None);
        };
        let names = self.adapter.collections();
        let Some(doc) = self.one(&names.users, filter).await? else {
            return Ok(None);
        };
        self.layout.check_user(&doc)?;
        Ok(Some(User {
            extra: self.layout.extra(&doc, crate::authjs::USER_FIELDS)?,
            id: self.layout.id(&doc, "_id")?,
            email: text(&doc, "email")?,
            email_verified: date(&doc, self.layout.fields().email_verified)?,
            name: text(&doc, "name")?,
            image: text(&doc, "image")?,
        }))
    }

    async fn stored_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> Result<Option<Account>, BoxError> {
        let names = self.adapter.collections();
        let key = self.layout.fields().provider_account_id;
        let filter = doc! { "provider": provider, key: provider_account_id };
        let Some(doc) = self.one(&names.accounts, filter).await? else {
            return Ok(None);
        };
        Ok(Some(self.layout.account_of(&doc)?))
    }

    async fn stored_session(&self, session_token: &str) -> Result<Option<Session>, BoxError> {
        let names = self.adapter.collections();
        let filter = doc! { self.layout.fields().session_token: session_token };
        let Some(doc) = self.one(&names.sessions, filter).await? else {
            return Ok(None);
        };
        Ok(Some(self.layout.session_of(&doc)?))
    }

    async fn stored_verification_token(
        &self,
        identifier: &str,
        token: &str,
    ) -> Result<Option<VerificationToken>, BoxError> {
        let names = self.adapter.collections();
        let filter = doc! { "identifier": identifier, "token": token };
        let Some(doc) = self.one(&names.verification_tokens, filter).await? else {
            return Ok(None);
        };
        Ok(Some(VerificationToken {
            identifier: required(&doc, "identifier")?,
            token: required(&doc, "token")?,
            expires: required_date(&doc, "expires")?,
        }))
    }

    async fn stored_authenticator(
        &self,
        credential_id: &str,
    ) -> Result<Option<Authenticator>, BoxError> {
        let names = self.adapter.collections();
        let filter = doc! { self.layout.fields().credential_id: credential_id };
        let Some(doc) = self.one(&names.authenticators, filter).await? else {
            return Ok(None);
        };
        Ok(Some(self.layout.authenticator_of(&doc)?))
    }

    async fn records_of_user(&self, user_id: &str) -> Result<UserRecords, BoxError> {
        // A plain `find` on the owner field in each collection, never through the adapter
        // (whose reads hide whatever names a user that is gone): an orphan shows up here.
        let mut records = UserRecords::default();
        let Some(owned) = self.layout.by_id(self.layout.fields().user_id, user_id) else {
            return Ok(records);
        };
        let names = self.adapter.collections();
        for doc in self.all(&names.accounts, owned.clone()).await? {
            records.accounts.push(self.layout.account_of(&doc)?);
        }
        for doc in self.all(&names.sessions, owned.clone()).await? {
            records.sessions.push(self.layout.session_of(&doc)?);
        }
        for doc in self.all(&names.authenticators, owned).await? {
            records
                .authenticators
                .push(self.layout.authenticator_of(&doc)?);
        }
        Ok(records)
    }

    async fn migrate(&self) -> Result<(), AdapterError> {
        self.adapter.migrate().await
    }

    async fn unreachable(&self) -> Unreachable {
        let port = adapter_conformance::harness::dead_port();
        let adapter = MongoAdapter::builder(format!("mongodb://127.0.0.1:{port}/dead"))
            .layout(self.layout.layout())
            .call_timeout(UNREACHABLE_TIMEOUT)
            .connect()
            .await
            .map(|a| Arc::new(a) as Arc<dyn auth_core::Adapter>);
        Unreachable {
            timeout: UNREACHABLE_TIMEOUT,
            adapter,
        }
    }

    async fn teardown(&self) -> Result<(), BoxError> {
        Ok(self.db.drop().await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_container_plan_uses_a_current_replica_set_image() {
        let spec = mongo_spec();
        assert_eq!(spec.name, "mongo");
        match spec.source {
            Source::Server {
                env_var,
                example_url,
                container: Some(plan),
            } => {
                assert_eq!(env_var, "AUTH_TEST_MONGO_URL");
                assert_eq!(example_url, "mongodb://127.0.0.1:27017");
                assert_eq!((plan.image, plan.tag), ("mongo", "7"));
            }
            other => panic!("unexpected source {other:?}"),
        }
        // The one-node replica set announces its container hostname: connect directly.
        let url = container_url("127.0.0.1", 32768);
        assert_eq!(url, "mongodb://127.0.0.1:32768/?directConnection=true");
        let parsed = url.parse::<mongodb::options::ConnectionString>();
        assert!(
            parsed.is_ok_and(|c| c.direct_connection == Some(true) && c.default_database.is_none())
        );
    }

    #[test]
    fn fresh_databases_are_unique_and_valid() {
        let a = fresh_database();
        let b = fresh_database();
        assert_ne!(a, b);
        assert!(a.starts_with("authtest_") && a.len() < 64);
        assert!(crate::options::validate_database_name(&a).is_ok());
    }
}
