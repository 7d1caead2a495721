//! What values the stores keep or refuse: hostile strings, extreme dates, over-cap input (scenarios 24, 25, 38).

use std::time::{Duration, Instant};

use auth_core::chrono::{Duration as Span, Utc};
use auth_core::validate::{
    MAX_CREDENTIAL_ID_BYTES, MAX_EMAIL_BYTES, MAX_KEY_BYTES, MAX_TEXT_BYTES,
};
use auth_core::Adapter;
use auth_core::{
    Account, AccountType, ErrorCode, ErrorKind, Session, SessionUpdate, User, UserUpdate,
    VerificationToken,
};

use super::sample::{
    authenticator, from_now, full_account, live_session, make_account, make_session, make_user,
    ymd_ms, DAY,
};
use crate::check::{expect_error, same, Failure, Outcome};
use crate::fixture::Fixture;
use crate::{ensure, ensure_eq};

/// Strings that hostile backends would read as syntax: SQL, LIKE, glob, Lua, Mongo
/// operators, JSON, escapes, emoji.
pub const HOSTILE_STRINGS: &[&str] = &[
    "O'Brien \"quoted\" `tick`",
    "100%_match",
    "*",
    "?[a-z]",
    "$where",
    "{\"$gt\": \"\"}",
    "{}",
    "'; DROP TABLE users; --",
    "redis.call('FLUSHALL')",
    "]]..redis.call('DEL', KEYS[1])..[[",
    "emoji 🦀🔐 ünïcödé",
    "back\\slash\\",
    "new\nline\ttab\r",
    "a:b:c",
    "%",
    "_",
    " leading and trailing ",
];

/// Scenario 24: Hostile strings round-trip exactly; wildcards match only themselves; empty keys are
/// InvalidInput; NUL bytes and long keys are stored exactly or refused, never truncated.
pub async fn s24_hostile_strings_are_plain_data(fx: &Fixture) -> Outcome {
    let plain = fx
        .adapter
        .create_user(User::with_id("plain").with_email("abc@example.com"))
        .await?;
    make_session(fx, "token-1", &plain.id).await?;
    make_account(fx, &plain.id, "prov", "acct").await?;
    for (i, s) in HOSTILE_STRINGS.iter().enumerate() {
        let s = *s;
        let user = User {
            extra: Default::default(),
            id: s.to_owned(),
            email: Some(format!("{s}-{i}@example.com")),
            email_verified: None,
            name: Some(s.to_owned()),
            image: Some(s.to_owned()),
        };
        same(
            &fx.adapter.create_user(user.clone()).await?,
            &user,
            &format!("create_user({s:?})"),
        )?;
        same(
            &fx.adapter.get_user(s).await?,
            &Some(user.clone()),
            &format!("get_user({s:?})"),
        )?;
        same(
            &fx.inspector.stored_user(s).await?,
            &Some(user.clone()),
            &format!("stored user {s:?}"),
        )?;
        let email = user.email.clone().unwrap_or_default();
        same(
            &fx.adapter.get_user_by_email(&email).await?,
            &Some(user.clone()),
            &format!("get_user_by_email({email:?})"),
        )?;
        let account = full_account(s, s, s);
        ensure_eq!(
            fx.adapter.link_account(account.clone()).await?,
            account,
            "link_account({s:?})"
        );
        same(
            &fx.adapter.get_user_by_account(s, s).await?,
            &Some(user.clone()),
            &format!("get_user_by_account({s:?})"),
        )?;
        let session = live_session(s, s);
        fx.adapter.create_session(session.clone()).await?;
        same(
            &fx.adapter.get_session_and_user(s).await?,
            &Some((session, user)),
            &format!("get_session_and_user({s:?})"),
        )?;
        let token = VerificationToken::new(s, s, from_now(DAY));
        fx.adapter.create_verification_token(token.clone()).await?;
        same(
            &fx.adapter.use_verification_token(s, s).await?,
            &Some(token),
            &format!("use_verification_token({s:?})"),
        )?;
        let cred = authenticator(s, s, 7);
        fx.adapter.create_authenticator(cred.clone()).await?;
        ensure_eq!(
            fx.adapter.get_authenticator(s).await?,
            Some(cred),
            "get_authenticator({s:?})"
        );
    }
    for probe in [
        "a_c@example.com",
        "a%@example.com",
        "a*@example.com",
        "?bc@example.com",
        "ABC@example.co_",
    ] {
        ensure_eq!(
            fx.adapter.get_user_by_email(probe).await?,
            None,
            "the pattern {probe:?} matched"
        );
    }
    for probe in ["token-_", "token-%", "token-*", "token-?", "token-[1]"] {
        ensure_eq!(
            fx.adapter.get_session_and_user(probe).await?,
            None,
            "the pattern {probe:?} matched"
        );
    }
    ensure_eq!(
        fx.adapter.get_account("pro_", "acc%").await?,
        None,
        "an account pattern matched"
    );

    let big_id_token = "x".repeat(4096);
    let mut account = full_account(&plain.id, "big", "big-1");
    account.id_token = Some(big_id_token);
    fx.adapter.link_account(account.clone()).await?;
    ensure_eq!(
        fx.inspector.stored_account("big", "big-1").await?,
        Some(account),
        "a 4 KiB id_token"
    );

    use ErrorCode as C;
    let invalid = ErrorKind::InvalidInput;
    expect_error(
        fx.adapter.create_user(User::with_id("")).await,
        invalid,
        C::CreateUserError,
        "empty user id",
    )?;
    expect_error(
        fx.adapter.create_session(live_session("", &plain.id)).await,
        invalid,
        C::CreateSessionError,
        "empty session token",
    )?;
    expect_error(
        fx.adapter
            .create_verification_token(VerificationToken::new("a@example.com", "", from_now(DAY)))
            .await,
        invalid,
        C::CreateVerificationRequestError,
        "empty verification token",
    )?;
    expect_error(
        fx.adapter
            .create_verification_token(VerificationToken::new("", "tok", from_now(DAY)))
            .await,
        invalid,
        C::CreateVerificationRequestError,
        "empty identifier",
    )?;
    expect_error(
        fx.adapter
            .link_account(Account::new(&plain.id, AccountType::OAuth, "", "x"))
            .await,
        invalid,
        C::LinkAccountError,
        "empty provider",
    )?;
    expect_error(
        fx.adapter
            .create_authenticator(authenticator("", &plain.id, 0))
            .await,
        invalid,
        C::CreateAuthenticatorError,
        "empty credential id",
    )?;
    ensure_eq!(
        fx.adapter.get_session_and_user("").await?,
        None,
        "reading the empty token"
    );

    // Stored exactly, or refused as InvalidInput: never truncated, never another error.
    let nul = User::with_id("nul-user").with_name("before\0after");
    match fx.adapter.create_user(nul.clone()).await {
        Ok(_) => same(
            &fx.adapter.get_user("nul-user").await?,
            &Some(nul),
            "a name with a NUL byte",
        )?,
        Err(err) => expect_error::<()>(Err(err), invalid, C::CreateUserError, "a NUL byte")?,
    }
    ensure_eq!(
        fx.adapter.get_user("a\0b").await?,
        None,
        "reading an id with a NUL byte"
    );
    ensure_eq!(
        fx.adapter.get_session_and_user("a\0b").await?,
        None,
        "reading a token with a NUL byte"
    );
    let long_id = "L".repeat(4096);
    match fx
        .adapter
        .create_user(User::with_id(long_id.as_str()))
        .await
    {
        Ok(user) => {
            ensure_eq!(user.id.len(), 4096, "the returned long id");
            let read = fx.adapter.get_user(&long_id).await?;
            ensure_eq!(read.map(|u| u.id.len()), Some(4096), "the stored long id");
        }
        Err(err) => expect_error::<()>(Err(err), invalid, C::CreateUserError, "a 4 KiB user id")?,
    }
    ensure_eq!(
        fx.adapter.get_user(&"L".repeat(4000)).await?,
        None,
        "a truncated long id matched"
    );
    Ok(())
}

