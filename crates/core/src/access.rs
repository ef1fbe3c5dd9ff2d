//! Roles, grants, checks and history: `roles create|list|show`, `access allow|deny|remove|
//! show`, `check` (and its explanation), `privileges`, `history`.

use gatehouse_policy::{
    DatasetInfo, Decision, Effect, Explanation, Grant, GrantTarget, HeldListing, Item, ItemRef,
    Privilege, RoleEntry, RoleListing, RoleName, SystemRole,
};
use serde::Serialize;
use serde_json::json;

use crate::decision::{Asker, Facts};
use crate::error::CoreError;
use crate::service::{Actor, Changed, Context, Gatehouse, UserRef};
use crate::snapshot::Snapshot;
use crate::store::{GrantFilter, HistoryFilter, Page};
use crate::user::{HistoryEvent, StoredRole, User};

/// Who a grant is for, as named by a caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrantTo {
    /// A user by email or id.
    User(UserRef),
    /// A role by name.
    Role(RoleName),
    /// A system role.
    System(SystemRole),
}

/// What `roles create` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum RoleOutcome {
    /// A new run-time role.
    Created,
    /// The run-time role existed and its entries or description were replaced.
    Updated,
    /// The role existed as it is; nothing changed.
    Exists {
        /// Where it is defined.
        origin: String,
    },
}

/// A grant as listed, with its target in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GrantView {
    /// Allow or deny.
    pub effect: Effect,
    /// The privilege.
    pub privilege: String,
    /// `user`, `role` or `system_role`.
    pub target_kind: &'static str,
    /// The user's email, the role or system role name.
    pub target: String,
}

/// A user's effective privileges with sources, and the public ones (SPEC 7.2).
#[derive(Debug, Clone, Serialize)]
pub struct PrivilegesView {
    /// The user.
    pub user: String,
    /// Whether the account is active (inactive users hold only the public set).
    pub active: bool,
    /// Whether the user holds `superuser-access` (every privilege not denied).
    pub superuser: bool,
    /// The effective set, sorted, with sources.
    pub privileges: Vec<HeldListing>,
    /// Privileges denied to the user, with whom the deny was given to.
    pub denied: Vec<HeldListing>,
    /// The public privileges.
    pub public: Vec<HeldListing>,
}

impl Gatehouse {
    /// Creates a run-time role (`roles create`); idempotent (SPEC 7.4).
    pub async fn create_role(
        &self,
        ctx: &Context,
        name: RoleName,
        description: Option<String>,
        entries: Vec<RoleEntry>,
    ) -> Result<RoleOutcome, CoreError> {
        if let Some(d) = &description {
            crate::text::check_line("description", d, crate::text::ROLE_DESCRIPTION_MAX)?;
        }
        let mut tx = self.begin().await?;
        self.authorize(tx.as_mut(), ctx, "config/edit", None)
            .await?;
        if let Some(def) = self.config().roles().get(&name) {
            if !entries.is_empty() {
                return Err(fixed_role(&name, &def.origin));
            }
            return Ok(RoleOutcome::Exists {
                origin: def.origin.to_string(),
            });
        }
        let role = StoredRole {
            name: name.clone(),
            description: description.clone(),
            entries: entries.clone(),
        };
        let outcome = match tx.role(&name).await? {
            None => {
                tx.insert_role(&role).await?;
                RoleOutcome::Created
            }
            Some(existing) => {
                let new_entries = !entries.is_empty() && existing.entries != entries;
                let new_desc = description.is_some() && existing.description != description;
                if !new_entries && !new_desc {
                    return Ok(RoleOutcome::Exists {
                        origin: gatehouse_policy::Origin::Runtime.to_string(),
                    });
                }
                let updated = StoredRole {
                    name: name.clone(),
                    description: if new_desc {
                        description
                    } else {
                        existing.description
                    },
                    entries: if new_entries {
                        entries
                    } else {
                        existing.entries
                    },
                };
                tx.update_role(&updated).await?;
                RoleOutcome::Updated
            }
        };
        let action = if outcome == RoleOutcome::Created {
            "role.create"
        } else {
            "role.update"
        };
        self.record(
            tx.as_mut(),
            ctx,
            action,
            None,
            name.as_str(),
            json!({"entries": role.entries.iter().map(ToString::to_string).collect::<Vec<_>>(),
                   "description": role.description}),
        )
        .await?;
        tx.commit().await?;
        Ok(outcome)
    }

