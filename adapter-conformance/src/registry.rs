//! The list of scenarios, written once: the runner's table and the test macro both come
//! from [`for_each_scenario!`](crate::for_each_scenario).

use futures::future::BoxFuture;

use crate::check::Outcome;
use crate::fixture::Fixture;

/// Calls `$callback!` with `($($args)*)` followed by `number name => "title", "detail",` for
/// every scenario. The one place the list lives.
#[macro_export]
#[doc(hidden)]
macro_rules! for_each_scenario {
    ($callback:path, $($args:tt)*) => {
        $callback! { ($($args)*)
            1 s01_create_user_stores_every_field => "create_user stores every field",
                "create_user stores every field; a raw read equals the input (email_verified to the ms).",
            2 s02_get_user_by_id => "get_user: unknown, malformed and known ids",
                "get_user: unknown id → None (also a malformed one); known id → the user.",
            3 s03_get_user_by_email => "get_user_by_email: unknown and known",
                "get_user_by_email: unknown → None; known → the user.",
            4 s04_create_and_read_session => "create_session and get_session_and_user",
                "create_session then read it raw; get_session_and_user: unknown token → None; known →",
            5 s05_update_user_changes_name => "update_user changes the stored name",
                "update_user changes the name; the stored row changes.",
            6 s06_update_session_changes_expiry => "update_session changes expires exactly",
                "update_session changes expires exactly.",
            7 s07_link_account_stores_every_field => "link_account stores every token field",
                "link_account stores every token field (expires_at stays a number); get_user_by_account",
            8 s08_delete_session_removes_it => "delete_session removes the row",
                "delete_session removes the row.",
            9 s09_verification_token_used_once => "a verification token is used once",
                "create_verification_token stores exactly what was given; use_verification_token returns",
            10 s10_unlink_account_removes_it => "unlink_account removes the row",
                "unlink_account removes the row.",
            11 s11_delete_user_removes_sessions_and_accounts => "delete_user removes sessions and accounts",
                "delete_user removes the user, its sessions and its accounts.",
            12 s12_get_account_needs_both_halves => "get_account needs both halves of the key",
                "get_account: any wrong half of the pair → None; the right pair → the account.",
            13 s13_authenticators => "authenticators: create, get, list, counter",
                "create_authenticator, get_authenticator (unknown → None), list_authenticators (two users, two and one credentials, the lists complete and separate, unknown user → []), update_authenticator_counter (unknown → NotFound error; known → new counter).",
            14 s14_wrong_token_is_refused => "a wrong token is refused, the real one still works",
                "use_verification_token with the right identifier and a wrong token → None (and the real token still works afterwards).",
            15 s15_concurrent_token_use_has_one_winner => "50 concurrent token uses: one winner",
                "50 concurrent use_verification_token calls on one token: exactly one Some.",
            16 s16_concurrent_same_email_has_one_winner => "20 concurrent sign-ups, one email: one winner",
                "20 concurrent create_user with one email in different case: exactly one succeeds, the rest get CREATE_USER_ERROR / Conflict.",
            17 s17_duplicates_conflict => "every duplicate key is a Conflict",
                "Duplicate (provider, provider_account_id), duplicate session token, duplicate credential id, duplicate (identifier, token): Conflict with the method's code.",
            18 s18_delete_user_cascades_everything => "delete_user removes everything of the user only",
                "A user with three accounts, three sessions and two authenticators: delete_user removes every one of them; list_sessions and delete_sessions (sign out everywhere) agree.",
            19 s19_expired_records_are_never_returned => "expired records are never returned and get swept",
                "Expired session → get_session_and_user gives None; expired token → use gives None and removes it; delete_expired removes expired rows and keeps live ones.",
            20 s20_update_user_moves_email => "update_user moves the email lookup",
                "update_user that changes the email: the new email finds the user, the old one does not; changing to a taken email → Conflict, and nothing changed.",
            21 s21_unknown_user_is_not_found => "records for an unknown user are NotFound",
                "link_account / create_session / create_authenticator for an unknown user → NotFound, and nothing stored.",
            22 s22_missing_keys_give_none => "changing what is missing gives None",
                "update_session, delete_session, unlink_account, update_account on missing keys → None, not an error.",
            23 s23_email_is_case_insensitive => "emails are case-insensitive; many users without one",
                "Emails differing only in case find the same user; users without email coexist.",
            24 s24_hostile_strings_are_plain_data => "hostile strings are plain data; bad keys are InvalidInput",
                "Strings that are hostile to the backend (quotes, `%`, `_`, `*`, `$where`, `{}`, Lua and SQL fragments, emoji, 4 KiB id_token) round-trip exactly; an empty id or token is InvalidInput.",
            25 s25_dates_round_trip => "far past, far future and ms dates round-trip",
                "Dates: far past, far future, and millisecond values round-trip exactly.",
            26 s26_update_account_replaces_tokens => "update_account replaces tokens, keeps owner",
                "update_account replaces refreshed tokens and keeps the rest.",
            27 s27_session_of_deleted_user_is_gone => "a deleted user's session is gone",
                "A session whose user was deleted is never returned.",
            28 s28_unreachable_server_fails_fast => "a dead server gives ADAPTER_CONNECTION_ERROR in time",
                "A server that refuses connections gives ADAPTER_CONNECTION_ERROR within the timeout.",
            29 s29_migrate_is_idempotent => "migrate() twice is harmless",
                "migrate() twice is harmless; data survives a second migrate().",
            30 s30_secrets_never_printed => "no token in any error's or model's Display/Debug",
                "Secrets never printed: provoke every duplicate-key path (session token, verification token, provider account, credential id); no token value appears in the error's Display, Debug or source chain, nor in Debug of any model or of the adapter.",
            31 s31_expired_session_is_not_revived => "update_session never revives an expired session",
                "update_session on an expired (unswept) session gives None and does not revive it.",
            32 s32_delete_races_leave_no_orphan => "delete_user racing creates: no orphan, relink works",
                "Race: delete_user concurrently with link_account / create_session / create_authenticator for that user, 50 trials: the Inspector finds no orphan row, and the same provider account can be linked to a new user afterwards.",
            33 s33_session_moves_to_another_user => "update_session moves a session to another user",
                "update_session that moves a session to another user: the session reads with the new user; the old user's list_sessions no longer has it.",
            34 s34_email_verified_set_and_cleared => "email_verified set, then cleared",
                "email_verified set, then cleared with Some(None): each reads back as written.",
            35 s35_concurrent_partial_updates_both_land => "two concurrent partial update_user calls both land",
                "Two concurrent partial update_user calls setting different fields: both fields land.",
            36 s36_counts_are_exact => "delete_sessions and delete_expired count exactly",
                "Exact counts: delete_sessions and delete_expired return exactly what they removed.",
            37 s37_delete_authenticator_and_list_accounts => "delete_authenticator and list_accounts",
                "delete_authenticator and list_accounts: present, complete, and cascaded by delete_user.",
            38 s38_over_cap_inputs_are_refused_before_io => "over-cap input is InvalidInput before any I/O",
                "Inputs over the documented size cap: InvalidInput before any I/O, on every backend.",
            39 s39_extra_fields_round_trip_exactly => "extra fields round-trip exactly",
                "A user's and a session's extra fields (Unicode, i64::MIN/MAX, f64::MAX, the smallest subnormal, 0.1, integral floats such as 1e16, booleans, nested objects and arrays with nulls) read back exactly through create, get_user, get_user_by_email, get_session_and_user, list_sessions and a raw read; a top-level null is left out.",
            40 s40_update_user_merges_extra_fields => "update_user merges or replaces extra fields",
                "update_user merges extra fields one level deep (a field set to null is removed, others kept, a nested object replaced whole) beside a name change; an update naming no extra keeps them; replace_extra replaces them, {} clears them.",
            41 s41_update_session_writes_session_data => "update_session writes the session's data",
                "update_session merges data beside a new expiry, keeps it when only the expiry changes, removes a field set to null, and replaces it; a raw read agrees.",
            42 s42_extra_field_rules_are_invalid_input => "extra fields over a rule are InvalidInput",
                "Reserved names (any case, Auth.js spelling, _id), `$`/`.`/empty names, NUL, integers beyond i64, nesting past the depth cap and objects past 65,535 bytes are InvalidInput with the method's code and store nothing; a merge whose result is over the cap changes nothing (user and session).",
            43 s43_account_keeps_the_token_response => "an account keeps the whole token response",
                "link_account keeps the rest of the token response (expires_in, refresh_token_expires_in, a provider's secret, nested data) exactly through get_account, list_accounts and a raw read; update_account replaces it, and an empty object clears it.",
            44 s44_random_sequences_agree_with_the_model => "random call sequences agree with the reference model",
                "AUTH_MODEL_CASES (default 100) random sequences of up to 30 calls over every Adapter method, on a small key space (ids reused after delete, one email in two cases, compound keys that join alike), each answer equal to the reference model's (MemoryAdapter) or the same error code and kind; a failure is shrunk to a minimal sequence and printed as a test, with the seed (AUTH_MODEL_SEED replays it). A layout's documented gaps leave out what it cannot hold.",
            45 s45_concurrent_histories_are_linearizable => "concurrent call histories are linearizable",
                "AUTH_MODEL_HISTORIES (default 50) histories of 6 clients making 5 calls each at once on shared keys (one verification token, two users sharing one address in two cases, sessions and accounts created, updated, unlinked and deleted while their user is deleted), every call's invocation and return recorded; each history must be linearizable against the contract's sequential specification (Porcupine's algorithm); a failure prints the history and the longest order found.",
        }
    };
}

