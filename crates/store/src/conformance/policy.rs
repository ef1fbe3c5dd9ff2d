//! Conformance cases for run-time roles, grants, the policy generation and the history.

use std::sync::Arc;

use chrono::Duration;
use gatehouse_core::{
    Channel, GrantFilter, HistoryEvent, HistoryFilter, Store, StoreError, StoredRole,
};
use gatehouse_policy::{Effect, Grant, GrantTarget, RoleEntry, SystemRole, UserId};
use serde_json::json;

use super::{at, begin, new_user, privilege, role_name, RawSql};

fn stored_role(name: &str, entries: &[&str]) -> StoredRole {
    StoredRole {
        name: role_name(name),
        description: Some(format!("the {name} role")),
        entries: entries
            .iter()
            .map(|e| e.parse::<RoleEntry>().unwrap())
            .collect(),
    }
}

fn grant(effect: Effect, p: &str, target: GrantTarget) -> Grant {
    Grant {
        effect,
        privilege: privilege(p),
        target,
    }
}

fn on_role(name: &str) -> GrantTarget {
    GrantTarget::Role(role_name(name))
}

/// A second role of the same name is refused with `false` and changes nothing.
pub async fn role_insert_duplicate_is_false(store: Arc<dyn Store>) {
    let mut tx = begin(&*store).await;
    let role = stored_role("staff-view", &["+eprint/archive/view", "status", "-x/y"]);
    assert!(tx.insert_role(&role).await.unwrap());
    let other = stored_role("staff-view", &["other"]);
    assert!(!tx.insert_role(&other).await.unwrap());
    tx.commit().await.unwrap();
    let mut tx = begin(&*store).await;
    assert_eq!(tx.role(&role_name("staff-view")).await.unwrap(), Some(role));
    // Names are case-sensitive, like every role name.
    assert!(tx
        .insert_role(&stored_role("Staff-View", &[]))
        .await
        .unwrap());
}

/// Update replaces description and entries; both update and delete say whether the role
/// was there.
pub async fn role_update_and_delete(store: Arc<dyn Store>) {
    let mut tx = begin(&*store).await;
    let role = stored_role("reviewer", &["+a/b"]);
    assert!(!tx.update_role(&role).await.unwrap(), "no such role yet");
    assert!(tx.insert_role(&role).await.unwrap());
    let changed = StoredRole {
        description: None,
        entries: vec!["-c/d:editor".parse().unwrap(), "e/f".parse().unwrap()],
        ..role.clone()
    };
    assert!(tx.update_role(&changed).await.unwrap());
    tx.commit().await.unwrap();

    let mut tx = begin(&*store).await;
    assert_eq!(tx.role(&role.name).await.unwrap(), Some(changed));
    assert!(tx.delete_role(&role.name).await.unwrap());
    assert!(!tx.delete_role(&role.name).await.unwrap());
    assert_eq!(tx.role(&role.name).await.unwrap(), None);
    assert!(tx.roles().await.unwrap().is_empty());
}

/// Deleting a run-time role deletes the grants on it and nothing else.
pub async fn role_delete_removes_its_grants(store: Arc<dyn Store>) {
    let mut tx = begin(&*store).await;
    assert!(tx.insert_role(&stored_role("gone", &[])).await.unwrap());
    assert!(tx.insert_role(&stored_role("kept", &[])).await.unwrap());
    for g in [
        grant(Effect::Allow, "p1", on_role("gone")),
        grant(Effect::Deny, "p2", on_role("gone")),
        grant(Effect::Allow, "p1", on_role("kept")),
        grant(
            Effect::Allow,
            "p1",
            GrantTarget::SystemRole(SystemRole::AnyUser),
        ),
    ] {
        assert!(tx.add_grant(&g).await.unwrap());
    }
    assert!(tx.delete_role(&role_name("gone")).await.unwrap());
    tx.commit().await.unwrap();
    let mut tx = begin(&*store).await;
    let left = tx.grants(&GrantFilter::default()).await.unwrap();
    assert_eq!(
        left,
        vec![
            grant(Effect::Allow, "p1", on_role("kept")),
            grant(
                Effect::Allow,
                "p1",
                GrantTarget::SystemRole(SystemRole::AnyUser)
            ),
        ]
    );
}

