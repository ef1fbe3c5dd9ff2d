//! Conformance cases for users: insert, read, update, delete, uniqueness, round trips and
//! the bulk path.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use gatehouse_core::store::ConflictField;
use gatehouse_core::{GrantFilter, NewUser, PasswordHash, Store, Tx, User, UserQuery};
use gatehouse_policy::{Effect, Grant, GrantTarget};

use super::{assert_conflict, at, begin, email, hash, named_user, new_user, privilege, username};

/// A user with every field set.
fn full_user() -> NewUser {
    NewUser {
        email: email("Ann.Smith@Example.ORG"),
        username: Some(username("AnnS")),
        full_name: "Ann Smith".to_owned(),
        affiliations: "Faculty of Law".to_owned(),
        active: true,
        confirmed_at: Some(at("2024-05-01T10:00:00.123456Z")),
        password_hash: Some(hash()),
        user_type: Some("editor".parse().unwrap()),
        entries: vec![
            "approve-hat".parse().unwrap(),
            "+eprint/archive/edit:owner".parse().unwrap(),
            "-create_eprint".parse().unwrap(),
        ],
        editorial_scope: vec![
            "divisions=law,ecs;subjects=QA".parse().unwrap(),
            "divisions=med".parse().unwrap(),
        ],
    }
}

/// Insert returns the stored user (new id, version 1, created = updated) and every lookup
/// returns exactly that.
pub async fn user_insert_and_read_back(store: Arc<dyn Store>) {
    let before = Utc::now() - chrono::Duration::seconds(1);
    let mut tx = begin(&*store).await;
    let first = tx
        .insert_user(&new_user("first@example.org"))
        .await
        .unwrap();
    let ann = tx.insert_user(&full_user()).await.unwrap();
    assert!(ann.id > first.id, "ids grow");
    assert_eq!(ann.email.as_str(), "ann.smith@example.org");
    assert_eq!(ann.username.as_ref().map(|u| u.as_str()), Some("AnnS"));
    assert_eq!(ann.version, 1);
    assert_eq!(ann.created, ann.updated);
    assert!(ann.created >= before && ann.created <= Utc::now() + chrono::Duration::seconds(1));
    tx.commit().await.unwrap();

    let mut tx = begin(&*store).await;
    assert_eq!(tx.user_by_id(ann.id).await.unwrap(), Some(ann.clone()));
    assert_eq!(
        tx.user_by_email(&ann.email).await.unwrap(),
        Some(ann.clone())
    );
    assert_eq!(
        tx.user_by_username(&username("AnnS")).await.unwrap(),
        Some(ann.clone())
    );
    assert_eq!(tx.user_by_id(first.id).await.unwrap(), Some(first));
}

/// Email and username lookups do not care about case; the username keeps its display case.
pub async fn user_lookups_ignore_case(store: Arc<dyn Store>) {
    let mut tx = begin(&*store).await;
    let ann = tx
        .insert_user(&named_user("ann@example.org", "AnnS"))
        .await
        .unwrap();
    for spelling in ["ANN@EXAMPLE.ORG", "Ann@Example.org", "ann@example.org"] {
        let found = tx.user_by_email(&email(spelling)).await.unwrap();
        assert_eq!(found.map(|u| u.id), Some(ann.id), "{spelling}");
    }
    for spelling in ["anns", "ANNS", "aNnS"] {
        let found = tx.user_by_username(&username(spelling)).await.unwrap();
        assert_eq!(
            found.and_then(|u| u.username).map(|u| u.to_string()),
            Some("AnnS".to_owned()),
            "{spelling}"
        );
    }
}

/// Looking up what is not there gives `None`, not an error.
pub async fn user_missing_is_none(store: Arc<dyn Store>) {
    let mut tx = begin(&*store).await;
    assert_eq!(
        tx.user_by_id(gatehouse_policy::UserId(999)).await.unwrap(),
        None
    );
    assert_eq!(
        tx.user_by_email(&email("nobody@example.org"))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        tx.user_by_username(&username("nobody")).await.unwrap(),
        None
    );
    assert!(!tx.delete_user(gatehouse_policy::UserId(999)).await.unwrap());
}

