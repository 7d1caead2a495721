//! What the stores of both layouts use: dates in BSON, the joined read of a document with
//! its owner, the compare-and-set update and its attempts, the orphan-free insert of an
//! owned record, and the errors these report.

use std::borrow::Borrow;
use std::future::Future;
use std::ops::ControlFlow;

use auth_core::chrono::{DateTime, Utc};
use auth_core::{AdapterError, AdapterResult, ErrorKind, Operation, UserUpdate};
use futures::TryStreamExt;
use mongodb::bson::{self, doc, Bson, Document};
use mongodb::{Collection, Database};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{map_error, ForOp};
use crate::layout::{Collections, Fields};

/// How often an update re-reads a document that changed under it before giving up.
const MAX_UPDATE_ATTEMPTS: usize = 16;

/// A document type a [`Collection`] can hold.
pub(crate) trait Stored: Send + Sync {}

impl<T: Send + Sync> Stored for T {}

/// A layout's five collections, each with the document type its store reads and writes
/// there; each layout's store is one of these with its own methods
/// ([`NativeStore`](crate::native::NativeStore), [`AuthJsStore`](crate::authjs::AuthJsStore)).
#[derive(Debug, Clone)]
pub(crate) struct LayoutCollections<U: Stored, A: Stored, S: Stored, T: Stored, K: Stored> {
    pub(crate) names: Collections,
    pub(crate) users: Collection<U>,
    pub(crate) accounts: Collection<A>,
    pub(crate) sessions: Collection<S>,
    pub(crate) tokens: Collection<T>,
    pub(crate) authenticators: Collection<K>,
}

impl<U: Stored, A: Stored, S: Stored, T: Stored, K: Stored> LayoutCollections<U, A, S, T, K> {
    /// The collections named `names` in `db` (no I/O).
    pub(crate) fn new(db: &Database, names: Collections) -> Self {
        Self {
            users: db.collection(&names.users),
            accounts: db.collection(&names.accounts),
            sessions: db.collection(&names.sessions),
            tokens: db.collection(&names.verification_tokens),
            authenticators: db.collection(&names.authenticators),
            names,
        }
    }

    /// The collection names in use.
    pub(crate) fn names(&self) -> &Collections {
        &self.names
    }
}

/// The user fields, named by `fields`, that `update` leaves as they are: a replacement of
/// the user must not overwrite a concurrent change to one of them (see [`unchanged`]).
/// The email's key field goes with the email where the layout keeps one.
pub(crate) fn carried_user_fields(update: &UserUpdate, fields: &Fields) -> Vec<&'static str> {
    let mut carried = Vec::new();
    if update.email.is_none() {
        carried.push("email");
        if fields.email != "email" {
            carried.push(fields.email);
        }
    }
    if update.email_verified.is_none() {
        carried.push(fields.email_verified);
    }
    if update.name.is_none() {
        carried.push("name");
    }
    if update.image.is_none() {
        carried.push("image");
    }
    carried
}

/// A chrono instant as a BSON date (sub-millisecond digits dropped).
pub(crate) fn to_bson(t: DateTime<Utc>) -> bson::DateTime {
    bson::DateTime::from_millis(t.timestamp_millis())
}

/// A BSON date as a chrono instant.
pub(crate) fn from_bson(op: Operation, t: bson::DateTime) -> AdapterResult<DateTime<Utc>> {
    DateTime::from_timestamp_millis(t.timestamp_millis())
        .ok_or_else(|| AdapterError::backend(op, "a stored date is out of chrono's range"))
}

/// The aggregation of both layouts' joined reads: the one document matching `filter`, its
/// owner (the user whose `_id` is its `owner_field`) joined in as `user`; nothing when that
/// user is gone.
pub(crate) fn with_owner(filter: Document, users: &str, owner_field: &str) -> [Document; 4] {
    [
        doc! { "$match": filter },
        doc! { "$limit": 1 },
        doc! { "$lookup": {
            "from": users,
            "localField": owner_field,
            "foreignField": "_id",
            "as": "user",
        } },
        doc! { "$unwind": "$user" },
    ]
}

