//! Model-based checking: random sequences of adapter calls run on the adapter under test and
//! on the reference model — auth-core's [`MemoryAdapter`], the contract's executable form —
//! with every answer compared (the same value, or the same error code and kind).
//!
//! Sequences draw from a small key space ([`Op`]), so that a user id is reused after its
//! delete, one email arrives in two cases, and compound keys that join to the same text
//! (`git` + `hub:1`, `git:hub` + `1`) meet often. On a mismatch the sequence is shrunk to a
//! minimal one with proptest's shrinking and printed as a test ready to paste. Expiries are
//! whole days from the sequence's start, so no answer depends on how long a call took.
//!
//! Scenario 44 runs it on every backend ([`Budget::from_env`]: `AUTH_MODEL_CASES` sequences
//! of up to [`MAX_OPS`] calls, seed from `AUTH_MODEL_SEED` or a fresh one, printed on
//! failure); the layouts' documented gaps become [`Rules`] that leave out what the layout
//! cannot hold.
//!
//! Why proptest's strategies and shrinking, driven by a loop of our own, rather than
//! proptest-state-machine: the operations do not depend on the model's state (the small
//! key space makes collisions frequent without it), so a state machine's preconditions and
//! state-dependent generation add nothing, and its runner is synchronous while every call
//! here is async on the suite's runtime.
//!
//! ```
//! use adapter_conformance::model::{check_sequences, Budget, Rules};
//! use auth_core::memory::MemoryAdapter;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let adapter = MemoryAdapter::new();
//! let budget = Budget { cases: 5, max_ops: 10, seed: 7, histories: 0 };
//! // The model agrees with itself.
//! check_sequences(&adapter, Rules::default(), budget).await.unwrap();
//! # });
//! ```

mod concurrent;
mod limbo;
mod ops;
mod rules;

use auth_core::chrono::{DurationRound, TimeDelta, Utc};
use auth_core::memory::MemoryAdapter;
use auth_core::{Adapter, ErrorKind};
use proptest::collection::vec;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use crate::harness::{self, BackendSpec, Resolved};

pub use concurrent::{
    check_histories, Call, Reply, Spec, World, CALLS_PER_CLIENT, CLIENTS, DEFAULT_HISTORIES,
    HISTORIES_VAR,
};
pub use ops::{Answer, Op};
pub use rules::Rules;

/// The variable holding the seed to replay (a decimal `u64`).
pub const SEED_VAR: &str = "AUTH_MODEL_SEED";
/// The variable holding how many sequences to run (the long run sets thousands).
pub const CASES_VAR: &str = "AUTH_MODEL_CASES";
/// Sequences per backend when [`CASES_VAR`] is not set.
pub const DEFAULT_CASES: u32 = 100;
/// The longest sequence.
pub const MAX_OPS: usize = 30;
/// Shrinking gives up after this many attempts and reports the smallest failure so far.
const MAX_SHRINK_STEPS: u32 = 500;

/// How much to run, from which seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// How many sequences.
    pub cases: u32,
    /// The longest sequence.
    pub max_ops: usize,
    /// The seed of the random source: the same seed runs the same sequences (and draws
    /// the same calls for the concurrent histories).
    pub seed: u64,
    /// How many concurrent histories (scenario 45).
    pub histories: u32,
}

impl Budget {
    /// [`DEFAULT_CASES`] sequences, or `AUTH_MODEL_CASES`; [`DEFAULT_HISTORIES`] concurrent
    /// histories, or `AUTH_MODEL_HISTORIES`; the seed in `AUTH_MODEL_SEED`, or a fresh one. A variable that is set but not a number is an error, not a default.
    ///
    /// ```
    /// let budget = adapter_conformance::model::Budget::from_env().unwrap();
    /// assert!(budget.cases > 0);
    /// ```
    pub fn from_env() -> Result<Self, String> {
        let number = |var: &str| -> Result<Option<u64>, String> {
            match std::env::var(var) {
                Ok(text) => text
                    .trim()
                    .parse::<u64>()
                    .map(Some)
                    .map_err(|_| format!("{var} is `{text}`, not a whole number")),
                Err(_) => Ok(None),
            }
        };
        let cases = number(CASES_VAR)?.map_or(DEFAULT_CASES, |n| {
            u32::try_from(n).unwrap_or(u32::MAX).max(1)
        });
        let seed = match number(SEED_VAR)? {
            Some(seed) => seed,
            None => fresh_seed(),
        };
        let histories = number(HISTORIES_VAR)?.map_or(DEFAULT_HISTORIES, |n| {
            u32::try_from(n).unwrap_or(u32::MAX).max(1)
        });
        Ok(Self {
            cases,
            max_ops: MAX_OPS,
            seed,
            histories,
        })
    }
}

