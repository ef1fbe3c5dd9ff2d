//! The store conformance suite on PostgreSQL, each test in a database of its own, plus what
//! only PostgreSQL has: racing transactions, read-only transactions, migrating, refusing a
//! newer schema, the trigram index, and keeping the password out of messages.
//!
//! `GATEHOUSE_TEST_DATABASE_URL` names a server and an account that may `CREATE DATABASE`,
//! e.g. `postgres://postgres@127.0.0.1:5432/postgres`. Every test creates `gh_test_...`
//! through it and drops it afterwards (also when the test fails). Without the variable
//! every test says it is skipped and passes, unless `GATEHOUSE_REQUIRE_POSTGRES=1`, which
//! makes every test fail instead: CI sets it, so CI cannot skip PostgreSQL silently.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Once};
use std::time::Duration;

use async_trait::async_trait;
use gatehouse_core::store::ConflictField;
use gatehouse_core::{NewUser, Store, StoreError, StoredRole, Tx, UserQuery};
use gatehouse_store::{PostgresStore, SCHEMA_VERSION};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{Connection, Executor};
use tokio::sync::Barrier;

const URL_VAR: &str = "GATEHOUSE_TEST_DATABASE_URL";
const REQUIRE_VAR: &str = "GATEHOUSE_REQUIRE_POSTGRES";

/// The admin connection from the environment; `None` (after saying so) when the suite is
/// to be skipped. Panics when it must not be skipped.
fn admin_options() -> Option<PgConnectOptions> {
    match std::env::var(URL_VAR) {
        Ok(url) if !url.trim().is_empty() => Some(
            PgConnectOptions::from_str(url.trim())
                .unwrap_or_else(|e| panic!("{URL_VAR} is not a PostgreSQL URL: {e}")),
        ),
        _ => {
            if std::env::var(REQUIRE_VAR).is_ok_and(|v| v.trim() == "1") {
                panic!(
                    "{URL_VAR} is not set, but {REQUIRE_VAR}=1 requires the PostgreSQL \
                     conformance suite; set it, e.g. \
                     {URL_VAR}=postgres://postgres@127.0.0.1:5432/postgres"
                );
            }
            eprintln!("skipped: {URL_VAR} is not set (PostgreSQL conformance)");
            // Once per run, past the test harness's output capture, so that a plain
            // `cargo test` shows it.
            static NOTICE: Once = Once::new();
            NOTICE.call_once(|| {
                let _ = writeln!(
                    std::io::stderr(),
                    "note: PostgreSQL conformance tests skipped: {URL_VAR} is not set"
                );
            });
            None
        }
    }
}

/// A database of its own for one test, dropped (with `FORCE`, which ends any connections
/// still open to it) when this value is dropped.
#[derive(Debug)]
struct TestDb {
    name: String,
    admin: PgConnectOptions,
    options: PgConnectOptions,
}

impl TestDb {
    async fn create(admin: PgConnectOptions) -> TestDb {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let name = format!(
            "gh_test_{}_{}_{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let mut conn = PgConnection::connect_with(&admin)
            .await
            .unwrap_or_else(|e| panic!("cannot connect with {URL_VAR}: {e}"));
        conn.execute(format!("CREATE DATABASE \"{name}\"").as_str())
            .await
            .unwrap_or_else(|e| panic!("cannot create the test database `{name}`: {e}"));
        conn.close().await.unwrap();
        let options = admin.clone().database(&name);
        TestDb {
            name,
            admin,
            options,
        }
    }

    async fn store(&self) -> PostgresStore {
        PostgresStore::connect_with(self.options.clone())
            .await
            .unwrap()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // Drop runs in synchronous code, possibly inside the test's runtime: a thread of its
        // own with a runtime of its own does the async work.
        let admin = self.admin.clone();
        let sql = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name);
        let done = std::thread::spawn(move || -> Result<(), String> {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            rt.block_on(async {
                let mut conn = PgConnection::connect_with(&admin)
                    .await
                    .map_err(|e| e.to_string())?;
                conn.execute(sql.as_str())
                    .await
                    .map_err(|e| e.to_string())?;
                conn.close().await.map_err(|e| e.to_string())
            })
        })
        .join();
        match done {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("could not drop the test database `{}`: {e}", self.name),
            Err(_) => eprintln!("could not drop the test database `{}`", self.name),
        }
    }
}

