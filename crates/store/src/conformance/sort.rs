//! Conformance cases for the order of user listings (`Tx::list_users_sorted`): every field both
//! ways, byte order of text, the full name folded for ASCII case, missing values last in
//! either direction, ties by id, and paging and filters in that order.

use std::sync::Arc;

use gatehouse_core::{NewUser, SortDirection, Store, Tx, User, UserQuery, UserSort, UserSortField};
use gatehouse_policy::UserId;

use super::{at, begin, named_user, new_user};

/// Five users whose fields tie, differ in case and go missing in different places. Their
/// ids ascend in this order.
async fn population(tx: &mut dyn Tx) -> Vec<User> {
    let confirmed = Some(at("2024-01-01T00:00:00Z"));
    let users = [
        NewUser {
            full_name: "ann Smith".to_owned(),
            user_type: Some("editor".parse().unwrap()),
            confirmed_at: confirmed,
            ..named_user("bea@example.org", "Zed")
        },
        NewUser {
            active: false,
            ..new_user("abe@example.org")
        },
        NewUser {
            full_name: "Bob".to_owned(),
            user_type: Some("user".parse().unwrap()),
            ..named_user("cid@example.org", "amy")
        },
        NewUser {
            full_name: "Ann Smith".to_owned(),
            user_type: Some("editor".parse().unwrap()),
            active: false,
            confirmed_at: confirmed,
            ..named_user("dan@example.org", "bea")
        },
        NewUser {
            full_name: "carl".to_owned(),
            user_type: Some("admin".parse().unwrap()),
            confirmed_at: confirmed,
            ..new_user("eve@example.org")
        },
    ];
    let mut out = Vec::new();
    for u in &users {
        out.push(tx.insert_user(u).await.unwrap());
    }
    out
}

async fn sorted(tx: &mut dyn Tx, query: UserQuery, sort: UserSort) -> Vec<UserId> {
    let page = tx.list_users_sorted(&query, sort).await.unwrap();
    page.items.iter().map(|u| u.id).collect()
}

/// Every field, both ways, against the order written out by hand (users 1 to 5 as
/// `population` makes them).
pub async fn list_sorts_by_every_field_both_ways(store: Arc<dyn Store>) {
    let mut tx = begin(&*store).await;
    let users = population(tx.as_mut()).await;
    tx.commit().await.unwrap();
    let id = |n: usize| users[n - 1].id;
    // `created` both ways from the stored times (two users may share a microsecond; then
    // the lower id comes first either way).
    let mut by_created: Vec<&User> = users.iter().collect();
    by_created.sort_by_key(|u| (u.created, u.id));
    let created_asc: Vec<UserId> = by_created.iter().map(|u| u.id).collect();
    by_created.sort_by_key(|u| (std::cmp::Reverse(u.created), u.id));
    let created_desc: Vec<UserId> = by_created.iter().map(|u| u.id).collect();

    let mut tx = begin(&*store).await;
    for (field, asc, desc) in [
        (UserSortField::Id, [1, 2, 3, 4, 5], [5, 4, 3, 2, 1]),
        // abe, bea, cid, dan, eve.
        (UserSortField::Email, [2, 1, 3, 4, 5], [5, 4, 3, 1, 2]),
        // amy, bea, Zed (case ignored), then the two without one by id.
        (UserSortField::Username, [3, 4, 1, 2, 5], [1, 4, 3, 2, 5]),
        // ann Smith and Ann Smith tie (by id), Bob, carl, then the empty one.
        (UserSortField::FullName, [1, 4, 3, 5, 2], [5, 3, 1, 4, 2]),
        // admin, editor (1 and 4 by id), user, then the one without a type.
        (UserSortField::Type, [5, 1, 4, 3, 2], [3, 1, 4, 5, 2]),
        (UserSortField::Active, [2, 4, 1, 3, 5], [1, 3, 5, 2, 4]),
        (UserSortField::Confirmed, [2, 3, 1, 4, 5], [1, 4, 5, 2, 3]),
    ] {
        for (direction, want) in [
            (SortDirection::Ascending, asc),
            (SortDirection::Descending, desc),
        ] {
            let sort = UserSort { field, direction };
            let got = sorted(tx.as_mut(), UserQuery::default(), sort).await;
            let want: Vec<UserId> = want.iter().map(|&n| id(n)).collect();
            assert_eq!(got, want, "sort `{sort}`");
        }
    }
    for (sort, want) in [
        (UserSort::ascending(UserSortField::Created), created_asc),
        (UserSort::descending(UserSortField::Created), created_desc),
    ] {
        let got = sorted(tx.as_mut(), UserQuery::default(), sort).await;
        assert_eq!(got, want, "sort `{sort}`");
    }
    // The default is by id, ascending: what `list_users` does.
    assert_eq!(UserSort::default(), UserSort::ascending(UserSortField::Id));
    let plain = tx.list_users(&UserQuery::default()).await.unwrap();
    assert_eq!(
        plain.items.iter().map(|u| u.id).collect::<Vec<_>>(),
        (1..=5).map(id).collect::<Vec<_>>()
    );
}

/// Paging, filters and search follow the order; the total counts every match.
pub async fn list_sort_pages_and_filters(store: Arc<dyn Store>) {
    let mut tx = begin(&*store).await;
    let users = population(tx.as_mut()).await;
    tx.commit().await.unwrap();
    let id = |n: usize| users[n - 1].id;

    let mut tx = begin(&*store).await;
    let by_email = UserSort::ascending(UserSortField::Email);
    let page = tx
        .list_users_sorted(
            &UserQuery {
                offset: 1,
                limit: 2,
                ..UserQuery::default()
            },
            by_email,
        )
        .await
        .unwrap();
    assert_eq!(page.total, 5);
    assert_eq!(
        page.items.iter().map(|u| u.id).collect::<Vec<_>>(),
        [id(1), id(3)]
    );
    // Pages of one, walked through, give the whole order once.
    let mut walked = Vec::new();
    for offset in 0..6 {
        walked.extend(
            sorted(
                tx.as_mut(),
                UserQuery {
                    offset,
                    limit: 1,
                    ..UserQuery::default()
                },
                UserSort::descending(UserSortField::FullName),
            )
            .await,
        );
    }
    assert_eq!(walked, [id(5), id(3), id(1), id(4), id(2)]);
    // Active users by username; then a search ("example" matches all) by type, descending.
    let active = sorted(
        tx.as_mut(),
        UserQuery {
            active: Some(true),
            ..UserQuery::default()
        },
        UserSort::ascending(UserSortField::Username),
    )
    .await;
    assert_eq!(active, [id(3), id(1), id(5)]);
    let searched = sorted(
        tx.as_mut(),
        UserQuery {
            text: Some("example".to_owned()),
            limit: 3,
            ..UserQuery::default()
        },
        UserSort::descending(UserSortField::Type),
    )
    .await;
    assert_eq!(searched, [id(3), id(1), id(4)]);
}
