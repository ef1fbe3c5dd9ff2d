//! Storage for Gatehouse: implementations of [`gatehouse_core::Store`] and the one
//! conformance suite every implementation must pass.
//!
//! - [`SqliteStore`] (the default): one database file in the data directory, opened with
//!   [`SqliteStore::open`], or an in-memory database for tests ([`SqliteStore::memory`]).
//!   Its schema is plain SQL in `migrations/sqlite/`.
//! - [`PostgresStore`]: a PostgreSQL database, opened with [`PostgresStore::connect`]. Its
//!   schema is plain SQL in `migrations/postgres/`.
//! - `conformance` (with the cargo feature `conformance`, which this crate's own tests turn
//!   on): one async function per contract point of the store trait, and the
//!   `conformance_tests!` macro that turns them into one `#[tokio::test]` each for a given
//!   store constructor. Both stores pass it. It is test code that panics, so the production
//!   library leaves it out.
//!
//! Both stores run the same queries: each statement is written once, in `src/queries/`,
//! and compiled for each backend through a small dialect layer (`src/dialect.rs`).
//!
//! Both stores apply their migrations when opened and record them in a `schema_version`
//! table; both are at [`SCHEMA_VERSION`], and both refuse a database written by a newer
//! build with [`StoreError::SchemaTooNew`](gatehouse_core::StoreError::SchemaTooNew).
//!
//! Nothing outside this crate names sqlx: callers hold an `Arc<dyn Store>`. See the crate
//! README for the schema and the contract in words.

mod codec;
#[cfg(feature = "conformance")]
pub mod conformance;
mod dialect;
pub mod postgres;
pub mod sources;
pub mod sqlite;

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

/// The newest schema version this build knows, the same for every backend: version N of the
/// SQLite schema and version N of the PostgreSQL schema hold the same data.
pub const SCHEMA_VERSION: i64 = 7;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::SCHEMA_VERSION;

    /// Each backend's migrations run 1, 2, ... up to `SCHEMA_VERSION`, no gaps.
    #[test]
    fn every_backend_has_every_migration() {
        for (backend, migrations) in [
            ("sqlite", crate::sqlite::MIGRATIONS),
            ("postgres", crate::postgres::MIGRATIONS),
        ] {
            let versions: Vec<i64> = migrations.iter().map(|(v, _)| *v).collect();
            let want: Vec<i64> = (1..=SCHEMA_VERSION).collect();
            assert_eq!(versions, want, "{backend}");
        }
    }
}
