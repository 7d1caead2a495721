//! The app's own fields on users, accounts and sessions (scenarios 39–43).
//!
//! Every name these scenarios write is in [`EXTRA_VOCABULARY`], with the JSON kind of its
//! values, so a layout that keeps extra fields in columns of its own (the Auth.js SQL
//! layouts) can give its test tables exactly those columns and run the same scenarios.

use auth_core::extra::{Extra, Model, MAX_EXTRA_BYTES, MAX_EXTRA_DEPTH};
use auth_core::serde_json::{json, Value};
use auth_core::{
    Account, AccountType, ErrorCode, ErrorKind, Session, SessionUpdate, User, UserUpdate,
};

use super::sample::{from_now, full_account, full_user, live_session, make_user, DAY};
use crate::check::{expect_error, same, Failure, Outcome};
use crate::ensure_eq;
use crate::fixture::Fixture;

/// The JSON kind of an extra field's values in [`EXTRA_VOCABULARY`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtraKind {
    /// A string (a text column).
    String,
    /// An integer within `i64` (a 64-bit integer column).
    Integer,
    /// A finite `f64` (a double precision column).
    Float,
    /// `true` or `false` (a boolean column).
    Bool,
    /// Any JSON value: objects and arrays (a JSON column).
    Json,
}

/// Every extra field name the scenarios write, per model, with the kind of its values: what
/// a column layout's test tables must add.
///
/// ```
/// use adapter_conformance::scenarios::{ExtraKind, EXTRA_VOCABULARY};
/// use auth_core::extra::Model;
/// assert!(EXTRA_VOCABULARY.contains(&(Model::User, "role", ExtraKind::String)));
/// ```
pub const EXTRA_VOCABULARY: &[(Model, &str, ExtraKind)] = &[
    (Model::User, "nickname", ExtraKind::String),
    (Model::User, "bio", ExtraKind::String),
    (Model::User, "role", ExtraKind::String),
    (Model::User, "plan", ExtraKind::String),
    (Model::User, "level", ExtraKind::Integer),
    (Model::User, "balance", ExtraKind::Integer),
    (Model::User, "score", ExtraKind::Float),
    (Model::User, "tiny", ExtraKind::Float),
    (Model::User, "ratio", ExtraKind::Float),
    (Model::User, "verified_human", ExtraKind::Bool),
    (Model::User, "prefs", ExtraKind::Json),
    (Model::User, "tags", ExtraKind::Json),
    (Model::Account, "expires_in", ExtraKind::Integer),
    (
        Model::Account,
        "refresh_token_expires_in",
        ExtraKind::Integer,
    ),
    (Model::Account, "oauth_token_secret", ExtraKind::String),
    (Model::Account, "raw", ExtraKind::Json),
    (Model::Session, "csrf", ExtraKind::String),
    (Model::Session, "method", ExtraKind::String),
    (Model::Session, "remember", ExtraKind::Bool),
    (Model::Session, "data", ExtraKind::Json),
];

fn object(value: Value) -> Extra {
    match value {
        Value::Object(object) => object,
        _ => Extra::new(),
    }
}

/// Fails unless the two objects are equal, printing both (models' `Debug` shows only the
/// names of account and session extras).
fn same_extra(actual: &Extra, expected: &Extra, what: &str) -> Outcome {
    if actual == expected {
        return Ok(());
    }
    Err(Failure::new(format!(
        "{what}: extra fields differ\n  expected {}\n  got      {}",
        Value::Object(expected.clone()),
        Value::Object(actual.clone())
    )))
}

fn extra_of<T>(
    found: &Option<T>,
    extra: impl Fn(&T) -> &Extra,
    what: &str,
) -> Result<Extra, Failure> {
    found
        .as_ref()
        .map(|record| extra(record).clone())
        .ok_or_else(|| Failure::new(format!("{what}: not found")))
}

