//! Run-time roles, grants, the policy generation and the history on SQLite.
//!
//! Bookkeeping rules kept here: a change to a role, or to a grant on a role or a system role,
//! increments `policy_generation`; a change to a grant on a user increments that user's
//! version instead. Nothing is counted when nothing changed.

use gatehouse_core::{GrantFilter, HistoryEvent, HistoryFilter, StoreError, StoredRole};
use gatehouse_policy::{Grant, GrantTarget, Privilege, RoleName, UserId};
use sqlx::error::ErrorKind;
use sqlx::sqlite::SqliteConnection;
use sqlx::{QueryBuilder, Sqlite};

use super::users::touch_user;
use crate::codec::{self, backend};

async fn bump_generation(conn: &mut SqliteConnection) -> Result<(), StoreError> {
    sqlx::query("UPDATE meta SET value = value + 1 WHERE key = 'policy_generation'")
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    Ok(())
}

/// Counts a change to grants on `target`.
async fn grants_changed(
    conn: &mut SqliteConnection,
    target: &GrantTarget,
) -> Result<(), StoreError> {
    match target {
        GrantTarget::User(id) => touch_user(conn, *id).await,
        GrantTarget::Role(_) | GrantTarget::SystemRole(_) => bump_generation(conn).await,
    }
}

pub(super) async fn policy_generation(conn: &mut SqliteConnection) -> Result<i64, StoreError> {
    sqlx::query_scalar("SELECT value FROM meta WHERE key = 'policy_generation'")
        .fetch_one(&mut *conn)
        .await
        .map_err(backend)
}

pub(super) async fn insert_role(
    conn: &mut SqliteConnection,
    role: &StoredRole,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "INSERT INTO roles (name, description, entries) VALUES (?, ?, ?) \
         ON CONFLICT (name) DO NOTHING",
    )
    .bind(role.name.as_str())
    .bind(role.description.as_deref())
    .bind(codec::list_to_json(&role.entries))
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
    conn: &mut SqliteConnection,
    role: &StoredRole,
) -> Result<bool, StoreError> {
    let done = sqlx::query("UPDATE roles SET description = ?, entries = ? WHERE name = ?")
        .bind(role.description.as_deref())
        .bind(codec::list_to_json(&role.entries))
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
    conn: &mut SqliteConnection,
    name: &RoleName,
) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM roles WHERE name = ?")
        .bind(name.as_str())
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    sqlx::query("DELETE FROM grants WHERE target_kind = 'role' AND target_name = ?")
        .bind(name.as_str())
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    bump_generation(conn).await?;
    Ok(true)
}

type RoleRow = (String, Option<String>, String);

fn role_from_row((name, description, entries): RoleRow) -> Result<StoredRole, StoreError> {
    Ok(StoredRole {
        name: name
            .parse()
            .map_err(|e| codec::corrupt("role name", &name, e))?,
        description,
        entries: codec::role_entries_from_json(&entries)?,
    })
}

pub(super) async fn role(
    conn: &mut SqliteConnection,
    name: &RoleName,
) -> Result<Option<StoredRole>, StoreError> {
    let row: Option<RoleRow> =
        sqlx::query_as("SELECT name, description, entries FROM roles WHERE name = ?")
            .bind(name.as_str())
            .fetch_optional(&mut *conn)
            .await
            .map_err(backend)?;
    row.map(role_from_row).transpose()
}

pub(super) async fn roles(conn: &mut SqliteConnection) -> Result<Vec<StoredRole>, StoreError> {
    let rows: Vec<RoleRow> =
        sqlx::query_as("SELECT name, description, entries FROM roles ORDER BY name")
            .fetch_all(&mut *conn)
            .await
            .map_err(backend)?;
    rows.into_iter().map(role_from_row).collect()
}

pub(super) async fn add_grant(
    conn: &mut SqliteConnection,
    grant: &Grant,
) -> Result<bool, StoreError> {
    let added = insert_grant(conn, grant).await?;
    if added {
        grants_changed(conn, &grant.target).await?;
    }
    Ok(added)
}

