//! SQLite's side of the dialect layer (see `crate::dialect`): the types and the few pieces
//! of SQL that the shared queries in `src/queries/` take from the backend they are compiled
//! for. `?` placeholders are SQLite's own; times are RFC 3339 text and lists JSON arrays.

use chrono::{DateTime, Utc};
use gatehouse_core::store::ConflictField;
use gatehouse_core::StoreError;
use sqlx::query::Query;
use sqlx::sqlite::SqliteArguments;

use crate::codec;

/// The sqlx database.
pub(crate) type Db = sqlx::Sqlite;

/// One connection, inside a transaction.
pub(crate) type Conn = sqlx::sqlite::SqliteConnection;

/// A time as stored: UTC RFC 3339 text with exactly six decimals, so text order is time
/// order.
pub(crate) type Time = String;

/// An ordered list as stored: a JSON array of the printed values.
pub(crate) type List = String;

/// Rows per multi-row `INSERT`: at most 13 parameters each, far below SQLite's limit of
/// 32,766, and large enough that per-statement overhead stops mattering.
pub(crate) const BATCH: usize = 200;

/// A time to store, cut to whole microseconds.
pub(crate) fn time(t: &DateTime<Utc>) -> Time {
    codec::time_to_text(&codec::truncate(*t))
}

/// A stored time.
pub(crate) fn time_from(t: Time) -> Result<DateTime<Utc>, StoreError> {
    codec::time_from_text(&t)
}

/// A list to store.
pub(crate) fn list<T: ToString>(items: &[T]) -> List {
    codec::list_to_json(items)
}

/// The query `q` (whose SQL uses [`id_text_rows!`]) with `rows` bound: one JSON array of
/// `[id, text]` pairs.
pub(crate) fn bind_id_text_rows<'q>(
    q: Query<'q, Db, SqliteArguments<'q>>,
    rows: &[(i64, &str)],
) -> Query<'q, Db, SqliteArguments<'q>> {
    // Serializing numbers and strings cannot fail; the fallback is an empty list anyway.
    q.bind(serde_json::to_string(rows).unwrap_or_else(|_| "[]".to_owned()))
}

/// A stored list's printed values; `what` names an item in the message when it is broken.
pub(crate) fn list_from(what: &str, list: List) -> Result<Vec<String>, StoreError> {
    codec::strings_from_json(what, &list)
}

/// Which uniqueness rule a failed statement broke, if it broke one that callers are told
/// about. SQLite names the column: `UNIQUE constraint failed: users.email`.
pub(crate) fn conflict(e: &sqlx::Error) -> Option<ConflictField> {
    let db = e.as_database_error()?;
    if !db.is_unique_violation() {
        return None;
    }
    let message = db.message();
    if message.contains("users.email") {
        Some(ConflictField::Email)
    } else if message.contains("users.username_folded") {
        Some(ConflictField::Username)
    } else if message.contains("credentials.name") {
        Some(ConflictField::ServiceTokenName)
    } else {
        None
    }
}

/// Written after a text value in `ORDER BY`: byte order of its UTF-8, the order both
/// backends sort text in (SQLite's default `BINARY` collation already is).
pub(crate) const BYTE_ORDER: &str = "";

/// `column` with its ASCII letters lower-cased, in byte order (SQLite's `lower` folds ASCII
/// only, as PostgreSQL's side of this function does too).
pub(crate) fn ascii_folded(column: &str) -> String {
    format!("lower({column})")
}

/// A statement as written in `src/queries/`: its pieces joined, placeholders kept.
macro_rules! sql {
    ($($part:expr),+ $(,)?) => {
        concat!($($part),+)
    };
}

/// `column in_list!()`: whether the column's value is in one bound list (a JSON array).
macro_rules! in_list {
    () => {
        "IN (SELECT value FROM json_each(?))"
    };
}

/// `id_text_rows!()`: rows (id, text) from what [`bind_id_text_rows`] binds, so that many
/// rows take one value, not two a row.
macro_rules! id_text_rows {
    () => {
        "SELECT value ->> 0, value ->> 1 FROM json_each(?)"
    };
}

/// An `INSERT` of rows with their ids into `$table`, as is: `AUTOINCREMENT` never hands out
/// an id at or below the largest one ever stored.
macro_rules! keep_ids {
    ($table:literal, $insert:expr) => {
        $insert
    };
}
