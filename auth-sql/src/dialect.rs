//! [`Dialect`]: which SQL database an adapter talks to, and what that database can do.

/// The SQL dialect of a database, detected when an adapter connects (MySQL and MariaDB
/// apart, from the server's `VERSION()`).
///
/// ```
/// use auth_sql::Dialect;
///
/// assert!(Dialect::MariaDb { major: 10, minor: 11 }.delete_returning());
/// assert!(!Dialect::MariaDb { major: 10, minor: 4 }.delete_returning());
/// assert!(!Dialect::MySql { major: 8, minor: 0 }.delete_returning());
/// assert!(Dialect::Postgres.update_returning());
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
    /// SQLite.
    Sqlite,
}

impl Dialect {
    /// Parses the answer of MySQL's `SELECT VERSION()`, e.g. `10.11.6-MariaDB-log` or
    /// `8.0.36`.
    ///
    /// ```
    /// use auth_sql::Dialect;
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
    /// assert_eq!(auth_sql::Dialect::Sqlite.name(), "sqlite");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Postgres => "postgres",
            Dialect::MariaDb { .. } => "mariadb",
            Dialect::MySql { .. } => "mysql",
            Dialect::Sqlite => "sqlite",
        }
    }

    /// Whether this is MySQL or MariaDB (one schema file, one placeholder style).
    ///
    /// ```
    /// use auth_sql::Dialect;
    /// assert!(Dialect::MySql { major: 8, minor: 0 }.is_mysql_family());
    /// assert!(!Dialect::Sqlite.is_mysql_family());
    /// ```
    pub fn is_mysql_family(self) -> bool {
        matches!(self, Dialect::MariaDb { .. } | Dialect::MySql { .. })
    }

    /// Whether `DELETE … RETURNING` exists: PostgreSQL, SQLite, MariaDB 10.5 and later.
    ///
    /// ```
    /// assert!(auth_sql::Dialect::Sqlite.delete_returning());
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
    /// assert!(!auth_sql::Dialect::MariaDb { major: 11, minor: 8 }.update_returning());
    /// ```
    pub fn update_returning(self) -> bool {
        matches!(self, Dialect::Postgres | Dialect::Sqlite)
    }

    /// The statement that opens a write transaction. SQLite takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so two transactions never both read and then deadlock on the
    /// upgrade; the busy timeout queues them instead.
    ///
    /// ```
    /// assert_eq!(auth_sql::Dialect::Sqlite.begin_write(), "BEGIN IMMEDIATE");
    /// ```
    pub fn begin_write(self) -> &'static str {
        match self {
            Dialect::Sqlite => "BEGIN IMMEDIATE",
            _ => "BEGIN",
        }
    }

    /// What locks the rows a `SELECT` reads until the transaction ends (nothing on SQLite,
    /// whose whole database `BEGIN IMMEDIATE` has locked already).
    ///
    /// ```
    /// assert_eq!(auth_sql::Dialect::Postgres.lock_rows(), " FOR UPDATE");
    /// ```
    pub fn lock_rows(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            _ => " FOR UPDATE",
        }
    }

    /// The collation of every MySQL/MariaDB column: binary and NO PAD, so `'a'` and `'a '`
    /// are different keys (`utf8mb4_0900_bin` on MySQL 8, `utf8mb4_nopad_bin` on MariaDB).
    ///
    /// ```
    /// use auth_sql::Dialect;
    /// assert_eq!(Dialect::from_mysql_version("8.0.36").collation(), "utf8mb4_0900_bin");
    /// assert_eq!(Dialect::from_mysql_version("11.8.2-MariaDB").collation(), "utf8mb4_nopad_bin");
    /// ```
    pub fn collation(self) -> &'static str {
        match self {
            Dialect::MySql { .. } => "utf8mb4_0900_bin",
            _ => "utf8mb4_nopad_bin",
        }
    }

    /// Applies the table prefix (`{p}`) to a statement template and, on PostgreSQL, numbers
    /// its `?` placeholders (`$1`, `$2`, …). Templates hold no other `?`.
    ///
    /// ```
    /// use auth_sql::Dialect;
    /// let template = "SELECT id FROM {p}users WHERE id = ? AND email = ?";
    /// assert_eq!(
    ///     Dialect::Postgres.render("auth_", template),
    ///     "SELECT id FROM auth_users WHERE id = $1 AND email = $2"
    /// );
    /// assert_eq!(
    ///     Dialect::Sqlite.render("", template),
    ///     "SELECT id FROM users WHERE id = ? AND email = ?"
    /// );
    /// ```
    pub fn render(self, prefix: &str, template: &str) -> String {
        let sql = template.replace("{p}", prefix);
        if self != Dialect::Postgres {
            return sql;
        }
        let mut out = String::with_capacity(sql.len() + 16);
        let mut n = 0;
        for c in sql.chars() {
            if c == '?' {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            } else {
                out.push(c);
            }
        }
        out
    }
}

/// The dialect a URL's scheme names (`postgres://`/`postgresql://`, `mysql://`/`mariadb://`,
/// `sqlite:`/`file:`), before any connection: MySQL-family URLs give
/// [`Dialect::MySql`] with version 0.0 until the server has said what it is.
///
/// ```
/// use auth_sql::{dialect_of_url, Dialect};
/// assert_eq!(dialect_of_url("postgresql://db/app"), Some(Dialect::Postgres));
/// assert!(dialect_of_url("mariadb://db/app").is_some_and(Dialect::is_mysql_family));
/// assert_eq!(dialect_of_url("redis://db"), None);
/// ```
pub fn dialect_of_url(url: &str) -> Option<Dialect> {
    let scheme = url.split_once(':').map_or("", |(scheme, _)| scheme);
    match scheme {
        "postgres" | "postgresql" => Some(Dialect::Postgres),
        "mysql" | "mariadb" => Some(Dialect::MySql { major: 0, minor: 0 }),
        "sqlite" | "file" => Some(Dialect::Sqlite),
        _ => None,
    }
}
