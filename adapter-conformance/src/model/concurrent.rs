//! Concurrent histories: several clients call one adapter at once on shared keys, every
//! call's invocation and return instant is recorded, and the history must be linearizable
//! against a sequential specification of the contract ([`Spec`]): some order of the calls,
//! each taking effect between its invocation and its return, explains every answer. The
//! check is the Porcupine port ([`crate::linearizability`]).
//!
//! The calls cover what races in an auth store: one verification token used by several
//! clients (exactly one wins), sign-ups with one address in two cases (one wins), sessions
//! and accounts created for a user that another client deletes, sessions updated while
//! another client deletes them, accounts linked and unlinked at once. Every session is live
//! (expiries are days ahead), so no answer depends on the clock.

use std::time::{Duration, Instant};

use auth_core::chrono::{DateTime, Duration as Days, Utc};
use auth_core::{
    Account, AccountType, Adapter, AdapterError, ErrorKind, Session, SessionUpdate, User,
    VerificationToken,
};
use proptest::prelude::Rng;
use proptest::test_runner::{RngAlgorithm, TestRng};

use super::rules::Rules;
use crate::linearizability::{check_operations_verbose, CheckResult, Model, Operation};

/// The variable holding how many histories to check per backend.
pub const HISTORIES_VAR: &str = "AUTH_MODEL_HISTORIES";
/// Histories per backend when [`HISTORIES_VAR`] is not set.
pub const DEFAULT_HISTORIES: u32 = 50;
/// Clients calling at once.
pub const CLIENTS: usize = 6;
/// Calls each client makes, one after another.
pub const CALLS_PER_CLIENT: usize = 5;
/// How long the checker may search one history before the answer is "unknown" (a failure).
const CHECK_LIMIT: Duration = Duration::from_secs(20);

/// One call of a concurrent history, on two users (one address between them, in two
/// spellings), two sessions, two accounts and one verification token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Call {
    /// `create_user` of `u<user>`, with the shared address in `spelling` (0 or 1) or none.
    CreateUser {
        user: u8,
        spelling: Option<u8>,
    },
    DeleteUser {
        user: u8,
    },
    /// `get_user_by_email` of the shared address in `spelling`.
    GetUserByEmail {
        spelling: u8,
    },
    CreateSession {
        session: u8,
        user: u8,
    },
    DeleteSession {
        session: u8,
    },
    /// `update_session` to a new expiry (days ahead).
    UpdateSession {
        session: u8,
        days: u8,
    },
    GetSessionAndUser {
        session: u8,
    },
    LinkAccount {
        account: u8,
        user: u8,
    },
    UnlinkAccount {
        account: u8,
    },
    GetUserByAccount {
        account: u8,
    },
    CreateToken,
    UseToken,
}

/// What a call answered, as the specification compares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// A create or link that succeeded.
    Done,
    /// A `Conflict` or `NotFound` error.
    Failed(ErrorKind),
    /// The user a read, delete or update named (`None`: nothing).
    Found(Option<u8>),
    /// Whether a delete, unlink or token use removed something.
    Removed(bool),
    /// Anything else (another error, a user id outside the history): never legal.
    Unexpected(String),
}

/// The state of the specification: who exists, and what they own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct World {
    /// Per user: absent, or present with the shared address (`true`) or none.
    pub users: [Option<bool>; 2],
    /// Per session: its owner.
    pub sessions: [Option<u8>; 2],
    /// Per account: its owner.
    pub accounts: [Option<u8>; 2],
    /// Whether the verification token exists.
    pub token: bool,
}

/// The contract, sequentially, on a [`World`]: what each call may answer.
#[derive(Debug, Clone, Default)]
pub struct Spec {
    /// The state before the history (users made beforehand, where a layout assigns ids).
    pub start: World,
}

impl Spec {
    /// The answer of a create whose key may be taken and whose owner may be missing: the
    /// contract gives no order between the two, so with both either error is right.
    fn create(taken: bool, missing: bool, reply: &Reply) -> Option<()> {
        match (taken, missing, reply) {
            (false, false, Reply::Done) => Some(()),
            (true, _, Reply::Failed(ErrorKind::Conflict)) => Some(()),
            (_, true, Reply::Failed(ErrorKind::NotFound)) => Some(()),
            _ => None,
        }
    }
}

impl Spec {
    /// Creating record `i` (a session, an account) of `owned` for `user`.
    fn create_owned(
        owned: &[Option<u8>; 2],
        next: &mut [Option<u8>; 2],
        i: u8,
        user: u8,
        user_exists: bool,
        reply: &Reply,
    ) -> Option<()> {
        Self::create(owned[usize::from(i)].is_some(), !user_exists, reply)?;
        if *reply == Reply::Done {
            next[usize::from(i)] = Some(user);
        }
        Some(())
    }

