//! The compiled policy: every privilege string interned once, roles and user types turned into
//! id operations, each type's walk done once, and a query table that maps a privilege asked
//! for to the ids of all the strings `check` must test (plain, `:owner`, `:editor`, and the
//! same for every status of the item's dataset).
//!
//! Compiling is done once per policy change; deriving one user's effective set is a copy of
//! the type's precomputed walk plus the user's own entries and grants (see [`EffectiveSet`]).

use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::config::{Origin, PolicyConfig, SUPERUSER_ACCESS};
use crate::ident::{split_scope, Privilege, RoleName, Scope, SystemRole, TypeName};
use crate::model::{Effect, Entry, Grant, GrantTarget};

/// An interned privilege string. Ids below the policy's universe size are global; a user's
/// effective set may add local ids above it for strings only that user mentions.
pub type PrivId = u32;

/// A small fixed-size bit set over privilege ids.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BitSet(Vec<u64>);

impl BitSet {
    /// An empty set able to hold ids below `n`.
    pub fn with_len(n: usize) -> Self {
        BitSet(vec![0; n.div_ceil(64)])
    }

    /// Whether `id` is in the set.
    #[inline]
    pub fn has(&self, id: PrivId) -> bool {
        let i = id as usize;
        self.0
            .get(i >> 6)
            .is_some_and(|word| (word >> (i & 63)) & 1 == 1)
    }

    /// Adds `id`, growing the set if needed.
    pub fn insert(&mut self, id: PrivId) {
        let i = id as usize;
        if self.0.len() <= i >> 6 {
            self.0.resize((i >> 6) + 1, 0);
        }
        if let Some(word) = self.0.get_mut(i >> 6) {
            *word |= 1 << (i & 63);
        }
    }

    /// Bytes used by the set's storage.
    pub fn heap_bytes(&self) -> usize {
        self.0.capacity() * 8
    }
}

/// Where a privilege held by a user came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prov {
    /// The user type's entry number `entry` (0-based): `+p` when `role` is `None`, else a role.
    Type {
        /// Index into the type's entries.
        entry: u16,
        /// The role the entry named, if it was a role.
        role: Option<u32>,
    },
    /// The user's own entry number `entry`: `+p` when `role` is `None`, else a role.
    Own {
        /// Index into the user's entries.
        entry: u16,
        /// The role the entry named, if it was a role.
        role: Option<u32>,
    },
    /// An allow grant on a role the user holds (through the type when `own` is false).
    RoleGrant {
        /// The role.
        role: u32,
        /// Reached through the user's own entries.
        own: bool,
        /// Index of the entry that named the role.
        entry: u16,
    },
    /// An allow grant to the user.
    UserGrant,
    /// An allow grant to `authenticated_user`.
    SystemGrant,
}

/// Who a deny was given to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DenySource {
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
    pub(crate) base: Vec<Option<Prov>>,
}

/// Per status of a dataset, the ids of `<ds>/<status>/<rest>` (plain, owner, editor).
pub(crate) type StatusTable = Box<[[Option<PrivId>; 3]]>;

/// What `check` must test for one privilege asked for.
#[derive(Debug, Clone, Default)]
pub(crate) struct QueryInfo {
    /// Ids of `q`, `q:owner`, `q:editor` (None when nobody mentions that string).
    pub(crate) ids: [Option<PrivId>; 3],
    /// For `<ds>/<rest>` where `ds` has statuses and `rest` does not name one: the dataset's
    /// index and the ids of `<ds>/<status>/<rest>` (plain, owner, editor) per status.
    pub(crate) by_status: Option<(u16, StatusTable)>,
}

/// A public privilege's source, for reasons.
#[derive(Debug, Clone)]
pub(crate) enum PublicSource {
    Def(Origin, bool),
    AnyUserGrant,
}

