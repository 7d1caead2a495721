-- adapter-seaorm schema for SQLite: the schema adapter-sqlx creates with its default prefix
-- `auth_` (adapter-sqlx/migrations/sqlite/0001_initial.sql). STRICT tables; timestamps are
-- INTEGER milliseconds since the Unix epoch (UTC); foreign keys are enforced on every
-- connection (sqlx turns PRAGMA foreign_keys on).
CREATE TABLE IF NOT EXISTS auth_users (
    id               TEXT NOT NULL PRIMARY KEY,
    email            TEXT,
    -- auth_core::normalize_email(email), computed in Rust; NULL for users without email.
    email_normalized TEXT UNIQUE,
    email_verified   INTEGER,
    name             TEXT,
    image            TEXT
) STRICT;

CREATE TABLE IF NOT EXISTS auth_accounts (
    provider            TEXT NOT NULL,
    provider_account_id TEXT NOT NULL,
    user_id             TEXT NOT NULL REFERENCES auth_users (id) ON DELETE CASCADE,
    account_type        TEXT NOT NULL,
    refresh_token       TEXT,
    access_token        TEXT,
    expires_at          INTEGER,
    token_type          TEXT,
    scope               TEXT,
    id_token            TEXT,
    session_state       TEXT,
    PRIMARY KEY (provider, provider_account_id)
) STRICT;
CREATE INDEX IF NOT EXISTS auth_accounts_user_id_idx ON auth_accounts (user_id);

CREATE TABLE IF NOT EXISTS auth_sessions (
    session_token TEXT NOT NULL PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES auth_users (id) ON DELETE CASCADE,
    expires       INTEGER NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS auth_sessions_user_id_idx ON auth_sessions (user_id);
CREATE INDEX IF NOT EXISTS auth_sessions_expires_idx ON auth_sessions (expires);

CREATE TABLE IF NOT EXISTS auth_verification_tokens (
    identifier TEXT NOT NULL,
    token      TEXT NOT NULL,
    expires    INTEGER NOT NULL,
    PRIMARY KEY (identifier, token)
) STRICT;
CREATE INDEX IF NOT EXISTS auth_verification_tokens_expires_idx ON auth_verification_tokens (expires);

CREATE TABLE IF NOT EXISTS auth_authenticators (
    credential_id          TEXT NOT NULL PRIMARY KEY,
    user_id                TEXT NOT NULL REFERENCES auth_users (id) ON DELETE CASCADE,
    provider_account_id    TEXT NOT NULL,
    credential_public_key  TEXT NOT NULL,
    counter                INTEGER NOT NULL,
    credential_device_type TEXT NOT NULL,
    credential_backed_up   INTEGER NOT NULL,
    transports             TEXT
) STRICT;
CREATE INDEX IF NOT EXISTS auth_authenticators_user_id_idx ON auth_authenticators (user_id);
