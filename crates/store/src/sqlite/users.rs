//! Users and their search index on SQLite: insert (one or many), read, update, delete, list
//! and search. Every write to `users` writes `user_search` in the same transaction.

use std::collections::{HashMap, HashSet};

use gatehouse_core::{Email, NewUser, Page, PasswordHash, StoreError, User, UserQuery, Username};
use gatehouse_policy::UserId;
use sqlx::sqlite::SqliteConnection;
use sqlx::{QueryBuilder, Sqlite};

use crate::codec::{self, as_new, backend, stored};

/// Rows per multi-row `INSERT` in [`insert_users`]: 13 parameters each, far below SQLite's
/// limit of 32,766, and large enough that per-statement overhead stops mattering.
const BATCH: usize = 200;

/// Emails per `IN (...)` list in [`existing_emails`].
const IN_CHUNK: usize = 500;

/// Users per round when rebuilding the search index.
const REINDEX_PAGE: i64 = 1000;

/// The columns of a [`UserRow`], as a literal so that `concat!` can build whole statements.
macro_rules! user_columns {
    () => {
        "u.id, u.email, u.username, u.full_name, u.affiliations, u.active, u.confirmed_at, \
         u.password_hash, u.user_type, u.entries, u.editorial_scope, u.created, u.updated, \
         u.version"
    };
}

/// The start of a user `INSERT`, as a literal for `concat!`.
macro_rules! insert_columns {
    () => {
        "INSERT INTO users (email, username, username_folded, full_name, affiliations, active, \
         confirmed_at, password_hash, user_type, entries, editorial_scope, created, updated) \
         VALUES "
    };
}

/// One row of values for [`insert_columns!`].
macro_rules! insert_row {
    () => {
        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    };
}

const INSERT_ONE: &str = concat!(insert_columns!(), insert_row!(), " RETURNING id");

/// A `users` row as read.
#[derive(sqlx::FromRow)]
struct UserRow {
    id: i64,
    email: String,
    username: Option<String>,
    full_name: String,
    affiliations: String,
    active: bool,
    confirmed_at: Option<String>,
    password_hash: Option<String>,
    user_type: Option<String>,
    entries: String,
    editorial_scope: String,
    created: String,
    updated: String,
    version: i64,
}

impl UserRow {
    fn into_user(self) -> Result<User, StoreError> {
        codec::UserRecord {
            id: self.id,
            email: self.email,
            username: self.username,
            full_name: self.full_name,
            affiliations: self.affiliations,
            active: self.active,
            confirmed_at: self
                .confirmed_at
                .as_deref()
                .map(codec::time_from_text)
                .transpose()?,
            password_hash: self.password_hash,
            user_type: self.user_type,
            entries: codec::strings_from_json("entry", &self.entries)?,
            editorial_scope: codec::strings_from_json(
                "editorial scope filter",
                &self.editorial_scope,
            )?,
            created: codec::time_from_text(&self.created)?,
            updated: codec::time_from_text(&self.updated)?,
            version: self.version,
        }
        .into_user()
    }
}

/// The column values of a user to write, borrowed where they can be.
struct Columns<'a> {
    email: &'a str,
    username: Option<&'a str>,
    username_folded: Option<String>,
    full_name: &'a str,
    affiliations: &'a str,
    active: bool,
    confirmed_at: Option<String>,
    password_hash: Option<&'a str>,
    user_type: Option<&'a str>,
    entries: String,
    editorial_scope: String,
    haystack: String,
}

impl<'a> Columns<'a> {
    fn of(u: &'a NewUser) -> Self {
        Columns {
            email: u.email.as_str(),
            username: u.username.as_ref().map(Username::as_str),
            username_folded: u.username.as_ref().map(Username::folded),
            full_name: &u.full_name,
            affiliations: &u.affiliations,
            active: u.active,
            confirmed_at: u.confirmed_at.as_ref().map(codec::time_to_text),
            password_hash: u.password_hash.as_ref().map(PasswordHash::as_phc),
            user_type: u.user_type.as_ref().map(|t| t.as_str()),
            entries: codec::list_to_json(&u.entries),
            editorial_scope: codec::list_to_json(&u.editorial_scope),
            haystack: codec::haystack(
                u.email.as_str(),
                u.username.as_ref().map(Username::as_str),
                &u.full_name,
                &u.affiliations,
            ),
        }
    }
}