/// The policy compiled for fast checks. Immutable; build a new one when roles, types or
/// grants on roles and system roles change.
#[derive(Debug)]
pub struct CompiledPolicy {
    pub(crate) generation: u64,
    pub(crate) config: Arc<PolicyConfig>,
    pub(crate) names: Vec<Box<str>>,
    pub(crate) ids: FxHashMap<Box<str>, PrivId>,
    pub(crate) queries: FxHashMap<Box<str>, QueryInfo>,
    pub(crate) roles: Vec<CompiledRole>,
    pub(crate) role_index: FxHashMap<RoleName, u32>,
    pub(crate) types: FxHashMap<TypeName, CompiledType>,
    pub(crate) public: BitSet,
    pub(crate) public_source: FxHashMap<PrivId, PublicSource>,
    pub(crate) auth_allow: Vec<PrivId>,
    pub(crate) system_deny: Vec<(Privilege, SystemRole)>,
    pub(crate) superuser: PrivId,
    /// Dataset names with statuses, by index, and their statuses.
    pub(crate) datasets: Vec<(Box<str>, Vec<Box<str>>)>,
}

/// Why a policy could not be compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompileError {
    /// A run-time role takes the name of a built-in or file role.
    #[error(
        "role `{0}` is already defined ({1}); a role created at run time needs a name of its own"
    )]
    RoleClash(RoleName, String),
}

struct Interner {
    names: Vec<Box<str>>,
    ids: FxHashMap<Box<str>, PrivId>,
}

impl Interner {
    fn intern(&mut self, s: &str) -> PrivId {
        if let Some(id) = self.ids.get(s) {
            return *id;
        }
        // INVARIANT: a policy has far fewer than 2^32 distinct privilege strings.
        let id = PrivId::try_from(self.names.len()).unwrap_or(PrivId::MAX);
        self.names.push(s.into());
        self.ids.insert(s.into(), id);
        id
    }
}

