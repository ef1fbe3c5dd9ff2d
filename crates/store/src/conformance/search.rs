//! Conformance cases for listing and searching users: order, paging, totals, words, filters
//! and the search index.

use std::sync::Arc;

use gatehouse_core::{NewUser, Store, Tx, User, UserQuery};
use gatehouse_policy::UserId;

use super::{at, begin, named_user, new_user};

/// The ids of a page.
fn ids(users: &[User]) -> Vec<UserId> {
    users.iter().map(|u| u.id).collect()
}

/// The ids found by a text query.
async fn find(tx: &mut dyn Tx, text: &str) -> Vec<UserId> {
    let page = tx
        .list_users(&UserQuery {
            text: Some(text.to_owned()),
            ..UserQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(page.total, page.items.len() as u64, "`{text}`");
    ids(&page.items)
}

/// A small population to search.
async fn people(tx: &mut dyn Tx) -> Vec<User> {
    let users = [
        NewUser {
            full_name: "Ann Smith".to_owned(),
            affiliations: "Faculty of Law".to_owned(),
            user_type: Some("editor".parse().unwrap()),
            confirmed_at: Some(at("2024-01-01T00:00:00Z")),
            ..named_user("ann@example.org", "AnnS")
        },
        NewUser {
            full_name: "Bob Smithers".to_owned(),
            affiliations: "School of Medicine".to_owned(),
            active: false,
            ..named_user("bob@uni.example", "bobby")
        },
        NewUser {
            full_name: "Émile Zola".to_owned(),
            affiliations: "Law School".to_owned(),
            user_type: Some("user".parse().unwrap()),
            confirmed_at: Some(at("2024-02-01T00:00:00Z")),
            ..new_user("ezola@example.org")
        },
    ];
    let mut out = Vec::new();
    for u in &users {
        out.push(tx.insert_user(u).await.unwrap());
    }
    out
}

/// Without filters every user comes back by id; `offset` and `limit` page, `total` counts
/// all matches, and a limit of 0 means no limit.
pub async fn list_orders_by_id_with_paging_and_total(store: Arc<dyn Store>) {
    let mut tx = begin(&*store).await;
    let mut all = Vec::new();
    for i in 0..7 {
        all.push(
            tx.insert_user(&new_user(&format!("u{i}@example.org")))
                .await
                .unwrap(),
        );
    }
    let all_ids = ids(&all);
    tx.commit().await.unwrap();

    let mut tx = begin(&*store).await;
    let page = tx.list_users(&UserQuery::default()).await.unwrap();
    assert_eq!(page.total, 7);
    assert_eq!(page.items, all);
    for (offset, limit, want) in [
        (0, 3, &all_ids[0..3]),
        (3, 3, &all_ids[3..6]),
        (6, 3, &all_ids[6..7]),
        (7, 3, &all_ids[7..7]),
        (100, 3, &all_ids[7..7]),
        (2, 0, &all_ids[2..7]),
    ] {
        let page = tx
            .list_users(&UserQuery {
                offset,
                limit,
                ..UserQuery::default()
            })
            .await
            .unwrap();
        assert_eq!(ids(&page.items), want, "offset {offset} limit {limit}");
        assert_eq!(page.total, 7, "offset {offset} limit {limit}");
    }
    // Paging with a search: the total counts the matches, not the page.
    let page = tx
        .list_users(&UserQuery {
            text: Some("example".to_owned()),
            offset: 1,
            limit: 2,
            ..UserQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(ids(&page.items), &all_ids[1..3]);
    assert_eq!(page.total, 7);
}

/// Every word must occur, case-insensitively, somewhere in the email, username, full name
/// or affiliations; words may come from different fields and match inside words.
pub async fn search_matches_every_word_in_any_field(store: Arc<dyn Store>) {
    let mut tx = begin(&*store).await;
    let p = people(&mut *tx).await;
    let (ann, bob, emile) = (p[0].id, p[1].id, p[2].id);
    for (text, want) in [
        ("smith", vec![ann, bob]),
        ("SMITHERS", vec![bob]),
        ("ann@example.org", vec![ann]),
        ("uni.example", vec![bob]),
        ("anns", vec![ann]),
        ("BOBBY", vec![bob]),
        ("law", vec![ann, emile]),
        ("law faculty", vec![ann]),
        ("school", vec![bob, emile]),
        ("smith law", vec![ann]),
        ("  ann   smith  ", vec![ann]),
        ("émile", vec![emile]),
        ("ÉMILE", vec![emile]),
        ("smith zola", vec![]),
        ("nobody", vec![]),
        ("", vec![ann, bob, emile]),
        ("   ", vec![ann, bob, emile]),
    ] {
        assert_eq!(find(&mut *tx, text).await, want, "`{text}`");
    }
}

/// Type, active and confirmed filters narrow the result, alone and with words.
pub async fn search_filters_type_active_confirmed(store: Arc<dyn Store>) {
    let mut tx = begin(&*store).await;
    let p = people(&mut *tx).await;
    let (ann, bob, emile) = (p[0].id, p[1].id, p[2].id);
    let cases: [(UserQuery, Vec<UserId>); 7] = [
        (
            UserQuery {
                user_type: Some("editor".parse().unwrap()),
                ..UserQuery::default()
            },
            vec![ann],
        ),
        (
            UserQuery {
                user_type: Some("admin".parse().unwrap()),
                ..UserQuery::default()
            },
            vec![],
        ),
        (
            UserQuery {
                active: Some(false),
                ..UserQuery::default()
            },
            vec![bob],
        ),
        (
            UserQuery {
                active: Some(true),
                ..UserQuery::default()
            },
            vec![ann, emile],
        ),
        (
            UserQuery {
                confirmed: Some(true),
                ..UserQuery::default()
            },
            vec![ann, emile],
        ),
        (
            UserQuery {
                confirmed: Some(false),
                ..UserQuery::default()
            },
            vec![bob],
        ),
        (
            UserQuery {
                text: Some("law".to_owned()),
                user_type: Some("user".parse().unwrap()),
                active: Some(true),
                confirmed: Some(true),
                ..UserQuery::default()
            },
            vec![emile],
        ),
    ];
    for (query, want) in cases {
        let page = tx.list_users(&query).await.unwrap();
        assert_eq!(ids(&page.items), want, "{query:?}");
        assert_eq!(page.total, want.len() as u64, "{query:?}");
    }
}

/// `%` and `_` in a query are ordinary characters, not wildcards.
pub async fn search_takes_wildcards_literally(store: Arc<dyn Store>) {
    let mut tx = begin(&*store).await;
    let under = tx
        .insert_user(&NewUser {
            full_name: "Dept_of 100% Fun".to_owned(),
            ..new_user("under@example.org")
        })
        .await
        .unwrap();
    let plain = tx
        .insert_user(&NewUser {
            full_name: "Deptxof 1000 Fun".to_owned(),
            ..new_user("plain@example.org")
        })
        .await
        .unwrap();
    assert_eq!(find(&mut *tx, "dept_of").await, vec![under.id]);
    assert_eq!(find(&mut *tx, "100%").await, vec![under.id]);
    assert_eq!(find(&mut *tx, "%").await, vec![under.id]);
    assert_eq!(find(&mut *tx, "_").await, vec![under.id]);
    assert_eq!(find(&mut *tx, "deptxof").await, vec![plain.id]);
    assert_eq!(find(&mut *tx, "\\").await, Vec::<UserId>::new());
}

/// The index changes with the user, inside the same transaction, and a rollback undoes it.
pub async fn search_follows_writes_in_the_same_transaction(store: Arc<dyn Store>) {
    let mut tx = begin(&*store).await;
    let ann = tx
        .insert_user(&NewUser {
            full_name: "Ann Smith".to_owned(),
            ..new_user("ann@example.org")
        })
        .await
        .unwrap();
    assert_eq!(find(&mut *tx, "smith").await, vec![ann.id], "after insert");
    let mut renamed = ann.clone();
    renamed.full_name = "Ann Jones".to_owned();
    renamed.affiliations = "Physics".to_owned();
    renamed.email = super::email("jones@example.org");
    renamed.username = Some(super::username("AJones"));
    let renamed = tx.update_user(&renamed).await.unwrap();
    assert!(find(&mut *tx, "smith").await.is_empty(), "old name gone");
    assert!(
        find(&mut *tx, "ann@example.org").await.is_empty(),
        "old email gone"
    );
    for text in ["jones", "physics", "jones@example", "ajones"] {
        assert_eq!(
            find(&mut *tx, text).await,
            vec![ann.id],
            "after update: `{text}`"
        );
    }
    let bulk = tx
        .insert_users(&[NewUser {
            full_name: "Zed Bulk".to_owned(),
            ..new_user("zed@example.org")
        }])
        .await
        .unwrap();
    assert_eq!(
        find(&mut *tx, "bulk").await,
        vec![bulk[0].id],
        "after bulk insert"
    );
    tx.commit().await.unwrap();

    let mut tx = begin(&*store).await;
    assert!(tx.delete_user(renamed.id).await.unwrap());
    assert!(find(&mut *tx, "jones").await.is_empty(), "after delete");
    drop(tx);

    let mut tx = begin(&*store).await;
    assert_eq!(
        find(&mut *tx, "jones").await,
        vec![ann.id],
        "delete rolled back"
    );
}

/// `reindex_users` counts every user and leaves the search answering as before.
pub async fn reindex_counts_and_keeps_results(store: Arc<dyn Store>) {
    let mut tx = begin(&*store).await;
    let p = people(&mut *tx).await;
    let more: Vec<NewUser> = (0..1500)
        .map(|i| new_user(&format!("many{i}@example.org")))
        .collect();
    tx.insert_users(&more).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = begin(&*store).await;
    let before = (
        find(&mut *tx, "law").await,
        find(&mut *tx, "many1499").await,
    );
    assert_eq!(tx.reindex_users().await.unwrap(), 1503);
    let after = (
        find(&mut *tx, "law").await,
        find(&mut *tx, "many1499").await,
    );
    assert_eq!(before, after);
    assert_eq!(after.0, vec![p[0].id, p[2].id]);
    assert_eq!(find(&mut *tx, "many").await.len(), 1500);
    tx.commit().await.unwrap();
}

/// `with_entries` keeps only users with entries of their own (who-can's index of users
/// whose effective set is not their type's), with the other filters and paging.
pub async fn search_filters_users_with_entries(store: Arc<dyn Store>) {
    let mut tx = begin(&*store).await;
    let plain = tx
        .insert_user(&new_user("plain@example.org"))
        .await
        .unwrap();
    let roles = tx
        .insert_user(&NewUser {
            entries: vec!["editor".parse().unwrap()],
            ..new_user("roles@example.org")
        })
        .await
        .unwrap();
    let minus = tx
        .insert_user(&NewUser {
            entries: vec!["-eprint/view".parse().unwrap()],
            active: false,
            ..new_user("minus@example.org")
        })
        .await
        .unwrap();
    // Entries emptied again count as none.
    let mut emptied = tx
        .insert_user(&NewUser {
            entries: vec!["+x/y".parse().unwrap()],
            ..new_user("emptied@example.org")
        })
        .await
        .unwrap();
    emptied.entries.clear();
    tx.update_user(&emptied).await.unwrap();
    let page = tx
        .list_users(&UserQuery {
            with_entries: true,
            ..UserQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(ids(&page.items), vec![roles.id, minus.id]);
    assert_eq!(page.total, 2);
    let page = tx
        .list_users(&UserQuery {
            with_entries: true,
            active: Some(true),
            ..UserQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(ids(&page.items), vec![roles.id]);
    let all = tx.list_users(&UserQuery::default()).await.unwrap();
    assert!(ids(&all.items).contains(&plain.id) && all.total == 4);
    // Paging by id: only users after the given one, in id order.
    let page = tx
        .list_users(&UserQuery {
            after_id: Some(roles.id),
            limit: 1,
            ..UserQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(ids(&page.items), vec![minus.id]);
    assert_eq!(
        page.total, 2,
        "the total counts every user after the one given"
    );
}
