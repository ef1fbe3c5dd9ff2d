//! The service layer: every operation on accounts, roles and grants, each in one transaction,
//! each passing the single authorization choke point (`Gatehouse::authorize`) that asks the
//! policy engine (SPEC 6: the server's own operations are decided by the same engine).

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use gatehouse_policy::{
    CompiledPolicy, EffectiveCache, GrantTarget, ItemRef, PolicyConfig, Privilege, RoleDef,
    TypeName, UserFacts, UserId,
};
use tracing::{debug, instrument};

use crate::account::{Email, Password, PasswordHash, PasswordPolicy};
use crate::decision::Facts;
use crate::error::CoreError;
use crate::store::{GrantFilter, Store, Tx};
use crate::user::{Channel, HistoryEvent, User};

/// The privilege that opens the administration panel (SPEC 6). Its holders may also read
/// everything the panel shows ([`Gatehouse`]'s read-only services allow it besides their
/// own read privilege); every change still needs its own privilege.
pub const ADMINISTRATION_ACCESS: &str = "administration-access";

/// Settings the services need, validated by the binary before they get here.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Password length rule.
    pub password_policy: PasswordPolicy,
    /// Type given to users created without one.
    pub default_type: TypeName,
    /// The default admin's email (fixtures, absent `users.yaml`).
    pub admin_email: Email,
    /// Fixture passwords by lower-cased email (`fixtures.passwords`); they win over the file.
    pub fixture_passwords: BTreeMap<String, Password>,
    /// What verifying legacy hashes needs (`legacy.*`; `Debug` redacts the salt).
    pub legacy: crate::legacy::LegacySettings,
}

/// Who is acting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// Nobody logged in (public privileges only).
    Anonymous,
    /// The operator at the command line, who already holds the database: allowed everything.
    Operator(String),
    /// A logged-in user.
    User(UserId),
    /// A service token with its privileges.
    Service {
        /// The token's name.
        name: String,
        /// The privileges it holds.
        privileges: Vec<Privilege>,
    },
}

/// The actor and the channel of one request.
#[derive(Debug, Clone)]
pub struct Context {
    /// Who.
    pub actor: Actor,
    /// Through which door.
    pub channel: Channel,
    /// The credential (session or token) the request came with, if any.
    pub credential: Option<i64>,
    /// The read snapshot taken when the request's token was resolved, if any.
    pub snapshot: Option<Arc<crate::snapshot::Snapshot>>,
}

impl Context {
    /// The command-line operator (`$USER`, or `operator`).
    pub fn operator(name: &str, channel: Channel) -> Self {
        Context {
            actor: Actor::Operator(name.to_owned()),
            channel,
            credential: None,
            snapshot: None,
        }
    }
}

/// Whether an operation changed anything (idempotent repeats say no).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Changed {
    /// Something changed.
    Yes,
    /// It was already so.
    No,
}

impl Changed {
    /// From a bool.
    pub fn from(changed: bool) -> Self {
        if changed {
            Changed::Yes
        } else {
            Changed::No
        }
    }

    /// Whether something changed.
    pub fn changed(self) -> bool {
        self == Changed::Yes
    }
}

/// A user given on the command line or in a request: an email or a numeric id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserRef {
    /// By id.
    Id(UserId),
    /// By email, case-insensitively.
    Email(String),
}

impl std::str::FromStr for UserRef {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()) {
            s.parse::<i64>()
                .map(|n| UserRef::Id(UserId(n)))
                .map_err(|_| CoreError::invalid("user", format!("user id `{s}` is too large")))
        } else if s.contains('@') {
            Ok(UserRef::Email(s.to_owned()))
        } else {
            Err(CoreError::invalid(
                "user",
                format!(
                    "`{s}` is neither an email nor a user id; give e.g. `ann@example.org` or `3`"
                ),
            ))
        }
    }
}

impl std::fmt::Display for UserRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UserRef::Id(id) => write!(f, "{id}"),
            UserRef::Email(e) => f.write_str(e),
        }
    }
}

/// Hashes a password on a blocking thread, off the async runtime's workers, within the
/// process's limit on concurrent Argon2 work ([`crate::password_work`]).
pub async fn hash_password(password: Password) -> Result<PasswordHash, CoreError> {
    crate::password_work::run("hashing", 19_456, move || password.hash()).await?
}

/// Gatehouse's services over one store and one policy configuration.
#[derive(Debug)]
pub struct Gatehouse {
    pub(crate) store: Arc<dyn Store>,
    /// The policy file's configuration, replaced by [`Gatehouse::reload_config`].
    source: RwLock<PolicySource>,
    pub(crate) settings: Settings,
    compiled: RwLock<Option<Arc<CompiledPolicy>>>,
    pub(crate) cache: EffectiveCache,
    pub(crate) snapshot: RwLock<Arc<crate::snapshot::Snapshot>>,
    pub(crate) version_gate: Arc<crate::snapshot::VersionGate>,
    /// The OpenID Connect provider's signing keys as last read.
    pub(crate) oidc: crate::oidc::OidcState,
}

