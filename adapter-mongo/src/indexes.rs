//! The index plan of both layouts, written once over a layout's [`Fields`].

use auth_core::{AdapterResult, Operation};
use mongodb::bson::{doc, Document};
use mongodb::options::IndexOptions;
use mongodb::{Database, IndexModel};

use crate::error::ForOp;
use crate::layout::{Collections, Fields};

fn index(keys: Document, unique: bool) -> IndexModel {
    IndexModel::builder()
        .keys(keys)
        .options(IndexOptions::builder().unique(unique).build())
        .build()
}

fn ttl_index(field: &str) -> IndexModel {
    IndexModel::builder()
        .keys(doc! { field: 1 })
        .options(
            IndexOptions::builder()
                .expire_after(std::time::Duration::ZERO)
                .build(),
        )
        .build()
}

/// Creates the indexes of the collections `names` in `db`, whose documents are named by
/// `fields` (idempotent: MongoDB accepts an index that exists with the same keys and
/// options): a unique email (partial on `{$type: "string"}`, so users without an email
/// coexist), unique `(provider, <provider account id>)`, session token,
/// `(identifier, token)` and credential id; one on every owner field; where the layout
/// keeps them, one on the `expires_ms` of sessions and tokens (for `delete_expired`); and
/// TTL indexes (`expireAfterSeconds: 0`) on their `expires`.
pub(crate) async fn create(
    db: &Database,
    names: &Collections,
    fields: &Fields,
) -> AdapterResult<()> {
    let op = Operation::Migrate;
    let collection = |name: &str| db.collection::<Document>(name);
    let email = IndexModel::builder()
        .keys(doc! { fields.email: 1 })
        .options(
            IndexOptions::builder()
                .unique(true)
                .partial_filter_expression(doc! { fields.email: { "$type": "string" } })
                .build(),
        )
        .build();
    collection(&names.users)
        .create_index(email)
        .await
        .for_op(op)?;
    let owner = || index(doc! { fields.user_id: 1 }, false);
    let expiry = || {
        let by_millis = fields.expires_ms.map(|ms| index(doc! { ms: 1 }, false));
        by_millis.into_iter().chain([ttl_index("expires")])
    };
    let plan = [
        (
            &names.accounts,
            vec![
                index(doc! { "provider": 1, fields.provider_account_id: 1 }, true),
                owner(),
            ],
        ),
        (
            &names.sessions,
            [index(doc! { fields.session_token: 1 }, true), owner()]
                .into_iter()
                .chain(expiry())
                .collect(),
        ),
        (
            &names.verification_tokens,
            [index(doc! { "identifier": 1, "token": 1 }, true)]
                .into_iter()
                .chain(expiry())
                .collect(),
        ),
        (
            &names.authenticators,
            vec![index(doc! { fields.credential_id: 1 }, true), owner()],
        ),
    ];
    for (name, indexes) in plan {
        collection(name).create_indexes(indexes).await.for_op(op)?;
    }
    Ok(())
}