/// Strings and numbers at every edge the backends differ on (integral floats such as `1e16`
/// included: a database that keeps JSON numbers as decimals may print them as integers).
fn edge_user_fields() -> Extra {
    object(json!({
        "nickname": "Zoë 🦀 e\u{301} ﷽ \"quoted\" \\ back\\slash \t tab ' or 1=1 -- $where {}",
        "level": i64::MAX,
        "balance": i64::MIN,
        "score": f64::MAX,
        "tiny": f64::from_bits(1),
        "ratio": 0.1,
        "verified_human": true,
        "prefs": {
            "theme": "dark",
            "limits": [1, -1.5, null, "x", {"k": false}, f64::MIN_POSITIVE, -0.25, 1e16, 2e18, 1.0],
            "empty": {},
            "none": [],
        },
        "tags": ["a", "b", "ü"],
    }))
}

/// Scenario 39: extra fields round-trip exactly on users and sessions.
pub async fn s39_extra_fields_round_trip_exactly(fx: &Fixture) -> Outcome {
    let mut user = full_user("user-39");
    user.extra = edge_user_fields();
    let created = fx.adapter.create_user(user.clone()).await?;
    same_extra(&created.extra, &user.extra, "create_user's return value")?;
    let id = created.id.clone();
    let stored = fx.inspector.stored_user(&id).await?;
    same_extra(
        &extra_of(&stored, |u: &User| &u.extra, "the stored user")?,
        &user.extra,
        "the stored user",
    )?;
    same(&stored, &Some(created.clone()), "the stored user")?;
    let read = fx.adapter.get_user(&id).await?;
    same_extra(
        &extra_of(&read, |u: &User| &u.extra, "get_user")?,
        &user.extra,
        "get_user",
    )?;
    let email = user.email.clone().unwrap_or_default();
    let by_email = fx.adapter.get_user_by_email(&email).await?;
    same_extra(
        &extra_of(&by_email, |u: &User| &u.extra, "get_user_by_email")?,
        &user.extra,
        "get_user_by_email",
    )?;

    let mut session = live_session("session-39", &id);
    session.extra = object(json!({
        "csrf": "c5rf-39 ✓",
        "remember": true,
        "data": {"cart": [1, 2, 3], "since": "2026-12-07", "n": i64::MIN},
    }));
    let made = fx.adapter.create_session(session.clone()).await?;
    same_extra(&made.extra, &session.extra, "create_session's return value")?;
    let found = fx.adapter.get_session_and_user("session-39").await?;
    let (read_session, read_user) =
        found.ok_or_else(|| Failure::new("get_session_and_user: not found"))?;
    same_extra(
        &read_session.extra,
        &session.extra,
        "get_session_and_user's session",
    )?;
    same_extra(&read_user.extra, &user.extra, "get_session_and_user's user")?;
    let stored = fx.inspector.stored_session("session-39").await?;
    same_extra(
        &extra_of(&stored, |s: &Session| &s.extra, "the stored session")?,
        &session.extra,
        "the stored session",
    )?;
    let listed = fx.adapter.list_sessions(&id).await?;
    ensure_eq!(listed.len(), 1, "list_sessions");
    same_extra(&listed[0].extra, &session.extra, "list_sessions")?;

    // A top-level null means absent: left out, not stored as null.
    let mut plain = full_user("user-39b");
    plain.extra = object(json!({"role": "member", "plan": null}));
    let made = fx.adapter.create_user(plain).await?;
    same_extra(
        &made.extra,
        &object(json!({"role": "member"})),
        "a top-level null on create",
    )?;
    let read = fx.adapter.get_user(&made.id).await?;
    same_extra(
        &extra_of(&read, |u: &User| &u.extra, "get_user")?,
        &made.extra,
        "a top-level null, read back",
    )
}