/// The configuration in force, and how many times it was replaced.
#[derive(Debug)]
struct PolicySource {
    config: Arc<PolicyConfig>,
    epoch: u64,
}

/// Bits of a compiled policy's generation that hold the database's policy generation; the
/// bits above hold the configuration's reload epoch.
const DB_GENERATION_BITS: u32 = 40;

/// The generation a policy compiled from `epoch`'s configuration and the database's policy
/// generation `db` carries. Every cache keyed by it (the compiled policy, effective sets,
/// service tokens' sets) misses after either moves, whatever requests are in flight.
fn compiled_generation(epoch: u64, db: u64) -> u64 {
    (epoch << DB_GENERATION_BITS) | (db & ((1 << DB_GENERATION_BITS) - 1))
}

impl Gatehouse {
    /// Services over `store` with the policy `config` (built-in catalog plus file).
    pub fn new(store: Arc<dyn Store>, config: PolicyConfig, settings: Settings) -> Self {
        Gatehouse {
            store,
            source: RwLock::new(PolicySource {
                config: Arc::new(config),
                epoch: 0,
            }),
            settings,
            compiled: RwLock::new(None),
            cache: EffectiveCache::new(),
            snapshot: RwLock::new(Arc::new(crate::snapshot::Snapshot::new(-1))),
            version_gate: Arc::new(crate::snapshot::VersionGate::default()),
            oidc: crate::oidc::OidcState::default(),
        }
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The policy configuration in force (catalog plus file).
    pub fn config(&self) -> Arc<PolicyConfig> {
        self.source().0
    }

    /// The configuration in force and its reload epoch.
    fn source(&self) -> (Arc<PolicyConfig>, u64) {
        match self.source.read() {
            Ok(s) => (s.config.clone(), s.epoch),
            // A writer panicked mid-swap: the value is still a whole Arc and counter.
            Err(poisoned) => {
                let s = poisoned.into_inner();
                (s.config.clone(), s.epoch)
            }
        }
    }

    /// Replaces the policy file's configuration (`gatehouse serve` on SIGHUP, SPEC 2.2). The
    /// new configuration is first compiled against the database's run-time roles and grants;
    /// if that fails the old one stays in force and the error says why. From the next
    /// request on, every check on this process uses the new policy.
    pub async fn reload_config(&self, config: PolicyConfig) -> Result<(), CoreError> {
        let config = Arc::new(config);
        let mut tx = self.begin_read().await?;
        self.compile(tx.as_mut(), config.clone(), 0).await?;
        drop(tx);
        match self.source.write() {
            Ok(mut s) => {
                s.config = config;
                s.epoch += 1;
            }
            Err(_) => {
                return Err(CoreError::Internal(
                    "the policy configuration lock is poisoned".into(),
                ))
            }
        }
        self.drop_caches();
        Ok(())
    }

    /// The store's shared throttle buckets, when several nodes share the database.
    pub fn shared_buckets(&self) -> Option<Arc<dyn crate::store::SharedBuckets>> {
        self.store.shared_buckets()
    }

    /// Whether the database answers (`/readyz`): one read transaction that reads the
    /// policy generation. Returns the store's kind (`sqlite`, `postgres`).
    pub async fn ping(&self) -> Result<&'static str, CoreError> {
        let mut tx = self.begin_read().await?;
        tx.policy_generation().await?;
        Ok(self.store.kind())
    }

    /// What a policy configuration would leave dangling in the database (`policy
    /// validate`): users whose type it no longer defines, and users naming a role that is
    /// neither in it nor created at run time. One read transaction, on either store; needs
    /// no privilege beyond holding the configuration (the command-line operator).
    pub async fn policy_problems(
        &self,
        ctx: &Context,
        config: &PolicyConfig,
    ) -> Result<Vec<String>, CoreError> {
        let mut tx = self.begin_read().await?;
        self.authorize_read(tx.as_mut(), ctx, "config/view", None)
            .await?;
        let runtime: Vec<gatehouse_policy::RoleName> =
            tx.roles().await?.into_iter().map(|r| r.name).collect();
        let users = tx
            .list_users(&crate::store::UserQuery {
                limit: 0,
                ..crate::store::UserQuery::default()
            })
            .await?;
        let mut problems = Vec::new();
        for u in users.items {
            if let Some(t) = &u.user_type {
                if !config.types().contains_key(t) {
                    problems.push(format!(
                        "user {} has type `{t}`, which is not defined: they get no type entries",
                        u.label()
                    ));
                }
            }
            for e in &u.entries {
                if let gatehouse_policy::Entry::Role(r) = e {
                    if runtime.contains(r) {
                        continue;
                    }
                    if let Some(problem) = config.role_problem(r.as_str()) {
                        problems.push(format!("user {}: {problem}", u.label()));
                    }
                }
            }
        }
        Ok(problems)
    }

