//! Request and response bodies of the platform endpoints (`effective`, `who-can`, `filter`)
//! and of the AuthZEN 1.0 binding, as the OpenAPI document describes them.

use std::collections::BTreeMap;

use gatehouse_core::{EffectiveView, WhoCanView};
use gatehouse_policy::{Holds, ListFilter};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::dto::{ItemIn, UserSpec};

/// `GET /api/users/{user}/effective`: what a platform loads into its identity.
#[derive(Debug, Serialize, ToSchema)]
pub struct EffectiveOut {
    /// The user's id.
    pub id: i64,
    /// Their email.
    pub email: String,
    /// Their username, if any.
    pub username: Option<String>,
    /// Whether the account is active (an inactive one holds only public privileges).
    pub active: bool,
    /// The user type.
    pub user_type: Option<String>,
    /// The type's entries, in order.
    pub type_entries: Vec<String>,
    /// The user's own entries, in order (roles, `+p`, `-p`).
    pub entries: Vec<String>,
    /// The roles they hold through the type, then their own entries.
    pub roles: Vec<String>,
    /// The privilege strings they hold, with `:owner` / `:editor` suffixes, sorted.
    pub privileges: Vec<String>,
    /// Privileges denied to them.
    pub denied: Vec<String>,
    /// The public privileges as this user sees them (minus those denied to them).
    pub public: Vec<String>,
    /// Editorial scope filters (`field=value,value;field=value`), OR-ed.
    pub editorial_scope: Vec<String>,
    /// Whether they hold `superuser-access` (every privilege not denied).
    pub superuser: bool,
    /// Changes whenever anything this answer depends on changes; also the `ETag`.
    pub generation: String,
}

impl From<EffectiveView> for EffectiveOut {
    fn from(v: EffectiveView) -> Self {
        EffectiveOut {
            id: v.id.0,
            email: v.email,
            username: v.username,
            active: v.active,
            user_type: v.user_type,
            type_entries: v.type_entries,
            entries: v.entries,
            roles: v.roles,
            privileges: v.privileges,
            denied: v.denied,
            public: v.public,
            editorial_scope: v.editorial_scope,
            superuser: v.superuser,
            generation: v.generation,
        }
    }
}

/// `POST /api/who-can`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WhoCanRequest {
    /// The privilege, e.g. `eprint/edit`.
    pub privilege: String,
    /// The item; without one only bits 1 and 2 can be set.
    pub item: Option<ItemIn>,
}

/// What users of one shape hold, before their own facts (active, owner, scope) are known.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct HoldsOut {
    /// Bit 1 for them: a public form, not denied to them.
    pub public: bool,
    /// Bit 2 when active.
    pub user: bool,
    /// Bit 4 when active and an owner of the item.
    pub owner: bool,
    /// Bit 8 when active and the item is in their editorial scope.
    pub editor: bool,
    /// An empty editorial scope admits nothing for them (otherwise everything).
    pub editperms_none_by_default: bool,
}

impl From<Holds> for HoldsOut {
    fn from(h: Holds) -> Self {
        HoldsOut {
            public: h.public,
            user: h.user,
            owner: h.owner,
            editor: h.editor,
            editperms_none_by_default: h.editperms_none_by_default,
        }
    }
}

/// A user type's answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct TypeHoldsOut {
    /// The user type.
    #[serde(rename = "type")]
    pub user_type: String,
    /// What its users with nothing of their own hold.
    #[serde(flatten)]
    pub holds: HoldsOut,
}

/// A role that gives a tested string.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoleGivesOut {
    /// The role.
    pub role: String,
    /// Where it is defined.
    pub origin: String,
    /// It gives a plain form (bit 2).
    pub user: bool,
    /// It gives an `:owner` form (bit 4 on owned items).
    pub owner: bool,
    /// It gives an `:editor` form (bit 8 on items in scope).
    pub editor: bool,
}

/// An allow grant to a system role that gives a tested string.
#[derive(Debug, Serialize, ToSchema)]
pub struct SystemGivesOut {
    /// `any_user` or `authenticated_user`.
    pub system_role: String,
    /// The string granted.
    pub privilege: String,
    /// `public`, `user`, `owner` or `editor`.
    pub bit: String,
}

