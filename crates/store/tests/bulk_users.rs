//! One action on many users (issue 15): all or nothing in one transaction, each user
//! authorized as the single operation is, the single operation's rules (deactivation ends
//! sessions, roles must exist, the last superuser stays), one history event per user
//! changed, and a limit per call. Core behaviour, on the SQLite store.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{as_user, create, gatehouse, operator};
use gatehouse_core::{
    BulkAction, CoreError, Gatehouse, GrantTo, HistoryFilter, Lifetimes, Password, User, UserRef,
    BULK_MAX_USERS,
};
use gatehouse_policy::{Effect, Entry, UserId};

fn ids(users: &[User]) -> Vec<UserId> {
    users.iter().map(|u| u.id).collect()
}

async fn events(gh: &Gatehouse, action: &str) -> Vec<Option<UserId>> {
    gh.history(&operator(), None, HistoryFilter::default())
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == action)
        .map(|e| e.user_id)
        .collect()
}

async fn three(gh: &Gatehouse) -> [User; 3] {
    [
        create(gh, "a@example.org", None).await,
        create(gh, "b@example.org", None).await,
        create(gh, "c@example.org", None).await,
    ]
}

#[tokio::test]
async fn deactivate_many_ends_their_sessions_and_reports_who_was_already_so() {
    let gh = gatehouse().await;
    let [a, b, c] = three(&gh).await;
    gh.set_password(
        &operator(),
        &UserRef::Id(a.id),
        Password::unchecked("a-long-password-1"),
        None,
    )
    .await
    .unwrap();
    let session = gh
        .login(
            "a@example.org",
            "a-long-password-1",
            &Lifetimes::default(),
            false,
        )
        .await
        .unwrap()
        .unwrap();
    gh.deactivate(&operator(), &UserRef::Id(c.id))
        .await
        .unwrap();

    // `a` twice counts once.
    let out = gh
        .bulk_users(
            &operator(),
            &[a.id, b.id, c.id, a.id],
            BulkAction::Deactivate,
        )
        .await
        .unwrap();
    assert_eq!(ids(&out.changed), [a.id, b.id]);
    assert_eq!(ids(&out.unchanged), [c.id]);
    assert!(out.changed.iter().all(|u| !u.active));
    assert!(gh
        .resolve_token(&session.session_token)
        .await
        .unwrap()
        .is_none());
    // One event per user changed (c's is from the single deactivation).
    assert_eq!(
        events(&gh, "user.deactivate").await,
        [Some(c.id), Some(a.id), Some(b.id)]
    );

    // Activate all three: all change, each is confirmed too, as `activate` does.
    let out = gh
        .bulk_users(&operator(), &[a.id, b.id, c.id], BulkAction::Activate)
        .await
        .unwrap();
    assert_eq!(ids(&out.changed), [a.id, b.id, c.id]);
    assert!(out.changed.iter().all(|u| u.active && u.confirmed()));
    let out = gh
        .bulk_users(&operator(), &[a.id, b.id], BulkAction::Confirm)
        .await
        .unwrap();
    assert!(out.changed.is_empty());
    assert_eq!(ids(&out.unchanged), [a.id, b.id]);
}

