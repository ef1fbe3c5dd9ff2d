//! Every query of both stores, written once, and the [`Tx`] implementation that calls them.
//!
//! This module tree is compiled twice: as `crate::sqlite::queries` and as
//! `crate::postgres::queries` (a `#[path]` module in each backend). Each time `super` is
//! that backend, which supplies:
//!
//! - `dialect`: the sqlx types (`Db`, `Conn`), the stored forms of times and lists with
//!   their conversions, the unique-violation reader, the rows per multi-row statement, and
//!   the macros `sql!` (placeholders), `in_list!`, `id_text_rows!` (with
//!   `bind_id_text_rows`) and `keep_ids!` (see `src/dialect.rs`);
//! - `BackendTx`: its transaction, whose field `tx` dereferences to a `Conn`, with
//!   `writable` and an `end` method that commits the transaction itself.
//!
//! What the stored values mean is in `crate::codec`; what only one backend does (SQLite's
//! `BEGIN IMMEDIATE` and commit probe, PostgreSQL's isolation levels and advisory lock)
//! stays in that backend's own file.

mod credentials;
mod history;
mod oidc;
mod policy;
mod users;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gatehouse_core::oidc::model::{
    AuthCode, ClientId, CodeUse, Consent, OAuthToken, OidcClient, RefreshUse, SigningKey,
};
use gatehouse_core::{
    Credential, CredentialKind, Email, GrantFilter, HistoryEvent, HistoryFilter, LinkPurpose,
    NewCredential, NewUser, Page, StoreError, StoredRole, Tx, User, UserQuery, UserSort, Username,
};
use gatehouse_policy::{Grant, GrantTarget, Privilege, RoleName, UserId};

use super::dialect::{self, Conn};
use super::BackendTx;
use crate::codec::{self, backend};
use crate::SCHEMA_VERSION;

/// Reads the data version (see `Store::data_version`).
pub(super) const DATA_VERSION: &str = "SELECT value FROM meta WHERE key = 'data_version'";

/// Counts a committed writing transaction in the data version.
const BUMP_DATA_VERSION: &str = "UPDATE meta SET value = value + 1 WHERE key = 'data_version'";

/// The newest schema version applied (0 when the table is empty).
const CURRENT_SCHEMA: &str = "SELECT CAST(coalesce(max(version), 0) AS BIGINT) FROM schema_version";

/// Whether the database holds no data (counters and the schema do not count).
const IS_EMPTY: &str = "SELECT NOT (EXISTS (SELECT 1 FROM users) \
     OR EXISTS (SELECT 1 FROM roles) OR EXISTS (SELECT 1 FROM grants) \
     OR EXISTS (SELECT 1 FROM credentials) OR EXISTS (SELECT 1 FROM history) \
     OR EXISTS (SELECT 1 FROM oidc_clients) OR EXISTS (SELECT 1 FROM oidc_keys))";

/// Runs one statement that takes no values.
async fn exec(conn: &mut Conn, sql: &'static str) -> Result<u64, StoreError> {
    sqlx::query(sql)
        .execute(conn)
        .await
        .map(|done| done.rows_affected())
        .map_err(backend)
}

/// The schema version the database is at; the `schema_version` table must exist.
pub(super) async fn schema_version(conn: &mut Conn) -> Result<i64, StoreError> {
    sqlx::query_scalar(CURRENT_SCHEMA)
        .fetch_one(conn)
        .await
        .map_err(backend)
}

/// Inside the caller's transaction: creates the `schema_version` table with `table` (DDL
/// that does nothing when it exists), refuses a database newer than [`SCHEMA_VERSION`]
/// without touching it, and applies each of `migrations` the database lacks, recording it.
pub(super) async fn migrate(
    conn: &mut Conn,
    table: &'static str,
    migrations: &[(i64, &'static str)],
) -> Result<(), StoreError> {
    exec(conn, table).await?;
    let found = schema_version(conn).await?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew {
            found,
            known: SCHEMA_VERSION,
        });
    }
    for (version, sql) in migrations.iter().filter(|(v, _)| *v > found) {
        sqlx::raw_sql(sql)
            .execute(&mut *conn)
            .await
            .map_err(|e| StoreError::Backend(format!("migration {version} failed: {e}")))?;
        sqlx::query(sql!(
            "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)"
        ))
        .bind(version)
        .bind(dialect::time(&codec::now()))
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
        tracing::info!(version, "applied database migration");
    }
    if found < 4 {
        let n = users::fill_skeletons(conn).await?;
        if n > 0 {
            tracing::info!(
                users = n,
                "filled the confusable skeletons of existing users"
            );
        }
    }
    Ok(())
}

