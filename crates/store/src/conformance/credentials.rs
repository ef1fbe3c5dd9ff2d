//! Conformance cases for credentials (sessions, bearer tokens, service tokens), single-use
//! links, and read-only transactions.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use gatehouse_core::store::ConflictField;
use gatehouse_core::{Credential, CredentialKind, LinkPurpose, NewCredential, Store, UserQuery};
use gatehouse_policy::UserId;

use super::{assert_conflict, at, begin, email, new_user, privilege};

/// A token hash: 64 hex digits, distinct for each `n`.
fn token(n: u32) -> String {
    format!("{n:064x}")
}

/// A session or bearer token of `user`.
fn user_credential(
    kind: CredentialKind,
    n: u32,
    user: UserId,
    expires: Option<DateTime<Utc>>,
) -> NewCredential {
    NewCredential {
        kind,
        token_hash: token(n),
        user_id: Some(user),
        name: None,
        privileges: Vec::new(),
        expires,
    }
}

/// A service token.
fn service(n: u32, name: &str, privileges: &[&str]) -> NewCredential {
    NewCredential {
        kind: CredentialKind::Service,
        token_hash: token(n),
        user_id: None,
        name: Some(name.to_owned()),
        privileges: privileges.iter().map(|p| privilege(p)).collect(),
        expires: None,
    }
}

/// Two users to own things; committed.
async fn ann_and_bob(store: &dyn Store) -> (UserId, UserId) {
    let mut tx = begin(store).await;
    let ann = tx.insert_user(&new_user("ann@example.org")).await.unwrap();
    let bob = tx.insert_user(&new_user("bob@example.org")).await.unwrap();
    tx.commit().await.unwrap();
    (ann.id, bob.id)
}

fn ids(credentials: &[Credential]) -> Vec<i64> {
    credentials.iter().map(|c| c.id).collect()
}

/// Every kind of credential comes back by the hash of its token exactly as `insert`
/// returned it: kind, user, name, privileges in order, created, expiry to the microsecond.
pub async fn credential_insert_and_find_by_hash(store: Arc<dyn Store>) {
    let (ann, _) = ann_and_bob(&*store).await;
    let before = Utc::now() - Duration::seconds(1);
    let expires = Utc::now() + Duration::hours(1);
    let mut tx = begin(&*store).await;
    let session = tx
        .insert_credential(&user_credential(
            CredentialKind::Session,
            1,
            ann,
            Some(expires),
        ))
        .await
        .unwrap();
    let bearer = tx
        .insert_credential(&user_credential(CredentialKind::Bearer, 2, ann, None))
        .await
        .unwrap();
    let repo = tx
        .insert_credential(&service(
            3,
            "repo",
            &["zeta/view", "check/any", "a/b:owner"],
        ))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    assert!(session.id < bearer.id && bearer.id < repo.id, "ids grow");
    assert_eq!(session.kind, CredentialKind::Session);
    assert_eq!(session.user_id, Some(ann));
    assert_eq!(session.name, None);
    assert!(session.privileges.is_empty());
    assert!(session.created >= before && session.created <= Utc::now() + Duration::seconds(1));
    let micros = session.expires.unwrap().timestamp_micros();
    assert_eq!(
        micros,
        expires.timestamp_micros(),
        "kept to the microsecond"
    );
    assert_eq!(bearer.expires, None);
    assert_eq!(repo.kind, CredentialKind::Service);
    assert_eq!(repo.user_id, None);
    assert_eq!(repo.name.as_deref(), Some("repo"));
    let printed: Vec<String> = repo.privileges.iter().map(ToString::to_string).collect();
    assert_eq!(printed, ["zeta/view", "check/any", "a/b:owner"], "in order");

    let mut tx = begin(&*store).await;
    let now = Utc::now();
    for (n, want) in [(1, &session), (2, &bearer), (3, &repo)] {
        let found = tx.credential_by_hash(&token(n), now).await.unwrap();
        assert_eq!(found.as_ref(), Some(want), "token {n}");
    }
    assert_eq!(tx.credential_by_hash(&token(99), now).await.unwrap(), None);
}

