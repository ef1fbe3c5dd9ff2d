//! One user's effective privileges (SPEC 3.1): the user type's precomputed walk, then the
//! user's own entries, their allow grants and those of `authenticated_user`, minus every deny
//! that applies to them. Derived once per user shape and shared: users of one type with
//! nothing of their own all read the set the compiled policy derived for that type.

use std::sync::Arc;

use crate::bits::{BitSet, PrivId};
use crate::compile::{deny_coverage, CompiledPolicy, DenySource, Prov, Slot};
use crate::config::EDITPERMS_NONE_BY_DEFAULT;
use crate::ident::{Privilege, RoleName, TypeName};

/// Flag: the string is public and not denied to the user (bit 1 of the answer).
pub(crate) const F_PUBLIC: u8 = 1;
/// Flag: the user holds the string, or is a superuser it is not denied to (bit 2).
pub(crate) const F_USER: u8 = 2;
/// Flag: the user holds the string (for `:owner` and `:editor` strings, bits 4 and 8).
pub(crate) const F_HELD: u8 = 4;
use crate::model::{Entry, UserFacts};

/// One user's effective privileges: what they hold, what is denied to them, and where each
/// held privilege came from. Derived by [`CompiledPolicy::effective`] and valid only with the
/// policy that derived it ([`CompiledPolicy::subject`] refuses it under another).
///
/// Laid out with what every check reads first, in one cache line.
#[derive(Debug, Clone)]
#[repr(C)]
pub struct EffectiveSet {
    /// The fast path's view, one byte per id: [`F_PUBLIC`] (public and not denied to the
    /// user), [`F_USER`] (held, or superuser and not denied), [`F_HELD`] (held).
    pub(crate) flags: Box<[u8]>,
    /// Strings held or denied that the policy's universe does not know (local ids above it).
    pub(crate) extras: Box<[Box<str>]>,
    /// The compiled policy's process-unique id.
    pub(crate) policy: u64,
    /// The flags of a string with no id: [`F_USER`] for a superuser (nothing denies it).
    pub(crate) none_flags: u8,
    /// Whether checks need the general evaluation: the user holds a string of their own,
    /// or is a superuser with strings of their own (denied ones). Strings only denied to an
    /// ordinary user change nothing the fast path reads.
    pub(crate) general: bool,
    pub(crate) superuser: bool,
    pub(crate) editperms_none: bool,
    pub(crate) generation: u64,
    pub(crate) held: BitSet,
    pub(crate) denied: BitSet,
    /// Where each held id came from, sorted by id.
    pub(crate) prov: Box<[(PrivId, Prov)]>,
    /// Ids a `-p` took away and nothing added back, sorted by id (for explanations).
    pub(crate) removed: Box<[(PrivId, Prov)]>,
    pub(crate) denies: Box<[(Privilege, DenySource)]>,
    pub(crate) universe: u32,
    /// The roles held, in the order the walk met them (the type's, then the user's own),
    /// each once, and only roles the policy defines (a role named in an entry but not
    /// defined, or deleted since, is held by nobody).
    pub(crate) roles: Box<[RoleName]>,
}

impl EffectiveSet {
    /// A set no policy derived (`policy` 0 matches none): a stand-in while compiling.
    pub(crate) fn placeholder() -> Self {
        EffectiveSet {
            policy: 0,
            generation: 0,
            held: BitSet::default(),
            denied: BitSet::default(),
            flags: Box::default(),
            none_flags: 0,
            general: false,
            prov: Box::default(),
            removed: Box::default(),
            denies: Box::default(),
            extras: Box::default(),
            superuser: false,
            editperms_none: false,
            universe: 0,
            roles: Box::default(),
        }
    }

    /// Whether the set holds `superuser-access` (every privilege not denied).
    pub fn is_superuser(&self) -> bool {
        self.superuser
    }

