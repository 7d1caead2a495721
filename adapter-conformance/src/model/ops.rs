//! The operations of a random sequence: every `Adapter` method over a small key space, so
//! that collisions, reuse after delete, case variants of one email and compound keys that
//! look alike are frequent, and each answer in a form two adapters' answers compare in.

use auth_core::chrono::{DateTime, Duration, Utc};
use auth_core::serde_json::Value;
use auth_core::{
    Account, AccountType, Adapter, AdapterError, AdapterResult, Authenticator, ErrorCode,
    ErrorKind, ExpiredCounts, Extra, ExtraChange, Session, SessionUpdate, User, UserUpdate,
    VerificationToken,
};
use proptest::prelude::*;
use proptest::strategy::ValueTree;

use super::rules::Rules;

/// One call of a random sequence. Every field is an index into a small key space (or a
/// small value), named into strings under the sequence's namespace when it runs, so a
/// printed sequence is valid Rust (`Op::CreateUser { user: 0, email: Some(1), name: None }`)
/// and replays anywhere.
///
/// Expiries are whole days from the instant the sequence started (never 0), so whether a
/// record is expired never depends on how long the sequence took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)] // the fields are the method's arguments, as indices
pub enum Op {
    /// `create_user` with id `u<user>`, email spelling `email`, name `Name <name>`.
    CreateUser {
        user: u8,
        email: Option<u8>,
        name: Option<u8>,
    },
    /// `get_user`.
    GetUser { user: u8 },
    /// `get_user_by_email` with spelling `email`.
    GetUserByEmail { email: u8 },
    /// `get_user_by_account` with account key `account`.
    GetUserByAccount { account: u8 },
    /// `update_user`: `None` leaves a field, `Some(None)` clears it; `role` merges the extra
    /// field `role` (`Some(None)`: removes it).
    UpdateUser {
        user: u8,
        email: Option<Option<u8>>,
        name: Option<Option<u8>>,
        role: Option<Option<u8>>,
    },
    /// `delete_user`.
    DeleteUser { user: u8 },
    /// `link_account` of account key `account` to `u<user>`, access token `at-<token>`.
    LinkAccount { user: u8, account: u8, token: u8 },
    /// `unlink_account`.
    UnlinkAccount { account: u8 },
    /// `get_account`.
    GetAccount { account: u8 },
    /// `update_account` with access token `at-<token>` (owner from the op is ignored by the
    /// contract: the stored owner stays).
    UpdateAccount { account: u8, token: u8 },
    /// `list_accounts`.
    ListAccounts { user: u8 },
    /// `create_session` of token `s<session>` for `u<user>`, expiring in `days`.
    CreateSession { session: u8, user: u8, days: i8 },
    /// `get_session_and_user`.
    GetSessionAndUser { session: u8 },
    /// `update_session`: a new owner, a new expiry in `days`, the session field `remember`
    /// merged (`Some(None)`: removed).
    UpdateSession {
        session: u8,
        user: Option<u8>,
        days: Option<i8>,
        remember: Option<Option<bool>>,
    },
    /// `delete_session`.
    DeleteSession { session: u8 },
    /// `list_sessions`.
    ListSessions { user: u8 },
    /// `delete_sessions` (sign out everywhere).
    DeleteSessions { user: u8 },
    /// `create_verification_token` of key `token`, expiring in `days`.
    CreateVerificationToken { token: u8, days: i8 },
    /// `use_verification_token`.
    UseVerificationToken { token: u8 },
    /// `create_authenticator` `c<credential>` for `u<user>` with `counter`.
    CreateAuthenticator {
        credential: u8,
        user: u8,
        counter: u8,
    },
    /// `get_authenticator`.
    GetAuthenticator { credential: u8 },
    /// `list_authenticators`.
    ListAuthenticators { user: u8 },
    /// `update_authenticator_counter`.
    UpdateAuthenticatorCounter { credential: u8, counter: u8 },
    /// `delete_authenticator`.
    DeleteAuthenticator { credential: u8 },
    /// `delete_expired` at the instant the sequence started.
    DeleteExpired,
}

/// How many users, email spellings, accounts, sessions, verification tokens and
/// credentials a sequence draws from.
const USERS: u8 = 2;
const EMAILS: u8 = 3;
const ACCOUNTS: u8 = ACCOUNT_KEYS.len() as u8;
const SESSIONS: u8 = 2;
const TOKENS: u8 = TOKEN_KEYS.len() as u8;

/// Account keys: the first two join to the same text (`git` + `hub:1`, `git:hub` + `1`).
const ACCOUNT_KEYS: [(&str, &str); 4] = [
    ("git", "hub:1"),
    ("git:hub", "1"),
    ("git", "hub:2"),
    ("mail", "1"),
];
/// Verification token keys, the first two joining alike as for accounts.
const TOKEN_KEYS: [(&str, &str); 4] = [("id", "t:1"), ("id:t", "1"), ("id", "t:2"), ("jd", "t:1")];
const CREDENTIALS: u8 = 2;

