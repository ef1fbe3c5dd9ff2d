//! Run-time roles, grants, the policy generation and the history on PostgreSQL.
//!
//! Bookkeeping rules kept here: a change to a role, or to a grant on a role or a system role,
//! increments `policy_generation`; a change to a grant on a user increments that user's
//! version instead. Nothing is counted when nothing changed. Counters go up with
//! `value = value + 1`, which PostgreSQL applies to the latest committed row under a row
//! lock, so concurrent transactions never lose a count.

use chrono::{DateTime, Utc};
use gatehouse_core::{GrantFilter, HistoryEvent, HistoryFilter, StoreError, StoredRole};
use gatehouse_policy::{Grant, GrantTarget, Privilege, RoleName, UserId};
use sqlx::error::ErrorKind;
use sqlx::postgres::PgConnection;
use sqlx::{Postgres, QueryBuilder};

use super::users::touch_user;
use crate::codec::{self, backend};

/// Increments the policy generation; one atomic statement, so two transactions that both
/// change the policy count two.
async fn bump_generation(conn: &mut PgConnection) -> Result<i64, StoreError> {
    let value: Option<i64> = sqlx::query_scalar(
        "UPDATE meta SET value = value + 1 WHERE key = 'policy_generation' RETURNING value",
    )
    .fetch_optional(&mut *conn)
    .await
    .map_err(backend)?;
    value.ok_or_else(|| {
        StoreError::Backend("the policy generation counter is missing from `meta`".to_owned())
    })
}

/// Counts a change to grants on `target`.
async fn grants_changed(conn: &mut PgConnection, target: &GrantTarget) -> Result<(), StoreError> {
    match target {
        GrantTarget::User(id) => touch_user(conn, *id).await,
        GrantTarget::Role(_) | GrantTarget::SystemRole(_) => bump_generation(conn).await.map(drop),
    }
}

pub(super) async fn policy_generation(conn: &mut PgConnection) -> Result<i64, StoreError> {
    sqlx::query_scalar("SELECT value FROM meta WHERE key = 'policy_generation'")
        .fetch_one(&mut *conn)
        .await
        .map_err(backend)
}

pub(super) async fn insert_role(
    conn: &mut PgConnection,
    role: &StoredRole,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "INSERT INTO roles (name, description, entries) VALUES ($1, $2, $3) \
         ON CONFLICT (name) DO NOTHING",
    )
    .bind(role.name.as_str())
    .bind(role.description.as_deref())
    .bind(codec::printed(&role.entries))
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    let inserted = done.rows_affected() > 0;
    if inserted {
        bump_generation(conn).await?;
    }
    Ok(inserted)
}

pub(super) async fn update_role(
    conn: &mut PgConnection,
    role: &StoredRole,
) -> Result<bool, StoreError> {
    let done = sqlx::query("UPDATE roles SET description = $1, entries = $2 WHERE name = $3")
        .bind(role.description.as_deref())
        .bind(codec::printed(&role.entries))
        .bind(role.name.as_str())
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    let updated = done.rows_affected() > 0;
    if updated {
        bump_generation(conn).await?;
    }
    Ok(updated)
}

pub(super) async fn delete_role(
    conn: &mut PgConnection,
    name: &RoleName,
) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM roles WHERE name = $1")
        .bind(name.as_str())
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    sqlx::query("DELETE FROM grants WHERE target_kind = 'role' AND target_name = $1")
        .bind(name.as_str())
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    bump_generation(conn).await?;
    Ok(true)
}

type RoleRow = (String, Option<String>, Vec<String>);

fn role_from_row((name, description, entries): RoleRow) -> Result<StoredRole, StoreError> {
    Ok(StoredRole {
        name: name
            .parse()
            .map_err(|e| codec::corrupt("role name", &name, e))?,
        description,
        entries: codec::parse_list("role entry", &entries)?,
    })
}

pub(super) async fn role(
    conn: &mut PgConnection,
    name: &RoleName,
) -> Result<Option<StoredRole>, StoreError> {
    let row: Option<RoleRow> =
        sqlx::query_as("SELECT name, description, entries FROM roles WHERE name = $1")
            .bind(name.as_str())
            .fetch_optional(&mut *conn)
            .await
            .map_err(backend)?;
    row.map(role_from_row).transpose()
}

