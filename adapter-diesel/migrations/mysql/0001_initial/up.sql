-- adapter-diesel schema for MariaDB: exactly the tables adapter-sqlx creates with its default
-- prefix `auth_`, so either crate reads and writes a database migrated by the other. Every
-- column uses the binary NO PAD collation utf8mb4_nopad_bin, so keys compare byte for byte:
-- 'a' and 'a ' differ. Timestamps are DATETIME(3) holding UTC.
-- Every statement is CREATE … IF NOT EXISTS: migrating a database adapter-sqlx made is a no-op.
CREATE TABLE IF NOT EXISTS auth_users (
    id               VARCHAR(255) NOT NULL,
    email            TEXT NULL,
    -- auth_core::normalize_email(email), computed in Rust; NULL for users without email.
    email_normalized VARCHAR(320) NULL,
    email_verified   DATETIME(3) NULL,
    name             TEXT NULL,
    image            TEXT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY auth_users_email_normalized_key (email_normalized)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin;

CREATE TABLE IF NOT EXISTS auth_accounts (
    provider            VARCHAR(255) NOT NULL,
    provider_account_id VARCHAR(255) NOT NULL,
    user_id             VARCHAR(255) NOT NULL,
    account_type        VARCHAR(16) NOT NULL,
    refresh_token       TEXT NULL,
    access_token        TEXT NULL,
    expires_at          BIGINT NULL,
    token_type          TEXT NULL,
    scope               TEXT NULL,
    id_token            TEXT NULL,
    session_state       TEXT NULL,
    PRIMARY KEY (provider, provider_account_id),
    KEY auth_accounts_user_id_idx (user_id),
    CONSTRAINT auth_accounts_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES auth_users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin;

CREATE TABLE IF NOT EXISTS auth_sessions (
    session_token VARCHAR(255) NOT NULL,
    user_id       VARCHAR(255) NOT NULL,
    expires       DATETIME(3) NOT NULL,
    PRIMARY KEY (session_token),
    KEY auth_sessions_user_id_idx (user_id),
    KEY auth_sessions_expires_idx (expires),
    CONSTRAINT auth_sessions_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES auth_users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin;

CREATE TABLE IF NOT EXISTS auth_verification_tokens (
    identifier VARCHAR(255) NOT NULL,
    token      VARCHAR(255) NOT NULL,
    expires    DATETIME(3) NOT NULL,
    PRIMARY KEY (identifier, token),
    KEY auth_verification_tokens_expires_idx (expires)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin;

CREATE TABLE IF NOT EXISTS auth_authenticators (
    credential_id          VARCHAR(512) NOT NULL,
    user_id                VARCHAR(255) NOT NULL,
    provider_account_id    TEXT NOT NULL,
    credential_public_key  TEXT NOT NULL,
    counter                BIGINT NOT NULL,
    credential_device_type TEXT NOT NULL,
    credential_backed_up   BOOLEAN NOT NULL,
    transports             TEXT NULL,
    PRIMARY KEY (credential_id),
    KEY auth_authenticators_user_id_idx (user_id),
    CONSTRAINT auth_authenticators_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES auth_users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin;