    /// Starts a transaction.
    pub(crate) async fn begin(&self) -> Result<Box<dyn Tx>, CoreError> {
        Ok(self.store.begin().await?)
    }

    /// Starts a transaction that only reads.
    pub(crate) async fn begin_read(&self) -> Result<Box<dyn Tx>, CoreError> {
        Ok(self.store.begin_read().await?)
    }

    /// The compiled policy for the database's current policy generation: recompiled when a
    /// run-time role or a grant on a role or system role changed (on any node).
    pub(crate) async fn policy(&self, tx: &mut dyn Tx) -> Result<Arc<CompiledPolicy>, CoreError> {
        let (config, epoch) = self.source();
        let db = tx.policy_generation().await?;
        let generation = compiled_generation(epoch, u64::try_from(db).unwrap_or(0));
        if let Ok(guard) = self.compiled.read() {
            if let Some(p) = guard.as_ref() {
                if p.generation() == generation {
                    return Ok(p.clone());
                }
            }
        }
        let compiled = Arc::new(self.compile(tx, config, generation).await?);
        debug!(
            generation,
            universe = compiled.universe_len(),
            "policy compiled"
        );
        if let Ok(mut guard) = self.compiled.write() {
            *guard = Some(compiled.clone());
        }
        Ok(compiled)
    }

    /// The policy as the transaction sees the database now, compiled afresh and never
    /// cached (the transaction may hold changes it has not committed).
    pub(crate) async fn compile_in(&self, tx: &mut dyn Tx) -> Result<CompiledPolicy, CoreError> {
        let (config, _) = self.source();
        self.compile(tx, config, 0).await
    }

    /// Compiles `config` with the database's run-time roles and grants on roles and system
    /// roles.
    async fn compile(
        &self,
        tx: &mut dyn Tx,
        config: Arc<PolicyConfig>,
        generation: u64,
    ) -> Result<CompiledPolicy, CoreError> {
        let roles = tx.roles().await?;
        let runtime: Vec<RoleDef> = roles
            .into_iter()
            .map(|r| RoleDef {
                name: r.name,
                entries: r.entries,
                origin: gatehouse_policy::Origin::Runtime,
                description: r.description,
            })
            .collect();
        let grants: Vec<_> = tx
            .grants(&GrantFilter::default())
            .await?
            .into_iter()
            .filter(|g| !matches!(g.target, GrantTarget::User(_)))
            .collect();
        CompiledPolicy::compile(config, &runtime, &grants, generation)
            .map_err(|e| CoreError::invalid("role", e.to_string()))
    }

    /// Finds a user by email or id, or fails with a message naming it.
    pub(crate) async fn find_user(
        &self,
        tx: &mut dyn Tx,
        user: &UserRef,
    ) -> Result<User, CoreError> {
        let found = match user {
            UserRef::Id(id) => tx.user_by_id(*id).await?,
            UserRef::Email(e) => match Email::new(e) {
                Ok(email) => tx.user_by_email(&email).await?,
                Err(_) => None,
            },
        };
        found.ok_or_else(|| CoreError::NotFound {
            what: "user",
            value: user.to_string(),
            hint: "; list users with `gatehouse users list`".into(),
        })
    }

    /// The engine's facts for a stored user (with the user's own grants).
    pub(crate) async fn facts(&self, tx: &mut dyn Tx, user: &User) -> Result<UserFacts, CoreError> {
        let grants = tx
            .grants(&GrantFilter {
                target: Some(GrantTarget::User(user.id)),
                ..GrantFilter::default()
            })
            .await?;
        let (mut allow, mut deny) = (Vec::new(), Vec::new());
        for g in grants {
            match g.effect {
                gatehouse_policy::Effect::Allow => allow.push(g.privilege),
                gatehouse_policy::Effect::Deny => deny.push(g.privilege),
            }
        }
        Ok(user.facts(allow, deny))
    }

    /// THE authorization choke point for the services: may the context's actor exercise
    /// `privilege` on `item`? Every service operation calls it, inside its transaction,
    /// before it changes or reveals anything; it asks the one decision
    /// ([`Gatehouse::decide`](crate::decision)).
    #[instrument(level = "debug", skip(self, tx, item), fields(actor = ?ctx.actor))]
    pub(crate) async fn authorize(
        &self,
        tx: &mut dyn Tx,
        ctx: &Context,
        privilege: &str,
        item: Option<&ItemRef<'_>>,
    ) -> Result<(), CoreError> {
        let decision = self
            .decide(
                &mut Facts::Tx(tx),
                &ctx.actor,
                ctx.credential,
                privilege,
                item,
            )
            .await?;
        if decision.allowed {
            Ok(())
        } else {
            Err(CoreError::Forbidden {
                privilege: privilege.to_owned(),
                user: None,
            })
        }
    }

