//! The history: events recorded one at a time or many at once, imported with their ids,
//! and listed oldest first. Details are JSON (text on SQLite, `jsonb` on PostgreSQL); sqlx's
//! `Json` binds them as each column wants, and they are read back as text on both.

use gatehouse_core::{HistoryEvent, HistoryFilter, StoreError};
use gatehouse_policy::UserId;
use sqlx::types::Json;
use sqlx::QueryBuilder;

use super::dialect::{self, Conn, Db, Time};
use crate::codec::{self, backend};

/// The columns of an event but its id, in bind order.
macro_rules! event_columns {
    () => {
        "at, actor, channel, action, user_id, target, details"
    };
}

pub(super) async fn record(conn: &mut Conn, event: &HistoryEvent) -> Result<(), StoreError> {
    sqlx::query(sql!(
        "INSERT INTO history (",
        event_columns!(),
        ") VALUES (?, ?, ?, ?, ?, ?, ?)"
    ))
    .bind(dialect::time(&event.at))
    .bind(&event.actor)
    .bind(event.channel.as_str())
    .bind(&event.action)
    .bind(event.user_id.map(|u| u.0))
    .bind(&event.target)
    .bind(Json(&event.details))
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    Ok(())
}

/// A history event as imported, keeping its id and time; ids are never handed out again
/// (`keep_ids!`).
pub(super) async fn import_history(
    conn: &mut Conn,
    event: &HistoryEvent,
) -> Result<(), StoreError> {
    sqlx::query(sql!(keep_ids!(
        "history",
        concat!(
            "INSERT INTO history (id, ",
            event_columns!(),
            ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        )
    )))
    .bind(event.id)
    .bind(dialect::time(&event.at))
    .bind(&event.actor)
    .bind(event.channel.as_str())
    .bind(&event.action)
    .bind(event.user_id.map(|u| u.0))
    .bind(&event.target)
    .bind(Json(&event.details))
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    Ok(())
}

/// Many history events in multi-row statements, in order.
pub(super) async fn record_many(
    conn: &mut Conn,
    events: &[HistoryEvent],
) -> Result<(), StoreError> {
    for chunk in events.chunks(dialect::BATCH) {
        let mut q =
            QueryBuilder::<Db>::new(concat!("INSERT INTO history (", event_columns!(), ") "));
        q.push_values(chunk, |mut b, e| {
            b.push_bind(dialect::time(&e.at))
                .push_bind(&e.actor)
                .push_bind(e.channel.as_str())
                .push_bind(&e.action)
                .push_bind(e.user_id.map(|u| u.0))
                .push_bind(&e.target)
                .push_bind(Json(&e.details));
        });
        q.build().execute(&mut *conn).await.map_err(backend)?;
    }
    Ok(())
}

type HistoryRow = (
    i64,
    Time,
    String,
    String,
    String,
    Option<i64>,
    String,
    String,
);

/// ` FROM history WHERE ...` for a filter's conditions, shared by the page and the count.
fn push_conditions(qb: &mut QueryBuilder<'_, Db>, filter: &HistoryFilter) {
    qb.push(" FROM history WHERE TRUE");
    if let Some(user) = filter.user_id {
        qb.push(" AND user_id = ").push_bind(user.0);
    }
    if let Some(since) = &filter.since {
        qb.push(" AND at >= ").push_bind(dialect::time(since));
    }
    if let Some(until) = &filter.until {
        qb.push(" AND at < ").push_bind(dialect::time(until));
    }
    // Case is folded for ASCII letters only, on both sides and both backends alike.
    for (column, text) in [("actor", &filter.actor), ("target", &filter.target)] {
        if let Some(text) = text {
            qb.push(format_args!(" AND {} LIKE ", dialect::ascii_folded(column)))
                .push_bind(codec::like_contains(&text.to_ascii_lowercase()))
                .push(" ESCAPE '!'");
        }
    }
    if let Some(action) = &filter.action {
        qb.push(" AND action = ").push_bind(action.clone());
    }
}

pub(super) async fn count_history(
    conn: &mut Conn,
    filter: &HistoryFilter,
) -> Result<u64, StoreError> {
    let mut qb = QueryBuilder::<Db>::new("SELECT count(*)");
    push_conditions(&mut qb, filter);
    let n: i64 = qb
        .build_query_scalar()
        .fetch_one(&mut *conn)
        .await
        .map_err(backend)?;
    Ok(codec::to_u64(n))
}

pub(super) async fn history(
    conn: &mut Conn,
    filter: &HistoryFilter,
) -> Result<Vec<HistoryEvent>, StoreError> {
    let mut qb = QueryBuilder::<Db>::new(
        "SELECT id, at, actor, channel, action, user_id, target, CAST(details AS TEXT)",
    );
    push_conditions(&mut qb, filter);
    // Pages count from the newest event; the page is turned round unless asked newest
    // first. No limit is the largest one, which both backends take.
    let limit = match filter.limit {
        0 => i64::MAX,
        n => codec::to_i64(n),
    };
    qb.push(" ORDER BY id DESC LIMIT ")
        .push_bind(limit)
        .push(" OFFSET ")
        .push_bind(codec::to_i64(filter.offset));
    let mut rows: Vec<HistoryRow> = qb
        .build_query_as()
        .fetch_all(&mut *conn)
        .await
        .map_err(backend)?;
    if !filter.newest_first {
        rows.reverse();
    }
    rows.into_iter()
        .map(
            |(id, at, actor, channel, action, user_id, target, details)| {
                Ok(HistoryEvent {
                    id,
                    at: dialect::time_from(at)?,
                    actor,
                    channel: codec::channel_from_text(&channel)?,
                    action,
                    user_id: user_id.map(UserId),
                    target,
                    details: serde_json::from_str(&details)
                        .map_err(|e| codec::corrupt("history details", &details, e))?,
                })
            },
        )
        .collect()
}