/// Every operation, weighted so that writes and the reads that check them dominate.
/// Arms are grouped by record (at most ten arms a `prop_oneof!`), and every strategy is a
/// concrete type, so the value tree can cross an `.await` (boxed trees are not `Send`).
pub(crate) fn op_strategy() -> impl Strategy<Value = Op, Tree = impl ValueTree<Value = Op> + Send> {
    let user = || 0..USERS;
    let days = || prop_oneof![1i8..=30, -30i8..=-1];
    let maybe = |n: u8| proptest::option::of(0..n);
    let change = |n: u8| proptest::option::of(proptest::option::of(0..n));
    let users = prop_oneof![
        6 => (user(), maybe(EMAILS), maybe(2))
            .prop_map(|(user, email, name)| Op::CreateUser { user, email, name }),
        2 => user().prop_map(|user| Op::GetUser { user }),
        3 => (0..EMAILS).prop_map(|email| Op::GetUserByEmail { email }),
        2 => (0..ACCOUNTS).prop_map(|account| Op::GetUserByAccount { account }),
        4 => (user(), change(EMAILS), change(2), change(2))
            .prop_map(|(user, email, name, role)| Op::UpdateUser { user, email, name, role }),
        2 => user().prop_map(|user| Op::DeleteUser { user }),
    ];
    let accounts = prop_oneof![
        5 => (user(), 0..ACCOUNTS, 0..3u8)
            .prop_map(|(user, account, token)| Op::LinkAccount { user, account, token }),
        2 => (0..ACCOUNTS).prop_map(|account| Op::UnlinkAccount { account }),
        2 => (0..ACCOUNTS).prop_map(|account| Op::GetAccount { account }),
        2 => (0..ACCOUNTS, 0..3u8)
            .prop_map(|(account, token)| Op::UpdateAccount { account, token }),
        2 => user().prop_map(|user| Op::ListAccounts { user }),
    ];
    let sessions = prop_oneof![
        5 => (0..SESSIONS, user(), days())
            .prop_map(|(session, user, days)| Op::CreateSession { session, user, days }),
        3 => (0..SESSIONS).prop_map(|session| Op::GetSessionAndUser { session }),
        3 => (
            0..SESSIONS,
            proptest::option::of(user()),
            proptest::option::of(days()),
            proptest::option::of(proptest::option::of(any::<bool>())),
        )
            .prop_map(|(session, user, days, remember)| Op::UpdateSession {
                session,
                user,
                days,
                remember,
            }),
        2 => (0..SESSIONS).prop_map(|session| Op::DeleteSession { session }),
        2 => user().prop_map(|user| Op::ListSessions { user }),
        1 => user().prop_map(|user| Op::DeleteSessions { user }),
    ];
    let others = prop_oneof![
        3 => (0..TOKENS, days()).prop_map(|(token, days)| Op::CreateVerificationToken { token, days }),
        3 => (0..TOKENS).prop_map(|token| Op::UseVerificationToken { token }),
        3 => (0..CREDENTIALS, user(), 0..5u8).prop_map(|(credential, user, counter)| {
            Op::CreateAuthenticator { credential, user, counter }
        }),
        1 => (0..CREDENTIALS).prop_map(|credential| Op::GetAuthenticator { credential }),
        2 => user().prop_map(|user| Op::ListAuthenticators { user }),
        2 => (0..CREDENTIALS, 0..5u8).prop_map(|(credential, counter)| {
            Op::UpdateAuthenticatorCounter { credential, counter }
        }),
        1 => (0..CREDENTIALS).prop_map(|credential| Op::DeleteAuthenticator { credential }),
        1 => Just(Op::DeleteExpired),
    ];
    prop_oneof![19 => users, 13 => accounts, 16 => sessions, 16 => others]
}

/// The strings one sequence's indices name: everything under the sequence's namespace, so
/// sequences on one fixture never meet.
#[derive(Debug, Clone)]
pub(crate) struct Keys {
    /// The namespace, e.g. `m12-` (lower case: an email's other spelling upper-cases it).
    pub ns: String,
    /// The instant expiries count from (whole milliseconds, or seconds under the rules).
    pub base: DateTime<Utc>,
    /// [`Rules::joined_keys`]: the look-alike pair 1 is pair 0.
    pub joined: bool,
}

impl Keys {
    pub(crate) fn user(&self, i: u8) -> String {
        format!("{}u{i}", self.ns)
    }