    /// The read-authorization choke point, beside [`Gatehouse::authorize`]: may the actor
    /// READ what `privilege` guards on `item`? Allowed when the engine allows `privilege`,
    /// or when it allows [`ADMINISTRATION_ACCESS`]: the panel is for holders of
    /// `administration-access` (SPEC 6), and they read everything it shows
    /// (docs/decisions.md). Both questions go through the one decision. Only read-only
    /// services call this; every change asks [`Gatehouse::authorize`] for its own
    /// privilege. A refusal names `privilege`, the one a reader outside the panel needs.
    pub(crate) async fn authorize_read(
        &self,
        tx: &mut dyn Tx,
        ctx: &Context,
        privilege: &str,
        item: Option<&ItemRef<'_>>,
    ) -> Result<(), CoreError> {
        self.authorize_read_from(&mut Facts::Tx(tx), ctx, privilege, item)
            .await
    }

    /// [`Gatehouse::authorize_read`] over either source of facts (a transaction, or the
    /// request's snapshot for the platform's reads).
    pub(crate) async fn authorize_read_from(
        &self,
        facts: &mut Facts<'_>,
        ctx: &Context,
        privilege: &str,
        item: Option<&ItemRef<'_>>,
    ) -> Result<(), CoreError> {
        for (asked, on) in [(privilege, item), (ADMINISTRATION_ACCESS, None)] {
            let decision = self
                .decide(facts, &ctx.actor, ctx.credential, asked, on)
                .await?;
            if decision.allowed {
                return Ok(());
            }
        }
        Err(CoreError::Forbidden {
            privilege: privilege.to_owned(),
            user: None,
        })
    }

    /// [`Gatehouse::authorize_read`] of `privilege` on one user's record (item: dataset
    /// `user`, owned by the target), as [`Gatehouse::authorize_on_user`] asks it.
    pub(crate) async fn authorize_read_on_user(
        &self,
        tx: &mut dyn Tx,
        ctx: &Context,
        privilege: &str,
        target: &User,
    ) -> Result<(), CoreError> {
        let owners = [target.id];
        let item = ItemRef::new("user").owned_by(&owners);
        self.authorize_read(tx, ctx, privilege, Some(&item)).await
    }

    /// Authorizes an operation on one user's record: `:owner` privileges apply to the user
    /// themselves (item: dataset `user`, owned by the target), plain ones to staff.
    pub(crate) async fn authorize_on_user(
        &self,
        tx: &mut dyn Tx,
        ctx: &Context,
        privilege: &str,
        target: &User,
    ) -> Result<(), CoreError> {
        let owners = [target.id];
        let item = ItemRef::new("user").owned_by(&owners);
        self.authorize(tx, ctx, privilege, Some(&item)).await
    }

    /// A label for the actor, for history.
    pub(crate) async fn actor_label(
        &self,
        tx: &mut dyn Tx,
        ctx: &Context,
    ) -> Result<String, CoreError> {
        Ok(match &ctx.actor {
            Actor::Operator(name) => format!("operator {name}"),
            Actor::Anonymous => "anonymous".to_owned(),
            Actor::User(id) => match tx.user_by_id(*id).await? {
                Some(u) => format!("user {}", u.label()),
                None => format!("user id {id}"),
            },
            Actor::Service { name, .. } => format!("service token {name}"),
        })
    }

    /// Records a history event in `tx`.
    pub(crate) async fn record(
        &self,
        tx: &mut dyn Tx,
        ctx: &Context,
        action: &str,
        user_id: Option<UserId>,
        target: &str,
        details: serde_json::Value,
    ) -> Result<(), CoreError> {
        let actor = self.actor_label(tx, ctx).await?;
        tx.record(&HistoryEvent {
            id: 0,
            at: chrono::Utc::now(),
            actor,
            channel: ctx.channel,
            action: action.to_owned(),
            user_id,
            target: target.to_owned(),
            details,
        })
        .await?;
        Ok(())
    }

    /// Forgets every cached effective set and snapshot (after losing contact with the
    /// database, or after a new policy configuration).
    pub fn drop_caches(&self) {
        self.cache.clear();
        if let Ok(mut s) = self.snapshot.write() {
            *s = Arc::new(crate::snapshot::Snapshot::new(-1));
        }
        if let Ok(mut guard) = self.compiled.write() {
            *guard = None;
        }
    }
}