/// Scenario 40: update_user merges extra fields one level deep (null removes), or replaces
/// them; an update that names no extra keeps them.
pub async fn s40_update_user_merges_extra_fields(fx: &Fixture) -> Outcome {
    let mut user = full_user("user-40");
    user.extra = object(
        json!({"role": "user", "plan": "free", "nickname": "kept", "prefs": {"theme": "dark", "lang": "en"}}),
    );
    let id = fx.adapter.create_user(user).await?.id;
    let update = UserUpdate::new(&id)
        .name(Some("Renamed".into()))
        .merge_extra(
            &json!({"role": "admin", "plan": null, "prefs": {"theme": "light"}, "level": 7}),
        )
        .map_err(|e| Failure::new(e.to_string()))?;
    let expected = object(
        json!({"role": "admin", "nickname": "kept", "prefs": {"theme": "light"}, "level": 7}),
    );
    let merged = fx.adapter.update_user(update).await?;
    same_extra(&merged.extra, &expected, "update_user's return value")?;
    ensure_eq!(
        merged.name.as_deref(),
        Some("Renamed"),
        "the name beside the merge"
    );
    let stored = fx.inspector.stored_user(&id).await?;
    same_extra(
        &extra_of(&stored, |u: &User| &u.extra, "the stored user")?,
        &expected,
        "the stored user after the merge",
    )?;

    let renamed = fx
        .adapter
        .update_user(UserUpdate::new(&id).image(None))
        .await?;
    same_extra(
        &renamed.extra,
        &expected,
        "an update that names no extra field",
    )?;

    let replace = UserUpdate::new(&id)
        .replace_extra(&json!({"nickname": "only"}))
        .map_err(|e| Failure::new(e.to_string()))?;
    let replaced = fx.adapter.update_user(replace).await?;
    same_extra(
        &replaced.extra,
        &object(json!({"nickname": "only"})),
        "replace_extra",
    )?;
    let read = fx.adapter.get_user(&id).await?;
    same_extra(
        &extra_of(&read, |u: &User| &u.extra, "get_user")?,
        &replaced.extra,
        "get_user after replace_extra",
    )?;

    let cleared = fx
        .adapter
        .update_user(
            UserUpdate::new(&id)
                .replace_extra(&json!({}))
                .map_err(|e| Failure::new(e.to_string()))?,
        )
        .await?;
    same_extra(&cleared.extra, &Extra::new(), "replace_extra with {}")?;
    let stored = fx.inspector.stored_user(&id).await?;
    same_extra(
        &extra_of(&stored, |u: &User| &u.extra, "the stored user")?,
        &Extra::new(),
        "the stored user after clearing",
    )
}

/// Scenario 41: update_session writes the session's data (merge, replace) beside a new
/// expiry, and an update of the expiry alone keeps it.
pub async fn s41_update_session_writes_session_data(fx: &Fixture) -> Outcome {
    let user = make_user(fx, "user-41").await?;
    let mut session = live_session("session-41", &user.id);
    session.extra = object(json!({"csrf": "s1"}));
    fx.adapter.create_session(session).await?;

    let new_expiry = from_now(40 * DAY);
    let update = SessionUpdate::new("session-41")
        .expires(new_expiry)
        .merge_extra(&json!({"remember": true}))
        .map_err(|e| Failure::new(e.to_string()))?;
    let changed = fx
        .adapter
        .update_session(update)
        .await?
        .ok_or_else(|| Failure::new("update_session: None for a live session"))?;
    let expected = object(json!({"csrf": "s1", "remember": true}));
    same_extra(&changed.extra, &expected, "update_session's return value")?;
    same(
        &changed.expires,
        &new_expiry,
        "the new expiry beside the data",
    )?;
    let (read, _) = fx
        .adapter
        .get_session_and_user("session-41")
        .await?
        .ok_or_else(|| Failure::new("get_session_and_user: not found"))?;
    same_extra(
        &read.extra,
        &expected,
        "get_session_and_user after the merge",
    )?;

    let later = from_now(50 * DAY);
    let extended = fx
        .adapter
        .update_session(SessionUpdate::new("session-41").expires(later))
        .await?
        .ok_or_else(|| Failure::new("update_session: None for a live session"))?;
    same_extra(&extended.extra, &expected, "an update of the expiry alone")?;

    let removed = fx
        .adapter
        .update_session(
            SessionUpdate::new("session-41")
                .merge_extra(&json!({"csrf": null, "method": "email"}))
                .map_err(|e| Failure::new(e.to_string()))?,
        )
        .await?
        .ok_or_else(|| Failure::new("update_session: None for a live session"))?;
    let expected = object(json!({"remember": true, "method": "email"}));
    same_extra(&removed.extra, &expected, "a merge that removes a field")?;

    let replaced = fx
        .adapter
        .update_session(
            SessionUpdate::new("session-41")
                .replace_extra(&json!({"data": {"step": 2}}))
                .map_err(|e| Failure::new(e.to_string()))?,
        )
        .await?
        .ok_or_else(|| Failure::new("update_session: None for a live session"))?;
    let expected = object(json!({"data": {"step": 2}}));
    same_extra(&replaced.extra, &expected, "replace_extra")?;
    let stored = fx.inspector.stored_session("session-41").await?;
    same_extra(
        &extra_of(&stored, |s: &Session| &s.extra, "the stored session")?,
        &expected,
        "the stored session",
    )?;
    same(
        &stored.map(|s| s.expires),
        &Some(later),
        "the stored expiry",
    )
}

