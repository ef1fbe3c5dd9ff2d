//! The storage contract. Everything the services read or write goes through a [`Tx`]: one
//! transaction, committed whole or not at all. SQLite and PostgreSQL implement it in the
//! `gatehouse-store` crate, and both must pass its conformance suite.
//!
//! Contract points that implementations must keep (the conformance suite checks each):
//! - emails are stored lower-cased and are unique; `user_by_email` is case-insensitive;
//! - usernames are unique case-insensitively (`user_by_username` too), display case kept;
//! - inserting a taken email or username fails with [`StoreError::Conflict`] naming the
//!   field and the value;
//! - every change to a user (`update_user`) and every grant added to or removed from a user
//!   increments that user's `version`;
//! - every change to run-time roles or to grants on roles or system roles increments the
//!   policy generation ([`Tx::policy_generation`]); where its counter is missing (a damaged
//!   database) such a change fails with [`StoreError::Backend`], never goes uncounted;
//! - the user search index changes in the same transaction as the user;
//! - nothing is visible to other transactions before `commit`, and dropping a `Tx` without
//!   committing rolls it back;
//! - after a method returns `Err`, the caller drops the `Tx` (PostgreSQL aborts the whole
//!   transaction on an error; SQLite would not, and nobody may rely on either);
//! - credentials and links are stored by the hash of their token only; a link is used once;
//! - the `import_*` methods (for `gatehouse import` into an empty database) write records as
//!   given, ids, times and versions included, and count nothing on users: importing a grant
//!   on a user leaves the user's version and `updated` as imported; grants on roles and
//!   system roles, and roles, still increment the policy generation; ids given to imported
//!   users and history events are never handed out again by later inserts.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gatehouse_policy::{Effect, Grant, GrantTarget, Privilege, RoleName, TypeName, UserId};

use crate::account::{Email, Username};
use crate::oidc::model::{
    AuthCode, ClientId, CodeUse, Consent, OAuthToken, OidcClient, RefreshUse, SigningKey,
};
use crate::user::{HistoryEvent, NewUser, StoredRole, User};

/// A storage failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule was broken: which one, and the value the caller gave. Shown as
    /// ``email `a@b.org` is already taken`` (the value cut to 100 characters).
    #[error("{}", conflict_message(*field, value))]
    Conflict {
        /// The rule: which field must be unique.
        field: ConflictField,
        /// The value that is taken, as the caller gave it.
        value: String,
    },
    /// The database's schema is newer than this build knows.
    #[error("database schema version {found} is newer than this build knows ({known})")]
    SchemaTooNew {
        /// Version found in the database.
        found: i64,
        /// Newest version this build knows.
        known: i64,
    },
    /// The database failed; the text is for logs, not for users.
    #[error("database error: {0}")]
    Backend(String),
}

/// A field whose values must be unique: what a [`StoreError::Conflict`] names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConflictField {
    /// A user's email (stored lower-cased).
    Email,
    /// A user's username (unique whatever its case).
    Username,
    /// A service token's name.
    ServiceTokenName,
}

impl ConflictField {
    /// The field's name: `email`, `username`, `service token name`.
    pub fn as_str(self) -> &'static str {
        match self {
            ConflictField::Email => "email",
            ConflictField::Username => "username",
            ConflictField::ServiceTokenName => "service token name",
        }
    }
}

impl std::fmt::Display for ConflictField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// ``email `a@b.org` is already taken``, ``service token `repo` already exists``: the one
/// wording of a conflict, for logs and for users, with the value cut to 100 characters.
pub(crate) fn conflict_message(field: ConflictField, value: &str) -> String {
    let value = crate::error::shorten(value);
    match field {
        ConflictField::Email => format!("email `{value}` is already taken"),
        ConflictField::Username => format!("username `{value}` is already taken"),
        ConflictField::ServiceTokenName => format!("service token `{value}` already exists"),
    }
}

