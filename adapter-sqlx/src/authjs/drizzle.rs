//! The @auth/drizzle-adapter default schema on PostgreSQL, MySQL/MariaDB and SQLite: its
//! tables (`user`, `account`, `session`, `verificationToken`, `authenticator`) as
//! drizzle-kit creates them from the package's `defineTables`, the additions its adapter
//! tolerates, and our statements on them.
//!
//! Ids are text given by the application (Drizzle's default is `crypto.randomUUID()`), so
//! the id given to `create_user` is kept. Timestamps are stored as Drizzle stores them:
//! `timestamp` without time zone holding UTC (PostgreSQL; converted in the statements, so
//! the session time zone never matters), `TIMESTAMP(3)` (MySQL, read and written in the
//! connection's `+00:00`), or integer milliseconds (SQLite).

use super::{select_list, ExtraColumns};
use crate::dialect::{Change, Dialect, ExtraStorage, Statements, Take};
use crate::layout::Ids;

/// PostgreSQL's schema: drizzle-kit's DDL for the default tables (`IF NOT EXISTS`), then
/// our additions, indexes only: a unique index on the trimmed, lowercased email (Drizzle's
/// own unique constraint is exact), and indexes on every `"userId"` and `expires`.
const PG_SCHEMA: &str = r#"
SELECT pg_advisory_xact_lock(7432150002);

CREATE TABLE IF NOT EXISTS "user" (
  "id" text PRIMARY KEY NOT NULL,
  "name" text,
  "email" text,
  "emailVerified" timestamp,
  "image" text,
  CONSTRAINT "user_email_unique" UNIQUE("email")
);

CREATE TABLE IF NOT EXISTS "account" (
  "userId" text NOT NULL,
  "type" text NOT NULL,
  "provider" text NOT NULL,
  "providerAccountId" text NOT NULL,
  "refresh_token" text,
  "access_token" text,
  "expires_at" integer,
  "token_type" text,
  "scope" text,
  "id_token" text,
  "session_state" text,
  CONSTRAINT "account_provider_providerAccountId_pk" PRIMARY KEY("provider","providerAccountId"),
  CONSTRAINT "account_userId_user_id_fk" FOREIGN KEY ("userId") REFERENCES "user"("id") ON DELETE cascade
);

CREATE TABLE IF NOT EXISTS "session" (
  "sessionToken" text PRIMARY KEY NOT NULL,
  "userId" text NOT NULL,
  "expires" timestamp NOT NULL,
  CONSTRAINT "session_userId_user_id_fk" FOREIGN KEY ("userId") REFERENCES "user"("id") ON DELETE cascade
);

CREATE TABLE IF NOT EXISTS "verificationToken" (
  "identifier" text NOT NULL,
  "token" text NOT NULL,
  "expires" timestamp NOT NULL,
  CONSTRAINT "verificationToken_identifier_token_pk" PRIMARY KEY("identifier","token")
);

CREATE TABLE IF NOT EXISTS "authenticator" (
  "credentialID" text NOT NULL,
  "userId" text NOT NULL,
  "providerAccountId" text NOT NULL,
  "credentialPublicKey" text NOT NULL,
  "counter" integer NOT NULL,
  "credentialDeviceType" text NOT NULL,
  "credentialBackedUp" boolean NOT NULL,
  "transports" text,
  CONSTRAINT "authenticator_userId_credentialID_pk" PRIMARY KEY("userId","credentialID"),
  CONSTRAINT "authenticator_credentialID_unique" UNIQUE("credentialID"),
  CONSTRAINT "authenticator_userId_user_id_fk" FOREIGN KEY ("userId") REFERENCES "user"("id") ON DELETE cascade
);

CREATE UNIQUE INDEX IF NOT EXISTS "user_email_key_idx"
  ON "user" (lower(btrim("email", E' \t\n\r\f\x0b')));
CREATE INDEX IF NOT EXISTS "account_userId_idx" ON "account" ("userId");
CREATE INDEX IF NOT EXISTS "session_userId_idx" ON "session" ("userId");
CREATE INDEX IF NOT EXISTS "session_expires_idx" ON "session" ("expires");
CREATE INDEX IF NOT EXISTS "verificationToken_expires_idx" ON "verificationToken" ("expires");
"#;

