//! Conformance cases for transactions: a dropped transaction leaves nothing, a committed one
//! is seen by the next, for every kind of write.

use std::sync::Arc;

use chrono::{Duration, Utc};
use gatehouse_core::{
    Channel, CredentialKind, GrantFilter, HistoryEvent, HistoryFilter, LinkPurpose, NewCredential,
    Store, StoredRole, UserQuery,
};
use gatehouse_policy::{Effect, Grant, GrantTarget};
use serde_json::json;

use super::{at, begin, email, named_user, new_user, privilege, role_name, username};

fn history_event() -> HistoryEvent {
    HistoryEvent {
        id: 0,
        at: at("2024-05-01T10:00:00Z"),
        actor: "operator root".to_owned(),
        channel: Channel::Cli,
        action: "user.create".to_owned(),
        user_id: None,
        target: String::new(),
        details: json!({"email": "ann@example.org"}),
    }
}

/// The token hashes `write_everything` uses.
const SESSION: &str = "5e55105e55105e55105e55105e55105e55105e55105e55105e55105e55105e55";
const LINK: &str = "11e711e711e711e711e711e711e711e711e711e711e711e711e711e711e711e7";

/// Writes one of everything: users (one and bulk), an update, a role, grants on a role and
/// on a user, a history event, a credential, a link.
async fn write_everything(store: &dyn Store) -> Box<dyn gatehouse_core::Tx> {
    let mut tx = begin(store).await;
    let ann = tx
        .insert_user(&named_user("ann@example.org", "Ann"))
        .await
        .unwrap();
    tx.insert_users(&[new_user("bulk@example.org")])
        .await
        .unwrap();
    let mut changed = ann.clone();
    changed.full_name = "Ann Smith".to_owned();
    tx.update_user(&changed).await.unwrap();
    tx.insert_role(&StoredRole {
        name: role_name("staff"),
        description: None,
        entries: vec!["+p".parse().unwrap()],
    })
    .await
    .unwrap();
    for target in [
        GrantTarget::Role(role_name("staff")),
        GrantTarget::User(ann.id),
    ] {
        tx.add_grant(&Grant {
            effect: Effect::Allow,
            privilege: privilege("p"),
            target,
        })
        .await
        .unwrap();
    }
    tx.record(&history_event()).await.unwrap();
    tx.insert_credential(&NewCredential {
        kind: CredentialKind::Session,
        token_hash: SESSION.to_owned(),
        user_id: Some(ann.id),
        name: None,
        privileges: Vec::new(),
        expires: None,
    })
    .await
    .unwrap();
    tx.insert_link(
        LinkPurpose::Confirm,
        ann.id,
        LINK,
        Utc::now() + Duration::hours(1),
    )
    .await
    .unwrap();
    tx
}

/// Dropping a transaction without commit undoes every kind of write in it.
pub async fn tx_drop_rolls_back_everything(store: Arc<dyn Store>) {
    let mut tx = begin(&*store).await;
    let generation = tx.policy_generation().await.unwrap();
    drop(tx);

    let tx = write_everything(&*store).await;
    drop(tx);

    let mut tx = begin(&*store).await;
    assert_eq!(tx.list_users(&UserQuery::default()).await.unwrap().total, 0);
    assert_eq!(
        tx.user_by_email(&email("ann@example.org")).await.unwrap(),
        None
    );
    assert_eq!(tx.user_by_username(&username("ann")).await.unwrap(), None);
    let search = UserQuery {
        text: Some("ann".to_owned()),
        ..UserQuery::default()
    };
    assert_eq!(tx.list_users(&search).await.unwrap().total, 0);
    assert!(tx.roles().await.unwrap().is_empty());
    assert!(tx.grants(&GrantFilter::default()).await.unwrap().is_empty());
    assert!(tx
        .history(&HistoryFilter::default())
        .await
        .unwrap()
        .is_empty());
    assert_eq!(tx.policy_generation().await.unwrap(), generation);
    assert!(tx.credentials(None).await.unwrap().is_empty());
    assert_eq!(
        tx.consume_link(LinkPurpose::Confirm, LINK, Utc::now())
            .await
            .unwrap(),
        None
    );
    // The store is fine afterwards: the same writes now succeed.
    drop(tx);
    write_everything(&*store).await.commit().await.unwrap();
}

/// After `commit` the next transaction sees every write.
pub async fn tx_commit_is_visible_to_the_next(store: Arc<dyn Store>) {
    let mut tx = begin(&*store).await;
    let generation = tx.policy_generation().await.unwrap();
    drop(tx);

    write_everything(&*store).await.commit().await.unwrap();

    let mut tx = begin(&*store).await;
    let ann = tx
        .user_by_email(&email("ann@example.org"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ann.full_name, "Ann Smith");
    assert_eq!(ann.version, 3, "insert, update, grant");
    assert!(tx
        .user_by_email(&email("bulk@example.org"))
        .await
        .unwrap()
        .is_some());
    let search = UserQuery {
        text: Some("smith".to_owned()),
        ..UserQuery::default()
    };
    assert_eq!(tx.list_users(&search).await.unwrap().total, 1);
    assert_eq!(tx.roles().await.unwrap().len(), 1);
    assert_eq!(tx.grants(&GrantFilter::default()).await.unwrap().len(), 2);
    let history = tx.history(&HistoryFilter::default()).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].details, history_event().details);
    assert_eq!(tx.policy_generation().await.unwrap(), generation + 2);
    let session = tx.credential_by_hash(SESSION, Utc::now()).await.unwrap();
    assert_eq!(session.and_then(|c| c.user_id), Some(ann.id));
    assert_eq!(
        tx.consume_link(LinkPurpose::Confirm, LINK, Utc::now())
            .await
            .unwrap(),
        Some(ann.id)
    );
}