pub(crate) fn no_user(op: Operation) -> AdapterError {
    AdapterError::not_found(op, "no user with this id")
}

/// A filter matching `key` and, of `current`, the fields named in `carried`, which an
/// update leaves as they are (a field the document lacks matches as `null`).
///
/// Replacing a document under this filter is what a server-side `$set` of the other
/// fields does: atomic, and a concurrent change to a carried field is not overwritten
/// (the filter then matches nothing and the caller reads again).
pub(crate) fn unchanged(key: Document, current: &Document, carried: &[&str]) -> Document {
    let mut filter = key;
    for field in carried {
        match_equal(
            &mut filter,
            field,
            current.get(*field).cloned().unwrap_or(Bson::Null),
        );
    }
    filter
}

/// Adds to `filter` that `field` equals `value` (`null` also matches a missing field), in a
/// form that MongoDB and the stand-in CI uses both read as exact equality:
/// - an embedded document or an array (the extra fields) as `{$expr: {$eq: ["$field",
///   {$literal: value}]}}`, each one an entry of a top-level `$and`: the stand-in reads a
///   bare document in a filter as operators, and cannot bind a document or an array in an
///   update's filter at all; `$expr` compares whole values, field order included, on both.
///   Under `$and`, not as a top-level `$expr`: beside a top-level `$expr` the stand-in
///   (nx-27017 0.8.1) ignores the filter's other fields, so a replacement keyed by one
///   session's token landed on another session whose data was equal;
/// - `null` as `{$eq: null}` (also matches a missing field, as a bare `null` does): beside a
///   `$and`, the stand-in matches no document on a bare `null`;
/// - an ObjectId as `{$in: [id]}`: the stand-in finds nothing on an ObjectId compared for
///   equality outside `_id`;
/// - anything else as the plain value.
pub(crate) fn match_equal(filter: &mut Document, field: &str, value: Bson) {
    match value {
        Bson::Document(_) | Bson::Array(_) => {
            let condition = Bson::Document(doc! {
                "$expr": { "$eq": [format!("${field}"), { "$literal": value }] },
            });
            if let Some(Bson::Array(all)) = filter.get_mut("$and") {
                all.push(condition);
                return;
            }
            filter.insert("$and", vec![condition]);
        }
        Bson::ObjectId(_) => {
            filter.insert(field, doc! { "$in": [value] });
        }
        Bson::Null => {
            filter.insert(field, doc! { "$eq": Bson::Null });
        }
        other => {
            filter.insert(field, other);
        }
    }
}

/// Runs `attempt` (a read, then a replacement under a filter on what it read) until it
/// breaks with the answer; one that keeps continuing (its replacement kept missing because
/// the document kept changing) fails after [`MAX_UPDATE_ATTEMPTS`].
///
/// `attempt` is a closure returning a future, not an async closure: the future of an async
/// closure borrows the closure, and the compiler cannot then prove the caller's future
/// `Send` (which `#[async_trait]` requires).
pub(crate) async fn until_unchanged<T, F>(
    op: Operation,
    attempt: impl Fn() -> F,
) -> AdapterResult<T>
where
    F: Future<Output = AdapterResult<ControlFlow<T>>>,
{
    for _ in 0..MAX_UPDATE_ATTEMPTS {
        if let ControlFlow::Break(answer) = attempt().await? {
            return Ok(answer);
        }
    }
    Err(AdapterError::backend(
        op,
        "the document kept changing during the update; try again",
    ))
}

/// Replaces the document under `filter` with `new`; `false` when nothing matched.
pub(crate) async fn replace<T>(
    op: Operation,
    collection: &Collection<T>,
    filter: Document,
    new: impl Borrow<T>,
) -> AdapterResult<bool>
where
    T: Serialize + Send + Sync,
{
    let result = collection.replace_one(filter, new).await.for_op(op)?;
    Ok(result.matched_count > 0)
}

