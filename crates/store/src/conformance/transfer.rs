//! Conformance cases for export and import (`gatehouse export` / `gatehouse import`): the
//! schema version, the emptiness test, every credential with its token hash, and the
//! `import_*` methods that write records exactly as given.

use std::sync::Arc;

use chrono::Utc;
use gatehouse_core::store::ConflictField;
use gatehouse_core::{
    Channel, CredentialKind, HistoryEvent, HistoryFilter, NewCredential, Store, StoredRole, User,
    UserQuery,
};
use gatehouse_policy::{Effect, Grant, GrantTarget, SystemRole, UserId};
use serde_json::json;

use super::{assert_conflict, at, begin, hash, new_user, privilege, role_name, username};

fn imported_user(id: i64, address: &str, name: &str) -> User {
    User {
        id: UserId(id),
        email: super::email(address),
        username: Some(username(name)),
        full_name: "Émile Zola".to_owned(),
        affiliations: "Law".to_owned(),
        active: false,
        confirmed_at: Some(at("2023-01-02T03:04:05.000006Z")),
        password_hash: Some(hash()),
        user_type: Some("editor".parse().unwrap()),
        entries: vec!["admin".parse().unwrap(), "-a/b:owner".parse().unwrap()],
        editorial_scope: vec!["subjects=law,hist;divisions=x".parse().unwrap()],
        created: at("2020-01-01T00:00:00.000001Z"),
        updated: at("2021-06-07T08:09:10.111213Z"),
        version: 7,
    }
}

fn service(n: u32, name: &str) -> NewCredential {
    NewCredential {
        kind: CredentialKind::Service,
        token_hash: format!("{n:064x}"),
        user_id: None,
        name: Some(name.to_owned()),
        privileges: vec![privilege("check/any")],
        expires: None,
    }
}

fn event(id: i64, when: &str, action: &str) -> HistoryEvent {
    HistoryEvent {
        id,
        at: at(when),
        actor: "operator root".to_owned(),
        channel: Channel::Cli,
        action: action.to_owned(),
        user_id: Some(UserId(42)),
        target: String::new(),
        details: json!({"b": [1, "two"], "a": null}),
    }
}

/// The schema version a transaction reports is the one the store migrated to.
pub async fn schema_version_is_current(store: Arc<dyn Store>) {
    let mut tx = store.begin_read().await.unwrap();
    assert_eq!(tx.schema_version().await.unwrap(), crate::SCHEMA_VERSION);
}

/// A fresh store is empty; a user, a run-time role, a grant on a system role, a service token
/// or a history event each make it not empty.
pub async fn is_empty_until_anything_is_stored(store: Arc<dyn Store>) {
    {
        let mut tx = begin(&*store).await;
        assert!(tx.is_empty().await.unwrap());
    }
    for what in 0..6 {
        let mut tx = begin(&*store).await;
        match what {
            0 => drop(tx.insert_user(&new_user("ann@example.org")).await.unwrap()),
            1 => assert!(tx
                .insert_role(&StoredRole {
                    name: role_name("hat"),
                    description: None,
                    entries: Vec::new(),
                })
                .await
                .unwrap()),
            2 => assert!(tx
                .add_grant(&Grant {
                    effect: Effect::Allow,
                    privilege: privilege("a/b"),
                    target: GrantTarget::SystemRole(SystemRole::AnyUser),
                })
                .await
                .unwrap()),
            3 => drop(tx.insert_credential(&service(1, "repo")).await.unwrap()),
            4 => tx
                .insert_oidc_client(&super::oidc::client("gh-one"))
                .await
                .unwrap(),
            _ => tx
                .record(&event(0, "2024-01-01T00:00:00Z", "x"))
                .await
                .unwrap(),
        }
        assert!(!tx.is_empty().await.unwrap(), "case {what}");
        // Dropped: rolled back, empty again.
    }
    let mut tx = begin(&*store).await;
    assert!(tx.is_empty().await.unwrap());
}

