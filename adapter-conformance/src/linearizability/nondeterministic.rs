//! Nondeterministic specifications and their power-set construction (Porcupine's
//! `NondeterministicModel` and `ToModel`).

use std::fmt;

use super::{Model, Operation};

/// A nondeterministic sequential specification: a call may lead to several states (for
/// example a write that may or may not have taken effect). [`PowerSet`] turns it into a
/// [`Model`] whose state is the set of states the system may be in.
///
/// # Example
///
/// A register whose writes may be lost.
///
/// ```
/// use adapter_conformance::linearizability::{check_operations, CheckResult, NondeterministicModel, Operation, PowerSet};
///
/// struct LossyRegister;
///
/// impl NondeterministicModel for LossyRegister {
///     type State = u32;
///     type Input = Option<u32>; // Some(v): write v (maybe lost); None: read
///     type Output = u32;
///     fn init(&self) -> Vec<u32> {
///         vec![0]
///     }
///     fn step(&self, state: &u32, input: &Option<u32>, output: &u32) -> Vec<u32> {
///         match input {
///             Some(value) => vec![*state, *value],
///             None if output == state => vec![*state],
///             None => vec![],
///         }
///     }
/// }
///
/// let history = vec![
///     Operation { client: 0, input: Some(1), call: 0, output: 0, ret: 10 },
///     Operation { client: 1, input: None, call: 20, output: 0, ret: 30 },
/// ];
/// assert_eq!(check_operations(&PowerSet(LossyRegister), &history, None), CheckResult::Ok);
/// ```
pub trait NondeterministicModel {
    /// One state the system may be in.
    type State: Clone + PartialEq + fmt::Debug;
    /// What a call asks.
    type Input: fmt::Debug;
    /// What a call answers.
    type Output: fmt::Debug;

    /// The states the system may start in.
    fn init(&self) -> Vec<Self::State>;

    /// Every state the system may be in after answering `output` to `input` in `state`;
    /// empty when `output` is not a legal answer.
    fn step(
        &self,
        state: &Self::State,
        input: &Self::Input,
        output: &Self::Output,
    ) -> Vec<Self::State>;

    /// As [`Model::partition`].
    fn partition(&self, history: &[Operation<Self::Input, Self::Output>]) -> Vec<Vec<usize>> {
        vec![(0..history.len()).collect()]
    }

    /// As [`Model::hash_state`]: equal states must have equal hashes.
    fn hash_state(&self, _state: &Self::State) -> u64 {
        0
    }

    /// As [`Model::describe_operation`].
    fn describe_operation(&self, input: &Self::Input, output: &Self::Output) -> String {
        format!("{input:?} -> {output:?}")
    }

    /// As [`Model::describe_state`].
    fn describe_state(&self, state: &Self::State) -> String {
        format!("{state:?}")
    }
}

/// A set of states without duplicates; two sets are equal when they hold the same states in
/// any order.
///
/// # Example
///
/// ```
/// use adapter_conformance::linearizability::StateSet;
///
/// assert_eq!(StateSet::new(vec![1, 2, 2]), StateSet::new(vec![2, 1]));
/// assert_eq!(StateSet::new(vec![1, 2, 2]).states(), &[1, 2]);
/// ```
#[derive(Debug, Clone)]
pub struct StateSet<S>(Vec<S>);

impl<S: PartialEq> StateSet<S> {
    /// The set of `states`, duplicates dropped, in first-seen order.
    ///
    /// # Example
    ///
    /// ```
    /// use adapter_conformance::linearizability::StateSet;
    ///
    /// assert_eq!(StateSet::new(vec!["a", "b", "a"]).states(), &["a", "b"]);
    /// ```
    pub fn new(states: Vec<S>) -> Self {
        let mut unique: Vec<S> = Vec::with_capacity(states.len());
        for state in states {
            if !unique.contains(&state) {
                unique.push(state);
            }
        }
        Self(unique)
    }

    /// The states.
    ///
    /// # Example
    ///
    /// ```
    /// use adapter_conformance::linearizability::StateSet;
    ///
    /// assert!(StateSet::<u8>::new(vec![]).states().is_empty());
    /// ```
    pub fn states(&self) -> &[S] {
        &self.0
    }
}

impl<S: PartialEq> PartialEq for StateSet<S> {
    fn eq(&self, other: &Self) -> bool {
        // Both are duplicate-free, so inclusion one way and equal sizes suffice.
        self.0.len() == other.0.len() && self.0.iter().all(|state| other.0.contains(state))
    }
}

/// The power-set construction (Porcupine's `ToModel`): a [`Model`] whose state is the
/// [`StateSet`] of states a [`NondeterministicModel`] may be in. A step is legal when at
/// least one of those states allows it.
///
/// # Example
///
/// ```
/// use adapter_conformance::linearizability::{Model, NondeterministicModel, PowerSet, StateSet};
///
/// /// Each step adds 1 to every state.
/// struct Successor;
///
/// impl NondeterministicModel for Successor {
///     type State = u32;
///     type Input = ();
///     type Output = ();
///     fn init(&self) -> Vec<u32> {
///         vec![0, 1]
///     }
///     fn step(&self, state: &u32, _: &(), _: &()) -> Vec<u32> {
///         vec![state + 1]
///     }
/// }
///
/// let model = PowerSet(Successor);
/// assert_eq!(model.step(&model.init(), &(), &()), Some(StateSet::new(vec![1, 2])));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct PowerSet<N>(pub N);

impl<N: NondeterministicModel> Model for PowerSet<N> {
    type State = StateSet<N::State>;
    type Input = N::Input;
    type Output = N::Output;

    fn init(&self) -> Self::State {
        StateSet::new(self.0.init())
    }

    fn step(
        &self,
        state: &Self::State,
        input: &Self::Input,
        output: &Self::Output,
    ) -> Option<Self::State> {
        let next: Vec<N::State> = state
            .0
            .iter()
            .flat_map(|state| self.0.step(state, input, output))
            .collect();
        (!next.is_empty()).then(|| StateSet::new(next))
    }

    fn partition(&self, history: &[Operation<Self::Input, Self::Output>]) -> Vec<Vec<usize>> {
        self.0.partition(history)
    }

    /// The XOR of the states' hashes: independent of their order, as the set's equality is.
    fn hash_state(&self, state: &Self::State) -> u64 {
        state
            .0
            .iter()
            .fold(0, |hash, state| hash ^ self.0.hash_state(state))
    }

    fn describe_operation(&self, input: &Self::Input, output: &Self::Output) -> String {
        self.0.describe_operation(input, output)
    }

    fn describe_state(&self, state: &Self::State) -> String {
        let states: Vec<String> = state
            .0
            .iter()
            .map(|state| self.0.describe_state(state))
            .collect();
        format!("{{{}}}", states.join(", "))
    }
}