    /// The roles the user holds, through their type then their own entries, in that order,
    /// each once: only roles the policy defines (the catalog, `user_roles.yaml` and run-time
    /// roles), never one that is not defined or was deleted.
    pub fn held_roles(&self) -> &[RoleName] {
        &self.roles
    }

    /// The policy generation this set was derived for.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Approximate heap bytes used by this set.
    pub fn heap_bytes(&self) -> usize {
        self.held.heap_bytes()
            + self.denied.heap_bytes()
            + self.flags.len()
            + std::mem::size_of_val(&*self.prov)
            + std::mem::size_of_val(&*self.removed)
            + std::mem::size_of_val(&*self.denies)
            + self.extras.iter().map(|s| s.len() + 16).sum::<usize>()
    }

    /// Where the held id `id` came from.
    pub(crate) fn prov_of(&self, id: PrivId) -> Option<Prov> {
        find(&self.prov, id)
    }

    /// The `-p` that took `id` away, if one did and nothing added it back.
    pub(crate) fn removal_of(&self, id: PrivId) -> Option<Prov> {
        find(&self.removed, id)
    }

    /// The local id of the extra string equal to `parts` joined, if any (no allocation).
    #[inline]
    pub(crate) fn extra_id(&self, parts: &[&str]) -> Option<PrivId> {
        self.extras
            .iter()
            .position(|e| equals_joined(e, parts))
            .map(|p| self.universe + p as PrivId)
    }

    /// The text of a local id above the universe.
    pub(crate) fn extra_name(&self, id: PrivId) -> Option<&str> {
        id.checked_sub(self.universe)
            .and_then(|i| self.extras.get(i as usize))
            .map(|s| &**s)
    }
}

fn find(list: &[(PrivId, Prov)], id: PrivId) -> Option<Prov> {
    list.binary_search_by_key(&id, |(i, _)| *i)
        .ok()
        .and_then(|i| list.get(i))
        .map(|(_, p)| *p)
}

/// Whether `s` is the concatenation of `parts`, compared piece by piece.
#[inline]
pub(crate) fn equals_joined(s: &str, parts: &[&str]) -> bool {
    let mut rest = s.as_bytes();
    for p in parts {
        match rest.strip_prefix(p.as_bytes()) {
            Some(r) => rest = r,
            None => return false,
        }
    }
    rest.is_empty()
}

impl CompiledPolicy {
    /// The effective set of `user` (SPEC 3.1 steps 1 to 4). Users of a type with no entries,
    /// grants or denies of their own share the set compiled for their type (no work at all);
    /// others get a set derived now. Activity, ownership and scope are facts of the check.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use gatehouse_policy::{CompiledPolicy, PolicyConfig, UserFacts, UserId};
    ///
    /// let policy = CompiledPolicy::compile(Arc::new(PolicyConfig::builtin().clone()), &[], &[], 1)
    ///     .expect("compiles");
    /// let ann = UserFacts { id: UserId(1), active: true, user_type: Some("user".parse().expect("name")),
    ///                       ..UserFacts::default() };
    /// let bob = UserFacts { id: UserId(2), ..ann.clone() };
    /// assert!(Arc::ptr_eq(&policy.effective(&ann), &policy.effective(&bob)));
    /// ```
    pub fn effective(&self, user: &UserFacts) -> Arc<EffectiveSet> {
        match self.plain_set(user) {
            Some(set) => set.clone(),
            None => Arc::new(self.derive(
                user.user_type.as_ref(),
                &user.entries,
                &user.allow,
                &user.deny,
            )),
        }
    }

    /// Local id of `s` for a user: global id, or an index into `extras` above the universe.
    fn local_id(&self, s: &str, extras: &mut Vec<Box<str>>) -> PrivId {
        if let Some(id) = self.ids.get(s) {
            return *id;
        }
        let n = self.names.len();
        if let Some(pos) = extras.iter().position(|e| &**e == s) {
            return (n + pos) as PrivId;
        }
        extras.push(s.into());
        (n + extras.len() - 1) as PrivId
    }

