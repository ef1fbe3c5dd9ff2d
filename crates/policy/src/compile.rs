//! The compiled policy: every privilege string interned once, roles and user types turned into
//! id operations, each type's walk done once (and its effective set derived once), and a
//! query table that maps a privilege asked for to the ids of every string a check must test
//! (plain, `:owner`, `:editor`, and the same for every status of the item's dataset).
//!
//! Compiling is done once per policy change; deriving one user's effective set is a copy of
//! the type's precomputed walk plus the user's own entries and grants (`effective.rs`).

use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use rustc_hash::FxHashMap;

use crate::bits::{BitSet, PrivId, NONE};
use crate::config::{Origin, PolicyConfig, PolicyErrors, PublicDef, RoleDef, SUPERUSER_ACCESS};
use crate::effective::EffectiveSet;
use crate::ident::{split_scope, Privilege, RoleName, Scope, SystemRole, TypeName};
use crate::model::{Effect, Entry, Grant, GrantTarget, UserFacts};
use crate::table::StrIndex;

/// Where a privilege held by a user came from, or where a `-p` removed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Prov {
    /// The user type's entry number `entry` (0-based): `+p`/`-p` when `role` is `None`, else
    /// an entry of that role.
    Type { entry: u16, role: Option<u32> },
    /// The user's own entry number `entry`: `+p`/`-p` when `role` is `None`, else a role.
    Own { entry: u16, role: Option<u32> },
    /// An allow grant on a role the user holds (through the type when `own` is false).
    RoleGrant { role: u32, own: bool, entry: u16 },
    /// An allow grant to the user.
    UserGrant,
    /// An allow grant to `authenticated_user`.
    SystemGrant,
}

/// One string's state during a walk: held (and from where), and the last `-p` that removed
/// it if nothing added it back since (for explanations).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Slot {
    pub(crate) held: Option<Prov>,
    pub(crate) removed: Option<Prov>,
}

impl Slot {
    /// Applies `+p` (`add`) or `-p` from `at`.
    #[inline]
    pub(crate) fn apply(&mut self, add: bool, at: Prov) {
        if add {
            self.held = Some(at);
            self.removed = None;
        } else {
            if self.held.is_some() {
                self.removed = Some(at);
            }
            self.held = None;
        }
    }
}

/// Who a deny was given to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DenySource {
    /// The user.
    User,
    /// A role the user holds.
    Role(RoleName),
    /// A system role.
    System(SystemRole),
}

/// A role in compiled form.
#[derive(Debug, Clone)]
pub(crate) struct CompiledRole {
    pub(crate) name: RoleName,
    pub(crate) origin: Origin,
    pub(crate) description: Option<String>,
    pub(crate) ops: Vec<(bool, PrivId)>,
    pub(crate) allow: Vec<PrivId>,
    pub(crate) deny: Vec<Privilege>,
}

/// A user type in compiled form, with its walk done once.
#[derive(Debug, Clone)]
pub(crate) struct CompiledType {
    pub(crate) name: TypeName,
    pub(crate) origin: Origin,
    pub(crate) held_roles: Vec<RoleName>,
    /// State after walking the type's entries: one slot per global id.
    pub(crate) base: Vec<Slot>,
    /// The effective set of a user of this type with nothing of their own.
    pub(crate) set: Arc<EffectiveSet>,
    /// Per entry, the words of a privilege held through it (a reason's source), written
    /// once here rather than formatted on every explained check. `None` for an entry that
    /// holds nothing (`-p`, an undefined role or string).
    pub(crate) entry_words: Vec<Option<EntryWords>>,
}

/// The words of a privilege held through one user type entry, with what they describe.
#[derive(Debug, Clone)]
pub(crate) struct EntryWords {
    /// The role the entry names (`None` for `+p`).
    pub(crate) role: Option<u32>,
    /// The id a `+p` entry adds ([`NONE`] for a role).
    pub(crate) id: PrivId,
    pub(crate) words: Box<str>,
}

