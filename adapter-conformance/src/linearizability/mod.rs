//! A linearizability checker for concurrent histories: a Rust port of
//! [Porcupine](https://github.com/anishathalye/porcupine).
//!
//! A concurrent history records, for each call, who made it (`client`), what was asked
//! (`input`), what came back (`output`) and when it was invoked and when it returned. The
//! history is *linearizable* with respect to a sequential specification (a [`Model`]) when
//! every call can be given a single instant between its invocation and its return such that
//! running the calls one by one in that order, through the model, gives exactly the outputs
//! that were observed.
//!
//! # Origin and licence
//!
//! This module is a port of Porcupine's checker (`checker.go`, `model.go`, `bitset.go`) by
//! Anish Athalye, published under the MIT licence (Copyright (c) Anish Athalye). Its tests
//! (`tests/linearizability.rs` in this crate) are Porcupine's own tests and test histories,
//! with Porcupine's expected results. The algorithm is Porcupine's:
//!
//! - the search for a linearization is Wing & Gong's ("Testing and verifying concurrent
//!   objects", 1993): repeatedly pick a call that may take effect next, step the model, and
//!   backtrack when no pending call can go before the earliest outstanding return;
//! - with Lowe's just-in-time linearization and memoization ("Testing for linearizability",
//!   2017): the history is a doubly linked list of call and return entries from which a
//!   linearized call and its return are lifted out (and put back when backtracking), and a
//!   cache of (set of linearized calls, model state) pairs that were already explored prunes
//!   the search;
//! - and P-compositionality (Horn & Kroening, "Faster linearizability checking via
//!   P-compositionality", 2015): a history is linearizable if and only if each of its
//!   independent sub-histories is, so a [`Model::partition`] (for example by key) turns one
//!   exponential search into several small ones.
//!
//! The search is Porcupine's loop, iterative with an explicit stack, over the same linked
//! list (held in an index arena instead of pointers). What differs from Porcupine:
//! partitions are checked one after another instead of in parallel goroutines; a model's `step` is not interrupted by the
//! timeout (the deadline is checked between steps); there is no HTML visualization, but
//! [`LinearizationInfo::explain`] describes the longest partial linearization of each
//! partition in text; and histories of [`Event`]s are validated
//! ([`HistoryError`]) instead of being trusted, then checked as operations whose times are
//! the events' positions (Porcupine does the same per partition), so [`Model::partition`]
//! serves both kinds of history and there is no separate `PartitionEvent`.
//!
//! # Example
//!
//! A register that starts at 0 (Porcupine's own first example):
//!
//! ```
//! use adapter_conformance::linearizability::{check_operations, CheckResult, Model, Operation};
//!
//! #[derive(Debug)]
//! enum Call {
//!     Write(u32),
//!     Read,
//! }
//!
//! struct Register;
//!
//! impl Model for Register {
//!     type State = u32;
//!     type Input = Call;
//!     type Output = u32;
//!
//!     fn init(&self) -> u32 {
//!         0
//!     }
//!
//!     fn step(&self, state: &u32, input: &Call, output: &u32) -> Option<u32> {
//!         match input {
//!             Call::Write(value) => Some(*value),
//!             Call::Read => (output == state).then_some(*state),
//!         }
//!     }
//! }
//!
//! let op = |client, input, call, output, ret| Operation { client, input, call, output, ret };
//! // Client 0 writes 100 during [0, 100]; client 1 reads 100 during [25, 75] and client 2
//! // reads 0 during [30, 60]: linearizable (read 0, write, read 100).
//! let history = vec![
//!     op(0, Call::Write(100), 0, 0, 100),
//!     op(1, Call::Read, 25, 100, 75),
//!     op(2, Call::Read, 30, 0, 60),
//! ];
//! assert_eq!(check_operations(&Register, &history, None), CheckResult::Ok);
//!
//! // Client 1 reads 200 during [10, 30], then client 2 reads 0 during [40, 90]: the value
//! // went back from 200 to 0, which no order of these calls explains.
//! let history = vec![
//!     op(0, Call::Write(200), 0, 0, 100),
//!     op(1, Call::Read, 10, 200, 30),
//!     op(2, Call::Read, 40, 0, 90),
//! ];
//! assert_eq!(check_operations(&Register, &history, None), CheckResult::Illegal);
//! ```

