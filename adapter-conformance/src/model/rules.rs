//! What a layout holds of the contract, read off its documented gaps: the random sequences
//! leave out exactly the combinations a gap says the layout cannot hold (a repeated user
//! id where the database assigns ids, say), and check everything else.

use auth_core::memory::MemoryAdapter;
use auth_core::Adapter;

use super::ops::{Keys, Op};
use crate::fixture::Gap;

/// The parts of the contract a backend's gaps say it does not hold, as the model check
/// reads them. The default (no gaps) checks everything.
///
/// ```
/// use adapter_conformance::model::Rules;
/// use adapter_conformance::Gap;
/// let rules = Rules::from_gaps(&[Gap { scenario: "s17_duplicates_conflict", reason: "SERIAL ids" }]);
/// assert!(rules.fresh_user_ids);
/// assert!(!rules.whole_seconds);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rules {
    /// The database assigns user ids (`s17`): a user id is created again only once the
    /// user it named is gone.
    pub fresh_user_ids: bool,
    /// Emails are unique per spelling (`s16`, `s20`): one spelling of each address.
    pub one_email_spelling: bool,
    /// Expiries are whole seconds (`s04`): the instants are drawn on whole seconds.
    pub whole_seconds: bool,
    /// One account and one session per user reach the user's indexes (`s18`, `s37`): a
    /// second one is not linked or created while the first exists.
    pub one_record_per_user: bool,
    /// Counts of bulk deletes are not exact (`s36`): `delete_sessions` and
    /// `delete_expired` are left out.
    pub no_bulk_counts: bool,
    /// The two halves of an account's and a verification token's key are joined with `:`
    /// into one storage key (a key format shared with another program, as
    /// @auth/unstorage-adapter's): look-alike pairs (`git` + `hub:1`, `git:hub` + `1`) are
    /// one record, so the sequences use one pair of each look-alike set. No scenario names
    /// it; a backend sets it in [`Backend::model_rules`](crate::Backend::model_rules).
    pub joined_keys: bool,
    /// Records owned by a user are written without a transaction (insert, then check the
    /// owner, then undo), so a create racing its owner's delete or a create for a missing
    /// user can be seen half-done by a concurrent call. The concurrent histories (scenario
    /// 45) then keep their users: made beforehand, never deleted during the history. No
    /// scenario names it; a backend sets it in
    /// [`Backend::model_rules`](crate::Backend::model_rules), and documents it.
    pub unsynchronized_owners: bool,
}

impl Rules {
    /// The rules a backend's documented `gaps` imply.
    pub fn from_gaps(gaps: &[Gap]) -> Self {
        let has = |name: &str| gaps.iter().any(|gap| gap.scenario == name);
        Self {
            fresh_user_ids: has("s17_duplicates_conflict"),
            one_email_spelling: has("s16_concurrent_same_email_has_one_winner")
                || has("s20_update_user_moves_email"),
            whole_seconds: has("s04_create_and_read_session"),
            one_record_per_user: has("s18_delete_user_cascades_everything")
                || has("s37_delete_authenticator_and_list_accounts"),
            no_bulk_counts: has("s36_counts_are_exact"),
            joined_keys: false,
            unsynchronized_owners: false,
        }
    }

    /// The email spelling used for index `i`: under `one_email_spelling`, the other case
    /// of an address becomes its first spelling.
    pub(crate) fn email_spelling(&self, i: u8) -> u8 {
        if self.one_email_spelling && i == 1 {
            0
        } else {
            i
        }
    }

    /// Whether `op` is run, given what `model` holds now (the rules that need state look
    /// it up there: the model is what the adapter should hold).
    pub(crate) async fn allows(&self, op: Op, model: &MemoryAdapter, keys: &Keys) -> bool {
        match op {
            Op::CreateUser { user, .. } if self.fresh_user_ids => {
                !matches!(model.get_user(&keys.user(user)).await, Ok(Some(_)))
            }
            Op::LinkAccount { user, .. } if self.one_record_per_user => {
                matches!(model.list_accounts(&keys.user(user)).await, Ok(v) if v.is_empty())
            }
            Op::CreateSession { user, .. } if self.one_record_per_user => {
                let snapshot = model.snapshot();
                let id = keys.user(user);
                !snapshot.sessions.values().any(|s| s.user_id == id)
            }
            Op::UpdateSession { user: Some(_), .. } if self.one_record_per_user => false,
            Op::DeleteSessions { .. } | Op::DeleteExpired if self.no_bulk_counts => false,
            _ => true,
        }
    }
}
