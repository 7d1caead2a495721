//! `pass_through!`: the `Adapter` impl of an at-rest wrapper, with every method it passes
//! through unchanged named.
//!
//! The wrappers do not use [`forward`](crate::forward)'s default forwarding on purpose: with
//! a default, a method added to the contract later would pass a token to the database in
//! clear until someone remembered to override it. Here there is no default: a method
//! neither written by hand nor named under `pass_through` does not compile. Each named
//! method is one call to `self.inner` with the same arguments.
//!
//! ```text
//! pass_through! {
//!     impl [A: Adapter + ?Sized] Adapter for Wrapper<A>;
//!     pass_through: [create_user, get_user, ...];
//!     async fn create_session(&self, session: Session) -> AdapterResult<Session> { ... }
//! }
//! ```

macro_rules! pass_through {
    (
        impl [$($generics:tt)*] Adapter for $wrapper:ty;
        pass_through: [$($name:ident),* $(,)?];
        $($own:tt)*
    ) => {
        pass_through!(@next [[$($generics)*] $wrapper] [$($own)*] [] $($name)*);
    };
    // Every name is written out: the impl, with the hand-written methods first.
    (@next [[$($generics:tt)*] $wrapper:ty] [$($own:tt)*] [$($done:tt)*]) => {
        #[async_trait::async_trait]
        impl<$($generics)*> $crate::Adapter for $wrapper {
            $($own)*
            $($done)*
        }
    };
    (@next $head:tt $own:tt [$($done:tt)*] create_user $($rest:ident)*) => {
        pass_through!(@next $head $own [$($done)*
            async fn create_user(&self, user: $crate::User) -> $crate::AdapterResult<$crate::User> {
                self.inner.create_user(user).await
            }
        ] $($rest)*);
    };
    (@next $head:tt $own:tt [$($done:tt)*] get_user $($rest:ident)*) => {
        pass_through!(@next $head $own [$($done)*
            async fn get_user(&self, id: &str) -> $crate::AdapterResult<Option<$crate::User>> {
                self.inner.get_user(id).await
            }
        ] $($rest)*);
    };
    (@next $head:tt $own:tt [$($done:tt)*] get_user_by_email $($rest:ident)*) => {
        pass_through!(@next $head $own [$($done)*
            async fn get_user_by_email(&self, email: &str) -> $crate::AdapterResult<Option<$crate::User>> {
                self.inner.get_user_by_email(email).await
            }
        ] $($rest)*);
    };
    (@next $head:tt $own:tt [$($done:tt)*] get_user_by_account $($rest:ident)*) => {
        pass_through!(@next $head $own [$($done)*
            async fn get_user_by_account(&self, provider: &str, provider_account_id: &str) -> $crate::AdapterResult<Option<$crate::User>> {
                self.inner.get_user_by_account(provider, provider_account_id).await
            }
        ] $($rest)*);
    };
    (@next $head:tt $own:tt [$($done:tt)*] update_user $($rest:ident)*) => {
        pass_through!(@next $head $own [$($done)*
            async fn update_user(&self, update: $crate::UserUpdate) -> $crate::AdapterResult<$crate::User> {
                self.inner.update_user(update).await
            }
        ] $($rest)*);
    };
    (@next $head:tt $own:tt [$($done:tt)*] delete_user $($rest:ident)*) => {
        pass_through!(@next $head $own [$($done)*
            async fn delete_user(&self, id: &str) -> $crate::AdapterResult<Option<$crate::User>> {
                self.inner.delete_user(id).await
            }
        ] $($rest)*);
    };
    (@next $head:tt $own:tt [$($done:tt)*] link_account $($rest:ident)*) => {
        pass_through!(@next $head $own [$($done)*
            async fn link_account(&self, account: $crate::Account) -> $crate::AdapterResult<$crate::Account> {
                self.inner.link_account(account).await
            }
        ] $($rest)*);
    };
    (@next $head:tt $own:tt [$($done:tt)*] unlink_account $($rest:ident)*) => {
        pass_through!(@next $head $own [$($done)*
            async fn unlink_account(&self, provider: &str, provider_account_id: &str) -> $crate::AdapterResult<Option<$crate::Account>> {
                self.inner.unlink_account(provider, provider_account_id).await
            }
        ] $($rest)*);
    };
    (@next $head:tt $own:tt [$($done:tt)*] get_account $($rest:ident)*) => {
        pass_through!(@next $head $own [$($done)*
            async fn get_account(&self, provider: &str, provider_account_id: &str) -> $crate::AdapterResult<Option<$crate::Account>> {
                self.inner.get_account(provider, provider_account_id).await
            }
        ] $($rest)*);
    };
    (@next $head:tt $own:tt [$($done:tt)*] update_account $($rest:ident)*) => {
        pass_through!(@next $head $own [$($done)*
            async fn update_account(&self, account: $crate::Account) -> $crate::AdapterResult<Option<$crate::Account>> {
                self.inner.update_account(account).await
            }
        ] $($rest)*);
    };
    (@next $head:tt $own:tt [$($done:tt)*] list_accounts $($rest:ident)*) => {
        pass_through!(@next $head $own [$($done)*
            async fn list_accounts(&self, user_id: &str) -> $crate::AdapterResult<Vec<$crate::Account>> {
                self.inner.list_accounts(user_id).await
            }
        ] $($rest)*);
    };
    (@next $head:tt $own:tt [$($done:tt)*] create_session $($rest:ident)*) => {
        pass_through!(@next $head $own [$($done)*
            async fn create_session(&self, session: $crate::Session) -> $crate::AdapterResult<$crate::Session> {
                self.inner.create_session(session).await
            }
        ] $($rest)*);
    };
    (@next $head:tt $own:tt [$($done:tt)*] get_session_and_user $($rest:ident)*) => {
        pass_through!(@next $head $own [$($done)*
            async fn get_session_and_user(&self, session_token: &str) -> $crate::AdapterResult<Option<($crate::Session, $crate::User)>> {
                self.inner.get_session_and_user(session_token).await
            }
        ] $($rest)*);
    };
    (@next $head:tt $own:tt [$($done:tt)*] update_session $($rest:ident)*) => {
        pass_through!(@next $head $own [$($done)*
            async fn update_session(&self, update: $crate::SessionUpdate) -> $crate::AdapterResult<Option<$crate::Session>> {
                self.inner.update_session(update).await
            }
        ] $($rest)*);
    };
    (@next $head:tt $own:tt [$($done:tt)*] delete_session $($rest:ident)*) => {
        pass_through!(@next $head $own [$($done)*
            async fn delete_session(&self, session_token: &str) -> $crate::AdapterResult<Option<$crate::Session>> {
                self.inner.delete_session(session_token).await
            }
        ] $($rest)*);
    };
    (@next $head:tt $own:tt [$($done:tt)*] list_sessions $($rest:ident)*) => {
        pass_through!(@next $head $own [$($done)*
            async fn list_sessions(&self, user_id: &str) -> $crate::AdapterResult<Vec<$crate::Session>> {
                self.inner.list_sessions(user_id).await
            }
        ] $($rest)*);
    };
    (@next $head:tt $own:tt [$($done:tt)*] delete_sessions $($rest:ident)*) => {
        pass_through!(@next $head $own [$($done)*
            async fn delete_sessions(&self, user_id: &str) -> $crate::AdapterResult<u64> {
                self.inner.delete_sessions(user_id).await
            }
        ] $($rest)*);
    };
    (@next $head:tt $own:tt [$($done:tt)*] create_verification_token $($rest:ident)*) => {
        pass_through!(@next $head $own [$($done)*
            async fn create_verification_token(&self, token: $crate::VerificationToken) -> $crate::AdapterResult<$crate::VerificationToken> {
                self.inner.create_verification_token(token).await
            }
        ] $($rest)*);
    };
    (@next $head:tt $own:tt [$($done:tt)*] use_verification_token $($rest:ident)*) => {
        pass_through!(@next $head $own [$($done)*
            async fn use_verification_token(&self, identifier: &str, token: &str) -> $crate::AdapterResult<Option<$crate::VerificationToken>> {
                self.inner.use_verification_token(identifier, token).await
            }
        ] $($rest)*);
    };
    (@next $head:tt $own:tt [$($done:tt)*] create_authenticator $($rest:ident)*) => {
        pass_through!(@next $head $own [$($done)*
            async fn create_authenticator(&self, authenticator: $crate::Authenticator) -> $crate::AdapterResult<$crate::Authenticator> {
                self.inner.create_authenticator(authenticator).await
            }
        ] $($rest)*);
    };
    (@next $head:tt $own:tt [$($done:tt)*] get_authenticator $($rest:ident)*) => {
        pass_through!(@next $head $own [$($done)*
            async fn get_authenticator(&self, credential_id: &str) -> $crate::AdapterResult<Option<$crate::Authenticator>> {
                self.inner.get_authenticator(credential_id).await
            }
        ] $($rest)*);
    };
    (@next $head:tt $own:tt [$($done:tt)*] list_authenticators $($rest:ident)*) => {
        pass_through!(@next $head $own [$($done)*
            async fn list_authenticators(&self, user_id: &str) -> $crate::AdapterResult<Vec<$crate::Authenticator>> {
                self.inner.list_authenticators(user_id).await
            }
        ] $($rest)*);
    };
    (@next $head:tt $own:tt [$($done:tt)*] update_authenticator_counter $($rest:ident)*) => {
        pass_through!(@next $head $own [$($done)*
            async fn update_authenticator_counter(&self, credential_id: &str, counter: i64) -> $crate::AdapterResult<$crate::Authenticator> {
                self.inner.update_authenticator_counter(credential_id, counter).await
            }
        ] $($rest)*);
    };
    (@next $head:tt $own:tt [$($done:tt)*] delete_authenticator $($rest:ident)*) => {
        pass_through!(@next $head $own [$($done)*
            async fn delete_authenticator(&self, credential_id: &str) -> $crate::AdapterResult<Option<$crate::Authenticator>> {
                self.inner.delete_authenticator(credential_id).await
            }
        ] $($rest)*);
    };
    (@next $head:tt $own:tt [$($done:tt)*] delete_expired $($rest:ident)*) => {
        pass_through!(@next $head $own [$($done)*
            async fn delete_expired(&self, now: $crate::chrono::DateTime<$crate::chrono::Utc>) -> $crate::AdapterResult<$crate::ExpiredCounts> {
                self.inner.delete_expired(now).await
            }
        ] $($rest)*);
    };
}