/// Filters and paging for listing and searching users.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserQuery {
    /// Words that must all occur (case-insensitively) in the email, username, full name or
    /// affiliations.
    pub text: Option<String>,
    /// Only users of this type.
    pub user_type: Option<TypeName>,
    /// Only active (true) or inactive (false) users.
    pub active: Option<bool>,
    /// Only confirmed (true) or unconfirmed (false) users.
    pub confirmed: Option<bool>,
    /// Only users with entries of their own (roles or `+`/`-` entries on the user).
    pub with_entries: bool,
    /// Only users with a larger id (paging by id, stable while users are added).
    pub after_id: Option<UserId>,
    /// Only users whose password hash has this scheme (accounts still carrying another
    /// platform's hash, issue 12).
    pub password_scheme: Option<crate::legacy::Scheme>,
    /// Skip this many (ordered by id, or by the sort given to
    /// [`Tx::list_users_sorted`]).
    pub offset: u64,
    /// At most this many; 0 means no limit.
    pub limit: u64,
}

/// A field users can be listed by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UserSortField {
    /// The id (creation order): the default.
    #[default]
    Id,
    /// The email (stored lower-cased), in byte order.
    Email,
    /// The username, ignoring ASCII case; users without one come last.
    Username,
    /// The full name, ignoring ASCII case; users without one (empty) come last.
    FullName,
    /// The user type's name; users without a type come last.
    Type,
    /// Inactive, then active.
    Active,
    /// Unconfirmed, then confirmed.
    Confirmed,
    /// When the account was created.
    Created,
}

impl UserSortField {
    /// Every field, in the order messages list them.
    pub const ALL: [UserSortField; 8] = [
        UserSortField::Id,
        UserSortField::Email,
        UserSortField::Username,
        UserSortField::FullName,
        UserSortField::Type,
        UserSortField::Active,
        UserSortField::Confirmed,
        UserSortField::Created,
    ];

    /// The field's name: `id`, `email`, `username`, `full_name`, `type`, `active`,
    /// `confirmed`, `created`.
    pub fn as_str(self) -> &'static str {
        match self {
            UserSortField::Id => "id",
            UserSortField::Email => "email",
            UserSortField::Username => "username",
            UserSortField::FullName => "full_name",
            UserSortField::Type => "type",
            UserSortField::Active => "active",
            UserSortField::Confirmed => "confirmed",
            UserSortField::Created => "created",
        }
    }
}

impl std::fmt::Display for UserSortField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which way a sort runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SortDirection {
    /// Smallest first (the default).
    #[default]
    Ascending,
    /// Largest first.
    Descending,
}

/// The order of a user listing: a field and a direction. Both stores order the same way:
/// text by the bytes of its UTF-8 (the full name with ASCII letters folded to lower case),
/// users missing the field (no username, no type, an empty full name) last in either
/// direction, and ties by id, ascending, so that pages never overlap or skip.
///
/// Written `FIELD` for ascending and `-FIELD` for descending (`email`, `-created`), on the
/// command line (`--sort -created`) and in the API (`?sort=-created`) alike.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct UserSort {
    /// By what.
    pub field: UserSortField,
    /// Which way.
    pub direction: SortDirection,
}

impl UserSort {
    /// `field`, ascending.
    pub fn ascending(field: UserSortField) -> Self {
        UserSort {
            field,
            direction: SortDirection::Ascending,
        }
    }

    /// `field`, descending.
    pub fn descending(field: UserSortField) -> Self {
        UserSort {
            field,
            direction: SortDirection::Descending,
        }
    }
}

impl std::str::FromStr for UserSort {
    type Err = crate::error::CoreError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (direction, name) = match s.strip_prefix('-') {
            Some(rest) => (SortDirection::Descending, rest),
            None => (SortDirection::Ascending, s),
        };
        match UserSortField::ALL.iter().find(|f| f.as_str() == name) {
            Some(&field) => Ok(UserSort { field, direction }),
            None => Err(crate::error::CoreError::invalid(
                "sort",
                format!(
                    "cannot sort users by `{}`; use one of {}, with `-` in front for \
                     descending (e.g. `-created`)",
                    crate::error::shorten(s),
                    UserSortField::ALL.map(UserSortField::as_str).join(", ")
                ),
            )),
        }
    }
}