fn nested(levels: usize) -> Value {
    let mut value = json!(1);
    for _ in 0..levels {
        value = json!([value]);
    }
    value
}

/// Scenario 42: extra fields that break a rule are InvalidInput with the method's code,
/// before any I/O, and a merge whose result is over the cap changes nothing.
pub async fn s42_extra_field_rules_are_invalid_input(fx: &Fixture) -> Outcome {
    let bad_users = [
        (
            "a reserved name in another case",
            json!({"Email": "x@example.com"}),
        ),
        ("an Auth.js name", json!({"emailVerified": "2026-01-01"})),
        ("`_id`", json!({"_id": "x"})),
        (
            "a name starting with `$`",
            json!({"$set": {"role": "admin"}}),
        ),
        ("a nested name with a dot", json!({"prefs": {"a.b": 1}})),
        ("an empty name", json!({"": 1})),
        ("a NUL in a string", json!({"nickname": "a\u{0}b"})),
        ("an integer beyond i64", json!({"level": u64::MAX})),
        (
            "nesting too deep",
            json!({"prefs": nested(MAX_EXTRA_DEPTH)}),
        ),
        (
            "one byte over the cap",
            json!({"bio": "x".repeat(MAX_EXTRA_BYTES - 9)}),
        ),
    ];
    for (i, (what, fields)) in bad_users.into_iter().enumerate() {
        let mut user = full_user(&format!("user-42-{i}"));
        user.extra = object(fields);
        let id = user.id.clone();
        expect_error(
            fx.adapter.create_user(user).await,
            ErrorKind::InvalidInput,
            ErrorCode::CreateUserError,
            &format!("create_user with {what}"),
        )?;
        ensure_eq!(
            fx.inspector.stored_user(&id).await?,
            None,
            "a user refused for {what}"
        );
    }

    let mut user = full_user("user-42");
    user.extra = object(json!({"bio": "b".repeat(40_000)}));
    let owner = fx.adapter.create_user(user).await?;
    let mut account = Account::new(&owner.id, AccountType::OAuth, "github", "gh-42");
    account.extra = object(json!({"access_token": "shadow"}));
    expect_error(
        fx.adapter.link_account(account).await,
        ErrorKind::InvalidInput,
        ErrorCode::LinkAccountError,
        "link_account with an extra named access_token",
    )?;
    ensure_eq!(
        fx.inspector.stored_account("github", "gh-42").await?,
        None,
        "the refused account"
    );
    let mut session = live_session("session-42", &owner.id);
    session.extra = object(json!({"expires": 0}));
    expect_error(
        fx.adapter.create_session(session).await,
        ErrorKind::InvalidInput,
        ErrorCode::CreateSessionError,
        "create_session with an extra named expires",
    )?;
    ensure_eq!(
        fx.inspector.stored_session("session-42").await?,
        None,
        "the refused session"
    );

    let reserved = UserUpdate::new(&owner.id)
        .merge_extra(&json!({"Image": "x"}))
        .map_err(|e| Failure::new(e.to_string()))?;
    expect_error(
        fx.adapter.update_user(reserved).await,
        ErrorKind::InvalidInput,
        ErrorCode::UpdateUserError,
        "update_user merging a reserved name",
    )?;
    // Each half fits the cap, the merged object does not.
    let over = UserUpdate::new(&owner.id)
        .name(Some("must not land".into()))
        .merge_extra(&json!({"nickname": "n".repeat(30_000)}))
        .map_err(|e| Failure::new(e.to_string()))?;
    expect_error(
        fx.adapter.update_user(over).await,
        ErrorKind::InvalidInput,
        ErrorCode::UpdateUserError,
        "update_user whose merged extra fields are over the cap",
    )?;
    same(
        &fx.inspector.stored_user(&owner.id).await?,
        &Some(owner.clone()),
        "the user after a refused merge",
    )?;

    let mut session = live_session("session-42b", &owner.id);
    session.extra = object(json!({"data": "d".repeat(40_000)}));
    let session = fx.adapter.create_session(session).await?;
    let over = SessionUpdate::new("session-42b")
        .expires(from_now(60 * DAY))
        .merge_extra(&json!({"csrf": "c".repeat(30_000)}))
        .map_err(|e| Failure::new(e.to_string()))?;
    expect_error(
        fx.adapter.update_session(over).await,
        ErrorKind::InvalidInput,
        ErrorCode::UpdateSessionError,
        "update_session whose merged data is over the cap",
    )?;
    let stored = fx.inspector.stored_session("session-42b").await?;
    same(
        &stored.as_ref().map(|s| s.expires),
        &Some(session.expires),
        "the session's expiry after a refused merge",
    )?;
    same_extra(
        &extra_of(&stored, |s: &Session| &s.extra, "the stored session")?,
        &session.extra,
        "the session after a refused merge",
    )
}