/// The signature every scenario has, boxed so they fit in one list.
pub type ScenarioFn = for<'a> fn(&'a Fixture) -> BoxFuture<'a, Outcome>;

/// One named scenario of the catalogue (CONFORMANCE.md in the repository).
#[derive(Clone, Copy)]
pub struct Scenario {
    /// Its number in the catalogue.
    pub number: u32,
    /// The function name, e.g. `s15_concurrent_token_use_has_one_winner`.
    pub name: &'static str,
    /// One line on what it proves.
    pub title: &'static str,
    /// What it checks, in full (the catalogue in CONFORMANCE.md).
    pub detail: &'static str,
    /// The scenario itself.
    pub run: ScenarioFn,
}

impl std::fmt::Debug for Scenario {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

macro_rules! scenario_table {
    (() $($number:literal $name:ident => $title:literal, $detail:literal,)*) => {
        /// Every scenario, in catalogue order.
        pub const SCENARIOS: &[Scenario] = &[
            $(Scenario {
                number: $number,
                name: stringify!($name),
                title: $title,
                detail: $detail,
                run: |fixture| Box::pin(crate::scenarios::$name(fixture)),
            },)*
        ];
    };
}

for_each_scenario!(scenario_table,);

/// The scenario with this function name.
///
/// ```
/// let s = adapter_conformance::scenario("s15_concurrent_token_use_has_one_winner").unwrap();
/// assert_eq!(s.number, 15);
/// ```
pub fn scenario(name: &str) -> Option<&'static Scenario> {
    SCENARIOS.iter().find(|s| s.name == name)
}