/// The data version goes up with every committed writing transaction, and only then: not on
/// a rollback, not on a read.
pub async fn data_version_follows_committed_writes(store: Arc<dyn Store>) {
    let v0 = store.data_version().await.unwrap();
    let mut tx = begin(&*store).await;
    tx.insert_user(&new_user("ann@example.org")).await.unwrap();
    drop(tx);
    assert_eq!(
        store.data_version().await.unwrap(),
        v0,
        "a rollback changes nothing"
    );
    let mut tx = store.begin_read().await.unwrap();
    tx.list_users(&UserQuery::default()).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        store.data_version().await.unwrap(),
        v0,
        "a read changes nothing"
    );
    let mut tx = begin(&*store).await;
    tx.insert_user(&new_user("ann@example.org")).await.unwrap();
    tx.commit().await.unwrap();
    let v1 = store.data_version().await.unwrap();
    assert!(v1 > v0, "a committed write moves it: {v0} -> {v1}");
}

/// The shortcut [`Store::data_version_unchanged`] may decline to answer, but when it answers
/// it gives the last version read, and never one older than a commit that finished first.
pub async fn data_version_shortcut_is_never_stale(store: Arc<dyn Store>) {
    let v0 = store.data_version().await.unwrap();
    if let Some(v) = store.data_version_unchanged() {
        assert_eq!(v, v0, "nothing committed: the version just read");
    }
    for round in 0..3 {
        let mut tx = begin(&*store).await;
        tx.insert_user(&new_user(&format!("u{round}@example.org")))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let before = store.data_version_unchanged();
        assert!(
            before.is_none(),
            "round {round}: after a commit the shortcut answered {before:?} (last read {v0})"
        );
        let v1 = store.data_version().await.unwrap();
        assert!(v1 > v0);
        if let Some(v) = store.data_version_unchanged() {
            assert_eq!(v, v1, "round {round}");
        }
    }
}

/// Many transactions dropped without commit, concurrently, leave every pooled connection
/// usable (regression: a connection handed out again before its rollback ran).
pub async fn dropped_transactions_leave_connections_usable(store: Arc<dyn Store>) {
    let mut tasks = Vec::new();
    for i in 0..64 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..5 {
                let mut tx = if i % 8 == 0 {
                    begin(&*store).await
                } else {
                    store.begin_read().await.unwrap()
                };
                tx.list_users(&UserQuery::default()).await.unwrap();
                drop(tx);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let mut tx = begin(&*store).await;
    tx.insert_user(&new_user("after@example.org"))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.begin_read().await.unwrap();
    assert_eq!(tx.list_users(&UserQuery::default()).await.unwrap().total, 1);
}

/// Transactions whose futures are dropped half-way (a client that hangs up) leave no
/// connection inside a transaction.
pub async fn cancelled_begins_leave_connections_usable(store: Arc<dyn Store>) {
    for i in 0..200u64 {
        let store2 = store.clone();
        let task = tokio::spawn(async move {
            let mut tx = if i % 2 == 0 {
                begin(&*store2).await
            } else {
                store2.begin_read().await.unwrap()
            };
            tx.list_users(&UserQuery::default()).await.unwrap();
        });
        // Cancel at various points: before, during and after `BEGIN`.
        for _ in 0..(i % 4) {
            tokio::task::yield_now().await;
        }
        task.abort();
        let _ = task.await;
    }
    let mut tx = begin(&*store).await;
    tx.insert_user(&new_user("after@example.org"))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    for _ in 0..8 {
        let mut tx = store.begin_read().await.unwrap();
        assert_eq!(tx.list_users(&UserQuery::default()).await.unwrap().total, 1);
    }
}

/// `record_many` stores every event, in order, like `record` one by one.
pub async fn record_many_keeps_order(store: Arc<dyn Store>) {
    let mut tx = begin(&*store).await;
    let events: Vec<HistoryEvent> = (0..2500)
        .map(|i| HistoryEvent {
            target: format!("event {i}"),
            details: json!({"n": i}),
            ..history_event()
        })
        .collect();
    tx.record_many(&events).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.begin_read().await.unwrap();
    let got = tx.history(&HistoryFilter::default()).await.unwrap();
    assert_eq!(got.len(), 2500);
    assert_eq!(got[0].target, "event 0");
    assert_eq!(got[2499].target, "event 2499");
    assert_eq!(got[1234].details, json!({"n": 1234}));
}
