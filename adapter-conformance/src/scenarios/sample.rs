//! The sample data every scenario builds from, and the calls that store it.

use auth_core::chrono::{DateTime, Duration as Span, TimeZone, Utc};
use auth_core::{truncate_to_millis, Account, AccountType, Authenticator, Session, User};

use crate::check::Failure;
use crate::fixture::Fixture;

// ---------------------------------------------------------------- sample data

/// A millisecond-exact instant `ms` milliseconds from now, never on a whole second: a
/// store that keeps only whole seconds must fail every comparison of it, not pass one run
/// in a thousand.
pub(super) fn from_now(ms: i64) -> DateTime<Utc> {
    let at = truncate_to_millis(Utc::now() + Span::milliseconds(ms));
    if at.timestamp_subsec_millis() == 0 {
        at + Span::milliseconds(1)
    } else {
        at
    }
}

pub(super) const DAY: i64 = 24 * 3600 * 1000;

pub(super) fn ymd_ms(
    y: i32,
    mo: u32,
    d: u32,
    h: u32,
    mi: u32,
    s: u32,
    ms: u32,
) -> Result<DateTime<Utc>, Failure> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s)
        .single()
        .map(|t| t + Span::milliseconds(i64::from(ms)))
        .ok_or_else(|| Failure::new("bad sample date"))
}

pub(super) fn full_user(id: &str) -> User {
    User {
        extra: Default::default(),
        id: id.to_owned(),
        email: Some(format!("{id}@Example.com")),
        email_verified: Some(from_now(-DAY)),
        name: Some(format!("Name of {id}")),
        image: Some(format!("https://img.example.com/{id}.png")),
    }
}

pub(super) fn full_account(user_id: &str, provider: &str, provider_account_id: &str) -> Account {
    Account {
        extra: Default::default(),
        user_id: user_id.to_owned(),
        account_type: AccountType::Oidc,
        provider: provider.to_owned(),
        provider_account_id: provider_account_id.to_owned(),
        refresh_token: Some(format!("refresh-{provider_account_id}")),
        access_token: Some(format!("access-{provider_account_id}")),
        expires_at: Some(1_900_000_123),
        token_type: Some("bearer".to_owned()),
        scope: Some("openid profile email".to_owned()),
        id_token: Some(format!("eyJ.id-token.{provider_account_id}")),
        session_state: Some("state-1".to_owned()),
    }
}

pub(super) fn authenticator(credential_id: &str, user_id: &str, counter: i64) -> Authenticator {
    Authenticator {
        credential_id: credential_id.to_owned(),
        user_id: user_id.to_owned(),
        provider_account_id: format!("pa-{credential_id}"),
        credential_public_key: format!("pk-{credential_id}"),
        counter,
        credential_device_type: "multiDevice".to_owned(),
        credential_backed_up: true,
        transports: Some("usb,nfc".to_owned()),
    }
}

pub(super) fn live_session(token: &str, user_id: &str) -> Session {
    Session::with_token(token, user_id, from_now(30 * DAY))
}

pub(super) async fn make_user(fx: &Fixture, id: &str) -> Result<User, Failure> {
    Ok(fx.adapter.create_user(full_user(id)).await?)
}

pub(super) async fn make_session(
    fx: &Fixture,
    token: &str,
    user_id: &str,
) -> Result<Session, Failure> {
    Ok(fx
        .adapter
        .create_session(live_session(token, user_id))
        .await?)
}

pub(super) async fn make_account(
    fx: &Fixture,
    user_id: &str,
    provider: &str,
    provider_account_id: &str,
) -> Result<Account, Failure> {
    Ok(fx
        .adapter
        .link_account(full_account(user_id, provider, provider_account_id))
        .await?)
}

pub(super) async fn make_authenticator(
    fx: &Fixture,
    credential_id: &str,
    user_id: &str,
    counter: i64,
) -> Result<Authenticator, Failure> {
    Ok(fx
        .adapter
        .create_authenticator(authenticator(credential_id, user_id, counter))
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_dates_are_millisecond_exact() {
        let t = ymd_ms(2024, 2, 29, 12, 34, 56, 789).map(|t| t.timestamp_millis());
        assert_eq!(t, Ok(1_709_210_096_789));
        assert_eq!(from_now(5).timestamp_subsec_nanos() % 1_000_000, 0);
        for ms in 0..2_000 {
            assert_ne!(from_now(ms).timestamp_subsec_millis(), 0);
        }
    }
}