/// The owner or editor condition an item adds.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConditionOut {
    /// The strings whose holders the condition admits.
    pub privileges: Vec<String>,
    /// The condition in words.
    pub condition: String,
}

/// A deny or a `-p` entry that takes a tested string away from some holders.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExcludeOut {
    /// `deny` or `removal`.
    pub kind: String,
    /// The denied or removed string.
    pub privilege: String,
    /// Who it applies to, in words.
    pub by: String,
    /// Who it applies to, for programs: `user`, `role`, `user_type` or `system_role`.
    pub target: String,
    /// The target's name: a role, type or system role name, or the user's email.
    pub name: String,
}

/// A user whose own entries or grants change their answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserHoldsOut {
    /// The user's id.
    pub id: i64,
    /// Their email.
    pub email: String,
    /// What they hold.
    #[serde(flatten)]
    pub holds: HoldsOut,
}

/// A user a who-can answer admits.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdmittedOut {
    /// The user's id.
    pub id: i64,
    /// Their email.
    pub email: String,
    /// The check's mask for them.
    pub mask: u8,
}

/// A page of admitted users.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdmittedPageOut {
    /// The users, by id.
    pub items: Vec<AdmittedOut>,
    /// Pass as `after` for the next page; null on the last.
    pub next: Option<i64>,
}

/// Who may exercise a privilege: from the compiled policy, plus the users who differ from
/// their type. A user is admitted with the mask [`HoldsOut`] gives for them: their entry in
/// `users` if listed, else their type's in `types` (`untyped` for none), then bit 1 if
/// `public`; if active, bit 2 if `user`, bit 4 if `owner` and they own the item, bit 8 if
/// `editor` and the item is in their editorial scope (always, when `scoped` is false).
#[derive(Debug, Serialize, ToSchema)]
pub struct WhoCanOut {
    /// The privilege asked about.
    pub privilege: String,
    /// The strings a check tests (with an item, also their `:owner` and `:editor` forms).
    pub tested: Vec<String>,
    /// Anonymous visitors hold it (bit 1).
    pub anonymous: bool,
    /// Whether the item's dataset is checked against editorial scope.
    pub scoped: bool,
    /// What users of each type, with nothing of their own, hold.
    pub types: Vec<TypeHoldsOut>,
    /// What users with no type hold.
    pub untyped: HoldsOut,
    /// Roles that give it.
    pub roles: Vec<RoleGivesOut>,
    /// Allow grants to system roles that give it.
    pub system_roles: Vec<SystemGivesOut>,
    /// With an item: the owner condition.
    pub owner: Option<ConditionOut>,
    /// With an item: the editor condition.
    pub editor: Option<ConditionOut>,
    /// Denies and `-p` entries that take it away from some holders.
    pub excludes: Vec<ExcludeOut>,
    /// Users whose own entries or grants make their answer differ from their type's.
    pub users: Vec<UserHoldsOut>,
    /// With `expand=users`: the admitted users, paged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admitted: Option<AdmittedPageOut>,
}

impl From<WhoCanView> for WhoCanOut {
    fn from(v: WhoCanView) -> Self {
        let a = v.answer;
        let condition = |c: Option<gatehouse_policy::Condition>| {
            c.map(|c| ConditionOut {
                privileges: c.privileges,
                condition: c.condition,
            })
        };
        WhoCanOut {
            privilege: a.privilege,
            tested: a.tested,
            anonymous: a.anonymous,
            scoped: a.scoped,
            types: a
                .types
                .into_iter()
                .map(|t| TypeHoldsOut {
                    user_type: t.user_type.to_string(),
                    holds: t.holds.into(),
                })
                .collect(),
            untyped: a.untyped.into(),
            roles: a
                .roles
                .into_iter()
                .map(|r| RoleGivesOut {
                    role: r.role,
                    origin: r.origin,
                    user: r.user,
                    owner: r.owner,
                    editor: r.editor,
                })
                .collect(),
            system_roles: a
                .system_roles
                .into_iter()
                .map(|s| SystemGivesOut {
                    system_role: s.system_role.to_string(),
                    privilege: s.privilege,
                    bit: s.bit.to_owned(),
                })
                .collect(),
            owner: condition(a.owner),
            editor: condition(a.editor),
            excludes: a
                .excludes
                .into_iter()
                .map(|e| ExcludeOut {
                    kind: e.kind.to_owned(),
                    privilege: e.privilege,
                    by: e.by,
                    target: e.target.to_owned(),
                    name: e.name,
                })
                .collect(),
            users: v
                .users
                .into_iter()
                .map(|u| UserHoldsOut {
                    id: u.id.0,
                    email: u.email,
                    holds: u.holds.into(),
                })
                .collect(),
            admitted: v.admitted.map(|p| AdmittedPageOut {
                items: p
                    .items
                    .into_iter()
                    .map(|u| AdmittedOut {
                        id: u.id.0,
                        email: u.email,
                        mask: u.mask,
                    })
                    .collect(),
                next: p.next,
            }),
        }
    }
}