    /// Replaces a run-time role's description and entries (the admin panel's role form):
    /// unlike [`Gatehouse::create_role`], an empty list empties the role (a marker role) and
    /// no description removes it. Roles of the catalog or the roles file cannot change here.
    pub async fn update_role(
        &self,
        ctx: &Context,
        name: RoleName,
        description: Option<String>,
        entries: Vec<RoleEntry>,
    ) -> Result<Changed, CoreError> {
        if let Some(d) = &description {
            crate::text::check_line("description", d, crate::text::ROLE_DESCRIPTION_MAX)?;
        }
        let mut tx = self.begin().await?;
        self.authorize(tx.as_mut(), ctx, "config/edit", None)
            .await?;
        if let Some(def) = self.config().roles().get(&name) {
            return Err(fixed_role(&name, &def.origin));
        }
        let Some(existing) = tx.role(&name).await? else {
            return Err(CoreError::NotFound {
                what: "role",
                value: name.to_string(),
                hint: format!("; create it with `gatehouse roles create {name}`"),
            });
        };
        if existing.entries == entries && existing.description == description {
            return Ok(Changed::from(false));
        }
        let role = StoredRole {
            name: name.clone(),
            description,
            entries,
        };
        tx.update_role(&role).await?;
        self.record(
            tx.as_mut(),
            ctx,
            "role.update",
            None,
            name.as_str(),
            json!({"entries": role.entries.iter().map(ToString::to_string).collect::<Vec<_>>(),
                   "description": role.description}),
        )
        .await?;
        tx.commit().await?;
        Ok(Changed::from(true))
    }

    /// Every role (built in, file, run time) with entries, origin and grants.
    pub async fn list_roles(&self, ctx: &Context) -> Result<Vec<RoleListing>, CoreError> {
        let mut tx = self.begin_read().await?;
        self.authorize_read(tx.as_mut(), ctx, "config/view", None)
            .await?;
        Ok(self.policy(tx.as_mut()).await?.list_roles())
    }

    /// Every user type, sorted by name, with its entries and what a user of that type with
    /// nothing of their own holds (`policy show-type`, the admin panel's types page).
    pub async fn list_types(
        &self,
        ctx: &Context,
    ) -> Result<Vec<gatehouse_policy::TypeListing>, CoreError> {
        let mut tx = self.begin_read().await?;
        self.authorize_read(tx.as_mut(), ctx, "config/view", None)
            .await?;
        let policy = self.policy(tx.as_mut()).await?;
        Ok(self
            .config()
            .types()
            .keys()
            .filter_map(|t| policy.show_type(t))
            .collect())
    }

    /// One role.
    pub async fn show_role(
        &self,
        ctx: &Context,
        name: &RoleName,
    ) -> Result<RoleListing, CoreError> {
        let mut tx = self.begin_read().await?;
        // Whoever may change the configuration may read what they changed.
        if self
            .authorize_read(tx.as_mut(), ctx, "config/view", None)
            .await
            .is_err()
        {
            self.authorize(tx.as_mut(), ctx, "config/edit", None)
                .await?;
        }
        self.policy(tx.as_mut())
            .await?
            .show_role(name)
            .ok_or_else(|| CoreError::NotFound {
                what: "role",
                value: name.to_string(),
                hint: "; list roles with `gatehouse roles list`".into(),
            })
    }

    async fn resolve_target(
        &self,
        tx: &mut dyn crate::store::Tx,
        to: &GrantTo,
    ) -> Result<(GrantTarget, Option<User>), CoreError> {
        Ok(match to {
            GrantTo::User(u) => {
                let user = self.find_user(tx, u).await?;
                (GrantTarget::User(user.id), Some(user))
            }
            GrantTo::Role(r) => {
                if !self.policy(tx).await?.has_role(r) {
                    return Err(CoreError::NotFound {
                        what: "role",
                        value: r.to_string(),
                        hint: format!("; create it with `gatehouse roles create {r}`"),
                    });
                }
                (GrantTarget::Role(r.clone()), None)
            }
            GrantTo::System(s) => (GrantTarget::SystemRole(*s), None),
        })
    }

