//! The columns an app added to the Auth.js tables of users, accounts and sessions: every
//! column that is not one of the layout's own. They are where such a layout can keep extra
//! fields (one field per column, under the column's name), so they are discovered from the
//! database's catalog when the adapter connects and again at the end of `migrate` (the
//! tables may not exist before it).

use auth_core::serde_json::Value;
use auth_core::{AdapterError, Extra, Operation};

use crate::dialect::Dialect;
use crate::layout::Layout;

/// What JSON kind a column holds, from its declared type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ColumnKind {
    /// `text`, `varchar`, `char`: a JSON string.
    Text,
    /// Any integer type but MariaDB's `TINYINT(1)`: an `i64`.
    Integer,
    /// `real`, `double`, `float`: an `f64`.
    Float,
    /// PostgreSQL `boolean`, MariaDB `TINYINT(1)` (its `BOOLEAN`), SQLite `BOOLEAN`.
    Bool,
    /// `json`, `jsonb`, MariaDB's `JSON` (a `LONGTEXT` checked by `json_valid`), SQLite
    /// columns declared `JSON`: any JSON value.
    Json,
    /// Anything else (`numeric`, dates, …): the string of its text form.
    Other,
}

impl ColumnKind {
    /// The kind of a column declared `declared` (PostgreSQL's `data_type`, MariaDB's
    /// `column_type` or `json`, SQLite's declared type) on `dialect`.
    fn of(dialect: Dialect, declared: &str) -> Self {
        let t = declared.trim().to_ascii_lowercase();
        match dialect {
            Dialect::Postgres => match t.as_str() {
                "text" | "character varying" | "character" => ColumnKind::Text,
                "smallint" | "integer" | "bigint" => ColumnKind::Integer,
                "real" | "double precision" => ColumnKind::Float,
                "boolean" => ColumnKind::Bool,
                "json" | "jsonb" => ColumnKind::Json,
                _ => ColumnKind::Other,
            },
            Dialect::Sqlite => {
                // SQLite's affinity rules, after the names that say more than the affinity.
                if t.starts_with("bool") {
                    ColumnKind::Bool
                } else if t == "json" || t == "jsonb" {
                    ColumnKind::Json
                } else if t.contains("int") {
                    ColumnKind::Integer
                } else if t.contains("char") || t.contains("clob") || t.contains("text") {
                    ColumnKind::Text
                } else if t.contains("real") || t.contains("floa") || t.contains("doub") {
                    ColumnKind::Float
                } else {
                    ColumnKind::Other
                }
            }
            _ => {
                if t.starts_with("tinyint(1)") {
                    ColumnKind::Bool
                } else if t == "json" {
                    ColumnKind::Json
                } else if ["tinyint", "smallint", "mediumint", "int", "bigint"]
                    .iter()
                    .any(|i| t.starts_with(i))
                {
                    ColumnKind::Integer
                } else if t.starts_with("float") || t.starts_with("double") || t.starts_with("real")
                {
                    ColumnKind::Float
                } else if t.contains("char") || t.contains("text") {
                    ColumnKind::Text
                } else {
                    ColumnKind::Other
                }
            }
        }
    }
}

/// One column the app added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ExtraColumn {
    /// The column's name, which is the extra field's name.
    pub name: String,
    /// What it holds.
    pub kind: ColumnKind,
}

/// The columns the app added to the users, accounts and sessions tables, in table order,
/// and the statement setting all of them on one row of each table (`None`: no column).
/// Each `set_*` binds one value per column, in order, then the row's key: the user id,
/// the account's provider and provider account id, the session token.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ExtraColumns {
    pub users: Vec<ExtraColumn>,
    pub accounts: Vec<ExtraColumn>,
    pub sessions: Vec<ExtraColumn>,
    pub set_users: Option<String>,
    pub set_accounts: Option<String>,
    pub set_sessions: Option<String>,
}