mod checker;
mod info;
mod nondeterministic;

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

pub use info::{LinearizationInfo, PartitionInfo};
pub use nondeterministic::{NondeterministicModel, PowerSet, StateSet};

/// A sequential specification: the state a system starts in and how each call changes it.
///
/// `step` must be a pure function of its arguments: the checker calls it many times on the
/// same state while it searches, and it compares states with `==`.
///
/// # Example
///
/// A key-value store of strings, partitioned by key (P-compositionality): each partition
/// holds the operations on one key, so the state is just that key's value.
///
/// ```
/// use adapter_conformance::linearizability::{check_operations, CheckResult, Model, Operation};
///
/// #[derive(Debug)]
/// enum Kv {
///     Get(&'static str),
///     Put(&'static str, &'static str),
/// }
///
/// struct PerKey;
///
/// impl Model for PerKey {
///     type State = String;
///     type Input = Kv;
///     type Output = Option<&'static str>;
///
///     fn init(&self) -> String {
///         String::new()
///     }
///
///     fn step(&self, state: &String, input: &Kv, output: &Self::Output) -> Option<String> {
///         match input {
///             Kv::Get(_) => (output.unwrap_or_default() == state).then(|| state.clone()),
///             Kv::Put(_, value) => Some((*value).to_owned()),
///         }
///     }
///
///     fn partition(&self, history: &[Operation<Kv, Self::Output>]) -> Vec<Vec<usize>> {
///         let mut by_key: std::collections::BTreeMap<&str, Vec<usize>> = Default::default();
///         for (index, op) in history.iter().enumerate() {
///             let (Kv::Get(key) | Kv::Put(key, _)) = op.input;
///             by_key.entry(key).or_default().push(index);
///         }
///         by_key.into_values().collect()
///     }
/// }
///
/// let history = vec![
///     Operation { client: 0, input: Kv::Put("x", "1"), call: 0, output: None, ret: 10 },
///     Operation { client: 1, input: Kv::Put("y", "2"), call: 0, output: None, ret: 10 },
///     Operation { client: 0, input: Kv::Get("x"), call: 20, output: Some("1"), ret: 30 },
///     Operation { client: 1, input: Kv::Get("y"), call: 20, output: Some("1"), ret: 30 },
/// ];
/// assert_eq!(check_operations(&PerKey, &history, None), CheckResult::Illegal);
/// ```
pub trait Model {
    /// The state of the specified system (or of one partition of it).
    type State: Clone + PartialEq + fmt::Debug;
    /// What a call asks.
    type Input: fmt::Debug;
    /// What a call answers.
    type Output: fmt::Debug;

    /// The state before any call.
    fn init(&self) -> Self::State;

    /// `Some(next state)` when `output` is a legal answer to `input` in `state`, `None` when
    /// it is not.
    fn step(
        &self,
        state: &Self::State,
        input: &Self::Input,
        output: &Self::Output,
    ) -> Option<Self::State>;

    /// Independent sub-histories (P-compositionality), as lists of indices into `history`:
    /// the history must be linearizable if and only if each sub-history is. The default is
    /// the whole history as one partition. With a partition, `init` and `step` describe one
    /// partition (for a key-value store partitioned by key, the state can be one value).
    ///
    /// An index must be below `history.len()`; the check panics otherwise.
    fn partition(&self, history: &[Operation<Self::Input, Self::Output>]) -> Vec<Vec<usize>> {
        vec![(0..history.len()).collect()]
    }