    /// Allows or denies a privilege (`access allow|deny`); a repeat changes nothing.
    pub async fn grant(
        &self,
        ctx: &Context,
        effect: Effect,
        privilege: Privilege,
        to: &GrantTo,
    ) -> Result<Changed, CoreError> {
        let mut tx = self.begin().await?;
        self.authorize(tx.as_mut(), ctx, "config/edit", None)
            .await?;
        let (target, user) = self.resolve_target(tx.as_mut(), to).await?;
        // A deny of `superuser-access` could take the power from its last holder.
        let guard = Self::guarded(ctx)
            && effect == Effect::Deny
            && privilege.as_str() == gatehouse_policy::SUPERUSER_ACCESS
            && !self
                .superusers_except(tx.as_mut(), None, 1)
                .await?
                .is_empty();
        let added = tx
            .add_grant(&Grant {
                effect,
                privilege: privilege.clone(),
                target: target.clone(),
            })
            .await?;
        if !added {
            return Ok(Changed::No);
        }
        if guard {
            self.keep_a_superuser(tx.as_mut(), None, "this deny")
                .await?;
        }
        self.record(
            tx.as_mut(),
            ctx,
            &format!("grant.{effect}"),
            user.as_ref().map(|u| u.id),
            &target_words(&target, user.as_ref()),
            json!({"privilege": privilege.as_str()}),
        )
        .await?;
        tx.commit().await?;
        Ok(Changed::Yes)
    }

    /// Removes the allow and the deny of a privilege for a target (`access remove`).
    pub async fn remove_grant(
        &self,
        ctx: &Context,
        privilege: Privilege,
        to: &GrantTo,
    ) -> Result<Changed, CoreError> {
        let mut tx = self.begin().await?;
        self.authorize(tx.as_mut(), ctx, "config/edit", None)
            .await?;
        let (target, user) = self.resolve_target(tx.as_mut(), to).await?;
        // Removing an allow of `superuser-access` could take the power from its last holder.
        let guard = Self::guarded(ctx)
            && privilege.as_str() == gatehouse_policy::SUPERUSER_ACCESS
            && !self
                .superusers_except(tx.as_mut(), None, 1)
                .await?
                .is_empty();
        let n = tx.remove_grants(&privilege, &target).await?;
        if n == 0 {
            return Ok(Changed::No);
        }
        if guard {
            self.keep_a_superuser(tx.as_mut(), None, "removing this grant")
                .await?;
        }
        self.record(
            tx.as_mut(),
            ctx,
            "grant.remove",
            user.as_ref().map(|u| u.id),
            &target_words(&target, user.as_ref()),
            json!({"privilege": privilege.as_str(), "rows": n}),
        )
        .await?;
        tx.commit().await?;
        Ok(Changed::Yes)
    }

    /// Lists grants, optionally for one user or one role (`access show`).
    pub async fn list_grants(
        &self,
        ctx: &Context,
        to: Option<&GrantTo>,
    ) -> Result<Vec<GrantView>, CoreError> {
        let mut tx = self.begin_read().await?;
        self.authorize_read(tx.as_mut(), ctx, "config/view", None)
            .await?;
        let target = match to {
            Some(t) => Some(self.resolve_target(tx.as_mut(), t).await?.0),
            None => None,
        };
        let grants = tx
            .grants(&GrantFilter {
                target,
                ..GrantFilter::default()
            })
            .await?;
        let mut out = Vec::with_capacity(grants.len());
        for g in grants {
            let (kind, name) = match &g.target {
                GrantTarget::User(id) => (
                    "user",
                    tx.user_by_id(*id)
                        .await?
                        .map_or_else(|| id.to_string(), |u| u.email.to_string()),
                ),
                GrantTarget::Role(r) => ("role", r.to_string()),
                GrantTarget::SystemRole(s) => ("system_role", s.to_string()),
            };
            out.push(GrantView {
                effect: g.effect,
                privilege: g.privilege.to_string(),
                target_kind: kind,
                target: name,
            });
        }
        Ok(out)
    }

    /// Decides a privilege for a user (or anonymous) on an optional item (`check`). Asking
    /// about another user needs `check/any` (or `administration-access`: the panel's
    /// explain page). Served from the request's snapshot.
    pub async fn check(
        &self,
        ctx: &Context,
        subject: Option<&UserRef>,
        privilege: &Privilege,
        item: Option<&Item>,
    ) -> Result<Decision, CoreError> {
        let mut out = self
            .check_many(ctx, &[(subject.cloned(), privilege.clone(), item.cloned())])
            .await?;
        out.pop()
            .unwrap_or_else(|| Err(CoreError::Internal("no answer for the check".into())))
    }

