-- adapter-seaorm schema for PostgreSQL: byte for byte the schema adapter-sqlx creates with
-- its default prefix `auth_` (adapter-sqlx/migrations/postgres/0001_initial.sql), so either
-- crate can run on, and migrate, a database the other created.
CREATE TABLE IF NOT EXISTS auth_users (
    id               TEXT PRIMARY KEY,
    email            TEXT,
    -- auth_core::normalize_email(email), computed in Rust; NULL for users without email.
    email_normalized TEXT,
    email_verified   TIMESTAMPTZ,
    name             TEXT,
    image            TEXT,
    CONSTRAINT auth_users_email_normalized_key UNIQUE (email_normalized)
);

CREATE TABLE IF NOT EXISTS auth_accounts (
    provider            TEXT NOT NULL,
    provider_account_id TEXT NOT NULL,
    user_id             TEXT NOT NULL REFERENCES auth_users (id) ON DELETE CASCADE,
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
CREATE INDEX IF NOT EXISTS auth_accounts_user_id_idx ON auth_accounts (user_id);

CREATE TABLE IF NOT EXISTS auth_sessions (
    session_token TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES auth_users (id) ON DELETE CASCADE,
    expires       TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS auth_sessions_user_id_idx ON auth_sessions (user_id);
CREATE INDEX IF NOT EXISTS auth_sessions_expires_idx ON auth_sessions (expires);

CREATE TABLE IF NOT EXISTS auth_verification_tokens (
    identifier TEXT NOT NULL,
    token      TEXT NOT NULL,
    expires    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (identifier, token)
);
CREATE INDEX IF NOT EXISTS auth_verification_tokens_expires_idx ON auth_verification_tokens (expires);

CREATE TABLE IF NOT EXISTS auth_authenticators (
    credential_id          TEXT PRIMARY KEY,
    user_id                TEXT NOT NULL REFERENCES auth_users (id) ON DELETE CASCADE,
    provider_account_id    TEXT NOT NULL,
    credential_public_key  TEXT NOT NULL,
    counter                BIGINT NOT NULL,
    credential_device_type TEXT NOT NULL,
    credential_backed_up   BOOLEAN NOT NULL,
    transports             TEXT
);
CREATE INDEX IF NOT EXISTS auth_authenticators_user_id_idx ON auth_authenticators (user_id);
