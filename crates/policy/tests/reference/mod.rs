//! A deliberately plain reference evaluator, written from SPEC sections 3 and 7 without
//! looking at `compile.rs` or `decide.rs`: sets of strings, string concatenation, no ids, no
//! precomputation beyond what a reader of the spec would do.
//!
//! The engine's fast path ([`CompiledPolicy::mask`]) and full path ([`CompiledPolicy::decide`])
//! must give the same bitmask as [`Reference::mask`] on every input; `props.rs` checks that on
//! random policies, and the bench measures how much faster the engine is.
//!
//! Things hard-coded here on purpose (they are the spec's defaults): the dataset with statuses
//! is `eprint` (inbox, buffer, archive, deletion), and it is the only dataset with editorial
//! scope rules.
//!
//! [`CompiledPolicy::mask`]: gatehouse_policy::CompiledPolicy::mask
//! [`CompiledPolicy::decide`]: gatehouse_policy::CompiledPolicy::decide

#![allow(dead_code)]

use std::collections::{BTreeMap, HashSet};

use gatehouse_policy::{
    Effect, Entry, Grant, GrantTarget, Item, Owner, PolicyConfig, RoleDef, RoleEntry, SystemRole,
    UserFacts,
};

/// The one dataset with statuses (EPrints virtual datasets) and its statuses.
pub const STATUS_DATASET: &str = "eprint";
/// The statuses of [`STATUS_DATASET`].
pub const STATUSES: [&str; 4] = ["inbox", "buffer", "archive", "deletion"];
/// The marker role that makes an empty editorial scope empty.
pub const EDITPERMS_NONE: &str = "editperms_none_by_default";
/// The privilege that holds every privilege.
pub const SUPERUSER: &str = "superuser-access";

/// `<rest>` of `eprint/<rest>` names a status when its first segment is a status and more
/// follows (`buffer/view`; `buffer` alone does not).
fn names_status(rest: &str) -> bool {
    match rest.split_once('/') {
        Some((first, _)) => STATUSES.contains(&first),
        None => false,
    }
}

/// SPEC 7.8: whether a deny of `denied` removes the string `s`.
pub fn deny_covers(denied: &str, s: &str) -> bool {
    if s == denied {
        return true;
    }
    if denied.ends_with(":owner") || denied.ends_with(":editor") {
        // A deny of `p:owner` covers only that string.
        return false;
    }
    let s_base = s
        .strip_suffix(":owner")
        .or_else(|| s.strip_suffix(":editor"))
        .unwrap_or(s);
    if s_base == denied {
        return true;
    }
    let Some(rest) = denied
        .strip_prefix(STATUS_DATASET)
        .and_then(|r| r.strip_prefix('/'))
    else {
        return false;
    };
    if names_status(rest) {
        return false;
    }
    STATUSES
        .iter()
        .any(|st| s_base == format!("{STATUS_DATASET}/{st}/{rest}"))
}

/// The policy as the reference reads it: the configuration, the run-time roles and the grants
/// to roles and system roles.
#[derive(Debug, Clone)]
pub struct Reference {
    /// role name -> its entries as (adds, privilege).
    roles: BTreeMap<String, Vec<(bool, String)>>,
    /// type name -> its entries.
    types: BTreeMap<String, Vec<Entry>>,
    /// role name -> allow grants, in grant order.
    role_allow: BTreeMap<String, Vec<String>>,
    /// role name -> deny grants.
    role_deny: BTreeMap<String, Vec<String>>,
    auth_allow: Vec<String>,
    auth_deny: Vec<String>,
    any_allow: Vec<String>,
    any_deny: Vec<String>,
    /// The built-in public list and the `public_roles` `+p` entries.
    public_defs: HashSet<String>,
}

/// One user's effective privileges as the reference derives them.
#[derive(Debug, Clone)]
pub struct RefEffective {
    /// Every privilege held after SPEC 3.1 steps 1 to 3.
    pub held: HashSet<String>,
    /// Every deny that applies to the user (user, held roles, system roles).
    pub denies: Vec<String>,
    /// Every role name the user holds through the type or own entries (defined or not).
    pub role_names: Vec<String>,
    /// `superuser-access` held after the denies.
    pub superuser: bool,
}

