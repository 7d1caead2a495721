//! The five tables as SeaORM entities: `auth_users`, `auth_accounts`, `auth_sessions`,
//! `auth_verification_tokens` and `auth_authenticators`, named and typed as adapter-sqlx
//! creates them with its default prefix.
//!
//! The entities name every table and column once for the query builder, and decode the
//! rows without timestamps (accounts, authenticators) through [`FromQueryResult`]. A
//! timestamp is stored as `TIMESTAMPTZ` on PostgreSQL, `DATETIME(3)` holding UTC on
//! MySQL/MariaDB and `INTEGER` epoch milliseconds on SQLite (the schema adapter-sqlx made
//! first), so its Rust type depends on the database: the adapter converts it, and the
//! `DateTimeUtc` fields below describe the PostgreSQL form only. Likewise the `extra`
//! columns (migration 2) are `jsonb` on PostgreSQL, `JSON` on MySQL/MariaDB and `TEXT` on
//! SQLite: the entities hold them as JSON text, which the adapter casts to and from `jsonb`
//! on PostgreSQL and parses into [`auth_core::Extra`].
//!
//! [`FromQueryResult`]: sea_orm::FromQueryResult

/// `auth_users`: the user, with `email_normalized` holding
/// [`auth_core::normalize_email`] of `email` (the unique lookup key).
pub mod users {
    use sea_orm::entity::prelude::*;

    /// A row of `auth_users`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "auth_users")]
    pub struct Model {
        /// The caller's id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// The address as given.
        pub email: Option<String>,
        /// The lookup key, unique.
        #[sea_orm(unique)]
        pub email_normalized: Option<String>,
        /// When the address was verified.
        pub email_verified: Option<DateTimeUtc>,
        /// Display name.
        pub name: Option<String>,
        /// Avatar URL.
        pub image: Option<String>,
        /// The app's extra fields ([`auth_core::User::extra`]) as JSON text; `None` when
        /// there are none.
        #[sea_orm(column_type = "JsonBinary", nullable)]
        pub extra: Option<String>,
    }

    /// No relations are navigated: joins are written in the queries.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `auth_accounts`: a provider account linked to a user (`ON DELETE CASCADE`).
pub mod accounts {
    use sea_orm::entity::prelude::*;

    /// A row of `auth_accounts`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "auth_accounts")]
    pub struct Model {
        /// The provider, e.g. `github`.
        #[sea_orm(primary_key, auto_increment = false)]
        pub provider: String,
        /// The account's id at the provider.
        #[sea_orm(primary_key, auto_increment = false)]
        pub provider_account_id: String,
        /// The owner.
        pub user_id: String,
        /// `oauth`, `oidc`, `email` or `webauthn`.
        pub account_type: String,
        /// OAuth refresh token.
        pub refresh_token: Option<String>,
        /// OAuth access token.
        pub access_token: Option<String>,
        /// Expiry of the access token, epoch seconds.
        pub expires_at: Option<i64>,
        /// OAuth token type.
        pub token_type: Option<String>,
        /// OAuth scope.
        pub scope: Option<String>,
        /// OIDC id token.
        pub id_token: Option<String>,
        /// OAuth session state.
        pub session_state: Option<String>,
        /// The rest of the token response and the app's fields
        /// ([`auth_core::Account::extra`]) as JSON text; `None` when there are none.
        #[sea_orm(column_type = "JsonBinary", nullable)]
        pub extra: Option<String>,
    }

    /// No relations are navigated: joins are written in the queries.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `auth_sessions`: a database session (`ON DELETE CASCADE` from its user).
pub mod sessions {
    use sea_orm::entity::prelude::*;

    /// A row of `auth_sessions`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "auth_sessions")]
    pub struct Model {
        /// The cookie value.
        #[sea_orm(primary_key, auto_increment = false)]
        pub session_token: String,
        /// The owner.
        pub user_id: String,
        /// When it stops being valid.
        pub expires: DateTimeUtc,
        /// The app's session data ([`auth_core::Session::extra`]) as JSON text; `None` when
        /// there are none.
        #[sea_orm(column_type = "JsonBinary", nullable)]
        pub extra: Option<String>,
    }

    /// No relations are navigated: joins are written in the queries.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `auth_verification_tokens`: a one-time email sign-in token.
pub mod verification_tokens {
    use sea_orm::entity::prelude::*;

    /// A row of `auth_verification_tokens`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "auth_verification_tokens")]
    pub struct Model {
        /// Usually the email address.
        #[sea_orm(primary_key, auto_increment = false)]
        pub identifier: String,
        /// The token.
        #[sea_orm(primary_key, auto_increment = false)]
        pub token: String,
        /// When it stops being valid.
        pub expires: DateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `auth_authenticators`: a WebAuthn credential (`ON DELETE CASCADE` from its user).
pub mod authenticators {
    use sea_orm::entity::prelude::*;

    /// A row of `auth_authenticators`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "auth_authenticators")]
    pub struct Model {
        /// The credential id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub credential_id: String,
        /// The owner.
        pub user_id: String,
        /// The provider account id it belongs to.
        pub provider_account_id: String,
        /// The public key.
        pub credential_public_key: String,
        /// The signature counter.
        pub counter: i64,
        /// `singleDevice` or `multiDevice`.
        pub credential_device_type: String,
        /// Whether it is backed up.
        pub credential_backed_up: bool,
        /// Comma-separated transports.
        pub transports: Option<String>,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
