//! [`Dialect`]: which database an adapter talks to, picked from the URL scheme.

/// The database of an adapter (and of its [`DieselPool`](crate::DieselPool)), from
/// [`DieselAdapter::dialect`](crate::DieselAdapter::dialect). The variants are named as in
/// adapter-sqlx and adapter-seaorm; this crate does not ask a MySQL-family server for its
/// version, so [`MySql`](Dialect::MySql) stands for MariaDB and MySQL alike.
///
/// ```no_run
/// use adapter_diesel::{DieselAdapter, Dialect};
/// # async fn run() -> Result<(), auth_core::AdapterError> {
/// let adapter = DieselAdapter::connect("mariadb://root@127.0.0.1/app").await?;
/// assert_eq!(adapter.dialect(), Dialect::MySql);
/// assert_eq!(adapter.dialect().name(), "mysql");
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Dialect {
    /// PostgreSQL (cargo feature `postgres`).
    Postgres,
    /// MariaDB or MySQL (cargo feature `mysql`).
    MySql,
    /// SQLite (cargo feature `sqlite`, on by default).
    Sqlite,
}

impl Dialect {
    /// The dialect a URL's scheme names, whether or not its feature is compiled in:
    /// `postgres://`/`postgresql://`, `mysql://`/`mariadb://`, `sqlite:`/`file:`.
    pub(crate) fn from_url(url: &str) -> Option<Self> {
        let scheme = url.split_once(':').map_or("", |(scheme, _)| scheme);
        match scheme {
            "postgres" | "postgresql" => Some(Dialect::Postgres),
            "mysql" | "mariadb" => Some(Dialect::MySql),
            "sqlite" | "file" => Some(Dialect::Sqlite),
            _ => None,
        }
    }

    /// A short name: `postgres`, `mysql` or `sqlite`.
    ///
    /// ```
    /// assert_eq!(adapter_diesel::Dialect::MySql.name(), "mysql");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Postgres => "postgres",
            Dialect::MySql => "mysql",
            Dialect::Sqlite => "sqlite",
        }
    }

    /// The cargo feature of this crate that enables the dialect.
    pub(crate) fn feature(self) -> &'static str {
        self.name()
    }

    /// Whether this build of the crate has the dialect's feature.
    pub(crate) fn enabled(self) -> bool {
        match self {
            Dialect::Postgres => cfg!(feature = "postgres"),
            Dialect::MySql => cfg!(feature = "mysql"),
            Dialect::Sqlite => cfg!(feature = "sqlite"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_name_dialects() {
        assert_eq!(
            Dialect::from_url("postgres://db/app"),
            Some(Dialect::Postgres)
        );
        assert_eq!(Dialect::from_url("mariadb://db/app"), Some(Dialect::MySql));
        assert_eq!(Dialect::from_url("sqlite::memory:"), Some(Dialect::Sqlite));
        assert_eq!(Dialect::from_url("redis://db"), None);
        assert_eq!(Dialect::Postgres.feature(), "postgres");
        assert_eq!(Dialect::Sqlite.enabled(), cfg!(feature = "sqlite"));
    }
}