/// Scenario 43: an account keeps the whole token response, exactly, and update_account
/// replaces it.
pub async fn s43_account_keeps_the_token_response(fx: &Fixture) -> Outcome {
    let user = make_user(fx, "user-43").await?;
    let mut account = full_account(&user.id, "x", "x-43");
    account.account_type = AccountType::OAuth;
    account.extra = object(json!({
        "expires_in": 3599,
        "refresh_token_expires_in": 15_897_600,
        "oauth_token_secret": "s3cr3t-43-ø",
        "raw": {"team": {"id": "T1", "name": "Ünïcode"}, "ids": [1, 2, i64::MAX], "ratio": 0.5},
    }));
    let linked = fx.adapter.link_account(account.clone()).await?;
    same_extra(&linked.extra, &account.extra, "link_account's return value")?;
    let stored = fx.inspector.stored_account("x", "x-43").await?;
    same_extra(
        &extra_of(&stored, |a: &Account| &a.extra, "the stored account")?,
        &account.extra,
        "the stored account",
    )?;
    ensure_eq!(
        stored,
        Some(account.clone()),
        "the stored account's other fields"
    );
    let read = fx.adapter.get_account("x", "x-43").await?;
    same_extra(
        &extra_of(&read, |a: &Account| &a.extra, "get_account")?,
        &account.extra,
        "get_account",
    )?;
    let listed = fx.adapter.list_accounts(&user.id).await?;
    ensure_eq!(listed.len(), 1, "list_accounts");
    same_extra(&listed[0].extra, &account.extra, "list_accounts")?;

    let mut refreshed = account.clone();
    refreshed.access_token = Some("access-43-new".into());
    refreshed.extra = object(json!({"expires_in": 7200}));
    let updated = fx
        .adapter
        .update_account(refreshed.clone())
        .await?
        .ok_or_else(|| Failure::new("update_account: None for a linked account"))?;
    same_extra(
        &updated.extra,
        &refreshed.extra,
        "update_account's return value",
    )?;
    let read = fx.adapter.get_account("x", "x-43").await?;
    same_extra(
        &extra_of(&read, |a: &Account| &a.extra, "get_account")?,
        &refreshed.extra,
        "get_account after update_account",
    )?;

    refreshed.extra = Extra::new();
    fx.adapter.update_account(refreshed).await?;
    let stored = fx.inspector.stored_account("x", "x-43").await?;
    same_extra(
        &extra_of(&stored, |a: &Account| &a.extra, "the stored account")?,
        &Extra::new(),
        "update_account with no extra fields",
    )
}
