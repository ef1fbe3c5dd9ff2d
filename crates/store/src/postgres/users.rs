//! Users and their search index on PostgreSQL: insert (one or many), read, update, delete,
//! list and search. Every write to `users` writes `user_search` in the same statement (a
//! data-modifying `WITH`), so a user and their search row take one round trip.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use gatehouse_core::{Email, NewUser, Page, PasswordHash, StoreError, User, UserQuery, Username};
use gatehouse_policy::UserId;
use sqlx::postgres::PgConnection;
use sqlx::{Connection, Postgres, QueryBuilder};

use super::unique_violation;
use crate::codec::{self, as_new, backend, stored, UserRecord};

/// Rows per multi-row `INSERT` in [`insert_users`]: 13 parameters each, far below
/// PostgreSQL's limit of 65,535, and large enough that round trips stop mattering.
const BATCH: usize = 1000;

/// Users per round when rebuilding the search index.
const REINDEX_PAGE: i64 = 1000;

/// The columns of a [`UserRecord`], as a literal so that `concat!` can build statements.
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
         confirmed_at, password_hash, user_type, entries, editorial_scope, created, updated) "
    };
}

/// One user and their search row; `$12` is both `created` and `updated`.
const INSERT_ONE: &str = concat!(
    "WITH u AS (",
    insert_columns!(),
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING id), \
     s AS (INSERT INTO user_search (user_id, haystack) SELECT id, $13 FROM u) \
     SELECT id FROM u"
);

/// Every writable field, `version` counted by the database, and the search row.
const UPDATE_ONE: &str = "WITH u AS (\
     UPDATE users SET email = $1, username = $2, username_folded = $3, full_name = $4, \
     affiliations = $5, active = $6, confirmed_at = $7, password_hash = $8, user_type = $9, \
     entries = $10, editorial_scope = $11, updated = $12, version = version + 1 \
     WHERE id = $13 RETURNING id, version, created), \
     s AS (INSERT INTO user_search (user_id, haystack) SELECT id, $14 FROM u \
     ON CONFLICT (user_id) DO UPDATE SET haystack = EXCLUDED.haystack) \
     SELECT version, created FROM u";

/// The column values of a user to write, borrowed where they can be.
struct Columns<'a> {
    email: &'a str,
    username: Option<&'a str>,
    username_folded: Option<String>,
    full_name: &'a str,
    affiliations: &'a str,
    active: bool,
    confirmed_at: Option<DateTime<Utc>>,
    password_hash: Option<&'a str>,
    user_type: Option<&'a str>,
    entries: Vec<String>,
    editorial_scope: Vec<String>,
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
            confirmed_at: u.confirmed_at.map(codec::truncate),
            password_hash: u.password_hash.as_ref().map(PasswordHash::as_phc),
            user_type: u.user_type.as_ref().map(|t| t.as_str()),
            entries: codec::printed(&u.entries),
            editorial_scope: codec::printed(&u.editorial_scope),
            haystack: codec::haystack(
                u.email.as_str(),
                u.username.as_ref().map(Username::as_str),
                &u.full_name,
                &u.affiliations,
            ),
        }
    }
}

/// Binds the eleven written columns of `$c`, in `insert_columns!` order, to `$q`.
macro_rules! bind_columns {
    ($q:expr, $c:expr) => {
        $q.bind($c.email)
            .bind($c.username)
            .bind($c.username_folded.as_deref())
            .bind($c.full_name)
            .bind($c.affiliations)
            .bind($c.active)
            .bind($c.confirmed_at)
            .bind($c.password_hash)
            .bind($c.user_type)
            .bind($c.entries.as_slice())
            .bind($c.editorial_scope.as_slice())
    };
}

/// Which uniqueness rule a failed write broke, if it broke one of the user rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Taken {
    Email,
    Username,
}

fn taken(e: &sqlx::Error) -> Option<Taken> {
    match unique_violation(e)? {
        "users_email_unique" => Some(Taken::Email),
        "users_username_unique" => Some(Taken::Username),
        _ => None,
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
    conn: &mut PgConnection,
    user: &NewUser,
) -> Result<User, StoreError> {
    let now = codec::now();
    let c = Columns::of(user);
    let id: i64 = bind_columns!(sqlx::query_scalar(INSERT_ONE), c)
        .bind(now)
        .bind(&c.haystack)
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| write_error(e, user))?;
    Ok(stored(user.clone(), id, now, now, 1))
}