/// `roles` lists every run-time role by name.
pub async fn roles_listed_by_name(store: Arc<dyn Store>) {
    let mut tx = begin(&*store).await;
    for name in ["zeta", "Alpha", "beta", "alpha"] {
        assert!(tx.insert_role(&stored_role(name, &["+p"])).await.unwrap());
    }
    let names: Vec<String> = tx
        .roles()
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.name.to_string())
        .collect();
    assert_eq!(names, ["Alpha", "alpha", "beta", "zeta"]);
}

/// Adding an existing grant is `false` and changes nothing.
pub async fn grant_add_duplicate_is_false(store: Arc<dyn Store>) {
    let mut tx = begin(&*store).await;
    let g = grant(Effect::Allow, "eprint/view", on_role("editor"));
    assert!(tx.add_grant(&g).await.unwrap());
    let generation = tx.policy_generation().await.unwrap();
    assert!(!tx.add_grant(&g).await.unwrap());
    assert_eq!(
        tx.policy_generation().await.unwrap(),
        generation,
        "no change, no count"
    );
    assert_eq!(tx.grants(&GrantFilter::default()).await.unwrap(), vec![g]);
}

/// The allow and the deny of one privilege for one target are two grants.
pub async fn grant_allow_and_deny_coexist(store: Arc<dyn Store>) {
    let mut tx = begin(&*store).await;
    let allow = grant(Effect::Allow, "eprint/view", on_role("editor"));
    let deny = grant(Effect::Deny, "eprint/view", on_role("editor"));
    assert!(tx.add_grant(&allow).await.unwrap());
    assert!(tx.add_grant(&deny).await.unwrap());
    tx.commit().await.unwrap();
    let mut tx = begin(&*store).await;
    assert_eq!(
        tx.grants(&GrantFilter::default()).await.unwrap(),
        vec![allow, deny]
    );
}

/// `remove_grants` takes both the allow and the deny, of that privilege and target only.
pub async fn grant_remove_takes_allow_and_deny(store: Arc<dyn Store>) {
    let mut tx = begin(&*store).await;
    let target = GrantTarget::SystemRole(SystemRole::AuthenticatedUser);
    let others = [
        grant(Effect::Allow, "other", target.clone()),
        grant(Effect::Allow, "p", on_role("editor")),
    ];
    for g in others.iter().cloned().chain([
        grant(Effect::Allow, "p", target.clone()),
        grant(Effect::Deny, "p", target.clone()),
    ]) {
        assert!(tx.add_grant(&g).await.unwrap());
    }
    assert_eq!(tx.remove_grants(&privilege("p"), &target).await.unwrap(), 2);
    assert_eq!(tx.remove_grants(&privilege("p"), &target).await.unwrap(), 0);
    let mut left = tx.grants(&GrantFilter::default()).await.unwrap();
    left.sort();
    let mut want = others.to_vec();
    want.sort();
    assert_eq!(left, want);
}

/// Filters by target, privilege and effect combine; grants come ordered by target (users by
/// id, then roles, then system roles), then privilege.
pub async fn grant_filter_and_order(store: Arc<dyn Store>) {
    let mut tx = begin(&*store).await;
    let mut ids = Vec::new();
    for i in 0..10 {
        ids.push(
            tx.insert_user(&new_user(&format!("g{i}@example.org")))
                .await
                .unwrap()
                .id,
        );
    }
    // Users 2 and 10 (by position): as text "10" < "2", as numbers 2 < 10.
    let (u2, u10) = (GrantTarget::User(ids[1]), GrantTarget::User(ids[9]));
    let any = GrantTarget::SystemRole(SystemRole::AnyUser);
    let authenticated = GrantTarget::SystemRole(SystemRole::AuthenticatedUser);
    let want = vec![
        grant(Effect::Allow, "a", u2.clone()),
        grant(Effect::Deny, "a", u2.clone()),
        grant(Effect::Allow, "b", u2.clone()),
        grant(Effect::Allow, "a", u10.clone()),
        grant(Effect::Allow, "a", on_role("alpha")),
        grant(Effect::Deny, "z", on_role("alpha")),
        grant(Effect::Allow, "a", on_role("beta")),
        grant(Effect::Allow, "a", any.clone()),
        grant(Effect::Deny, "b", authenticated.clone()),
    ];
    for g in want.iter().rev() {
        assert!(tx.add_grant(g).await.unwrap());
    }
    let all = tx.grants(&GrantFilter::default()).await.unwrap();
    assert_eq!(all, want);

    let pick =
        |f: &dyn Fn(&Grant) -> bool| want.iter().filter(|g| f(g)).cloned().collect::<Vec<_>>();
    let filters = [
        GrantFilter {
            target: Some(u2.clone()),
            ..GrantFilter::default()
        },
        GrantFilter {
            target: Some(on_role("alpha")),
            ..GrantFilter::default()
        },
        GrantFilter {
            target: Some(any.clone()),
            ..GrantFilter::default()
        },
        GrantFilter {
            privilege: Some(privilege("a")),
            ..GrantFilter::default()
        },
        GrantFilter {
            effect: Some(Effect::Deny),
            ..GrantFilter::default()
        },
        GrantFilter {
            target: Some(u2.clone()),
            privilege: Some(privilege("a")),
            effect: Some(Effect::Allow),
        },
        GrantFilter {
            target: Some(on_role("nobody")),
            ..GrantFilter::default()
        },
    ];
    for f in filters {
        let expected = pick(&|g: &Grant| {
            f.target.as_ref().is_none_or(|t| *t == g.target)
                && f.privilege.as_ref().is_none_or(|p| *p == g.privilege)
                && f.effect.is_none_or(|e| e == g.effect)
        });
        assert_eq!(tx.grants(&f).await.unwrap(), expected, "{f:?}");
    }
}