impl std::fmt::Display for UserSort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.direction == SortDirection::Descending {
            f.write_str("-")?;
        }
        f.write_str(self.field.as_str())
    }
}

/// One page of users and the total that matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// How many matched in all.
    pub total: u64,
}

/// Which grants to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GrantFilter {
    /// Only grants to this target.
    pub target: Option<GrantTarget>,
    /// Only grants of this privilege.
    pub privilege: Option<Privilege>,
    /// Only this effect.
    pub effect: Option<Effect>,
}

/// Which history events to list, and which page of them.
///
/// Paging counts from the newest event: `offset` skips the newest `offset` matches and
/// `limit` takes the next `limit`, so page `n` of size `s` is `offset = n * s` whatever
/// order it is shown in. The page comes back oldest first, or newest first with
/// `newest_first`. With neither `offset` nor `newest_first`, `limit` gives the latest events
/// oldest first, as it always did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistoryFilter {
    /// Only events about this user.
    pub user_id: Option<UserId>,
    /// Only events at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only events before this time (exclusive, so `since`..`until` ranges do not overlap).
    pub until: Option<DateTime<Utc>>,
    /// Only events whose actor (`user ann@example.org (id 3)`, `operator root`) contains
    /// this text, ignoring ASCII case.
    pub actor: Option<String>,
    /// Only events whose target (an email, `role editor`, a token name) contains this text,
    /// ignoring ASCII case.
    pub target: Option<String>,
    /// Only events of exactly this action (`user.create`, `grant.allow`, ...).
    pub action: Option<String>,
    /// Skip this many of the newest matches.
    pub offset: u64,
    /// At most this many; 0 means no limit.
    pub limit: u64,
    /// Show the page newest first (otherwise oldest first).
    pub newest_first: bool,
}

/// What a credential is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialKind {
    /// A browser session (cookie).
    Session,
    /// A user's bearer token from a log in.
    Bearer,
    /// A service token for a repository application (`gatehouse tokens create`).
    Service,
}

impl CredentialKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialKind::Session => "session",
            CredentialKind::Bearer => "bearer",
            CredentialKind::Service => "service",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "session" => Some(CredentialKind::Session),
            "bearer" => Some(CredentialKind::Bearer),
            "service" => Some(CredentialKind::Service),
            _ => None,
        }
    }
}

/// A stored credential (never its token, only the token's hash is stored).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Credential {
    /// Id.
    pub id: i64,
    /// Kind.
    pub kind: CredentialKind,
    /// The user it logs in (sessions and bearer tokens).
    pub user_id: Option<UserId>,
    /// The name (service tokens; unique among them).
    pub name: Option<String>,
    /// The privileges it holds (service tokens).
    pub privileges: Vec<Privilege>,
    /// Created.
    pub created: DateTime<Utc>,
    /// Expires, if ever.
    pub expires: Option<DateTime<Utc>>,
}

/// A credential to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCredential {
    /// Kind.
    pub kind: CredentialKind,
    /// Hex SHA-256 of the token.
    pub token_hash: String,
    /// The user (sessions and bearer tokens).
    pub user_id: Option<UserId>,
    /// The name (service tokens).
    pub name: Option<String>,
    /// Privileges (service tokens).
    pub privileges: Vec<Privilege>,
    /// Expiry.
    pub expires: Option<DateTime<Utc>>,
}

/// What a single-use link does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkPurpose {
    /// Confirms the email address.
    Confirm,
    /// Resets the password.
    Reset,
}

impl LinkPurpose {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            LinkPurpose::Confirm => "confirm",
            LinkPurpose::Reset => "reset",
        }
    }
}