/// A user exactly as given (import), with their search row, and the id sequence moved past
/// the id so that later inserts never hand it out again; one statement.
const IMPORT_ONE: &str = "WITH u AS (\
     INSERT INTO users (email, username, username_folded, full_name, affiliations, active, \
     confirmed_at, password_hash, user_type, entries, editorial_scope, created, updated, id, \
     version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
     RETURNING id), \
     s AS (INSERT INTO user_search (user_id, haystack) SELECT id, $16 FROM u) \
     SELECT setval(pg_get_serial_sequence('users', 'id'), \
     GREATEST($14, (SELECT coalesce(max(id), 0) FROM users))) FROM u";

pub(super) async fn import_user(conn: &mut PgConnection, user: &User) -> Result<(), StoreError> {
    let new = as_new(user);
    let c = Columns::of(&new);
    let _: i64 = bind_columns!(sqlx::query_scalar(IMPORT_ONE), c)
        .bind(codec::truncate(user.created))
        .bind(codec::truncate(user.updated))
        .bind(user.id.0)
        .bind(user.version)
        .bind(&c.haystack)
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| write_error(e, &new))?;
    Ok(())
}

/// Why one batch of a bulk insert failed.
enum BulkError {
    /// A uniqueness rule; the caller finds out which value.
    Taken,
    /// Anything else.
    Store(StoreError),
}

/// Many users in multi-row statements, inside a savepoint, so that the call inserts all of
/// them or none and the transaction stays usable either way.
pub(super) async fn insert_users(
    conn: &mut PgConnection,
    users: &[NewUser],
) -> Result<Vec<User>, StoreError> {
    if users.is_empty() {
        return Ok(Vec::new());
    }
    let mut savepoint = conn.begin().await.map_err(backend)?;
    match insert_batches(&mut savepoint, users).await {
        Ok(out) => {
            savepoint.commit().await.map_err(backend)?;
            Ok(out)
        }
        Err(failure) => {
            savepoint.rollback().await.map_err(backend)?;
            match failure {
                BulkError::Store(e) => Err(e),
                BulkError::Taken => Err(name_conflict(conn, users).await?),
            }
        }
    }
}

/// After a bulk insert broke a uniqueness rule: the error naming the first value, in input
/// order, that is taken, by a stored user or by an earlier user of the batch, exactly what
/// inserting one by one would report. Two queries, not one insert per user: under read
/// committed, the row the insert collided with is committed (or ours) and so visible here.
async fn name_conflict(
    conn: &mut PgConnection,
    users: &[NewUser],
) -> Result<StoreError, StoreError> {
    let emails: Vec<&str> = users.iter().map(|u| u.email.as_str()).collect();
    let taken_emails: HashSet<String> =
        sqlx::query_scalar("SELECT email FROM users WHERE email = ANY($1)")
            .bind(&emails)
            .fetch_all(&mut *conn)
            .await
            .map_err(backend)?
            .into_iter()
            .collect();
    let folded: Vec<String> = users
        .iter()
        .filter_map(|u| u.username.as_ref().map(Username::folded))
        .collect();
    let taken_names: HashSet<String> =
        sqlx::query_scalar("SELECT username_folded FROM users WHERE username_folded = ANY($1)")
            .bind(&folded)
            .fetch_all(&mut *conn)
            .await
            .map_err(backend)?
            .into_iter()
            .collect();

    let mut seen_emails = HashSet::new();
    let mut seen_names = HashSet::new();
    for u in users {
        let email = u.email.as_str();
        if taken_emails.contains(email) || !seen_emails.insert(email) {
            return Ok(codec::email_taken(&u.email));
        }
        if let Some(name) = &u.username {
            let f = name.folded();
            if taken_names.contains(&f) || !seen_names.insert(f) {
                return Ok(codec::username_taken(Some(name)));
            }
        }
    }
    Ok(StoreError::Backend(
        "a bulk insert broke a uniqueness rule, but none of its values is taken".to_owned(),
    ))
}