/// A credential is valid strictly before its expiry: at the expiry time and later it is
/// not found; one without expiry is always found.
pub async fn credential_expiry_is_checked_at_now(store: Arc<dyn Store>) {
    let (ann, _) = ann_and_bob(&*store).await;
    let expires = at("2030-01-01T00:00:00.500000Z");
    let mut tx = begin(&*store).await;
    tx.insert_credential(&user_credential(
        CredentialKind::Session,
        1,
        ann,
        Some(expires),
    ))
    .await
    .unwrap();
    tx.insert_credential(&user_credential(CredentialKind::Bearer, 2, ann, None))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut tx = begin(&*store).await;
    let just_before = expires - Duration::microseconds(1);
    assert!(tx
        .credential_by_hash(&token(1), just_before)
        .await
        .unwrap()
        .is_some());
    assert_eq!(
        tx.credential_by_hash(&token(1), expires).await.unwrap(),
        None
    );
    let later = expires + Duration::days(1);
    assert_eq!(tx.credential_by_hash(&token(1), later).await.unwrap(), None);
    let far = at("2999-01-01T00:00:00Z");
    assert!(tx
        .credential_by_hash(&token(2), far)
        .await
        .unwrap()
        .is_some());
}

/// Service token names are unique: a second one of the same name is a conflict naming it,
/// and nothing of it is stored. Deleting by name frees the name.
pub async fn service_token_name_conflicts(store: Arc<dyn Store>) {
    let mut tx = begin(&*store).await;
    tx.insert_credential(&service(1, "repo", &["check/any"]))
        .await
        .unwrap();
    tx.insert_credential(&service(2, "other", &[]))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut tx = begin(&*store).await;
    assert_conflict(
        tx.insert_credential(&service(3, "repo", &[])).await,
        ConflictField::ServiceTokenName,
        "repo",
    );
    drop(tx);

    let mut tx = begin(&*store).await;
    assert_eq!(
        tx.credential_by_hash(&token(3), Utc::now()).await.unwrap(),
        None
    );
    assert_eq!(tx.credentials(None).await.unwrap().len(), 2);
    assert!(!tx.delete_service_token("nope").await.unwrap());
    assert!(tx.delete_service_token("repo").await.unwrap());
    assert!(!tx.delete_service_token("repo").await.unwrap(), "gone");
    assert_eq!(
        tx.credential_by_hash(&token(1), Utc::now()).await.unwrap(),
        None
    );
    let again = tx
        .insert_credential(&service(4, "repo", &[]))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut tx = begin(&*store).await;
    let names: Vec<Option<String>> = tx
        .credentials(Some(CredentialKind::Service))
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, [Some("other".to_owned()), Some("repo".to_owned())]);
    assert_eq!(
        tx.credential_by_hash(&token(4), Utc::now()).await.unwrap(),
        Some(again)
    );
}

/// Deleting a credential by id says whether it was there and leaves the others.
pub async fn credential_delete_by_id(store: Arc<dyn Store>) {
    let (ann, _) = ann_and_bob(&*store).await;
    let mut tx = begin(&*store).await;
    let one = tx
        .insert_credential(&user_credential(CredentialKind::Session, 1, ann, None))
        .await
        .unwrap();
    let two = tx
        .insert_credential(&user_credential(CredentialKind::Bearer, 2, ann, None))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut tx = begin(&*store).await;
    assert!(tx.delete_credential(one.id).await.unwrap());
    assert!(!tx.delete_credential(one.id).await.unwrap());
    assert!(!tx.delete_credential(two.id + 1000).await.unwrap());
    tx.commit().await.unwrap();

    let mut tx = begin(&*store).await;
    let now = Utc::now();
    assert_eq!(tx.credential_by_hash(&token(1), now).await.unwrap(), None);
    assert_eq!(
        tx.credential_by_hash(&token(2), now).await.unwrap(),
        Some(two.clone())
    );
    assert_eq!(tx.credentials(None).await.unwrap(), vec![two]);
}

