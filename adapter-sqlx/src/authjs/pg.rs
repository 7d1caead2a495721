//! The @auth/pg-adapter layout on PostgreSQL: its schema (`schema.sql` of the package, as
//! shipped, with `IF NOT EXISTS`), the additions its adapter tolerates, and our statements
//! on it.
//!
//! User ids are `SERIAL`: bound as text (already checked to be a decimal `i32` in Rust) and
//! cast in the statement, read back with `::text`. Every statement aliases the Auth.js
//! columns to this crate's row names, so the rows decode with the native row types.

use super::{select_list, ExtraColumns};
use crate::dialect::{Change, Dialect, ExtraStorage, Statements, Take};
use crate::layout::Ids;

/// `users` as the native rows name its columns.
const USER: &str =
    r#"id::text AS id, email, "emailVerified" AS email_verified, name, image, NULL::text AS extra"#;
const USER_U: &str = r#"u.id::text AS id, u.email, u."emailVerified" AS email_verified, u.name, u.image, NULL::text AS extra"#;
const ACCOUNT: &str = r#""userId"::text AS user_id, type AS account_type, provider, "providerAccountId" AS provider_account_id, refresh_token, access_token, expires_at, token_type, scope, id_token, session_state, NULL::text AS extra"#;
const SESSION: &str =
    r#""sessionToken" AS session_token, "userId"::text AS user_id, expires, NULL::text AS extra"#;
const TOKEN: &str = "identifier, token, expires";
const AUTHENTICATOR: &str = r#""credentialID" AS credential_id, "userId"::text AS user_id, "providerAccountId" AS provider_account_id, "credentialPublicKey" AS credential_public_key, counter, "credentialDeviceType" AS credential_device_type, "credentialBackedUp" AS credential_backed_up, transports"#;

/// The email lookup key, as the unique index computes it: trimmed (ASCII whitespace, as
/// [`auth_core::normalize_email`] trims) and lowercased by PostgreSQL.
const EMAIL_KEY: &str = r"lower(btrim(email, E' \t\n\r\f\x0b'))";

/// The schema: @auth/pg-adapter's `schema.sql` verbatim (but `IF NOT EXISTS`), then our
/// additions, each one something the Node adapter never trips on (its statements and their
/// order are unchanged by them):
/// - a unique index on the trimmed, lowercased email: one user per email, looked up
///   case-insensitively (Auth.js's own `getUserByEmail` compares exactly; it checks an email
///   before creating a user, so it never meets the index);
/// - unique indexes on `accounts(provider, "providerAccountId")` and `sessions("sessionToken")`
///   (the keys Auth.js looks them up by), and indexes on each `"userId"`;
/// - foreign keys from `accounts` and `sessions` to `users` with `ON DELETE CASCADE`
///   (`NOT VALID`: rows already there are not checked, every new row is): a user's accounts
///   and sessions go with it in one statement, and no record of a missing user can be
///   written. Auth.js's `deleteUser` deletes the user first and then its sessions and
///   accounts, which the cascade has already removed;
/// - a table `authenticators` for WebAuthn authenticators (Auth.js's `AdapterAuthenticator`
///   fields as camelCase columns, a foreign key with `ON DELETE CASCADE`): @auth/pg-adapter
///   stores none and never reads it, but our contract has them.
///
/// Everything runs in one transaction behind an advisory lock, so concurrent `migrate`
/// calls (several instances starting at once) do not race on `CREATE … IF NOT EXISTS`.
pub(super) const SCHEMA: &str = r#"
SELECT pg_advisory_xact_lock(7432150001);

CREATE TABLE IF NOT EXISTS verification_token
(
  identifier TEXT NOT NULL,
  expires TIMESTAMPTZ NOT NULL,
  token TEXT NOT NULL,

  PRIMARY KEY (identifier, token)
);

CREATE TABLE IF NOT EXISTS accounts
(
  id SERIAL,
  "userId" INTEGER NOT NULL,
  type VARCHAR(255) NOT NULL,
  provider VARCHAR(255) NOT NULL,
  "providerAccountId" VARCHAR(255) NOT NULL,
  refresh_token TEXT,
  access_token TEXT,
  expires_at BIGINT,
  id_token TEXT,
  scope TEXT,
  session_state TEXT,
  token_type TEXT,

  PRIMARY KEY (id)
);