async fn insert_batches(
    conn: &mut PgConnection,
    users: &[NewUser],
) -> Result<Vec<User>, BulkError> {
    let now = codec::now();
    let mut out = Vec::with_capacity(users.len());
    for chunk in users.chunks(BATCH) {
        let cols: Vec<Columns<'_>> = chunk.iter().map(Columns::of).collect();
        let mut qb = QueryBuilder::<Postgres>::new(insert_columns!());
        qb.push_values(&cols, |mut b, c| {
            b.push_bind(c.email)
                .push_bind(c.username)
                .push_bind(c.username_folded.as_deref())
                .push_bind(c.full_name)
                .push_bind(c.affiliations)
                .push_bind(c.active)
                .push_bind(c.confirmed_at)
                .push_bind(c.password_hash)
                .push_bind(c.user_type)
                .push_bind(c.entries.as_slice())
                .push_bind(c.editorial_scope.as_slice())
                .push_bind(now)
                .push_bind(now);
        });
        qb.push(" RETURNING id, email");
        let rows: Vec<(i64, String)> =
            qb.build_query_as()
                .fetch_all(&mut *conn)
                .await
                .map_err(|e| match taken(&e) {
                    Some(_) => BulkError::Taken,
                    None => BulkError::Store(backend(e)),
                })?;
        // RETURNING gives rows in no promised order; emails are unique, so match on them.
        let ids: HashMap<String, i64> = rows.into_iter().map(|(id, email)| (email, id)).collect();
        let mut search_ids = Vec::with_capacity(chunk.len());
        let mut haystacks = Vec::with_capacity(chunk.len());
        for (u, c) in chunk.iter().zip(&cols) {
            let id = *ids.get(u.email.as_str()).ok_or_else(|| {
                BulkError::Store(StoreError::Backend(format!(
                    "bulk insert returned no id for `{}`",
                    u.email
                )))
            })?;
            search_ids.push(id);
            haystacks.push(c.haystack.as_str());
            out.push(stored(u.clone(), id, now, now, 1));
        }
        write_search_rows(conn, &search_ids, &haystacks)
            .await
            .map_err(BulkError::Store)?;
    }
    Ok(out)
}

/// Writes (or overwrites) search rows, all in one statement.
async fn write_search_rows(
    conn: &mut PgConnection,
    ids: &[i64],
    haystacks: &[&str],
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO user_search (user_id, haystack) \
         SELECT * FROM UNNEST($1::BIGINT[], $2::TEXT[]) \
         ON CONFLICT (user_id) DO UPDATE SET haystack = EXCLUDED.haystack",
    )
    .bind(ids)
    .bind(haystacks)
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    Ok(())
}

async fn one_user<'q, V>(
    conn: &mut PgConnection,
    sql: &'q str,
    value: V,
) -> Result<Option<User>, StoreError>
where
    V: 'q + sqlx::Encode<'q, Postgres> + sqlx::Type<Postgres> + Send,
{
    let row: Option<UserRecord> = sqlx::query_as(sql)
        .bind(value)
        .fetch_optional(&mut *conn)
        .await
        .map_err(backend)?;
    row.map(UserRecord::into_user).transpose()
}

pub(super) async fn user_by_id(
    conn: &mut PgConnection,
    id: UserId,
) -> Result<Option<User>, StoreError> {
    one_user(
        conn,
        concat!("SELECT ", user_columns!(), " FROM users u WHERE u.id = $1"),
        id.0,
    )
    .await
}

pub(super) async fn user_by_email(
    conn: &mut PgConnection,
    email: &Email,
) -> Result<Option<User>, StoreError> {
    // `Email` is lower-cased (Unicode rules) when it is made, and stored so; PostgreSQL's
    // `lower()` follows the collation instead, so it is not applied here.
    one_user(
        conn,
        concat!(
            "SELECT ",
            user_columns!(),
            " FROM users u WHERE u.email = $1"
        ),
        email.as_str(),
    )
    .await
}

pub(super) async fn user_by_username(
    conn: &mut PgConnection,
    username: &Username,
) -> Result<Option<User>, StoreError> {
    one_user(
        conn,
        concat!(
            "SELECT ",
            user_columns!(),
            " FROM users u WHERE u.username_folded = $1"
        ),
        username.folded(),
    )
    .await
}

pub(super) async fn existing_emails(
    conn: &mut PgConnection,
    emails: &[Email],
) -> Result<Vec<Email>, StoreError> {
    if emails.is_empty() {
        return Ok(Vec::new());
    }
    let asked: Vec<&str> = emails.iter().map(Email::as_str).collect();
    let found: HashSet<String> =
        sqlx::query_scalar("SELECT email FROM users WHERE email = ANY($1)")
            .bind(&asked)
            .fetch_all(&mut *conn)
            .await
            .map_err(backend)?
            .into_iter()
            .collect();
    let mut seen = HashSet::new();
    Ok(emails
        .iter()
        .filter(|e| found.contains(e.as_str()) && seen.insert(e.as_str()))
        .cloned()
        .collect())
}