    /// Many checks against one snapshot (`/api/check/batch`); each answer or error in the
    /// order asked. `check/any` is asked for once, when some check is about another user.
    pub async fn check_many(
        &self,
        ctx: &Context,
        checks: &[(Option<UserRef>, Privilege, Option<Item>)],
    ) -> Result<Vec<Result<Decision, CoreError>>, CoreError> {
        let snap = self.snapshot_for(ctx).await?;
        let policy = self.policy_in(&snap).await?;
        let mut may_ask_others: Option<bool> = None;
        let mut out = Vec::with_capacity(checks.len());
        for (subject, privilege, item) in checks {
            if let Some(item) = item {
                if let Err(e) = item.validate() {
                    out.push(Err(CoreError::invalid("item", e.to_string())));
                    continue;
                }
            }
            let asker = match self
                .subject_asker(&snap, ctx, subject.as_ref(), &mut may_ask_others)
                .await?
            {
                Ok(a) => a,
                Err(e) => {
                    out.push(Err(e));
                    continue;
                }
            };
            let view = item.as_ref().map(Item::view);
            out.push(Ok(self.decide_as(
                &policy,
                &asker,
                privilege.as_str(),
                view.as_ref(),
            )));
        }
        Ok(out)
    }

    /// Explains a decision for people (`check --explain`, `POST /api/explain`, the admin
    /// explain page): the very decision [`Gatehouse::check`] gives, authorized the same way
    /// (asking about another user needs `check/any`), with every step of the walk that
    /// touched the privilege. Unlike a check, it refuses an item status that the item's
    /// dataset does not have ([`Gatehouse::datasets`] lists them): a check ignores such a
    /// status, so explaining it would explain another question than the one asked.
    pub async fn explain(
        &self,
        ctx: &Context,
        subject: Option<&UserRef>,
        privilege: &Privilege,
        item: Option<&Item>,
    ) -> Result<Explanation, CoreError> {
        let snap = self.snapshot_for(ctx).await?;
        let policy = self.policy_in(&snap).await?;
        if let Some(item) = item {
            item.validate()
                .map_err(|e| CoreError::invalid("item", e.to_string()))?;
            if let Some(status) = &item.status {
                policy
                    .config()
                    .datasets()
                    .check_status(&item.dataset, status)
                    .map_err(|e| CoreError::invalid("item", e.to_string()))?;
            }
        }
        let asker = self.subject_asker(&snap, ctx, subject, &mut None).await??;
        let view = item.map(Item::view);
        Ok(self.explain_as(&policy, &asker, privilege.as_str(), view.as_ref()))
    }

    /// The datasets with statuses or editorial scope rules in the configuration in force,
    /// with their statuses in order (what an item's `status` may be): for a form's select.
    /// Configuration, not data: it needs no privilege.
    pub fn datasets(&self) -> Vec<DatasetInfo> {
        self.config().datasets().list()
    }

    /// Who a check or an explanation is about, loaded from the snapshot, once the actor may
    /// ask about them: anyone may ask about an anonymous visitor, a user about themselves,
    /// and about another user only with `check/any` (asked once per call through
    /// `may_ask_others`). The outer error fails the whole call; the inner one this question.
    async fn subject_asker(
        &self,
        snap: &Snapshot,
        ctx: &Context,
        subject: Option<&UserRef>,
        may_ask_others: &mut Option<bool>,
    ) -> Result<Result<Asker, CoreError>, CoreError> {
        let user = match subject {
            Some(u) => match self.user_in(snap, u).await {
                Ok(u) => Some(u),
                Err(e) => return Ok(Err(e)),
            },
            None => None,
        };
        let asks_for_self = match (&ctx.actor, &user) {
            (_, None) => true,
            (Actor::User(me), Some(u)) => *me == u.user.id,
            _ => false,
        };
        if !asks_for_self {
            let allowed = match *may_ask_others {
                Some(a) => a,
                None => {
                    // A read: the panel's readers (`administration-access`) may ask too
                    // (its explain page).
                    let a = match self
                        .authorize_read_from(&mut Facts::Snapshot(snap), ctx, "check/any", None)
                        .await
                    {
                        Ok(()) => true,
                        Err(CoreError::Forbidden { .. }) => false,
                        Err(e) => return Err(e),
                    };
                    *may_ask_others = Some(a);
                    a
                }
            };
            if !allowed {
                return Ok(Err(CoreError::Forbidden {
                    privilege: "check/any".into(),
                    user: None,
                }));
            }
        }
        Ok(Ok(match user {
            Some(u) => Asker::User(u),
            None => Asker::Anonymous,
        }))
    }

