//! Bulk insert throughput: how many users per second `insert_users` stores in one
//! transaction, with pre-hashed passwords, on a database file (WAL), in memory, and on
//! PostgreSQL when `GATEHOUSE_TEST_DATABASE_URL` is set (in a scratch database it creates
//! and drops). The fixtures loader relies on this path; the target is at least 20,000
//! users/s.
//!
//! Run with `cargo bench -p gatehouse-store --bench bulk_insert`; `BULK_USERS` sets the count.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

use std::str::FromStr;

use gatehouse_core::{Email, NewUser, PasswordHash, Store, UserQuery};
use gatehouse_store::{PostgresStore, SqliteStore};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{Connection, Executor};

const PHC: &str = "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG";

fn users(n: usize) -> Vec<NewUser> {
    let hash = PasswordHash::from_phc(PHC).unwrap();
    (0..n)
        .map(|i| NewUser {
            email: Email::new(&format!("user{i}@example.org")).unwrap(),
            username: Some(format!("user{i}").parse().unwrap()),
            full_name: format!("User Number {i}"),
            affiliations: "Faculty of Benchmarks".to_owned(),
            active: true,
            confirmed_at: Some(chrono::Utc::now()),
            password_hash: Some(hash.clone()),
            user_type: Some("user".parse().unwrap()),
            entries: vec![
                "deposit".parse().unwrap(),
                "+eprint/archive/edit:owner".parse().unwrap(),
            ],
            editorial_scope: vec!["divisions=law,ecs".parse().unwrap()],
        })
        .collect()
}

async fn run(label: &str, store: &dyn Store, batch: &[NewUser]) {
    let start = Instant::now();
    let mut tx = store.begin().await.unwrap();
    let stored = tx.insert_users(batch).await.unwrap();
    tx.commit().await.unwrap();
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(stored.len(), batch.len());
    let mut tx = store.begin().await.unwrap();
    let total = tx
        .list_users(&UserQuery {
            limit: 1,
            ..UserQuery::default()
        })
        .await
        .unwrap()
        .total;
    assert_eq!(total, batch.len() as u64);
    println!(
        "{label:>7}: {} users in {secs:.3} s = {:.0} users/s",
        batch.len(),
        batch.len() as f64 / secs
    );
}

fn main() {
    let n = std::env::var("BULK_USERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let batch = users(n);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let file = SqliteStore::open(&dir.path().join("bench.sqlite"))
            .await
            .unwrap();
        run("file", &file, &batch).await;
        let memory = SqliteStore::memory().await.unwrap();
        run("memory", &memory, &batch).await;
        if let Ok(url) = std::env::var("GATEHOUSE_TEST_DATABASE_URL") {
            postgres(&url, &batch).await;
        }
    });
}

async fn postgres(url: &str, batch: &[NewUser]) {
    let admin = PgConnectOptions::from_str(url).unwrap();
    let name = format!("gh_bench_{}", std::process::id());
    let mut conn = PgConnection::connect_with(&admin).await.unwrap();
    conn.execute(format!("CREATE DATABASE \"{name}\"").as_str())
        .await
        .unwrap();
    let store = PostgresStore::connect_with(admin.clone().database(&name))
        .await
        .unwrap();
    run("postgres", &store, batch).await;
    store.close().await;
    conn.execute(format!("DROP DATABASE \"{name}\" WITH (FORCE)").as_str())
        .await
        .unwrap();
}
