//! Porcupine's own tests (`porcupine_test.go`, and the checks of `visualization_test.go`
//! that do not draw), ported to the Rust port in `adapter_conformance::linearizability`,
//! with Porcupine's expected results. The Jepsen etcd and key-value histories are a
//! selection of Porcupine's `test_data` (see `porcupine-data/README.md`). After them, a few
//! tests of what the port adds: validated event histories, the text explanation, and a
//! comparison with a brute-force checker on random small histories.

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::Duration;

use adapter_conformance::linearizability::{
    check_events, check_events_verbose, check_operations, check_operations_verbose,
    events_to_operations, CheckResult, Event, EventKind, HistoryError, Model,
    NondeterministicModel, Operation, PowerSet, StateSet,
};

fn op<I, O>(client: usize, input: I, call: i64, output: O, ret: i64) -> Operation<I, O> {
    Operation {
        client,
        input,
        call,
        output,
        ret,
    }
}

fn call<I, O>(client: usize, id: usize, input: I) -> Event<I, O> {
    Event {
        client,
        id,
        kind: EventKind::Call(input),
    }
}

fn ret<I, O>(client: usize, id: usize, output: O) -> Event<I, O> {
    Event {
        client,
        id,
        kind: EventKind::Return(output),
    }
}

/// FNV-1a, 64 bits (Go's `hash/fnv` `New64a`, which Porcupine's key-value models use).
fn fnv64a(parts: &[&str]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}