    /// Spellings 0 and 1 are one address in two cases; 2 is another address.
    pub(crate) fn email(&self, i: u8) -> String {
        match i % EMAILS {
            0 => format!("{}ada@example.test", self.ns),
            1 => format!("{}ADA@Example.TEST", self.ns.to_uppercase()),
            _ => format!("{}bob@example.test", self.ns),
        }
    }

    /// Pair `i` of `pairs` under the namespace (on its first half). Pairs 0 and 1 join to
    /// the same text; under [`Rules::joined_keys`](super::Rules::joined_keys) pair 1 is pair 0.
    fn pair(&self, i: u8, pairs: &[(&str, &str); 4]) -> (String, String) {
        let i = if self.joined && i == 1 { 0 } else { i };
        let (first, second) = pairs[usize::from(i) % pairs.len()];
        (format!("{}{first}", self.ns), second.to_owned())
    }

    /// `(provider, provider_account_id)`.
    pub(crate) fn account(&self, i: u8) -> (String, String) {
        self.pair(i, &ACCOUNT_KEYS)
    }

    pub(crate) fn session(&self, i: u8) -> String {
        format!("{}s{i}", self.ns)
    }

    /// `(identifier, token)`.
    pub(crate) fn token(&self, i: u8) -> (String, String) {
        self.pair(i, &TOKEN_KEYS)
    }

    pub(crate) fn credential(&self, i: u8) -> String {
        format!("{}c{i}", self.ns)
    }

    pub(crate) fn at(&self, days: i8) -> DateTime<Utc> {
        self.base + Duration::days(i64::from(days))
    }
}

/// An answer, in a form two adapters' answers compare in: lists sorted by their key, an
/// error by its code and kind only (messages differ between backends).
#[derive(Debug, Clone, PartialEq)]
#[allow(missing_docs)]
pub enum Answer {
    Failed(ErrorCode, ErrorKind),
    User(Option<User>),
    Account(Option<Account>),
    Accounts(Vec<Account>),
    Session(Option<Session>),
    SessionAndUser(Option<(Session, User)>),
    Sessions(Vec<Session>),
    Token(Option<VerificationToken>),
    Authenticator(Option<Authenticator>),
    Authenticators(Vec<Authenticator>),
    Count(u64),
    Expired(ExpiredCounts),
}

fn answer<T>(result: AdapterResult<T>, wrap: impl FnOnce(T) -> Answer) -> Answer {
    match result {
        Ok(value) => wrap(value),
        Err(err) => failed(&err),
    }
}

/// A merge of one extra field (`null`: remove it).
fn merge(name: &str, value: Value) -> ExtraChange {
    let mut fields = Extra::new();
    fields.insert(name.to_owned(), value);
    ExtraChange::Merge(fields)
}

fn failed(err: &AdapterError) -> Answer {
    Answer::Failed(err.code(), err.kind())
}

