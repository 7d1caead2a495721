//! `src/schema/tables.rs` (the `diesel::table!` definitions every query is checked against,
//! with each dialect's timestamp type for `Stamp` and JSON type for `Json`)
//! agree with what the shared migrations (the `auth-sql` crate) create: each dialect's migration is run on a fresh
//! database, the database is read back (information_schema, or `pragma_table_info` on
//! SQLite), rendered the way `diesel print-schema` would see it (tables, columns in order,
//! types, nullability, primary keys), and compared with the parsed schema file. A column
//! added to a migration and not to schema.rs, or the other way round, fails here.

mod common;

/// The tables as written once for every dialect, `Stamp` standing for the timestamp type.
const TABLES: &str = include_str!("../src/schema/tables.rs");

use std::collections::BTreeMap;

use adapter_diesel::DieselAdapter;
use adapter_sqlx::sqlx::{self, Row};
use common::{Db, Fresh};

/// (table, column, type, nullable) in column order.
type Columns = Vec<(String, String, String, bool)>;
/// (table, key column) in key order.
type Keys = Vec<(String, String)>;

/// One table: its primary key and its columns (name, diesel type) in order.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Table {
    primary_key: Vec<String>,
    columns: Vec<(String, String)>,
}

/// Parses a `diesel::table!` file: `#[sql_name = "…"]`, `name (pk, …) {`, `col -> Type,`.
fn parse_schema(text: &str) -> BTreeMap<String, Table> {
    let mut tables = BTreeMap::new();
    let mut lines = text.lines().map(str::trim);
    while let Some(line) = lines.next() {
        let Some(rest) = line.strip_prefix("#[sql_name = \"") else {
            continue;
        };
        let sql_name = rest.trim_end_matches("\"]").to_owned();
        let header = lines.next().expect("a table header after sql_name");
        let (_, keys) = header.split_once('(').expect("primary key list");
        let (keys, _) = keys.split_once(')').expect("primary key list");
        let primary_key = keys.split(',').map(|k| k.trim().to_owned()).collect();
        let mut columns = Vec::new();
        for line in lines.by_ref() {
            if line.starts_with('}') {
                break;
            }
            let (name, ty) = line.split_once("->").expect("column -> Type");
            columns.push((
                name.trim().to_owned(),
                ty.trim().trim_end_matches(',').to_owned(),
            ));
        }
        tables.insert(
            sql_name,
            Table {
                primary_key,
                columns,
            },
        );
    }
    tables
}

/// The diesel type of a database column, as print-schema maps it. SQLite's `INTEGER`
/// serves both `BigInt` and `Bool`, so the schema file's type decides among those.
fn diesel_type(db: Db, sql_type: &str, nullable: bool, declared: &str) -> String {
    let sql_type = sql_type.to_ascii_lowercase();
    let base = match (db, sql_type.as_str()) {
        (Db::Postgres, "text") => "Text",
        (Db::Postgres, "timestamp with time zone") => "Timestamptz",
        (Db::Postgres, "bigint") => "BigInt",
        (Db::Postgres, "boolean") => "Bool",
        (Db::Postgres, "jsonb") => "Jsonb",
        // MariaDB's JSON is a LONGTEXT (checked by JSON_VALID); MySQL's is its own type.
        (Db::MariaDb, "varchar" | "text" | "longtext" | "json") => "Text",
        (Db::MariaDb, "datetime") => "Datetime",
        (Db::MariaDb, "bigint") => "BigInt",
        (Db::MariaDb, "tinyint") => "Bool",
        (Db::Sqlite, "text") => "Text",
        (Db::Sqlite, "integer") if declared.contains("Bool") => "Bool",
        (Db::Sqlite, "integer") => "BigInt",
        (db, other) => panic!("{db:?}: no diesel type for the column type {other:?}"),
    };
    if nullable {
        format!("Nullable<{base}>")
    } else {
        base.to_owned()
    }
}

/// The columns and primary keys of the `auth_` tables, read with a server's
/// information_schema queries: `columns_sql` yields (table, column, type, "YES"/"NO"
/// nullable), `keys_sql` (table, key column).
async fn information_schema<DB>(
    pool: &sqlx::Pool<DB>,
    columns_sql: &'static str,
    keys_sql: &'static str,
) -> (Columns, Keys)
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    <DB as sqlx::Database>::Arguments: sqlx::IntoArguments<DB>,
    String: sqlx::Type<DB> + for<'r> sqlx::Decode<'r, DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
    let columns = sqlx::query(columns_sql)
        .fetch_all(pool)
        .await
        .expect("columns")
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get::<String, _>(3) == "YES"))
        .collect();
    let keys = sqlx::query(keys_sql)
        .fetch_all(pool)
        .await
        .expect("keys")
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    (columns, keys)
}

