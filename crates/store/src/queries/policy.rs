//! Run-time roles, grants and the policy generation.
//!
//! Bookkeeping rules kept here: a change to a role, or to a grant on a role or a system role,
//! increments `policy_generation`; a change to a grant on a user increments that user's
//! version instead. Nothing is counted when nothing changed. Counters go up with
//! `value = value + 1`, which PostgreSQL applies to the latest committed row under a row
//! lock (so concurrent transactions never lose a count) and SQLite under its write lock.

use gatehouse_core::{GrantFilter, StoreError, StoredRole};
use gatehouse_policy::{Grant, GrantTarget, Privilege, RoleName};
use sqlx::error::ErrorKind;
use sqlx::QueryBuilder;

use super::dialect::{self, Conn, Db, List};
use super::users::touch_user;
use crate::codec::{self, backend};

/// Increments the policy generation. The first migration creates the counter, so a missing
/// one is a damaged database: an error, never a change that silently goes uncounted.
async fn bump_generation(conn: &mut Conn) -> Result<(), StoreError> {
    let value: Option<i64> = sqlx::query_scalar(
        "UPDATE meta SET value = value + 1 WHERE key = 'policy_generation' RETURNING value",
    )
    .fetch_optional(&mut *conn)
    .await
    .map_err(backend)?;
    value.map(drop).ok_or_else(generation_missing)
}

/// The counter is gone: the database was damaged (by hand, or by a failed restore).
fn generation_missing() -> StoreError {
    StoreError::Backend(
        "the policy generation counter is missing from `meta`; the database is damaged".to_owned(),
    )
}

/// Counts a change to grants on `target`.
async fn grants_changed(conn: &mut Conn, target: &GrantTarget) -> Result<(), StoreError> {
    match target {
        GrantTarget::User(id) => touch_user(conn, *id).await,
        GrantTarget::Role(_) | GrantTarget::SystemRole(_) => bump_generation(conn).await,
    }
}

pub(super) async fn policy_generation(conn: &mut Conn) -> Result<i64, StoreError> {
    let value: Option<i64> =
        sqlx::query_scalar("SELECT value FROM meta WHERE key = 'policy_generation'")
            .fetch_optional(&mut *conn)
            .await
            .map_err(backend)?;
    value.ok_or_else(generation_missing)
}

pub(super) async fn insert_role(conn: &mut Conn, role: &StoredRole) -> Result<bool, StoreError> {
    let done = sqlx::query(sql!(
        "INSERT INTO roles (name, description, entries) VALUES (?, ?, ?) \
         ON CONFLICT (name) DO NOTHING"
    ))
    .bind(role.name.as_str())
    .bind(role.description.as_deref())
    .bind(dialect::list(&role.entries))
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    let inserted = done.rows_affected() > 0;
    if inserted {
        bump_generation(conn).await?;
    }
    Ok(inserted)
}

pub(super) async fn update_role(conn: &mut Conn, role: &StoredRole) -> Result<bool, StoreError> {
    let done = sqlx::query(sql!(
        "UPDATE roles SET description = ?, entries = ? WHERE name = ?"
    ))
    .bind(role.description.as_deref())
    .bind(dialect::list(&role.entries))
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

pub(super) async fn delete_role(conn: &mut Conn, name: &RoleName) -> Result<bool, StoreError> {
    let done = sqlx::query(sql!("DELETE FROM roles WHERE name = ?"))
        .bind(name.as_str())
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    sqlx::query(sql!(
        "DELETE FROM grants WHERE target_kind = 'role' AND target_name = ?"
    ))
    .bind(name.as_str())
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    bump_generation(conn).await?;
    Ok(true)
}

type RoleRow = (String, Option<String>, List);

fn role_from_row((name, description, entries): RoleRow) -> Result<StoredRole, StoreError> {
    Ok(StoredRole {
        name: name
            .parse()
            .map_err(|e| codec::corrupt("role name", &name, e))?,
        description,
        entries: codec::parse_list("role entry", &dialect::list_from("role entry", entries)?)?,
    })
}

pub(super) async fn role(
    conn: &mut Conn,
    name: &RoleName,
) -> Result<Option<StoredRole>, StoreError> {
    let row: Option<RoleRow> = sqlx::query_as(sql!(
        "SELECT name, description, entries FROM roles WHERE name = ?"
    ))
    .bind(name.as_str())
    .fetch_optional(&mut *conn)
    .await
    .map_err(backend)?;
    row.map(role_from_row).transpose()
}

pub(super) async fn roles(conn: &mut Conn) -> Result<Vec<StoredRole>, StoreError> {
    let rows: Vec<RoleRow> =
        sqlx::query_as("SELECT name, description, entries FROM roles ORDER BY name")
            .fetch_all(&mut *conn)
            .await
            .map_err(backend)?;
    rows.into_iter().map(role_from_row).collect()
}

pub(super) async fn add_grant(conn: &mut Conn, grant: &Grant) -> Result<bool, StoreError> {
    let added = insert_grant(conn, grant).await?;
    if added {
        grants_changed(conn, &grant.target).await?;
    }
    Ok(added)
}

/// A grant as imported: a grant on a user leaves the user's version alone; one on a role or
/// system role counts in the policy generation as always.
pub(super) async fn import_grant(conn: &mut Conn, grant: &Grant) -> Result<bool, StoreError> {
    let added = insert_grant(conn, grant).await?;
    if added && !matches!(grant.target, GrantTarget::User(_)) {
        bump_generation(conn).await?;
    }
    Ok(added)
}

/// Inserts a grant row; false when that exact grant exists.
async fn insert_grant(conn: &mut Conn, grant: &Grant) -> Result<bool, StoreError> {
    let (kind, name, user_id) = codec::target_parts(&grant.target);
    let done = sqlx::query(sql!(
        "INSERT INTO grants (effect, privilege, target_kind, target_name, user_id) \
         VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
    ))
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
    conn: &mut Conn,
    privilege: &Privilege,
    target: &GrantTarget,
) -> Result<u64, StoreError> {
    let (kind, name, _) = codec::target_parts(target);
    let done = sqlx::query(sql!(
        "DELETE FROM grants WHERE privilege = ? AND target_kind = ? AND target_name = ?"
    ))
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
    conn: &mut Conn,
    filter: &GrantFilter,
) -> Result<Vec<Grant>, StoreError> {
    let mut qb = QueryBuilder::<Db>::new(
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