    /// A hash of `state`, used to spread the checker's cache of explored states; states that
    /// are equal must have equal hashes. The default, a constant, is always correct and only
    /// slower on histories where many states are explored.
    fn hash_state(&self, _state: &Self::State) -> u64 {
        0
    }

    /// A description of one call, for [`LinearizationInfo::explain`]. The default shows both
    /// with `{:?}`.
    fn describe_operation(&self, input: &Self::Input, output: &Self::Output) -> String {
        format!("{input:?} -> {output:?}")
    }

    /// A description of a state, for [`LinearizationInfo::explain`]. The default is `{:?}`.
    fn describe_state(&self, state: &Self::State) -> String {
        format!("{state:?}")
    }
}

/// One call of a history, with the times of its invocation and of its return.
///
/// The interval `[call, ret]` is closed: an operation `[10, 20]` is concurrent with one that
/// starts at 20. Any clock works as long as it never runs backwards; equal readings are
/// fine. An operation whose `ret` is before its `call` cannot happen, and a history that
/// contains one is reported [`CheckResult::Illegal`].
///
/// # Example
///
/// ```
/// use adapter_conformance::linearizability::Operation;
///
/// // Client 3 asked "read", got 7, between ticks 12 and 15 of the test's clock.
/// let op = Operation { client: 3, input: "read", call: 12, output: 7, ret: 15 };
/// assert!(op.call <= op.ret);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Operation<I, O> {
    /// Who made the call (only used to describe the history).
    pub client: usize,
    /// What was asked.
    pub input: I,
    /// When it was invoked.
    pub call: i64,
    /// What came back.
    pub output: O,
    /// When it returned.
    pub ret: i64,
}

/// The call or the return half of an [`Event`], with its value.
///
/// # Example
///
/// ```
/// use adapter_conformance::linearizability::EventKind;
///
/// let call: EventKind<&str, u32> = EventKind::Call("read");
/// let ret: EventKind<&str, u32> = EventKind::Return(7);
/// assert!(matches!(call, EventKind::Call(_)) && matches!(ret, EventKind::Return(7)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum EventKind<I, O> {
    /// A call, with its input.
    Call(I),
    /// A return, with its output.
    Return(O),
}

/// One element of a history given as events in the order they happened, without times:
/// each call has an `id` and the return with the same `id` is its answer.
///
/// # Example
///
/// ```
/// use adapter_conformance::linearizability::{Event, EventKind};
///
/// // Client 0 calls "read" (id 5); later the call returns 7.
/// let history: Vec<Event<&str, u32>> = vec![
///     Event { client: 0, id: 5, kind: EventKind::Call("read") },
///     Event { client: 0, id: 5, kind: EventKind::Return(7) },
/// ];
/// assert_eq!(history.len(), 2);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Event<I, O> {
    /// Who made the call (only used to describe the history).
    pub client: usize,
    /// Matches a call with its return; unique per call.
    pub id: usize,
    /// Call or return, with the value.
    pub kind: EventKind<I, O>,
}

/// Why a history of [`Event`]s cannot be checked.
///
/// # Example
///
/// ```
/// use adapter_conformance::linearizability::{events_to_operations, Event, EventKind, HistoryError};
///
/// let history: Vec<Event<&str, u32>> =
///     vec![Event { client: 0, id: 1, kind: EventKind::Call("read") }];
/// assert_eq!(events_to_operations(history), Err(HistoryError::CallWithoutReturn { id: 1 }));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HistoryError {
    /// Two calls have this id.
    DuplicateCall {
        /// The id.
        id: usize,
    },
    /// A return has no call with this id before it.
    ReturnWithoutCall {
        /// The id.
        id: usize,
    },
    /// A second return for the call with this id.
    DuplicateReturn {
        /// The id.
        id: usize,
    },
    /// The call with this id never returned. Give it a return whose output means "unknown"
    /// and a model that accepts it, as Porcupine's Jepsen tests do for calls that timed out.
    CallWithoutReturn {
        /// The id.
        id: usize,
    },
}

