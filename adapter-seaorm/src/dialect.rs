//! [`Dialect`]: which database an adapter talks to, and which statements it can run that
//! way (`RETURNING`), written once.

/// The database an adapter talks to, detected when it connects, from
/// [`SeaOrmAdapter::dialect`](crate::SeaOrmAdapter::dialect). The same variants as
/// adapter-sqlx's `Dialect` (whose schema this crate shares).
///
/// ```
/// use adapter_seaorm::Dialect;
/// assert!(Dialect::MariaDb { major: 10, minor: 11 }.delete_returning());
/// assert!(!Dialect::MariaDb { major: 10, minor: 4 }.delete_returning());
/// assert!(!Dialect::MySql { major: 8, minor: 0 }.delete_returning());
/// assert!(Dialect::Sqlite.update_returning());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Dialect {
    /// PostgreSQL.
    Postgres,
    /// MariaDB, with its server version.
    MariaDb {
        /// Major version, e.g. 10.
        major: u32,
        /// Minor version, e.g. 11.
        minor: u32,
    },
    /// MySQL, with its server version.
    MySql {
        /// Major version, e.g. 8.
        major: u32,
        /// Minor version.
        minor: u32,
    },
    /// SQLite (bundled with sqlx).
    Sqlite,
}

impl Dialect {
    /// Parses MySQL's `SELECT VERSION()`, e.g. `10.11.6-MariaDB-log` or `8.0.36`.
    ///
    /// ```
    /// use adapter_seaorm::Dialect;
    /// assert_eq!(
    ///     Dialect::from_mysql_version("10.11.19-MariaDB-0+deb12u1"),
    ///     Dialect::MariaDb { major: 10, minor: 11 }
    /// );
    /// assert_eq!(Dialect::from_mysql_version("8.0.36"), Dialect::MySql { major: 8, minor: 0 });
    /// ```
    pub fn from_mysql_version(version: &str) -> Self {
        let mut numbers = version
            .split(|c: char| !c.is_ascii_digit())
            .map(|part| part.parse::<u32>().unwrap_or(0));
        let major = numbers.next().unwrap_or(0);
        let minor = numbers.next().unwrap_or(0);
        if version.to_ascii_lowercase().contains("mariadb") {
            Dialect::MariaDb { major, minor }
        } else {
            Dialect::MySql { major, minor }
        }
    }

    /// A short name: `postgres`, `mariadb`, `mysql` or `sqlite`.
    ///
    /// ```
    /// assert_eq!(adapter_seaorm::Dialect::Postgres.name(), "postgres");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Postgres => "postgres",
            Dialect::MariaDb { .. } => "mariadb",
            Dialect::MySql { .. } => "mysql",
            Dialect::Sqlite => "sqlite",
        }
    }

    /// Whether `DELETE … RETURNING` exists: PostgreSQL, SQLite, MariaDB 10.5 and later.
    ///
    /// ```
    /// assert!(adapter_seaorm::Dialect::Postgres.delete_returning());
    /// ```
    pub fn delete_returning(self) -> bool {
        match self {
            Dialect::Postgres | Dialect::Sqlite => true,
            Dialect::MariaDb { major, minor } => (major, minor) >= (10, 5),
            Dialect::MySql { .. } => false,
        }
    }

    /// Whether `UPDATE … RETURNING` exists: PostgreSQL and SQLite.
    ///
    /// ```
    /// assert!(!adapter_seaorm::Dialect::MariaDb { major: 11, minor: 4 }.update_returning());
    /// ```
    pub fn update_returning(self) -> bool {
        matches!(self, Dialect::Postgres | Dialect::Sqlite)
    }
}
