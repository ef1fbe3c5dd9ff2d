//! Credentials (sessions, bearer tokens, service tokens) and single-use links. Both are
//! found by the hash of their token only; the token never reaches the store.
//!
//! Expiry is exclusive: a credential or link that expires at `now` is no longer valid. A link
//! is used by deleting its row (`DELETE ... RETURNING`), so of two transactions that use the
//! same link at once, the second waits for the first and then finds nothing.

use chrono::{DateTime, Utc};
use gatehouse_core::store::ConflictField;
use gatehouse_core::{Credential, CredentialKind, LinkPurpose, NewCredential, StoreError};
use gatehouse_policy::UserId;
use sqlx::QueryBuilder;

use super::dialect::{self, Conn, Db, List, Time};
use crate::codec::{self, backend};

/// The columns of a [`CredentialRow`], as a literal so that `sql!` can build statements.
macro_rules! credential_columns {
    () => {
        "id, kind, user_id, name, privileges, created, expires"
    };
}

/// A `credentials` row as read.
#[derive(sqlx::FromRow)]
struct CredentialRow {
    id: i64,
    kind: String,
    user_id: Option<i64>,
    name: Option<String>,
    privileges: List,
    created: Time,
    expires: Option<Time>,
}

impl CredentialRow {
    fn into_credential(self) -> Result<Credential, StoreError> {
        codec::CredentialRecord {
            id: self.id,
            kind: self.kind,
            user_id: self.user_id,
            name: self.name,
            privileges: dialect::list_from("privilege", self.privileges)?,
            created: dialect::time_from(self.created)?,
            expires: self.expires.map(dialect::time_from).transpose()?,
        }
        .into_credential()
    }
}

/// Stores a credential created at `created` (now, or the imported time).
pub(super) async fn insert_credential(
    conn: &mut Conn,
    c: &NewCredential,
    created: DateTime<Utc>,
) -> Result<Credential, StoreError> {
    codec::check_credential(c)?;
    let created = codec::truncate(created);
    let id: i64 = sqlx::query_scalar(sql!(
        "INSERT INTO credentials (kind, token_hash, user_id, name, privileges, created, expires) \
         VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id"
    ))
    .bind(c.kind.as_str())
    .bind(&c.token_hash)
    .bind(c.user_id.map(|u| u.0))
    .bind(c.name.as_deref())
    .bind(dialect::list(&c.privileges))
    .bind(dialect::time(&created))
    .bind(c.expires.as_ref().map(dialect::time))
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| match dialect::conflict(&e) {
        Some(ConflictField::ServiceTokenName) => codec::taken(
            ConflictField::ServiceTokenName,
            c.name.as_deref().unwrap_or_default(),
        ),
        _ => backend(e),
    })?;
    Ok(codec::stored_credential(c, id, created))
}