/// One value bound to an app-added column: typed also when `NULL`, since PostgreSQL
/// refuses a text `NULL` for an integer column.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ColumnBind {
    Text(Option<String>),
    Integer(Option<i64>),
    Float(Option<f64>),
    Bool(Option<bool>),
}

impl ExtraColumns {
    /// The columns of the table `op` writes extra fields to (users, accounts or sessions).
    pub(crate) fn for_op(&self, op: Operation) -> &[ExtraColumn] {
        self.table_of(op).0
    }

    /// The columns and the setting statement of the table `op` writes.
    pub(crate) fn table_of(&self, op: Operation) -> (&[ExtraColumn], Option<&str>) {
        match op {
            Operation::LinkAccount | Operation::UpdateAccount => {
                (&self.accounts, self.set_accounts.as_deref())
            }
            Operation::CreateSession | Operation::UpdateSession => {
                (&self.sessions, self.set_sessions.as_deref())
            }
            _ => (&self.users, self.set_users.as_deref()),
        }
    }

    /// Refuses (`InvalidInput` with `op`'s code) a non-null field of `fields` that names
    /// no column of `op`'s table, or holds a value of another kind than its column's.
    pub(crate) fn check(&self, op: Operation, fields: &Extra) -> Result<(), AdapterError> {
        let columns = self.for_op(op);
        for (name, value) in fields {
            if value.is_null() {
                continue;
            }
            let Some(column) = columns.iter().find(|c| &c.name == name) else {
                return Err(AdapterError::invalid_input(
                    op,
                    format!(
                        "the extra field {name:?} has no column in this layout's table (an \
                         Auth.js layout keeps extra fields only in columns the app added)"
                    ),
                ));
            };
            bind_of(op, column, Some(value))?;
        }
        Ok(())
    }

    /// The statement and its column values writing `extra` as the whole set of extra fields
    /// of a row of `op`'s table (a column with no field is set to `NULL`), or `None` where
    /// the table has no app-added column.
    pub(crate) fn binds(
        &self,
        op: Operation,
        extra: &Extra,
    ) -> Result<Option<(String, Vec<ColumnBind>)>, AdapterError> {
        self.check(op, extra)?;
        let (columns, set) = self.table_of(op);
        let Some(set) = set else {
            return Ok(None);
        };
        let binds = columns
            .iter()
            .map(|c| bind_of(op, c, extra.get(&c.name)))
            .collect::<Result<_, _>>()?;
        Ok(Some((set.to_owned(), binds)))
    }
}

/// The value bound to `column` for the field `value` (absent or null: `NULL`), or
/// `InvalidInput` when its kind is not the column's.
fn bind_of(
    op: Operation,
    column: &ExtraColumn,
    value: Option<&Value>,
) -> Result<ColumnBind, AdapterError> {
    let value = value.filter(|v| !v.is_null());
    let wrong = || {
        AdapterError::invalid_input(
            op,
            format!(
                "the extra field {:?} does not hold the kind of value its column keeps ({:?})",
                column.name, column.kind
            ),
        )
    };
    Ok(match column.kind {
        ColumnKind::Text => ColumnBind::Text(match value {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(wrong()),
        }),
        ColumnKind::Integer => ColumnBind::Integer(match value {
            None => None,
            Some(v) => Some(v.as_i64().ok_or_else(wrong)?),
        }),
        // Only a float: an integer written there would read back as a float.
        ColumnKind::Float => ColumnBind::Float(match value {
            None => None,
            Some(Value::Number(n)) if n.is_f64() => n.as_f64(),
            Some(_) => return Err(wrong()),
        }),
        ColumnKind::Bool => ColumnBind::Bool(match value {
            None => None,
            Some(v) => Some(v.as_bool().ok_or_else(wrong)?),
        }),
        ColumnKind::Json => ColumnBind::Text(value.map(json_text)),
        // A column of another type has no JSON kind to check a value against.
        ColumnKind::Other => match value {
            None => ColumnBind::Text(None),
            Some(_) => {
                return Err(AdapterError::invalid_input(
                    op,
                    format!(
                        "the extra field {:?} names a column of a type this adapter only \
                         reads (as text)",
                        column.name
                    ),
                ))
            }
        },
    })
}

