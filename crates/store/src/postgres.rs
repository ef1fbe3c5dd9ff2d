//! The PostgreSQL store: a connection pool to one database, for several server nodes that
//! share it.
//!
//! Transactions run at PostgreSQL's default isolation, read committed. That is enough for
//! the contract because every rule that two transactions could race on is kept by the
//! database itself: uniqueness by unique constraints (a second transaction inserting the
//! same email waits for the first and then fails with a clean conflict), counters by
//! `UPDATE ... SET n = n + 1`, which re-reads the row it locked.
//!
//! [`Store::begin_read`] starts a `REPEATABLE READ, READ ONLY` transaction: all its reads
//! see one snapshot, as a deferred SQLite transaction does (so a count and the page it
//! counts agree), a read-only transaction can never fail to serialize, and a write through
//! it fails instead of slipping by.
//!
//! A failed statement aborts the whole PostgreSQL transaction; the trait tells callers to
//! drop a `Tx` after an error. The few places that must go on after an expected failure
//! (the bulk insert) wrap it in a savepoint.
//!
//! The schema is applied by a small runner ([`PostgresStore::migrate`]), in one transaction
//! under an advisory lock so that nodes starting together migrate once, and it refuses a
//! database newer than [`SCHEMA_VERSION`].
//!
//! The queries are not here: they are written once for both backends in `src/queries/`,
//! compiled for PostgreSQL against `dialect` (see `src/dialect.rs`). What is here is what
//! only PostgreSQL does: connecting, isolation levels, and the migration lock.

#[macro_use]
mod dialect;
// The shared queries, compiled for this backend (and again for SQLite: hence the lint).
#[allow(clippy::duplicate_mod)]
#[path = "queries/mod.rs"]
mod queries;

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use gatehouse_core::{Store, StoreError, Tx};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::{Connection, Postgres, Transaction};

use crate::codec::backend;
pub use crate::SCHEMA_VERSION;

/// The migrations, in order: (version, SQL). Each runs once, in one transaction. The last
/// version is [`SCHEMA_VERSION`] (a unit test checks it).
pub(crate) const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/postgres/0001_init.sql")),
    (
        2,
        include_str!("../migrations/postgres/0002_credentials.sql"),
    ),
    (
        3,
        include_str!("../migrations/postgres/0003_data_version.sql"),
    ),
    (4, include_str!("../migrations/postgres/0004_security.sql")),
    (
        5,
        include_str!("../migrations/postgres/0005_password_scheme.sql"),
    ),
    (6, include_str!("../migrations/postgres/0006_oidc.sql")),
    (
        7,
        include_str!("../migrations/postgres/0007_oidc_consent.sql"),
    ),
];

/// The table the migration runner records versions in (created when missing).
const SCHEMA_VERSION_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_version (
     version    BIGINT      PRIMARY KEY,
     applied_at TIMESTAMPTZ NOT NULL
 )";

/// The advisory lock key that serializes migrations ("gatehous" in ASCII).
const MIGRATION_LOCK: i64 = 0x6761_7465_686f_7573;

/// Connections per node.
const MAX_CONNECTIONS: u32 = 10;

/// How long `begin` waits for a free connection before it gives up.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);

/// The PostgreSQL implementation of [`Store`].
#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
    /// `user@host:port/database`, for messages; never the password.
    target: String,
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

/// Where `options` connect to, without the password.
fn describe(options: &PgConnectOptions) -> String {
    format!(
        "{}@{}:{}/{}",
        options.get_username(),
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap_or(options.get_username())
    )
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/database`)
    /// and brings its schema up to date. Fails with [`StoreError::SchemaTooNew`] when a
    /// newer build already upgraded it. No error message contains the password.
    pub async fn connect(url: &str) -> Result<PostgresStore, StoreError> {
        let options = PgConnectOptions::from_str(url).map_err(|e| {
            StoreError::Backend(format!(
                "invalid PostgreSQL URL: {e}; expected `postgres://user:password@host:port/database`"
            ))
        })?;
        PostgresStore::connect_with(options).await
    }

    /// Connects without migrating (what a server node does: schema changes are the
    /// operator's explicit `gatehouse migrate`). Check [`schema_version`](Self::schema_version)
    /// against [`SCHEMA_VERSION`] before use.
    pub async fn connect_unmigrated(url: &str) -> Result<PostgresStore, StoreError> {
        let options = PgConnectOptions::from_str(url).map_err(|e| {
            StoreError::Backend(format!(
                "invalid PostgreSQL URL: {e}; expected `postgres://user:password@host:port/database`"
            ))
        })?;
        PostgresStore::connect_inner(options, false).await
    }

    /// Like [`connect`](PostgresStore::connect), from parsed options.
    pub async fn connect_with(options: PgConnectOptions) -> Result<PostgresStore, StoreError> {
        PostgresStore::connect_inner(options, true).await
    }

    async fn connect_inner(
        options: PgConnectOptions,
        migrate: bool,
    ) -> Result<PostgresStore, StoreError> {
        let target = describe(&options);
        let options = if options.get_application_name().is_none() {
            options.application_name("gatehouse")
        } else {
            options
        };
        let unreachable = |e: sqlx::Error| {
            StoreError::Backend(format!("cannot connect to PostgreSQL at `{target}`: {e}"))
        };
        // One plain connection first: a wrong address or password fails at once, where the
        // pool would keep retrying until its acquire timeout.
        PgConnection::connect_with(&options)
            .await
            .map_err(unreachable)?
            .close()
            .await
            .map_err(unreachable)?;
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(unreachable)?;
        let store = PostgresStore { pool, target };
        if migrate {
            store.migrate().await?;
        }
        tracing::debug!(database = %store.target, "connected postgres store");
        Ok(store)
    }

    /// Applies the migrations this database lacks, in one transaction, one node at a time.
    /// Refuses a database whose schema is newer than [`SCHEMA_VERSION`] without touching it.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        // Nodes starting together wait here for the first one, then find nothing to do.
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(MIGRATION_LOCK)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        queries::migrate(&mut tx, SCHEMA_VERSION_TABLE, MIGRATIONS).await?;
        tx.commit().await.map_err(backend)
    }

    /// The schema version the database is at (0 for an empty database).
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        let mut tx = self
            .pool
            .begin_with("BEGIN READ ONLY")
            .await
            .map_err(backend)?;
        let exists: bool = sqlx::query_scalar("SELECT to_regclass('schema_version') IS NOT NULL")
            .fetch_one(&mut *tx)
            .await
            .map_err(backend)?;
        if !exists {
            return Ok(0);
        }
        queries::schema_version(&mut tx).await
    }

    /// The connection pool, for tools and tests that need raw SQL.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Closes every connection and waits until they are closed.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[async_trait]
