//! [`AdapterSessionStore`]: tower-sessions records kept as sessions of an adapter.

use std::fmt;
use std::sync::Arc;

use auth_core::chrono::{DateTime, Utc};
use auth_core::{
    Adapter, AdapterError, AdapterResult, ErrorKind, Extra, ExtraChange, Operation, Session,
    SessionUpdate, User,
};
use serde_json::Value;

/// A record's data, as tower-sessions keeps it (the same type in 0.14 and 0.15).
pub(crate) type Data = std::collections::HashMap<String, Value>;
use tokio::sync::OnceCell;

/// The session field that holds a record's data, as JSON text. Text, not an object: the
/// record's keys are the app's (axum-login's is `axum-login.data`) and may hold a `.` or a
/// leading `$`, which no extra field name may (`auth_core::extra`).
pub const DATA_FIELD: &str = "tower_sessions";

/// The email of the user that owns the records of visitors nobody signed in (see
/// [`AdapterSessionStore::with_anonymous_owner`]). `.invalid` is reserved (RFC 2606): no
/// mail can ever reach it and no person can sign in as it.
pub const ANONYMOUS_OWNER_EMAIL: &str = "anonymous@tower-sessions.invalid";

/// The record key under which axum-login keeps the signed-in user's id (its default
/// `data_key`).
pub const AXUM_LOGIN_DATA_KEY: &str = "axum-login.data";

/// How many fresh ids `create` tries when the one it was given is taken.
const CREATE_ATTEMPTS: usize = 8;

/// A tower-sessions [`SessionStore`](tower_sessions_core_014::SessionStore) over any
/// [`Adapter`]: each record is one session of the adapter, its id the session token, its
/// expiry the session's, and its data the session's extra field [`DATA_FIELD`].
///
/// - **Owner.** A session belongs to a user. A record that axum-login signed a user in to
///   (its [`AXUM_LOGIN_DATA_KEY`] names a `user_id`) belongs to that user, so deleting the
///   user or [`delete_sessions`](Adapter::delete_sessions) ends it; any other record belongs
///   to one user the store creates for the purpose ([`ANONYMOUS_OWNER_EMAIL`]).
/// - **One round trip a call** where the adapter has one: `load` is
///   `get_session_and_user`, `save` is `update_session` (owner, expiry and data in one
///   statement), `delete` is `delete_session`, `create` is `create_session`, which never
///   overwrites: a taken id gets a fresh one, as tower-sessions asks.
/// - **Ended stays ended**: a save of a record deleted or expired since the request loaded
///   it (a sign-out everywhere from another device) does not bring it back.
/// - **Expired records never load**: the adapter's `get_session_and_user` does not return
///   them; [`delete_expired`](tower_sessions_core_014::ExpiredDeletion::delete_expired)
///   removes them (`Adapter::delete_expired`).
/// - **Ids at rest**: wrap the adapter in `auth_core::at_rest::HashedTokens`
///   (feature `at-rest` of auth-core) and the database holds only hashes of the cookie's id.
///
/// ```
/// use std::sync::Arc;
/// use auth_core::{memory::MemoryAdapter, Adapter};
/// use auth_tower_sessions::AdapterSessionStore;
///
/// let adapter: Arc<dyn Adapter> = Arc::new(MemoryAdapter::new());
/// let store = AdapterSessionStore::new(adapter);
/// // tower_sessions::SessionManagerLayer::new(store) in an app.
/// # let _ = store;
/// ```
#[derive(Clone)]
pub struct AdapterSessionStore {
    adapter: Arc<dyn Adapter>,
    anonymous_email: Arc<str>,
    login_key: Arc<str>,
    anonymous_owner: Arc<OnceCell<String>>,
}

impl fmt::Debug for AdapterSessionStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdapterSessionStore")
            .field("anonymous_email", &self.anonymous_email)
            .field("login_key", &self.login_key)
            .finish_non_exhaustive()
    }
}

/// What a stored record holds, in the adapter's terms.
pub(crate) struct Stored {
    pub(crate) data: Data,
    pub(crate) expires: DateTime<Utc>,
}