/// The JSON text of one value, written as the extra column writes its objects (floats in
/// plain decimal with a fraction, so PostgreSQL's `jsonb` reads them back as floats).
fn json_text(value: &Value) -> String {
    let mut wrapper = Extra::new();
    wrapper.insert(String::new(), value.clone());
    // `{"":` … `}`: the value's text is what lies between.
    match auth_sql::extra_column::write(&wrapper) {
        Some(text) if text.len() >= 5 => text[4..text.len() - 1].to_owned(),
        _ => value.to_string(),
    }
}

/// The statement setting `columns` of one row of `table` found by `key` (`?` binds, `"`
/// quotes) on `dialect`, or `None` without columns.
fn set_statement(
    dialect: Dialect,
    table: &str,
    columns: &[ExtraColumn],
    key: &str,
) -> Option<String> {
    if columns.is_empty() {
        return None;
    }
    let pg = dialect == Dialect::Postgres;
    let sets = columns
        .iter()
        .map(|c| {
            let param = if pg && c.kind == ColumnKind::Json {
                // `json` keeps the text; `jsonb` takes it by PostgreSQL's assignment cast.
                "CAST(? AS json)"
            } else {
                "?"
            };
            format!("\"{}\" = {param}", c.name)
        })
        .collect::<Vec<_>>()
        .join(", ");
    let text = format!("UPDATE {table} SET {sets} WHERE {key}");
    let text = if matches!(dialect, Dialect::MariaDb { .. } | Dialect::MySql { .. }) {
        text.replace('"', "`")
    } else {
        text
    };
    Some(dialect.render("", &text))
}

/// A table of a layout: its name and its own columns (the rest were added by the app).
struct Table {
    name: &'static str,
    own: &'static [&'static str],
}

/// The users, accounts and sessions tables of an Auth.js `layout`.
fn tables(layout: Layout) -> [Table; 3] {
    if layout == Layout::AuthJsPg {
        [
            Table {
                name: "users",
                own: &["id", "name", "email", "emailVerified", "image"],
            },
            Table {
                name: "accounts",
                own: &[
                    "id",
                    "userId",
                    "type",
                    "provider",
                    "providerAccountId",
                    "refresh_token",
                    "access_token",
                    "expires_at",
                    "id_token",
                    "scope",
                    "session_state",
                    "token_type",
                ],
            },
            Table {
                name: "sessions",
                own: &["id", "userId", "expires", "sessionToken"],
            },
        ]
    } else {
        [
            Table {
                name: "user",
                own: &["id", "name", "email", "emailVerified", "image"],
            },
            Table {
                name: "account",
                own: &[
                    "userId",
                    "type",
                    "provider",
                    "providerAccountId",
                    "refresh_token",
                    "access_token",
                    "expires_at",
                    "token_type",
                    "scope",
                    "id_token",
                    "session_state",
                ],
            },
            Table {
                name: "session",
                own: &["sessionToken", "userId", "expires"],
            },
        ]
    }
}

