//! Holders of `administration-access` read everything the administration panel shows, and
//! change nothing without the change's own privilege (issue 15; docs/decisions.md). The
//! grant is given exactly as the seed says: `access allow administration-access user EMAIL`.
//! Core behaviour, on the SQLite store.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{as_user, create, gatehouse, new_user, operator};
use gatehouse_core::{CoreError, GrantTo, HistoryFilter, UserQuery, UserRef};
use gatehouse_policy::{Effect, Privilege, RoleName};

fn forbidden<T: std::fmt::Debug>(result: Result<T, CoreError>, privilege: &str) {
    match result {
        Err(CoreError::Forbidden { privilege: p, .. }) => assert_eq!(p, privilege),
        other => panic!("expected a refusal naming `{privilege}`, got {other:?}"),
    }
}

#[tokio::test]
async fn administration_access_reads_what_the_panel_shows_and_changes_nothing() {
    let gh = gatehouse().await;
    let reader = create(&gh, "reader@example.org", None).await;
    let other = create(&gh, "other@example.org", Some("other")).await;
    gh.create_service_token(&operator(), "repo", vec!["check/any".parse().unwrap()])
        .await
        .unwrap();
    let me = as_user(&reader);

    // Before the grant: a plain user reads none of it.
    forbidden(gh.list_users(&me, &UserQuery::default()).await, "user/view");
    forbidden(gh.list_roles(&me).await, "config/view");

    // The seed's step.
    let admin_access: Privilege = "administration-access".parse().unwrap();
    gh.grant(
        &operator(),
        Effect::Allow,
        admin_access.clone(),
        &GrantTo::User(UserRef::Email("reader@example.org".into())),
    )
    .await
    .unwrap();

    let users = gh.list_users(&me, &UserQuery::default()).await.unwrap();
    assert_eq!(users.total, 2);
    let search = UserQuery {
        text: Some("other".into()),
        ..UserQuery::default()
    };
    assert_eq!(gh.list_users(&me, &search).await.unwrap().total, 1);
    let shown = gh.show_user(&me, &UserRef::Id(other.id)).await.unwrap();
    assert_eq!(shown.email.as_str(), "other@example.org");
    let held = gh.privileges(&me, &UserRef::Id(other.id)).await.unwrap();
    assert!(held.active);
    assert!(!gh.list_roles(&me).await.unwrap().is_empty());
    gh.show_role(&me, &RoleName::new("admin").unwrap())
        .await
        .unwrap();
    let grants = gh.list_grants(&me, None).await.unwrap();
    assert!(grants
        .iter()
        .any(|g| g.privilege == "administration-access" && g.target == "reader@example.org"));
    assert!(!gh
        .history(&me, None, HistoryFilter::default())
        .await
        .unwrap()
        .is_empty());
    gh.history(&me, Some(&UserRef::Id(other.id)), HistoryFilter::default())
        .await
        .unwrap();
    // History pages with filters and a total.
    let page = gh
        .history_page(
            &me,
            None,
            HistoryFilter {
                action: Some("user.create".into()),
                actor: Some("OPERATOR".into()),
                limit: 1,
                newest_first: true,
                ..HistoryFilter::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(page.total, 2);
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].target, "other@example.org");
    let tokens = gh.list_service_tokens(&me).await.unwrap();
    assert_eq!(tokens.len(), 1);
    assert!(gh.list_clients(&me).await.unwrap().is_empty());
    gh.password_schemes(&me).await.unwrap();
    // The explain page: a check about another user.
    let eprint_view: Privilege = "eprint/view".parse().unwrap();
    gh.check(&me, Some(&UserRef::Id(other.id)), &eprint_view, None)
        .await
        .unwrap();
    gh.who_can(&me, &eprint_view, None, None).await.unwrap();

    // Every change needs its own privilege, and the refusal names it.
    forbidden(
        gh.create_user(&me, new_user("new@example.org", None)).await,
        "create_user",
    );
    forbidden(
        gh.set_profile(&me, &UserRef::Id(other.id), Some("Changed".into()), None)
            .await,
        "user/edit",
    );
    forbidden(
        gh.grant(
            &me,
            Effect::Allow,
            "eprint/view".parse().unwrap(),
            &GrantTo::User(UserRef::Id(other.id)),
        )
        .await,
        "config/edit",
    );
    forbidden(
        gh.deactivate(&me, &UserRef::Id(other.id)).await,
        "user/staff/edit",
    );
    forbidden(
        gh.create_service_token(&me, "mine", vec![admin_access.clone()])
            .await,
        "config/edit",
    );
    let unchanged = gh
        .show_user(&operator(), &UserRef::Id(other.id))
        .await
        .unwrap();
    assert_eq!(unchanged, other);

    // A deny of `administration-access` takes the reading away again.
    gh.grant(
        &operator(),
        Effect::Deny,
        admin_access,
        &GrantTo::User(UserRef::Id(reader.id)),
    )
    .await
    .unwrap();
    forbidden(gh.list_users(&me, &UserQuery::default()).await, "user/view");
}

#[tokio::test]
async fn an_inactive_holder_of_administration_access_reads_nothing() {
    let gh = gatehouse().await;
    let reader = create(&gh, "reader@example.org", None).await;
    gh.grant(
        &operator(),
        Effect::Allow,
        "administration-access".parse().unwrap(),
        &GrantTo::User(UserRef::Id(reader.id)),
    )
    .await
    .unwrap();
    gh.deactivate(&operator(), &UserRef::Id(reader.id))
        .await
        .unwrap();
    forbidden(gh.list_grants(&as_user(&reader), None).await, "config/view");
}