/// What a check must test for one privilege asked for.
#[derive(Debug, Clone)]
pub(crate) struct QueryInfo {
    /// Ids of `q`, `q:owner`, `q:editor` ([`NONE`] when nobody mentions that string).
    pub(crate) ids: [PrivId; 3],
    /// For `<ds>/<rest>` where `ds` has statuses and `rest` does not name one: the dataset's
    /// index and the ids of `<ds>/<status>/<rest>` (plain, owner, editor) per status.
    pub(crate) by_status: Option<(u16, Box<[[PrivId; 3]]>)>,
}

impl Default for QueryInfo {
    fn default() -> Self {
        QueryInfo {
            ids: [NONE; 3],
            by_status: None,
        }
    }
}

/// A public privilege's source, for reasons.
#[derive(Debug, Clone)]
pub(crate) enum PublicSource {
    Def(Origin, bool),
    AnyUserGrant,
}

/// A dataset with statuses, compiled.
#[derive(Debug, Clone)]
pub(crate) struct Dataset {
    pub(crate) name: Box<str>,
    pub(crate) statuses: Vec<Box<str>>,
}

impl Dataset {
    /// The index of `status` among the dataset's statuses.
    #[inline]
    pub(crate) fn status_index(&self, status: &str) -> Option<usize> {
        self.statuses
            .iter()
            .position(|s| crate::table::same_bytes(s.as_bytes(), status.as_bytes()))
    }

    /// Whether `rest` (after `<ds>/`) already names one of the statuses.
    pub(crate) fn names_status(&self, rest: &str) -> bool {
        rest.split_once('/')
            .is_some_and(|(first, _)| self.status_index(first).is_some())
    }
}

/// The policy compiled for fast checks: immutable, shared between threads; build a new one
/// when roles, types or grants on roles and system roles change.
///
/// Ask it with [`CompiledPolicy::check`] (one call, with reasons), or through a
/// [`Subject`](crate::Subject) handle ([`CompiledPolicy::subject`]) when checking many items
/// for one user.
#[derive(Debug)]
pub struct CompiledPolicy {
    /// Unique per compiled policy in this process: effective sets remember it, so that a
    /// set derived under another policy is never read with this one's ids.
    pub(crate) id: u64,
    pub(crate) generation: u64,
    /// A hash of everything the policy was compiled from ([`CompiledPolicy::fingerprint`]).
    pub(crate) fingerprint: u64,
    pub(crate) config: Arc<PolicyConfig>,
    pub(crate) names: Vec<Box<str>>,
    pub(crate) ids: FxHashMap<Box<str>, PrivId>,
    /// The query table while compiling; emptied into `query_index` and `query_info`.
    pub(crate) queries: FxHashMap<Box<str>, QueryInfo>,
    /// Privilege text -> position in `query_info`.
    pub(crate) query_index: StrIndex,
    pub(crate) query_info: Box<[QueryInfo]>,
    pub(crate) roles: Vec<CompiledRole>,
    pub(crate) role_index: FxHashMap<RoleName, u32>,
    pub(crate) types: FxHashMap<TypeName, CompiledType>,
    /// The effective set of a user with no type and nothing of their own.
    pub(crate) untyped: Arc<EffectiveSet>,
    pub(crate) public: BitSet,
    pub(crate) public_source: FxHashMap<PrivId, PublicSource>,
    pub(crate) auth_allow: Vec<PrivId>,
    pub(crate) system_deny: Vec<(Privilege, SystemRole)>,
    pub(crate) superuser: PrivId,
    /// Datasets with statuses, by index.
    pub(crate) datasets: Vec<Dataset>,
    /// Datasets whose items are checked against editorial scope.
    pub(crate) scoped: Vec<Box<str>>,
    /// Sets derived by [`CompiledPolicy::check`] for users with entries or grants of their
    /// own, by shape (bounded: emptied when full).
    pub(crate) memo: Mutex<Memo>,
}

/// What makes two users' effective sets equal.
pub(crate) type Shape = (Option<TypeName>, Vec<Entry>, Vec<Privilege>, Vec<Privilege>);

/// Derived sets by the hash of their shape (collisions side by side).
pub(crate) type Memo = FxHashMap<u64, Vec<(Shape, Arc<EffectiveSet>)>>;