/// Scenario 25: Far past, far future and millisecond values round-trip exactly.
pub async fn s25_dates_round_trip(fx: &Fixture) -> Outcome {
    let instants = [
        ymd_ms(1001, 1, 1, 0, 0, 0, 0)?,
        ymd_ms(1969, 12, 31, 23, 59, 59, 999)?,
        ymd_ms(1970, 1, 1, 0, 0, 0, 0)?,
        ymd_ms(2024, 2, 29, 12, 34, 56, 789)?,
        ymd_ms(9998, 12, 31, 23, 59, 59, 999)?,
        Utc::now(),
    ];
    for (i, at) in instants.iter().enumerate() {
        let user = User {
            email_verified: Some(*at),
            ..User::with_id(format!("dated-{i}"))
        };
        fx.adapter.create_user(user.clone()).await?;
        same(
            &fx.inspector.stored_user(&user.id).await?,
            &Some(user.clone()),
            &format!("stored email_verified {at}"),
        )?;
        same(
            &fx.adapter.get_user(&user.id).await?,
            &Some(user),
            &format!("email_verified {at}"),
        )?;
    }
    let far = ymd_ms(9998, 12, 31, 23, 59, 59, 999)?;
    let session = Session::with_token("far-session", "dated-0", far);
    fx.adapter.create_session(session.clone()).await?;
    same(
        &fx.adapter
            .get_session_and_user("far-session")
            .await?
            .map(|(s, _)| s),
        &Some(session),
        "a far-future session",
    )?;
    let odd_ms = from_now(DAY) + Span::microseconds(456);
    let updated = fx
        .adapter
        .update_session(SessionUpdate::new("far-session").expires(odd_ms))
        .await?;
    same(
        &updated.map(|s| s.expires),
        &Some(odd_ms),
        "expires with sub-millisecond digits",
    )?;
    same(
        &fx.inspector
            .stored_session("far-session")
            .await?
            .map(|s| s.expires),
        &Some(odd_ms),
        "stored expires",
    )?;
    let token = VerificationToken::new("far@example.com", "far", far);
    fx.adapter.create_verification_token(token.clone()).await?;
    same(
        &fx.adapter
            .use_verification_token("far@example.com", "far")
            .await?,
        &Some(token),
        "a far-future token",
    )
}

