//! The email keys of this layout: the key Node writes (the address as given) and the one
//! of its normalized form, and who holds them.

use auth_core::{normalize_email, AdapterResult, Operation};

use super::cas::Cas;
use super::keys::{decode_pointer, Keys};
use super::records;
use crate::connection::Db;

/// The user id a by-id pointer or an email key holds, as `getItem` reads it.
pub(super) fn pointer_target(raw: &[u8]) -> String {
    decode_pointer(&String::from_utf8_lossy(raw))
}

/// The email keys of an address: the one Node writes and reads (as given), and, when it
/// differs, the one of its normalized form, which this layout adds so that lookups and
/// uniqueness ignore case as the contract says (Node reads it only when asked for that
/// form, and then finds the same user).
pub(super) fn email_keys(keys: &Keys, email: &str) -> Vec<String> {
    let as_given = keys.email(email);
    let normalized = keys.email(&normalize_email(email));
    if normalized == as_given {
        vec![as_given]
    } else {
        vec![as_given, normalized]
    }
}

/// Deletes the email key `key` in `cas` if it names user `id` (another user's stays).
pub(super) async fn release_claim(
    db: &Db,
    op: Operation,
    cas: &mut Cas,
    key: &str,
    id: &str,
) -> AdapterResult<()> {
    let value = db.get(op, key).await?;
    if value.as_deref().is_some_and(|v| pointer_target(v) == id) {
        cas.expect(key, value.as_deref()).del(key);
    }
    Ok(())
}

/// Who holds an email key: what the key held, and the user it names as read.
pub(super) struct Claim {
    pub(super) key: String,
    value: Option<Vec<u8>>,
    holder: Option<(String, Option<Vec<u8>>)>,
}

impl Claim {
    pub(super) async fn read(
        db: &Db,
        keys: &Keys,
        op: Operation,
        key: String,
    ) -> AdapterResult<Self> {
        let value = db.get(op, &key).await?;
        let holder = match &value {
            Some(raw) => {
                let id = pointer_target(raw);
                let user = db.get(op, &keys.user(&id)).await?;
                Some((id, user))
            }
            None => None,
        };
        Ok(Self { key, value, holder })
    }

    /// The id of the user who holds this email for real: the key names a user that
    /// exists and whose email is the same address (case aside). Keys Node left behind
    /// (an old email after an update, a deleted user) hold nothing.
    pub(super) fn live_holder(&self, email: &str) -> Option<&str> {
        let (id, raw) = self.holder.as_ref()?;
        let user = records::decode_user(raw.as_deref()?).ok()?;
        let same = user
            .email
            .is_some_and(|e| normalize_email(&e) == normalize_email(email));
        same.then_some(id.as_str())
    }

    pub(super) fn expect_in(&self, cas: &mut Cas, keys: &Keys) {
        cas.expect(&self.key, self.value.as_deref());
        if let Some((id, raw)) = &self.holder {
            cas.expect(&keys.user(id), raw.as_deref());
        }
    }
}
