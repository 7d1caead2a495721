//! The Auth.js layouts ([`Layout::AuthJsPg`], [`Layout::AuthJsDrizzle`]): the tables of a
//! running Auth.js app. The store is the native one (`crate::adapter`), over the same pool,
//! lease, error mapping, timestamp handling and row types; what differs per layout is
//! data: the statement texts (aliased to the native row names), the schema, and whether
//! the database assigns user ids ([`Ids`](crate::layout::Ids)).

mod columns;
mod drizzle;
mod pg;

use columns::select_list;
pub(crate) use columns::{catalog_query, from_catalog, ColumnBind, ExtraColumns};

use crate::dialect::{Dialect, Statements};
use crate::layout::Layout;

/// The statements and the schema (one idempotent multi-statement text) of an Auth.js
/// `layout` on `dialect`, reading and writing the app-added `columns`, or `None` where the
/// layout does not exist.
pub(crate) fn layout(
    layout: Layout,
    dialect: Dialect,
    columns: &ExtraColumns,
) -> Option<(Statements, &'static str)> {
    match layout {
        Layout::AuthJsPg if dialect == Dialect::Postgres => {
            Some((pg::statements(columns), pg::SCHEMA))
        }
        Layout::AuthJsDrizzle => {
            drizzle::schema(dialect).map(|schema| (drizzle::statements(dialect, columns), schema))
        }
        _ => None,
    }
}