/// Shapes [`CompiledPolicy::check`] keeps before starting again.
const MEMO_SHAPES: usize = 10_000;

/// Why a policy could not be compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompileError {
    /// A run-time role takes the name of a built-in or file role.
    #[error(
        "role `{0}` is already defined ({1}); a role created at run time needs a name of its own"
    )]
    RoleClash(RoleName, String),
    /// The configuration breaks a rule ([`PolicyConfig::validate`]).
    #[error(transparent)]
    Invalid(#[from] PolicyErrors),
}

#[derive(Default)]
struct Interner {
    names: Vec<Box<str>>,
    ids: FxHashMap<Box<str>, PrivId>,
}

impl Interner {
    fn intern(&mut self, s: &str) -> PrivId {
        if let Some(id) = self.ids.get(s) {
            return *id;
        }
        // INVARIANT: a policy has far fewer than 2^32 - 1 distinct privilege strings.
        let id = PrivId::try_from(self.names.len()).unwrap_or(NONE - 1);
        self.names.push(s.into());
        self.ids.insert(s.into(), id);
        id
    }
}

/// The strings a deny of `denied` removes (SPEC 7.8): the string itself; for a plain string
/// also `:owner` and `:editor`; and for `<ds>/<rest>` of a dataset with statuses, every
/// `<ds>/<status>/<rest>` form with and without suffix.
pub(crate) fn deny_coverage(denied: &str, datasets: &[Dataset]) -> Vec<String> {
    let mut out = vec![denied.to_owned()];
    if split_scope(denied).1 != Scope::Plain {
        return out;
    }
    out.push(format!("{denied}:owner"));
    out.push(format!("{denied}:editor"));
    if let Some((ds, rest)) = denied.split_once('/') {
        if let Some(d) = datasets.iter().find(|d| &*d.name == ds) {
            if !d.names_status(rest) {
                for st in &d.statuses {
                    let v = format!("{ds}/{st}/{rest}");
                    out.push(format!("{v}:owner"));
                    out.push(format!("{v}:editor"));
                    out.push(v);
                }
            }
        }
    }
    out
}

/// Grants to roles and system roles, sorted out for compiling.
#[derive(Default)]
struct SortedGrants {
    auth_allow: Vec<PrivId>,
    any_allow: Vec<PrivId>,
    system_deny: Vec<(Privilege, SystemRole)>,
}

static NEXT_POLICY_ID: AtomicU64 = AtomicU64::new(1);