    /// Derives a set from a type, own entries and own grants (SPEC 3.1 steps 1 to 4).
    pub(crate) fn derive(
        &self,
        user_type: Option<&TypeName>,
        entries: &[Entry],
        allow: &[Privilege],
        deny: &[Privilege],
    ) -> EffectiveSet {
        let ty = user_type.and_then(|t| self.types.get(t));
        let mut walk = Walk {
            policy: self,
            state: match ty {
                Some(t) => t.base.clone(),
                None => vec![Slot::default(); self.names.len()],
            },
            extras: Vec::new(),
            held_roles: ty
                .map(|t| t.held_roles.iter().collect())
                .unwrap_or_default(),
        };
        walk.own_entries(entries);
        walk.allow_grants(allow);
        let (denies, denied) = walk.denies(deny);
        walk.finish(denies, denied)
    }
}

/// One user's walk in progress: the state of every string, the user's own strings, the
/// roles they hold (through the type and their own entries).
struct Walk<'p> {
    policy: &'p CompiledPolicy,
    state: Vec<Slot>,
    extras: Vec<Box<str>>,
    held_roles: Vec<&'p RoleName>,
}

impl<'p> Walk<'p> {
    /// The slot of `id`, growing the state for a local id.
    fn slot(&mut self, id: PrivId) -> &mut Slot {
        let i = id as usize;
        if self.state.len() <= i {
            self.state.resize(i + 1, Slot::default());
        }
        &mut self.state[i]
    }

    /// Step 1, continued after the type's walk: the user's own entries, in order.
    fn own_entries(&mut self, entries: &'p [Entry]) {
        let p = self.policy;
        for (i, e) in entries.iter().enumerate() {
            let entry = u16::try_from(i).unwrap_or(u16::MAX);
            match e {
                Entry::Plus(priv_) | Entry::Minus(priv_) => {
                    let id = p.local_id(priv_.as_str(), &mut self.extras);
                    self.slot(id)
                        .apply(matches!(e, Entry::Plus(_)), Prov::Own { entry, role: None });
                }
                Entry::Role(r) => {
                    self.held_roles.push(r);
                    let Some(ri) = p.role_index.get(r) else {
                        continue;
                    };
                    let role = &p.roles[*ri as usize];
                    let at = Prov::Own {
                        entry,
                        role: Some(*ri),
                    };
                    for (add, id) in &role.ops {
                        self.slot(*id).apply(*add, at);
                    }
                    let grant = Prov::RoleGrant {
                        role: *ri,
                        own: true,
                        entry,
                    };
                    for id in &role.allow {
                        self.slot(*id).apply(true, grant);
                    }
                }
            }
        }
    }

    /// Step 2: the user's allow grants and those of `authenticated_user`.
    fn allow_grants(&mut self, allow: &[Privilege]) {
        let p = self.policy;
        for priv_ in allow {
            let id = p.local_id(priv_.as_str(), &mut self.extras);
            let slot = self.slot(id);
            if slot.held.is_none() {
                slot.held = Some(Prov::UserGrant);
            }
        }
        for id in &p.auth_allow {
            let slot = self.slot(*id);
            if slot.held.is_none() {
                slot.held = Some(Prov::SystemGrant);
            }
        }
    }