impl fmt::Display for HistoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DuplicateCall { id } => write!(f, "two calls have the id {id}"),
            Self::ReturnWithoutCall { id } => write!(f, "a return with id {id} has no call"),
            Self::DuplicateReturn { id } => write!(f, "the call with id {id} returns twice"),
            Self::CallWithoutReturn { id } => write!(f, "the call with id {id} never returns"),
        }
    }
}

impl std::error::Error for HistoryError {}

/// The answer of a check.
///
/// Deciding linearizability is NP-complete, so a check may take long; with a timeout it
/// answers [`CheckResult::Unknown`] when it ran out of time before an answer. Depending on
/// the use, `Unknown` can be read as "no violation found in the time given".
///
/// # Example
///
/// ```
/// use adapter_conformance::linearizability::CheckResult;
///
/// assert!(CheckResult::Ok.is_ok());
/// assert!(!CheckResult::Illegal.is_ok() && !CheckResult::Unknown.is_ok());
/// assert_eq!(CheckResult::Illegal.to_string(), "Illegal");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CheckResult {
    /// The history is linearizable.
    Ok,
    /// The history is not linearizable.
    Illegal,
    /// The check timed out before an answer.
    Unknown,
}

impl CheckResult {
    /// Whether this is [`CheckResult::Ok`].
    ///
    /// # Example
    ///
    /// ```
    /// use adapter_conformance::linearizability::CheckResult;
    ///
    /// assert!(CheckResult::Ok.is_ok());
    /// ```
    pub fn is_ok(self) -> bool {
        self == Self::Ok
    }
}

impl fmt::Display for CheckResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Ok => "Ok",
            Self::Illegal => "Illegal",
            Self::Unknown => "Unknown",
        })
    }
}

/// Checks whether a history of operations is linearizable with respect to `model`.
///
/// `timeout` bounds the whole check (`None`: no bound); when it runs out the answer is
/// [`CheckResult::Unknown`], unless a partition was already found not linearizable. The
/// first partition that is not linearizable ends the check.
///
/// # Panics
///
/// When [`Model::partition`] returns an index that is not below `history.len()`.
///
/// # Example
///
/// ```
/// use adapter_conformance::linearizability::{check_operations, CheckResult, Model, Operation};
///
/// /// A counter: `true` increments and answers nothing, `false` reads.
/// struct Counter;
///
/// impl Model for Counter {
///     type State = u32;
///     type Input = bool;
///     type Output = Option<u32>;
///     fn init(&self) -> u32 {
///         0
///     }
///     fn step(&self, state: &u32, increment: &bool, output: &Option<u32>) -> Option<u32> {
///         match (increment, output) {
///             (true, None) => Some(state + 1),
///             (false, Some(read)) if read == state => Some(*state),
///             _ => None,
///         }
///     }
/// }
///
/// // Two overlapping increments, then a read of 2.
/// let history = vec![
///     Operation { client: 0, input: true, call: 0, output: None, ret: 5 },
///     Operation { client: 1, input: true, call: 1, output: None, ret: 4 },
///     Operation { client: 0, input: false, call: 6, output: Some(2), ret: 7 },
/// ];
/// assert_eq!(check_operations(&Counter, &history, None), CheckResult::Ok);
/// ```
pub fn check_operations<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    timeout: Option<Duration>,
) -> CheckResult {
    checker::check(model, history, false, timeout).0
}

