//! The SQLite store: one database file (WAL journal, foreign keys on, 5 s busy timeout), or
//! an in-memory database for tests.
//!
//! Every transaction from [`Store::begin`] starts with `BEGIN IMMEDIATE`, so it takes
//! SQLite's write lock at once. A deferred transaction that reads and then writes can fail
//! with `SQLITE_BUSY` at the moment it upgrades, whatever the busy timeout, when another
//! connection wrote in between; an immediate one waits its turn (up to the busy timeout) at
//! `BEGIN` instead. Transactions from [`Store::begin_read`] only read, so they start with a
//! plain deferred `BEGIN`: in WAL mode they read a snapshot and never wait for a writer.
//!
//! Writers of one process queue for an async lock before they take a connection and send
//! `BEGIN IMMEDIATE`: SQLite's own busy handler waits by sleeping (1, 2, 5 ... 100 ms), so
//! writers contending inside SQLite lose most of their time asleep and hold pool
//! connections that readers need; queued on the lock, the next writer starts the moment
//! the last one committed. The busy timeout still covers writers of other processes.
//!
//! The schema is applied by a small runner ([`SqliteStore::migrate`]) that records each
//! version in `schema_version` and refuses a database newer than [`SCHEMA_VERSION`].
//!
//! The queries are not here: they are written once for both backends in `src/queries/`,
//! compiled for SQLite against `dialect` (see `src/dialect.rs`). What is here is what
//! only SQLite does: opening the file or memory database, beginning and ending transactions
//! by hand, and the commit probe.

mod commit_probe;
#[macro_use]
mod dialect;
// The shared queries, compiled for this backend (and again for PostgreSQL: hence the lint).
#[allow(clippy::duplicate_mod)]
#[path = "queries/mod.rs"]
mod queries;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use gatehouse_core::{Store, StoreError, Tx};
use sqlx::pool::PoolConnection;
use sqlx::sqlite::SqliteConnection;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::Sqlite;

use self::queries::DATA_VERSION;
use crate::codec::backend;
pub use crate::SCHEMA_VERSION;

/// The migrations, in order: (version, SQL). Each runs once, in one transaction. The last
/// version is [`SCHEMA_VERSION`] (a unit test checks it).
pub(crate) const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/sqlite/0001_init.sql")),
    (2, include_str!("../migrations/sqlite/0002_credentials.sql")),
    (
        3,
        include_str!("../migrations/sqlite/0003_data_version.sql"),
    ),
    (4, include_str!("../migrations/sqlite/0004_security.sql")),
    (
        5,
        include_str!("../migrations/sqlite/0005_password_scheme.sql"),
    ),
    (6, include_str!("../migrations/sqlite/0006_oidc.sql")),
    (
        7,
        include_str!("../migrations/sqlite/0007_oidc_consent.sql"),
    ),
];

/// The table the migration runner records versions in (created when missing).
const SCHEMA_VERSION_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_version (
     version    INTEGER PRIMARY KEY,
     applied_at TEXT    NOT NULL
 ) STRICT";

/// How long a transaction waits for another one's write lock before it gives up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How many connections a file store keeps. Transactions take the write lock one at a time
/// anyway (see the module docs); spare connections only save reconnecting.
const MAX_CONNECTIONS: u32 = 4;

/// The SQLite implementation of [`Store`].
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// The in-memory test database: its one connection must never be closed.
    memory: bool,
    /// A connection outside the pool that is never closed. For the in-memory database it
    /// keeps the (shared cache) database alive even when sqlx replaces the pool's
    /// connection, which it does when an acquire is cancelled at the wrong moment. For a
    /// file it keeps the WAL-index (`-shm` file) that `probe` reads from being deleted and
    /// recreated, which SQLite does only when the last connection closes.
    _anchor: Option<std::sync::Arc<std::sync::Mutex<SqliteConnection>>>,
    /// Answers "nothing committed since the last data version read" without a query (file
    /// databases in WAL mode; see `commit_probe`).
    probe: Option<std::sync::Arc<commit_probe::CommitProbe>>,
    /// Held by the one writing transaction of this process (see the module docs).
    writer: std::sync::Arc<tokio::sync::Mutex<()>>,
}