/// A grant as imported: a grant on a user leaves the user's version alone; one on a role or
/// system role counts in the policy generation as always.
pub(super) async fn import_grant(
    conn: &mut SqliteConnection,
    grant: &Grant,
) -> Result<bool, StoreError> {
    let added = insert_grant(conn, grant).await?;
    if added && !matches!(grant.target, GrantTarget::User(_)) {
        bump_generation(conn).await?;
    }
    Ok(added)
}

/// Inserts a grant row; false when that exact grant exists.
async fn insert_grant(conn: &mut SqliteConnection, grant: &Grant) -> Result<bool, StoreError> {
    let (kind, name, user_id) = codec::target_parts(&grant.target);
    let done = sqlx::query(
        "INSERT INTO grants (effect, privilege, target_kind, target_name, user_id) \
         VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
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
    conn: &mut SqliteConnection,
    privilege: &Privilege,
    target: &GrantTarget,
) -> Result<u64, StoreError> {
    let (kind, name, _) = codec::target_parts(target);
    let done = sqlx::query(
        "DELETE FROM grants WHERE privilege = ? AND target_kind = ? AND target_name = ?",
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
    conn: &mut SqliteConnection,
    filter: &GrantFilter,
) -> Result<Vec<Grant>, StoreError> {
    let mut qb = QueryBuilder::<Sqlite>::new(
        "SELECT effect, privilege, target_kind, target_name FROM grants WHERE 1 = 1",
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
    conn: &mut SqliteConnection,
    event: &HistoryEvent,
) -> Result<(), StoreError> {
    write_history(conn, event, None).await
}

/// A history event as imported, keeping its id (AUTOINCREMENT moves past it by itself).
pub(super) async fn import_history(
    conn: &mut SqliteConnection,
    event: &HistoryEvent,
) -> Result<(), StoreError> {
    write_history(conn, event, Some(event.id)).await
}

/// Many history events in multi-row statements (100 rows of 7 values stays far below
/// SQLite's bound-parameter limit), in order.
pub(super) async fn record_many(
    conn: &mut SqliteConnection,
    events: &[HistoryEvent],
) -> Result<(), StoreError> {
    for chunk in events.chunks(100) {
        let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
            "INSERT INTO history (at, actor, channel, action, user_id, target, details) ",
        );
        let mut rows = Vec::with_capacity(chunk.len());
        for e in chunk {
            rows.push((e, serde_json::to_string(&e.details).map_err(backend)?));
        }
        q.push_values(rows, |mut b, (e, details)| {
            b.push_bind(codec::time_to_text(&e.at))
                .push_bind(e.actor.clone())
                .push_bind(e.channel.as_str())
                .push_bind(e.action.clone())
                .push_bind(e.user_id.map(|u| u.0))
                .push_bind(e.target.clone())
                .push_bind(details);
        });
        q.build().execute(&mut *conn).await.map_err(backend)?;
    }
    Ok(())
}

/// Inserts a history row, with its id when given.
async fn write_history(
    conn: &mut SqliteConnection,
    event: &HistoryEvent,
    id: Option<i64>,
) -> Result<(), StoreError> {
    let details = serde_json::to_string(&event.details).map_err(backend)?;
    sqlx::query(
        "INSERT INTO history (id, at, actor, channel, action, user_id, target, details) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(id)
    .bind(codec::time_to_text(&event.at))
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

type HistoryRow = (
    i64,
    String,
    String,
    String,
    String,
    Option<i64>,
    String,
    String,
);

pub(super) async fn history(
    conn: &mut SqliteConnection,
    filter: &HistoryFilter,
) -> Result<Vec<HistoryEvent>, StoreError> {
    let mut qb = QueryBuilder::<Sqlite>::new(
        "SELECT id, at, actor, channel, action, user_id, target, details FROM history WHERE 1 = 1",
    );
    if let Some(user) = filter.user_id {
        qb.push(" AND user_id = ").push_bind(user.0);
    }
    if let Some(since) = &filter.since {
        qb.push(" AND at >= ").push_bind(codec::time_to_text(since));
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
                    at: codec::time_from_text(&at)?,
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
