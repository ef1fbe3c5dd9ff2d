//! Users and their search index: insert (one or many), read, update, delete, list and
//! search. Every write to `users` writes `user_search` in the same transaction.

use std::collections::{HashMap, HashSet};

use gatehouse_core::store::ConflictField;
use gatehouse_core::{
    Email, NewUser, Page, PasswordHash, SortDirection, StoreError, User, UserQuery, UserSort,
    UserSortField, Username,
};
use gatehouse_policy::UserId;
use sqlx::QueryBuilder;

use super::dialect::{self, Conn, Db, List, Time};
use super::exec;
use crate::codec::{self, as_new, backend, stored};

/// Users per round when rebuilding the search index.
const REINDEX_PAGE: i64 = 1000;

/// The columns of a [`UserRow`], as a literal so that `sql!` can build whole statements.
macro_rules! user_columns {
    () => {
        "u.id, u.email, u.username, u.full_name, u.affiliations, u.active, u.confirmed_at, \
         u.password_hash, u.user_type, u.entries, u.editorial_scope, u.created, u.updated, \
         u.version"
    };
}

/// The start of a user `INSERT`: the columns that [`bind_columns!`] binds, then `created`
/// and `updated`.
macro_rules! insert_columns {
    () => {
        "INSERT INTO users (email, username, username_folded, full_name, affiliations, active, \
         confirmed_at, password_hash, password_scheme, user_type, entries, editorial_scope, \
         skeleton, username_skeleton, created, updated"
    };
}

/// One user.
const INSERT_ONE: &str = sql!(
    insert_columns!(),
    ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id"
);

/// One user exactly as given (import): id and version too.
const IMPORT_ONE: &str = sql!(keep_ids!(
    "users",
    concat!(
        insert_columns!(),
        ", id, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )
));

/// Every writable field; `version` is counted by the database.
const UPDATE_ONE: &str = sql!(
    "UPDATE users SET email = ?, username = ?, username_folded = ?, full_name = ?, \
     affiliations = ?, active = ?, confirmed_at = ?, password_hash = ?, password_scheme = ?, \
     user_type = ?, \
     entries = ?, editorial_scope = ?, skeleton = ?, username_skeleton = ?, updated = ?, \
     version = version + 1 \
     WHERE id = ? RETURNING version, created"
);

/// A `users` row as read.
#[derive(sqlx::FromRow)]
struct UserRow {
    id: i64,
    email: String,
    username: Option<String>,
    full_name: String,
    affiliations: String,
    active: bool,
    confirmed_at: Option<Time>,
    password_hash: Option<String>,
    user_type: Option<String>,
    entries: List,
    editorial_scope: List,
    created: Time,
    updated: Time,
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
            confirmed_at: self.confirmed_at.map(dialect::time_from).transpose()?,
            password_hash: self.password_hash,
            user_type: self.user_type,
            entries: dialect::list_from("entry", self.entries)?,
            editorial_scope: dialect::list_from("editorial scope filter", self.editorial_scope)?,
            created: dialect::time_from(self.created)?,
            updated: dialect::time_from(self.updated)?,
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
    confirmed_at: Option<Time>,
    password_hash: Option<&'a str>,
    password_scheme: Option<&'static str>,
    user_type: Option<&'a str>,
    entries: List,
    editorial_scope: List,
    skeleton: String,
    username_skeleton: Option<String>,
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
            confirmed_at: u.confirmed_at.as_ref().map(dialect::time),
            password_hash: u.password_hash.as_ref().map(PasswordHash::as_phc),
            password_scheme: u.password_hash.as_ref().map(|h| h.scheme().as_str()),
            user_type: u.user_type.as_ref().map(|t| t.as_str()),
            entries: dialect::list(&u.entries),
            editorial_scope: dialect::list(&u.editorial_scope),
            skeleton: gatehouse_core::text::email_skeleton(u.email.as_str()),
            username_skeleton: u
                .username
                .as_ref()
                .map(|n| gatehouse_core::text::username_skeleton(n.as_str())),
            haystack: codec::haystack(
                u.email.as_str(),
                u.username.as_ref().map(Username::as_str),
                &u.full_name,
                &u.affiliations,
            ),
        }
    }
}

/// Binds the fourteen written columns of `$c`, in `insert_columns!` order, with `$q.$bind`
/// (`bind` on a query, `push_bind` in a `QueryBuilder` row).
macro_rules! bind_columns {
    ($q:expr, $bind:ident, $c:expr) => {
        $q.$bind($c.email)
            .$bind($c.username)
            .$bind($c.username_folded.as_deref())
            .$bind($c.full_name)
            .$bind($c.affiliations)
            .$bind($c.active)
            .$bind(&$c.confirmed_at)
            .$bind($c.password_hash)
            .$bind($c.password_scheme)
            .$bind($c.user_type)
            .$bind(&$c.entries)
            .$bind(&$c.editorial_scope)
            .$bind(&$c.skeleton)
            .$bind(&$c.username_skeleton)
    };
}

