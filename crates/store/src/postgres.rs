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

mod credentials;
mod policy;
mod users;

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gatehouse_core::{
    Credential, CredentialKind, Email, GrantFilter, HistoryEvent, HistoryFilter, LinkPurpose,
    NewCredential, NewUser, Page, Store, StoreError, StoredRole, Tx, User, UserQuery, Username,
};
use gatehouse_policy::{Grant, GrantTarget, Privilege, RoleName, UserId};
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
];

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
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS schema_version (
                 version    BIGINT      PRIMARY KEY,
                 applied_at TIMESTAMPTZ NOT NULL
             )",
        )
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        let found = current_version(&mut tx).await?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::SchemaTooNew {
                found,
                known: SCHEMA_VERSION,
            });
        }
        for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > found) {
            sqlx::raw_sql(sql)
                .execute(&mut *tx)
                .await
                .map_err(|e| StoreError::Backend(format!("migration {version} failed: {e}")))?;
            sqlx::query("INSERT INTO schema_version (version, applied_at) VALUES ($1, now())")
                .bind(version)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            tracing::info!(version, "applied database migration");
        }
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
        current_version(&mut tx).await
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

async fn current_version(tx: &mut Transaction<'static, Postgres>) -> Result<i64, StoreError> {
    sqlx::query_scalar("SELECT coalesce(max(version), 0)::BIGINT FROM schema_version")
        .fetch_one(&mut **tx)
        .await
        .map_err(backend)
}

/// The constraint a failed statement broke, if it broke a unique one (SQLSTATE 23505).
/// Conflicts are told apart by constraint name, which the migrations fix.
pub(crate) fn unique_violation(e: &sqlx::Error) -> Option<&str> {
    let db = e.as_database_error()?;
    if db.code().as_deref() == Some("23505") {
        db.constraint()
    } else {
        None
    }
}

#[async_trait]
impl Store for PostgresStore {
    async fn begin(&self) -> Result<Box<dyn Tx>, StoreError> {
        let tx = self.pool.begin().await.map_err(backend)?;
        Ok(Box::new(PgTx { tx, writable: true }))
    }

    async fn data_version(&self) -> Result<i64, StoreError> {
        sqlx::query_scalar("SELECT value FROM meta WHERE key = 'data_version'")
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
}

/// One PostgreSQL transaction. Dropping it rolls back (sqlx issues the `ROLLBACK` before
/// the connection is used again).
struct PgTx {
    tx: Transaction<'static, Postgres>,
    /// Started by `begin`: its commit increments the data version.
    writable: bool,
}

#[async_trait]
impl Tx for PgTx {
    async fn insert_user(&mut self, user: &NewUser) -> Result<User, StoreError> {
        users::insert_user(&mut self.tx, user).await
    }

    async fn insert_users(&mut self, users: &[NewUser]) -> Result<Vec<User>, StoreError> {
        users::insert_users(&mut self.tx, users).await
    }

    async fn user_by_id(&mut self, id: UserId) -> Result<Option<User>, StoreError> {
        users::user_by_id(&mut self.tx, id).await
    }

    async fn user_by_email(&mut self, email: &Email) -> Result<Option<User>, StoreError> {
        users::user_by_email(&mut self.tx, email).await
    }

    async fn user_by_username(&mut self, username: &Username) -> Result<Option<User>, StoreError> {
        users::user_by_username(&mut self.tx, username).await
    }

    async fn existing_emails(&mut self, emails: &[Email]) -> Result<Vec<Email>, StoreError> {
        users::existing_emails(&mut self.tx, emails).await
    }

    async fn update_user(&mut self, user: &User) -> Result<User, StoreError> {
        users::update_user(&mut self.tx, user).await
    }

    async fn delete_user(&mut self, id: UserId) -> Result<bool, StoreError> {
        users::delete_user(&mut self.tx, id).await
    }

    async fn list_users(&mut self, query: &UserQuery) -> Result<Page<User>, StoreError> {
        users::list_users(&mut self.tx, query).await
    }

    async fn reindex_users(&mut self) -> Result<u64, StoreError> {
        users::reindex_users(&mut self.tx).await
    }

    async fn insert_role(&mut self, role: &StoredRole) -> Result<bool, StoreError> {
        policy::insert_role(&mut self.tx, role).await
    }

    async fn update_role(&mut self, role: &StoredRole) -> Result<bool, StoreError> {
        policy::update_role(&mut self.tx, role).await
    }

    async fn delete_role(&mut self, name: &RoleName) -> Result<bool, StoreError> {
        policy::delete_role(&mut self.tx, name).await
    }

    async fn role(&mut self, name: &RoleName) -> Result<Option<StoredRole>, StoreError> {
        policy::role(&mut self.tx, name).await
    }

