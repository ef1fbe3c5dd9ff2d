//! Applying a fixtures plan (`users.yaml`, SPEC 2.1) in ONE transaction: existing emails are
//! skipped and reported, everything else is created with its roles, grants and scope, and
//! any problem leaves the database exactly as it was.

use chrono::Utc;
use gatehouse_policy::{Effect, Entry, Grant, GrantTarget, Privilege, ScopeFilter, TypeName};
use serde::Serialize;
use serde_json::json;

use crate::account::{Email, Password, PasswordHash, Username};
use crate::error::CoreError;
use crate::service::{Context, Gatehouse};
use crate::store::{ConflictField, Tx};
use crate::text;
use crate::user::NewUser;

/// Where a fixture user's password comes from in the file.
#[derive(Debug, Clone)]
pub enum FilePassword {
    /// `password:` in the file.
    Clear(Password),
    /// `password_hash:` in the file (Gatehouse extension).
    Hash(PasswordHash),
    /// Neither: a random one unless the config map has one.
    Absent,
}

/// One user of a fixtures file, already parsed and syntax-checked.
#[derive(Debug, Clone)]
pub struct FixtureUser {
    /// 1-based position in the file.
    pub index: usize,
    /// Email.
    pub email: Email,
    /// Username.
    pub username: Option<Username>,
    /// Full name.
    pub full_name: String,
    /// Affiliations.
    pub affiliations: String,
    /// Active (default false, as InvenioRDM).
    pub active: bool,
    /// Confirmed (default false).
    pub confirmed: bool,
    /// Password from the file.
    pub password: FilePassword,
    /// User type (default: the configured default type).
    pub user_type: Option<TypeName>,
    /// Own entries (`roles`).
    pub entries: Vec<Entry>,
    /// Privileges allowed to the user (`allow`).
    pub allow: Vec<Privilege>,
    /// Editorial scope.
    pub editorial_scope: Vec<ScopeFilter>,
}

/// What to load.
#[derive(Debug, Clone)]
pub struct FixturePlan {
    /// The file, for messages (or a description for the default admin).
    pub file: String,
    /// The users, in file order.
    pub users: Vec<FixtureUser>,
    /// True when the file was absent and the plan is the default admin.
    pub default_admin: bool,
}

/// What happened to one entry.
#[derive(Debug, Clone, Serialize)]
pub struct FixtureOutcome {
    /// 1-based position.
    pub index: usize,
    /// Email.
    pub email: String,
    /// `created` or `skipped_existing`.
    pub outcome: &'static str,
    /// Where the password came from: `config`, `file`, `file_hash`, `random`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_source: Option<&'static str>,
}

/// The result of a load.
#[derive(Debug, Clone, Serialize)]
pub struct FixtureReport {
    /// The file.
    pub file: String,
    /// Per entry.
    pub entries: Vec<FixtureOutcome>,
    /// How many were created.
    pub created: usize,
    /// How many already existed and were left alone.
    pub skipped: usize,
    /// The default admin's generated password, shown once (SPEC 7.10).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generated_password: Option<String>,
    /// The default admin's email when it was created.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_admin: Option<String>,
}

impl Gatehouse {
    /// The plan for an absent `users.yaml`: the default admin, active and confirmed, type
    /// `admin`, own entry `admin`, its own grant of `superuser-access`.
    pub fn default_admin_plan(&self) -> Result<FixturePlan, CoreError> {
        Ok(FixturePlan {
            file: "default admin (no users.yaml)".into(),
            default_admin: true,
            users: vec![FixtureUser {
                index: 1,
                email: self.settings.admin_email.clone(),
                username: None,
                full_name: String::new(),
                affiliations: String::new(),
                active: true,
                confirmed: true,
                password: FilePassword::Absent,
                user_type: Some(TypeName::new("admin")?),
                entries: vec![Entry::Role(gatehouse_policy::RoleName::new("admin")?)],
                allow: vec![Privilege::new(gatehouse_policy::SUPERUSER_ACCESS)?],
                editorial_scope: Vec::new(),
            }],
        })
    }