impl BackendTx {
    fn conn(&mut self) -> &mut Conn {
        &mut self.tx
    }
}

#[async_trait]
impl Tx for BackendTx {
    async fn insert_user(&mut self, user: &NewUser) -> Result<User, StoreError> {
        users::insert_user(self.conn(), user).await
    }

    async fn insert_users(&mut self, users: &[NewUser]) -> Result<Vec<User>, StoreError> {
        users::insert_users(self.conn(), users).await
    }

    async fn user_by_id(&mut self, id: UserId) -> Result<Option<User>, StoreError> {
        users::user_by_id(self.conn(), id).await
    }

    async fn user_by_skeleton(&mut self, skeleton: &str) -> Result<Option<User>, StoreError> {
        users::user_by_skeleton(self.conn(), skeleton).await
    }

    async fn user_by_username_skeleton(
        &mut self,
        skeleton: &str,
    ) -> Result<Option<User>, StoreError> {
        users::user_by_username_skeleton(self.conn(), skeleton).await
    }

    async fn link_user(
        &mut self,
        purpose: LinkPurpose,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<UserId>, StoreError> {
        credentials::link_user(self.conn(), purpose, token_hash, now).await
    }

    async fn end_login(&mut self, credential: i64) -> Result<u64, StoreError> {
        credentials::end_login(self.conn(), credential).await
    }

    async fn secret(&mut self, name: &str, value: &str) -> Result<String, StoreError> {
        credentials::secret(self.conn(), name, value).await
    }

    async fn user_by_email(&mut self, email: &Email) -> Result<Option<User>, StoreError> {
        users::user_by_email(self.conn(), email).await
    }

    async fn user_by_username(&mut self, username: &Username) -> Result<Option<User>, StoreError> {
        users::user_by_username(self.conn(), username).await
    }

    async fn existing_emails(&mut self, emails: &[Email]) -> Result<Vec<Email>, StoreError> {
        users::existing_emails(self.conn(), emails).await
    }

    async fn skeleton_owners(
        &mut self,
        skeletons: &[String],
    ) -> Result<Vec<(String, String)>, StoreError> {
        users::skeleton_owners(self.conn(), skeletons).await
    }

    async fn username_skeleton_owners(
        &mut self,
        skeletons: &[String],
    ) -> Result<Vec<(String, String)>, StoreError> {
        users::username_skeleton_owners(self.conn(), skeletons).await
    }

    async fn update_user(&mut self, user: &User) -> Result<User, StoreError> {
        users::update_user(self.conn(), user).await
    }

    async fn delete_user(&mut self, id: UserId) -> Result<bool, StoreError> {
        users::delete_user(self.conn(), id).await
    }

    async fn list_users_sorted(
        &mut self,
        query: &UserQuery,
        sort: UserSort,
    ) -> Result<Page<User>, StoreError> {
        users::list_users(self.conn(), query, sort).await
    }

    async fn password_schemes(&mut self) -> Result<Vec<(String, u64)>, StoreError> {
        users::password_schemes(self.conn()).await
    }

    async fn reindex_users(&mut self) -> Result<u64, StoreError> {
        users::reindex_users(self.conn()).await
    }

    async fn insert_role(&mut self, role: &StoredRole) -> Result<bool, StoreError> {
        policy::insert_role(self.conn(), role).await
    }

    async fn update_role(&mut self, role: &StoredRole) -> Result<bool, StoreError> {
        policy::update_role(self.conn(), role).await
    }

    async fn delete_role(&mut self, name: &RoleName) -> Result<bool, StoreError> {
        policy::delete_role(self.conn(), name).await
    }

    async fn role(&mut self, name: &RoleName) -> Result<Option<StoredRole>, StoreError> {
        policy::role(self.conn(), name).await
    }

    async fn roles(&mut self) -> Result<Vec<StoredRole>, StoreError> {
        policy::roles(self.conn()).await
    }

    async fn add_grant(&mut self, grant: &Grant) -> Result<bool, StoreError> {
        policy::add_grant(self.conn(), grant).await
    }

    async fn remove_grants(
        &mut self,
        privilege: &Privilege,
        target: &GrantTarget,
    ) -> Result<u64, StoreError> {
        policy::remove_grants(self.conn(), privilege, target).await
    }

    async fn grants(&mut self, filter: &GrantFilter) -> Result<Vec<Grant>, StoreError> {
        policy::grants(self.conn(), filter).await
    }

    async fn policy_generation(&mut self) -> Result<i64, StoreError> {
        policy::policy_generation(self.conn()).await
    }

    async fn record(&mut self, event: &HistoryEvent) -> Result<(), StoreError> {
        history::record(self.conn(), event).await
    }

    async fn record_many(&mut self, events: &[HistoryEvent]) -> Result<(), StoreError> {
        history::record_many(self.conn(), events).await
    }

    async fn history(&mut self, filter: &HistoryFilter) -> Result<Vec<HistoryEvent>, StoreError> {
        history::history(self.conn(), filter).await
    }

    async fn count_history(&mut self, filter: &HistoryFilter) -> Result<u64, StoreError> {
        history::count_history(self.conn(), filter).await
    }

    async fn insert_credential(
        &mut self,
        credential: &NewCredential,
    ) -> Result<Credential, StoreError> {
        credentials::insert_credential(self.conn(), credential, codec::now()).await
    }

    async fn credential_by_hash(
        &mut self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Credential>, StoreError> {
        credentials::credential_by_hash(self.conn(), token_hash, now).await
    }

    async fn delete_credential(&mut self, id: i64) -> Result<bool, StoreError> {
        credentials::delete_credential(self.conn(), id).await
    }

    async fn delete_service_token(&mut self, name: &str) -> Result<bool, StoreError> {
        credentials::delete_service_token(self.conn(), name).await
    }

    async fn purge_expired(&mut self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        credentials::purge_expired(self.conn(), now).await
    }

    async fn delete_user_credentials(
        &mut self,
        user: UserId,
        keep: Option<i64>,
    ) -> Result<u64, StoreError> {
        credentials::delete_user_credentials(self.conn(), user, keep).await
    }

    async fn credentials(
        &mut self,
        kind: Option<CredentialKind>,
    ) -> Result<Vec<Credential>, StoreError> {
        credentials::credentials(self.conn(), kind).await
    }

    async fn insert_link(
        &mut self,
        purpose: LinkPurpose,
        user: UserId,
        token_hash: &str,
        expires: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        credentials::insert_link(self.conn(), purpose, user, token_hash, expires).await
    }

    async fn consume_link(
        &mut self,
        purpose: LinkPurpose,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<UserId>, StoreError> {
        credentials::consume_link(self.conn(), purpose, token_hash, now).await
    }

    async fn schema_version(&mut self) -> Result<i64, StoreError> {
        schema_version(self.conn()).await
    }

    async fn is_empty(&mut self) -> Result<bool, StoreError> {
        sqlx::query_scalar(IS_EMPTY)
            .fetch_one(self.conn())
            .await
            .map_err(backend)
    }

    async fn export_credentials(&mut self) -> Result<Vec<(Credential, String)>, StoreError> {
        credentials::export_credentials(self.conn()).await
    }

    async fn import_user(&mut self, user: &User) -> Result<(), StoreError> {
        users::import_user(self.conn(), user).await
    }

    async fn import_grant(&mut self, grant: &Grant) -> Result<bool, StoreError> {
        policy::import_grant(self.conn(), grant).await
    }

    async fn import_credential(
        &mut self,
        credential: &NewCredential,
        created: DateTime<Utc>,
    ) -> Result<Credential, StoreError> {
        credentials::insert_credential(self.conn(), credential, created).await
    }

    async fn import_history(&mut self, event: &HistoryEvent) -> Result<(), StoreError> {
        history::import_history(self.conn(), event).await
    }

    async fn insert_oidc_client(&mut self, client: &OidcClient) -> Result<(), StoreError> {
        oidc::insert_client(self.conn(), client).await
    }

    async fn oidc_client(&mut self, id: &ClientId) -> Result<Option<OidcClient>, StoreError> {
        oidc::client(self.conn(), id).await
    }

    async fn oidc_clients(&mut self) -> Result<Vec<OidcClient>, StoreError> {
        oidc::clients(self.conn()).await
    }

    async fn update_oidc_client(&mut self, client: &OidcClient) -> Result<bool, StoreError> {
        oidc::update_client(self.conn(), client).await
    }

    async fn insert_signing_key(&mut self, key: &SigningKey) -> Result<(), StoreError> {
        oidc::insert_key(self.conn(), key).await
    }

    async fn signing_keys(&mut self) -> Result<Vec<SigningKey>, StoreError> {
        oidc::keys(self.conn()).await
    }

    async fn retire_signing_key(
        &mut self,
        kid: &str,
        after: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        oidc::retire_key(self.conn(), kid, after).await
    }

    async fn insert_auth_code(&mut self, code: &AuthCode) -> Result<(), StoreError> {
        oidc::insert_code(self.conn(), code).await
    }

    async fn use_auth_code(
        &mut self,
        code_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<CodeUse, StoreError> {
        oidc::use_code(self.conn(), code_hash, now).await
    }

    async fn insert_oauth_tokens(&mut self, tokens: &[OAuthToken]) -> Result<(), StoreError> {
        oidc::insert_tokens(self.conn(), tokens).await
    }

    async fn oauth_token(&mut self, token_hash: &str) -> Result<Option<OAuthToken>, StoreError> {
        oidc::token(self.conn(), token_hash).await
    }

    async fn use_refresh_token(
        &mut self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<RefreshUse, StoreError> {
        oidc::use_refresh(self.conn(), token_hash, now).await
    }

    async fn revoke_oauth_token(&mut self, token_hash: &str) -> Result<bool, StoreError> {
        oidc::revoke_token(self.conn(), token_hash).await
    }

    async fn revoke_oauth_family(&mut self, family: &str) -> Result<u64, StoreError> {
        oidc::revoke_family(self.conn(), family).await
    }

    async fn revoke_user_oauth_tokens(&mut self, user: UserId) -> Result<u64, StoreError> {
        oidc::revoke_user(self.conn(), user).await
    }

    async fn revoke_client_oauth_tokens(&mut self, client: &ClientId) -> Result<u64, StoreError> {
        oidc::revoke_client(self.conn(), client).await
    }

    async fn purge_oauth(&mut self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        oidc::purge(self.conn(), before).await
    }

    async fn oidc_consent(
        &mut self,
        user: UserId,
        client: &ClientId,
    ) -> Result<Option<Consent>, StoreError> {
        oidc::consent(self.conn(), user, client).await
    }

    async fn save_oidc_consent(&mut self, consent: &Consent) -> Result<(), StoreError> {
        oidc::save_consent(self.conn(), consent).await
    }

    async fn forget_oidc_consents(
        &mut self,
        client: &ClientId,
        user: Option<UserId>,
    ) -> Result<u64, StoreError> {
        oidc::forget_consents(self.conn(), client, user).await
    }

    async fn oidc_consents(
        &mut self,
        client: Option<&ClientId>,
    ) -> Result<Vec<Consent>, StoreError> {
        oidc::consents(self.conn(), client).await
    }

    async fn commit(mut self: Box<Self>) -> Result<(), StoreError> {
        if self.writable {
            exec(self.conn(), BUMP_DATA_VERSION).await?;
        }
        self.end().await
    }
}