impl AdapterSessionStore {
    /// A store over `adapter`.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// let store = auth_tower_sessions::AdapterSessionStore::new(Arc::new(
    ///     auth_core::memory::MemoryAdapter::new(),
    /// ));
    /// assert!(format!("{store:?}").contains("anonymous@tower-sessions.invalid"));
    /// ```
    pub fn new(adapter: Arc<dyn Adapter>) -> Self {
        Self {
            adapter,
            anonymous_email: ANONYMOUS_OWNER_EMAIL.into(),
            login_key: AXUM_LOGIN_DATA_KEY.into(),
            anonymous_owner: Arc::new(OnceCell::new()),
        }
    }

    /// Another email for the user that owns records nobody signed in to (the default is
    /// [`ANONYMOUS_OWNER_EMAIL`]): found by email, created on first need.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// let store = auth_tower_sessions::AdapterSessionStore::new(Arc::new(
    ///     auth_core::memory::MemoryAdapter::new(),
    /// ))
    /// .with_anonymous_owner("visitors@shop.invalid");
    /// assert!(format!("{store:?}").contains("visitors@shop.invalid"));
    /// ```
    pub fn with_anonymous_owner(mut self, email: impl Into<String>) -> Self {
        self.anonymous_email = email.into().into();
        self.anonymous_owner = Arc::new(OnceCell::new());
        self
    }

    /// The record key that names the signed-in user, when the app gave axum-login another
    /// `data_key` than [`AXUM_LOGIN_DATA_KEY`].
    ///
    /// ```
    /// # use std::sync::Arc;
    /// let store = auth_tower_sessions::AdapterSessionStore::new(Arc::new(
    ///     auth_core::memory::MemoryAdapter::new(),
    /// ))
    /// .with_login_key("login");
    /// # let _ = store;
    /// ```
    pub fn with_login_key(mut self, key: impl Into<String>) -> Self {
        self.login_key = key.into().into();
        self
    }

    /// The adapter the records live in.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// let adapter: Arc<dyn auth_core::Adapter> = Arc::new(auth_core::memory::MemoryAdapter::new());
    /// let store = auth_tower_sessions::AdapterSessionStore::new(adapter.clone());
    /// assert!(Arc::ptr_eq(store.adapter(), &adapter));
    /// ```
    pub fn adapter(&self) -> &Arc<dyn Adapter> {
        &self.adapter
    }

    /// The id of the user that owns records nobody signed in to: found by its email, or
    /// created (a race with another process that creates it too ends in a `Conflict`, and
    /// the user is then found).
    ///
    /// # Errors
    /// The adapter's, when it cannot be read or created.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), auth_core::AdapterError> {
    /// let adapter: Arc<dyn auth_core::Adapter> = Arc::new(auth_core::memory::MemoryAdapter::new());
    /// let store = auth_tower_sessions::AdapterSessionStore::new(adapter.clone());
    /// let owner = store.anonymous_owner().await?;
    /// let user = adapter.get_user(&owner).await?.expect("created");
    /// assert_eq!(user.email.as_deref(), Some(auth_tower_sessions::ANONYMOUS_OWNER_EMAIL));
    /// assert_eq!(store.anonymous_owner().await?, owner); // found, not created again
    /// # Ok(())
    /// # }
    /// ```
    pub async fn anonymous_owner(&self) -> AdapterResult<String> {
        self.anonymous_owner
            .get_or_try_init(|| async {
                if let Some(user) = self
                    .adapter
                    .get_user_by_email(&self.anonymous_email)
                    .await?
                {
                    return Ok(user.id);
                }
                let owner = User::new()
                    .with_email(self.anonymous_email.to_string())
                    .with_name("tower-sessions: visitors not signed in");
                match self.adapter.create_user(owner).await {
                    Ok(user) => Ok(user.id),
                    Err(err) if err.kind() == ErrorKind::Conflict => self
                        .adapter
                        .get_user_by_email(&self.anonymous_email)
                        .await?
                        .map(|user| user.id)
                        .ok_or(err),
                    Err(err) => Err(err),
                }
            })
            .await
            .cloned()
    }

