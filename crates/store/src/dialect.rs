//! The dialect layer: what lets one query text serve both databases.
//!
//! Every statement is written once, in `src/queries/`, with `?` placeholders. That module
//! tree is compiled twice, once inside [`crate::sqlite`] and once inside [`crate::postgres`],
//! each time against that backend's `dialect` module (`src/sqlite/dialect.rs`,
//! `src/postgres/dialect.rs`), which supplies the few things that really differ:
//!
//! - the placeholders: `sql!` leaves `?` alone on SQLite and numbers them `$1..$n` on
//!   PostgreSQL, at compile time (`numbered!` below), so a statement costs nothing at run
//!   time and sqlx's statement cache sees one fixed text;
//! - the column types: times (RFC 3339 text on SQLite, `timestamptz` on PostgreSQL) and
//!   ordered lists (a JSON array on SQLite, `text[]` on PostgreSQL), with the functions that
//!   encode and decode them;
//! - lists bound as one value: `in_list!`, membership in one bound list, and
//!   `id_text_rows!` with `bind_id_text_rows`, many (id, text) rows bound as one JSON array
//!   on SQLite and two arrays through `UNNEST` on PostgreSQL, not two values a row;
//! - which unique violation a failed write is (SQLite names the column in its message,
//!   PostgreSQL the constraint);
//! - `keep_ids!`: PostgreSQL moves the identity sequence past an imported id, SQLite's
//!   `AUTOINCREMENT` does it by itself;
//! - the rows per multi-row statement.
//!
//! Everything else is the same SQL on both: `TRUE`, `RETURNING`, `ON CONFLICT`, `IS
//! DISTINCT FROM`, `LIKE ... ESCAPE '!'`, `CAST(... AS TEXT)` (SQLite 3.46 is bundled).
//! Dynamic statements are built with sqlx's `QueryBuilder`, whose `push_bind` writes each
//! backend's own placeholder. Why this shape rather than generic code over sqlx's
//! `Database`: `docs/decisions.md`.

/// The length of `sql` once each `?` outside a quoted literal is numbered `$1..$n`.
pub(crate) const fn numbered_len(sql: &str) -> usize {
    let bytes = sql.as_bytes();
    let mut len = 0;
    let mut n = 0;
    let mut quoted = false;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'\'' {
            quoted = !quoted;
        }
        if b == b'?' && !quoted {
            n += 1;
            len += 1 + digits(n);
        } else {
            len += 1;
        }
        i += 1;
    }
    len
}

/// `sql` with each `?` outside a quoted literal numbered `$1..$n`, left to right: the bind
/// order. `N` is [`numbered_len`] of `sql`.
pub(crate) const fn numbered_bytes<const N: usize>(sql: &str) -> [u8; N] {
    let bytes = sql.as_bytes();
    let mut out = [0u8; N];
    let mut at = 0;
    let mut n = 0;
    let mut quoted = false;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'\'' {
            quoted = !quoted;
        }
        if b == b'?' && !quoted {
            n += 1;
            out[at] = b'$';
            at += 1;
            let width = digits(n);
            let mut d = 0;
            while d < width {
                out[at + width - 1 - d] = b'0' + (n / pow10(d) % 10) as u8;
                d += 1;
            }
            at += width;
        } else {
            out[at] = b;
            at += 1;
        }
        i += 1;
    }
    out
}

const fn digits(n: usize) -> usize {
    let mut width = 1;
    while n >= pow10(width) {
        width += 1;
    }
    width
}

const fn pow10(exp: usize) -> usize {
    let mut p = 1;
    let mut i = 0;
    while i < exp {
        p *= 10;
        i += 1;
    }
    p
}

/// A string constant: `$sql` (a `&str` constant expression) with its `?` numbered `$1..$n`,
/// computed by the compiler.
macro_rules! numbered {
    ($sql:expr) => {{
        const SQL: &str = $sql;
        const LEN: usize = $crate::dialect::numbered_len(SQL);
        const BYTES: [u8; LEN] = $crate::dialect::numbered_bytes::<LEN>(SQL);
        const OUT: &str = match ::std::str::from_utf8(&BYTES) {
            Ok(s) => s,
            // INVARIANT: only ASCII `?` bytes are replaced, by ASCII, so the text stays
            // UTF-8; and this runs in the compiler, so it could only fail the build.
            #[allow(clippy::panic)]
            Err(_) => panic!("numbered SQL is not UTF-8"),
        };
        OUT
    }};
}
pub(crate) use numbered;

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_are_numbered_in_order() {
        assert_eq!(numbered!("SELECT 1"), "SELECT 1");
        assert_eq!(
            numbered!("UPDATE t SET a = ?, b = ? WHERE id = ?"),
            "UPDATE t SET a = $1, b = $2 WHERE id = $3"
        );
        assert_eq!(
            numbered!(concat!(
                "SELECT '?' || ?",
                " FROM t WHERE x = '??' AND y = ?"
            )),
            "SELECT '?' || $1 FROM t WHERE x = '??' AND y = $2"
        );
    }

    #[test]
    fn many_placeholders_get_wide_numbers() {
        let two_rows = numbered!(concat!(
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?), ",
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ));
        assert!(two_rows.starts_with("VALUES ($1, $2,"), "{two_rows}");
        assert!(two_rows.ends_with("$24, $25, $26)"), "{two_rows}");
        let hundred = numbered!(concat!(
            "?????????????????????????????????????????????????",
            "??????????????????????????????????????????????????",
            "?"
        ));
        assert!(hundred.ends_with("$99$100"), "{hundred}");
    }
}