/// The catalog query listing `(table, column, declared type)` of the three tables of
/// `layout` on `dialect`, in column order. PostgreSQL: the schema the unqualified table
/// names resolve to (`current_schema()`); MariaDB: the connection's database, a `JSON`
/// column being a `LONGTEXT` with the `json_valid` check MariaDB adds for it.
pub(crate) fn catalog_query(layout: Layout, dialect: Dialect) -> String {
    let [u, a, s] = tables(layout);
    let names = format!("'{}', '{}', '{}'", u.name, a.name, s.name);
    match dialect {
        Dialect::Postgres => format!(
            "SELECT CAST(table_name AS text), CAST(column_name AS text), CAST(data_type AS text)
             FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name IN ({names})
             ORDER BY table_name, ordinal_position"
        ),
        Dialect::Sqlite => format!(
            "SELECT m.name, p.name, p.type
             FROM sqlite_master m JOIN pragma_table_info(m.name) p
             WHERE m.type = 'table' AND m.name IN ({names})
             ORDER BY m.name, p.cid"
        ),
        _ => format!(
            "SELECT CAST(c.TABLE_NAME AS CHAR), CAST(c.COLUMN_NAME AS CHAR),
               CAST(CASE WHEN EXISTS (SELECT 1 FROM information_schema.CHECK_CONSTRAINTS k
                      WHERE k.CONSTRAINT_SCHEMA = c.TABLE_SCHEMA AND k.TABLE_NAME = c.TABLE_NAME
                        AND k.CHECK_CLAUSE = CONCAT('json_valid(`', c.COLUMN_NAME, '`)'))
                    THEN 'json' ELSE c.COLUMN_TYPE END AS CHAR)
             FROM information_schema.COLUMNS c
             WHERE c.TABLE_SCHEMA = DATABASE() AND c.TABLE_NAME IN ({names})
             ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION"
        ),
    }
}

