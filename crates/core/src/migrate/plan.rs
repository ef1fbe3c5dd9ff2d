//! The plan of a migration (what a [`Source`] would create, refresh, leave alone or leave
//! out in this database) and its writing in the same transaction.

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use gatehouse_policy::{Effect, Entry, Grant, GrantTarget, Privilege, RoleName, TypeName, UserId};
use serde_json::json;

use super::{
    MigrateConflict, MigrateCounts, MigrateOptions, MigrateReport, Skipped, Source, SourceTarget,
    SourceUser,
};
use crate::account::{Email, PasswordHash, Username};
use crate::error::CoreError;
use crate::service::{Context, Gatehouse};
use crate::store::{StoreError, Tx, UserQuery};
use crate::text::{self, email_skeleton, username_skeleton};
use crate::user::{HistoryEvent, NewUser, StoredRole, User};

/// A source role's Gatehouse name: the characters a role name allows kept, every run of
/// others one `-`, `r-` in front when it does not start with a letter, at most 80.
pub fn role_name(source: &str) -> Result<RoleName, String> {
    let mut s = String::new();
    for c in source.trim().chars() {
        if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
            s.push(c);
        } else if !s.ends_with('-') {
            s.push('-');
        }
    }
    let s = s.trim_matches('-');
    let mut s = if s.starts_with(|c: char| c.is_ascii_alphabetic()) {
        s.to_owned()
    } else {
        format!("r-{s}")
    };
    s.truncate(80);
    RoleName::new(s.trim_end_matches('-')).map_err(|e| e.to_string())
}

/// A user of the plan: one already stored, or the n-th to create.
#[derive(Debug, Clone, Copy)]
enum Planned {
    Existing(UserId),
    New(usize),
}

/// What the migration will write.
struct Plan {
    report: MigrateReport,
    new_roles: Vec<StoredRole>,
    updated_roles: Vec<StoredRole>,
    new_users: Vec<(String, NewUser)>,
    updated_users: Vec<(String, User)>,
    grants: Vec<(Effect, Privilege, PlannedTarget)>,
}

#[derive(Debug, Clone)]
enum PlannedTarget {
    User(Planned),
    Other(GrantTarget),
}

/// A source account's values, checked.
struct Checked {
    email: Email,
    username: Option<Username>,
    hash: Option<PasswordHash>,
    user_type: TypeName,
    entries: Vec<Entry>,
    /// Parts left out: (kind, subject, reason).
    left_out: Vec<(&'static str, String, String)>,
}

/// The stored accounts, indexed for the checks.
#[derive(Default)]
struct Taken {
    by_email: HashMap<String, User>,
    /// Folded username -> email.
    usernames: HashMap<String, String>,
    /// Email skeleton -> email.
    email_skeletons: HashMap<String, String>,
    /// Username skeleton -> folded username.
    username_skeletons: HashMap<String, String>,
}

impl Taken {
    fn add(&mut self, email: &Email, username: Option<&Username>) {
        self.email_skeletons
            .entry(email_skeleton(email.as_str()))
            .or_insert_with(|| email.as_str().to_owned());
        if let Some(n) = username {
            self.usernames
                .entry(n.folded())
                .or_insert_with(|| email.as_str().to_owned());
            self.username_skeletons
                .entry(username_skeleton(n.as_str()))
                .or_insert_with(|| n.folded());
        }
    }
}

impl Gatehouse {
    /// Moves `source` into this database (or, with `plan_only`, only says what that would
    /// do): in ONE transaction, authorized as `config/edit` and `create_user`. Conflicts are
    /// listed and their items left out; `progress` is told how many source users are done.
    pub async fn migrate_in(
        &self,
        ctx: &Context,
        source: Source,
        options: MigrateOptions,
        progress: &(dyn Fn(u64) + Send + Sync),
    ) -> Result<MigrateReport, CoreError> {
        let mut tx = if options.plan_only {
            self.begin_read().await?
        } else {
            self.begin().await?
        };
        self.authorize(tx.as_mut(), ctx, "config/edit", None)
            .await?;
        self.authorize(tx.as_mut(), ctx, "create_user", None)
            .await?;
        let plan = self.plan_migration(tx.as_mut(), source, options).await?;
        if options.plan_only {
            return Ok(plan.report);
        }
        let report = self
            .write_migration(tx.as_mut(), ctx, plan, progress)
            .await?;
        tx.commit().await?;
        Ok(report)
    }