/// SQLite's schema: drizzle-kit's DDL (`IF NOT EXISTS`), then the same additions. SQLite's
/// `lower()` folds ASCII letters only.
const SQLITE_SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS `user` (
  `id` text PRIMARY KEY NOT NULL,
  `name` text,
  `email` text,
  `emailVerified` integer,
  `image` text
);
CREATE UNIQUE INDEX IF NOT EXISTS `user_email_unique` ON `user` (`email`);

CREATE TABLE IF NOT EXISTS `account` (
  `userId` text NOT NULL,
  `type` text NOT NULL,
  `provider` text NOT NULL,
  `providerAccountId` text NOT NULL,
  `refresh_token` text,
  `access_token` text,
  `expires_at` integer,
  `token_type` text,
  `scope` text,
  `id_token` text,
  `session_state` text,
  PRIMARY KEY(`provider`, `providerAccountId`),
  FOREIGN KEY (`userId`) REFERENCES `user`(`id`) ON UPDATE no action ON DELETE cascade
);

CREATE TABLE IF NOT EXISTS `session` (
  `sessionToken` text PRIMARY KEY NOT NULL,
  `userId` text NOT NULL,
  `expires` integer NOT NULL,
  FOREIGN KEY (`userId`) REFERENCES `user`(`id`) ON UPDATE no action ON DELETE cascade
);

CREATE TABLE IF NOT EXISTS `verificationToken` (
  `identifier` text NOT NULL,
  `token` text NOT NULL,
  `expires` integer NOT NULL,
  PRIMARY KEY(`identifier`, `token`)
);

CREATE TABLE IF NOT EXISTS `authenticator` (
  `credentialID` text NOT NULL,
  `userId` text NOT NULL,
  `providerAccountId` text NOT NULL,
  `credentialPublicKey` text NOT NULL,
  `counter` integer NOT NULL,
  `credentialDeviceType` text NOT NULL,
  `credentialBackedUp` integer NOT NULL,
  `transports` text,
  PRIMARY KEY(`userId`, `credentialID`),
  FOREIGN KEY (`userId`) REFERENCES `user`(`id`) ON UPDATE no action ON DELETE cascade
);
CREATE UNIQUE INDEX IF NOT EXISTS `authenticator_credentialID_unique` ON `authenticator` (`credentialID`);

CREATE UNIQUE INDEX IF NOT EXISTS `user_email_key_idx` ON `user` (lower(trim(`email`, ' ' || char(9, 10, 13, 12, 11))));
CREATE INDEX IF NOT EXISTS `account_userId_idx` ON `account` (`userId`);
CREATE INDEX IF NOT EXISTS `session_userId_idx` ON `session` (`userId`);
CREATE INDEX IF NOT EXISTS `session_expires_idx` ON `session` (`expires`);
CREATE INDEX IF NOT EXISTS `verificationToken_expires_idx` ON `verificationToken` (`expires`);
"#;

/// MariaDB's schema: drizzle-kit's DDL for the MySQL tables (`IF NOT EXISTS`; the
/// columns take the database's default character set and collation, as drizzle-kit leaves
/// them), then indexes on `expires`. MariaDB has no expression indexes, so emails are as
/// case-insensitive as the column's collation (MariaDB's default `utf8mb4_general_ci` is);
/// the foreign keys index every `userId` already.
const MARIADB_SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS `user` (
  `id` varchar(255) NOT NULL,
  `name` varchar(255),
  `email` varchar(255),
  `emailVerified` timestamp(3),
  `image` varchar(255),
  CONSTRAINT `user_id` PRIMARY KEY(`id`),
  CONSTRAINT `user_email_unique` UNIQUE(`email`)
);

