//! Users: create, read by id and email, update, and the email lookup (scenarios 1, 2, 3, 5, 20, 23, 34).

use auth_core::{ErrorCode, ErrorKind, User, UserUpdate};

use super::sample::{from_now, full_user, make_user, DAY};
use crate::check::{expect_error, same, Outcome};
use crate::ensure_eq;
use crate::fixture::Fixture;

/// Scenario 1: create_user stores every field; a raw read equals the input.
pub async fn s01_create_user_stores_every_field(fx: &Fixture) -> Outcome {
    let user = full_user("user-1");
    let returned = fx.adapter.create_user(user.clone()).await?;
    same(&returned, &user, "create_user's return value")?;
    let stored = fx.inspector.stored_user("user-1").await?;
    same(&stored, &Some(user), "the stored user row")
}

/// Scenario 2: get_user: unknown or malformed id → None; known id → the user.
pub async fn s02_get_user_by_id(fx: &Fixture) -> Outcome {
    ensure_eq!(fx.adapter.get_user("nobody").await?, None, "unknown id");
    ensure_eq!(
        fx.adapter.get_user("not a uuid, ' or 1=1 --").await?,
        None,
        "malformed id"
    );
    ensure_eq!(fx.adapter.get_user("").await?, None, "empty id");
    let user = make_user(fx, "user-2").await?;
    same(
        &fx.adapter.get_user("user-2").await?,
        &Some(user),
        "known id",
    )
}

/// Scenario 3: get_user_by_email: unknown → None; known → the user.
pub async fn s03_get_user_by_email(fx: &Fixture) -> Outcome {
    ensure_eq!(
        fx.adapter.get_user_by_email("nobody@example.com").await?,
        None,
        "unknown email"
    );
    let user = make_user(fx, "user-3").await?;
    let email = user.email.clone().unwrap_or_default();
    same(
        &fx.adapter.get_user_by_email(&email).await?,
        &Some(user),
        "known email",
    )
}

/// Scenario 5: update_user changes the name (and clears the image); the stored row changes.
pub async fn s05_update_user_changes_name(fx: &Fixture) -> Outcome {
    let user = make_user(fx, "user-5").await?;
    let update = UserUpdate::new("user-5")
        .name(Some("New Name".into()))
        .image(None);
    let expected = User {
        name: Some("New Name".into()),
        image: None,
        ..user
    };
    same(
        &fx.adapter.update_user(update).await?,
        &expected,
        "update_user's return value",
    )?;
    same(
        &fx.inspector.stored_user("user-5").await?,
        &Some(expected),
        "the stored user after update",
    )
}

/// Scenario 20: Changing the email moves the lookup; a taken email is a Conflict that changes nothing.
pub async fn s20_update_user_moves_email(fx: &Fixture) -> Outcome {
    let ada = make_user(fx, "ada").await?;
    let bob = make_user(fx, "bob").await?;
    let moved = fx
        .adapter
        .update_user(UserUpdate::new("ada").email(Some("Ada.New@example.com".into())))
        .await?;
    let expected = User {
        email: Some("Ada.New@example.com".into()),
        ..ada
    };
    same(&moved, &expected, "the user with the new email")?;
    same(
        &fx.adapter.get_user_by_email("ada.new@EXAMPLE.com").await?,
        &Some(moved.clone()),
        "lookup by the new email",
    )?;
    ensure_eq!(
        fx.adapter.get_user_by_email("ada@example.com").await?,
        None,
        "lookup by the old email"
    );
    // A user may change only the case of their own email.
    let recased = fx
        .adapter
        .update_user(UserUpdate::new("ada").email(Some("ADA.NEW@example.com".into())))
        .await?;
    ensure_eq!(
        recased.email.as_deref(),
        Some("ADA.NEW@example.com"),
        "the re-cased email"
    );
    // The old email is free again.
    fx.adapter
        .create_user(User::with_id("carol").with_email("ADA@example.com"))
        .await?;

    expect_error(
        fx.adapter
            .update_user(
                UserUpdate::new("ada")
                    .email(Some("BOB@example.com".into()))
                    .name(Some("x".into())),
            )
            .await,
        ErrorKind::Conflict,
        ErrorCode::UpdateUserError,
        "moving to a taken email",
    )?;
    same(
        &fx.inspector.stored_user("ada").await?,
        &Some(recased.clone()),
        "ada after the refused update",
    )?;
    same(
        &fx.adapter.get_user_by_email("bob@example.com").await?,
        &Some(bob),
        "bob's email still finds bob",
    )?;
    same(
        &fx.adapter.get_user_by_email("ada.new@example.com").await?,
        &Some(recased),
        "ada's email still finds ada",
    )?;
    expect_error(
        fx.adapter
            .update_user(UserUpdate::new("nobody").name(Some("x".into())))
            .await,
        ErrorKind::NotFound,
        ErrorCode::UpdateUserError,
        "updating an unknown user",
    )?;
    let cleared = fx
        .adapter
        .update_user(UserUpdate::new("ada").email(None))
        .await?;
    ensure_eq!(cleared.email, None, "a cleared email");
    ensure_eq!(
        fx.adapter.get_user_by_email("ada.new@example.com").await?,
        None,
        "lookup of a cleared email"
    );
    Ok(())
}