impl SqliteStore {
    /// Opens the database at `path`, creating the file and its parent directory when they are
    /// missing, and brings its schema up to date. Fails with [`StoreError::SchemaTooNew`] when
    /// a newer build already upgraded it.
    pub async fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Backend(format!(
                    "cannot create the data directory `{}`: {e}",
                    dir.display()
                ))
            })?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // NORMAL is durable across application crashes in WAL mode; a power cut can lose
            // the last commits but never corrupts the file.
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT)
            // Statement journals in memory: a multi-row INSERT inside a long transaction
            // (fixtures, `migrate-from`) wrote one to a temporary file, page by page.
            .pragma("temp_store", "memory")
            // A page cache of up to 32 MiB a connection (SQLite's default is 2 MiB): a bulk
            // load of 100,000 users spilled dirty pages to the WAL again and again; system
            // time for it fell from 3 s to under 1 s (docs/PERFORMANCE.md, issue 12).
            .pragma("cache_size", "-32768");
        let pool = SqlitePoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            // A local file's connection cannot go stale: no ping to its worker thread
            // before every transaction (one round trip of two thread switches each).
            .test_before_acquire(false)
            .connect_with(options.clone())
            .await
            .map_err(|e| {
                StoreError::Backend(format!(
                    "cannot open the database `{}`: {e}",
                    path.display()
                ))
            })?;
        let mut store = SqliteStore {
            pool,
            memory: false,
            _anchor: None,
            probe: None,
            writer: std::sync::Arc::default(),
        };
        store.migrate().await?;
        // The anchor maps the WAL-index at its first read and keeps it until it closes.
        let mut anchor = {
            use sqlx::Connection as _;
            SqliteConnection::connect_with(&options)
                .await
                .map_err(backend)?
        };
        let _: i64 = sqlx::query_scalar(DATA_VERSION)
            .fetch_one(&mut anchor)
            .await
            .map_err(backend)?;
        store.probe = commit_probe::CommitProbe::open(path).map(std::sync::Arc::new);
        store._anchor = Some(std::sync::Arc::new(std::sync::Mutex::new(anchor)));
        tracing::debug!(
            path = %path.display(),
            commit_probe = store.probe.is_some(),
            "opened sqlite store"
        );
        Ok(store)
    }

    /// A fresh in-memory database with the current schema, for tests. The pool holds exactly
    /// one connection that never closes (closing it would drop the database), so transactions
    /// run one after the other: a second `begin` waits until the first `Tx` is gone.
    pub async fn memory() -> Result<SqliteStore, StoreError> {
        let options = SqliteConnectOptions::from_str("sqlite::memory:")
            .map_err(backend)?
            .foreign_keys(true);
        let anchor = {
            use sqlx::Connection as _;
            SqliteConnection::connect_with(&options)
                .await
                .map_err(backend)?
        };
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options)
            .await
            .map_err(backend)?;
        let store = SqliteStore {
            pool,
            memory: true,
            _anchor: Some(std::sync::Arc::new(std::sync::Mutex::new(anchor))),
            probe: None,
            writer: std::sync::Arc::default(),
        };
        store.migrate().await?;
        Ok(store)
    }

    /// Applies the migrations this database lacks, in one transaction. Refuses a database
    /// whose schema is newer than [`SCHEMA_VERSION`] without touching it.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(backend)?;
        queries::migrate(&mut tx, SCHEMA_VERSION_TABLE, MIGRATIONS).await?;
        tx.commit().await.map_err(backend)
    }

    /// The schema version the database is at (0 for an empty file).
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        let exists: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'",
        )
        .fetch_one(&mut *tx)
        .await
        .map_err(backend)?;
        if exists == 0 {
            return Ok(0);
        }
        queries::schema_version(&mut tx).await
    }

    /// Whether the data version can be answered without a query while nothing commits
    /// (a file database in WAL mode on a unix system; never the in-memory one).
    pub fn has_commit_probe(&self) -> bool {
        self.probe.is_some()
    }

    /// The connection pool, for tools and benchmarks that need raw SQL.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Closes every connection (checkpointing the WAL) and waits until they are closed.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn begin(&self) -> Result<Box<dyn Tx>, StoreError> {
        let turn = self.writer.clone().lock_owned().await;
        Ok(Box::new(
            SqliteTx::start(&self.pool, "BEGIN IMMEDIATE", Some(turn), self.memory).await?,
        ))
    }

    async fn begin_read(&self) -> Result<Box<dyn Tx>, StoreError> {
        // Deferred: takes a read snapshot at the first read and never the write lock.
        Ok(Box::new(
            SqliteTx::start(&self.pool, "BEGIN", None, self.memory).await?,
        ))
    }

    async fn data_version(&self) -> Result<i64, StoreError> {
        // The header is read BEFORE the query, so the version read is at least as new as
        // the state that header describes.
        let seen = self.probe.as_ref().and_then(|p| p.header());
        let version = sqlx::query_scalar(DATA_VERSION)
            .fetch_one(&self.pool)
            .await
            .map_err(backend)?;
        if let (Some(probe), Some(seen)) = (&self.probe, seen) {
            probe.record(seen, version);
        }
        Ok(version)
    }

    fn data_version_unchanged(&self) -> Option<i64> {
        self.probe.as_ref()?.unchanged()
    }

    fn kind(&self) -> &'static str {
        "sqlite"
    }
}