/// The app-added columns from the catalog rows of [`catalog_query`]. A column whose name
/// a statement could not carry safely (a quote, a placeholder or template character) is
/// refused: `op` fails with a backend error naming it, rather than the column being
/// silently left out.
pub(crate) fn from_catalog(
    layout: Layout,
    dialect: Dialect,
    op: Operation,
    rows: Vec<(String, String, String)>,
) -> Result<ExtraColumns, AdapterError> {
    let [u, a, s] = tables(layout);
    let mut found = ExtraColumns::default();
    for (table, column, declared) in rows {
        let (own, into) = if table == u.name {
            (u.own, &mut found.users)
        } else if table == a.name {
            (a.own, &mut found.accounts)
        } else if table == s.name {
            (s.own, &mut found.sessions)
        } else {
            continue;
        };
        if own.contains(&column.as_str()) {
            continue;
        }
        if column.is_empty()
            || column
                .chars()
                .any(|c| matches!(c, '"' | '`' | '\'' | '?' | '$' | '{' | '}' | '.' | '\0'))
        {
            return Err(AdapterError::backend(
                op,
                format!(
                    "the column {column:?} of the table {table} cannot be an extra field's \
                     column (its name has a quote, `?`, `$`, `.` or a brace)"
                ),
            ));
        }
        into.push(ExtraColumn {
            kind: ColumnKind::of(dialect, &declared),
            name: column,
        });
    }
    let (user_table, user_key) = if layout == Layout::AuthJsPg {
        ("users", "id = CAST(CAST(? AS text) AS integer)")
    } else {
        (r#""user""#, r#""id" = ?"#)
    };
    let q = |name: &str| format!("\"{name}\"");
    found.set_users = set_statement(dialect, user_table, &found.users, user_key);
    found.set_accounts = set_statement(
        dialect,
        &q(a.name),
        &found.accounts,
        r#""provider" = ? AND "providerAccountId" = ?"#,
    );
    found.set_sessions = set_statement(
        dialect,
        &q(s.name),
        &found.sessions,
        r#""sessionToken" = ?"#,
    );
    Ok(found)
}

/// The select list (each item led by `, `) reading the app-added `columns` of a row
/// (`qualifier`: `u.` or empty) on `dialect`, each under the alias `<tag>:<kind>:<name>`
/// that [`WithExtra`](crate::rows::WithExtra) decodes by its kind: `tag` is `xu`, `xa` or
/// `xs` (users, accounts, sessions; the session read carries a user's and a session's).
/// Each value is converted in the statement to the one type its kind decodes as, so no
/// driver meets a type it cannot decode. Identifiers are quoted with `"` (the Drizzle
/// templates turn them into backticks on MariaDB).
pub(crate) fn select_list(
    dialect: Dialect,
    columns: &[ExtraColumn],
    qualifier: &str,
    tag: &str,
) -> String {
    let pg = dialect == Dialect::Postgres;
    let sqlite = dialect == Dialect::Sqlite;
    let mut list = String::new();
    for c in columns {
        let col = format!("{qualifier}\"{}\"", c.name);
        let (letter, expr) = match c.kind {
            ColumnKind::Text => ('t', col),
            ColumnKind::Integer if pg => ('i', format!("CAST({col} AS BIGINT)")),
            ColumnKind::Integer if sqlite => ('i', col),
            ColumnKind::Integer => ('i', format!("CAST({col} AS SIGNED)")),
            ColumnKind::Float if pg => ('f', format!("CAST({col} AS double precision)")),
            ColumnKind::Float if sqlite => ('f', col),
            ColumnKind::Float => ('f', format!("CAST({col} AS DOUBLE)")),
            ColumnKind::Bool => ('b', col),
            // PostgreSQL's json/jsonb as text, so serde_json parses it and keeps every number.
            ColumnKind::Json if pg => ('j', format!("CAST({col} AS text)")),
            ColumnKind::Json => ('j', col),
            ColumnKind::Other if pg => ('o', format!("CAST({col} AS text)")),
            ColumnKind::Other if sqlite => ('o', format!("CAST({col} AS TEXT)")),
            ColumnKind::Other => ('o', format!("CAST({col} AS CHAR)")),
        };
        list.push_str(&format!(", {expr} AS \"{tag}:{letter}:{}\"", c.name));
    }
    list
}

#[cfg(test)]
mod tests {
    use super::*;
    use auth_core::serde_json;

    #[test]
    fn a_json_value_is_written_alone_with_plain_floats() {
        assert_eq!(json_text(&Value::from(1e16)), "10000000000000000.0");
        assert_eq!(
            json_text(&serde_json::json!({"a": [1, "é"]})),
            r#"{"a":[1,"é"]}"#
        );
    }

    #[test]
    fn declared_types_give_kinds() {
        use ColumnKind::*;
        for (d, t, k) in [
            (Dialect::Postgres, "text", Text),
            (Dialect::Postgres, "character varying", Text),
            (Dialect::Postgres, "bigint", Integer),
            (Dialect::Postgres, "double precision", Float),
            (Dialect::Postgres, "boolean", Bool),
            (Dialect::Postgres, "jsonb", Json),
            (Dialect::Postgres, "numeric", Other),
            (Dialect::Sqlite, "BOOLEAN", Bool),
            (Dialect::Sqlite, "JSON", Json),
            (Dialect::Sqlite, "BIGINT", Integer),
            (Dialect::Sqlite, "REAL", Float),
            (Dialect::Sqlite, "TEXT", Text),
            (Dialect::Sqlite, "", Other),
        ] {
            assert_eq!(ColumnKind::of(d, t), k, "{t}");
        }
    }

    #[test]
    fn own_columns_are_not_extra() {
        let rows = vec![
            ("users".into(), "email".into(), "text".into()),
            ("users".into(), "role".into(), "text".into()),
            ("sessions".into(), "sessionToken".into(), "text".into()),
            ("sessions".into(), "theme".into(), "jsonb".into()),
        ];
        let found = from_catalog(
            Layout::AuthJsPg,
            Dialect::Postgres,
            Operation::Connect,
            rows,
        )
        .ok();
        let col = |name: &str, kind| ExtraColumn {
            name: name.into(),
            kind,
        };
        let found = found.unwrap_or_default();
        assert_eq!(found.users, vec![col("role", ColumnKind::Text)]);
        assert_eq!(found.accounts, vec![]);
        assert_eq!(found.sessions, vec![col("theme", ColumnKind::Json)]);
        assert_eq!(
            found.set_users.as_deref(),
            Some(r#"UPDATE users SET "role" = $1 WHERE id = CAST(CAST($2 AS text) AS integer)"#)
        );
        assert_eq!(found.set_accounts, None);
    }
}
