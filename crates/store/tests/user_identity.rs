//! Changing a user's email and username (issue 15): who may, the clashes and look-alikes
//! refused as `create_user` refuses them, one history event, and what stays (sessions, the
//! confirmation). Core behaviour, on the SQLite store.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{as_user, create, gatehouse, operator};
use gatehouse_core::{
    Changed, CoreError, Email, GrantTo, HistoryFilter, Lifetimes, Password, UserQuery, UserRef,
    Username,
};
use gatehouse_policy::Effect;

fn email(s: &str) -> Email {
    Email::new(s).unwrap()
}

fn name(s: &str) -> Username {
    Username::new(s).unwrap()
}

fn conflict<T: std::fmt::Debug>(result: Result<T, CoreError>, needle: &str) {
    match result {
        Err(CoreError::Conflict(m)) => assert!(m.contains(needle), "{m}"),
        other => panic!("expected a conflict mentioning `{needle}`, got {other:?}"),
    }
}

#[tokio::test]
async fn set_email_changes_the_login_and_keeps_sessions_and_confirmation() {
    let gh = gatehouse().await;
    let ann = create(&gh, "ann@example.org", Some("ann")).await;
    gh.set_password(
        &operator(),
        &UserRef::Id(ann.id),
        Password::unchecked("a-long-password-1"),
        None,
    )
    .await
    .unwrap();
    let lifetimes = Lifetimes::default();
    let session = gh
        .login("ann@example.org", "a-long-password-1", &lifetimes, true)
        .await
        .unwrap()
        .unwrap();

    let (user, changed) = gh
        .set_email(
            &operator(),
            &UserRef::Id(ann.id),
            email("Ann.New@Example.org"),
        )
        .await
        .unwrap();
    assert_eq!(changed, Changed::Yes);
    assert_eq!(user.email.as_str(), "ann.new@example.org");
    assert!(user.confirmed(), "the confirmation is kept");
    assert_eq!(user.version, ann.version + 2, "password, then email");
    // The new address logs in; the old one names nobody.
    assert!(gh
        .login(
            "ann.new@example.org",
            "a-long-password-1",
            &lifetimes,
            false
        )
        .await
        .unwrap()
        .is_ok());
    assert!(gh
        .login("ann@example.org", "a-long-password-1", &lifetimes, false)
        .await
        .unwrap()
        .is_err());
    // The session from before still resolves.
    assert!(gh
        .resolve_token(&session.session_token)
        .await
        .unwrap()
        .is_some());
    // Search and lookups follow.
    let found = gh
        .list_users(
            &operator(),
            &UserQuery {
                text: Some("ann.new".into()),
                ..UserQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(found.total, 1);
    // The same again changes nothing and records nothing.
    let (_, again) = gh
        .set_email(
            &operator(),
            &UserRef::Id(ann.id),
            email("ann.new@example.org"),
        )
        .await
        .unwrap();
    assert_eq!(again, Changed::No);
    let events: Vec<_> = gh
        .history(
            &operator(),
            Some(&UserRef::Id(ann.id)),
            HistoryFilter::default(),
        )
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "user.set_email")
        .collect();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].details["before"], "ann@example.org");
    assert_eq!(events[0].details["after"], "ann.new@example.org");
}

#[tokio::test]
async fn set_email_refuses_another_accounts_address_and_look_alikes() {
    let gh = gatehouse().await;
    let ann = create(&gh, "ann@example.org", None).await;
    create(&gh, "admin@example.org", None).await;
    let me = UserRef::Id(ann.id);
    conflict(
        gh.set_email(&operator(), &me, email("ADMIN@example.org"))
            .await,
        "email `admin@example.org` is already taken",
    );
    // A Cyrillic `а` for the Latin one.
    conflict(
        gh.set_email(&operator(), &me, email("\u{430}dmin@example.org"))
            .await,
        "looks like the existing account `admin@example.org`",
    );
    // A look-alike of one's own address is fine: it is the same account.
    let (user, _) = gh
        .set_email(&operator(), &me, email("\u{430}nn@example.org"))
        .await
        .unwrap();
    assert_eq!(user.email.as_str(), "\u{430}nn@example.org");
    // Nothing else changed on the refusals.
    let shown = gh.show_user(&operator(), &me).await.unwrap();
    assert_eq!(shown.email, user.email);
}