/// Which uniqueness rule a failed write broke, if it broke one of the user rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Taken {
    Email,
    Username,
}

fn taken(e: &sqlx::Error) -> Option<Taken> {
    let db = e.as_database_error()?;
    if !db.is_unique_violation() {
        return None;
    }
    // SQLite names the column: `UNIQUE constraint failed: users.email`.
    let message = db.message();
    if message.contains("users.email") {
        Some(Taken::Email)
    } else if message.contains("users.username_folded") {
        Some(Taken::Username)
    } else {
        None
    }
}

/// Maps a failed write of `user` to a conflict naming the value, or a backend error.
fn write_error(e: sqlx::Error, user: &NewUser) -> StoreError {
    match taken(&e) {
        Some(Taken::Email) => codec::email_taken(&user.email),
        Some(Taken::Username) => codec::username_taken(user.username.as_ref()),
        None => backend(e),
    }
}

pub(super) async fn insert_user(
    conn: &mut SqliteConnection,
    user: &NewUser,
) -> Result<User, StoreError> {
    let now = codec::now();
    let now_text = codec::time_to_text(&now);
    let c = Columns::of(user);
    let id: i64 = sqlx::query_scalar(INSERT_ONE)
        .bind(c.email)
        .bind(c.username)
        .bind(&c.username_folded)
        .bind(c.full_name)
        .bind(c.affiliations)
        .bind(c.active)
        .bind(&c.confirmed_at)
        .bind(c.password_hash)
        .bind(c.user_type)
        .bind(&c.entries)
        .bind(&c.editorial_scope)
        .bind(&now_text)
        .bind(&now_text)
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| write_error(e, user))?;
    insert_search_rows(conn, &[(id, &c.haystack)]).await?;
    Ok(stored(user.clone(), id, now, now, 1))
}

