//! The search: Porcupine's `checker.go` and `bitset.go`.
//!
//! A partition's operations become a time-ordered list of call and return entries, doubly
//! linked so that a linearized call and its return can be lifted out and put back in O(1)
//! (Lowe's just-in-time linearization). The loop walks the list from its head: at a call,
//! it steps the model and, when the step is legal and the (linearized set, state) pair is
//! new, lifts the call out, pushes it on the stack and starts again from the head; at a
//! return (a call still pending must go before it), it pops the last linearized call, puts
//! it back and tries the next call after it. The list empties when every call is
//! linearized; the stack empties when no order works.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::info::{LinearizationInfo, PartitionInfo};
use super::{CheckResult, Model, Operation};

/// From the MurmurHash3 64-bit finalizer, as in Porcupine's `bitset.go`.
const PRIME: u64 = 0xff51_afd7_ed55_8ccd;

/// The set of linearized operations of a partition, one bit per operation.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Bitset(Vec<u64>);

impl Bitset {
    fn new(bits: usize) -> Self {
        Self(vec![0; bits.div_ceil(64)])
    }

    fn set(&mut self, pos: usize) {
        if let Some(word) = self.0.get_mut(pos / 64) {
            *word |= 1 << (pos % 64);
        }
    }

    fn clear(&mut self, pos: usize) {
        if let Some(word) = self.0.get_mut(pos / 64) {
            *word &= !(1 << (pos % 64));
        }
    }

    fn hash(&self) -> u64 {
        self.0
            .iter()
            .fold(0, |h, &word| (h ^ word).wrapping_mul(PRIME))
    }
}

/// Calls sort before returns at the same time: the intervals are closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Call,
    Return,
}

/// A call or a return of operation `id` (its position in the partition).
#[derive(Debug, Clone, Copy)]
struct Entry {
    kind: Kind,
    id: usize,
    time: i64,
}

/// Porcupine's `makeEntries`: two entries per operation, in time order.
fn make_entries<I, O>(history: &[Operation<I, O>], partition: &[usize]) -> Vec<Entry> {
    let mut entries = Vec::with_capacity(partition.len() * 2);
    for (id, op) in partition.iter().filter_map(|&i| history.get(i)).enumerate() {
        entries.push(Entry {
            kind: Kind::Call,
            id,
            time: op.call,
        });
        entries.push(Entry {
            kind: Kind::Return,
            id,
            time: op.ret,
        });
    }
    entries.sort_by_key(|entry| (entry.time, entry.kind));
    entries
}

/// The list's sentinel, always at index 0 of the arena.
const HEAD: usize = 0;

/// A list node. Lifting a node out leaves its own links as they were (dancing links), so
/// putting it back needs nothing else.
#[derive(Debug, Clone, Copy)]
struct Node {
    id: usize,
    /// For a call, the node of its return; `None` for a return.
    matching: Option<usize>,
    prev: usize,
    next: Option<usize>,
}

/// Porcupine's `makeLinkedEntries`: the sentinel, then one node per entry in order. A call
/// is matched with its return only when the return comes after it; a call whose return
/// comes first (an operation that returns before it is called) stays unmatched and blocks
/// the search like a return, so such a history is never linearizable.
fn make_linked_entries(entries: &[Entry]) -> Vec<Node> {
    let mut nodes = Vec::with_capacity(entries.len() + 1);
    nodes.push(Node {
        id: usize::MAX,
        matching: None,
        prev: HEAD,
        next: (!entries.is_empty()).then_some(1),
    });
    for (i, entry) in entries.iter().enumerate() {
        let index = i + 1;
        nodes.push(Node {
            id: entry.id,
            matching: None,
            prev: i,
            next: (index < entries.len()).then_some(index + 1),
        });
    }
    let mut return_node: HashMap<usize, usize> = HashMap::new();
    for (i, entry) in entries.iter().enumerate().rev() {
        match entry.kind {
            Kind::Return => {
                return_node.insert(entry.id, i + 1);
            }
            Kind::Call => {
                let matching = return_node.get(&entry.id).copied();
                if let Some(node) = nodes.get_mut(i + 1) {
                    node.matching = matching;
                }
            }
        }
    }
    nodes
}

/// Unlinks a call and its return.
fn lift(nodes: &mut [Node], call: usize, ret: usize) {
    for index in [call, ret] {
        let Node { prev, next, .. } = nodes[index];
        nodes[prev].next = next;
        if let Some(next) = next {
            nodes[next].prev = prev;
        }
    }
}

/// Links a call and its return back in, in the reverse order of [`lift`].
fn unlift(nodes: &mut [Node], call: usize, ret: usize) {
    for index in [ret, call] {
        let Node { prev, next, .. } = nodes[index];
        nodes[prev].next = Some(index);
        if let Some(next) = next {
            nodes[next].prev = index;
        }
    }
}

/// How the search of one partition ended.
enum Outcome {
    Linearizable,
    Illegal,
    TimedOut,
}

/// The partial linearizations of one partition, as Porcupine keeps them: for each
/// operation, the longest linearizable sequence seen that contains it, shared between
/// operations (`longest` indexes `sequences`).
struct Partials {
    longest: Vec<Option<usize>>,
    sequences: Vec<Vec<usize>>,
}

impl Partials {
    fn new(n: usize) -> Self {
        Self {
            longest: vec![None; n],
            sequences: Vec::new(),
        }
    }