#[tokio::test]
async fn entries_are_added_and_removed_as_the_single_operations_do() {
    let gh = gatehouse().await;
    let [a, b, _] = three(&gh).await;
    let editor: Entry = "editor".parse().unwrap();
    gh.add_entry(&operator(), &UserRef::Id(b.id), editor.clone())
        .await
        .unwrap();
    let out = gh
        .bulk_users(
            &operator(),
            &[a.id, b.id],
            BulkAction::AddEntry(editor.clone()),
        )
        .await
        .unwrap();
    assert_eq!(
        (ids(&out.changed), ids(&out.unchanged)),
        (vec![a.id], vec![b.id])
    );
    assert_eq!(out.changed[0].entries, std::slice::from_ref(&editor));
    let minus: Entry = "-eprint/view".parse().unwrap();
    gh.bulk_users(&operator(), &[a.id], BulkAction::AddEntry(minus.clone()))
        .await
        .unwrap();
    let out = gh
        .bulk_users(
            &operator(),
            &[a.id, b.id],
            BulkAction::RemoveEntry(editor.clone()),
        )
        .await
        .unwrap();
    assert_eq!(ids(&out.changed), [a.id, b.id]);
    assert_eq!(out.changed[0].entries, [minus]);
    assert_eq!(
        events(&gh, "user.add_role").await,
        [Some(b.id), Some(a.id), Some(a.id)]
    );
    assert_eq!(
        events(&gh, "user.remove_role").await,
        [Some(a.id), Some(b.id)]
    );

    // A role that does not exist: refused before anything, naming it.
    let err = gh
        .bulk_users(
            &operator(),
            &[a.id],
            BulkAction::AddEntry("no-such-role".parse().unwrap()),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no-such-role"), "{err}");
}

#[tokio::test]
async fn one_missing_or_forbidden_user_changes_nothing_and_is_named() {
    let gh = gatehouse().await;
    let [a, b, c] = three(&gh).await;
    let missing = UserId(999);
    let err = gh
        .bulk_users(&operator(), &[a.id, missing, b.id], BulkAction::Deactivate)
        .await
        .unwrap_err();
    match &err {
        CoreError::NotFound { what, value, .. } => {
            assert_eq!((*what, value.as_str()), ("user", "999"))
        }
        other => panic!("expected not found, got {other:?}"),
    }
    for u in [&a, &b] {
        assert!(
            gh.show_user(&operator(), &UserRef::Id(u.id))
                .await
                .unwrap()
                .active
        );
    }
    assert!(events(&gh, "user.deactivate").await.is_empty());

    // A user holding only `user/staff/edit:owner` may act on themselves, not on `c`.
    gh.grant(
        &operator(),
        Effect::Allow,
        "user/staff/edit:owner".parse().unwrap(),
        &GrantTo::User(UserRef::Id(b.id)),
    )
    .await
    .unwrap();
    let me = as_user(&b);
    let out = gh
        .bulk_users(&me, &[b.id], BulkAction::AddEntry("+x/y".parse().unwrap()))
        .await
        .unwrap();
    assert_eq!(ids(&out.changed), [b.id]);
    let err = gh
        .bulk_users(
            &me,
            &[b.id, c.id],
            BulkAction::AddEntry("+z/w".parse().unwrap()),
        )
        .await
        .unwrap_err();
    match &err {
        CoreError::Forbidden { privilege, user } => {
            assert_eq!(privilege, "user/staff/edit");
            assert!(user.as_deref().unwrap().contains("c@example.org"), "{err}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(err.to_string().contains("on user c@example.org"), "{err}");
    let b_now = gh.show_user(&operator(), &UserRef::Id(b.id)).await.unwrap();
    assert_eq!(b_now.entries, ["+x/y".parse::<Entry>().unwrap()]);
}

#[tokio::test]
async fn the_last_superuser_stays_and_the_limit_is_named() {
    let gh = gatehouse().await;
    let [a, b, _] = three(&gh).await;
    for u in [&a, &b] {
        gh.grant(
            &operator(),
            Effect::Allow,
            "superuser-access".parse().unwrap(),
            &GrantTo::User(UserRef::Id(u.id)),
        )
        .await
        .unwrap();
    }
    // `a`, a superuser, deactivates both: the last one would go, so nothing changes.
    let err = gh
        .bulk_users(&as_user(&a), &[a.id, b.id], BulkAction::Deactivate)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("superuser-access"), "{err}");
    assert!(
        gh.show_user(&operator(), &UserRef::Id(b.id))
            .await
            .unwrap()
            .active
    );
    // One of the two is fine.
    let out = gh
        .bulk_users(&as_user(&a), &[b.id], BulkAction::Deactivate)
        .await
        .unwrap();
    assert_eq!(ids(&out.changed), [b.id]);

    let many: Vec<UserId> = (1..=BULK_MAX_USERS as i64 + 1).map(UserId).collect();
    let err = gh
        .bulk_users(&operator(), &many, BulkAction::Confirm)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("501 users") && err.contains("at most 500"),
        "{err}"
    );
    let err = gh
        .bulk_users(&operator(), &[], BulkAction::Confirm)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("no users"), "{err}");
}

#[test]
fn actions_parse_by_name_with_their_entry() {
    let e: Entry = "editor".parse().unwrap();
    assert_eq!(
        BulkAction::parse("activate", None),
        Ok(BulkAction::Activate)
    );
    assert_eq!(
        BulkAction::parse("add-entry", Some(e.clone())),
        Ok(BulkAction::AddEntry(e.clone()))
    );
    assert_eq!(
        BulkAction::AddEntry(e.clone()).to_string(),
        "add-entry editor"
    );
    for (name, entry, needle) in [
        ("add-entry", None, "needs the entry"),
        ("confirm", Some(e.clone()), "takes no entry"),
        ("explode", None, "unknown bulk action `explode`"),
    ] {
        let err = BulkAction::parse(name, entry).unwrap_err().to_string();
        assert!(err.contains(needle), "{err}");
    }
}