fn fresh_seed() -> u64 {
    let bytes = uuid::Uuid::now_v7().into_bytes();
    let mut random = [0u8; 8];
    random.copy_from_slice(&bytes[8..16]);
    u64::from_le_bytes(random)
}

/// One operation whose answers differ.
#[derive(Debug, Clone, PartialEq)]
pub struct Mismatch {
    /// Its position in the sequence (past the end: the cleanup after it).
    pub index: usize,
    /// The operation.
    pub op: Op,
    /// The model's answer.
    pub expected: Answer,
    /// The adapter's answer.
    pub actual: Answer,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "operation {} ({:?})\n  the model answers {:?}\n  the adapter answers {:?}",
            self.index + 1,
            self.op,
            self.expected,
            self.actual
        )
    }
}

/// Runs `ops` on `adapter` and on a fresh model, under the namespace `ns`, then removes
/// what they made on both; the first answer that differs, if any.
///
/// ```
/// use adapter_conformance::model::{replay, Op::*, Rules};
/// use auth_core::memory::MemoryAdapter;
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let ops = [CreateUser { user: 0, email: Some(0), name: None }, GetUserByEmail { email: 1 }];
/// replay(&MemoryAdapter::new(), Rules::default(), &ops, "r1-").await.unwrap();
/// # });
/// ```
pub async fn replay(
    adapter: &dyn Adapter,
    rules: Rules,
    ops: &[Op],
    ns: &str,
) -> Result<(), Mismatch> {
    let model = MemoryAdapter::new();
    let unit = if rules.whole_seconds {
        TimeDelta::seconds(1)
    } else {
        TimeDelta::milliseconds(1)
    };
    let now = Utc::now();
    let keys = ops::Keys {
        ns: ns.to_owned(),
        base: now.duration_trunc(unit).unwrap_or(now),
        joined: rules.joined_keys,
    };
    let mut mismatch = None;
    let mut limbo = limbo::Limbo::default();
    for (index, op) in ops.iter().copied().chain(ops::cleanup()).enumerate() {
        if !rules.allows(op, &model, &keys).await {
            continue;
        }
        limbo.before(op, &model, &keys);
        let expected = ops::apply(&model, op, &keys, &rules).await;
        let actual = ops::apply(adapter, op, &keys, &rules).await;
        let agree = expected == actual
            || unordered_conditions(op, &expected, &actual, &model, &keys)
            || limbo
                .explains(op, &expected, &actual, &model, &keys, &rules)
                .await;
        if agree || mismatch.is_some() {
            limbo.after(op, &actual, &keys);
        }
        if mismatch.is_none() && !agree {
            mismatch = Some(Mismatch {
                index,
                op,
                expected,
                actual,
            });
            // Go on: the cleanup still runs on the adapter, so later sequences start clean.
        }
    }
    mismatch.map_or(Ok(()), Err)
}

/// Whether two different answers to one call are both right because the contract gives
/// no order between two conditions that both hold (the model's state shows both): a create
/// whose key is taken (`Conflict`) and whose owner is missing (`NotFound`), and a session
/// update that moves a missing session (`None`) to a missing user (`NotFound`).
fn unordered_conditions(
    op: Op,
    expected: &Answer,
    actual: &Answer,
    model: &MemoryAdapter,
    keys: &ops::Keys,
) -> bool {
    let state = model.snapshot();
    if let Op::UpdateSession {
        session,
        user: Some(user),
        ..
    } = op
    {
        let missing = state
            .sessions
            .get(&keys.session(session))
            .is_none_or(|s| s.expires <= keys.base);
        let answers = [expected, actual];
        return missing
            && !state.users.contains_key(&keys.user(user))
            && answers.contains(&&Answer::Session(None))
            && answers
                .iter()
                .any(|a| matches!(a, Answer::Failed(_, ErrorKind::NotFound)));
    }
    let (Answer::Failed(code, one), Answer::Failed(other_code, other)) = (expected, actual) else {
        return false;
    };
    let kinds = [*one, *other];
    if code != other_code
        || !kinds.contains(&ErrorKind::Conflict)
        || !kinds.contains(&ErrorKind::NotFound)
    {
        return false;
    }
    let (taken, owner) = match op {
        Op::CreateSession { session, user, .. } => {
            (state.sessions.contains_key(&keys.session(session)), user)
        }
        Op::LinkAccount { user, account, .. } => {
            (state.accounts.contains_key(&keys.account(account)), user)
        }
        Op::CreateAuthenticator {
            credential, user, ..
        } => (
            state
                .authenticators
                .contains_key(&keys.credential(credential)),
            user,
        ),
        _ => return false,
    };
    taken && !state.users.contains_key(&keys.user(owner))
}