/// A taken email is a conflict naming the email, in any case.
pub async fn user_email_conflict_names_the_value(store: Arc<dyn Store>) {
    let mut tx = begin(&*store).await;
    tx.insert_user(&new_user("a@b.org")).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = begin(&*store).await;
    assert_conflict(
        tx.insert_user(&new_user("A@B.org")).await,
        ConflictField::Email,
        "a@b.org",
    );
    drop(tx);
    let mut tx = begin(&*store).await;
    let page = tx.list_users(&UserQuery::default()).await.unwrap();
    assert_eq!(page.total, 1);
}

/// Usernames that differ only in case clash; the message names the one asked for.
pub async fn user_username_conflict_ignores_case(store: Arc<dyn Store>) {
    let mut tx = begin(&*store).await;
    tx.insert_user(&named_user("ann@example.org", "Ann"))
        .await
        .unwrap();
    assert_conflict(
        tx.insert_user(&named_user("other@example.org", "ANN"))
            .await,
        ConflictField::Username,
        "ANN",
    );
    drop(tx);
    let mut tx = begin(&*store).await;
    assert_eq!(
        tx.user_by_email(&email("other@example.org")).await.unwrap(),
        None
    );
}

/// An update increments the version and moves `updated` forward; `created` stays.
pub async fn user_update_bumps_version_and_updated(store: Arc<dyn Store>) {
    let mut tx = begin(&*store).await;
    let ann = tx.insert_user(&new_user("ann@example.org")).await.unwrap();
    tx.commit().await.unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;

    let mut tx = begin(&*store).await;
    let once = tx.update_user(&ann).await.unwrap();
    assert_eq!(once.version, ann.version + 1);
    assert!(once.updated > ann.updated);
    assert_eq!(once.created, ann.created);
    // The version the caller passes in does not matter: the store counts.
    let twice = tx.update_user(&ann).await.unwrap();
    assert_eq!(twice.version, ann.version + 2);
    tx.commit().await.unwrap();

    let mut tx = begin(&*store).await;
    assert_eq!(tx.user_by_id(ann.id).await.unwrap(), Some(twice));
}

/// Every writable field can change, and the change is what is read back.
pub async fn user_update_changes_every_field(store: Arc<dyn Store>) {
    let mut tx = begin(&*store).await;
    let plain = tx
        .insert_user(&new_user("plain@example.org"))
        .await
        .unwrap();
    let full = full_user();
    let mut changed = plain.clone();
    changed.email = email("New@Example.org");
    changed.username = full.username.clone();
    changed.full_name = full.full_name.clone();
    changed.affiliations = full.affiliations.clone();
    changed.active = false;
    changed.confirmed_at = full.confirmed_at;
    changed.password_hash = full.password_hash.clone();
    changed.user_type = full.user_type.clone();
    changed.entries = full.entries.clone();
    changed.editorial_scope = full.editorial_scope.clone();
    let stored = tx.update_user(&changed).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = begin(&*store).await;
    let read = tx.user_by_id(plain.id).await.unwrap().unwrap();
    assert_eq!(read, stored);
    assert_eq!(read.email.as_str(), "new@example.org");
    assert_eq!(read.username, full.username);
    assert_eq!(read.full_name, full.full_name);
    assert_eq!(read.affiliations, full.affiliations);
    assert!(!read.active);
    assert_eq!(read.confirmed_at, full.confirmed_at);
    assert_eq!(read.password_hash, full.password_hash);
    assert_eq!(read.user_type, full.user_type);
    assert_eq!(read.entries, full.entries);
    assert_eq!(read.editorial_scope, full.editorial_scope);
    assert_eq!(
        tx.user_by_email(&email("plain@example.org")).await.unwrap(),
        None
    );

    // And back to empty values.
    let mut cleared = read.clone();
    cleared.username = None;
    cleared.confirmed_at = None;
    cleared.password_hash = None;
    cleared.user_type = None;
    cleared.entries.clear();
    cleared.editorial_scope.clear();
    let stored = tx.update_user(&cleared).await.unwrap();
    assert_eq!(tx.user_by_id(plain.id).await.unwrap(), Some(stored.clone()));
    assert_eq!(stored.username, None);
    assert_eq!(stored.password_hash, None);
    assert!(stored.entries.is_empty() && stored.editorial_scope.is_empty());
}

