//! The API's request and response bodies: a contract of their own, converted to and from the
//! domain types, and described in the OpenAPI document. Requests refuse unknown fields.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use gatehouse_core::{Credential, GrantView, HistoryEvent, PrivilegesView, User};
use gatehouse_policy::{Decision, Explanation, Item, Owner, UserId};
use gatehouse_policy::{HeldListing, RoleListing};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A user as the API shows it (never a password hash).
#[derive(Debug, Serialize, ToSchema)]
pub struct UserOut {
    /// Id.
    pub id: i64,
    /// Email, lower-cased.
    pub email: String,
    /// Username.
    pub username: Option<String>,
    /// Full name.
    pub full_name: String,
    /// Affiliations.
    pub affiliations: String,
    /// Active.
    pub active: bool,
    /// Email confirmed.
    pub confirmed: bool,
    /// When it was confirmed.
    pub confirmed_at: Option<DateTime<Utc>>,
    /// User type.
    #[serde(rename = "type")]
    pub user_type: Option<String>,
    /// Own ordered entries: role names, `+privilege`, `-privilege`.
    pub roles: Vec<String>,
    /// Editorial scope filters, `field=v,v;field=v`.
    pub editorial_scope: Vec<String>,
    /// Created.
    pub created: DateTime<Utc>,
    /// Updated.
    pub updated: DateTime<Utc>,
}

impl From<&User> for UserOut {
    fn from(u: &User) -> Self {
        let v = u.view();
        UserOut {
            id: v.id.0,
            email: v.email,
            username: v.username,
            full_name: v.full_name,
            affiliations: v.affiliations,
            active: v.active,
            confirmed: v.confirmed,
            confirmed_at: v.confirmed_at,
            user_type: v.user_type,
            roles: v.roles,
            editorial_scope: v.editorial_scope,
            created: v.created,
            updated: v.updated,
        }
    }
}

/// `POST /api/login`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Email (or give `username`).
    pub email: Option<String>,
    /// Username (or give `email`).
    pub username: Option<String>,
    /// Password.
    pub password: String,
}

/// A successful log in.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    /// Bearer token for `Authorization: Bearer <token>`; shown once.
    pub token: String,
    /// When the token expires.
    pub expires: DateTime<Utc>,
    /// The user.
    pub user: UserOut,
}

/// A privilege and where it comes from.
#[derive(Debug, Serialize, ToSchema)]
pub struct HeldOut {
    /// The privilege.
    pub privilege: String,
    /// Its source.
    pub source: String,
}

impl From<HeldListing> for HeldOut {
    fn from(h: HeldListing) -> Self {
        HeldOut {
            privilege: h.privilege,
            source: h.source,
        }
    }
}

/// A user's effective privileges.
#[derive(Debug, Serialize, ToSchema)]
pub struct PrivilegesOut {
    /// The user, in words.
    pub user: String,
    /// Active (inactive users hold only the public set).
    pub active: bool,
    /// Holds `superuser-access`.
    pub superuser: bool,
    /// Effective privileges with sources.
    pub privileges: Vec<HeldOut>,
    /// Denies that apply to the user.
    pub denied: Vec<HeldOut>,
    /// Public privileges.
    pub public: Vec<HeldOut>,
}

impl From<PrivilegesView> for PrivilegesOut {
    fn from(v: PrivilegesView) -> Self {
        PrivilegesOut {
            user: v.user,
            active: v.active,
            superuser: v.superuser,
            privileges: v.privileges.into_iter().map(Into::into).collect(),
            denied: v.denied.into_iter().map(Into::into).collect(),
            public: v.public.into_iter().map(Into::into).collect(),
        }
    }
}

/// `GET /api/me`.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeResponse {
    /// The logged-in user.
    pub user: UserOut,
    /// Their effective privileges.
    pub privileges: PrivilegesOut,
}

/// A user named in a request: a numeric id or an email.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum UserSpec {
    /// By id.
    Id(i64),
    /// By email (or id as text).
    Text(String),
}

impl UserSpec {
    /// The core reference.
    pub fn to_ref(&self) -> Result<gatehouse_core::UserRef, gatehouse_core::CoreError> {
        match self {
            UserSpec::Id(n) => Ok(gatehouse_core::UserRef::Id(UserId(*n))),
            UserSpec::Text(s) => s.parse(),
        }
    }
}

/// An owner of an item: a user id or an email.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum OwnerIn {
    /// User id.
    Id(i64),
    /// Email.
    Email(String),
}