pub(super) async fn credential_by_hash(
    conn: &mut Conn,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<Credential>, StoreError> {
    let row: Option<CredentialRow> = sqlx::query_as(sql!(
        "SELECT ",
        credential_columns!(),
        " FROM credentials WHERE token_hash = ? AND (expires IS NULL OR expires > ?)"
    ))
    .bind(token_hash)
    .bind(dialect::time(&now))
    .fetch_optional(&mut *conn)
    .await
    .map_err(backend)?;
    row.map(CredentialRow::into_credential).transpose()
}

pub(super) async fn delete_credential(conn: &mut Conn, id: i64) -> Result<bool, StoreError> {
    let done = sqlx::query(sql!("DELETE FROM credentials WHERE id = ?"))
        .bind(id)
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn delete_service_token(conn: &mut Conn, name: &str) -> Result<bool, StoreError> {
    let done = sqlx::query(sql!(
        "DELETE FROM credentials WHERE kind = 'service' AND name = ?"
    ))
    .bind(name)
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn delete_user_credentials(
    conn: &mut Conn,
    user: UserId,
    keep: Option<i64>,
) -> Result<u64, StoreError> {
    let done = sqlx::query(sql!(
        "DELETE FROM credentials WHERE user_id = ? AND kind IN ('session', 'bearer') \
         AND id IS DISTINCT FROM ?"
    ))
    .bind(user.0)
    .bind(keep)
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    Ok(done.rows_affected())
}

// A time is a `String` on SQLite, bound twice by reference; on PostgreSQL it is `Copy`, where
// clippy would rather bind it by value.
#[allow(clippy::needless_borrows_for_generic_args)]
pub(super) async fn purge_expired(conn: &mut Conn, now: DateTime<Utc>) -> Result<u64, StoreError> {
    let now = dialect::time(&now);
    let mut n = 0;
    for sql in [
        sql!("DELETE FROM credentials WHERE expires IS NOT NULL AND expires <= ?"),
        sql!("DELETE FROM links WHERE expires <= ?"),
    ] {
        n += sqlx::query(sql)
            .bind(&now)
            .execute(&mut *conn)
            .await
            .map_err(backend)?
            .rows_affected();
    }
    Ok(n)
}

pub(super) async fn credentials(
    conn: &mut Conn,
    kind: Option<CredentialKind>,
) -> Result<Vec<Credential>, StoreError> {
    let mut qb = QueryBuilder::<Db>::new(concat!(
        "SELECT ",
        credential_columns!(),
        " FROM credentials"
    ));
    if let Some(kind) = kind {
        qb.push(" WHERE kind = ").push_bind(kind.as_str());
    }
    qb.push(" ORDER BY id");
    let rows: Vec<CredentialRow> = qb
        .build_query_as()
        .fetch_all(&mut *conn)
        .await
        .map_err(backend)?;
    rows.into_iter()
        .map(CredentialRow::into_credential)
        .collect()
}

pub(super) async fn insert_link(
    conn: &mut Conn,
    purpose: LinkPurpose,
    user: UserId,
    token_hash: &str,
    expires: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(sql!(
        "INSERT INTO links (token_hash, purpose, user_id, created, expires) \
         VALUES (?, ?, ?, ?, ?)"
    ))
    .bind(token_hash)
    .bind(purpose.as_str())
    .bind(user.0)
    .bind(dialect::time(&codec::now()))
    .bind(dialect::time(&expires))
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    Ok(())
}

pub(super) async fn consume_link(
    conn: &mut Conn,
    purpose: LinkPurpose,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<UserId>, StoreError> {
    // Deleted whether it is still valid or not: an expired link is of no further use. A link
    // asked for with the wrong purpose stays (it was not used).
    let row: Option<(i64, Time)> = sqlx::query_as(sql!(
        "DELETE FROM links WHERE token_hash = ? AND purpose = ? RETURNING user_id, expires"
    ))
    .bind(token_hash)
    .bind(purpose.as_str())
    .fetch_optional(&mut *conn)
    .await
    .map_err(backend)?;
    let Some((user_id, expires)) = row else {
        return Ok(None);
    };
    let expires = dialect::time_from(expires)?;
    Ok(codec::live(Some(expires), now).then_some(UserId(user_id)))
}

/// The user a link names if it is valid for `purpose` at `now`, without using it.
pub(super) async fn link_user(
    conn: &mut Conn,
    purpose: LinkPurpose,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<UserId>, StoreError> {
    let row: Option<(i64, Time)> = sqlx::query_as(sql!(
        "SELECT user_id, expires FROM links WHERE token_hash = ? AND purpose = ?"
    ))
    .bind(token_hash)
    .bind(purpose.as_str())
    .fetch_optional(&mut *conn)
    .await
    .map_err(backend)?;
    let Some((user_id, expires)) = row else {
        return Ok(None);
    };
    let expires = dialect::time_from(expires)?;
    Ok(codec::live(Some(expires), now).then_some(UserId(user_id)))
}

/// Ends one log in: deletes the credential `id` and the other credential the same log in
/// issued (a session and its bearer token share `name`, the log in's id).
pub(super) async fn end_login(conn: &mut Conn, id: i64) -> Result<u64, StoreError> {
    let done = sqlx::query(sql!(
        "DELETE FROM credentials WHERE id = ? OR (kind <> 'service' AND name IS NOT NULL \
         AND (user_id, name) IN (SELECT user_id, name FROM credentials \
         WHERE id = ? AND kind <> 'service'))"
    ))
    .bind(id)
    .bind(id)
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    Ok(done.rows_affected())
}

/// The value of a shared secret, stored as `value` if it had none (the first node to ask
/// decides; every later one reads it).
pub(super) async fn secret(conn: &mut Conn, name: &str, value: &str) -> Result<String, StoreError> {
    sqlx::query(sql!(
        "INSERT INTO secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING"
    ))
    .bind(name)
    .bind(value)
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    sqlx::query_scalar(sql!("SELECT value FROM secrets WHERE name = ?"))
        .bind(name)
        .fetch_one(&mut *conn)
        .await
        .map_err(backend)
}

pub(super) async fn export_credentials(
    conn: &mut Conn,
) -> Result<Vec<(Credential, String)>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        credential: CredentialRow,
        token_hash: String,
    }
    let rows: Vec<Row> = sqlx::query_as(concat!(
        "SELECT ",
        credential_columns!(),
        ", token_hash FROM credentials ORDER BY id"
    ))
    .fetch_all(&mut *conn)
    .await
    .map_err(backend)?;
    rows.into_iter()
        .map(|r| Ok((r.credential.into_credential()?, r.token_hash)))
        .collect()
}
