//! The documents stored per collection, and their conversion to and from the models.
//!
//! Dates are BSON dates (milliseconds since the epoch); `email_normalized` is absent when a
//! user has no email, so the partial unique index leaves such users alone. Sessions and
//! verification tokens also keep `expires_ms`, the same instant as an int64 of milliseconds:
//! every expiry comparison a query makes is on that field (see the crate's README: the
//! stand-in server compares BSON dates only to the second), while the TTL indexes use the
//! date. An authenticator is stored as the model itself: its fields and their types are
//! the document's.
//!
//! The app's extra fields are the sub-document `extra` of a user, account or session
//! document, absent when there are none (`crate::extra` has the BSON types).

use auth_core::{Account, AccountType, AdapterError, Operation, Session, User, VerificationToken};
use mongodb::bson;
use serde::{Deserialize, Serialize};

use crate::extra::{extra_of, sub_document};
use crate::shared::{from_bson, to_bson};

/// The stored `extra` sub-document as the model's extra fields.
fn stored_extra(extra: Option<&bson::Document>) -> auth_core::extra::Extra {
    extra
        .map(|doc| extra_of(doc, |_| false))
        .unwrap_or_default()
}

/// A user document; `_id` is the caller's id.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserDoc {
    #[serde(rename = "_id")]
    pub id: String,
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_normalized: Option<String>,
    pub email_verified: Option<bson::DateTime>,
    pub name: Option<String>,
    pub image: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra: Option<bson::Document>,
}

impl UserDoc {
    /// The document of `user`, whose email key the policy layer computed.
    pub fn from_model(
        op: Operation,
        user: &User,
        email_key: Option<&str>,
    ) -> Result<Self, AdapterError> {
        Ok(Self {
            id: user.id.clone(),
            email: user.email.clone(),
            email_normalized: email_key.map(str::to_owned),
            email_verified: user.email_verified.map(to_bson),
            name: user.name.clone(),
            image: user.image.clone(),
            extra: sub_document(op, &user.extra)?,
        })
    }

    pub fn into_model(self, op: Operation) -> Result<User, AdapterError> {
        Ok(User {
            extra: stored_extra(self.extra.as_ref()),
            id: self.id,
            email: self.email,
            email_verified: self.email_verified.map(|t| from_bson(op, t)).transpose()?,
            name: self.name,
            image: self.image,
        })
    }
}

/// An account document, keyed by the unique `(provider, provider_account_id)` index.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccountDoc {
    pub user_id: String,
    #[serde(rename = "type")]
    pub account_type: String,
    pub provider: String,
    pub provider_account_id: String,
    pub refresh_token: Option<String>,
    pub access_token: Option<String>,
    pub expires_at: Option<i64>,
    pub token_type: Option<String>,
    pub scope: Option<String>,
    pub id_token: Option<String>,
    pub session_state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra: Option<bson::Document>,
}

impl AccountDoc {
    pub fn from_model(op: Operation, a: &Account) -> Result<Self, AdapterError> {
        Ok(Self {
            user_id: a.user_id.clone(),
            account_type: a.account_type.as_str().to_owned(),
            provider: a.provider.clone(),
            provider_account_id: a.provider_account_id.clone(),
            refresh_token: a.refresh_token.clone(),
            access_token: a.access_token.clone(),
            expires_at: a.expires_at,
            token_type: a.token_type.clone(),
            scope: a.scope.clone(),
            id_token: a.id_token.clone(),
            session_state: a.session_state.clone(),
            extra: sub_document(op, &a.extra)?,
        })
    }

    pub fn into_model(self, op: Operation) -> Result<Account, AdapterError> {
        let account_type = self
            .account_type
            .parse::<AccountType>()
            .map_err(|e| AdapterError::backend(op, e.to_string()))?;
        Ok(Account {
            extra: stored_extra(self.extra.as_ref()),
            user_id: self.user_id,
            account_type,
            provider: self.provider,
            provider_account_id: self.provider_account_id,
            refresh_token: self.refresh_token,
            access_token: self.access_token,
            expires_at: self.expires_at,
            token_type: self.token_type,
            scope: self.scope,
            id_token: self.id_token,
            session_state: self.session_state,
        })
    }
}

/// A session document, keyed by the unique `session_token` index.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionDoc {
    pub session_token: String,
    pub user_id: String,
    pub expires: bson::DateTime,
    pub expires_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra: Option<bson::Document>,
}

impl SessionDoc {
    pub fn from_model(op: Operation, s: &Session) -> Result<Self, AdapterError> {
        Ok(Self {
            session_token: s.session_token.clone(),
            user_id: s.user_id.clone(),
            expires: to_bson(s.expires),
            expires_ms: s.expires.timestamp_millis(),
            extra: sub_document(op, &s.extra)?,
        })
    }

    pub fn into_model(self, op: Operation) -> Result<Session, AdapterError> {
        Ok(Session {
            extra: stored_extra(self.extra.as_ref()),
            session_token: self.session_token,
            user_id: self.user_id,
            expires: from_bson(op, self.expires)?,
        })
    }
}

/// A document joined with its user by `$lookup` on the users' `_id` and `$unwind`.
#[derive(Debug, Clone, Deserialize)]
pub struct WithUser<T> {
    #[serde(flatten)]
    pub doc: T,
    pub user: UserDoc,
}

/// A verification token document, keyed by the unique `(identifier, token)` index.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenDoc {
    pub identifier: String,
    pub token: String,
    pub expires: bson::DateTime,
    pub expires_ms: i64,
}

impl TokenDoc {
    pub fn from_model(t: &VerificationToken) -> Self {
        Self {
            identifier: t.identifier.clone(),
            token: t.token.clone(),
            expires: to_bson(t.expires),
            expires_ms: t.expires.timestamp_millis(),
        }
    }

    pub fn into_model(self, op: Operation) -> Result<VerificationToken, AdapterError> {
        Ok(VerificationToken {
            identifier: self.identifier,
            token: self.token,
            expires: from_bson(op, self.expires)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use auth_core::chrono::{TimeZone, Utc};

    #[test]
    fn users_without_email_have_no_normalized_field() {
        let doc = bson::to_document(
            &UserDoc::from_model(Operation::CreateUser, &User::with_id("u"), None).unwrap(),
        )
        .unwrap();
        assert!(!doc.contains_key("email_normalized"));
        let user = User::with_id("u").with_email(" A@B.c");
        let doc = bson::to_document(
            &UserDoc::from_model(Operation::CreateUser, &user, Some("a@b.c")).unwrap(),
        )
        .unwrap();
        assert_eq!(doc.get_str("email_normalized").unwrap(), "a@b.c");
        assert_eq!(doc.get_str("email").unwrap(), " A@B.c");
    }

    #[test]
    fn expiry_is_kept_as_a_date_and_as_milliseconds() {
        let expires = Utc.timestamp_millis_opt(1_900_000_000_123).unwrap();
        let doc = bson::to_document(
            &SessionDoc::from_model(
                Operation::CreateSession,
                &Session::with_token("t", "u", expires),
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(doc.get_i64("expires_ms").unwrap(), 1_900_000_000_123);
        assert_eq!(
            doc.get_datetime("expires").unwrap().timestamp_millis(),
            1_900_000_000_123
        );
        let token = VerificationToken::new("id", "tok", expires);
        let doc = bson::to_document(&TokenDoc::from_model(&token)).unwrap();
        assert_eq!(doc.get_i64("expires_ms").unwrap(), 1_900_000_000_123);
    }
}