#[tokio::test]
async fn set_username_sets_changes_case_clears_and_refuses_clashes() {
    let gh = gatehouse().await;
    let ann = create(&gh, "ann@example.org", None).await;
    create(&gh, "bob@example.org", Some("bobby")).await;
    let me = UserRef::Id(ann.id);
    let (user, changed) = gh
        .set_username(&operator(), &me, Some(name("annie")))
        .await
        .unwrap();
    assert_eq!(
        (user.username.clone(), changed),
        (Some(name("annie")), Changed::Yes)
    );
    // Only the case: a change, and no clash with itself.
    let (user, changed) = gh
        .set_username(&operator(), &me, Some(name("Annie")))
        .await
        .unwrap();
    assert_eq!(
        (user.username.clone(), changed),
        (Some(name("Annie")), Changed::Yes)
    );
    conflict(
        gh.set_username(&operator(), &me, Some(name("BOBBY"))).await,
        "username `BOBBY` is already taken",
    );
    // `1` for `l`, `0` for `o`: confusable with `bobby`.
    conflict(
        gh.set_username(&operator(), &me, Some(name("b0bby"))).await,
        "looks like the username of an existing account",
    );
    let (user, changed) = gh.set_username(&operator(), &me, None).await.unwrap();
    assert_eq!((user.username, changed), (None, Changed::Yes));
    let (_, changed) = gh.set_username(&operator(), &me, None).await.unwrap();
    assert_eq!(changed, Changed::No);
    // Now free: another account may take `annie`.
    let other = create(&gh, "other@example.org", None).await;
    gh.set_username(&operator(), &UserRef::Id(other.id), Some(name("annie")))
        .await
        .unwrap();
    let events = gh
        .history(&operator(), Some(&me), HistoryFilter::default())
        .await
        .unwrap();
    let kinds: Vec<_> = events
        .iter()
        .filter(|e| e.action == "user.set_username")
        .map(|e| (e.details["before"].clone(), e.details["after"].clone()))
        .collect();
    assert_eq!(
        kinds,
        [
            (serde_json::Value::Null, "annie".into()),
            ("annie".into(), "Annie".into()),
            ("Annie".into(), serde_json::Value::Null),
        ]
    );
}

#[tokio::test]
async fn changing_the_identity_needs_user_staff_edit_even_for_oneself() {
    let gh = gatehouse().await;
    let ann = create(&gh, "ann@example.org", None).await;
    let staff = create(&gh, "staff@example.org", None).await;
    let me = as_user(&ann);
    for result in [
        gh.set_email(&me, &UserRef::Id(ann.id), email("ann2@example.org"))
            .await
            .map(|_| ()),
        gh.set_username(&me, &UserRef::Id(ann.id), Some(name("ann")))
            .await
            .map(|_| ()),
        gh.set_email(&me, &UserRef::Id(staff.id), email("x@example.org"))
            .await
            .map(|_| ()),
    ] {
        match result {
            Err(CoreError::Forbidden { privilege, .. }) => assert_eq!(privilege, "user/staff/edit"),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
    gh.grant(
        &operator(),
        Effect::Allow,
        "user/staff/edit".parse().unwrap(),
        &GrantTo::User(UserRef::Id(staff.id)),
    )
    .await
    .unwrap();
    let (user, _) = gh
        .set_email(
            &as_user(&staff),
            &UserRef::Id(ann.id),
            email("ann2@example.org"),
        )
        .await
        .unwrap();
    assert_eq!(user.email.as_str(), "ann2@example.org");
    let event = gh
        .history(
            &operator(),
            Some(&UserRef::Id(ann.id)),
            HistoryFilter::default(),
        )
        .await
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(event.action, "user.set_email");
    assert!(event.actor.contains("staff@example.org"), "{}", event.actor);
    // An unknown user is named.
    match gh
        .set_email(
            &operator(),
            &UserRef::Id(gatehouse_policy::UserId(999)),
            email("z@example.org"),
        )
        .await
    {
        Err(CoreError::NotFound { value, .. }) => assert_eq!(value, "999"),
        other => panic!("expected not found, got {other:?}"),
    }
}