pub(super) async fn roles(conn: &mut PgConnection) -> Result<Vec<StoredRole>, StoreError> {
    let rows: Vec<RoleRow> =
        sqlx::query_as("SELECT name, description, entries FROM roles ORDER BY name")
            .fetch_all(&mut *conn)
            .await
            .map_err(backend)?;
    rows.into_iter().map(role_from_row).collect()
}

pub(super) async fn add_grant(conn: &mut PgConnection, grant: &Grant) -> Result<bool, StoreError> {
    let added = insert_grant(conn, grant).await?;
    if added {
        grants_changed(conn, &grant.target).await?;
    }
    Ok(added)
}

/// A grant as imported: a grant on a user leaves the user's version alone; one on a role or
/// system role counts in the policy generation as always.
pub(super) async fn import_grant(
    conn: &mut PgConnection,
    grant: &Grant,
) -> Result<bool, StoreError> {
    let added = insert_grant(conn, grant).await?;
    if added && !matches!(grant.target, GrantTarget::User(_)) {
        bump_generation(conn).await?;
    }
    Ok(added)
}

/// Inserts a grant row; false when that exact grant exists.
async fn insert_grant(conn: &mut PgConnection, grant: &Grant) -> Result<bool, StoreError> {
    let (kind, name, user_id) = codec::target_parts(&grant.target);
    let done = sqlx::query(
        "INSERT INTO grants (effect, privilege, target_kind, target_name, user_id) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    )
    .bind(codec::effect_to_text(grant.effect))
    .bind(grant.privilege.as_str())
    .bind(kind)
    .bind(&name)
    .bind(user_id)
    .execute(&mut *conn)
    .await
    .map_err(|e| {
        let no_user = e
            .as_database_error()
            .is_some_and(|d| d.kind() == ErrorKind::ForeignKeyViolation);
        if no_user {
            StoreError::Backend(format!(
                "cannot grant to user {name}: there is no such user"
            ))
        } else {
            backend(e)
        }
    })?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn remove_grants(
    conn: &mut PgConnection,
    privilege: &Privilege,
    target: &GrantTarget,
) -> Result<u64, StoreError> {
    let (kind, name, _) = codec::target_parts(target);
    let done = sqlx::query(
        "DELETE FROM grants WHERE privilege = $1 AND target_kind = $2 AND target_name = $3",
    )
    .bind(privilege.as_str())
    .bind(kind)
    .bind(&name)
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    let removed = done.rows_affected();
    if removed > 0 {
        grants_changed(conn, target).await?;
    }
    Ok(removed)
}

pub(super) async fn grants(
    conn: &mut PgConnection,
    filter: &GrantFilter,
) -> Result<Vec<Grant>, StoreError> {
    let mut qb = QueryBuilder::<Postgres>::new(
        "SELECT effect, privilege, target_kind, target_name FROM grants WHERE TRUE",
    );
    if let Some(target) = &filter.target {
        let (kind, name, _) = codec::target_parts(target);
        qb.push(" AND target_kind = ")
            .push_bind(kind)
            .push(" AND target_name = ")
            .push_bind(name);
    }
    if let Some(p) = &filter.privilege {
        qb.push(" AND privilege = ").push_bind(p.to_string());
    }
    if let Some(e) = filter.effect {
        qb.push(" AND effect = ")
            .push_bind(codec::effect_to_text(e));
    }
    let rows: Vec<(String, String, String, String)> = qb
        .build_query_as()
        .fetch_all(&mut *conn)
        .await
        .map_err(backend)?;
    let mut out = rows
        .into_iter()
        .map(|(effect, privilege, kind, name)| {
            Ok(Grant {
                effect: codec::effect_from_text(&effect)?,
                privilege: privilege
                    .parse()
                    .map_err(|e| codec::corrupt("privilege", &privilege, e))?,
                target: codec::target_from_parts(&kind, &name)?,
            })
        })
        .collect::<Result<Vec<Grant>, StoreError>>()?;
    // Sorted here rather than in SQL so that every backend orders exactly as `GrantTarget`
    // does (users by number, then roles, then system roles).
    out.sort_by(|a, b| {
        (&a.target, &a.privilege, a.effect).cmp(&(&b.target, &b.privilege, b.effect))
    });
    Ok(out)
}

pub(super) async fn record(
    conn: &mut PgConnection,
    event: &HistoryEvent,
) -> Result<(), StoreError> {
    let details = serde_json::to_string(&event.details).map_err(backend)?;
    sqlx::query(
        "INSERT INTO history (at, actor, channel, action, user_id, target, details) \
         VALUES ($1, $2, $3, $4, $5, $6, $7::JSONB)",
    )
    .bind(codec::truncate(event.at))
    .bind(&event.actor)
    .bind(event.channel.as_str())
    .bind(&event.action)
    .bind(event.user_id.map(|u| u.0))
    .bind(&event.target)
    .bind(details)
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    Ok(())
}

/// Many history events in multi-row statements of up to 1,000 rows, in order.
pub(super) async fn record_many(
    conn: &mut PgConnection,
    events: &[HistoryEvent],
) -> Result<(), StoreError> {
    for chunk in events.chunks(1000) {
        let mut q = sqlx::QueryBuilder::<sqlx::Postgres>::new(
            "INSERT INTO history (at, actor, channel, action, user_id, target, details) ",
        );
        let mut rows = Vec::with_capacity(chunk.len());
        for e in chunk {
            rows.push((e, serde_json::to_string(&e.details).map_err(backend)?));
        }
        q.push_values(rows, |mut b, (e, details)| {
            b.push_bind(codec::truncate(e.at))
                .push_bind(e.actor.clone())
                .push_bind(e.channel.as_str())
                .push_bind(e.action.clone())
                .push_bind(e.user_id.map(|u| u.0))
                .push_bind(e.target.clone())
                .push_bind(details)
                .push_unseparated("::JSONB");
        });
        q.build().execute(&mut *conn).await.map_err(backend)?;
    }
    Ok(())
}

/// A history event as imported, keeping its id and time, with the id sequence moved past
/// the id; one statement.
pub(super) async fn import_history(
    conn: &mut PgConnection,
    event: &HistoryEvent,
) -> Result<(), StoreError> {
    let details = serde_json::to_string(&event.details).map_err(backend)?;
    let _: i64 = sqlx::query_scalar(
        "WITH h AS (INSERT INTO history (id, at, actor, channel, action, user_id, target, \
         details) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::JSONB) RETURNING id) \
         SELECT setval(pg_get_serial_sequence('history', 'id'), \
         GREATEST($1, (SELECT coalesce(max(id), 0) FROM history))) FROM h",
    )
    .bind(event.id)
    .bind(codec::truncate(event.at))
    .bind(&event.actor)
    .bind(event.channel.as_str())
    .bind(&event.action)
    .bind(event.user_id.map(|u| u.0))
    .bind(&event.target)
    .bind(details)
    .fetch_one(&mut *conn)
    .await
    .map_err(backend)?;
    Ok(())
}

type HistoryRow = (
    i64,
    DateTime<Utc>,
    String,
    String,
    String,
    Option<i64>,
    String,
    String,
);

pub(super) async fn history(
    conn: &mut PgConnection,
    filter: &HistoryFilter,
) -> Result<Vec<HistoryEvent>, StoreError> {
    let mut qb = QueryBuilder::<Postgres>::new(
        "SELECT id, at, actor, channel, action, user_id, target, details::TEXT FROM history \
         WHERE TRUE",
    );
    if let Some(user) = filter.user_id {
        qb.push(" AND user_id = ").push_bind(user.0);
    }
    if let Some(since) = &filter.since {
        qb.push(" AND at >= ").push_bind(*since);
    }
    // With a limit, the newest events; either way they come back oldest first.
    if filter.limit > 0 {
        qb.push(" ORDER BY id DESC LIMIT ")
            .push_bind(codec::to_i64(filter.limit));
    } else {
        qb.push(" ORDER BY id");
    }
    let mut rows: Vec<HistoryRow> = qb
        .build_query_as()
        .fetch_all(&mut *conn)
        .await
        .map_err(backend)?;
    if filter.limit > 0 {
        rows.reverse();
    }
    rows.into_iter()
        .map(
            |(id, at, actor, channel, action, user_id, target, details)| {
                Ok(HistoryEvent {
                    id,
                    at,
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