    /// Removing record `i` (a session, an account) of `owned`.
    fn remove_owned(
        owned: &[Option<u8>; 2],
        next: &mut [Option<u8>; 2],
        i: u8,
        reply: &Reply,
    ) -> Option<()> {
        (*reply == Reply::Removed(owned[usize::from(i)].is_some())).then_some(())?;
        next[usize::from(i)] = None;
        Some(())
    }
}

impl Model for Spec {
    type State = World;
    type Input = Call;
    type Output = Reply;

    fn init(&self) -> World {
        self.start.clone()
    }

    fn step(&self, state: &World, call: &Call, reply: &Reply) -> Option<World> {
        let mut next = state.clone();
        let exists = |user: u8| state.users[usize::from(user)].is_some();
        match *call {
            Call::CreateUser { user, spelling } => {
                let taken = exists(user) || spelling.is_some() && state.users.contains(&Some(true));
                Self::create(taken, false, reply)?;
                if *reply == Reply::Done {
                    next.users[usize::from(user)] = Some(spelling.is_some());
                }
            }
            Call::DeleteUser { user } => {
                let present = exists(user);
                (*reply == Reply::Found(present.then_some(user))).then_some(())?;
                next.users[usize::from(user)] = None;
                for owner in next.sessions.iter_mut().chain(next.accounts.iter_mut()) {
                    if *owner == Some(user) {
                        *owner = None;
                    }
                }
            }
            Call::GetUserByEmail { .. } => {
                let holder = (0..2u8).find(|&u| state.users[usize::from(u)] == Some(true));
                (*reply == Reply::Found(holder)).then_some(())?;
            }
            Call::CreateSession { session: i, user } => {
                Self::create_owned(
                    &state.sessions,
                    &mut next.sessions,
                    i,
                    user,
                    exists(user),
                    reply,
                )?;
            }
            Call::LinkAccount { account: i, user } => {
                Self::create_owned(
                    &state.accounts,
                    &mut next.accounts,
                    i,
                    user,
                    exists(user),
                    reply,
                )?;
            }
            Call::DeleteSession { session: i } => {
                Self::remove_owned(&state.sessions, &mut next.sessions, i, reply)?;
            }
            Call::UnlinkAccount { account: i } => {
                Self::remove_owned(&state.accounts, &mut next.accounts, i, reply)?;
            }
            Call::UpdateSession { session: i, .. } | Call::GetSessionAndUser { session: i } => {
                (*reply == Reply::Found(state.sessions[usize::from(i)])).then_some(())?;
            }
            Call::GetUserByAccount { account: i } => {
                (*reply == Reply::Found(state.accounts[usize::from(i)])).then_some(())?;
            }
            Call::CreateToken => {
                Self::create(state.token, false, reply)?;
                next.token = true; // made now, or there already
            }
            Call::UseToken => {
                (*reply == Reply::Removed(state.token)).then_some(())?;
                next.token = false;
            }
        }
        Some(next)
    }
}

/// The names one history's indices stand for, under its namespace.
struct Names {
    ns: String,
    expires: DateTime<Utc>,
}

impl Names {
    fn user(&self, i: u8) -> String {
        format!("{}u{i}", self.ns)
    }

    fn email(&self, spelling: u8) -> String {
        if spelling == 0 {
            format!("{}ada@example.test", self.ns)
        } else {
            format!("{}ADA@Example.TEST", self.ns.to_uppercase())
        }
    }

    fn session(&self, i: u8) -> String {
        format!("{}s{i}", self.ns)
    }

    fn account(&self, i: u8) -> (String, String) {
        (format!("{}prov", self.ns), format!("a{i}"))
    }

    fn token(&self) -> (String, String) {
        (format!("{}id", self.ns), "tok".to_owned())
    }

    /// The index of a user id of this history.
    fn index(&self, id: &str) -> Option<u8> {
        match id.strip_prefix(&self.ns)? {
            "u0" => Some(0),
            "u1" => Some(1),
            _ => None,
        }
    }
}