/// `budget.cases` random sequences on `adapter`, each compared with the model under
/// `rules`; the first that fails is shrunk to a minimal sequence, and the error says the
/// seed, the mismatch and the sequence as a test to paste.
pub async fn check_sequences(
    adapter: &dyn Adapter,
    rules: Rules,
    budget: Budget,
) -> Result<(), String> {
    let strategy = vec(ops::op_strategy(), 1..=budget.max_ops.max(1));
    let mut runs = 0u64;
    let mut ns = || {
        runs += 1;
        format!("m{runs}-")
    };
    for case in 1..=budget.cases {
        // A runner per sequence, seeded from the seed and the sequence's number, so that
        // nothing but the value tree lives across the awaits (the runner is not `Send`).
        let mut tree = {
            let mut seed = [0u8; 32];
            seed[..8].copy_from_slice(&budget.seed.to_le_bytes());
            seed[8..12].copy_from_slice(&case.to_le_bytes());
            let config = Config {
                failure_persistence: None,
                ..Config::default()
            };
            let mut runner =
                TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed));
            strategy
                .new_tree(&mut runner)
                .map_err(|e| format!("could not draw a sequence: {e}"))?
        };
        let drawn = tree.current();
        let Err(first) = replay(adapter, rules, &drawn, &ns()).await else {
            continue;
        };
        let (mut smallest, mut mismatch) = (drawn.clone(), first);
        let mut steps = 0;
        if tree.simplify() {
            loop {
                steps += 1;
                let candidate = tree.current();
                match replay(adapter, rules, &candidate, &ns()).await {
                    Err(found) => {
                        (smallest, mismatch) = (candidate, found);
                        if !tree.simplify() {
                            break;
                        }
                    }
                    Ok(()) => {
                        if !tree.complicate() {
                            break;
                        }
                    }
                }
                if steps >= MAX_SHRINK_STEPS {
                    break;
                }
            }
        }
        return Err(failure_report(
            budget, case, &drawn, &smallest, &mismatch, steps,
        ));
    }
    Ok(())
}

fn failure_report(
    budget: Budget,
    case: u32,
    drawn: &[Op],
    smallest: &[Op],
    mismatch: &Mismatch,
    steps: u32,
) -> String {
    let seed = budget.seed;
    let listed: String = smallest
        .iter()
        .map(|op| format!("        {op:?},\n"))
        .collect();
    format!(
        "the adapter and the model differ (seed {seed}, sequence {case} of {}; \
         {SEED_VAR}={seed} replays it)\n\
         shrunk from {} to {} operations in {steps} steps; at {mismatch}\n\
         as a test (give it your backend's spec function):\n\n\
         #[tokio::test]\n\
         async fn model_seed_{seed}() {{\n    \
             use adapter_conformance::model::Op::*;\n    \
             let ops = [\n{listed}    ];\n    \
             adapter_conformance::model::replay_on(my_backend_spec, &ops).await.unwrap();\n\
         }}\n",
        budget.cases,
        drawn.len(),
        smallest.len(),
    )
}

tokio::task_local! {
    /// The model rules of the backend whose scenario runs on this task (set by the runner).
    pub(crate) static BACKEND_RULES: Rules;
}

/// The rules of the backend whose scenario runs now (none outside the runner).
pub(crate) fn current_rules() -> Rules {
    BACKEND_RULES.try_with(|rules| *rules).unwrap_or_default()
}

/// Replays `ops` on a fresh fixture of the backend `spec` gives, under its rules:
/// what a failure report's pasted test calls.
///
/// ```no_run
/// use adapter_conformance::backends::memory;
/// use adapter_conformance::model::{replay_on, Op::*};
/// # async fn doc() -> Result<(), String> {
/// replay_on(memory::spec, &[CreateUser { user: 0, email: None, name: None }]).await
/// # }
/// ```
pub async fn replay_on(spec: fn() -> BackendSpec, ops: &[Op]) -> Result<(), String> {
    let spec = spec();
    let backend = match harness::resolve(&spec).await {
        Ok(Resolved::Ready(backend)) => backend,
        Ok(Resolved::Skipped(why)) => return Err(format!("{}: not available: {why}", spec.name)),
        Err(e) => return Err(format!("{}: could not be opened: {e}", spec.name)),
    };
    let fixture = backend
        .fixture()
        .await
        .map_err(|e| format!("could not set up a fixture: {e}"))?;
    let rules = backend.model_rules();
    let outcome = replay(fixture.adapter.as_ref(), rules, ops, "r1-").await;
    let teardown = fixture.inspector.teardown().await;
    outcome.map_err(|m| format!("{}: {m}", spec.name))?;
    teardown.map_err(|e| format!("teardown failed: {e}"))
}
