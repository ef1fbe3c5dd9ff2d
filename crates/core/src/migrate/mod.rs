//! Moving in from a running InvenioRDM, EPrints or DSpace (`gatehouse migrate-from`, issue
//! 12). A reader in the store crate turns the platform's tables into a neutral [`Source`]
//! (read in one snapshot); [`Gatehouse::migrate_in`](crate::Gatehouse::migrate_in) checks it
//! against this database into a plan (counts per kind and every conflict) and, unless only
//! the plan was asked for, writes it in ONE transaction: users with their password hashes
//! copied as stored (verified and replaced at their first log in), run-time roles, each
//! user's role entries, grants and history. Re-running skips what exists; `update` refreshes
//! it from the source.
//!
//! Nothing is ever widened: a source item Gatehouse cannot express exactly (a grant with an
//! argument, a scope search it cannot hold, a role that would take a policy file role's
//! meaning) is reported and left out.

pub mod editperms;
mod plan;

use gatehouse_policy::{Effect, ScopeFilter, SystemRole};
use serde::Serialize;

/// The platform a source was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    /// InvenioRDM (invenio-accounts, invenio-access).
    Invenio,
    /// EPrints 3.3 / 3.4.
    Eprints,
    /// DSpace 6 to 9.
    Dspace,
}

impl Platform {
    /// `invenio`, `eprints`, `dspace`.
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Invenio => "invenio",
            Platform::Eprints => "eprints",
            Platform::Dspace => "dspace",
        }
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One account as the source holds it, values as read (checked by the plan).
#[derive(Debug, Clone, Default)]
pub struct SourceUser {
    /// The row's key in the source, for messages: `accounts_user 5`, `userid 12`,
    /// `eperson 3f2a...`.
    pub key: String,
    /// Email as stored.
    pub email: String,
    /// Username (EPrints username, DSpace netid, InvenioRDM username).
    pub username: Option<String>,
    /// Full name.
    pub full_name: String,
    /// Affiliations.
    pub affiliations: String,
    /// May log in.
    pub active: bool,
    /// Email confirmed.
    pub confirmed: bool,
    /// The password hash in the form Gatehouse reads (`crate::legacy`), copied as is.
    pub password_hash: Option<String>,
    /// User type (EPrints `usertype`); `None` takes the configured default type.
    pub user_type: Option<String>,
    /// Source roles (groups) the user is a member of, by source role name.
    pub roles: Vec<String>,
    /// Own entries as written in the source (EPrints `user_roles`: role names, `+p`, `-p`),
    /// in order, after the memberships.
    pub entries: Vec<String>,
    /// Editorial scope filters (already converted).
    pub editorial_scope: Vec<ScopeFilter>,
}

/// A role (group) of the source, to become a run-time role.
#[derive(Debug, Clone)]
pub struct SourceRole {
    /// The name as the source spells it.
    pub name: String,
    /// Description.
    pub description: Option<String>,
}

/// Who a source grant is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceTarget {
    /// A user, by [`SourceUser::key`].
    User(String),
    /// A source role, by its source name.
    Role(String),
    /// A system role.
    SystemRole(SystemRole),
}

/// An action grant of the source.
#[derive(Debug, Clone)]
pub struct SourceGrant {
    /// Allow or deny.
    pub effect: Effect,
    /// The privilege (action) as the source names it.
    pub privilege: String,
    /// Who.
    pub target: SourceTarget,
}

/// Something the reader left out, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// What kind of thing: `user`, `role`, `membership`, `grant`, `editperms`, `entry`.
    pub kind: &'static str,
    /// Which one, in the source's terms.
    pub subject: String,
    /// Why.
    pub reason: String,
}

/// Everything read from a source, in the neutral form.
#[derive(Debug, Clone)]
pub struct Source {
    /// The platform.
    pub platform: Platform,
    /// Where it was read from, credentials removed (for the report).
    pub location: String,
    /// Accounts.
    pub users: Vec<SourceUser>,
    /// Roles (groups).
    pub roles: Vec<SourceRole>,
    /// Grants.
    pub grants: Vec<SourceGrant>,
    /// What the reader already left out.
    pub skipped: Vec<Skipped>,
}

impl Source {
    /// An empty source of `platform`.
    pub fn new(platform: Platform, location: impl Into<String>) -> Self {
        Source {
            platform,
            location: location.into(),
            users: Vec::new(),
            roles: Vec::new(),
            grants: Vec::new(),
            skipped: Vec::new(),
        }
    }
}

/// How to run a migration.
#[derive(Debug, Clone, Copy, Default)]
pub struct MigrateOptions {
    /// Only compute and report the plan; write nothing.
    pub plan_only: bool,
    /// Refresh users and roles that exist already from the source.
    pub update: bool,
}

/// What one kind of record would do or did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct KindCounts {
    /// In the source.
    pub source: u64,
    /// New in Gatehouse.
    pub create: u64,
    /// Existing, refreshed (`--update`).
    pub update: u64,
    /// Existing, left alone.
    pub existing: u64,
    /// Left out (a conflict or something Gatehouse cannot express).
    pub skipped: u64,
}

/// Counts per kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct MigrateCounts {
    /// Accounts.
    pub users: KindCounts,
    /// Roles.
    pub roles: KindCounts,
    /// Role entries given to users (memberships and EPrints entries).
    pub memberships: KindCounts,
    /// Grants.
    pub grants: KindCounts,
    /// Editorial scope filters.
    pub scopes: KindCounts,
}

/// A conflict between the source and this database, or inside the source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MigrateConflict {
    /// `email_taken`, `username_taken`, `case_duplicate`, `look_alike`, `role_clash`,
    /// `invalid`.
    pub kind: &'static str,
    /// The source item, in the source's terms.
    pub subject: String,
    /// What clashes, and what happens to the item.
    pub detail: String,
}

/// The plan, and what was written.
#[derive(Debug, Clone, Serialize)]
pub struct MigrateReport {
    /// The platform.
    pub platform: Platform,
    /// Where from (no credentials).
    pub source: String,
    /// True when nothing was written (`--plan`).
    pub plan_only: bool,
    /// True when existing users and roles were refreshed.
    pub update: bool,
    /// Counts per kind.
    pub counts: MigrateCounts,
    /// Every conflict; the items concerned were left out.
    pub conflicts: Vec<MigrateConflict>,
    /// Everything else left out, and why.
    pub skipped: Vec<Skipped>,
}
