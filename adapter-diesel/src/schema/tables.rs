// The five tables as `diesel print-schema` writes them, once for every database: `Stamp` is
// the dialect module's timestamp type, `Json` its type of the `extra` column (the app's extra
// fields, a JSON object as text; migration 2). Included by each module of `schema.rs`, and read by
// `tests/schema.rs`, which checks it against what the shared migration creates.

diesel::table! {
    use diesel::sql_types::*;
    use super::{Json, Stamp};

    #[sql_name = "auth_users"]
    users (id) {
        id -> Text,
        email -> Nullable<Text>,
        email_normalized -> Nullable<Text>,
        email_verified -> Nullable<Stamp>,
        name -> Nullable<Text>,
        image -> Nullable<Text>,
        extra -> Nullable<Json>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::{Json, Stamp};

    #[sql_name = "auth_accounts"]
    accounts (provider, provider_account_id) {
        provider -> Text,
        provider_account_id -> Text,
        user_id -> Text,
        account_type -> Text,
        refresh_token -> Nullable<Text>,
        access_token -> Nullable<Text>,
        expires_at -> Nullable<BigInt>,
        token_type -> Nullable<Text>,
        scope -> Nullable<Text>,
        id_token -> Nullable<Text>,
        session_state -> Nullable<Text>,
        extra -> Nullable<Json>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::{Json, Stamp};

    #[sql_name = "auth_sessions"]
    sessions (session_token) {
        session_token -> Text,
        user_id -> Text,
        expires -> Stamp,
        extra -> Nullable<Json>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::Stamp;

    #[sql_name = "auth_verification_tokens"]
    verification_tokens (identifier, token) {
        identifier -> Text,
        token -> Text,
        expires -> Stamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::Stamp;

    #[sql_name = "auth_authenticators"]
    authenticators (credential_id) {
        credential_id -> Text,
        user_id -> Text,
        provider_account_id -> Text,
        credential_public_key -> Text,
        counter -> BigInt,
        credential_device_type -> Text,
        credential_backed_up -> Bool,
        transports -> Nullable<Text>,
    }
}

diesel::joinable!(accounts -> users (user_id));
diesel::joinable!(authenticators -> users (user_id));
diesel::joinable!(sessions -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    accounts,
    authenticators,
    sessions,
    users,
    verification_tokens,
);