CREATE TABLE IF NOT EXISTS `account` (
  `userId` varchar(255) NOT NULL,
  `type` varchar(255) NOT NULL,
  `provider` varchar(255) NOT NULL,
  `providerAccountId` varchar(255) NOT NULL,
  `refresh_token` varchar(255),
  `access_token` varchar(255),
  `expires_at` int,
  `token_type` varchar(255),
  `scope` varchar(255),
  `id_token` varchar(2048),
  `session_state` varchar(255),
  CONSTRAINT `account_provider_providerAccountId_pk` PRIMARY KEY(`provider`,`providerAccountId`),
  CONSTRAINT `account_userId_user_id_fk` FOREIGN KEY (`userId`) REFERENCES `user`(`id`) ON DELETE cascade ON UPDATE no action
);

CREATE TABLE IF NOT EXISTS `session` (
  `sessionToken` varchar(255) NOT NULL,
  `userId` varchar(255) NOT NULL,
  `expires` timestamp NOT NULL,
  CONSTRAINT `session_sessionToken` PRIMARY KEY(`sessionToken`),
  CONSTRAINT `session_userId_user_id_fk` FOREIGN KEY (`userId`) REFERENCES `user`(`id`) ON DELETE cascade ON UPDATE no action
);

CREATE TABLE IF NOT EXISTS `verificationToken` (
  `identifier` varchar(255) NOT NULL,
  `token` varchar(255) NOT NULL,
  `expires` timestamp NOT NULL,
  CONSTRAINT `verificationToken_identifier_token_pk` PRIMARY KEY(`identifier`,`token`)
);

CREATE TABLE IF NOT EXISTS `authenticator` (
  `credentialID` varchar(255) NOT NULL,
  `userId` varchar(255) NOT NULL,
  `providerAccountId` varchar(255) NOT NULL,
  `credentialPublicKey` varchar(255) NOT NULL,
  `counter` int NOT NULL,
  `credentialDeviceType` varchar(255) NOT NULL,
  `credentialBackedUp` boolean NOT NULL,
  `transports` varchar(255),
  CONSTRAINT `authenticator_userId_credentialID_pk` PRIMARY KEY(`userId`,`credentialID`),
  CONSTRAINT `authenticator_credentialID_unique` UNIQUE(`credentialID`),
  CONSTRAINT `authenticator_userId_user_id_fk` FOREIGN KEY (`userId`) REFERENCES `user`(`id`) ON DELETE cascade ON UPDATE no action
);

CREATE INDEX IF NOT EXISTS `session_expires_idx` ON `session` (`expires`);
CREATE INDEX IF NOT EXISTS `verificationToken_expires_idx` ON `verificationToken` (`expires`);
"#;

/// The schema of `dialect`, or `None` where the layout is not written (MySQL 8, whose
/// `CREATE INDEX` has no `IF NOT EXISTS`).
pub(super) fn schema(dialect: Dialect) -> Option<&'static str> {
    match dialect {
        Dialect::Postgres => Some(PG_SCHEMA),
        Dialect::Sqlite => Some(SQLITE_SCHEMA),
        Dialect::MariaDb { .. } => Some(MARIADB_SCHEMA),
        _ => None,
    }
}