/// A user exactly as given (import): id, times and version kept; AUTOINCREMENT moves past
/// the id by itself.
pub(super) async fn import_user(
    conn: &mut SqliteConnection,
    user: &User,
) -> Result<(), StoreError> {
    let new = as_new(user);
    let c = Columns::of(&new);
    sqlx::query(
        "INSERT INTO users (id, email, username, username_folded, full_name, affiliations, \
         active, confirmed_at, password_hash, user_type, entries, editorial_scope, created, \
         updated, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(user.id.0)
    .bind(c.email)
    .bind(c.username)
    .bind(&c.username_folded)
    .bind(c.full_name)
    .bind(c.affiliations)
    .bind(c.active)
    .bind(&c.confirmed_at)
    .bind(c.password_hash)
    .bind(c.user_type)
    .bind(&c.entries)
    .bind(&c.editorial_scope)
    .bind(codec::time_to_text(&user.created))
    .bind(codec::time_to_text(&user.updated))
    .bind(user.version)
    .execute(&mut *conn)
    .await
    .map_err(|e| write_error(e, &new))?;
    insert_search_rows(conn, &[(user.id.0, &c.haystack)]).await
}

/// Why one batch of a bulk insert failed.
enum BulkError {
    /// A uniqueness rule; the batch cannot tell which row, so the caller replays row by row.
    Taken,
    /// Anything else.
    Store(StoreError),
}

/// Many users in multi-row statements, inside a savepoint, so that the call inserts all of
/// them or none (the transaction itself stays usable either way).
pub(super) async fn insert_users(
    conn: &mut SqliteConnection,
    users: &[NewUser],
) -> Result<Vec<User>, StoreError> {
    // Savepoints by name: the enclosing transaction is begun by hand (see `SqliteTx`), so
    // sqlx's nested `begin` would not know it is nested.
    exec(conn, "SAVEPOINT bulk_users").await?;
    match insert_batches(conn, users).await {
        Ok(out) => {
            exec(conn, "RELEASE bulk_users").await?;
            Ok(out)
        }
        Err(BulkError::Store(e)) => {
            exec(conn, "ROLLBACK TO bulk_users").await?;
            exec(conn, "RELEASE bulk_users").await?;
            Err(e)
        }
        Err(BulkError::Taken) => {
            exec(conn, "ROLLBACK TO bulk_users").await?;
            exec(conn, "RELEASE bulk_users").await?;
            // Slow path, only on failure: insert row by row to learn which value is taken.
            exec(conn, "SAVEPOINT bulk_replay").await?;
            let mut failure = None;
            for u in users {
                if let Err(e) = insert_user(conn, u).await {
                    failure = Some(e);
                    break;
                }
            }
            exec(conn, "ROLLBACK TO bulk_replay").await?;
            exec(conn, "RELEASE bulk_replay").await?;
            Err(failure.unwrap_or_else(|| {
                StoreError::Backend(
                    "a bulk insert broke a uniqueness rule that no single insert broke".to_owned(),
                )
            }))
        }
    }
}

async fn exec(conn: &mut SqliteConnection, sql: &'static str) -> Result<(), StoreError> {
    sqlx::query(sql)
        .execute(conn)
        .await
        .map(|_| ())
        .map_err(backend)
}

async fn insert_batches(
    conn: &mut SqliteConnection,
    users: &[NewUser],
) -> Result<Vec<User>, BulkError> {
    let now = codec::now();
    let now_text = codec::time_to_text(&now);
    let mut out = Vec::with_capacity(users.len());
    let full_sql = insert_sql(BATCH);
    for chunk in users.chunks(BATCH) {
        let partial;
        let sql = if chunk.len() == BATCH {
            &full_sql
        } else {
            partial = insert_sql(chunk.len());
            &partial
        };
        let cols: Vec<Columns<'_>> = chunk.iter().map(Columns::of).collect();
        let mut q = sqlx::query_as::<_, (i64, String)>(sql);
        for c in &cols {
            q = q
                .bind(c.email)
                .bind(c.username)
                .bind(&c.username_folded)
                .bind(c.full_name)
                .bind(c.affiliations)
                .bind(c.active)
                .bind(&c.confirmed_at)
                .bind(c.password_hash)
                .bind(c.user_type)
                .bind(&c.entries)
                .bind(&c.editorial_scope)
                .bind(&now_text)
                .bind(&now_text);
        }
        let rows = q.fetch_all(&mut *conn).await.map_err(|e| match taken(&e) {
            Some(_) => BulkError::Taken,
            None => BulkError::Store(backend(e)),
        })?;
        // RETURNING gives rows in no promised order; emails are unique, so match on them.
        let ids: HashMap<String, i64> = rows.into_iter().map(|(id, email)| (email, id)).collect();
        let mut search: Vec<(i64, &str)> = Vec::with_capacity(chunk.len());
        for (u, c) in chunk.iter().zip(&cols) {
            let id = *ids.get(u.email.as_str()).ok_or_else(|| {
                BulkError::Store(StoreError::Backend(format!(
                    "bulk insert returned no id for `{}`",
                    u.email
                )))
            })?;
            search.push((id, &c.haystack));
            out.push(stored(u.clone(), id, now, now, 1));
        }
        insert_search_rows(conn, &search)
            .await
            .map_err(BulkError::Store)?;
    }
    Ok(out)
}

fn insert_sql(rows: usize) -> String {
    let mut sql = String::with_capacity(rows * (insert_row!().len() + 2) + 400);
    sql.push_str(insert_columns!());
    for i in 0..rows {
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(insert_row!());
    }
    sql.push_str(" RETURNING id, email");
    sql
}

/// Writes (or overwrites) search rows, many per statement.
async fn insert_search_rows(
    conn: &mut SqliteConnection,
    rows: &[(i64, &str)],
) -> Result<(), StoreError> {
    for chunk in rows.chunks(BATCH) {
        let mut qb =
            QueryBuilder::<Sqlite>::new("INSERT OR REPLACE INTO user_search (user_id, haystack) ");
        qb.push_values(chunk, |mut b, (id, haystack)| {
            b.push_bind(*id).push_bind(*haystack);
        });
        qb.build().execute(&mut *conn).await.map_err(backend)?;
    }
    Ok(())
}

async fn one_user<'q, V>(
    conn: &mut SqliteConnection,
    sql: &'q str,
    value: V,
) -> Result<Option<User>, StoreError>
where
    V: 'q + sqlx::Encode<'q, Sqlite> + sqlx::Type<Sqlite> + Send,
{
    let row: Option<UserRow> = sqlx::query_as(sql)
        .bind(value)
        .fetch_optional(&mut *conn)
        .await
        .map_err(backend)?;
    row.map(UserRow::into_user).transpose()
}

