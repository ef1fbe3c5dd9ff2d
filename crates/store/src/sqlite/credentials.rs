//! Credentials (sessions, bearer tokens, service tokens) and single-use links on SQLite.
//! Both are found by the hash of their token only; the token never reaches the store.
//!
//! Expiry is exclusive: a credential or link that expires at `now` is no longer valid.

use chrono::{DateTime, Utc};
use gatehouse_core::{Credential, CredentialKind, LinkPurpose, NewCredential, StoreError};
use gatehouse_policy::UserId;
use sqlx::sqlite::SqliteConnection;
use sqlx::{QueryBuilder, Sqlite};

use crate::codec::{self, backend};

/// A `credentials` row as read.
#[derive(sqlx::FromRow)]
struct CredentialRow {
    id: i64,
    kind: String,
    user_id: Option<i64>,
    name: Option<String>,
    privileges: String,
    created: String,
    expires: Option<String>,
}

impl CredentialRow {
    fn into_credential(self) -> Result<Credential, StoreError> {
        codec::CredentialRecord {
            id: self.id,
            kind: self.kind,
            user_id: self.user_id,
            name: self.name,
            privileges: codec::strings_from_json("privilege", &self.privileges)?,
            created: codec::time_from_text(&self.created)?,
            expires: self
                .expires
                .as_deref()
                .map(codec::time_from_text)
                .transpose()?,
        }
        .into_credential()
    }
}

const COLUMNS: &str = "id, kind, user_id, name, privileges, created, expires";

pub(super) async fn insert_credential(
    conn: &mut SqliteConnection,
    c: &NewCredential,
) -> Result<Credential, StoreError> {
    insert_credential_at(conn, c, codec::now()).await
}

/// Stores a credential created at `now` (now, or the imported time).
pub(super) async fn insert_credential_at(
    conn: &mut SqliteConnection,
    c: &NewCredential,
    now: DateTime<Utc>,
) -> Result<Credential, StoreError> {
    codec::check_credential(c)?;
    let now = codec::truncate(now);
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO credentials (kind, token_hash, user_id, name, privileges, created, expires) \
         VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(c.kind.as_str())
    .bind(&c.token_hash)
    .bind(c.user_id.map(|u| u.0))
    .bind(c.name.as_deref())
    .bind(codec::list_to_json(&c.privileges))
    .bind(codec::time_to_text(&now))
    .bind(c.expires.as_ref().map(codec::time_to_text))
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| {
        let name_taken = e.as_database_error().is_some_and(|d| {
            // SQLite names the column: `UNIQUE constraint failed: credentials.name`.
            d.is_unique_violation() && d.message().contains("credentials.name")
        });
        if name_taken {
            codec::service_token_taken(c.name.as_deref())
        } else {
            backend(e)
        }
    })?;
    Ok(codec::stored_credential(c, id, now))
}

pub(super) async fn credential_by_hash(
    conn: &mut SqliteConnection,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<Credential>, StoreError> {
    let row: Option<CredentialRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM credentials WHERE token_hash = ? \
         AND (expires IS NULL OR expires > ?)"
    ))
    .bind(token_hash)
    .bind(codec::time_to_text(&codec::truncate(now)))
    .fetch_optional(&mut *conn)
    .await
    .map_err(backend)?;
    row.map(CredentialRow::into_credential).transpose()
}

pub(super) async fn delete_credential(
    conn: &mut SqliteConnection,
    id: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM credentials WHERE id = ?")
        .bind(id)
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn delete_service_token(
    conn: &mut SqliteConnection,
    name: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM credentials WHERE kind = 'service' AND name = ?")
        .bind(name)
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn delete_user_credentials(
    conn: &mut SqliteConnection,
    user: UserId,
    keep: Option<i64>,
) -> Result<u64, StoreError> {
    let done = sqlx::query(
        "DELETE FROM credentials WHERE user_id = ? AND kind IN ('session', 'bearer') \
         AND id IS NOT ?",
    )
    .bind(user.0)
    .bind(keep)
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    Ok(done.rows_affected())
}

pub(super) async fn purge_expired(
    conn: &mut SqliteConnection,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let now = codec::time_to_text(&now);
    let mut n = 0;
    for sql in [
        "DELETE FROM credentials WHERE expires IS NOT NULL AND expires <= ?",
        "DELETE FROM links WHERE expires <= ?",
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
    conn: &mut SqliteConnection,
    kind: Option<CredentialKind>,
) -> Result<Vec<Credential>, StoreError> {
    let mut qb = QueryBuilder::<Sqlite>::new(format!("SELECT {COLUMNS} FROM credentials"));
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
    conn: &mut SqliteConnection,
    purpose: LinkPurpose,
    user: UserId,
    token_hash: &str,
    expires: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO links (token_hash, purpose, user_id, created, expires) \
         VALUES (?, ?, ?, ?, ?)",
    )
    .bind(token_hash)
    .bind(purpose.as_str())
    .bind(user.0)
    .bind(codec::time_to_text(&codec::now()))
    .bind(codec::time_to_text(&codec::truncate(expires)))
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    Ok(())
}

pub(super) async fn consume_link(
    conn: &mut SqliteConnection,
    purpose: LinkPurpose,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<UserId>, StoreError> {
    // Deleted whether it is still valid or not: an expired link is of no further use. A link
    // asked for with the wrong purpose stays (it was not used).
    let row: Option<(i64, String)> = sqlx::query_as(
        "DELETE FROM links WHERE token_hash = ? AND purpose = ? RETURNING user_id, expires",
    )
    .bind(token_hash)
    .bind(purpose.as_str())
    .fetch_optional(&mut *conn)
    .await
    .map_err(backend)?;
    let Some((user_id, expires)) = row else {
        return Ok(None);
    };
    let expires = codec::time_from_text(&expires)?;
    Ok(codec::live(Some(expires), now).then_some(UserId(user_id)))
}

pub(super) async fn export_credentials(
    conn: &mut SqliteConnection,
) -> Result<Vec<(Credential, String)>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        credential: CredentialRow,
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