/// Adding or removing a grant on a user increments that user's version and moves
/// `updated`; a duplicate or a removal of nothing does not.
pub async fn grant_on_user_bumps_user_version(store: Arc<dyn Store>) {
    let mut tx = begin(&*store).await;
    let ann = tx.insert_user(&new_user("ann@example.org")).await.unwrap();
    let bob = tx.insert_user(&new_user("bob@example.org")).await.unwrap();
    tx.commit().await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;

    let mut tx = begin(&*store).await;
    let target = GrantTarget::User(ann.id);
    let version = |u: Option<gatehouse_core::User>| u.map(|u| u.version);
    assert!(tx
        .add_grant(&grant(Effect::Allow, "superuser-access", target.clone()))
        .await
        .unwrap());
    let after_add = tx.user_by_id(ann.id).await.unwrap().unwrap();
    assert_eq!(after_add.version, ann.version + 1);
    assert!(after_add.updated > ann.updated);
    assert!(!tx
        .add_grant(&grant(Effect::Allow, "superuser-access", target.clone()))
        .await
        .unwrap());
    assert_eq!(
        version(tx.user_by_id(ann.id).await.unwrap()),
        Some(ann.version + 1)
    );
    assert!(tx
        .add_grant(&grant(Effect::Deny, "superuser-access", target.clone()))
        .await
        .unwrap());
    assert_eq!(
        version(tx.user_by_id(ann.id).await.unwrap()),
        Some(ann.version + 2)
    );
    assert_eq!(
        tx.remove_grants(&privilege("superuser-access"), &target)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        version(tx.user_by_id(ann.id).await.unwrap()),
        Some(ann.version + 3)
    );
    assert_eq!(
        tx.remove_grants(&privilege("superuser-access"), &target)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        version(tx.user_by_id(ann.id).await.unwrap()),
        Some(ann.version + 3)
    );
    // Other users are untouched.
    assert_eq!(tx.user_by_id(bob.id).await.unwrap(), Some(bob));
}