/// `POST /api/filter`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FilterRequest {
    /// Whose list: an id or email. Absent: the caller themselves (anonymous for a service
    /// token). Asking about another user needs `check/any`.
    pub user: Option<UserSpec>,
    /// The list of an anonymous visitor.
    #[serde(default)]
    pub anonymous: bool,
    /// The privilege the list is for, e.g. `eprint/view`.
    pub privilege: String,
    /// The dataset of the listed items. Absent: the privilege's first segment
    /// (`eprint` for `eprint/view`).
    pub dataset: Option<String>,
}

/// An item's owner a condition asks for.
#[derive(Debug, Serialize, ToSchema)]
pub struct OwnerIsOut {
    /// The user's id.
    pub id: i64,
    /// The user's email, for items naming owners by email.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// One condition of a list filter: an item matching every present part gets `bit`.
#[derive(Debug, Serialize, ToSchema)]
pub struct FilterConditionOut {
    /// `public`, `user`, `owner` or `editor`.
    pub bit: String,
    /// Only items with one of these statuses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Vec<String>>,
    /// Only items this user owns.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<OwnerIsOut>,
    /// Only items matching one of these filters: field -> values, every field sharing a
    /// value with the item.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<Vec<BTreeMap<String, Vec<String>>>>,
}

/// Which items of a dataset a user may act on: `all`, `none`, or those matching one of the
/// conditions (OR-ed).
#[derive(Debug, Serialize, ToSchema)]
pub struct FilterOut {
    /// The dataset.
    pub dataset: String,
    /// The privilege.
    pub privilege: String,
    /// `all`, `none` or `some`.
    pub coverage: String,
    /// The conditions.
    pub conditions: Vec<FilterConditionOut>,
}

impl From<ListFilter> for FilterOut {
    fn from(f: ListFilter) -> Self {
        FilterOut {
            dataset: f.dataset,
            privilege: f.privilege,
            coverage: match f.coverage {
                gatehouse_policy::Coverage::All => "all",
                gatehouse_policy::Coverage::None => "none",
                gatehouse_policy::Coverage::Some => "some",
            }
            .to_owned(),
            conditions: f
                .conditions
                .into_iter()
                .map(|c| FilterConditionOut {
                    bit: c.bit.to_owned(),
                    status: c.status,
                    owner: c.owner.map(|o| OwnerIsOut {
                        id: o.id.0,
                        email: o.email,
                    }),
                    scope: c.scope.map(|filters| {
                        filters
                            .into_iter()
                            .map(|f| {
                                f.fields()
                                    .iter()
                                    .map(|(k, v)| (k.clone(), v.iter().cloned().collect()))
                                    .collect()
                            })
                            .collect()
                    }),
                })
                .collect(),
        }
    }
}

/// An AuthZEN subject: `{"type": "user", "id": "ann@example.org"}` (an email or id), or
/// `{"type": "anonymous", "id": "-"}`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct AzSubject {
    /// `user` or `anonymous`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The user's email or id (ignored for `anonymous`).
    pub id: String,
    /// Ignored.
    #[schema(value_type = Option<Object>)]
    pub properties: Option<serde_json::Value>,
}

/// An AuthZEN action: the privilege in `name`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct AzAction {
    /// The privilege, e.g. `eprint/edit`.
    pub name: String,
    /// Ignored.
    #[schema(value_type = Option<Object>)]
    pub properties: Option<serde_json::Value>,
}

