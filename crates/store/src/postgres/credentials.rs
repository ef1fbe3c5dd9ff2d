//! Credentials (sessions, bearer tokens, service tokens) and single-use links on
//! PostgreSQL. Both are found by the hash of their token only; the token never reaches the
//! store.
//!
//! Expiry is exclusive: a credential or link that expires at `now` is no longer valid. A link
//! is used by deleting its row (`DELETE ... RETURNING`), so of two transactions that use the
//! same link at once, the second waits for the first and then finds nothing.

use chrono::{DateTime, Utc};
use gatehouse_core::{Credential, CredentialKind, LinkPurpose, NewCredential, StoreError};
use gatehouse_policy::UserId;
use sqlx::postgres::PgConnection;
use sqlx::{Postgres, QueryBuilder};

use super::unique_violation;
use crate::codec::{self, backend, CredentialRecord};

const COLUMNS: &str = "id, kind, user_id, name, privileges, created, expires";

pub(super) async fn insert_credential(
    conn: &mut PgConnection,
    c: &NewCredential,
) -> Result<Credential, StoreError> {
    insert_credential_at(conn, c, codec::now()).await
}

/// Stores a credential created at `now` (now, or the imported time).
pub(super) async fn insert_credential_at(
    conn: &mut PgConnection,
    c: &NewCredential,
    now: DateTime<Utc>,
) -> Result<Credential, StoreError> {
    codec::check_credential(c)?;
    let now = codec::truncate(now);
    let privileges = codec::printed(&c.privileges);
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO credentials (kind, token_hash, user_id, name, privileges, created, expires) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(c.kind.as_str())
    .bind(&c.token_hash)
    .bind(c.user_id.map(|u| u.0))
    .bind(c.name.as_deref())
    .bind(&privileges)
    .bind(now)
    .bind(c.expires.map(codec::truncate))
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| {
        if unique_violation(&e) == Some("credentials_service_name_unique") {
            codec::service_token_taken(c.name.as_deref())
        } else {
            backend(e)
        }
    })?;
    Ok(codec::stored_credential(c, id, now))
}

pub(super) async fn credential_by_hash(
    conn: &mut PgConnection,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<Credential>, StoreError> {
    let row: Option<CredentialRecord> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM credentials WHERE token_hash = $1 \
         AND (expires IS NULL OR expires > $2)"
    ))
    .bind(token_hash)
    .bind(codec::truncate(now))
    .fetch_optional(&mut *conn)
    .await
    .map_err(backend)?;
    row.map(CredentialRecord::into_credential).transpose()
}

pub(super) async fn delete_credential(
    conn: &mut PgConnection,
    id: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM credentials WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn delete_service_token(
    conn: &mut PgConnection,
    name: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM credentials WHERE kind = 'service' AND name = $1")
        .bind(name)
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn delete_user_credentials(
    conn: &mut PgConnection,
    user: UserId,
    keep: Option<i64>,
) -> Result<u64, StoreError> {
    let done = sqlx::query(
        "DELETE FROM credentials WHERE user_id = $1 AND kind IN ('session', 'bearer') \
         AND id IS DISTINCT FROM $2",
    )
    .bind(user.0)
    .bind(keep)
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    Ok(done.rows_affected())
}

pub(super) async fn purge_expired(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let now = codec::truncate(now);
    let mut n = 0;
    for sql in [
        "DELETE FROM credentials WHERE expires IS NOT NULL AND expires <= $1",
        "DELETE FROM links WHERE expires <= $1",
    ] {
        n += sqlx::query(sql)
            .bind(now)
            .execute(&mut *conn)
            .await
            .map_err(backend)?
            .rows_affected();
    }
    Ok(n)
}

pub(super) async fn credentials(
    conn: &mut PgConnection,
    kind: Option<CredentialKind>,
) -> Result<Vec<Credential>, StoreError> {
    let mut qb = QueryBuilder::<Postgres>::new(format!("SELECT {COLUMNS} FROM credentials"));
    if let Some(kind) = kind {
        qb.push(" WHERE kind = ").push_bind(kind.as_str());
    }
    qb.push(" ORDER BY id");
    let rows: Vec<CredentialRecord> = qb
        .build_query_as()
        .fetch_all(&mut *conn)
        .await
        .map_err(backend)?;
    rows.into_iter()
        .map(CredentialRecord::into_credential)
        .collect()
}

pub(super) async fn insert_link(
    conn: &mut PgConnection,
    purpose: LinkPurpose,
    user: UserId,
    token_hash: &str,
    expires: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO links (token_hash, purpose, user_id, created, expires) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(token_hash)
    .bind(purpose.as_str())
    .bind(user.0)
    .bind(codec::now())
    .bind(codec::truncate(expires))
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    Ok(())
}

pub(super) async fn consume_link(
    conn: &mut PgConnection,
    purpose: LinkPurpose,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<UserId>, StoreError> {
    // Deleted whether it is still valid or not: an expired link is of no further use. A link
    // asked for with the wrong purpose stays (it was not used).
    let row: Option<(i64, DateTime<Utc>)> = sqlx::query_as(
        "DELETE FROM links WHERE token_hash = $1 AND purpose = $2 RETURNING user_id, expires",
    )
    .bind(token_hash)
    .bind(purpose.as_str())
    .fetch_optional(&mut *conn)
    .await
    .map_err(backend)?;
    Ok(row
        .and_then(|(user_id, expires)| codec::live(Some(expires), now).then_some(UserId(user_id))))
}

pub(super) async fn export_credentials(
    conn: &mut PgConnection,
) -> Result<Vec<(Credential, String)>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        credential: CredentialRecord,
        token_hash: String,
    }
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS}, token_hash FROM credentials ORDER BY id"
    ))
    .fetch_all(&mut *conn)
    .await
    .map_err(backend)?;
    rows.into_iter()
        .map(|r| Ok((r.credential.into_credential()?, r.token_hash)))
        .collect()
}
