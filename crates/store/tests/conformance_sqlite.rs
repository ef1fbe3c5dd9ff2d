//! The store conformance suite on SQLite, twice: on an in-memory database and on a database
//! file in a temporary directory (WAL, the way a node runs). Plus what only SQLite has: the
//! schema version guard, migrating an old file, rebuilding a damaged search index, how
//! transactions on one file wait for each other (writers queue, readers do not), and the
//! WAL-index commit probe that answers the data version without a query.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use gatehouse_core::{Store, StoreError, Tx, UserQuery};
use gatehouse_store::{SqliteStore, SCHEMA_VERSION};
use sqlx::Connection;
use tempfile::TempDir;

mod memory {
    use super::*;

    async fn fresh() -> Arc<dyn Store> {
        Arc::new(SqliteStore::memory().await.unwrap())
    }

    gatehouse_store::conformance_tests!(fresh());
}

/// A file store that keeps its temporary directory alive as long as it lives.
#[derive(Debug)]
struct FileStore {
    store: SqliteStore,
    _dir: TempDir,
}

#[async_trait]
impl Store for FileStore {
    async fn begin(&self) -> Result<Box<dyn Tx>, StoreError> {
        self.store.begin().await
    }

    async fn begin_read(&self) -> Result<Box<dyn Tx>, StoreError> {
        self.store.begin_read().await
    }

    async fn data_version(&self) -> Result<i64, StoreError> {
        self.store.data_version().await
    }

    fn data_version_unchanged(&self) -> Option<i64> {
        self.store.data_version_unchanged()
    }

    fn kind(&self) -> &'static str {
        self.store.kind()
    }
}

async fn file_store() -> FileStore {
    let dir = tempfile::tempdir().unwrap();
    // A nested path: `open` creates the missing directories.
    let store = SqliteStore::open(&dir.path().join("data/gatehouse.sqlite"))
        .await
        .unwrap();
    FileStore { store, _dir: dir }
}

mod file {
    use super::*;

    async fn fresh() -> Arc<dyn Store> {
        Arc::new(file_store().await)
    }

    gatehouse_store::conformance_tests!(fresh());
}

/// The case that damages the database on purpose (it needs raw SQL, so it is not in the
/// macro's list), on both kinds of SQLite store.
#[tokio::test]
async fn policy_generation_missing_fails_counted_changes() {
    use gatehouse_store::conformance::policy_generation_missing_fails_counted_changes as case;
    let memory = SqliteStore::memory().await.unwrap();
    case(Arc::new(memory.clone()), &memory).await;
    let file = Arc::new(file_store().await);
    let raw = file.store.clone();
    case(file, &raw).await;
}

#[tokio::test]
async fn open_creates_the_file_in_wal_mode_and_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a/b/gatehouse.sqlite");
    let store = SqliteStore::open(&path).await.unwrap();
    assert!(path.exists());
    assert_eq!(store.kind(), "sqlite");
    assert_eq!(store.schema_version().await.unwrap(), SCHEMA_VERSION);
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(fk, 1);
    let mut tx = store.begin().await.unwrap();
    tx.insert_user(&gatehouse_core::NewUser {
        email: "ann@example.org".parse().unwrap(),
        username: None,
        full_name: String::new(),
        affiliations: String::new(),
        active: true,
        confirmed_at: None,
        password_hash: None,
        user_type: None,
        entries: vec![],
        editorial_scope: vec![],
    })
    .await
    .unwrap();
    tx.commit().await.unwrap();
    store.close().await;

    // Opening again migrates nothing and keeps the data.
    let again = SqliteStore::open(&path).await.unwrap();
    let mut tx = again.begin().await.unwrap();
    assert_eq!(tx.list_users(&UserQuery::default()).await.unwrap().total, 1);
}

#[tokio::test]
async fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gatehouse.sqlite");
    let store = SqliteStore::open(&path).await.unwrap();
    sqlx::query("INSERT INTO schema_version (version, applied_at) VALUES (?, 'later')")
        .bind(SCHEMA_VERSION + 1)
        .execute(store.pool())
        .await
        .unwrap();
    store.close().await;

    let err = SqliteStore::open(&path).await.unwrap_err();
    assert_eq!(
        err,
        StoreError::SchemaTooNew {
            found: SCHEMA_VERSION + 1,
            known: SCHEMA_VERSION
        }
    );
    assert!(
        err.to_string().contains("newer than this build knows"),
        "{err}"
    );
}