/// An AuthZEN resource: `type` is the dataset (`eprint`), `id` the item's id (not used by
/// the decision); `properties` carry `status`, `owners` and `fields` as in `/api/check`.
/// `{"type": "gatehouse", "id": "-"}` asks without an item.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct AzResource {
    /// The dataset, or `gatehouse` for no item.
    #[serde(rename = "type")]
    pub kind: String,
    /// The item's identifier in the repository.
    pub id: String,
    /// `status`, `owners`, `fields`.
    pub properties: Option<AzResourceProperties>,
}

/// The item facts of an AuthZEN resource.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct AzResourceProperties {
    /// The item's status.
    pub status: Option<String>,
    /// Its owners (user ids or emails).
    #[serde(default)]
    pub owners: Vec<crate::dto::OwnerIn>,
    /// Field values for editorial scope.
    #[serde(default)]
    pub fields: BTreeMap<String, Vec<String>>,
}

/// `POST /access/v1/evaluation`: one AuthZEN access evaluation.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct AzEvaluation {
    /// Who.
    pub subject: AzSubject,
    /// What.
    pub action: AzAction,
    /// On what.
    pub resource: AzResource,
    /// Ignored.
    #[schema(value_type = Option<Object>)]
    pub context: Option<serde_json::Value>,
}

/// One element of a batch: each key absent here comes from the request's top level.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct AzPartial {
    /// Who.
    pub subject: Option<AzSubject>,
    /// What.
    pub action: Option<AzAction>,
    /// On what.
    pub resource: Option<AzResource>,
    /// Ignored.
    #[schema(value_type = Option<Object>)]
    pub context: Option<serde_json::Value>,
}

/// Batch options.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct AzOptions {
    /// `execute_all` (default), `deny_on_first_deny` or `permit_on_first_permit`.
    pub evaluations_semantic: Option<String>,
}

/// `POST /access/v1/evaluations`: defaults at the top level, one element per evaluation.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct AzEvaluations {
    /// Default subject.
    pub subject: Option<AzSubject>,
    /// Default action.
    pub action: Option<AzAction>,
    /// Default resource.
    pub resource: Option<AzResource>,
    /// Ignored.
    #[schema(value_type = Option<Object>)]
    pub context: Option<serde_json::Value>,
    /// The evaluations; absent or empty: the request is one evaluation.
    pub evaluations: Option<Vec<AzPartial>>,
    /// How to run them.
    pub options: Option<AzOptions>,
}

/// The decision's context: Gatehouse's mask and reasons.
#[derive(Debug, Serialize, ToSchema)]
pub struct AzContext {
    /// 1 public, 2 user, 4 owner, 8 editor (absent when no decision was made).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mask: Option<u8>,
    /// Why each bit is set, or why none is.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<crate::dto::ReasonOut>,
    /// Why no decision could be made for this element (decisions default to closed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<AzError>,
    /// Why a batch stopped here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// An element's error.
#[derive(Debug, Serialize, ToSchema)]
pub struct AzError {
    /// The HTTP status it would have had alone.
    pub status: u16,
    /// Gatehouse's error code.
    pub code: String,
    /// The message.
    pub message: String,
}

/// An AuthZEN decision.
#[derive(Debug, Serialize, ToSchema)]
pub struct AzDecision {
    /// Permitted or not.
    pub decision: bool,
    /// Gatehouse's mask and reasons, or the error.
    pub context: AzContext,
}

/// `POST /access/v1/evaluations` answer (`{"decision": ...}` alone when no evaluations
/// were given).
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum AzBatchOut {
    /// One decision per element, in order.
    Many {
        /// The decisions.
        evaluations: Vec<AzDecision>,
    },
    /// No `evaluations`: the request was one evaluation.
    One(AzDecision),
}

/// `GET /.well-known/authzen-configuration`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AzConfiguration {
    /// This Gatehouse's base URL (`server.base_url`).
    pub policy_decision_point: String,
    /// The single evaluation endpoint.
    pub access_evaluation_endpoint: String,
    /// The batch endpoint.
    pub access_evaluations_endpoint: String,
}