impl RefEffective {
    /// Whether an applicable deny covers `s`.
    pub fn denied(&self, s: &str) -> bool {
        self.denies.iter().any(|d| deny_covers(d, s))
    }
}

impl Reference {
    /// Reads the policy.
    pub fn new(config: &PolicyConfig, runtime_roles: &[RoleDef], grants: &[Grant]) -> Self {
        let mut roles = BTreeMap::new();
        for def in config.roles().values().chain(runtime_roles) {
            let entries = def
                .entries
                .iter()
                .map(|e| match e {
                    RoleEntry::Bare(p) | RoleEntry::Plus(p) => (true, p.to_string()),
                    RoleEntry::Minus(p) => (false, p.to_string()),
                })
                .collect();
            roles.insert(def.name.to_string(), entries);
        }
        let types = config
            .types()
            .values()
            .map(|t| (t.name.to_string(), t.entries.clone()))
            .collect();
        let mut r = Reference {
            roles,
            types,
            role_allow: BTreeMap::new(),
            role_deny: BTreeMap::new(),
            auth_allow: Vec::new(),
            auth_deny: Vec::new(),
            any_allow: Vec::new(),
            any_deny: Vec::new(),
            public_defs: config
                .public()
                .iter()
                .map(|p| p.privilege.to_string())
                .collect(),
        };
        for g in grants {
            let p = g.privilege.to_string();
            match (&g.target, g.effect) {
                (GrantTarget::User(_), _) => {}
                (GrantTarget::Role(name), Effect::Allow) => {
                    r.role_allow.entry(name.to_string()).or_default().push(p)
                }
                (GrantTarget::Role(name), Effect::Deny) => {
                    r.role_deny.entry(name.to_string()).or_default().push(p)
                }
                (GrantTarget::SystemRole(SystemRole::AuthenticatedUser), Effect::Allow) => {
                    r.auth_allow.push(p)
                }
                (GrantTarget::SystemRole(SystemRole::AuthenticatedUser), Effect::Deny) => {
                    r.auth_deny.push(p)
                }
                (GrantTarget::SystemRole(SystemRole::AnyUser), Effect::Allow) => {
                    r.any_allow.push(p)
                }
                (GrantTarget::SystemRole(SystemRole::AnyUser), Effect::Deny) => r.any_deny.push(p),
            }
        }
        r
    }

    /// SPEC 3.1 for a user with this type, these own entries and these own grants.
    pub fn effective(&self, user: &UserFacts) -> RefEffective {
        let mut held: HashSet<String> = HashSet::new();
        let mut role_names: Vec<String> = Vec::new();
        let type_entries: &[Entry] = user
            .user_type
            .as_ref()
            .and_then(|t| self.types.get(t.as_str()))
            .map_or(&[], Vec::as_slice);
        // Step 1: the ordered walk; the last operation on a string wins.
        for entry in type_entries.iter().chain(&user.entries) {
            match entry {
                Entry::Plus(p) => {
                    held.insert(p.to_string());
                }
                Entry::Minus(p) => {
                    held.remove(p.as_str());
                }
                Entry::Role(r) => {
                    role_names.push(r.to_string());
                    for (adds, p) in self.roles.get(r.as_str()).into_iter().flatten() {
                        if *adds {
                            held.insert(p.clone());
                        } else {
                            held.remove(p);
                        }
                    }
                    for p in self.role_allow.get(r.as_str()).into_iter().flatten() {
                        held.insert(p.clone());
                    }
                }
            }
        }
        // Step 2: the user's allow grants and `authenticated_user`'s.
        for p in &user.allow {
            held.insert(p.to_string());
        }
        for p in &self.auth_allow {
            held.insert(p.clone());
        }
        // Step 3: every applicable deny removes what it covers.
        let mut denies: Vec<String> = user.deny.iter().map(ToString::to_string).collect();
        for r in &role_names {
            denies.extend(self.role_deny.get(r).into_iter().flatten().cloned());
        }
        denies.extend(self.auth_deny.iter().cloned());
        denies.extend(self.any_deny.iter().cloned());
        held.retain(|s| !denies.iter().any(|d| deny_covers(d, s)));
        // Step 4 happens at check time; remember whether it applies.
        let superuser = held.contains(SUPERUSER);
        RefEffective {
            held,
            denies,
            role_names,
            superuser,
        }
    }

