//! `Gatehouse::explain` (issue 15): authorized exactly as `check` (a user may ask about
//! themselves, anyone about an anonymous visitor, about another user only with `check/any`),
//! the very decision `check` gives, the walk with a `-p` removal, and a status the dataset
//! does not have refused with the valid ones listed. Core behaviour, on the SQLite store.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use gatehouse_core::{
    Actor, Channel, Context, CoreError, CreateUser, Email, Gatehouse, PasswordPolicy,
    PasswordSource, Settings, UserRef,
};
use gatehouse_policy::{Entry, Item, PolicyConfig, Privilege, StepKind, TypeName, UserId};
use gatehouse_store::SqliteStore;

async fn gatehouse() -> Gatehouse {
    let store = Arc::new(SqliteStore::memory().await.unwrap());
    let settings = Settings {
        password_policy: PasswordPolicy::default(),
        default_type: TypeName::new("user").unwrap(),
        admin_email: Email::new("admin@example.org").unwrap(),
        fixture_passwords: Default::default(),
        legacy: Default::default(),
    };
    Gatehouse::new(store, PolicyConfig::builtin().clone(), settings)
}

fn operator() -> Context {
    Context::operator("tests", Channel::Cli)
}

fn as_user(id: UserId) -> Context {
    Context {
        actor: Actor::User(id),
        ..operator()
    }
}

async fn create(gh: &Gatehouse, email: &str, user_type: &str, entries: &[&str]) -> UserId {
    gh.create_user(
        &operator(),
        CreateUser {
            email: Email::new(email).unwrap(),
            username: None,
            full_name: String::new(),
            affiliations: String::new(),
            password: PasswordSource::None,
            active: true,
            confirm: true,
            user_type: Some(TypeName::new(user_type).unwrap()),
            entries: entries
                .iter()
                .map(|e| e.parse::<Entry>().unwrap())
                .collect(),
        },
    )
    .await
    .unwrap()
    .id
}

fn privilege(s: &str) -> Privilege {
    s.parse().unwrap()
}

#[tokio::test]
async fn explain_is_authorized_like_check() {
    let gh = gatehouse().await;
    let ann = create(&gh, "ann@example.org", "user", &["-create_eprint"]).await;
    let bob = create(&gh, "bob@example.org", "user", &[]).await;
    let admin = create(&gh, "root@example.org", "admin", &["+check/any"]).await;
    let create_eprint = privilege("create_eprint");
    let ann_ref = UserRef::Id(ann);

    // Ann about herself: the decision check gives, and the walk with her removal.
    let e = gh
        .explain(&as_user(ann), Some(&ann_ref), &create_eprint, None)
        .await
        .unwrap();
    let d = gh
        .check(&as_user(ann), Some(&ann_ref), &create_eprint, None)
        .await
        .unwrap();
    assert_eq!(e.decision, d);
    assert!(!d.allowed);
    let kinds: Vec<StepKind> = e.steps.iter().map(|s| s.kind).collect();
    assert_eq!(kinds, [StepKind::Added, StepKind::Removed]);

    // Bob about Ann: refused as check refuses him, naming `check/any`.
    for refused in [
        gh.explain(&as_user(bob), Some(&ann_ref), &create_eprint, None)
            .await
            .map(|_| ()),
        gh.check(&as_user(bob), Some(&ann_ref), &create_eprint, None)
            .await
            .map(|_| ()),
    ] {
        assert_eq!(
            refused,
            Err(CoreError::Forbidden {
                privilege: "check/any".into(),
                user: None,
            })
        );
    }
    // Bob about an anonymous visitor: anybody may ask.
    let anon = gh
        .explain(&as_user(bob), None, &privilege("eprint/archive/view"), None)
        .await
        .unwrap();
    assert_eq!(anon.decision.mask, 1);
    assert_eq!(anon.steps[0].kind, StepKind::Public);
    // With `check/any`, about anybody.
    let e = gh
        .explain(&as_user(admin), Some(&ann_ref), &create_eprint, None)
        .await
        .unwrap();
    assert!(!e.decision.allowed && e.steps.len() == 2);
    // An anonymous caller may not ask about a user.
    let nobody = Context {
        actor: Actor::Anonymous,
        ..operator()
    };
    assert!(matches!(
        gh.explain(&nobody, Some(&ann_ref), &create_eprint, None)
            .await,
        Err(CoreError::Forbidden { .. })
    ));
    // An unknown user is named.
    assert!(matches!(
        gh.explain(&operator(), Some(&UserRef::Email("ghost@example.org".into())), &create_eprint, None).await,
        Err(CoreError::NotFound { value, .. }) if value == "ghost@example.org"
    ));
}

#[tokio::test]
async fn explain_refuses_a_status_the_dataset_does_not_have() {
    let gh = gatehouse().await;
    let ann = create(&gh, "ann@example.org", "user", &[]).await;
    let edit = privilege("eprint/edit");
    let limbo = Item::new("eprint").with_status("limbo");
    let err = gh
        .explain(&as_user(ann), None, &edit, Some(&limbo))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        CoreError::invalid(
            "item",
            "invalid item: status `limbo` is not a status of dataset `eprint`; use one of \
             `inbox`, `buffer`, `archive`, `deletion`"
        )
    );
    // A check ignores it (docs/decisions.md), and still answers.
    assert!(gh
        .check(&as_user(ann), None, &edit, Some(&limbo))
        .await
        .is_ok());
    // The statuses to offer.
    let datasets = gh.datasets();
    assert_eq!(datasets.len(), 1);
    assert_eq!(datasets[0].name, "eprint");
    assert_eq!(
        datasets[0].statuses,
        ["inbox", "buffer", "archive", "deletion"]
    );
    let buffer = Item::new("eprint").with_status("buffer");
    assert!(gh
        .explain(&as_user(ann), None, &edit, Some(&buffer))
        .await
        .is_ok());
}