impl CompiledPolicy {
    /// Compiles `config` with the run-time roles and the grants to roles and system roles.
    /// Grants to users are ignored here: they are part of each user's facts.
    ///
    /// `generation` is the caller's number for this state of roles and grants; effective
    /// sets and caches keyed by it miss when it changes.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use gatehouse_policy::{CompiledPolicy, PolicyConfig};
    ///
    /// let policy = CompiledPolicy::compile(Arc::new(PolicyConfig::builtin().clone()), &[], &[], 1)
    ///     .expect("the built-in catalog compiles");
    /// assert!(policy.has_role(&"edit-own-record".parse().expect("a role name")));
    /// ```
    pub fn compile(
        config: Arc<PolicyConfig>,
        runtime_roles: &[RoleDef],
        grants: &[Grant],
        generation: u64,
    ) -> Result<CompiledPolicy, CompileError> {
        let runtime_names: Vec<RoleName> = runtime_roles.iter().map(|r| r.name.clone()).collect();
        config.validate_with(&runtime_names)?;
        let mut interner = Interner::default();
        let superuser = interner.intern(SUPERUSER_ACCESS);
        let (mut roles, role_index) = compile_roles(&config, runtime_roles, &mut interner)?;
        let sorted = sort_grants(grants, &mut roles, &role_index, &mut interner);
        let datasets: Vec<Dataset> = config
            .datasets()
            .statuses
            .iter()
            .map(|(ds, list)| Dataset {
                name: ds.as_str().into(),
                statuses: list.iter().map(|s| s.as_str().into()).collect(),
            })
            .collect();

        // Types' `+p` / `-p` strings, the public list, and every deny's coverage join the
        // universe before the walks are done, so that all of them are found by id.
        for ty in config.types().values() {
            for e in &ty.entries {
                if let Entry::Plus(p) | Entry::Minus(p) = e {
                    interner.intern(p.as_str());
                }
            }
        }
        let public_ids: Vec<(PrivId, &PublicDef)> = config
            .public()
            .iter()
            .map(|p| (interner.intern(p.privilege.as_str()), p))
            .collect();
        let deny_strings: Vec<String> = roles
            .iter()
            .flat_map(|r| r.deny.iter().map(|p| p.as_str().to_owned()))
            .chain(
                sorted
                    .system_deny
                    .iter()
                    .map(|(p, _)| p.as_str().to_owned()),
            )
            .collect();
        for d in deny_strings {
            for s in deny_coverage(&d, &datasets) {
                interner.intern(&s);
            }
        }

        let n = interner.names.len();
        let mut policy = CompiledPolicy {
            id: NEXT_POLICY_ID.fetch_add(1, Ordering::Relaxed),
            generation,
            fingerprint: fingerprint(&config, runtime_roles, grants),
            config: config.clone(),
            names: interner.names,
            ids: interner.ids,
            queries: FxHashMap::default(),
            query_index: StrIndex::default(),
            query_info: Box::default(),
            roles,
            role_index,
            types: FxHashMap::default(),
            untyped: Arc::new(EffectiveSet::placeholder()),
            public: BitSet::with_len(n),
            public_source: FxHashMap::default(),
            auth_allow: sorted.auth_allow,
            system_deny: sorted.system_deny,
            superuser,
            datasets,
            scoped: config
                .datasets()
                .scoped
                .iter()
                .map(|s| s.as_str().into())
                .collect(),
            memo: Mutex::new(FxHashMap::default()),
        };
        policy.build_public(&public_ids, &sorted.any_allow);
        policy.walk_types();
        policy.build_queries();
        let table = std::mem::take(&mut policy.queries);
        let (keys, infos): (Vec<Box<str>>, Vec<QueryInfo>) = table.into_iter().unzip();
        policy.query_index = StrIndex::build(keys.iter().map(|k| &**k));
        policy.query_info = infos.into_boxed_slice();
        policy.derive_type_sets();
        Ok(policy)
    }

    /// Public set: hard-coded list, `public_roles`, `any_user` allows; minus `any_user` denies.
    fn build_public(&mut self, defs: &[(PrivId, &PublicDef)], any_allow: &[PrivId]) {
        for (id, def) in defs {
            self.public.insert(*id);
            self.public_source
                .entry(*id)
                .or_insert(PublicSource::Def(def.origin.clone(), def.from_public_roles));
        }
        for id in any_allow {
            self.public.insert(*id);
            self.public_source
                .entry(*id)
                .or_insert(PublicSource::AnyUserGrant);
        }
        let denied: Vec<PrivId> = self
            .system_deny
            .iter()
            .filter(|(_, sr)| *sr == SystemRole::AnyUser)
            .flat_map(|(p, _)| deny_coverage(p.as_str(), &self.datasets))
            .filter_map(|s| self.ids.get(s.as_str()).copied())
            .collect();
        for id in denied {
            self.public.remove(id);
        }
    }

