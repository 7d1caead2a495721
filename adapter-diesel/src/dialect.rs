//! [`Dialect`]: which database an adapter talks to, picked from the URL scheme.

/// The database of an adapter (and of its [`DieselPool`](crate::DieselPool)).
///
/// ```
/// use adapter_diesel::Dialect;
/// assert_eq!(Dialect::from_url("postgres://db/app"), Some(Dialect::Postgres));
/// assert_eq!(Dialect::from_url("mariadb://db/app"), Some(Dialect::Mysql));
/// assert_eq!(Dialect::from_url("sqlite::memory:"), Some(Dialect::Sqlite));
/// assert_eq!(Dialect::from_url("redis://db"), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Dialect {
    /// PostgreSQL (cargo feature `postgres`).
    Postgres,
    /// MariaDB or MySQL (cargo feature `mysql`).
    Mysql,
    /// SQLite (cargo feature `sqlite`, on by default).
    Sqlite,
}

impl Dialect {
    /// The dialect a URL's scheme names, whether or not its feature is compiled in:
    /// `postgres://`/`postgresql://`, `mysql://`/`mariadb://`, `sqlite:`/`file:`.
    pub fn from_url(url: &str) -> Option<Self> {
        let scheme = url.split_once(':').map_or("", |(scheme, _)| scheme);
        match scheme {
            "postgres" | "postgresql" => Some(Dialect::Postgres),
            "mysql" | "mariadb" => Some(Dialect::Mysql),
            "sqlite" | "file" => Some(Dialect::Sqlite),
            _ => None,
        }
    }

    /// A short name: `postgres`, `mysql` or `sqlite`.
    ///
    /// ```
    /// assert_eq!(adapter_diesel::Dialect::Mysql.name(), "mysql");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Postgres => "postgres",
            Dialect::Mysql => "mysql",
            Dialect::Sqlite => "sqlite",
        }
    }

    /// The cargo feature of this crate that enables the dialect.
    ///
    /// ```
    /// assert_eq!(adapter_diesel::Dialect::Postgres.feature(), "postgres");
    /// ```
    pub fn feature(self) -> &'static str {
        self.name()
    }

    /// Whether this build of the crate has the dialect's feature.
    ///
    /// ```
    /// assert!(adapter_diesel::Dialect::Sqlite.enabled() == cfg!(feature = "sqlite"));
    /// ```
    pub fn enabled(self) -> bool {
        match self {
            Dialect::Postgres => cfg!(feature = "postgres"),
            Dialect::Mysql => cfg!(feature = "mysql"),
            Dialect::Sqlite => cfg!(feature = "sqlite"),
        }
    }
}