/// One SQLite transaction on one pooled connection, begun and ended by hand; the queries
/// implement [`Tx`] for it.
///
/// sqlx's own `Transaction` queues its `ROLLBACK` on drop and lets the connection go back to
/// the pool at once; with `begin_with` a busy server then hands that connection out again
/// before SQLite's worker has run the rollback ("begin_with at non-zero transaction depth").
/// Here a transaction dropped without `commit` rolls back in a task that owns the
/// connection, so the connection returns to the pool only after the rollback.
struct SqliteTx {
    tx: TxConn,
    /// Started by `begin`: its commit increments the data version.
    writable: bool,
}

/// The transaction that `queries` implements [`Tx`] for.
type BackendTx = SqliteTx;

/// The connection (taken by `commit` or `Drop`), whether it must never be closed, and a
/// writer's turn (released only once the connection's transaction has ended).
struct TxConn(
    Option<PoolConnection<Sqlite>>,
    bool,
    Option<tokio::sync::OwnedMutexGuard<()>>,
);

impl std::ops::Deref for TxConn {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        // INVARIANT: the connection is taken only by `commit` (which consumes the Tx) and by
        // `Drop`; nothing derefs after either.
        #[allow(clippy::expect_used)]
        self.0.as_ref().expect("transaction connection present")
    }
}

impl std::ops::DerefMut for TxConn {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        // INVARIANT: as for `deref`.
        #[allow(clippy::expect_used)]
        self.0.as_mut().expect("transaction connection present")
    }
}

impl Drop for TxConn {
    fn drop(&mut self) {
        let Some(mut conn) = self.0.take() else {
            return;
        };
        let keep = self.1;
        let turn = self.2.take();
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                handle.spawn(async move {
                    // The next writer waits until this rollback has run.
                    let _turn = turn;
                    // A statement cancelled half-way may still be finishing ("SQL statements
                    // in progress"): try a few times before giving up on the connection.
                    let mut last = None;
                    for attempt in 0..5u64 {
                        match sqlx::query("ROLLBACK").execute(&mut *conn).await {
                            Ok(_) => return,
                            // The `BEGIN` never ran (the request was cancelled first): the
                            // connection is clean.
                            Err(e) if e.to_string().contains("no transaction is active") => return,
                            Err(e) => last = Some(e),
                        }
                        tokio::time::sleep(std::time::Duration::from_millis(5 * (attempt + 1)))
                            .await;
                    }
                    let error = last.map(|e| e.to_string()).unwrap_or_default();
                    if keep {
                        // Closing the in-memory database's only connection would drop it.
                        tracing::warn!(%error, "rollback failed; keeping the in-memory connection");
                    } else {
                        // The connection's state is unknown: do not reuse it.
                        tracing::warn!(%error, "rollback failed; closing the connection");
                        conn.close_on_drop();
                    }
                });
            }
            Err(_) if keep => {}
            Err(_) => conn.close_on_drop(),
        }
    }
}

impl SqliteTx {
    async fn start(
        pool: &SqlitePool,
        begin: &str,
        turn: Option<tokio::sync::OwnedMutexGuard<()>>,
        memory: bool,
    ) -> Result<SqliteTx, StoreError> {
        let writable = turn.is_some();
        // Guard the connection before `BEGIN` is sent: if this future is dropped while the
        // `BEGIN` runs, the guard's `ROLLBACK` ends it, so no connection goes back to the
        // pool inside a transaction.
        let mut tx = TxConn(Some(pool.acquire().await.map_err(backend)?), memory, turn);
        sqlx::query(begin)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        Ok(SqliteTx { tx, writable })
    }

    /// Commits (the data version is already counted), and gives the connection back to the
    /// pool as it is.
    async fn end(mut self) -> Result<(), StoreError> {
        sqlx::query("COMMIT")
            .execute(&mut *self.tx)
            .await
            .map_err(backend)?;
        drop(self.tx.0.take());
        drop(self.tx.2.take());
        Ok(())
    }
}