    /// Loads `plan` in one transaction. `progress` is told how many entries are done.
    pub async fn load_fixtures(
        &self,
        ctx: &Context,
        plan: FixturePlan,
        progress: &(dyn Fn(u64) + Send + Sync),
    ) -> Result<FixtureReport, CoreError> {
        let mut tx = self.begin().await?;
        self.authorize(tx.as_mut(), ctx, "create_user", None)
            .await?;
        self.check_plan(tx.as_mut(), &plan).await?;
        let decided = self.decide_passwords(tx.as_mut(), &plan).await?;
        self.refuse_look_alikes(tx.as_mut(), &plan, &decided.to_create)
            .await?;
        let now = Utc::now();
        let created = self
            .insert_planned(tx.as_mut(), &plan, &decided, now)
            .await?;
        progress(plan.users.len() as u64 / 2);
        self.grant_and_record(
            tx.as_mut(),
            ctx,
            &plan,
            &created,
            &decided.to_create,
            now,
            progress,
        )
        .await?;
        tx.commit().await?;
        progress(plan.users.len() as u64);
        let created_n = created.len();
        Ok(FixtureReport {
            file: plan.file.clone(),
            skipped: decided.outcomes.len() - created_n,
            created: created_n,
            entries: decided.outcomes,
            default_admin: (plan.default_admin && created_n > 0)
                .then(|| self.settings.admin_email.to_string()),
            generated_password: if created_n > 0 {
                decided.generated
            } else {
                None
            },
        })
    }

    /// Meaning checks of every entry that need the policy or the settings: roles and types
    /// exist, text fields within their limits, hashes within the work limits.
    async fn check_plan(&self, tx: &mut dyn Tx, plan: &FixturePlan) -> Result<(), CoreError> {
        let policy = self.policy(tx).await?;
        for u in &plan.users {
            for e in &u.entries {
                if let Entry::Role(r) = e {
                    if !policy.has_role(r) {
                        let problem = self
                            .config()
                            .role_problem(r.as_str())
                            .unwrap_or_else(|| format!("role `{r}` is not defined"));
                        return Err(at(plan, u, "roles", problem));
                    }
                }
            }
            if let Some(t) = &u.user_type {
                self.check_type(t)
                    .map_err(|e| at(plan, u, "type", e.to_string()))?;
            }
            text::check_line("full_name", &u.full_name, text::FULL_NAME_MAX)
                .map_err(|e| at(plan, u, "full_name", e.to_string()))?;
            text::check_line("affiliations", &u.affiliations, text::AFFILIATIONS_MAX)
                .map_err(|e| at(plan, u, "affiliations", e.to_string()))?;
            // A hash from the file must not ask for more work than the limits allow, and a
            // legacy one must be verifiable with the `legacy.*` settings.
            if let FilePassword::Hash(h) = &u.password {
                h.check_import(
                    &self.settings.password_policy.hash_limits,
                    &self.settings.legacy,
                )
                .map_err(|e| at(plan, u, "password_hash", e.to_string()))?;
            }
        }
        Ok(())
    }

