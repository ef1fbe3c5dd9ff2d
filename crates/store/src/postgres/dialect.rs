//! PostgreSQL's side of the dialect layer (see `crate::dialect`): the types and the few
//! pieces of SQL that the shared queries in `src/queries/` take from the backend they are
//! compiled for. `?` placeholders become `$1..$n` at compile time; times are `timestamptz`
//! and lists `text[]`.

use chrono::{DateTime, Utc};
use gatehouse_core::store::ConflictField;
use gatehouse_core::StoreError;
use sqlx::postgres::PgArguments;
use sqlx::query::Query;

use crate::codec;

/// The sqlx database.
pub(crate) type Db = sqlx::Postgres;

/// One connection, inside a transaction.
pub(crate) type Conn = sqlx::postgres::PgConnection;

/// A time as stored (`timestamptz`, microseconds).
pub(crate) type Time = DateTime<Utc>;

/// An ordered list as stored: `text[]` of the printed values.
pub(crate) type List = Vec<String>;

/// Rows per multi-row `INSERT`: at most 13 parameters each, far below PostgreSQL's limit of
/// 65,535, and large enough that round trips stop mattering.
pub(crate) const BATCH: usize = 1000;

/// A time to store, cut to whole microseconds.
pub(crate) fn time(t: &DateTime<Utc>) -> Time {
    codec::truncate(*t)
}

/// A stored time.
pub(crate) fn time_from(t: Time) -> Result<DateTime<Utc>, StoreError> {
    Ok(t)
}

/// A list to store.
pub(crate) fn list<T: ToString>(items: &[T]) -> List {
    codec::printed(items)
}

/// The query `q` (whose SQL uses [`id_text_rows!`]) with `rows` bound: the ids as one
/// `bigint[]`, the texts as one `text[]`.
pub(crate) fn bind_id_text_rows<'q>(
    q: Query<'q, Db, PgArguments>,
    rows: &[(i64, &str)],
) -> Query<'q, Db, PgArguments> {
    let ids: Vec<i64> = rows.iter().map(|(id, _)| *id).collect();
    let texts: Vec<String> = rows.iter().map(|(_, text)| (*text).to_owned()).collect();
    q.bind(ids).bind(texts)
}

/// A stored list's printed values (an array column cannot be malformed).
pub(crate) fn list_from(_what: &str, list: List) -> Result<Vec<String>, StoreError> {
    Ok(list)
}

/// Which uniqueness rule a failed statement broke, if it broke one that callers are told
/// about: a unique violation (SQLSTATE 23505) of a constraint the migrations name.
pub(crate) fn conflict(e: &sqlx::Error) -> Option<ConflictField> {
    let db = e.as_database_error()?;
    if db.code().as_deref() != Some("23505") {
        return None;
    }
    match db.constraint()? {
        "users_email_unique" => Some(ConflictField::Email),
        "users_username_unique" => Some(ConflictField::Username),
        "credentials_service_name_unique" => Some(ConflictField::ServiceTokenName),
        _ => None,
    }
}

/// Written after a text value in `ORDER BY`: byte order of its UTF-8, the order both
/// backends sort text in (not the database's locale, which differs between servers).
pub(crate) const BYTE_ORDER: &str = " COLLATE \"C\"";

/// `column` with its ASCII letters lower-cased, in byte order: what SQLite's `lower` does
/// (PostgreSQL's `lower` would fold every script, and sort differently from SQLite).
pub(crate) fn ascii_folded(column: &str) -> String {
    format!(
        "translate({column}, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') \
         COLLATE \"C\""
    )
}

/// A statement as written in `src/queries/`: its pieces joined, each `?` numbered
/// `$1..$n` by the compiler.
macro_rules! sql {
    ($($part:expr),+ $(,)?) => {
        $crate::dialect::numbered!(concat!($($part),+))
    };
}

/// `column in_list!()`: whether the column's value is in one bound list (a `text[]`).
macro_rules! in_list {
    () => {
        "= ANY(?)"
    };
}

/// `id_text_rows!()`: rows (id, text) from what [`bind_id_text_rows`] binds, so that many
/// rows take two values, not two a row.
macro_rules! id_text_rows {
    () => {
        "SELECT * FROM UNNEST(CAST(? AS BIGINT[]), CAST(? AS TEXT[]))"
    };
}

/// An `INSERT` of rows with their ids into `$table` that also moves the table's identity
/// sequence past them, in the same statement, so later inserts never reuse an id.
macro_rules! keep_ids {
    ($table:literal, $insert:expr) => {
        concat!(
            "WITH kept AS (",
            $insert,
            " RETURNING id) SELECT setval(pg_get_serial_sequence('",
            $table,
            "', 'id'), GREATEST(kept.id, (SELECT coalesce(max(id), 0) FROM ",
            $table,
            "))) FROM kept"
        )
    };
}