pub(super) async fn user_by_id(
    conn: &mut SqliteConnection,
    id: UserId,
) -> Result<Option<User>, StoreError> {
    one_user(
        conn,
        concat!("SELECT ", user_columns!(), " FROM users u WHERE u.id = ?"),
        id.0,
    )
    .await
}

pub(super) async fn user_by_email(
    conn: &mut SqliteConnection,
    email: &Email,
) -> Result<Option<User>, StoreError> {
    // Stored lower-cased, so this uses the unique index; lower() guards against a caller
    // that built the value some other way.
    one_user(
        conn,
        concat!(
            "SELECT ",
            user_columns!(),
            " FROM users u WHERE u.email = lower(?)"
        ),
        email.as_str(),
    )
    .await
}

pub(super) async fn user_by_username(
    conn: &mut SqliteConnection,
    username: &Username,
) -> Result<Option<User>, StoreError> {
    one_user(
        conn,
        concat!(
            "SELECT ",
            user_columns!(),
            " FROM users u WHERE u.username_folded = ?"
        ),
        username.folded(),
    )
    .await
}

pub(super) async fn existing_emails(
    conn: &mut SqliteConnection,
    emails: &[Email],
) -> Result<Vec<Email>, StoreError> {
    let mut found: HashSet<String> = HashSet::new();
    for chunk in emails.chunks(IN_CHUNK) {
        let mut qb = QueryBuilder::<Sqlite>::new("SELECT email FROM users WHERE email IN (");
        let mut list = qb.separated(", ");
        for e in chunk {
            list.push_bind(e.as_str());
        }
        qb.push(")");
        let rows: Vec<String> = qb
            .build_query_scalar()
            .fetch_all(&mut *conn)
            .await
            .map_err(backend)?;
        found.extend(rows);
    }
    let mut seen = HashSet::new();
    Ok(emails
        .iter()
        .filter(|e| found.contains(e.as_str()) && seen.insert(e.as_str()))
        .cloned()
        .collect())
}

pub(super) async fn update_user(
    conn: &mut SqliteConnection,
    user: &User,
) -> Result<User, StoreError> {
    let now = codec::now();
    let new = as_new(user);
    let c = Columns::of(&new);
    let row: Option<(i64, String)> = sqlx::query_as(
        "UPDATE users SET email = ?, username = ?, username_folded = ?, full_name = ?, \
         affiliations = ?, active = ?, confirmed_at = ?, password_hash = ?, user_type = ?, \
         entries = ?, editorial_scope = ?, updated = ?, version = version + 1 \
         WHERE id = ? RETURNING version, created",
    )
    .bind(c.email)
    .bind(c.username)
    .bind(&c.username_folded)
    .bind(c.full_name)
    .bind(c.affiliations)
    .bind(c.active)
    .bind(&c.confirmed_at)
    .bind(c.password_hash)
    .bind(c.user_type)
    .bind(&c.entries)
    .bind(&c.editorial_scope)
    .bind(codec::time_to_text(&now))
    .bind(user.id.0)
    .fetch_optional(&mut *conn)
    .await
    .map_err(|e| write_error(e, &new))?;
    let Some((version, created)) = row else {
        return Err(StoreError::Backend(format!(
            "cannot update user {}: there is no such user",
            user.id
        )));
    };
    insert_search_rows(conn, &[(user.id.0, &c.haystack)]).await?;
    let created = codec::time_from_text(&created)?;
    Ok(stored(new, user.id.0, created, now, version))
}

/// Increments a user's version and sets `updated` (grants on the user changed).
pub(super) async fn touch_user(conn: &mut SqliteConnection, id: UserId) -> Result<(), StoreError> {
    sqlx::query("UPDATE users SET version = version + 1, updated = ? WHERE id = ?")
        .bind(codec::time_to_text(&codec::now()))
        .bind(id.0)
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    Ok(())
}

