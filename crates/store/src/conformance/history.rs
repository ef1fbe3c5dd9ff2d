//! Conformance cases for history queries: actor and target by text (ASCII case ignored,
//! wildcards literal), action exactly, a time range, paging from the newest event, newest
//! first, and the count of every match.

use std::sync::Arc;

use chrono::Duration;
use gatehouse_core::{Channel, HistoryEvent, HistoryFilter, Store};
use gatehouse_policy::UserId;
use serde_json::json;

use super::{at, begin};

/// Twelve events, one a minute from 10:00: actors alternate between a user and the
/// operator, targets and actions vary.
async fn recorded(store: &dyn Store) -> chrono::DateTime<chrono::Utc> {
    let base = at("2024-06-01T10:00:00Z");
    let mut tx = begin(store).await;
    for i in 0..12_i64 {
        let (actor, action, target) = match i % 3 {
            0 => (
                "user Ann@Example.org (id 3)",
                "user.create",
                format!("new{i}@example.org"),
            ),
            1 => ("operator root", "grant.allow", format!("role Editor_{i}")),
            _ => ("operator root", "user.create", format!("x{i}%@example.org")),
        };
        tx.record(&HistoryEvent {
            id: 0,
            at: base + Duration::minutes(i),
            actor: actor.to_owned(),
            channel: Channel::Api,
            action: action.to_owned(),
            user_id: Some(UserId(i % 2)),
            target,
            details: json!({"i": i}),
        })
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    base
}

fn numbers(events: &[HistoryEvent]) -> Vec<i64> {
    events
        .iter()
        .map(|e| e.details["i"].as_i64().unwrap())
        .collect()
}

/// Every condition alone and together, with the count of every match beside the page.
pub async fn history_filters_actor_target_action_and_time(store: Arc<dyn Store>) {
    let base = recorded(&*store).await;
    let mut tx = begin(&*store).await;
    let cases: Vec<(HistoryFilter, Vec<i64>)> = vec![
        (
            HistoryFilter {
                actor: Some("ann@EXAMPLE".into()),
                ..HistoryFilter::default()
            },
            vec![0, 3, 6, 9],
        ),
        (
            HistoryFilter {
                target: Some("editor_1".into()),
                ..HistoryFilter::default()
            },
            vec![1, 10],
        ),
        // `%` and `_` are literal: only the targets that hold a `%`.
        (
            HistoryFilter {
                target: Some("%@".into()),
                ..HistoryFilter::default()
            },
            vec![2, 5, 8, 11],
        ),
        (
            HistoryFilter {
                action: Some("grant.allow".into()),
                ..HistoryFilter::default()
            },
            vec![1, 4, 7, 10],
        ),
        // Exact: a prefix of an action is no match.
        (
            HistoryFilter {
                action: Some("grant".into()),
                ..HistoryFilter::default()
            },
            vec![],
        ),
        // `since` inclusive, `until` exclusive.
        (
            HistoryFilter {
                since: Some(base + Duration::minutes(3)),
                until: Some(base + Duration::minutes(6)),
                ..HistoryFilter::default()
            },
            vec![3, 4, 5],
        ),
        (
            HistoryFilter {
                actor: Some("operator".into()),
                action: Some("user.create".into()),
                user_id: Some(UserId(0)),
                until: Some(base + Duration::minutes(9)),
                ..HistoryFilter::default()
            },
            vec![2, 8],
        ),
    ];
    for (filter, want) in cases {
        let page = tx.history(&filter).await.unwrap();
        assert_eq!(numbers(&page), want, "{filter:?}");
        assert_eq!(
            tx.count_history(&filter).await.unwrap(),
            want.len() as u64,
            "{filter:?}"
        );
    }
}

/// Pages count from the newest match; each comes back oldest first or newest first; the
/// count ignores paging.
pub async fn history_pages_from_the_newest_both_ways(store: Arc<dyn Store>) {
    recorded(&*store).await;
    let mut tx = begin(&*store).await;
    let page = |offset, limit, newest_first| HistoryFilter {
        offset,
        limit,
        newest_first,
        ..HistoryFilter::default()
    };
    for (filter, want) in [
        (page(0, 5, true), vec![11, 10, 9, 8, 7]),
        (page(5, 5, true), vec![6, 5, 4, 3, 2]),
        (page(10, 5, true), vec![1, 0]),
        (page(15, 5, true), vec![]),
        (page(0, 5, false), vec![7, 8, 9, 10, 11]),
        (page(5, 5, false), vec![2, 3, 4, 5, 6]),
        (page(3, 0, true), vec![8, 7, 6, 5, 4, 3, 2, 1, 0]),
        (page(0, 0, false), (0..12).collect()),
    ] {
        assert_eq!(
            numbers(&tx.history(&filter).await.unwrap()),
            want,
            "{filter:?}"
        );
        assert_eq!(tx.count_history(&filter).await.unwrap(), 12, "{filter:?}");
    }
    let filtered = HistoryFilter {
        action: Some("user.create".into()),
        offset: 2,
        limit: 3,
        newest_first: true,
        ..HistoryFilter::default()
    };
    assert_eq!(numbers(&tx.history(&filtered).await.unwrap()), [8, 6, 5]);
    assert_eq!(tx.count_history(&filtered).await.unwrap(), 8);
}