    /// Which entries are new, and each new one's password (config map > file password >
    /// file hash > random), hashed on blocking threads.
    async fn decide_passwords<'p>(
        &self,
        tx: &mut dyn Tx,
        plan: &'p FixturePlan,
    ) -> Result<Decided<'p>, CoreError> {
        let emails: Vec<Email> = plan.users.iter().map(|u| u.email.clone()).collect();
        let existing: std::collections::HashSet<Email> =
            tx.existing_emails(&emails).await?.into_iter().collect();
        let mut decided = Decided {
            outcomes: Vec::with_capacity(plan.users.len()),
            to_create: Vec::new(),
            hashes: Vec::new(),
            generated: None,
        };
        let mut clear: Vec<(usize, Password)> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for u in &plan.users {
            if existing.contains(&u.email) || !seen.insert(u.email.clone()) {
                decided.outcomes.push(FixtureOutcome {
                    index: u.index,
                    email: u.email.to_string(),
                    outcome: "skipped_existing",
                    password_source: None,
                });
                continue;
            }
            let config_pw = self
                .settings
                .fixture_passwords
                .get(u.email.as_str())
                .cloned();
            let (source, pw, hash) = match (config_pw, &u.password) {
                (Some(p), _) => ("config", Some(p), None),
                (None, FilePassword::Clear(p)) => ("file", Some(p.clone()), None),
                (None, FilePassword::Hash(h)) => ("file_hash", None, Some(h.clone())),
                (None, FilePassword::Absent) => {
                    let p = Password::random();
                    if plan.default_admin {
                        decided.generated = Some(p.expose().to_owned());
                    }
                    ("random", Some(p), None)
                }
            };
            if let Some(p) = pw {
                clear.push((decided.hashes.len(), p));
            }
            decided.hashes.push(hash);
            decided.to_create.push((u, source));
            decided.outcomes.push(FixtureOutcome {
                index: u.index,
                email: u.email.to_string(),
                outcome: "created",
                password_source: Some(source),
            });
        }
        for (slot, hash) in hash_many(clear).await? {
            if let Some(h) = decided.hashes.get_mut(slot) {
                *h = Some(hash);
            }
        }
        Ok(decided)
    }

    /// Refuses an entry whose email or username looks like a stored account's or an
    /// earlier entry's (issue 11).
    async fn refuse_look_alikes(
        &self,
        tx: &mut dyn Tx,
        plan: &FixturePlan,
        to_create: &[(&FixtureUser, &'static str)],
    ) -> Result<(), CoreError> {
        let entry_of = |email: &Email| to_create.iter().find(|(u, _)| u.email == *email);
        let new_emails: Vec<&Email> = to_create.iter().map(|(u, _)| &u.email).collect();
        if let Some((email, e)) = self.first_look_alike(tx, &new_emails).await? {
            return Err(match entry_of(email) {
                Some((u, _)) => at(plan, u, "email", e.to_string()),
                None => e,
            });
        }
        let names: Vec<(&Email, &Username)> = to_create
            .iter()
            .filter_map(|(u, _)| u.username.as_ref().map(|n| (&u.email, n)))
            .collect();
        if let Some((email, e)) = self.first_look_alike_username(tx, &names).await? {
            return Err(match entry_of(email) {
                Some((u, _)) => at(plan, u, "username", e.to_string()),
                None => e,
            });
        }
        Ok(())
    }

    /// Inserts the new users in bulk; a taken email or username names its entry.
    async fn insert_planned(
        &self,
        tx: &mut dyn Tx,
        plan: &FixturePlan,
        decided: &Decided<'_>,
        now: chrono::DateTime<Utc>,
    ) -> Result<Vec<crate::user::User>, CoreError> {
        let new_users: Vec<NewUser> = decided
            .to_create
            .iter()
            .zip(&decided.hashes)
            .map(|((u, _), hash)| NewUser {
                email: u.email.clone(),
                username: u.username.clone(),
                full_name: u.full_name.clone(),
                affiliations: u.affiliations.clone(),
                active: u.active,
                confirmed_at: u.confirmed.then_some(now),
                password_hash: hash.clone(),
                user_type: Some(
                    u.user_type
                        .clone()
                        .unwrap_or_else(|| self.settings.default_type.clone()),
                ),
                entries: u.entries.clone(),
                editorial_scope: u.editorial_scope.clone(),
            })
            .collect();
        tx.insert_users(&new_users).await.map_err(|e| match &e {
            crate::store::StoreError::Conflict { field, value } => {
                // The store names the value as given; usernames clash whatever their case.
                let which = decided.to_create.iter().find(|(u, _)| match field {
                    ConflictField::Email => u.email.as_str() == value,
                    ConflictField::Username => u
                        .username
                        .as_ref()
                        .is_some_and(|n| n.folded() == value.to_ascii_lowercase()),
                    ConflictField::ServiceTokenName => false,
                });
                match which {
                    Some((u, _)) => at(
                        plan,
                        u,
                        field.as_str(),
                        format!("{e}; choose another {field}"),
                    ),
                    None => CoreError::Conflict(format!("{}: {e}", plan.file)),
                }
            }
            _ => e.into(),
        })
    }

    /// The entries' allow grants, and one history event per created user.
    #[allow(clippy::too_many_arguments)]
    async fn grant_and_record(
        &self,
        tx: &mut dyn Tx,
        ctx: &Context,
        plan: &FixturePlan,
        created: &[crate::user::User],
        to_create: &[(&FixtureUser, &'static str)],
        now: chrono::DateTime<Utc>,
        progress: &(dyn Fn(u64) + Send + Sync),
    ) -> Result<(), CoreError> {
        let label = self.actor_label(tx, ctx).await?;
        let mut events = Vec::with_capacity(created.len());
        for (i, (user, (fixture, source))) in created.iter().zip(to_create).enumerate() {
            for p in &fixture.allow {
                tx.add_grant(&Grant {
                    effect: Effect::Allow,
                    privilege: p.clone(),
                    target: GrantTarget::User(user.id),
                })
                .await?;
            }
            events.push(crate::user::HistoryEvent {
                id: 0,
                at: now,
                actor: label.clone(),
                channel: ctx.channel,
                action: "user.create".into(),
                user_id: Some(user.id),
                target: user.email.to_string(),
                details: json!({
                    "file": plan.file,
                    "entry": fixture.index,
                    "active": user.active,
                    "confirmed": user.confirmed(),
                    "type": user.user_type.as_ref().map(ToString::to_string),
                    "roles": user.entries.iter().map(ToString::to_string).collect::<Vec<_>>(),
                    "allow": fixture.allow.iter().map(ToString::to_string).collect::<Vec<_>>(),
                    "password_source": source,
                }),
            });
            if i % 1000 == 999 {
                progress((plan.users.len() / 2 + i / 2) as u64);
            }
        }
        tx.record_many(&events).await?;
        Ok(())
    }
}

/// Hashes passwords on blocking threads, two at a time (one per core here).
/// What the load decided before writing: each entry's outcome, the entries to create
/// with their password source, their hashes, and the default admin's generated password.
struct Decided<'p> {
    outcomes: Vec<FixtureOutcome>,
    to_create: Vec<(&'p FixtureUser, &'static str)>,
    hashes: Vec<Option<PasswordHash>>,
    generated: Option<String>,
}

/// An error naming the file, the entry (number and email) and the field.
fn at(plan: &FixturePlan, u: &FixtureUser, field: &str, msg: String) -> CoreError {
    CoreError::invalid(
        field,
        format!(
            "{}: entry {} (`{}`): field `{field}`: {msg}",
            plan.file, u.index, u.email
        ),
    )
}

async fn hash_many(clear: Vec<(usize, Password)>) -> Result<Vec<(usize, PasswordHash)>, CoreError> {
    if clear.is_empty() {
        return Ok(Vec::new());
    }
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .max(1);
    let chunk = clear.len().div_ceil(workers);
    let mut tasks = Vec::new();
    let mut rest = clear;
    while !rest.is_empty() {
        let tail = rest.split_off(chunk.min(rest.len()));
        let mine = std::mem::replace(&mut rest, tail);
        tasks.push(tokio::task::spawn_blocking(move || {
            mine.into_iter()
                .map(|(slot, p)| p.hash().map(|h| (slot, h)))
                .collect::<Result<Vec<_>, CoreError>>()
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.extend(
            t.await
                .map_err(|e| CoreError::Internal(format!("hashing task failed: {e}")))??,
        );
    }
    Ok(out)
}