pub(super) async fn delete_user(
    conn: &mut SqliteConnection,
    id: UserId,
) -> Result<bool, StoreError> {
    // The foreign keys cascade too; deleting explicitly keeps the rule true even on a
    // connection that was opened with foreign keys off.
    for sql in [
        "DELETE FROM grants WHERE user_id = ?",
        "DELETE FROM user_search WHERE user_id = ?",
        "DELETE FROM credentials WHERE user_id = ?",
        "DELETE FROM links WHERE user_id = ?",
    ] {
        sqlx::query(sql)
            .bind(id.0)
            .execute(&mut *conn)
            .await
            .map_err(backend)?;
    }
    let done = sqlx::query("DELETE FROM users WHERE id = ?")
        .bind(id.0)
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    Ok(done.rows_affected() > 0)
}

/// `FROM ... WHERE ...` for a user query, shared by the count and the page.
fn push_filters(qb: &mut QueryBuilder<'_, Sqlite>, query: &UserQuery, words: &[String]) {
    qb.push(" FROM users u");
    if !words.is_empty() {
        qb.push(" JOIN user_search s ON s.user_id = u.id");
    }
    qb.push(" WHERE 1 = 1");
    for w in words {
        qb.push(" AND s.haystack LIKE ")
            .push_bind(codec::like_contains(w))
            .push(" ESCAPE '\\'");
    }
    if let Some(t) = &query.user_type {
        qb.push(" AND u.user_type = ").push_bind(t.to_string());
    }
    if let Some(active) = query.active {
        qb.push(" AND u.active = ").push_bind(active);
    }
    match query.confirmed {
        Some(true) => {
            qb.push(" AND u.confirmed_at IS NOT NULL");
        }
        Some(false) => {
            qb.push(" AND u.confirmed_at IS NULL");
        }
        None => {}
    }
}

pub(super) async fn list_users(
    conn: &mut SqliteConnection,
    query: &UserQuery,
) -> Result<Page<User>, StoreError> {
    let words = codec::search_words(query.text.as_deref());

    let mut count = QueryBuilder::<Sqlite>::new("SELECT count(*)");
    push_filters(&mut count, query, &words);
    let total: i64 = count
        .build_query_scalar()
        .fetch_one(&mut *conn)
        .await
        .map_err(backend)?;

    let mut page = QueryBuilder::<Sqlite>::new(concat!("SELECT ", user_columns!()));
    push_filters(&mut page, query, &words);
    let limit = if query.limit == 0 {
        -1
    } else {
        codec::to_i64(query.limit)
    };
    page.push(" ORDER BY u.id LIMIT ")
        .push_bind(limit)
        .push(" OFFSET ")
        .push_bind(codec::to_i64(query.offset));
    let rows: Vec<UserRow> = page
        .build_query_as()
        .fetch_all(&mut *conn)
        .await
        .map_err(backend)?;
    Ok(Page {
        items: rows
            .into_iter()
            .map(UserRow::into_user)
            .collect::<Result<_, _>>()?,
        total: codec::to_u64(total),
    })
}

pub(super) async fn reindex_users(conn: &mut SqliteConnection) -> Result<u64, StoreError> {
    sqlx::query("DELETE FROM user_search")
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    let mut after = 0_i64;
    let mut count = 0_u64;
    loop {
        let rows: Vec<(i64, String, Option<String>, String, String)> = sqlx::query_as(
            "SELECT id, email, username, full_name, affiliations FROM users \
             WHERE id > ? ORDER BY id LIMIT ?",
        )
        .bind(after)
        .bind(REINDEX_PAGE)
        .fetch_all(&mut *conn)
        .await
        .map_err(backend)?;
        let Some(last) = rows.last() else {
            break;
        };
        after = last.0;
        let haystacks: Vec<(i64, String)> = rows
            .iter()
            .map(|(id, email, username, name, affiliations)| {
                (
                    *id,
                    codec::haystack(email, username.as_deref(), name, affiliations),
                )
            })
            .collect();
        let borrowed: Vec<(i64, &str)> =
            haystacks.iter().map(|(id, h)| (*id, h.as_str())).collect();
        insert_search_rows(conn, &borrowed).await?;
        count += borrowed.len() as u64;
    }
    tracing::info!(users = count, "rebuilt the user search index");
    Ok(count)
}