/// Maps a failed write of `user` to a conflict naming the value, or a backend error.
fn write_error(e: sqlx::Error, user: &NewUser) -> StoreError {
    match dialect::conflict(&e) {
        Some(ConflictField::Email) => codec::taken(ConflictField::Email, user.email.as_str()),
        Some(ConflictField::Username) => codec::taken(
            ConflictField::Username,
            user.username
                .as_ref()
                .map(Username::as_str)
                .unwrap_or_default(),
        ),
        _ => backend(e),
    }
}

pub(super) async fn insert_user(conn: &mut Conn, user: &NewUser) -> Result<User, StoreError> {
    let now = codec::now();
    let c = Columns::of(user);
    let id: i64 = bind_columns!(sqlx::query_scalar(INSERT_ONE), bind, c)
        .bind(dialect::time(&now))
        .bind(dialect::time(&now))
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| write_error(e, user))?;
    write_search_rows(conn, &[(id, &c.haystack)]).await?;
    Ok(stored(user.clone(), id, now, now, 1))
}

/// A user exactly as given (import): id, times and version kept, and ids never handed out
/// again (`keep_ids!`).
pub(super) async fn import_user(conn: &mut Conn, user: &User) -> Result<(), StoreError> {
    let new = as_new(user);
    let c = Columns::of(&new);
    bind_columns!(sqlx::query(IMPORT_ONE), bind, c)
        .bind(dialect::time(&user.created))
        .bind(dialect::time(&user.updated))
        .bind(user.id.0)
        .bind(user.version)
        .execute(&mut *conn)
        .await
        .map_err(|e| write_error(e, &new))?;
    write_search_rows(conn, &[(user.id.0, &c.haystack)]).await
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
    conn: &mut Conn,
    users: &[NewUser],
) -> Result<Vec<User>, StoreError> {
    if users.is_empty() {
        return Ok(Vec::new());
    }
    // A savepoint by name: SQLite's transaction is begun by hand (see `SqliteTx`), so sqlx's
    // nested `begin` would not know that it is nested.
    exec(conn, "SAVEPOINT bulk_users").await?;
    let result = insert_batches(conn, users).await;
    if result.is_err() {
        exec(conn, "ROLLBACK TO SAVEPOINT bulk_users").await?;
    }
    exec(conn, "RELEASE SAVEPOINT bulk_users").await?;
    match result {
        Ok(out) => Ok(out),
        Err(BulkError::Store(e)) => Err(e),
        Err(BulkError::Taken) => Err(name_conflict(conn, users).await?),
    }
}

/// After a bulk insert broke a uniqueness rule: the error naming the first value, in input
/// order, that is taken, by a stored user or by an earlier user of the batch, exactly what
/// inserting one by one would report. Two queries, not one insert per user: the row the
/// insert collided with is committed (PostgreSQL's read committed; SQLite's writers take
/// turns) or this transaction's own, so it is visible here.
async fn name_conflict(conn: &mut Conn, users: &[NewUser]) -> Result<StoreError, StoreError> {
    let emails: Vec<&str> = users.iter().map(|u| u.email.as_str()).collect();
    let taken_emails: HashSet<String> =
        sqlx::query_scalar(sql!("SELECT email FROM users WHERE email ", in_list!()))
            .bind(dialect::list(&emails))
            .fetch_all(&mut *conn)
            .await
            .map_err(backend)?
            .into_iter()
            .collect();
    let folded: Vec<String> = users
        .iter()
        .filter_map(|u| u.username.as_ref().map(Username::folded))
        .collect();
    let taken_names: HashSet<String> = sqlx::query_scalar(sql!(
        "SELECT username_folded FROM users WHERE username_folded ",
        in_list!()
    ))
    .bind(dialect::list(&folded))
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
            return Ok(codec::taken(ConflictField::Email, email));
        }
        if let Some(name) = &u.username {
            let f = name.folded();
            if taken_names.contains(&f) || !seen_names.insert(f) {
                return Ok(codec::taken(ConflictField::Username, name.as_str()));
            }
        }
    }
    Ok(StoreError::Backend(
        "a bulk insert broke a uniqueness rule, but none of its values is taken".to_owned(),
    ))
}