/// A store on a fresh database; the database goes when the store does.
#[derive(Debug)]
struct FreshStore {
    // Declared first, so dropped first: the pool closes before the database is dropped.
    store: PostgresStore,
    db: TestDb,
}

#[async_trait]
impl Store for FreshStore {
    async fn begin(&self) -> Result<Box<dyn Tx>, StoreError> {
        self.store.begin().await
    }

    async fn begin_read(&self) -> Result<Box<dyn Tx>, StoreError> {
        self.store.begin_read().await
    }

    async fn data_version(&self) -> Result<i64, StoreError> {
        self.store.data_version().await
    }

    fn kind(&self) -> &'static str {
        self.store.kind()
    }
}

async fn fresh_store() -> Option<FreshStore> {
    let db = TestDb::create(admin_options()?).await;
    let store = db.store().await;
    Some(FreshStore { store, db })
}

mod suite {
    use super::*;

    async fn fresh() -> Option<Arc<dyn Store>> {
        Some(Arc::new(fresh_store().await?) as Arc<dyn Store>)
    }

    gatehouse_store::conformance_tests!(optional fresh());
}

/// The case that damages the database on purpose (it needs raw SQL, so it is not in the
/// macro's list).
#[tokio::test]
async fn policy_generation_missing_fails_counted_changes() {
    let Some(fresh) = fresh_store().await else {
        return;
    };
    let raw = fresh.store.clone();
    gatehouse_store::conformance::policy_generation_missing_fails_counted_changes(
        Arc::new(fresh),
        &raw,
    )
    .await;
}

fn user(email: &str, username: Option<&str>) -> NewUser {
    NewUser {
        email: email.parse().unwrap(),
        username: username.map(|u| u.parse().unwrap()),
        full_name: String::new(),
        affiliations: String::new(),
        active: true,
        confirmed_at: None,
        password_hash: None,
        user_type: None,
        entries: vec![],
        editorial_scope: vec![],
    }
}

/// Two transactions insert users that clash, at the same time: the second waits for the
/// first at the unique index, then fails with a clean conflict naming the value; exactly
/// one user is stored. Several rounds, by email and by username.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_inserts_give_one_user_and_one_conflict() {
    let Some(fresh) = fresh_store().await else {
        return;
    };
    let store = Arc::new(fresh);
    let rounds = [
        (
            ("race0@example.org", None),
            ("RACE0@example.org", None),
            (ConflictField::Email, "race0@example.org"),
        ),
        (
            ("race1@example.org", None),
            ("race1@example.org", None),
            (ConflictField::Email, "race1@example.org"),
        ),
        (
            ("a2@example.org", Some("Racer")),
            ("b2@example.org", Some("Racer")),
            (ConflictField::Username, "Racer"),
        ),
    ];
    for (round, (first, second, (field, value))) in rounds.into_iter().enumerate() {
        let barrier = Arc::new(Barrier::new(2));
        let mut tasks = Vec::new();
        for (email, username) in [first, second] {
            let store = Arc::clone(&store);
            let barrier = Arc::clone(&barrier);
            let new = user(email, username);
            tasks.push(tokio::spawn(async move {
                let mut tx = store.begin().await.unwrap();
                barrier.wait().await;
                let inserted = tx.insert_user(&new).await;
                if inserted.is_ok() {
                    // Hold the row long enough that the other insert has to wait for it.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    tx.commit().await.unwrap();
                }
                inserted.map(|u| u.id)
            }));
        }
        let mut ok = 0;
        let mut conflicts = Vec::new();
        for task in tasks {
            match task.await.unwrap() {
                Ok(_) => ok += 1,
                Err(StoreError::Conflict { field, value }) => conflicts.push((field, value)),
                Err(other) => panic!("round {round}: expected a conflict, got {other:?}"),
            }
        }
        assert_eq!(ok, 1, "round {round}");
        assert_eq!(conflicts, [(field, value.to_owned())], "round {round}");
    }
    let mut tx = store.begin_read().await.unwrap();
    assert_eq!(tx.list_users(&UserQuery::default()).await.unwrap().total, 3);
}

