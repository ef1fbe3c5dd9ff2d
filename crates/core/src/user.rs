//! Stored records: users, run-time roles and history events.

use chrono::{DateTime, Utc};
use gatehouse_policy::{
    Entry, Privilege, RoleEntry, RoleName, ScopeFilter, TypeName, UserFacts, UserId,
};
use serde::Serialize;

use crate::account::{Email, PasswordHash, Username};

/// A user as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Numeric id.
    pub id: UserId,
    /// Lower-cased email, unique.
    pub email: Email,
    /// Optional username, unique case-insensitively.
    pub username: Option<Username>,
    /// Full name (may be empty).
    pub full_name: String,
    /// Affiliations (may be empty).
    pub affiliations: String,
    /// Whether the account is active.
    pub active: bool,
    /// When the email was confirmed.
    pub confirmed_at: Option<DateTime<Utc>>,
    /// Argon2 hash, if a password is set.
    pub password_hash: Option<PasswordHash>,
    /// The user type.
    pub user_type: Option<TypeName>,
    /// Own ordered entries: role names, `+p`, `-p`.
    pub entries: Vec<Entry>,
    /// Editorial scope filters.
    pub editorial_scope: Vec<ScopeFilter>,
    /// Created.
    pub created: DateTime<Utc>,
    /// Last changed.
    pub updated: DateTime<Utc>,
    /// Bumped by the store on every change to the user or their grants.
    pub version: i64,
}

/// A user to insert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    /// Email.
    pub email: Email,
    /// Username.
    pub username: Option<Username>,
    /// Full name.
    pub full_name: String,
    /// Affiliations.
    pub affiliations: String,
    /// Active.
    pub active: bool,
    /// Confirmed at.
    pub confirmed_at: Option<DateTime<Utc>>,
    /// Password hash.
    pub password_hash: Option<PasswordHash>,
    /// User type.
    pub user_type: Option<TypeName>,
    /// Own entries.
    pub entries: Vec<Entry>,
    /// Editorial scope.
    pub editorial_scope: Vec<ScopeFilter>,
}

/// What `users show --json` prints (SPEC 7.17); no password hash.
#[derive(Debug, Clone, Serialize)]
pub struct UserView {
    /// Id.
    pub id: UserId,
    /// Email.
    pub email: String,
    /// Username.
    pub username: Option<String>,
    /// Full name.
    pub full_name: String,
    /// Affiliations.
    pub affiliations: String,
    /// Active.
    pub active: bool,
    /// Confirmed.
    pub confirmed: bool,
    /// Confirmed at.
    pub confirmed_at: Option<DateTime<Utc>>,
    /// User type.
    #[serde(rename = "type")]
    pub user_type: Option<String>,
    /// Own entries.
    pub roles: Vec<String>,
    /// Editorial scope filters, as `field=v,v;field=v`.
    pub editorial_scope: Vec<String>,
    /// Created.
    pub created: DateTime<Utc>,
    /// Updated.
    pub updated: DateTime<Utc>,
}

impl User {
    /// Whether the email is confirmed.
    pub fn confirmed(&self) -> bool {
        self.confirmed_at.is_some()
    }

    /// The public view of the user.
    pub fn view(&self) -> UserView {
        UserView {
            id: self.id,
            email: self.email.to_string(),
            username: self.username.as_ref().map(ToString::to_string),
            full_name: self.full_name.clone(),
            affiliations: self.affiliations.clone(),
            active: self.active,
            confirmed: self.confirmed(),
            confirmed_at: self.confirmed_at,
            user_type: self.user_type.as_ref().map(ToString::to_string),
            roles: self.entries.iter().map(ToString::to_string).collect(),
            editorial_scope: self
                .editorial_scope
                .iter()
                .map(ToString::to_string)
                .collect(),
            created: self.created,
            updated: self.updated,
        }
    }

    /// The facts the policy engine decides on, with the user's own grants.
    pub fn facts(&self, allow: Vec<Privilege>, deny: Vec<Privilege>) -> UserFacts {
        UserFacts {
            id: self.id,
            email: Some(self.email.to_string()),
            active: self.active,
            user_type: self.user_type.clone(),
            entries: self.entries.clone(),
            allow,
            deny,
            editorial_scope: self.editorial_scope.clone(),
        }
    }

    /// A short label for messages: `ann@example.org (id 3)`.
    pub fn label(&self) -> String {
        format!("{} (id {})", self.email, self.id)
    }
}

/// A role created at run time and stored in the database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredRole {
    /// Name.
    pub name: RoleName,
    /// Description.
    pub description: Option<String>,
    /// Privilege entries.
    #[serde(serialize_with = "ser_role_entries")]
    pub entries: Vec<RoleEntry>,
}

fn ser_role_entries<S: serde::Serializer>(entries: &[RoleEntry], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(entries.iter().map(ToString::to_string))
}

/// Through which door a change came.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// The command line.
    Cli,
    /// The fixtures loader.
    Fixtures,
    /// The HTTP API.
    Api,
    /// The admin web UI.
    Ui,
}

impl Channel {
    /// The channel's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Cli => "cli",
            Channel::Fixtures => "fixtures",
            Channel::Api => "api",
            Channel::Ui => "ui",
        }
    }

    /// Parses a stored channel name.
    pub fn parse(s: &str) -> Option<Channel> {
        match s {
            "cli" => Some(Channel::Cli),
            "fixtures" => Some(Channel::Fixtures),
            "api" => Some(Channel::Api),
            "ui" => Some(Channel::Ui),
            _ => None,
        }
    }
}

/// One recorded change: who, through which channel, what, when. Never a password or hash.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryEvent {
    /// Sequence number (0 before it is stored).
    pub id: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// Who did it: `operator root`, `user ann@example.org (id 3)`.
    pub actor: String,
    /// Through which channel.
    pub channel: Channel,
    /// What kind of change: `user.create`, `user.activate`, `role.add`, `grant.allow`, ...
    pub action: String,
    /// The user the change is about, if any.
    pub user_id: Option<UserId>,
    /// What else it is about (a role, a privilege), in words.
    pub target: String,
    /// What changed, as JSON (before/after values; never secrets).
    pub details: serde_json::Value,
}