    async fn roles(&mut self) -> Result<Vec<StoredRole>, StoreError> {
        policy::roles(&mut self.tx).await
    }

    async fn add_grant(&mut self, grant: &Grant) -> Result<bool, StoreError> {
        policy::add_grant(&mut self.tx, grant).await
    }

    async fn remove_grants(
        &mut self,
        privilege: &Privilege,
        target: &GrantTarget,
    ) -> Result<u64, StoreError> {
        policy::remove_grants(&mut self.tx, privilege, target).await
    }

    async fn grants(&mut self, filter: &GrantFilter) -> Result<Vec<Grant>, StoreError> {
        policy::grants(&mut self.tx, filter).await
    }

    async fn policy_generation(&mut self) -> Result<i64, StoreError> {
        policy::policy_generation(&mut self.tx).await
    }

    async fn record(&mut self, event: &HistoryEvent) -> Result<(), StoreError> {
        policy::record(&mut self.tx, event).await
    }

    async fn record_many(&mut self, events: &[HistoryEvent]) -> Result<(), StoreError> {
        policy::record_many(&mut self.tx, events).await
    }

    async fn history(&mut self, filter: &HistoryFilter) -> Result<Vec<HistoryEvent>, StoreError> {
        policy::history(&mut self.tx, filter).await
    }

    async fn insert_credential(
        &mut self,
        credential: &NewCredential,
    ) -> Result<Credential, StoreError> {
        credentials::insert_credential(&mut self.tx, credential).await
    }

    async fn credential_by_hash(
        &mut self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Credential>, StoreError> {
        credentials::credential_by_hash(&mut self.tx, token_hash, now).await
    }

    async fn delete_credential(&mut self, id: i64) -> Result<bool, StoreError> {
        credentials::delete_credential(&mut self.tx, id).await
    }

    async fn delete_service_token(&mut self, name: &str) -> Result<bool, StoreError> {
        credentials::delete_service_token(&mut self.tx, name).await
    }

    async fn purge_expired(&mut self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        credentials::purge_expired(&mut self.tx, now).await
    }

    async fn delete_user_credentials(
        &mut self,
        user: UserId,
        keep: Option<i64>,
    ) -> Result<u64, StoreError> {
        credentials::delete_user_credentials(&mut self.tx, user, keep).await
    }

    async fn credentials(
        &mut self,
        kind: Option<CredentialKind>,
    ) -> Result<Vec<Credential>, StoreError> {
        credentials::credentials(&mut self.tx, kind).await
    }

    async fn insert_link(
        &mut self,
        purpose: LinkPurpose,
        user: UserId,
        token_hash: &str,
        expires: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        credentials::insert_link(&mut self.tx, purpose, user, token_hash, expires).await
    }

    async fn consume_link(
        &mut self,
        purpose: LinkPurpose,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<UserId>, StoreError> {
        credentials::consume_link(&mut self.tx, purpose, token_hash, now).await
    }

    async fn schema_version(&mut self) -> Result<i64, StoreError> {
        sqlx::query_scalar("SELECT coalesce(max(version), 0)::BIGINT FROM schema_version")
            .fetch_one(&mut *self.tx)
            .await
            .map_err(backend)
    }

    async fn is_empty(&mut self) -> Result<bool, StoreError> {
        sqlx::query_scalar(crate::codec::IS_EMPTY)
            .fetch_one(&mut *self.tx)
            .await
            .map_err(backend)
    }

    async fn export_credentials(&mut self) -> Result<Vec<(Credential, String)>, StoreError> {
        credentials::export_credentials(&mut self.tx).await
    }

    async fn import_user(&mut self, user: &User) -> Result<(), StoreError> {
        users::import_user(&mut self.tx, user).await
    }

    async fn import_grant(&mut self, grant: &Grant) -> Result<bool, StoreError> {
        policy::import_grant(&mut self.tx, grant).await
    }

    async fn import_credential(
        &mut self,
        credential: &NewCredential,
        created: DateTime<Utc>,
    ) -> Result<Credential, StoreError> {
        credentials::insert_credential_at(&mut self.tx, credential, created).await
    }

    async fn import_history(&mut self, event: &HistoryEvent) -> Result<(), StoreError> {
        policy::import_history(&mut self.tx, event).await
    }

    async fn commit(mut self: Box<Self>) -> Result<(), StoreError> {
        if self.writable {
            sqlx::query("UPDATE meta SET value = value + 1 WHERE key = 'data_version'")
                .execute(&mut *self.tx)
                .await
                .map_err(backend)?;
        }
        self.tx.commit().await.map_err(backend)
    }
}