#[tokio::test]
async fn reindex_repairs_a_damaged_search_index() {
    let store = SqliteStore::memory().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    let mut ann = gatehouse_core::NewUser {
        email: "ann@example.org".parse().unwrap(),
        username: Some("AnnS".parse().unwrap()),
        full_name: "Ann Smith".to_owned(),
        affiliations: "Law".to_owned(),
        active: true,
        confirmed_at: None,
        password_hash: None,
        user_type: None,
        entries: vec![],
        editorial_scope: vec![],
    };
    let first = tx.insert_user(&ann).await.unwrap();
    ann.email = "bob@example.org".parse().unwrap();
    ann.username = None;
    tx.insert_user(&ann).await.unwrap();
    tx.commit().await.unwrap();

    // Damage: one row gone, one wrong.
    sqlx::query("DELETE FROM user_search WHERE user_id = ?")
        .bind(first.id.0)
        .execute(store.pool())
        .await
        .unwrap();
    sqlx::query("UPDATE user_search SET haystack = 'stale'")
        .execute(store.pool())
        .await
        .unwrap();
    let smith = UserQuery {
        text: Some("smith".to_owned()),
        ..UserQuery::default()
    };
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.list_users(&smith).await.unwrap().total, 0);
    assert_eq!(tx.reindex_users().await.unwrap(), 2);
    assert_eq!(tx.list_users(&smith).await.unwrap().total, 2);
    tx.commit().await.unwrap();
    let count: i64 =
        sqlx::query_scalar("SELECT count(*) FROM user_search WHERE haystack LIKE '%stale%'")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!(count, 0);
}