fn failed(err: &AdapterError) -> Reply {
    match err.kind() {
        kind @ (ErrorKind::Conflict | ErrorKind::NotFound) => Reply::Failed(kind),
        _ => {
            // The cause chain says what the server answered (errors carry no secrets).
            let mut text = err.to_string();
            let mut source = std::error::Error::source(err);
            while let Some(cause) = source {
                text.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            Reply::Unexpected(text)
        }
    }
}

/// The user a returned record names, as the history's index.
fn found(names: &Names, id: Option<&str>) -> Reply {
    match id {
        None => Reply::Found(None),
        Some(id) => match names.index(id) {
            Some(i) => Reply::Found(Some(i)),
            None => Reply::Unexpected(format!("a user id from outside the history: {id}")),
        },
    }
}

async fn perform(adapter: &dyn Adapter, call: Call, names: &Names) -> Reply {
    let result = match call {
        Call::CreateUser { user, spelling } => {
            let mut new = User::with_id(names.user(user));
            new.email = spelling.map(|s| names.email(s));
            adapter.create_user(new).await.map(|_| Reply::Done)
        }
        Call::DeleteUser { user } => adapter
            .delete_user(&names.user(user))
            .await
            .map(|u| found(names, u.as_ref().map(|u| u.id.as_str()))),
        Call::GetUserByEmail { spelling } => adapter
            .get_user_by_email(&names.email(spelling))
            .await
            .map(|u| found(names, u.as_ref().map(|u| u.id.as_str()))),
        Call::CreateSession { session, user } => adapter
            .create_session(Session::with_token(
                names.session(session),
                names.user(user),
                names.expires,
            ))
            .await
            .map(|_| Reply::Done),
        Call::DeleteSession { session } => adapter
            .delete_session(&names.session(session))
            .await
            .map(|s| Reply::Removed(s.is_some())),
        Call::UpdateSession { session, days } => adapter
            .update_session(
                SessionUpdate::new(names.session(session))
                    .expires(names.expires + Days::days(i64::from(days))),
            )
            .await
            .map(|s| found(names, s.as_ref().map(|s| s.user_id.as_str()))),
        Call::GetSessionAndUser { session } => adapter
            .get_session_and_user(&names.session(session))
            .await
            .map(|found_pair| match found_pair {
                Some((s, u)) if s.user_id != u.id => Reply::Unexpected(format!(
                    "the session names {} but the user returned is {}",
                    s.user_id, u.id
                )),
                other => found(names, other.as_ref().map(|(_, u)| u.id.as_str())),
            }),
        Call::LinkAccount { account, user } => {
            let (provider, id) = names.account(account);
            adapter
                .link_account(Account::new(
                    names.user(user),
                    AccountType::OAuth,
                    provider,
                    id,
                ))
                .await
                .map(|_| Reply::Done)
        }
        Call::UnlinkAccount { account } => {
            let (provider, id) = names.account(account);
            adapter
                .unlink_account(&provider, &id)
                .await
                .map(|a| Reply::Removed(a.is_some()))
        }
        Call::GetUserByAccount { account } => {
            let (provider, id) = names.account(account);
            adapter
                .get_user_by_account(&provider, &id)
                .await
                .map(|u| found(names, u.as_ref().map(|u| u.id.as_str())))
        }
        Call::CreateToken => {
            let (identifier, token) = names.token();
            adapter
                .create_verification_token(VerificationToken::new(identifier, token, names.expires))
                .await
                .map(|_| Reply::Done)
        }
        Call::UseToken => {
            let (identifier, token) = names.token();
            adapter
                .use_verification_token(&identifier, &token)
                .await
                .map(|t| Reply::Removed(t.is_some()))
        }
    };
    result.unwrap_or_else(|err| failed(&err))
}

/// Draws one client's calls under `rules`.
fn draw_calls(rng: &mut TestRng, rules: &Rules) -> Vec<Call> {
    let mut pick = |n: u32| (rng.next_u32() % n) as u8;
    (0..CALLS_PER_CLIENT)
        .map(|_| loop {
            let (a, b) = (pick(2), pick(2));
            let call = match pick(12) {
                0 => Call::CreateUser {
                    user: a,
                    spelling: if rules.one_email_spelling {
                        Some(0)
                    } else {
                        Some(b)
                    },
                },
                1 => Call::DeleteUser { user: a },
                2 => Call::GetUserByEmail {
                    spelling: if rules.one_email_spelling { 0 } else { b },
                },
                // One record per user where the layout needs it: session i is user i's.
                3 => Call::CreateSession {
                    session: a,
                    user: if rules.one_record_per_user { a } else { b },
                },
                4 => Call::DeleteSession { session: a },
                5 => Call::UpdateSession {
                    session: a,
                    days: 2 + b,
                },
                6 => Call::GetSessionAndUser { session: a },
                7 => Call::LinkAccount {
                    account: a,
                    user: if rules.one_record_per_user { a } else { b },
                },
                8 => Call::UnlinkAccount { account: a },
                9 => Call::GetUserByAccount { account: a },
                10 => Call::CreateToken,
                _ => Call::UseToken,
            };
            // Where the database assigns ids, users exist beforehand and are not made again;
            // where owners are unsynchronized, they are not deleted either.
            if keeps_users(rules) && matches!(call, Call::CreateUser { .. })
                || rules.unsynchronized_owners && matches!(call, Call::DeleteUser { .. })
            {
                continue;
            }
            break call;
        })
        .collect()
}

/// Whether a history's users are made beforehand instead of by its calls.
fn keeps_users(rules: &Rules) -> bool {
    rules.fresh_user_ids || rules.unsynchronized_owners
}

/// What a history starts from: nothing, or (where the database assigns ids, or owners are
/// unsynchronized) both users, the first with the shared address.
async fn set_up(adapter: &dyn Adapter, names: &Names, rules: &Rules) -> Result<World, String> {
    let mut world = World::default();
    if keeps_users(rules) {
        for user in 0..2u8 {
            let mut new = User::with_id(names.user(user));
            new.email = (user == 0).then(|| names.email(0));
            adapter
                .create_user(new)
                .await
                .map_err(|e| format!("setting up a history: {e}"))?;
            world.users[usize::from(user)] = Some(user == 0);
        }
    }
    Ok(world)
}

/// Removes what a history can have made.
async fn clean_up(adapter: &dyn Adapter, names: &Names) {
    let (identifier, token) = names.token();
    let _ = adapter.use_verification_token(&identifier, &token).await;
    for i in 0..2u8 {
        let _ = adapter.delete_session(&names.session(i)).await;
        let (provider, id) = names.account(i);
        let _ = adapter.unlink_account(&provider, &id).await;
        let _ = adapter.delete_user(&names.user(i)).await;
    }
}

/// Runs `histories` concurrent histories on `adapter` from `seed`, each checked for
/// linearizability; the first that is not is described (its calls with their instants and
/// answers, and the longest order the checker found).
///
/// ```
/// use adapter_conformance::model::{check_histories, Rules};
/// use auth_core::memory::MemoryAdapter;
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// check_histories(&MemoryAdapter::new(), Rules::default(), 5, 7).await.unwrap();
/// # });
/// ```
pub async fn check_histories(
    adapter: &dyn Adapter,
    rules: Rules,
    histories: u32,
    seed: u64,
) -> Result<(), String> {
    for number in 1..=histories {
        let mut seed_bytes = [0u8; 32];
        seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
        seed_bytes[8..12].copy_from_slice(&number.to_le_bytes());
        seed_bytes[12] = 0x45;
        let mut rng = TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes);
        let clients: Vec<Vec<Call>> = (0..CLIENTS).map(|_| draw_calls(&mut rng, &rules)).collect();
        let names = Names {
            ns: format!("h{number}-"),
            expires: Utc::now() + Days::days(1),
        };
        let start = set_up(adapter, &names, &rules).await?;
        let history = record(adapter, &clients, &names).await;
        clean_up(adapter, &names).await;
        let spec = Spec { start };
        let (result, info) = check_operations_verbose(&spec, &history, Some(CHECK_LIMIT));
        if result != CheckResult::Ok {
            let calls: String = history
                .iter()
                .map(|op| {
                    format!(
                        "  client {} [{} µs, {} µs] {:?} -> {:?}\n",
                        op.client,
                        op.call / 1_000,
                        op.ret / 1_000,
                        op.input,
                        op.output
                    )
                })
                .collect();
            return Err(format!(
                "history {number} of {histories} is {} (seed {seed}; AUTH_MODEL_SEED={seed} \
                 replays the calls, not their timing)\n{calls}{}",
                if result == CheckResult::Illegal {
                    "not linearizable"
                } else {
                    "not decided in time"
                },
                info.explain(&spec, &history)
            ));
        }
    }
    Ok(())
}

/// Every client's calls at once, each call's invocation and return in nanoseconds since
/// the history began.
async fn record(
    adapter: &dyn Adapter,
    clients: &[Vec<Call>],
    names: &Names,
) -> Vec<Operation<Call, Reply>> {
    let began = Instant::now();
    let nanos =
        |at: Instant| i64::try_from(at.duration_since(began).as_nanos()).unwrap_or(i64::MAX);
    let per_client = clients
        .iter()
        .enumerate()
        .map(|(client, calls)| async move {
            let mut ops = Vec::with_capacity(calls.len());
            for &call in calls {
                let invoked = nanos(Instant::now());
                let output = perform(adapter, call, names).await;
                let returned = nanos(Instant::now());
                ops.push(Operation {
                    client,
                    input: call,
                    call: invoked,
                    output,
                    ret: returned,
                });
            }
            ops
        });
    futures::future::join_all(per_client)
        .await
        .into_iter()
        .flatten()
        .collect()
}