/// Every change to run-time roles, or to grants on roles or system roles, increments the
/// policy generation; reading does not, and a rollback undoes it.
pub async fn policy_generation_follows_roles_and_role_grants(store: Arc<dyn Store>) {
    let mut tx = begin(&*store).await;
    let start = tx.policy_generation().await.unwrap();
    let role = stored_role("staff", &["+p"]);
    let system = GrantTarget::SystemRole(SystemRole::AuthenticatedUser);
    let mut expected = start;

    assert!(tx.insert_role(&role).await.unwrap());
    expected += 1;
    assert_eq!(
        tx.policy_generation().await.unwrap(),
        expected,
        "insert_role"
    );
    assert!(!tx.insert_role(&role).await.unwrap());
    assert_eq!(
        tx.policy_generation().await.unwrap(),
        expected,
        "duplicate role"
    );
    assert!(tx
        .update_role(&stored_role("staff", &["+q"]))
        .await
        .unwrap());
    expected += 1;
    assert_eq!(
        tx.policy_generation().await.unwrap(),
        expected,
        "update_role"
    );
    assert!(tx
        .add_grant(&grant(Effect::Allow, "p", on_role("staff")))
        .await
        .unwrap());
    expected += 1;
    assert_eq!(
        tx.policy_generation().await.unwrap(),
        expected,
        "role grant"
    );
    // Grants on roles that live in the policy file, not in the database, count too.
    assert!(tx
        .add_grant(&grant(Effect::Deny, "p", on_role("editor")))
        .await
        .unwrap());
    expected += 1;
    assert_eq!(
        tx.policy_generation().await.unwrap(),
        expected,
        "file role grant"
    );
    assert!(tx
        .add_grant(&grant(Effect::Allow, "p", system.clone()))
        .await
        .unwrap());
    expected += 1;
    assert_eq!(
        tx.policy_generation().await.unwrap(),
        expected,
        "system role grant"
    );
    assert_eq!(tx.remove_grants(&privilege("p"), &system).await.unwrap(), 1);
    expected += 1;
    assert_eq!(
        tx.policy_generation().await.unwrap(),
        expected,
        "remove system grant"
    );
    assert_eq!(
        tx.remove_grants(&privilege("p"), &on_role("editor"))
            .await
            .unwrap(),
        1
    );
    expected += 1;
    assert_eq!(
        tx.policy_generation().await.unwrap(),
        expected,
        "remove role grant"
    );
    assert!(tx.delete_role(&role.name).await.unwrap());
    expected += 1;
    assert_eq!(
        tx.policy_generation().await.unwrap(),
        expected,
        "delete_role"
    );
    assert!(!tx.delete_role(&role.name).await.unwrap());
    tx.roles().await.unwrap();
    tx.grants(&GrantFilter::default()).await.unwrap();
    assert_eq!(
        tx.policy_generation().await.unwrap(),
        expected,
        "reads and no-ops"
    );
    tx.commit().await.unwrap();

    let mut tx = begin(&*store).await;
    assert_eq!(tx.policy_generation().await.unwrap(), expected, "committed");
    assert!(tx.insert_role(&stored_role("temp", &[])).await.unwrap());
    drop(tx);
    let mut tx = begin(&*store).await;
    assert_eq!(
        tx.policy_generation().await.unwrap(),
        expected,
        "rolled back"
    );
}

/// The first migration creates the policy generation counter. Where it is missing (a
/// database damaged by hand), every change that would count in it fails with a `Backend`
/// error naming the counter, and so does reading it, instead of the change going
/// uncounted; the failed changes are not kept. Grants on users, which count in the user's
/// version, still work. `raw` is the store's own database.
pub async fn policy_generation_missing_fails_counted_changes(
    store: Arc<dyn Store>,
    raw: &dyn RawSql,
) {
    let system = GrantTarget::SystemRole(SystemRole::AnyUser);
    let mut tx = begin(&*store).await;
    let ann = tx.insert_user(&new_user("ann@example.org")).await.unwrap();
    assert!(tx.insert_role(&stored_role("kept", &[])).await.unwrap());
    assert!(tx
        .add_grant(&grant(Effect::Allow, "a/b", on_role("kept")))
        .await
        .unwrap());
    tx.commit().await.unwrap();
    raw.execute_raw("DELETE FROM meta WHERE key = 'policy_generation'")
        .await;

    for what in 0..7 {
        let mut tx = begin(&*store).await;
        let (call, result) = match what {
            0 => (
                "insert_role",
                tx.insert_role(&stored_role("new", &[])).await.map(drop),
            ),
            1 => (
                "update_role",
                tx.update_role(&stored_role("kept", &["x/y"]))
                    .await
                    .map(drop),
            ),
            2 => (
                "delete_role",
                tx.delete_role(&role_name("kept")).await.map(drop),
            ),
            3 => (
                "add_grant",
                tx.add_grant(&grant(Effect::Deny, "c/d", system.clone()))
                    .await
                    .map(drop),
            ),
            4 => (
                "remove_grants",
                tx.remove_grants(&privilege("a/b"), &on_role("kept"))
                    .await
                    .map(drop),
            ),
            5 => (
                "import_grant",
                tx.import_grant(&grant(Effect::Allow, "e/f", on_role("kept")))
                    .await
                    .map(drop),
            ),
            _ => ("policy_generation", tx.policy_generation().await.map(drop)),
        };
        match result {
            Err(StoreError::Backend(m)) => assert!(
                m.contains("policy generation counter is missing"),
                "{call}: {m}"
            ),
            other => panic!("{call}: expected a backend error, got {other:?}"),
        }
        // Dropped after the error, as the contract says: rolled back.
    }

    let mut tx = begin(&*store).await;
    assert_eq!(tx.roles().await.unwrap(), vec![stored_role("kept", &[])]);
    assert_eq!(
        tx.grants(&GrantFilter::default()).await.unwrap(),
        vec![grant(Effect::Allow, "a/b", on_role("kept"))]
    );
    let on_ann = grant(Effect::Allow, "g/h", GrantTarget::User(ann.id));
    assert!(tx.add_grant(&on_ann).await.unwrap());
    assert_eq!(
        tx.user_by_id(ann.id).await.unwrap().map(|u| u.version),
        Some(ann.version + 1)
    );
}