    /// Records the sequence `ids` (of length `len`) as the longest of each of its operations
    /// that has none as long; like Porcupine, it copies the sequence only when it is kept.
    fn record(&mut self, len: usize, ids: impl Iterator<Item = usize> + Clone) {
        let mut shared = None;
        for id in ids.clone() {
            let longer = match self.longest.get(id) {
                Some(Some(seq)) => self.sequences.get(*seq).is_some_and(|s| len > s.len()),
                Some(None) => true,
                None => false,
            };
            if longer {
                let seq = *shared.get_or_insert_with(|| {
                    self.sequences.push(ids.clone().collect());
                    self.sequences.len() - 1
                });
                if let Some(slot) = self.longest.get_mut(id) {
                    *slot = Some(seq);
                }
            }
        }
    }

    /// The distinct sequences still referenced, longest first.
    fn into_distinct(self) -> Vec<Vec<usize>> {
        let mut used = vec![false; self.sequences.len()];
        for seq in self.longest.into_iter().flatten() {
            if let Some(flag) = used.get_mut(seq) {
                *flag = true;
            }
        }
        let mut distinct: Vec<Vec<usize>> = self
            .sequences
            .into_iter()
            .zip(used)
            .filter_map(|(seq, used)| used.then_some(seq))
            .collect();
        distinct.sort_by_key(|seq| std::cmp::Reverse(seq.len()));
        distinct
    }
}

/// Porcupine's `checkSingle`: the search over one partition. `partition` holds indices into
/// `history`, all in range. The partial linearizations are in partition positions.
fn check_single<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    partition: &[usize],
    compute_partial: bool,
    deadline: Option<Instant>,
) -> (Outcome, Partials) {
    let n = partition.len();
    let mut nodes = make_linked_entries(&make_entries(history, partition));
    let mut linearized = Bitset::new(n);
    let mut cache: HashMap<u64, Vec<(Bitset, M::State)>> = HashMap::new();
    // The linearized calls, each with the state before it.
    let mut calls: Vec<(usize, M::State)> = Vec::new();
    let mut partials = Partials::new(n);

    let mut state = model.init();
    let mut entry = nodes[HEAD].next;
    while nodes[HEAD].next.is_some() {
        if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
            return (Outcome::TimedOut, partials);
        }
        let call = entry.and_then(|e| nodes[e].matching.map(|ret| (e, ret)));
        if let Some((call, ret)) = call {
            let id = nodes[call].id;
            let next_state = partition
                .get(id)
                .and_then(|&i| history.get(i))
                .and_then(|op| model.step(&state, &op.input, &op.output));
            match next_state {
                Some(next_state) => {
                    linearized.set(id);
                    let key = linearized.hash() ^ model.hash_state(&next_state);
                    let bucket = cache.entry(key).or_default();
                    let seen = bucket
                        .iter()
                        .any(|(set, seen)| *set == linearized && *seen == next_state);
                    if seen {
                        linearized.clear(id);
                        entry = nodes[call].next;
                    } else {
                        bucket.push((linearized.clone(), next_state.clone()));
                        calls.push((call, std::mem::replace(&mut state, next_state)));
                        lift(&mut nodes, call, ret);
                        entry = nodes[HEAD].next;
                    }
                }
                None => entry = nodes[call].next,
            }
        } else {
            // A return whose call is still pending: undo the last linearized call, or give
            // up when there is none left to undo.
            if compute_partial {
                let ids = calls.iter().map(|&(call, _)| nodes[call].id);
                partials.record(calls.len(), ids);
            }
            let Some((call, previous)) = calls.pop() else {
                return (Outcome::Illegal, partials);
            };
            state = previous;
            linearized.clear(nodes[call].id);
            if let Some(ret) = nodes[call].matching {
                unlift(&mut nodes, call, ret);
            }
            entry = nodes[call].next;
        }
    }
    // Every call is linearized: `calls` is a complete linearization.
    let ids: Vec<usize> = calls.iter().map(|&(call, _)| nodes[call].id).collect();
    partials.sequences = vec![ids];
    partials.longest = vec![Some(0); n];
    (Outcome::Linearizable, partials)
}

/// Porcupine's `checkOperations` and `checkParallel`, with the partitions checked one after
/// another under one deadline.
pub(super) fn check<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    compute_info: bool,
    timeout: Option<Duration>,
) -> (CheckResult, LinearizationInfo) {
    let deadline = timeout.and_then(|timeout| Instant::now().checked_add(timeout));
    let partitions = model.partition(history);
    for (p, partition) in partitions.iter().enumerate() {
        if let Some(&index) = partition.iter().find(|&&index| index >= history.len()) {
            panic!(
                "Model::partition put index {index} in partition {p}, \
                 but the history has {} operations",
                history.len()
            );
        }
    }

    let mut illegal = false;
    let mut timed_out = false;
    let mut infos = Vec::new();
    for partition in partitions {
        let (result, partials) = if timed_out {
            (CheckResult::Unknown, Partials::new(0))
        } else {
            let (outcome, partials) =
                check_single(model, history, &partition, compute_info, deadline);
            let result = match outcome {
                Outcome::Linearizable => CheckResult::Ok,
                Outcome::Illegal => CheckResult::Illegal,
                Outcome::TimedOut => CheckResult::Unknown,
            };
            (result, partials)
        };
        illegal |= result == CheckResult::Illegal;
        timed_out |= result == CheckResult::Unknown;
        if !compute_info {
            if illegal || timed_out {
                break;
            }
            continue;
        }
        let partial_linearizations = partials
            .into_distinct()
            .into_iter()
            .map(|seq| {
                seq.into_iter()
                    .filter_map(|id| partition.get(id).copied())
                    .collect()
            })
            .collect();
        infos.push(PartitionInfo::new(
            partition,
            result,
            partial_linearizations,
        ));
    }
    let result = if illegal {
        CheckResult::Illegal
    } else if timed_out {
        CheckResult::Unknown
    } else {
        CheckResult::Ok
    };
    (result, LinearizationInfo::new(infos))
}
