//! What a verbose check found, and its explanation in text (Porcupine's
//! `LinearizationInfo`, with a text report instead of the HTML visualization).

use std::fmt::Write as _;

use super::{CheckResult, Model, Operation};

/// What a verbose check ([`check_operations_verbose`](super::check_operations_verbose),
/// [`check_events_verbose`](super::check_events_verbose)) found, per partition.
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
///     Operation { client: 1, input: None, call: 5, output: 1, ret: 15 },
/// ];
/// let (result, info) = check_operations_verbose(&Register, &history, None);
/// assert_eq!(result, CheckResult::Ok);
/// assert_eq!(info.partitions().len(), 1);
/// assert_eq!(info.partitions()[0].partial_linearizations(), &[vec![0, 1]]);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinearizationInfo {
    partitions: Vec<PartitionInfo>,
}

/// What a verbose check found in one partition.
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
/// // The read of 1 returns before the write of 1 is called.
/// let history = vec![
///     Operation { client: 0, input: None, call: 0, output: 1, ret: 10 },
///     Operation { client: 1, input: Some(1), call: 20, output: 0, ret: 30 },
/// ];
/// let (_, info) = check_operations_verbose(&Register, &history, None);
/// let partition = &info.partitions()[0];
/// assert_eq!(partition.result(), CheckResult::Illegal);
/// assert_eq!(partition.operations(), &[0, 1]);
/// assert!(partition.partial_linearizations().is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionInfo {
    operations: Vec<usize>,
    result: CheckResult,
    partial_linearizations: Vec<Vec<usize>>,
}

impl LinearizationInfo {
    pub(super) fn new(partitions: Vec<PartitionInfo>) -> Self {
        Self { partitions }
    }

    /// The partitions, in the order [`Model::partition`] gave them.
    ///
    /// # Example
    ///
    /// With `Register` the register model of [`check_operations_verbose`](super::check_operations_verbose):
    ///
    /// ```
    /// # use adapter_conformance::linearizability::{check_operations_verbose, CheckResult, Model, Operation};
    /// # struct Register;
    /// # impl Model for Register {
    /// #     type State = u32;
    /// #     type Input = Option<u32>; // Some(v): write v; None: read
    /// #     type Output = u32;
    /// #     fn init(&self) -> u32 { 0 }
    /// #     fn step(&self, state: &u32, input: &Option<u32>, output: &u32) -> Option<u32> {
    /// #         match input { Some(v) => Some(*v), None => (output == state).then_some(*state) }
    /// #     }
    /// # }
    /// let history = vec![Operation { client: 0, input: Some(1), call: 0, output: 0, ret: 10 }];
    /// let (_, info) = check_operations_verbose(&Register, &history, None);
    /// assert_eq!(info.partitions().len(), 1);
    /// ```
    pub fn partitions(&self) -> &[PartitionInfo] {
        &self.partitions
    }

    /// A text report: for each partition its result, and for each partition that is not
    /// linearizable its longest partial linearization (each operation with the model's state
    /// after it), then the operations left and why none of those that could come next can.
    ///
    /// `history` must be the history that was checked (for events, the operations
    /// [`check_events_verbose`](super::check_events_verbose) returned); an index that does
    /// not point into it is reported as missing.
    ///
    /// # Example
    ///
    /// ```
    /// use adapter_conformance::linearizability::{check_operations_verbose, Model, Operation};
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
    ///     fn describe_operation(&self, input: &Option<u32>, output: &u32) -> String {
    ///         match input {
    ///             Some(value) => format!("write({value})"),
    ///             None => format!("read() -> {output}"),
    ///         }
    ///     }
    /// }
    ///
    /// let history = vec![
    ///     Operation { client: 0, input: Some(1), call: 0, output: 0, ret: 10 },
    ///     Operation { client: 1, input: None, call: 20, output: 2, ret: 30 },
    /// ];
    /// let (_, info) = check_operations_verbose(&Register, &history, None);
    /// let text = info.explain(&Register, &history);
    /// assert!(text.contains("1. client 0 [0, 10] write(1); state 1"));
    /// assert!(text.contains("client 1 [20, 30] read() -> 2: illegal in state 1"));
    /// ```
    pub fn explain<M: Model>(
        &self,
        model: &M,
        history: &[Operation<M::Input, M::Output>],
    ) -> String {
        let mut out = String::new();
        let count = self.partitions.len();
        for (p, partition) in self.partitions.iter().enumerate() {
            let n = partition.operations.len();
            let verdict = match partition.result {
                CheckResult::Ok => "linearizable",
                CheckResult::Illegal => "not linearizable",
                CheckResult::Unknown => "not decided (timed out)",
            };
            let _ = writeln!(
                out,
                "partition {} of {count} ({n} operations): {verdict}",
                p + 1
            );
            if partition.result == CheckResult::Illegal {
                explain_illegal(&mut out, model, history, partition);
            }
        }
        out
    }
}