    /// The user a record belongs to: the one axum-login signed in, else the anonymous owner.
    async fn owner_of(&self, data: &Data) -> AdapterResult<String> {
        let signed_in = data
            .get(&*self.login_key)
            .and_then(|login| login.get("user_id"))
            .and_then(Value::as_str);
        match signed_in {
            Some(user_id) => Ok(user_id.to_owned()),
            None => self.anonymous_owner().await,
        }
    }

    /// Stores a new record under `token`; `Ok(false)` when the token is taken (nothing
    /// changed). A record naming a user that no longer exists goes to the anonymous owner.
    pub(crate) async fn insert(
        &self,
        token: &str,
        data: &Data,
        expires: DateTime<Utc>,
    ) -> AdapterResult<bool> {
        let session = Session {
            extra: data_fields(data),
            ..Session::with_token(token, self.owner_of(data).await?, expires)
        };
        let created = match self.adapter.create_session(session.clone()).await {
            Err(err) if err.kind() == ErrorKind::NotFound => {
                let anonymous = Session {
                    user_id: self.anonymous_owner().await?,
                    ..session
                };
                self.adapter.create_session(anonymous).await
            }
            other => other,
        };
        match created {
            Ok(_) => Ok(true),
            Err(err) if err.kind() == ErrorKind::Conflict => Ok(false),
            Err(err) => Err(err),
        }
    }

    /// `create`: a new record, under a fresh token from `fresh` whenever the current one is
    /// taken; the token it was stored under.
    pub(crate) async fn create_with(
        &self,
        mut token: String,
        data: &Data,
        expires: DateTime<Utc>,
        mut fresh: impl FnMut() -> String,
    ) -> AdapterResult<String> {
        for _ in 0..CREATE_ATTEMPTS {
            if self.insert(&token, data, expires).await? {
                return Ok(token);
            }
            token = fresh();
        }
        Err(AdapterError::new(
            Operation::CreateSession,
            ErrorKind::Conflict,
            format!("{CREATE_ATTEMPTS} fresh session ids in a row were taken"),
        ))
    }

    /// `save`: the record's owner, expiry and data in one update. A record no longer
    /// stored (deleted, signed out everywhere, or expired since the request loaded it;
    /// tower-sessions saves only records it loaded, and creates new ones with `create`)
    /// stays gone: a save never brings back a session that was ended.
    pub(crate) async fn update_stored(
        &self,
        token: &str,
        data: &Data,
        expires: DateTime<Utc>,
    ) -> AdapterResult<()> {
        let update = SessionUpdate {
            extra: Some(ExtraChange::Replace(data_fields(data))),
            ..SessionUpdate::new(token)
                .expires(expires)
                .user_id(self.owner_of(data).await?)
        };
        let updated = match self.adapter.update_session(update.clone()).await {
            // The user the record names is gone: the record goes to the anonymous owner.
            Err(err) if err.kind() == ErrorKind::NotFound => {
                let anonymous = SessionUpdate {
                    user_id: Some(self.anonymous_owner().await?),
                    ..update
                };
                self.adapter.update_session(anonymous).await?
            }
            other => other?,
        };
        if updated.is_none() {
            tracing::debug!("a saved record was no longer stored (ended meanwhile): left ended");
        }
        Ok(())
    }

    /// `load`: the live record under `token`, if any.
    pub(crate) async fn fetch(&self, token: &str) -> AdapterResult<Option<Stored>> {
        let Some((session, _user)) = self.adapter.get_session_and_user(token).await? else {
            return Ok(None);
        };
        let data = match session.extra.get(DATA_FIELD) {
            None => Data::new(),
            Some(Value::String(text)) => serde_json::from_str(text).map_err(|e| {
                AdapterError::new(
                    Operation::GetSessionAndUser,
                    ErrorKind::Backend,
                    format!("the session's {DATA_FIELD} field is not a JSON object: {e}"),
                )
            })?,
            Some(_) => {
                return Err(AdapterError::new(
                    Operation::GetSessionAndUser,
                    ErrorKind::Backend,
                    format!("the session's {DATA_FIELD} field is not text"),
                ))
            }
        };
        Ok(Some(Stored {
            data,
            expires: session.expires,
        }))
    }