    /// A user's effective privileges with sources, the denied ones, and the public set.
    pub async fn privileges(
        &self,
        ctx: &Context,
        who: &UserRef,
    ) -> Result<PrivilegesView, CoreError> {
        let mut tx = self.begin_read().await?;
        let user = self.find_user(tx.as_mut(), who).await?;
        self.authorize_read_on_user(tx.as_mut(), ctx, "user/view", &user)
            .await?;
        let policy = self.policy(tx.as_mut()).await?;
        let facts = self.facts(tx.as_mut(), &user).await?;
        let eff = policy.effective(&facts);
        let denied = policy
            .list_denies(&eff)
            .into_iter()
            .map(|(p, by)| HeldListing {
                privilege: p,
                source: by,
            })
            .collect();
        // The public set as this user sees it: minus what is denied to them.
        let public = policy.list_public_for(&facts, &eff);
        Ok(PrivilegesView {
            user: user.label(),
            active: user.active,
            superuser: user.active && eff.is_superuser(),
            privileges: policy.list_effective(&facts, &eff),
            denied,
            public,
        })
    }

    /// History events (`history`): staff need `staff/history_search`; users see their own
    /// with `user/history:owner`; the panel's readers `administration-access`. One page as
    /// [`HistoryFilter`] describes it.
    pub async fn history(
        &self,
        ctx: &Context,
        user: Option<&UserRef>,
        filter: HistoryFilter,
    ) -> Result<Vec<HistoryEvent>, CoreError> {
        let mut tx = self.begin_read().await?;
        let filter = self.history_filter(tx.as_mut(), ctx, user, filter).await?;
        Ok(tx.history(&filter).await?)
    }

    /// [`Gatehouse::history`] with the number of every match, for page numbers (one read
    /// transaction, so the two agree).
    pub async fn history_page(
        &self,
        ctx: &Context,
        user: Option<&UserRef>,
        filter: HistoryFilter,
    ) -> Result<Page<HistoryEvent>, CoreError> {
        let mut tx = self.begin_read().await?;
        let filter = self.history_filter(tx.as_mut(), ctx, user, filter).await?;
        let items = tx.history(&filter).await?;
        let total = tx.count_history(&filter).await?;
        Ok(Page { items, total })
    }

    /// Checks the filter's texts, authorizes reading the history (of `user`, when given) and
    /// narrows the filter to that user.
    async fn history_filter(
        &self,
        tx: &mut dyn crate::store::Tx,
        ctx: &Context,
        user: Option<&UserRef>,
        mut filter: HistoryFilter,
    ) -> Result<HistoryFilter, CoreError> {
        for (field, text) in [
            ("actor", &filter.actor),
            ("target", &filter.target),
            ("action", &filter.action),
        ] {
            if let Some(t) = text {
                crate::text::check_line(field, t, crate::text::SEARCH_CHARS_MAX)?;
            }
        }
        match user {
            Some(u) => {
                let target = self.find_user(tx, u).await?;
                filter.user_id = Some(target.id);
                let owners = [target.id];
                let item = ItemRef::new("user").owned_by(&owners);
                if self
                    .authorize(tx, ctx, "user/history", Some(&item))
                    .await
                    .is_err()
                {
                    self.authorize_read(tx, ctx, "staff/history_search", None)
                        .await?;
                }
            }
            None => {
                self.authorize_read(tx, ctx, "staff/history_search", None)
                    .await?
            }
        }
        Ok(filter)
    }
}

/// The refusal of a change to a role of the catalog or the roles file.
fn fixed_role(name: &RoleName, origin: &gatehouse_policy::Origin) -> CoreError {
    CoreError::invalid(
        "role",
        format!(
            "role `{name}` is defined in {origin}; change it there (a role defined in the \
             catalog or user_roles.yaml cannot be changed at run time)"
        ),
    )
}

fn target_words(target: &GrantTarget, user: Option<&User>) -> String {
    match (target, user) {
        (GrantTarget::User(_), Some(u)) => format!("user {}", u.email),
        (GrantTarget::User(id), None) => format!("user id {id}"),
        (GrantTarget::Role(r), _) => format!("role {r}"),
        (GrantTarget::SystemRole(s), _) => format!("system role {s}"),
    }
}
