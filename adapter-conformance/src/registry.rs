//! The list of scenarios, written once: the runner's table and the test macro both come
//! from [`for_each_scenario!`](crate::for_each_scenario).

use futures::future::BoxFuture;

use crate::check::Outcome;
use crate::fixture::Fixture;

/// Calls `$callback!` with `($($args)*)` followed by `number name => "title",` for every
/// scenario. The one place the list lives.
#[macro_export]
#[doc(hidden)]
macro_rules! for_each_scenario {
    ($callback:path, $($args:tt)*) => {
        $callback! { ($($args)*)
            1 s01_create_user_stores_every_field => "create_user stores every field",
            2 s02_get_user_by_id => "get_user: unknown, malformed and known ids",
            3 s03_get_user_by_email => "get_user_by_email: unknown and known",
            4 s04_create_and_read_session => "create_session and get_session_and_user",
            5 s05_update_user_changes_name => "update_user changes the stored name",
            6 s06_update_session_changes_expiry => "update_session changes expires exactly",
            7 s07_link_account_stores_every_field => "link_account stores every token field",
            8 s08_delete_session_removes_it => "delete_session removes the row",
            9 s09_verification_token_used_once => "a verification token is used once",
            10 s10_unlink_account_removes_it => "unlink_account removes the row",
            11 s11_delete_user_removes_sessions_and_accounts => "delete_user removes sessions and accounts",
            12 s12_get_account_needs_both_halves => "get_account needs both halves of the key",
            13 s13_authenticators => "authenticators: create, get, list, counter",
            14 s14_wrong_token_is_refused => "a wrong token is refused, the real one still works",
            15 s15_concurrent_token_use_has_one_winner => "50 concurrent token uses: one winner",
            16 s16_concurrent_same_email_has_one_winner => "20 concurrent sign-ups, one email: one winner",
            17 s17_duplicates_conflict => "every duplicate key is a Conflict",
            18 s18_delete_user_cascades_everything => "delete_user removes everything of the user only",
            19 s19_expired_records_are_never_returned => "expired records are never returned and get swept",
            20 s20_update_user_moves_email => "update_user moves the email lookup",
            21 s21_unknown_user_is_not_found => "records for an unknown user are NotFound",
            22 s22_missing_keys_give_none => "changing what is missing gives None",
            23 s23_email_is_case_insensitive => "emails are case-insensitive; many users without one",
            24 s24_hostile_strings_are_plain_data => "hostile strings are plain data; bad keys are InvalidInput",
            25 s25_dates_round_trip => "far past, far future and ms dates round-trip",
            26 s26_update_account_replaces_tokens => "update_account replaces tokens, keeps owner",
            27 s27_session_of_deleted_user_is_gone => "a deleted user's session is gone",
            28 s28_unreachable_server_fails_fast => "a dead server gives ADAPTER_CONNECTION_ERROR in time",
            29 s29_migrate_is_idempotent => "migrate() twice is harmless",
            30 s30_secrets_never_printed => "no token in any error's or model's Display/Debug",
            31 s31_expired_session_is_not_revived => "update_session never revives an expired session",
            32 s32_delete_races_leave_no_orphan => "delete_user racing creates: no orphan, relink works",
            33 s33_session_moves_to_another_user => "update_session moves a session to another user",
            34 s34_email_verified_set_and_cleared => "email_verified set, then cleared",
            35 s35_concurrent_partial_updates_both_land => "two concurrent partial update_user calls both land",
            36 s36_counts_are_exact => "delete_sessions and delete_expired count exactly",
            37 s37_delete_authenticator_and_list_accounts => "delete_authenticator and list_accounts",
            38 s38_over_cap_inputs_are_refused_before_io => "over-cap input is InvalidInput before any I/O",
        }
    };
}

/// The signature every scenario has, boxed so they fit in one list.
pub type ScenarioFn = for<'a> fn(&'a Fixture) -> BoxFuture<'a, Outcome>;

/// One named scenario of CONFORMANCE.md.
#[derive(Clone, Copy)]
pub struct Scenario {
    /// Its number in CONFORMANCE.md.
    pub number: u32,
    /// The function name, e.g. `s15_concurrent_token_use_has_one_winner`.
    pub name: &'static str,
    /// One line on what it proves.
    pub title: &'static str,
    /// The scenario itself.
    pub run: ScenarioFn,
}

impl std::fmt::Debug for Scenario {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

macro_rules! scenario_table {
    (() $($number:literal $name:ident => $title:literal,)*) => {
        /// Every scenario, in CONFORMANCE.md order.
        pub const SCENARIOS: &[Scenario] = &[
            $(Scenario {
                number: $number,
                name: stringify!($name),
                title: $title,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_run_from_1_to_38_in_order() {
        let numbers: Vec<u32> = SCENARIOS.iter().map(|s| s.number).collect();
        assert_eq!(numbers, (1..=38).collect::<Vec<_>>());
    }
}