/// The item a privilege is checked against.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemIn {
    /// Dataset, e.g. `eprint`, `user`.
    pub dataset: String,
    /// Status (EPrints virtual dataset): `inbox`, `buffer`, `archive`, `deletion`.
    pub status: Option<String>,
    /// Owners (user ids or emails).
    #[serde(default)]
    pub owners: Vec<OwnerIn>,
    /// Field values for editorial scope, e.g. `{"divisions": ["law"]}`.
    #[serde(default)]
    pub fields: BTreeMap<String, Vec<String>>,
}

impl From<ItemIn> for Item {
    fn from(i: ItemIn) -> Self {
        Item {
            dataset: i.dataset,
            status: i.status,
            owners: i
                .owners
                .into_iter()
                .map(|o| match o {
                    OwnerIn::Id(n) => Owner::Id(UserId(n)),
                    OwnerIn::Email(e) => Owner::Email(e),
                })
                .collect(),
            fields: i.fields,
        }
    }
}

/// `POST /api/check`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckRequest {
    /// Who asks: an id or email. Absent: the caller themselves, or anonymous for a service
    /// token or an anonymous caller. Asking about another user needs `check/any`.
    pub user: Option<UserSpec>,
    /// Ask for an anonymous visitor.
    #[serde(default)]
    pub anonymous: bool,
    /// The privilege, e.g. `eprint/edit`.
    pub privilege: String,
    /// The item.
    pub item: Option<ItemIn>,
}

/// One reason of a decision.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReasonOut {
    /// `public`, `user`, `superuser`, `owner`, `editor`, `not_owner`, `out_of_scope`,
    /// `denied`, `removed`, `not_granted`, `inactive`.
    pub kind: String,
    /// The bit it set (1, 2, 4, 8), or 0.
    pub bit: u8,
    /// The privilege string tested.
    pub privilege: String,
    /// Where it came from, in words.
    pub source: String,
}

/// The engine's answer: the EPrints bitmask and the reasons.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckResponse {
    /// Mask non-zero.
    pub allowed: bool,
    /// 1 public, 2 user, 4 owner, 8 editor.
    pub mask: u8,
    /// Bit 1.
    pub public: bool,
    /// Bit 2.
    pub user: bool,
    /// Bit 4.
    pub owner: bool,
    /// Bit 8.
    pub editor: bool,
    /// Why.
    pub reasons: Vec<ReasonOut>,
}

impl From<Decision> for CheckResponse {
    fn from(d: Decision) -> Self {
        CheckResponse {
            allowed: d.allowed,
            mask: d.mask,
            public: d.public,
            user: d.user,
            owner: d.owner,
            editor: d.editor,
            reasons: d
                .reasons
                .into_iter()
                .map(|r| ReasonOut {
                    kind: r.kind.as_str().to_owned(),
                    bit: r.bit,
                    privilege: r.privilege,
                    source: r.source,
                })
                .collect(),
        }
    }
}

/// One step of the walk that touched a string a check tests (`POST /api/explain`).
#[derive(Debug, Serialize, ToSchema)]
pub struct WalkStepOut {
    /// Where in the walk, in walk order: `user_type`, `own_entries`, `grants`, `denies`,
    /// `public`, `superuser`.
    pub stage: String,
    /// What it did: `added`, `already_held` (no effect), `removed` (a `-p`), `not_held` (a
    /// `-p` with no effect), `denied`, `public`, `public_denied`, `superuser`,
    /// `superuser_denied`.
    pub kind: String,
    /// The string it touched: the privilege, its `:owner` or `:editor` form, or one of their
    /// `<dataset>/<status>/...` forms.
    pub privilege: String,
    /// The entry, grant, deny or definition, in words, with where it is written.
    pub source: String,
    /// Whether the user has the string after this step.
    pub held_after: bool,
}

/// The decision as `/api/check` gives it, each set bit in words, and the walk.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExplainResponse {
    /// The decision, field for field as `/api/check` answers it.
    #[serde(flatten)]
    pub decision: CheckResponse,
    /// Each set bit of the mask in words, e.g. `8 = editor: the user may act on items in
    /// their editorial scope (holds the `:editor` form)`; `0 = not allowed: ...` for 0.
    pub mask_words: Vec<String>,
    /// Every step of the walk that touched the privilege, in order.
    pub steps: Vec<WalkStepOut>,
}