/// The strings a deny of `denied` removes (SPEC 7.8): the string itself; for a plain string
/// also `:owner` and `:editor`; and for `<ds>/<rest>` of a dataset with statuses, every
/// `<ds>/<status>/<rest>` form with and without suffix.
pub fn deny_coverage(denied: &str, statuses: &[(Box<str>, Vec<Box<str>>)]) -> Vec<String> {
    let mut out = vec![denied.to_owned()];
    if split_scope(denied).1 != Scope::Plain {
        return out;
    }
    out.push(format!("{denied}:owner"));
    out.push(format!("{denied}:editor"));
    if let Some((ds, rest)) = denied.split_once('/') {
        if let Some((_, list)) = statuses.iter().find(|(name, _)| &**name == ds) {
            let qualified = rest
                .split_once('/')
                .is_some_and(|(first, _)| list.iter().any(|s| &**s == first));
            if !qualified {
                for st in list {
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

impl CompiledPolicy {
    /// Compiles `config` with the run-time roles and the grants to roles and system roles.
    /// Grants to users are ignored here: they are part of each user's facts.
    pub fn compile(
        config: Arc<PolicyConfig>,
        runtime_roles: &[crate::config::RoleDef],
        grants: &[Grant],
        generation: u64,
    ) -> Result<CompiledPolicy, CompileError> {
        let mut interner = Interner {
            names: Vec::new(),
            ids: FxHashMap::default(),
        };
        let superuser = interner.intern(SUPERUSER_ACCESS);

        // Roles: built-in and file roles, then run-time roles (which may not clash).
        let mut all_roles: Vec<&crate::config::RoleDef> = config.roles.values().collect();
        for r in runtime_roles {
            if let Some(existing) = config.roles.get(&r.name) {
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
                ops,
                allow: Vec::new(),
                deny: Vec::new(),
            });
        }

        let mut auth_allow = Vec::new();
        let mut any_allow = Vec::new();
        let mut system_deny = Vec::new();
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
                        SystemRole::AnyUser => any_allow.push(id),
                        SystemRole::AuthenticatedUser => auth_allow.push(id),
                    }
                }
                (GrantTarget::SystemRole(sr), Effect::Deny) => {
                    interner.intern(g.privilege.as_str());
                    system_deny.push((g.privilege.clone(), *sr));
                }
            }
        }

        // Types: their `+p` / `-p` strings join the universe before the walks are done.
        for ty in config.types.values() {
            for e in &ty.entries {
                if let Entry::Plus(p) | Entry::Minus(p) = e {
                    interner.intern(p.as_str());
                }
            }
        }
        let mut public_ids = Vec::new();
        for p in &config.public {
            public_ids.push((interner.intern(p.privilege.as_str()), p));
        }

        let datasets: Vec<(Box<str>, Vec<Box<str>>)> = config
            .datasets
            .statuses
            .iter()
            .map(|(ds, list)| {
                (
                    ds.as_str().into(),
                    list.iter().map(|s| s.as_str().into()).collect(),
                )
            })
            .collect();

        // Every deny's coverage strings join the universe, so a superuser's denied query and
        // a deny of a status form are found by id.
        let deny_strings: Vec<String> = roles
            .iter()
            .flat_map(|r| r.deny.iter().map(|p| p.as_str().to_owned()))
            .chain(system_deny.iter().map(|(p, _)| p.as_str().to_owned()))
            .collect();
        for d in deny_strings {
            for s in deny_coverage(&d, &datasets) {
                interner.intern(&s);
            }
        }

        let n = interner.names.len();
        let mut policy = CompiledPolicy {
            generation,
            config: config.clone(),
            names: Vec::new(),
            ids: FxHashMap::default(),
            queries: FxHashMap::default(),
            roles,
            role_index,
            types: FxHashMap::default(),
            public: BitSet::with_len(n),
            public_source: FxHashMap::default(),
            auth_allow,
            system_deny,
            superuser,
            datasets,
        };

        // Public set: hard-coded list, public_roles, any_user allows; minus any_user denies.
        for (id, def) in public_ids {
            policy.public.insert(id);
            policy
                .public_source
                .entry(id)
                .or_insert(PublicSource::Def(def.origin.clone(), def.from_public_roles));
        }
        for id in any_allow {
            policy.public.insert(id);
            policy
                .public_source
                .entry(id)
                .or_insert(PublicSource::AnyUserGrant);
        }
        let mut public = std::mem::take(&mut policy.public);
        for (p, sr) in &policy.system_deny {
            if *sr == SystemRole::AnyUser {
                for s in deny_coverage(p.as_str(), &policy.datasets) {
                    if let Some(id) = interner.ids.get(s.as_str()) {
                        if let Some(w) = public.0.get_mut(*id as usize >> 6) {
                            *w &= !(1 << (*id as usize & 63));
                        }
                    }
                }
            }
        }
        policy.public = public;

        policy.names = interner.names;
        policy.ids = interner.ids;

        // Each type's walk, once.
        for ty in config.types.values() {
            let mut base = vec![None; n];
            let mut held_roles = Vec::new();
            for (i, e) in ty.entries.iter().enumerate() {
                let entry = u16::try_from(i).unwrap_or(u16::MAX);
                match e {
                    Entry::Plus(p) => {
                        if let Some(id) = policy.ids.get(p.as_str()) {
                            base[*id as usize] = Some(Prov::Type { entry, role: None });
                        }
                    }
                    Entry::Minus(p) => {
                        if let Some(id) = policy.ids.get(p.as_str()) {
                            base[*id as usize] = None;
                        }
                    }
                    Entry::Role(r) => {
                        held_roles.push(r.clone());
                        if let Some(ri) = policy.role_index.get(r) {
                            let role = &policy.roles[*ri as usize];
                            for (add, id) in &role.ops {
                                base[*id as usize] = add.then_some(Prov::Type {
                                    entry,
                                    role: Some(*ri),
                                });
                            }
                            for id in &role.allow {
                                base[*id as usize] = Some(Prov::RoleGrant {
                                    role: *ri,
                                    own: false,
                                    entry,
                                });
                            }
                        }
                    }
                }
            }
            policy.types.insert(
                ty.name.clone(),
                CompiledType {
                    name: ty.name.clone(),
                    origin: ty.origin.clone(),
                    held_roles,
                    base,
                },
            );
        }

        // The query table: for every known string, what a query of its base must test.
        for id in 0..policy.names.len() {
            let id = id as PrivId;
            let name = policy.names[id as usize].clone();
            let (base, scope) = split_scope(&name);
            let slot = match scope {
                Scope::Plain => 0,
                Scope::Owner => 1,
                Scope::Editor => 2,
            };
            policy.query_entry(base).ids[slot] = Some(id);
            if scope != Scope::Plain {
                // The whole string asked literally (bit 2 without an item).
                policy.query_entry(&name).ids[0] = Some(id);
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
                let Some(dsi) = policy.datasets.iter().position(|(d, _)| &**d == ds) else {
                    continue;
                };
                let Some(sti) = policy.datasets[dsi].1.iter().position(|s| &**s == status) else {
                    continue;
                };
                let names_status = tail
                    .split_once('/')
                    .is_some_and(|(f, _)| policy.datasets[dsi].1.iter().any(|s| &**s == f));
                if !names_status {
                    let unqualified = format!("{ds}/{tail}");
                    let width = policy.datasets[dsi].1.len();
                    let info = policy.query_entry(&unqualified);
                    let (_, table) = info.by_status.get_or_insert_with(|| {
                        (dsi as u16, vec![[None; 3]; width].into_boxed_slice())
                    });
                    table[sti][slot] = Some(id);
                }
            }
        }
        // Every query of `<ds>/<rest>` knows its dataset, even when no status form is held,
        // so that a superuser's bit 2 covers `<ds>/<status>/<rest>` denials correctly.
        let keys: Vec<Box<str>> = policy.queries.keys().cloned().collect();
        for key in keys {
            let Some((ds, rest)) = key.split_once('/') else {
                continue;
            };
            let Some(dsi) = policy.datasets.iter().position(|(d, _)| &**d == ds) else {
                continue;
            };
            let names_status = rest
                .split_once('/')
                .is_some_and(|(f, _)| policy.datasets[dsi].1.iter().any(|s| &**s == f));
            if names_status {
                continue;
            }
            let width = policy.datasets[dsi].1.len();
            if let Some(info) = policy.queries.get_mut(&key) {
                info.by_status
                    .get_or_insert_with(|| (dsi as u16, vec![[None; 3]; width].into_boxed_slice()));
            }
        }
        Ok(policy)
    }

    fn query_entry(&mut self, key: &str) -> &mut QueryInfo {
        if !self.queries.contains_key(key) {
            self.queries.insert(key.into(), QueryInfo::default());
        }
        // INVARIANT: inserted just above when missing.
        #[allow(clippy::unwrap_used)]
        self.queries.get_mut(key).unwrap()
    }

    /// The generation this policy was compiled for (bumped on every role or grant change).
    pub fn generation(&self) -> u64 {
        self.generation
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
}

/// One user's effective privileges: what they hold, what is denied to them, and where each
/// held privilege came from. Shared between users with the same type, entries and grants.
#[derive(Debug, Clone)]
pub struct EffectiveSet {
    pub(crate) generation: u64,
    pub(crate) held: BitSet,
    pub(crate) prov: Vec<(PrivId, Prov)>,
    pub(crate) denied: BitSet,
    pub(crate) denies: Vec<(Privilege, DenySource)>,
    /// Strings held or denied that the policy's universe does not know (local ids).
    pub(crate) extras: Vec<Box<str>>,
    pub(crate) superuser: bool,
    pub(crate) editperms_none: bool,
    pub(crate) universe: usize,
}

impl EffectiveSet {
    /// Whether the set holds `superuser-access`.
    pub fn is_superuser(&self) -> bool {
        self.superuser
    }

    /// The policy generation this set was derived for.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Approximate heap bytes used by this set.
    pub fn heap_bytes(&self) -> usize {
        self.held.heap_bytes()
            + self.denied.heap_bytes()
            + self.prov.capacity() * std::mem::size_of::<(PrivId, Prov)>()
            + self.denies.capacity() * std::mem::size_of::<(Privilege, DenySource)>()
            + self.extras.iter().map(|s| s.len() + 16).sum::<usize>()
    }

    pub(crate) fn prov_of(&self, id: PrivId) -> Option<Prov> {
        self.prov
            .binary_search_by_key(&id, |(i, _)| *i)
            .ok()
            .and_then(|i| self.prov.get(i))
            .map(|(_, p)| *p)
    }
}

impl CompiledPolicy {
    /// Local id of `s` for a user: global id, or an index into `extras` above the universe.
    fn local_id(&self, s: &str, extras: &mut Vec<Box<str>>) -> PrivId {
        if let Some(id) = self.ids.get(s) {
            return *id;
        }
        if let Some(pos) = extras.iter().position(|e| &**e == s) {
            return (self.names.len() + pos) as PrivId;
        }
        extras.push(s.into());
        (self.names.len() + extras.len() - 1) as PrivId
    }

    /// Derives the effective set of a user with this type, own entries and own grants
    /// (SPEC 3.1 steps 1 to 4). Scope, activity and owner facts are applied at check time.
    pub fn effective(
        &self,
        user_type: Option<&TypeName>,
        entries: &[Entry],
        allow: &[Privilege],
        deny: &[Privilege],
    ) -> EffectiveSet {
        let n = self.names.len();
        let ty = user_type.and_then(|t| self.types.get(t));
        let mut state: Vec<Option<Prov>> = match ty {
            Some(t) => t.base.clone(),
            None => vec![None; n],
        };
        let mut extras: Vec<Box<str>> = Vec::new();
        let mut held_roles: Vec<&RoleName> = ty
            .map(|t| t.held_roles.iter().collect())
            .unwrap_or_default();
        let set = |state: &mut Vec<Option<Prov>>, id: PrivId, v: Option<Prov>| {
            let i = id as usize;
            if state.len() <= i {
                state.resize(i + 1, None);
            }
            state[i] = v;
        };

        // Step 1 (continued): the user's own entries.
        for (i, e) in entries.iter().enumerate() {
            let entry = u16::try_from(i).unwrap_or(u16::MAX);
            match e {
                Entry::Plus(p) => {
                    let id = self.local_id(p.as_str(), &mut extras);
                    set(&mut state, id, Some(Prov::Own { entry, role: None }));
                }
                Entry::Minus(p) => {
                    let id = self.local_id(p.as_str(), &mut extras);
                    set(&mut state, id, None);
                }
                Entry::Role(r) => {
                    held_roles.push(r);
                    if let Some(ri) = self.role_index.get(r) {
                        let role = &self.roles[*ri as usize];
                        for (add, id) in &role.ops {
                            set(
                                &mut state,
                                *id,
                                add.then_some(Prov::Own {
                                    entry,
                                    role: Some(*ri),
                                }),
                            );
                        }
                        for id in &role.allow {
                            set(
                                &mut state,
                                *id,
                                Some(Prov::RoleGrant {
                                    role: *ri,
                                    own: true,
                                    entry,
                                }),
                            );
                        }
                    }
                }
            }
        }
        // Step 2: the user's allow grants and those of `authenticated_user`.
        for p in allow {
            let id = self.local_id(p.as_str(), &mut extras);
            if state.get(id as usize).is_none_or(Option::is_none) {
                set(&mut state, id, Some(Prov::UserGrant));
            }
        }
        for id in &self.auth_allow {
            if state.get(*id as usize).is_none_or(Option::is_none) {
                set(&mut state, *id, Some(Prov::SystemGrant));
            }
        }

        // Step 3: every deny that applies to the user removes what it covers.
        let mut denies: Vec<(Privilege, DenySource)> =
            deny.iter().map(|p| (p.clone(), DenySource::User)).collect();
        for r in &held_roles {
            if let Some(ri) = self.role_index.get(*r) {
                for p in &self.roles[*ri as usize].deny {
                    if !denies.iter().any(|(q, _)| q == p) {
                        denies.push((p.clone(), DenySource::Role((*r).clone())));
                    }
                }
            }
        }
        for (p, sr) in &self.system_deny {
            if !denies.iter().any(|(q, _)| q == p) {
                denies.push((p.clone(), DenySource::System(*sr)));
            }
        }
        let mut denied = BitSet::with_len(n + extras.len());
        for (p, _) in &denies {
            for s in deny_coverage(p.as_str(), &self.datasets) {
                let id = self.ids.get(s.as_str()).copied().or_else(|| {
                    extras
                        .iter()
                        .position(|e| **e == *s)
                        .map(|pos| (n + pos) as PrivId)
                });
                if let Some(id) = id {
                    denied.insert(id);
                    if let Some(slot) = state.get_mut(id as usize) {
                        *slot = None;
                    }
                }
            }
        }

        let mut held = BitSet::with_len(state.len());
        let mut prov = Vec::new();
        for (i, p) in state.iter().enumerate() {
            if let Some(p) = p {
                held.insert(i as PrivId);
                prov.push((i as PrivId, *p));
            }
        }
        let editperms_none = held_roles
            .iter()
            .any(|r| r.as_str() == crate::config::EDITPERMS_NONE_BY_DEFAULT);
        EffectiveSet {
            generation: self.generation,
            superuser: held.has(self.superuser),
            held,
            prov,
            denied,
            denies,
            extras,
            editperms_none,
            universe: n,
        }
    }
}