/// Every document of `collection` matching `filter`.
pub(crate) async fn find_all<T>(
    op: Operation,
    collection: &Collection<T>,
    filter: Document,
) -> AdapterResult<Vec<T>>
where
    T: DeserializeOwned + Send + Sync,
{
    collection
        .find(filter)
        .await
        .for_op(op)?
        .try_collect()
        .await
        .for_op(op)
}

/// Inserts `record`, owned by the user `user_exists` asks about, so that no orphan
/// survives a concurrent `delete_user` of that user, without a transaction: insert, then
/// check that the user exists, and if not, delete what was inserted and answer `NotFound`.
///
/// Why no interleaving leaves an orphan: `remove_user` deletes the user document (D),
/// and only once that is acknowledged deletes every record naming the user (C). Here the
/// insert (I) is acknowledged before the check (R) is sent. Single-document operations
/// on one primary are applied in one order, and each sees all that was acknowledged
/// before it was sent.
/// - R finds the user: R ran before D, so I < R < D < C, and C removes the record.
/// - R finds no user: D ran before R, and the record is deleted here (U).
///
/// Either way the record is gone once both calls return, and the unique key it took
/// (a provider account, a credential id) is free again. While I..U lasts, the record
/// is invisible: every read that returns an owned record joins or checks its user.
/// A transaction would not do this better: the cascade (C) in a transaction reads a
/// snapshot, so it would miss a record inserted after the snapshot but checked before
/// the commit. (If U itself fails, e.g. the connection drops, the error is returned and
/// the invisible record stays until a `delete_user` of the same id.)
///
/// A duplicate key is `Conflict`, or `NotFound` when the user does not exist either
/// (the user is checked first in the contract's order).
///
/// `user_exists` returns a future rather than being an async closure, for the reason
/// [`until_unchanged`] gives.
pub(crate) async fn insert_owned<T, F>(
    op: Operation,
    collection: &Collection<T>,
    record: impl Borrow<T> + Send + Sync,
    user_exists: impl Fn() -> F,
) -> AdapterResult<()>
where
    T: Serialize + Send + Sync,
    F: Future<Output = AdapterResult<bool>>,
{
    let inserted = match collection.insert_one(record).await {
        Ok(result) => result.inserted_id,
        Err(e) => {
            let err = map_error(op, e);
            if err.kind() == ErrorKind::Conflict && !user_exists().await? {
                return Err(no_user(op));
            }
            return Err(err);
        }
    };
    if user_exists().await? {
        return Ok(());
    }
    collection
        .delete_one(doc! { "_id": inserted })
        .await
        .for_op(op)?;
    Err(no_user(op))
}

#[cfg(test)]
mod tests {
    use super::*;
    use auth_core::chrono::TimeZone;

    #[test]
    fn containers_are_matched_by_expression() {
        let current = doc! { "a": "x", "extra": { "k": 1 }, "tags": [1, 2] };
        let filter = unchanged(doc! { "_id": 1 }, &current, &["a", "extra", "tags", "gone"]);
        assert_eq!(
            filter,
            doc! {
                "_id": 1,
                "a": "x",
                "$and": [
                    { "$expr": { "$eq": ["$extra", { "$literal": { "k": 1 } }] } },
                    { "$expr": { "$eq": ["$tags", { "$literal": [1, 2] }] } },
                ],
                "gone": { "$eq": Bson::Null },
            }
        );
    }

    #[test]
    fn far_dates_survive_bson() {
        for t in [
            Utc.with_ymd_and_hms(1001, 1, 1, 0, 0, 0).unwrap(),
            Utc.timestamp_millis_opt(253_402_300_799_999).unwrap(),
            Utc.timestamp_millis_opt(-1).unwrap(),
        ] {
            assert_eq!(from_bson(Operation::GetUser, to_bson(t)).unwrap(), t);
        }
    }
}
