//! The store conformance suite: one async function per contract point of
//! [`Store`] and [`Tx`], each taking a fresh, empty
//! store and panicking when the store breaks the contract.
//!
//! Run it for a store with [`conformance_tests!`](crate::conformance_tests), which expands to
//! one `#[tokio::test]` per case, named after the case, so `cargo test` reports each contract
//! point on its own line:
//!
//! ```no_run
//! use std::sync::Arc;
//!
//! use gatehouse_core::Store;
//! use gatehouse_store::SqliteStore;
//!
//! async fn fresh() -> Arc<dyn Store> {
//!     Arc::new(SqliteStore::memory().await.unwrap())
//! }
//!
//! gatehouse_store::conformance_tests!(fresh());
//! # fn main() {}
//! ```
//!
//! The calling crate needs `tokio` (with `macros` and `rt`). The cases use the trait only, so
//! every backend runs the very same checks. They never keep using a transaction after it
//! returned an error (PostgreSQL aborts the whole transaction then): they drop it and look
//! in a new one.
//!
//! A few cases damage the database on purpose, which the trait cannot do: they also take a
//! [`RawSql`] for the store's database (both stores implement it), and each backend's test
//! file calls them (see `conformance_tests!` for the list).
//!
//! This is test code that panics by design, so it is compiled only with the cargo feature
//! `conformance`, which this crate's own tests turn on (a dev-dependency on itself).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod credentials;
mod history;
mod oidc;
mod policy;
mod search;
mod sort;
mod transfer;
mod tx;
mod users;

use std::fmt::Debug;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gatehouse_core::store::ConflictField;
use gatehouse_core::{Email, NewUser, PasswordHash, StoreError, Tx, Username};
use gatehouse_policy::{Privilege, RoleName};

pub use credentials::*;
pub use gatehouse_core::Store;
pub use history::*;
pub use oidc::*;
pub use policy::*;
pub use search::*;
pub use sort::*;
pub use transfer::*;
pub use tx::*;
pub use users::*;

/// Expands to one `#[tokio::test]` per conformance case, each calling the case with the store
/// that `$make` (an expression whose `.await` gives an `Arc<dyn Store>`, evaluated afresh for
/// every test) produces.
///
/// `conformance_tests!(optional $make)` is the same for a backend that may be absent: the
/// `.await` gives an `Option<Arc<dyn Store>>`, and on `None` the test returns at once (the
/// constructor says why, and decides whether absence is a failure).
///
/// The cases that also need a [`RawSql`] are not in the list; call each in a test of its
/// own: [`policy_generation_missing_fails_counted_changes`].
#[macro_export]
macro_rules! conformance_tests {
    (@cases $mode:tt $($case:ident),* $(,)?) => {
        $( $crate::conformance_tests!(@case $mode $case); )*
    };
    (@case (required $make:expr) $case:ident) => {
        #[tokio::test]
        async fn $case() {
            let store: ::std::sync::Arc<dyn $crate::conformance::Store> = $make.await;
            $crate::conformance::$case(store).await;
        }
    };
    (@case (optional $make:expr) $case:ident) => {
        #[tokio::test]
        async fn $case() {
            let store: ::std::option::Option<::std::sync::Arc<dyn $crate::conformance::Store>> =
                $make.await;
            if let ::std::option::Option::Some(store) = store {
                $crate::conformance::$case(store).await;
            }
        }
    };
    (@list $mode:tt) => {
        $crate::conformance_tests!(@cases $mode
            user_insert_and_read_back,
            user_lookups_ignore_case,
            user_missing_is_none,
            user_email_conflict_names_the_value,
            user_username_conflict_ignores_case,
            user_update_bumps_version_and_updated,
            user_update_changes_every_field,
            user_update_conflicts_name_the_value,
            user_update_moves_email_and_username_lookups,
            user_delete_removes_user_and_grants,
            user_password_hash_round_trips,
            user_password_schemes_filter_and_count,
            user_entries_and_scope_round_trip_in_order,
            user_times_round_trip,
            existing_emails_reports_taken_ones,
            username_skeleton_owners_finds_the_batch,
            insert_users_in_order,
            insert_users_fails_whole_on_conflict,
            list_orders_by_id_with_paging_and_total,
            list_sorts_by_every_field_both_ways,
            list_sort_pages_and_filters,
            search_matches_every_word_in_any_field,
            search_filters_type_active_confirmed,
            search_takes_wildcards_literally,
            search_filters_users_with_entries,
            search_follows_writes_in_the_same_transaction,
            reindex_counts_and_keeps_results,
            role_insert_duplicate_is_false,
            role_update_and_delete,
            role_delete_removes_its_grants,
            roles_listed_by_name,
            grant_add_duplicate_is_false,
            grant_allow_and_deny_coexist,
            grant_remove_takes_allow_and_deny,
            grant_filter_and_order,
            grant_on_user_bumps_user_version,
            policy_generation_follows_roles_and_role_grants,
            history_round_trips_oldest_first,
            history_filters_user_since_limit,
            history_filters_actor_target_action_and_time,
            history_pages_from_the_newest_both_ways,
            credential_insert_and_find_by_hash,
            credential_expiry_is_checked_at_now,
            service_token_name_conflicts,
            credential_delete_by_id,
            delete_user_credentials_keeps_one,
            credentials_listed_by_kind_in_id_order,
            link_is_used_once,
            link_wrong_purpose_or_missing_is_none,
            link_expired_is_none_and_deleted,
            credentials_and_links_go_with_the_user,
            purge_expired_keeps_live_ones,
            begin_read_sees_committed_data,
            tx_drop_rolls_back_everything,
            tx_commit_is_visible_to_the_next,
            data_version_follows_committed_writes,
            data_version_shortcut_is_never_stale,
            dropped_transactions_leave_connections_usable,
            cancelled_begins_leave_connections_usable,
            record_many_keeps_order,
            schema_version_is_current,
            is_empty_until_anything_is_stored,
            import_user_keeps_id_times_and_version,
            import_grant_leaves_user_version_and_counts_role_grants,
            import_credential_keeps_created_and_export_lists_hashes,
            import_history_keeps_id_and_time,
            oidc_client_round_trips_and_updates,
            signing_keys_round_trip_and_retire,
            auth_code_is_used_once,
            auth_code_use_rolls_back,
            refresh_token_is_used_once,
            oauth_tokens_revoke_by_token_family_user_client,
            oauth_purge_and_user_delete,
            oauth_tokens_insert_together,
            oidc_consents_remember_replace_and_forget,
        );
    };
    (optional $make:expr) => {
        $crate::conformance_tests!(@list (optional $make));
    };
    ($make:expr) => {
        $crate::conformance_tests!(@list (required $make));
    };
}