/// Our statements on the Drizzle tables of `dialect`, reading the app-added `columns` too.
pub(super) fn statements(d: Dialect, columns: &ExtraColumns) -> Statements {
    let pg = d == Dialect::Postgres;
    let mysql = matches!(d, Dialect::MariaDb { .. } | Dialect::MySql { .. });
    // A bound instant, and a stored one read back, as the dialect's native stamp: on
    // PostgreSQL Drizzle's `timestamp` holds UTC wall-clock time.
    let at = if pg {
        "(CAST(? AS timestamptz) AT TIME ZONE 'UTC')"
    } else {
        "?"
    };
    let read = |column: &str| -> String {
        if pg {
            format!("({column} AT TIME ZONE 'UTC')")
        } else if mysql {
            // sqlx decodes `DATETIME` into the naive stamp; the connection's zone is UTC.
            format!("CAST({column} AS DATETIME(3))")
        } else {
            column.to_owned()
        }
    };
    // Integer columns read as the 64-bit integers the rows hold.
    let int = |column: &str| -> String {
        if pg {
            format!("CAST({column} AS BIGINT)")
        } else if mysql {
            format!("CAST({column} AS SIGNED)")
        } else {
            column.to_owned()
        }
    };
    let email_key = if pg {
        r#"lower(btrim("email", E' \t\n\r\f\x0b'))"#
    } else if mysql {
        // No expression index on MariaDB: the column's (case-insensitive) collation.
        r#""email""#
    } else {
        r#"lower(trim("email", ' ' || char(9, 10, 13, 12, 11)))"#
    };
    // No extra column (yet): a typed NULL where the rows read one.
    let none = if pg { "CAST(NULL AS text)" } else { "NULL" };
    let user = format!(
        r#"u."id" AS id, u."email" AS email, {} AS email_verified, u."name" AS name, u."image" AS image, {none} AS extra{}"#,
        read(r#"u."emailVerified""#),
        select_list(d, &columns.users, "u.", "xu")
    );
    let account = format!(
        r#""userId" AS user_id, "type" AS account_type, "provider" AS provider,
           "providerAccountId" AS provider_account_id, "refresh_token" AS refresh_token,
           "access_token" AS access_token, {} AS expires_at, "token_type" AS token_type,
           "scope" AS scope, "id_token" AS id_token, "session_state" AS session_state,
           {none} AS extra{}"#,
        int(r#""expires_at""#),
        select_list(d, &columns.accounts, "", "xa")
    );
    let session = format!(
        r#""sessionToken" AS session_token, "userId" AS user_id, {} AS expires, {none} AS extra{}"#,
        read(r#""expires""#),
        select_list(d, &columns.sessions, "", "xs")
    );
    let token = format!(
        r#""identifier" AS identifier, "token" AS token, {} AS expires"#,
        read(r#""expires""#)
    );
    let authenticator = format!(
        r#""credentialID" AS credential_id, "userId" AS user_id,
           "providerAccountId" AS provider_account_id,
           "credentialPublicKey" AS credential_public_key, {} AS counter,
           "credentialDeviceType" AS credential_device_type,
           "credentialBackedUp" AS credential_backed_up, "transports" AS transports"#,
        int(r#""counter""#)
    );
    // The templates quote identifiers with `"`; MySQL's quote is the backtick.
    let s = |template: &str| {
        let template = if mysql {
            template.replace('"', "`")
        } else {
            template.to_owned()
        };
        crate::dialect::sql(d.render("", &template))
    };
    let take = |table_and_key: &str, columns: &str| Take::new(d, s, table_and_key, columns);
    let change = |table: &str, set: &str, key: &str, columns: &str| {
        Change::new(d, s, table, set, key, columns)
    };
    // `RETURNING` lists of a single table name its columns without the `u.` alias.
    let user_plain = user.replace("u.", "");
    Statements {
        ids: Ids::Given,
        binds_email_key: false,
        extra: ExtraStorage::Columns(columns.clone()),
        begin_write: s(d.begin_write()),
        transaction_check: None,
        create_user: s(&format!(
            r#"INSERT INTO "user" ("id", "email", "emailVerified", "name", "image")
               VALUES (?, ?, {at}, ?, ?)"#
        )),
        get_user: s(&format!(r#"SELECT {user} FROM "user" u WHERE u."id" = ?"#)),
        get_user_by_email: s(&format!(
            r#"SELECT {user} FROM "user" u WHERE {} = ?"#,
            email_key.replace(r#""email""#, r#"u."email""#)
        )),
        get_user_by_account: s(&format!(
            r#"SELECT {user} FROM "account" a JOIN "user" u ON u."id" = a."userId"
               WHERE a."provider" = ? AND a."providerAccountId" = ?"#
        )),
        lock_user: s(&format!(
            r#"SELECT {user_plain} FROM "user" WHERE "id" = ?{}"#,
            d.lock_rows()
        )),
        update_user: change(
            r#""user""#,
            &format!(
                r#""email" = CASE WHEN ? THEN ? ELSE "email" END,
                   "emailVerified" = CASE WHEN ? THEN {at} ELSE "emailVerified" END,
                   "name" = CASE WHEN ? THEN ? ELSE "name" END,
                   "image" = CASE WHEN ? THEN ? ELSE "image" END"#
            ),
            r#""id" = ?"#,
            &user_plain,
        ),
        delete_user: take(r#""user" WHERE "id" = ?"#, &user_plain),
        link_account: s(
            r#"INSERT INTO "account" ("userId", "type", "provider", "providerAccountId",
                 "refresh_token", "access_token", "expires_at", "token_type", "scope",
                 "id_token", "session_state")
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"#,
        ),
        get_account: s(&format!(
            r#"SELECT {account} FROM "account" WHERE "provider" = ? AND "providerAccountId" = ?"#
        )),
        unlink_account: take(
            r#""account" WHERE "provider" = ? AND "providerAccountId" = ?"#,
            &account,
        ),
        update_account: change(
            r#""account""#,
            r#""refresh_token" = ?, "access_token" = ?, "expires_at" = ?, "token_type" = ?,
               "scope" = ?, "id_token" = ?, "session_state" = ?"#,
            r#""provider" = ? AND "providerAccountId" = ?"#,
            &account,
        ),
        list_accounts: s(&format!(
            r#"SELECT {account} FROM "account" WHERE "userId" = ? ORDER BY "provider""#
        )),
        create_session: s(&format!(
            r#"INSERT INTO "session" ("sessionToken", "userId", "expires") VALUES (?, ?, {at})"#
        )),
        get_session_and_user: s(&format!(
            r#"SELECT {user}, s."sessionToken" AS session_token, {} AS expires,
                 {none} AS session_extra{}
               FROM "session" s JOIN "user" u ON u."id" = s."userId"
               WHERE s."sessionToken" = ? AND s."expires" > {at}"#,
            read(r#"s."expires""#),
            select_list(d, &columns.sessions, "s.", "xs")
        )),
        lock_session: s(&format!(
            r#"SELECT {session} FROM "session" WHERE "sessionToken" = ? AND "expires" > {at}{}"#,
            d.lock_rows()
        )),
        update_session: change(
            r#""session""#,
            &format!(r#""expires" = COALESCE({at}, "expires"), "userId" = COALESCE(?, "userId")"#),
            &format!(r#""sessionToken" = ? AND "expires" > {at}"#),
            &session,
        ),
        delete_session: take(r#""session" WHERE "sessionToken" = ?"#, &session),
        list_sessions: s(&format!(
            r#"SELECT {session} FROM "session" WHERE "userId" = ? AND "expires" > {at}"#
        )),
        delete_sessions: s(&format!(
            r#"DELETE FROM "session" WHERE "userId" = ? AND "expires" > {at}"#
        )),
        create_verification_token: s(&format!(
            r#"INSERT INTO "verificationToken" ("identifier", "token", "expires")
               VALUES (?, ?, {at})"#
        )),
        use_verification_token: take(
            r#""verificationToken" WHERE "identifier" = ? AND "token" = ?"#,
            &token,
        ),
        create_authenticator: s(r#"INSERT INTO "authenticator" ("credentialID", "userId",
               "providerAccountId", "credentialPublicKey", "counter", "credentialDeviceType",
               "credentialBackedUp", "transports")
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)"#),
        get_authenticator: s(&format!(
            r#"SELECT {authenticator} FROM "authenticator" WHERE "credentialID" = ?"#
        )),
        list_authenticators: s(&format!(
            r#"SELECT {authenticator} FROM "authenticator" WHERE "userId" = ?
               ORDER BY "credentialID""#
        )),
        update_authenticator_counter: change(
            r#""authenticator""#,
            r#""counter" = ?"#,
            r#""credentialID" = ?"#,
            &authenticator,
        ),
        delete_authenticator: take(
            r#""authenticator" WHERE "credentialID" = ?"#,
            &authenticator,
        ),
        delete_expired_sessions: s(&format!(r#"DELETE FROM "session" WHERE "expires" <= {at}"#)),
        delete_expired_tokens: s(&format!(
            r#"DELETE FROM "verificationToken" WHERE "expires" <= {at}"#
        )),
    }
}