/// What scenario 38 sends over the caps: one value per cap, for one existing user.
struct OverCapInputs {
    user_id: String,
    long_key: String,
    long_email: String,
    long_text: String,
    long_cred: String,
    big_account: Account,
}

impl OverCapInputs {
    /// Every call with an over-cap input must be InvalidInput with the method's code.
    async fn are_refused_by(&self, db: &dyn Adapter) -> Outcome {
        use ErrorCode as C;
        let invalid = ErrorKind::InvalidInput;
        let Self {
            user_id,
            long_key,
            long_email,
            long_text,
            long_cred,
            big_account,
        } = self;
        expect_error(
            db.create_user(User::with_id(long_key)).await,
            invalid,
            C::CreateUserError,
            "a 256-byte user id",
        )?;
        expect_error(
            db.create_user(User::with_id("user-38-email").with_email(long_email))
                .await,
            invalid,
            C::CreateUserError,
            "an over-long email",
        )?;
        expect_error(
            db.create_user(User::with_id("user-38-blank").with_email("  "))
                .await,
            invalid,
            C::CreateUserError,
            "a blank email",
        )?;
        expect_error(
            db.create_user(User::with_id("user-38-name").with_name(long_text))
                .await,
            invalid,
            C::CreateUserError,
            "a name over 64 KiB",
        )?;
        expect_error(
            db.update_user(UserUpdate::new(user_id).name(Some(long_text.to_owned())))
                .await,
            invalid,
            C::UpdateUserError,
            "updating to a name over 64 KiB",
        )?;
        expect_error(
            db.update_user(UserUpdate::new(user_id).email(Some(String::new())))
                .await,
            invalid,
            C::UpdateUserError,
            "updating to an empty email",
        )?;
        expect_error(
            db.create_session(Session::with_token(long_key, user_id, from_now(DAY)))
                .await,
            invalid,
            C::CreateSessionError,
            "a 256-byte session token",
        )?;
        expect_error(
            db.link_account(big_account.clone()).await,
            invalid,
            C::LinkAccountError,
            "an id_token over 64 KiB",
        )?;
        expect_error(
            db.create_authenticator(authenticator(long_cred, user_id, 0))
                .await,
            invalid,
            C::CreateAuthenticatorError,
            "a 513-byte credential id",
        )?;
        expect_error(
            db.create_verification_token(VerificationToken::new(
                "a@example.com",
                long_key,
                from_now(DAY),
            ))
            .await,
            invalid,
            C::CreateVerificationRequestError,
            "a 256-byte verification token",
        )
    }
}

/// Scenario 38: Inputs over the documented size caps (and a blank email) are InvalidInput
/// before any I/O — also on an adapter whose server is down — and nothing is stored; values
/// at the cap are stored exactly.
pub async fn s38_over_cap_inputs_are_refused_before_io(fx: &Fixture) -> Outcome {
    let user = make_user(fx, "user-38").await?;
    let long_text = "t".repeat(MAX_TEXT_BYTES + 1);
    let mut big_account = full_account(&user.id, "github", "gh-38");
    big_account.id_token = Some(long_text.clone());
    let inputs = OverCapInputs {
        user_id: user.id.clone(),
        long_key: "k".repeat(MAX_KEY_BYTES + 1),
        long_email: format!("{}@example.com", "e".repeat(MAX_EMAIL_BYTES)),
        long_text,
        long_cred: "c".repeat(MAX_CREDENTIAL_ID_BYTES + 1),
        big_account,
    };

    inputs.are_refused_by(fx.adapter.as_ref()).await?;
    ensure_eq!(
        fx.inspector.stored_user(&inputs.long_key).await?,
        None,
        "the over-long user"
    );
    ensure_eq!(
        fx.inspector.stored_account("github", "gh-38").await?,
        None,
        "the account with a huge id_token"
    );
    ensure_eq!(
        fx.inspector.stored_user("user-38-blank").await?,
        None,
        "the user with a blank email"
    );

    let unreachable = fx.inspector.unreachable().await;
    if let Ok(dead) = unreachable.adapter {
        let started = Instant::now();
        inputs
            .are_refused_by(dead.as_ref())
            .await
            .map_err(|f| Failure::new(format!("on an adapter whose server is down: {f}")))?;
        let elapsed = started.elapsed();
        ensure!(
            elapsed < Duration::from_secs(1),
            "refusing bad input on a dead server took {elapsed:?}: it waited for the database"
        );
    }

    let at_cap = User::with_id("u".repeat(MAX_KEY_BYTES));
    same(
        &fx.adapter.create_user(at_cap.clone()).await?,
        &at_cap,
        "a 255-byte user id",
    )?;
    same(
        &fx.adapter.get_user(&at_cap.id).await?,
        &Some(at_cap),
        "reading the 255-byte user id",
    )
}