/// Runs `op` on `adapter` with the names of `keys` under `rules`.
pub(crate) async fn apply(adapter: &dyn Adapter, op: Op, keys: &Keys, rules: &Rules) -> Answer {
    let email = |i: u8| keys.email(rules.email_spelling(i));
    match op {
        Op::CreateUser {
            user,
            email: e,
            name,
        } => {
            let mut new = User::with_id(keys.user(user));
            new.email = e.map(email);
            new.name = name.map(|n| format!("Name {n}"));
            answer(adapter.create_user(new).await, |u| Answer::User(Some(u)))
        }
        Op::GetUser { user } => answer(adapter.get_user(&keys.user(user)).await, Answer::User),
        Op::GetUserByEmail { email: e } => {
            answer(adapter.get_user_by_email(&email(e)).await, Answer::User)
        }
        Op::GetUserByAccount { account } => {
            let (provider, id) = keys.account(account);
            answer(
                adapter.get_user_by_account(&provider, &id).await,
                Answer::User,
            )
        }
        Op::UpdateUser {
            user,
            email: e,
            name,
            role,
        } => {
            let mut update = UserUpdate::new(keys.user(user));
            if let Some(e) = e {
                update = update.email(e.map(email));
            }
            if let Some(name) = name {
                update = update.name(name.map(|n| format!("Name {n}")));
            }
            if let Some(role) = role {
                let value = role.map_or(Value::Null, |r| Value::from(format!("r{r}")));
                update.extra = Some(merge("role", value));
            }
            answer(adapter.update_user(update).await, |u| Answer::User(Some(u)))
        }
        Op::DeleteUser { user } => {
            answer(adapter.delete_user(&keys.user(user)).await, Answer::User)
        }
        Op::LinkAccount {
            user,
            account,
            token,
        } => {
            let (provider, id) = keys.account(account);
            let mut new = Account::new(keys.user(user), AccountType::OAuth, provider, id);
            new.access_token = Some(format!("at-{token}"));
            answer(adapter.link_account(new).await, |a| {
                Answer::Account(Some(a))
            })
        }
        Op::UnlinkAccount { account } => {
            let (provider, id) = keys.account(account);
            answer(
                adapter.unlink_account(&provider, &id).await,
                Answer::Account,
            )
        }
        Op::GetAccount { account } => {
            let (provider, id) = keys.account(account);
            answer(adapter.get_account(&provider, &id).await, Answer::Account)
        }
        Op::UpdateAccount { account, token } => {
            let (provider, id) = keys.account(account);
            let mut changed = Account::new(keys.user(0), AccountType::OAuth, provider, id);
            changed.access_token = Some(format!("at-{token}"));
            answer(adapter.update_account(changed).await, Answer::Account)
        }
        Op::ListAccounts { user } => {
            answer(adapter.list_accounts(&keys.user(user)).await, |mut v| {
                v.sort_by(|a, b| {
                    (&a.provider, &a.provider_account_id)
                        .cmp(&(&b.provider, &b.provider_account_id))
                });
                Answer::Accounts(v)
            })
        }
        Op::CreateSession {
            session,
            user,
            days,
        } => {
            let new = Session::with_token(keys.session(session), keys.user(user), keys.at(days));
            answer(adapter.create_session(new).await, |s| {
                Answer::Session(Some(s))
            })
        }
        Op::GetSessionAndUser { session } => answer(
            adapter.get_session_and_user(&keys.session(session)).await,
            Answer::SessionAndUser,
        ),
        Op::UpdateSession {
            session,
            user,
            days,
            remember,
        } => {
            let mut update = SessionUpdate::new(keys.session(session));
            if let Some(user) = user {
                update = update.user_id(keys.user(user));
            }
            if let Some(days) = days {
                update = update.expires(keys.at(days));
            }
            if let Some(remember) = remember {
                update.extra = Some(merge("remember", remember.map_or(Value::Null, Value::Bool)));
            }
            answer(adapter.update_session(update).await, Answer::Session)
        }
        Op::DeleteSession { session } => answer(
            adapter.delete_session(&keys.session(session)).await,
            Answer::Session,
        ),
        Op::ListSessions { user } => {
            answer(adapter.list_sessions(&keys.user(user)).await, |mut v| {
                v.sort_by(|a, b| a.session_token.cmp(&b.session_token));
                Answer::Sessions(v)
            })
        }
        Op::DeleteSessions { user } => answer(
            adapter.delete_sessions(&keys.user(user)).await,
            Answer::Count,
        ),
        Op::CreateVerificationToken { token, days } => {
            let (identifier, token) = keys.token(token);
            let new = VerificationToken::new(identifier, token, keys.at(days));
            answer(adapter.create_verification_token(new).await, |t| {
                Answer::Token(Some(t))
            })
        }
        Op::UseVerificationToken { token } => {
            let (identifier, token) = keys.token(token);
            answer(
                adapter.use_verification_token(&identifier, &token).await,
                Answer::Token,
            )
        }
        Op::CreateAuthenticator {
            credential,
            user,
            counter,
        } => {
            let mut new = Authenticator::new(
                keys.credential(credential),
                keys.user(user),
                format!("pa-{credential}"),
                "cGs",
            );
            new.counter = i64::from(counter);
            answer(adapter.create_authenticator(new).await, |a| {
                Answer::Authenticator(Some(a))
            })
        }
        Op::GetAuthenticator { credential } => answer(
            adapter
                .get_authenticator(&keys.credential(credential))
                .await,
            Answer::Authenticator,
        ),
        Op::ListAuthenticators { user } => answer(
            adapter.list_authenticators(&keys.user(user)).await,
            |mut v| {
                v.sort_by(|a, b| a.credential_id.cmp(&b.credential_id));
                Answer::Authenticators(v)
            },
        ),
        Op::UpdateAuthenticatorCounter {
            credential,
            counter,
        } => answer(
            adapter
                .update_authenticator_counter(&keys.credential(credential), i64::from(counter))
                .await,
            |a| Answer::Authenticator(Some(a)),
        ),
        Op::DeleteAuthenticator { credential } => answer(
            adapter
                .delete_authenticator(&keys.credential(credential))
                .await,
            Answer::Authenticator,
        ),
        Op::DeleteExpired => answer(adapter.delete_expired(keys.base).await, Answer::Expired),
    }
}

/// The operations that remove everything a sequence can have made, run on both adapters
/// (and compared) after it, so the next sequence's `delete_expired` counts only its own.
pub(crate) fn cleanup() -> Vec<Op> {
    let mut ops: Vec<Op> = (0..TOKENS)
        .map(|token| Op::UseVerificationToken { token })
        .collect();
    ops.extend((0..SESSIONS).map(|session| Op::DeleteSession { session }));
    ops.extend((0..USERS).map(|user| Op::DeleteUser { user }));
    ops.push(Op::DeleteExpired);
    ops
}