/// Like [`check_operations`], and also returns the partial linearizations found, for
/// [`LinearizationInfo::explain`]: every partition is searched (an `Illegal` partition does
/// not end the check), so this is slower on histories that are not linearizable.
///
/// # Panics
///
/// When [`Model::partition`] returns an index that is not below `history.len()`.
///
/// # Example
///
/// ```
/// use adapter_conformance::linearizability::{check_operations_verbose, CheckResult, Model, Operation};
///
/// struct Register;
///
/// impl Model for Register {
///     type State = u32;
///     type Input = Option<u32>; // Some(v): write v; None: read
///     type Output = u32;
///     fn init(&self) -> u32 {
///         0
///     }
///     fn step(&self, state: &u32, input: &Option<u32>, output: &u32) -> Option<u32> {
///         match input {
///             Some(value) => Some(*value),
///             None => (output == state).then_some(*state),
///         }
///     }
/// }
///
/// let history = vec![
///     Operation { client: 0, input: Some(1), call: 0, output: 0, ret: 10 },
///     Operation { client: 1, input: None, call: 20, output: 2, ret: 30 },
/// ];
/// let (result, info) = check_operations_verbose(&Register, &history, None);
/// assert_eq!(result, CheckResult::Illegal);
/// // The write can be linearized, the read of 2 after it cannot.
/// assert_eq!(info.partitions()[0].partial_linearizations(), &[vec![0]]);
/// assert!(info.explain(&Register, &history).contains("None -> 2"));
/// ```
pub fn check_operations_verbose<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    timeout: Option<Duration>,
) -> (CheckResult, LinearizationInfo) {
    checker::check(model, history, true, timeout)
}

/// Turns a history of events into operations: the i-th operation is the i-th call, and the
/// times of an operation are the positions of its call and return events in `events`.
///
/// # Errors
///
/// A [`HistoryError`] when a call and its return do not pair up.
///
/// # Example
///
/// ```
/// use adapter_conformance::linearizability::{events_to_operations, Event, EventKind, Operation};
///
/// let events: Vec<Event<&str, u32>> = vec![
///     Event { client: 0, id: 10, kind: EventKind::Call("read") },
///     Event { client: 1, id: 11, kind: EventKind::Call("read") },
///     Event { client: 1, id: 11, kind: EventKind::Return(1) },
///     Event { client: 0, id: 10, kind: EventKind::Return(0) },
/// ];
/// assert_eq!(
///     events_to_operations(events),
///     Ok(vec![
///         Operation { client: 0, input: "read", call: 0, output: 0, ret: 3 },
///         Operation { client: 1, input: "read", call: 1, output: 1, ret: 2 },
///     ])
/// );
/// ```
pub fn events_to_operations<I, O>(
    events: Vec<Event<I, O>>,
) -> Result<Vec<Operation<I, O>>, HistoryError> {
    /// A call, and its return once seen.
    struct Pending<I, O> {
        id: usize,
        client: usize,
        input: I,
        call: i64,
        answer: Option<(O, i64)>,
    }

    // In call order.
    let mut calls: Vec<Pending<I, O>> = Vec::new();
    // id -> index in `calls`, for every call seen so far.
    let mut index_of: HashMap<usize, usize> = HashMap::new();
    for (position, event) in events.into_iter().enumerate() {
        let time = i64::try_from(position).unwrap_or(i64::MAX);
        let id = event.id;
        match event.kind {
            EventKind::Call(input) => {
                if index_of.insert(id, calls.len()).is_some() {
                    return Err(HistoryError::DuplicateCall { id });
                }
                calls.push(Pending {
                    id,
                    client: event.client,
                    input,
                    call: time,
                    answer: None,
                });
            }
            EventKind::Return(output) => {
                let pending = index_of
                    .get(&id)
                    .and_then(|&index| calls.get_mut(index))
                    .ok_or(HistoryError::ReturnWithoutCall { id })?;
                if pending.answer.is_some() {
                    return Err(HistoryError::DuplicateReturn { id });
                }
                pending.answer = Some((output, time));
            }
        }
    }
    calls
        .into_iter()
        .map(|pending| {
            let id = pending.id;
            let (output, ret) = pending
                .answer
                .ok_or(HistoryError::CallWithoutReturn { id })?;
            Ok(Operation {
                client: pending.client,
                input: pending.input,
                call: pending.call,
                output,
                ret,
            })
        })
        .collect()
}