fn event(at_: &str, action: &str, user: Option<i64>, details: serde_json::Value) -> HistoryEvent {
    HistoryEvent {
        id: 0,
        at: at(at_),
        actor: "operator root".to_owned(),
        channel: Channel::Cli,
        action: action.to_owned(),
        user_id: user.map(UserId),
        target: String::new(),
        details,
    }
}

/// Events come back oldest first, with ids, every field and the JSON details as recorded.
pub async fn history_round_trips_oldest_first(store: Arc<dyn Store>) {
    let details = json!({
        "before": {"active": false, "roles": ["a", "b"]},
        "after": {"active": true, "n": 3, "x": null, "name": "Émile \"quoted\""}
    });
    let events = vec![
        HistoryEvent {
            actor: "user ann@example.org (id 3)".to_owned(),
            channel: Channel::Api,
            target: "role staff".to_owned(),
            ..event(
                "2024-05-01T10:00:00.000001Z",
                "user.activate",
                Some(3),
                details,
            )
        },
        HistoryEvent {
            channel: Channel::Fixtures,
            ..event("2024-05-01T10:00:01Z", "user.create", None, json!(null))
        },
        HistoryEvent {
            channel: Channel::Ui,
            ..event(
                "2024-05-01T09:00:00Z",
                "grant.allow",
                Some(4),
                json!([1, "two"]),
            )
        },
    ];
    let mut tx = begin(&*store).await;
    for e in &events {
        tx.record(e).await.unwrap();
    }
    tx.commit().await.unwrap();

    let mut tx = begin(&*store).await;
    let read = tx.history(&HistoryFilter::default()).await.unwrap();
    assert_eq!(read.len(), 3);
    assert!(read[0].id > 0 && read[0].id < read[1].id && read[1].id < read[2].id);
    for (r, e) in read.iter().zip(&events) {
        assert_eq!(HistoryEvent { id: 0, ..r.clone() }, *e);
    }
}

/// Filters: by user, since a time (inclusive), and a limit that keeps the newest.
pub async fn history_filters_user_since_limit(store: Arc<dyn Store>) {
    let base = at("2024-05-01T10:00:00Z");
    let mut tx = begin(&*store).await;
    for i in 0..10_i64 {
        let mut e = event(
            "2024-05-01T10:00:00Z",
            &format!("a{i}"),
            Some(i % 2),
            json!({ "i": i }),
        );
        e.at = base + Duration::minutes(i);
        tx.record(&e).await.unwrap();
    }
    let actions =
        |events: Vec<HistoryEvent>| events.into_iter().map(|e| e.action).collect::<Vec<_>>();
    let cases = [
        (
            HistoryFilter {
                user_id: Some(UserId(1)),
                ..HistoryFilter::default()
            },
            vec!["a1", "a3", "a5", "a7", "a9"],
        ),
        (
            HistoryFilter {
                since: Some(base + Duration::minutes(7)),
                ..HistoryFilter::default()
            },
            vec!["a7", "a8", "a9"],
        ),
        (
            HistoryFilter {
                limit: 3,
                ..HistoryFilter::default()
            },
            vec!["a7", "a8", "a9"],
        ),
        (
            HistoryFilter {
                user_id: Some(UserId(0)),
                since: Some(base + Duration::seconds(150)),
                limit: 2,
                ..HistoryFilter::default()
            },
            vec!["a6", "a8"],
        ),
        (
            HistoryFilter {
                user_id: Some(UserId(42)),
                ..HistoryFilter::default()
            },
            vec![],
        ),
    ];
    for (filter, want) in cases {
        assert_eq!(
            actions(tx.history(&filter).await.unwrap()),
            want,
            "{filter:?}"
        );
    }
}