impl Store for PostgresStore {
    async fn begin(&self) -> Result<Box<dyn Tx>, StoreError> {
        let tx = self.pool.begin().await.map_err(backend)?;
        Ok(Box::new(PgTx { tx, writable: true }))
    }

    async fn data_version(&self) -> Result<i64, StoreError> {
        sqlx::query_scalar(queries::DATA_VERSION)
            .fetch_one(&self.pool)
            .await
            .map_err(backend)
    }

    async fn begin_read(&self) -> Result<Box<dyn Tx>, StoreError> {
        let tx = self
            .pool
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .await
            .map_err(backend)?;
        Ok(Box::new(PgTx {
            tx,
            writable: false,
        }))
    }

    fn kind(&self) -> &'static str {
        "postgres"
    }

    fn shared_buckets(&self) -> Option<std::sync::Arc<dyn gatehouse_core::store::SharedBuckets>> {
        Some(std::sync::Arc::new(PgBuckets {
            pool: self.pool.clone(),
            calls: std::sync::atomic::AtomicU64::new(0),
        }))
    }
}

/// The log in throttle's buckets in the `throttle` table, shared by every node. An update
/// runs in its own short transaction (it is not data: the data version does not move),
/// inserts the rows it lacks, locks them in key order (so that two nodes charging the same
/// keys wait for each other instead of deadlocking) and writes back what the caller decided.
#[derive(Debug)]
struct PgBuckets {
    pool: sqlx::PgPool,
    calls: std::sync::atomic::AtomicU64,
}

#[async_trait::async_trait]
impl gatehouse_core::store::SharedBuckets for PgBuckets {
    async fn update(
        &self,
        keys: &[String],
        now: f64,
        decide: &(dyn for<'r> Fn(&'r mut [Option<(f64, f64)>]) -> bool + Send + Sync),
    ) -> Result<bool, StoreError> {
        let mut sorted: Vec<&String> = keys.iter().collect();
        sorted.sort();
        sorted.dedup();
        let mut tx = self.pool.begin().await.map_err(backend)?;
        sqlx::query(
            "INSERT INTO throttle (key, tokens, at) \
             SELECT k, 'NaN'::float8, $2 FROM unnest($1::text[]) AS k ORDER BY k \
             ON CONFLICT (key) DO NOTHING",
        )
        .bind(&sorted)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        let found: Vec<(String, f64, f64)> = sqlx::query_as(
            "SELECT key, tokens, at FROM throttle WHERE key = ANY($1) ORDER BY key FOR UPDATE",
        )
        .bind(&sorted)
        .fetch_all(&mut *tx)
        .await
        .map_err(backend)?;
        let mut rows: Vec<Option<(f64, f64)>> = keys
            .iter()
            .map(|k| {
                found
                    .iter()
                    .find(|(key, _, _)| key == k)
                    .filter(|(_, tokens, _)| !tokens.is_nan())
                    .map(|(_, tokens, at)| (*tokens, *at))
            })
            .collect();
        let write = decide(&mut rows);
        if write {
            for (k, row) in keys.iter().zip(&rows) {
                if let Some((tokens, at)) = row {
                    sqlx::query("UPDATE throttle SET tokens = $2, at = $3 WHERE key = $1")
                        .bind(k)
                        .bind(tokens)
                        .bind(at)
                        .execute(&mut *tx)
                        .await
                        .map_err(backend)?;
                }
            }
        }
        // Now and then, forget rows nobody touched for a week (full buckets by then).
        let calls = self
            .calls
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if calls % 1024 == 0 {
            sqlx::query("DELETE FROM throttle WHERE at < $1")
                .bind(now - 7.0 * 24.0 * 3600.0)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
        }
        tx.commit().await.map_err(backend)?;
        Ok(write)
    }
}

/// One PostgreSQL transaction; the queries implement [`Tx`] for it. Dropping it rolls back
/// (sqlx issues the `ROLLBACK` before the connection is used again).
struct PgTx {
    tx: Transaction<'static, Postgres>,
    /// Started by `begin`: its commit increments the data version.
    writable: bool,
}

/// The transaction that `queries` implements [`Tx`] for.
type BackendTx = PgTx;

impl PgTx {
    /// Commits (the data version is already counted).
    async fn end(self) -> Result<(), StoreError> {
        self.tx.commit().await.map_err(backend)
    }
}