    async fn plan_migration(
        &self,
        tx: &mut dyn Tx,
        source: Source,
        options: MigrateOptions,
    ) -> Result<Plan, CoreError> {
        let policy = self.policy(tx).await?;
        let mut conflicts = Vec::new();
        let mut skipped = source.skipped.clone();
        // What the reader left out counts as in the source and left out.
        let mut counts = MigrateCounts::default();
        for k in &skipped {
            let kind = match k.kind {
                "user" => &mut counts.users,
                "role" => &mut counts.roles,
                "grant" => &mut counts.grants,
                "membership" | "entry" => &mut counts.memberships,
                "editperms" => &mut counts.scopes,
                _ => continue,
            };
            kind.source += 1;
            kind.skipped += 1;
        }

        // Roles.
        let stored: HashMap<RoleName, StoredRole> = tx
            .roles()
            .await?
            .into_iter()
            .map(|r| (r.name.clone(), r))
            .collect();
        let mut role_map: HashMap<String, RoleName> = HashMap::new();
        let mut named: HashMap<String, String> = HashMap::new();
        let (mut new_roles, mut updated_roles) = (Vec::new(), Vec::new());
        counts.roles.source += source.roles.len() as u64;
        for r in &source.roles {
            let subject = format!("role `{}`", text::shorten(&r.name));
            let name = match role_name(&r.name) {
                Ok(n) => n,
                Err(e) => {
                    counts.roles.skipped += 1;
                    conflicts.push(conflict("invalid", &subject, e));
                    continue;
                }
            };
            if let Some(first) = named.insert(name.as_str().to_ascii_lowercase(), r.name.clone()) {
                counts.roles.skipped += 1;
                conflicts.push(conflict(
                    "role_clash",
                    &subject,
                    format!(
                        "it becomes `{name}` like role `{first}` of the source; left out with \
                         its members and grants"
                    ),
                ));
                continue;
            }
            let description = r.description.clone().filter(|d| !d.is_empty()).or_else(|| {
                (name.as_str() != r.name).then(|| format!("{} (from {})", r.name, source.platform))
            });
            if let Some(existing) = stored.get(&name) {
                if options.update && existing.description != description {
                    counts.roles.update += 1;
                    updated_roles.push(StoredRole {
                        description,
                        ..existing.clone()
                    });
                } else {
                    counts.roles.existing += 1;
                }
            } else if policy.has_role(&name) {
                counts.roles.skipped += 1;
                conflicts.push(conflict(
                    "role_clash",
                    &subject,
                    format!(
                        "user_roles.yaml defines a role `{name}` already; left out with its \
                         members and grants (rename one of them to bring it in)"
                    ),
                ));
                continue;
            } else {
                counts.roles.create += 1;
                new_roles.push(StoredRole {
                    name: name.clone(),
                    description,
                    entries: Vec::new(),
                });
            }
            role_map.insert(r.name.clone(), name);
        }
        let new_role_names: HashSet<RoleName> = new_roles.iter().map(|r| r.name.clone()).collect();

        // The stored accounts.
        let mut taken = Taken::default();
        for u in tx
            .list_users(&UserQuery {
                limit: 0,
                ..UserQuery::default()
            })
            .await?
            .items
        {
            taken.add(&u.email, u.username.as_ref());
            taken.by_email.insert(u.email.as_str().to_owned(), u);
        }

        // Accounts of the source that differ only in case are all left out: which one is
        // the person cannot be known.
        let mut email_count: HashMap<String, usize> = HashMap::new();
        let mut name_count: HashMap<String, usize> = HashMap::new();
        for u in &source.users {
            *email_count
                .entry(u.email.trim().to_lowercase())
                .or_default() += 1;
            if let Some(n) = &u.username {
                *name_count.entry(n.to_ascii_lowercase()).or_default() += 1;
            }
        }

        let now = Utc::now();
        let mut planned: HashMap<String, Planned> = HashMap::new();
        let (mut new_users, mut updated_users) = (Vec::new(), Vec::new());
        counts.users.source += source.users.len() as u64;
        for u in source.users {
            let subject = format!("{} (`{}`)", u.key, text::shorten(&u.email));
            let mut reject = |kind: &'static str, detail: String| {
                counts.users.skipped += 1;
                conflicts.push(conflict(kind, &subject, detail));
            };
            if email_count
                .get(&u.email.trim().to_lowercase())
                .is_some_and(|n| *n > 1)
            {
                reject(
                    "case_duplicate",
                    "another account of the source has the same email but for case; both \
                     left out (merge them in the source)"
                        .into(),
                );
                continue;
            }
            if let Some(n) = u.username.as_ref().filter(|n| {
                name_count
                    .get(&n.to_ascii_lowercase())
                    .is_some_and(|c| *c > 1)
            }) {
                reject(
                    "case_duplicate",
                    format!(
                        "another account of the source has the username `{}` but for case; \
                         both left out",
                        text::shorten(n)
                    ),
                );
                continue;
            }
            let checked = match self.check_source_user(&u, &policy, &role_map, &new_role_names) {
                Ok(c) => c,
                Err(e) => {
                    reject("invalid", e);
                    continue;
                }
            };
            let Checked {
                email,
                username,
                hash,
                user_type,
                entries,
                left_out,
            } = checked;
            for (what, subject, reason) in left_out {
                if what != "username" {
                    counts.memberships.skipped += 1;
                }
                skipped.push(Skipped {
                    kind: what,
                    subject: format!("{}: {subject}", u.key),
                    reason,
                });
            }
            if let Some(existing) = taken.by_email.get(email.as_str()) {
                planned.insert(u.key.clone(), Planned::Existing(existing.id));
                if !options.update {
                    counts.users.existing += 1;
                    continue;
                }
                let mut next = existing.clone();
                next.full_name = u.full_name.clone();
                next.affiliations = u.affiliations.clone();
                next.active = u.active;
                next.confirmed_at = match (u.confirmed, existing.confirmed_at) {
                    (true, Some(t)) => Some(t),
                    (true, None) => Some(now),
                    (false, _) => None,
                };
                // Gatehouse's own hash is newer than the source's: the user logged in here.
                if existing
                    .password_hash
                    .as_ref()
                    .is_none_or(|h| h.scheme().is_legacy())
                {
                    next.password_hash = hash;
                }
                next.user_type = Some(user_type);
                next.entries = entries;
                next.editorial_scope = u.editorial_scope.clone();
                let free = username.as_ref().is_some_and(|n| {
                    taken
                        .usernames
                        .get(&n.folded())
                        .is_none_or(|owner| owner == email.as_str())
                });
                if free {
                    next.username = username;
                }
                if next != *existing {
                    counts.users.update += 1;
                    counts.memberships.update += next.entries.len() as u64;
                    counts.scopes.update += next.editorial_scope.len() as u64;
                    updated_users.push((u.key.clone(), next));
                } else {
                    counts.users.existing += 1;
                }
                continue;
            }
            if let Some(n) = &username {
                if let Some(owner) = taken.usernames.get(&n.folded()) {
                    reject(
                        "username_taken",
                        format!("username `{n}` belongs to `{owner}` already; left out"),
                    );
                    continue;
                }
                if let Some(other) = taken.username_skeletons.get(&username_skeleton(n.as_str())) {
                    if *other != n.folded() {
                        reject(
                            "look_alike",
                            format!(
                                "username `{n}` looks like the username `{other}` (their \
                                 letters are confusable); left out"
                            ),
                        );
                        continue;
                    }
                }
            }
            if let Some(other) = taken.email_skeletons.get(&email_skeleton(email.as_str())) {
                if other != email.as_str() {
                    reject(
                        "look_alike",
                        format!(
                            "email looks like the account `{}` (their letters are \
                             confusable); left out",
                            text::shorten(other)
                        ),
                    );
                    continue;
                }
            }
            taken.add(&email, username.as_ref());
            counts.users.create += 1;
            counts.memberships.create += entries.len() as u64;
            counts.scopes.create += u.editorial_scope.len() as u64;
            planned.insert(u.key.clone(), Planned::New(new_users.len()));
            new_users.push((
                u.key.clone(),
                NewUser {
                    email,
                    username,
                    full_name: u.full_name,
                    affiliations: u.affiliations,
                    active: u.active,
                    confirmed_at: u.confirmed.then_some(now),
                    password_hash: hash,
                    user_type: Some(user_type),
                    entries,
                    editorial_scope: u.editorial_scope,
                },
            ));
        }
        // Grants.
        let existing_grants: HashSet<Grant> =
            tx.grants(&Default::default()).await?.into_iter().collect();
        let mut grants = Vec::new();
        let mut seen = HashSet::new();
        counts.grants.source += source.grants.len() as u64;
        for g in source.grants {
            let subject = format!("grant {} `{}`", g.effect, text::shorten(&g.privilege));
            let mut leave = |reason: String| {
                counts.grants.skipped += 1;
                skipped.push(Skipped {
                    kind: "grant",
                    subject: subject.clone(),
                    reason,
                });
            };
            let privilege = match Privilege::new(&g.privilege) {
                Ok(p) => p,
                Err(e) => {
                    leave(e.to_string());
                    continue;
                }
            };
            let target = match &g.target {
                SourceTarget::User(key) => match planned.get(key) {
                    Some(p @ Planned::New(_)) => PlannedTarget::User(*p),
                    Some(Planned::Existing(id)) if options.update => {
                        PlannedTarget::Other(GrantTarget::User(*id))
                    }
                    Some(Planned::Existing(_)) => {
                        counts.grants.existing += 1;
                        continue;
                    }
                    None => {
                        leave(format!("to {key}, who was left out"));
                        continue;
                    }
                },
                SourceTarget::Role(name) => match role_map.get(name) {
                    Some(r) => PlannedTarget::Other(GrantTarget::Role(r.clone())),
                    None => {
                        leave(format!(
                            "to role `{}`, which was left out",
                            text::shorten(name)
                        ));
                        continue;
                    }
                },
                SourceTarget::SystemRole(s) => PlannedTarget::Other(GrantTarget::SystemRole(*s)),
            };
            if let PlannedTarget::Other(t) = &target {
                let grant = Grant {
                    effect: g.effect,
                    privilege: privilege.clone(),
                    target: t.clone(),
                };
                if existing_grants.contains(&grant) || !seen.insert(grant) {
                    counts.grants.existing += 1;
                    continue;
                }
            }
            counts.grants.create += 1;
            grants.push((g.effect, privilege, target));
        }