/// Raw SQL on a store's own database, for the cases that damage it on purpose (every other
/// case uses the trait only).
#[async_trait]
pub trait RawSql: Sync {
    /// Runs one statement that takes no values, outside any transaction.
    async fn execute_raw(&self, sql: &str);
}

#[async_trait]
impl RawSql for crate::SqliteStore {
    async fn execute_raw(&self, sql: &str) {
        sqlx::raw_sql(sql).execute(self.pool()).await.unwrap();
    }
}

#[async_trait]
impl RawSql for crate::PostgresStore {
    async fn execute_raw(&self, sql: &str) {
        sqlx::raw_sql(sql).execute(self.pool()).await.unwrap();
    }
}

/// A time with microseconds, the finest any backend keeps.
pub(crate) fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .with_timezone(&Utc)
}

pub(crate) fn email(s: &str) -> Email {
    Email::new(s).unwrap()
}

pub(crate) fn username(s: &str) -> Username {
    Username::new(s).unwrap()
}

pub(crate) fn role_name(s: &str) -> RoleName {
    s.parse().unwrap()
}

pub(crate) fn privilege(s: &str) -> Privilege {
    s.parse().unwrap()
}

/// A valid Argon2id PHC string (the argon2 crate's test vector; no hashing needed).
pub(crate) const PHC: &str =
    "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG";

pub(crate) fn hash() -> PasswordHash {
    PasswordHash::from_phc(PHC).unwrap()
}

/// A plain active, unconfirmed user with only an email (also for backend-specific tests).
pub fn new_user(address: &str) -> NewUser {
    NewUser {
        email: email(address),
        username: None,
        full_name: String::new(),
        affiliations: String::new(),
        active: true,
        confirmed_at: None,
        password_hash: None,
        user_type: None,
        entries: Vec::new(),
        editorial_scope: Vec::new(),
    }
}

/// The same with a username.
pub(crate) fn named_user(address: &str, name: &str) -> NewUser {
    NewUser {
        username: Some(username(name)),
        ..new_user(address)
    }
}

/// Asserts a conflict on `field` naming exactly `value`.
#[track_caller]
pub(crate) fn assert_conflict<T: Debug>(
    result: Result<T, StoreError>,
    field: ConflictField,
    value: &str,
) {
    match result {
        Err(StoreError::Conflict { field: f, value: v }) => {
            assert_eq!((f, v.as_str()), (field, value));
        }
        other => panic!("expected a conflict on the {field} `{value}`, got {other:?}"),
    }
}

/// Starts a transaction.
pub(crate) async fn begin(store: &dyn Store) -> Box<dyn Tx> {
    store.begin().await.unwrap()
}