    /// Step 3: every deny that applies to the user (their own, their roles', the system
    /// roles') and the ids its coverage names. A user's own deny's coverage joins their
    /// strings, so that every denied string has an id.
    fn denies(&mut self, deny: &[Privilege]) -> (Vec<(Privilege, DenySource)>, Vec<PrivId>) {
        let p = self.policy;
        let mut denies: Vec<(Privilege, DenySource)> =
            deny.iter().map(|d| (d.clone(), DenySource::User)).collect();
        for r in &self.held_roles {
            if let Some(ri) = p.role_index.get(*r) {
                for d in &p.roles[*ri as usize].deny {
                    if !denies.iter().any(|(q, _)| q == d) {
                        denies.push((d.clone(), DenySource::Role((*r).clone())));
                    }
                }
            }
        }
        for (d, sr) in &p.system_deny {
            if !denies.iter().any(|(q, _)| q == d) {
                denies.push((d.clone(), DenySource::System(*sr)));
            }
        }
        let n = p.names.len();
        let mut ids = Vec::new();
        for (d, src) in &denies {
            for s in deny_coverage(d.as_str(), &p.datasets) {
                let id = match src {
                    DenySource::User => Some(p.local_id(&s, &mut self.extras)),
                    _ => p.ids.get(s.as_str()).copied().or_else(|| {
                        self.extras
                            .iter()
                            .position(|e| **e == *s)
                            .map(|pos| (n + pos) as PrivId)
                    }),
                };
                ids.extend(id);
            }
        }
        (denies, ids)
    }

    /// Step 4 and the set's views: denied strings removed, held and denied bit sets, the
    /// fast path's flags, provenance and removals for explanations.
    fn finish(
        mut self,
        denies: Vec<(Privilege, DenySource)>,
        denied_ids: Vec<PrivId>,
    ) -> EffectiveSet {
        let p = self.policy;
        let n = p.names.len();
        let total = n + self.extras.len();
        let mut denied = BitSet::with_len(total);
        for id in denied_ids {
            denied.insert(id);
            if let Some(s) = self.state.get_mut(id as usize) {
                s.held = None;
            }
        }
        let mut held = BitSet::with_len(total);
        let mut prov = Vec::new();
        let mut removed = Vec::new();
        for (i, s) in self.state.iter().enumerate() {
            if let Some(at) = s.held {
                held.insert(i as PrivId);
                prov.push((i as PrivId, at));
            } else if let Some(r) = s.removed {
                removed.push((i as PrivId, r));
            }
        }
        let editperms_none = self
            .held_roles
            .iter()
            .any(|r| r.as_str() == EDITPERMS_NONE_BY_DEFAULT);
        let mut roles: Vec<RoleName> = Vec::new();
        for r in &self.held_roles {
            if p.role_index.contains_key(*r) && !roles.contains(*r) {
                roles.push((*r).clone());
            }
        }
        let superuser = held.has(p.superuser);
        let flags: Box<[u8]> = (0..total as PrivId)
            .map(|id| {
                let (h, d) = (held.has(id), denied.has(id));
                let mut f = 0;
                if p.public.has(id) && !d {
                    f |= F_PUBLIC;
                }
                if h || (superuser && !d) {
                    f |= F_USER;
                }
                if h {
                    f |= F_HELD;
                }
                f
            })
            .collect();
        let general = (n..total).any(|id| held.has(id as PrivId)) || (superuser && total > n);
        EffectiveSet {
            policy: p.id,
            generation: p.generation,
            general,
            superuser,
            flags,
            none_flags: if superuser { F_USER } else { 0 },
            held,
            denied,
            prov: prov.into_boxed_slice(),
            removed: removed.into_boxed_slice(),
            denies: denies.into_boxed_slice(),
            extras: std::mem::take(&mut self.extras).into_boxed_slice(),
            editperms_none,
            universe: u32::try_from(n).unwrap_or(u32::MAX),
            roles: roles.into_boxed_slice(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joined_comparison() {
        assert!(equals_joined(
            "eprint/buffer/edit:owner",
            &["eprint/", "buffer", "/edit", ":owner"]
        ));
        assert!(!equals_joined(
            "eprint/buffer/edit",
            &["eprint/", "buffer", "/edit", ":owner"]
        ));
        assert!(!equals_joined(
            "eprint/buffer/edit:owner",
            &["eprint/", "buffer", "/edit"]
        ));
        assert!(equals_joined("", &[]));
    }
}