    /// Whether `s` is public, before any deny.
    fn public_raw(&self, s: &str) -> bool {
        self.public_defs.contains(s) || self.any_allow.iter().any(|p| p == s)
    }

    /// Whether `s` is public for anonymous visitors (public minus `any_user` denies).
    pub fn public_anonymous(&self, s: &str) -> bool {
        self.public_raw(s) && !self.any_deny.iter().any(|d| deny_covers(d, s))
    }

    /// The strings a check of `q` on `item` tests (SPEC 3.3): `q`, and `eprint/<status>/<rest>`
    /// for an eprint item with a status when `q` is `eprint/<rest>` not naming a status.
    pub fn candidates(q: &str, item: Option<&Item>) -> Vec<String> {
        let mut out = vec![q.to_owned()];
        if let Some(item) = item {
            if let Some(status) = &item.status {
                if item.dataset == STATUS_DATASET && STATUSES.contains(&status.as_str()) {
                    if let Some(rest) = q
                        .strip_prefix(STATUS_DATASET)
                        .and_then(|r| r.strip_prefix('/'))
                    {
                        if !names_status(rest) {
                            out.push(format!("{STATUS_DATASET}/{status}/{rest}"));
                        }
                    }
                }
            }
        }
        out
    }

    /// Whether `user` is among the item's owners (by id, or by email ignoring case).
    pub fn owns(user: &UserFacts, item: &Item) -> bool {
        item.owners.iter().any(|o| match o {
            Owner::Id(id) => *id == user.id,
            Owner::Email(e) => user
                .email
                .as_ref()
                .is_some_and(|mine| mine.to_lowercase() == e.to_lowercase()),
        })
    }

    /// SPEC 3.4: whether the item is in the user's editorial scope.
    pub fn in_scope(user: &UserFacts, eff: &RefEffective, item: &Item) -> bool {
        if item.dataset != STATUS_DATASET {
            return true;
        }
        if user.editorial_scope.is_empty() {
            return !eff.role_names.iter().any(|r| r == EDITPERMS_NONE);
        }
        user.editorial_scope.iter().any(|filter| {
            // A filter with no field has no usable terms: it matches nothing (EPrints).
            !filter.0.is_empty()
                && filter.0.iter().all(|(field, allowed)| {
                    item.fields
                        .get(field)
                        .is_some_and(|values| values.iter().any(|v| allowed.contains(v)))
                })
        })
    }

    /// The bitmask for `who` (None = anonymous) asking `q` on `item` (SPEC 3.2 to 3.4, 7).
    pub fn mask(
        &self,
        who: Option<(&UserFacts, &RefEffective)>,
        q: &str,
        item: Option<&Item>,
    ) -> u8 {
        let cands = Self::candidates(q, item);
        let mut m = 0;
        let Some((user, eff)) = who else {
            for c in &cands {
                if self.public_anonymous(c) {
                    m |= 1;
                }
            }
            return m;
        };
        for c in &cands {
            if self.public_raw(c) && !eff.denied(c) {
                m |= 1;
            }
            if !user.active {
                continue;
            }
            if eff.held.contains(c.as_str()) || (eff.superuser && !eff.denied(c)) {
                m |= 2;
            }
            if let Some(item) = item {
                if Self::owns(user, item) && eff.held.contains(&format!("{c}:owner")) {
                    m |= 4;
                }
                if Self::in_scope(user, eff, item) && eff.held.contains(&format!("{c}:editor")) {
                    m |= 8;
                }
            }
        }
        m
    }
}