/// The scenario catalogue as Markdown: what the suite is, how a backend crate runs it,
/// where its servers come from, and every scenario with its number, name and what it
/// checks. The repository's `CONFORMANCE.md` is this text (`conformance-cli list
/// --markdown` prints it, and a test keeps the committed file equal to it).
///
/// ```
/// let text = adapter_conformance::catalogue_markdown();
/// assert!(text.starts_with("# The conformance suite"));
/// assert!(text.contains("15. **`s15_concurrent_token_use_has_one_winner`**"));
/// ```
pub fn catalogue_markdown() -> String {
    use std::fmt::Write as _;

    let mut text = String::from(CATALOGUE_INTRO);
    let _ = writeln!(
        text,
        "\n## The scenarios ({} of them)\n\nEach is a function of \
         `adapter_conformance::scenarios` and a trial `<backend>::<name>` of every \
         backend's test binary.\n",
        SCENARIOS.len()
    );
    for s in SCENARIOS {
        let _ = writeln!(
            text,
            "{}. **`{}`** — {}.\n    {}",
            s.number, s.name, s.title, s.detail
        );
    }
    text
}

const CATALOGUE_INTRO: &str = "\
# The conformance suite

<!-- Generated by `cargo run -p conformance-cli -- list --markdown`; edit the scenario list
in adapter-conformance/src/registry.rs, not here. A test fails when the two differ. -->

`adapter-conformance` runs the same scenarios against every adapter. Each scenario gets a
fresh, isolated adapter (its own database, schema, collection set, key prefix or file), so
the scenarios run in parallel and in any order, and one failure says exactly what broke.
The suite checks what was really stored through an `Inspector` that reads the storage
directly, not only what the adapter says it stored.

## How a backend crate runs it

A backend crate declares a test binary of its own (`[[test]] name = \"conformance\"`,
`harness = false`) whose `main` is one call, `adapter_conformance::test_main(&[spec, …])`:
one trial per backend and scenario, named `<backend>::<scenario>`, under `cargo test` and
`cargo nextest` alike. The backend gives a `BackendSpec` (a name, where its server comes
from, how to open it), a `Backend` that hands out a fresh migrated `Fixture` per scenario,
and an `Inspector` over that fixture's storage. CONTRIBUTING.md walks through it;
`examples/out-of-tree-backend` does it outside this workspace.

A scenario that a storage layout cannot hold by design is declared as a `Gap` with its
reason: it still runs, must fail, and is reported as a documented gap. If it passes, the
trial fails, because the documentation is wrong.

Scenarios 39–43 write the app's own fields (`extra`) on users, accounts and sessions. They
use only the names of `adapter_conformance::scenarios::EXTRA_VOCABULARY`, each with the JSON
kind of its values (string, integer, float, boolean, any JSON), so a layout that keeps extra
fields in columns the app added (the Auth.js SQL layouts) gives its test tables exactly those
columns and runs the same scenarios.

## Where the servers come from

For each server backend the harness takes, in order:

1. a URL from the environment (one variable per backend, e.g. `AUTH_TEST_POSTGRES_URL`);
2. a container, where this crate is built with its `containers` feature and a Docker engine
   answers (a local image named by a variable such as `AUTH_TEST_POSTGRES_IMAGE`, else the
   registry image), published on 127.0.0.1 only;
3. otherwise the backend is skipped, with one line that names it, says why and how to
   enable it. With `AUTH_CONFORMANCE_REQUIRE=all` (or a comma-separated list of backend
   names), as CI sets it, a missing backend is a failure instead.

Embedded backends (the in-memory reference adapter, SQLite files and in-memory SQLite)
always run.
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_run_from_1_to_45_in_order() {
        let numbers: Vec<u32> = SCENARIOS.iter().map(|s| s.number).collect();
        assert_eq!(numbers, (1..=45).collect::<Vec<_>>());
    }
}