/// Ending a user's sessions deletes their sessions and bearer tokens, except `keep`; not
/// other users' credentials, not service tokens.
pub async fn delete_user_credentials_keeps_one(store: Arc<dyn Store>) {
    let (ann, bob) = ann_and_bob(&*store).await;
    let mut tx = begin(&*store).await;
    let mut made = Vec::new();
    for (n, kind, user) in [
        (1, CredentialKind::Session, ann),
        (2, CredentialKind::Bearer, ann),
        (3, CredentialKind::Session, ann),
        (4, CredentialKind::Session, bob),
    ] {
        made.push(
            tx.insert_credential(&user_credential(kind, n, user, None))
                .await
                .unwrap(),
        );
    }
    // A service token that names ann as its user is still not one of her sessions.
    let owned_service = tx
        .insert_credential(&NewCredential {
            user_id: Some(ann),
            ..service(5, "ann-tool", &[])
        })
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut tx = begin(&*store).await;
    let kept = made[2].id;
    assert_eq!(
        tx.delete_user_credentials(ann, Some(kept)).await.unwrap(),
        2
    );
    assert_eq!(
        ids(&tx.credentials(None).await.unwrap()),
        [kept, made[3].id, owned_service.id]
    );
    assert_eq!(tx.delete_user_credentials(ann, None).await.unwrap(), 1);
    assert_eq!(tx.delete_user_credentials(ann, None).await.unwrap(), 0);
    tx.commit().await.unwrap();

    let mut tx = begin(&*store).await;
    assert_eq!(
        ids(&tx.credentials(None).await.unwrap()),
        [made[3].id, owned_service.id]
    );
}

/// `credentials` lists one kind, or all, ordered by id.
pub async fn credentials_listed_by_kind_in_id_order(store: Arc<dyn Store>) {
    let (ann, bob) = ann_and_bob(&*store).await;
    let mut tx = begin(&*store).await;
    let mut made = Vec::new();
    for (n, c) in [
        (1, service(1, "zeta", &[])),
        (2, user_credential(CredentialKind::Bearer, 2, bob, None)),
        (3, user_credential(CredentialKind::Session, 3, ann, None)),
        (4, service(4, "alpha", &["p"])),
        (5, user_credential(CredentialKind::Session, 5, bob, None)),
    ] {
        let stored = tx.insert_credential(&c).await.unwrap();
        assert_eq!(stored.kind, c.kind, "credential {n}");
        made.push(stored);
    }
    tx.commit().await.unwrap();

    let mut tx = begin(&*store).await;
    assert_eq!(tx.credentials(None).await.unwrap(), made);
    let of = |kind: CredentialKind| -> Vec<Credential> {
        made.iter().filter(|c| c.kind == kind).cloned().collect()
    };
    for kind in [
        CredentialKind::Service,
        CredentialKind::Session,
        CredentialKind::Bearer,
    ] {
        assert_eq!(
            tx.credentials(Some(kind)).await.unwrap(),
            of(kind),
            "{kind:?}"
        );
    }
}

/// A link gives its user once; the second use, in the same or a later transaction, finds
/// nothing.
pub async fn link_is_used_once(store: Arc<dyn Store>) {
    let (ann, bob) = ann_and_bob(&*store).await;
    let expires = Utc::now() + Duration::hours(1);
    let mut tx = begin(&*store).await;
    tx.insert_link(LinkPurpose::Confirm, ann, &token(1), expires)
        .await
        .unwrap();
    tx.insert_link(LinkPurpose::Reset, bob, &token(2), expires)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut tx = begin(&*store).await;
    let now = Utc::now();
    assert_eq!(
        tx.consume_link(LinkPurpose::Confirm, &token(1), now)
            .await
            .unwrap(),
        Some(ann)
    );
    assert_eq!(
        tx.consume_link(LinkPurpose::Confirm, &token(1), now)
            .await
            .unwrap(),
        None
    );
    tx.commit().await.unwrap();

    let mut tx = begin(&*store).await;
    assert_eq!(
        tx.consume_link(LinkPurpose::Confirm, &token(1), now)
            .await
            .unwrap(),
        None,
        "used in an earlier transaction"
    );
    assert_eq!(
        tx.consume_link(LinkPurpose::Reset, &token(2), now)
            .await
            .unwrap(),
        Some(bob)
    );
    // A use that is rolled back did not happen.
    drop(tx);
    let mut tx = begin(&*store).await;
    assert_eq!(
        tx.consume_link(LinkPurpose::Reset, &token(2), now)
            .await
            .unwrap(),
        Some(bob)
    );
}