/// Updating to a taken email or username is a conflict naming the value; nothing changes.
pub async fn user_update_conflicts_name_the_value(store: Arc<dyn Store>) {
    let mut tx = begin(&*store).await;
    tx.insert_user(&named_user("ann@example.org", "Ann"))
        .await
        .unwrap();
    let bob = tx
        .insert_user(&named_user("bob@example.org", "Bob"))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut tx = begin(&*store).await;
    let mut taken_email = bob.clone();
    taken_email.email = email("ANN@example.org");
    assert_conflict(
        tx.update_user(&taken_email).await,
        ConflictField::Email,
        "ann@example.org",
    );
    drop(tx);

    let mut tx = begin(&*store).await;
    let mut taken_name = bob.clone();
    taken_name.username = Some(username("aNN"));
    assert_conflict(
        tx.update_user(&taken_name).await,
        ConflictField::Username,
        "aNN",
    );
    drop(tx);

    let mut tx = begin(&*store).await;
    assert_eq!(tx.user_by_id(bob.id).await.unwrap(), Some(bob.clone()));
    // Changing only the case of one's own username is not a conflict.
    let mut recased = bob.clone();
    recased.username = Some(username("BOB"));
    let stored = tx.update_user(&recased).await.unwrap();
    assert_eq!(
        stored.username.map(|u| u.to_string()),
        Some("BOB".to_owned())
    );
}