    /// Each type's walk, once.
    fn walk_types(&mut self) {
        let n = self.names.len();
        let config = self.config.clone();
        for ty in config.types().values() {
            let mut base = vec![Slot::default(); n];
            let mut held_roles = Vec::new();
            for (i, e) in ty.entries.iter().enumerate() {
                let entry = u16::try_from(i).unwrap_or(u16::MAX);
                let at = Prov::Type { entry, role: None };
                match e {
                    Entry::Plus(p) | Entry::Minus(p) => {
                        if let Some(id) = self.ids.get(p.as_str()) {
                            base[*id as usize].apply(matches!(e, Entry::Plus(_)), at);
                        }
                    }
                    Entry::Role(r) => {
                        held_roles.push(r.clone());
                        if let Some(ri) = self.role_index.get(r) {
                            let role = &self.roles[*ri as usize];
                            let at = Prov::Type {
                                entry,
                                role: Some(*ri),
                            };
                            for (add, id) in &role.ops {
                                base[*id as usize].apply(*add, at);
                            }
                            let grant = Prov::RoleGrant {
                                role: *ri,
                                own: false,
                                entry,
                            };
                            for id in &role.allow {
                                base[*id as usize].apply(true, grant);
                            }
                        }
                    }
                }
            }
            let entry_words = ty
                .entries
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    let entry = u16::try_from(i).unwrap_or(u16::MAX);
                    let (role, id) = match e {
                        Entry::Plus(p) => (None, *self.ids.get(p.as_str())?),
                        Entry::Minus(_) => return None,
                        Entry::Role(r) => (Some(*self.role_index.get(r)?), NONE),
                    };
                    let mut words = String::new();
                    self.write_type_words(
                        &mut words,
                        ty.name.as_str(),
                        &ty.origin,
                        entry,
                        role,
                        id,
                    );
                    Some(EntryWords {
                        role,
                        id,
                        words: words.into_boxed_str(),
                    })
                })
                .collect();
            self.types.insert(
                ty.name.clone(),
                CompiledType {
                    name: ty.name.clone(),
                    origin: ty.origin.clone(),
                    held_roles,
                    base,
                    set: Arc::new(EffectiveSet::placeholder()),
                    entry_words,
                },
            );
        }
    }

    /// The effective set of a user of each type with nothing of their own, derived once:
    /// most users are such users, and they all share it.
    fn derive_type_sets(&mut self) {
        let names: Vec<TypeName> = self.types.keys().cloned().collect();
        for name in names {
            let set = Arc::new(self.derive(Some(&name), &[], &[], &[]));
            if let Some(ty) = self.types.get_mut(&name) {
                ty.set = set;
            }
        }
        self.untyped = Arc::new(self.derive(None, &[], &[], &[]));
    }

    /// The query table: for every known string, what a query of its base must test.
    fn build_queries(&mut self) {
        for id in 0..self.names.len() {
            let id = id as PrivId;
            let name = self.names[id as usize].clone();
            let (base, scope) = split_scope(&name);
            let slot = match scope {
                Scope::Plain => 0,
                Scope::Owner => 1,
                Scope::Editor => 2,
            };
            self.query_entry(base).ids[slot] = id;
            if scope != Scope::Plain {
                // The whole string asked literally (bit 2 without an item).
                self.query_entry(&name).ids[0] = id;
            }
            // `<ds>/<status>/<rest>` also answers a query of `<ds>/<rest>` on a `status` item.
            // A suffixed string is also the plain form of the suffixed query: `eprint/edit:editor`
            // on a buffer item tests `eprint/buffer/edit:editor` as a plain string (slot 0).
            let mut forms = vec![(base, slot)];
            if scope != Scope::Plain {
                forms.push((&*name, 0));
            }
            for (form, slot) in forms {
                let Some((ds, rest)) = form.split_once('/') else {
                    continue;
                };
                let Some((status, tail)) = rest.split_once('/') else {
                    continue;
                };
                let Some(dsi) = self.datasets.iter().position(|d| &*d.name == ds) else {
                    continue;
                };
                let Some(sti) = self.datasets[dsi].status_index(status) else {
                    continue;
                };
                if !self.datasets[dsi].names_status(tail) {
                    let unqualified = format!("{ds}/{tail}");
                    let width = self.datasets[dsi].statuses.len();
                    let info = self.query_entry(&unqualified);
                    let (_, table) = info.by_status.get_or_insert_with(|| {
                        (dsi as u16, vec![[NONE; 3]; width].into_boxed_slice())
                    });
                    table[sti][slot] = id;
                }
            }
        }
        // Every query of `<ds>/<rest>` knows its dataset, even when no status form is held,
        // so that a superuser's bit 2 covers `<ds>/<status>/<rest>` denials correctly.
        let keys: Vec<Box<str>> = self.queries.keys().cloned().collect();
        for key in keys {
            let Some((ds, rest)) = key.split_once('/') else {
                continue;
            };
            let Some(dsi) = self.datasets.iter().position(|d| &*d.name == ds) else {
                continue;
            };
            if self.datasets[dsi].names_status(rest) {
                continue;
            }
            let width = self.datasets[dsi].statuses.len();
            if let Some(info) = self.queries.get_mut(&key) {
                info.by_status
                    .get_or_insert_with(|| (dsi as u16, vec![[NONE; 3]; width].into_boxed_slice()));
            }
        }
    }

    fn query_entry(&mut self, key: &str) -> &mut QueryInfo {
        if !self.queries.contains_key(key) {
            self.queries.insert(key.into(), QueryInfo::default());
        }
        // INVARIANT: inserted just above when missing.
        #[allow(clippy::unwrap_used)]
        self.queries.get_mut(key).unwrap()
    }

    /// The generation this policy was compiled for.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// A hash of everything this policy was compiled from: the catalog and site file (with
    /// where each entry was written), the run-time roles and the grants to roles and system
    /// roles. Equal on every node that compiled the same policy (with the same build), and
    /// different, but for a 1 in 2^64 chance, after any change: a basis for cache
    /// validators such as an effective set's generation.
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    /// The configuration this policy was compiled from.
    pub fn config(&self) -> &PolicyConfig {
        &self.config
    }

    /// Number of distinct privilege strings in the compiled policy.
    pub fn universe_len(&self) -> usize {
        self.names.len()
    }

    /// Whether `name` is a role (built in, file or run time).
    pub fn has_role(&self, name: &RoleName) -> bool {
        self.role_index.contains_key(name)
    }

    /// Whether `name` is a user type.
    pub fn has_type(&self, name: &TypeName) -> bool {
        self.types.contains_key(name)
    }

    /// The role's name by index.
    pub(crate) fn role_name(&self, idx: u32) -> Option<&RoleName> {
        self.roles.get(idx as usize).map(|r| &r.name)
    }

    pub(crate) fn name(&self, id: PrivId) -> &str {
        self.names.get(id as usize).map_or("", |s| s)
    }

    /// Whether items of `dataset` are checked against editorial scope.
    #[inline]
    pub(crate) fn is_scoped(&self, dataset: &str) -> bool {
        self.scoped.iter().any(|s| **s == *dataset)
    }

    /// The set for `user`: the type's shared one, or one derived once per shape and kept
    /// (bounded) for the next call with the same shape.
    pub(crate) fn memo_set(&self, user: &UserFacts) -> Arc<EffectiveSet> {
        if let Some(set) = self.plain_set(user) {
            return set.clone();
        }
        let mut h = rustc_hash::FxHasher::default();
        (&user.user_type, &user.entries, &user.allow, &user.deny).hash(&mut h);
        let key = h.finish();
        let same = |s: &Shape| {
            s.0 == user.user_type && s.1 == user.entries && s.2 == user.allow && s.3 == user.deny
        };
        if let Ok(memo) = self.memo.lock() {
            if let Some((_, set)) = memo.get(&key).and_then(|v| v.iter().find(|(s, _)| same(s))) {
                return set.clone();
            }
        }
        let set = Arc::new(self.derive(
            user.user_type.as_ref(),
            &user.entries,
            &user.allow,
            &user.deny,
        ));
        if let Ok(mut memo) = self.memo.lock() {
            if memo.len() >= MEMO_SHAPES {
                memo.clear();
            }
            let shape = (
                user.user_type.clone(),
                user.entries.clone(),
                user.allow.clone(),
                user.deny.clone(),
            );
            memo.entry(key).or_default().push((shape, set.clone()));
        }
        set
    }

    /// The shared set for a user with nothing of their own, if `user` is such a user.
    #[inline]
    pub(crate) fn plain_set(&self, user: &UserFacts) -> Option<&Arc<EffectiveSet>> {
        if !user.entries.is_empty() || !user.allow.is_empty() || !user.deny.is_empty() {
            return None;
        }
        match &user.user_type {
            None => Some(&self.untyped),
            Some(t) => match self.types.get(t) {
                Some(ty) => Some(&ty.set),
                None => Some(&self.untyped),
            },
        }
    }
}

