-- Migration 1, MariaDB and MySQL: the five tables. `{p}` is the table prefix, `{collation}` the
-- binary, no-pad utf8mb4 collation of the server (utf8mb4_nopad_bin on MariaDB,
-- utf8mb4_0900_bin on MySQL 8), so keys compare byte for byte: 'a' and 'a ' differ.
-- Key lengths are in characters; the adapters refuse longer values before sending them.
-- Every statement is CREATE … IF NOT EXISTS: it also runs on a database made before the
-- shared history existed, and changes nothing there.
CREATE TABLE IF NOT EXISTS {p}users (
    id               VARCHAR(255) NOT NULL,
    email            TEXT NULL,
    -- auth_core::normalize_email(email), computed in Rust; NULL for users without email.
    email_normalized VARCHAR(320) NULL,
    email_verified   DATETIME(3) NULL,
    name             TEXT NULL,
    image            TEXT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY {p}users_email_normalized_key (email_normalized)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = {collation};

CREATE TABLE IF NOT EXISTS {p}accounts (
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
    KEY {p}accounts_user_id_idx (user_id),
    CONSTRAINT {p}accounts_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES {p}users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = {collation};

CREATE TABLE IF NOT EXISTS {p}sessions (
    session_token VARCHAR(255) NOT NULL,
    user_id       VARCHAR(255) NOT NULL,
    expires       DATETIME(3) NOT NULL,
    PRIMARY KEY (session_token),
    KEY {p}sessions_user_id_idx (user_id),
    KEY {p}sessions_expires_idx (expires),
    CONSTRAINT {p}sessions_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES {p}users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = {collation};

CREATE TABLE IF NOT EXISTS {p}verification_tokens (
    identifier VARCHAR(255) NOT NULL,
    token      VARCHAR(255) NOT NULL,
    expires    DATETIME(3) NOT NULL,
    PRIMARY KEY (identifier, token),
    KEY {p}verification_tokens_expires_idx (expires)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = {collation};

CREATE TABLE IF NOT EXISTS {p}authenticators (
    credential_id          VARCHAR(512) NOT NULL,
    user_id                VARCHAR(255) NOT NULL,
    provider_account_id    TEXT NOT NULL,
    credential_public_key  TEXT NOT NULL,
    counter                BIGINT NOT NULL,
    credential_device_type TEXT NOT NULL,
    credential_backed_up   BOOLEAN NOT NULL,
    transports             TEXT NULL,
    PRIMARY KEY (credential_id),
    KEY {p}authenticators_user_id_idx (user_id),
    CONSTRAINT {p}authenticators_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES {p}users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = {collation};