/// A store: hands out transactions.
#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    /// Starts a transaction.
    async fn begin(&self) -> Result<Box<dyn Tx>, StoreError>;
    /// Starts a transaction that only reads (SQLite need not take the write lock for it).
    /// Writing through it is a contract violation.
    async fn begin_read(&self) -> Result<Box<dyn Tx>, StoreError> {
        self.begin().await
    }
    /// The data version: a number that every committed transaction from [`Store::begin`]
    /// increases, read without a transaction. Caches compare it to know whether anything
    /// changed, on this process or any other, since they were filled.
    async fn data_version(&self) -> Result<i64, StoreError>;
    /// The data version without a round trip, when the store can tell cheaply and for
    /// certain that no transaction has committed, on any process, since its last
    /// [`Store::data_version`] read; then it is that read's answer. `None` when it cannot
    /// tell (the default), and callers read [`Store::data_version`]. Never answers with a
    /// version older than a commit that finished before the call. Called on every request,
    /// on the runtime's threads: it must not block for longer than a memory read.
    fn data_version_unchanged(&self) -> Option<i64> {
        None
    }
    /// `sqlite` or `postgres`, for messages.
    fn kind(&self) -> &'static str;
    /// Token buckets every node shares (the log in throttle's), when the store is shared by
    /// several nodes; `None` (the default) keeps them in each process's memory.
    fn shared_buckets(&self) -> Option<std::sync::Arc<dyn SharedBuckets>> {
        None
    }
}

/// Rows of `(tokens, at)` by key, shared by every node, changed under a lock so that nodes
/// cannot race each other (the log in throttle's buckets, `server::throttle`). Writing them
/// is not a change of data: it does not move the data version.
#[async_trait]
pub trait SharedBuckets: Send + Sync {
    /// Locks the rows of `keys` (absent ones read as `None`), lets `decide` change them,
    /// and, if it returns true, writes back every row that is `Some`. `now` (Unix seconds)
    /// lets the store purge rows untouched for a week.
    async fn update(
        &self,
        keys: &[String],
        now: f64,
        decide: &(dyn for<'r> Fn(&'r mut [Option<(f64, f64)>]) -> bool + Send + Sync),
    ) -> Result<bool, StoreError>;
}