/// One operation as `client C [call, ret] description`.
fn describe<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    index: usize,
) -> String {
    match history.get(index) {
        Some(op) => format!(
            "client {} [{}, {}] {}",
            op.client,
            op.call,
            op.ret,
            model.describe_operation(&op.input, &op.output)
        ),
        None => format!("operation {index} (missing from the history given)"),
    }
}

fn explain_illegal<M: Model>(
    out: &mut String,
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    partition: &PartitionInfo,
) {
    let prefix = partition.longest_partial_linearization();
    let n = partition.operations.len();
    let _ = writeln!(
        out,
        "  longest partial linearization ({} of {n} operations):",
        prefix.len()
    );
    let mut state = model.init();
    let _ = writeln!(out, "    initial state {}", model.describe_state(&state));
    for (step, &index) in prefix.iter().enumerate() {
        let next = history
            .get(index)
            .and_then(|op| model.step(&state, &op.input, &op.output));
        let description = describe(model, history, index);
        match next {
            Some(next) => {
                state = next;
                let _ = writeln!(
                    out,
                    "    {}. {description}; state {}",
                    step + 1,
                    model.describe_state(&state)
                );
            }
            None => {
                let _ = writeln!(
                    out,
                    "    {}. {description}: the model refuses it on replay",
                    step + 1
                );
                return;
            }
        }
    }
    let remaining: Vec<usize> = partition
        .operations
        .iter()
        .copied()
        .filter(|index| !prefix.contains(index))
        .collect();
    // The operations that may take effect next: those called no later than the earliest
    // return among the remaining ones.
    let earliest_return = remaining
        .iter()
        .filter_map(|&index| history.get(index))
        .map(|op| op.ret)
        .min();
    let _ = writeln!(
        out,
        "  then none of the {} remaining operations can take effect; those that could come next:",
        remaining.len()
    );
    for &index in &remaining {
        let Some(op) = history.get(index) else {
            continue;
        };
        if earliest_return.is_some_and(|earliest| op.call > earliest) {
            continue;
        }
        let why = match model.step(&state, &op.input, &op.output) {
            None => format!("illegal in state {}", model.describe_state(&state)),
            Some(_) => "legal here, but no order of the rest follows it".to_owned(),
        };
        let _ = writeln!(out, "    {}: {why}", describe(model, history, index));
    }
}

impl PartitionInfo {
    pub(super) fn new(
        operations: Vec<usize>,
        result: CheckResult,
        partial_linearizations: Vec<Vec<usize>>,
    ) -> Self {
        Self {
            operations,
            result,
            partial_linearizations,
        }
    }

    /// The operations of the partition, as indices into the checked history.
    ///
    /// # Example
    ///
    /// With `Register` the register model of [`check_operations_verbose`](super::check_operations_verbose):
    ///
    /// ```
    /// # use adapter_conformance::linearizability::{check_operations_verbose, CheckResult, Model, Operation};
    /// # struct Register;
    /// # impl Model for Register {
    /// #     type State = u32;
    /// #     type Input = Option<u32>; // Some(v): write v; None: read
    /// #     type Output = u32;
    /// #     fn init(&self) -> u32 { 0 }
    /// #     fn step(&self, state: &u32, input: &Option<u32>, output: &u32) -> Option<u32> {
    /// #         match input { Some(v) => Some(*v), None => (output == state).then_some(*state) }
    /// #     }
    /// # }
    /// // Register partitions nothing: one partition with every operation.
    /// let history = vec![
    ///     Operation { client: 0, input: Some(1), call: 0, output: 0, ret: 10 },
    ///     Operation { client: 1, input: None, call: 5, output: 1, ret: 15 },
    /// ];
    /// let (_, info) = check_operations_verbose(&Register, &history, None);
    /// assert_eq!(info.partitions()[0].operations(), &[0, 1]);
    /// ```
    pub fn operations(&self) -> &[usize] {
        &self.operations
    }