impl From<Explanation> for ExplainResponse {
    fn from(e: Explanation) -> Self {
        let mask_words = e.mask_words().into_iter().map(str::to_owned).collect();
        ExplainResponse {
            decision: e.decision.into(),
            mask_words,
            steps: e
                .steps
                .into_iter()
                .map(|s| WalkStepOut {
                    stage: s.stage.as_str().to_owned(),
                    kind: s.kind.as_str().to_owned(),
                    privilege: s.privilege,
                    source: s.source,
                    held_after: s.held_after,
                })
                .collect(),
        }
    }
}

/// `POST /api/check/batch`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    /// Up to 1000 checks.
    pub checks: Vec<CheckRequest>,
}

/// One result of a batch: a decision or an error.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum BatchResult {
    /// The decision.
    Decision(CheckResponse),
    /// Why this check could not be answered.
    Error(crate::error::ErrorBody),
}

/// The answers, in the order asked.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResponse {
    /// One per check.
    pub results: Vec<BatchResult>,
}

/// `POST /api/users`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    /// Email.
    pub email: String,
    /// Password (or `random_password`, or none: the user cannot log in until one is set).
    pub password: Option<String>,
    /// Generate a random password and return it once.
    #[serde(default)]
    pub random_password: bool,
    /// Username.
    pub username: Option<String>,
    /// Full name.
    #[serde(default)]
    pub full_name: String,
    /// Affiliations.
    #[serde(default)]
    pub affiliations: String,
    /// Active.
    #[serde(default)]
    pub active: bool,
    /// Confirm the email now (otherwise a confirmation link is mailed).
    #[serde(default)]
    pub confirm: bool,
    /// User type.
    #[serde(rename = "type")]
    pub user_type: Option<String>,
    /// Own entries.
    #[serde(default)]
    pub roles: Vec<String>,
}

/// A created user.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedUser {
    /// The user.
    pub user: UserOut,
    /// The generated password, shown once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generated_password: Option<String>,
    /// Whether a confirmation link was mailed.
    pub confirmation_sent: bool,
}

/// A change and the user after it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangedUser {
    /// Whether anything changed.
    pub changed: bool,
    /// The user.
    pub user: UserOut,
}

/// `POST /api/users/bulk`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkRequest {
    /// `activate`, `deactivate`, `confirm`, `add-entry` or `remove-entry`.
    pub action: String,
    /// For `add-entry` and `remove-entry`: a role name, `+privilege` or `-privilege`.
    pub entry: Option<String>,
    /// The users' ids (1 to 500; a repeated id counts once).
    pub users: Vec<i64>,
}

/// What `POST /api/users/bulk` did, each user as stored after it.
#[derive(Debug, Serialize, ToSchema)]
pub struct BulkResponse {
    /// The action, e.g. `add-entry editor`.
    pub action: String,
    /// The users it changed (one history event each).
    pub changed: Vec<UserOut>,
    /// The users that were already so.
    pub unchanged: Vec<UserOut>,
}

/// `PATCH /api/users/{user}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileRequest {
    /// Full name.
    pub full_name: Option<String>,
    /// Affiliations.
    pub affiliations: Option<String>,
}

/// `PUT /api/users/{user}/type`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TypeRequest {
    /// The user type.
    #[serde(rename = "type")]
    pub user_type: String,
}

/// `PUT /api/users/{user}/email`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailRequest {
    /// The new email address (stored lower-cased).
    pub email: String,
}

/// `PUT /api/users/{user}/username`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UsernameRequest {
    /// The new username: a letter, then letters, digits, `-` or `_` (3 to 256).
    pub username: String,
}

/// `PUT /api/users/{user}/roles`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RolesRequest {
    /// The whole ordered list.
    pub roles: Vec<String>,
}

/// `POST|DELETE /api/users/{user}/entries`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntryRequest {
    /// A role name, `+privilege` or `-privilege`.
    pub entry: String,
}

/// `PUT /api/users/{user}/scope`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScopeRequest {
    /// Filters `field=v,v;field=v`; empty clears the scope.
    pub filters: Vec<String>,
}

/// `PUT /api/users/{user}/password`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordRequest {
    /// The new password (or `random`).
    pub password: Option<String>,
    /// Generate one and return it once.
    #[serde(default)]
    pub random: bool,
    /// The current password: required to change one's own, not someone else's.
    #[serde(default)]
    pub current_password: Option<String>,
}

/// A password change.
#[derive(Debug, Serialize, ToSchema)]
pub struct PasswordChanged {
    /// The user.
    pub user: UserOut,
    /// The generated password, shown once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generated_password: Option<String>,
}