pub(super) async fn update_user(conn: &mut PgConnection, user: &User) -> Result<User, StoreError> {
    let now = codec::now();
    let new = as_new(user);
    let c = Columns::of(&new);
    let row: Option<(i64, DateTime<Utc>)> = bind_columns!(sqlx::query_as(UPDATE_ONE), c)
        .bind(now)
        .bind(user.id.0)
        .bind(&c.haystack)
        .fetch_optional(&mut *conn)
        .await
        .map_err(|e| write_error(e, &new))?;
    let Some((version, created)) = row else {
        return Err(StoreError::Backend(format!(
            "cannot update user {}: there is no such user",
            user.id
        )));
    };
    Ok(stored(new, user.id.0, created, now, version))
}

/// Increments a user's version and sets `updated` (grants on the user changed).
pub(super) async fn touch_user(conn: &mut PgConnection, id: UserId) -> Result<(), StoreError> {
    sqlx::query("UPDATE users SET version = version + 1, updated = $1 WHERE id = $2")
        .bind(codec::now())
        .bind(id.0)
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    Ok(())
}

pub(super) async fn delete_user(conn: &mut PgConnection, id: UserId) -> Result<bool, StoreError> {
    // Grants, the search row, credentials and links go by `ON DELETE CASCADE`, which
    // PostgreSQL always enforces.
    let done = sqlx::query("DELETE FROM users WHERE id = $1")
        .bind(id.0)
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    Ok(done.rows_affected() > 0)
}

/// `FROM ... WHERE ...` for a user query, shared by the count and the page.
fn push_filters(qb: &mut QueryBuilder<'_, Postgres>, query: &UserQuery, words: &[String]) {
    qb.push(" FROM users u");
    if !words.is_empty() {
        qb.push(" JOIN user_search s ON s.user_id = u.id");
    }
    qb.push(" WHERE TRUE");
    for w in words {
        // The haystack is lower-cased by the store, like the words; `E'\\'` is one
        // backslash whatever `standard_conforming_strings` says.
        qb.push(" AND s.haystack LIKE ")
            .push_bind(codec::like_contains(w))
            .push(" ESCAPE E'\\\\'");
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
    conn: &mut PgConnection,
    query: &UserQuery,
) -> Result<Page<User>, StoreError> {
    let words = codec::search_words(query.text.as_deref());

    let mut count = QueryBuilder::<Postgres>::new("SELECT count(*)");
    push_filters(&mut count, query, &words);
    let total: i64 = count
        .build_query_scalar()
        .fetch_one(&mut *conn)
        .await
        .map_err(backend)?;

    let mut page = QueryBuilder::<Postgres>::new(concat!("SELECT ", user_columns!()));
    push_filters(&mut page, query, &words);
    // `LIMIT NULL` is no limit.
    let limit = (query.limit > 0).then(|| codec::to_i64(query.limit));
    page.push(" ORDER BY u.id LIMIT ")
        .push_bind(limit)
        .push(" OFFSET ")
        .push_bind(codec::to_i64(query.offset));
    let rows: Vec<UserRecord> = page
        .build_query_as()
        .fetch_all(&mut *conn)
        .await
        .map_err(backend)?;
    Ok(Page {
        items: rows
            .into_iter()
            .map(UserRecord::into_user)
            .collect::<Result<_, _>>()?,
        total: codec::to_u64(total),
    })
}

pub(super) async fn reindex_users(conn: &mut PgConnection) -> Result<u64, StoreError> {
    sqlx::query("DELETE FROM user_search")
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    let mut after = 0_i64;
    let mut count = 0_u64;
    loop {
        let rows: Vec<(i64, String, Option<String>, String, String)> = sqlx::query_as(
            "SELECT id, email, username, full_name, affiliations FROM users \
             WHERE id > $1 ORDER BY id LIMIT $2",
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
        let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
        let haystacks: Vec<String> = rows
            .iter()
            .map(|(_, email, username, name, affiliations)| {
                codec::haystack(email, username.as_deref(), name, affiliations)
            })
            .collect();
        let borrowed: Vec<&str> = haystacks.iter().map(String::as_str).collect();
        write_search_rows(conn, &ids, &borrowed).await?;
        count += ids.len() as u64;
    }
    tracing::info!(users = count, "rebuilt the user search index");
    Ok(count)
}