    /// `delete`: the record under `token` is gone (it may not have been there).
    pub(crate) async fn remove(&self, token: &str) -> AdapterResult<()> {
        self.adapter.delete_session(token).await.map(drop)
    }

    /// `delete_expired`: every expired session and verification token of the adapter.
    pub(crate) async fn sweep(&self) -> AdapterResult<()> {
        self.adapter.delete_expired(Utc::now()).await.map(drop)
    }
}

/// The session's extra fields for a record's data: the data as JSON text in [`DATA_FIELD`].
fn data_fields(data: &Data) -> Extra {
    // A map of strings to JSON values always serializes.
    let text = serde_json::to_string(data).unwrap_or_default();
    Extra::from_iter([(DATA_FIELD.to_owned(), Value::String(text))])
}

/// tower-sessions' instant as the adapter's (to the nanosecond; the adapter keeps
/// milliseconds).
pub(crate) fn to_chrono(at: time::OffsetDateTime) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(at.unix_timestamp(), at.nanosecond())
}

/// The adapter's instant as tower-sessions'.
pub(crate) fn to_time(at: DateTime<Utc>) -> Option<time::OffsetDateTime> {
    let seconds = time::OffsetDateTime::from_unix_timestamp(at.timestamp()).ok()?;
    seconds.replace_nanosecond(at.timestamp_subsec_nanos()).ok()
}

/// Implements tower-sessions' store traits of the `tower-sessions-core` crate `$core` for
/// [`AdapterSessionStore`]: the two lines share the trait's shape, not its type.
macro_rules! impl_session_store {
    ($core:ident) => {
        use $core::session::{Id, Record};
        use $core::session_store::{self, ExpiredDeletion, SessionStore};

        use crate::store::{to_chrono, to_time, AdapterSessionStore};

        /// Adapter errors as tower-sessions' backend errors: the message carries the code
        /// (`[CREATE_SESSION_ERROR] …`), never a token (the adapter removes them).
        fn backend(err: auth_core::AdapterError) -> session_store::Error {
            session_store::Error::Backend(err.to_string())
        }

        fn expiry(
            record: &Record,
        ) -> session_store::Result<auth_core::chrono::DateTime<auth_core::chrono::Utc>> {
            to_chrono(record.expiry_date).ok_or_else(|| {
                session_store::Error::Encode(format!(
                    "the expiry {} is out of the adapter's range",
                    record.expiry_date
                ))
            })
        }

        #[async_trait::async_trait]
        impl SessionStore for AdapterSessionStore {
            async fn create(&self, record: &mut Record) -> session_store::Result<()> {
                let stored = self
                    .create_with(record.id.to_string(), &record.data, expiry(record)?, || {
                        Id::default().to_string()
                    })
                    .await
                    .map_err(backend)?;
                record.id = stored.parse().map_err(|e| {
                    session_store::Error::Encode(format!("a session id that does not parse: {e}"))
                })?;
                Ok(())
            }

            async fn save(&self, record: &Record) -> session_store::Result<()> {
                self.update_stored(&record.id.to_string(), &record.data, expiry(record)?)
                    .await
                    .map_err(backend)
            }

            async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
                let Some(stored) = self.fetch(&id.to_string()).await.map_err(backend)? else {
                    return Ok(None);
                };
                let expiry_date = to_time(stored.expires).ok_or_else(|| {
                    session_store::Error::Decode(format!(
                        "the stored expiry {} is out of tower-sessions' range",
                        stored.expires
                    ))
                })?;
                Ok(Some(Record {
                    id: *id,
                    data: stored.data,
                    expiry_date,
                }))
            }

            async fn delete(&self, id: &Id) -> session_store::Result<()> {
                self.remove(&id.to_string()).await.map_err(backend)
            }
        }

        #[async_trait::async_trait]
        impl ExpiredDeletion for AdapterSessionStore {
            async fn delete_expired(&self) -> session_store::Result<()> {
                self.sweep().await.map_err(backend)
            }
        }
    };
}

#[cfg(feature = "tower-sessions-0-14")]
mod v0_14 {
    impl_session_store!(tower_sessions_core_014);
}

#[cfg(feature = "tower-sessions-0-15")]
mod v0_15 {
    impl_session_store!(tower_sessions_core_015);
}