/// A page of users.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserPage {
    /// How many matched.
    pub total: u64,
    /// This page.
    pub users: Vec<UserOut>,
}

/// A role.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoleOut {
    /// Name.
    pub name: String,
    /// Where it is defined.
    pub origin: String,
    /// Entries.
    pub entries: Vec<String>,
    /// Allowed by grants.
    pub allow_grants: Vec<String>,
    /// Denied by grants.
    pub deny_grants: Vec<String>,
}

impl From<RoleListing> for RoleOut {
    fn from(r: RoleListing) -> Self {
        RoleOut {
            name: r.name,
            origin: r.origin,
            entries: r.entries,
            allow_grants: r.allow_grants,
            deny_grants: r.deny_grants,
        }
    }
}

/// `POST /api/roles`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRoleRequest {
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Privilege entries.
    #[serde(default)]
    pub privileges: Vec<String>,
}

/// What `roles create` did: `created`, `updated` or `exists`.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoleCreated {
    /// The outcome.
    pub outcome: String,
    /// The role.
    pub role: RoleOut,
}

/// Who a grant is for.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetIn {
    /// `user`, `role` or `system_role`.
    pub kind: String,
    /// Email or id, role name, or `any_user` / `authenticated_user`.
    pub name: String,
}

/// `POST /api/grants`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantRequest {
    /// `allow` or `deny`.
    pub effect: String,
    /// The privilege.
    pub privilege: String,
    /// Who.
    pub target: TargetIn,
}

/// `DELETE /api/grants`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RemoveGrantRequest {
    /// The privilege.
    pub privilege: String,
    /// Who.
    pub target: TargetIn,
}

/// A grant.
#[derive(Debug, Serialize, ToSchema)]
pub struct GrantOut {
    /// `allow` or `deny`.
    pub effect: String,
    /// Privilege.
    pub privilege: String,
    /// `user`, `role`, `system_role`.
    pub target_kind: String,
    /// Email, role or system role.
    pub target: String,
}

impl From<GrantView> for GrantOut {
    fn from(g: GrantView) -> Self {
        GrantOut {
            effect: g.effect.to_string(),
            privilege: g.privilege,
            target_kind: g.target_kind.to_owned(),
            target: g.target,
        }
    }
}

/// Whether something changed.
#[derive(Debug, Serialize, ToSchema)]
pub struct Changed {
    /// True when the call changed something.
    pub changed: bool,
}

/// `POST /api/tokens`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// Name.
    pub name: String,
    /// Privileges, e.g. `check/any`.
    pub privileges: Vec<String>,
}

/// A service token (the token itself only when created).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenOut {
    /// Name.
    pub name: String,
    /// Privileges.
    pub privileges: Vec<String>,
    /// Created.
    pub created: DateTime<Utc>,
    /// The token, shown once at creation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

impl From<&Credential> for TokenOut {
    fn from(c: &Credential) -> Self {
        TokenOut {
            name: c.name.clone().unwrap_or_default(),
            privileges: c.privileges.iter().map(ToString::to_string).collect(),
            created: c.created,
            token: None,
        }
    }
}

/// A history event.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryOut {
    /// Sequence number.
    pub id: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: String,
    /// `cli`, `fixtures`, `api`, `ui`.
    pub channel: String,
    /// What kind of change.
    pub action: String,
    /// The user concerned.
    pub user_id: Option<i64>,
    /// What else.
    pub target: String,
    /// Details (never secrets).
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

impl From<HistoryEvent> for HistoryOut {
    fn from(e: HistoryEvent) -> Self {
        HistoryOut {
            id: e.id,
            at: e.at,
            actor: e.actor,
            channel: e.channel.as_str().to_owned(),
            action: e.action,
            user_id: e.user_id.map(|u| u.0),
            target: e.target,
            details: e.details,
        }
    }
}

/// `POST /api/confirm`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    /// The token from the link.
    pub token: String,
}

/// `POST /api/password/forgot`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ForgotRequest {
    /// The account's email.
    pub email: String,
}

/// `POST /api/password/reset`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    /// The token from the link.
    pub token: String,
    /// The new password.
    pub password: String,
}

/// A message for people.
#[derive(Debug, Serialize, ToSchema)]
pub struct Message {
    /// The message.
    pub message: String,
}

/// Readiness.
#[derive(Debug, Serialize, ToSchema)]
pub struct Ready {
    /// `ok`.
    pub status: String,
    /// `sqlite` or `postgres`.
    pub store: String,
}