fn data(path: &str) -> String {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests", "porcupine-data", path]
        .iter()
        .collect();
    std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

// ---------------------------------------------------------------------------------------
// The register model (`registerModel`)

#[derive(Debug, Clone, Copy)]
struct RegisterInput {
    op: bool, // false = put, true = get
    value: i32,
}

const fn put(value: i32) -> RegisterInput {
    RegisterInput { op: false, value }
}

const GET: RegisterInput = RegisterInput { op: true, value: 0 };

/// A sequential specification of a register.
struct Register;

impl Model for Register {
    type State = i32;
    type Input = RegisterInput;
    type Output = i32;

    fn init(&self) -> i32 {
        0
    }

    fn step(&self, state: &i32, input: &RegisterInput, output: &i32) -> Option<i32> {
        if !input.op {
            Some(input.value) // always ok to execute a put
        } else {
            (output == state).then_some(*state) // state is unchanged
        }
    }

    fn hash_state(&self, state: &i32) -> u64 {
        u64::from(state.unsigned_abs())
    }

    fn describe_operation(&self, input: &RegisterInput, output: &i32) -> String {
        if input.op {
            format!("get() -> '{output}'")
        } else {
            format!("put('{}')", input.value)
        }
    }
}

#[test]
fn register_model() {
    // Examples taken from http://nil.csail.mit.edu/6.824/2017/quizzes/q2-17-ans.pdf,
    // section VII.
    let ops = vec![
        op(0, put(100), 0, 0, 100),
        op(1, GET, 25, 100, 75),
        op(2, GET, 30, 0, 60),
    ];
    assert_eq!(check_operations(&Register, &ops, None), CheckResult::Ok);

    // Same example as above, but with events.
    let events = vec![
        call(0, 0, put(100)),
        call(1, 1, GET),
        call(2, 2, GET),
        ret(2, 2, 0),
        ret(1, 1, 100),
        ret(0, 0, 0),
    ];
    assert_eq!(check_events(&Register, events, None), Ok(CheckResult::Ok));

    let ops = vec![
        op(0, put(200), 0, 0, 100),
        op(1, GET, 10, 200, 30),
        op(2, GET, 40, 0, 90),
    ];
    assert_eq!(
        check_operations(&Register, &ops, None),
        CheckResult::Illegal
    );

    // Same example as above, but with events.
    let events = vec![
        call(0, 0, put(200)),
        call(1, 1, GET),
        ret(1, 1, 200),
        call(2, 2, GET),
        ret(2, 2, 0),
        ret(0, 0, 0),
    ];
    assert_eq!(
        check_events(&Register, events, None),
        Ok(CheckResult::Illegal)
    );
}

/// `TestRegisterModelReadme` (visualization_test.go): the README's code, verbose.
#[test]
fn register_model_readme() {
    let events = vec![
        call(0, 0, put(100)), // C0: Write(100)
        call(1, 1, GET),      // C1: Read()
        call(2, 2, GET),      // C2: Read()
        ret(2, 2, 0),         // C2: Completed Read -> 0
        ret(1, 1, 100),       // C1: Completed Read -> 100
        ret(0, 0, 0),         // C0: Completed Write
    ];
    let (result, _, _) = check_events_verbose(&Register, events, None).unwrap();
    assert_eq!(result, CheckResult::Ok);

    let events = vec![
        call(0, 0, put(200)), // C0: Write(200)
        call(1, 1, GET),      // C1: Read()
        ret(1, 1, 200),       // C1: Completed Read -> 200
        call(2, 2, GET),      // C2: Read()
        ret(2, 2, 0),         // C2: Completed Read -> 0
        ret(0, 0, 0),         // C0: Completed Write
    ];
    let (result, _, _) = check_events_verbose(&Register, events, None).unwrap();
    assert_eq!(result, CheckResult::Illegal);
}

#[test]
fn zero_duration() {
    let ops = vec![
        op(0, put(100), 0, 0, 100),
        op(1, GET, 25, 100, 75),
        op(2, GET, 30, 0, 30),
        op(3, GET, 30, 0, 30),
    ];
    let (result, _) = check_operations_verbose(&Register, &ops, None);
    assert_eq!(result, CheckResult::Ok);

    let ops = vec![
        op(0, put(200), 0, 0, 100),
        op(1, GET, 10, 200, 10),
        op(2, GET, 10, 200, 10),
        op(3, GET, 40, 0, 90),
    ];
    let (result, _) = check_operations_verbose(&Register, &ops, None);
    assert_eq!(result, CheckResult::Illegal);
}

/// `TestTimeoutCancelsStepContext`, adapted: Rust has no context to cancel a step with, so
/// the model's step is slow instead of blocked, and the deadline is seen between steps.
#[test]
fn timeout_gives_unknown() {
    struct Slow;

    impl Model for Slow {
        type State = u32;
        type Input = &'static str;
        type Output = &'static str;
        fn init(&self) -> u32 {
            0
        }
        fn step(&self, state: &u32, _: &&'static str, _: &&'static str) -> Option<u32> {
            std::thread::sleep(Duration::from_millis(50));
            Some(state + 1)
        }
    }

    let ops = vec![
        op(0, "input", 0, "output", 1),
        op(0, "input", 2, "output", 3),
        op(0, "input", 4, "output", 5),
    ];
    let (result, info) = check_operations_verbose(&Slow, &ops, Some(Duration::from_millis(20)));
    assert_eq!(result, CheckResult::Unknown);
    assert_eq!(info.partitions()[0].result(), CheckResult::Unknown);
    assert_eq!(
        check_operations(&Slow, &ops, Some(Duration::from_millis(20))),
        CheckResult::Unknown
    );
}

/// `TestIllegalCancelsBlockedPartition`, adapted: partitions are checked one after the
/// other, so an `Illegal` partition ends the check before the next one is searched, and
/// the answer is `Illegal` even under a timeout that a later partition would exceed.
#[test]
fn illegal_partition_ends_the_check() {
    /// Partitions by key, "illegal" first; remembers whether "blocked" was stepped.
    struct Partitioned {
        blocked_stepped: Cell<bool>,
    }

    impl Model for Partitioned {
        type State = ();
        type Input = &'static str;
        type Output = ();
        fn init(&self) {}
        fn step(&self, _: &(), input: &&'static str, _: &()) -> Option<()> {
            match *input {
                "illegal" => None,
                "blocked" => {
                    self.blocked_stepped.set(true);
                    std::thread::sleep(Duration::from_millis(50));
                    Some(())
                }
                other => panic!("unexpected key {other:?}"),
            }
        }
        fn partition(&self, history: &[Operation<&'static str, ()>]) -> Vec<Vec<usize>> {
            let key = |key| {
                (0..history.len())
                    .filter(|&i| history[i].input == key)
                    .collect()
            };
            vec![key("illegal"), key("blocked")]
        }
    }

    let ops = vec![
        op(0, "blocked", 0, (), 1),
        op(1, "illegal", 0, (), 1),
        op(0, "blocked", 2, (), 3),
    ];
    let model = Partitioned {
        blocked_stepped: Cell::new(false),
    };
    assert_eq!(check_operations(&model, &ops, None), CheckResult::Illegal);
    assert!(
        !model.blocked_stepped.get(),
        "the partition after the illegal one was searched"
    );
    // A verbose check searches every partition; the illegal one still decides, even when
    // the time runs out in the slow one.
    let (result, info) = check_operations_verbose(&model, &ops, Some(Duration::from_millis(20)));
    assert_eq!(result, CheckResult::Illegal);
    assert_eq!(info.partitions()[0].result(), CheckResult::Illegal);
    assert_eq!(info.partitions()[1].result(), CheckResult::Unknown);
}

// ---------------------------------------------------------------------------------------
// The etcd model and the Jepsen logs (`etcdModel`, `parseJepsenLog`)

#[derive(Debug, Clone, Copy)]
struct EtcdInput {
    op: u8,    // 0 => read, 1 => write, 2 => cas
    arg1: i64, // used for write, or for CAS from argument
    arg2: i64, // used for CAS to argument
}

#[derive(Debug, Clone, Copy, Default)]
struct EtcdOutput {
    ok: bool,      // used for CAS
    exists: bool,  // used for read
    value: i64,    // used for read
    unknown: bool, // used when operation times out
}

/// -1000000 corresponds with nil.
const NIL: i64 = -1_000_000;

struct Etcd;

impl Model for Etcd {
    type State = i64;
    type Input = EtcdInput;
    type Output = EtcdOutput;

    fn init(&self) -> i64 {
        NIL
    }

    fn step(&self, state: &i64, input: &EtcdInput, output: &EtcdOutput) -> Option<i64> {
        let st = *state;
        let (ok, next) = match input.op {
            // read
            0 => (
                (!output.exists && st == NIL)
                    || (output.exists && st == output.value)
                    || output.unknown,
                st,
            ),
            // write
            1 => (true, input.arg1),
            // cas
            _ => (
                (input.arg1 == st && output.ok)
                    || (input.arg1 != st && !output.ok)
                    || output.unknown,
                if input.arg1 == st { input.arg2 } else { st },
            ),
        };
        ok.then_some(next)
    }

    fn describe_operation(&self, input: &EtcdInput, output: &EtcdOutput) -> String {
        match input.op {
            0 if output.exists => format!("read() -> {}", output.value),
            0 => "read() -> null".to_owned(),
            1 => format!("write({})", input.arg1),
            _ => {
                let ret = if output.unknown {
                    "unknown"
                } else if output.ok {
                    "ok"
                } else {
                    "fail"
                };
                format!("cas({}, {}) -> {ret}", input.arg1, input.arg2)
            }
        }
    }
}

/// Porcupine's `parseJepsenLog`, with its regular expressions spelled out: lines that match
/// none of them (`:info`, crashed calls) are skipped, so their calls stay pending, and every
/// call still pending at the end returns "unknown".
fn parse_jepsen_log(text: &str) -> Vec<Event<EtcdInput, EtcdOutput>> {
    let number = |s: &str| s.parse::<i64>().expect("a number");
    let cas = |args: &[&str]| -> Option<(i64, i64)> {
        match args {
            [from, to] => Some((
                number(from.strip_prefix('[')?),
                number(to.strip_suffix(']')?),
            )),
            _ => None,
        }
    };
    let mut events = Vec::new();
    let mut id = 0;
    let mut pending: BTreeMap<usize, usize> = BTreeMap::new(); // process -> call id
    for line in text.lines() {
        let tokens: Vec<&str> = line.split_whitespace().collect();
        let [_info @ "INFO", "jepsen.util", "-", proc, kind, f, args @ ..] = tokens.as_slice()
        else {
            continue;
        };
        let Ok(proc) = proc.parse::<usize>() else {
            continue;
        };
        let input = match (*kind, *f, args) {
            (":invoke", ":read", ["nil"]) => Some(EtcdInput {
                op: 0,
                arg1: 0,
                arg2: 0,
            }),
            (":invoke", ":write", [value]) => Some(EtcdInput {
                op: 1,
                arg1: number(value),
                arg2: 0,
            }),
            (":invoke", ":cas", args) => cas(args).map(|(from, to)| EtcdInput {
                op: 2,
                arg1: from,
                arg2: to,
            }),
            _ => None,
        };
        if let Some(input) = input {
            events.push(call(proc, id, input));
            pending.insert(proc, id);
            id += 1;
            continue;
        }
        let output = match (*kind, *f, args) {
            (":ok", ":read", ["nil"]) => Some(EtcdOutput::default()),
            (":ok", ":read", [value]) => Some(EtcdOutput {
                exists: true,
                value: number(value),
                ..EtcdOutput::default()
            }),
            (":ok", ":write", [_]) => Some(EtcdOutput::default()),
            (":ok" | ":fail", ":cas", args) if cas(args).is_some() => Some(EtcdOutput {
                ok: *kind == ":ok",
                ..EtcdOutput::default()
            }),
            // Timing out a read and then continuing operations is fine.
            (":fail", ":read", [":timed-out"]) => Some(EtcdOutput {
                unknown: true,
                ..EtcdOutput::default()
            }),
            _ => None,
        };
        if let Some(output) = output {
            let matching = pending.remove(&proc).expect("a return without a call");
            events.push(ret(proc, matching, output));
        }
    }
    for (proc, matching) in pending {
        let unknown = EtcdOutput {
            unknown: true,
            ..EtcdOutput::default()
        };
        events.push(ret(proc, matching, unknown));
    }
    events
}

fn check_jepsen(log: u32, correct: bool) {
    let text = data(&format!("jepsen/etcd_{log:03}.log"));
    let events = parse_jepsen_log(&text);
    let calls = text.lines().filter(|line| line.contains(":invoke")).count();
    assert_eq!(events.len(), 2 * calls, "every call parsed, with a return");
    let expected = if correct {
        CheckResult::Ok
    } else {
        CheckResult::Illegal
    };
    assert_eq!(check_events(&Etcd, events, None), Ok(expected));
}

#[test]
fn etcd_jepsen_000() {
    check_jepsen(0, false);
}

#[test]
fn etcd_jepsen_001() {
    check_jepsen(1, false);
}

#[test]
fn etcd_jepsen_002() {
    check_jepsen(2, true);
}

#[test]
fn etcd_jepsen_003() {
    check_jepsen(3, false);
}

#[test]
fn etcd_jepsen_004() {
    check_jepsen(4, false);
}

#[test]
fn etcd_jepsen_005() {
    check_jepsen(5, true);
}

#[test]
fn etcd_jepsen_006() {
    check_jepsen(6, false);
}

#[test]
fn etcd_jepsen_007() {
    check_jepsen(7, true);
}

#[test]
fn etcd_jepsen_018() {
    check_jepsen(18, true);
}

/// `TestVisualizationLarge` (visualization_test.go) checks this log verbosely.
#[test]
fn etcd_jepsen_070_verbose() {
    check_jepsen(70, false);
    let events = parse_jepsen_log(&data("jepsen/etcd_070.log"));
    let (result, operations, info) = check_events_verbose(&Etcd, events, None).unwrap();
    assert_eq!(result, CheckResult::Illegal);
    let partition = &info.partitions()[0];
    assert!(!partition.longest_partial_linearization().is_empty());
    // Every partial linearization replays legally through the model.
    for partial in partition.partial_linearizations() {
        let mut state = Etcd.init();
        for &i in partial {
            state = Etcd
                .step(&state, &operations[i].input, &operations[i].output)
                .expect("a partial linearization replays");
        }
    }
    let text = info.explain(&Etcd, &operations);
    assert!(text.contains("not linearizable"), "{text}");
    assert!(text.contains(": illegal in state"), "{text}");
}

// ---------------------------------------------------------------------------------------
// The key-value models and histories (`kvModel`, `kvNoPartitionModel`, `parseKvLog`)

#[derive(Debug, Clone, PartialEq, Eq)]
struct KvInput {
    op: u8, // 0 => get, 1 => put, 2 => append
    key: String,
    value: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct KvOutput {
    value: String,
}

fn kv_get(key: &str) -> KvInput {
    KvInput {
        op: 0,
        key: key.to_owned(),
        value: String::new(),
    }
}

fn kv_put(key: &str, value: &str) -> KvInput {
    KvInput {
        op: 1,
        key: key.to_owned(),
        value: value.to_owned(),
    }
}

fn kv_out(value: &str) -> KvOutput {
    KvOutput {
        value: value.to_owned(),
    }
}

/// Partitioned by key (sorted), so the state is one key's value.
struct Kv;

impl Model for Kv {
    type State = String;
    type Input = KvInput;
    type Output = KvOutput;

    fn init(&self) -> String {
        // Note: we are modeling a single key's value here; we're partitioning by key, so
        // this is okay.
        String::new()
    }

    fn step(&self, state: &String, input: &KvInput, output: &KvOutput) -> Option<String> {
        match input.op {
            0 => (output.value == *state).then(|| state.clone()), // get
            1 => Some(input.value.clone()),                       // put
            _ => Some(format!("{state}{}", input.value)),         // append
        }
    }

    fn partition(&self, history: &[Operation<KvInput, KvOutput>]) -> Vec<Vec<usize>> {
        let mut by_key: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, op) in history.iter().enumerate() {
            by_key.entry(&op.input.key).or_default().push(i);
        }
        by_key.into_values().collect()
    }

    fn hash_state(&self, state: &String) -> u64 {
        fnv64a(&[state])
    }

    fn describe_operation(&self, input: &KvInput, output: &KvOutput) -> String {
        match input.op {
            0 => format!("get('{}') -> '{}'", input.key, output.value),
            1 => format!("put('{}', '{}')", input.key, input.value),
            _ => format!("append('{}', '{}')", input.key, input.value),
        }
    }
}

/// Uses a map to represent the state, and doesn't do partitioning: a silly way to do things
/// (it's way slower!) but good for demonstration and testing.
struct KvNoPartition;

impl Model for KvNoPartition {
    type State = BTreeMap<String, String>;
    type Input = KvInput;
    type Output = KvOutput;

    fn init(&self) -> Self::State {
        BTreeMap::new()
    }

    fn step(&self, state: &Self::State, input: &KvInput, output: &KvOutput) -> Option<Self::State> {
        let current = state.get(&input.key).map_or("", String::as_str);
        match input.op {
            0 => (output.value == current).then(|| state.clone()),
            1 => {
                let mut next = state.clone();
                next.insert(input.key.clone(), input.value.clone());
                Some(next)
            }
            _ => {
                let mut next = state.clone();
                next.insert(input.key.clone(), format!("{current}{}", input.value));
                Some(next)
            }
        }
    }

    fn hash_state(&self, state: &Self::State) -> u64 {
        // Each key-value pair hashed on its own, XORed in: independent of order.
        state
            .iter()
            .fold(0, |hash, (key, value)| hash ^ fnv64a(&[key, value]))
    }
}

/// One line `{:process P, :type T, :f F, :key "K", :value V}` as (P, T, F, K, V), where V
/// is `None` for `nil`.
fn parse_kv_line(line: &str) -> Option<(usize, &str, &str, &str, Option<&str>)> {
    let rest = line.strip_prefix("{:process ")?;
    let (process, rest) = rest.split_once(", :type :")?;
    let (kind, rest) = rest.split_once(", :f :")?;
    let (f, rest) = rest.split_once(", :key \"")?;
    let (key, rest) = rest.split_once("\", :value ")?;
    let value = rest.strip_suffix('}')?;
    let value = match value {
        "nil" => None,
        quoted => Some(quoted.strip_prefix('"')?.strip_suffix('"')?),
    };
    Some((process.parse().ok()?, kind, f, key, value))
}

/// Porcupine's `parseKvLog`: every call still pending at the end returns an empty value.
fn parse_kv_log(text: &str) -> Vec<Event<KvInput, KvOutput>> {
    let mut events = Vec::new();
    let mut id = 0;
    let mut pending: BTreeMap<usize, usize> = BTreeMap::new(); // process -> call id
    for line in text.lines() {
        let Some((proc, kind, f, key, value)) = parse_kv_line(line) else {
            continue;
        };
        let op = match f {
            "get" => 0,
            "put" => 1,
            "append" => 2,
            _ => continue,
        };
        let input = match (kind, value) {
            ("invoke", None) if op == 0 => kv_get(key),
            ("invoke", Some(value)) if op != 0 => KvInput {
                op,
                key: key.to_owned(),
                value: value.to_owned(),
            },
            ("ok", Some(value)) => {
                let output = if op == 0 {
                    kv_out(value)
                } else {
                    KvOutput::default()
                };
                let matching = pending.remove(&proc).expect("a return without a call");
                events.push(ret(proc, matching, output));
                continue;
            }
            _ => continue,
        };
        events.push(call(proc, id, input));
        pending.insert(proc, id);
        id += 1;
    }
    for (proc, matching) in pending {
        events.push(ret(proc, matching, KvOutput::default()));
    }
    events
}

fn check_kv<M: Model<Input = KvInput, Output = KvOutput>>(model: &M, log: &str, correct: bool) {
    let text = data(&format!("kv/{log}.txt"));
    let events = parse_kv_log(&text);
    let calls = text
        .lines()
        .filter(|line| line.contains(":type :invoke"))
        .count();
    assert_eq!(events.len(), 2 * calls, "every call parsed, with a return");
    let expected = if correct {
        CheckResult::Ok
    } else {
        CheckResult::Illegal
    };
    assert_eq!(check_events(model, events, None), Ok(expected));
}

#[test]
fn kv_1_client_ok() {
    check_kv(&Kv, "c01-ok", true);
}

#[test]
fn kv_1_client_bad() {
    check_kv(&Kv, "c01-bad", false);
}

#[test]
fn kv_10_clients_ok() {
    check_kv(&Kv, "c10-ok", true);
}

#[test]
fn kv_10_clients_bad() {
    check_kv(&Kv, "c10-bad", false);
}

#[test]
fn kv_no_partition_1_client_ok() {
    check_kv(&KvNoPartition, "c01-ok", true);
}

#[test]
fn kv_no_partition_1_client_bad() {
    check_kv(&KvNoPartition, "c01-bad", false);
}

#[test]
fn check_no_partitions() {
    let (result, info) = check_operations_verbose(&Kv, &[], None);
    assert_eq!(result, CheckResult::Ok);
    assert!(info.partitions().is_empty());
}

/// `TestVisualizationMultipleLengths` (visualization_test.go): the partial linearizations
/// Porcupine computes for its visualization, in partition positions mapped to history
/// indices (partition "x" is operations 0–6, partition "y" operations 7 and 8).
#[test]
fn partial_linearizations_of_multiple_lengths() {
    let ops = vec![
        op(0, kv_get("x"), 0, kv_out("w"), 100),
        op(1, kv_put("x", "y"), 5, kv_out(""), 10),
        op(2, kv_put("x", "z"), 0, kv_out(""), 10),
        op(1, kv_get("x"), 20, kv_out("y"), 30),
        op(1, kv_put("x", "w"), 35, kv_out(""), 45),
        op(5, kv_get("x"), 25, kv_out("z"), 35),
        op(3, kv_get("x"), 30, kv_out("y"), 40),
        op(4, kv_get("y"), 50, kv_out("a"), 90),
        op(2, kv_put("y", "a"), 55, kv_out(""), 85),
    ];
    let (result, info) = check_operations_verbose(&Kv, &ops, None);
    assert_eq!(result, CheckResult::Illegal);
    let [x, y] = info.partitions() else {
        panic!("two partitions expected: {info:?}");
    };
    assert_eq!(x.operations(), &[0, 1, 2, 3, 4, 5, 6]);
    assert_eq!(x.result(), CheckResult::Illegal);
    assert_eq!(
        x.partial_linearizations(),
        &[vec![2, 1, 3, 6, 4, 0], vec![1, 2, 5]]
    );
    assert_eq!(y.operations(), &[7, 8]);
    assert_eq!(y.result(), CheckResult::Ok);
    assert_eq!(y.partial_linearizations(), &[vec![8, 7]]);

    // The states Porcupine shows along them: x: z y y y w w, then y z z; y: a a.
    let text = info.explain(&Kv, &ops);
    assert!(
        text.contains("partition 1 of 2 (7 operations): not linearizable"),
        "{text}"
    );
    assert!(
        text.contains("longest partial linearization (6 of 7 operations)"),
        "{text}"
    );
    assert!(
        text.contains("6. client 0 [0, 100] get('x') -> 'w'; state \"w\""),
        "{text}"
    );
    assert!(
        text.contains("client 5 [25, 35] get('x') -> 'z': illegal in state \"w\""),
        "{text}"
    );
    assert!(
        text.contains("partition 2 of 2 (2 operations): linearizable"),
        "{text}"
    );
}

/// `TestVisualizationCallAndReturnTime` (visualization_test.go): its three histories and
/// their results.
#[test]
fn call_and_return_time_histories() {
    let linearizable = vec![op(0, kv_put("x", "a"), 0, kv_out(""), 100)];
    assert_eq!(
        check_operations_verbose(&Kv, &linearizable, None).0,
        CheckResult::Ok
    );

    let single_illegal = vec![
        op(0, kv_put("x", "a"), 0, kv_out(""), 100),
        op(1, kv_get("x"), 10, kv_out("b"), 110), // not linearizable
    ];
    assert_eq!(
        check_operations_verbose(&Kv, &single_illegal, None).0,
        CheckResult::Illegal
    );

    let not_partially_linearized = vec![
        op(0, kv_put("x", "a"), 0, kv_out(""), 100),
        op(1, kv_get("x"), 10, kv_out("b"), 110), // not linearizable
        op(2, kv_get("x"), 120, kv_out("a"), 130),
    ];
    assert_eq!(
        check_operations_verbose(&Kv, &not_partially_linearized, None).0,
        CheckResult::Illegal
    );
}

// ---------------------------------------------------------------------------------------
// The set model (`TestSetModel`, from Jepsen/Knossos)

#[derive(Debug, Clone, Copy)]
struct SetInput {
    op: bool, // false = read, true = write
    value: i32,
}

#[derive(Debug, Clone, Default)]
struct SetOutput {
    values: Vec<i32>, // read
    unknown: bool,    // read
}

/// A set supports add and read operations; a read can't see duplicated or unknown values.
struct Set;

impl Model for Set {
    type State = Vec<i32>;
    type Input = SetInput;
    type Output = SetOutput;

    fn init(&self) -> Vec<i32> {
        Vec::new()
    }

    fn step(&self, state: &Vec<i32>, input: &SetInput, output: &SetOutput) -> Option<Vec<i32>> {
        if input.op {
            // Always succeeds for a write.
            let mut next = state.clone();
            if let Err(index) = next.binary_search(&input.value) {
                next.insert(index, input.value);
            }
            return Some(next);
        }
        let mut values = output.values.clone();
        values.sort_unstable();
        (output.unknown || *state == values).then_some(values)
    }
}

#[test]
fn set_model() {
    let write = |value| SetInput { op: true, value };
    let read = SetInput {
        op: false,
        value: 0,
    };
    let seen = |values: &[i32], unknown| SetOutput {
        values: values.to_vec(),
        unknown,
    };
    let history = |second: i32, read_output: SetOutput| {
        vec![
            call(0, 0, write(100)),
            call(1, 1, write(second)),
            call(2, 2, read),
            ret(2, 2, read_output),
            ret(1, 1, SetOutput::default()),
            ret(0, 0, SetOutput::default()),
        ]
    };

    let events = history(0, seen(&[100], false));
    assert_eq!(check_events(&Set, events, None), Ok(CheckResult::Ok));

    let events = history(110, seen(&[100, 110], false));
    assert_eq!(check_events(&Set, events, None), Ok(CheckResult::Ok));

    let events = history(110, seen(&[], true));
    assert_eq!(check_events(&Set, events, None), Ok(CheckResult::Ok));

    let events = history(110, seen(&[100, 100, 110], false));
    assert_eq!(check_events(&Set, events, None), Ok(CheckResult::Illegal));
}

// ---------------------------------------------------------------------------------------
// The nondeterministic register (`nondeterministicRegisterModel`)

/// A set of values, compared as a set (`setEqual`).
#[derive(Debug, Clone)]
struct Values(Vec<i32>);

impl PartialEq for Values {
    fn eq(&self, other: &Self) -> bool {
        self.0.iter().all(|v| other.0.contains(v)) && other.0.iter().all(|v| self.0.contains(v))
    }
}

#[derive(Debug, Clone)]
struct NdInput {
    // put-any: op = 1, get-any: op = 2, get-all: op = 3
    op: u8,
    value: Vec<i32>,
}

fn subsets(v: &[i32]) -> Vec<Values> {
    let Some((first, rest)) = v.split_first() else {
        return vec![Values(Vec::new())];
    };
    let mut all = Vec::new();
    for subset in subsets(rest) {
        let mut with = vec![*first];
        with.extend_from_slice(&subset.0);
        all.push(subset);
        all.push(Values(with));
    }
    all
}

/// A register with a "put-any" operation that writes some subset of the given values, a
/// "get-any" that reads some subset of the values in the register, and a "get-all".
struct NdRegister {
    hashed: bool,
}

impl NondeterministicModel for NdRegister {
    type State = Values;
    type Input = NdInput;
    type Output = Vec<i32>;

    fn init(&self) -> Vec<Values> {
        vec![Values(Vec::new())]
    }

    fn step(&self, state: &Values, input: &NdInput, output: &Vec<i32>) -> Vec<Values> {
        match input.op {
            1 => subsets(&input.value),
            2 if output.iter().all(|v| state.0.contains(v)) => vec![state.clone()],
            3 if *state == Values(output.clone()) => vec![state.clone()],
            _ => Vec::new(),
        }
    }

    fn hash_state(&self, state: &Values) -> u64 {
        // The state is a set, so this needs to be order-independent.
        if self.hashed {
            state
                .0
                .iter()
                .fold(0, |h, &v| h ^ u64::from(v.unsigned_abs()))
        } else {
            0
        }
    }

    fn describe_operation(&self, input: &NdInput, output: &Vec<i32>) -> String {
        match input.op {
            1 => format!("put-any({:?})", input.value),
            2 => format!("get-any() -> {output:?}"),
            _ => format!("get-all() -> {output:?}"),
        }
    }
}

fn nondeterministic_register_history() -> Vec<Event<NdInput, Vec<i32>>> {
    let input = |op, value: &[i32]| NdInput {
        op,
        value: value.to_vec(),
    };
    vec![
        call(0, 0, input(1, &[1, 2, 3, 4])), // C0: PutAny({1, 2, 3, 4})
        call(1, 1, input(2, &[])),           // C1: GetAny()
        call(2, 2, input(2, &[])),           // C2: GetAny()
        call(3, 3, input(3, &[])),           // C3: GetAll()
        ret(2, 2, vec![2]),                  // C2: Completed GetAny -> {2}
        ret(1, 1, vec![1, 4]),               // C1: Completed GetAny -> {1, 4}
        ret(3, 3, vec![1, 2, 3]),            // C3: Completed GetAll -> {1, 2, 3}
        ret(0, 0, vec![]),                   // C0: Completed PutAny
    ]
}

#[test]
fn nondeterministic_register_model() {
    let model = PowerSet(NdRegister { hashed: false });
    let (result, _, _) =
        check_events_verbose(&model, nondeterministic_register_history(), None).unwrap();
    assert_eq!(result, CheckResult::Illegal);
}

#[test]
fn nondeterministic_register_model_with_hash() {
    let model = PowerSet(NdRegister { hashed: true });
    let (result, _, _) =
        check_events_verbose(&model, nondeterministic_register_history(), None).unwrap();
    assert_eq!(result, CheckResult::Illegal);
}

/// A nondeterministic model counting its steps: each state `s` goes to `s + 1`.
struct Successor {
    init: Vec<i32>,
    steps: Cell<u32>,
    hashed: bool,
}

impl NondeterministicModel for Successor {
    type State = i32;
    type Input = ();
    type Output = ();
    fn init(&self) -> Vec<i32> {
        self.init.clone()
    }
    fn step(&self, state: &i32, _: &(), _: &()) -> Vec<i32> {
        self.steps.set(self.steps.get() + 1);
        vec![state + 1]
    }
    fn hash_state(&self, state: &i32) -> u64 {
        if self.hashed {
            u64::from(state.unsigned_abs())
        } else {
            0
        }
    }
}

/// `TestNondeterministicModelToModelUsesStepContext` and `…WrapsStep`: the power set steps
/// every state once (there is no context in the port, so no cancellation to test).
#[test]
fn power_set_steps_every_state() {
    let model = PowerSet(Successor {
        init: vec![0, 1],
        steps: Cell::new(0),
        hashed: false,
    });
    let next = model.step(&model.init(), &(), &());
    assert_eq!(next, Some(StateSet::new(vec![1, 2])));
    assert_eq!(model.0.steps.get(), 2);

    let model = PowerSet(Successor {
        init: vec![1],
        steps: Cell::new(0),
        hashed: false,
    });
    assert_eq!(
        model.step(&model.init(), &(), &()),
        Some(StateSet::new(vec![2]))
    );
    assert_eq!(model.0.steps.get(), 1);
}

/// `TestNondeterministicModelHash`.
#[test]
fn power_set_hash() {
    let model = PowerSet(Successor {
        init: vec![0],
        steps: Cell::new(0),
        hashed: true,
    });
    let hash = |states: Vec<i32>| model.hash_state(&StateSet::new(states));
    assert_eq!(hash(vec![1, 2]), hash(vec![2, 1]), "order-independent");
    assert_ne!(hash(vec![1, 2]), hash(vec![1, 3]), "differs for these sets");
}

// ---------------------------------------------------------------------------------------
// What the port adds

#[test]
fn malformed_event_histories_are_errors() {
    let events: Vec<Event<RegisterInput, i32>> = vec![call(0, 1, GET), call(1, 1, GET)];
    assert_eq!(
        events_to_operations(events).err(),
        Some(HistoryError::DuplicateCall { id: 1 })
    );
    let events: Vec<Event<RegisterInput, i32>> = vec![ret(0, 2, 0), call(0, 2, GET)];
    assert_eq!(
        check_events(&Register, events, None),
        Err(HistoryError::ReturnWithoutCall { id: 2 })
    );
    let events: Vec<Event<RegisterInput, i32>> = vec![call(0, 3, GET), ret(0, 3, 0), ret(0, 3, 0)];
    assert_eq!(
        events_to_operations(events).err(),
        Some(HistoryError::DuplicateReturn { id: 3 })
    );
    let events: Vec<Event<RegisterInput, i32>> =
        vec![call(0, 4, GET), call(1, 5, GET), ret(1, 5, 0)];
    assert_eq!(
        check_events(&Register, events, None),
        Err(HistoryError::CallWithoutReturn { id: 4 })
    );
}

#[test]
fn an_operation_that_returns_before_its_call_is_illegal() {
    let ops = vec![op(0, put(1), 0, 0, 10), op(1, GET, 30, 1, 20)];
    assert_eq!(
        check_operations(&Register, &ops, None),
        CheckResult::Illegal
    );
    let (result, info) = check_operations_verbose(&Register, &ops, None);
    assert_eq!(result, CheckResult::Illegal);
    assert_eq!(info.partitions()[0].longest_partial_linearization(), &[0]);
}

#[test]
fn explanation_of_an_illegal_register_history() {
    let ops = vec![
        op(0, put(200), 0, 0, 100),
        op(1, GET, 10, 200, 30),
        op(2, GET, 40, 0, 90),
    ];
    let (result, info) = check_operations_verbose(&Register, &ops, None);
    assert_eq!(result, CheckResult::Illegal);
    assert_eq!(
        info.partitions()[0].longest_partial_linearization(),
        &[0, 1]
    );
    let text = info.explain(&Register, &ops);
    let expected = "\
partition 1 of 1 (3 operations): not linearizable
  longest partial linearization (2 of 3 operations):
    initial state 0
    1. client 0 [0, 100] put('200'); state 200
    2. client 1 [10, 30] get() -> '200'; state 200
  then none of the 1 remaining operations can take effect; those that could come next:
    client 2 [40, 90] get() -> '0': illegal in state 200
";
    assert_eq!(text, expected);
}

#[test]
#[should_panic(expected = "Model::partition put index 5")]
fn a_partition_index_out_of_range_panics() {
    struct Bad;
    impl Model for Bad {
        type State = ();
        type Input = ();
        type Output = ();
        fn init(&self) {}
        fn step(&self, _: &(), _: &(), _: &()) -> Option<()> {
            Some(())
        }
        fn partition(&self, _: &[Operation<(), ()>]) -> Vec<Vec<usize>> {
            vec![vec![0, 5]]
        }
    }
    check_operations(&Bad, &[op(0, (), 0, (), 1)], None);
}

/// A tiny deterministic generator (64-bit LCG), so the random histories are the same on
/// every run.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

/// The definition, by brute force: some permutation of the operations respects real time
/// (an operation that returned before another was called comes first) and replays legally.
fn brute_force<M: Model>(model: &M, ops: &[Operation<M::Input, M::Output>]) -> bool {
    fn search<M: Model>(
        model: &M,
        ops: &[Operation<M::Input, M::Output>],
        done: &mut Vec<bool>,
        state: &M::State,
    ) -> bool {
        if done.iter().all(|&d| d) {
            return true;
        }
        for i in 0..ops.len() {
            if done[i] {
                continue;
            }
            // `i` can go next only if no pending operation returned before `i` was called.
            let blocked = (0..ops.len()).any(|j| !done[j] && j != i && ops[j].ret < ops[i].call);
            if blocked {
                continue;
            }
            if let Some(next) = model.step(state, &ops[i].input, &ops[i].output) {
                done[i] = true;
                if search(model, ops, done, &next) {
                    return true;
                }
                done[i] = false;
            }
        }
        false
    }
    search(model, ops, &mut vec![false; ops.len()], &model.init())
}

/// `order` replays legally through the register, and no operation outside it or after it
/// in it returned before one of its operations was called.
fn assert_linearization_prefix(ops: &[Operation<RegisterInput, i32>], order: &[usize]) {
    let mut state = Register.init();
    for (k, &i) in order.iter().enumerate() {
        let must_come_first = (0..ops.len())
            .filter(|j| !order[..k].contains(j) && *j != i)
            .any(|j| ops[j].ret < ops[i].call);
        assert!(!must_come_first, "{ops:?} {order:?}");
        state = Register
            .step(&state, &ops[i].input, &ops[i].output)
            .expect("a partial linearization replays");
    }
}

/// Not one of Porcupine's tests: the checker agrees with the brute-force definition on
/// 2,000 random register histories of up to 6 operations (both answers occur).
#[test]
fn agrees_with_brute_force_on_random_register_histories() {
    let mut rng = Lcg(24);
    let mut answers = HashMap::new();
    for _ in 0..2_000 {
        let n = 1 + rng.below(6) as usize;
        let ops: Vec<_> = (0..n)
            .map(|client| {
                let start = rng.below(20) as i64;
                let end = start + rng.below(8) as i64;
                let value = rng.below(3) as i32;
                if rng.below(2) == 0 {
                    op(client, put(value), start, 0, end)
                } else {
                    op(client, GET, start, value, end)
                }
            })
            .collect();
        let expected = if brute_force(&Register, &ops) {
            CheckResult::Ok
        } else {
            CheckResult::Illegal
        };
        assert_eq!(check_operations(&Register, &ops, None), expected, "{ops:?}");
        let (verbose, info) = check_operations_verbose(&Register, &ops, None);
        assert_eq!(verbose, expected, "{ops:?}");
        // Every partial linearization is a legal start of a linearization, longest first;
        // when the history is linearizable, the one found is complete.
        let partials = info.partitions()[0].partial_linearizations();
        for partial in partials {
            assert_linearization_prefix(&ops, partial);
        }
        assert!(
            partials.windows(2).all(|w| w[0].len() >= w[1].len()),
            "{partials:?}"
        );
        if expected == CheckResult::Ok {
            assert_eq!(partials.len(), 1, "{ops:?}");
            assert_eq!(partials[0].len(), n, "{ops:?}");
        }
        *answers.entry(expected).or_insert(0) += 1;
    }
    assert!(answers.len() == 2, "{answers:?}");
}