/// An imported user reads back exactly as given (id, times, version, every field), is found
/// by the search, conflicts name a taken email, and later inserts never reuse the id.
pub async fn import_user_keeps_id_times_and_version(store: Arc<dyn Store>) {
    let user = imported_user(42, "ann@example.org", "Ann");
    let mut tx = begin(&*store).await;
    tx.import_user(&user).await.unwrap();
    tx.import_user(&imported_user(5, "bob@example.org", "Bob"))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut tx = begin(&*store).await;
    assert_eq!(tx.user_by_id(UserId(42)).await.unwrap(), Some(user.clone()));
    let found = tx
        .list_users(&UserQuery {
            text: Some("émile ANN".to_owned()),
            ..UserQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(found.total, 1);
    let next = tx.insert_user(&new_user("cy@example.org")).await.unwrap();
    assert!(next.id.0 > 42, "ids after the imported ones: {}", next.id);
    tx.commit().await.unwrap();

    let mut tx = begin(&*store).await;
    assert_conflict(
        tx.import_user(&imported_user(50, "ANN@example.org", "Other"))
            .await,
        ConflictField::Email,
        "ann@example.org",
    );
}

/// An imported grant on a user leaves the user's version and `updated` as imported; one on
/// a role or system role counts in the policy generation; a repeat is false.
pub async fn import_grant_leaves_user_version_and_counts_role_grants(store: Arc<dyn Store>) {
    let user = imported_user(3, "ann@example.org", "Ann");
    let mut tx = begin(&*store).await;
    tx.import_user(&user).await.unwrap();
    let g0 = tx.policy_generation().await.unwrap();
    let on_user = Grant {
        effect: Effect::Deny,
        privilege: privilege("a/b"),
        target: GrantTarget::User(user.id),
    };
    assert!(tx.import_grant(&on_user).await.unwrap());
    assert!(!tx.import_grant(&on_user).await.unwrap(), "a repeat");
    assert_eq!(tx.policy_generation().await.unwrap(), g0);
    let on_role = Grant {
        effect: Effect::Allow,
        privilege: privilege("c/d"),
        target: GrantTarget::Role(role_name("hat")),
    };
    assert!(tx.import_grant(&on_role).await.unwrap());
    assert!(tx.policy_generation().await.unwrap() > g0);
    tx.commit().await.unwrap();

    let mut tx = begin(&*store).await;
    assert_eq!(tx.user_by_id(user.id).await.unwrap(), Some(user));
    let all = tx.grants(&Default::default()).await.unwrap();
    assert_eq!(all, vec![on_user, on_role]);
}

/// An imported credential keeps its creation time and works by its hash; the export lists
/// every credential, expired ones too, with its hash, in id order.
pub async fn import_credential_keeps_created_and_export_lists_hashes(store: Arc<dyn Store>) {
    let mut tx = begin(&*store).await;
    tx.import_user(&imported_user(9, "ann@example.org", "Ann"))
        .await
        .unwrap();
    let created = at("2022-02-02T02:02:02.020202Z");
    let repo = tx
        .import_credential(&service(1, "repo"), created)
        .await
        .unwrap();
    let expired = NewCredential {
        kind: CredentialKind::Session,
        token_hash: format!("{:064x}", 2),
        user_id: Some(UserId(9)),
        name: None,
        privileges: Vec::new(),
        expires: Some(at("2022-03-03T00:00:00Z")),
    };
    let session = tx.import_credential(&expired, created).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(repo.created, created);

    let mut tx = begin(&*store).await;
    let found = tx
        .credential_by_hash(&format!("{:064x}", 1), Utc::now())
        .await
        .unwrap();
    assert_eq!(found.as_ref(), Some(&repo));
    assert_conflict(
        tx.import_credential(&service(3, "repo"), created).await,
        ConflictField::ServiceTokenName,
        "repo",
    );
    drop(tx);

    let mut tx = store.begin_read().await.unwrap();
    let all = tx.export_credentials().await.unwrap();
    assert_eq!(
        all,
        vec![
            (repo, format!("{:064x}", 1)),
            (session, format!("{:064x}", 2))
        ]
    );
}

/// Imported history events keep their ids and times; events recorded later get larger ids.
pub async fn import_history_keeps_id_and_time(store: Arc<dyn Store>) {
    let events = vec![
        event(5, "2024-05-01T10:00:00.000001Z", "user.create"),
        event(9, "2024-05-01T09:00:00Z", "grant.allow"),
    ];
    let mut tx = begin(&*store).await;
    for e in &events {
        tx.import_history(e).await.unwrap();
    }
    tx.commit().await.unwrap();

    let mut tx = begin(&*store).await;
    assert_eq!(tx.history(&HistoryFilter::default()).await.unwrap(), events);
    tx.record(&event(0, "2024-06-01T00:00:00Z", "later"))
        .await
        .unwrap();
    let all = tx.history(&HistoryFilter::default()).await.unwrap();
    assert!(all[2].id > 9, "after the imported ids: {}", all[2].id);
}