async fn migrated_tables(
    fresh: &Fresh,
    declared: &BTreeMap<String, Table>,
) -> BTreeMap<String, Table> {
    let adapter = DieselAdapter::connect(&fresh.url).await.expect("connect");
    adapter.migrate().await.expect("migrate");
    adapter.close().await;
    let declared_type = |table: &str, column: &str| -> String {
        declared
            .get(table)
            .and_then(|t| t.columns.iter().find(|(c, _)| c == column))
            .map(|(_, ty)| ty.clone())
            .unwrap_or_default()
    };
    let mut tables: BTreeMap<String, Table> = BTreeMap::new();
    let (columns, keys): (Columns, Keys) = match fresh.db {
        Db::Postgres => {
            let pool = sqlx::PgPool::connect(&fresh.url).await.expect("inspect");
            let read = information_schema(
                &pool,
                "SELECT table_name::text, column_name::text, data_type::text, is_nullable::text \
                     FROM information_schema.columns \
                     WHERE table_schema = 'public' AND table_name LIKE 'auth\\_%' \
                     ORDER BY table_name, ordinal_position",
                "SELECT tc.table_name::text, kcu.column_name::text \
                     FROM information_schema.table_constraints tc \
                     JOIN information_schema.key_column_usage kcu \
                       ON kcu.constraint_name = tc.constraint_name \
                      AND kcu.table_schema = tc.table_schema \
                     WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema = 'public' \
                       AND tc.table_name LIKE 'auth\\_%' \
                     ORDER BY tc.table_name, kcu.ordinal_position",
            )
            .await;
            pool.close().await;
            read
        }
        Db::MariaDb => {
            let pool = sqlx::MySqlPool::connect(&fresh.url).await.expect("inspect");
            let read = information_schema(
                &pool,
                "SELECT CAST(TABLE_NAME AS CHAR), CAST(COLUMN_NAME AS CHAR), \
                     CAST(DATA_TYPE AS CHAR), CAST(IS_NULLABLE AS CHAR) \
                     FROM information_schema.COLUMNS \
                     WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME LIKE 'auth\\_%' \
                     ORDER BY TABLE_NAME, ORDINAL_POSITION",
                "SELECT CAST(TABLE_NAME AS CHAR), CAST(COLUMN_NAME AS CHAR) \
                     FROM information_schema.KEY_COLUMN_USAGE \
                     WHERE TABLE_SCHEMA = DATABASE() AND CONSTRAINT_NAME = 'PRIMARY' \
                       AND TABLE_NAME LIKE 'auth\\_%' \
                     ORDER BY TABLE_NAME, ORDINAL_POSITION",
            )
            .await;
            pool.close().await;
            read
        }
        Db::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&fresh.sqlx_url)
                .await
                .expect("inspect");
            let names: Vec<String> = sqlx::query_scalar(
                "SELECT name FROM sqlite_master WHERE type = 'table' \
                     AND name LIKE 'auth\\_%' ESCAPE '\\' ORDER BY name",
            )
            .fetch_all(&pool)
            .await
            .expect("tables");
            let mut columns = Vec::new();
            let mut keys = Vec::new();
            for table in names {
                let rows = sqlx::query(
                    "SELECT name, type, \"notnull\", pk FROM pragma_table_info(?) ORDER BY cid",
                )
                .bind(&table)
                .fetch_all(&pool)
                .await
                .expect("pragma_table_info");
                let mut pk: Vec<(i64, String)> = Vec::new();
                for r in rows {
                    let name: String = r.get(0);
                    let notnull: i64 = r.get(2);
                    let key: i64 = r.get(3);
                    if key > 0 {
                        pk.push((key, name.clone()));
                    }
                    columns.push((table.clone(), name, r.get(1), notnull == 0 && key == 0));
                }
                pk.sort();
                keys.extend(pk.into_iter().map(|(_, name)| (table.clone(), name)));
            }
            pool.close().await;
            (columns, keys)
        }
    };
    for (table, column, sql_type, nullable) in columns {
        let ty = diesel_type(
            fresh.db,
            &sql_type,
            nullable,
            &declared_type(&table, &column),
        );
        tables
            .entry(table)
            .or_insert_with(|| Table {
                primary_key: Vec::new(),
                columns: Vec::new(),
            })
            .columns
            .push((column, ty));
    }
    for (table, column) in keys {
        if let Some(t) = tables.get_mut(&table) {
            t.primary_key.push(column);
        }
    }
    tables
}

async fn check(db: Db, schema_file: &str) {
    let Some(fresh) = Fresh::new(db).await else {
        return;
    };
    let declared = parse_schema(schema_file);
    assert_eq!(declared.len(), 5, "{db:?}: five tables in schema.rs");
    let mut migrated = migrated_tables(&fresh, &declared).await;
    // The shared migration history (auth-sql's) has no `table!`: diesel reads it with
    // `sql_query` only.
    let history = migrated.remove("auth_schema_migrations");
    assert_eq!(
        history.map(|t| t.primary_key),
        Some(vec!["version".to_owned()]),
        "{db:?}: the shared history is there"
    );
    assert_eq!(
        migrated, declared,
        "{db:?}: the migration and src/schema disagree (left: database, right: schema.rs)"
    );
    fresh.remove().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_schema_matches_the_migration() {
    check(Db::Postgres, &dialect_tables("Timestamptz", "Jsonb")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_schema_matches_the_migration() {
    check(Db::MariaDb, &dialect_tables("Datetime", "Text")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_schema_matches_the_migration() {
    check(Db::Sqlite, &dialect_tables("BigInt", "Text")).await;
}

/// The tables file with a dialect's types for its `Stamp` and `Json` aliases.
fn dialect_tables(stamp: &str, json: &str) -> String {
    TABLES.replace("Stamp", stamp).replace("Json", json)
}

#[test]
fn the_parser_reads_what_print_schema_writes() {
    let tables = parse_schema(&dialect_tables("BigInt", "Text"));
    let sessions = &tables["auth_sessions"];
    assert_eq!(sessions.primary_key, ["session_token"]);
    assert_eq!(
        sessions.columns,
        [
            ("session_token".to_owned(), "Text".to_owned()),
            ("user_id".to_owned(), "Text".to_owned()),
            ("expires".to_owned(), "BigInt".to_owned()),
            ("extra".to_owned(), "Nullable<Text>".to_owned()),
        ]
    );
    assert_eq!(
        tables["auth_accounts"].primary_key,
        ["provider", "provider_account_id"]
    );
}