/// One transaction. Dropping it without [`Tx::commit`] rolls it back.
#[async_trait]
pub trait Tx: Send {
    /// Inserts a user; `Conflict` if the email or username is taken.
    async fn insert_user(&mut self, user: &NewUser) -> Result<User, StoreError>;
    /// Many users at once (fixtures); same rules as `insert_user`, in order.
    async fn insert_users(&mut self, users: &[NewUser]) -> Result<Vec<User>, StoreError> {
        let mut out = Vec::with_capacity(users.len());
        for u in users {
            out.push(self.insert_user(u).await?);
        }
        Ok(out)
    }
    /// A user by id.
    async fn user_by_id(&mut self, id: UserId) -> Result<Option<User>, StoreError>;
    /// A user whose email has the confusable skeleton `skeleton`
    /// ([`crate::text::email_skeleton`], kept by the store on every write), lowest id first.
    async fn user_by_skeleton(&mut self, skeleton: &str) -> Result<Option<User>, StoreError>;
    /// A user whose username has the confusable skeleton `skeleton`
    /// ([`crate::text::username_skeleton`]), lowest id first.
    async fn user_by_username_skeleton(
        &mut self,
        skeleton: &str,
    ) -> Result<Option<User>, StoreError>;
    /// The user a link names if it is valid for `purpose` at `now`, without using it.
    async fn link_user(
        &mut self,
        purpose: LinkPurpose,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<UserId>, StoreError>;
    /// Ends one log in: deletes credential `credential` and the other one the same log in
    /// issued (a session and its bearer token share `name`, the log in's id).
    async fn end_login(&mut self, credential: i64) -> Result<u64, StoreError>;
    /// A secret every node shares: stored as `value` if there was none, then read.
    async fn secret(&mut self, name: &str, value: &str) -> Result<String, StoreError>;
    /// A user by email, case-insensitively.
    async fn user_by_email(&mut self, email: &Email) -> Result<Option<User>, StoreError>;
    /// A user by username, case-insensitively.
    async fn user_by_username(&mut self, username: &Username) -> Result<Option<User>, StoreError>;
    /// Which of these emails exist already (lower-cased), for bulk loads.
    async fn existing_emails(&mut self, emails: &[Email]) -> Result<Vec<Email>, StoreError>;
    /// The stored emails whose confusable skeleton is one of `skeletons`, as (skeleton,
    /// email) pairs, for bulk loads.
    async fn skeleton_owners(
        &mut self,
        skeletons: &[String],
    ) -> Result<Vec<(String, String)>, StoreError>;
    /// The stored usernames whose confusable skeleton is one of `skeletons`, as (skeleton,
    /// username) pairs, for bulk loads (one query for the whole batch).
    async fn username_skeleton_owners(
        &mut self,
        skeletons: &[String],
    ) -> Result<Vec<(String, String)>, StoreError>;
    /// Writes every field of `user` except id and created; sets `updated` and increments
    /// `version`; returns the stored user. `Conflict` on a taken email or username.
    async fn update_user(&mut self, user: &User) -> Result<User, StoreError>;
    /// Deletes a user with their grants; false if there was none.
    async fn delete_user(&mut self, id: UserId) -> Result<bool, StoreError>;
    /// Lists or searches users, ordered by id.
    async fn list_users(&mut self, query: &UserQuery) -> Result<Page<User>, StoreError> {
        self.list_users_sorted(query, UserSort::default()).await
    }
    /// Lists or searches users in `sort` order (see [`UserSort`] for the rules both stores
    /// keep: byte order, missing values last, ties by id). The sort is beside the query
    /// rather than in it so that code building a `UserQuery` field by field keeps
    /// compiling.
    async fn list_users_sorted(
        &mut self,
        query: &UserQuery,
        sort: UserSort,
    ) -> Result<Page<User>, StoreError>;
    /// How many users hold a password hash of each scheme: (scheme name, count), by name;
    /// users without a password are not counted.
    async fn password_schemes(&mut self) -> Result<Vec<(String, u64)>, StoreError>;
    /// Rebuilds the user search index; returns the number of users indexed.
    async fn reindex_users(&mut self) -> Result<u64, StoreError>;

    /// Inserts a run-time role; false (and no change) if one of that name exists.
    async fn insert_role(&mut self, role: &StoredRole) -> Result<bool, StoreError>;
    /// Replaces a run-time role's description and entries; false if there is none.
    async fn update_role(&mut self, role: &StoredRole) -> Result<bool, StoreError>;
    /// Deletes a run-time role and the grants on it; false if there was none.
    async fn delete_role(&mut self, name: &RoleName) -> Result<bool, StoreError>;
    /// A run-time role by name.
    async fn role(&mut self, name: &RoleName) -> Result<Option<StoredRole>, StoreError>;
    /// Every run-time role, by name.
    async fn roles(&mut self) -> Result<Vec<StoredRole>, StoreError>;

    /// Adds a grant; false (and no change) if that exact grant exists.
    async fn add_grant(&mut self, grant: &Grant) -> Result<bool, StoreError>;
    /// Removes the allow and the deny of `privilege` for `target`; returns how many went.
    async fn remove_grants(
        &mut self,
        privilege: &Privilege,
        target: &GrantTarget,
    ) -> Result<u64, StoreError>;
    /// Lists grants, ordered by target then privilege.
    async fn grants(&mut self, filter: &GrantFilter) -> Result<Vec<Grant>, StoreError>;

    /// The policy generation: increments with every change to run-time roles or to grants
    /// on roles or system roles.
    async fn policy_generation(&mut self) -> Result<i64, StoreError>;

    /// Records a history event (in this transaction).
    async fn record(&mut self, event: &HistoryEvent) -> Result<(), StoreError>;
    /// Records many history events, in order (bulk loads); the same as `record` for each.
    async fn record_many(&mut self, events: &[HistoryEvent]) -> Result<(), StoreError> {
        for e in events {
            self.record(e).await?;
        }
        Ok(())
    }
    /// Lists one page of history events (see [`HistoryFilter`] for paging and order).
    async fn history(&mut self, filter: &HistoryFilter) -> Result<Vec<HistoryEvent>, StoreError>;
    /// How many events match `filter`'s conditions (its `offset`, `limit` and order aside).
    async fn count_history(&mut self, filter: &HistoryFilter) -> Result<u64, StoreError>;

    /// Stores a credential; `Conflict` if a service token of that name exists.
    async fn insert_credential(
        &mut self,
        credential: &NewCredential,
    ) -> Result<Credential, StoreError>;
    /// The credential whose token hashes to `token_hash`, if it exists and has not expired
    /// at `now`.
    async fn credential_by_hash(
        &mut self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Credential>, StoreError>;
    /// Deletes a credential; false if there was none.
    async fn delete_credential(&mut self, id: i64) -> Result<bool, StoreError>;
    /// Deletes a service token by name; false if there was none.
    async fn delete_service_token(&mut self, name: &str) -> Result<bool, StoreError>;
    /// Deletes every session and bearer token of a user except `keep`; returns how many.
    async fn delete_user_credentials(
        &mut self,
        user: UserId,
        keep: Option<i64>,
    ) -> Result<u64, StoreError>;
    /// Lists credentials of a kind (all kinds when `None`), ordered by id.
    async fn credentials(
        &mut self,
        kind: Option<CredentialKind>,
    ) -> Result<Vec<Credential>, StoreError>;

    /// Deletes every credential and link that has expired at `now`; returns how many went.
    async fn purge_expired(&mut self, now: DateTime<Utc>) -> Result<u64, StoreError>;

    /// Stores a single-use link token (by hash) for a user, valid until `expires`.
    async fn insert_link(
        &mut self,
        purpose: LinkPurpose,
        user: UserId,
        token_hash: &str,
        expires: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Uses a link: deletes it and returns its user if it existed for `purpose` and had not
    /// expired at `now`; `None` otherwise (a second use finds nothing).
    async fn consume_link(
        &mut self,
        purpose: LinkPurpose,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<UserId>, StoreError>;

    /// The schema version of the database (what `gatehouse export` records).
    async fn schema_version(&mut self) -> Result<i64, StoreError>;
    /// Whether the database holds no users, run-time roles, grants, credentials or history
    /// (counters and the schema do not count).
    async fn is_empty(&mut self) -> Result<bool, StoreError>;
    /// Every credential with the hash of its token, ordered by id (for export; expired ones
    /// included).
    async fn export_credentials(&mut self) -> Result<Vec<(Credential, String)>, StoreError>;
    /// Inserts `user` exactly as given: id, created, updated and version included, with its
    /// search row. `Conflict` if the email or username is taken.
    async fn import_user(&mut self, user: &User) -> Result<(), StoreError>;
    /// Adds a grant like [`Tx::add_grant`], except that a grant on a user leaves the user's
    /// version and `updated` alone (they were imported as they stood).
    async fn import_grant(&mut self, grant: &Grant) -> Result<bool, StoreError>;
    /// Stores a credential created at `created` (rules as [`Tx::insert_credential`]).
    async fn import_credential(
        &mut self,
        credential: &NewCredential,
        created: DateTime<Utc>,
    ) -> Result<Credential, StoreError>;
    /// Records a history event keeping its id and time.
    async fn import_history(&mut self, event: &HistoryEvent) -> Result<(), StoreError>;

    /// Stores an OpenID Connect client (id, times and all as given).
    async fn insert_oidc_client(&mut self, client: &OidcClient) -> Result<(), StoreError>;
    /// A client by id (revoked ones too).
    async fn oidc_client(&mut self, id: &ClientId) -> Result<Option<OidcClient>, StoreError>;
    /// Every client, by creation then id.
    async fn oidc_clients(&mut self) -> Result<Vec<OidcClient>, StoreError>;
    /// Writes every field of `client` but id and created; false if there is none.
    async fn update_oidc_client(&mut self, client: &OidcClient) -> Result<bool, StoreError>;

    /// Stores a signing key.
    async fn insert_signing_key(&mut self, key: &SigningKey) -> Result<(), StoreError>;
    /// Every signing key, oldest first (retired ones too).
    async fn signing_keys(&mut self) -> Result<Vec<SigningKey>, StoreError>;
    /// Sets when a key stops being published; false if there is no such key.
    async fn retire_signing_key(
        &mut self,
        kid: &str,
        after: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Stores an authorization code (by hash).
    async fn insert_auth_code(&mut self, code: &AuthCode) -> Result<(), StoreError>;
    /// Uses an authorization code: marks it used and returns it if it was unused and had not
    /// expired at `now` ([`CodeUse::Fresh`]); a code used before is [`CodeUse::Replayed`]
    /// (whether or not it expired since); of two transactions using one code at once, one
    /// gets `Fresh` and the other `Replayed`.
    async fn use_auth_code(
        &mut self,
        code_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<CodeUse, StoreError>;

    /// Stores access and refresh tokens (by hash) in one statement (a grant's access and refresh token).
    async fn insert_oauth_tokens(&mut self, tokens: &[OAuthToken]) -> Result<(), StoreError>;
    /// A token by hash, whatever its state (callers check expiry, revocation and use).
    async fn oauth_token(&mut self, token_hash: &str) -> Result<Option<OAuthToken>, StoreError>;
    /// Uses a refresh token: [`RefreshUse::Fresh`] (as it is now: marked used) if it was unused, not
    /// revoked and not expired at `now`; [`RefreshUse::Reused`] if it was used or revoked
    /// before; of two transactions using one at once, one gets `Fresh`.
    async fn use_refresh_token(
        &mut self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<RefreshUse, StoreError>;
    /// Revokes one token; false if there is none (or it was revoked already).
    async fn revoke_oauth_token(&mut self, token_hash: &str) -> Result<bool, StoreError>;
    /// Revokes every token of a chain; returns how many were live.
    async fn revoke_oauth_family(&mut self, family: &str) -> Result<u64, StoreError>;
    /// Revokes every token issued to a user (deactivation, password change).
    async fn revoke_user_oauth_tokens(&mut self, user: UserId) -> Result<u64, StoreError>;
    /// Revokes every token issued to a client (the client's revocation).
    async fn revoke_client_oauth_tokens(&mut self, client: &ClientId) -> Result<u64, StoreError>;
    /// Deletes codes and tokens that expired before `before`; returns how many went.
    async fn purge_oauth(&mut self, before: DateTime<Utc>) -> Result<u64, StoreError>;

    /// A user's remembered consent to a client, if any.
    async fn oidc_consent(
        &mut self,
        user: UserId,
        client: &ClientId,
    ) -> Result<Option<Consent>, StoreError>;
    /// Stores a consent, replacing the user's earlier one to the same client.
    async fn save_oidc_consent(&mut self, consent: &Consent) -> Result<(), StoreError>;
    /// Forgets the consents given to `client`: one user's, or everyone's; returns how many
    /// went.
    async fn forget_oidc_consents(
        &mut self,
        client: &ClientId,
        user: Option<UserId>,
    ) -> Result<u64, StoreError>;
    /// The remembered consents, by user then client: every one (export), or those given to
    /// `client` (its page in the admin UI).
    async fn oidc_consents(
        &mut self,
        client: Option<&ClientId>,
    ) -> Result<Vec<Consent>, StoreError>;

    /// Commits the transaction.
    async fn commit(self: Box<Self>) -> Result<(), StoreError>;
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn user_sorts_parse_and_print_round_trip() {
        for field in UserSortField::ALL {
            for sort in [UserSort::ascending(field), UserSort::descending(field)] {
                let printed = sort.to_string();
                assert_eq!(printed.parse::<UserSort>(), Ok(sort), "{printed}");
            }
        }
        assert_eq!(
            "-created".parse(),
            Ok(UserSort::descending(UserSortField::Created))
        );
        assert_eq!(
            "full_name".parse(),
            Ok(UserSort::ascending(UserSortField::FullName))
        );
        assert_eq!(UserSort::default(), UserSort::ascending(UserSortField::Id));
    }

    #[test]
    fn a_bad_sort_names_the_value_and_the_choices() {
        for bad in ["", "-", "Email", "+email", "--email", "name", "email "] {
            let err = bad.parse::<UserSort>().unwrap_err().to_string();
            assert!(err.contains(&format!("`{bad}`")), "{err}");
            assert!(
                err.contains("id, email, username, full_name, type, active, confirmed, created"),
                "{err}"
            );
        }
    }
}