/// Deleting a user removes the user, their grants and their search entry; other users'
/// grants stay.
pub async fn user_delete_removes_user_and_grants(store: Arc<dyn Store>) {
    let mut tx = begin(&*store).await;
    let ann = tx
        .insert_user(&named_user("ann@example.org", "Ann"))
        .await
        .unwrap();
    let bob = tx.insert_user(&new_user("bob@example.org")).await.unwrap();
    for (effect, target) in [
        (Effect::Allow, ann.id),
        (Effect::Deny, ann.id),
        (Effect::Allow, bob.id),
    ] {
        let grant = Grant {
            effect,
            privilege: privilege("superuser-access"),
            target: GrantTarget::User(target),
        };
        assert!(tx.add_grant(&grant).await.unwrap());
    }
    tx.commit().await.unwrap();

    let mut tx = begin(&*store).await;
    assert!(tx.delete_user(ann.id).await.unwrap());
    assert!(
        !tx.delete_user(ann.id).await.unwrap(),
        "second delete finds nothing"
    );
    tx.commit().await.unwrap();

    let mut tx = begin(&*store).await;
    assert_eq!(tx.user_by_id(ann.id).await.unwrap(), None);
    assert_eq!(tx.user_by_email(&ann.email).await.unwrap(), None);
    assert_eq!(tx.user_by_username(&username("ann")).await.unwrap(), None);
    let left = tx.grants(&GrantFilter::default()).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].target, GrantTarget::User(bob.id));
    let found = tx
        .list_users(&UserQuery {
            text: Some("ann".to_owned()),
            ..UserQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(found.total, 0);
    // The email and username are free again.
    tx.insert_user(&named_user("ann@example.org", "Ann"))
        .await
        .unwrap();
}

/// The password hash comes back exactly, and a user without one stays without.
pub async fn user_password_hash_round_trips(store: Arc<dyn Store>) {
    let mut tx = begin(&*store).await;
    let with = tx
        .insert_user(&NewUser {
            password_hash: Some(hash()),
            ..new_user("with@example.org")
        })
        .await
        .unwrap();
    let without = tx
        .insert_user(&new_user("without@example.org"))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut tx = begin(&*store).await;
    let read = tx.user_by_id(with.id).await.unwrap().unwrap();
    assert_eq!(
        read.password_hash.map(|h| h.as_phc().to_owned()),
        Some(super::PHC.to_owned())
    );
    let read = tx.user_by_id(without.id).await.unwrap().unwrap();
    assert!(read.password_hash.is_none());
}

/// Legacy hashes round-trip as given, and users are listed and counted by the scheme of
/// their hash, through every write path (insert, bulk insert, update, import).
pub async fn user_password_schemes_filter_and_count(store: Arc<dyn Store>) {
    use gatehouse_core::legacy::Scheme;
    const DSPACE: &str = "dspace:::e10adc3949ba59abbe56e057f20f883e";
    const EPRINTS: &str = "?method=2&salt=Ab&digest=1abcdd7488d8e2a27d9164cd84408a28faa490551516b24c300194d8a841517400f6c57b679b550ba2afe7cacb65ef5731f1259894f58bac96010927bbab3c21";
    let legacy = |s: &str| Some(PasswordHash::parse(s).unwrap());
    let mut tx = begin(&*store).await;
    let a = tx
        .insert_user(&NewUser {
            password_hash: Some(hash()),
            ..new_user("a@example.org")
        })
        .await
        .unwrap();
    let b = tx
        .insert_user(&NewUser {
            password_hash: legacy(DSPACE),
            ..new_user("b@example.org")
        })
        .await
        .unwrap();
    let bulk = tx
        .insert_users(&[
            NewUser {
                password_hash: legacy(EPRINTS),
                ..new_user("c@example.org")
            },
            NewUser {
                password_hash: legacy(DSPACE),
                ..new_user("d@example.org")
            },
            new_user("e@example.org"),
        ])
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut tx = begin(&*store).await;
    let read = tx.user_by_id(b.id).await.unwrap().unwrap();
    assert_eq!(
        read.password_hash.map(|h| h.as_phc().to_owned()).as_deref(),
        Some(DSPACE)
    );
    let by = |scheme: Scheme| UserQuery {
        password_scheme: Some(scheme),
        ..UserQuery::default()
    };
    let ids = |p: gatehouse_core::Page<gatehouse_core::User>| {
        (p.items.iter().map(|u| u.id).collect::<Vec<_>>(), p.total)
    };
    assert_eq!(
        ids(tx.list_users(&by(Scheme::DspaceMd5)).await.unwrap()),
        (vec![b.id, bulk[1].id], 2)
    );
    assert_eq!(
        ids(tx.list_users(&by(Scheme::EprintsSha512)).await.unwrap()),
        (vec![bulk[0].id], 1)
    );
    assert_eq!(
        ids(tx
            .list_users(&by(Scheme::InvenioPbkdf2Sha512))
            .await
            .unwrap()),
        (vec![], 0)
    );
    let counts = |v: Vec<(String, u64)>| v;
    assert_eq!(
        counts(tx.password_schemes().await.unwrap()),
        [
            ("argon2".to_owned(), 1),
            ("dspace-md5".to_owned(), 2),
            ("eprints-sha512".to_owned(), 1)
        ]
    );

    // A rehash (update) moves the user to argon2; clearing the password removes it.
    let mut moved = read_user(tx.as_mut(), b.id).await;
    moved.password_hash = Some(hash());
    tx.update_user(&moved).await.unwrap();
    let mut cleared = read_user(tx.as_mut(), a.id).await;
    cleared.password_hash = None;
    tx.update_user(&cleared).await.unwrap();
    assert_eq!(
        tx.password_schemes().await.unwrap(),
        [
            ("argon2".to_owned(), 1),
            ("dspace-md5".to_owned(), 1),
            ("eprints-sha512".to_owned(), 1)
        ]
    );
    assert_eq!(
        ids(tx.list_users(&by(Scheme::Argon2)).await.unwrap()),
        (vec![b.id], 1)
    );
    tx.commit().await.unwrap();
}

async fn read_user(tx: &mut dyn Tx, id: gatehouse_policy::UserId) -> gatehouse_core::User {
    tx.user_by_id(id).await.unwrap().unwrap()
}

/// Own entries and editorial scope filters come back in the order given.
pub async fn user_entries_and_scope_round_trip_in_order(store: Arc<dyn Store>) {
    let entries: Vec<gatehouse_policy::Entry> =
        ["zeta", "+b/priv", "alpha", "-a/priv:editor", "admin"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
    let scope: Vec<gatehouse_policy::ScopeFilter> = [
        "subjects=QA",
        "divisions=med,law",
        "divisions=ecs;subjects=Q",
    ]
    .iter()
    .map(|s| s.parse().unwrap())
    .collect();
    let mut tx = begin(&*store).await;
    let u = tx
        .insert_user(&NewUser {
            entries: entries.clone(),
            editorial_scope: scope.clone(),
            ..new_user("ordered@example.org")
        })
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut tx = begin(&*store).await;
    let read = tx.user_by_id(u.id).await.unwrap().unwrap();
    assert_eq!(read.entries, entries);
    assert_eq!(read.editorial_scope, scope);
    let printed: Vec<String> = read
        .editorial_scope
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        printed,
        [
            "subjects=QA",
            "divisions=law,med",
            "divisions=ecs;subjects=Q"
        ]
    );
}

/// `confirmed_at`, `created` and `updated` survive storage (to the microsecond).
pub async fn user_times_round_trip(store: Arc<dyn Store>) {
    let confirmed = at("2021-12-31T23:59:59.654321+01:00");
    let mut tx = begin(&*store).await;
    let u = tx
        .insert_user(&NewUser {
            confirmed_at: Some(confirmed),
            ..new_user("timely@example.org")
        })
        .await
        .unwrap();
    assert_eq!(u.confirmed_at, Some(confirmed));
    tx.commit().await.unwrap();
    let mut tx = begin(&*store).await;
    let read = tx.user_by_id(u.id).await.unwrap().unwrap();
    assert_eq!(read.confirmed_at, Some(confirmed));
    assert_eq!(read.created, u.created);
    assert_eq!(read.updated, u.updated);
    assert!(read.confirmed());
}

/// `existing_emails` names the emails already stored, once each, whatever the batch size.
pub async fn existing_emails_reports_taken_ones(store: Arc<dyn Store>) {
    let mut tx = begin(&*store).await;
    let stored: Vec<NewUser> = (0..1200)
        .step_by(3)
        .map(|i| new_user(&format!("user{i}@example.org")))
        .collect();
    tx.insert_users(&stored).await.unwrap();
    let asked: Vec<_> = (0..1200)
        .map(|i| email(&format!("USER{i}@example.org")))
        .chain([email("user0@example.org")])
        .collect();
    let mut found = tx.existing_emails(&asked).await.unwrap();
    found.sort();
    let mut want: Vec<_> = stored.iter().map(|u| u.email.clone()).collect();
    want.sort();
    assert_eq!(found, want);
    assert!(tx.existing_emails(&[]).await.unwrap().is_empty());
}

/// The bulk look-alike check reads every stored username of a batch's skeletons in one
/// query, with the skeleton the store keeps.
pub async fn username_skeleton_owners_finds_the_batch(store: Arc<dyn Store>) {
    let mut tx = begin(&*store).await;
    let stored: Vec<NewUser> = (0..900)
        .step_by(3)
        .map(|i| named_user(&format!("u{i}@example.org"), &format!("Name{i}")))
        .chain([new_user("nameless@example.org")])
        .collect();
    tx.insert_users(&stored).await.unwrap();
    let skeleton = |n: &str| gatehouse_core::text::username_skeleton(n);
    let asked: Vec<String> = (0..900).map(|i| skeleton(&format!("name{i}"))).collect();
    let mut found = tx.username_skeleton_owners(&asked).await.unwrap();
    found.sort();
    let mut want: Vec<(String, String)> = (0..900)
        .step_by(3)
        .map(|i| (skeleton(&format!("Name{i}")), format!("Name{i}")))
        .collect();
    want.sort();
    assert_eq!(found, want);
    assert!(tx.username_skeleton_owners(&[]).await.unwrap().is_empty());
}

/// The bulk path stores every user, in order, as `insert_user` would.
pub async fn insert_users_in_order(store: Arc<dyn Store>) {
    let batch: Vec<NewUser> = (0..450)
        .map(|i| NewUser {
            full_name: format!("Person {i}"),
            password_hash: Some(hash()),
            ..named_user(&format!("p{i}@example.org"), &format!("person{i}"))
        })
        .collect();
    let mut tx = begin(&*store).await;
    let before = tx
        .insert_user(&new_user("before@example.org"))
        .await
        .unwrap();
    let users = tx.insert_users(&batch).await.unwrap();
    assert!(tx.insert_users(&[]).await.unwrap().is_empty());
    tx.commit().await.unwrap();

    assert_eq!(users.len(), batch.len());
    let mut last = before.id;
    for (u, n) in users.iter().zip(&batch) {
        assert!(u.id > last, "ids follow the input order");
        last = u.id;
        assert_eq!(u.email, n.email);
        assert_eq!(u.version, 1);
    }
    let mut tx = begin(&*store).await;
    for u in [&users[0], &users[199], &users[200], &users[449]] {
        assert_eq!(tx.user_by_id(u.id).await.unwrap().as_ref(), Some(u));
    }
    let page = tx
        .list_users(&UserQuery {
            text: Some("person 321".to_owned()),
            ..UserQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(
        page.items.iter().map(|u| u.id).collect::<Vec<_>>(),
        [users[321].id]
    );
}

/// A conflict anywhere in a bulk insert fails the call, naming the value; after the
/// rollback nothing of it remains.
pub async fn insert_users_fails_whole_on_conflict(store: Arc<dyn Store>) {
    let mut tx = begin(&*store).await;
    tx.insert_user(&named_user("taken@example.org", "Taken"))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let cases: [(Vec<NewUser>, ConflictField, &str); 3] = [
        (
            (0..300)
                .map(|i| new_user(&format!("b{i}@example.org")))
                .chain([new_user("TAKEN@example.org")])
                .collect(),
            ConflictField::Email,
            "taken@example.org",
        ),
        (
            (0..250)
                .map(|i| new_user(&format!("c{i}@example.org")))
                .chain([named_user("c-dup@example.org", "TAKEN")])
                .collect(),
            ConflictField::Username,
            "TAKEN",
        ),
        (
            vec![new_user("twice@example.org"), new_user("Twice@example.org")],
            ConflictField::Email,
            "twice@example.org",
        ),
    ];
    for (batch, field, value) in cases {
        let mut tx = begin(&*store).await;
        assert_conflict(tx.insert_users(&batch).await, field, value);
        drop(tx);
        let mut tx = begin(&*store).await;
        let page = tx.list_users(&UserQuery::default()).await.unwrap();
        assert_eq!(
            page.total, 1,
            "only the first user remains after the {field} `{value}`"
        );
        assert!(tx
            .existing_emails(&[batch[0].email.clone()])
            .await
            .unwrap()
            .is_empty());
    }
}

/// Changing a user's email and username moves every lookup with it: by email, by username,
/// by either confusable skeleton, and the search index; the old values find nobody and are
/// free for another account.
pub async fn user_update_moves_email_and_username_lookups(store: Arc<dyn Store>) {
    let mut tx = begin(&*store).await;
    let mut ann = tx
        .insert_user(&named_user("ann@example.org", "annie"))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut tx = begin(&*store).await;
    ann.email = email("anna@example.org");
    ann.username = Some(username("AnnaK"));
    let ann = tx.update_user(&ann).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = begin(&*store).await;
    let by = |u: Option<User>| u.map(|u| u.id);
    assert_eq!(
        by(tx.user_by_email(&email("anna@example.org")).await.unwrap()),
        Some(ann.id)
    );
    assert_eq!(
        by(tx.user_by_email(&email("ann@example.org")).await.unwrap()),
        None
    );
    assert_eq!(
        by(tx.user_by_username(&username("annak")).await.unwrap()),
        Some(ann.id)
    );
    assert_eq!(
        by(tx.user_by_username(&username("annie")).await.unwrap()),
        None
    );
    let skeleton = gatehouse_core::text::email_skeleton("anna@example.org");
    assert_eq!(
        by(tx.user_by_skeleton(&skeleton).await.unwrap()),
        Some(ann.id)
    );
    let old = gatehouse_core::text::email_skeleton("ann@example.org");
    assert_eq!(by(tx.user_by_skeleton(&old).await.unwrap()), None);
    let name_skeleton = gatehouse_core::text::username_skeleton("AnnaK");
    assert_eq!(
        by(tx.user_by_username_skeleton(&name_skeleton).await.unwrap()),
        Some(ann.id)
    );
    let search = |text: &str| UserQuery {
        text: Some(text.to_owned()),
        ..UserQuery::default()
    };
    assert_eq!(tx.list_users(&search("anna@")).await.unwrap().total, 1);
    assert_eq!(tx.list_users(&search("annak")).await.unwrap().total, 1);
    assert_eq!(tx.list_users(&search("annie")).await.unwrap().total, 0);
    // The old values are free again.
    tx.insert_user(&named_user("ann@example.org", "annie"))
        .await
        .unwrap();
    tx.commit().await.unwrap();
}
