//! Timestamps in the form each database stores them ([`auth_sql::Stamp`], as in the other
//! SQL crates), as SeaORM values.

use auth_sql::Stamp;
use chrono::{DateTime, NaiveDateTime, Utc};
use sea_orm::{DbBackend, DbErr, QueryResult, Value};

/// The value to bind for `at` on `backend`.
pub(crate) fn value(backend: DbBackend, at: Option<DateTime<Utc>>) -> Value {
    match backend {
        DbBackend::MySql => at.map(NaiveDateTime::from_utc).into(),
        DbBackend::Sqlite => at.map(i64::from_utc).into(),
        _ => at.into(),
    }
}

/// The (nullable) timestamp in column `col` of `row`.
pub(crate) fn get(
    backend: DbBackend,
    row: &QueryResult,
    col: &str,
) -> Result<Option<DateTime<Utc>>, DbErr> {
    match backend {
        DbBackend::MySql => Ok(row
            .try_get::<Option<NaiveDateTime>>("", col)?
            .and_then(Stamp::to_utc)),
        DbBackend::Sqlite => row
            .try_get::<Option<i64>>("", col)?
            .map(|ms| {
                ms.to_utc().ok_or_else(|| {
                    DbErr::Type(format!("{col}: {ms} ms is not a representable instant"))
                })
            })
            .transpose(),
        _ => row.try_get::<Option<DateTime<Utc>>>("", col),
    }
}

/// The timestamp in the NOT NULL column `col` of `row`.
pub(crate) fn get_required(
    backend: DbBackend,
    row: &QueryResult,
    col: &str,
) -> Result<DateTime<Utc>, DbErr> {
    get(backend, row, col)?.ok_or_else(|| DbErr::Type(format!("{col} is NULL")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_database_gets_its_own_form() {
        let at = DateTime::from_timestamp_millis(-30_578_688_000_123).expect("in range");
        assert_eq!(
            value(DbBackend::Sqlite, Some(at)),
            Value::BigInt(Some(-30_578_688_000_123))
        );
        assert_eq!(
            value(DbBackend::MySql, Some(at)),
            Value::from(Some(at.naive_utc()))
        );
        assert_eq!(value(DbBackend::Postgres, Some(at)), Value::from(Some(at)));
        assert_eq!(value(DbBackend::Sqlite, None), Value::BigInt(None));
    }
}