CREATE TABLE IF NOT EXISTS sessions
(
  id SERIAL,
  "userId" INTEGER NOT NULL,
  expires TIMESTAMPTZ NOT NULL,
  "sessionToken" VARCHAR(255) NOT NULL,

  PRIMARY KEY (id)
);

CREATE TABLE IF NOT EXISTS users
(
  id SERIAL,
  name VARCHAR(255),
  email VARCHAR(255),
  "emailVerified" TIMESTAMPTZ,
  image TEXT,

  PRIMARY KEY (id)
);

CREATE TABLE IF NOT EXISTS authenticators
(
  "credentialID" TEXT NOT NULL,
  "userId" INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  "providerAccountId" TEXT NOT NULL,
  "credentialPublicKey" TEXT NOT NULL,
  counter BIGINT NOT NULL,
  "credentialDeviceType" TEXT NOT NULL,
  "credentialBackedUp" BOOLEAN NOT NULL,
  transports TEXT,

  PRIMARY KEY ("credentialID")
);
CREATE INDEX IF NOT EXISTS authenticators_user_idx ON authenticators ("userId");

CREATE UNIQUE INDEX IF NOT EXISTS users_email_key_idx
  ON users (lower(btrim(email, E' \t\n\r\f\x0b')));
CREATE UNIQUE INDEX IF NOT EXISTS accounts_provider_account_idx
  ON accounts (provider, "providerAccountId");
CREATE INDEX IF NOT EXISTS accounts_user_idx ON accounts ("userId");
CREATE UNIQUE INDEX IF NOT EXISTS sessions_token_idx ON sessions ("sessionToken");
CREATE INDEX IF NOT EXISTS sessions_user_idx ON sessions ("userId");
CREATE INDEX IF NOT EXISTS sessions_expires_idx ON sessions (expires);
CREATE INDEX IF NOT EXISTS verification_token_expires_idx ON verification_token (expires);

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_constraint
                 WHERE conrelid = 'accounts'::regclass AND conname = 'accounts_userId_fkey') THEN
    ALTER TABLE accounts ADD CONSTRAINT "accounts_userId_fkey" FOREIGN KEY ("userId")
      REFERENCES users (id) ON DELETE CASCADE NOT VALID;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_constraint
                 WHERE conrelid = 'sessions'::regclass AND conname = 'sessions_userId_fkey') THEN
    ALTER TABLE sessions ADD CONSTRAINT "sessions_userId_fkey" FOREIGN KEY ("userId")
      REFERENCES users (id) ON DELETE CASCADE NOT VALID;
  END IF;
END
$$;
"#;