/// Transactions that read and then write, from many tasks and from two stores on the same
/// file (two nodes), all succeed: `BEGIN IMMEDIATE` makes them queue instead of failing
/// with `SQLITE_BUSY` when a reader upgrades to a writer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_read_then_write_transactions_queue() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gatehouse.sqlite");
    let nodes = [
        Arc::new(SqliteStore::open(&path).await.unwrap()),
        Arc::new(SqliteStore::open(&path).await.unwrap()),
    ];
    let mut tasks = Vec::new();
    for t in 0..8 {
        let store = Arc::clone(&nodes[t % 2]);
        tasks.push(tokio::spawn(async move {
            for i in 0..15 {
                let mut tx = store.begin().await.unwrap();
                let seen = tx.list_users(&UserQuery::default()).await.unwrap().total;
                tx.insert_user(&gatehouse_core::NewUser {
                    email: format!("t{t}-{i}@example.org").parse().unwrap(),
                    username: None,
                    full_name: format!("seen {seen}"),
                    affiliations: String::new(),
                    active: true,
                    confirmed_at: None,
                    password_hash: None,
                    user_type: None,
                    entries: vec![],
                    editorial_scope: vec![],
                })
                .await
                .unwrap();
                tx.commit().await.unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let mut tx = nodes[0].begin().await.unwrap();
    assert_eq!(
        tx.list_users(&UserQuery::default()).await.unwrap().total,
        120
    );
}

/// A read-only transaction starts with a deferred `BEGIN`: it neither waits for a writer
/// that holds the write lock nor sees its uncommitted rows.
#[tokio::test]
async fn begin_read_does_not_wait_for_a_writer() {
    let store = file_store().await;
    let mut writer = store.begin().await.unwrap();
    writer
        .insert_user(&gatehouse_core::NewUser {
            email: "w@example.org".parse().unwrap(),
            username: None,
            full_name: String::new(),
            affiliations: String::new(),
            active: true,
            confirmed_at: None,
            password_hash: None,
            user_type: None,
            entries: vec![],
            editorial_scope: vec![],
        })
        .await
        .unwrap();
    let mut reader = tokio::time::timeout(Duration::from_secs(2), store.begin_read())
        .await
        .expect("begin_read waited for the writer")
        .unwrap();
    let seen = tokio::time::timeout(
        Duration::from_secs(2),
        reader.list_users(&UserQuery::default()),
    )
    .await
    .expect("a read waited for the writer")
    .unwrap();
    assert_eq!(seen.total, 0);
    drop(reader);
    writer.commit().await.unwrap();
    let mut reader = store.begin_read().await.unwrap();
    assert_eq!(
        reader
            .list_users(&UserQuery::default())
            .await
            .unwrap()
            .total,
        1
    );
}

/// A database file at schema version 1 (before credentials) is brought up to date when
/// opened, and its users stay.
#[tokio::test]
async fn an_old_database_is_migrated_and_keeps_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.sqlite");
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true);
    let mut conn = sqlx::SqliteConnection::connect_with(&options)
        .await
        .unwrap();
    sqlx::raw_sql(
        "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL) STRICT;
         INSERT INTO schema_version VALUES (1, '2024-01-01T00:00:00.000000Z');",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    sqlx::raw_sql(include_str!("../migrations/sqlite/0001_init.sql"))
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO users (email, created, updated) \
         VALUES ('old@example.org', '2024-01-01T00:00:00.000000Z', '2024-01-01T00:00:00.000000Z')",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();

    let store = SqliteStore::open(&path).await.unwrap();
    assert_eq!(store.schema_version().await.unwrap(), SCHEMA_VERSION);
    let mut tx = store.begin().await.unwrap();
    let old = tx
        .user_by_email(&"old@example.org".parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(old.version, 1);
    assert!(tx.credentials(None).await.unwrap().is_empty());
}

/// Two stores on one new file, as two nodes (or a node and the command line) open it.
async fn two_nodes() -> (TempDir, SqliteStore, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gatehouse.sqlite");
    let a = SqliteStore::open(&path).await.unwrap();
    let b = SqliteStore::open(&path).await.unwrap();
    (dir, a, b)
}

/// Inserts one user through `store` and commits.
async fn commit_user(store: &SqliteStore, email: &str) {
    let mut tx = store.begin().await.unwrap();
    tx.insert_user(&gatehouse_store::conformance::new_user(email))
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

/// Two stores on one file (two nodes): node A answers its data version from the WAL-index
/// header while nothing commits, and stops doing so as soon as node B commits, through WAL
/// restarts (checkpoints that let the next writer start the log over) too.
#[tokio::test]
async fn the_commit_probe_answers_until_another_node_commits() {
    let (_dir, a, b) = two_nodes().await;
    assert!(a.has_commit_probe() && b.has_commit_probe());
    assert!(!SqliteStore::memory().await.unwrap().has_commit_probe());

    let mut version = a.data_version().await.unwrap();
    for round in 0..40 {
        assert_eq!(
            a.data_version_unchanged(),
            Some(version),
            "round {round}: nothing committed, so no query is needed"
        );
        // Reads on B change nothing.
        let mut tx = b.begin_read().await.unwrap();
        tx.list_users(&UserQuery::default()).await.unwrap();
        drop(tx);
        assert_eq!(a.data_version_unchanged(), Some(version), "round {round}");

        commit_user(&b, &format!("n{round}@example.org")).await;
        assert_eq!(
            a.data_version_unchanged(),
            None,
            "round {round}: B committed; A must read again"
        );
        if round % 3 == 0 {
            // Empty the WAL: the next writer restarts it from frame 0 with new salts.
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(b.pool())
                .await
                .unwrap();
        }
        let next = a.data_version().await.unwrap();
        assert_eq!(next, version + 1, "round {round}");
        version = next;
    }
}

/// A node that keeps asking while another one commits as fast as it can never gets an
/// answer older than a commit that had finished before it asked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_commit_probe_is_never_stale_under_concurrent_commits() {
    let (_dir, reader, writer) = two_nodes().await;
    let reader = Arc::new(reader);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Keep the reader's probe fed with fresh reads, as requests do.
    let feeder = {
        let (reader, stop) = (reader.clone(), stop.clone());
        tokio::spawn(async move {
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                reader.data_version().await.unwrap();
            }
        })
    };
    let mut answered = 0;
    for i in 0..300 {
        commit_user(&writer, &format!("w{i}@example.org")).await;
        let committed = writer.data_version().await.unwrap();
        if i % 50 == 0 {
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(writer.pool())
                .await
                .unwrap();
        }
        for _ in 0..20 {
            if let Some(v) = reader.data_version_unchanged() {
                assert!(
                    v >= committed,
                    "commit {i}: answered {v}, committed {committed}"
                );
                answered += 1;
            }
            tokio::task::yield_now().await;
        }
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    feeder.await.unwrap();
    assert!(
        answered > 0,
        "the probe never answered, so this tested nothing"
    );
}