        Ok(Plan {
            report: MigrateReport {
                platform: source.platform,
                source: source.location,
                plan_only: options.plan_only,
                update: options.update,
                counts,
                conflicts,
                skipped,
            },
            new_roles,
            updated_roles,
            new_users,
            updated_users,
            grants,
        })
    }

    /// A source account's values as Gatehouse's types, or why it cannot come; the role
    /// entries it names that are left out come back in [`Checked::left_out`].
    fn check_source_user(
        &self,
        u: &SourceUser,
        policy: &gatehouse_policy::CompiledPolicy,
        role_map: &HashMap<String, RoleName>,
        new_roles: &HashSet<RoleName>,
    ) -> Result<Checked, String> {
        let email = Email::new(&u.email).map_err(|e| e.to_string())?;
        let mut left_out = Vec::new();
        let username = match u.username.as_deref().filter(|n| !n.is_empty()) {
            None => None,
            Some(n) => match Username::new(n) {
                Ok(n) => Some(n),
                Err(e) => {
                    left_out.push((
                        "username",
                        format!("username `{}`", text::shorten(n)),
                        format!("{e}; the account comes without a username"),
                    ));
                    None
                }
            },
        };
        let hash = match &u.password_hash {
            None => None,
            Some(h) => {
                let h = PasswordHash::parse(h).map_err(|e| format!("password hash: {e}"))?;
                h.check_import(
                    &self.settings.password_policy.hash_limits,
                    &self.settings.legacy,
                )
                .map_err(|e| format!("password hash: {e}"))?;
                Some(h)
            }
        };
        text::check_line("full_name", &u.full_name, text::FULL_NAME_MAX)
            .map_err(|e| e.to_string())?;
        text::check_line("affiliations", &u.affiliations, text::AFFILIATIONS_MAX)
            .map_err(|e| e.to_string())?;
        let user_type = match &u.user_type {
            None => self.settings.default_type.clone(),
            Some(t) => {
                let t = TypeName::new(t).map_err(|e| e.to_string())?;
                self.check_type(&t).map_err(|e| e.to_string())?;
                t
            }
        };
        let mut entries: Vec<Entry> = Vec::new();
        for r in &u.roles {
            match role_map.get(r) {
                Some(name) => {
                    let e = Entry::Role(name.clone());
                    if !entries.contains(&e) {
                        entries.push(e);
                    }
                }
                None => left_out.push((
                    "membership",
                    format!("member of `{}`", text::shorten(r)),
                    "the role was left out".to_owned(),
                )),
            }
        }
        for raw in &u.entries {
            match raw.parse::<Entry>() {
                Ok(Entry::Role(r)) if !policy.has_role(&r) && !new_roles.contains(&r) => {
                    left_out.push((
                        "entry",
                        format!("role entry `{r}`"),
                        "no such role in user_roles.yaml (convert the source's user_roles.pl \
                         with --config-dir)"
                            .to_owned(),
                    ));
                }
                Ok(e) => entries.push(e),
                Err(e) => left_out.push((
                    "entry",
                    format!("entry `{}`", text::shorten(raw)),
                    e.to_string(),
                )),
            }
        }
        Ok(Checked {
            email,
            username,
            hash,
            user_type,
            entries,
            left_out,
        })
    }