/// Our statements on the @auth/pg-adapter tables, reading the app-added `columns` too.
pub(super) fn statements(columns: &ExtraColumns) -> Statements {
    let s = crate::dialect::sql;
    let pg = Dialect::Postgres;
    let user = format!("{USER}{}", select_list(pg, &columns.users, "", "xu"));
    let user_u = format!("{USER_U}{}", select_list(pg, &columns.users, "u.", "xu"));
    let account = format!("{ACCOUNT}{}", select_list(pg, &columns.accounts, "", "xa"));
    let session = format!("{SESSION}{}", select_list(pg, &columns.sessions, "", "xs"));
    let session_s = select_list(pg, &columns.sessions, "s.", "xs");
    Statements {
        ids: Ids::Serial,
        binds_email_key: false,
        extra: ExtraStorage::Columns(columns.clone()),
        begin_write: s("BEGIN".to_owned()),
        transaction_check: None,
        create_user: s(r#"INSERT INTO users (email, "emailVerified", name, image)
             VALUES ($1, $2, $3, $4) RETURNING id::text"#
            .to_owned()),
        get_user: s(format!(
            "SELECT {user} FROM users WHERE id = $1::text::integer"
        )),
        get_user_by_email: s(format!("SELECT {user} FROM users WHERE {EMAIL_KEY} = $1")),
        get_user_by_account: s(format!(
            r#"SELECT {user_u} FROM accounts a JOIN users u ON u.id = a."userId"
               WHERE a.provider = $1 AND a."providerAccountId" = $2"#
        )),
        lock_user: s(format!(
            "SELECT {user} FROM users WHERE id = $1::text::integer FOR UPDATE"
        )),
        update_user: Change::Returning(s(format!(
            r#"UPDATE users SET
                 email = CASE WHEN $1 THEN $2 ELSE email END,
                 "emailVerified" = CASE WHEN $3 THEN $4 ELSE "emailVerified" END,
                 name = CASE WHEN $5 THEN $6 ELSE name END,
                 image = CASE WHEN $7 THEN $8 ELSE image END
               WHERE id = $9::text::integer RETURNING {user}"#
        ))),
        delete_user: Take::Returning(s(format!(
            "DELETE FROM users WHERE id = $1::text::integer RETURNING {user}"
        ))),
        link_account: s(
            r#"INSERT INTO accounts ("userId", type, provider, "providerAccountId",
               refresh_token, access_token, expires_at, token_type, scope, id_token, session_state)
             VALUES ($1::text::integer, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"#
                .to_owned(),
        ),
        get_account: s(format!(
            r#"SELECT {account} FROM accounts WHERE provider = $1 AND "providerAccountId" = $2"#
        )),
        unlink_account: Take::Returning(s(format!(
            r#"DELETE FROM accounts WHERE provider = $1 AND "providerAccountId" = $2
               RETURNING {account}"#
        ))),
        update_account: Change::Returning(s(format!(
            r#"UPDATE accounts SET refresh_token = $1, access_token = $2, expires_at = $3,
                 token_type = $4, scope = $5, id_token = $6, session_state = $7
               WHERE provider = $8 AND "providerAccountId" = $9 RETURNING {account}"#
        ))),
        list_accounts: s(format!(
            r#"SELECT {account} FROM accounts WHERE "userId" = $1::text::integer ORDER BY provider"#
        )),
        create_session: s(r#"INSERT INTO sessions ("sessionToken", "userId", expires)
             VALUES ($1, $2::text::integer, $3)"#
            .to_owned()),
        get_session_and_user: s(format!(
            r#"SELECT {user_u}, s."sessionToken" AS session_token, s.expires,
                 NULL::text AS session_extra{session_s}
               FROM sessions s JOIN users u ON u.id = s."userId"
               WHERE s."sessionToken" = $1 AND s.expires > $2"#
        )),
        lock_session: s(format!(
            r#"SELECT {session} FROM sessions WHERE "sessionToken" = $1 AND expires > $2
               FOR UPDATE"#
        )),
        update_session: Change::Returning(s(format!(
            r#"UPDATE sessions SET expires = COALESCE($1, expires),
                 "userId" = COALESCE($2::text::integer, "userId")
               WHERE "sessionToken" = $3 AND expires > $4 RETURNING {session}"#
        ))),
        delete_session: Take::Returning(s(format!(
            r#"DELETE FROM sessions WHERE "sessionToken" = $1 RETURNING {session}"#
        ))),
        list_sessions: s(format!(
            r#"SELECT {session} FROM sessions WHERE "userId" = $1::text::integer AND expires > $2"#
        )),
        delete_sessions: s(
            r#"DELETE FROM sessions WHERE "userId" = $1::text::integer AND expires > $2"#
                .to_owned(),
        ),
        create_verification_token: s(
            "INSERT INTO verification_token (identifier, token, expires) VALUES ($1, $2, $3)"
                .to_owned(),
        ),
        use_verification_token: Take::Returning(s(format!(
            "DELETE FROM verification_token WHERE identifier = $1 AND token = $2 RETURNING {TOKEN}"
        ))),
        create_authenticator: s(r#"INSERT INTO authenticators ("credentialID", "userId",
               "providerAccountId", "credentialPublicKey", counter, "credentialDeviceType",
               "credentialBackedUp", transports)
             VALUES ($1, $2::text::integer, $3, $4, $5, $6, $7, $8)"#
            .to_owned()),
        get_authenticator: s(format!(
            r#"SELECT {AUTHENTICATOR} FROM authenticators WHERE "credentialID" = $1"#
        )),
        list_authenticators: s(format!(
            r#"SELECT {AUTHENTICATOR} FROM authenticators WHERE "userId" = $1::text::integer
               ORDER BY "credentialID""#
        )),
        update_authenticator_counter: Change::Returning(s(format!(
            r#"UPDATE authenticators SET counter = $1 WHERE "credentialID" = $2
               RETURNING {AUTHENTICATOR}"#
        ))),
        delete_authenticator: Take::Returning(s(format!(
            r#"DELETE FROM authenticators WHERE "credentialID" = $1 RETURNING {AUTHENTICATOR}"#
        ))),
        delete_expired_sessions: s("DELETE FROM sessions WHERE expires <= $1".to_owned()),
        delete_expired_tokens: s("DELETE FROM verification_token WHERE expires <= $1".to_owned()),
    }
}