/// Checks whether a history of events is linearizable with respect to `model`: the events
/// become operations ([`events_to_operations`]), then [`check_operations`] decides.
///
/// # Errors
///
/// A [`HistoryError`] when a call and its return do not pair up.
///
/// # Panics
///
/// When [`Model::partition`] returns an index out of range.
///
/// # Example
///
/// ```
/// use adapter_conformance::linearizability::{check_events, CheckResult, Event, EventKind, Model};
///
/// struct Register;
///
/// impl Model for Register {
///     type State = u32;
///     type Input = Option<u32>; // Some(v): write v; None: read
///     type Output = u32;
///     fn init(&self) -> u32 {
///         0
///     }
///     fn step(&self, state: &u32, input: &Option<u32>, output: &u32) -> Option<u32> {
///         match input {
///             Some(value) => Some(*value),
///             None => (output == state).then_some(*state),
///         }
///     }
/// }
///
/// let event = |client, id, kind| Event { client, id, kind };
/// // A read of 100 and a read of 0, both during the write of 100: linearizable.
/// let history = vec![
///     event(0, 0, EventKind::Call(Some(100))),
///     event(1, 1, EventKind::Call(None)),
///     event(2, 2, EventKind::Call(None)),
///     event(2, 2, EventKind::Return(0)),
///     event(1, 1, EventKind::Return(100)),
///     event(0, 0, EventKind::Return(0)),
/// ];
/// assert_eq!(check_events(&Register, history, None), Ok(CheckResult::Ok));
/// ```
pub fn check_events<M: Model>(
    model: &M,
    history: Vec<Event<M::Input, M::Output>>,
    timeout: Option<Duration>,
) -> Result<CheckResult, HistoryError> {
    let operations = events_to_operations(history)?;
    Ok(check_operations(model, &operations, timeout))
}

/// Like [`check_events`], and also returns the operations the events became (the indices in
/// the [`LinearizationInfo`] point into them) and the partial linearizations found.
///
/// # Errors
///
/// A [`HistoryError`] when a call and its return do not pair up.
///
/// # Panics
///
/// When [`Model::partition`] returns an index out of range.
///
/// # Example
///
/// ```
/// use adapter_conformance::linearizability::{check_events_verbose, CheckResult, Event, EventKind, Model};
///
/// struct Register;
///
/// impl Model for Register {
///     type State = u32;
///     type Input = Option<u32>; // Some(v): write v; None: read
///     type Output = u32;
///     fn init(&self) -> u32 {
///         0
///     }
///     fn step(&self, state: &u32, input: &Option<u32>, output: &u32) -> Option<u32> {
///         match input {
///             Some(value) => Some(*value),
///             None => (output == state).then_some(*state),
///         }
///     }
/// }
///
/// let event = |client, id, kind| Event { client, id, kind };
/// // Read 200, then (after that read returned) read 0: the value went back.
/// let history = vec![
///     event(0, 0, EventKind::Call(Some(200))),
///     event(1, 1, EventKind::Call(None)),
///     event(1, 1, EventKind::Return(200)),
///     event(2, 2, EventKind::Call(None)),
///     event(2, 2, EventKind::Return(0)),
///     event(0, 0, EventKind::Return(0)),
/// ];
/// let (result, operations, info) = check_events_verbose(&Register, history, None)?;
/// assert_eq!(result, CheckResult::Illegal);
/// println!("{}", info.explain(&Register, &operations));
/// # Ok::<(), adapter_conformance::linearizability::HistoryError>(())
/// ```
// Porcupine's (result, info), plus the operations that `explain` needs: a tuple reads best.
#[allow(clippy::type_complexity)]
pub fn check_events_verbose<M: Model>(
    model: &M,
    history: Vec<Event<M::Input, M::Output>>,
    timeout: Option<Duration>,
) -> Result<
    (
        CheckResult,
        Vec<Operation<M::Input, M::Output>>,
        LinearizationInfo,
    ),
    HistoryError,
> {
    let operations = events_to_operations(history)?;
    let (result, info) = check_operations_verbose(model, &operations, timeout);
    Ok((result, operations, info))
}