// A time is a `String` on SQLite, bound once per row by reference; on PostgreSQL it is
// `Copy`, where clippy would rather bind it by value.
#[allow(clippy::needless_borrows_for_generic_args)]
async fn insert_batches(conn: &mut Conn, users: &[NewUser]) -> Result<Vec<User>, BulkError> {
    let now = codec::now();
    let now_stored = dialect::time(&now);
    let mut out = Vec::with_capacity(users.len());
    for chunk in users.chunks(dialect::BATCH) {
        let cols: Vec<Columns<'_>> = chunk.iter().map(Columns::of).collect();
        let mut qb = QueryBuilder::<Db>::new(concat!(insert_columns!(), ") "));
        qb.push_values(&cols, |mut b, c| {
            bind_columns!(b, push_bind, c)
                .push_bind(&now_stored)
                .push_bind(&now_stored);
        });
        qb.push(" RETURNING id, email");
        let rows: Vec<(i64, String)> = qb.build_query_as().fetch_all(&mut *conn).await.map_err(
            |e| match dialect::conflict(&e) {
                Some(_) => BulkError::Taken,
                None => BulkError::Store(backend(e)),
            },
        )?;
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
        write_search_rows(conn, &search)
            .await
            .map_err(BulkError::Store)?;
    }
    Ok(out)
}

/// Writes (or overwrites) search rows, all in one statement whose rows are bound as a few
/// values (`id_text_rows!`), not two a row. `WHERE TRUE` tells SQLite's parser that
/// `ON CONFLICT` is the upsert.
async fn write_search_rows(conn: &mut Conn, rows: &[(i64, &str)]) -> Result<(), StoreError> {
    let q = sqlx::query(sql!(
        "INSERT INTO user_search (user_id, haystack) ",
        id_text_rows!(),
        " WHERE TRUE ON CONFLICT (user_id) DO UPDATE SET haystack = excluded.haystack"
    ));
    dialect::bind_id_text_rows(q, rows)
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    Ok(())
}

async fn one_user<'q, V>(
    conn: &mut Conn,
    sql: &'q str,
    value: V,
) -> Result<Option<User>, StoreError>
where
    V: 'q + sqlx::Encode<'q, Db> + sqlx::Type<Db> + Send,
{
    let row: Option<UserRow> = sqlx::query_as(sql)
        .bind(value)
        .fetch_optional(&mut *conn)
        .await
        .map_err(backend)?;
    row.map(UserRow::into_user).transpose()
}

pub(super) async fn user_by_id(conn: &mut Conn, id: UserId) -> Result<Option<User>, StoreError> {
    const SQL: &str = sql!("SELECT ", user_columns!(), " FROM users u WHERE u.id = ?");
    one_user(conn, SQL, id.0).await
}

pub(super) async fn user_by_email(
    conn: &mut Conn,
    email: &Email,
) -> Result<Option<User>, StoreError> {
    // `Email` is lower-cased (Unicode rules) when it is made, and stored so; SQL's `lower()`
    // folds only ASCII (SQLite) or follows the collation (PostgreSQL), so it is not applied.
    const SQL: &str = sql!(
        "SELECT ",
        user_columns!(),
        " FROM users u WHERE u.email = ?"
    );
    one_user(conn, SQL, email.as_str()).await
}

pub(super) async fn user_by_username(
    conn: &mut Conn,
    username: &Username,
) -> Result<Option<User>, StoreError> {
    const SQL: &str = sql!(
        "SELECT ",
        user_columns!(),
        " FROM users u WHERE u.username_folded = ?"
    );
    one_user(conn, SQL, username.folded()).await
}