/// The hash behind [`CompiledPolicy::fingerprint`]: a fixed hasher (no per-process seed),
/// over every definition in a fixed order.
fn fingerprint(config: &PolicyConfig, runtime_roles: &[RoleDef], grants: &[Grant]) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    let role = |r: &RoleDef, h: &mut rustc_hash::FxHasher| {
        r.name.hash(h);
        r.entries.hash(h);
        r.origin.to_string().hash(h);
    };
    for r in config.roles().values() {
        role(r, &mut h);
    }
    0xffu8.hash(&mut h);
    for r in runtime_roles {
        role(r, &mut h);
    }
    0xffu8.hash(&mut h);
    for t in config.types().values() {
        t.name.hash(&mut h);
        t.entries.hash(&mut h);
        t.origin.to_string().hash(&mut h);
    }
    0xffu8.hash(&mut h);
    for p in config.public() {
        p.privilege.hash(&mut h);
        p.from_public_roles.hash(&mut h);
        p.origin.to_string().hash(&mut h);
    }
    config.datasets().statuses.hash(&mut h);
    config.datasets().scoped.hash(&mut h);
    for g in grants
        .iter()
        .filter(|g| !matches!(g.target, GrantTarget::User(_)))
    {
        g.hash(&mut h);
    }
    h.finish()
}

