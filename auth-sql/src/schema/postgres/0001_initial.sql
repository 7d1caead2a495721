-- Migration 1, PostgreSQL: the five tables. `{p}` is the table prefix.
-- Every statement is CREATE … IF NOT EXISTS: it also runs on a database made before the
-- shared history existed, and changes nothing there.
CREATE TABLE IF NOT EXISTS {p}users (
    id               TEXT PRIMARY KEY,
    email            TEXT,
    -- auth_core::normalize_email(email), computed in Rust; NULL for users without email.
    email_normalized TEXT,
    email_verified   TIMESTAMPTZ,
    name             TEXT,
    image            TEXT,
    CONSTRAINT {p}users_email_normalized_key UNIQUE (email_normalized)
);

CREATE TABLE IF NOT EXISTS {p}accounts (
    provider            TEXT NOT NULL,
    provider_account_id TEXT NOT NULL,
    user_id             TEXT NOT NULL REFERENCES {p}users (id) ON DELETE CASCADE,
    account_type        TEXT NOT NULL,
    refresh_token       TEXT,
    access_token        TEXT,
    expires_at          BIGINT,
    token_type          TEXT,
    scope               TEXT,
    id_token            TEXT,
    session_state       TEXT,
    PRIMARY KEY (provider, provider_account_id)
);
CREATE INDEX IF NOT EXISTS {p}accounts_user_id_idx ON {p}accounts (user_id);

CREATE TABLE IF NOT EXISTS {p}sessions (
    session_token TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES {p}users (id) ON DELETE CASCADE,
    expires       TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS {p}sessions_user_id_idx ON {p}sessions (user_id);
CREATE INDEX IF NOT EXISTS {p}sessions_expires_idx ON {p}sessions (expires);

CREATE TABLE IF NOT EXISTS {p}verification_tokens (
    identifier TEXT NOT NULL,
    token      TEXT NOT NULL,
    expires    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (identifier, token)
);
CREATE INDEX IF NOT EXISTS {p}verification_tokens_expires_idx ON {p}verification_tokens (expires);

CREATE TABLE IF NOT EXISTS {p}authenticators (
    credential_id          TEXT PRIMARY KEY,
    user_id                TEXT NOT NULL REFERENCES {p}users (id) ON DELETE CASCADE,
    provider_account_id    TEXT NOT NULL,
    credential_public_key  TEXT NOT NULL,
    counter                BIGINT NOT NULL,
    credential_device_type TEXT NOT NULL,
    credential_backed_up   BOOLEAN NOT NULL,
    transports             TEXT
);
CREATE INDEX IF NOT EXISTS {p}authenticators_user_id_idx ON {p}authenticators (user_id);