    async fn write_migration(
        &self,
        tx: &mut dyn Tx,
        ctx: &Context,
        plan: Plan,
        progress: &(dyn Fn(u64) + Send + Sync),
    ) -> Result<MigrateReport, CoreError> {
        let now = Utc::now();
        let actor = self.actor_label(tx, ctx).await?;
        let platform = plan.report.platform.as_str();
        let event = |action: &str, user_id: Option<UserId>, target: String, details| HistoryEvent {
            id: 0,
            at: now,
            actor: actor.clone(),
            channel: ctx.channel,
            action: action.to_owned(),
            user_id,
            target,
            details,
        };
        let mut events = Vec::new();
        for r in &plan.new_roles {
            tx.insert_role(r).await?;
            events.push(event(
                "role.create",
                None,
                r.name.to_string(),
                json!({"from": platform, "description": r.description}),
            ));
        }
        for r in &plan.updated_roles {
            tx.update_role(r).await?;
            events.push(event(
                "role.update",
                None,
                r.name.to_string(),
                json!({"from": platform, "description": r.description}),
            ));
        }
        // Inserted in the order of their emails (usernames and skeletons mostly follow):
        // each index then grows at its end instead of at random places, which a 100,000
        // account source in its own order (DSpace's uuids) made the bulk of the writing.
        let mut order: Vec<usize> = (0..plan.new_users.len()).collect();
        order.sort_unstable_by(|a, b| {
            plan.new_users[*a]
                .1
                .email
                .as_str()
                .cmp(plan.new_users[*b].1.email.as_str())
        });
        let users: Vec<NewUser> = order.iter().map(|i| plan.new_users[*i].1.clone()).collect();
        let inserted = tx.insert_users(&users).await.map_err(|e| match e {
            e @ StoreError::Conflict { .. } => CoreError::Conflict(format!(
                "{e} (written by another process during the migration); nothing was written, \
                 run it again"
            )),
            e => e.into(),
        })?;
        // Back in the plan's order, which `Planned::New` indexes.
        if inserted.len() != order.len() {
            return Err(CoreError::Internal(format!(
                "{} accounts inserted for {} planned; nothing was written",
                inserted.len(),
                order.len()
            )));
        }
        let mut slots: Vec<Option<User>> = vec![None; inserted.len()];
        for (u, i) in inserted.into_iter().zip(&order) {
            if let Some(slot) = slots.get_mut(*i) {
                *slot = Some(u);
            }
        }
        let created: Vec<User> = slots.into_iter().flatten().collect();
        progress(created.len() as u64 / 2);
        for ((key, _), u) in plan.new_users.iter().zip(&created) {
            events.push(event(
                "user.create",
                Some(u.id),
                u.email.to_string(),
                json!({
                    "from": platform,
                    "source_key": key,
                    "active": u.active,
                    "confirmed": u.confirmed(),
                    "type": u.user_type.as_ref().map(ToString::to_string),
                    "roles": u.entries.iter().map(ToString::to_string).collect::<Vec<_>>(),
                    "password_scheme": u.password_hash.as_ref().map(|h| h.scheme().as_str()),
                }),
            ));
        }
        for (key, u) in &plan.updated_users {
            let stored = tx.update_user(u).await?;
            events.push(event(
                "user.update",
                Some(stored.id),
                stored.email.to_string(),
                json!({
                    "from": platform,
                    "source_key": key,
                    "active": stored.active,
                    "type": stored.user_type.as_ref().map(ToString::to_string),
                    "roles": stored.entries.iter().map(ToString::to_string).collect::<Vec<_>>(),
                }),
            ));
        }
        for (effect, privilege, target) in &plan.grants {
            let target = match target {
                PlannedTarget::User(Planned::New(i)) => match created.get(*i) {
                    Some(u) => GrantTarget::User(u.id),
                    None => continue,
                },
                PlannedTarget::User(Planned::Existing(id)) => GrantTarget::User(*id),
                PlannedTarget::Other(t) => t.clone(),
            };
            let user_id = match &target {
                GrantTarget::User(id) => Some(*id),
                _ => None,
            };
            let shown = match &target {
                GrantTarget::User(id) => format!("user {id}"),
                GrantTarget::Role(r) => format!("role {r}"),
                GrantTarget::SystemRole(s) => format!("system role {s}"),
            };
            let grant = Grant {
                effect: *effect,
                privilege: privilege.clone(),
                target,
            };
            if tx.add_grant(&grant).await? {
                events.push(event(
                    &format!("grant.{effect}"),
                    user_id,
                    format!("{privilege} to {shown}"),
                    json!({"from": platform}),
                ));
            }
        }
        tx.record_many(&events).await?;
        progress(plan.report.counts.users.source);
        Ok(plan.report)
    }
}

fn conflict(kind: &'static str, subject: &str, detail: String) -> MigrateConflict {
    MigrateConflict {
        kind,
        subject: subject.to_owned(),
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::role_name;

    #[test]
    fn role_names_keep_what_they_can() {
        let n = |s: &str| role_name(s).map(|r| r.to_string());
        assert_eq!(n("Administrator").as_deref(), Ok("Administrator"));
        assert_eq!(n("COLLECTION_1_ADMIN").as_deref(), Ok("COLLECTION_1_ADMIN"));
        assert_eq!(n("Curators of Law").as_deref(), Ok("Curators-of-Law"));
        assert_eq!(n("1st group").as_deref(), Ok("r-1st-group"));
        assert_eq!(n("admin@example.org").as_deref(), Ok("admin-example-org"));
    }
}