/// Built-in, file and run-time roles in compiled form (run-time ones may not clash).
fn compile_roles(
    config: &PolicyConfig,
    runtime_roles: &[RoleDef],
    interner: &mut Interner,
) -> Result<(Vec<CompiledRole>, FxHashMap<RoleName, u32>), CompileError> {
    let mut all_roles: Vec<&RoleDef> = config.roles().values().collect();
    for r in runtime_roles {
        if let Some(existing) = config.roles().get(&r.name) {
            return Err(CompileError::RoleClash(
                r.name.clone(),
                existing.origin.to_string(),
            ));
        }
        all_roles.push(r);
    }
    let mut roles = Vec::with_capacity(all_roles.len());
    let mut role_index = FxHashMap::default();
    for def in all_roles {
        let ops = def
            .entries
            .iter()
            .map(|e| (e.grants(), interner.intern(e.privilege().as_str())))
            .collect();
        role_index.insert(def.name.clone(), roles.len() as u32);
        roles.push(CompiledRole {
            name: def.name.clone(),
            origin: def.origin.clone(),
            description: def.description.clone(),
            ops,
            allow: Vec::new(),
            deny: Vec::new(),
        });
    }
    Ok((roles, role_index))
}

/// Grants on roles go onto the compiled roles; grants on system roles are sorted out.
fn sort_grants(
    grants: &[Grant],
    roles: &mut [CompiledRole],
    role_index: &FxHashMap<RoleName, u32>,
    interner: &mut Interner,
) -> SortedGrants {
    let mut out = SortedGrants::default();
    for g in grants {
        match (&g.target, g.effect) {
            (GrantTarget::User(_), _) => {}
            (GrantTarget::Role(name), effect) => {
                let id = interner.intern(g.privilege.as_str());
                if let Some(role) = role_index
                    .get(name)
                    .and_then(|i| roles.get_mut(*i as usize))
                {
                    match effect {
                        Effect::Allow => role.allow.push(id),
                        Effect::Deny => role.deny.push(g.privilege.clone()),
                    }
                }
            }
            (GrantTarget::SystemRole(sr), Effect::Allow) => {
                let id = interner.intern(g.privilege.as_str());
                match sr {
                    SystemRole::AnyUser => out.any_allow.push(id),
                    SystemRole::AuthenticatedUser => out.auth_allow.push(id),
                }
            }
            (GrantTarget::SystemRole(sr), Effect::Deny) => {
                interner.intern(g.privilege.as_str());
                out.system_deny.push((g.privilege.clone(), *sr));
            }
        }
    }
    out
}