/// A link asked for with the wrong purpose, or a token that was never stored, gives
/// nothing; the wrong purpose does not use the link up.
pub async fn link_wrong_purpose_or_missing_is_none(store: Arc<dyn Store>) {
    let (ann, _) = ann_and_bob(&*store).await;
    let mut tx = begin(&*store).await;
    tx.insert_link(
        LinkPurpose::Confirm,
        ann,
        &token(1),
        Utc::now() + Duration::hours(1),
    )
    .await
    .unwrap();
    let now = Utc::now();
    assert_eq!(
        tx.consume_link(LinkPurpose::Reset, &token(1), now)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        tx.consume_link(LinkPurpose::Confirm, &token(2), now)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        tx.consume_link(LinkPurpose::Confirm, &token(1), now)
            .await
            .unwrap(),
        Some(ann)
    );
}

/// A link is valid strictly before its expiry; using an expired one gives nothing and
/// deletes it, so it stays unusable whatever time is asked later.
pub async fn link_expired_is_none_and_deleted(store: Arc<dyn Store>) {
    let (ann, _) = ann_and_bob(&*store).await;
    let expires = at("2030-01-01T00:00:00.250000Z");
    let mut tx = begin(&*store).await;
    for n in [1, 2] {
        tx.insert_link(LinkPurpose::Reset, ann, &token(n), expires)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();

    let mut tx = begin(&*store).await;
    assert_eq!(
        tx.consume_link(LinkPurpose::Reset, &token(1), expires)
            .await
            .unwrap(),
        None,
        "expired at that very time"
    );
    let just_before = expires - Duration::microseconds(1);
    assert_eq!(
        tx.consume_link(LinkPurpose::Reset, &token(2), just_before)
            .await
            .unwrap(),
        Some(ann)
    );
    tx.commit().await.unwrap();

    let mut tx = begin(&*store).await;
    let long_before = expires - Duration::days(1);
    assert_eq!(
        tx.consume_link(LinkPurpose::Reset, &token(1), long_before)
            .await
            .unwrap(),
        None,
        "the expired link was deleted"
    );
}

/// Deleting a user deletes their credentials and links, and nobody else's.
pub async fn credentials_and_links_go_with_the_user(store: Arc<dyn Store>) {
    let (ann, bob) = ann_and_bob(&*store).await;
    let expires = Utc::now() + Duration::hours(1);
    let mut tx = begin(&*store).await;
    tx.insert_credential(&user_credential(CredentialKind::Session, 1, ann, None))
        .await
        .unwrap();
    tx.insert_credential(&user_credential(CredentialKind::Bearer, 2, ann, None))
        .await
        .unwrap();
    let bobs = tx
        .insert_credential(&user_credential(CredentialKind::Session, 3, bob, None))
        .await
        .unwrap();
    let repo = tx
        .insert_credential(&service(4, "repo", &[]))
        .await
        .unwrap();
    tx.insert_link(LinkPurpose::Confirm, ann, &token(5), expires)
        .await
        .unwrap();
    tx.insert_link(LinkPurpose::Reset, ann, &token(6), expires)
        .await
        .unwrap();
    tx.insert_link(LinkPurpose::Confirm, bob, &token(7), expires)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut tx = begin(&*store).await;
    assert!(tx.delete_user(ann).await.unwrap());
    tx.commit().await.unwrap();

    let mut tx = begin(&*store).await;
    let now = Utc::now();
    assert_eq!(tx.credentials(None).await.unwrap(), vec![bobs, repo]);
    assert_eq!(tx.credential_by_hash(&token(1), now).await.unwrap(), None);
    for (purpose, n) in [(LinkPurpose::Confirm, 5), (LinkPurpose::Reset, 6)] {
        assert_eq!(
            tx.consume_link(purpose, &token(n), now).await.unwrap(),
            None
        );
    }
    assert_eq!(
        tx.consume_link(LinkPurpose::Confirm, &token(7), now)
            .await
            .unwrap(),
        Some(bob)
    );
    // The token hashes of the deleted user's links and credentials are free again.
    let ann2 = tx.insert_user(&new_user("ann@example.org")).await.unwrap();
    tx.insert_link(LinkPurpose::Confirm, ann2.id, &token(5), expires)
        .await
        .unwrap();
    tx.insert_credential(&user_credential(CredentialKind::Session, 1, ann2.id, None))
        .await
        .unwrap();
}

/// A read-only transaction sees what was committed before it began, and nothing that was
/// rolled back; it can be committed or dropped.
pub async fn begin_read_sees_committed_data(store: Arc<dyn Store>) {
    let (ann, _) = ann_and_bob(&*store).await;
    let mut tx = begin(&*store).await;
    tx.insert_credential(&user_credential(CredentialKind::Session, 1, ann, None))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut tx = begin(&*store).await;
    tx.insert_user(&new_user("rolled-back@example.org"))
        .await
        .unwrap();
    drop(tx);

    let mut tx = store.begin_read().await.unwrap();
    assert_eq!(
        tx.user_by_id(ann).await.unwrap().map(|u| u.email),
        Some(email("ann@example.org"))
    );
    assert_eq!(tx.list_users(&UserQuery::default()).await.unwrap().total, 2);
    assert_eq!(
        tx.user_by_email(&email("rolled-back@example.org"))
            .await
            .unwrap(),
        None
    );
    let found = tx.credential_by_hash(&token(1), Utc::now()).await.unwrap();
    assert_eq!(found.and_then(|c| c.user_id), Some(ann));
    tx.commit().await.unwrap();

    let mut tx = store.begin_read().await.unwrap();
    assert_eq!(tx.credentials(None).await.unwrap().len(), 1);
    drop(tx);

    // A writer that follows is not disturbed by the readers before it.
    let mut tx = begin(&*store).await;
    tx.insert_user(&new_user("after@example.org"))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.begin_read().await.unwrap();
    assert_eq!(tx.list_users(&UserQuery::default()).await.unwrap().total, 3);
}

/// `purge_expired` deletes the credentials and links expired at `now` (expiry exclusive, as
/// everywhere) and nothing else: not live ones, not tokens that never expire.
pub async fn purge_expired_keeps_live_ones(store: Arc<dyn Store>) {
    let (ann, _) = ann_and_bob(&*store).await;
    let now = at("2030-01-01T00:00:00.500000Z");
    let mut tx = begin(&*store).await;
    tx.insert_credential(&user_credential(
        CredentialKind::Session,
        1,
        ann,
        Some(now - Duration::hours(1)),
    ))
    .await
    .unwrap();
    tx.insert_credential(&user_credential(CredentialKind::Bearer, 2, ann, Some(now)))
        .await
        .unwrap();
    tx.insert_credential(&user_credential(
        CredentialKind::Session,
        3,
        ann,
        Some(now + Duration::hours(1)),
    ))
    .await
    .unwrap();
    tx.insert_credential(&service(4, "app", &["check/any"]))
        .await
        .unwrap();
    tx.insert_link(
        LinkPurpose::Confirm,
        ann,
        &token(5),
        now - Duration::minutes(1),
    )
    .await
    .unwrap();
    tx.insert_link(
        LinkPurpose::Reset,
        ann,
        &token(6),
        now + Duration::minutes(1),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let mut tx = begin(&*store).await;
    assert_eq!(
        tx.purge_expired(now).await.unwrap(),
        3,
        "two credentials and one link"
    );
    tx.commit().await.unwrap();

    let mut tx = store.begin_read().await.unwrap();
    let left: Vec<String> = tx
        .credentials(None)
        .await
        .unwrap()
        .iter()
        .map(|c| format!("{:?}", c.kind))
        .collect();
    assert_eq!(left, ["Session", "Service"]);
    drop(tx);
    let mut tx = begin(&*store).await;
    assert_eq!(
        tx.consume_link(LinkPurpose::Reset, &token(6), now)
            .await
            .unwrap(),
        Some(ann)
    );
    assert_eq!(
        tx.consume_link(LinkPurpose::Confirm, &token(5), now - Duration::hours(1))
            .await
            .unwrap(),
        None
    );
}