    /// Whether the partition is linearizable ([`CheckResult::Unknown`] when the check ran
    /// out of time before deciding it).
    ///
    /// # Example
    ///
    /// With `Register` the register model of [`check_operations_verbose`](super::check_operations_verbose):
    ///
    /// ```
    /// # use adapter_conformance::linearizability::{check_operations_verbose, CheckResult, Model, Operation};
    /// # struct Register;
    /// # impl Model for Register {
    /// #     type State = u32;
    /// #     type Input = Option<u32>; // Some(v): write v; None: read
    /// #     type Output = u32;
    /// #     fn init(&self) -> u32 { 0 }
    /// #     fn step(&self, state: &u32, input: &Option<u32>, output: &u32) -> Option<u32> {
    /// #         match input { Some(v) => Some(*v), None => (output == state).then_some(*state) }
    /// #     }
    /// # }
    /// // A read of 1 before any write.
    /// let history = vec![Operation { client: 0, input: None, call: 0, output: 1, ret: 10 }];
    /// let (_, info) = check_operations_verbose(&Register, &history, None);
    /// assert_eq!(info.partitions()[0].result(), CheckResult::Illegal);
    /// ```
    pub fn result(&self) -> CheckResult {
        self.result
    }

    /// The partial linearizations found, longest first, as sequences of indices into the
    /// checked history, each a legal order of the operations in it. When the partition is
    /// linearizable, there is one: a complete linearization. When it is not, there is, for
    /// each operation that could be linearized at all, the longest sequence found that
    /// contains it (sequences shared by several operations appear once).
    ///
    /// # Example
    ///
    /// With `Register` the register model of [`check_operations_verbose`](super::check_operations_verbose):
    ///
    /// ```
    /// # use adapter_conformance::linearizability::{check_operations_verbose, CheckResult, Model, Operation};
    /// # struct Register;
    /// # impl Model for Register {
    /// #     type State = u32;
    /// #     type Input = Option<u32>; // Some(v): write v; None: read
    /// #     type Output = u32;
    /// #     fn init(&self) -> u32 { 0 }
    /// #     fn step(&self, state: &u32, input: &Option<u32>, output: &u32) -> Option<u32> {
    /// #         match input { Some(v) => Some(*v), None => (output == state).then_some(*state) }
    /// #     }
    /// # }
    /// // Writes of 1 and 2 overlap, then a read sees 3: the longest partial
    /// // linearizations hold both writes, in either order.
    /// let history = vec![
    ///     Operation { client: 0, input: Some(1), call: 0, output: 0, ret: 10 },
    ///     Operation { client: 1, input: Some(2), call: 0, output: 0, ret: 10 },
    ///     Operation { client: 0, input: None, call: 20, output: 3, ret: 30 },
    /// ];
    /// let (_, info) = check_operations_verbose(&Register, &history, None);
    /// let partials = info.partitions()[0].partial_linearizations();
    /// assert!(partials.iter().all(|p| p.len() == 2));
    /// ```
    pub fn partial_linearizations(&self) -> &[Vec<usize>] {
        &self.partial_linearizations
    }

    /// The longest partial linearization (empty when no operation could be linearized
    /// first).
    ///
    /// # Example
    ///
    /// ```
    /// use adapter_conformance::linearizability::{check_operations_verbose, Model, Operation};
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
    ///     Operation { client: 0, input: Some(2), call: 20, output: 0, ret: 30 },
    ///     Operation { client: 1, input: None, call: 40, output: 1, ret: 50 },
    /// ];
    /// let (_, info) = check_operations_verbose(&Register, &history, None);
    /// assert_eq!(info.partitions()[0].longest_partial_linearization(), &[0, 1]);
    /// ```
    pub fn longest_partial_linearization(&self) -> &[usize] {
        self.partial_linearizations
            .first()
            .map_or(&[], Vec::as_slice)
    }
}