/// Scenario 23: Emails differing only in case find the same user; users without email coexist.
pub async fn s23_email_is_case_insensitive(fx: &Fixture) -> Outcome {
    let user = fx
        .adapter
        .create_user(User::with_id("user-23").with_email("Ada.Lovelace@Example.COM"))
        .await?;
    for probe in [
        "ada.lovelace@example.com",
        "ADA.LOVELACE@EXAMPLE.COM",
        "  Ada.Lovelace@example.com ",
    ] {
        same(
            &fx.adapter.get_user_by_email(probe).await?,
            &Some(user.clone()),
            &format!("lookup by {probe:?}"),
        )?;
    }
    let stored = fx.inspector.stored_user("user-23").await?;
    ensure_eq!(
        stored.and_then(|u| u.email).as_deref(),
        Some("Ada.Lovelace@Example.COM"),
        "the stored spelling"
    );
    let unicode = fx
        .adapter
        .create_user(User::with_id("user-23u").with_email("ÉLODIE@Exemple.fr"))
        .await?;
    same(
        &fx.adapter.get_user_by_email("élodie@exemple.fr").await?,
        &Some(unicode),
        "a Unicode email",
    )?;
    let mut anonymous = Vec::new();
    for i in 0..3 {
        anonymous.push(
            fx.adapter
                .create_user(User::with_id(format!("anon-{i}")))
                .await?,
        );
    }
    for user in anonymous {
        same(
            &fx.adapter.get_user(&user.id).await?,
            &Some(user),
            "a user without email",
        )?;
    }
    ensure_eq!(
        fx.adapter.get_user_by_email("").await?,
        None,
        "the empty email"
    );
    Ok(())
}

/// Scenario 34: email_verified set, then cleared with `Some(None)`: each reads back as written.
pub async fn s34_email_verified_set_and_cleared(fx: &Fixture) -> Outcome {
    let user = fx
        .adapter
        .create_user(User::with_id("user-34").with_email("user-34@example.com"))
        .await?;
    let at = from_now(-3 * DAY + 321);
    let verified = User {
        email_verified: Some(at),
        ..user.clone()
    };
    same(
        &fx.adapter
            .update_user(UserUpdate::new("user-34").email_verified(Some(at)))
            .await?,
        &verified,
        "setting email_verified",
    )?;
    same(
        &fx.inspector.stored_user("user-34").await?,
        &Some(verified),
        "the stored user after setting",
    )?;
    same(
        &fx.adapter
            .update_user(UserUpdate::new("user-34").email_verified(None))
            .await?,
        &user,
        "clearing email_verified",
    )?;
    same(
        &fx.adapter.get_user("user-34").await?,
        &Some(user),
        "the user after clearing",
    )
}