pub(super) async fn existing_emails(
    conn: &mut Conn,
    emails: &[Email],
) -> Result<Vec<Email>, StoreError> {
    if emails.is_empty() {
        return Ok(Vec::new());
    }
    let found: HashSet<String> =
        sqlx::query_scalar(sql!("SELECT email FROM users WHERE email ", in_list!()))
            .bind(dialect::list(emails))
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

/// The users whose email has one of these confusable skeletons: (skeleton, email) pairs.
pub(super) async fn skeleton_owners(
    conn: &mut Conn,
    skeletons: &[String],
) -> Result<Vec<(String, String)>, StoreError> {
    if skeletons.is_empty() {
        return Ok(Vec::new());
    }
    sqlx::query_as(sql!(
        "SELECT skeleton, email FROM users WHERE skeleton ",
        in_list!()
    ))
    .bind(dialect::list(skeletons))
    .fetch_all(&mut *conn)
    .await
    .map_err(backend)
}

pub(super) async fn username_skeleton_owners(
    conn: &mut Conn,
    skeletons: &[String],
) -> Result<Vec<(String, String)>, StoreError> {
    if skeletons.is_empty() {
        return Ok(Vec::new());
    }
    sqlx::query_as(sql!(
        "SELECT username_skeleton, username FROM users WHERE username IS NOT NULL \
         AND username_skeleton ",
        in_list!()
    ))
    .bind(dialect::list(skeletons))
    .fetch_all(&mut *conn)
    .await
    .map_err(backend)
}

pub(super) async fn update_user(conn: &mut Conn, user: &User) -> Result<User, StoreError> {
    let now = codec::now();
    let new = as_new(user);
    let c = Columns::of(&new);
    let row: Option<(i64, Time)> = bind_columns!(sqlx::query_as(UPDATE_ONE), bind, c)
        .bind(dialect::time(&now))
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
    write_search_rows(conn, &[(user.id.0, &c.haystack)]).await?;
    let created = dialect::time_from(created)?;
    Ok(stored(new, user.id.0, created, now, version))
}

/// Increments a user's version and sets `updated` (grants on the user changed).
pub(super) async fn touch_user(conn: &mut Conn, id: UserId) -> Result<(), StoreError> {
    sqlx::query(sql!(
        "UPDATE users SET version = version + 1, updated = ? WHERE id = ?"
    ))
    .bind(dialect::time(&codec::now()))
    .bind(id.0)
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    Ok(())
}

pub(super) async fn delete_user(conn: &mut Conn, id: UserId) -> Result<bool, StoreError> {
    // The foreign keys cascade too; deleting explicitly keeps the rule true even on a SQLite
    // connection that was opened with foreign keys off.
    for sql in [
        sql!("DELETE FROM grants WHERE user_id = ?"),
        sql!("DELETE FROM user_search WHERE user_id = ?"),
        sql!("DELETE FROM credentials WHERE user_id = ?"),
        sql!("DELETE FROM links WHERE user_id = ?"),
    ] {
        sqlx::query(sql)
            .bind(id.0)
            .execute(&mut *conn)
            .await
            .map_err(backend)?;
    }
    let done = sqlx::query(sql!("DELETE FROM users WHERE id = ?"))
        .bind(id.0)
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    Ok(done.rows_affected() > 0)
}

/// `FROM ... WHERE ...` for a user query, shared by the count and the page.
fn push_filters(qb: &mut QueryBuilder<'_, Db>, query: &UserQuery, words: &[String]) {
    qb.push(" FROM users u");
    if !words.is_empty() {
        qb.push(" JOIN user_search s ON s.user_id = u.id");
    }
    qb.push(" WHERE TRUE");
    for w in words {
        // The haystack is lower-cased by the store, like the words.
        qb.push(" AND s.haystack LIKE ")
            .push_bind(codec::like_contains(w))
            .push(" ESCAPE '!'");
    }
    if let Some(t) = &query.user_type {
        qb.push(" AND u.user_type = ").push_bind(t.to_string());
    }
    if let Some(active) = query.active {
        qb.push(" AND u.active = ").push_bind(active);
    }
    if let Some(after) = query.after_id {
        qb.push(" AND u.id > ").push_bind(after.0);
    }
    if query.with_entries {
        // Entries are stored as one list value; an empty one encodes the same every time.
        qb.push(" AND u.entries <> ")
            .push_bind(dialect::list::<String>(&[]));
    }
    if let Some(scheme) = query.password_scheme {
        qb.push(" AND u.password_scheme = ")
            .push_bind(scheme.as_str());
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

/// ` ORDER BY ...` for `sort` (the rules are `UserSort`'s: byte order, the full name folded
/// for ASCII case, users missing the field last in either direction, ties by id ascending).
fn push_order(qb: &mut QueryBuilder<'_, Db>, sort: UserSort) {
    let dir = match sort.direction {
        SortDirection::Ascending => "ASC",
        SortDirection::Descending => "DESC",
    };
    let by = dialect::BYTE_ORDER;
    // (missing-first test, the sorted value): `FALSE` sorts before `TRUE` on both.
    let (missing, value) = match sort.field {
        UserSortField::Id => {
            qb.push(format_args!(" ORDER BY u.id {dir}"));
            return;
        }
        UserSortField::Email => (None, format!("u.email{by}")),
        UserSortField::Username => (
            Some("u.username_folded IS NULL"),
            format!("u.username_folded{by}"),
        ),
        UserSortField::FullName => (
            Some("u.full_name = ''"),
            dialect::ascii_folded("u.full_name"),
        ),
        UserSortField::Type => (Some("u.user_type IS NULL"), format!("u.user_type{by}")),
        UserSortField::Active => (None, "u.active".to_owned()),
        UserSortField::Confirmed => (None, "(u.confirmed_at IS NOT NULL)".to_owned()),
        UserSortField::Created => (None, "u.created".to_owned()),
    };
    qb.push(" ORDER BY ");
    if let Some(missing) = missing {
        qb.push(format_args!("({missing}), "));
    }
    qb.push(format_args!("{value} {dir}, u.id"));
}

pub(super) async fn list_users(
    conn: &mut Conn,
    query: &UserQuery,
    sort: UserSort,
) -> Result<Page<User>, StoreError> {
    let words = codec::search_words(query.text.as_deref());

    let mut count = QueryBuilder::<Db>::new("SELECT count(*)");
    push_filters(&mut count, query, &words);
    let total: i64 = count
        .build_query_scalar()
        .fetch_one(&mut *conn)
        .await
        .map_err(backend)?;

    let mut page = QueryBuilder::<Db>::new(concat!("SELECT ", user_columns!()));
    push_filters(&mut page, query, &words);
    // No limit is the largest one, which both backends take.
    let limit = match query.limit {
        0 => i64::MAX,
        n => codec::to_i64(n),
    };
    push_order(&mut page, sort);
    page.push(" LIMIT ")
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

pub(super) async fn reindex_users(conn: &mut Conn) -> Result<u64, StoreError> {
    exec(conn, "DELETE FROM user_search").await?;
    let mut after = 0_i64;
    let mut count = 0_u64;
    loop {
        let rows: Vec<(i64, String, Option<String>, String, String)> = sqlx::query_as(sql!(
            "SELECT id, email, username, full_name, affiliations FROM users \
             WHERE id > ? ORDER BY id LIMIT ?"
        ))
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
        write_search_rows(conn, &borrowed).await?;
        count += borrowed.len() as u64;
    }
    tracing::info!(users = count, "rebuilt the user search index");
    Ok(count)
}

/// A user whose email has the confusable skeleton `skeleton`, if any (the lowest id).
pub(super) async fn user_by_skeleton(
    conn: &mut Conn,
    skeleton: &str,
) -> Result<Option<User>, StoreError> {
    let row: Option<UserRow> = sqlx::query_as(sql!(
        "SELECT ",
        user_columns!(),
        " FROM users u WHERE u.skeleton = ? ORDER BY u.id LIMIT 1"
    ))
    .bind(skeleton)
    .fetch_optional(&mut *conn)
    .await
    .map_err(backend)?;
    row.map(UserRow::into_user).transpose()
}

/// A user whose username has the confusable skeleton `skeleton`, if any (the lowest id).
pub(super) async fn user_by_username_skeleton(
    conn: &mut Conn,
    skeleton: &str,
) -> Result<Option<User>, StoreError> {
    let row: Option<UserRow> = sqlx::query_as(sql!(
        "SELECT ",
        user_columns!(),
        " FROM users u WHERE u.username_skeleton = ? ORDER BY u.id LIMIT 1"
    ))
    .bind(skeleton)
    .fetch_optional(&mut *conn)
    .await
    .map_err(backend)?;
    row.map(UserRow::into_user).transpose()
}

/// Fills the skeletons of users written before schema version 4 (once, after migrating).
pub(super) async fn fill_skeletons(conn: &mut Conn) -> Result<u64, StoreError> {
    let rows: Vec<(i64, String, Option<String>)> = sqlx::query_as(sql!(
        "SELECT id, email, username FROM users WHERE skeleton IS NULL"
    ))
    .fetch_all(&mut *conn)
    .await
    .map_err(backend)?;
    for (id, email, username) in &rows {
        sqlx::query(sql!(
            "UPDATE users SET skeleton = ?, username_skeleton = ? WHERE id = ?"
        ))
        .bind(gatehouse_core::text::email_skeleton(email))
        .bind(
            username
                .as_deref()
                .map(gatehouse_core::text::username_skeleton),
        )
        .bind(id)
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    }
    Ok(rows.len() as u64)
}

/// How many users hold a password hash of each scheme, by scheme name.
pub(super) async fn password_schemes(conn: &mut Conn) -> Result<Vec<(String, u64)>, StoreError> {
    let rows: Vec<(String, i64)> = sqlx::query_as(sql!(
        "SELECT password_scheme, count(*) FROM users WHERE password_scheme IS NOT NULL \
         GROUP BY password_scheme ORDER BY password_scheme"
    ))
    .fetch_all(&mut *conn)
    .await
    .map_err(backend)?;
    Ok(rows
        .into_iter()
        .map(|(scheme, n)| (scheme, codec::to_u64(n)))
        .collect())
}