/// Counters go up once per change even when transactions change them at the same time:
/// the policy generation (two role inserts) and a user's version (two updates).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_changes_count_every_change() {
    let Some(fresh) = fresh_store().await else {
        return;
    };
    let store = Arc::new(fresh);
    let mut tx = store.begin().await.unwrap();
    let ann = tx
        .insert_user(&user("ann@example.org", None))
        .await
        .unwrap();
    let generation = tx.policy_generation().await.unwrap();
    tx.commit().await.unwrap();

    let barrier = Arc::new(Barrier::new(2));
    let mut tasks = Vec::new();
    for i in 0..2 {
        let store = Arc::clone(&store);
        let barrier = Arc::clone(&barrier);
        let ann = ann.clone();
        tasks.push(tokio::spawn(async move {
            let mut tx = store.begin().await.unwrap();
            barrier.wait().await;
            let role = StoredRole {
                name: format!("role{i}").parse().unwrap(),
                description: None,
                entries: vec![],
            };
            assert!(tx.insert_role(&role).await.unwrap());
            let mut changed = ann.clone();
            changed.full_name = format!("Ann {i}");
            tx.update_user(&changed).await.unwrap();
            tokio::time::sleep(Duration::from_millis(50)).await;
            tx.commit().await.unwrap();
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let mut tx = store.begin_read().await.unwrap();
    assert_eq!(tx.policy_generation().await.unwrap(), generation + 2);
    assert_eq!(tx.user_by_id(ann.id).await.unwrap().unwrap().version, 3);
}

/// A read-only transaction neither waits for a writer nor sees its rows, not even after
/// the writer commits (one snapshot, as on SQLite), and refuses to write.
#[tokio::test]
async fn begin_read_does_not_wait_and_does_not_write() {
    let Some(store) = fresh_store().await else {
        return;
    };
    let mut writer = store.begin().await.unwrap();
    writer
        .insert_user(&user("w@example.org", None))
        .await
        .unwrap();

    let mut reader = tokio::time::timeout(Duration::from_secs(5), store.begin_read())
        .await
        .expect("begin_read waited for a writer")
        .unwrap();
    let seen = tokio::time::timeout(
        Duration::from_secs(5),
        reader.list_users(&UserQuery::default()),
    )
    .await
    .expect("a read waited for a writer")
    .unwrap();
    assert_eq!(seen.total, 0, "uncommitted rows are not visible");
    writer.commit().await.unwrap();
    let seen = reader.list_users(&UserQuery::default()).await.unwrap();
    assert_eq!(
        seen.total, 0,
        "the snapshot holds for the whole transaction"
    );

    let refused = reader.insert_user(&user("r@example.org", None)).await;
    assert!(
        matches!(&refused, Err(StoreError::Backend(m)) if m.contains("read-only")),
        "{refused:?}"
    );
    drop(reader);
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

/// A database written by a newer build is refused, and left as it was.
#[tokio::test]
async fn a_newer_schema_is_refused() {
    let Some(fresh) = fresh_store().await else {
        return;
    };
    assert_eq!(fresh.store.schema_version().await.unwrap(), SCHEMA_VERSION);
    sqlx::query("INSERT INTO schema_version (version, applied_at) VALUES ($1, now())")
        .bind(SCHEMA_VERSION + 1)
        .execute(fresh.store.pool())
        .await
        .unwrap();

    let err = PostgresStore::connect_with(fresh.db.options.clone())
        .await
        .unwrap_err();
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
    assert_eq!(
        fresh.store.schema_version().await.unwrap(),
        SCHEMA_VERSION + 1
    );
}

/// Nodes that start together on an empty database migrate it once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_starting_together_migrate_once() {
    let Some(admin) = admin_options() else {
        return;
    };
    let db = TestDb::create(admin).await;
    let (a, b) = tokio::join!(
        PostgresStore::connect_with(db.options.clone()),
        PostgresStore::connect_with(db.options.clone())
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(b.schema_version().await.unwrap(), SCHEMA_VERSION);
    let applied: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM schema_version ORDER BY version")
            .fetch_all(a.pool())
            .await
            .unwrap();
    assert_eq!(applied, (1..=SCHEMA_VERSION).collect::<Vec<_>>());
    a.migrate().await.unwrap();
    assert_eq!(a.kind(), "postgres");
}

/// A database at schema version 1 (before credentials) is brought up to date on connect,
/// and its users stay.
#[tokio::test]
async fn an_old_database_is_migrated_and_keeps_its_data() {
    let Some(admin) = admin_options() else {
        return;
    };
    let db = TestDb::create(admin).await;
    let mut conn = PgConnection::connect_with(&db.options).await.unwrap();
    sqlx::raw_sql(
        "CREATE TABLE schema_version (version BIGINT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL);
         INSERT INTO schema_version VALUES (1, now());",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    sqlx::raw_sql(include_str!("../migrations/postgres/0001_init.sql"))
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO users (email, created, updated) VALUES ('old@example.org', now(), now())",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();

    let store = db.store().await;
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

/// Where pg_trgm can be had, the search table gets its trigram index.
#[tokio::test]
async fn search_has_a_trigram_index_when_pg_trgm_is_available() {
    let Some(fresh) = fresh_store().await else {
        return;
    };
    let pool = fresh.store.pool();
    let available: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm')",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    let indexed: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM pg_indexes WHERE indexname = 'user_search_trigram')",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    if available {
        assert!(indexed, "pg_trgm is available but the index is missing");
    } else {
        eprintln!("pg_trgm is not available on this server; search scans");
    }
}

/// No message and no debug output shows the database password.
#[tokio::test]
async fn the_password_stays_out_of_messages() {
    // Nothing listens on port 1: the connection fails at once.
    let err = PostgresStore::connect("postgres://gh:s3cret-pw@127.0.0.1:1/gatehouse")
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(!text.contains("s3cret-pw"), "{text}");
    assert!(text.contains("gh@127.0.0.1:1/gatehouse"), "{text}");
    let err = PostgresStore::connect("not a url").await.unwrap_err();
    assert!(err.to_string().contains("invalid PostgreSQL URL"), "{err}");

    let Some(admin) = admin_options() else {
        return;
    };
    let db = TestDb::create(admin).await;
    // Trust authentication ignores the password; it is only there to be hidden.
    let store = PostgresStore::connect_with(db.options.clone().password("s3cret-pw"))
        .await
        .unwrap();
    let debug = format!("{store:?}");
    assert!(!debug.contains("s3cret-pw"), "{debug}");
    assert!(debug.contains(&db.name), "{debug}");
}

/// Issue 11: on PostgreSQL the throttle's buckets are shared by every node. Two stores on
/// one database (two nodes) charge one bucket of 10 tokens 40 times at once: exactly 10
/// succeed, whichever node they came through, and the data version does not move (the
/// buckets are not data: no cache is dropped for a log in attempt).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttle_buckets_are_shared_by_nodes_without_races() {
    let Some(fresh) = fresh_store().await else {
        return;
    };
    let other = fresh.db.store().await;
    let nodes = [
        fresh.store.shared_buckets().unwrap(),
        other.shared_buckets().unwrap(),
    ];
    let version = fresh.store.data_version().await.unwrap();
    let now = 1_800_000_000.0;
    let mut tasks = Vec::new();
    for i in 0..40 {
        let node = nodes[i % 2].clone();
        tasks.push(tokio::spawn(async move {
            let keys = vec!["acct-victim".to_owned(), format!("addr-{i}")];
            node.update(&keys, now, &|rows| {
                let tokens = rows[0].map_or(10.0, |(t, _)| t);
                if tokens >= 1.0 {
                    rows[0] = Some((tokens - 1.0, now));
                    rows[1] = Some((29.0, now));
                    true
                } else {
                    false
                }
            })
            .await
            .unwrap()
        }));
    }
    let mut taken = 0;
    for t in tasks {
        if t.await.unwrap() {
            taken += 1;
        }
    }
    assert_eq!(taken, 10);
    assert_eq!(fresh.store.data_version().await.unwrap(), version);
    // Rows not written read as absent; written ones come back as written.
    let seen = nodes[1]
        .update(
            &["acct-victim".to_owned(), "never".to_owned()],
            now,
            &|rows| rows[0] == Some((0.0, now)) && rows[1].is_none(),
        )
        .await
        .unwrap();
    assert!(seen);
}
