//! [`Stamp`]: how each database stores an instant, the same in every SQL crate.

use chrono::{DateTime, NaiveDateTime, Utc};

/// How a database stores an instant: `TIMESTAMPTZ` on PostgreSQL ([`DateTime<Utc>`]),
/// `DATETIME(3)` holding UTC on MariaDB/MySQL ([`NaiveDateTime`]: drivers bind a
/// `DateTime<Utc>` as `TIMESTAMP`, whose 1970–2038 range the server would apply), and
/// `INTEGER` milliseconds since the Unix epoch on SQLite (`i64`).
///
/// ```
/// use auth_sql::Stamp;
/// use chrono::DateTime;
///
/// let at = DateTime::from_timestamp_millis(1_700_000_000_123).unwrap();
/// assert_eq!(i64::from_utc(at), 1_700_000_000_123);
/// assert_eq!(i64::from_utc(at).to_utc(), Some(at));
/// assert_eq!(chrono::NaiveDateTime::from_utc(at).to_utc(), Some(at));
/// assert_eq!(i64::MAX.to_utc(), None);
/// ```
pub trait Stamp: Sized + Send {
    /// The stored form of a (millisecond-exact) instant.
    fn from_utc(at: DateTime<Utc>) -> Self;
    /// The instant, or `None` when the stored value is out of chrono's range.
    fn to_utc(self) -> Option<DateTime<Utc>>;
}

/// `TIMESTAMPTZ` on PostgreSQL.
impl Stamp for DateTime<Utc> {
    fn from_utc(at: DateTime<Utc>) -> Self {
        at
    }
    fn to_utc(self) -> Option<DateTime<Utc>> {
        Some(self)
    }
}

/// `DATETIME(3)` holding UTC on MySQL/MariaDB.
impl Stamp for NaiveDateTime {
    fn from_utc(at: DateTime<Utc>) -> Self {
        at.naive_utc()
    }
    fn to_utc(self) -> Option<DateTime<Utc>> {
        Some(self.and_utc())
    }
}

/// `INTEGER` milliseconds since the Unix epoch on SQLite.
impl Stamp for i64 {
    fn from_utc(at: DateTime<Utc>) -> Self {
        at.timestamp_millis()
    }
    fn to_utc(self) -> Option<DateTime<Utc>> {
        DateTime::from_timestamp_millis(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_round_trips_to_the_millisecond() {
        // 1001-01-01, before the Unix epoch and TIMESTAMP's range.
        let at = DateTime::from_timestamp_millis(-30_578_688_000_123).unwrap_or_default();
        assert_eq!(i64::from_utc(at), -30_578_688_000_123);
        assert_eq!(i64::from_utc(at).to_utc(), Some(at));
        assert_eq!(NaiveDateTime::from_utc(at).to_utc(), Some(at));
        assert_eq!(<DateTime<Utc> as Stamp>::from_utc(at).to_utc(), Some(at));
    }
}
